"""NLB-01 ... NLB-03 and GEN-01 from the rule text (REFERENCE sections 1, 2, 6)."""
from rules_facts import change, healthy, run, wsfc_node

WEB2 = "dsm_computers.computers.4"


# NLB-01: from 10.0 U5, and Intrusion Prevention is not supported
def test_nlb01_intrusion_prevention_on_is_a_blocker():
    facts = change(healthy(), WEB2 + ".modules.intrusion_prevention.state", "prevent")
    [item] = run(facts, only="NLB-01")
    assert item["severity"] == "blocker" and item["subject"] == "WEBFARM/WEB2"
    assert "Intrusion Prevention" in item["message"] and "dsm_computer" in item["remedy"]


def test_nlb01_detect_mode_is_on_too():
    facts = change(healthy(), WEB2 + ".modules.intrusion_prevention.state", "detect")
    assert [f["severity"] for f in run(facts, only="NLB-01")] == ["blocker"]


def test_nlb01_unknown_ips_state_is_not_a_pass():
    facts = change(healthy(), WEB2 + ".modules", {})
    [item] = run(facts, only="NLB-01")
    assert item["severity"] == "warning" and "unknown" in item["message"]


def test_nlb01_agent_older_than_10_0_u5():
    facts = change(healthy(), WEB2 + ".agent_version", "10.0.0-2547")
    [item] = run(facts, only="NLB-01")
    assert item["severity"] == "blocker" and "10.0 Update 5" in item["message"]


def test_nlb01_planned_version_too_old():
    [item] = run(plan={"agent_version": "9.6.2-8207"}, only="NLB-01")
    assert item["subject"] == "agent_version 9.6.2-8207"


def test_nlb01_node_without_agent_is_not_judged():
    facts = change(healthy(), WEB2 + ".agent_version", "0.0.0.0")
    facts = change(facts, WEB2 + ".modules.intrusion_prevention.state", "prevent")
    assert run(facts, only="NLB-01") == []


# NLB-02: the heartbeat exclusion
def test_nlb02_missing_outgoing_bypass_inline_is_a_blocker():
    facts = change(healthy(), WEB2 + ".firewall_rule_ids", [11])
    [item] = run(facts, only="NLB-02")
    assert item["severity"] == "blocker" and item["evidence"]["missing_directions"] == ["outgoing"]
    assert "nlb_exclusion_rules" in item["remedy"]


def test_nlb02_missing_bypass_in_tap_is_a_warning():
    facts = change(healthy(), WEB2 + ".firewall_rule_ids", [])
    facts = change(facts, WEB2 + ".network_engine_mode", "Tap")
    assert [f["severity"] for f in run(facts, only="NLB-02")] == ["warning"]


def test_nlb02_firewall_off_needs_no_bypass():
    facts = change(healthy(), WEB2 + ".firewall_rule_ids", [])
    facts = change(facts, WEB2 + ".modules.firewall.state", "off")
    assert run(facts, only="NLB-02") == []


def test_nlb02_rules_not_gathered_cannot_pass():
    facts = change(healthy(), "firewall_rules", None)
    assert [f["severity"] for f in run(facts, only="NLB-02")] == ["warning"] * 3


def test_nlb02_a_frame_not_rule_is_no_bypass():
    facts = change(healthy(), "firewall_rules.0.firewall_rule.frame_not", True)
    assert [f["subject"] for f in run(facts, only="NLB-02")] == ["WEBFARM/WEB1", "WEBFARM/WEB2", "WEBFARM/WEB3"]


# NLB-03: Tap during the rollout
def test_nlb03_inline_during_a_rollout():
    findings = run(plan={"nlb_rollout": True}, only="NLB-03")
    assert [f["severity"] for f in findings] == ["warning"] * 3


def test_nlb03_tap_during_a_rollout_passes():
    facts = healthy()
    for index in (3, 4, 5):
        facts = change(facts, "dsm_computers.computers.%d.network_engine_mode" % index, "Tap")
    assert run(facts, {"nlb_rollout": True}, only="NLB-03") == []


def test_nlb03_no_rollout_no_finding():
    assert run(only="NLB-03") == []


# GEN-01: cluster environments the vendor has not tested
def test_gen01_declared_untested_cluster():
    [item] = run(plan={"other_clusters": [{"name": "ORA1", "kind": "Oracle RAC"}]}, only="GEN-01")
    assert item["severity"] == "warning" and "Oracle RAC" in item["message"]


def test_gen01_failover_node_that_is_also_an_nlb_host():
    facts = change(healthy(), "failover_nodes.results", [wsfc_node(n, nodes=("SQL-NODE1", "WEB2"))
                                                         for n in ("SQL-NODE1", "WEB2")])
    findings = run(facts, only="GEN-01")
    assert [f["subject"] for f in findings] == ["WEB2"]


def test_gen01_nothing_declared():
    assert run(only="GEN-01") == []


def test_nlb02_unread_assigned_rules_make_it_a_warning_not_a_blocker():
    # rule 99 is assigned but was not gathered: it might be the user's own heartbeat bypass
    facts = change(healthy(), WEB2 + ".firewall_rule_ids", [99])
    [item] = run(facts, only="NLB-02")
    assert item["severity"] == "warning" and item["evidence"]["unread_rule_ids"] == [99]


def test_nlb01_unreadable_host_is_a_finding():
    facts = change(healthy(), "nlb_nodes.2", {"failed": True, "msg": "401 Unauthorized", "item": "WEB3"})
    [item] = run(facts, only="NLB-01")
    assert item["severity"] == "warning" and "401 Unauthorized" in item["message"] and "WEB3" in item["subject"]
