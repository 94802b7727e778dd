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
  - Everything is checked before the first move; when no host can take the VMs nothing is changed.
author:
  - clustersafe maintainers (@clustersafe)
extends_documentation_fragment:
  - clustersafe.deep_security.vsphere
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
    description: VMs that stay on the host. Defaults to the DSVAs on the host (found by O(dsva_name_pattern)).
    type: list
    elements: str
  dsva_name_pattern:
    description: Shell-style pattern naming the DSVA VMs.
    type: str
    default: dsva-*
  maintenance_mode:
    description:
      - Enter maintenance mode once the host is empty. VMs that stay on the host must be powered off first.
    type: bool
    default: false
  window:
    description: Id of the maintenance window, kept in the record for whoever looks at the host.
    type: str
  timeout:
    description: Seconds to wait for each migration and for entering or leaving maintenance mode.
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
  description: Migrations done (or, in check mode, planned), each with C(vm), C(from) and C(to).
  returned: always
  type: list
  elements: dict
  sample: [{vm: dsm-01, from: esx-01.lab.local, to: esx-02.lab.local}]
skipped:
  description: Recorded VMs not moved back on restore, with the reason (powered off, no longer exists).
  returned: always
  type: list
  elements: dict
maintenance_mode:
  description: Whether the host is (or, in check mode, would be) in maintenance mode after the run.
  returned: always
  type: bool
record:
  description: The evacuation record on the host after the run, or null once restored.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError, not_found
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import client as vsphere_client
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.client import vsphere_argument_spec
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.evacuation import (
    plan_evacuation,
    plan_return,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import (
    EVACUATION_ATTRIBUTE,
    find_host,
    select_clusters,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.service import (
    default_owner,
    gather,
    now_iso,
    run_vsphere_module,
    write_record,
)


def trusted_record(host):
    """The host's evacuation record (None when there is none); an unreadable one stops the run."""
    record = host["evacuation"]
    if record is not None and not record.get("valid", True):
        raise ParameterError("host %s carries an unreadable evacuation record (%r); clear custom attribute "
                             "clustersafe.evacuation by hand" % (host["name"], record.get("raw")))
    return record


def migrate(client, vm_ref, host_ref, move, timeout):
    spec = vsphere_client.vim.vm.RelocateSpec(host=host_ref)
    client.run_task("migrating %s from %s to %s" % (move["vm"], move["from"], move["to"]),
                    vm_ref.RelocateVM_Task, spec=spec, timeout=timeout)


def evacuate(module, client, snapshot, cluster, host):
    params = module.params
    facts = snapshot.vm_facts()
    record = trusted_record(host)
    keep = params["keep_vms"] if params["keep_vms"] is not None else host["dsvas"]
    for name in keep:
        if name not in facts:
            raise not_found("VM", name, facts, parameter="keep_vms")
    plan = plan_evacuation(cluster, host["name"], set(keep),
                           dict((name, item["memory_mb"]) for name, item in facts.items()),
                           maintenance_mode=params["maintenance_mode"] and not host["maintenance_mode"])
    enter_maintenance = params["maintenance_mode"] and not host["maintenance_mode"]
    changed = bool(plan["moves"]) or enter_maintenance
    new_record = None
    if changed:
        fresh = {"owner": default_owner(params["username"]), "since": now_iso(), "moved": [], "maintenance": False}
        base = dict(record) if record else fresh
        base.pop("valid", None)
        base["window"] = params["window"] or base.get("window")
        base["moved"] = base.get("moved", []) + [{"vm": m["vm"], "to": m["to"]} for m in plan["moves"]]
        base["maintenance"] = bool(base.get("maintenance") or enter_maintenance)
        new_record = base
    result = {
        "changed": changed,
        "moves": plan["moves"],
        "skipped": [],
        "maintenance_mode": host["maintenance_mode"] or enter_maintenance,
        "record": new_record or record,
        "diff": {"before": {"powered_on_vms": host["powered_on_vms"], "maintenance_mode": host["maintenance_mode"]},
                 "after": {"powered_on_vms": sorted(plan["kept_powered_on"]),
                           "maintenance_mode": host["maintenance_mode"] or enter_maintenance}},
    }
    if not changed or module.check_mode:
        return result
    host_ref = snapshot.ref(host["moid"])
    write_record(client, snapshot, host_ref, EVACUATION_ATTRIBUTE, type(host_ref), new_record)
    vm_refs = snapshot.vm_refs_by_name()
    host_refs = snapshot.host_refs_by_name()
    for move in plan["moves"]:
        migrate(client, vm_refs[move["vm"]], host_refs[move["to"]], move, params["timeout"])
    if enter_maintenance:
        client.run_task("entering maintenance mode on %s" % host["name"], host_ref.EnterMaintenanceMode_Task,
                        timeout=params["timeout"] + 30, evacuatePoweredOffVms=False)
    return result


def restore(module, client, snapshot, cluster, host):
    params = module.params
    record = trusted_record(host)
    if record is None:
        return {"changed": False, "moves": [], "skipped": [], "maintenance_mode": host["maintenance_mode"],
                "record": None, "msg": "no evacuation record on %s; nothing to restore" % host["name"]}
    facts = snapshot.vm_facts()
    locations = dict((name, (item["host"], item["power_state"])) for name, item in facts.items())
    moves, skipped = plan_return(record, locations, host["name"])
    leave_maintenance = bool(record.get("maintenance")) and host["maintenance_mode"]
    result = {
        "changed": True,
        "moves": moves,
        "skipped": skipped,
        "maintenance_mode": host["maintenance_mode"] and not leave_maintenance,
        "record": None,
        "diff": {"before": {"maintenance_mode": host["maintenance_mode"], "record": record},
                 "after": {"maintenance_mode": host["maintenance_mode"] and not leave_maintenance, "record": None}},
    }
    if module.check_mode:
        return result
    host_ref = snapshot.ref(host["moid"])
    if leave_maintenance:
        client.run_task("leaving maintenance mode on %s" % host["name"], host_ref.ExitMaintenanceMode_Task,
                        timeout=params["timeout"])
    vm_refs = snapshot.vm_refs_by_name()
    for move in moves:
        migrate(client, vm_refs[move["vm"]], host_ref, move, params["timeout"])
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
        maintenance_mode=dict(type="bool", default=False),
        window=dict(type="str"),
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
            return evacuate(module, client, snapshot, cluster, host)
        return restore(module, client, snapshot, cluster, host)

    run_vsphere_module(module, body)


if __name__ == "__main__":
    main()
