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
  - Warnings name clusters without any recognised DSVA (see O(dsvas_expected)), DSVAs found on a host they
    were not deployed for (for example re-registered there by HA after a host failure), and DSVAs whose DRS
    override the cluster ignores because per-VM overrides are off.
author:
  - clustersafe maintainers (@clustersafe)
extends_documentation_fragment:
  - clustersafe.deep_security.vsphere
  - clustersafe.deep_security.query
  - clustersafe.deep_security.action_group.vsphere
  - clustersafe.deep_security.attributes.info_module
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
      - Shell-style pattern (C(fnmatch)) that names the Deep Security Virtual Appliance VMs, matched
        case-insensitively. VMs whose vApp product is Trend Micro's Deep Security appliance are DSVAs whatever
        their name; the pattern is the fallback for appliances without that product information.
    type: str
    default: dsva-*
  dsvas_expected:
    description:
      - Whether the clusters returned should have DSVAs. When true, every returned cluster with no recognised
        DSVA gets a warning (a DSVA named otherwise would be treated as an ordinary VM by the other modules).
    type: bool
    default: true
  dsm_vm_patterns:
    description: Shell-style patterns that name the Deep Security Manager VMs.
    type: list
    elements: str
    default: ['dsm*']
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

- name: Only the DSVAs that are not pinned (rule VS-03), instead of every VM of every cluster
  clustersafe.deep_security.vsphere_cluster_info:
    query: "clusters[].dsvas[?!pinned][].{name: name, host: host}"
  delegate_to: localhost
  register: unpinned

- name: The same with the cluster of each DSVA
  clustersafe.deep_security.vsphere_cluster_info:
    query: "clusters[].{cluster: name, unpinned: dsvas[?!pinned].name} | [?length(unpinned) > `0`]"
  delegate_to: localhost
  register: unpinned_by_cluster

- name: DRS level of every cluster, nothing else
  clustersafe.deep_security.vsphere_cluster_info:
    query: "clusters[].{cluster: name, drs: drs.automation_level, window: drs_window.window}"
  delegate_to: localhost

- name: One cluster, connection from the environment (VMWARE_HOST, VMWARE_USER, VMWARE_PASSWORD)
  clustersafe.deep_security.vsphere_cluster_info:
    datacenter: DC1
    clusters: [Prod-Cluster]
    dsva_name_pattern: "Trend Micro Deep Security*"
  delegate_to: localhost
"""

RETURN = r"""
query_result:
  description: The value of O(query) over the other return fields; only with O(query), and then instead of them.
  returned: when O(query) is set
  type: raw
  sample: [dsva-esx-a-01, dsva-esx-b-03]
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
               admission_control_policy: {kind: resources_percent, cpu_percent: 33, memory_percent: 33, failover_level: 1},
               default_restart_priority: medium, isolation_response: none}
    hosts:
      description: >-
        Hosts with C(name), C(moid), C(connection_state), C(maintenance_mode), C(powered_on_vms),
        C(powered_on_vm_count), C(dsvas) (DSVA names on the host), C(memory_mb) and C(evacuation) (the record, null,
        or C(valid=false) with its C(problems) when it fails validation: never acted on).
      type: list
      elements: dict
      returned: always
    vms:
      description: >-
        Every VM of the cluster with C(name), C(moid), C(host), C(power_state), C(guest_hostname) (as VMware
        Tools reports it), C(tools_running) (VMware Tools run in the guest), C(memory_mb), C(eam_agent) (deployed by
        the ESX Agent Manager), C(dsva) and C(name_unique) (no other VM of the vCenter carries the name).
      type: list
      elements: dict
      returned: always
    drs_rules:
      description: >-
        Enabled and disabled DRS VM-VM and VM-host rules with C(name), C(kind) (C(vm_anti_affinity),
        C(vm_affinity), C(vm_host)), C(enabled), C(mandatory), C(vms) (moids), C(vm_names) and, for VM-host
        rules, C(affine_hosts) / C(anti_affine_hosts).
      type: list
      elements: dict
      returned: always
    drs_vm_overrides:
      description: Per-VM DRS overrides (C(vm), C(moid), C(enabled), C(behavior)); C(enabled=false) excludes the VM from DRS.
      type: list
      elements: dict
      returned: always
    ha_vm_overrides:
      description: Per-VM HA overrides (C(vm), C(moid), C(restart_priority)).
      type: list
      elements: dict
      returned: always
    dsvas:
      description: >-
        DSVAs with C(name), C(moid), C(host), C(power_state), C(tools_running), C(guest_hostname),
        C(recognised_by) (C(product) or C(name)),
        C(drs_disabled), C(ha_restart_disabled), C(drs_override_ignored) (the cluster ignores per-VM DRS
        overrides), C(pinned) (DRS override effective and HA restart disabled), C(on_foreign_host) and
        C(home_host) (the host its name says it belongs to, when it runs elsewhere).
      type: list
      elements: dict
      returned: always
    dsm_vms:
      description: Deep Security Manager VMs (C(name), C(moid), C(host), C(power_state)).
      type: list
      elements: dict
      returned: always
    drs_window:
      description: >-
        The DRS window record (C(window), C(original_level), C(owner), C(since), C(held_since)) or null; C(valid=false)
        with its C(problems) when it fails validation (never acted on).
      type: dict
      returned: always
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.query import apply_query, module_query, query_argument_spec
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import select_clusters
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.service import (
    gather,
    missing_dsva_message,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.module import VsphereModule


def record_warnings(clusters):
    """A warning for each record that fails validation: it is never acted on and stays until someone looks."""
    warnings = []
    for cluster in clusters:
        found = [("cluster %s" % cluster["name"], "clustersafe.drs_window", cluster["drs_window"])]
        found += [("host %s" % host["name"], "clustersafe.evacuation", host["evacuation"]) for host in cluster["hosts"]]
        for subject, attribute, record in found:
            if record is not None and not record.get("valid", True):
                warnings.append("RECORD CHECK: %s carries a %s record that fails validation (%s); no module acts on it: "
                                "check the object by hand and clear the attribute"
                                % (subject, attribute, "; ".join(record.get("problems") or [])))
    return warnings


def dsva_warnings(clusters, expected, pattern):
    warnings = []
    for cluster in clusters:
        if expected and not cluster["dsvas"]:
            warnings.append("DSVA CHECK: " + missing_dsva_message(cluster, pattern))
        for dsva in cluster["dsvas"]:
            if dsva["on_foreign_host"]:
                warnings.append("DSVA %s of cluster %s runs on %s%s; a DSVA must stay on its own host (VS-02, VS-03): "
                                "HA can re-register it on a surviving host after a host failure even with restart "
                                "priority disabled. Move it back when its host is up"
                                % (dsva["name"], cluster["name"], dsva["host"],
                                   ", not on %s" % dsva["home_host"] if dsva["home_host"] else " beside another DSVA"))
            if dsva["drs_override_ignored"] and dsva["drs_disabled"]:
                warnings.append("DSVA %s of cluster %s is excluded from DRS by an override the cluster ignores "
                                "(per-VM overrides are off): DRS can still move it; run vsphere_dsva_pin"
                                % (dsva["name"], cluster["name"]))
    return warnings


def main():
    module = VsphereModule(argument_spec=dict(
        datacenter=dict(type="str"),
        clusters=dict(type="list", elements="str", default=[], aliases=["cluster"]),
        dsva_name_pattern=dict(type="str", default="dsva-*"),
        dsm_vm_patterns=dict(type="list", elements="str", default=["dsm*"]),
        dsvas_expected=dict(type="bool", default=True),
        **query_argument_spec()
    ))
    query = module_query(module)

    def body(client):
        snapshot = gather(client, module.params["dsva_name_pattern"], module.params["dsm_vm_patterns"])
        clusters = select_clusters(snapshot.inventory, module.params["clusters"], module.params["datacenter"],
                                   snapshot.datacenters)
        warnings = dsva_warnings(clusters, module.params["dsvas_expected"], module.params["dsva_name_pattern"])
        warnings += record_warnings(clusters) + snapshot.record_policy_warnings()
        return apply_query({"changed": False, "clusters": clusters, "warnings": warnings}, query, module.params["query"])

    module.run_with_client(body)


if __name__ == "__main__":
    main()
