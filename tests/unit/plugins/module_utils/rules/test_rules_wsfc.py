"""MS-01 ... MS-05 from the rule text (REFERENCE sections 1, 2, 5)."""
from rules_facts import CLUSTER_ALLOW, change, healthy, run, wsfc_node, wsfc_nodes

NODE2 = "failover_nodes.results.1"


# MS-01: supported from DSA for Windows 8.0 SP1
def test_ms01_agent_older_than_8_0_is_a_blocker():
    facts = change(healthy(), NODE2 + ".agent.version", "7.5.0.1000")
    [item] = run(facts, only="MS-01")
    assert item["severity"] == "blocker" and item["subject"] == "SQLCLU01/SQL-NODE2"


def test_ms01_an_8_0_0_build_cannot_be_confirmed():
    facts = change(healthy(), NODE2 + ".agent.version", "8.0.0.1500")
    [item] = run(facts, only="MS-01")
    assert item["severity"] == "warning" and "SP1" in item["message"]


def test_ms01_current_agent_and_no_agent_pass():
    facts = change(healthy(), NODE2 + ".agent", {"installed": False, "version": None, "service_status": None})
    assert run(facts, only="MS-01") == []


def test_ms01_planned_version_too_old():
    [item] = run(plan={"agent_version": "7.5.0-100"}, only="MS-01")
    assert item["severity"] == "blocker" and item["subject"] == "agent_version 7.5.0-100"


def test_ms01_unreadable_node_is_a_finding():
    facts = change(healthy(), NODE2, {"failed": True, "msg": "connection refused", "item": "SQL-NODE2"})
    [item] = run(facts, only="MS-01")
    assert item["severity"] == "warning" and "connection refused" in item["message"]


def test_ms01_node_with_stopped_cluster_service_is_still_judged():
    facts = change(healthy(), NODE2, wsfc_node("SQL-NODE2", service="Stopped", agent_version="7.1.0.1"))
    [item] = run(facts, only="MS-01")
    assert item["subject"] == "SQLCLU01/SQL-NODE2"


# MS-02 (active node) and MS-03 (standby node treated like active): the blip of the planned change
def test_ms02_upgrade_from_interrupting_build_blips_on_the_active_node():
    facts = healthy()
    for index in range(3):
        facts = change(facts, "failover_nodes.results.%d.agent.version" % index, "10.0.0.2000")
    findings = run(facts, {"agent_version": "20.0.1-690"})
    ms02 = [f for f in findings if f["id"] == "MS-02"]
    ms03 = [f for f in findings if f["id"] == "MS-03"]
    assert [f["subject"] for f in ms02] == ["SQLCLU01/SQL-NODE1"]      # owns SQL Server
    assert [f["subject"] for f in ms03] == ["SQLCLU01/SQL-NODE2", "SQLCLU01/SQL-NODE3"]
    assert all(f["severity"] == "warning" and f["evidence"]["blips"] for f in ms02 + ms03)
    assert "wsfc_agent_rollout" in ms02[0]["remedy"] and "standby" in ms03[0]["message"]


def test_ms02_non_interrupting_and_rebooted_is_info():
    facts = change(healthy(), "failover_nodes.results.0.agent.reboot_pending", False)
    [item] = run(facts, {"agent_version": "20.0.1-3180"}, only="MS-02")
    assert item["severity"] == "info" and item["evidence"]["blips"] is False


def test_ms02_reboot_unknown_counts_as_not_rebooted():
    [item] = run(plan={"agent_version": "20.0.1-3180"}, only="MS-02")
    assert item["severity"] == "warning" and "not known" in item["evidence"]["reason"]


def test_ms02_nodes_at_the_target_have_nothing_planned():
    assert run(plan={"agent_version": "20.0.1-690"}, only="MS-02") == []
    assert run(plan={"agent_version": "20.0.1-690"}, only="MS-03") == []


def test_ms02_no_plan_no_finding():
    assert run(only="MS-02") == [] and run(only="MS-03") == []


def test_ms02_window_record_left_on_a_node():
    record = {"window": "CHG9", "step": "cluster service stopped", "since": "x"}
    facts = change(healthy(), NODE2 + ".window", record)
    [item] = run(facts, only="MS-02")
    assert "recover" in item["remedy"] and "CHG9" in item["message"]
    assert run(facts, {"running_windows": ["CHG9"]}, only="MS-02") == []


# MS-04: the heartbeat must not be blocked by the DS firewall
def test_ms04_allow_for_udp_3343_passes():
    assert run(only="MS-04") == []


def test_ms04_deny_matching_the_heartbeat_is_a_blocker():
    facts = change(healthy(), "dsm_computers.computers.1.firewall_rule_ids", [22])
    [item] = run(facts, only="MS-04")
    assert item["severity"] == "blocker" and item["subject"] == "SQLCLU01/SQL-NODE2"


def test_ms04_no_allow_is_a_warning():
    facts = change(healthy(), "dsm_computers.computers.1.firewall_rule_ids", [])
    [item] = run(facts, only="MS-04")
    assert item["severity"] == "warning" and "UDP 3343" in item["message"]


def test_ms04_allow_on_another_port_does_not_count():
    other = dict(CLUSTER_ALLOW, ID=23, destinationPortMultiple=["3389"])
    facts = change(healthy(), "firewall_rules", healthy()["firewall_rules"] + [other])
    facts = change(facts, "dsm_computers.computers.1.firewall_rule_ids", [23])
    assert [f["severity"] for f in run(facts, only="MS-04")] == ["warning"]


def test_ms04_rules_not_gathered_cannot_pass():
    facts = change(healthy(), "firewall_rules", None)
    assert [f["severity"] for f in run(facts, only="MS-04")] == ["warning"] * 3


def test_ms04_firewall_off_needs_nothing():
    facts = healthy()
    for index in range(3):
        facts = change(facts, "dsm_computers.computers.%d.modules.firewall.state" % index, "off")
        facts = change(facts, "dsm_computers.computers.%d.firewall_rule_ids" % index, [])
    assert run(facts, only="MS-04") == []


# MS-05: agentless activation/deactivation blips the guest: stop the cluster service first
def test_ms05_planned_agentless_activation_of_a_node():
    [item] = run(plan={"agentless_guests": ["sql-node3"]}, only="MS-05")
    assert item["subject"] == "SQLCLU01/SQL-NODE3" and "mscs_node" in item["remedy"]


def test_ms05_guest_that_is_no_cluster_node():
    assert run(plan={"agentless_guests": ["app-01"]}, only="MS-05") == []


def test_grouping_ignores_order_and_loop_wrappers():
    facts = change(healthy(), "failover_nodes", {"results": list(reversed(wsfc_nodes()["results"]))})
    assert run(facts) == []


def test_ms04_unread_assigned_rule_is_named():
    facts = change(healthy(), "dsm_computers.computers.1.firewall_rule_ids", [77])
    [item] = run(facts, only="MS-04")
    assert item["severity"] == "warning" and item["evidence"]["unread_rule_ids"] == [77]
    assert "assess_firewall_rule_names" in item["message"]


def test_a_node_read_with_failed_when_false_keeps_its_error():
    # the role registers node reads with failed_when: false: no computer of its own, the loop item and msg
    facts = change(healthy(), NODE2, {"failed": False, "msg": "WinRM timed out", "item": "SQL-NODE2", "changed": False})
    [item] = run(facts, only="MS-01")
    assert item["subject"] == "SQLCLU01/SQL-NODE2" and "WinRM timed out" in item["message"]
