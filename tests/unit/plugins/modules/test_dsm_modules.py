"""The DSM modules end to end in-process: options -> service -> exit_json/fail_json, with the
client pointed at the lab's DSM model. Checks what the operator sees: messages, changed, diff, and
that the API key appears nowhere in the result."""
import contextlib
import json

import pytest

from ansible.module_utils import basic

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import module as dsm_module
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import DsmClient
from ansible_collections.clustersafe.deep_security.plugins.modules import (
    dsm_computer,
    dsm_computer_info,
    dsm_firewall_assignment,
    dsm_firewall_rule,
    dsm_policy_info,
)
from tests.lab.inprocess import FakeClock, activate, created_rules, load_topology, model_opener, new_model

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved


class Exit(Exception):
    pass


class Fail(Exception):
    pass


TOPOLOGY = load_topology()
KEY = TOPOLOGY["dsm"]["api_key"]


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def model(clock):
    instance = new_model(TOPOLOGY)
    instance.clock = clock.time
    return instance


@pytest.fixture
def run(model, monkeypatch, clock):
    def exit_json(self, **kwargs):
        raise Exit(kwargs)

    def fail_json(self, **kwargs):
        raise Fail(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def build(module):
        params = module.params
        return DsmClient(params["dsm_url"], params["api_key"], opener=model_opener(model), sleep=clock.sleep,
                         clock=clock.time, max_retries=params["max_retries"], allow_http=params["allow_http"],
                         api_key_type=params["api_key_type"], timeout=params["timeout"],
                         retry_backoff=params["retry_backoff"])

    def runner(module, args, check=False, expect=Exit, connection=True, diff=False):
        monkeypatch.setattr(dsm_module, "client_from_module", build)
        args = dict(args)
        if diff:
            args["_ansible_diff"] = True
        if connection:
            args.setdefault("dsm_url", "https://dsm.test:4119/api")
            args.setdefault("api_key", KEY)
        if check:
            args["_ansible_check_mode"] = True
        with patch_module_args(args):
            with pytest.raises((Exit, Fail)) as caught:
                module.main()
        assert isinstance(caught.value, expect), caught.value.args[0]
        result = caught.value.args[0]
        assert KEY not in json.dumps(result, default=str)
        return result
    return runner


HB = {"name": "hb in", "action": "bypass", "priority": 4, "direction": "incoming", "frame_type": "other",
      "frame_number": "0x886F"}


def test_firewall_rule_twice_and_check_mode(run, model):
    assert run(dsm_firewall_rule, HB, check=True)["changed"] and created_rules(model) == {}
    first = run(dsm_firewall_rule, HB)
    assert first["changed"] and first["id"] == 1
    assert not run(dsm_firewall_rule, HB)["changed"]


def test_firewall_rule_permit_names_the_allowed_actions(run, model):
    result = run(dsm_firewall_rule, dict(HB, action="permit"), expect=Fail)
    assert "action" in result["msg"] and "permit" in result["msg"]
    for action in ("log-only", "allow", "deny", "force-allow", "bypass"):
        assert action in result["msg"]
    assert created_rules(model) == {}


def test_firewall_rule_env_fallback(run, model, monkeypatch):
    monkeypatch.setenv("DSM_URL", "https://dsm.test:4119/api")
    monkeypatch.setenv("DSM_API_KEY", KEY)
    result = run(dsm_firewall_rule, HB, connection=False)
    assert result["changed"]


def test_wrong_api_key_is_clear_and_not_echoed(run, model):
    result = run(dsm_computer_info, {"api_key": "2:wrong-key-123"}, expect=Fail)
    assert "rejected the API key" in result["msg"] and "2:wrong-key-123" not in json.dumps(result)


def test_assignment_and_info(run, model):
    activate(model, "WEB1")
    run(dsm_firewall_rule, HB)
    first = run(dsm_firewall_assignment, {"computers": ["WEB1"], "rules": ["hb in"]})
    assert first["changed"] and first["assignments"][0]["after"] == [1]
    assert not run(dsm_firewall_assignment, {"computers": ["WEB1"], "rules": ["1"]})["changed"]
    info = run(dsm_computer_info, {"computers": ["WEB1"]})
    assert info["computers"][0]["firewall_rule_ids"] == [1]
    assert info["computers"][0]["modules"]["intrusion_prevention"]["name"] == "Intrusion Prevention"


def test_assignment_needs_a_target(run):
    result = run(dsm_firewall_assignment, {"rules": ["x"]}, expect=Fail)
    assert "computers" in result["msg"] and "policy" in result["msg"]


def test_computer_module(run, model):
    activate(model, "WEB1")
    args = {"computers": ["WEB1"], "settings": {"firewallSettingNetworkEngineMode": "Tap"}, "modules": {"DPI": "off"}}
    assert run(dsm_computer, args, check=True)["changed"]
    assert model.state["computers"]["1"]["settings"] == {}
    first = run(dsm_computer, args, diff=True)
    assert first["changed"] and first["diff"]["after"]["WEB1"]["settings"] == {"firewallSettingNetworkEngineMode": "Tap"}
    assert not run(dsm_computer, args)["changed"]


def test_computer_module_bad_state(run, model):
    activate(model, "WEB1")
    result = run(dsm_computer, {"computers": ["WEB1"], "modules": {"Intrusion Prevention": "enabled"}}, expect=Fail)
    assert "prevent, detect, off" in result["msg"] and result["parameter"] == "modules"


def test_unknown_host_names_the_nearest(run, model):
    activate(model, "WEB1")
    result = run(dsm_computer_info, {"computers": ["WEB01"]}, expect=Fail)
    assert "WEB01" in result["msg"] and result["nearest"] == ["WEB1"]


def test_missing_connection_options_are_named(run, monkeypatch):
    monkeypatch.delenv("DSM_URL", raising=False)
    monkeypatch.delenv("DSM_API_KEY", raising=False)
    result = run(dsm_computer_info, {}, connection=False, expect=Fail)
    assert "dsm_url" in result["msg"] and "api_key" in result["msg"]


def test_computer_module_waits_and_info_waits_since_the_send_before(run, model):
    activate(model, "WEB1")
    changed = run(dsm_computer, {"computers": ["WEB1"], "settings": {"firewallSettingNetworkEngineMode": "Tap"}})
    assert changed["changed_at"] and changed["targets"][0]["policy_applied"] is True and changed["waited_seconds"] >= 1
    before = changed["targets"][0]["policy_sent_before"]
    info = run(dsm_computer_info, {"computers": ["WEB1"], "wait_for": "policy_applied",
                                   "since_policy_success": {"WEB1": before}})
    computer = info["computers"][0]
    assert computer["policy_applied"] and computer["has_agent"] and computer["agent_tasks"] == []
    assert computer["last_send_policy_success"] > before
    bad = run(dsm_computer_info, {"computers": ["WEB1"], "wait_for": "active", "wait_timeout": 0}, expect=Fail)
    assert bad["parameter"] == "wait_timeout"


def test_http_url_and_cr_lf_key_fail_cleanly(run):
    result = run(dsm_computer_info, {"dsm_url": "http://dsm.test:4119/api"}, expect=Fail)
    assert result["parameter"] == "dsm_url" and "allow_http" in result["msg"]
    result = run(dsm_computer_info, {"api_key": KEY + "\r\nX: 1"}, expect=Fail)
    assert result["parameter"] == "api_key"
    assert run(dsm_computer_info, {"api_key": KEY + "\n"})["computers"] == []


def test_policy_info_by_name_check_mode_and_unknown(run, model):
    found = run(dsm_policy_info, {"policies": ["NLB Web Farm", "Windows Server"]}, check=True)
    assert not found["changed"]
    asked = [(p["id"], p["name"], p["parent_id"]) for p in found["policies"]]
    assert asked == [(4, "NLB Web Farm", 1), (2, "Windows Server", 1)]
    assert len(run(dsm_policy_info, {})["policies"]) == 4
    unknown = run(dsm_policy_info, {"policies": ["NLB Webfarm"]}, expect=Fail)
    assert "'NLB Webfarm' not found (parameter policies)" in unknown["msg"] and unknown["nearest"][0] == "NLB Web Farm"
    empty = run(dsm_policy_info, {"policies": [""]}, expect=Fail)
    assert "policies" in empty["msg"]


def test_policy_info_details_and_window_blockers(run, model):
    plain = run(dsm_policy_info, {"ids": [3]})["policies"][0]
    assert set(plain) == {"id", "name", "parent_id", "description"}
    detailed = run(dsm_policy_info, {"ids": [3], "details": True}, check=True)["policies"][0]
    assert detailed["heartbeat"]["incoming"]["passes"] and "window_blockers" not in detailed
    blocked = run(dsm_policy_info, {"policies": ["Windows Server"], "ids": [3], "cluster_kind": "failover_cluster"})
    assert [(p["name"], len(p["window_blockers"])) for p in blocked["policies"]] == \
        [("Windows Server", 1), ("SQL Server Cluster", 0)]
    assert blocked["policies"][0]["window_blockers"][0]["message"].startswith("MS-04")
    bad = run(dsm_policy_info, {"ids": [3], "cluster_kind": "wsfc"}, expect=Fail)
    assert "cluster_kind" in bad["msg"] and "failover_cluster, nlb" in bad["msg"]


def test_computer_module_resets_a_setting_and_info_says_whose_it_is(run, model):
    activate(model, "WEB1")
    mode = "firewallSettingNetworkEngineMode"
    run(dsm_computer, {"computers": ["WEB1"], "settings": {mode: "Tap"}})
    own = run(dsm_computer_info, {"computers": ["WEB1"], "settings": [mode]})["computers"][0]["settings"][mode]
    assert own == {"value": "Tap", "own": True, "own_value": "Tap"}
    reset = run(dsm_computer, {"computers": ["WEB1"], "reset_settings": [mode]}, diff=True)
    assert reset["changed"] and reset["targets"][0]["settings"][mode] == {"before": "Tap", "after": None}
    assert reset["targets"][0]["policy_applied"] is True and reset["targets"][0]["policy_sent_before"]
    assert not run(dsm_computer, {"computers": ["WEB1"], "settings": {mode: None}})["changed"]
    follows = run(dsm_computer_info, {"computers": ["WEB1"], "settings": [mode]})["computers"][0]["settings"][mode]
    assert follows == {"value": "Inline", "own": False, "own_value": None}
    both = run(dsm_computer, {"computers": ["WEB1"], "settings": {mode: "Tap"}, "reset_settings": [mode]}, expect=Fail)
    assert both["parameter"] == "reset_settings"
    plain = run(dsm_computer_info, {"computers": ["WEB1"]})["computers"][0]
    assert "settings" not in plain
