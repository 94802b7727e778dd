#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: mscs_cluster_info
short_description: Read a Windows failover cluster (WSFC/MSCS) from one of its nodes
version_added: 0.1.0
description:
  - Connects to one node over WinRM and reads, in one round trip (one WinRM shell), the cluster name and
    quorum, every node (state, drain status, votes), every group or role (owner node, state, core or not),
    the cluster networks (role, state; which carry heartbeats), and for the connected node its cluster
    service and its Deep Security Agent.
  - The cluster itself is only readable through a node whose cluster service runs; on a node whose cluster
    service is stopped the module returns that node's service and agent, and an empty RV(cluster).
  - Fails with a clear message when the node is not a cluster member.
author:
  - clustersafe maintainers (@clustersafe)
options:
  name:
    description:
      - Expected name of the connected node; the module fails (and names the nearest node names) when the
        connection reaches another machine.
    type: str
  window_records:
    description:
      - Also return the maintenance window records on the connected node (RV(window_records)), as
        M(clustersafe.deep_security.node_window_record_info) lists them, read over the same connection by a
        second script (a second WinRM shell) in the same module run.
    type: bool
    default: false
    version_added: 0.2.0
notes:
  - The module's name keeps C(mscs), Microsoft Cluster Service, the name of the feature until Windows Server 2008
    renamed it Failover Clustering (WSFC); its WMI provider still lives in C(root\MSCluster). Module
    names are public, so they stay; the code behind them (C(plugins/module_utils/winrm/wsfc.py)) and the docs say WSFC.
extends_documentation_fragment:
  - clustersafe.deep_security.winrm
  - clustersafe.deep_security.query
  - clustersafe.deep_security.action_group.windows
  - clustersafe.deep_security.attributes.info_module
"""

EXAMPLES = r"""
- name: Read the SQL Server failover cluster through its first node
  clustersafe.deep_security.mscs_cluster_info:
    hostname: "{{ ansible_host }}"
    username: "{{ ansible_user }}"
    password: "{{ ansible_password }}"
    ca_path: /etc/pki/winrm-ca.pem
  delegate_to: localhost
  register: wsfc

- name: Read the cluster and what maintenance windows left on the node, in one module run
  clustersafe.deep_security.mscs_cluster_info:
    hostname: "{{ ansible_host }}"
    window_records: true
  delegate_to: localhost
  register: node_view

- name: Stop if any role is not Online
  ansible.builtin.assert:
    that: wsfc.groups | rejectattr('state', 'equalto', 'Online') | list | length == 0
"""

RETURN = r"""
query_result:
  description: The value of O(query) over the other return fields; only with O(query), and then instead of them.
  returned: when O(query) is set
  type: raw
  sample: [SQL-NODE2]
computer:
  description: Computer name of the connected node.
  returned: always
  type: str
  sample: SQL-NODE1
member:
  description: Whether the connected node is a member of a failover cluster.
  returned: always
  type: bool
cluster:
  description:
    - Cluster name and quorum; null when the connected node's cluster service is stopped.
    - C(quorum_type) as C(Get-ClusterQuorum) reports it (C(Majority) on Windows Server 2016 and later whatever
      the witness); C(quorum_resource), C(witness_type) (the resource type, for example
      C(File Share Quorum Witness)) and C(witness_state) describe the witness, null without one.
    - C(witness) is V(disk), V(file_share), V(cloud), V(other) or null; C(witness_dynamic_weight) and
      C(dynamic_quorum) are null where the cluster does not report them.
  returned: always
  type: dict
  sample: {"name": "SQLCLU01", "quorum_type": "Majority", "quorum_resource": "File Share Witness",
           "witness_type": "File Share Quorum Witness", "witness_state": "Online", "witness": "file_share",
           "witness_dynamic_weight": 0, "dynamic_quorum": 1}
nodes:
  description: Cluster nodes; C(dynamic_weight) is null where the cluster does not report C(DynamicWeight).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "SQL-NODE1", "id": "1", "state": "Up", "drain_status": "NotInitiated", "node_weight": 1, "dynamic_weight": 1}]
groups:
  description: Cluster groups (roles); C(is_core) marks the cluster's own groups.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "SQL Server (MSSQLSERVER)", "owner_node": "SQL-NODE1", "state": "Online", "is_core": false}]
networks:
  description: Cluster networks; C(heartbeat) is true for networks the cluster uses for its heartbeats
    (role C(Cluster) or C(ClusterAndClient)), C(cluster_only) for heartbeat-only networks.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "Heartbeat", "role": "Cluster", "state": "Up", "address": "10.10.1.0", "heartbeat": true, "cluster_only": true}]
cluster_service:
  description: The connected node's cluster service (ClusSvc).
  returned: always
  type: dict
  sample: {"status": "Running", "start_mode": "Automatic"}
agent:
  description:
    - The connected node's Deep Security Agent, and its Windows Installer.
    - C(installer_running) is true when the mutex C(Global\_MSIExecute) exists (Windows Installer sets it while it
      processes an installation), also when it exists but cannot be opened; false only when .NET reports that it
      does not exist; null for any other answer.
    - C(installer_service) is the C(msiserver) service's C(status) and whether it accepts the shutdown control
      (C(accepts_shutdown)), which Microsoft gives as the sign that it is processing an installation.
    - C(installer_state) combines both - V(running), V(idle) or V(unknown) (C(agent.installer_state) in
      C(plugins/module_utils/winrm/agent.py)); anything but V(idle) means an installation may be under way.
  returned: always
  type: dict
  sample: {"installed": true, "version": "20.0.1.690", "service_status": "Running", "installer_running": false,
           "installer_service": {"status": "Stopped", "accepts_shutdown": false}, "installer_state": "idle"}
window_records:
  description: Every maintenance window record on the connected node, as RV(clustersafe.deep_security.node_window_record_info#module:records).
  returned: when O(window_records=true)
  type: list
  elements: dict
  sample: [{"window": "CHG0012345", "change": "node_drained", "since": "2026-11-26T01:00:00Z", "controller": "awx-ee-1",
            "data": {"failback": "none"}}]
invalid_window_records:
  description:
    - The window records on the connected node that are not trusted, with the reason, as
      RV(clustersafe.deep_security.node_window_record_info#module:invalid_records); left on the node, never acted on.
  returned: when O(window_records=true)
  type: list
  elements: dict
  sample: []
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.query import apply_query, module_query, query_argument_spec
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.module import WinRMModule


def main():
    module = WinRMModule(argument_spec=dict(name=dict(type="str"), window_records=dict(type="bool", default=False),
                                            **query_argument_spec()))
    query = module_query(module)
    module.run_with_client(lambda client: apply_query(
        service.mscs_cluster_info(client, name=module.params["name"], window_records=module.params["window_records"]),
        query, module.params["query"]))


if __name__ == "__main__":
    main()
