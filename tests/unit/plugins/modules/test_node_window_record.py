"""The two window-record modules end to end with a fake client: argument spec, check mode, diff only
when asked, clear errors before any connection, no password in the result."""
import winrm_module_path  # noqa: F401  # pylint: disable=unused-import

from ansible_collections.clustersafe.deep_security.plugins.modules import node_window_record, node_window_record_info
from winrm_fakes import FakeClient, run_module

CONNECTION = {"hostname": "127.0.0.21", "username": "LAB\\dsadmin", "password": "Pw-secret-1"}
RECORD = {"window": "CHG1", "change": "node_drained", "since": "2026-11-26T07:30:00Z", "controller": "ctl01",
          "data": '{"failback":"none"}'}


def answers(before, after=None):
    found = {"node_window_record_info": {"computer": "SQL-NODE1", "records": before}}
    if after is not None:
        found["node_window_record"] = {"computer": "SQL-NODE1", "records": after}
    return found


def test_present_changes_and_reports_records_without_diff_unless_asked(monkeypatch, capsys):
    client = FakeClient(answers([], [RECORD]))
    result, failed = run_module(monkeypatch, capsys, node_window_record,
                                dict(CONNECTION, window="CHG1", change="node_drained", data={"failback": "none"}),
                                client)
    assert not failed and result["changed"]
    assert result["records"] == [dict(RECORD, data={"failback": "none"})]
    assert "diff" not in result
    assert client.calls[1][1]["controller"]  # the controller's host name, computed here
    assert "Pw-secret-1" not in repr(result)


def test_check_mode_with_diff_writes_nothing(monkeypatch, capsys):
    client = FakeClient(answers([]))
    result, failed = run_module(monkeypatch, capsys, node_window_record,
                                dict(CONNECTION, window="CHG1", change="node_drained", data={"failback": "none"},
                                     _ansible_check_mode=True, _ansible_diff=True), client)
    assert not failed and result["changed"] and result["records"] == []
    assert result["diff"]["before"] == {"records": []}
    assert result["diff"]["after"]["records"][0]["change"] == "node_drained"
    assert [call[0] for call in client.calls] == ["node_window_record_info"]


def test_bad_window_id_fails_before_any_connection(monkeypatch, capsys):
    client = FakeClient({})
    result, failed = run_module(monkeypatch, capsys, node_window_record,
                                dict(CONNECTION, window="CHG 1/2", change="node_drained"), client)
    assert failed and "parameter window='CHG 1/2' is not a valid window id" in result["msg"]
    assert client.calls == []


def test_present_without_change_names_the_choices(monkeypatch, capsys):
    result, failed = run_module(monkeypatch, capsys, node_window_record, dict(CONNECTION, window="CHG1"), FakeClient({}))
    assert failed and "change is required with state=present" in result["msg"] and "agent_maintenance" in result["msg"]


def test_absent_of_nothing_is_unchanged(monkeypatch, capsys):
    client = FakeClient(answers([RECORD]))
    result, failed = run_module(monkeypatch, capsys, node_window_record,
                                dict(CONNECTION, window="CHG2", state="absent"), client)
    assert not failed and not result["changed"] and len(result["records"]) == 1


def test_info_lists_one_window(monkeypatch, capsys):
    client = FakeClient(answers([RECORD, dict(RECORD, window="CHG2", data='{"failback":"policy"}')]))
    result, failed = run_module(monkeypatch, capsys, node_window_record_info, dict(CONNECTION, window="chg2"), client)
    assert not failed and not result["changed"]
    assert result["records"] == [dict(RECORD, window="CHG2", data={"failback": "policy"})]
    assert result["invalid_records"] == []
    assert client.calls == [("node_window_record_info", {"window": "chg2"})]


def test_info_refuses_a_bad_window_filter(monkeypatch, capsys):
    result, failed = run_module(monkeypatch, capsys, node_window_record_info, dict(CONNECTION, window="*"),
                                FakeClient({}))
    assert failed and "not a valid window id" in result["msg"]
