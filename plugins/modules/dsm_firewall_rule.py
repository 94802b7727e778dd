#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: dsm_firewall_rule
short_description: Create, update or delete a Deep Security firewall rule, keyed by name
version_added: 0.1.0
description:
  - Makes sure a firewall rule with the given O(name) exists with the given fields, or does not exist.
  - Only the fields you give are compared and changed; the DSM keeps every other field as it is
    (on creation the DSM's defaults apply to the fields you leave out).
  - Returns the rule's ID, for M(clustersafe.deep_security.dsm_firewall_assignment).
  - The filter P(clustersafe.deep_security.nlb_exclusion_rules#filter) builds the rule specs that keep
    Microsoft NLB traffic from being judged; loop over its output with this module.
extends_documentation_fragment:
  - clustersafe.deep_security.dsm
  - clustersafe.deep_security.action_group.dsm
attributes:
  check_mode:
    support: full
    description: Reports what would be created, changed or deleted, and changes nothing.
  diff_mode:
    support: full
    description: The rule's fields before and after.
options:
  name:
    description:
      - Name of the rule; the key by which it is found. Two rules with this name are an error.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the rule, V(absent) deletes it.
      - The DSM refuses to delete a rule that is still assigned to a computer or policy; unassign it first
        with M(clustersafe.deep_security.dsm_firewall_assignment).
    type: str
    choices: [present, absent]
    default: present
  description:
    description:
      - Free text shown in the DSM console.
      - DSM field C(description).
    type: str
  action:
    description:
      - What the rule does. V(bypass) skips the firewall B(and) Intrusion Prevention and ignores stateful
        inspection; V(force-allow) is still inspected by Intrusion Prevention. Bypass rules come in pairs
        (incoming and outgoing).
      - DSM field C(action).
    type: str
    choices: ['log-only', 'allow', 'deny', 'force-allow', 'bypass']
  priority:
    description:
      - Rule priority; V(4) is the highest. Integers are accepted.
      - DSM field C(priority).
    type: str
    choices: ['0', '1', '2', '3', '4']
  direction:
    description:
      - Traffic direction the rule applies to.
      - DSM field C(direction).
    type: str
    choices: ['incoming', 'outgoing']
  frame_type:
    description:
      - Ethernet frame type. V(other) needs O(frame_number).
      - DSM field C(frameType).
    type: str
    choices: ['any', 'ip', 'arp', 'revarp', 'ipv4', 'ipv6', 'other']
  frame_number:
    description:
      - EtherType when O(frame_type=other), as an integer or a hex string such as V(0x886F) (the NLB heartbeat).
      - DSM field C(frameNumber).
    type: raw
  frame_not:
    description:
      - Match every frame type except the one given.
      - DSM field C(frameNot).
    type: bool
  protocol:
    description:
      - IP protocol. V(other) needs O(protocol_number).
      - DSM field C(protocol).
    type: str
    choices: ['any', 'icmp', 'igmp', 'ggp', 'tcp', 'pup', 'udp', 'idp', 'nd', 'raw', 'tcp-udp', 'icmpv6', 'other']
  protocol_number:
    description:
      - IP protocol number (0-255) when O(protocol=other).
      - DSM field C(protocolNumber).
    type: int
  protocol_not:
    description:
      - Match every protocol except the one given.
      - DSM field C(protocolNot).
    type: bool
  source_ip_type:
    description:
      - >-
        How the source IP is given: V(single) uses O(source_ip_value), V(masked-ip) O(source_ip_value) and
        O(source_ip_mask), V(range) O(source_ip_range_from) and O(source_ip_range_to), V(multiple)
        O(source_ip_multiple), V(ip-list) O(source_ip_list_id).
      - DSM field C(sourceIPType).
    type: str
    choices: ['any', 'masked-ip', 'range', 'ip-list', 'single', 'multiple']
  source_ip_value:
    description:
      - Source IP address.
      - DSM field C(sourceIPValue).
    type: str
  source_ip_mask:
    description:
      - Source IP mask for V(masked-ip).
      - DSM field C(sourceIPMask).
    type: str
  source_ip_range_from:
    description:
      - First source IP of a range.
      - DSM field C(sourceIPRangeFrom).
    type: str
  source_ip_range_to:
    description:
      - Last source IP of a range.
      - DSM field C(sourceIPRangeTo).
    type: str
  source_ip_multiple:
    description:
      - Source IP addresses, ranges or masked addresses.
      - DSM field C(sourceIPMultiple).
    type: list
    elements: str
  source_ip_list_id:
    description:
      - ID of the DSM IP list for the source.
      - DSM field C(sourceIPListID).
    type: int
  source_ip_not:
    description:
      - Match every source IP except the ones given.
      - DSM field C(sourceIPNot).
    type: bool
  source_mac_type:
    description:
      - How the source MAC is given.
      - DSM field C(sourceMACType).
    type: str
    choices: ['any', 'single', 'mac-list', 'multiple']
  source_mac_value:
    description:
      - Source MAC address.
      - DSM field C(sourceMACValue).
    type: str
  source_mac_multiple:
    description:
      - Source MAC addresses.
      - DSM field C(sourceMACMultiple).
    type: list
    elements: str
  source_mac_list_id:
    description:
      - ID of the DSM MAC list for the source.
      - DSM field C(sourceMACListID).
    type: int
  source_mac_not:
    description:
      - Match every source MAC except the ones given.
      - DSM field C(sourceMACNot).
    type: bool
  source_port_type:
    description:
      - >-
        How the source ports are given: V(multiple) uses O(source_port_multiple), V(port-list)
        O(source_port_list_id). Ports apply to tcp, udp and tcp-udp only.
      - DSM field C(sourcePortType).
    type: str
    choices: ['any', 'multiple', 'port-list']
  source_port_multiple:
    description:
      - Source ports or ranges, for example V(80) or V(1000-2000).
      - DSM field C(sourcePortMultiple).
    type: list
    elements: str
  source_port_list_id:
    description:
      - ID of the DSM port list for the source.
      - DSM field C(sourcePortListID).
    type: int
  source_port_not:
    description:
      - Match every source port except the ones given.
      - DSM field C(sourcePortNot).
    type: bool
  destination_ip_type:
    description:
      - >-
        How the destination IP is given: V(single) uses O(destination_ip_value), V(masked-ip)
        O(destination_ip_value) and O(destination_ip_mask), V(range) O(destination_ip_range_from) and
        O(destination_ip_range_to), V(multiple) O(destination_ip_multiple), V(ip-list)
        O(destination_ip_list_id).
      - DSM field C(destinationIPType).
    type: str
    choices: ['any', 'masked-ip', 'range', 'ip-list', 'single', 'multiple']
  destination_ip_value:
    description:
      - Destination IP address.
      - DSM field C(destinationIPValue).
    type: str
  destination_ip_mask:
    description:
      - Destination IP mask for V(masked-ip).
      - DSM field C(destinationIPMask).
    type: str
  destination_ip_range_from:
    description:
      - First destination IP of a range.
      - DSM field C(destinationIPRangeFrom).
    type: str
  destination_ip_range_to:
    description:
      - Last destination IP of a range.
      - DSM field C(destinationIPRangeTo).
    type: str
  destination_ip_multiple:
    description:
      - Destination IP addresses, ranges or masked addresses.
      - DSM field C(destinationIPMultiple).
    type: list
    elements: str
  destination_ip_list_id:
    description:
      - ID of the DSM IP list for the destination.
      - DSM field C(destinationIPListID).
    type: int
  destination_ip_not:
    description:
      - Match every destination IP except the ones given.
      - DSM field C(destinationIPNot).
    type: bool
  destination_mac_type:
    description:
      - How the destination MAC is given.
      - DSM field C(destinationMACType).
    type: str
    choices: ['any', 'single', 'mac-list', 'multiple']
  destination_mac_value:
    description:
      - Destination MAC address.
      - DSM field C(destinationMACValue).
    type: str
  destination_mac_multiple:
    description:
      - Destination MAC addresses.
      - DSM field C(destinationMACMultiple).
    type: list
    elements: str
  destination_mac_list_id:
    description:
      - ID of the DSM MAC list for the destination.
      - DSM field C(destinationMACListID).
    type: int
  destination_mac_not:
    description:
      - Match every destination MAC except the ones given.
      - DSM field C(destinationMACNot).
    type: bool
  destination_port_type:
    description:
      - >-
        How the destination ports are given: V(multiple) uses O(destination_port_multiple), V(port-list)
        O(destination_port_list_id). Ports apply to tcp, udp and tcp-udp only.
      - DSM field C(destinationPortType).
    type: str
    choices: ['any', 'multiple', 'port-list']
  destination_port_multiple:
    description:
      - Destination ports or ranges, for example V(80) or V(1000-2000).
      - DSM field C(destinationPortMultiple).
    type: list
    elements: str
  destination_port_list_id:
    description:
      - ID of the DSM port list for the destination.
      - DSM field C(destinationPortListID).
    type: int
  destination_port_not:
    description:
      - Match every destination port except the ones given.
      - DSM field C(destinationPortNot).
    type: bool
  any_flags:
    description:
      - Match any TCP flags (otherwise O(tcp_flags)).
      - DSM field C(anyFlags).
    type: bool
  tcp_flags:
    description:
      - TCP flags to match when O(any_flags=false).
      - DSM field C(tcpflags).
    type: list
    elements: str
    choices: ['fin', 'syn', 'rst', 'psh', 'ack', 'urg']
  tcp_not:
    description:
      - Negate O(tcp_flags).
      - DSM field C(TCPNot).
    type: bool
  icmp_type:
    description:
      - ICMP type for O(protocol=icmp).
      - DSM field C(ICMPType).
    type: int
  icmp_code:
    description:
      - ICMP code for O(protocol=icmp).
      - DSM field C(ICMPCode).
    type: int
  icmp_not:
    description:
      - Negate the ICMP type and code.
      - DSM field C(ICMPNot).
    type: bool
  log_disabled:
    description:
      - Do not log events of this rule.
      - DSM field C(logDisabled).
    type: bool
  include_packet_data:
    description:
      - Include packet data in events.
      - DSM field C(includePacketData).
    type: bool
  alert_enabled:
    description:
      - Raise an alert when the rule fires.
      - DSM field C(alertEnabled).
    type: bool
  schedule_id:
    description:
      - ID of the schedule during which the rule is active.
      - DSM field C(scheduleID).
    type: int
  context_id:
    description:
      - ID of the rule context.
      - DSM field C(contextID).
    type: int
author:
  - clustersafe maintainers (@clustersafe)
"""

EXAMPLES = r"""
- name: Bypass the NLB heartbeat (EtherType 0x886F) coming in
  clustersafe.deep_security.dsm_firewall_rule:
    name: NLB heartbeat bypass (incoming)
    action: bypass
    priority: 4
    direction: incoming
    frame_type: other
    frame_number: "0x886F"

- name: Create every NLB exclusion rule that the filter derives from nlb_cluster_info
  clustersafe.deep_security.dsm_firewall_rule: "{{ item }}"
  loop: "{{ nlb_info | clustersafe.deep_security.nlb_exclusion_rules }}"
  loop_control:
    label: "{{ item.name }}"

- name: Remove a rule
  clustersafe.deep_security.dsm_firewall_rule:
    name: NLB heartbeat bypass (incoming)
    state: absent
"""

RETURN = r"""
id:
  description: ID of the rule (null when it would be created in check mode, or does not exist).
  returned: always
  type: int
  sample: 42
action:
  description: What was done (or would be in check mode).
  returned: always
  type: str
  choices: [create, update, delete, none]
  sample: update
changed_fields:
  description: Options whose values were changed on an existing rule.
  returned: always
  type: list
  elements: str
  sample: [priority]
firewall_rule:
  description: The rule as the DSM holds it after the change, in snake_case (empty when absent).
  returned: always
  type: dict
  sample:
    id: 42
    name: NLB heartbeat bypass (incoming)
    action: bypass
    priority: "4"
    direction: incoming
    frame_type: other
    frame_number: 34927
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.firewall import (
    FIELDS,
    argument_spec_fields,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.module import DsmModule


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    argument_spec.update(argument_spec_fields())
    module = DsmModule(argument_spec=argument_spec)
    options = dict((field, module.params.get(field)) for field in FIELDS)
    module.run_with_client(lambda client: service.firewall_rule(client, options, state=module.params["state"],
                                                                check_mode=module.check_mode))


if __name__ == "__main__":
    main()
