"""What a window must know of a policy before any change (MS-02, MS-04): the order in which Deep Security
applies firewall rules (``firewall.passage``), the policy's facts as the service gathers them from the lab's
DSM model in-process (``service.policy_details``), and the blockers they give a window
(``policy.policy_window_blockers``)."""
import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import firewall
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import policy as policy_model
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import DsmError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    NotFoundError,
    ParameterError,
)
from tests.unit.plugins.module_utils.dsm.test_fuzz_parsers import FUZZ


def rule(name, action, priority="3", direction="incoming", **fields):
    out = dict(id=len(name), name=name, action=action, priority=priority, direction=direction, frame_type="ip",
               protocol="udp", destination_port_type="multiple", destination_port_multiple=["3343"])
    out.update(fields)
    return out


def passes(rules, direction="incoming"):
    return firewall.passage(rules, direction, "udp", 3343)


# -- the order of rules (Deep Security Help, "Firewall rule actions and priorities") ---------------------

def test_a_force_allow_for_the_port_lets_it_through():
    result = passes([rule("hb", "force-allow")])
    assert result["passes"] and result["decided_by"]["name"] == "hb" and "let through" in result["reason"]


@pytest.mark.parametrize("first, second, verdict", [
    # a deny of higher priority beats a force-allow of lower priority
    (rule("deny", "deny", "4"), rule("pass", "force-allow", "3"), False),
    # within one priority: bypass, force-allow before deny, deny before allow
    (rule("deny", "deny", "2"), rule("pass", "force-allow", "2"), True),
    (rule("deny", "deny", "2"), rule("pass", "bypass", "2"), True),
    (rule("deny", "deny", "0"), rule("pass", "allow", "0"), False),
    # a force-allow of higher priority beats a deny of lower priority
    (rule("deny", "deny", "1"), rule("pass", "force-allow", "3"), True),
])
def test_priority_then_action_decides_whatever_the_assignment_order(first, second, verdict):
    assert passes([first, second])["passes"] is verdict
    assert passes([second, first])["passes"] is verdict


def test_log_only_decides_nothing():
    assert passes([rule("log", "log-only", "4"), rule("pass", "force-allow", "0")])["passes"]


def test_a_deny_limited_to_addresses_may_deny_part_of_it_and_blocks():
    deny = rule("deny from a subnet", "deny", "4", source_ip_type="masked-ip", source_ip_value="10.10.1.0",
                source_ip_mask="255.255.255.0")
    result = passes([deny, rule("pass", "force-allow", "3")])
    assert not result["passes"] and result["blocked_by"]["matches"] == "part"
    assert "possibly denied" in result["reason"]


def test_a_pass_limited_to_addresses_covers_only_part_of_it():
    limited = rule("from one node", "force-allow", source_ip_type="single", source_ip_value="10.10.1.22")
    result = passes([limited])
    assert not result["passes"] and result["partial"][0]["name"] == "from one node"
    assert "only part" in result["reason"]
    assert passes([limited, rule("all", "allow", "0")])["passes"]


@pytest.mark.parametrize("fields, matches", [
    (dict(destination_port_multiple=["3000-3400"]), True),
    (dict(destination_port_multiple=["53", "3343"]), True),
    (dict(destination_port_multiple=["3344"]), False),
    (dict(destination_port_type="any"), True),
    (dict(destination_port_multiple=["3343"], destination_port_not=True), False),
    (dict(destination_port_multiple=["80"], destination_port_not=True), True),
    (dict(protocol="tcp"), False),
    (dict(protocol="tcp", protocol_not=True), True),
    (dict(protocol="tcp-udp"), True),
    (dict(protocol="any"), True),
    (dict(protocol="other", protocol_number=17), True),
    (dict(protocol="other", protocol_number=6), False),
    (dict(frame_type="any"), True),
    (dict(frame_type="arp"), False),
    (dict(frame_type="arp", frame_not=True), True),
    (dict(direction="outgoing"), False),
])
def test_what_a_rule_matches(fields, matches):
    assert passes([rule("r", "force-allow", **fields)])["passes"] is matches


@pytest.mark.parametrize("fields", [
    dict(frame_type="ipv4"), dict(frame_type="other", frame_number=0x0800), dict(schedule_id=3), dict(context_id=2),
    dict(source_port_type="multiple", source_port_multiple=["3343"]),
    dict(destination_port_type="port-list", destination_port_list_id=4),
    dict(destination_mac_type="single", destination_mac_value="00:11:22:33:44:55"),
    dict(destination_port_multiple=["not a port"]),
])
def test_limits_the_check_cannot_resolve_match_part_of_it(fields):
    assert firewall.rule_match(rule("r", "force-allow", **fields), "incoming", "udp", 3343) == firewall.MATCH_SOME
    assert firewall.rule_match(rule("r", "deny", **fields), "incoming", "udp", 3343) == firewall.MATCH_SOME


def test_an_unknown_action_or_priority_is_taken_on_the_safe_side():
    assert not passes([rule("odd", "quarantine", "4"), rule("pass", "force-allow", "4")])["passes"]
    # a deny whose priority cannot be read counts as 4, a pass as 0 (a force-allow of 4 still beats any deny)
    assert not passes([rule("deny", "deny", None), rule("pass", "force-allow", "3")])["passes"]
    assert passes([rule("deny", "deny", None), rule("pass", "force-allow", "4")])["passes"]
    assert not passes([rule("deny", "deny", "1"), rule("pass", "force-allow", "x")])["passes"]


def test_without_a_rule_it_does_not_pass_and_the_reason_says_why():
    alone = passes([])
    assert not alone["passes"] and not alone["allow_rules"] and "no Allow rule is in effect" in alone["reason"]
    rdp = rule("rdp", "allow", "0", protocol="tcp", destination_port_multiple=["3389"])
    implicit = passes([rdp])
    assert not implicit["passes"] and implicit["allow_rules"]
    assert "deny everything they do not allow" in implicit["reason"]
    assert not passes([rdp], "outgoing")["allow_rules"]


def test_direction_must_be_known():
    with pytest.raises(ParameterError):
        firewall.passage([], "sideways")


RULE_VALUES = st.none() | st.booleans() | st.integers(-5, 70000) | st.text(max_size=6) | \
    st.lists(st.text(max_size=6) | st.integers(-5, 70000), max_size=3) | st.sampled_from(
        ["ip", "udp", "deny", "allow", "force-allow", "bypass", "incoming", "outgoing", "multiple", "any", "3343"])
RULE_KEYS = st.sampled_from(["action", "priority", "direction", "frame_type", "frame_number", "frame_not", "protocol",
                             "protocol_number", "protocol_not", "destination_port_type", "destination_port_multiple",
                             "destination_port_not", "source_port_type", "source_ip_type", "schedule_id", "name"])


@FUZZ
@given(st.lists(st.dictionaries(RULE_KEYS, RULE_VALUES, max_size=10), max_size=5))
def test_any_rules_give_a_verdict(rules):
    for direction in firewall.DIRECTIONS:
        result = passes(rules, direction)
        assert isinstance(result["passes"], bool) and result["reason"]
        if result["passes"]:
            assert result["decided_by"]["action"] in firewall.PASSING_ACTIONS


# -- the policy as the service gathers it ---------------------------------------------------------------

def details(client, name, cluster_kind="failover_cluster"):
    return service.policy_info(client, [name], cluster_kind=cluster_kind)["policies"][0]


def test_windows_server_has_firewall_and_no_heartbeat_pass(client):
    policy = details(client, "Windows Server")
    assert policy["chain"] == [{"id": 2, "name": "Windows Server"}, {"id": 1, "name": "Base Policy"}]
    assert policy["modules"]["firewall"] == dict(name="Firewall", state="on", on=True,
                                                 set_by={"id": 2, "name": "Windows Server"},
                                                 status="active", status_message="On")
    assert policy["modules"]["intrusion_prevention"]["set_by"] == {"id": 1, "name": "Base Policy"}
    assert policy["network_driver_modules"] == ["Firewall"] and policy["network_engine_mode"] == "Inline"
    assert [(r["id"], r["action"], r["assigned_by"]["name"], r["inherited"]) for r in policy["firewall_rules"]] == \
        [(101, "allow", "Windows Server", False)]
    assert not policy["heartbeat"]["incoming"]["passes"] and policy["heartbeat"]["incoming"]["allow_rules"]
    [blocker] = policy["window_blockers"]
    assert blocker["subject"] == "policy Windows Server (ID 2)" and blocker["message"].startswith("MS-04")
    assert "incoming UDP 3343" in blocker["message"] and "outgoing UDP 3343" in blocker["message"]
    assert "force-allow" in blocker["remedy"] and "dsm_firewall_assignment policy=Windows Server" in blocker["remedy"]


def test_sql_server_cluster_inherits_and_passes_the_heartbeat(client, calls):
    del calls[:]
    policy = details(client, "SQL Server Cluster")
    assert [item["id"] for item in policy["chain"]] == [3, 2, 1]
    assert policy["modules"]["intrusion_prevention"]["state"] == "prevent"
    assert policy["network_driver_modules"] == ["Firewall", "Intrusion Prevention"]
    rules = dict((r["id"], r) for r in policy["firewall_rules"])
    assert rules[101]["inherited"] and rules[101]["assigned_by"] == {"id": 2, "name": "Windows Server"}
    assert not rules[102]["inherited"] and rules[102]["action"] == "force-allow"
    assert policy["heartbeat"]["incoming"]["decided_by"]["id"] == 102
    assert policy["heartbeat"]["outgoing"]["decided_by"]["id"] == 103
    assert policy["window_blockers"] == []
    # one search, the parents read once each, own values and assignments per policy, the rules in effect
    paths = [(method, path) for method, path, _q, _b in calls]
    assert paths.count(("GET", "/api/policies/2")) == 2 and paths.count(("GET", "/api/policies/1")) == 2
    assert paths.count(("GET", "/api/policies/3/firewall/rules")) == 1 and len(paths) == 10


def test_a_policy_that_turns_no_driver_module_on_is_a_blocker_for_every_kind(client):
    for kind in ("failover_cluster", "nlb"):
        [blocker] = details(client, "Base Policy", kind)["window_blockers"]
        assert blocker["message"].startswith("MS-02") and "none of Firewall, Intrusion Prevention and Web " \
            "Reputation" in blocker["message"] and "KA-0004754" in blocker["message"]
        assert "dsm_computer policy=Base Policy" in blocker["remedy"]


def test_nlb_windows_do_not_check_the_failover_cluster_heartbeat(client):
    assert details(client, "NLB Web Farm", "nlb")["window_blockers"] == []
    [blocker] = details(client, "NLB Web Farm")["window_blockers"]
    assert blocker["message"].startswith("MS-04")


def test_a_deny_in_a_parent_policy_with_a_higher_priority_cuts_the_child_off(client):
    deny = service.firewall_rule(client, {"name": "deny cluster ports", "action": "deny", "priority": "4",
                                          "direction": "incoming", "frame_type": "ip", "protocol": "udp",
                                          "destination_port_type": "multiple",
                                          "destination_port_multiple": ["3300-3400"]})["id"]
    service.firewall_assignment(client, [str(deny)], policy="Windows Server")
    policy = details(client, "SQL Server Cluster")
    assert policy["heartbeat"]["incoming"]["blocked_by"]["id"] == deny
    assert policy["heartbeat"]["outgoing"]["passes"]
    [blocker] = policy["window_blockers"]
    assert "'deny cluster ports'" in blocker["message"] and "incoming" in blocker["message"]
    assert "outgoing UDP" not in blocker["message"]


def test_a_policy_level_override_of_a_rule_is_what_counts(client, model):
    # The DSM lists a policy's rules "including policy-level overrides" (SDK 20.0 PolicyFirewallRuleDetailsApi).
    client.post("/policies/3/firewall/rules/103", {"action": "deny"})
    assert model.state["rules"]["103"]["action"] == "force-allow"
    policy = details(client, "SQL Server Cluster")
    assert dict((r["id"], r["action"]) for r in policy["firewall_rules"])[103] == "deny"
    assert policy["heartbeat"]["outgoing"]["blocked_by"]["id"] == 103
    client.delete("/policies/3/firewall/rules/103")
    assert details(client, "SQL Server Cluster")["window_blockers"] == []


def test_a_module_inherited_from_the_parent_is_on_and_named_with_its_source(client):
    child = client.post("/policies", {"name": "SQL child", "parentID": 3})
    policy = details(client, "SQL child")
    assert policy["modules"]["firewall"]["on"] and policy["modules"]["firewall"]["set_by"]["id"] == 3
    assert [item["id"] for item in policy["chain"]] == [child["ID"], 3, 2, 1]
    assert all(item["inherited"] for item in policy["firewall_rules"])
    assert policy["window_blockers"] == []


def test_tap_mode_is_named_but_still_blocks(client):
    client.set_setting("policies", 2, "firewallSettingNetworkEngineMode", "Tap")
    [blocker] = details(client, "Windows Server")["window_blockers"]
    assert "Tap mode" in blocker["message"] and "Inline would block it" in blocker["message"]


def test_a_state_the_dsm_does_not_give_blocks(client):
    facts = details(client, "SQL Server Cluster")
    broken = copy.deepcopy(facts)
    broken["modules"]["web_reputation"].update(state=None, on=None)
    [blocker] = policy_model.policy_window_blockers(broken, "nlb")
    assert "no state for Web Reputation" in blocker["message"]
    broken["modules"]["firewall"].update(state=None, on=None)
    # Firewall of unknown state: the heartbeat is checked as if it were on; here the rules let it through.
    assert len(policy_model.policy_window_blockers(broken, "failover_cluster")) == 1
    broken["firewall_rules"] = "unread"
    assert [b["message"][:5] for b in policy_model.policy_window_blockers(broken, "failover_cluster")] == \
        ["MS-02", "MS-04"]


def test_a_firewall_that_is_off_needs_no_heartbeat_rule():
    facts = {"id": 9, "name": "IPS only", "modules": {
        "firewall": {"name": "Firewall", "state": "off", "on": False},
        "intrusion_prevention": {"name": "Intrusion Prevention", "state": "detect", "on": True},
        "web_reputation": {"name": "Web Reputation", "state": "off", "on": False}}, "firewall_rules": []}
    assert policy_model.policy_window_blockers(facts, "failover_cluster") == []


@pytest.mark.parametrize("facts, kind, parameter", [
    ({"modules": {}}, "wsfc", "cluster_kind"),
    ("policy 3", "failover_cluster", "policy_facts"),
    ({"name": "x"}, "nlb", "policy_facts"),
])
def test_bad_input_to_the_blockers_names_the_parameter(facts, kind, parameter):
    with pytest.raises(ParameterError) as caught:
        policy_model.policy_window_blockers(facts, kind)
    assert caught.value.details["parameter"] == parameter


def test_policies_by_id_and_bad_ids(client, calls):
    info = service.policy_info(client, ["Base Policy"], ids=[3, 1])
    assert [p["id"] for p in info["policies"]] == [1, 3]
    with pytest.raises(NotFoundError) as caught:
        service.policy_info(client, ids=[42])
    assert "42" in caught.value.message
    del calls[:]
    for bad in ([0], [True], ["3"]):
        with pytest.raises(ParameterError):
            service.policy_info(client, ids=bad)
    with pytest.raises(ParameterError) as caught:
        service.policy_info(client, ["Base Policy"], cluster_kind="wsfc")
    assert caught.value.details["parameter"] == "cluster_kind" and calls == []


def test_a_parent_loop_in_a_foreign_answer_is_an_error(client, model):
    model.state["policies"]["1"]["parentID"] = 3
    with pytest.raises(DsmError) as caught:
        details(client, "SQL Server Cluster")
    assert "loop" in caught.value.message


def test_every_policy_with_details_reads_the_list_once(client, calls):
    del calls[:]
    policies = service.policy_info(client, details=True)["policies"]
    assert [p["id"] for p in policies] == [1, 2, 3, 4] and all("heartbeat" in p for p in policies)
    assert not any(path.startswith("/api/policies/") and path.count("/") == 3 and not query
                   for method, path, query, _b in calls if method == "GET")
