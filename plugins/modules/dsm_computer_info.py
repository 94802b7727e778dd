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
  - With O(settings), also whether each named setting is the computer's own value or the one its policy gives
    (for example to restore a computer's own network engine mode after a window, or to reset it instead).
extends_documentation_fragment:
  - clustersafe.deep_security.dsm
  - clustersafe.deep_security.query
  - clustersafe.deep_security.action_group.dsm
  - clustersafe.deep_security.attributes.info_module
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
  wait_for:
    description:
      - V(none) reads once.
      - V(active) waits until each computer in O(computers) exists with an activated agent (agent version
        not C(0.0.0.0)) whose status is active; a host name the DSM does not know yet is waited for too (an
        agent-initiated activation creates the computer).
      - V(policy_applied) waits, in addition, until no agent task is pending, the last successful policy
        send (C(lastSendPolicySuccess)) is at or after the last policy request and, with
        O(since_policy_success), later than the send read before the change. Only the DSM's timestamps are
        compared, never the controller's clock.
      - An agent status of C(warning) does not count as active; the SDK lists it beside C(active) but neither
        it nor Trend's documentation says such an agent is online and takes its policy. The wait then runs
        into O(wait_timeout) and names the status messages.
      - The wait is bounded by O(wait_timeout); then the task fails naming what each computer still lacks.
    type: str
    choices: [none, active, policy_applied]
    default: none
  wait_timeout:
    description:
      - Seconds to wait at most for O(wait_for).
    type: int
    default: 900
  since_policy_success:
    description:
      - With O(wait_for=policy_applied), the baseline of the wait - the computer's C(lastSendPolicySuccess) read
        before the change (RV(computers[].last_send_policy_success) of an earlier read, or
        RV(clustersafe.deep_security.dsm_computer#module:targets[].policy_sent_before)) - so that only a policy
        sent successfully after it counts.
      - One value for every computer in O(computers), or a dictionary of host name to value (one per computer);
        null for a computer that had no policy sent before the change.
      - Milliseconds since the epoch on the DSM's clock, as the DSM gave them; the controller's clock plays no part.
    type: raw
  settings:
    description:
      - DSM setting names (for example C(firewallSettingNetworkEngineMode)) to report per computer in
        RV(computers[].settings), the value in effect and whether the computer sets it itself.
      - One more request per computer and setting (C(GET /computers/{id}/settings/{name}?overrides=true)).
    type: list
    elements: str
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

- name: Only the host names of the computers whose agent is not 20.0.1-690 (of several thousand)
  clustersafe.deep_security.dsm_computer_info:
    query: "computers[?agent_version != '20.0.1-690'].host_name"
  register: outdated

- name: After activation, wait until the agent is active and has its policy (at most 15 minutes)
  clustersafe.deep_security.dsm_computer_info:
    computers: [SQL-NODE1]
    wait_for: policy_applied
    wait_timeout: 900

- name: Before a change, read the node's last successful policy send
  clustersafe.deep_security.dsm_computer_info:
    computers: [SQL-NODE1]
  register: before_change

- name: After the change, wait until a newer policy has reached the node
  clustersafe.deep_security.dsm_computer_info:
    computers: [SQL-NODE1]
    wait_for: policy_applied
    since_policy_success: "{{ before_change.computers[0].last_send_policy_success }}"

- name: Is the network engine mode the computer's own, or its policy's?
  clustersafe.deep_security.dsm_computer_info:
    computers: [WEB1]
    settings: [firewallSettingNetworkEngineMode]
  register: mode
  # mode.computers[0].settings.firewallSettingNetworkEngineMode: {value: Tap, own: true, own_value: Tap}
"""

RETURN = r"""
query_result:
  description: The value of O(query) over the other return fields; only with O(query), and then instead of them.
  returned: when O(query) is set
  type: raw
  sample: [web-01.corp.example]
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
      description: Version of the Deep Security Agent; empty without an agent (the DSM's C(0.0.0.0)).
      type: str
      sample: 20.0.1-690
    has_agent:
      description: Whether an agent is installed and activated (the DSM reports agent version C(0.0.0.0) otherwise).
      type: bool
    agent_tasks:
      description: Agent tasks the DSM has pending, for example C(Sending Policy) (empty when none).
      type: list
      elements: str
    last_send_policy_request:
      description: Last policy send requested (C(lastSendPolicyRequest)), milliseconds since the epoch; null if never.
      type: int
    last_send_policy_success:
      description: Last successful policy send (C(lastSendPolicySuccess)), milliseconds since the epoch; null if never.
      type: int
    policy_applied:
      description:
        - Agent active, no agent task pending, and the last successful policy send at or after the last
          request (and later than O(since_policy_success) when given).
      type: bool
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
      description:
        - IDs of the firewall rules in effect on the computer, those its policy assigns included (the DSM's
          C(firewall.ruleIDs)); M(clustersafe.deep_security.dsm_firewall_assignment) reports them apart.
      type: list
      elements: int
    settings:
      description:
        - Only with O(settings). Per setting name, C(value) (in effect), C(own) (whether the computer sets it
          itself rather than following its policy) and C(own_value) (the computer's own value, null when it has none).
      type: dict
      returned: when O(settings) is set
      sample:
        firewallSettingNetworkEngineMode: {value: Inline, own: false, own_value: null}
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
waited_seconds:
  description: Seconds spent waiting for O(wait_for) (0 when not waiting).
  returned: always
  type: int
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.query import apply_query, module_query, query_argument_spec
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.module import DsmModule


def main():
    module = DsmModule(argument_spec=dict(
        computers=dict(type="list", elements="str", aliases=["host_names"]),
        wait_for=dict(type="str", choices=list(service.WAIT_FOR), default="none"),
        wait_timeout=dict(type="int", default=service.DEFAULT_WAIT_TIMEOUT),
        since_policy_success=dict(type="raw"),
        settings=dict(type="list", elements="str"),
        **query_argument_spec()
    ))
    params = module.params
    query = module_query(module)
    module.run_with_client(lambda client: apply_query(service.computer_info(
        client, params["computers"], wait_for=params["wait_for"], wait_timeout=params["wait_timeout"],
        since_policy_success=params["since_policy_success"], settings=params["settings"]), query, params["query"]))


if __name__ == "__main__":
    main()
