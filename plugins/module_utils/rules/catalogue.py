# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rule catalogue: every rule ID of REFERENCE section 1 with its check, and the assessment that runs
them over gathered facts and counts the findings. Pure: no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils import _agent_version as versions
from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules import general, nlb, vsphere, wsfc
from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules.facts import SEVERITIES, gather, plan_of

RULES = (
    ("VS-01", vsphere.vs_01),
    ("VS-02", vsphere.vs_02),
    ("VS-03", vsphere.vs_03),
    ("VS-04", vsphere.vs_04),
    ("VS-05", vsphere.vs_05),
    ("MS-01", wsfc.ms_01),
    ("MS-02", wsfc.ms_02),
    ("MS-03", wsfc.ms_03),
    ("MS-04", wsfc.ms_04),
    ("MS-05", wsfc.ms_05),
    ("NLB-01", nlb.nlb_01),
    ("NLB-02", nlb.nlb_02),
    ("NLB-03", nlb.nlb_03),
    ("GEN-01", general.gen_01),
)
RULE_IDS = tuple(rule_id for rule_id, _check in RULES)
_ORDER = dict((rule_id, index) for index, rule_id in enumerate(RULE_IDS))


def sort_findings(findings):
    """Blockers first, then warnings, then info; by rule and subject within a severity."""
    return sorted(findings, key=lambda f: (SEVERITIES.index(f["severity"]), _ORDER.get(f["id"], 99), str(f["subject"])))


# What a rule reads, and what to say when none of it was gathered: a rule over nothing found nothing, and a
# report that listed it as checked would vouch for systems nobody looked at.
_NOTHING_READ = (
    ("VS-", ("vsphere_clusters",), "no vSphere cluster was read (vsphere_clusters)"),
    ("MS-", ("failover_clusters",), "no failover-cluster node was read (failover_nodes; the assess role reads the "
                                    "groups named in assess_failover_groups)"),
    ("NLB-", ("nlb_clusters",), "no NLB node was read (nlb_nodes; the assess role reads the groups named in "
                                "assess_nlb_groups)"),
    ("GEN-", ("failover_clusters", "nlb_clusters"), "no failover-cluster or NLB node was read (failover_nodes, nlb_nodes)"),
)


def unread_reason(rule_id, facts):
    """Why ``rule_id`` had nothing to check in ``facts``, or None when some of what it reads was gathered."""
    for prefix, families, reason in _NOTHING_READ:
        if rule_id.startswith(prefix):
            return None if any(facts.get(family) for family in families) else reason
    return None


def summarize(findings, checked=RULE_IDS, not_checked=()):
    """Counts per severity and rule; ``not_checked`` lists ``{id, reason}`` of the rules that ran over nothing."""
    by_rule = dict((rule_id, dict((s, 0) for s in SEVERITIES)) for rule_id in checked)
    by_severity = dict((s, 0) for s in SEVERITIES)
    for item in findings:
        by_severity[item["severity"]] += 1
        by_rule.setdefault(item["id"], dict((s, 0) for s in SEVERITIES))[item["severity"]] += 1
    return {"total": len(findings), "by_severity": by_severity, "by_rule": by_rule, "rules_checked": list(checked),
            "rules_not_checked": list(not_checked), "blocked": by_severity["blocker"] > 0}


FACT_OPTIONS = ("vsphere_clusters", "failover_nodes", "nlb_nodes", "dsm_computers", "firewall_rules")


def validate(raw_facts, raw_plan):
    """Input that cannot be judged is refused with the parameter named, before any rule runs."""
    for name in FACT_OPTIONS:
        value = (raw_facts or {}).get(name)
        if value is None:
            continue
        items = value.get("results", value) if isinstance(value, dict) else value
        if not isinstance(items, (dict, list)) or (isinstance(items, list) and not all(isinstance(i, dict) for i in items)):
            raise ParameterError("%s must be the registered result of the matching info module (a dict) or a list of "
                                 "dicts; got %s" % (name, type(value).__name__), parameter=name)
    plan = raw_plan or {}
    target = plan.get("agent_version")
    if target and versions.parse_or_none(target) is None:
        raise ParameterError("agent_version %r is not a Deep Security Agent version such as 20.0.1-690" % (target,),
                             parameter="agent_version")
    for item in plan.get("other_clusters") or []:
        if not isinstance(item, dict) or not item.get("name"):
            raise ParameterError("every item of other_clusters needs a name (and optionally a kind), e.g. "
                                 "{name: ORA-RAC1, kind: Oracle RAC}; got %r" % (item,), parameter="other_clusters")


def assess(raw_facts, raw_plan=None, skip_rules=None):
    """Facts (as ``cluster_assess`` takes them) + plan -> ``{findings, summary, facts}``."""
    validate(raw_facts, raw_plan)
    skip = set()
    for rule_id in skip_rules or []:
        wanted = str(rule_id).strip().upper()
        if wanted not in RULE_IDS:
            raise ParameterError("unknown rule ID %r in skip_rules; known IDs: %s" % (rule_id, ", ".join(RULE_IDS)),
                                 parameter="skip_rules")
        skip.add(wanted)
    facts = gather(raw_facts)
    plan = plan_of(raw_plan)
    findings = []
    checked = []
    not_checked = []
    for rule_id, check in RULES:
        if rule_id in skip:
            not_checked.append({"id": rule_id, "reason": "skipped (skip_rules)"})
            continue
        found = check(facts, plan)
        findings.extend(found)
        reason = None if found else unread_reason(rule_id, facts)
        if reason:
            not_checked.append({"id": rule_id, "reason": reason})
        else:
            checked.append(rule_id)
    findings = sort_findings(findings)
    return {"findings": findings, "summary": summarize(findings, checked, not_checked), "facts": facts}
