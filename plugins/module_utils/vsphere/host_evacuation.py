# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What vsphere_host_evacuate does on vCenter: read the cluster, let evacuation.py decide, then act in the
safe order (the record on the host first, cleared last) and report.

Functions take a ``VsphereClient`` (or anything with its methods) and the module's options as a dict; they
raise the collection's typed errors and never call ``fail_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import client as vsphere_client
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.evacuation import (
    check_evacuation_record,
    plan_evacuation,
    plan_power_on,
    plan_return,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import (
    EVACUATION_ATTRIBUTE,
    find_host,
    resolve_vms,
    select_clusters,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.service import (
    default_owner,
    gather,
    now_iso,
    require_dsvas,
    write_record,
)


def check_timeout(timeout):
    if timeout <= 0:
        raise ParameterError("parameter timeout must be a positive number of seconds, not %s" % timeout)


def host_evacuation(client, params, check_mode=False):
    """The module's work: evacuate (state=evacuated) or restore the host ``params["host"]``."""
    snapshot = gather(client, params["dsva_name_pattern"])
    cluster = select_clusters(snapshot.inventory, [params["cluster"]], params["datacenter"], snapshot.datacenters)[0]
    host = find_host(cluster, params["host"])
    if params["state"] == "evacuated":
        require_dsvas(cluster, params["dsvas_expected"], params["dsva_name_pattern"])
        return evacuate(client, snapshot, cluster, host, params, check_mode=check_mode)
    return restore(client, snapshot, cluster, host, params, check_mode=check_mode)


def migrate(client, snapshot, move, wait_seconds):
    spec = vsphere_client.vim.vm.RelocateSpec(host=snapshot.ref(move["to_moid"]))
    client.run_task("migrating %s from %s to %s" % (move["vm"], move["from"], move["to"]),
                    snapshot.ref(move["moid"]).RelocateVM_Task, spec=spec, wait_seconds=wait_seconds)


def host_moids(cluster):
    return dict((host["name"], host["moid"]) for host in cluster["hosts"])


def evacuate(client, snapshot, cluster, host, params, check_mode=False):
    """Empty ``host`` as plan_evacuation decides: record first, then migrate, shut down what stays, enter
    maintenance mode."""
    record = check_evacuation_record(host["evacuation"], "host %s" % host["name"])
    if params["keep_vms"] is not None:
        keep = set(resolve_vms(cluster["vms"], params["keep_vms"], "keep_vms"))
    else:
        keep = set(vm["moid"] for vm in cluster["vms"] if vm["dsva"] and vm["host"] == host["name"])
    failover_vms = resolve_vms(cluster["vms"], params["failover_cluster_vms"] or [], "failover_cluster_vms")
    enter_maintenance = params["maintenance_mode"] and not host["maintenance_mode"]
    hosts = host_moids(cluster)

    def can_move(vm, target):
        # vCenter's own check (CheckRelocate_Task) before any move, so a VM on local storage or a network
        # the target lacks stops the run before the first migration instead of half-way through it.
        errors = client.check_relocate(snapshot.ref(vm["moid"]), snapshot.ref(hosts[target]),
                                       "checking the migration of %s to %s" % (vm["name"], target))
        return "; ".join(errors) if errors else None

    plan = plan_evacuation(cluster, host["name"], keep, maintenance_mode=enter_maintenance,
                           can_move=can_move, failover_vms=failover_vms, power_off_kept=params["power_off_kept_vms"])
    changed = bool(plan["moves"]) or enter_maintenance
    warnings = []
    if plan["drain_first"]:
        warnings.append("%s %s failover-cluster nodes: drain their roles to another node before this run "
                        "(vMotion of an active node can fail it over)" % (
                            ", ".join(plan["drain_first"]), "is a" if len(plan["drain_first"]) == 1 else "are"))
    if (not params["maintenance_mode"] and not host["maintenance_mode"] and cluster["drs"]["enabled"]
            and cluster["drs"]["automation_level"] == "fullyAutomated"):
        warnings.append("host %s stays out of maintenance mode in fully automated DRS cluster %s: DRS can move VMs "
                        "back onto it before the reboot; use maintenance_mode=true or hold DRS at manual with "
                        "vsphere_drs_window" % (host["name"], cluster["name"]))
    new_record = None
    if changed:
        fresh = {"owner": params["owner"] or default_owner(params["username"]), "since": now_iso(), "moved": [],
                 "maintenance": False}
        base = dict(record) if record else fresh
        base.pop("valid", None)
        base["window"] = params["window"] or base.get("window")
        base["cluster"] = cluster["name"]
        base["moved"] = base.get("moved", []) + [{"vm": m["vm"], "moid": m["moid"], "to": m["to"]}
                                                 for m in plan["moves"]]
        base["maintenance"] = bool(base.get("maintenance") or enter_maintenance)
        if plan["power_off"] or base.get("powered_off"):
            base["powered_off"] = base.get("powered_off", []) + plan["power_off"]
        new_record = base
    result = {
        "changed": changed,
        "warnings": warnings,
        "moves": plan["moves"],
        "powered_off": plan["power_off"],
        "powered_on": [],
        "not_moved_back": [],
        "left_alone": plan["left_alone"],
        "drain_first": plan["drain_first"],
        "maintenance_mode": host["maintenance_mode"] or enter_maintenance,
        "record": new_record or record,
        "diff": {"before": {"powered_on_vms": host["powered_on_vms"], "maintenance_mode": host["maintenance_mode"]},
                 "after": {"powered_on_vms": plan["kept_powered_on"],
                           "maintenance_mode": host["maintenance_mode"] or enter_maintenance}},
    }
    if not changed or check_mode:
        return result
    host_ref = snapshot.ref(host["moid"])
    write_record(client, snapshot, host_ref, EVACUATION_ATTRIBUTE, type(host_ref), new_record)
    for move in plan["moves"]:
        migrate(client, snapshot, dict(move, to_moid=hosts[move["to"]]), params["timeout"])
    for vm in plan["power_off"]:
        # only once the host is empty: a pinned DSVA cannot move (VS-03) and protects no guest here any more
        client.shut_down_vm(snapshot.ref(vm["moid"]), vm["vm"], wait_seconds=params["timeout"])
    if enter_maintenance:
        # vCenter's own timeout ends the task with a Timedout fault (vim.HostSystem.EnterMaintenanceMode:
        # "timeout <= 0 means no timeout"), so a host never stays "entering maintenance mode" after this
        # run; the wait allows a little more than that so vCenter's verdict is the one reported.
        client.run_task("entering maintenance mode on %s" % host["name"], host_ref.EnterMaintenanceMode_Task,
                        timeout=params["timeout"], evacuatePoweredOffVms=False,
                        wait_seconds=params["timeout"] + 30)
    return result


def restore(client, snapshot, cluster, host, params, check_mode=False):
    """Undo what the record on ``host`` says an evacuation did, then clear the record."""
    record = check_evacuation_record(host["evacuation"], "host %s" % host["name"])
    if record is None:
        return {"changed": False, "moves": [], "powered_off": [], "powered_on": [], "not_moved_back": [],
                "left_alone": [], "drain_first": [],
                "maintenance_mode": host["maintenance_mode"],
                "record": None, "msg": "no evacuation record on %s; nothing to restore" % host["name"]}
    moves, skipped = plan_return(record, cluster["vms"], host["name"], cluster["name"])
    leave_maintenance = bool(record.get("maintenance")) and host["maintenance_mode"]
    power_on = plan_power_on(record, cluster["vms"], host["name"])
    result = {
        "changed": True,
        "moves": moves,
        "powered_off": [],
        "powered_on": power_on,
        # not "skipped": Ansible reads a true "skipped" in a result as "the task was skipped"
        "not_moved_back": skipped,
        "left_alone": [],
        "drain_first": [],
        "maintenance_mode": host["maintenance_mode"] and not leave_maintenance,
        "record": None,
        "diff": {"before": {"maintenance_mode": host["maintenance_mode"], "record": record},
                 "after": {"maintenance_mode": host["maintenance_mode"] and not leave_maintenance, "record": None}},
    }
    if check_mode:
        return result
    host_ref = snapshot.ref(host["moid"])
    if leave_maintenance:
        # vim.HostSystem.ExitMaintenanceMode requires ``timeout`` too.
        client.run_task("leaving maintenance mode on %s" % host["name"], host_ref.ExitMaintenanceMode_Task,
                        timeout=params["timeout"], wait_seconds=params["timeout"] + 30)
    for vm in power_on:
        # the host's DSVA first, so the guests moving back are protected on arrival (VS-01)
        client.run_task("powering on %s" % vm["vm"], snapshot.ref(vm["moid"]).PowerOnVM_Task,
                        wait_seconds=params["timeout"])
    refused = set()
    for move in moves:
        # Checked only now: a host still in maintenance mode fails every check. A VM vCenter will not move
        # back (say, its disks moved to storage this host cannot reach) keeps running where it is and is
        # reported, rather than stopping the restore half-way.
        errors = client.check_relocate(snapshot.ref(move["moid"]), host_ref,
                                       "checking the migration of %s back to %s" % (move["vm"], host["name"]))
        if errors:
            result["not_moved_back"].append({"vm": move["vm"], "reason": "vCenter refuses the move: %s" % "; ".join(errors)})
            refused.add(move["moid"])
            continue
        migrate(client, snapshot, dict(move, to_moid=host["moid"]), params["timeout"])
    result["moves"] = [move for move in moves if move["moid"] not in refused]
    write_record(client, snapshot, host_ref, EVACUATION_ATTRIBUTE, type(host_ref), None)
    return result
