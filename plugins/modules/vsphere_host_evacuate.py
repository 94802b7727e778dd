#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vsphere_host_evacuate
short_description: Move the VMs off an ESXi host before a Filter Driver install, and back afterwards
version_added: 0.1.0
description:
  - Installing the Deep Security Filter Driver through "Prepare ESX" reboots the host, so the Deep Security
    Manager VM and every other running VM must be moved off first (rule VS-04).
  - With O(state=evacuated) every powered-on VM is moved off the host except those in O(keep_vms) (by default
    the host's own DSVA), onto connected hosts of the same cluster that are not in maintenance mode and,
    when the cluster uses DSVAs, have a running DSVA (rule VS-01). VMs are spread by memory load.
    Optionally the host then enters maintenance mode.
  - What moved is recorded in the custom attribute C(clustersafe.evacuation) on the host I(before) the first
    move, so O(state=restored) can move the VMs back and leave maintenance mode from any controller, even
    after a crash.
  - Everything is checked before the first move, including vCenter's own migration check
    (C(CheckRelocate_Task), which covers storage and networks reachable from the target and host state) for each planned move
    and the cluster's enabled VM-VM anti-affinity and VM-host rules ("must" and "should" alike); when a VM
    has no acceptable target nothing is changed and the error names each VM and why.
  - DSVAs (rule VS-03) and VMs deployed by the vSphere ESX Agent Manager are never moved; they are listed in
    RV(left_alone). DSVAs are recognised by their vApp product (Trend Micro Deep Security) or, failing that,
    by O(dsva_name_pattern) (case-insensitive).
  - VMs are identified by managed-object id; names are accepted where they are unique in the cluster.
  - Failover-cluster nodes (named in O(failover_cluster_vms), or members of an enabled VM-VM anti-affinity rule)
    are moved, but named in RV(drain_first) and in a warning that says to drain their roles first.
  - A host left out of maintenance mode in a fully automated DRS cluster gets a warning, since DRS can move
    VMs back onto it before the reboot.
author:
  - clustersafe maintainers (@clustersafe)
extends_documentation_fragment:
  - clustersafe.deep_security.vsphere
  - clustersafe.deep_security.action_group.vsphere
options:
  cluster:
    description: Name of the cluster of the host.
    type: str
    required: true
  datacenter:
    description: Datacenter of the cluster.
    type: str
  host:
    description: Name of the ESXi host, as vCenter shows it.
    type: str
    required: true
  state:
    description:
      - V(evacuated) moves the VMs off (and enters maintenance mode if O(maintenance_mode=true)).
      - V(restored) leaves maintenance mode if the evacuation entered it, moves the recorded VMs back and clears the record.
    type: str
    choices: [evacuated, restored]
    default: evacuated
  keep_vms:
    description:
      - VMs that stay on the host, by name (when unique in the cluster) or managed-object id (C(vm-42)).
      - Defaults to the DSVAs on the host. DSVAs and ESX Agent Manager agent VMs stay in any case.
    type: list
    elements: str
  dsva_name_pattern:
    description:
      - Shell-style pattern naming the DSVA VMs, matched case-insensitively; used for VMs whose vApp product
        does not identify them as the Deep Security Virtual Appliance.
    type: str
    default: dsva-*
  dsvas_expected:
    description:
      - Whether the cluster must have DSVAs (agentless protection). When true and no VM of the cluster is
        recognised as a DSVA, the module fails before any change instead of treating the appliances as
        ordinary VMs. Set V(false) for clusters protected by agents only.
    type: bool
    default: true
  failover_cluster_vms:
    description:
      - VMs (names or managed-object ids) that are failover-cluster nodes; moving them is reported in
        RV(drain_first) with a warning to drain them first. Members of enabled VM-VM anti-affinity rules count too.
    type: list
    elements: str
    default: []
  maintenance_mode:
    description:
      - Enter maintenance mode once the host is empty. VMs that stay on the host must be powered off first (see O(power_off_kept_vms)).
    type: bool
    default: false
  power_off_kept_vms:
    description:
      - With O(maintenance_mode=true), shut down the VMs that stay on the host (its DSVA, O(keep_vms)) once the other
        VMs have moved, since vCenter enters maintenance mode only when no VM is powered on; they are written in the
        record (C(powered_off)) first, and O(state=restored) powers them on again after leaving maintenance mode,
        before the VMs move back.
      - A guest shutdown through VMware Tools is asked first; a VM without running Tools is powered off. ESX Agent
        Manager VMs are never touched (EAM powers them).
    type: bool
    default: false
  window:
    description: Id of the maintenance window, kept in the record for whoever looks at the host.
    type: str
  owner:
    description:
      - Who evacuated the host, kept in the record. Defaults to the local user, controller host and vCenter user.
    type: str
  timeout:
    description:
      - Seconds to wait for each migration and for entering or leaving maintenance mode.
      - Also passed to vCenter as the C(timeout) of C(EnterMaintenanceMode_Task) and C(ExitMaintenanceMode_Task),
        so vCenter ends a maintenance-mode change that does not complete instead of leaving it pending.
    type: int
    default: 600
attributes:
  check_mode:
    support: full
    description: Computes and reports the change without making it.
  diff_mode:
    support: full
    description: Shows the state before and after.
"""

EXAMPLES = r"""
- name: Empty esx-01 before "Prepare ESX" installs the Filter Driver (rule VS-04)
  clustersafe.deep_security.vsphere_host_evacuate:
    cluster: Prod-Cluster
    host: esx-01.lab.local
    window: CHG0012345
  delegate_to: localhost
  register: evacuation

- name: Put the VMs back afterwards
  clustersafe.deep_security.vsphere_host_evacuate:
    cluster: Prod-Cluster
    host: esx-01.lab.local
    state: restored
  delegate_to: localhost
"""

RETURN = r"""
moves:
  description: Migrations done (or, in check mode, planned), each with C(vm), C(moid), C(from) and C(to).
  returned: always
  type: list
  elements: dict
  sample: [{vm: dsm-01, moid: vm-44, from: esx-01.lab.local, to: esx-02.lab.local}]
powered_off:
  description: VMs that stayed on the host and were (or, in check mode, would be) shut down for maintenance mode (C(vm), C(moid)).
  returned: always
  type: list
  elements: dict
powered_on:
  description: VMs the restore powered on again (or, in check mode, would) because the evacuation had shut them down (C(vm), C(moid)).
  returned: always
  type: list
  elements: dict
not_moved_back:
  description: >-
    Recorded VMs not moved back on restore, with the reason (powered off, no longer in this cluster, name not
    unique in the cluster and no id recorded, vCenter refuses the move).
  returned: always
  type: list
  elements: dict
left_alone:
  description: Powered-on VMs on the host that are never moved (DSVAs, ESX Agent Manager agent VMs), with the reason.
  returned: always
  type: list
  elements: dict
drain_first:
  description: Names of moved VMs that are failover-cluster nodes and should be drained before they move.
  returned: always
  type: list
  elements: str
maintenance_mode:
  description: Whether the host is (or, in check mode, would be) in maintenance mode after the run.
  returned: always
  type: bool
record:
  description: >-
    The evacuation record on the host after the run (C(window), C(cluster), C(owner), C(since), C(maintenance), C(powered_off),
    C(moved) with C(vm), C(moid), C(to)), or null once restored.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import client as vsphere_client
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.client import vsphere_argument_spec
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
    run_vsphere_module,
    write_record,
)


def migrate(client, snapshot, move, wait_seconds):
    spec = vsphere_client.vim.vm.RelocateSpec(host=snapshot.ref(move["to_moid"]))
    client.run_task("migrating %s from %s to %s" % (move["vm"], move["from"], move["to"]),
                    snapshot.ref(move["moid"]).RelocateVM_Task, spec=spec, wait_seconds=wait_seconds)


def host_moids(cluster):
    return dict((host["name"], host["moid"]) for host in cluster["hosts"])


def evacuate(module, client, snapshot, cluster, host):
    params = module.params
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
    if not changed or module.check_mode:
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


def restore(module, client, snapshot, cluster, host):
    params = module.params
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
    if module.check_mode:
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


def main():
    argument_spec = vsphere_argument_spec()
    argument_spec.update(
        cluster=dict(type="str", required=True),
        datacenter=dict(type="str"),
        host=dict(type="str", required=True),
        state=dict(type="str", choices=["evacuated", "restored"], default="evacuated"),
        keep_vms=dict(type="list", elements="str"),
        dsva_name_pattern=dict(type="str", default="dsva-*"),
        dsvas_expected=dict(type="bool", default=True),
        failover_cluster_vms=dict(type="list", elements="str", default=[]),
        maintenance_mode=dict(type="bool", default=False),
        power_off_kept_vms=dict(type="bool", default=False),
        window=dict(type="str"),
        owner=dict(type="str"),
        timeout=dict(type="int", default=600),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if module.params["timeout"] <= 0:
        module.fail_json(msg="parameter timeout must be a positive number of seconds, not %s" % module.params["timeout"])

    def body(client):
        snapshot = gather(client, module.params["dsva_name_pattern"])
        cluster = select_clusters(snapshot.inventory, [module.params["cluster"]], module.params["datacenter"],
                                  snapshot.datacenters)[0]
        host = find_host(cluster, module.params["host"])
        if module.params["state"] == "evacuated":
            require_dsvas(cluster, module.params["dsvas_expected"], module.params["dsva_name_pattern"])
            return evacuate(module, client, snapshot, cluster, host)
        return restore(module, client, snapshot, cluster, host)

    run_vsphere_module(module, body)


if __name__ == "__main__":
    main()
