#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nlb_cluster_info
short_description: Read a Windows Network Load Balancing cluster from one of its hosts
version_added: 0.1.0
description:
  - Connects to one NLB host over WinRM and reads, in one round trip (one WinRM shell), the cluster
    (name, virtual IP, mode, cluster MAC address), its hosts (host ID, state, priority, interface) and its
    port rules.
  - Fails with a clear message when the host has no NLB or is not in an NLB cluster.
author:
  - clustersafe maintainers (@clustersafe)
extends_documentation_fragment:
  - clustersafe.deep_security.winrm
  - clustersafe.deep_security.query
  - clustersafe.deep_security.action_group.windows
  - clustersafe.deep_security.attributes.info_module
"""

EXAMPLES = r"""
- name: Read the web farm
  clustersafe.deep_security.nlb_cluster_info:
    hostname: "{{ ansible_host }}"
  delegate_to: localhost
  register: farm
"""

RETURN = r"""
query_result:
  description: The value of O(query) over the other return fields; only with O(query), and then instead of them.
  returned: when O(query) is set
  type: raw
  sample: [WEB-02]
computer:
  description: Computer name of the connected host.
  returned: always
  type: str
  sample: WEB1
cluster:
  description:
    - The NLB cluster.
    - C(host_state) is the connected host's driver state, C(CurrentHostState) of C(Get-NlbClusterDriverInfo), one of
      C(Started), C(Stopped) or C(Suspended). It is not a convergence state. C(local_state) is the same value
      under its former name.
    - C(mode) is the cluster's operation mode; when the cluster object does not report it, it is derived from
      the cluster MAC address.
  returned: always
  type: dict
  sample: {"name": "WEBFARM", "ip_address": "192.0.2.80", "subnet_mask": "255.255.255.0", "mode": "Unicast",
           "mac_address": "02-bf-c0-00-02-50", "host_state": "Started", "local_state": "Started"}
nodes:
  description: Hosts of the cluster.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "WEB1", "host_id": 1, "state": "Converged", "priority": 1, "interface": "Ethernet0", "initial_state": "Started"}]
port_rules:
  description:
    - Port rules of the cluster; C(mode) is the rule's C(FilteringMode) and C(ip_address) its
      C(VirtualIPAddress) (C(All) or 255.255.255.255 for every cluster address).
  returned: always
  type: list
  elements: dict
  sample: [{"start_port": 80, "end_port": 80, "protocol": "Tcp", "mode": "Multiple", "affinity": "Single", "ip_address": "All"}]
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.query import apply_query, module_query, query_argument_spec
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.module import WinRMModule


def main():
    module = WinRMModule(argument_spec=query_argument_spec())
    query = module_query(module)
    module.run_with_client(lambda client: apply_query(service.nlb_cluster_info(client), query, module.params["query"]))


if __name__ == "__main__":
    main()
