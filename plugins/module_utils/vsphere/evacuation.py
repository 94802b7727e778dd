# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Emptying a host before a Filter Driver install through "Prepare ESX" (rule VS-04), and putting
things back afterwards. Decides which VM goes where; the module acts. Pure: no I/O.

Targets are the other hosts of the same cluster that are connected and not in maintenance mode and,
when the cluster uses DSVAs, that have a running DSVA (rule VS-01: a guest must not land where
nothing protects it). VMs are spread by memory load, largest first onto the least loaded host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError, ParameterError

POWERED_ON = "poweredOn"


class NoTargetError(CollectionError):
    """No host of the cluster can take the VMs."""


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


def plan_evacuation(cluster, host_name, keep, vm_memory_mb, maintenance_mode=False):
    """Plan the moves off ``host_name``.

    ``keep`` names VMs that stay; ``vm_memory_mb`` maps VM name -> configured memory (load weight).
    Returns ``{"moves": [{"vm", "from", "to"}], "kept_powered_on": [...], "targets": [...]}``.
    """
    host = next(item for item in cluster["hosts"] if item["name"] == host_name)
    to_move = [name for name in host["powered_on_vms"] if name not in keep]
    kept_on = [name for name in host["powered_on_vms"] if name in keep]
    if maintenance_mode and kept_on:
        raise ParameterError(
            "maintenance_mode=true but VMs that stay on %s are powered on (%s): vCenter would wait for them; "
            "power them off first, or set maintenance_mode=false" % (host_name, ", ".join(kept_on)))
    targets, refused = eligible_targets(cluster, host_name)
    if to_move and not targets:
        reasons = "; ".join("%s: %s" % item for item in sorted(refused.items())) or "the cluster has no other host"
        raise NoTargetError("no host of cluster %s can take the VMs of %s (%s)" % (cluster["name"], host_name, reasons),
                            refused_hosts=refused)
    load = {}
    for other in cluster["hosts"]:
        if other["name"] in targets:
            load[other["name"]] = sum(vm_memory_mb.get(name, 0) for name in other["powered_on_vms"])
    moves = []
    for name in sorted(to_move, key=lambda vm: (-vm_memory_mb.get(vm, 0), vm)):
        target = min(targets, key=lambda candidate: (load[candidate], candidate))
        load[target] += vm_memory_mb.get(name, 0)
        moves.append({"vm": name, "from": host_name, "to": target})
    return {"moves": moves, "kept_powered_on": kept_on, "targets": targets}


def plan_return(record, vm_locations, host_name):
    """Moves that put recorded VMs back on ``host_name``; VMs gone, powered off or already home are skipped.

    ``vm_locations`` maps VM name -> (host name, power state) as the inventory sees them now.
    """
    moves, skipped = [], []
    for item in record.get("moved", []):
        where = vm_locations.get(item["vm"])
        if where is None:
            skipped.append({"vm": item["vm"], "reason": "no longer exists"})
        elif where[0] == host_name:
            continue
        elif where[1] != POWERED_ON:
            skipped.append({"vm": item["vm"], "reason": "powered off"})
        else:
            moves.append({"vm": item["vm"], "from": where[0], "to": host_name})
    return moves, skipped
