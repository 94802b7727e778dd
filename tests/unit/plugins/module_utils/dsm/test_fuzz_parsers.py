"""Hypothesis against every reader of DSM answers: whatever JSON (or non-JSON) the DSM sends back, the
collection raises a typed CollectionError that names the call, never an unexpected exception."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import computer as computer_model
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import DsmClient, parse_json
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError
from tests.lab.inprocess import FakeClock

SCALARS = st.none() | st.booleans() | st.integers(-2 ** 40, 2 ** 40) | st.floats(allow_nan=True) | st.text(max_size=20)
KEYS = st.sampled_from(["ID", "hostName", "computers", "policies", "firewallRules", "assignedRuleIDs", "value",
                        "computerStatus", "agentStatus", "tasks", "agentTasks", "lastSendPolicySuccess",
                        "lastSendPolicyRequest", "agentVersion", "firewall", "state", "ruleIDs", "policyID",
                        "name", "message", "computerSettings", "intrusionPrevention", "moduleStatus"]) | st.text(max_size=8)
JSON = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=6),
                    max_leaves=25)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _client(answer):
    def opener(method, url, data, headers):
        class Response(object):
            status = 200

            def read(self):
                return answer
        return Response()
    clock = FakeClock()
    return DsmClient("https://dsm.test:4119/api", "2:key", opener=opener, sleep=clock.sleep, clock=clock.time)


def _only_typed_errors(call):
    try:
        call()
    except CollectionError as error:
        assert error.message
        return error
    return None


@FUZZ
@given(st.binary(max_size=64))
def test_bytes_that_are_not_json_name_the_call(raw):
    try:
        json.loads(raw.decode("utf-8"))
        return
    except (ValueError, UnicodeDecodeError):
        pass
    error = _only_typed_errors(lambda: parse_json(raw, "GET /policies"))
    assert error is not None and "GET /policies" in error.message


@FUZZ
@given(JSON)
def test_any_json_answer_to_a_computer_lookup(document):
    raw = json.dumps(document).encode()
    _only_typed_errors(lambda: service.computer_info(_client(raw), ["WEB1"]))
    _only_typed_errors(lambda: service.computer_info(_client(raw)))


@FUZZ
@given(JSON)
def test_any_json_answer_to_a_rule_lookup_and_assignment(document):
    raw = json.dumps(document).encode()
    _only_typed_errors(lambda: service.firewall_rule(_client(raw), {"name": "r", "action": "deny"}))
    _only_typed_errors(lambda: service.firewall_assignment(_client(raw), ["r"], policy="1"))
    _only_typed_errors(lambda: _client(raw).get_firewall_assignments("computers", 1))


@FUZZ
@given(JSON)
def test_any_json_answer_to_the_settings_and_wait_calls(document):
    raw = json.dumps(document).encode()
    _only_typed_errors(lambda: service.computer_settings(_client(raw), policy="1",
                                                         modules={"Firewall": "inherited"},
                                                         settings={"firewallSettingNetworkEngineMode": "Tap"}))
    _only_typed_errors(lambda: service.computer_info(_client(raw), ["WEB1"], wait_for="policy_applied",
                                                     wait_timeout=1))


@FUZZ
@given(JSON)
def test_any_json_answer_to_the_policy_details_and_setting_reads(document):
    raw = json.dumps(document).encode()
    _only_typed_errors(lambda: service.policy_info(_client(raw), ids=[3], cluster_kind="failover_cluster"))
    _only_typed_errors(lambda: service.policy_info(_client(raw), details=True))
    _only_typed_errors(lambda: service.computer_info(_client(raw), ["WEB1"], settings=["firewallSettingNetworkEngineMode"]))
    _only_typed_errors(lambda: service.computer_settings(_client(raw), computers=["WEB1"],
                                                         reset_settings=["firewallSettingNetworkEngineMode"]))


def test_timestamps_that_are_not_finite_numbers_are_absent():
    for value in (float("nan"), float("inf"), -1, True, "1700000000000"):
        assert computer_model.summarize_computer({"lastSendPolicySuccess": value})["last_send_policy_success"] is None


@FUZZ
@given(JSON)
def test_the_pure_readers_take_any_computer_document(document):
    _only_typed_errors(lambda: computer_model.summarize_computer(document))
    _only_typed_errors(lambda: computer_model.policy_state(document, after_success=3))
    _only_typed_errors(lambda: computer_model.states_of(document))
