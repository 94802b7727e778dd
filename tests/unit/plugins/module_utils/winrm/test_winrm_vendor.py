"""Vendor facts the Windows side relies on, one section per fact: the installer's mutex and service (Microsoft's
_MSIExecute page, .NET Mutex.OpenExisting), ..."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import agent, scripts, wsfc
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.wsfc import ClusterOutputError


def cluster_document(**agent_fields):
    return {"computer": "SQL-NODE1", "cluster_service": {"status": "Stopped", "start_mode": "Automatic"},
            "cluster": None, "nodes": [], "groups": [], "networks": [], "agent": agent_fields}


# --- the installer: running, idle or unknown ---------------------------------------------------------

@pytest.mark.parametrize("running, service, state", [
    (False, {"status": "Stopped", "accepts_shutdown": False}, "idle"),
    (False, None, "idle"),
    (True, {"status": "Stopped", "accepts_shutdown": False}, "running"),
    (True, None, "running"),
    (None, None, "unknown"),
    (None, {"status": "Stopped", "accepts_shutdown": False}, "unknown"),
    # the service processing an installation is running, whatever the mutex said
    (False, {"status": "Running", "accepts_shutdown": True}, "running"),
    (None, {"status": "Running", "accepts_shutdown": True}, "running"),
    # the service up but not accepting SERVICE_ACCEPT_SHUTDOWN: the mutex decides
    (False, {"status": "Running", "accepts_shutdown": False}, "idle"),
])
def test_installer_state(running, service, state):
    assert agent.installer_state({"installer_running": running, "installer_service": service}) == state
    # the whole mscs_cluster_info result works as well
    assert agent.installer_state({"agent": {"installer_running": running, "installer_service": service}}) == state


def test_an_answer_without_the_installer_fields_is_unknown_never_idle():
    assert agent.installer_state({}) == "unknown"
    assert agent.installer_state(None) == "unknown"
    facts = wsfc.cluster_facts(cluster_document(installed=False))
    assert facts["agent"]["installer_running"] is None and facts["agent"]["installer_state"] == "unknown"


def test_cluster_facts_carry_the_installer_state():
    facts = wsfc.cluster_facts(cluster_document(installer_running=False,
                                                installer_service={"status": "Stopped", "accepts_shutdown": False}))
    assert facts["agent"]["installer_state"] == "idle"
    facts = wsfc.cluster_facts(cluster_document(installer_running=None,
                                                installer_service={"status": "Running", "accepts_shutdown": True}))
    assert facts["agent"]["installer_state"] == "running"


@pytest.mark.parametrize("value", ["false", 0, 1, [], {}])
def test_a_foreign_installer_answer_is_refused(value):
    with pytest.raises(ClusterOutputError) as error:
        wsfc.cluster_facts(cluster_document(installer_running=value))
    assert "agent.installer_running" in error.value.message


def test_the_script_tells_not_found_from_access_denied_from_anything_else():
    body = scripts.body("mscs_cluster_info")
    start = body.index("$r.agent.installer_running = $null")
    block = body[start:body.index("$mi = Get-Service -Name msiserver")]
    # null until an answer is known; opened -> true; innermost exception decides
    assert "OpenExisting('Global\\_MSIExecute')).Dispose(); $r.agent.installer_running = $true" in block
    assert "while ($x.InnerException) { $x = $x.InnerException }" in block
    assert "if ($x -is [Threading.WaitHandleCannotBeOpenedException]) { $r.agent.installer_running = $false }" in block
    assert "elseif ($x -is [UnauthorizedAccessException]) { $r.agent.installer_running = $true }" in block
    assert block.count("installer_running = $false") == 1
    assert "accepts_shutdown = [bool]$mi.CanShutdown" in body
