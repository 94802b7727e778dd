#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: node_window_record
short_description: Write or remove a maintenance window's record on a Windows node
version_added: 0.1.0
description:
  - Writes, on the node the WinRM connection reaches, what a maintenance window changed there, I(before) the
    window makes the change, and removes it when the change is undone (safety invariant 7). C(recover), or a
    re-run of the window, reads the records with M(clustersafe.deep_security.node_window_record_info) and puts
    the node back from any controller, even after the controller that ran the window died.
  - One registry key per window and one subkey per change,
    C(HKLM\SOFTWARE\clustersafe\maintenance_windows\<window>\<change>), with the string values C(since)
    (UTC, ISO 8601, written by the node's clock), C(controller) (host name of the controller) and C(data)
    (O(data) as JSON).
  - The records live beside, not under, C(HKLM\SOFTWARE\clustersafe\deep_security), which the agent steps
    rewrite and remove.
  - V(present) is idempotent. A record of the same window and change with the same O(data) is left as it is
    (its C(since) and C(controller) are kept). A record with other data is rewritten, C(since) and
    C(controller) included.
  - V(absent) removes the record of O(change), or every record of the window when O(change) is omitted, and the
    window's key once it holds no record.
  - Window ids are compared without case, as Windows compares registry key names.
  - Every record read from the node is checked field by field before it is used (anyone who can write
    C(HKLM\SOFTWARE) on the node can write one), see RV(invalid_records). A record that fails is never written
    over (the module fails and names it) and never removed; V(absent) removes only the valid records of the
    window.
author:
  - clustersafe maintainers (@clustersafe)
options:
  window:
    description:
      - Id of the maintenance window, for example a change number; the same id the window uses for
        M(clustersafe.deep_security.vsphere_drs_window).
      - 1 to 64 characters, a letter or digit first, then letters, digits, V(.), V(_) or V(-).
    type: str
    required: true
  change:
    description:
      - What the window changed, or is about to change, on this node.
      - Required with O(state=present). With O(state=absent), omitted means every record of O(window).
    type: str
    choices: [node_drained, cluster_service_stopped, nlb_node_stopped, network_engine_mode, agent_maintenance]
  data:
    description:
      - 'Small facts C(recover) needs to undo the change, for example V({"failback": "none"}) or
        V({"previous_mode": "Inline"}).'
      - 'What each O(change) holds (no other key): C(node_drained) C(failback) (V(none), V(immediate) or V(policy));
        C(cluster_service_stopped) nothing; C(nlb_node_stopped) C(action) (V(drainstop) or V(stop)) and C(cluster)
        (the NLB cluster''s host name, or null); C(network_engine_mode) C(previous_mode) (V(Inline) or V(Tap)), and optionally
        C(computer) and C(own_setting) (a boolean); C(agent_maintenance) C(state) (V(present) or V(absent)), C(version) (an agent version such as
        V(20.0.1-690), or null), C(activation) (a boolean), and optionally C(nlb) (a boolean) and C(computer)
        (required with C(nlb=true)).'
      - A C(computer) must be a host name and the node's own computer name (C($env:COMPUTERNAME)), or the record
        is not trusted when it is read back.
      - Other data fails before anything is sent, naming what the change holds.
      - At most 384 characters as compact JSON (the command line to the node is the limit).
    type: dict
    default: {}
  state:
    description:
      - V(present) writes the record, V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - clustersafe.deep_security.winrm
  - clustersafe.deep_security.action_group.windows
attributes:
  check_mode:
    support: full
    description: Reads the records and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: The window's records concerned, before and after.
notes:
  - "Microsoft: registry provider U(https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_registry_provider),
    C(New-Item), C(Set-ItemProperty), C(Get-ItemProperty), C(Remove-Item); key names are at most 255 characters
    without backslash U(https://learn.microsoft.com/windows/win32/sysinfo/registry-element-size-limits)."
  - A change costs two WinRM shells on the node (read, then write and read back); no change costs one.
"""

EXAMPLES = r"""
- name: Record the drain before draining the node
  clustersafe.deep_security.node_window_record:
    hostname: "{{ ansible_host }}"
    window: CHG0012345
    change: node_drained
    data:
      failback: none
  delegate_to: localhost

- name: Record the previous network engine mode before switching to Tap
  clustersafe.deep_security.node_window_record:
    hostname: "{{ ansible_host }}"
    window: CHG0012345
    change: network_engine_mode
    data:
      previous_mode: Inline
  delegate_to: localhost

- name: The node is resumed; remove the record
  clustersafe.deep_security.node_window_record:
    hostname: "{{ ansible_host }}"
    window: CHG0012345
    change: node_drained
    state: absent
  delegate_to: localhost

- name: The window is over on this node; remove all its records
  clustersafe.deep_security.node_window_record:
    hostname: "{{ ansible_host }}"
    window: CHG0012345
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
records:
  description:
    - Every window record on the node after the call, of every window, sorted by window and change.
    - In check mode, the records as they are (nothing was written); the diff shows what would change.
    - Only records whose every field passed the checks (see RV(invalid_records)).
  returned: always
  type: list
  elements: dict
  contains:
    window:
      description: Window id, as the registry key is named on the node.
      type: str
      sample: CHG0012345
    change:
      description: What the window changed on the node.
      type: str
      sample: node_drained
    since:
      description: When the node wrote the record, UTC, ISO 8601.
      type: str
      sample: "2026-11-26T07:30:00Z"
    controller:
      description: Host name of the controller that wrote the record.
      type: str
      sample: ctl01
    data:
      description: The facts written with the record.
      type: dict
      sample: {"failback": "none"}
invalid_records:
  description:
    - Records on the node that are not trusted, each with the reason, and a warning for each. They are left on
      the node as they are; no module of the collection acts on them, removes them or writes over them.
    - A record is not trusted when its window is not a window id (for example V(..)), its change is not one of
      O(change)'s choices (exactly), C(since) is not a UTC time such as V(2026-11-26T07:30:00Z) (a write cut short
      writes it last), C(controller) is not a host name, C(data) does not fit its change (see O(data)), or its
      C(computer) is not the node's own.
    - Names that are not plain are shown JSON-escaped, so a report can show them as text.
  returned: always
  type: list
  elements: dict
  sample: [{"window": "CHG0012345", "change": "network_engine_mode",
            "reason": "data.computer DC01 is not this node's computer (WEB1): a record may only name its own node"}]
  contains:
    window:
      description: The window's key name, escaped unless plain.
      type: str
    change:
      description: The change's key name, escaped unless plain.
      type: str
    reason:
      description: Why the record is not trusted.
      type: str
"""

import socket

from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import records
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.module import WinRMModule


def main():
    module = WinRMModule(argument_spec=dict(
        window=dict(type="str", required=True),
        change=dict(type="str", choices=list(records.CHANGES)),
        data=dict(type="dict", default={}),
        state=dict(type="str", choices=list(records.STATES), default="present"),
    ))
    p = module.params

    def work():
        # validated before the client exists, so bad input never opens a connection
        records.validate_request(p["state"], p["window"], p["change"], p["data"])
        return records.node_window_record(module.client(), p["state"], p["window"], change=p["change"],
                                          data=p["data"], controller=socket.gethostname(),
                                          check_mode=module.check_mode)

    module.run(work)


if __name__ == "__main__":
    main()
