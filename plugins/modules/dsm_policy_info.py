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
  - With O(details=true), also what a maintenance window must know of each policy, that is which protection modules
    are on in effect (inheritance from the parent policies included) and which policy of the chain sets each,
    the firewall rules in effect (assigned to the policy and inherited, with policy-level overrides) and
    whether the failover-cluster heartbeat (UDP 3343) gets through them in each direction.
  - With O(cluster_kind), also the blockers the policy gives a window on that kind of cluster, before any change;
    a policy that turns none of Firewall, Intrusion Prevention and Web Reputation on (the agent's network driver
    would load, with a network blip, at a later policy change with the cluster service running; Trend Micro
    KA-0004754, rule MS-02), and on a failover cluster Firewall on without a rule that lets the heartbeat in
    and out (rule MS-04).
extends_documentation_fragment:
  - clustersafe.deep_security.dsm
  - clustersafe.deep_security.action_group.dsm
  - clustersafe.deep_security.attributes.info_module
options:
  policies:
    description:
      - Names of the policies, exactly as the DSM shows them.
      - An unknown name fails the task and names the nearest known policy names.
      - Omit (or give an empty list), together with O(ids), to return every policy.
    type: list
    elements: str
  ids:
    description:
      - IDs of policies to return as well (after those named in O(policies)), for example the ID an agent is
        activated with.
      - An unknown ID fails the task and names the known IDs.
    type: list
    elements: int
  details:
    description:
      - Return, for each policy, the module states in effect with their source, the firewall rules in effect
        and the heartbeat verdict (see RV(policies[].modules), RV(policies[].firewall_rules), RV(policies[].heartbeat)).
      - Costs, per policy, one request for each parent policy not otherwise read, two per policy of the chain
        (its own values and its own rule assignments) and one for the rules in effect.
    type: bool
    default: false
  cluster_kind:
    description:
      - Also return RV(policies[].window_blockers) for a window on nodes of this kind of cluster that get the
        policy; implies O(details=true).
      - V(failover_cluster) checks both blockers; V(nlb) only the network driver one (the NLB heartbeat is not
        UDP 3343; the C(nlb_exclusion_rules) filter covers it).
    type: str
    choices: [failover_cluster, nlb]
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

- name: Before any change, what the activation policy means for a failover-cluster window
  clustersafe.deep_security.dsm_policy_info:
    ids: [3]
    cluster_kind: failover_cluster
  register: window_policy

- name: Stop the window before its first change if the policy would cut the heartbeat or blip later
  ansible.builtin.assert:
    that: window_policy.policies[0].window_blockers | length == 0
    fail_msg: "{{ window_policy.policies[0].window_blockers | map(attribute='message') | join('; ') }}"
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
    chain:
      description: With O(details). The policy and its parent policies, nearest first, each with C(id) and C(name).
      type: list
      elements: dict
      returned: with O(details)
    modules:
      description:
        - With O(details). Protection modules by key (C(anti_malware), C(web_reputation), C(firewall),
          C(intrusion_prevention), C(integrity_monitoring), C(log_inspection), C(application_control)), each with
          C(name), C(state) (in effect, the DSM reads C(inherited) as the parent's state), C(on) (true, false, or
          null when the DSM gave no state), C(set_by) (C(id) and C(name) of the policy of the chain that sets the
          state itself) and C(status), C(status_message) (the policy's C(moduleStatus)).
      type: dict
      returned: with O(details)
      sample:
        firewall: {name: Firewall, state: "on", "on": true, set_by: {id: 3, name: SQL Server Cluster},
                   status: active, status_message: "On"}
    network_driver_modules:
      description: With O(details). Those of Firewall, Intrusion Prevention and Web Reputation that are on.
      type: list
      elements: str
      returned: with O(details)
    network_engine_mode:
      description: With O(details). The policy's C(firewallSettingNetworkEngineMode) in effect (C(Inline) or C(Tap)).
      type: str
      returned: with O(details)
    firewall_rules:
      description:
        - With O(details). The firewall rules in effect on the policy (C(GET /policies/{id}/firewall/rules)),
          those of the parent policies included, with policy-level overrides applied; the fields as
          M(clustersafe.deep_security.dsm_firewall_rule) names them, plus C(id), C(assigned_by) (the policy of
          the chain that assigns the rule) and C(inherited) (assigned by a parent policy).
      type: list
      elements: dict
      returned: with O(details)
    heartbeat:
      description:
        - With O(details). Whether the failover-cluster heartbeat (UDP 3343) gets through the rules in effect,
          under C(incoming) and C(outgoing), each with C(passes), C(decided_by) (the rule that lets it through),
          C(blocked_by) (the rule that may deny it first), C(partial) (rules that let only part of it through),
          C(allow_rules) (whether an Allow rule applies in that direction, which denies everything it does not
          allow) and C(reason).
        - Rules are taken in Deep Security's order (priority 4 down to 0; within one priority bypass, log only,
          force allow, deny, allow); a rule limited by addresses, MACs, a port list, a schedule or a context
          counts as matching only part of the traffic.
      type: dict
      returned: with O(details)
    window_blockers:
      description:
        - With O(cluster_kind). Blockers for a window on nodes that get this policy, each with C(subject),
          C(message) (starting with the rule ID, MS-02 or MS-04) and C(remedy); empty when there is none.
      type: list
      elements: dict
      returned: with O(cluster_kind)
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.module import DsmModule


def main():
    module = DsmModule(argument_spec=dict(
        policies=dict(type="list", elements="str"),
        ids=dict(type="list", elements="int"),
        details=dict(type="bool", default=False),
        cluster_kind=dict(type="str", choices=["failover_cluster", "nlb"]),
    ))
    params = module.params
    module.run_with_client(lambda client: service.policy_info(
        client, params["policies"], ids=params["ids"], details=params["details"], cluster_kind=params["cluster_kind"]))


if __name__ == "__main__":
    main()
