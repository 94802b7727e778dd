#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dsm_computer_info
short_description: Read computers from the Deep Security Manager
version_added: 0.1.0
description:
  - Returns, for the computers named by host name (or every computer), the agent version, the policy,
    the agent status and its messages, the state of each protection module and the network engine
    mode in effect, as plain data that later tasks and checks can judge without another call.
  - Protection modules are reported under stable snake_case keys with the name the DSM console prints;
    the module once called Deep Packet Inspection is reported as Intrusion Prevention.
extends_documentation_fragment:
  - clustersafe.deep_security.dsm
attributes:
  check_mode:
    support: full
    description: Reads only.
options:
  computers:
    description:
      - Host names of the computers, as the DSM knows them. Matched exactly first, then ignoring case
        (and against the display name).
      - An unknown host name fails the task and names the nearest known host names.
      - Omit to return every computer.
    type: list
    elements: str
    aliases: [host_names]
author:
  - clustersafe maintainers (@clustersafe)
"""

EXAMPLES = r"""
- name: Agent and module state of the NLB nodes
  clustersafe.deep_security.dsm_computer_info:
    computers: [WEB1, WEB2, WEB3]
  register: dsm

- name: Intrusion Prevention must be off on NLB nodes (rule NLB-01)
  ansible.builtin.assert:
    that: item.modules.intrusion_prevention.state == 'off'
  loop: "{{ dsm.computers }}"
  loop_control:
    label: "{{ item.host_name }}"
"""

RETURN = r"""
computers:
  description: One entry per computer, in the order asked (or by ID).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The DSM's computer ID.
      type: int
      sample: 3
    host_name:
      description: Host name.
      type: str
      sample: WEB1
    display_name:
      description: Display name (may be empty).
      type: str
    platform:
      description: Operating system as the DSM reports it.
      type: str
    agent_version:
      description: Version of the Deep Security Agent (empty without an agent).
      type: str
      sample: 20.0.1-690
    policy_id:
      description: ID of the assigned policy.
      type: int
      sample: 4
    policy_name:
      description: Name of the assigned policy.
      type: str
      sample: NLB Web Farm
    last_agent_communication:
      description: Last contact with the agent, milliseconds since the epoch.
      type: int
    agent_status:
      description: Agent status.
      type: str
      choices: [inactive, active, warning, error, not-supported]
    agent_status_messages:
      description: Status texts, for example C(Managed (Online)) or C(Offline).
      type: list
      elements: str
    network_engine_mode:
      description: Network engine mode in effect (C(firewallSettingNetworkEngineMode)).
      type: str
      sample: Inline
    firewall_rule_ids:
      description: IDs of the firewall rules assigned to the computer itself.
      type: list
      elements: int
    modules:
      description:
        - Protection modules by key (C(anti_malware), C(web_reputation), C(firewall),
          C(intrusion_prevention), C(integrity_monitoring), C(log_inspection), C(application_control)),
          each with C(name), C(state) (configured state in effect), C(status) and C(status_message).
      type: dict
      sample:
        intrusion_prevention:
          name: Intrusion Prevention
          state: "off"
          status: inactive
          status_message: Off, installed
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clustersafe.deep_security.plugins.module_utils.runner import run_module
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import (
    client_from_module,
    dsm_argument_spec,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import services


def main():
    argument_spec = dsm_argument_spec()
    argument_spec.update(computers=dict(type="list", elements="str", aliases=["host_names"]))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    run_module(module, lambda: services.computer_info(client_from_module(module), module.params["computers"]))


if __name__ == "__main__":
    main()
