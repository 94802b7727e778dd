#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: mscs_node
short_description: Drain, stop, start or resume a Windows failover-cluster node
version_added: 0.1.0
description:
  - Acts on the node the WinRM connection reaches, the way rule MS-02 wants before any Deep Security Agent
    work on it.
  - V(drained) suspends the node with drain and waits until every non-core role is Online on another node.
  - V(stopped) drains the node first if needed, then stops its cluster service (ClusSvc) on the node
    itself (no CredSSP double hop).
  - V(started) starts the cluster service and waits until the node has rejoined (Up, or Paused if it was
    paused before).
  - V(resumed) resumes a paused node, with the failback chosen by O(failback).
  - Refuses to drain or stop when another node is not Up, a role is not Online, no other node is Up to
    take the roles, or stopping would lose quorum. O(force=true) lifts the first two and the quorum refusal;
    it never lifts the refusal when no other node is Up.
  - Quorum is counted the way the cluster reports it; node votes are C(DynamicWeight) where every node reports
    one (else C(NodeWeight)), plus the witness (Windows Server 2016 and later name it only in
    C(QuorumResource)) when its resource is Online.
  - Every wait is bounded by O(timeout); on timeout the module fails and reports the node's state.
author:
  - clustersafe maintainers (@clustersafe)
options:
  state:
    description: Desired state of the connected node.
    type: str
    required: true
    choices: [drained, stopped, started, resumed]
  name:
    description:
      - Expected name of the connected node; the module refuses when the connection reaches another node.
    type: str
  force:
    description:
      - Lifts exactly these refusals of the module, before anything is changed - another node is not Up,
        a role is not Online, or stopping the node would lose quorum.
      - It does not lift the refusal when no other node is Up to take the roles, does not skip the check
        after a drain that every role is Online on another node, and does not pass C(-ForceDrain) to
        C(Suspend-ClusterNode) (that is O(force_drain)).
    type: bool
    default: false
  force_drain:
    description:
      - Drain with C(Suspend-ClusterNode -Drain -ForceDrain). Roles that cannot be moved safely are stopped
        and moved to another node as failed roles, and the node is paused regardless.
      - Only for a node that must be emptied even at the cost of failed roles; the module still fails
        afterwards if a role is not Online.
    type: bool
    default: false
  failback:
    description:
      - With O(state=resumed), whether roles move back to the node. V(none) leaves them where they are,
        V(immediate) moves them back now, V(policy) follows each role's failback policy.
    type: str
    choices: [none, immediate, policy]
    default: none
  timeout:
    description: Seconds to wait for a drain, a service stop or a rejoin.
    type: int
    default: 300
  window:
    description:
      - Id of the maintenance window this change belongs to (letters, digits, C(.), C(_), C(-); up to 64).
      - Before a drain the module writes the record C(node_drained) (with O(failback)) on the node, before a
        stop the record C(cluster_service_stopped), as M(clustersafe.deep_security.node_window_record) does;
        after a start it removes C(cluster_service_stopped) and C(agent_maintenance) (the agent work of the window
        is over once the window starts the cluster service), after a resume C(node_drained). With
        O(state=started) or O(state=resumed) and nothing to do, the records this window left for that state are
        removed.
      - So a window that dies between two steps leaves on the node what it changed, and
        C(clustersafe.deep_security.recover) or a re-run of the window puts it back from any controller.
    type: str
notes:
  - The module's name keeps C(mscs), Microsoft Cluster Service, the name of the feature until Windows Server 2008
    renamed it Failover Clustering (WSFC); its WMI provider still lives in C(root\MSCluster). Module
    names are public, so they stay; the code behind them (C(plugins/module_utils/winrm/wsfc.py)) and the docs say WSFC.
extends_documentation_fragment:
  - clustersafe.deep_security.winrm
  - clustersafe.deep_security.action_group.windows
attributes:
  check_mode:
    support: full
    description: Reports what would change, changes nothing.
  diff_mode:
    support: full
    description: Node state, drain status and cluster service before and after.
"""

EXAMPLES = r"""
- name: Take the node out of the cluster before agent work (drain, then stop the cluster service)
  clustersafe.deep_security.mscs_node:
    hostname: "{{ ansible_host }}"
    name: "{{ inventory_hostname }}"
    state: stopped
  delegate_to: localhost

- name: Bring it back
  clustersafe.deep_security.mscs_node:
    hostname: "{{ ansible_host }}"
    state: "{{ item }}"
    failback: none
  loop: [started, resumed]
  delegate_to: localhost

- name: Drain and stop within window CHG0012345, recorded on the node first so recover can undo it
  clustersafe.deep_security.mscs_node:
    hostname: "{{ ansible_host }}"
    state: stopped
    window: CHG0012345
  delegate_to: localhost
"""

RETURN = r"""
actions:
  description: Steps taken (or that would be taken in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [drain, stop]
node:
  description: The connected node after the run (before it, in check mode).
  returned: always
  type: dict
  sample: {"name": "SQL-NODE1", "state": "Down", "drain_status": "NotInitiated", "cluster_service": "Stopped"}
groups:
  description: Cluster groups after the change, when the node's cluster service still runs.
  returned: when changed and not in check mode
  type: list
  elements: dict
nodes:
  description: Every node of the cluster after the change (C(name), C(state), C(drain_status), votes), read through the node.
  returned: when changed and not in check mode, and the node's cluster service runs
  type: list
  elements: dict
record_removed:
  description: With O(window), whether a stale record of the window was removed although the node was already in O(state).
  returned: when the node was already in O(state) and O(window) is set
  type: bool
"""

import socket

from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.module import WinRMModule


def main():
    module = WinRMModule(argument_spec=dict(
        state=dict(type="str", required=True, choices=["drained", "stopped", "started", "resumed"]),
        name=dict(type="str"),
        force=dict(type="bool", default=False),
        force_drain=dict(type="bool", default=False),
        failback=dict(type="str", default="none", choices=["none", "immediate", "policy"]),
        timeout=dict(type="int", default=300),
        window=dict(type="str"),
    ))
    p = module.params
    module.run_with_client(lambda client: service.mscs_node(
        client, p["state"], name=p["name"], force=p["force"], failback=p["failback"], timeout=p["timeout"],
        force_drain=p["force_drain"], window=p["window"], controller=socket.gethostname(),
        check_mode=module.check_mode))


if __name__ == "__main__":
    main()
