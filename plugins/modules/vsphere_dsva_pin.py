#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vsphere_dsva_pin
short_description: Keep Deep Security Virtual Appliances on their hosts (no DRS moves, no HA restarts elsewhere)
version_added: 0.1.0
description:
  - Rule VS-03 says a DSVA must never move to another host. With O(state=present) the module gives each DSVA
    of the cluster a DRS override that excludes it from DRS and an HA override with restart priority
    C(disabled).
  - Only the overrides that differ are added or edited, in one reconfigure task; other VMs' overrides and the
    cluster's settings are left alone. A second run reports no change.
  - With O(state=absent) the DSVAs' DRS and HA overrides are removed, so the cluster defaults apply again.
  - Per-VM DRS overrides count only while the cluster's DRS honours them (C(enableVmBehaviorOverrides), "VM
    overrides" in the vSphere client); when it does not, O(state=present) turns that setting on in the same
    reconfigure task (with a warning, since other VMs' own overrides then apply too), or fails when
    O(enable_vm_overrides=false).
  - DSVAs are recognised by their vApp product (Trend Micro Deep Security) or else by O(dsva_name_pattern),
    case-insensitively; when the cluster has none, the module fails instead of pinning nothing.
  - HA restart priority C(disabled) keeps HA from restarting a DSVA elsewhere, but after a host failure a
    DSVA can still be re-registered on a surviving host; M(clustersafe.deep_security.vsphere_cluster_info)
    reports such a DSVA with C(on_foreign_host=true).
author:
  - clustersafe maintainers (@clustersafe)
extends_documentation_fragment:
  - clustersafe.deep_security.vsphere
  - clustersafe.deep_security.action_group.vsphere
options:
  cluster:
    description: Name of the cluster.
    type: str
    required: true
  datacenter:
    description: Datacenter of the cluster.
    type: str
  dsva_name_pattern:
    description:
      - Shell-style pattern naming the DSVA VMs of the cluster, matched case-insensitively, for appliances
        whose vApp product does not identify them. Ignored when O(vms) is given.
    type: str
    default: dsva-*
  vms:
    description:
      - The DSVA VMs to pin, instead of the recognised ones; each a VM name (when unique in the cluster) or a
        managed-object id (C(vm-42)).
    type: list
    elements: str
  enable_vm_overrides:
    description:
      - Whether the module may turn on the cluster's per-VM DRS overrides (C(enableVmBehaviorOverrides)) when they
        are off; without them a DSVA's DRS override has no effect.
    type: bool
    default: true
  state:
    description: V(present) pins, V(absent) removes the overrides.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Computes and reports the change without making it.
  diff_mode:
    support: full
    description: Shows the state before and after.
"""

EXAMPLES = r"""
- name: Pin every DSVA of the cluster (rule VS-03)
  clustersafe.deep_security.vsphere_dsva_pin:
    cluster: Prod-Cluster
  delegate_to: localhost

- name: Pin appliances named by the vendor's default naming
  clustersafe.deep_security.vsphere_dsva_pin:
    cluster: Prod-Cluster
    dsva_name_pattern: "Trend Micro Deep Security (*)"
  delegate_to: localhost
"""

RETURN = r"""
changes:
  description: Overrides added, edited or removed (in check mode, those that would be).
  returned: always
  type: list
  elements: dict
  sample: [{kind: drs, operation: add, vm: dsva-esx-01.lab.local, moid: vm-51},
           {kind: ha, operation: edit, vm: dsva-esx-01.lab.local, moid: vm-51}]
enabled_vm_overrides:
  description: Whether the run turned on (or in check mode would turn on) the cluster's per-VM DRS overrides.
  returned: always
  type: bool
dsvas:
  description: The DSVA VMs the run looked at.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import client as vsphere_client
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.dsva_pin import (
    HA_DISABLED,
    overrides_flag_change,
    plan_pins,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import (
    resolve_vms,
    select_clusters,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.service import (
    gather,
    require_dsvas,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.module import VsphereModule


def override_spec(change, vm_ref):
    vim = vsphere_client.vim
    if change["kind"] == "drs":
        if change["operation"] == "remove":
            return vim.cluster.DrsVmConfigSpec(operation="remove", removeKey=vm_ref)
        return vim.cluster.DrsVmConfigSpec(operation=change["operation"],
                                           info=vim.cluster.DrsVmConfigInfo(key=vm_ref, enabled=False))
    if change["operation"] == "remove":
        return vim.cluster.DasVmConfigSpec(operation="remove", removeKey=vm_ref)
    settings = vim.cluster.DasVmSettings(restartPriority=HA_DISABLED)
    return vim.cluster.DasVmConfigSpec(operation=change["operation"],
                                       info=vim.cluster.DasVmConfigInfo(key=vm_ref, dasSettings=settings))


def override_view(cluster, dsvas):
    drs = dict((item["moid"], item) for item in cluster["drs_vm_overrides"])
    ha = dict((item["moid"], item) for item in cluster["ha_vm_overrides"])
    return dict((vm["moid"], {"vm": vm["name"],
                              "drs_enabled": drs[vm["moid"]]["enabled"] if vm["moid"] in drs else None,
                              "ha_restart_priority": ha[vm["moid"]]["restart_priority"] if vm["moid"] in ha else None})
                for vm in dsvas)


def main():
    module = VsphereModule(argument_spec=dict(
        cluster=dict(type="str", required=True),
        datacenter=dict(type="str"),
        dsva_name_pattern=dict(type="str", default="dsva-*"),
        vms=dict(type="list", elements="str"),
        enable_vm_overrides=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    ))
    params = module.params

    def body(client):
        snapshot = gather(client, params["dsva_name_pattern"])
        cluster = select_clusters(snapshot.inventory, [params["cluster"]], params["datacenter"], snapshot.datacenters)[0]
        if params["vms"]:
            moids = resolve_vms(cluster["vms"], params["vms"], "vms")
            by_moid = dict((vm["moid"], vm) for vm in cluster["vms"])
            dsvas = [{"moid": moid, "name": by_moid[moid]["name"]} for moid in moids]
        else:
            require_dsvas(cluster, True, params["dsva_name_pattern"])
            dsvas = [{"moid": item["moid"], "name": item["name"]} for item in cluster["dsvas"]]
        enable_flag = overrides_flag_change(cluster["drs"], params["state"], params["enable_vm_overrides"])
        changes = plan_pins(dsvas, cluster["drs_vm_overrides"], cluster["ha_vm_overrides"], params["state"])
        before = override_view(cluster, dsvas)
        after = dict((moid, dict(view)) for moid, view in before.items())
        for change in changes:
            key = "drs_enabled" if change["kind"] == "drs" else "ha_restart_priority"
            value = None if change["operation"] == "remove" else (False if change["kind"] == "drs" else HA_DISABLED)
            after[change["moid"]][key] = value
        warnings = []
        if enable_flag:
            warnings.append("turned on per-VM DRS overrides (enableVmBehaviorOverrides) of cluster %s, without which "
                            "the DSVA overrides are ignored; other VMs' own DRS overrides now apply too"
                            % cluster["name"])
        result = {"changed": bool(changes) or enable_flag, "changes": changes, "warnings": warnings,
                  "dsvas": sorted(vm["name"] for vm in dsvas), "enabled_vm_overrides": enable_flag,
                  "diff": {"before": {"vms": before, "vm_overrides_allowed": cluster["drs"]["vm_overrides_allowed"]},
                           "after": {"vms": after, "vm_overrides_allowed": True if enable_flag
                                     else cluster["drs"]["vm_overrides_allowed"]}}}
        if result["changed"] and not module.check_mode:
            vim = vsphere_client.vim
            spec = vim.cluster.ConfigSpecEx(
                drsVmConfigSpec=[override_spec(c, snapshot.ref(c["moid"])) for c in changes if c["kind"] == "drs"],
                dasVmConfigSpec=[override_spec(c, snapshot.ref(c["moid"])) for c in changes if c["kind"] == "ha"])
            if enable_flag:
                spec.drsConfig = vim.cluster.DrsConfigInfo(enableVmBehaviorOverrides=True)
            cluster_ref = snapshot.ref(cluster["moid"])
            client.run_task("setting DSVA overrides on %s" % cluster["name"],
                            cluster_ref.ReconfigureComputeResource_Task, spec=spec, modify=True)
        return result

    module.run_with_client(body)


if __name__ == "__main__":
    main()
