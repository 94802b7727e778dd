# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The window engine: one run of a maintenance window over the failover clusters or NLB farms of an estate.

    read      every member of the window, side by side; group them by the cluster they report
    own       per unit, judge the lease on its lease node; take it (compare-and-swap) and put back what an
              earlier run of this window left there, or refuse the unit naming the holder
    plan      per unit, the ordered plan and its blockers (plan.py), the rule catalogue's findings; check mode
              prints it and ends here (a refused plan fails there too)
    hold      DRS at manual on the vSphere clusters of the node VMs, once for all units using each
    prepare   NLB farms: Intrusion Prevention off where asked, exclusions, the known computers in Tap
    rounds    at most one member per unit at a time, at most max_nodes_out across the estate, units side by
              side; after each round DRS is given back where every unit using it is done
    finish    DRS given back everywhere, what is still held read back, leases released, the reports

The decisions are pure functions in the sibling modules; this module sequences them over a backend and keeps
the timeline. Every long wait reports where it is at least every ``PROGRESS_SECONDS``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime

from ansible_collections.clustersafe.deep_security.plugins.module_utils import _agent_version as versions
from ansible_collections.clustersafe.deep_security.plugins.module_utils import window_lease
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.nlb import exclusion_rules
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules import catalogue
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.records import invalid_record_blockers
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import decide, plan as planning, report, schedule, tap
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.kinds import KINDS
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.undo import StepFailed, Undo, wait_node_up

PROGRESS_SECONDS = 10
# Rules of the assessment that belong to other windows (vSphere placement, Horizon, agentless, the other kind).
OTHER_WINDOWS_RULES = {
    "wsfc": ["VS-01", "VS-02", "VS-03", "VS-04", "VS-05", "MS-05", "NLB-01", "NLB-02", "NLB-03"],
    "nlb": ["VS-01", "VS-02", "VS-03", "VS-04", "VS-05", "MS-01", "MS-02", "MS-03", "MS-04", "MS-05", "NLB-02",
            "NLB-03", "GEN-01"],
}


def iso_now():
    return datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_run_id():
    return uuid.uuid4().hex[:16]


class LeaseLost(CollectionError):
    """Another run took this unit's lease over: this run stops on the unit and touches nothing more there."""


class Unit(object):
    """One failover cluster or NLB farm of the window, and what the run knows and did there."""

    def __init__(self, key, name):
        self.key = key
        self.name = name
        self.hosts = []            # this run's members (inventory hosts), in inventory order
        self.facts = {}            # host -> what was read
        self.view = {}             # the cluster as a running member sees it (failover clusters)
        self.plan = {}
        self.lease_host = None     # the inventory host of the lease node
        self.lease_raw = None      # our lease's text as stored, while we hold it
        self.lease_note = ""       # the lease as judged (taken, taken over, refused)
        self.lease_lost = ""
        self.healed = []
        self.steps = []
        self.failed = []
        self.failure = None
        self.stopped_early = ""
        self.agents_after = {}
        self.reboots = {}
        self.converged_seen = None
        self.exclusions = []
        self.modes_before = {}
        self.modes_after = {}
        self.policy_baseline = {}
        self.held = {"drs": [], "records": {}}
        self.after = {}
        self.done = False
        self.not_in_run = []
        self.members = []
        self.label = None
        self.lease_refused = False
        self.lease_lock = threading.Lock()
        self.lease_renewed_at = 0
        self.inline = None

    @property
    def refused(self):
        return bool(self.plan.get("blockers"))


class Window(object):
    """A run of a window of ``kind`` (``wsfc`` or ``nlb``) with checked ``settings`` over ``backend``.

    hostvars: inventory host -> its variables (for the unit labels, the VM names and finding a cluster's other
    nodes); say: prints a line where the operator sees it (the play's output, AWX's job output).
    """

    def __init__(self, kind, settings, backend, hostvars=None, say=None, check_mode=False, clock=time.time,
                 sleep=time.sleep, progress_seconds=PROGRESS_SECONDS, run_id=None, heartbeat_seconds=None, alive=None):
        self.kind = KINDS[kind]
        self.alive = alive or (lambda: None)
        self.heartbeat_seconds = heartbeat_seconds
        self.settings = settings
        self.backend = backend
        self.hostvars = hostvars or {}
        self._say = say or (lambda text: None)
        self.check_mode = check_mode
        self.clock = clock
        self.sleep = sleep
        self.progress_seconds = progress_seconds
        self.run = run_id or new_run_id()
        self.window = settings["window"]
        self.started = iso_now()
        self.started_at = clock()
        self.units = []
        self.failure = None
        self.drs_users = {}
        self.drs_held = []
        self.drs_released = []
        self.drs_results = {}
        self.drs_saved = {}
        self.vsphere_before = None
        self.policy_id = settings.get("policy_id") or 0
        self._dsm_lock = threading.Lock()
        # a renewal of a DRS lease never crosses the release of that cluster (it would hold it again)
        self._drs_lock = threading.Lock()
        self._out_lock = threading.Lock()
        self._stop = threading.Event()
        self.warnings = []

    # --- output -------------------------------------------------------------------------------------

    def say(self, text):
        with self._out_lock:
            self._say("[%s] %s" % (self.window, text))

    @contextmanager
    def waiting(self, what, limit):
        """Say every ``progress_seconds`` what is being waited for, how long so far and the limit."""
        done = threading.Event()
        began = self.clock()

        def tick():
            while not done.wait(self.progress_seconds):
                self.say("still waiting for %s: %d s of at most %d s" % (what, self.clock() - began, limit))
        ticker = threading.Thread(target=tick)
        ticker.daemon = True
        ticker.start()
        try:
            yield
        finally:
            done.set()
            ticker.join()

    # --- the run ------------------------------------------------------------------------------------

    def run_window(self):
        """The whole window; returns the engine's result (see ``result``)."""
        try:
            self.read()
            self.own()
            self.make_plans()
            self.print_plan()
            if self.settings.get("phase") == "inline":
                self.inline()
            elif not self.check_mode:
                # a refused unit holds nothing and is prepared for nothing (drs_users, prepare); the others go on
                # with DRS held and their farms prepared exactly as when every unit may go
                self.hold()
                self.prepare()
                self.rounds()
        except Exception as error:  # noqa: BLE001 - whatever stops the window, what it holds is given back below
            message = getattr(error, "message", None) or "%s: %s" % (type(error).__name__, error)
            self.failure = {"step": "window", "message": message}
            self.say("the window stopped: %s" % message)
        finally:
            self._stop.set()
            if not self.check_mode:
                self.finish()
            self.backend.close()
        return self.result()

    # --- read -------------------------------------------------------------------------------------

    def _in_parallel(self, work, items):
        """``work(item)`` for each item in a thread of its own; exceptions come back in place of results."""
        results = {}

        fatal = []

        def call(item):
            try:
                results[item] = work(item)
            except Exception as error:  # noqa: BLE001 - carried back to the caller, which decides
                results[item] = error
            except BaseException as error:  # the process is going down: the caller's thread goes with it
                fatal.append(error)
        threads = [threading.Thread(target=call, args=(item,)) for item in items]
        for thread in threads:
            thread.daemon = True
            thread.start()
        for thread in threads:
            thread.join()
        if fatal:
            raise fatal[0]
        return results

    def _units_in_parallel(self, work, units, step):
        """``work(unit)`` side by side; an error nobody caught fails its unit at ``step``, never silently."""
        for unit, outcome in self._in_parallel(work, units).items():
            if isinstance(outcome, Exception):
                message = getattr(outcome, "message", None) or "%s: %s" % (type(outcome).__name__, outcome)
                unit.failure = {"step": step, "message": message}
                self.say("%s %s failed at %s: %s" % (self.kind.unit, unit.key, step, message))

    def _read_member(self, host):
        node = self.backend.node(host)
        facts = {"host": host}
        with node.session():
            if self.kind.name == "wsfc":
                cluster = node.read_cluster(window_records=True)
                facts.update(computer=cluster["computer"], records=cluster.pop("window_records", []),
                             invalid_records=cluster.pop("invalid_window_records", []), cluster=cluster,
                             name=(cluster.get("cluster") or {}).get("name"),
                             members=[item["name"] for item in cluster.get("nodes") or []])
            else:
                nlb = node.read_nlb()
                found, invalid = node.read_all_records()
                facts.update(computer=nlb.get("computer"), records=found, invalid_records=invalid, nlb=nlb,
                             name=(nlb.get("cluster") or {}).get("name"),
                             members=[item.get("name") for item in nlb.get("nodes") or []])
            if self.settings.get("phase", "rollout") == "rollout":
                facts["plan"] = node.agent_plan(self.desired())
        return facts

    def desired(self):
        """What ds_agent is asked, the same in the plan (check mode) and on the member."""
        s = self.settings
        desired = dict(state=s.get("state", "present"), version=s.get("version") or None,
                       installer_url=s.get("installer_url") or None, installer_path=s.get("installer_path") or None,
                       installer_sha256=s.get("installer_sha256") or None, activation_url=s.get("activation_url") or None,
                       policy_id=self.policy_id or None, tenant_id=s.get("tenant_id") or None,
                       token=s.get("token") or None, install_timeout=s.get("install_timeout"),
                       reactivate=False, allow_unverified_installer=False, installer_validate_certs=True,
                       self_protection_password=None)
        return desired

    def read(self):
        hosts = list(self.settings["nodes"])
        if not hosts:
            raise CollectionError("the window has no %ss: set %s_nodes (the playbook: %s_hosts)"
                                  % (self.kind.member, self.kind.role, self.kind.playbook))
        if self.kind.name == "wsfc" and self.settings.get("state") == "present" and self.settings.get("policy"):
            self.policy_id = self.backend.dsm.policy_id(self.settings["policy"])
        self.say("run %s from controller %s%s" % (self.run, self.backend.controller, " (check mode)" if self.check_mode else ""))
        self.say("reading %d %s(s) side by side" % (len(hosts), self.kind.member))
        found = self._in_parallel(self._read_member, hosts)
        by_name = {}
        order = []
        unreadable = []
        for host in hosts:
            facts = found[host]
            if isinstance(facts, Exception):
                unreadable.append((host, facts))
                continue
            key = facts.get("name")
            if not key:
                # a member that cannot tell its cluster (its cluster service is stopped) belongs to the
                # cluster that lists it
                for other in hosts:
                    other_facts = found.get(other)
                    if isinstance(other_facts, dict) and other_facts.get("name") and \
                            planning.short(facts.get("computer")) in [planning.short(m) for m in other_facts["members"]]:
                        key = other_facts["name"]
                        break
            key = key or "%s-unread-%s" % (self.kind.name, host)
            if key.lower() not in by_name:
                by_name[key.lower()] = Unit(key, facts.get("name") or key)
                order.append(key.lower())
            unit = by_name[key.lower()]
            unit.hosts.append(host)
            unit.facts[host] = facts
        for host, error in unreadable:
            # a member that cannot be read belongs to the unit whose other members list it: that unit is refused
            # with it, rather than going on without one of its members unread
            listing = [key for key in order if planning.short(host) in
                       [planning.short(member) for other in by_name[key].hosts
                        for member in by_name[key].facts[other].get("members") or []]]
            if listing:
                unit = by_name[listing[0]]
            else:
                unit = Unit("%s-unreachable-%s" % (self.kind.name, host), None)
                by_name[unit.key.lower()] = unit
                order.append(unit.key.lower())
            unit.hosts.append(host)
            unit.facts[host] = {"host": host, "computer": host, "records": [], "error": getattr(error, "message", str(error)),
                                "plan": {}}
        self.units = [by_name[key] for key in order]
        labels = self._labels()
        for unit in self.units:
            unit.label = labels.get(unit.key)
            self._read_view(unit)

    def _labels(self):
        """The inventory's own name of each unit (wsfc_agent_rollout_cluster, nlb_agent_rollout_farm), where its
        members agree on one."""
        labels = {}
        for unit in self.units:
            names = set(str((self.hostvars.get(host) or {}).get(self.kind.label_variable) or "") for host in unit.hosts)
            names.discard("")
            if len(names) == 1:
                labels[unit.key] = names.pop()
        return labels

    def _read_view(self, unit):
        """The unit as a member sees it: the cluster view of a member whose cluster service runs; the members
        outside this run (``--limit``); the lease node."""
        members = []
        for host in unit.hosts:
            facts = unit.facts[host]
            if self.kind.name == "wsfc" and facts.get("name") and not unit.view:
                unit.view = facts["cluster"]
            if facts.get("members"):
                members = facts["members"]
        mine = set(planning.short(unit.facts[host].get("computer")) for host in unit.hosts)
        unit.not_in_run = sorted(name for name in members if planning.short(name) not in mine)
        unit.members = sorted(members, key=lambda name: name.lower())
        if unit.members:
            from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.connection import host_for_computer
            first = unit.members[0]
            unit.lease_host = host_for_computer(first, self.hostvars, preferred=unit.hosts)

    # --- ownership: the lease, and healing what an earlier run of this window left -----------------------

    def _lease_fields(self, unit):
        return {"run": self.run, "window": self.window, "holder": "%s_window" % self.kind.name,
                "controller": self.backend.controller, "unit": unit.name or unit.key}

    def _judge_lease(self, unit):
        if not unit.name:
            return None
        if not unit.lease_host:
            return {"action": "refuse", "message": "the lease of %s %s lives on its first node %s, which is not in the "
                    "inventory (neither as a host name nor as ansible_host): add it, so the window can hold the %s"
                    % (self.kind.unit, unit.name, unit.members[0] if unit.members else "?", self.kind.unit)}
        node = self.backend.node(unit.lease_host)
        answer = node.lease("read")
        return window_lease.judge(answer["raw"], answer["now"], self.run, self.settings.get("take_over") or "")

    def own(self):
        """Judge and take each unit's lease, then put back what an earlier run of this window left."""
        def work(unit):
            verdict = self._judge_lease(unit)
            if verdict is None:
                return
            if verdict["action"] == "refuse":
                unit.lease_refused = True
                unit.lease_note = verdict["message"]
                self.say("%s %s: %s" % (self.kind.unit, unit.key, verdict["message"]))
                return
            if self.check_mode:
                unit.lease_note = "would take the lease (%s)" % verdict["message"]
                return
            answer = self.backend.node(unit.lease_host).lease("take", verdict["expected"], self._lease_fields(unit),
                                                              self.settings["lease_seconds"])
            if not answer["swapped"]:
                unit.lease_refused = True
                found, _problem = window_lease.parse(answer["raw"])
                unit.lease_note = ("another run took the lease first: %s" % window_lease.describe(found)) if found else \
                    "another run changed the lease first"
                return
            unit.lease_raw = answer["raw"]
            unit.lease_renewed_at = self.clock()
            unit.lease_note = verdict["message"]
            # the heartbeats (one at every step boundary) share one shell on the lease node
            self.backend.lease_node(unit.lease_host).hold_session()
            if verdict.get("taken_over"):
                self.say("%s %s: %s" % (self.kind.unit, unit.key, verdict["message"]))
            self._heal(unit)
        results = self._in_parallel(work, self.units)
        for unit in self.units:
            if isinstance(results.get(unit), Exception):
                unit.lease_refused = True
                unit.lease_note = "the lease could not be read or taken: %s" % getattr(
                    results[unit], "message", results[unit])
        if any(unit.lease_raw for unit in self.units) and not self.check_mode:
            self._start_heartbeat()

    def _heal(self, unit):
        """This window's own records on the unit's members, put back in order (a re-run heals what a crashed run
        left); the members are read again afterwards."""
        for host in unit.hosts:
            facts = unit.facts[host]
            own = [record for record in decide.records_to_undo(facts.get("records"), self.window)
                   if not (self.kind.name == "nlb" and record["change"] == tap.TAP_RECORD)]
            if not own:
                continue
            self.say("%s: putting back what an earlier run of this window left (%s)"
                     % (host, ", ".join(record["change"] for record in own)))
            try:
                self.undo(host, own, facts.get("computer"))
                unit.healed.append(host)
            except CollectionError as error:
                self.say("%s: could not put back what an earlier run left: %s" % (host, error.message))
        if unit.healed:
            # the earlier reads saw the healed nodes paused or stopped: the unit is read again, every member
            for host in unit.hosts:
                unit.facts[host] = self._read_member(host)
            unit.view = {}
            self._read_view(unit)

    def undo(self, host, records, computer):
        """Put back ``records`` of one member, in order; a refusal keeps the record and raises."""
        Undo(self.backend, self.settings["node_timeout"], self.settings["dsm_timeout"], self.waiting, self.clock,
             self.sleep).records(self.backend.node(host), self.kind.name, records, computer)

    def _wait_node_up(self, node, timeout):
        return wait_node_up(node, timeout, self.clock, self.sleep)

    def _start_heartbeat(self):
        interval = self.heartbeat_seconds or max(self.settings["lease_seconds"] / 3.0, 1.0)

        def beat():
            while not self._stop.wait(interval):
                for unit in self.units:
                    if unit.lease_raw and not unit.lease_lost:
                        self._renew(unit)
                self._renew_drs()
        thread = threading.Thread(target=beat)
        thread.daemon = True
        thread.start()

    def _renew_drs(self):
        """The run's lease on each vSphere cluster it holds, renewed (holding again with the same run)."""
        for name in list(self.drs_held):
            with self._drs_lock:
                if name in self.drs_released or name in self.drs_results:
                    continue
                try:
                    self.backend.vcenter.drs(name, self.window, "manual", lease_seconds=self.settings["lease_seconds"],
                                             run_id=self.run)
                except CollectionError as error:
                    self.say("the lease on DRS of %s could not be renewed (%s); trying again" % (name, error.message))

    def _renew(self, unit):
        """One heartbeat: the lease swapped for a fresh one of ours if it is still the text we wrote; anything else
        means another run took it over. The heartbeat thread and the units' own threads renew under one lock."""
        with unit.lease_lock:
            if not unit.lease_raw or unit.lease_lost:
                return
            try:
                answer = self.backend.lease_node(unit.lease_host).lease("take", unit.lease_raw, self._lease_fields(unit),
                                                                        self.settings["lease_seconds"])
            except CollectionError as error:
                self.say("%s %s: the lease could not be renewed (%s); trying again"
                         % (self.kind.unit, unit.key, error.message))
                return
            if answer["swapped"]:
                unit.lease_raw = answer["raw"]
                unit.lease_renewed_at = self.clock()
                return
            found, _problem = window_lease.parse(answer["raw"])
            unit.lease_lost = ("taken over by %s" % window_lease.describe(found)) if found else \
                "the lease was changed or removed"
            unit.lease_raw = None
            self.say("%s %s: %s; this run touches nothing more there" % (self.kind.unit, unit.key, unit.lease_lost))

    def _check_lease(self, unit):
        """Between two steps: the lease renewed (a heartbeat), and the run still holds it. A lease not renewed for
        two thirds of its life may be taken over any moment: the run stops there as if it had lost it."""
        self.alive()
        self._renew(unit)
        if not unit.lease_lost and unit.lease_raw and \
                self.clock() - unit.lease_renewed_at > self.settings["lease_seconds"] * 2.0 / 3:
            unit.lease_lost = "it could not be renewed for %d s" % (self.clock() - unit.lease_renewed_at)
        if unit.lease_lost:
            raise LeaseLost("this run no longer holds the %s's lease: %s" % (self.kind.unit, unit.lease_lost))

    # --- plans --------------------------------------------------------------------------------------

    def make_plans(self):
        if self.kind.name == "wsfc" and self.settings.get("vsphere"):
            self.vsphere_before = self.settings.get("vsphere_facts") or self.backend.vcenter.read()
        dsm_computers = None
        policy_ips = None
        policy_blockers = self._policy_blockers()
        if self.kind.name == "nlb" and self.settings.get("phase") == "rollout":
            dsm_computers = self.backend.dsm.computers()
            if self.policy_id:
                policy_ips = self._policy_intrusion_prevention()
        for unit in self.units:
            try:
                if not [host for host in unit.hosts if not unit.facts[host].get("error")]:
                    # nothing of the unit could be read: the blockers below say why
                    unit.plan = {"window": self.window, "cluster": unit.name, "order": [], "nodes": [], "blockers": [],
                                 "findings": [], "drs_clusters": []}
                elif self.kind.name == "wsfc":
                    unit.plan = self._plan_wsfc(unit)
                elif self.settings.get("phase") == "inline":
                    unit.plan = {"window": self.window, "cluster": unit.name, "order": [], "nodes": [], "blockers": [],
                                 "findings": [], "drs_clusters": []}
                else:
                    unit.plan = self._plan_nlb(unit, dsm_computers, policy_ips)
            except CollectionError as error:
                unit.plan = {"window": self.window, "cluster": unit.name, "order": [], "nodes": [], "drs_clusters": [],
                             "findings": [], "blockers": [planning.blocker(unit.key, error.message, "fix the settings")]}
            if unit.plan.get("order"):
                # the policy's blockers refuse a unit with work to do; a unit already done stays green
                unit.plan["blockers"].extend(dict(item) for item in policy_blockers)
            for host in unit.hosts:
                unit.plan["blockers"].extend(invalid_record_blockers(host, unit.facts[host].get("invalid_records") or []))
                if unit.facts[host].get("error"):
                    unit.plan["blockers"].append(planning.blocker(host, "%s could not be read: %s"
                                                                  % (host, unit.facts[host]["error"]),
                                                                  "check the host's WinRM settings and reachability"))
            if unit.lease_refused:
                unit.plan["blockers"].append(planning.blocker(
                    unit.key, "the %s's lease: %s" % (self.kind.unit, unit.lease_note),
                    "one window at a time per %s (safety invariant 9): see the message" % self.kind.unit))
        refused = [unit.key for unit in self.units if unit.refused]
        if refused and self.settings.get(self.kind.on_failure_option) == "stop_all":
            for unit in self.units:
                if not unit.refused:
                    unit.plan["blockers"].append(planning.blocker(
                        unit.key, "%s %s of the window %s refused (%s_%s=stop_all)"
                        % (self.kind.unit, ", ".join(refused), "is" if len(refused) == 1 else "are", self.kind.role,
                           self.kind.on_failure_option), "fix what refuses the others, then run the window again"))
        self.drs_users = schedule.drs_users(dict((unit.key, unit.plan) for unit in self.units))

    def _findings(self, raw_facts, skip_kind):
        target = self.settings.get("version") if self.settings.get("state", "present") == "present" else None
        assessed = catalogue.assess(raw_facts, {"agent_version": target, "running_windows": [self.window]},
                                    skip_rules=OTHER_WINDOWS_RULES[skip_kind])
        return assessed["findings"]

    def _policy_blockers(self):
        """The activation policy, read before any change: what in it refuses the window (issue: the heartbeat
        and the network-driver blip checked before the first change). None to read when nothing is activated."""
        s = self.settings
        if s.get("phase", "rollout") != "rollout" or s.get("state", "present") != "present" or not self.policy_id:
            return []
        kind = "failover_cluster" if self.kind.name == "wsfc" else "nlb"
        try:
            return self.backend.dsm.policy_blockers(self.policy_id, kind)
        except CollectionError as error:
            return [planning.blocker("policy ID %s" % self.policy_id, "the activation policy could not be read: %s"
                                     % error.message, "check %s_dsm_url and the API key's role (it must read "
                                     "policies and firewall rules)" % self.kind.role)]

    def _readable(self, unit):
        """The members of the unit that could be read (an unreadable one refuses its unit, see make_plans)."""
        return [host for host in unit.hosts if not unit.facts[host].get("error")]

    def _plan_wsfc(self, unit):
        hosts = self._readable(unit)
        node_facts = dict((host, {"computer": unit.facts[host].get("computer"), "plan": unit.facts[host].get("plan") or {},
                                  "records": unit.facts[host].get("records") or []}) for host in hosts)
        findings = self._findings({"failover_nodes": [unit.facts[host]["cluster"] for host in hosts
                                                      if unit.facts[host].get("cluster")]}, "wsfc")
        vm_names = dict((host, (self.hostvars.get(host) or {}).get("wsfc_agent_rollout_vm_name"))
                        for host in hosts if (self.hostvars.get(host) or {}).get("wsfc_agent_rollout_vm_name"))
        order = [host for host in self.settings.get("order") or [] if host in hosts]
        return planning.plan_wsfc(hosts, unit.view or {"computer": hosts[0]}, node_facts, self.window,
                                  vsphere=self.vsphere_before if self.settings.get("vsphere") else None,
                                  vm_names=vm_names, order=order,
                                  require_all_nodes_online=self.settings.get("require_all_nodes_online", True),
                                  findings=findings)

    def _policy_intrusion_prevention(self):
        result = self.backend.dsm.computer_settings(policy=str(self.policy_id), modules={"Intrusion Prevention": "off"},
                                                    check_mode=True)
        targets = result.get("targets") or [{}]
        state = (targets[0].get("modules") or {}).get("Intrusion Prevention")
        # dsm_computer in check mode says what it would change, and from what: the state in effect is "before"
        return state.get("before") if isinstance(state, dict) else state

    def _plan_nlb(self, unit, dsm_computers, policy_ips):
        hosts = self._readable(unit)
        node_facts = dict((host, {"nlb": unit.facts[host].get("nlb") or {}, "plan": unit.facts[host].get("plan") or {},
                                  "records": unit.facts[host].get("records") or []}) for host in hosts)
        findings = self._findings({"nlb_nodes": [unit.facts[host]["nlb"] for host in hosts if unit.facts[host].get("nlb")],
                                   "dsm_computers": {"computers": dsm_computers or []}}, "nlb")
        order = [host for host in self.settings.get("order") or [] if host in hosts]
        return planning.plan_nlb(hosts, node_facts, self.window, dsm_computers=dsm_computers,
                                 version=self.settings.get("version"), min_converged=self.settings.get("min_converged"),
                                 turn_off_intrusion_prevention=self.settings.get("turn_off_intrusion_prevention"),
                                 policy_intrusion_prevention=policy_ips, order=order, findings=findings)

    def print_plan(self):
        for unit in self.units:
            plan = unit.plan
            if self.settings.get("phase") == "inline":
                continue
            lines = ["%s %s: %d %s(s) to maintain, in this order: %s" % (
                self.kind.unit, unit.label or unit.key, len(plan.get("order") or []), self.kind.member,
                " -> ".join(plan.get("order") or []) or "none")]
            if self.kind.name == "wsfc":
                lines.append("DRS held at manual on: %s" % (", ".join(plan.get("drs_clusters") or []) or "no vSphere cluster"))
                lines.append("per node: drain -> roles Online elsewhere -> stop cluster service -> %s -> start -> resume "
                             "(failback %s) -> all nodes Up, every role Online"
                             % ("uninstall" if self.settings.get("state") == "absent" else
                                "install/upgrade and activate -> wait until the DSM shows it active",
                                self.settings.get("failback")))
            else:
                lines.append("per host: drain-stop -> install/upgrade and activate -> exclusions and Tap -> the manager shows "
                             "the policy applied -> start -> Converged; the farm stays in Tap")
                if self.settings.get("phase") == "rollout" and not self.settings.get("exclusions"):
                    warning = ("NO NLB exclusions (%s_exclusions=false): the farm's heartbeat and virtual-IP traffic logs "
                               "Invalid Flags (firewall event 101) in Tap and would be blocked in Inline (NLB-02); the "
                               "switch to Inline refuses while such events are seen" % self.kind.role)
                    lines.append(warning)
                    if warning not in self.warnings:
                        self.warnings.append(warning)
            if unit.not_in_run:
                lines.append("not in this run (--limit): %s (read for the checks, not changed)" % ", ".join(unit.not_in_run))
            if unit.lease_note:
                lines.append("lease: %s" % unit.lease_note)
            lines += [planning.plan_line(entry, self.kind.member) for entry in plan.get("nodes") or []]
            lines += [planning.finding_line(item) for item in plan.get("findings") or []]
            lines += [planning.blocker_line(item) for item in plan.get("blockers") or []]
            for line in lines:
                self.say(line)
        orders = dict((unit.key, unit.plan.get("order") or []) for unit in self.units if not unit.refused)
        if len(self.units) > 1 and orders:
            for line in schedule.schedule_lines(orders, self.drs_users, self.window, self.kind.unit, self.kind.member,
                                                self.settings.get("max_nodes_out")):
                self.say(line)

    # --- DRS ----------------------------------------------------------------------------------------

    def hold(self):
        for name in sorted(self.drs_users):
            self.say("holding DRS of %s at manual (the original level saved on the cluster first)" % name)
            held = self.backend.vcenter.drs(name, self.window, "manual", lease_seconds=self.settings["lease_seconds"],
                                            run_id=self.run)
            self.drs_saved[name] = (held.get("record") or {}).get("original_level")
            self.drs_held.append(name)

    def release_drs(self, names):
        for name in names:
            with self._drs_lock:
                self._release_one(name)

    def _release_one(self, name):
        if name not in self.drs_released:
            try:
                result = self.backend.vcenter.drs(name, self.window, "restored", original_level=self.drs_saved.get(name))
                self.drs_results[name] = {"after": result.get("automation_level"), "record": result.get("record")}
                self.drs_released.append(name)
                self.say("DRS of %s given back: %s" % (name, result.get("automation_level")))
            except Exception as error:  # noqa: BLE001 - a refused restore is reported and fails the window
                message = getattr(error, "message", None) or "%s: %s" % (type(error).__name__, error)
                self.drs_results[name] = {"error": message}
                self.say("DRS of %s could not be given back: %s" % (name, message))
                self._end_drs_lease(name)

    def _end_drs_lease(self, name):
        """The window ends without giving DRS back: its lease on the cluster ends now, so recover may put the
        level back without naming this run (the record stays, and so does DRS at manual)."""
        try:
            self.backend.vcenter.drs(name, self.window, "manual", run_id=self.run, end_lease=True)
        except Exception as error:  # noqa: BLE001 - recover can still take the lease over by the run's id
            message = getattr(error, "message", None) or "%s: %s" % (type(error).__name__, error)
            self.say("the lease on DRS of %s could not be ended (%s): recover needs recover_take_over=%s until it "
                     "expires" % (name, message, self.run))

    # --- NLB: before any host leaves its farm ---------------------------------------------------------

    def prepare(self):
        if self.kind.name != "nlb" or self.settings.get("phase") != "rollout":
            return
        units = [unit for unit in self.units if not unit.refused and unit.plan.get("order")]

        def work(unit):
            try:
                self._prepare_farm(unit)
            except Exception as error:  # noqa: BLE001 - a farm whose preparation failed takes no host out
                message = getattr(error, "message", None) or "%s: %s" % (type(error).__name__, error)
                unit.failure = {"step": "prepare", "message": message}
                self.say("NLB farm %s: the preparation failed: %s" % (unit.key, message))
        self._units_in_parallel(work, units, "prepare")

    def _prepare_farm(self, unit):
        s = self.settings
        dsm = self.backend.dsm
        plan = unit.plan
        if s.get("turn_off_intrusion_prevention"):
            if self.policy_id:
                with self._dsm_lock:  # the policy may be every farm's: one farm at a time
                    dsm.computer_settings(policy=str(self.policy_id), modules={"Intrusion Prevention": "off"})
            if plan.get("intrusion_prevention_on"):
                dsm.computer_settings(computers=plan["intrusion_prevention_on"], modules={"Intrusion Prevention": "off"},
                                      wait_timeout=s["dsm_timeout"])
        if s.get("exclusions"):
            info = unit.facts[unit.hosts[0]]["nlb"]
            rules = exclusion_rules(info, virtual_ip=s.get("virtual_ip"), protocols=s.get("protocols"),
                                    name_prefix=s.get("rule_prefix"), heartbeat_action=s.get("heartbeat_action"))
            with self._dsm_lock:  # one rule list in the manager: one farm at a time
                for rule in rules:
                    dsm.firewall_rule(rule)
                unit.exclusions = [rule["name"] for rule in rules]
                if self.policy_id and unit.exclusions:
                    dsm.assign_rules(unit.exclusions, policy=str(self.policy_id))
            if plan.get("computers_known") and unit.exclusions:
                dsm.assign_rules(unit.exclusions, computers=plan["computers_known"])
        for entry in plan.get("nodes") or []:
            if entry.get("dsm_known"):
                self._tap(unit, entry["host"], entry["computer"])

    def _tap(self, unit, host, computer):
        """One host's computer into Tap: its mode read from the manager, and whether the computer set it itself or
        followed its policy, recorded on the host first, then set. Putting it back resets a mode the computer did
        not set itself, so after the window the computer follows its policy again (issue 23, item 5)."""
        current = self.backend.dsm.setting(computer, tap.ENGINE_MODE)
        mode = current.get("value")
        unit.modes_before.setdefault(computer, mode)
        if mode == "Tap":
            return
        self.backend.node(host).write_record(self.window, tap.TAP_RECORD,
                                             {"previous_mode": mode, "own_setting": bool(current.get("own"))})
        self.backend.dsm.computer_settings(computers=[computer], settings={tap.ENGINE_MODE: "Tap"},
                                           wait_timeout=self.settings["dsm_timeout"])

    # --- NLB: Tap -> Inline (NLB-03) ----------------------------------------------------------------------

    def inline(self):
        """Each farm from Tap to Inline once it may (tap.inline_check), one host at a time, each Converged
        before the next; a host that does not converge keeps its record (recover or a re-run puts it back)."""
        s = self.settings
        lab = None
        if s.get("event_source") == "lab":
            lab = self.backend.fetch_json(s["lab_status_url"]).get("dsm") or {}

        def work(unit):
            records = dict((host, unit.facts[host].get("records") or []) for host in unit.hosts)
            computers = dict((host, unit.facts[host].get("computer")) for host in unit.hosts)
            counts = tap.lab_invalid_flags(lab, records, self.window, computers) if lab is not None else None
            check = tap.inline_check(records, self.window, time.time(), s["observation_seconds"], invalid_flags=counts,
                                     reviewed=s.get("events_reviewed"), event_source=s.get("event_source"),
                                     computers=computers)
            unit.inline = check
            # what this run found, read from the manager (Tap where the rollout left it); the mode before the
            # window stays in the inline section (previous_modes)
            try:
                unit.modes_before = self._engine_modes(check["computers"]) if check["computers"] else {}
            except CollectionError as error:
                self.say("NLB farm %s: the network engine modes could not be read (%s)" % (unit.key, error.message))
                unit.modes_before = dict.fromkeys(check["computers"])
            if not check["ready"]:
                for reason in check["reasons"]:
                    self.say("NLB farm %s stays in Tap: %s" % (unit.key, reason))
                return
            if self.check_mode:
                self.say("NLB farm %s would go Inline: %s" % (unit.key, ", ".join(check["computers"])))
                return
            for host in check["hosts"]:
                timeline = Timeline(unit, host, self.say, words=STEP_WORDS[self.kind.name])
                computer = computers[host]
                try:
                    self._check_lease(unit)
                    timeline.begin("inline")
                    if check["own_settings"].get(host) is False:
                        # Inline was the policy's before the window: the computer follows its policy again
                        self.backend.dsm.computer_settings(computers=[computer], reset_settings=[tap.ENGINE_MODE],
                                                           wait_timeout=s["dsm_timeout"])
                    else:
                        self.backend.dsm.computer_settings(computers=[computer], settings={tap.ENGINE_MODE: "Inline"},
                                                           wait_timeout=s["dsm_timeout"])
                    node = self.backend.node(host)
                    with self.waiting("%s to be Converged in Inline" % host, s["node_timeout"]):
                        self._wait_converged(node, computer, s["node_timeout"])
                    node.remove_records(self.window, [tap.TAP_RECORD])
                    unit.modes_after[computer] = "Inline"
                    timeline.close()
                    self.say("%s: Inline" % host)
                except CollectionError as error:
                    timeline.fail(error.message)
                    unit.failed.append({"node": host, "step": "inline", "message": error.message,
                                        "left": "its Tap record kept: recover or the switch again puts it back"})
                    self.say("%s: the switch to Inline failed: %s; the farm's other hosts stay in Tap" % (host, error.message))
                    return
        self._units_in_parallel(work, [unit for unit in self.units if not unit.refused], "inline")

    # --- rounds -----------------------------------------------------------------------------------------

    def rounds(self):
        units = dict((unit.key, unit) for unit in self.units)
        remaining = dict((unit.key, list(unit.plan.get("order") or []) if not unit.refused and not unit.failure else [])
                         for unit in self.units)
        for unit in self.units:
            if not remaining[unit.key]:
                unit.done = True
        self.release_drs(schedule.drs_to_release(self.drs_users, [u.key for u in self.units if u.done], self.drs_released))
        cap = schedule.check_cap(self.settings.get("max_nodes_out"), "%s_max_nodes_out" % self.kind.role)
        number = 0
        while True:
            failed_units = [unit.key for unit in self.units if unit.failed or unit.failure]
            for unit in self.units:
                if not remaining[unit.key]:
                    continue
                reason = decide.stop_reason(self.kind, unit.failed, self.settings.get("max_failed_nodes", 0),
                                            self.clock() - self.started_at, self.settings.get("stop_after", 0),
                                            [key for key in failed_units if key != unit.key],
                                            self.settings.get(self.kind.on_failure_option),
                                            unit.lease_lost)
                if unit.failure and not reason:
                    reason = "the %s failed: %s" % (self.kind.unit, unit.failure["message"])
                if reason:
                    unit.stopped_early = reason
                    remaining[unit.key] = []
                    unit.done = True
                    self.say("%s %s takes no further %s out: %s" % (self.kind.unit, unit.key, self.kind.member, reason))
            left_out = sum(1 for unit in self.units for item in unit.failed if item.get("left") not in ("in service", "in the farm"))
            chosen = schedule.next_round(remaining, cap, left_out)
            if not chosen:
                break
            number += 1
            self.say("round %d: %s" % (number, ", ".join("%s %s" % (key, chosen[key]) for key in sorted(chosen))))
            self._in_parallel(lambda key: self.maintain(units[key], chosen[key]), sorted(chosen))
            for key in chosen:
                remaining[key].pop(0)
                if not remaining[key]:
                    units[key].done = True
            self.release_drs(schedule.drs_to_release(self.drs_users, [u.key for u in self.units if u.done], self.drs_released))

    def maintain(self, unit, host):
        """One member, in the only safe order of its kind; a failed step puts back what is safe to put back."""
        timeline = Timeline(unit, host, self.say, before_step=lambda: self._check_lease(unit),
                            words=STEP_WORDS[self.kind.name])
        try:
            self._check_lease(unit)
            with self.backend.node(host).session():
                if self.kind.name == "wsfc":
                    self._maintain_wsfc(unit, host, timeline)
                else:
                    self._maintain_nlb(unit, host, timeline)
            timeline.close()
            self.say("%s: done" % host)
        except LeaseLost as error:
            if timeline.current is None:
                # lost before this member's first step: nothing of it was touched; the unit stops here
                unit.failure = {"step": "lease", "message": error.message}
                return
            timeline.fail(error.message)
            unit.failed.append({"node": host, "step": timeline.current, "message": error.message,
                                "left": "to the run that took the lease over (this run touched nothing more)"})
        except CollectionError as error:
            step = timeline.current
            timeline.fail(error.message)
            self.say("%s failed at %s: %s" % (host, step, error.message))
            self._after_failure(unit, host, step, error)
        except Exception as error:  # noqa: BLE001 - never leave a member without its put-back decision
            step = timeline.current
            message = "%s: %s" % (type(error).__name__, error)
            timeline.fail(message)
            self._after_failure(unit, host, step, CollectionError(message))

    def _entry(self, unit, host):
        return [entry for entry in unit.plan["nodes"] if entry["host"] == host][0]

    def _maintain_wsfc(self, unit, host, timeline):
        s = self.settings
        node = self.backend.node(host)
        computer = self._entry(unit, host)["computer"]
        timeout = s["node_timeout"]
        timeline.begin("drain")
        view = node.read_cluster(window_records=True)
        member = [item for item in view["nodes"] if planning.lower(item["name"]) == planning.lower(computer)]
        why = decide.wsfc_out_by_someone_else(member[0], view.get("window_records"), self.window) if member else ""
        if why:
            raise StepFailed("%s %s, and not by this window: it is left exactly as found" % (computer, why),
                             someone_else=True)
        with self.waiting("the drain of %s" % host, timeout):
            drained = node.mscs_node("drained", window=self.window, failback=s["failback"], timeout=timeout)
        timeline.begin("roles_moved")
        groups = drained.get("groups") if drained.get("groups") is not None else node.read_cluster(False)["groups"]
        left = [group for group in groups if not group.get("is_core") and planning.lower(group.get("owner_node")) == planning.lower(computer)]
        offline = [group for group in groups if group.get("state") != "Online"]
        if left or offline:
            raise StepFailed("after the drain of %s a role is still on it or not Online: %s" % (host, "; ".join(
                "%s / %s / %s" % (group.get("name"), group.get("owner_node"), group.get("state")) for group in left + offline)))
        self._check_lease(unit)
        timeline.begin("stop")
        with self.waiting("the cluster service of %s to stop" % host, timeout):
            node.mscs_node("stopped", window=self.window, timeout=timeout)
        timeline.begin("agent")
        agent = self._agent(unit, host, node)
        if s.get("state") == "present" and s.get("dsm_check"):
            timeline.begin("dsm_active")
            self._check_lease(unit)
            self._wait_manager(host, computer, agent)
        self._check_lease(unit)
        timeline.begin("start")
        with self.waiting("%s to rejoin its cluster" % host, timeout):
            node.mscs_node("started", window=self.window, timeout=timeout)
        timeline.begin("resume")
        node.mscs_node("resumed", window=None, failback=s["failback"], timeout=timeout)
        timeline.begin("verified")
        with self.waiting("every node Up and every role Online after %s" % host, timeout):
            self._wait_settled(node, timeout, settle=s["failback"] != "none")
        node.remove_records(self.window, ["node_drained"])

    def _agent(self, unit, host, node):
        s = self.settings
        if s.get("state", "present") == "present":
            # the manager's last policy send before the change: the wait after it needs a later one (DSM time only)
            unit.policy_baseline[host] = self.backend.dsm.policy_success(unit.facts[host].get("computer") or host)
        attempts = int(s.get("install_retries") or 0) + 1
        for attempt in range(attempts):
            try:
                with self.waiting("the agent work on %s (msiexec, dsa_control)" % host, s["install_timeout"]):
                    agent = node.agent(self.desired(), self.window, s["install_timeout"])
                unit.agents_after[host] = agent.get("version")
                unit.reboots[host] = bool(agent.get("reboot_required"))
                return agent
            except CollectionError as error:
                if attempt + 1 >= attempts or error.details.get("msi_exit_code") == 1641:
                    raise StepFailed(error.message, **error.details)
                self.say("%s: the agent work failed (%s); trying again (%d of %d)" % (host, error.message, attempt + 2, attempts))
                self.sleep(10)

    def _baseline_of(self, host):
        for unit in self.units:
            if host in unit.policy_baseline:
                return unit.policy_baseline[host]
        return None

    def _wait_manager(self, host, computer, agent):
        """The manager shows the agent active with its first policy sent (the network driver loads with that policy,
        Trend KA-0004754), at the window's version and policy."""
        s = self.settings
        with self.waiting("the manager to show %s active with its policy applied" % host, s["dsm_timeout"]):
            # an activation sends the policy (Trend: "dsa_control -a ... the manager sends the policy"): the send to
            # wait for is one later than the send before it; an upgrade alone sends none, so the usual wait
            activated = "activate" in ((agent or {}).get("actions") or [])
            shown = self.backend.dsm.wait_policy_applied(computer, s["dsm_timeout"],
                                                         since_policy_success=self._baseline_of(host) if activated else None)
        same = versions.same(shown.get("agent_version"), s.get("version"))
        if same is not True or (self.policy_id and shown.get("policy_id") != int(self.policy_id)):
            raise StepFailed("the manager shows %s with agent %s and policy %s, not %s%s" % (
                computer, shown.get("agent_version"), shown.get("policy_id"), s.get("version"),
                (" and policy %s" % self.policy_id) if self.policy_id else ""))
        return shown

    def _wait_settled(self, node, timeout, settle=False):
        """Every node Up and every role Online, read through the node; with failback, the same owners on two reads
        a few seconds apart (the roles have settled) before the next node is drained."""
        deadline = self.clock() + timeout
        previous = None
        while True:
            view = node.read_cluster(window_records=False)
            healthy = all(item["state"] == "Up" for item in view["nodes"]) and \
                all(group["state"] == "Online" for group in view["groups"])
            owners = sorted((group["name"], group["owner_node"]) for group in view["groups"])
            if healthy and (not settle or owners == previous):
                return view
            previous = owners if healthy else None
            if self.clock() > deadline:
                raise StepFailed("the cluster did not settle within %ss: %s" % (timeout, "; ".join(
                    ["node %s is %s" % (item["name"], item["state"]) for item in view["nodes"] if item["state"] != "Up"]
                    + ["role %s is %s" % (group["name"], group["state"]) for group in view["groups"] if group["state"] != "Online"])
                    or "the roles kept moving"))
            self.sleep(2)

    def _maintain_nlb(self, unit, host, timeline):
        s = self.settings
        node = self.backend.node(host)
        entry = self._entry(unit, host)
        computer = entry["computer"]
        timeline.begin("drainstop")
        farm = node.read_nlb()
        mine = [item for item in farm.get("nodes") or [] if planning.lower(item.get("name")) == planning.lower(computer)]
        why = decide.nlb_out_by_someone_else(planning.base_state(mine[0].get("state")) if mine else None,
                                             node.read_records(), self.window)
        if why:
            raise StepFailed("%s %s, and not by this window: it is left exactly as found" % (computer, why), someone_else=True)
        others = planning.converged_others(farm, computer)
        if len(others) < unit.plan["min_converged"]:
            raise StepFailed("%s stays in the farm: without it only %d host(s) are Converged (%s), fewer than the %d the "
                             "farm needs (%s_min_converged)" % (host, len(others), ", ".join(others) or "none",
                                                                unit.plan["min_converged"], self.kind.role))
        unit.converged_seen = len(others) if unit.converged_seen is None else min(unit.converged_seen, len(others))
        with self.waiting("the drain-stop of %s" % host, s["drain_timeout"] * 60 + 120):
            node.nlb_node("drainstopped", window=self.window, drain_timeout=s["drain_timeout"])
        timeline.begin("agent")
        try:
            agent = self._agent(unit, host, node)
        except StepFailed as error:
            if error.details.get("msi_exit_code") is not None:
                after = node.agent_facts().get("agent") or {}
                error.details["agent_unchanged"] = versions.same(after.get("version"), entry.get("agent_before")) is True
            raise
        timeline.begin("dsm_active")
        self._check_lease(unit)
        self._wait_manager(host, computer, agent)
        if not entry.get("dsm_known"):
            # a computer the manager did not know before this host's activation gets the exclusions and Tap now,
            # while its host is still out of the farm and takes no cluster traffic
            if s.get("exclusions") and unit.exclusions:
                self.backend.dsm.assign_rules(unit.exclusions, computers=[computer])
            self._tap(unit, host, computer)
        if s.get("turn_off_intrusion_prevention"):
            self.backend.dsm.computer_settings(computers=[computer], modules={"Intrusion Prevention": "off"},
                                               wait_timeout=s["dsm_timeout"])
        with self.waiting("the manager to apply the policy with the exclusions and Tap on %s" % host, s["dsm_timeout"]):
            shown = self.backend.dsm.wait_policy_applied(computer, s["dsm_timeout"])
        ips = ((shown.get("modules") or {}).get("intrusion_prevention") or {}).get("state") or "off"
        if planning.ips_on(ips):
            raise StepFailed("the manager shows Intrusion Prevention %s on %s: it is not supported on NLB hosts; turn it off "
                             "(or set %s_turn_off_intrusion_prevention=true); the host stays out of the farm"
                             % (ips, computer, self.kind.role))
        node.remove_records(self.window, ["agent_maintenance"])
        self._check_lease(unit)
        timeline.begin("start")
        node.nlb_node("started", window=self.window)
        timeline.begin("verified")
        with self.waiting("%s to be Converged" % host, s["node_timeout"]):
            self._wait_converged(node, computer, s["node_timeout"])

    def _wait_converged(self, node, computer, timeout):
        deadline = self.clock() + timeout
        while True:
            farm = node.read_nlb()
            mine = [item for item in farm.get("nodes") or [] if planning.lower(item.get("name")) == planning.lower(computer)]
            if mine and planning.base_state(mine[0].get("state")) == "Converged":
                return
            if self.clock() > deadline:
                raise StepFailed("%s is %s, not Converged, %ss after its start" % (
                    computer, mine[0].get("state") if mine else "not in the farm", timeout))
            self.sleep(2)

    def _after_failure(self, unit, host, step, error):
        """Put back what is safe to put back, keep the records of what is not, and count the failure."""
        details = dict(error.details or {})
        entry = {"node": host, "step": step, "message": error.message}
        if details.get("someone_else"):
            entry["left"] = "as found (out of service by someone else)"
            unit.failed.append(entry)
            return
        node = self.backend.node(host)
        try:
            ours = set(record["change"] for record in decide.records_of(node.read_records(), self.window))
        except CollectionError as read_error:
            entry.update(left="unknown: the node could not be read (%s); records kept" % read_error.message,
                         put_back_error=read_error.message)
            unit.failed.append(entry)
            return
        timeout = self.settings["node_timeout"]
        if self.kind.name == "wsfc":
            decision = decide.after_wsfc_failure(step, details, ours)
            try:
                if decision["start_service"]:
                    self.say("%s: starting its cluster service again" % host)
                    node.mscs_node("started", window=self.window, timeout=timeout)
                if decision["resume"]:
                    self.say("%s: resuming it" % host)
                    node.mscs_node("resumed", window=None, failback=self.settings["failback"], timeout=timeout)
                    self._wait_node_up(node, timeout)
                    node.remove_records(self.window, ["node_drained"])
            except CollectionError as put_back:
                entry["put_back_error"] = put_back.message
                decision["left"] = "not put back (records kept: run recover once the node is checked)"
        else:
            decision = decide.after_nlb_failure(step, details, ours, agent_unchanged=details.get("agent_unchanged", False))
            try:
                if decision["remove_records"]:
                    node.remove_records(self.window, decision["remove_records"])
            except CollectionError as put_back:
                entry["put_back_error"] = put_back.message
        entry["left"] = decision["left"]
        unit.failed.append(entry)
        failed_too = ("; putting it back failed: %s" % entry["put_back_error"]) if entry.get("put_back_error") else ""
        self.say("%s left %s%s" % (host, entry["left"], failed_too))

    # --- the end ------------------------------------------------------------------------------------------

    def finish(self):
        if self.kind.name == "nlb" and self.settings.get("phase") == "inline":
            pass
        self.release_drs([name for name in self.drs_held if name not in self.drs_released])
        for unit in self.units:
            held_drs = [name for name in self.drs_held if name in (unit.plan.get("drs_clusters") or [])
                        and name not in self.drs_released]
            unit.held["drs"] = held_drs
            if not unit.lease_raw and not unit.healed:
                continue
            records = {}
            for host in unit.hosts:
                try:
                    left = [record["change"] for record in
                            decide.records_of(self.backend.node(host).read_records(), self.window)]
                except CollectionError as error:
                    left = ["unknown (the node could not be read: %s)" % error.message]
                if left and not (self.kind.name == "nlb" and left == ["network_engine_mode"]):
                    records[host] = left
            unit.held["records"] = records
            self._read_after(unit)
            if unit.lease_raw:
                lease_node = self.backend.lease_node(unit.lease_host)
                try:
                    lease_node.lease("release", unit.lease_raw)
                except CollectionError as error:
                    self.say("%s %s: the lease could not be released (%s); it expires by itself"
                             % (self.kind.unit, unit.key, error.message))
                unit.lease_raw = None
                lease_node.release_session()

    def _read_after(self, unit):
        """The unit as it is at the end, for the report's "after" columns: the cluster or farm read through its
        first readable member; for an NLB rollout also the mode of each computer whose mode was read before."""
        readable = self._readable(unit)
        if not readable:
            return
        try:
            node = self.backend.node(readable[0])
            unit.after = node.read_cluster(window_records=False) if self.kind.name == "wsfc" else node.read_nlb()
        except CollectionError:
            unit.after = {}
        if self.kind.name == "nlb" and unit.modes_before and not unit.modes_after:
            try:
                unit.modes_after = self._engine_modes(unit.modes_before)
            except CollectionError:
                pass  # the report shows the modes after as unknown

    def _engine_modes(self, computers):
        """computer -> its network engine mode (Tap, Inline) as the manager shows it now."""
        shown = self.backend.dsm.computers(sorted(computers))
        return dict((item.get("host_name"), item.get("network_engine_mode")) for item in shown)

    # --- the result ------------------------------------------------------------------------------------

    def _drs_report(self, unit):
        entries = []
        for name in unit.plan.get("drs_clusters") or []:
            before = level_of(self.vsphere_before, name)
            outcome = self.drs_results.get(name) or {}
            entries.append(report.drs_entry(name, self.window, before, outcome.get("after"), outcome.get("record"),
                                            outcome.get("error"), held=name in self.drs_held))
        return entries

    def unit_report(self, unit, ended):
        kind = self.kind.report_kind if self.settings.get("phase", "rollout") == "rollout" else "nlb_inline"
        after = dict(unit.after or {})
        after.update(agents=unit.agents_after, reboots=unit.reboots)
        built = report.window_report(
            kind, self.window, self.started, ended, unit.plan, unit.steps, before=unit.view or {}, after=after,
            failure=unit.failure or self.failure, failed_nodes=unit.failed, stopped_early=unit.stopped_early,
            check_mode=self.check_mode, drs=self._drs_report(unit), run=self.run, held=unit.held,
            not_in_run=unit.not_in_run, lease=unit.lease_note or None)
        if self.kind.name == "nlb":
            built = report.nlb_section(built, unit.plan, modes_before=unit.modes_before, modes_after=unit.modes_after,
                                       exclusions=unit.exclusions, converged_seen=unit.converged_seen,
                                       inline=getattr(unit, "inline", None), phase=self.settings.get("phase", "rollout"))
        return built

    def result(self):
        ended = iso_now()
        reports = dict((unit.label or unit.key, self.unit_report(unit, ended)) for unit in self.units)
        return {"run": self.run, "reports": reports, "failure": self.failure, "warnings": self.warnings}


def level_of(vsphere, name):
    for cluster in (vsphere or {}).get("clusters") or []:
        if cluster.get("name") == name:
            drs = cluster.get("drs") or {}
            return drs.get("automation_level") if drs.get("enabled", True) else "disabled"
    return None


# What each step does, as the output says it when the step begins ("SQL-NODE2: [drain] ..."), by window kind.
STEP_WORDS = {
    "wsfc": {
        "drain": "drain: its roles move to the other nodes",
        "roles_moved": "every role Online on another node?",
        "stop": "stop the cluster service",
        "agent": "the agent work (install, upgrade or remove, activate) while out of service",
        "dsm_active": "wait for the manager to show the agent active with its policy applied",
        "start": "start the cluster service",
        "resume": "resume the node",
        "verified": "wait until every node is Up and every role Online",
    },
    "nlb": {
        "drainstop": "drain-stop: open connections finish, then the host leaves the farm",
        "agent": "the agent work (install, upgrade or remove, activate) while out of the farm",
        "dsm_active": "wait for the manager: the agent active, the exclusions and Tap, the policy applied",
        "start": "start NLB on the host: it rejoins the farm",
        "verified": "wait until the host is Converged",
        "inline": "switch the computer from Tap to Inline",
    },
}


class Timeline(object):
    """The steps of one member: each step begins when the previous one ends; each beginning is said."""

    def __init__(self, unit, host, say=None, before_step=None, words=None):
        self.unit = unit
        self.host = host
        self.words = words or {}
        self.say = say or (lambda text: None)
        self.before_step = before_step
        self.current = None
        self._open = None

    def begin(self, step):
        if self.before_step is not None and self.current is not None:
            # between two steps of a member: the run must still own its unit (the lease, renewed)
            self.before_step()
        self.say("%s: [%s] %s" % (self.host, step, self.words.get(step, step)))
        now = iso_now()
        if self._open is not None:
            self._open.update(end=now, result="ok")
        self._open = {"node": self.host, "step": step, "start": now, "end": None, "result": "running", "message": None}
        self.unit.steps.append(self._open)
        self.current = step

    def close(self):
        if self._open is not None:
            self._open.update(end=iso_now(), result="ok")
            self._open = None

    def fail(self, message):
        if self._open is None:
            self.begin(self.current or "start")
        self._open.update(end=iso_now(), result="failed", message=message)
        self._open = None
