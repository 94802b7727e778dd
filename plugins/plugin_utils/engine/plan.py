# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ordered plan of one failover cluster or NLB farm, and what blocks it before its first change.

Pure: facts in (what the engine read from the nodes, the manager and vCenter), plan out. A blocker names its
subject, the problem and the remedy; any blocker stops the whole unit before anything is changed (safety
invariant 4). A node somebody else took out of service (paused, stopped, draining) is a blocker: the window
leaves it exactly as found (invariant 8).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils import _agent_version as versions
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.nlb import base_state
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.wsfc import role_hazards
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import decide

# The NLB host state a window counts as carrying the farm's load: Converged. A Converging host has joined
# (module_utils/winrm/nlb.py JOINED) but does not carry load yet.
NLB_CARRYING_LOAD = ("Converged",)


def lower(value):
    return str(value or "").lower()


def short(value):
    return lower(value).split(".", 1)[0]


def blocker(subject, message, remedy):
    return {"subject": subject, "message": message, "remedy": remedy}


def _interlock_refusal(plan):
    """ds_agent's MS-02 interlock refuses in check mode too (unless asked only to plan): that refusal is the
    signal to maintain, not a blocker."""
    return plan.get("rule") == "MS-02"


def _foreign_records(host, records, window, state_changes=()):
    """Blockers for records on a member: another window's, or this window's that its heal could not put back;
    ``state_changes`` are this window's records that are its state, not leftovers (an NLB farm's Tap records
    until the switch to Inline)."""
    out = []
    for record in records or []:
        if lower(record.get("window")) == lower(window) and record.get("change") in state_changes:
            continue
        if lower(record.get("window")) != lower(window):
            out.append(blocker(host, "window %s left a record on %s (%s since %s, from %s)"
                               % (record.get("window"), host, record.get("change"), record.get("since"),
                                  record.get("controller")),
                               "run clustersafe.deep_security.recover (or that window again) first"))
        else:
            out.append(blocker(host, "a record of this window is still on %s (%s since %s): it could not be put back"
                               % (host, record.get("change"), record.get("since")),
                               "see the heal step's message above; run clustersafe.deep_security.recover, then the "
                               "window again"))
    return out


# --- failover clusters -----------------------------------------------------------------------------------

def vm_locations(vsphere):
    """VM name, and guest host name, (lower case) -> [(cluster, host, moid)] of powered-on VMs, from
    vsphere_cluster_info's clusters (``vms`` where returned, else each host's ``powered_on_vms``)."""
    locations = {}
    for cluster in (vsphere or {}).get("clusters") or []:
        if cluster.get("vms") is not None:
            for vm in cluster.get("vms") or []:
                if vm.get("power_state") not in (None, "poweredOn"):
                    continue
                place = (cluster.get("name"), vm.get("host"), vm.get("moid"))
                keys = set([lower(vm.get("name"))])
                if vm.get("guest_hostname"):
                    keys.update([lower(vm["guest_hostname"]), short(vm["guest_hostname"])])
                for key in keys:
                    locations.setdefault(key, []).append(place)
            continue
        for host in cluster.get("hosts") or []:
            for vm in host.get("powered_on_vms") or []:
                name = vm.get("name") if isinstance(vm, dict) else vm
                locations.setdefault(lower(name), []).append((cluster.get("name"), host.get("name"), None))
    return locations


def plan_wsfc(hosts, cluster, node_facts, window, vsphere=None, vm_names=None, order=None,
              require_all_nodes_online=True, findings=None):
    """The ordered plan of the failover cluster's nodes ``hosts`` (inventory hosts, in inventory order) and
    what blocks it.

    cluster: ``mscs_cluster_info`` from a node whose cluster service runs (the whole cluster as it sees it).
    node_facts: inventory host -> ``{"plan": <ds_agent in check mode>, "records": [every window record on the
        node], "computer": <computer name>}``.
    vsphere: ``vsphere_cluster_info`` (None when the nodes are not vSphere VMs); vm_names: inventory host ->
        VM name in vCenter (defaults to the computer name).
    order: an explicit node order (inventory hosts) overriding the computed one.
    findings: the rule catalogue's findings for this window; its blockers block it.
    """
    if not hosts:
        raise ParameterError("the window has no nodes: set wsfc_agent_rollout_nodes (the playbook: wsfc_rollout_hosts) "
                             "to the inventory hosts or group of the failover cluster(s)")
    blockers = []
    cluster_name = (cluster.get("cluster") or {}).get("name")
    members = dict((lower(node.get("name")), node) for node in cluster.get("nodes") or [])
    groups = cluster.get("groups") or []
    records_by_computer = dict((lower((node_facts.get(host) or {}).get("computer") or host),
                                (node_facts.get(host) or {}).get("records") or []) for host in hosts)
    if not cluster_name:
        blockers.append(blocker(cluster.get("computer") or hosts[0],
                                "the cluster could not be read: no node of the window has its cluster service running",
                                "start the cluster service on a node (or run clustersafe.deep_security.recover if a "
                                "window stopped it)"))
    for node in cluster.get("nodes") or []:
        why = decide.wsfc_out_by_someone_else(node, records_by_computer.get(lower(node.get("name"))), window)
        if why and lower(node.get("name")) in records_by_computer:
            blockers.append(blocker(node.get("name"), "node %s %s, and not by this window: the window leaves it as "
                                    "it found it" % (node.get("name"), why),
                                    "ask who took it out of service; once it is back (Resume-ClusterNode, Start-Service "
                                    "ClusSvc), run the window again"))
        elif node.get("state") != "Up" and require_all_nodes_online:
            blockers.append(blocker(node.get("name"), "node %s is %s; the window starts only with every node Up "
                                    "(wsfc_agent_rollout_require_all_nodes_online)" % (node.get("name"), node.get("state")),
                                    "bring the node back (clustersafe.deep_security.recover puts back what a window "
                                    "left), then run the window again"))
    for group in groups:
        if group.get("state") != "Online":
            blockers.append(blocker(group.get("name"), "role %s is %s on %s" % (group.get("name"), group.get("state"),
                                                                                group.get("owner_node")),
                                    "bring the role Online in Failover Cluster Manager before the window"))
    locations = vm_locations(vsphere) if vsphere is not None else {}
    drs_records = dict((item.get("name"), item.get("drs_window")) for item in (vsphere or {}).get("clusters") or [])
    entries = []
    for index, host in enumerate(hosts):
        facts = node_facts.get(host) or {}
        computer = facts.get("computer") or host
        member = members.get(lower(computer)) or members.get(short(computer))
        if cluster_name and member is None:
            blockers.append(blocker(host, "%s (computer %s) is not a node of cluster %s (nodes: %s)"
                                    % (host, computer, cluster_name, ", ".join(sorted(n.get("name") for n in members.values()))),
                                    "list only nodes of failover clusters in wsfc_agent_rollout_nodes"))
        blockers.extend(_foreign_records(host, facts.get("records"), window))
        plan = facts.get("plan") or {}
        if plan.get("failed") and not _interlock_refusal(plan):
            blockers.append(blocker(host, "the agent plan for %s failed: %s" % (host, plan.get("msg")),
                                    "fix the agent parameters or the node, then run the window again"))
        needed = bool(plan.get("actions")) or bool(plan.get("changed")) or _interlock_refusal(plan)
        member_name = member.get("name") if member else computer
        owned = [g.get("name") for g in groups if lower(g.get("owner_node")) == lower(member_name) and not g.get("is_core")]
        core = [g.get("name") for g in groups if lower(g.get("owner_node")) == lower(member_name) and g.get("is_core")]
        entry = {"host": host, "computer": member_name, "maintain": needed, "roles": owned, "core_groups": core,
                 "agent_actions": plan.get("actions") or [], "agent_before": plan.get("previous_version"),
                 "agent_target": plan.get("version") if needed else plan.get("previous_version"),
                 "vm": None, "vsphere_cluster": None, "_index": index}
        if vsphere is not None:
            vm = (vm_names or {}).get(host) or member_name
            found = locations.get(lower(vm)) or locations.get(short(vm)) or []
            entry["vm"] = vm
            if len(set(place[2] or place for place in found)) == 1:
                entry["vsphere_cluster"] = found[0][0]
            elif needed:
                blockers.append(blocker(host, "%s VM %r of %s in vCenter" % (
                    "no powered-on" if not found else "more than one", vm, host),
                    "set the host variable wsfc_agent_rollout_vm_name to the node's VM name, or "
                    "wsfc_agent_rollout_vsphere=false for physical nodes"))
        entries.append(entry)
    if cluster_name:
        # roles a drain cannot move safely: an availability group, a role no other Up node may own
        for entry in entries:
            if entry["maintain"]:
                blockers.extend(role_hazards(cluster, entry["computer"]))
    entries = _ordered(entries, hosts, order, "wsfc_agent_rollout_order", by_roles=True)
    drs_clusters = []
    for entry in entries:
        if entry["maintain"] and entry["vsphere_cluster"] and entry["vsphere_cluster"] not in drs_clusters:
            drs_clusters.append(entry["vsphere_cluster"])
    for name in drs_clusters:
        record = drs_records.get(name)
        if record and lower(record.get("window")) != lower(window):
            blockers.append(blocker(name, "DRS of %s is held by window %s since %s (%s)" % (
                name, record.get("window"), record.get("since"), record.get("owner")),
                "wait for that window, or run clustersafe.deep_security.recover if it is not running"))
    for finding in findings or []:
        if finding.get("severity") == "blocker":
            blockers.append(blocker(finding.get("subject"), "%s: %s" % (finding.get("id"), finding.get("message")),
                                    finding.get("remedy")))
    return {"window": window, "cluster": cluster_name, "order": [entry["host"] for entry in entries if entry["maintain"]],
            "nodes": entries, "drs_clusters": sorted(drs_clusters), "blockers": blockers,
            "members": sorted(node.get("name") for node in cluster.get("nodes") or []),
            "findings": [dict((key, finding.get(key)) for key in ("id", "severity", "subject", "message", "remedy"))
                         for finding in findings or [] if finding.get("severity") != "blocker"]}


def _ordered(entries, hosts, order, variable, by_roles=False):
    if order:
        unknown = [host for host in order if host not in hosts]
        if unknown:
            raise ParameterError("%s names %s, not among the window's %s (%s)"
                                 % (variable, ", ".join(unknown), "nodes" if by_roles else "hosts", ", ".join(hosts)))
        rank = dict((host, position) for position, host in enumerate(order))
        entries.sort(key=lambda item: (rank.get(item["host"], len(order)), item["_index"]))
    elif by_roles:
        # Cluster-Aware Updating's way: nodes that own no role first, owners last, so each role moves once.
        entries.sort(key=lambda item: (len(item["roles"]), len(item["core_groups"]), item["_index"]))
    for entry in entries:
        del entry["_index"]
    return entries


# --- NLB farms -------------------------------------------------------------------------------------------

def default_min_converged(farm_size):
    """All but one: the farm carries its load with one host out at a time."""
    return max(int(farm_size) - 1, 1)


def ips_on(state):
    return lower(state) not in ("", "off", "inherited", "none")


def _catalogue_blocks(finding, turn_off_intrusion_prevention):
    """A rule-catalogue NLB-01 finding that blocks this window: every blocker, except Intrusion Prevention on
    a computer when the window was asked to turn it off first."""
    if finding.get("severity") != "blocker":
        return False
    if turn_off_intrusion_prevention and "intrusion_prevention" in (finding.get("evidence") or {}):
        return False
    return True


def plan_nlb(hosts, node_facts, window, dsm_computers=None, version="", min_converged=None,
             turn_off_intrusion_prevention=False, policy_intrusion_prevention=None, order=None, findings=None):
    """The ordered plan of an NLB farm's hosts and what blocks it.

    node_facts: inventory host -> ``{"nlb": <nlb_cluster_info>, "plan": <ds_agent in check mode>, "records":
        [every window record on the host]}``.
    dsm_computers: ``dsm_computer_info`` computers (hosts without an agent are not there yet).
    policy_intrusion_prevention: Intrusion Prevention in effect in the activation policy (None: no policy).
    findings: the rule catalogue's NLB-01 findings over these hosts, the manager's computers and ``version``:
        NLB-01 (10.0 Update 5 and later, no Intrusion Prevention) is the catalogue's, not decided again here.
    """
    if not hosts:
        raise ParameterError("the window has no hosts: set nlb_agent_rollout_nodes (the playbook: nlb_rollout_hosts) "
                             "to the inventory hosts or group of the NLB farm(s)")
    blockers = []
    by_name = dict((lower(item.get("host_name")), item) for item in dsm_computers or [])
    farm_names, farm_nodes, farm_display = set(), {}, {}
    entries = []
    for index, host in enumerate(hosts):
        facts = node_facts.get(host) or {}
        nlb = facts.get("nlb") or {}
        computer = nlb.get("computer") or host
        cluster = nlb.get("cluster") or {}
        if nlb.get("failed") or not cluster.get("name"):
            blockers.append(blocker(host, "the NLB configuration of %s could not be read: %s"
                                    % (host, nlb.get("msg") or "no NLB cluster"),
                                    "list only hosts of NLB farms in nlb_agent_rollout_nodes, reachable over WinRM"))
        else:
            farm_names.add(cluster["name"])
            for node in nlb.get("nodes") or []:
                farm_nodes[lower(node.get("name"))] = base_state(node.get("state"))
                farm_display[lower(node.get("name"))] = node.get("name")
        blockers.extend(_foreign_records(host, facts.get("records"), window, state_changes=("network_engine_mode",)))
        plan = facts.get("plan") or {}
        if plan.get("failed"):
            blockers.append(blocker(host, "the agent plan for %s failed: %s" % (host, plan.get("msg")),
                                    "fix the agent parameters or the host, then run the window again"))
        needed = bool(plan.get("actions")) or bool(plan.get("changed"))
        dsm = by_name.get(lower(computer)) or by_name.get(short(computer))
        installed = plan.get("previous_version")
        if installed and not versions.is_no_agent(installed) and versions.nlb01_supported(installed) is not True:
            blockers.append(blocker(host, "NLB-01: %s has agent %s installed, %s %s, which NLB needs; an upgrade from it "
                                    "loads an interrupting network driver"
                                    % (host, installed, "older than" if versions.nlb01_supported(installed) is False
                                       else "not known to be at least", versions.NLB_MINIMUM_TEXT),
                                    "upgrade it outside the farm's service hours with the host drain-stopped by hand, "
                                    "then run the window"))
        state = farm_nodes.get(lower(computer))
        ips = ((dsm or {}).get("modules") or {}).get("intrusion_prevention") or {}
        entries.append({"host": host, "computer": computer, "maintain": needed, "roles": [], "core_groups": [],
                        "agent_actions": plan.get("actions") or [], "agent_before": installed,
                        "agent_target": plan.get("version") if needed else installed,
                        "nlb_state": state, "dsm_known": bool(dsm and dsm.get("has_agent")),
                        "intrusion_prevention": ips.get("state") if dsm else None,
                        "network_engine_mode": (dsm or {}).get("network_engine_mode"), "_index": index})
        why = decide.nlb_out_by_someone_else(state, facts.get("records"), window)
        if needed and why:
            blockers.append(blocker(host, "NLB host %s %s, and not by this window: the window leaves it as it found it"
                                    % (computer, why),
                                    "ask who took it out of the farm; once it is back (Start-NlbClusterNode), run the "
                                    "window again"))
    for finding in findings or []:
        if _catalogue_blocks(finding, turn_off_intrusion_prevention):
            blockers.append(blocker(finding.get("subject"), "%s: %s" % (finding.get("id"), finding.get("message")),
                                    finding.get("remedy")))
    if len(farm_names) > 1:
        blockers.append(blocker(", ".join(hosts), "the hosts belong to more than one NLB cluster (%s)"
                                % ", ".join(sorted(farm_names)), "run one window per NLB farm"))
    if ips_on(policy_intrusion_prevention) and not turn_off_intrusion_prevention:
        blockers.append(blocker("nlb_agent_rollout_policy_id", "NLB-01: the activation policy has Intrusion "
                                "Prevention %s; it is not supported on NLB hosts" % policy_intrusion_prevention,
                                "turn it off in that policy, or set nlb_agent_rollout_turn_off_intrusion_prevention=true"))
    size = len(farm_nodes) or len(hosts)
    minimum = default_min_converged(size) if not min_converged else int(min_converged)
    if minimum < 1 or minimum > size:
        raise ParameterError("nlb_agent_rollout_min_converged must be between 1 and the farm's %d hosts (got %d)"
                             % (size, minimum))
    converged = sorted(farm_display[name] for name, state in farm_nodes.items() if state in NLB_CARRYING_LOAD)
    entries = _ordered(entries, hosts, order, "nlb_agent_rollout_order")
    maintained = [entry for entry in entries if entry["maintain"]]
    out_at_once = 1 if any(entry["nlb_state"] in NLB_CARRYING_LOAD for entry in maintained) else 0
    if maintained and len(converged) - out_at_once < minimum:
        blockers.append(blocker(", ".join(sorted(farm_names)) or hosts[0],
                                "%d of %d hosts are Converged (%s); taking one out leaves %d, fewer than the %d the "
                                "farm needs (nlb_agent_rollout_min_converged)"
                                % (len(converged), size, ", ".join(converged) or "none",
                                   len(converged) - out_at_once, minimum),
                                "bring the stopped hosts back (clustersafe.deep_security.recover starts what a window "
                                "stopped), or lower nlb_agent_rollout_min_converged if the farm carries its load"))
    return {"window": window, "cluster": ", ".join(sorted(farm_names)) or None, "order": [e["host"] for e in maintained],
            "nodes": entries, "blockers": blockers, "findings": [
                dict((key, finding.get(key)) for key in ("id", "severity", "subject", "message", "remedy"))
                for finding in findings or [] if not _catalogue_blocks(finding, turn_off_intrusion_prevention)],
            "min_converged": minimum, "farm_size": size, "converged": converged, "drs_clusters": [],
            "members": sorted(farm_display.values()),
            "computers_known": [e["computer"] for e in entries if e["dsm_known"]],
            "intrusion_prevention_on": [e["computer"] for e in entries if e["dsm_known"] and ips_on(e["intrusion_prevention"])]}


def converged_others(nlb, computer):
    """Hosts of the farm other than ``computer`` that are Converged, from ``nlb_cluster_info``."""
    return sorted(node.get("name") for node in (nlb or {}).get("nodes") or []
                  if lower(node.get("name")) != lower(computer) and base_state(node.get("state")) in NLB_CARRYING_LOAD)


# --- printed plan ----------------------------------------------------------------------------------------

def plan_line(entry, member="node"):
    """One line of the printed plan for a member."""
    if not entry.get("maintain"):
        return "%s: nothing to do (agent already as asked)" % entry.get("host")
    where = " (VM %s in %s)" % (entry.get("vm"), entry.get("vsphere_cluster")) if entry.get("vsphere_cluster") else ""
    if member == "node":
        holds = "owns %s" % (", ".join(entry.get("roles") or []) or "no role")
    else:
        holds = "NLB state %s" % (entry.get("nlb_state") or "unknown")
    return "%s%s: %s; %s; agent %s -> %s" % (
        entry.get("host"), where, "/".join(entry.get("agent_actions") or ["maintain"]), holds,
        entry.get("agent_before") or "none", entry.get("agent_target") or "none")


def blocker_line(item):
    return "BLOCKER %s: %s (remedy: %s)" % (item.get("subject"), item.get("message"), item.get("remedy"))


def finding_line(finding):
    return "%s %s %s: %s (remedy: %s)" % ((str(finding.get("severity") or "").upper(),)
                                          + tuple(finding.get(key) for key in ("id", "subject", "message", "remedy")))
