"""The lab's DSM held to Trend's own SDK (PyPI ``deep-security-api`` 20.0, module ``deepsecurity``):
everything the collection relies on must deserialize into the SDK's models without error, so the
simulator speaks the real contract and not only our client's idea of it. Also: persistence across a
restart, faults, and the world events the DSM part publishes and consumes.

Each test starts its own DSM server on a free loopback port with a temporary state directory; nothing
here needs the shared lab."""
import json
import os
import socket
import subprocess
import sys
import time
import ssl
import urllib.error
import urllib.request

import pytest
import yaml

deepsecurity = pytest.importorskip("deepsecurity")
from deepsecurity.rest import ApiException  # noqa: E402

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service as services  # noqa: E402
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import (  # noqa: E402
    DsmAuthError,
    DsmClient,
    DsmUnavailableError,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.nlb import exclusion_rules  # noqa: E402
from tests.lab.dsm import part as dsm_part  # noqa: E402
from tests.lab.world import LabWorld  # noqa: E402

LAB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab")
V = "v1"


def _topology():
    with open(os.path.join(LAB_DIR, "topology.yml")) as handle:
        return yaml.safe_load(handle)


class Lab(object):
    def __init__(self, state_dir, topology=None):
        self.state_dir = state_dir
        self.topology = topology or _topology()
        self.world = LabWorld(self.topology, state_dir)
        self.events = []
        self.world.subscribe("agent.network_driver_loaded", lambda **payload: self.events.append(payload))
        self.url = dsm_part.start(self.world, port=0)["url"]
        self.part = self.world.parts["dsm"]
        self.ca = os.path.join(state_dir, "pki", "ca.pem")
        self.key = self.topology["dsm"]["api_key"]

    def sdk(self, key=None):
        configuration = deepsecurity.Configuration()
        configuration.host = self.url
        configuration.verify_ssl = True
        configuration.ssl_ca_cert = self.ca
        configuration.api_key["api-secret-key"] = key or self.key
        return deepsecurity.ApiClient(configuration)

    def client(self, **kwargs):
        kwargs.setdefault("retry_backoff", 0.01)
        return DsmClient(self.url, self.key, ca_path=self.ca, **kwargs)

    def activate(self, host, policy_id=4, version="20.0.1-690"):
        self.world.publish("agent.activated", host_name=host, agent_version=version, policy_id=policy_id,
                           dsm_url="dsm://127.0.0.1:4120/")


@pytest.fixture
def lab(tmp_path):
    instance = Lab(str(tmp_path))
    yield instance
    instance.part.shutdown()


def test_firewall_rules_create_search_page_describe_modify(lab):
    rules = deepsecurity.FirewallRulesApi(lab.sdk())
    created = []
    for index in range(5):
        rule = deepsecurity.FirewallRule(name="NLB hb %d" % index, action="bypass", priority="4",
                                         direction="incoming" if index % 2 == 0 else "outgoing",
                                         frame_type="other", frame_number=0x886F, description="heartbeat")
        created.append(rules.create_firewall_rule(rule, V))
    assert [rule.id for rule in created] == [1, 2, 3, 4, 5]
    assert created[0].frame_number == 0x886F and created[0].protocol == "any"
    found = rules.search_firewall_rules(V, search_filter=deepsecurity.SearchFilter(search_criteria=[
        deepsecurity.SearchCriteria(field_name="name", string_test="equal", string_value="NLB hb 3")]))
    assert [rule.id for rule in found.firewall_rules] == [4]
    wild = rules.search_firewall_rules(V, search_filter=deepsecurity.SearchFilter(search_criteria=[
        deepsecurity.SearchCriteria(field_name="name", string_test="equal", string_value="NLB hb _",
                                    string_wildcards=True)]))
    assert len(wild.firewall_rules) == 5
    seen, last = [], 0
    while True:
        page = rules.search_firewall_rules(V, search_filter=deepsecurity.SearchFilter(
            max_items=2, sort_by_object_id=True,
            search_criteria=[deepsecurity.SearchCriteria(id_test="greater-than", id_value=last)])).firewall_rules
        seen += [rule.id for rule in page]
        if len(page) < 2:
            break
        last = page[-1].id
    assert seen == [1, 2, 3, 4, 5, 101, 102, 103]
    described = rules.describe_firewall_rule(2, V)
    assert described.name == "NLB hb 1" and described.direction == "outgoing"
    modified = rules.modify_firewall_rule(2, deepsecurity.FirewallRule(priority="3"), V)
    assert modified.priority == "3" and modified.action == "bypass"
    # the five and the three the topology gives the manager from the start (IDs 101-103)
    assert [rule.id for rule in rules.list_firewall_rules(V).firewall_rules] == [1, 2, 3, 4, 5, 101, 102, 103]
    rules.delete_firewall_rule(5, V)
    with pytest.raises(ApiException) as caught:
        rules.describe_firewall_rule(5, V)
    assert caught.value.status == 404


def test_validation_errors_like_the_dsm(lab):
    # The SDK validates enums itself, so send what a careless client would.
    api = lab.sdk()
    for body, words in (({"name": "x", "action": "permit"}, ["permit", "log-only, allow, deny, force-allow, bypass"]),
                        ({"action": "allow"}, ["Name is required"]),
                        ({"name": "x", "frameType": "other", "frameNumber": 5}, ["frameNumber"])):
        with pytest.raises(ApiException) as caught:
            api.call_api("/firewallrules", "POST", header_params={"api-version": V, "Content-Type": "application/json"},
                         body=body, auth_settings=["DefaultAuthentication"], response_type="FirewallRule")
        assert caught.value.status == 400
        message = json.loads(caught.value.body)["message"]
        for word in words:
            assert word in message
    with pytest.raises(ApiException) as caught:
        deepsecurity.FirewallRulesApi(api).search_firewall_rules(V, search_filter=deepsecurity.SearchFilter(
            search_criteria=[deepsecurity.SearchCriteria(field_name="colour", string_value="red")]))
    assert caught.value.status == 400 and "not searchable" in json.loads(caught.value.body)["message"]


def test_wrong_api_key_is_401_with_a_dsm_body(lab):
    with pytest.raises(ApiException) as caught:
        deepsecurity.PoliciesApi(lab.sdk(key="2:wrong")).list_policies(V)
    assert caught.value.status == 401 and "message" in json.loads(caught.value.body)
    with pytest.raises(DsmAuthError):
        DsmClient(lab.url, "2:wrong", ca_path=lab.ca).list_policies()


def test_computers_settings_and_assignments(lab):
    lab.activate("WEB1")
    lab.activate("SQL-NODE1", policy_id=3, version="20.0.1-3180")
    api = lab.sdk()
    computers = deepsecurity.ComputersApi(api)
    listed = computers.list_computers(V).computers
    assert [c.host_name for c in listed] == ["WEB1", "SQL-NODE1"]
    web = listed[0]
    assert web.agent_version == "20.0.1-690" and web.policy_id == 4
    assert web.computer_status.agent_status == "active" and web.computer_status.agent_status_messages
    assert web.firewall.state == "on" and web.intrusion_prevention.state == "off"
    assert web.computer_settings.firewall_setting_network_engine_mode.value == "Inline"
    none = computers.list_computers(V, expand=[deepsecurity.Expand.none]).computers
    assert none[0].computer_status is None and none[0].firewall is None
    found = computers.search_computers(V, expand=["computerStatus", "intrusionPrevention"], search_filter=deepsecurity.SearchFilter(
        search_criteria=[deepsecurity.SearchCriteria(field_name="hostName", string_test="equal", string_value="SQL-NODE1")]))
    sql = found.computers[0]
    assert sql.intrusion_prevention.state == "prevent" and sql.intrusion_prevention.module_status.agent_status == "active"
    described = computers.describe_computer(sql.id, V, expand=["all"])
    assert described.anti_malware.state == "on"
    setting = computers.modify_computer_setting(web.id, "firewallSettingNetworkEngineMode",
                                                deepsecurity.SettingValue(value="Tap"), V)
    assert setting.value == "Tap"
    assert computers.describe_computer_setting(web.id, "firewallSettingNetworkEngineMode", V).value == "Tap"
    overrides = computers.describe_computer(web.id, V, overrides=True)
    assert overrides.computer_settings.firewall_setting_network_engine_mode.value == "Tap"
    assert overrides.firewall is None
    changed = computers.modify_computer(web.id, deepsecurity.Computer(
        intrusion_prevention=deepsecurity.IntrusionPreventionComputerExtension(state="detect")), V)
    assert changed.intrusion_prevention.state == "detect"
    rule = deepsecurity.FirewallRulesApi(api).create_firewall_rule(
        deepsecurity.FirewallRule(name="hb", action="bypass", frame_type="other", frame_number=0x886F), V)
    assignments = deepsecurity.ComputerFirewallRuleAssignmentsApi(api)
    assert assignments.list_firewall_rule_ids_on_computer(web.id, V).assigned_rule_ids in ([], None)
    added = assignments.add_firewall_rule_ids_to_computer(web.id, deepsecurity.RuleIDs(rule_ids=[rule.id]), V)
    assert added.assigned_rule_ids == [rule.id]
    assert assignments.set_firewall_rule_ids_on_computer(web.id, V, firewall_rule_ids=deepsecurity.RuleIDs(
        rule_ids=[rule.id])).assigned_rule_ids == [rule.id]
    removed = assignments.remove_firewall_rule_id_from_computer(web.id, rule.id, V)
    assert removed.assigned_rule_ids in ([], None)


def test_policies(lab):
    api = lab.sdk()
    policies = deepsecurity.PoliciesApi(api)
    listed = policies.list_policies(V).policies
    assert [p.name for p in listed] == ["Base Policy", "Windows Server", "SQL Server Cluster", "NLB Web Farm"]
    nlb = policies.describe_policy(4, V)
    assert nlb.firewall.state == "on" and nlb.parent_id == 1
    assert nlb.policy_settings.firewall_setting_network_engine_mode.value == "Inline"
    assert policies.modify_policy_setting(4, "firewallSettingNetworkEngineMode", deepsecurity.SettingValue(value="Tap"),
                                          V).value == "Tap"
    assert policies.describe_policy_setting(4, "firewallSettingNetworkEngineMode", V).value == "Tap"
    modified = policies.modify_policy(3, deepsecurity.Policy(
        intrusion_prevention=deepsecurity.IntrusionPreventionPolicyExtension(state="off")), V)
    assert modified.intrusion_prevention.state == "off"
    found = policies.search_policies(V, search_filter=deepsecurity.SearchFilter(search_criteria=[
        deepsecurity.SearchCriteria(field_name="name", string_test="equal", string_value="NLB Web Farm")]))
    assert [p.id for p in found.policies] == [4]
    rule = deepsecurity.FirewallRulesApi(api).create_firewall_rule(deepsecurity.FirewallRule(name="r"), V)
    assignments = deepsecurity.PolicyFirewallRuleAssignmentsApi(api)
    assert assignments.add_firewall_rule_ids_to_policy(4, deepsecurity.RuleIDs(rule_ids=[rule.id]),
                                                       V).assigned_rule_ids == [rule.id]
    assert assignments.list_firewall_rule_ids_on_policy(4, V).assigned_rule_ids == [rule.id]


def test_policy_search_as_the_sdk_sends_it_and_policy_info_over_https(lab):
    policies = deepsecurity.PoliciesApi(lab.sdk())
    literal = policies.create_policy(deepsecurity.Policy(name="SQL_Cluster", parent_id=3), V)
    policies.create_policy(deepsecurity.Policy(name="SQLXCluster", parent_id=3), V)

    def search(*criteria, **kwargs):
        found = policies.search_policies(V, search_filter=deepsecurity.SearchFilter(
            search_criteria=list(criteria), **kwargs)).policies
        return [p.name for p in found]
    name = dict(field_name="name", string_test="equal", string_value="SQL_Cluster")
    # SDK 20.0 SearchCriteria.string_wildcards "Default true": _ matches any one character unless turned off.
    assert search(deepsecurity.SearchCriteria(**name)) == ["SQL_Cluster", "SQLXCluster"]
    assert search(deepsecurity.SearchCriteria(string_wildcards=False, **name)) == ["SQL_Cluster"]
    # Every field models/policy.py calls searchable, and only those.
    assert search(deepsecurity.SearchCriteria(field_name="parentID", numeric_test="equal", numeric_value=3)) == \
        ["SQL_Cluster", "SQLXCluster"]
    assert len(search(deepsecurity.SearchCriteria(field_name="autoRequiresUpdate", choice_test="equal",
                                                  choice_value="on"))) == 6
    assert search(deepsecurity.SearchCriteria(field_name="recommendationScanMode", choice_test="equal",
                                              choice_value="ongoing")) == []
    assert search(deepsecurity.SearchCriteria(id_test="greater-than", id_value=4), max_items=1,
                  sort_by_object_id=True) == ["SQL_Cluster"]
    with pytest.raises(ApiException) as caught:
        search(deepsecurity.SearchCriteria(field_name="policySettings", string_test="equal", string_value="x"))
    assert caught.value.status == 400
    info = services.policy_info(lab.client(), ["SQL_Cluster", "Base Policy"])
    assert info["policies"] == [{"id": literal.id, "name": "SQL_Cluster", "parent_id": 3, "description": ""},
                                {"id": 1, "name": "Base Policy", "parent_id": None, "description": ""}]
    assert [p["name"] for p in services.policy_info(lab.client())["policies"]][-2:] == ["SQL_Cluster", "SQLXCluster"]


def test_state_survives_a_restart(tmp_path):
    first = Lab(str(tmp_path))
    first.activate("WEB2")
    rule_id = first.client().create_firewall_rule({"name": "kept"})["ID"]
    first.part.shutdown()
    second = Lab(str(tmp_path))
    try:
        client = second.client()
        assert client.get("/firewallrules/%d" % rule_id)["name"] == "kept"
        assert client.find_computers(["WEB2"])[0]["agentVersion"] == "20.0.1-690"
        assert client.create_firewall_rule({"name": "next"})["ID"] == rule_id + 1
        second.part.reset()
        assert [rule["ID"] for rule in client.list_firewall_rules()] == [101, 102, 103]
        assert client.list_computers() == []
    finally:
        second.part.shutdown()


def test_throttling_is_retried_and_succeeds(lab):
    lab.part.set_faults({"throttle_next": 3})
    client = lab.client(max_retries=4)
    assert len(client.list_policies()) == 4
    assert client.retries_made == 3
    assert lab.part.status()["requests"]["throttled"] == 3
    lab.part.set_faults({"unavailable_next": 5})
    with pytest.raises(DsmUnavailableError) as caught:
        lab.client(max_retries=2).list_policies()
    assert "HTTP 503" in caught.value.message


def test_down_is_a_clear_error_then_recovers(lab):
    lab.part.set_faults({"down": True})
    started = time.time()
    with pytest.raises(DsmUnavailableError) as caught:
        lab.client(max_retries=2).list_policies()
    assert "cannot reach the DSM" in caught.value.message and time.time() - started < 10
    assert lab.part.status()["down"] is True
    lab.part.set_faults({"down": False})
    assert len(lab.client().list_policies()) == 4


def test_slow_answers_hit_the_timeout(lab):
    lab.part.set_faults({"slow_ms": 1500})
    with pytest.raises(DsmUnavailableError):
        lab.client(timeout=1, max_retries=0).list_policies()
    lab.part.set_faults({"slow_ms": 0})


def test_world_events_and_invalid_flags(lab):
    lab.activate("WEB1")
    assert lab.events == [{"host_name": "WEB1", "modules": ["Firewall", "Web Reputation"]}]
    lab.activate("APP-9", policy_id=1)
    client = lab.client()
    services.computer_settings(client, computers=["APP-9"], modules={"IPS": "detect"}, allow_network_blip=True)
    assert lab.events[-1] == {"host_name": "APP-9", "modules": ["Intrusion Prevention"]}
    before = lab.part.status()["nlb"]["WEB1"]
    assert before["invalid_flags_events"] > 0 and before["invalid_flags_blocked"] > 0
    assert "APP-9" not in lab.part.status()["nlb"]
    info = {"cluster": {"name": "WEBFARM", "ip_address": "192.0.2.80"},
            "port_rules": [{"start_port": 80, "protocol": "Tcp"}, {"start_port": 443, "protocol": "Tcp"}]}
    heartbeat = [services.firewall_rule(client, spec)["id"] for spec in exclusion_rules(info)]
    services.firewall_assignment(client, [str(i) for i in heartbeat], computers=["WEB1"])
    services.computer_info(client, ["WEB1"], wait_for="policy_applied", wait_timeout=30)
    # Heartbeat frames carry no TCP flags: that pair alone leaves the events (Deep Security Help, event 101).
    counted = lab.part.status()["nlb"]["WEB1"]["invalid_flags_events"]
    assert lab.part.status()["nlb"]["WEB1"]["invalid_flags_events"] == counted + 4
    vip = [services.firewall_rule(client, spec)["id"] for spec in exclusion_rules(info, virtual_ip=True)]
    services.firewall_assignment(client, [str(i) for i in vip], computers=["WEB1"])
    # Until the agent has the new policy it still judges the virtual IP's traffic.
    assert lab.part.status()["computers"][0]["agent_tasks"] == ["Sending Policy"]
    services.computer_info(client, ["WEB1"], wait_for="policy_applied", wait_timeout=30)
    settled = lab.part.status()["nlb"]["WEB1"]
    assert lab.part.status()["nlb"]["WEB1"] == settled
    lab.world.publish("agent.removed", host_name="WEB1")
    assert services.computer_info(client, ["WEB1"])["computers"][0]["agent_status"] == "inactive"


def test_windows_membership_answer_is_used(lab):
    lab.world.provide("windows.nlb_membership",
                      lambda host_name=None: {"cluster": "WEBFARM", "state": "Stopped"} if host_name == "WEB3" else None)
    lab.activate("WEB3")
    lab.activate("WEB2")
    status = lab.part.status()
    assert status["nlb"]["WEB3"]["invalid_flags_events"] == 0
    assert "WEB2" not in status["nlb"]


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_labd_serves_the_dsm_and_the_control_endpoint(tmp_path):
    topology = _topology()
    topology["dsm"]["port"] = _free_port()
    path = tmp_path / "topology.yml"
    path.write_text(yaml.safe_dump(topology))
    control_port = _free_port()
    process = subprocess.Popen([sys.executable, os.path.join(LAB_DIR, "labd.py"), "--topology", str(path),
                                "--state-dir", str(tmp_path), "--parts", "dsm", "--control-port", str(control_port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = tmp_path / "labd.ready.json"
        deadline = time.time() + 30
        while not ready.exists() and time.time() < deadline:
            time.sleep(0.1)
        endpoints = json.loads(ready.read_text())
        assert endpoints["dsm"]["url"] == "https://127.0.0.1:%d/api" % topology["dsm"]["port"]
        control = endpoints["control"]

        def post(path, document):
            request = urllib.request.Request(control + path, data=json.dumps(document).encode(), method="POST")
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)

        post("/faults/dsm", {"publish": {"event": "agent.activated", "host_name": "WEB1", "agent_version": "20.0.1-690",
                                         "policy_id": 4, "dsm_url": "dsm://127.0.0.1:4120/"}})
        client = DsmClient(endpoints["dsm"]["url"], topology["dsm"]["api_key"],
                           ca_path=str(tmp_path / "pki" / "ca.pem"))
        assert client.find_computers(["WEB1"])[0]["policyID"] == 4
        with urllib.request.urlopen(control + "/status", timeout=10) as response:
            status = json.load(response)["dsm"]
        assert status["computers"][0]["host_name"] == "WEB1" and status["nlb"]["WEB1"]["invalid_flags_events"] == 4
        post("/reset", {})
        assert client.list_computers() == []
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_string_searches_use_wildcards_unless_told_not_to(lab):
    rules = deepsecurity.FirewallRulesApi(lab.sdk())
    rules.create_firewall_rule(deepsecurity.FirewallRule(name="webX1", action="deny"), V)
    criteria = deepsecurity.SearchCriteria(field_name="name", string_test="equal", string_value="web_1")
    found = rules.search_firewall_rules(V, search_filter=deepsecurity.SearchFilter(search_criteria=[criteria]))
    assert [rule.name for rule in found.firewall_rules] == ["webX1"]
    criteria.string_wildcards = False
    found = rules.search_firewall_rules(V, search_filter=deepsecurity.SearchFilter(search_criteria=[criteria]))
    assert found.firewall_rules == []


def test_policy_reaches_the_agent_after_a_delay_and_the_sdk_reads_it(lab):
    lab.activate("APP-9", policy_id=1)
    computers = deepsecurity.ComputersApi(lab.sdk())
    computer = computers.search_computers(V, expand=["computerStatus", "tasks"], search_filter=deepsecurity.SearchFilter(
        search_criteria=[deepsecurity.SearchCriteria(field_name="hostName", string_value="APP-9",
                                                     string_wildcards=False)])).computers[0]
    first = computer.last_send_policy_success
    assert first and computer.agent_version != "0.0.0.0"
    client = lab.client()
    result = services.computer_settings(client, computers=["APP-9"], modules={"Firewall": "on"}, allow_network_blip=True)
    assert result["targets"][0]["policy_applied"] is True and result["waited_seconds"] >= 1
    assert lab.events[-1] == {"host_name": "APP-9", "modules": ["Firewall"]}
    computer = computers.describe_computer(computer.id, V, expand=["computerStatus", "tasks"])
    assert computer.last_send_policy_success >= result["changed_at"] > first
    assert not (computer.tasks and computer.tasks.agent_tasks)
    lab.world.publish("agent.removed", host_name="APP-9")
    assert computers.describe_computer(computer.id, V, expand=["none"]).agent_version == "0.0.0.0"


def test_assignments_with_and_without_overrides_through_the_sdk(lab):
    lab.activate("WEB1")
    rules = deepsecurity.FirewallRulesApi(lab.sdk())
    rule = rules.create_firewall_rule(deepsecurity.FirewallRule(name="policy rule", action="deny"), V)
    deepsecurity.PolicyFirewallRuleAssignmentsApi(lab.sdk()).add_firewall_rule_ids_to_policy(
        4, deepsecurity.RuleIDs(rule_ids=[rule.id]), V)
    api = deepsecurity.ComputerFirewallRuleAssignmentsApi(lab.sdk())
    assert api.list_firewall_rule_ids_on_computer(1, V).assigned_rule_ids == [rule.id]
    assert not api.list_firewall_rule_ids_on_computer(1, V, overrides=True).assigned_rule_ids


def test_throttled_answers_carry_no_retry_after(lab):
    lab.part.set_faults({"throttle_next": 1})
    request = urllib.request.Request(lab.url + "/policies", headers={"api-secret-key": lab.key, "api-version": "v1"})
    context = ssl.create_default_context(cafile=lab.ca)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, context=context, timeout=10)
    assert caught.value.code == 429 and caught.value.headers.get("Retry-After") is None
    assert json.loads(caught.value.read())["message"] == "Too many API requests"


def test_settings_with_overrides_and_their_reset_through_the_sdk(lab):
    """SDK 20.0: describe_computer_setting(overrides=True) "Show the value only if defined for the current
    computer"; reset_computer_setting is DELETE /computers/{id}/settings/{name}."""
    lab.activate("WEB1")
    computers = deepsecurity.ComputersApi(lab.sdk())
    name = "firewallSettingNetworkEngineMode"
    assert computers.describe_computer_setting(1, name, V, overrides=True).value is None
    assert computers.describe_computer_setting(1, name, V).value == "Inline"
    assert computers.modify_computer_setting(1, name, deepsecurity.SettingValue(value="Tap"), V, overrides=True).value == "Tap"
    assert computers.describe_computer_setting(1, name, V, overrides=True).value == "Tap"
    assert computers.reset_computer_setting(1, name, V).value == "Inline"
    assert computers.reset_computer_setting(1, name, V, overrides=True).value is None
    policies = deepsecurity.PoliciesApi(lab.sdk())
    policies.modify_policy_setting(4, name, deepsecurity.SettingValue(value="Tap"), V)
    assert computers.describe_computer_setting(1, name, V).value == "Tap"
    assert policies.describe_policy_setting(4, name, V, overrides=True).value == "Tap"
    assert policies.reset_policy_setting(4, name, V).value == "Inline"
    assert policies.describe_policy_setting(4, name, V, overrides=True).value is None
    client = lab.client()
    assert client.get_setting("computers", 1, name, overrides=True) is None
    assert services.computer_info(client, ["WEB1"], settings=[name])["computers"][0]["settings"][name] == \
        {"value": "Inline", "own": False, "own_value": None}


def test_rules_in_effect_on_a_policy_with_policy_level_overrides_through_the_sdk(lab):
    """SDK 20.0 PolicyFirewallRuleDetailsApi: the rules assigned to a policy, its parents' included, each
    "including policy-level overrides"; overrides=True only the policy's own rules (or own overridden fields)."""
    api = deepsecurity.PolicyFirewallRuleDetailsApi(lab.sdk())
    assert [rule.id for rule in api.list_firewall_rules_on_policy(3, V).firewall_rules] == [101, 102, 103]
    assert [rule.id for rule in api.list_firewall_rules_on_policy(3, V, overrides=True).firewall_rules] == [102, 103]
    changed = api.modify_firewall_rule_on_policy(2, 101, deepsecurity.FirewallRule(action="deny", priority="4"), V)
    assert (changed.action, changed.priority, changed.name) == ("deny", "4", "Windows Server: allow RDP (incoming)")
    # the child inherits its parent's override; the rule itself is unchanged
    assert api.describe_firewall_rule_on_policy(3, 101, V).action == "deny"
    assert deepsecurity.FirewallRulesApi(lab.sdk()).describe_firewall_rule(101, V).action == "allow"
    own = api.describe_firewall_rule_on_policy(2, 101, V, overrides=True)
    assert (own.id, own.action, own.name) == (101, "deny", None)
    assert api.reset_firewall_rule_on_policy(2, 101, V).action == "allow"
    lab.activate("SQL-NODE1", policy_id=3)
    on_computer = deepsecurity.ComputerFirewallRuleDetailsApi(lab.sdk()).list_firewall_rules_on_computer(1, V)
    assert [rule.id for rule in on_computer.firewall_rules] == [101, 102, 103]


def test_policy_window_blockers_over_https(lab):
    client = lab.client()
    found = services.policy_info(client, ["Windows Server", "SQL Server Cluster"], cluster_kind="failover_cluster")
    windows, sql = found["policies"]
    assert [b["message"][:5] for b in windows["window_blockers"]] == ["MS-04"] and sql["window_blockers"] == []
    assert sql["modules"]["firewall"]["set_by"] == {"id": 3, "name": "SQL Server Cluster"}
    assert [r["id"] for r in sql["firewall_rules"]] == [101, 102, 103]
    deepsecurity.PolicyFirewallRuleDetailsApi(lab.sdk()).modify_firewall_rule_on_policy(
        3, 102, deepsecurity.FirewallRule(destination_port_multiple=["3344"]), V)
    [blocker] = services.policy_info(client, ids=[3], cluster_kind="failover_cluster")["policies"][0]["window_blockers"]
    assert "incoming UDP 3343" in blocker["message"] and "outgoing" not in blocker["message"].split("through:")[1]
