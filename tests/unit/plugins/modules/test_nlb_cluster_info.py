import winrm_module_path  # noqa: F401  # pylint: disable=unused-import

from ansible_collections.clustersafe.deep_security.plugins.modules import nlb_cluster_info
from winrm_fakes import FakeClient, nlb_document, run_module

CONNECTION = {"hostname": "127.0.0.31", "username": "LAB\\dsadmin", "password": "Pw-secret-1"}


def test_returns_the_farm(monkeypatch, capsys):
    result, failed = run_module(monkeypatch, capsys, nlb_cluster_info, CONNECTION,
                                FakeClient({"nlb_cluster_info": nlb_document()}))
    assert not failed and result["cluster"]["name"] == "WEBFARM" and len(result["nodes"]) == 3


def test_no_nlb_is_a_clear_failure(monkeypatch, capsys):
    result, failed = run_module(monkeypatch, capsys, nlb_cluster_info, CONNECTION,
                                FakeClient({"nlb_cluster_info": nlb_document(installed=False)}))
    assert failed and "no Network Load Balancing" in result["msg"]
