# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emptying a host before a Filter Driver install through "Prepare ESX" (rule VS-04), and putting
things back afterwards. Decides which VM goes where; host_evacuation.py acts. Pure: no I/O.

Targets are the other hosts of the same cluster that are connected and not in maintenance mode and,
when the cluster uses DSVAs, that have a running DSVA (rule VS-01: a guest must not land where
nothing protects it). VMs are spread by memory load, largest first onto the least loaded host that
the cluster's DRS rules allow and that vCenter's own migration check accepts (``can_move``).
VMs are keyed on their managed-object id: names repeat across folders.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError, ParameterError

POWERED_ON = "poweredOn"


class NoTargetError(CollectionError):
    """No host of the cluster can take the VMs."""


class EvacuationRecordError(CollectionError):
    """The evacuation record on a host does not have the shape this collection writes."""


def eligible_targets(cluster, host_name):
    uses_dsva = bool(cluster["dsvas"])
    running_dsva_hosts = set(item["host"] for item in cluster["dsvas"] if item["power_state"] == POWERED_ON)
    targets, refused = [], {}
    for host in cluster["hosts"]:
        if host["name"] == host_name:
            continue
        if host["connection_state"] != "connected":
            refused[host["name"]] = "not connected (%s)" % host["connection_state"]
        elif host["maintenance_mode"]:
            refused[host["name"]] = "in maintenance mode"
        elif uses_dsva and host["name"] not in running_dsva_hosts:
            refused[host["name"]] = "no running DSVA (rule VS-01)"
        else:
            targets.append(host["name"])
    return targets, refused


def rule_refusal(vm_moid, target, rules, placement):
    """Why the cluster's DRS rules forbid ``vm_moid`` on ``target`` (None when they allow it).

    ``placement`` maps VM moid -> host name as it will be at that point of the plan. Enabled rules
    count whether they are "must" or "should" rules (vim.cluster.VmHostRuleInfo.mandatory): a "should"
    rule broken by this module would still be broken after the window."""
    for rule in rules:
        if not rule["enabled"] or vm_moid not in rule["vms"]:
            continue
        if rule["kind"] == "vm_anti_affinity":
            for other in rule["vms"]:
                if other != vm_moid and placement.get(other) == target:
                    return "anti-affinity rule %r keeps it apart from a VM on %s" % (rule["name"], target)
        elif rule["kind"] == "vm_host":
            if rule.get("affine_hosts") is not None and target not in rule["affine_hosts"]:
                return "VM-host rule %r keeps it on %s" % (rule["name"], ", ".join(sorted(rule["affine_hosts"])))
            if rule.get("anti_affine_hosts") and target in rule["anti_affine_hosts"]:
                return "VM-host rule %r keeps it off %s" % (rule["name"], target)
    return None


def failover_cluster_vms(cluster, named=()):
    """Moids of VMs that are failover-cluster nodes: those named by the caller and those in an enabled
    VM-VM anti-affinity rule (VMware's guide for WSFC on vSphere has cluster-across-box nodes kept apart
    by such a rule)."""
    found = set(named)
    for rule in cluster.get("drs_rules", []):
        if rule["enabled"] and rule["kind"] == "vm_anti_affinity":
            found.update(rule["vms"])
    return found


def plan_evacuation(cluster, host_name, keep, maintenance_mode=False, can_move=None, failover_vms=(), power_off_kept=False):
    """Plan the moves off ``host_name``.

    ``keep`` holds the moids of VMs that stay. DSVAs (VS-03) and ESX Agent Manager agent VMs never
    move: EAM owns their placement. ``can_move(vm, target)`` returns None or the reason vCenter gives
    for refusing that migration. Returns ``{"moves": [{"vm", "moid", "from", "to"}], "kept_powered_on":
    [names], "left_alone": [{"vm", "moid", "reason"}], "targets": [...], "drain_first": [names],
    "power_off": [{"vm", "moid"}]}``. With ``power_off_kept`` and ``maintenance_mode`` the VMs that stay
    (the host's DSVA, ``keep``) are to be powered off before maintenance mode, since vCenter waits for every
    powered-on VM; ESX Agent Manager VMs are never touched (EAM powers them).
    """
    vms = [vm for vm in cluster["vms"] if vm["host"] == host_name and vm["power_state"] == POWERED_ON]
    to_move, kept_on, left_alone, power_off = [], [], [], []
    for vm in vms:
        if vm["dsva"]:
            kept_on.append(vm["name"])
            if vm["moid"] not in keep:
                left_alone.append({"vm": vm["name"], "moid": vm["moid"], "reason": "DSVA: never moved (rule VS-03)"})
        elif vm.get("eam_agent"):
            kept_on.append(vm["name"])
            left_alone.append({"vm": vm["name"], "moid": vm["moid"],
                               "reason": "ESX Agent Manager agent VM: EAM places and powers it"})
        elif vm["moid"] in keep:
            kept_on.append(vm["name"])
        else:
            to_move.append(vm)
    if maintenance_mode and power_off_kept:
        eam = set(vm["name"] for vm in vms if vm.get("eam_agent"))
        power_off = [{"vm": vm["name"], "moid": vm["moid"]} for vm in vms
                     if vm["name"] in kept_on and vm["name"] not in eam]
        kept_on = [name for name in kept_on if name in eam]
    if maintenance_mode and kept_on:
        raise ParameterError(
            "maintenance_mode=true but VMs that stay on %s are powered on (%s): vCenter would wait for them; "
            "power them off first, or set maintenance_mode=false" % (host_name, ", ".join(sorted(kept_on))))
    targets, refused = eligible_targets(cluster, host_name)
    if to_move and not targets:
        reasons = "; ".join("%s: %s" % item for item in sorted(refused.items())) or "the cluster has no other host"
        raise NoTargetError("no host of cluster %s can take the VMs of %s (%s)" % (cluster["name"], host_name, reasons),
                            refused_hosts=refused)
    placement = dict((vm["moid"], vm["host"]) for vm in cluster["vms"] if vm["power_state"] == POWERED_ON)
    load = dict((target, 0) for target in targets)
    for vm in cluster["vms"]:
        if vm["host"] in load and vm["power_state"] == POWERED_ON:
            load[vm["host"]] += vm.get("memory_mb") or 0
    rules = cluster.get("drs_rules", [])
    moves, blocked = [], {}
    for vm in sorted(to_move, key=lambda item: (-(item.get("memory_mb") or 0), item["name"], item["moid"])):
        reasons = []
        chosen = None
        for target in sorted(targets, key=lambda candidate: (load[candidate], candidate)):
            reason = rule_refusal(vm["moid"], target, rules, placement)
            if reason is None and can_move is not None:
                reason = can_move(vm, target)
            if reason is None:
                chosen = target
                break
            reasons.append("%s: %s" % (target, reason))
        if chosen is None:
            blocked[vm["name"]] = reasons
            continue
        load[chosen] += vm.get("memory_mb") or 0
        placement[vm["moid"]] = chosen
        moves.append({"vm": vm["name"], "moid": vm["moid"], "from": host_name, "to": chosen})
    if blocked:
        text = "; ".join("%s (%s)" % (name, ", ".join(reasons)) for name, reasons in sorted(blocked.items()))
        raise NoTargetError("no host of cluster %s can take these VMs of %s, so nothing was moved: %s"
                            % (cluster["name"], host_name, text), blocked_vms=blocked)
    nodes = failover_cluster_vms(cluster, failover_vms)
    drain_first = sorted(move["vm"] for move in moves if move["moid"] in nodes)
    return {"moves": moves, "kept_powered_on": sorted(kept_on), "left_alone": left_alone, "targets": targets,
            "drain_first": drain_first, "power_off": power_off}


def check_evacuation_record(record, source):
    """Refuse a record that is not what ``vsphere_host_evacuate`` writes (typed error naming ``source``)."""
    if record is None:
        return None
    if not record.get("valid", True):
        raise EvacuationRecordError("%s carries an unreadable evacuation record (%r); clear custom attribute "
                                    "clustersafe.evacuation by hand" % (source, record.get("raw")))
    problems = []
    moved = record.get("moved", [])
    if not isinstance(moved, list):
        problems.append("'moved' is not a list")
        moved = []
    for index, item in enumerate(moved):
        if not isinstance(item, dict):
            problems.append("moved[%d] is not an object" % index)
            continue
        for field in ("vm", "to"):
            if not isinstance(item.get(field), str) or not item.get(field):
                problems.append("moved[%d].%s is not a non-empty string" % (index, field))
        if "moid" in item and not isinstance(item["moid"], str):
            problems.append("moved[%d].moid is not a string" % index)
    powered_off = record.get("powered_off", [])
    if not isinstance(powered_off, list) or not all(
            isinstance(item, dict) and isinstance(item.get("vm"), str) and isinstance(item.get("moid"), str) and item.get("moid")
            for item in powered_off):
        problems.append("'powered_off' is not a list of {vm, moid}")
    if not isinstance(record.get("maintenance", False), bool):
        problems.append("'maintenance' is not true or false")
    for field in ("window", "owner", "since", "cluster"):
        if record.get(field) is not None and not isinstance(record.get(field), str):
            problems.append("%r is not a string" % field)
    if problems:
        raise EvacuationRecordError("%s carries an evacuation record of an unknown shape (%s); check the VMs by "
                                    "hand and clear custom attribute clustersafe.evacuation"
                                    % (source, "; ".join(problems)), problems=problems)
    return record


def plan_return(record, cluster_vms, host_name, cluster_name=None):
    """Moves that put recorded VMs back on ``host_name``; VMs gone, powered off, already home or now in
    another cluster are skipped. ``cluster_vms`` are the inventory's VM entries of the host's cluster:
    only those are ever moved back (a record could name any VM). A record entry without a moid (written
    by an older version) is matched by name only when that name is unique in the cluster."""
    by_moid = dict((vm["moid"], vm) for vm in cluster_vms)
    by_name = {}
    for vm in cluster_vms:
        by_name.setdefault(vm["name"], []).append(vm)
    if record.get("cluster") and cluster_name and record["cluster"] != cluster_name:
        raise EvacuationRecordError("the evacuation record on %s was written for cluster %r, not %r; the host "
                                    "changed cluster since: check its VMs by hand and clear custom attribute "
                                    "clustersafe.evacuation" % (host_name, record["cluster"], cluster_name))
    moves, skipped = [], []
    for item in record.get("moved", []):
        vm = by_moid.get(item.get("moid")) if item.get("moid") else None
        if vm is None and not item.get("moid"):
            named = by_name.get(item["vm"], [])
            if len(named) > 1:
                skipped.append({"vm": item["vm"], "reason": "name not unique in the cluster and no id recorded"})
                continue
            vm = named[0] if named else None
        if vm is None:
            skipped.append({"vm": item["vm"], "reason": "no longer in this cluster"})
        elif vm["host"] == host_name:
            continue
        elif vm["power_state"] != POWERED_ON:
            skipped.append({"vm": item["vm"], "reason": "powered off"})
        else:
            moves.append({"vm": vm["name"], "moid": vm["moid"], "from": vm["host"], "to": host_name})
    return moves, skipped


def plan_power_on(record, cluster_vms, host_name):
    """VMs the evacuation powered off on ``host_name`` (its DSVA) that are still there and still off,
    found by managed-object id only."""
    by_moid = dict((vm["moid"], vm) for vm in cluster_vms)
    power_on = []
    for item in record.get("powered_off", []):
        vm = by_moid.get(item.get("moid"))
        if vm is not None and vm["host"] == host_name and vm["power_state"] != POWERED_ON:
            power_on.append({"vm": vm["name"], "moid": vm["moid"]})
    return power_on
