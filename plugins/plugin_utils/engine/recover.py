# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``recover`` on the Windows nodes: read every window record the collection's windows left, and put back
exactly that, never under a window that still runs.

    read     every host's records side by side (all windows, or one), and for a host with records the cluster
             or NLB farm it belongs to
    own      per cluster or farm, the lease on its lease node: a fresh lease of another run refuses its
             records (the holder is named); otherwise recover takes the lease itself (compare-and-swap), so two
             recovers at once end with one doing the work and the other saying so
    undo     each host's records in order (undo.Undo, the window's own heal), then the lease released

A node that belongs to no cluster and no farm any more (the cluster was destroyed, the node evicted) keeps
its records until the operator names it in ``discard_hosts``: then they are removed without being undone,
and the report says so.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time
from contextlib import contextmanager

from ansible_collections.clustersafe.deep_security.plugins.module_utils import window_lease
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError, NotFoundError
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import decide
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.connection import host_for_computer
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.engine import PROGRESS_SECONDS, new_run_id
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.undo import Undo


class Recover(object):
    def __init__(self, settings, backend, hostvars=None, say=None, check_mode=False, clock=time.time,
                 sleep=time.sleep, progress_seconds=PROGRESS_SECONDS, run_id=None):
        self.settings = settings
        self.backend = backend
        self.hostvars = hostvars or {}
        self._say = say or (lambda text: None)
        self.check_mode = check_mode
        self.clock = clock
        self.sleep = sleep
        self.progress_seconds = progress_seconds
        self.run = run_id or new_run_id()
        self.actions = []
        self.refused = []
        self.failed = []
        self.live_windows = set()
        self._lock = threading.Lock()

    def say(self, text):
        with self._lock:
            self._say("[recover] %s" % text)

    @contextmanager
    def waiting(self, what, limit):
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

    def _note(self, bucket, **entry):
        with self._lock:
            bucket.append(entry)

    # --- read -----------------------------------------------------------------------------------------

    def _read(self, host):
        node = self.backend.node(host)
        records = node.read_records()
        self._stale_lease(node, host)
        wanted = decide.records_to_undo(records, self.settings["window"] or None)
        if not wanted:
            return {"host": host, "records": []}
        facts = {"host": host, "records": wanted, "kind": None, "unit": None, "members": []}
        try:
            cluster = node.read_cluster(window_records=False)
            facts.update(kind="wsfc", computer=cluster["computer"], unit=(cluster.get("cluster") or {}).get("name"),
                         members=[item["name"] for item in cluster.get("nodes") or []])
        except NotFoundError:
            nlb = node.read_nlb()
            facts.update(kind="nlb", computer=nlb.get("computer"), unit=(nlb.get("cluster") or {}).get("name"),
                         members=[item.get("name") for item in nlb.get("nodes") or []])
            if not facts["unit"]:
                facts.update(kind=None, unit=None)
        return facts

    def _stale_lease(self, node, host):
        """A lease no run holds any more, left on a lease node by a run that died: an expired one, or the one
        take_over names, goes (compare-and-swap on the text read, so a lease renewed meanwhile stays)."""
        answer = node.lease("read")
        if not answer["raw"]:
            return
        found, problem = window_lease.parse(answer["raw"])
        take_over = self.settings.get("take_over") or ""
        dead = (found is not None and (found["run"] == take_over or not window_lease.fresh(found, answer["now"]))) \
            or (problem and take_over == window_lease.UNREADABLE)
        if not dead:
            if found is not None:
                # a window still runs there, whether or not any of its nodes carries a record at this moment (between
                # two nodes none does): its DRS records on vCenter are left alone too
                with self._lock:
                    self.live_windows.add(str(found["window"]).lower())
            return
        if self.check_mode:
            self._note(self.actions, system=host, window=(found or {}).get("window"), change="lease",
                       since=(found or {}).get("since"), controller=(found or {}).get("controller"),
                       result="would remove the lease of a run that no longer works")
            return
        if node.lease("release", answer["raw"])["swapped"]:
            self._note(self.actions, system=host, window=(found or {}).get("window"), change="lease",
                       since=(found or {}).get("since"), controller=(found or {}).get("controller"),
                       result="removed the lease of a run that no longer works")

    # --- the run ---------------------------------------------------------------------------------------

    def run_recover(self):
        hosts = list(self.settings["windows_hosts"])
        self.say("reading the window records of %d host(s) side by side" % len(hosts))
        found = {}
        threads = []

        def call(host):
            try:
                found[host] = self._read(host)
            except CollectionError as error:
                found[host] = error
        for host in hosts:
            thread = threading.Thread(target=call, args=(host,))
            thread.daemon = True
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        units = {}
        readable = [facts for facts in found.values() if isinstance(facts, dict) and facts.get("unit")]
        for host in hosts:
            facts = found[host]
            if isinstance(facts, CollectionError):
                self._note(self.failed, system=host, message="could not be read: %s" % facts.message)
                continue
            if not facts["records"]:
                continue
            if facts["unit"] is None and facts.get("kind") == "wsfc":
                # a node whose cluster service is stopped cannot tell its cluster: the cluster that lists it
                self._adopt(facts, readable)
            if facts["unit"] is None:
                self._lonely(host, facts)
                continue
            units.setdefault((facts["kind"], facts["unit"]), []).append(facts)
        threads = [threading.Thread(target=self._unit, args=(kind, name, members))
                   for (kind, name), members in sorted(units.items())]
        for thread in threads:
            thread.daemon = True
            thread.start()
        for thread in threads:
            thread.join()
        self.backend.close()
        return {"run": self.run, "put_back": self.actions, "refused": self.refused, "failed": self.failed,
                "live_windows": sorted(self.live_windows)}

    def _adopt(self, facts, readable):
        """The unit of a node that cannot read its own cluster: one whose members list it, as read through another
        node (a host without records is read for that too)."""
        computer = str(facts.get("computer") or facts["host"]).lower().split(".", 1)[0]
        for other in readable:
            if other["kind"] == "wsfc" and computer in [str(name).lower().split(".", 1)[0] for name in other["members"]]:
                facts.update(unit=other["unit"], members=other["members"])
                return
        for host in sorted(self.settings["windows_hosts"]):
            if host == facts["host"]:
                continue
            try:
                cluster = self.backend.node(host).read_cluster(window_records=False)
            except CollectionError:
                continue
            members = [item["name"] for item in cluster.get("nodes") or []]
            if (cluster.get("cluster") or {}).get("name") and computer in [name.lower().split(".", 1)[0] for name in members]:
                facts.update(unit=cluster["cluster"]["name"], members=members)
                return

    def _lonely(self, host, facts):
        """Records on a node that belongs to no cluster or farm now: removed only when the operator says so."""
        changes = ", ".join("%s/%s" % (record["window"], record["change"]) for record in facts["records"])
        if host not in (self.settings.get("discard_hosts") or []):
            self._note(self.refused, system=host, message=(
                "%s belongs to no failover cluster or NLB farm now, so its records (%s) cannot be put back; if the "
                "cluster no longer exists, name the host in recover_discard_hosts to remove them without undoing them"
                % (host, changes)))
            return
        for record in facts["records"]:
            if not self.check_mode:
                self.backend.node(host).remove_records(record["window"], [record["change"]])
            self._note(self.actions, system=host, window=record["window"], change=record["change"],
                       since=record.get("since"), controller=record.get("controller"),
                       result="would discard" if self.check_mode else "discarded (not undone: the cluster is gone)")

    def _unit(self, kind, name, members):
        """One cluster or farm: its lease, then each host's records."""
        names = sorted(members[0]["members"], key=lambda item: item.lower())
        lease_host = host_for_computer(names[0], self.hostvars, preferred=[item["host"] for item in members]) if names else None
        taken = None
        if lease_host is None:
            for facts in members:
                self._note(self.refused, system=facts["host"], message=(
                    "the lease of %s lives on its first member %s, which is not in the inventory: add it, so recover can "
                    "tell whether a window still runs there" % (name, names[0] if names else "?")))
            return
        node = self.backend.node(lease_host)
        try:
            answer = node.lease("read")
            verdict = window_lease.judge(answer["raw"], answer["now"], self.run, self.settings.get("take_over") or "")
            if verdict["action"] == "refuse":
                if verdict.get("holder"):
                    with self._lock:
                        self.live_windows.add(verdict["holder"]["window"].lower())
                for facts in members:
                    self._note(self.refused, system=facts["host"], message="%s %s: %s" % (
                        "failover cluster" if kind == "wsfc" else "NLB farm", name, verdict["message"]))
                self.say("%s: %s" % (name, verdict["message"]))
                return
            if not self.check_mode:
                fields = {"run": self.run, "window": self.settings["window"] or "recover", "holder": "recover",
                          "controller": self.backend.controller, "unit": name}
                answer = node.lease("take", verdict["expected"], fields, self.settings["lease_seconds"])
                if not answer["swapped"]:
                    holder, _problem = window_lease.parse(answer["raw"])
                    message = "another run took the lease of %s first%s: it does the work" % (
                        name, (" (%s)" % window_lease.describe(holder)) if holder else "")
                    for facts in members:
                        self._note(self.refused, system=facts["host"], message=message)
                    self.say(message)
                    return
                taken = [answer["raw"]]
                hold = self._heartbeat(name, lease_host, fields, taken)
            try:
                for facts in members:
                    self._host(kind, facts, hold if taken else None)
            finally:
                if taken:
                    hold.stop()
        except CollectionError as error:
            for facts in members:
                self._note(self.failed, system=facts["host"], message=error.message)
        finally:
            if taken:
                try:
                    node.lease("release", taken[0])
                except CollectionError as error:
                    self.say("%s: the lease could not be released (%s); it expires by itself" % (name, error.message))

    def _heartbeat(self, name, lease_host, fields, taken):
        """Recover's hold on ``name``'s lease while it works there: renewed every third of its life by a thread (a
        wait for the manager can outlast it) and before each record (``still_ours``); ``taken[0]`` follows the
        stored text. Once another run has taken the lease over, recover touches nothing more there."""
        return _LeaseHold(self, name, self.backend.lease_node(lease_host), fields, taken)

    def _host(self, kind, facts, hold=None):
        host = facts["host"]
        if self.check_mode:
            for record in facts["records"]:
                self._note(self.actions, system=host, window=record["window"], change=record["change"],
                           since=record.get("since"), controller=record.get("controller"), result="would put back")
            return
        undo = Undo(self.backend, self.settings["timeout"], self.settings["dsm_timeout"], self.waiting, self.clock,
                    self.sleep, dsm=self.settings.get("dsm", True), agent_confirmed=self.settings.get("agent_confirmed"))
        node = self.backend.node(host)
        for record in facts["records"]:
            if hold is not None and not hold.still_ours():
                self._note(self.refused, system=host, message="another run took over the lease of its %s while recover "
                           "worked: %s/%s and what follows are left to it" % (
                               "failover cluster" if kind == "wsfc" else "NLB farm", record["window"], record["change"]))
                return
            try:
                self.say("%s: putting back %s/%s" % (host, record["window"], record["change"]))
                undo.records(node, kind, [record], facts["computer"])
                self._note(self.actions, system=host, window=record["window"], change=record["change"],
                           since=record.get("since"), controller=record.get("controller"), result="put back")
            except CollectionError as error:
                self._note(self.failed, system=host, message="%s/%s: %s" % (record["window"], record["change"], error.message))
                self.say("%s: %s/%s stays: %s" % (host, record["window"], record["change"], error.message))
                return


class _LeaseHold(object):
    """Recover's lease on one cluster or farm, renewed by compare-and-swap on the text it last stored."""

    def __init__(self, recover, name, node, fields, taken):
        self.recover = recover
        self.name = name
        self.node = node
        self.fields = fields
        self.taken = taken
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        thread = threading.Thread(target=self._beat)
        thread.daemon = True
        thread.start()

    def renew(self):
        """Renew now; False once another run holds the lease (a failure to reach the node is not a loss)."""
        with self._lock:
            if self.lost.is_set():
                return False
            try:
                answer = self.node.lease("take", self.taken[0], self.fields, self.recover.settings["lease_seconds"])
            except CollectionError as error:
                self.recover.say("%s: the lease could not be renewed (%s); trying again" % (self.name, error.message))
                return True
            if answer["swapped"]:
                self.taken[0] = answer["raw"]
                return True
            self.lost.set()
            self.recover.say("%s: another run took the lease over; recover touches nothing more there" % self.name)
            return False

    def still_ours(self):
        return self.renew()

    def stop(self):
        self._stop.set()

    def _beat(self):
        while not self._stop.wait(max(self.recover.settings["lease_seconds"] / 3.0, 1.0)):
            if not self.renew():
                return
