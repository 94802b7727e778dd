"""The window roles' decisions: connection mapping, plan and blockers, what to undo, the report."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils import window

HOSTS = ["SQL-NODE1", "SQL-NODE2", "SQL-NODE3"]


def cluster_facts(states=None, groups=None):
    states = states or {}
    return {
        "computer": "SQL-NODE1",
        "cluster": {"name": "SQLCLU01"},
        "nodes": [{"name": name, "state": states.get(name, "Up")} for name in HOSTS],
        "groups": groups if groups is not None else [
            {"name": "Cluster Group", "owner_node": "SQL-NODE1", "state": "Online", "is_core": True},
            {"name": "SQL Server (MSSQLSERVER)", "owner_node": "SQL-NODE1", "state": "Online", "is_core": False},
        ],
    }


def node_facts(plans=None, records=None):
    plans = plans or {}
    records = records or {}
    return dict((host, {"computer": host, "records": records.get(host, []),
                        "plan": plans.get(host, {"changed": True, "actions": ["install", "activate"],
                                                 "previous_version": None, "version": "20.0.1-690"})})
                for host in HOSTS)


def vsphere(record=None, vms=tuple(HOSTS)):
    return {"clusters": [{"name": "Prod-Cluster", "drs_window": record,
                          "hosts": [{"name": "esx-01", "powered_on_vms": list(vms)}]}]}


# --- connection variables ----------------------------------------------------------------------------

def test_winrm_connection_maps_the_ansible_windows_variables():
    options = window.winrm_connection({
        "ansible_host": "10.0.0.21", "ansible_port": "5986", "ansible_user": "CORP\\svc", "ansible_password": "pw",
        "ansible_winrm_transport": ["kerberos", "ntlm"], "ansible_winrm_scheme": "https",
        "ansible_winrm_server_cert_validation": "ignore", "ansible_winrm_ca_trust_path": "/etc/ca.pem",
    }, "sql1")
    assert options == {"hostname": "10.0.0.21", "port": 5986, "username": "CORP\\svc", "password": "pw",
                       "transport": "kerberos", "scheme": "https", "validate_certs": False, "ca_path": "/etc/ca.pem"}


def test_winrm_connection_leaves_unset_variables_to_the_environment_fallbacks():
    assert window.winrm_connection({}, "SQL-NODE1") == {"hostname": "SQL-NODE1"}
    assert window.winrm_connection({"ansible_winrm_transport": "credssp, ntlm"}, "n")["transport"] == "credssp"
    assert window.winrm_connection({"ansible_winrm_server_cert_validation": "validate"}, "n")["validate_certs"] is True


@pytest.mark.parametrize("variables, words", [
    ({"ansible_winrm_transport": "plaintext"}, "ansible_winrm_transport"),
    ({"ansible_winrm_server_cert_validation": "maybe"}, "validate or ignore"),
    ({"ansible_port": "fivenine"}, "must be a number"),
])
def test_winrm_connection_refuses_variables_it_cannot_map(variables, words):
    with pytest.raises(window.WindowPlanError) as error:
        window.winrm_connection(variables, "n")
    assert words in error.value.message


# --- plan ----------------------------------------------------------------------------------------------

def test_owners_go_last_so_each_role_moves_once():
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts(), node_facts(), "CHG1", vsphere=vsphere())
    assert plan["order"] == ["SQL-NODE2", "SQL-NODE3", "SQL-NODE1"]
    assert plan["drs_clusters"] == ["Prod-Cluster"]
    assert plan["blockers"] == []


def test_nodes_with_nothing_to_do_are_not_maintained_and_hold_no_drs():
    done = {"changed": False, "actions": [], "previous_version": "20.0.1-690", "version": "20.0.1-690"}
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts(), node_facts(dict((h, done) for h in HOSTS)), "CHG1",
                                    vsphere=vsphere())
    assert plan["order"] == [] and plan["drs_clusters"] == []


def test_the_ms02_refusal_means_maintain_and_other_failures_block():
    refused = {"failed": True, "rule": "MS-02", "msg": "rule MS-02: refusing"}
    broken = {"failed": True, "msg": "downgrades are not supported"}
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts(), node_facts({"SQL-NODE2": refused, "SQL-NODE3": broken}),
                                    "CHG1")
    assert "SQL-NODE2" in plan["order"]
    assert [b["subject"] for b in plan["blockers"]] == ["SQL-NODE3"]
    assert "downgrades" in plan["blockers"][0]["message"]


def test_an_explicit_order_wins_and_unknown_hosts_are_refused():
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts(), node_facts(), "CHG1", order=["SQL-NODE1"])
    assert plan["order"] == ["SQL-NODE1", "SQL-NODE2", "SQL-NODE3"]
    with pytest.raises(window.WindowPlanError) as error:
        window.plan_wsfc_rollout(HOSTS, cluster_facts(), node_facts(), "CHG1", order=["SQL-NODE9"])
    assert "SQL-NODE9" in error.value.message


@pytest.mark.parametrize("states, groups, words", [
    ({"SQL-NODE3": "Down"}, None, "node SQL-NODE3 is Down"),
    ({"SQL-NODE2": "Paused"}, None, "node SQL-NODE2 is Paused"),
    ({}, [{"name": "SQL", "owner_node": "SQL-NODE1", "state": "Failed", "is_core": False}], "role SQL is Failed"),
])
def test_a_degraded_cluster_blocks_before_any_change(states, groups, words):
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts(states, groups), node_facts(), "CHG1")
    assert any(words in blocker["message"] for blocker in plan["blockers"]), plan["blockers"]


def test_a_down_node_is_accepted_when_not_all_nodes_must_be_online():
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts({"SQL-NODE3": "Down"}), node_facts(), "CHG1",
                                    require_all_nodes_online=False)
    assert plan["blockers"] == []


def test_records_of_another_window_block_and_the_same_window_does_not():
    other = {"window": "CHG-OLD", "change": "cluster_service_stopped", "since": "t", "controller": "ctl"}
    same = dict(other, window="CHG1")
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts(), node_facts(records={"SQL-NODE2": [other],
                                                                                "SQL-NODE3": [same]}), "CHG1")
    assert [b["subject"] for b in plan["blockers"]] == ["SQL-NODE2"]
    assert "recover" in plan["blockers"][0]["remedy"]


def test_drs_held_by_another_window_blocks():
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts(), node_facts(), "CHG1",
                                    vsphere=vsphere({"window": "CHG-OTHER", "since": "t", "owner": "o"}))
    assert any("held by window CHG-OTHER" in b["message"] for b in plan["blockers"])
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts(), node_facts(), "CHG1",
                                    vsphere=vsphere({"window": "CHG1", "since": "t", "owner": "o"}))
    assert plan["blockers"] == []


def test_a_node_vm_missing_in_vcenter_blocks_and_names_the_fix():
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts(), node_facts(), "CHG1",
                                    vsphere=vsphere(vms=["SQL-NODE1", "SQL-NODE2"]))
    assert [b["subject"] for b in plan["blockers"]] == ["SQL-NODE3"]
    assert "wsfc_agent_rollout_vm_name" in plan["blockers"][0]["remedy"]
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts(), node_facts(), "CHG1",
                                    vsphere=vsphere(vms=["SQL-NODE1", "SQL-NODE2", "sql3-vm"]),
                                    vm_names={"SQL-NODE3": "sql3-vm"})
    assert plan["blockers"] == []


def test_a_host_outside_the_cluster_blocks():
    facts = node_facts()
    facts["SQL-NODE3"]["computer"] = "WEB1"
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts(), facts, "CHG1")
    assert any("not a node of cluster SQLCLU01" in b["message"] for b in plan["blockers"])


def test_no_nodes_is_a_clear_error():
    with pytest.raises(window.WindowPlanError) as error:
        window.plan_wsfc_rollout([], cluster_facts(), {}, "CHG1")
    assert "wsfc_agent_rollout_nodes" in error.value.message


# --- undo order ----------------------------------------------------------------------------------------

def test_records_are_undone_service_first_then_drain_and_filtered_by_window():
    records = [{"window": "A", "change": "node_drained"}, {"window": "A", "change": "cluster_service_stopped"},
               {"window": "B", "change": "nlb_node_stopped"}]
    assert [r["change"] for r in window.records_to_undo(records + [{"window": "a", "change": "agent_maintenance"}], "A")] == [
        "agent_maintenance", "cluster_service_stopped", "node_drained"]
    assert len(window.records_to_undo(records)) == 3


# --- report --------------------------------------------------------------------------------------------

def _plan():
    return window.plan_wsfc_rollout(HOSTS, cluster_facts(), node_facts(), "CHG1", vsphere=vsphere())


def test_report_timeline_steps_end_where_the_next_begins():
    steps = [{"node": "SQL-NODE2", "step": "drain", "start": "t1", "end": "t2b", "result": "ok"},
             {"node": "SQL-NODE2", "step": "verified", "start": "t2", "end": "t3", "result": "ok"}]
    report = window.window_report("wsfc_agent_rollout", "CHG1", "t0", "t4", _plan(), steps)
    node = report["nodes"][0]
    assert node["host"] == "SQL-NODE2" and node["outcome"] == "changed"
    assert [(s["start"], s["end"]) for s in node["steps"]] == [("t1", "t2"), ("t2", "t3")]
    assert report["result"] == "incomplete"  # two nodes never started
    assert report["summary"]["not_started"] == 2


def test_report_results():
    plan = _plan()
    assert window.window_report("k", "CHG1", "a", "b", plan, [], check_mode=True)["result"] == "planned"
    failure = {"node": "SQL-NODE2", "step": "agent", "message": "1603", "left": "paused"}
    failed = window.window_report("k", "CHG1", "a", "b", plan, [], failed_nodes=[failure])
    assert failed["result"] == "failed" and failed["nodes"][0]["outcome"] == "failed"
    assert failed["failed_nodes"][0]["left"] == "paused"
    blocked = dict(plan, blockers=[{"subject": "x", "message": "m", "remedy": "r"}])
    assert window.window_report("k", "CHG1", "a", "b", blocked, [])["result"] == "refused"


def test_markdown_escapes_table_cells():
    report = window.window_report("k", "CHG1", "a", "b", _plan(), [], failed_nodes=[
        {"node": "SQL-NODE2", "step": "agent", "message": "a|b\nc", "left": "paused"}])
    text = window.report_markdown(report)
    assert "a\\|b c" in text and "| SQL-NODE2 | failed |" in text


def test_drs_report_before_during_after():
    before = {"clusters": [{"name": "Prod-Cluster", "drs": {"enabled": True, "automation_level": "fullyAutomated"}}]}
    after = {"clusters": [{"name": "Prod-Cluster", "drs": {"enabled": True, "automation_level": "manual"},
                           "drs_window": {"window": "CHG1"}}]}
    restore = {"results": [{"failed": True, "msg": "session lost", "__wsfc_agent_rollout_drs_cluster": "Prod-Cluster"}]}
    assert window.drs_report(["Prod-Cluster"], "CHG1", before, after, restore) == [
        {"cluster": "Prod-Cluster", "before": "fullyAutomated", "during": "manual", "after": "manual",
         "record_left": True, "restore_error": "session lost"}]


def test_drs_report_takes_the_level_a_restore_left_when_vcenter_was_not_read_again():
    before = {"clusters": [{"name": "Db-Cluster", "drs": {"enabled": True, "automation_level": "partiallyAutomated"}}]}
    restore = {"results": [{"changed": True, "automation_level": "partiallyAutomated", "record": None,
                            "__wsfc_agent_rollout_drs_cluster": "Db-Cluster"}]}
    assert window.drs_report(["Db-Cluster"], "CHG1", before, {}, restore) == [
        {"cluster": "Db-Cluster", "before": "partiallyAutomated", "during": "manual", "after": "partiallyAutomated",
         "record_left": False, "restore_error": None}]
    # not restored yet by anyone, and vCenter not read: unknown, never guessed
    assert window.drs_report(["Db-Cluster"], "CHG1", before, {}, {"results": []})[0]["after"] is None


def test_stats_summary_is_flat():
    stats = window.summary_for_stats(window.window_report("k", "CHG1", "a", "b", _plan(), [], check_mode=True))
    assert stats["window"] == "CHG1" and stats["result"] == "planned" and stats["nodes"] == 3


def test_assessment_blockers_block_and_its_warnings_reach_the_report():
    findings = [{"id": "MS-01", "severity": "blocker", "subject": "SQL-NODE2", "message": "agent 7.5 is older than 8.0 SP1",
                 "remedy": "wsfc_agent_rollout", "evidence": {}},
                {"id": "MS-04", "severity": "warning", "subject": "SQLCLU01", "message": "cannot confirm the heartbeat allow",
                 "remedy": "dsm_firewall_rule", "evidence": {}}]
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts(), node_facts(), "CHG1", findings=findings)
    assert [b["message"] for b in plan["blockers"]] == ["MS-01: agent 7.5 is older than 8.0 SP1"]
    assert [f["id"] for f in plan["findings"]] == ["MS-04"]
    report = window.window_report("k", "CHG1", "a", "b", plan, [])
    assert report["findings"][0]["id"] == "MS-04"
    assert "| MS-04 | warning | SQLCLU01 |" in window.report_markdown(report)


def test_a_pending_reboot_is_reported_per_node():
    after = {"nodes": [], "agents": {"SQL-NODE2": "20.0.1-690"}, "reboots": {"SQL-NODE2": True}}
    report = window.window_report("k", "CHG1", "a", "b", _plan(), [], after=after)
    assert [node["reboot_required"] for node in report["nodes"]] == [True, False, False]
    assert report["summary"]["reboot_required"] == 1
    assert "Reboot pending (msiexec 3010/1641; the window never reboots a cluster node): SQL-NODE2" in \
        window.report_markdown(report)


def test_node_vms_are_found_by_guest_host_name_and_two_vms_of_one_name_block():
    vsphere_vms = {"clusters": [{"name": "Prod-Cluster", "drs_window": None, "vms": [
        {"name": "vm-sql-a", "moid": "vm-1", "host": "esx-01", "power_state": "poweredOn", "guest_hostname": "SQL-NODE1.corp.example"},
        {"name": "SQL-NODE2", "moid": "vm-2", "host": "esx-01", "power_state": "poweredOn", "guest_hostname": None},
        {"name": "SQL-NODE3", "moid": "vm-3", "host": "esx-02", "power_state": "poweredOn"},
        {"name": "SQL-NODE3", "moid": "vm-9", "host": "esx-03", "power_state": "poweredOn"}]}]}
    plan = window.plan_wsfc_rollout(HOSTS, cluster_facts(), node_facts(), "CHG1", vsphere=vsphere_vms)
    assert [entry["vsphere_cluster"] for entry in plan["nodes"] if entry["host"] != "SQL-NODE3"] == ["Prod-Cluster"] * 2
    assert [b["subject"] for b in plan["blockers"]] == ["SQL-NODE3"]
    assert "more than one" in plan["blockers"][0]["message"]
