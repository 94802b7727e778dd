#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vsphere_cluster_info
short_description: Inspect vSphere clusters for Deep Security in one pass
version_added: 0.1.0
description:
  - Returns, for every cluster or the named ones, the DRS and HA settings, the hosts, the DRS and HA
    per-VM overrides, each Deep Security Virtual Appliance (DSVA) with its host and whether it is pinned
    (rule VS-03), the Deep Security Manager VMs and their hosts, and any DRS window or host evacuation
    record left by M(clustersafe.deep_security.vsphere_drs_window) or
    M(clustersafe.deep_security.vsphere_host_evacuate).
  - Everything comes from one property-collector pass over the inventory (paged when vCenter hands back
    a token), never object by object, so the number of requests does not grow with the number of VMs.
  - The result is plain data meant to be judged by the collection's rules (VS-01 to VS-05) without another call.
author:
  - clustersafe maintainers (@clustersafe)
extends_documentation_fragment:
  - clustersafe.deep_security.vsphere
options:
  datacenter:
    description: Only clusters of this datacenter.
    type: str
  clusters:
    description: Names of the clusters to return; all clusters when omitted.
    type: list
    elements: str
    default: []
    aliases: [cluster]
  dsva_name_pattern:
    description:
      - Shell-style pattern (C(fnmatch)) that names the Deep Security Virtual Appliance VMs.
    type: str
    default: dsva-*
  dsm_vm_patterns:
    description: Shell-style patterns that name the Deep Security Manager VMs.
    type: list
    elements: str
    default: ['dsm*']
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
"""

EXAMPLES = r"""
- name: Inspect every cluster
  clustersafe.deep_security.vsphere_cluster_info:
    hostname: vcenter.example.com
    username: administrator@vsphere.local
    password: "{{ vcenter_password }}"
  delegate_to: localhost
  register: vsphere

- name: Clusters whose DSVAs are not all pinned (rule VS-03)
  ansible.builtin.debug:
    msg: "{{ vsphere.clusters | selectattr('dsvas') | rejectattr('dsvas', 'all', 'pinned') | map(attribute='name') }}"

- name: One cluster, connection from the environment (VMWARE_HOST, VMWARE_USER, VMWARE_PASSWORD)
  clustersafe.deep_security.vsphere_cluster_info:
    datacenter: DC1
    clusters: [Prod-Cluster]
    dsva_name_pattern: "Trend Micro Deep Security*"
  delegate_to: localhost
"""

RETURN = r"""
clusters:
  description: One entry per cluster, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name: {description: Cluster name., type: str, returned: always, sample: Prod-Cluster}
    moid: {description: Managed object id., type: str, returned: always, sample: domain-c7}
    datacenter: {description: Datacenter holding the cluster., type: str, returned: always}
    drs:
      description: DRS settings.
      type: dict
      returned: always
      sample: {enabled: true, automation_level: fullyAutomated, vmotion_rate: 3, vm_overrides_allowed: true}
    ha:
      description: HA settings.
      type: dict
      returned: always
      sample: {enabled: true, host_monitoring: enabled, admission_control: true,
               default_restart_priority: medium, isolation_response: none}
    hosts:
      description: >-
        Hosts with C(name), C(moid), C(connection_state), C(maintenance_mode), C(powered_on_vms),
        C(powered_on_vm_count), C(dsvas) (DSVA names on the host) and C(evacuation) (record or null).
      type: list
      elements: dict
      returned: always
    drs_vm_overrides:
      description: Per-VM DRS overrides (C(vm), C(enabled), C(behavior)); C(enabled=false) excludes the VM from DRS.
      type: list
      elements: dict
      returned: always
    ha_vm_overrides:
      description: Per-VM HA overrides (C(vm), C(restart_priority)).
      type: list
      elements: dict
      returned: always
    dsvas:
      description: >-
        DSVAs found by O(dsva_name_pattern) with C(name), C(host), C(power_state), C(drs_disabled),
        C(ha_restart_disabled) and C(pinned) (both).
      type: list
      elements: dict
      returned: always
    dsm_vms:
      description: Deep Security Manager VMs (C(name), C(host), C(power_state)).
      type: list
      elements: dict
      returned: always
    drs_window:
      description: The DRS window record (C(window), C(original_level), C(owner), C(since)) or null.
      type: dict
      returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.client import vsphere_argument_spec
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import select_clusters
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.service import gather, run_vsphere_module


def main():
    argument_spec = vsphere_argument_spec()
    argument_spec.update(
        datacenter=dict(type="str"),
        clusters=dict(type="list", elements="str", default=[], aliases=["cluster"]),
        dsva_name_pattern=dict(type="str", default="dsva-*"),
        dsm_vm_patterns=dict(type="list", elements="str", default=["dsm*"]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)

    def body(client):
        snapshot = gather(client, module.params["dsva_name_pattern"], module.params["dsm_vm_patterns"])
        clusters = select_clusters(snapshot.inventory, module.params["clusters"], module.params["datacenter"],
                                   snapshot.datacenters)
        return {"changed": False, "clusters": clusters}

    run_vsphere_module(module, body)


if __name__ == "__main__":
    main()
