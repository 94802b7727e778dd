"""The info modules' ``query`` option: a JMESPath expression over the result, checked before anything is
sent, with errors that name ``query``."""
import os
import sys

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils import query as query_utils
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import module as winrm_module
from ansible_collections.clustersafe.deep_security.plugins.modules import cluster_assess, nlb_cluster_info
from tests.unit.module_args import run_main

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "rules"))
from rules_facts import change, healthy  # noqa: E402  pylint: disable=wrong-import-position

CLUSTERS = {"changed": False, "warnings": ["w"], "clusters": [
    {"name": "Prod", "dsvas": [{"name": "dsva-1", "host": "esx-1", "pinned": True},
                               {"name": "dsva-2", "host": "esx-2", "pinned": False}]},
    {"name": "VDI", "dsvas": [{"name": "dsva-3", "host": "esx-3", "pinned": False}]},
]}


def test_no_query_leaves_the_result_alone():
    assert query_utils.apply_query(CLUSTERS, query_utils.compile_query(None)) is CLUSTERS


def test_query_replaces_the_fields_keeps_changed_and_warnings():
    compiled = query_utils.compile_query("clusters[].dsvas[?!pinned][].name")
    assert query_utils.apply_query(CLUSTERS, compiled) == {
        "changed": False, "warnings": ["w"], "query_result": ["dsva-2", "dsva-3"]}


def test_query_does_not_see_changed_or_warnings():
    compiled = query_utils.compile_query("keys(@)")
    assert query_utils.apply_query(CLUSTERS, compiled)["query_result"] == ["clusters"]


def test_query_matching_nothing_returns_null():
    assert query_utils.apply_query(CLUSTERS, query_utils.compile_query("nothing"))["query_result"] is None


@pytest.mark.parametrize("expression", ["clusters[?", "clusters[?name == 'Prod'", "clusters.[", "clusters[?name == ]"])
def test_bad_syntax_names_query(expression):
    with pytest.raises(ParameterError) as error:
        query_utils.compile_query(expression)
    assert error.value.message.startswith("query is not a valid JMESPath expression")
    assert error.value.details["query"] == expression


def test_empty_query_names_query():
    with pytest.raises(ParameterError, match="^query is empty"):
        query_utils.compile_query("  ")


def test_type_error_at_search_names_query():
    compiled = query_utils.compile_query("length(clusters[0].name.missing)")
    with pytest.raises(ParameterError, match="^query failed on this result"):
        query_utils.apply_query(CLUSTERS, compiled, "length(clusters[0].name.missing)")


def test_missing_jmespath_is_reported(monkeypatch):
    monkeypatch.setattr(query_utils, "HAS_JMESPATH", False)
    with pytest.raises(ParameterError, match="jmespath"):
        query_utils.compile_query("clusters")


def test_cluster_assess_with_query(monkeypatch, capsys):
    facts = change(healthy(), "vsphere_clusters.clusters.0.dsvas.0.pinned", False)
    facts = change(facts, "vsphere_clusters.clusters.0.dsvas.0.drs_disabled", False)
    result, failed = run_main(monkeypatch, capsys, cluster_assess,
                              dict(facts, query="findings[?severity == 'blocker'].id"))
    assert not failed and result["query_result"] == ["VS-03"]
    assert "findings" not in result and "summary" not in result


def test_bad_query_fails_before_connecting(monkeypatch, capsys):
    # A WinRM endpoint nothing listens on: the error must be about query, not about the connection.
    def refuse(*_args, **_kwargs):
        raise AssertionError("the module connected despite a bad query")
    monkeypatch.setattr(winrm_module, "WinRMClient", refuse)
    result, failed = run_main(monkeypatch, capsys, nlb_cluster_info, {
        "hostname": "127.0.0.1", "port": 9, "username": "operator", "password": "lab-password-1", "query": "nodes[?"})
    assert failed and result["msg"].startswith("query is not a valid JMESPath expression"), result
    assert result["query"] == "nodes[?"
