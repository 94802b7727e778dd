import winrm_module_path  # noqa: F401  # pylint: disable=unused-import

from ansible_collections.clustersafe.deep_security.plugins.modules import nlb_node
from winrm_fakes import FakeClient, nlb_document, run_module

CONNECTION = {"hostname": "127.0.0.31", "username": "LAB\\dsadmin", "password": "Pw-secret-1"}


def test_idempotent_when_already_there(monkeypatch, capsys):
    client = FakeClient({"nlb_cluster_info": nlb_document()})
    result, failed = run_module(monkeypatch, capsys, nlb_node, dict(CONNECTION, state="started"), client)
    assert not failed and result["changed"] is False and result["action"] is None


def test_suspended_host_must_be_resumed_first(monkeypatch, capsys):
    client = FakeClient({"nlb_cluster_info": nlb_document(states={"WEB1": "Suspended"})})
    result, failed = run_module(monkeypatch, capsys, nlb_node, dict(CONNECTION, state="started"), client)
    assert failed and "state=resumed" in result["msg"]


def test_bad_drain_timeout(monkeypatch, capsys):
    args = dict(CONNECTION, state="drainstopped", drain_timeout=0)
    result, failed = run_module(monkeypatch, capsys, nlb_node, args, FakeClient({}))
    assert failed and "drain_timeout" in result["msg"]


def test_window_option_reaches_the_node_record(monkeypatch, capsys):
    written_back = {"computer": "WEB1", "records": [
        {"window": "CHG0012345", "change": "nlb_node_stopped", "since": "2026-11-26T10:00:00Z", "controller": "ctl",
         "data": '{"action":"drainstop","cluster":"WEBFARM"}'}]}
    client = FakeClient({"nlb_cluster_info": nlb_document(), "nlb_node": {"state": "Stopped"},
                         "node_window_record_info": {"computer": "WEB1", "records": []},
                         "node_window_record": written_back})
    args = dict(CONNECTION, state="drainstopped", drain_timeout=1, window="CHG0012345")
    result, failed = run_module(monkeypatch, capsys, nlb_node, args, client)
    assert not failed and result["changed"], result
    written = [params for name, params in client.calls if name == "node_window_record"][0]
    assert written["window"] == "CHG0012345" and written["change"] == "nlb_node_stopped"
