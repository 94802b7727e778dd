"""Service flows with a scripted client: check mode acts on nothing, actions run in order, results verified."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import InterlockError, WaitTimeoutError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import ScriptError
from winrm_fakes import FakeClient, agent_document, mscs_document, nlb_document

DRAINED = mscs_document(states={"SQL-NODE1": "Paused"}, drain={"SQL-NODE1": "Completed"},
                        owners={"SQL Server (MSSQLSERVER)": "SQL-NODE2"})
URL = "https://dsm:4119/software/agent/Windows/x86_64/20.0.1-690/agent.msi"


def scripts_run(client):
    return [call[0] for call in client.calls]


def test_info_is_one_script():
    client = FakeClient({"mscs_cluster_info": mscs_document()})
    result = service.mscs_cluster_info(client)
    assert scripts_run(client) == ["mscs_cluster_info"] and result["changed"] is False


def test_mscs_node_check_mode_changes_nothing():
    client = FakeClient({"mscs_cluster_info": mscs_document()})
    result = service.mscs_node(client, "stopped", check_mode=True)
    assert result["changed"] and result["actions"] == ["drain", "stop"]
    assert scripts_run(client) == ["mscs_cluster_info"]


def test_mscs_node_stop_drains_verifies_then_stops():
    client = FakeClient({
        "mscs_cluster_info": [mscs_document(), DRAINED, mscs_document(service="Stopped")],
        "mscs_node": {"completed": True, "cluster_service": "Running"},
    })
    result = service.mscs_node(client, "stopped", timeout=30)
    assert [params["action"] for name, params in client.calls if name == "mscs_node"] == ["drain", "stop"]
    assert result["node"]["cluster_service"] == "Stopped" and result["diff"]["before"]["state"] == "Up"


def test_mscs_node_drain_that_leaves_roles_behind_fails():
    client = FakeClient({
        "mscs_cluster_info": [mscs_document(), mscs_document(states={"SQL-NODE1": "Paused"},
                                                             drain={"SQL-NODE1": "Completed"})],
        "mscs_node": {"completed": True, "cluster_service": "Running"},
    })
    with pytest.raises(WaitTimeoutError) as error:
        service.mscs_node(client, "drained")
    assert "still on SQL-NODE1" in error.value.message


def test_mscs_node_wait_timeout_is_reported():
    client = FakeClient({"mscs_cluster_info": mscs_document(service="Stopped"),
                         "mscs_node": {"completed": False, "cluster_service": "Running"}})
    with pytest.raises(WaitTimeoutError) as error:
        service.mscs_node(client, "started", timeout=5)
    assert "did not complete within 5s" in error.value.message


def test_nlb_node_runs_and_checks_the_state():
    client = FakeClient({"nlb_cluster_info": nlb_document(), "nlb_node": {"state": "Stopped"}})
    result = service.nlb_node(client, "drainstopped", drain_timeout=2)
    assert result["node"]["state"] == "Stopped"
    assert client.calls[1] == ("nlb_node", {"action": "drainstop", "drain_timeout": 2})
    client = FakeClient({"nlb_cluster_info": nlb_document(), "nlb_node": {"state": "Converged"}})
    with pytest.raises(WaitTimeoutError):
        service.nlb_node(client, "stopped")


def desired(**kwargs):
    base = dict(state="present", version="20.0.1-690", installer_url=URL, installer_sha256="A" * 64, installer_path=None,
                dsm_url="dsm://dsm:4120/", policy_id=3, tenant_id=None, token="T0KEN-secret", reactivate=False,
                allow_running_cluster_service=False)
    base.update(kwargs)
    return base


def test_ds_agent_interlock_runs_nothing_but_the_read():
    client = FakeClient({"agent_info": agent_document(None)})
    with pytest.raises(InterlockError):
        service.ds_agent(client, desired())
    assert scripts_run(client) == ["agent_info"]


def test_ds_agent_check_mode_and_install_flow():
    stopped = agent_document(None, service="Stopped")
    client = FakeClient({"agent_info": stopped})
    result = service.ds_agent(client, desired(), check_mode=True)
    assert result["actions"] == ["install", "activate"] and scripts_run(client) == ["agent_info"]
    assert result["previous_version"] is None and result["version"] == "20.0.1-690"
    client = FakeClient({
        "agent_info": [stopped, agent_document("20.0.1.690", service="Stopped", activated=True,
                                               dsm_url="dsm://dsm:4120/", policy_id=3)],
        "agent_install": {"exit_code": 3010, "log_tail": [], "version": "20.0.1.690", "service_status": "Running"},
        "agent_activate": {"exit_code": 0, "output": "ok"},
    })
    result = service.ds_agent(client, desired())
    assert scripts_run(client) == ["agent_info", "agent_install", "agent_activate", "agent_info"]
    assert result["msi_exit_code"] == 3010 and result["reboot_required"] is True
    assert result["agent"]["activated"] is True
    assert "T0KEN-secret" not in repr(result)


def test_ds_agent_wrong_build_from_the_installer_fails():
    client = FakeClient({
        "agent_info": [agent_document(None, service=None), agent_document("20.0.1.3180", service=None)],
        "agent_install": {"exit_code": 0, "log_tail": [], "version": "20.0.1.3180", "service_status": "Running"},
    })
    with pytest.raises(ScriptError) as error:
        service.ds_agent(client, desired(dsm_url=None, policy_id=None, token=None))
    assert "installed agent version 20.0.1-3180, not the requested 20.0.1-690" in error.value.message
