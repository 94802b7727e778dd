"""cluster_assess: the module's contract (options in, findings/summary/overview/reports out, check mode,
a clear failure for bad input) through main()."""
import json
import os
import sys

from ansible_collections.clustersafe.deep_security.plugins.modules import cluster_assess
from tests.unit.module_args import run_main

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "module_utils", "rules"))
from rules_facts import change, healthy  # noqa: E402  pylint: disable=wrong-import-position


def run_module(monkeypatch, capsys, args):
    return run_main(monkeypatch, capsys, cluster_assess, args)


def test_findings_and_summary(monkeypatch, capsys):
    facts = change(healthy(), "vsphere_clusters.clusters.0.dsvas.0.pinned", False)
    facts = change(facts, "vsphere_clusters.clusters.0.dsvas.0.drs_disabled", False)
    result, failed = run_module(monkeypatch, capsys, dict(facts, desktop_clusters=["VDI"]))
    assert not failed and result["changed"] is False
    assert [(f["id"], f["subject"]) for f in result["findings"]] == [("VS-03", "Prod/dsva-esx-1")]
    assert result["summary"]["by_severity"] == {"blocker": 1, "warning": 0, "info": 0}
    assert result["summary"]["by_rule"]["VS-03"]["blocker"] == 1
    assert "reports" not in result and result["overview"]["vsphere_clusters"][0]["name"] == "Prod"


def test_check_mode_is_the_same(monkeypatch, capsys):
    normal, _failed = run_module(monkeypatch, capsys, healthy())
    checked, failed = run_module(monkeypatch, capsys, dict(healthy(), _ansible_check_mode=True))
    assert not failed and checked["findings"] == normal["findings"] and checked["changed"] is False


def test_reports_when_asked(monkeypatch, capsys):
    result, failed = run_module(monkeypatch, capsys, dict(healthy(), report_formats=["json", "markdown", "html"]))
    assert not failed and set(result["reports"]) == {"json", "markdown", "html"}
    assert json.loads(result["reports"]["json"])["summary"] == result["summary"]


def test_bad_input_fails_cleanly(monkeypatch, capsys):
    result, failed = run_module(monkeypatch, capsys, dict(healthy(), agent_version="newest"))
    assert failed and "agent_version" in result["msg"] and result["parameter"] == "agent_version"


def test_unknown_report_format_is_refused(monkeypatch, capsys):
    result, failed = run_module(monkeypatch, capsys, dict(healthy(), report_formats=["pdf"]))
    assert failed and "report_formats" in result["msg"]
