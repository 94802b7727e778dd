"""The report: the stable JSON document, Markdown for tickets, self-contained and escaped HTML."""
import json
import re

from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules import catalogue, report
from rules_facts import change, healthy

HOSTILE = '<script>alert("x")</script>|`*'


def _assessment(facts=None, plan=None):
    return catalogue.assess(facts if facts is not None else healthy(), plan or {})


def test_json_document_schema():
    doc, rendered = report.render(_assessment(change(healthy(), "vsphere_clusters.clusters.0.hosts.0.dsvas", [])))
    parsed = json.loads(rendered["json"])
    assert parsed["schema"] == "clustersafe.deep_security.assessment" and parsed["schema_version"] == 1
    assert set(parsed) == {"schema", "schema_version", "summary", "findings", "overview"}
    assert parsed["summary"]["by_severity"] == {"blocker": 1, "warning": 0, "info": 0}
    assert parsed["findings"][0]["id"] == "VS-01"
    prod = parsed["overview"]["vsphere_clusters"][0]
    assert prod["name"] == "Prod" and len(prod["hosts"]) == 3 and prod["dsvas"][0]["pinned"] is True
    sql = parsed["overview"]["failover_clusters"][0]
    assert [n["roles"] for n in sql["nodes"]] == [["SQL Server (MSSQLSERVER)"], [], []]
    assert sql["nodes"][0]["agent_version"] == "20.0.1.690"
    web = parsed["overview"]["nlb_clusters"][0]
    assert [n["dsm"]["intrusion_prevention"] for n in web["nodes"]] == ["off", "off", "off"]


def test_rendering_is_stable():
    assert report.render(_assessment())[1] == report.render(_assessment())[1]


def test_html_is_self_contained_and_lists_findings():
    facts = change(healthy(), "dsm_computers.computers.4.modules.intrusion_prevention.state", "prevent")
    page = report.render(_assessment(facts))[1]["html"]
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<(script|link|img|iframe)\b", page) and "http://" not in page and "https://" not in page
    assert page.count('class="finding"') == 1 and 'data-rule="NLB-01"' in page
    assert "Host \\ DSVA" in page and "dsva-esx-1" in page and "pinned" in page
    assert "Failover cluster SQLCLU01" in page and "NLB cluster WEBFARM" in page
    assert "NodeAndFileShareMajority (witness: File Share Witness)" in page


def test_nodes_without_a_dsm_computer_show_no_module_state():
    facts = change(healthy(), "dsm_computers", {"computers": []})
    text = report.render(_assessment(facts))[1]["markdown"]
    assert "| WEB1 | Converged | none | - | - | - |" in text


def test_html_escapes_every_gathered_value():
    facts = change(healthy(), "vsphere_clusters.clusters.0.name", HOSTILE)
    facts = change(facts, "vsphere_clusters.clusters.0.hosts.0.dsvas", [])
    facts = change(facts, "failover_nodes.results.0.groups.1.name", HOSTILE)
    page = report.render(_assessment(facts))[1]["html"]
    assert "<script" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_markdown_escapes_table_syntax():
    facts = change(healthy(), "vsphere_clusters.clusters.0.name", HOSTILE)
    facts = change(facts, "vsphere_clusters.clusters.0.hosts.0.dsvas", [])
    text = report.render(_assessment(facts))[1]["markdown"]
    row = [line for line in text.splitlines() if line.startswith("| blocker")][0]
    assert row.count(" | ") == 4 and "<script" not in text and "\\|" in row


def test_markdown_says_when_blocked():
    text = report.render(_assessment(change(healthy(), "vsphere_clusters.clusters.0.hosts.0.dsvas", [])))[1]["markdown"]
    assert "Blockers present" in text
    assert "Blockers present" not in report.render(_assessment())[1]["markdown"]


def test_only_the_asked_formats():
    assert set(report.render(_assessment(), ["html"])[1]) == {"html"}
