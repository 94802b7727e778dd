#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dsm_policy_info
short_description: Read policies from the Deep Security Manager, by name or all
version_added: 0.2.0
description:
  - Returns the ID, name, parent and description of the policies named (or of every policy), so that a
    policy can be given by name where the manager or the agent wants its ID (for example the agent's
    activation, C(dsa_control -a dsm://<manager>:4120/ "policyid:<ID>")).
  - Names are matched exactly, case included; C(%) and C(_) are ordinary characters (the search is sent
    with C(stringWildcards=false)).
extends_documentation_fragment:
  - clustersafe.deep_security.dsm
  - clustersafe.deep_security.action_group.dsm
  - clustersafe.deep_security.attributes.info_module
options:
  policies:
    description:
      - Names of the policies, exactly as the DSM shows them.
      - An unknown name fails the task and names the nearest known policy names.
      - Omit (or give an empty list) to return every policy.
    type: list
    elements: str
author:
  - clustersafe maintainers (@clustersafe)
"""

EXAMPLES = r"""
- name: ID of the policy the SQL cluster nodes are activated with
  clustersafe.deep_security.dsm_policy_info:
    policies: [SQL Server Cluster]
  register: sql_policy

- name: Activate the agent with that policy
  clustersafe.deep_security.ds_agent:
    hostname: "{{ ansible_host }}"
    version: 20.0.1-690
    installer_url: https://dsm.example.com:4119/software/agent/Windows/x86_64/20.0.1-690/agent.msi
    installer_sha256: "{{ agent_sha256 }}"
    activation_url: dsm://dsm.example.com:4120/
    policy_id: "{{ sql_policy.policies[0].id }}"
  delegate_to: localhost

- name: Every policy
  clustersafe.deep_security.dsm_policy_info:
  register: every_policy
"""

RETURN = r"""
policies:
  description: One entry per name, in the order asked (a name given twice once); every policy by ID when O(policies) is omitted.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The DSM's policy ID (what C(dsa_control) takes as C(policyid:<ID>)).
      type: int
      sample: 3
    name:
      description: Name of the policy.
      type: str
      sample: SQL Server Cluster
    parent_id:
      description: ID of the parent policy; null for a top-level policy.
      type: int
      sample: 1
    description:
      description: Description of the policy (may be empty).
      type: str
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.module import DsmModule


def main():
    module = DsmModule(argument_spec=dict(policies=dict(type="list", elements="str")))
    module.run_with_client(lambda client: service.policy_info(client, module.params["policies"]))


if __name__ == "__main__":
    main()
