"""The simulated Windows nodes on the vendor facts the collection relies on, over real WinRM: the installer's
mutex (running, access denied, unknown), ... Own ports, beside a running lab."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service as svc
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import WinRMClient

HTTP_PORT, HTTPS_PORT = 27985, 27986  # this module's own WinRM ports, for the windows_lab fixture
NODE1, NODE2, NODE3 = "127.0.0.21", "127.0.0.22", "127.0.0.23"


@pytest.fixture
def fresh(windows_lab):
    windows_lab["part"].reset()
    del windows_lab["events"][:]
    return windows_lab


def client(lab, address=NODE1, **overrides):
    overrides.setdefault("command_timeout", 5)
    return WinRMClient(lab["client_params"](address, **overrides))


def status(lab):
    return lab["part"].status()


# --- the installer -------------------------------------------------------------------------------------

@pytest.mark.parametrize("faults, running, state", [
    ({}, False, "idle"),
    ({"installer_running": ["SQL-NODE1"]}, True, "running"),
    ({"installer_mutex": {"SQL-NODE1": "denied"}}, True, "running"),
    ({"installer_mutex": {"SQL-NODE1": "broken"}}, None, "unknown"),
])
def test_the_installer_as_mscs_cluster_info_reads_it(fresh, faults, running, state):
    fresh["part"].set_faults(faults)
    agent = svc.mscs_cluster_info(client(fresh))["agent"]
    assert agent["installer_running"] is running and agent["installer_state"] == state
    # the other nodes are not concerned
    assert svc.mscs_cluster_info(client(fresh, NODE2))["agent"]["installer_state"] == "idle"


# --- the agent: activation by certificate, the restart of 1641, the product code ---------------------------

from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import agent  # noqa: E402
from tests.lab.windows import model as lab_model  # noqa: E402

WEB1 = "127.0.0.31"
SOFTWARE = "https://127.0.0.1:14119/software/agent/Windows/x86_64/%s/agent.msi"


def wanted(version="20.0.1-690", **kwargs):
    base = dict(state="present", version=version, installer_url=SOFTWARE % version,
                installer_sha256=lab_model.lab_msi_sha256(version), activation_url="dsm://127.0.0.1:4120/", policy_id=4)
    base.update(kwargs)
    return base


def agent_status(lab, address=WEB1):
    return svc._agent_info(client(lab, address))["agent"]["status"]


def test_the_certificate_tells_activation_and_a_reset_takes_it_back(fresh):
    svc.ds_agent(client(fresh, WEB1), wanted(activation_url=None, policy_id=None))
    status_lines = agent_status(fresh)
    assert status_lines["agentCertHash"] == agent.BOOTSTRAP_CERT_HASH and "dsmUrl" not in status_lines
    svc.ds_agent(client(fresh, WEB1), wanted())
    activated = agent_status(fresh)
    assert activated["agentCertHash"] != agent.BOOTSTRAP_CERT_HASH and activated["dsmUrl"] == "dsm://127.0.0.1:4120/"
    # to another manager: reset (bootstrap certificate again), then activated with a certificate of the new one
    result = svc.ds_agent(client(fresh, WEB1), wanted(activation_url="dsm://127.0.0.9:4120/"))
    assert result["actions"] == ["activate"] and result["agent"]["activated"]
    assert agent_status(fresh)["agentCertHash"] not in (agent.BOOTSTRAP_CERT_HASH, activated["agentCertHash"])


def test_1641_on_a_cluster_node_restarts_it_and_its_cluster_service_comes_back(fresh):
    node1 = client(fresh)
    svc.mscs_node(node1, "stopped")
    fresh["part"].set_faults({"msi_exit_next": 1641})
    with pytest.raises(agent.RestartInitiatedError) as error:
        svc.ds_agent(node1, wanted(policy_id=3))
    assert error.value.details["restart_initiated"] is True
    document = status(fresh)
    assert [item["host_name"] for item in document["events"] if item["event"] == "node.rebooted"] == ["SQL-NODE1"]
    # the cluster service starts with the node (still paused after its drain): why the work must stop there
    node = document["clusters"]["SQLCLU01"]["nodes"]["SQL-NODE1"]
    assert node == dict(state="Paused", cluster_service="Running", drain_status="Completed")
    assert document["agents"]["SQL-NODE1"]["activated"] is False and document["unplanned_failovers"] == 0


def test_a_damaged_uninstall_entry_runs_nothing(fresh):
    svc.ds_agent(client(fresh, WEB1), wanted())
    fresh["part"].set_faults({"product_code": {"WEB1": "{6D8A3A5C} /i \\\\evil\\share\\x.msi"}})
    with pytest.raises(agent.AgentOutputError) as error:
        svc.ds_agent(client(fresh, WEB1), dict(state="absent"))
    assert "nothing was run" in error.value.message
    assert status(fresh)["agents"]["WEB1"]["version"] == "20.0.1-690"
    # the script refuses on its own too, when the key name is not the one the module checked
    fresh["part"].set_faults({"product_code": {}})
    with pytest.raises(Exception) as refused:
        client(fresh, WEB1).run("agent_remove", svc.scripts.body("agent_remove"), {},
                                stdin_params=dict(password=None, product_code="{00000000-0000-0000-0000-000000000000}"))
    assert "nothing was run" in str(refused.value)
    assert status(fresh)["agents"]["WEB1"]["version"] == "20.0.1-690"


# --- roles and the stop ---------------------------------------------------------------------------------------

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import InterlockError  # noqa: E402
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import wsfc  # noqa: E402

AG01 = {"name": "AG01", "owner": "SQL-NODE1", "resource_types": ["SQL Server Availability Group", "Network Name"],
        "possible_owners": ["SQL-NODE1", "SQL-NODE2"]}


def test_an_availability_group_on_the_node_refuses_its_drain_until_it_is_failed_over(fresh):
    fresh["part"].set_faults({"roles": {"SQLCLU01": [AG01]}})
    groups = dict((group["name"], group) for group in svc.mscs_cluster_info(client(fresh))["groups"])
    assert groups["AG01"]["kind"] == "availability_group" and groups["SQL Server (MSSQLSERVER)"]["kind"] == "fci"
    with pytest.raises(InterlockError) as error:
        svc.mscs_node(client(fresh), "stopped", force=True)
    assert "ALTER AVAILABILITY GROUP [AG01] FAILOVER" in error.value.message
    assert status(fresh)["failovers"] == []  # nothing moved
    # the AG failed over by SQL Server (here: its owner changed to SQL-NODE2): the node may go
    fresh["part"].model.state["clusters"]["SQLCLU01"]["groups"][-1]["owner"] = "SQL-NODE2"
    assert svc.mscs_node(client(fresh), "stopped")["actions"] == ["drain", "stop"]
    assert status(fresh)["unplanned_failovers"] == 0


def test_a_role_only_this_node_may_own_refuses_the_drain(fresh):
    fresh["part"].set_faults({"roles": {"SQLCLU01": [dict(AG01, name="FS01", resource_types=["File Server"],
                                                          possible_owners=["SQL-NODE1"])]}})
    with pytest.raises(InterlockError) as error:
        svc.mscs_node(client(fresh), "drained")
    assert "role FS01 can be owned only by SQL-NODE1" in error.value.message


def test_a_role_failed_on_its_target_is_moved_back(fresh):
    fresh["part"].set_faults({"fail_on_move": ["SQL Server (MSSQLSERVER)"]})
    with pytest.raises(wsfc.DrainFailedError) as error:
        svc.mscs_node(client(fresh), "stopped", window="CHG-BACK")
    assert "never in service" in error.value.message and error.value.details["moved_back"] is True
    document = status(fresh)
    assert document["clusters"]["SQLCLU01"]["groups"]["SQL Server (MSSQLSERVER)"] == dict(owner="SQL-NODE1",
                                                                                          state="Online")
    assert document["clusters"]["SQLCLU01"]["nodes"]["SQL-NODE1"]["state"] == "Up"
    assert [item["cause"] for item in document["failovers"]] == ["drain", "moved back: failed after the drain"]
    # the node was put back in service: no record of the window is left on it, and its service never stopped
    assert document["window_records"]["SQL-NODE1"] == []


@pytest.mark.parametrize("faults, word", [
    ({"quorum_loss_on_stop": ["SQL-NODE1"]}, "WillOfflineLoseQuorum"),
    ({"dependent_services": {"SQL-NODE1": ["VendorHA"]}}, "VendorHA"),
])
def test_the_stop_is_refused_on_the_node(fresh, faults, word):
    fresh["part"].set_faults(faults)
    with pytest.raises(InterlockError) as error:
        svc.mscs_node(client(fresh), "stopped")
    assert word in error.value.message and "stays paused" in error.value.message
    node = status(fresh)["clusters"]["SQLCLU01"]["nodes"]["SQL-NODE1"]
    assert node["cluster_service"] == "Running" and node["state"] == "Paused"


def test_force_lets_the_stop_lose_quorum_and_the_core_groups_move_first(fresh):
    fresh["part"].set_faults({"quorum_loss_on_stop": ["SQL-NODE1"]})
    svc.mscs_node(client(fresh), "stopped", force=True)
    core = [item for item in status(fresh)["failovers"] if item["role"] in ("Cluster Group", "Available Storage")]
    assert core and all(item["planned"] and item["how"] == "Move-ClusterGroup" for item in core)
