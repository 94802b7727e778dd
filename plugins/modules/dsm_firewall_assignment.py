#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dsm_firewall_assignment
short_description: Assign or unassign Deep Security firewall rules on computers or a policy
version_added: 0.1.0
description:
  - Makes sure the given firewall rules are assigned to (V(present)) or not assigned to (V(absent)) each
    computer named by host name, or one policy. Other assigned rules are left alone.
  - Only the rules assigned to the computer or policy itself are compared and changed; rules its policy
    assigns are reported in RV(assignments[].inherited) and never removed here.
  - Rules are given by name or by ID; an unknown one fails the task before anything changes and names
    the nearest existing rules.
extends_documentation_fragment:
  - clustersafe.deep_security.dsm
  - clustersafe.deep_security.action_group.dsm
attributes:
  check_mode:
    support: full
    description: Reports which rules would be added or removed, and changes nothing.
  diff_mode:
    support: full
    description: Assigned rule IDs per computer or policy, before and after.
options:
  rules:
    description:
      - Firewall rules, by name or ID.
    type: list
    elements: str
    required: true
  computers:
    description:
      - Host names of the computers. Mutually exclusive with O(policy).
    type: list
    elements: str
    aliases: [host_names]
  policy:
    description:
      - Name or ID of a policy. Mutually exclusive with O(computers).
    type: str
  state:
    description:
      - V(present) assigns the rules, V(absent) unassigns them.
    type: str
    choices: [present, absent]
    default: present
author:
  - clustersafe maintainers (@clustersafe)
"""

EXAMPLES = r"""
- name: Assign the NLB heartbeat exclusions to the web farm's nodes
  clustersafe.deep_security.dsm_firewall_assignment:
    computers: [WEB1, WEB2, WEB3]
    rules:
      - clustersafe NLB WEBFARM heartbeat bypass (incoming)
      - clustersafe NLB WEBFARM heartbeat bypass (outgoing)

- name: Or on the policy the nodes use
  clustersafe.deep_security.dsm_firewall_assignment:
    policy: NLB Web Farm
    rules: "{{ created.results | map(attribute='id') | list }}"

- name: Unassign
  clustersafe.deep_security.dsm_firewall_assignment:
    computers: [WEB1]
    rules: [42]
    state: absent
"""

RETURN = r"""
rules:
  description: The rules, resolved to ID and name.
  returned: always
  type: list
  elements: dict
  sample: [{id: 42, name: clustersafe NLB WEBFARM heartbeat bypass (incoming)}]
assignments:
  description: One entry per computer or policy.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: C(computer) or C(policy).
      type: str
    id:
      description: ID of the computer or policy.
      type: int
    name:
      description: Host name or policy name.
      type: str
    added:
      description: Rule IDs assigned by this run (or that would be, in check mode).
      type: list
      elements: int
    removed:
      description: Rule IDs unassigned by this run.
      type: list
      elements: int
    before:
      description: Rule IDs assigned to the computer or policy itself before (the DSM's C(overrides=true) view).
      type: list
      elements: int
    after:
      description: Rule IDs assigned to the computer or policy itself after.
      type: list
      elements: int
    inherited:
      description:
        - Rule IDs in effect through the policy (the computer's policy, or a policy's parents) and not assigned
          to the object itself. They are never removed by this module; unassign them on the policy.
      type: list
      elements: int
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.module import DsmModule


def main():
    module = DsmModule(
        argument_spec=dict(
            rules=dict(type="list", elements="str", required=True),
            computers=dict(type="list", elements="str", aliases=["host_names"]),
            policy=dict(type="str"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
        ),
        mutually_exclusive=[["computers", "policy"]],
        required_one_of=[["computers", "policy"]],
    )
    params = module.params
    module.run_with_client(lambda client: service.firewall_assignment(
        client, params["rules"], computers=params["computers"], policy=params["policy"],
        state=params["state"], check_mode=module.check_mode))


if __name__ == "__main__":
    main()
