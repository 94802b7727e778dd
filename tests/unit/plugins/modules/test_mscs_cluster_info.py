import winrm_module_path  # noqa: F401  # pylint: disable=unused-import

from ansible_collections.clustersafe.deep_security.plugins.modules import mscs_cluster_info
from winrm_fakes import FakeClient, mscs_document, run_module

CONNECTION = {"hostname": "127.0.0.21", "username": "LAB\\dsadmin", "password": "Pw-secret-1"}


def test_returns_facts_without_secrets(monkeypatch, capsys):
    result, failed = run_module(monkeypatch, capsys, mscs_cluster_info, CONNECTION,
                                FakeClient({"mscs_cluster_info": mscs_document()}))
    assert not failed and result["changed"] is False
    assert result["cluster"]["name"] == "SQLCLU01" and len(result["nodes"]) == 3
    assert "Pw-secret-1" not in repr(result)


def test_wrong_node_name_fails_with_nearest(monkeypatch, capsys):
    result, failed = run_module(monkeypatch, capsys, mscs_cluster_info, dict(CONNECTION, name="SQL-NOD1"),
                                FakeClient({"mscs_cluster_info": mscs_document()}))
    assert failed and "SQL-NODE1" in result["msg"] and result["nearest"]
