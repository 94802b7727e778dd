"""Behaviour the DSM's own contract requires (SDK 20.0, Automation Center guides), checked against the
lab's DSM model in-process: exact name searches, policy delivery waits, own vs inherited rule
assignments, the 429 budget, a lost create answer, expand=none on writes, agent version 0.0.0.0."""
import socket

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import client as dsm_client
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import (
    DsmClient,
    DsmUnavailableError,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import WaitTimeoutError
from tests.lab.inprocess import activate, created_rules, model_opener

DENY = {"name": "webX1", "action": "deny", "priority": 4, "direction": "incoming", "frame_type": "ip"}


# -- issue 15 point 9: wildcards ----------------------------------------------------------------

def test_the_lab_treats_percent_and_underscore_as_wildcards_by_default(client, model):
    service.firewall_rule(client, dict(DENY))
    criteria = [{"fieldName": "name", "stringTest": "equal", "stringValue": "web_1"}]
    assert [r["name"] for r in client.search("firewallrules", "firewallRules", criteria=criteria)] == ["webX1"]
    criteria[0]["stringValue"] = "web%"
    assert len(client.search("firewallrules", "firewallRules", criteria=criteria)) == 1
    criteria[0]["stringWildcards"] = False
    assert client.search("firewallrules", "firewallRules", criteria=criteria) == []


def test_an_underscore_name_never_touches_an_unrelated_rule(client, model, calls):
    service.firewall_rule(client, dict(DENY))
    result = service.firewall_rule(client, {"name": "web_1", "action": "bypass", "direction": "incoming",
                                            "frame_type": "other", "frame_number": "0x886F"})
    assert result["action"] == "create" and result["id"] == 2
    assert model.state["rules"]["1"]["action"] == "deny" and model.state["rules"]["1"]["name"] == "webX1"
    searches = [body for method, path, _q, body in calls if path.endswith("/search")]
    assert searches and all(c.get("stringWildcards") is False
                            for body in searches for c in body["searchCriteria"] if "stringValue" in c)
    assert not service.firewall_rule(client, {"name": "web_1", "action": "bypass"})["changed"]
    assert service.firewall_rule(client, {"name": "web_1"}, state="absent")["changed"]
    assert "1" in model.state["rules"]


def test_host_names_with_wildcard_characters_are_matched_literally(client, model):
    activate(model, "WEB1")
    with pytest.raises(Exception) as caught:
        service.computer_info(client, ["WEB_"])
    assert "not found" in str(caught.value)


# -- issue 15 point 10: policy applied ------------------------------------------------------------

def test_dsm_computer_waits_until_the_agent_has_the_policy(client, model, clock):
    activate(model, "APP1", policy_id=1)
    published = []
    model.world = type("World", (), {"publish": lambda self, event, **payload: published.append((event, payload)),
                                     "ask": lambda self, question, default=None, **kw: default})()
    model.policy_delay_ms = 7000
    result = service.computer_settings(client, computers=["APP1"], modules={"Firewall": "on"},
                                       allow_network_blip=True)
    computer = model.state["computers"]["1"]
    target = result["targets"][0]
    assert result["changed_at"] and target["policy_applied"] is True
    assert computer["lastSendPolicySuccess"] >= result["changed_at"] + 7000
    assert target["policy_sent_at"] == computer["lastSendPolicySuccess"]
    assert computer["agentTasks"] == [] and result["waited_seconds"] >= 7
    # The driver loaded when the policy arrived, before the module returned.
    assert published == [("agent.network_driver_loaded", {"host_name": "APP1", "modules": ["Firewall"]})]


def test_without_waiting_the_agent_does_not_have_the_policy_yet(client, model):
    activate(model, "APP1", policy_id=1)
    result = service.computer_settings(client, computers=["APP1"], settings={"firewallSettingNetworkEngineMode": "Tap"},
                                       wait=False)
    assert result["targets"][0]["policy_applied"] is None and result["waited_seconds"] == 0
    info = service.computer_info(client, ["APP1"])["computers"][0]
    assert info["agent_tasks"] == ["Sending Policy"] and info["policy_applied"] is False
    before = result["targets"][0]["policy_sent_before"]
    assert before == model.state["computers"]["1"]["lastSendPolicySuccess"]
    waited = service.computer_info(client, ["APP1"], wait_for="policy_applied", since_policy_success=before)
    assert waited["computers"][0]["policy_applied"] is True and waited["computers"][0]["agent_tasks"] == []
    assert waited["computers"][0]["last_send_policy_success"] > before


def test_the_wait_is_bounded_and_says_what_is_missing(client, model, clock):
    activate(model, "APP1", policy_id=1)
    model.state["computers"]["1"]["agentStatus"] = "warning"
    model.state["computers"]["1"]["agentStatusMessages"] = ["Offline"]
    service.computer_settings(client, computers=["APP1"], settings={"firewallSettingNetworkEngineMode": "Tap"},
                              wait=False)
    start = clock.now
    with pytest.raises(WaitTimeoutError) as caught:
        service.computer_info(client, ["APP1"], wait_for="active", wait_timeout=30)
    assert "agent status is warning" in caught.value.message and "Offline" in caught.value.message
    assert 30 <= clock.now - start <= 31 and max(clock.slept) <= service.MAX_POLL


def test_an_offline_agent_is_not_waited_for_after_a_change(client, model):
    activate(model, "APP1", policy_id=1)
    model.state["computers"]["1"]["agentStatus"] = "error"
    result = service.computer_settings(client, computers=["APP1"], settings={"firewallSettingNetworkEngineMode": "Tap"})
    assert result["changed"] and result["targets"][0]["policy_applied"] is None
    assert "no active agent" in result["warnings"][0]


def test_wait_for_active_waits_for_a_computer_that_does_not_exist_yet(client, model, clock):
    activations = iter([None, None, "activate"])
    original = clock.sleep

    def sleep(seconds):
        original(seconds)
        if next(activations, None):
            activate(model, "NEW1", policy_id=1)
    client._sleep = sleep
    result = service.computer_info(client, ["NEW1"], wait_for="active", wait_timeout=60)
    assert result["computers"][0]["has_agent"] and result["computers"][0]["agent_status"] == "active"


@pytest.mark.parametrize("options, parameter", [
    (dict(wait_for="policy_applied", wait_timeout=0), "wait_timeout"),
    (dict(wait_for="active", since_policy_success=1700000000000), "since_policy_success"),
    (dict(wait_for="policy_applied", since_policy_success="-5"), "since_policy_success"),
    (dict(wait_for="policy_applied", since_policy_success={"APP2": 1}), "since_policy_success"),
    (dict(wait_for="policy_applied", since_policy_success={}), "since_policy_success"),
    (dict(wait_for="policy_applied", since_policy_success=True), "since_policy_success"),
    (dict(wait_for="sometime"), "wait_for"),
])
def test_bad_wait_options_are_named_before_any_request(client, calls, options, parameter):
    with pytest.raises(Exception) as caught:
        service.computer_info(client, ["APP1"], **options)
    assert caught.value.details["parameter"] == parameter and calls == []


# -- issue 15 point 12: overrides ----------------------------------------------------------------

def test_rules_from_the_policy_are_reported_apart_and_never_deleted(client, model, calls):
    activate(model, "WEB1")
    policy_rule = service.firewall_rule(client, dict(DENY))["id"]
    own_rule = service.firewall_rule(client, dict(DENY, name="own"))["id"]
    service.firewall_assignment(client, [policy_rule], policy="NLB Web Farm")
    del calls[:]
    result = service.firewall_assignment(client, [policy_rule, own_rule], computers=["WEB1"], state="absent")
    entry = result["assignments"][0]
    assert not result["changed"] and entry["inherited"] == [policy_rule] and entry["removed"] == []
    assert not [c for c in calls if c[0] == "DELETE"]
    assert all("overrides=true" in query for method, path, query, _b in calls
               if path.endswith("/assignments") and method == "GET" and calls.index((method, path, query, _b)) == 0)
    added = service.firewall_assignment(client, [own_rule], computers=["WEB1"])["assignments"][0]
    assert added["after"] == [own_rule] and added["inherited"] == [policy_rule]
    info = service.computer_info(client, ["WEB1"])["computers"][0]
    assert info["firewall_rule_ids"] == sorted([policy_rule, own_rule])


def test_the_lab_answers_assignments_with_and_without_overrides(client, model):
    activate(model, "WEB1")
    rule_id = service.firewall_rule(client, dict(DENY))["id"]
    client.add_firewall_assignments("policies", 4, [rule_id])
    assert client.get_firewall_assignments("computers", 1) == [rule_id]
    assert client.get_firewall_assignments("computers", 1, overrides=True) == []


# -- issue 15 point 13: 429 -------------------------------------------------------------------------

def test_throttling_has_its_own_budget_of_at_least_sixty_seconds(model, topology):
    sleeps = []
    client = DsmClient("https://dsm.test:4119/api", topology["dsm"]["api_key"], opener=model_opener(model),
                       sleep=sleeps.append, max_retries=0, retry_backoff=0)
    model.set_faults({"throttle_next": 100})
    with pytest.raises(DsmUnavailableError) as caught:
        client.get("/policies")
    assert sum(sleeps) >= dsm_client.RATE_LIMIT_BUDGET and "429" in caught.value.message
    assert sleeps[1] > sleeps[0] and max(sleeps) <= dsm_client.MAX_BACKOFF
    model.set_faults({"throttle_next": 3})
    assert client.get("/policies")["policies"]


# -- issue 15 point 14: a lost create answer --------------------------------------------------------

def test_a_create_whose_answer_is_lost_is_read_back_not_repeated(model, topology):
    real = model_opener(model)
    lost = {"count": 0}

    def opener(method, url, data, headers):
        answer = real(method, url, data, headers)
        if method == "POST" and url.endswith("/firewallrules") and lost["count"] == 0:
            lost["count"] += 1
            raise socket.timeout("timed out")
        return answer
    client = DsmClient("https://dsm.test:4119/api", topology["dsm"]["api_key"], opener=opener, sleep=lambda s: None)
    result = service.firewall_rule(client, dict(DENY))
    assert result["id"] == 1 and len(created_rules(model)) == 1


def test_a_create_that_never_arrived_is_sent_again(model, topology):
    real = model_opener(model)
    failures = {"left": 2}

    def opener(method, url, data, headers):
        if method == "POST" and url.endswith("/firewallrules") and failures["left"]:
            failures["left"] -= 1
            raise socket.error("connection refused")
        return real(method, url, data, headers)
    client = DsmClient("https://dsm.test:4119/api", topology["dsm"]["api_key"], opener=opener, sleep=lambda s: None)
    assert service.firewall_rule(client, dict(DENY))["id"] == 1 and len(created_rules(model)) == 1


# -- issue 15 point 15: expand ----------------------------------------------------------------------

def test_writes_to_computers_ask_for_no_expansion(client, model, calls):
    activate(model, "WEB1")
    service.computer_settings(client, computers=["WEB1"], modules={"Firewall": "off"})
    writes = [(path, query) for method, path, query, _b in calls if method == "POST" and path == "/api/computers/1"]
    assert writes and all(query == "expand=none" for _path, query in writes)
    lookups = [query for method, path, query, _b in calls if path.endswith("/computers/search")]
    assert lookups and all(query == "expand=none" for query in lookups)


# -- issue 10 point 17: agent version 0.0.0.0 --------------------------------------------------------

def test_no_agent_is_reported_as_0000_and_read_as_no_agent(client, model):
    model.handle("POST", "/api/computers", headers={"api-secret-key": model.api_key, "api-version": "v1"},
                 body=b'{"hostName": "BARE1"}')
    raw = client.find_computers(["BARE1"])[0]
    assert raw["agentVersion"] == "0.0.0.0"
    summary = service.computer_info(client, ["BARE1"])["computers"][0]
    assert summary["agent_version"] == "" and summary["has_agent"] is False and summary["policy_applied"] is False
    activate(model, "BARE1", policy_id=1)
    assert service.computer_info(client, ["BARE1"])["computers"][0]["has_agent"] is True
    model.on_agent_removed(host_name="BARE1")
    assert client.find_computers(["BARE1"])[0]["agentVersion"] == "0.0.0.0"


def test_a_change_whose_policy_never_arrives_fails_saying_it_is_saved(client, model):
    activate(model, "APP1", policy_id=1)
    model.policy_delay_ms = 10 ** 9
    with pytest.raises(WaitTimeoutError) as caught:
        service.computer_settings(client, computers=["APP1"], settings={"firewallSettingNetworkEngineMode": "Tap"},
                                  wait_timeout=20)
    assert "The change is saved in the DSM" in caught.value.message and "Sending Policy" in caught.value.message
    assert caught.value.details["targets"][0]["policy_applied"] is False
    assert model.state["computers"]["1"]["settings"]["firewallSettingNetworkEngineMode"] == "Tap"
