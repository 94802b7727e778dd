"""The catalogue: every rule ID of REFERENCE section 1 has a check; findings sorted and counted;
bad input refused with the parameter named."""
import json

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules import catalogue, report
from rules_facts import change, healthy

ALL_IDS = ["VS-01", "VS-02", "VS-03", "VS-04", "VS-05", "MS-01", "MS-02", "MS-03", "MS-04", "MS-05",
           "NLB-01", "NLB-02", "NLB-03", "GEN-01"]


def test_every_rule_id_has_a_check():
    assert list(catalogue.RULE_IDS) == ALL_IDS
    assert all(callable(check) and check.__doc__ for _id, check in catalogue.RULES)


def test_findings_sorted_by_severity_then_rule_and_counted():
    facts = change(healthy(), "vsphere_clusters.clusters.0.hosts.0.dsvas", [])
    facts = change(facts, "vsphere_clusters.clusters.1.drs.automation_level", "fullyAutomated")
    result = catalogue.assess(facts, {"desktop_clusters": ["VDI"], "agent_version": "20.0.1-3180"})
    severities = [f["severity"] for f in result["findings"]]
    assert severities == sorted(severities, key=["blocker", "warning", "info"].index)
    assert result["findings"][0]["id"] == "VS-01"
    summary = result["summary"]
    assert summary["by_severity"]["blocker"] == 1 and summary["blocked"] is True
    assert summary["by_rule"]["VS-05"]["warning"] == 1 and summary["by_rule"]["MS-03"]["warning"] == 2
    assert summary["total"] == len(result["findings"]) and summary["rules_checked"] == ALL_IDS


def test_every_finding_has_the_documented_fields():
    facts = change(healthy(), "vsphere_clusters.clusters.0.hosts.0.dsvas", [])
    result = catalogue.assess(facts, {"agent_version": "20.0.1-3180", "nlb_rollout": True})
    for item in result["findings"]:
        assert set(item) == {"id", "severity", "subject", "message", "evidence", "remedy"}
        assert item["remedy"].split()[1].startswith("clustersafe.deep_security.")
    json.dumps(result["findings"])


def test_skip_rules():
    facts = change(healthy(), "vsphere_clusters.clusters.0.hosts.0.dsvas", [])
    result = catalogue.assess(facts, None, ["vs-01"])
    assert result["findings"] == [] and "VS-01" not in result["summary"]["rules_checked"]


@pytest.mark.parametrize("facts, plan, skip, parameter", [
    ({}, None, ["VS-9"], "skip_rules"),
    ({}, {"agent_version": "latest"}, None, "agent_version"),
    ({"dsm_computers": "WEB1"}, None, None, "dsm_computers"),
    ({"failover_nodes": ["SQL-NODE1"]}, None, None, "failover_nodes"),
    ({}, {"other_clusters": [{"kind": "Oracle RAC"}]}, None, "other_clusters"),
])
def test_bad_input_names_the_parameter(facts, plan, skip, parameter):
    with pytest.raises(ParameterError) as error:
        catalogue.assess(facts, plan, skip)
    assert error.value.details["parameter"] == parameter and parameter in error.value.message


def test_no_facts_at_all_is_no_finding_and_an_empty_overview():
    result = catalogue.assess({}, {})
    doc = report.document(result)
    assert result["findings"] == [] and doc["overview"] == {"vsphere_clusters": [], "failover_clusters": [],
                                                            "nlb_clusters": []}


def test_rules_over_systems_nobody_read_are_listed_as_not_checked_with_the_reason():
    facts = dict(healthy())
    facts.pop("failover_nodes")
    facts.pop("nlb_nodes")
    result = catalogue.assess(facts, {"agent_version": "20.0.1-3180"}, ["VS-02"])
    summary = result["summary"]
    not_checked = dict((item["id"], item["reason"]) for item in summary["rules_not_checked"])
    assert sorted(not_checked) == ["GEN-01", "MS-01", "MS-02", "MS-03", "MS-04", "MS-05", "NLB-01", "NLB-02",
                                   "NLB-03", "VS-02"]
    assert "assess_failover_groups" in not_checked["MS-01"] and "assess_nlb_groups" in not_checked["NLB-02"]
    assert not_checked["VS-02"] == "skipped (skip_rules)"
    assert summary["rules_checked"] == ["VS-01", "VS-03", "VS-04", "VS-05"]
    doc = report.document(result)
    assert "- Not checked: MS-01, no failover-cluster node was read" in report.markdown(doc)
    assert "Not checked: NLB-03, no NLB node was read" in report.html(doc)
