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

from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.dsva_pin_service import dsva_pin
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.module import VsphereModule


def main():
    module = VsphereModule(argument_spec=dict(
        cluster=dict(type="str", required=True),
        datacenter=dict(type="str"),
        dsva_name_pattern=dict(type="str", default="dsva-*"),
        vms=dict(type="list", elements="str"),
        enable_vm_overrides=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    ))
    module.run_with_client(lambda client: dsva_pin(client, module.params, module.check_mode))


if __name__ == "__main__":
    main()
