#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cluster_assess
short_description: Judge gathered cluster facts against Trend Micro's Deep Security cluster rules
version_added: 0.2.0
description:
  - Runs the collection's rule catalogue (VS-01 ... VS-05, MS-01 ... MS-05, NLB-01 ... NLB-03, GEN-01; see
    C(docs/rules.md)) over facts that the info modules gathered, and returns one finding per problem with
    its severity, the evidence and the role, playbook or module of this collection that fixes it.
  - Talks to no system; it only reads its options. A fact that was not gathered (an option left out, a
    field missing from a result) counts as unknown, and unknown is reported as a finding, never as a pass.
  - The optional plan options (O(agent_version), O(prepare_hosts), O(desktop_clusters), ...) describe the
    window this assessment is a preflight for; rules that are about planned work stay silent without them.
  - Can also render the report (JSON document, Markdown, self-contained HTML) as strings, for the
    P(clustersafe.deep_security.assess#role) role to write.
author:
  - clustersafe maintainers (@clustersafe)
extends_documentation_fragment:
  - clustersafe.deep_security.query
  - clustersafe.deep_security.action_group.assess
  - clustersafe.deep_security.attributes.info_module
options:
  vsphere_clusters:
    description:
      - The registered result of M(clustersafe.deep_security.vsphere_cluster_info), its C(clusters) list, or a
        list of such results.
      - Leave out when no vCenter is in scope.
    type: raw
  failover_nodes:
    description:
      - Registered results of M(clustersafe.deep_security.mscs_cluster_info), one per failover-cluster node (a
        loop's registered result with C(results) is accepted as it is). Nodes are grouped into clusters by
        the cluster name they report; a node whose cluster service is stopped is placed by the node lists.
      - A failed item (node unreachable) is reported as a finding, not ignored.
    type: raw
  nlb_nodes:
    description:
      - Registered results of M(clustersafe.deep_security.nlb_cluster_info), one per NLB host, or a loop's
        registered result.
    type: raw
  dsm_computers:
    description:
      - The registered result of M(clustersafe.deep_security.dsm_computer_info) or its C(computers) list.
        Computers are matched to nodes by host name (then display name), ignoring case and domain.
    type: raw
  firewall_rules:
    description:
      - Firewall rules of the Deep Security Manager that may be assigned to the nodes, as
        M(clustersafe.deep_security.dsm_firewall_rule) returns them (C(firewall_rule) with C(id)) or as the
        DSM has them (camelCase with C(ID)). Used for the heartbeat checks (MS-04, NLB-02).
      - Leave out when the rules were not gathered; those checks then report "cannot confirm" instead of a pass.
    type: raw
  agent_version:
    description:
      - Agent version a planned rollout installs (for example V(20.0.1-690)). Enables the version checks of
        MS-01 and NLB-01 on the target and the blip judgement of MS-02 and MS-03.
    type: str
  prepare_hosts:
    description: ESXi hosts planned for "Prepare ESX" (Filter Driver install, host reboot), checked by VS-04.
    type: list
    elements: str
    default: []
  desktop_clusters:
    description: vSphere clusters where Horizon Recompose / Refresh / Rebalance are planned, checked by VS-05.
    type: list
    elements: str
    default: []
  dsva_clusters:
    description:
      - vSphere clusters that must be protected by DSVAs even when none is deployed yet (VS-01). Clusters with
        at least one DSVA are always checked.
    type: list
    elements: str
    default: []
  agentless_guests:
    description: Failover-cluster nodes planned for DSVA (agentless) activation or deactivation, checked by MS-05.
    type: list
    elements: str
    default: []
  nlb_rollout:
    description: An NLB agent rollout is running or planned; every NLB node must then be in Tap mode (NLB-03).
    type: bool
    default: false
  running_windows:
    description:
      - IDs of the maintenance windows running now (for example the caller's own). A window record on a
        vSphere cluster, host or Windows node from any other window is reported as left behind, fixed by the
        C(recover) playbook.
    type: list
    elements: str
    default: []
  other_clusters:
    description:
      - Cluster environments in scope that the vendor has not tested (GEN-01), each a dict with C(name) and
        an optional C(kind) such as C(Oracle RAC).
    type: list
    elements: dict
    default: []
  skip_rules:
    description: Rule IDs not to check, for example V(MS-05). Unknown IDs fail the task.
    type: list
    elements: str
    default: []
  report_formats:
    description: Report renderings to return in RV(reports).
    type: list
    elements: str
    choices: [json, markdown, html]
    default: []
attributes:
  check_mode:
    support: full
    description: Reads only its options; runs the same in check mode.
notes:
  - The findings are sorted by severity (blocker, warning, info), then by rule ID and subject.
"""

EXAMPLES = r"""
- name: Gather the vSphere side
  clustersafe.deep_security.vsphere_cluster_info:
  register: vsphere

- name: Gather the Deep Security Manager's computers
  clustersafe.deep_security.dsm_computer_info:
  register: dsm

- name: Judge them
  clustersafe.deep_security.cluster_assess:
    vsphere_clusters: "{{ vsphere }}"
    dsm_computers: "{{ dsm }}"
    desktop_clusters: [VDI-Cluster]
    prepare_hosts: [esx-07.corp.example]
  register: assessment

- name: Stop before any change when there are blockers
  ansible.builtin.assert:
    that: assessment.summary.by_severity.blocker == 0
    fail_msg: "{{ assessment.findings | selectattr('severity', 'equalto', 'blocker') | map(attribute='message') | list }}"
"""

RETURN = r"""
query_result:
  description: The value of O(query) over the other return fields; only with O(query), and then instead of them.
  returned: when O(query) is set
  type: raw
  sample: [VS-03, MS-02]
findings:
  description: One entry per problem found, blockers first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Rule ID (C(VS-01) ... C(GEN-01)).
      type: str
      sample: VS-03
    severity:
      description: C(blocker) (no window may start), C(warning) (fix or accept knowingly) or C(info).
      type: str
      sample: blocker
    subject:
      description: What the finding is about, as C(cluster/host), C(cluster/DSVA), C(cluster/node) or a name.
      type: str
      sample: Prod-Cluster/dsva-esx-01.lab.local
    message:
      description: What is wrong, for people.
      type: str
    evidence:
      description: The facts the finding rests on (C(null) where a fact is unknown).
      type: dict
    remedy:
      description: The role, playbook or module of this collection that fixes it, and how.
      type: str
      sample: "role clustersafe.deep_security.dsva_placement: pins every DSVA"
  sample:
    - id: VS-03
      severity: blocker
      subject: Prod-Cluster/dsva-esx-01.lab.local
      message: "DSVA dsva-esx-01.lab.local on esx-01.lab.local is not pinned: DRS can migrate it"
      evidence: {host: esx-01.lab.local, drs_disabled: false, ha_restart_disabled: true, pinned: false}
      remedy: "role clustersafe.deep_security.dsva_placement: pins every DSVA"
summary:
  description: Counts of the findings.
  returned: always
  type: dict
  contains:
    total:
      description: Number of findings.
      type: int
    by_severity:
      description: Findings per severity (C(blocker), C(warning), C(info)); every severity is present.
      type: dict
      sample: {blocker: 6, warning: 1, info: 0}
    by_rule:
      description: Findings per rule ID and severity, for every rule checked.
      type: dict
      sample: {VS-03: {blocker: 6, warning: 0, info: 0}}
    rules_checked:
      description: Rule IDs that were checked (not in O(skip_rules), and over something gathered or with findings).
      type: list
      elements: str
    rules_not_checked:
      description:
        - The rules that were not checked, each with the reason; C(skipped (skip_rules)), or nothing it reads was
          gathered (no failover-cluster node read, for instance, when the assess role's C(assess_failover_groups) is empty).
      type: list
      elements: dict
      sample: [{id: MS-01, reason: "no failover-cluster node was read (failover_nodes; ...)"}]
    blocked:
      description: Whether there is at least one blocker.
      type: bool
overview:
  description:
    - What was gathered, per vSphere cluster (DRS/HA, hosts, DSVAs and pins, DSM VMs), per failover cluster
      (nodes, roles, agents, DSM state) and per NLB cluster (nodes, agents, Intrusion Prevention, Firewall,
      engine mode). The same document is the C(overview) of C(assessment.json).
  returned: always
  type: dict
reports:
  description: The renderings asked for in O(report_formats), by format (C(json), C(markdown), C(html)).
  returned: when O(report_formats) is not empty
  type: dict
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.query import apply_query, module_query, query_argument_spec
from ansible_collections.clustersafe.deep_security.plugins.module_utils.runner import CollectionModule
from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules import catalogue, report

FACT_OPTIONS = catalogue.FACT_OPTIONS
PLAN_OPTIONS = ("agent_version", "prepare_hosts", "desktop_clusters", "dsva_clusters", "agentless_guests",
                "nlb_rollout", "running_windows", "other_clusters")


def assess(params):
    facts = dict((name, params[name]) for name in FACT_OPTIONS)
    plan = dict((name, params[name]) for name in PLAN_OPTIONS)
    assessment = catalogue.assess(facts, plan, params["skip_rules"])
    doc, rendered = report.render(assessment, params["report_formats"])
    result = dict(changed=False, findings=doc["findings"], summary=doc["summary"], overview=doc["overview"])
    if params["report_formats"]:
        result["reports"] = rendered
    return result


def main():
    module = CollectionModule(
        argument_spec=dict(
            vsphere_clusters=dict(type="raw"),
            failover_nodes=dict(type="raw"),
            nlb_nodes=dict(type="raw"),
            dsm_computers=dict(type="raw"),
            firewall_rules=dict(type="raw"),
            agent_version=dict(type="str"),
            prepare_hosts=dict(type="list", elements="str", default=[]),
            desktop_clusters=dict(type="list", elements="str", default=[]),
            dsva_clusters=dict(type="list", elements="str", default=[]),
            agentless_guests=dict(type="list", elements="str", default=[]),
            nlb_rollout=dict(type="bool", default=False),
            running_windows=dict(type="list", elements="str", default=[]),
            other_clusters=dict(type="list", elements="dict", default=[]),
            skip_rules=dict(type="list", elements="str", default=[]),
            report_formats=dict(type="list", elements="str", default=[], choices=["json", "markdown", "html"]),
            **query_argument_spec()
        ),
    )
    query = module_query(module)
    module.run(lambda: apply_query(assess(module.params), query, module.params["query"]))


if __name__ == "__main__":
    main()
