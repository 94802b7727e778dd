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
