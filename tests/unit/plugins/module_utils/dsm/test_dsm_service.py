import json
"""The modules' behaviour, run against the lab's DSM model in-process: changed then unchanged, check
mode changes nothing, bad input changes nothing."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import DsmError, DsmValidationError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.nlb import exclusion_rules
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import InterlockError, NotFoundError, ParameterError
from tests.lab.inprocess import activate, created_rules

HB_IN = {"name": "hb in", "action": "bypass", "priority": 4, "direction": "incoming", "frame_type": "other",
         "frame_number": "0x886F"}


def writes(calls):
    return [(method, path) for method, path, _query, _body in calls if method != "GET" and not path.endswith("/search")]


def test_firewall_rule_create_then_unchanged_then_update(client, model, calls):
    first = service.firewall_rule(client, dict(HB_IN))
    assert first["changed"] and first["action"] == "create" and first["id"] == 1
    assert first["firewall_rule"]["frame_number"] == 0x886F
    assert first["diff"]["before"] == {} and first["diff"]["after"]["action"] == "bypass"
    del calls[:]
    second = service.firewall_rule(client, dict(HB_IN))
    assert not second["changed"] and second["id"] == 1 and writes(calls) == []
    third = service.firewall_rule(client, dict(HB_IN, priority=3))
    assert third["changed"] and third["changed_fields"] == ["priority"]
    assert third["diff"]["before"]["priority"] == "4" and third["diff"]["after"]["priority"] == "3"
    assert model.state["rules"]["1"]["priority"] == "3"


def test_firewall_rule_check_mode_changes_nothing(client, model, calls):
    result = service.firewall_rule(client, dict(HB_IN), check_mode=True)
    assert result["changed"] and result["id"] is None and created_rules(model) == {}
    service.firewall_rule(client, dict(HB_IN))
    result = service.firewall_rule(client, dict(HB_IN, action="deny"), check_mode=True)
    assert result["changed"] and result["firewall_rule"]["action"] == "deny"
    assert model.state["rules"]["1"]["action"] == "bypass"
    result = service.firewall_rule(client, {"name": "hb in"}, state="absent", check_mode=True)
    assert result["changed"] and "1" in model.state["rules"]


def test_firewall_rule_absent(client, model):
    service.firewall_rule(client, dict(HB_IN))
    assert service.firewall_rule(client, {"name": "hb in"}, state="absent")["changed"]
    assert created_rules(model) == {}
    assert not service.firewall_rule(client, {"name": "hb in"}, state="absent")["changed"]


def test_bad_action_changes_nothing(client, model, calls):
    with pytest.raises(ParameterError) as caught:
        service.firewall_rule(client, dict(HB_IN, action="permit"))
    assert "allowed values: log-only, allow, deny, force-allow, bypass" in caught.value.message
    assert created_rules(model) == {} and calls == []


def test_dsm_validation_message_comes_back(client, model):
    with pytest.raises(DsmValidationError) as caught:
        service.firewall_rule(client, {"name": "ports", "destination_port_type": "multiple",
                                       "destination_port_multiple": ["80"], "protocol": "icmp"})
    assert "tcp, udp or tcp-udp" in caught.value.message and created_rules(model) == {}


def test_assigned_rule_cannot_be_deleted(client, model):
    activate(model, "WEB1")
    service.firewall_rule(client, dict(HB_IN))
    service.firewall_assignment(client, ["hb in"], computers=["WEB1"])
    with pytest.raises(DsmValidationError) as caught:
        service.firewall_rule(client, {"name": "hb in"}, state="absent")
    assert "assigned to computer WEB1" in caught.value.message


def test_assignment_present_absent_idempotent_and_check_mode(client, model):
    activate(model, "WEB1")
    activate(model, "WEB2")
    rule_id = service.firewall_rule(client, dict(HB_IN))["id"]
    checked = service.firewall_assignment(client, ["hb in"], computers=["WEB1", "WEB2"], check_mode=True)
    assert checked["changed"] and model.state["computers"]["1"]["firewallRuleIDs"] == []
    first = service.firewall_assignment(client, ["hb in"], computers=["WEB1", "WEB2"])
    assert first["changed"] and [a["added"] for a in first["assignments"]] == [[rule_id], [rule_id]]
    assert first["diff"] == {"before": {"WEB1": [], "WEB2": []}, "after": {"WEB1": [rule_id], "WEB2": [rule_id]}}
    assert not service.firewall_assignment(client, [str(rule_id)], computers=["WEB1", "WEB2"])["changed"]
    removed = service.firewall_assignment(client, ["hb in"], computers=["WEB1"], state="absent")
    assert removed["changed"] and removed["assignments"][0]["after"] == []
    assert not service.firewall_assignment(client, ["hb in"], computers=["WEB1"], state="absent")["changed"]


def test_assignment_on_policy(client, model):
    rule_id = service.firewall_rule(client, dict(HB_IN))["id"]
    result = service.firewall_assignment(client, ["hb in"], policy="NLB Web Farm")
    assert result["changed"] and model.state["policies"]["4"]["firewallRuleIDs"] == [rule_id]


@pytest.mark.parametrize("rules, computers, policy, words", [
    (["hb inn"], ["WEB1"], None, ["firewall rule 'hb inn' not found", "parameter rules", "hb in"]),
    (["99"], ["WEB1"], None, ["firewall rule ID 99 not found"]),
    (["hb in"], ["WEB7"], None, ["computer 'WEB7' not found", "WEB1"]),
    (["hb in"], None, "NLB Webfarm", ["policy 'NLB Webfarm' not found", "NLB Web Farm"]),
])
def test_assignment_unknown_names_change_nothing(client, model, rules, computers, policy, words):
    activate(model, "WEB1")
    service.firewall_rule(client, dict(HB_IN))
    with pytest.raises(NotFoundError) as caught:
        service.firewall_assignment(client, rules, computers=computers, policy=policy)
    for word in words:
        assert word in caught.value.message
    assert model.state["computers"]["1"]["firewallRuleIDs"] == []
    assert model.state["policies"]["4"]["firewallRuleIDs"] == []


def test_computer_settings_changed_then_unchanged(client, model):
    activate(model, "WEB1")
    desired = dict(settings={"firewallSettingNetworkEngineMode": "Tap"}, modules={"IPS": "off", "Firewall": "on"})
    first = service.computer_settings(client, computers=["WEB1"], **desired)
    assert first["changed"]
    target = first["targets"][0]
    assert target["settings"]["firewallSettingNetworkEngineMode"] == {"before": "Inline", "after": "Tap"}
    assert target["modules"]["Intrusion Prevention"] == {"before": "off", "after": "off"}
    assert model.state["computers"]["1"]["settings"]["firewallSettingNetworkEngineMode"] == "Tap"
    second = service.computer_settings(client, computers=["WEB1"], **desired)
    assert not second["changed"]


def test_computer_settings_check_mode(client, model):
    activate(model, "WEB1")
    result = service.computer_settings(client, computers=["WEB1"], settings={"firewallSettingNetworkEngineMode": "Tap"},
                                       check_mode=True)
    assert result["changed"] and model.state["computers"]["1"]["settings"] == {}


def test_turning_ips_off_on_a_policy_and_inherited(client, model):
    result = service.computer_settings(client, policy="SQL Server Cluster", modules={"Deep Packet Inspection": "off"})
    assert result["changed"] and result["targets"][0]["modules"]["Intrusion Prevention"]["before"] == "prevent"
    assert model.state["policies"]["3"]["modules"]["intrusionPrevention"] == "off"
    activate(model, "SQL-NODE1", policy_id=3)
    model.state["computers"]["1"]["modules"]["firewall"] = "off"
    first = service.computer_settings(client, computers=["SQL-NODE1"], modules={"firewall": "inherited"},
                                      allow_network_blip=True)
    assert first["changed"] and first["targets"][0]["modules"]["Firewall"] == {"before": "off", "after": "inherited"}
    assert model.state["computers"]["1"]["modules"]["firewall"] == "inherited"
    assert not service.computer_settings(client, computers=["SQL-NODE1"], modules={"firewall": "inherited"})["changed"]


def test_back_to_inherited_under_a_policy_with_firewall_on_is_a_blip(client, model):
    # SQL Server Cluster turns Firewall on: leaving an override "off" for "inherited" loads the driver.
    activate(model, "SQL-NODE1", policy_id=3)
    model.state["computers"]["1"]["modules"]["firewall"] = "off"
    before = json.dumps(model.state, sort_keys=True)
    with pytest.raises(InterlockError) as caught:
        service.computer_settings(client, computers=["SQL-NODE1"], modules={"Firewall": "inherited"})
    assert "SQL-NODE1 (Firewall)" in caught.value.message
    assert json.dumps(model.state, sort_keys=True) == before
    # Under the base policy (Firewall off) the same change is no blip.
    model.state["computers"]["1"]["policyID"] = 1
    result = service.computer_settings(client, computers=["SQL-NODE1"], modules={"Firewall": "inherited"})
    assert result["changed"] and result["targets"][0]["network_driver_modules"] == []


def test_network_driver_warning_and_world_event(client, model):
    activate(model, "APP1", policy_id=1)
    published = []
    model.world = type("World", (), {"publish": lambda self, event, **payload: published.append((event, payload)),
                                     "ask": lambda self, question, default=None, **kw: default})()
    result = service.computer_settings(client, computers=["APP1"], modules={"Firewall": "on"}, allow_network_blip=True)
    assert result["warnings"] and "Firewall" in result["warnings"][0] and "KA-0004754" in result["warnings"][0]
    assert result["targets"][0]["network_driver_modules"] == ["Firewall"]
    assert published == [("agent.network_driver_loaded", {"host_name": "APP1", "modules": ["Firewall"]})]
    service.computer_settings(client, computers=["APP1"], modules={"Web Reputation": "on"}, allow_network_blip=True)
    assert len(published) == 1


def test_network_driver_interlock_refuses_before_any_write(client, model):
    activate(model, "APP1", policy_id=1)
    activate(model, "WEB1")
    before = json.dumps(model.state, sort_keys=True)
    for check_mode in (True, False):
        with pytest.raises(InterlockError) as caught:
            service.computer_settings(client, computers=["WEB1", "APP1"], modules={"Firewall": "on"},
                                      settings={"firewallSettingNetworkEngineMode": "Tap"}, check_mode=check_mode)
        assert "stop the cluster service first" in caught.value.message
        assert "allow_network_blip" in caught.value.message and "APP1 (Firewall)" in caught.value.message
    assert json.dumps(model.state, sort_keys=True) == before


def test_bad_setting_value_changes_nothing(client, model):
    activate(model, "WEB1")
    with pytest.raises(ParameterError) as caught:
        service.computer_settings(client, computers=["WEB1"], settings={"firewallSettingNetworkEngineMode": "Bypass"})
    assert "Inline, Tap" in caught.value.message
    with pytest.raises(DsmValidationError) as caught:
        service.computer_settings(client, computers=["WEB1"], settings={"firewallSettingNoSuchThing": "1"})
    assert "firewallSettingNoSuchThing" in caught.value.message
    assert model.state["computers"]["1"]["settings"] == {}


def test_computer_info(client, model):
    activate(model, "WEB1")
    activate(model, "SQL-NODE1", policy_id=3, version="20.0.1-3180")
    info = service.computer_info(client, ["WEB1", "sql-node1"])
    web, sql = info["computers"]
    assert not info["changed"]
    assert (web["host_name"], web["agent_version"], web["policy_name"]) == ("WEB1", "20.0.1-690", "NLB Web Farm")
    assert web["agent_status"] == "active" and web["agent_status_messages"] == ["Managed (Online)"]
    assert web["modules"]["firewall"]["state"] == "on" and web["network_engine_mode"] == "Inline"
    assert sql["modules"]["intrusion_prevention"] == {"name": "Intrusion Prevention", "state": "prevent",
                                                      "status": "active", "status_message": "On, Prevent"}
    assert len(service.computer_info(client)["computers"]) == 2
    model.on_agent_removed(host_name="WEB1")
    assert service.computer_info(client, ["WEB1"])["computers"][0]["agent_status"] == "inactive"


def test_invalid_flags_come_from_the_vip_tcp_traffic_not_the_heartbeat(client, model):
    activate(model, "WEB1")
    activate(model, "SQL-NODE1", policy_id=3)
    model.tick()
    # 3 NLB hosts: packets of the 2 other hosts' connections, on each of the 2 TCP port rules (80, 443).
    counters = dict(model.state["nlb"]["WEB1"])
    assert [events for _stamp, events in counters.pop("invalid_flags_log")] == [4]
    assert counters == {"invalid_flags_events": 4, "invalid_flags_blocked": 4, "cluster": "WEBFARM"}
    assert "SQL-NODE1" not in model.state["nlb"]
    service.computer_settings(client, computers=["WEB1"], settings={"firewallSettingNetworkEngineMode": "Tap"})
    model.tick()
    assert model.state["nlb"]["WEB1"]["invalid_flags_events"] == 8
    assert model.state["nlb"]["WEB1"]["invalid_flags_blocked"] == 4
    info = {"cluster": {"name": "WEBFARM", "ip_address": "192.0.2.80"},
            "port_rules": [{"start_port": 80, "protocol": "Tcp"}, {"start_port": 443, "protocol": "Tcp"}]}
    specs = exclusion_rules(info, virtual_ip=True)
    ids = [service.firewall_rule(client, spec)["id"] for spec in specs]
    # The heartbeat pair alone changes nothing: heartbeat frames carry no TCP flags.
    service.firewall_assignment(client, ids[:2], computers=["WEB1"])
    model.clock = lambda: 10 ** 10
    model.tick()
    assert model.state["nlb"]["WEB1"]["invalid_flags_events"] == 12
    # The virtual IP's bypass pairs do, once the agent has received its policy.
    service.firewall_assignment(client, [str(rule_id) for rule_id in ids[2:]], policy="NLB Web Farm")
    model.tick()
    assert model.state["nlb"]["WEB1"]["invalid_flags_events"] == 16
    model.clock = lambda: 10 ** 10 + 60
    model.status()
    model.tick(5)
    assert model.state["nlb"]["WEB1"]["invalid_flags_events"] == 16


# -- dsm_policy_info ---------------------------------------------------------------------------------

def _create_policy(client, name, parent_id=1):
    return client.post("/policies", {"name": name, "parentID": parent_id, "description": "made by the test"})


def test_policy_info_by_name_in_the_order_asked(client, calls):
    info = service.policy_info(client, ["SQL Server Cluster", "Base Policy", "SQL Server Cluster"])
    assert not info["changed"]
    assert info["policies"] == [
        {"id": 3, "name": "SQL Server Cluster", "parent_id": 2, "description": ""},
        {"id": 1, "name": "Base Policy", "parent_id": None, "description": ""},
    ]
    # One exact search per distinct name, nothing else.
    assert [(method, path) for method, path, _q, _b in calls] == [("POST", "/api/policies/search")] * 2
    criteria = [body["searchCriteria"] for _m, _p, _q, body in calls]
    assert criteria == [[{"fieldName": "name", "stringTest": "equal", "stringValue": name, "stringWildcards": False}]
                        for name in ("SQL Server Cluster", "Base Policy")]


def test_policy_info_every_policy_by_id(client):
    created = _create_policy(client, "File Servers", parent_id=2)
    policies = service.policy_info(client)["policies"]
    assert [p["id"] for p in policies] == [1, 2, 3, 4, created["ID"]]
    assert policies[-1] == {"id": created["ID"], "name": "File Servers", "parent_id": 2,
                            "description": "made by the test"}
    assert service.policy_info(client, [])["policies"] == policies


def test_policy_names_are_exact_wildcards_and_case_included(client):
    literal = _create_policy(client, "SQL_Cluster")
    _create_policy(client, "SQLXCluster")
    assert [p["id"] for p in service.policy_info(client, ["SQL_Cluster"])["policies"]] == [literal["ID"]]
    for name in ("SQL%", "sql server cluster", "SQL Server Cluster "):
        with pytest.raises(NotFoundError) as caught:
            service.policy_info(client, [name])
        assert repr(name) in caught.value.message and "(parameter policies)" in caught.value.message
    with pytest.raises(NotFoundError) as caught:
        service.policy_info(client, ["sql server cluster"])
    assert "SQL Server Cluster" in caught.value.details["nearest"]


def test_unknown_policy_names_the_nearest(client, calls):
    with pytest.raises(NotFoundError) as caught:
        service.policy_info(client, ["Base Policy", "SQL Server Clustr"])
    assert caught.value.message.startswith("policy 'SQL Server Clustr' not found (parameter policies); nearest "
                                           "existing: SQL Server Cluster")
    assert caught.value.details["nearest"][0] == "SQL Server Cluster"
    # Two searches, then the policies listed once for the nearest names.
    assert [(m, p) for m, p, _q, _b in calls][-1] == ("GET", "/api/policies")


@pytest.mark.parametrize("names", [[""], ["  "], ["Base Policy", None], [3]])
def test_bad_policy_names_fail_before_any_request(client, calls, names):
    with pytest.raises(ParameterError) as caught:
        service.policy_info(client, names)
    assert caught.value.details["parameter"] == "policies" and calls == []


def test_two_policies_of_one_name_are_refused(client, model):
    # The DSM refuses a duplicate name on create; should it hold two all the same, no ID is guessed.
    twin = dict(model.state["policies"]["3"], ID=9)
    model.state["policies"]["9"] = twin
    with pytest.raises(DsmError) as caught:
        service.policy_info(client, ["SQL Server Cluster"])
    assert "2 policies are named 'SQL Server Cluster' (IDs 3, 9)" in str(caught.value)


@pytest.mark.parametrize("item, parent", [({"ID": 1, "name": "Base Policy"}, None),
                                          ({"ID": 1, "name": "Base Policy", "parentID": 0}, None),
                                          ({"ID": 2, "name": "W", "parentID": 1}, 1),
                                          ({"ID": 2, "name": "W", "parentID": True}, None)])
def test_summarize_policy_parent(item, parent):
    summary = service.summarize_policy(item)
    assert summary["parent_id"] == parent and summary["description"] == "" and summary["id"] == item["ID"]
