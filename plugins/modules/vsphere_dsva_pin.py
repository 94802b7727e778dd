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
author:
  - clustersafe maintainers (@clustersafe)
extends_documentation_fragment:
  - clustersafe.deep_security.vsphere
options:
  cluster:
    description: Name of the cluster.
    type: str
    required: true
  datacenter:
    description: Datacenter of the cluster.
    type: str
  dsva_name_pattern:
    description: Shell-style pattern naming the DSVA VMs of the cluster. Ignored when O(vms) is given.
    type: str
    default: dsva-*
  vms:
    description: Exact names of the DSVA VMs to pin, instead of O(dsva_name_pattern).
    type: list
    elements: str
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
  sample: [{kind: drs, operation: add, vm: dsva-esx-01.lab.local}, {kind: ha, operation: edit, vm: dsva-esx-01.lab.local}]
dsvas:
  description: The DSVA VMs the run looked at.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError, not_found
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import client as vsphere_client
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.client import vsphere_argument_spec
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.dsva_pin import HA_DISABLED, plan_pins
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import select_clusters
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.service import gather, run_vsphere_module


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


def override_view(cluster, names):
    drs = dict((item["vm"], item) for item in cluster["drs_vm_overrides"])
    ha = dict((item["vm"], item) for item in cluster["ha_vm_overrides"])
    return dict((name, {"drs_enabled": drs[name]["enabled"] if name in drs else None,
                        "ha_restart_priority": ha[name]["restart_priority"] if name in ha else None})
                for name in names)


def main():
    argument_spec = vsphere_argument_spec()
    argument_spec.update(
        cluster=dict(type="str", required=True),
        datacenter=dict(type="str"),
        dsva_name_pattern=dict(type="str", default="dsva-*"),
        vms=dict(type="list", elements="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params

    def body(client):
        snapshot = gather(client, params["dsva_name_pattern"])
        cluster = select_clusters(snapshot.inventory, [params["cluster"]], params["datacenter"], snapshot.datacenters)[0]
        cluster_hosts = set(host["name"] for host in cluster["hosts"])
        in_cluster = set(name for name, facts in snapshot.vm_facts().items() if facts["host"] in cluster_hosts)
        if params["vms"]:
            for name in params["vms"]:
                if name not in in_cluster:
                    raise not_found("VM", name, in_cluster, parameter="vms")
            names = list(params["vms"])
        else:
            names = [item["name"] for item in cluster["dsvas"]]
            if not names:
                raise ParameterError("no VM of cluster %s matches dsva_name_pattern %r; set dsva_name_pattern "
                                     "or vms to the names of the appliances" % (cluster["name"], params["dsva_name_pattern"]))
        changes = plan_pins(names, cluster["drs_vm_overrides"], cluster["ha_vm_overrides"], params["state"])
        before = override_view(cluster, names)
        after = dict((name, dict(view)) for name, view in before.items())
        for change in changes:
            key = "drs_enabled" if change["kind"] == "drs" else "ha_restart_priority"
            value = None if change["operation"] == "remove" else (False if change["kind"] == "drs" else HA_DISABLED)
            after[change["vm"]][key] = value
        result = {"changed": bool(changes), "changes": changes, "dsvas": sorted(names),
                  "diff": {"before": before, "after": after}}
        if changes and not module.check_mode:
            vm_refs = snapshot.vm_refs_by_name()
            vim = vsphere_client.vim
            spec = vim.cluster.ConfigSpecEx(
                drsVmConfigSpec=[override_spec(c, vm_refs[c["vm"]]) for c in changes if c["kind"] == "drs"],
                dasVmConfigSpec=[override_spec(c, vm_refs[c["vm"]]) for c in changes if c["kind"] == "ha"])
            cluster_ref = snapshot.ref(cluster["moid"])
            client.run_task("setting DSVA overrides on %s" % cluster["name"],
                            cluster_ref.ReconfigureComputeResource_Task, spec=spec, modify=True)
        return result

    run_vsphere_module(module, body)


if __name__ == "__main__":
    main()
