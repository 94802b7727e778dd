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
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.records import (
    EVACUATION_ATTRIBUTE,
    RecordRefusedError,
    invalid_message,
)

POWERED_ON = "poweredOn"


class NoTargetError(CollectionError):
    """No host of the cluster can take the VMs."""


class EvacuationRecordError(RecordRefusedError):
    """The evacuation record on a host fails validation or cannot be tied to what this collection did."""


class AdmissionControlError(CollectionError):
    """Taking the host out would break the cluster's HA admission control policy."""


class ClusterNodeError(CollectionError):
    """A failover-cluster node VM would move while its node is not drained."""


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
    """The validated record (records.read_record), or EvacuationRecordError naming ``source`` when it fails
    validation: such a record is reported and never acted on."""
    if record is None:
        return None
    if not record.get("valid", True):
        raise EvacuationRecordError(invalid_message(EVACUATION_ATTRIBUTE, source, record), problems=record.get("problems"))
    return record


def plan_return(record, cluster_vms, host_name, cluster_name=None):
    """Moves that put recorded VMs back on ``host_name``: ``(moves, skipped, untied)``. VMs gone, powered
    off, already home or now in another cluster are skipped. ``cluster_vms`` are the inventory's VM entries of
    the host's cluster: only those are ever moved back, found by managed-object id (a record could name any
    VM). An entry without an id (written by an older version) cannot be tied to a migration off this host
    and is returned in ``untied``."""
    by_moid = dict((vm["moid"], vm) for vm in cluster_vms)
    if record.get("cluster") and cluster_name and record["cluster"] != cluster_name:
        raise EvacuationRecordError("the evacuation record on %s was written for cluster %r, not %r; the host "
                                    "changed cluster since: check its VMs by hand and clear custom attribute "
                                    "clustersafe.evacuation" % (host_name, record["cluster"], cluster_name))
    moves, skipped, untied = [], [], []
    for item in record.get("moved", []):
        if not item.get("moid"):
            untied.append({"vm": item["vm"], "moid": None})
            continue
        vm = by_moid.get(item["moid"])
        if vm is None:
            skipped.append({"vm": item["vm"], "reason": "no longer in this cluster"})
        elif vm["host"] == host_name:
            continue
        elif vm["power_state"] != POWERED_ON:
            skipped.append({"vm": item["vm"], "reason": "powered off"})
        else:
            moves.append({"vm": vm["name"], "moid": vm["moid"], "from": vm["host"], "to": host_name})
    return moves, skipped, untied


def return_refusals(cluster, host_name, moves, dsva_running):
    """Why each move back would break what the evacuation itself checked (``{moid: reason}``): the cluster's
    enabled DRS rules (rule_refusal, with the placement as it will be), and, when the cluster uses DSVAs, a
    running DSVA on the host (rule VS-01: a guest must not arrive where nothing protects it)."""
    refused = {}
    placement = dict((vm["moid"], vm["host"]) for vm in cluster["vms"] if vm["power_state"] == POWERED_ON)
    for move in moves:
        if cluster.get("dsvas") and not dsva_running:
            refused[move["moid"]] = "no running DSVA on %s (rule VS-01)" % host_name
            continue
        reason = rule_refusal(move["moid"], host_name, cluster.get("drs_rules", []), placement)
        if reason:
            refused[move["moid"]] = reason
            continue
        placement[move["moid"]] = host_name
    return refused


def admission_refusal(cluster, host_name):
    """Why taking ``host_name`` out of service would break the cluster's HA admission control policy, or None.

    VMware: "In a cluster using DRS and vSphere HA with admission control turned on, virtual machines might not
    be evacuated from hosts entering maintenance mode. This behavior occurs because of the resources reserved
    for restarting virtual machines in the event of a failure" (vSphere Availability, "Using vSphere HA and DRS
    Together"), and DRS does not evacuate a host when "vSphere HA is enabled and evacuating this host might
    violate HA failover capacity" (vSphere Resource Management, "DRS Does Not Evacuate a Host"). HA counts
    reservations; this check counts the configured memory of the powered-on VMs, at least as much, so it errs
    on the side of refusing. Percentage policy: the remaining hosts keep the memory percentage free;
    host-failures policy: the remaining hosts less the largest ``failover_level`` still hold the VMs; dedicated
    failover hosts: another, non-failover host must remain."""
    ha = cluster.get("ha") or {}
    policy = ha.get("admission_control_policy") or {}
    if not ha.get("enabled") or not ha.get("admission_control") or not policy:
        return None
    remaining = [host for host in cluster.get("hosts") or [] if host.get("name") != host_name
                 and host.get("connection_state") == "connected" and not host.get("maintenance_mode")]
    capacities = sorted((host.get("memory_mb") or 0 for host in remaining), reverse=True)
    demand = sum(vm.get("memory_mb") or 0 for vm in cluster.get("vms") or [] if vm.get("power_state") == POWERED_ON)
    kind = policy.get("kind")
    if kind == "resources_percent":
        percent = policy.get("memory_percent") or 0
        free = sum(capacities) * (100 - percent) // 100
        if not capacities or demand > free:
            return ("HA admission control keeps %d%% of the cluster's memory for failover: without %s the other hosts "
                    "offer %d MB for %d MB of powered-on VMs" % (percent, host_name, free, demand))
    elif kind == "host_failures":
        level = policy.get("failover_level") or 0
        kept = sum(capacities[level:])
        if len(capacities) <= level or demand > kept:
            return ("HA admission control keeps %d host(s) spare for failover: without %s, %d host(s) remain, holding "
                    "%d MB beside the spare ones for %d MB of powered-on VMs" % (level, host_name, len(capacities), kept, demand))
    elif kind == "failover_hosts":
        others = [host["name"] for host in remaining if host["name"] not in (policy.get("failover_hosts") or [])]
        if not others:
            return "HA admission control reserves the other hosts for failover (dedicated failover hosts)"
    return None


def cluster_node_refusals(moves, node_moids, drained_moids):
    """The moves of failover-cluster node VMs whose node is not drained, as ``{vm name: reason}``.

    VMware, "Setup for Windows Server Failover Clustering" (vMotion support): "An WSFC virtual machine can stall
    for a few seconds during vMotion. If the stall time exceeds the heartbeat time-out interval, then the guest
    cluster considers the node down and this can lead to unnecessary failover", hence SameSubnetThreshold of at
    least 10. A node whose roles were drained beforehand (Suspend-ClusterNode -Drain) owns nothing to fail over."""
    refused = {}
    for move in moves:
        if move["moid"] in node_moids and move["moid"] not in drained_moids:
            refused[move["vm"]] = ("failover-cluster node that is not drained: a vMotion stall longer than the "
                                   "cluster heartbeat time-out fails its roles over")
    return refused


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
