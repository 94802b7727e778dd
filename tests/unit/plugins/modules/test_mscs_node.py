import winrm_module_path  # noqa: F401  # pylint: disable=unused-import

from ansible_collections.clustersafe.deep_security.plugins.modules import mscs_node
from winrm_fakes import FakeClient, mscs_document, run_module

CONNECTION = {"hostname": "127.0.0.21", "username": "LAB\\dsadmin", "password": "Pw-secret-1"}


def test_check_mode_reports_and_runs_no_action(monkeypatch, capsys):
    client = FakeClient({"mscs_cluster_info": mscs_document()})
    result, failed = run_module(monkeypatch, capsys, mscs_node,
                                dict(CONNECTION, state="drained", _ansible_check_mode=True, _ansible_diff=True), client)
    assert not failed and result["changed"] and result["actions"] == ["drain"]
    assert result["diff"]["after"]["state"] == "Paused"
    assert [call[0] for call in client.calls] == ["mscs_cluster_info"]


def test_degraded_cluster_is_refused(monkeypatch, capsys):
    client = FakeClient({"mscs_cluster_info": mscs_document(states={"SQL-NODE2": "Down"})})
    result, failed = run_module(monkeypatch, capsys, mscs_node, dict(CONNECTION, state="stopped"), client)
    assert failed and "SQL-NODE2 is Down" in result["msg"]


def test_bad_timeout(monkeypatch, capsys):
    result, failed = run_module(monkeypatch, capsys, mscs_node, dict(CONNECTION, state="drained", timeout=0),
                                FakeClient({}))
    assert failed and "timeout" in result["msg"]
