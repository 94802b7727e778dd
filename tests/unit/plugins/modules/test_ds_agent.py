import winrm_module_path  # noqa: F401  # pylint: disable=unused-import

from ansible_collections.clustersafe.deep_security.plugins.modules import ds_agent
from winrm_fakes import FakeClient, agent_document, run_module

CONNECTION = {"hostname": "127.0.0.21", "username": "LAB\\dsadmin", "password": "Pw-secret-1"}
URL = "https://dsm:4119/software/agent/Windows/x86_64/20.0.1-690/agent.msi"
SHA = "A" * 64


def test_interlock_refusal_names_rule_and_fix(monkeypatch, capsys):
    client = FakeClient({"agent_info": agent_document(None)})
    result, failed = run_module(monkeypatch, capsys, ds_agent, dict(CONNECTION, version="20.0.1-690",
                                                                    installer_url=URL, installer_sha256=SHA,
                                                                    activation_url="dsm://dsm:4120/",
                                                                    token="T0KEN-secret"), client)
    assert failed and "MS-02" in result["msg"] and "mscs_node state=stopped" in result["msg"]
    assert result["rule"] == "MS-02"
    assert "T0KEN-secret" not in repr(result) and "Pw-secret-1" not in repr(result)


def test_check_mode_plans_install_and_activation(monkeypatch, capsys):
    client = FakeClient({"agent_info": agent_document(None, service="Stopped")})
    result, failed = run_module(monkeypatch, capsys, ds_agent,
                                dict(CONNECTION, version="20.0.1-690", installer_url=URL, installer_sha256=SHA,
                                     dsm_url="dsm://dsm:4120/", policy_id=3, token="T0KEN-secret",
                                     self_protection_password="SP-secret-1", _ansible_check_mode=True,
                                     _ansible_diff=True), client)
    assert not failed and result["changed"] and result["actions"] == ["install", "activate"]
    assert [call[0] for call in client.calls] == ["agent_info"]
    assert "T0KEN-secret" not in repr(result) and "SP-secret-1" not in repr(result)
    # dsm_url still works, as a deprecated alias of activation_url (Ansible prints each deprecation once
    # a process, so its text is not asserted here)
    assert result["diff"]["after"]["dsm_url"] == "dsm://dsm:4120/"


def test_url_and_path_are_exclusive(monkeypatch, capsys):
    result, failed = run_module(monkeypatch, capsys, ds_agent, dict(CONNECTION, version="20.0.1-690",
                                                                    installer_url=URL, installer_path="C:\\a.msi"),
                                FakeClient({}))
    assert failed and "mutually exclusive" in result["msg"]


def test_reboot_pending_and_bad_timeout(monkeypatch, capsys):
    client = FakeClient({"agent_info": agent_document(None, service="Stopped")})
    result, failed = run_module(monkeypatch, capsys, ds_agent, dict(CONNECTION, version="20.0.1-690",
                                                                    installer_url=URL, installer_sha256=SHA,
                                                                    install_timeout=0), client)
    assert failed and "install_timeout" in result["msg"] and client.calls == []


def test_url_credentials_and_signatures_never_come_back(monkeypatch, capsys):
    url = "https://svc:Pa55-word@dsm:4119/software/agent/Windows/x86_64/20.0.1-690/agent.msi?sig=S1GNATURE"
    client = FakeClient({"agent_info": agent_document(None, service="Running")})
    result, failed = run_module(monkeypatch, capsys, ds_agent, dict(CONNECTION, version="20.0.1-690",
                                                                    installer_url=url, installer_sha256=SHA), client)
    assert failed and "MS-02" in result["msg"]
    assert "Pa55-word" not in repr(result) and "S1GNATURE" not in repr(result)
