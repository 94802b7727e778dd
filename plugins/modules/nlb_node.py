#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nlb_node
short_description: Drain-stop, stop, start, suspend or resume a Windows NLB host
version_added: 0.1.0
description:
  - Acts on the NLB host the WinRM connection reaches.
  - V(drainstopped) lets existing connections finish (up to O(drain_timeout) minutes) and then stops the
    host, dropping the connections still open; V(stopped) stops it at once, dropping connections.
  - V(started) starts the host (it converges back into the cluster); a V(Suspended) host must be resumed
    first.
  - V(suspended) suspends all cluster operations on the host; V(resumed) resumes them (the host is then
    Stopped until started).
  - Refuses to take a host out of service while another host of the cluster is already out, unless
    O(force=true).
author:
  - clustersafe maintainers (@clustersafe)
options:
  state:
    description: Desired state of the connected host.
    type: str
    required: true
    choices: [drainstopped, stopped, started, suspended, resumed]
  drain_timeout:
    description:
      - Minutes to let existing connections finish with O(state=drainstopped); connections still open
        after that are dropped.
      - The module passes it to C(Stop-NlbClusterNode -Drain -Timeout) converted to seconds (that cmdlet
        takes seconds), so the default drains for up to 600 seconds.
    type: int
    default: 10
  force:
    description: Take the host out even though another host of the cluster is already out of service.
    type: bool
    default: false
  window:
    description:
      - Id of the maintenance window this change belongs to (letters, digits, C(.), C(_), C(-); up to 64).
      - Before a drainstop or stop the module writes the record C(nlb_node_stopped) on the host, as
        M(clustersafe.deep_security.node_window_record) does; after a start it removes it. With
        O(state=started) and the host already in the farm, a record this window left is removed.
      - So a window that dies with the host out of the farm leaves that on the host, and
        C(clustersafe.deep_security.recover) or a re-run of the window starts it again from any controller.
    type: str
extends_documentation_fragment:
  - clustersafe.deep_security.winrm
  - clustersafe.deep_security.action_group.windows
attributes:
  check_mode:
    support: full
    description: Reports what would change, changes nothing.
  diff_mode:
    support: full
    description: Host state before and after.
"""

EXAMPLES = r"""
- name: Drain the web host before agent work
  clustersafe.deep_security.nlb_node:
    hostname: "{{ ansible_host }}"
    state: drainstopped
    drain_timeout: 5
  delegate_to: localhost

- name: Put it back into the farm
  clustersafe.deep_security.nlb_node:
    hostname: "{{ ansible_host }}"
    state: started
  delegate_to: localhost

- name: Drain-stop within window CHG0012345, recorded on the host first so recover can start it again
  clustersafe.deep_security.nlb_node:
    hostname: "{{ ansible_host }}"
    state: drainstopped
    drain_timeout: 5
    window: CHG0012345
  delegate_to: localhost
"""

RETURN = r"""
action:
  description: NLB operation run (or that would run in check mode); null when nothing was needed.
  returned: always
  type: str
  sample: drainstop
node:
  description: The connected host after the run (before it, in check mode).
  returned: always
  type: dict
  sample: {"name": "WEB1", "state": "Stopped"}
  contains:
    state:
      description:
        - The host's convergence state from C(Get-NlbClusterNode), for example C(Converged) or C(Stopped).
        - When that list cannot be read, the NLB driver's host state (C(Started), C(Stopped), C(Suspended));
          C(Started) then means in the cluster, convergence unknown.
      type: str
record_removed:
  description: With O(window), whether a stale record of the window was removed although the host was already started.
  returned: when the host was already started and O(window) is set
  type: bool
"""

import socket

from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.module import WinRMModule


def main():
    module = WinRMModule(argument_spec=dict(
        state=dict(type="str", required=True, choices=["drainstopped", "stopped", "started", "suspended", "resumed"]),
        drain_timeout=dict(type="int", default=10),
        force=dict(type="bool", default=False),
        window=dict(type="str"),
    ))
    p = module.params
    module.run_with_client(lambda client: service.nlb_node(
        client, p["state"], drain_timeout=p["drain_timeout"], force=p["force"], check_mode=module.check_mode,
        window=p["window"], controller=socket.gethostname()))


if __name__ == "__main__":
    main()
