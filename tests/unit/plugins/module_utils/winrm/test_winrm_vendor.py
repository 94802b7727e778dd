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


# --- activation as Trend's scripts judge it (agentCertHash, then dsmUrl) -----------------------------------

ACTIVATED = "3A:91:5C:0E:77:2B:D4:18:C6:05:9F:E1:42:7D:B8:63:0A:F2:9C:54"


@pytest.mark.parametrize("status, activated, signal", [
    ({"agentCertHash": agent.BOOTSTRAP_CERT_HASH}, False, "cert_hash"),
    ({"agentCertHash": agent.BOOTSTRAP_CERT_HASH.lower()}, False, "cert_hash"),
    # the bootstrap hash wins over a dsmUrl (Chef and the Ansible role never look at dsmUrl)
    ({"agentCertHash": agent.BOOTSTRAP_CERT_HASH, "dsmUrl": "dsm://dsm:4120/"}, False, "cert_hash"),
    ({"agentCertHash": ACTIVATED}, True, "cert_hash"),
    ({"agentCertHash": ACTIVATED, "dsmUrl": "dsm://dsm:4120/"}, True, "cert_hash"),
    # no hash printed: the DSM's generated deployment script's test, dsmUrl present
    ({"dsmUrl": "dsm://dsm:4120/"}, True, "dsm_url"),
    ({}, False, "dsm_url"),
    ({"agentCertHash": "not a hash"}, False, "unreadable_cert_hash"),
    ({"agentCertHash": ""}, False, "dsm_url"),
])
def test_activation_state(status, activated, signal):
    assert agent.activation_state(status) == (activated, signal)


def test_the_bootstrap_hash_is_the_one_of_trends_role_and_cookbook():
    assert agent.BOOTSTRAP_CERT_HASH == "D0:68:DE:48:1B:DC:4D:00:89:07:7F:85:15:20:C5:90:11:EB:56:6A"


def agent_info(lines, product_code="{6D8A3A5C-1F2E-4B7A-9C3D-8E5F6A7B8C9D}"):
    return {"computer": "WEB1", "cluster_service": None, "reboot_pending": False,
            "agent": {"installed": True, "version": "20.0.1.690", "product_code": product_code,
                      "service_status": "Running", "status_lines": lines}}


def test_agent_facts_judge_activation_by_the_certificate():
    facts = agent.agent_facts(agent_info(["AgentStatus.agentCertHash: %s" % agent.BOOTSTRAP_CERT_HASH,
                                          "AgentStatus.dsmUrl: dsm://dsm:4120/"]))
    assert facts["agent"]["activated"] is False and facts["agent"]["activation_signal"] == "cert_hash"
    facts = agent.agent_facts(agent_info(["AgentStatus.agentCertHash: %s" % ACTIVATED,
                                          "AgentStatus.dsmUrl: dsm://dsm:4120/"]))
    assert facts["agent"]["activated"] is True and facts["agent"]["dsm_url"] == "dsm://dsm:4120/"
    # an agent activated under the old signal plans no reactivation as long as it prints no hash
    facts = agent.agent_facts(agent_info(["AgentStatus.dsmUrl: dsm://dsm:4120/"]))
    assert facts["agent"]["activated"] is True and facts["agent"]["activation_signal"] == "dsm_url"


def test_an_agent_with_the_bootstrap_certificate_is_activated_again():
    facts = agent.agent_facts(agent_info(["AgentStatus.agentCertHash: %s" % agent.BOOTSTRAP_CERT_HASH,
                                          "AgentStatus.dsmUrl: dsm://dsm:4120/"]))
    plan = agent.plan_agent(facts, dict(state="present", activation_url="dsm://dsm:4120/"))
    assert plan["actions"] == ["activate"]


def test_the_activation_script_reads_the_full_status():
    assert "& $dq -c GetAgentStatus 2>&1" in scripts.body("agent_info")


# --- the uninstall product code --------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["{6D8A3A5C-1F2E-4B7A-9C3D-8E5F6A7B8C9D}", "{6d8a3a5c-1f2e-4b7a-9c3d-8e5f6a7b8c9d}"])
def test_a_product_code_in_registry_form_passes(code):
    assert agent.check_product_code(agent.agent_facts(agent_info([], product_code=code))) == code


@pytest.mark.parametrize("code", ["{X}", "6D8A3A5C-1F2E-4B7A-9C3D-8E5F6A7B8C9D", "{6D8A3A5C-1F2E-4B7A-9C3D-8E5F6A7B8C9D} & calc",
                                  "{6D8A3A5C-1F2E-4B7A-9C3D-8E5F6A7B8C9D}\n", "/i evil.msi", "TrendMicroDSA"])
def test_anything_else_stops_before_msiexec(code):
    with pytest.raises(agent.AgentOutputError) as error:
        agent.check_product_code(agent.agent_facts(agent_info([], product_code=code)))
    assert "not a Windows Installer product code" in error.value.message and "nothing was run" in error.value.message


def test_no_product_code_stops_as_well():
    with pytest.raises(agent.AgentOutputError) as error:
        agent.check_product_code(agent.agent_facts(agent_info([], product_code=None)))
    assert "no product code" in error.value.message


def test_a_bad_product_code_runs_nothing_on_the_node_even_in_check_mode():
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service
    from winrm_fakes import FakeClient
    document = agent_info(["AgentStatus.agentCertHash: %s" % ACTIVATED], product_code="{X} /i evil.msi")
    for check_mode in (True, False):
        client_ = FakeClient({"agent_info": document})
        with pytest.raises(agent.AgentOutputError):
            service.ds_agent(client_, dict(state="absent"), check_mode=check_mode)
        assert [call[0] for call in client_.calls] == ["agent_info"]


def test_the_remove_script_hands_msiexec_only_the_checked_guid():
    body = scripts.body("agent_remove")
    check = body.index("$pc -notmatch '^\\{[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}\\}\\z'")
    assert "-or $pc -ne [string]$P.product_code" in body
    assert check < body.index("& $dc @av") < body.index("@('/x', $pc,")
    assert "[string]$a.PSChildName, '/qn'" not in body


# --- roles: availability groups, FCIs, possible owners -----------------------------------------------------

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import InterlockError  # noqa: E402
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service  # noqa: E402
from winrm_fakes import FakeClient, mscs_document  # noqa: E402

NODES = ("SQL-NODE1", "SQL-NODE2", "SQL-NODE3")


def resource(name, kind, owners=NODES):
    return {"group": "g", "name": name, "type": kind, "possible_owners": list(owners)}


def with_roles(document, *roles):
    document = dict(document)
    document["groups"] = list(document["groups"]) + list(roles)
    return document


def role(name, owner="SQL-NODE1", resources=(), state="Online"):
    return {"name": name, "owner_node": owner, "state": state, "is_core": False, "resources": list(resources),
            "preferred_owners": [owner]}


AG = role("AG01", resources=[resource("AG01", "SQL Server Availability Group", ["SQL-NODE1", "SQL-NODE2"]),
                             resource("AG01_listener", "Network Name")])
FCI = role("SQL Server (INST2)", resources=[resource("SQL Server (INST2)", "SQL Server"),
                                            resource("SQL Network Name (SQL2)", "Network Name")])


def test_roles_are_told_by_resource_type_with_their_possible_owners():
    facts = wsfc.cluster_facts(with_roles(mscs_document(), AG, FCI))
    groups = dict((group["name"], group) for group in facts["groups"])
    assert groups["AG01"]["kind"] == "availability_group"
    assert groups["AG01"]["resource_types"] == ["Network Name", "SQL Server Availability Group"]
    assert groups["AG01"]["possible_owners"] == ["SQL-NODE1", "SQL-NODE2"]  # the intersection of its resources
    assert groups["SQL Server (INST2)"]["kind"] == "fci" and groups["SQL Server (INST2)"]["possible_owners"] == list(NODES)
    # a role without resources in the answer: nothing restricts it
    assert groups["SQL Server (MSSQLSERVER)"]["kind"] == "other" and groups["SQL Server (MSSQLSERVER)"]["possible_owners"] is None


def test_type_names_are_compared_without_case():
    assert wsfc.role_kind([resource("x", "sql server availability group")])["kind"] == "availability_group"
    assert wsfc.role_kind([resource("x", "SQL SERVER")])["kind"] == "fci"
    assert wsfc.role_kind([resource("x", "SQL Server Agent")])["kind"] == "other"


def test_an_availability_group_owned_by_the_node_is_a_blocker_with_the_documented_remedy():
    facts = wsfc.cluster_facts(with_roles(mscs_document(), AG))
    hazards = wsfc.role_hazards(facts, "SQL-NODE1")
    assert [item["subject"] for item in hazards] == ["AG01"]
    assert "not aware of the replicas' synchronization" in hazards[0]["message"]
    assert "ALTER AVAILABILITY GROUP [AG01] FAILOVER" in hazards[0]["remedy"]
    assert "synchronous-commit" in hazards[0]["remedy"] and "SYNCHRONIZED" in hazards[0]["remedy"]
    # owned by another node: not this node's blocker
    assert wsfc.role_hazards(facts, "SQL-NODE2") == []


def test_an_fci_is_no_blocker_while_another_up_node_can_own_it():
    assert wsfc.role_hazards(wsfc.cluster_facts(with_roles(mscs_document(), FCI)), "SQL-NODE1") == []


def test_a_role_no_other_up_node_may_own_is_a_blocker():
    pinned = role("FS01", resources=[resource("FS01", "File Server", ["SQL-NODE1", "SQL-NODE3"])])
    facts = wsfc.cluster_facts(with_roles(mscs_document(states={"SQL-NODE3": "Down"}), pinned))
    hazards = wsfc.role_hazards(facts, "SQL-NODE1")
    assert [item["subject"] for item in hazards] == ["FS01"]
    assert "Set-ClusterOwnerNode" in hazards[0]["remedy"]
    # SQL-NODE3 Up again: it can take the role
    assert wsfc.role_hazards(wsfc.cluster_facts(with_roles(mscs_document(), pinned)), "SQL-NODE1") == []
    # a resource no node may own
    nobody = role("FS02", resources=[resource("FS02", "File Server", [])])
    assert [item["subject"] for item in wsfc.role_hazards(wsfc.cluster_facts(with_roles(mscs_document(), nobody)),
                                                          "SQL-NODE1")] == ["FS02"]


@pytest.mark.parametrize("state", ["drained", "stopped"])
def test_mscs_node_refuses_before_any_change_and_force_does_not_lift_it(state):
    for force in (False, True):
        client = FakeClient({"mscs_cluster_info": with_roles(mscs_document(), AG)})
        with pytest.raises(InterlockError) as error:
            service.mscs_node(client, state, force=force, window="CHG1")
        assert "AG01" in error.value.message and error.value.details["hazards"][0]["subject"] == "AG01"
        assert [call[0] for call in client.calls] == ["mscs_cluster_info"]


def test_a_role_that_fails_on_its_target_is_moved_back_and_the_drain_fails():
    before = mscs_document()
    after = mscs_document(states={"SQL-NODE1": "Paused"}, drain={"SQL-NODE1": "Completed"},
                          owners={"SQL Server (MSSQLSERVER)": "SQL-NODE2"},
                          group_states={"SQL Server (MSSQLSERVER)": "Failed"})
    assert wsfc.failed_after_move(wsfc.cluster_facts(before), wsfc.cluster_facts(after), "SQL-NODE1") == \
        ["SQL Server (MSSQLSERVER)"]
    records = {"computer": "SQL-NODE1", "records": [{"window": "CHG1", "change": "node_drained", "since": "2026-11-26T10:00:00Z",
                                                     "controller": "c", "data": '{"failback":"none"}'}]}
    client = FakeClient({"mscs_cluster_info": [before, after],
                         "mscs_node": [{"completed": True, "cluster_service": "Running"},
                                       {"completed": True, "cluster_service": "Running"}],
                         "node_window_record": [records, {"computer": "SQL-NODE1", "records": []}],
                         "node_window_record_info": [{"computer": "SQL-NODE1", "records": []}, records]})
    with pytest.raises(wsfc.DrainFailedError) as error:
        service.mscs_node(client, "drained", window="CHG1")
    assert "never in service" in error.value.message and "moved back to SQL-NODE1" in error.value.message
    assert error.value.details["roles"] == ["SQL Server (MSSQLSERVER)"] and error.value.details["moved_back"] is True
    sent = [params for name, params in client.calls if name == "mscs_node"]
    assert [item["action"] for item in sent] == ["drain", "return"]
    assert sent[1]["roles"] == ["SQL Server (MSSQLSERVER)"]
    # the node was resumed: its node_drained record is removed
    assert [params["action"] for name, params in client.calls if name == "node_window_record"] == ["set", "remove"]


@pytest.mark.parametrize("outcome, words", [
    ({"refused": "quorum", "will_offline_lose_quorum": True}, ["WillOfflineLoseQuorum", "force=true"]),
    ({"refused": "dependent_services", "dependent_services": ["VendorHA"]}, ["VendorHA", "Stop-Service -Force"]),
])
def test_the_stop_refusals_read_on_the_node(outcome, words):
    drained = mscs_document(states={"SQL-NODE1": "Paused"}, drain={"SQL-NODE1": "Completed"},
                            owners={"SQL Server (MSSQLSERVER)": "SQL-NODE2"})
    client = FakeClient({"mscs_cluster_info": drained,
                         "mscs_node": dict(dict(completed=True, cluster_service="Running"), **outcome)})
    with pytest.raises(InterlockError) as error:
        service.mscs_node(client, "stopped")
    for word in words:
        assert word in error.value.message


def test_the_stop_script_asks_quorum_moves_core_groups_then_stops_without_force():
    body = scripts.body("mscs_node")
    stop = body[body.index("'stop' {"):body.index("'start' {")]
    order = [stop.index(text) for text in ("WillOfflineLoseQuorum", "DependentServices", "Move-ClusterGroup -Name $_.Name",
                                           "Stop-Service -Name ClusSvc")]
    assert order == sorted(order)
    assert "-Force" not in stop and "$_.IsCoreGroup -and [string]$_.OwnerNode.Name -eq $n" in stop
    assert "-not [bool]$P.allow_quorum_loss" in stop


def test_the_info_script_reads_resource_types_and_owners():
    body = scripts.body("mscs_cluster_info")
    assert "type = [string]$_.ResourceType.Name" in body
    assert "(Get-ClusterOwnerNode -Resource $_.Name).OwnerNodes" in body
    assert "(Get-ClusterOwnerNode -Group $gn).OwnerNodes" in body


def test_an_install_cut_by_the_transport_says_the_installer_may_still_run():
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import WinRMTimeoutError
    from winrm_fakes import agent_document
    client_ = FakeClient({"agent_info": agent_document(None, service="Stopped"),
                          "agent_install": WinRMTimeoutError("script agent_install on n did not finish within 5s")})
    with pytest.raises(WinRMTimeoutError) as error:
        service.ds_agent(client_, dict(state="present", version="20.0.1-690", installer_sha256="A" * 64,
                                       installer_url="https://dsm:4119/software/agent/Windows/x86_64/20.0.1-690/agent.msi"))
    assert "installer_state idle" in error.value.message and error.value.details["installer_may_be_running"] is True
