"""Service flows with a scripted client: check mode acts on nothing, actions run in order, results verified."""
import json

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import InterlockError, WaitTimeoutError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import ScriptError
from winrm_fakes import RECORD_DATA, FakeClient, agent_document, mscs_document, nlb_document

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
    # two minutes reach Stop-NlbClusterNode -Timeout as 120 seconds
    assert client.calls[1] == ("nlb_node", {"action": "drainstop", "drain_seconds": 120})
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


# --- mscs_node with a window: the change recorded on the node first, removed once undone -------------------

def record_document(*changes, window="CHG1"):
    return {"computer": "SQL-NODE1", "records": [
        {"window": window, "change": change, "since": "2026-11-26T10:00:00Z", "controller": "ctl01",
         "data": RECORD_DATA[change]} for change in changes]}


def test_info_with_window_records_reads_them_over_the_same_client():
    records = record_document("node_drained", "cluster_service_stopped", window="CHG7")
    records["records"].append({"window": "CHG8", "change": "agent_maintenance", "since": None, "controller": "ctl02",
                               "data": RECORD_DATA["agent_maintenance"]})
    client = FakeClient({"mscs_cluster_info": mscs_document(), "node_window_record_info": records})
    result = service.mscs_cluster_info(client, window_records=True)
    assert scripts_run(client) == ["mscs_cluster_info", "node_window_record_info"]
    assert sorted((record["window"], record["change"]) for record in result["window_records"]) == [
        ("CHG7", "cluster_service_stopped"), ("CHG7", "node_drained")]
    # every window's records: the read is not limited to one window
    assert client.calls[1][1] == {"window": None}
    # a record without since (a write cut short, or a hand edit) is not trusted: returned apart, warned about
    (invalid,) = result["invalid_window_records"]
    assert (invalid["window"], invalid["change"]) == ("CHG8", "agent_maintenance") and "since" in invalid["reason"]
    assert any("since" in warning for warning in result["warnings"]), result["warnings"]
    assert result["nodes"] and result["changed"] is False


def test_info_without_window_records_runs_only_the_cluster_read():
    client = FakeClient({"mscs_cluster_info": mscs_document(), "node_window_record_info": record_document("node_drained")})
    result = service.mscs_cluster_info(client)
    assert scripts_run(client) == ["mscs_cluster_info"] and "window_records" not in result


def test_mscs_node_with_a_window_records_each_change_before_it_is_made():
    client = FakeClient({
        "mscs_cluster_info": [mscs_document(), DRAINED, mscs_document(service="Stopped")],
        "mscs_node": {"completed": True, "cluster_service": "Running"},
        "node_window_record_info": [record_document(), record_document("node_drained")],
        "node_window_record": [record_document("node_drained"), record_document("node_drained", "cluster_service_stopped")],
    })
    service.mscs_node(client, "stopped", window="CHG1", controller="ctl01")
    order = [(name, (params or {}).get("action"), (params or {}).get("change")) for name, params in client.calls
             if name != "mscs_cluster_info"]
    assert order == [("node_window_record_info", None, None), ("node_window_record", "set", "node_drained"),
                     ("mscs_node", "drain", None),
                     ("node_window_record_info", None, None), ("node_window_record", "set", "cluster_service_stopped"),
                     ("mscs_node", "stop", None)]


def test_mscs_node_with_a_window_removes_the_record_after_the_start():
    client = FakeClient({
        "mscs_cluster_info": [mscs_document(service="Stopped"), mscs_document(states={"SQL-NODE1": "Paused"})],
        "mscs_node": {"completed": True, "cluster_service": "Running"},
        "node_window_record_info": record_document("node_drained", "cluster_service_stopped"),
        "node_window_record": record_document("node_drained"),
    })
    service.mscs_node(client, "started", window="CHG1")
    names = [name for name, params in client.calls if name != "mscs_cluster_info"]
    assert names == ["mscs_node", "node_window_record_info", "node_window_record"]
    removal = [params for name, params in client.calls if name == "node_window_record"][0]
    assert removal["action"] == "remove" and removal["changes"] == ["cluster_service_stopped"]


def test_mscs_node_already_there_removes_a_stale_record_of_its_window():
    client = FakeClient({
        "mscs_cluster_info": mscs_document(),
        "node_window_record_info": record_document("node_drained"),
        "node_window_record": record_document(),
    })
    result = service.mscs_node(client, "resumed", window="CHG1")
    assert result["changed"] and result["record_removed"]
    assert "mscs_node" not in [name for name, params in client.calls]


def test_mscs_node_already_there_without_a_record_changes_nothing():
    client = FakeClient({"mscs_cluster_info": mscs_document(), "node_window_record_info": record_document()})
    result = service.mscs_node(client, "started", window="CHG1")
    assert result["changed"] is False
    assert [name for name, params in client.calls] == ["mscs_cluster_info", "node_window_record_info"]


def test_mscs_node_check_mode_with_a_window_writes_no_record():
    client = FakeClient({"mscs_cluster_info": mscs_document(), "node_window_record_info": record_document()})
    result = service.mscs_node(client, "stopped", window="CHG1", check_mode=True)
    assert result["changed"] and [name for name, params in client.calls] == ["mscs_cluster_info"]


def test_mscs_node_refuses_a_bad_window_before_any_call():
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
    client = FakeClient({})
    with pytest.raises(ParameterError) as error:
        service.mscs_node(client, "stopped", window="CHG 1")
    assert "not a valid window id" in error.value.message and client.calls == []


def test_mscs_node_start_ends_the_agent_work_of_its_window_and_returns_the_nodes():
    client = FakeClient({
        "mscs_cluster_info": [mscs_document(service="Stopped"), mscs_document(states={"SQL-NODE1": "Paused"})],
        "mscs_node": {"completed": True, "cluster_service": "Running"},
        "node_window_record_info": record_document("agent_maintenance", "cluster_service_stopped", "node_drained"),
        "node_window_record": record_document("node_drained"),
    })
    result = service.mscs_node(client, "started", window="CHG1")
    removal = [params for name, params in client.calls if name == "node_window_record"]
    assert len(removal) == 1 and sorted(removal[0]["changes"]) == ["agent_maintenance", "cluster_service_stopped"]
    assert [node["name"] for node in result["nodes"]] == ["SQL-NODE1", "SQL-NODE2", "SQL-NODE3"]


def test_ds_agent_with_a_window_records_the_agent_work_before_msiexec():
    sha = "A" * 64
    client = FakeClient({
        "agent_info": [agent_document(service="Stopped"), agent_document(version="20.0.1.690", service="Stopped")],
        "node_window_record_info": record_document(),
        "node_window_record": {"computer": "SQL-NODE1", "records": [
            {"window": "CHG1", "change": "agent_maintenance", "since": "2026-11-26T10:00:00Z", "controller": "ctl01",
             "data": '{"activation":false,"state":"present","version":"20.0.1-690"}'}]},
        "agent_install": {"exit_code": 0, "log_tail": [], "version": "20.0.1.690", "service_status": "Running"},
    })
    desired = dict(state="present", version="20.0.1-690", installer_url=URL, installer_sha256=sha)
    service.ds_agent(client, desired, window="CHG1", controller="ctl01")
    names = [name for name, params in client.calls]
    assert names.index("node_window_record") < names.index("agent_install")
    record = [params for name, params in client.calls if name == "node_window_record"][0]
    assert record["change"] == "agent_maintenance" and record["action"] == "set"
    assert '"version":"20.0.1-690"' in record["data"] and '"activation":false' in record["data"]


def test_ds_agent_with_a_window_and_nothing_to_do_writes_no_record():
    client = FakeClient({"agent_info": agent_document(version="20.0.1.690", service="Stopped")})
    result = service.ds_agent(client, dict(state="present", version="20.0.1-690", installer_url=URL,
                                           installer_sha256="A" * 64), window="CHG1")
    assert result["changed"] is False and [name for name, params in client.calls] == ["agent_info"]


# --- nlb_node with a window: the stop recorded on the host first, removed after the start -------------------

def nlb_record_document(*changes, window="CHG1"):
    return {"computer": "WEB1", "records": [
        {"window": window, "change": change, "since": "2026-11-26T10:00:00Z", "controller": "ctl01",
         "data": '{"action":"drainstop","cluster":"WEBFARM"}'} for change in changes]}


def test_nlb_node_with_a_window_records_the_drainstop_before_it_is_made():
    client = FakeClient({
        "nlb_cluster_info": nlb_document(),
        "nlb_node": {"state": "Stopped"},
        "node_window_record_info": nlb_record_document(),
        "node_window_record": nlb_record_document("nlb_node_stopped"),
    })
    service.nlb_node(client, "drainstopped", drain_timeout=1, window="CHG1", controller="ctl01")
    order = [(name, (params or {}).get("action"), (params or {}).get("change")) for name, params in client.calls]
    assert order == [("nlb_cluster_info", None, None), ("node_window_record_info", None, None),
                     ("node_window_record", "set", "nlb_node_stopped"), ("nlb_node", "drainstop", None)]
    written = [params for name, params in client.calls if name == "node_window_record"][0]
    assert json.loads(written["data"]) == {"action": "drainstop", "cluster": "WEBFARM"}
    assert written["controller"] == "ctl01"


def test_nlb_node_with_a_window_removes_the_record_after_the_start():
    client = FakeClient({
        "nlb_cluster_info": nlb_document(states={"WEB1": "Stopped"}),
        "nlb_node": {"state": "Converged"},
        "node_window_record_info": nlb_record_document("nlb_node_stopped"),
        "node_window_record": nlb_record_document(),
    })
    result = service.nlb_node(client, "started", window="CHG1")
    assert result["changed"]
    names = [name for name, params in client.calls]
    assert names == ["nlb_cluster_info", "nlb_node", "node_window_record_info", "node_window_record"]
    removal = [params for name, params in client.calls if name == "node_window_record"][0]
    assert removal["action"] == "remove" and removal["changes"] == ["nlb_node_stopped"]


def test_nlb_node_start_that_does_not_converge_keeps_the_record():
    client = FakeClient({
        "nlb_cluster_info": nlb_document(states={"WEB1": "Stopped"}),
        "nlb_node": {"state": "Stopped"},
        "node_window_record_info": nlb_record_document("nlb_node_stopped"),
    })
    with pytest.raises(WaitTimeoutError):
        service.nlb_node(client, "started", window="CHG1")
    assert "node_window_record" not in [name for name, params in client.calls]


def test_nlb_node_already_started_removes_a_stale_record_of_its_window():
    client = FakeClient({
        "nlb_cluster_info": nlb_document(),
        "node_window_record_info": nlb_record_document("nlb_node_stopped"),
        "node_window_record": nlb_record_document(),
    })
    result = service.nlb_node(client, "started", window="CHG1")
    assert result["changed"] and result["record_removed"]
    assert "nlb_node" not in [name for name, params in client.calls]


def test_nlb_node_already_started_without_a_record_changes_nothing():
    client = FakeClient({"nlb_cluster_info": nlb_document(), "node_window_record_info": nlb_record_document()})
    result = service.nlb_node(client, "started", window="CHG1")
    assert result["changed"] is False
    assert [name for name, params in client.calls] == ["nlb_cluster_info", "node_window_record_info"]


def test_nlb_node_check_mode_with_a_window_writes_no_record():
    client = FakeClient({"nlb_cluster_info": nlb_document()})
    result = service.nlb_node(client, "drainstopped", window="CHG1", check_mode=True)
    assert result["changed"] and [name for name, params in client.calls] == ["nlb_cluster_info"]


def test_nlb_node_suspend_is_not_recorded():
    client = FakeClient({"nlb_cluster_info": nlb_document(), "nlb_node": {"state": "Suspended"}})
    service.nlb_node(client, "suspended", window="CHG1")
    assert [name for name, params in client.calls] == ["nlb_cluster_info", "nlb_node"]


def test_nlb_node_refuses_a_bad_window_before_any_call():
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
    client = FakeClient({})
    with pytest.raises(ParameterError) as error:
        service.nlb_node(client, "stopped", window="CHG 1")
    assert "not a valid window id" in error.value.message and client.calls == []


@pytest.mark.parametrize("mutex, service_state, words", [
    (True, {"status": "Running", "accepts_shutdown": True}, "an installer is running there"),
    (None, {"status": "Stopped", "accepts_shutdown": False}, "cannot be read"),
])
def test_mscs_node_refuses_to_start_the_cluster_service_while_an_installer_runs_or_cannot_be_read(mutex, service_state, words):
    """MS-02 as an interlock of the module itself: a start waits for the installation to end, whoever asks."""
    stopped = mscs_document(service="Stopped")
    stopped["agent"].update(installer_running=mutex, installer_service=service_state)
    client = FakeClient({"mscs_cluster_info": stopped})
    with pytest.raises(InterlockError, match=words) as raised:
        service.mscs_node(client, "started", window="CHG1")
    assert raised.value.details["rule"] == "MS-02"
    assert [name for name, params in client.calls] == ["mscs_cluster_info"]


def test_mscs_node_start_with_force_does_not_wait_for_the_installer():
    stopped = mscs_document(service="Stopped")
    stopped["agent"].update(installer_running=None)
    client = FakeClient({"mscs_cluster_info": [stopped, mscs_document()],
                         "mscs_node": {"completed": True, "cluster_service": "Running"}})
    assert service.mscs_node(client, "started", force=True)["changed"]
