"""WinRMModule, the module class of the Windows modules: its connection rules refuse before any client is
made, a missing pywinrm is named, and the diff comes back only in diff mode."""
import winrm_module_path  # noqa: F401  # pylint: disable=unused-import

from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import module as winrm_module
from ansible_collections.clustersafe.deep_security.plugins.modules import mscs_cluster_info, mscs_node, nlb_node
from tests.unit.module_args import run_main
from winrm_fakes import FakeClient, mscs_document, run_module

CONNECTION = {"hostname": "127.0.0.21", "username": "LAB\\dsadmin", "password": "Pw-secret-1"}


def no_client(params):
    raise AssertionError("a client was made despite a refused option")


def test_certificate_transport_needs_both_files_before_any_client(monkeypatch, capsys):
    monkeypatch.setattr(winrm_module, "WinRMClient", no_client)
    result, failed = run_main(monkeypatch, capsys, mscs_cluster_info,
                              {"hostname": "127.0.0.21", "transport": "certificate", "cert_pem": "/tmp/c.pem"})
    assert failed and "transport is certificate" in result["msg"] and "cert_key_pem" in result["msg"]


def test_password_transports_need_username_and_password(monkeypatch, capsys):
    monkeypatch.setattr(winrm_module, "WinRMClient", no_client)
    for transport in ("ntlm", "basic", "credssp"):
        result, failed = run_main(monkeypatch, capsys, mscs_cluster_info,
                                  {"hostname": "127.0.0.21", "transport": transport, "username": "u"})
        assert failed and "transport is %s" % transport in result["msg"] and "password" in result["msg"]


def test_kerberos_needs_neither(monkeypatch, capsys):
    client = FakeClient({"mscs_cluster_info": mscs_document()})
    result, failed = run_module(monkeypatch, capsys, mscs_cluster_info,
                                {"hostname": "node1.lab.example", "transport": "kerberos"}, client)
    assert not failed and result["cluster"]["name"] == "SQLCLU01"


def test_missing_pywinrm_is_named(monkeypatch, capsys):
    monkeypatch.setattr(winrm_module, "HAS_WINRM", False)
    monkeypatch.setattr(winrm_module, "WinRMClient", no_client)
    result, failed = run_main(monkeypatch, capsys, nlb_node, dict(CONNECTION, state="started"))
    assert failed and "pywinrm" in result["msg"]


def test_diff_only_in_diff_mode(monkeypatch, capsys):
    args = dict(CONNECTION, state="drained", _ansible_check_mode=True)
    result, failed = run_module(monkeypatch, capsys, mscs_node, args,
                                FakeClient({"mscs_cluster_info": mscs_document()}))
    assert not failed and result["changed"] and "diff" not in result
    result, failed = run_module(monkeypatch, capsys, mscs_node, dict(args, _ansible_diff=True),
                                FakeClient({"mscs_cluster_info": mscs_document()}))
    assert not failed and result["diff"]["after"]["state"] == "Paused"


def test_drain_timeout_refused_before_the_node_is_asked(monkeypatch, capsys):
    client = FakeClient({})
    result, failed = run_module(monkeypatch, capsys, nlb_node, dict(CONNECTION, state="drainstopped", drain_timeout=0),
                                client)
    assert failed and result["msg"] == "drain_timeout must be a positive number of minutes (got 0)"
    assert client.calls == []


HTTP_OPT_IN = dict(CONNECTION, scheme="http", transport="ntlm", allow_unencrypted_http=True)


def run_fresh(monkeypatch, capsys, module, args, client):
    """run_module as in a module process of its own: module warnings start empty (Ansible keeps them per
    process) and go into the result (from ansible-core 2.19 they go to the controller's display instead once
    a test in this process has loaded controller code). Returns (result, failed, warning texts: strings
    before 2.19, WarningSummary documents from it on)."""
    from ansible.module_utils.common import warnings as ansible_warnings
    try:
        from ansible.module_utils import _internal
        monkeypatch.setattr(_internal, "is_controller", False, raising=False)
    except ImportError:  # ansible-core < 2.19
        pass
    ansible_warnings._global_warnings.clear()
    result, failed = run_module(monkeypatch, capsys, module, args, client)
    texts = [item if isinstance(item, str) else item["event"]["msg"] for item in result.get("warnings") or []]
    return result, failed, texts


def test_plain_http_by_opt_in_warns_on_every_result(monkeypatch, capsys):
    client = FakeClient({"mscs_cluster_info": mscs_document()})
    result, failed, texts = run_fresh(monkeypatch, capsys, mscs_cluster_info, HTTP_OPT_IN, client)
    assert not failed
    (warning,) = [item for item in texts if item.startswith("allow_unencrypted_http=true")]
    assert "does not authenticate the node" in warning and "Pw-secret-1" not in repr(result)


def test_plain_http_by_opt_in_warns_on_a_failed_result_too(monkeypatch, capsys):
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import WinRMUnreachableError
    client = FakeClient({"mscs_cluster_info": WinRMUnreachableError("cannot reach WinRM at http://127.0.0.21")})
    result, failed, texts = run_fresh(monkeypatch, capsys, mscs_cluster_info, HTTP_OPT_IN, client)
    assert failed and "cannot reach" in result["msg"]
    assert [item for item in texts if item.startswith("allow_unencrypted_http=true")]


def test_certificate_validation_off_warns_once(monkeypatch, capsys):
    client = FakeClient({"mscs_cluster_info": mscs_document()})
    result, failed, texts = run_fresh(monkeypatch, capsys, mscs_cluster_info, dict(CONNECTION, validate_certs=False),
                                      client)
    assert not failed
    assert len([item for item in texts if item.startswith("validate_certs=false")]) == 1
    assert not any(item.startswith("allow_unencrypted_http") for item in texts)


def test_https_with_validation_has_no_connection_warning(monkeypatch, capsys):
    client = FakeClient({"mscs_cluster_info": mscs_document()})
    result, failed, texts = run_fresh(monkeypatch, capsys, mscs_cluster_info, CONNECTION, client)
    assert not failed and texts == []
