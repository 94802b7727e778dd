#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vsphere_drs_window
short_description: Hold a cluster's DRS at manual for a maintenance window and restore it afterwards
version_added: 0.1.0
description:
  - With O(state=manual), saves the cluster's DRS automation level (with the window id, the owner and the
    time) in the custom attribute C(clustersafe.drs_window) on the cluster I(before) it sets DRS to manual.
    Use it around Horizon Recompose, Refresh and Rebalance (rule VS-05) and around agent installs.
  - With O(state=restored), puts the saved level back and clears the record. Because the record lives on
    the cluster in vCenter, a run from a fresh process on any controller restores after a crash.
  - Only the automation level is written (C(modify=true) with nothing else in the spec); the vMotion
    rate and every other DRS and HA setting stay as they were.
  - A record from another window means the cluster is held; the module fails naming who holds it and since
    when, unless O(force=true), which takes the window over and keeps the I(original) saved level.
  - If the vCenter task that sets DRS fails right after a new record was written, the record is removed again
    and the task's own error is reported. A wait that runs out keeps the record (the task may still finish).
  - The record is read back after it is written and before it is cleared; when another run changed it in
    between (another window or owner), this run stops without touching DRS or that record.
  - VMs whose own DRS override is C(fullyAutomated) keep being moved by DRS while the cluster is at manual;
    they are returned in RV(fully_automated_vms) and named in a warning (rule VS-05).
  - The record is untrusted input (docs/security.md). Every field is checked before use (window id, one of the
    three DRS levels, printable text of bounded length, ISO 8601 times); a record that fails is reported and left
    alone. The attribute is created with a privilege policy whose update privilege is C(Host.Inventory.EditCluster)
    (vCenter then asks it of whoever writes the record with C(setCustomValue)); an existing definition without it
    gets a warning naming the fix.
  - A restore puts a level back only while DRS is still at manual, the level the window left; a level someone set
    during the window is left as it is and the run fails, keeping the record (invariant 8). The level put back is
    O(original_level) when given (the level this window's own controller saved, which wins over the record);
    without it, the record's level only once vCenter's events show this vCenter account reconfiguring the cluster
    since the window began (C(ClusterReconfiguredEvent), C(Event.userName)).
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
    description: Datacenter of the cluster, when cluster names repeat across datacenters.
    type: str
  window:
    description: Id of the maintenance window, for example a change number. Restoring needs the same id.
    type: str
    required: true
  state:
    description:
      - V(manual) saves the current level and sets DRS to manual.
      - V(restored) puts the saved level back and removes the record.
    type: str
    choices: [manual, restored]
    default: manual
  owner:
    description: Who holds the window, shown to anyone the cluster is held from. Defaults to the local user, controller host and vCenter user.
    type: str
  force:
    description:
      - Take over or restore a window recorded under another id. The original level in the record is kept.
    type: bool
    default: false
  original_level:
    description:
      - With O(state=restored), the DRS level this window saved when it set DRS to manual (C(record.original_level) in
        the result of its O(state=manual) run). It is put back whatever the record says, with a warning when they
        differ; without it the record's level is put back only when vCenter's events tie the window to this vCenter
        account.
    type: str
    choices: [manual, partiallyAutomated, fullyAutomated]
  lease_seconds:
    description:
      - With O(state=manual), the window's lease on the cluster (safety invariant 9) - the record carries the run that
        holds it (O(run_id)) and an expiry this many seconds ahead by vCenter's clock. Holding again renews it (a write
        of the record, so C(changed)); until it expires, C(clustersafe.deep_security.recover) leaves the record alone
        (the window still runs).
      - V(0) (the default) writes no lease; a record without one is judged by the leases recover finds on Windows.
      - At least V(60) otherwise.
    type: int
    default: 0
  run_id:
    description:
      - The run holding the window (8 to 32 lowercase hexadecimal digits), written with the lease. Empty - keep this
        window's run already in the record, or make one up.
    type: str
  respect_lease:
    description:
      - With O(state=restored), refuse to restore a record whose lease has not expired by vCenter's clock, naming its
        window and run (what recover does). The window's own close leaves it V(false).
    type: bool
    default: false
  take_over:
    description:
      - With O(respect_lease), the run id of a live lease to restore anyway (its window died before its lease ran out).
    type: str
  end_lease:
    description:
      - End the lease of this window's record now (its expiry set to vCenter's time), leaving DRS and the rest of
        the record as they are - for a window that ends without giving DRS back (vCenter refused the restore), so that
        C(clustersafe.deep_security.recover) may put the level back without O(take_over).
      - With O(run_id), only that run's lease is ended; without it, the lease in this window's record. A record of
        another window, or without a live lease, is left alone (not C(changed)). O(state) is not used.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Computes and reports the change without making it.
  diff_mode:
    support: full
    description: Shows the state before and after.
"""

EXAMPLES = r"""
- name: Hold DRS at manual around a Horizon recompose (rule VS-05)
  block:
    - name: DRS to manual, original level saved on the cluster
      clustersafe.deep_security.vsphere_drs_window:
        cluster: VDI-Cluster
        window: CHG0012345
        state: manual
      delegate_to: localhost

      register: held

    - name: Recompose the desktop pool
      ansible.builtin.debug:
        msg: run the Horizon operation here
  always:
    - name: Restore DRS on every exit path, to the level this run saved
      clustersafe.deep_security.vsphere_drs_window:
        cluster: VDI-Cluster
        window: CHG0012345
        state: restored
        original_level: "{{ held.record.original_level | default(omit) }}"
      delegate_to: localhost

- name: After a crash, restore from any controller
  clustersafe.deep_security.vsphere_drs_window:
    cluster: VDI-Cluster
    window: CHG0012345
    state: restored
  delegate_to: localhost
"""

RETURN = r"""
automation_level:
  description: DRS automation level after the run (in check mode, the level the run would leave).
  returned: always
  type: str
  sample: manual
previous_automation_level:
  description: DRS automation level before the run.
  returned: always
  type: str
  sample: fullyAutomated
record:
  description: The window record on the cluster after the run, or null once restored.
  returned: always
  type: dict
  sample: {window: CHG0012345, original_level: fullyAutomated, owner: "ops@ctl01 (vCenter user svc-ds)",
           since: "2026-11-26T07:30:00+00:00"}
previous_record:
  description: The window record on the cluster before the run, or null when there was none (its C(original_level)
    is the level the window saved).
  returned: always
  type: dict
  sample: {window: CHG0012345, original_level: fullyAutomated, owner: "ops@ctl01 (vCenter user svc-ds)",
           since: "2026-11-26T07:30:00+00:00"}
fully_automated_vms:
  description:
    - VMs (C(vm) name, C(moid)) whose own DRS override is C(fullyAutomated) in a cluster that honours per-VM
      overrides; DRS keeps moving them during the window.
  returned: always
  type: list
  elements: dict
  sample: [{vm: vdi-desktop-01, moid: vm-63}]
message:
  description: What the run did or would do.
  returned: always
  type: str
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window_service import drs_window
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.records import check_record_params
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.module import VsphereModule


def main():
    module = VsphereModule(argument_spec=dict(
        cluster=dict(type="str", required=True),
        datacenter=dict(type="str"),
        window=dict(type="str", required=True),
        state=dict(type="str", choices=["manual", "restored"], default="manual"),
        owner=dict(type="str"),
        force=dict(type="bool", default=False),
        original_level=dict(type="str", choices=["manual", "partiallyAutomated", "fullyAutomated"]),
        lease_seconds=dict(type="int", default=0),
        run_id=dict(type="str"),
        respect_lease=dict(type="bool", default=False),
        take_over=dict(type="str"),
        end_lease=dict(type="bool", default=False),
    ), supports_check_mode=True)
    module.run_with_client(lambda client: drs_window(client, module.params, module.check_mode),
                           validate=lambda: check_record_params(module.params))


if __name__ == "__main__":
    main()
