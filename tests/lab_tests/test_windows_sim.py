"""The simulated Windows nodes, driven in-process through the collection's own WinRM client (and bare
pywinrm): protocol, authentication, TLS, faults, the shell count of info calls, persistence and the
MS-02 hazard model. Uses its own ports so it can run beside a running lab."""
import copy

import pytest
import winrm

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import InterlockError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service as svc
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import (
    MalformedOutputError,
    WinRMAuthError,
    WinRMClient,
    WinRMTimeoutError,
    WinRMTLSError,
    WinRMUnreachableError,
)
from tests.lab.windows import model as lab_model

HTTP_PORT, HTTPS_PORT = 25985, 25986  # this module's own WinRM ports, for the windows_lab fixture


@pytest.fixture
def fresh(windows_lab):
    windows_lab["part"].reset()
    del windows_lab["events"][:]
    return windows_lab


def params(lab, address="127.0.0.21", **overrides):
    overrides.setdefault("command_timeout", 3)
    return lab["client_params"](address, **overrides)


def client(lab, address="127.0.0.21", **overrides):
    return WinRMClient(params(lab, address, **overrides))


def counters(lab, node):
    return copy.deepcopy(lab["part"].status()["counters"].get(node, {}))


def test_ntlm_https_and_basic_http_both_work(fresh):
    assert svc.mscs_cluster_info(client(fresh))["cluster"]["name"] == "SQLCLU01"
    basic = client(fresh, "127.0.0.22", transport="basic", scheme="http", port=HTTP_PORT, allow_unencrypted_http=True)
    assert svc.mscs_cluster_info(basic)["computer"] == "SQL-NODE2"
    basic_tls = client(fresh, "127.0.0.23", transport="basic")
    assert svc.mscs_cluster_info(basic_tls)["computer"] == "SQL-NODE3"


def test_bare_pywinrm_run_ps_sees_a_powershell_error_for_unknown_scripts(fresh):
    session = winrm.Session("https://127.0.0.21:%d/wsman" % HTTPS_PORT, auth=(params(fresh)["username"],
                            params(fresh)["password"]), transport="ntlm", ca_trust_path=fresh["ca"])
    response = session.run_ps("Get-Process")
    assert response.status_code == 1
    assert b"clustersafe" in response.std_err and not response.std_err.startswith(b"#< CLIXML")
    assert session.run_cmd("ipconfig").status_code == 1


def test_wrong_password_is_an_auth_error(fresh):
    for transport, scheme, port in (("ntlm", "https", HTTPS_PORT), ("basic", "http", HTTP_PORT)):
        with pytest.raises(WinRMAuthError) as error:
            svc.mscs_cluster_info(client(fresh, password="wrong", transport=transport, scheme=scheme, port=port,
                                         allow_unencrypted_http=True))
        assert "wrong" not in error.value.message


def test_untrusted_certificate_is_a_tls_error(fresh):
    with pytest.raises(WinRMTLSError) as error:
        svc.mscs_cluster_info(client(fresh, ca_path="/etc/ssl/certs/ca-certificates.crt"))
    assert "ca_path" in error.value.message


def test_nobody_listening_is_unreachable(fresh):
    with pytest.raises(WinRMUnreachableError):
        svc.mscs_cluster_info(client(fresh, "127.0.0.29"))


def test_timeout_fault_is_bounded_and_changes_nothing(fresh):
    fresh["part"].set_faults({"timeout_next": 1})
    with pytest.raises(WinRMTimeoutError) as error:
        svc.mscs_node(client(fresh), "drained")
    assert "command_timeout" in error.value.message
    assert fresh["part"].status()["clusters"]["SQLCLU01"]["nodes"]["SQL-NODE1"]["state"] == "Up"


def test_malformed_output_is_reported(fresh):
    fresh["part"].set_faults({"malformed_next": 1})
    with pytest.raises(MalformedOutputError):
        svc.nlb_cluster_info(client(fresh, "127.0.0.31"))


def test_info_calls_cost_one_shell_per_node(fresh):
    for address, node, call in (("127.0.0.21", "SQL-NODE1", svc.mscs_cluster_info),
                                ("127.0.0.31", "WEB1", svc.nlb_cluster_info)):
        before = counters(fresh, node)
        call(client(fresh, address))
        after = counters(fresh, node)
        for operation in ("create", "command", "receive", "signal", "delete"):
            assert after[operation] - before.get(operation, 0) == 1, (node, operation)


def test_not_a_cluster_node_and_no_nlb_are_clear_errors(fresh):
    with pytest.raises(Exception) as error:
        svc.mscs_cluster_info(client(fresh, "127.0.0.31"))
    assert "not a failover-cluster node" in str(error.value)
    with pytest.raises(Exception) as error:
        svc.nlb_cluster_info(client(fresh, "127.0.0.21"))
    assert "no Network Load Balancing" in str(error.value)


def status(lab):
    return lab["part"].status()


def test_right_sequence_has_no_unplanned_failover(fresh):
    node1 = client(fresh)
    assert svc.mscs_node(node1, "stopped")["actions"] == ["drain", "stop"]
    agent = dict(state="present", version="20.0.1-690", installer_url="https://127.0.0.1:14119/software/agent/"
                 "Windows/x86_64/20.0.1-690/agent.msi", installer_sha256=lab_model.lab_msi_sha256("20.0.1-690"),
                 dsm_url="dsm://127.0.0.1:4120/", policy_id=3)
    result = svc.ds_agent(node1, agent)
    assert result["actions"] == ["install", "activate"] and result["version"] == "20.0.1-690"
    assert svc.ds_agent(node1, agent)["changed"] is False
    assert svc.mscs_node(node1, "started")["changed"] is True
    assert svc.mscs_node(node1, "resumed")["changed"] is True
    document = status(fresh)
    assert document["unplanned_failovers"] == 0
    assert {item["cause"] for item in document["failovers"]} == {"drain", "cluster service stopped"}
    assert document["clusters"]["SQLCLU01"]["groups"]["SQL Server (MSSQLSERVER)"]["state"] == "Online"
    assert [event[0] for event in fresh["events"]] == ["agent.activated"]
    assert fresh["events"][0][1] == dict(host_name="SQL-NODE1", agent_version="20.0.1-690", policy_id=3,
                                         dsm_url="dsm://127.0.0.1:4120/")


def test_interlock_refuses_and_the_override_causes_an_unplanned_failover(fresh):
    node1 = client(fresh)
    agent = dict(state="present", version="20.0.1-690", installer_url="https://127.0.0.1:14119/software/agent/"
                 "Windows/x86_64/20.0.1-690/agent.msi", installer_sha256=lab_model.lab_msi_sha256("20.0.1-690"))
    with pytest.raises(InterlockError) as error:
        svc.ds_agent(node1, agent)
    assert "MS-02" in error.value.message and "mscs_node state=stopped" in error.value.message
    assert status(fresh)["agents"]["SQL-NODE1"]["version"] is None
    svc.ds_agent(node1, dict(agent, allow_running_cluster_service=True))
    document = status(fresh)
    unplanned = [item for item in document["failovers"] if not item["planned"]]
    assert {item["role"] for item in unplanned} == {"Cluster Group", "Available Storage", "SQL Server (MSSQLSERVER)"}
    assert document["clusters"]["SQLCLU01"]["groups"]["SQL Server (MSSQLSERVER)"]["state"] == "Failed"
    assert document["clusters"]["SQLCLU01"]["nodes"]["SQL-NODE1"]["cluster_service"] == "Stopped"


def test_network_driver_event_blips_the_node(fresh):
    fresh["world"].publish("agent.network_driver_loaded", host_name="SQL-NODE1", modules=["firewall"])
    assert status(fresh)["unplanned_failovers"] == 3
    assert fresh["world"].ask("windows.nlb_membership", host_name="WEB2") == dict(
        cluster="WEBFARM", state="Converged", exclusion_needed=True)
    assert fresh["world"].ask("windows.nlb_membership", host_name="SQL-NODE1") is None


def test_refuses_second_node_out_and_quorum_loss(fresh):
    svc.mscs_node(client(fresh), "stopped")
    with pytest.raises(InterlockError) as error:
        svc.mscs_node(client(fresh, "127.0.0.22"), "stopped")
    assert "SQL-NODE1 is Down" in error.value.message


def test_nlb_node_cycle_and_msi_failure(fresh):
    web1 = client(fresh, "127.0.0.31")
    assert svc.nlb_node(web1, "drainstopped")["node"]["state"] == "Stopped"
    assert svc.nlb_node(web1, "drainstopped")["changed"] is False
    with pytest.raises(InterlockError):
        svc.nlb_node(client(fresh, "127.0.0.32"), "stopped")
    fresh["part"].set_faults({"msi_exit_next": 1603})
    with pytest.raises(Exception) as error:
        svc.ds_agent(web1, dict(state="present", version="20.0.1-690", installer_path="C:\\agent-20.0.1-690.msi",
                                installer_sha256=lab_model.lab_msi_sha256("20.0.1-690")))
    assert "1603" in str(error.value) and "Installation success or error status: 1603" in str(error.value)
    assert svc.nlb_node(web1, "started")["node"]["state"] == "Converged"


def test_state_survives_a_restart(fresh):
    svc.mscs_node(client(fresh), "drained")
    reloaded = lab_model.WindowsModel(fresh["world"])
    assert reloaded.status()["clusters"]["SQLCLU01"]["nodes"]["SQL-NODE1"]["state"] == "Paused"


# --- cluster and NLB answers as the documented cmdlets give them -----------------------------------

def test_quorum_answers_in_the_2016_shape_and_counts_the_witness(fresh):
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import wsfc

    info = svc.mscs_cluster_info(client(fresh))
    assert info["cluster"]["quorum_type"] == "Majority"
    assert info["cluster"]["witness"] == "file_share" and info["cluster"]["witness_type"] == "File Share Quorum Witness"
    # three node votes: the dynamic witness has none
    assert info["cluster"]["witness_dynamic_weight"] == 0
    assert wsfc.quorum_after_stop(info, "SQL-NODE1") == (True, 2, 3)
    svc.mscs_node(client(fresh), "stopped")
    info = svc.mscs_cluster_info(client(fresh, "127.0.0.22"))
    # two node votes left: the witness votes again, so one more node could stop without losing quorum
    assert info["cluster"]["witness_dynamic_weight"] == 1
    assert wsfc.quorum_after_stop(info, "SQL-NODE2") == (True, 2, 3)


def test_force_does_not_force_the_drain(fresh):
    with fresh["world"].lock:
        fresh["part"].model.blip("SQL-NODE3", "test")  # SQL-NODE3 goes Down: only force lets SQL-NODE1 drain
    svc.mscs_node(client(fresh), "drained", force=True)
    drains = [event for event in status(fresh)["events"] if event["event"] == "wsfc.drain"]
    assert drains == [{"event": "wsfc.drain", "host_name": "SQL-NODE1", "force_drain": False}]


def test_drain_timeout_minutes_reach_the_node_as_seconds(fresh):
    web1 = client(fresh, "127.0.0.31")
    svc.nlb_node(web1, "drainstopped", drain_timeout=1)
    drain = [event for event in status(fresh)["events"] if event["event"] == "nlb.drainstop"][-1]
    assert drain["drain_seconds"] == 60 and drain["dropped_connections"] is False


def test_a_drain_shorter_than_the_open_connections_drops_them(fresh):
    web1 = client(fresh, "127.0.0.31")
    web1.run("nlb_node", "", {"action": "drainstop", "drain_seconds": 10})
    drain = [event for event in status(fresh)["events"] if event["event"] == "nlb.drainstop"][-1]
    assert drain["dropped_connections"] is True


def test_nlb_driver_state_is_a_host_state(fresh):
    web1 = client(fresh, "127.0.0.31")
    assert svc.nlb_cluster_info(web1)["cluster"]["host_state"] == "Started"
    outcome = svc.nlb_node(web1, "suspended")
    assert outcome["node"]["state"] == "Suspended"
    assert svc.nlb_cluster_info(web1)["cluster"]["host_state"] == "Suspended"
