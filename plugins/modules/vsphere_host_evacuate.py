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
  - Failover-cluster nodes named in O(failover_cluster_vms) are moved only when their node is drained (named in
    O(drained_vms)); otherwise nothing is changed and the error names them. VMware's "Setup for Windows Server
    Failover Clustering" - a WSFC VM can stall for a few seconds during vMotion, and a stall longer than the
    heartbeat time-out (C(SameSubnetThreshold)) fails its roles over. Members of an enabled VM-VM anti-affinity
    rule not named there are moved with a warning and listed in RV(drain_first).
  - With O(maintenance_mode=true) and HA admission control on, the host is not evacuated when the other hosts
    could not keep the policy's failover capacity (DRS itself does not evacuate a host then; vSphere Resource
    Management). The check counts the configured memory of powered-on VMs, at least what HA reserves.
  - If maintenance mode fails after the VMs that stay (the host's DSVA) were shut down, they are powered on
    again on the host before anything else and the run fails.
  - A host left out of maintenance mode in a fully automated DRS cluster gets a warning, since DRS can move
    VMs back onto it before the reboot.
  - O(state=restored) first checks the record - every field validated, and every part it would act on tied
    to this vCenter account in vCenter's events (it entered the host's maintenance mode, shut down the VMs it
    would power on, migrated off the host the VMs it would move back); otherwise nothing changes and the record
    is left as it is. Then it holds DRS at manual when nobody does, leaves maintenance mode, powers the DSVA on
    I(on this host), waits for VMware Tools in it, and moves the VMs back, each checked as the evacuation
    checked it (DRS rules, a running DSVA on the host, C(CheckRelocate_Task)), then puts DRS back.
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
      - VMs (names or managed-object ids) that are failover-cluster nodes. One that would move while it is not in
        O(drained_vms) stops the run before any change.
    type: list
    elements: str
    default: []
  drained_vms:
    description:
      - VMs of O(failover_cluster_vms) whose failover-cluster node is drained (paused with its roles moved off, for
        example by M(clustersafe.deep_security.mscs_node) O(clustersafe.deep_security.mscs_node#module:state=drained));
        only those may move. The caller knows it, for example from M(clustersafe.deep_security.mscs_cluster_info).
    type: list
    elements: str
    default: []
  move_back:
    description:
      - With O(state=restored), V(false) stops once maintenance mode is left, the VMs the evacuation shut down are on
        again and VMware Tools run in the host's DSVA, leaving the record with the moves still to do; a second run with
        V(true) moves the VMs back. Between the two, check that the Deep Security Manager shows the appliance active
        (M(clustersafe.deep_security.dsm_computer_info)). Needs DRS held at manual on the cluster.
    type: bool
    default: true
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
tools_waited:
  description: With O(state=restored), the DSVAs on the host in which the run waited for VMware Tools to run.
  returned: always
  type: list
  elements: str
record:
  description: >-
    The evacuation record on the host after the run (C(window), C(cluster), C(owner), C(since), C(maintenance), C(powered_off),
    C(moved) with C(vm), C(moid), C(to)), or null once restored.
  returned: always
  type: dict
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.host_evacuation import (
    check_params,
    host_evacuation,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.module import VsphereModule


def main():
    module = VsphereModule(argument_spec=dict(
        cluster=dict(type="str", required=True),
        datacenter=dict(type="str"),
        host=dict(type="str", required=True),
        state=dict(type="str", choices=["evacuated", "restored"], default="evacuated"),
        keep_vms=dict(type="list", elements="str"),
        dsva_name_pattern=dict(type="str", default="dsva-*"),
        dsvas_expected=dict(type="bool", default=True),
        failover_cluster_vms=dict(type="list", elements="str", default=[]),
        drained_vms=dict(type="list", elements="str", default=[]),
        move_back=dict(type="bool", default=True),
        maintenance_mode=dict(type="bool", default=False),
        power_off_kept_vms=dict(type="bool", default=False),
        window=dict(type="str"),
        owner=dict(type="str"),
        timeout=dict(type="int", default=600),
    ))
    module.run_with_client(lambda client: host_evacuation(client, module.params, check_mode=module.check_mode),
                           validate=lambda: check_params(module.params))


if __name__ == "__main__":
    main()
