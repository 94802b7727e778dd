# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pinning DSVAs against vCenter: read the cluster, let ``dsva_pin.plan_pins`` decide, write the DRS and
HA overrides in one reconfigure (module ``vsphere_dsva_pin``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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


def dsva_pin(client, params, check_mode=False):
    """Pin (``state=present``) or unpin the DSVAs of one cluster; the result document of the module."""
    snapshot = gather(client, params["dsva_name_pattern"])
    cluster = select_clusters(snapshot.inventory, [params["cluster"]], params.get("datacenter"), snapshot.datacenters)[0]
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
    if result["changed"] and not check_mode:
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
