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
