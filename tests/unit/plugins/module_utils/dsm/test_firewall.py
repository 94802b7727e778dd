import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import firewall
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError


@pytest.mark.parametrize("options, expected", [
    ({"name": "a", "action": "Bypass"}, {"name": "a", "action": "bypass"}),
    ({"name": "a", "priority": 4}, {"name": "a", "priority": "4"}),
    ({"name": "a", "frame_type": "other", "frame_number": "0x886F"},
     {"name": "a", "frameType": "other", "frameNumber": 34927}),
    ({"name": "a", "frame_number": "2048"}, {"name": "a", "frameNumber": 2048}),
    ({"name": "a", "log_disabled": "yes"}, {"name": "a", "logDisabled": True}),
    ({"name": "a", "destination_port_multiple": "80, 443"}, {"name": "a", "destinationPortMultiple": ["80", "443"]}),
    ({"name": "a", "tcp_flags": ["SYN", "ack"]}, {"name": "a", "tcpflags": ["syn", "ack"]}),
    ({"name": "a", "description": None}, {"name": "a"}),
])
def test_normalize(options, expected):
    assert firewall.normalize_rule(options) == expected


@pytest.mark.parametrize("options, parameter, words", [
    ({"action": "permit"}, "action", ["log-only", "allow", "deny", "force-allow", "bypass"]),
    ({"priority": "5"}, "priority", ["0", "4"]),
    ({"direction": "inbound"}, "direction", ["incoming", "outgoing"]),
    ({"frame_type": "ethernet"}, "frame_type", ["other", "arp"]),
    ({"source_port_type": "range"}, "source_port_type", ["any", "multiple", "port-list"]),
    ({"tcp_flags": ["syn", "xmas"]}, "tcp_flags", ["fin", "urg"]),
    ({"frame_number": "0xZZ"}, "frame_number", ["0x886F"]),
    ({"frame_not": "maybe"}, "frame_not", ["boolean"]),
    ({"colour": "red"}, "colour", ["known fields"]),
])
def test_bad_values_name_the_field_and_allowed_values(options, parameter, words):
    with pytest.raises(ParameterError) as caught:
        firewall.normalize_rule(options)
    assert parameter in caught.value.message
    for word in words:
        assert word in caught.value.message


def test_permit_lists_every_allowed_action():
    with pytest.raises(ParameterError) as caught:
        firewall.normalize_rule({"name": "x", "action": "permit"})
    assert caught.value.message == ("invalid value 'permit' for action; allowed values: "
                                    "log-only, allow, deny, force-allow, bypass")
    assert caught.value.details["allowed"] == firewall.ACTIONS


@pytest.mark.parametrize("rule, parameter", [
    ({"name": "a", "frameType": "other"}, "frame_number"),
    ({"name": "a", "frameType": "other", "frameNumber": 0x10000}, "frame_number"),
    ({"name": "a", "protocol": "other"}, "protocol_number"),
    ({"name": "a", "destinationPortType": "multiple"}, "destination_port_multiple"),
])
def test_consistency(rule, parameter):
    with pytest.raises(ParameterError) as caught:
        firewall.check_consistency(rule)
    assert parameter in caught.value.message


CURRENT = {"ID": 7, "name": "hb", "description": "", "action": "bypass", "priority": "4", "direction": "incoming",
           "frameType": "other", "frameNumber": 34927, "destinationPortMultiple": ["443", "80"], "logDisabled": False}


@pytest.mark.parametrize("desired, changes", [
    ({"name": "hb", "action": "bypass"}, {}),
    ({"name": "hb", "description": None}, {}),
    ({"name": "hb", "priority": "3"}, {"priority": ("4", "3")}),
    ({"name": "hb", "destinationPortMultiple": ["80", "443"]}, {}),
    ({"name": "hb", "destinationPortMultiple": ["80"]}, {"destinationPortMultiple": (["443", "80"], ["80"])}),
    ({"name": "hb", "description": ""}, {}),
    ({"name": "hb", "alertEnabled": False}, {"alertEnabled": (None, False)}),
])
def test_only_given_fields_are_compared(desired, changes):
    desired = dict((key, value) for key, value in desired.items() if value is not None)
    assert firewall.rule_differences(CURRENT, desired) == changes


@pytest.mark.parametrize("current, desired, state, action", [
    (None, {"name": "hb", "action": "bypass"}, "present", "create"),
    (CURRENT, {"name": "hb", "action": "bypass"}, "present", "none"),
    (CURRENT, {"name": "hb", "action": "deny"}, "present", "update"),
    (CURRENT, {"name": "hb"}, "absent", "delete"),
    (None, {"name": "hb"}, "absent", "none"),
])
def test_plan(current, desired, state, action):
    plan = firewall.plan_rule(current, desired, state)
    assert plan["action"] == action
    if action == "update":
        assert plan["changes"] == {"action": "deny"}
        assert plan["before"]["action"] == "bypass" and plan["after"]["action"] == "deny"
        assert plan["after"]["id"] == 7


def test_argument_spec_names_enums_as_choices():
    spec = firewall.argument_spec_fields()
    assert spec["action"]["choices"] == firewall.ACTIONS
    assert spec["frame_number"]["type"] == "raw"
    assert "name" not in spec and len(spec) == len(firewall.FIELDS) - 1


def test_to_snake_round_trip():
    snake = firewall.to_snake(CURRENT)
    assert snake["frame_number"] == 34927 and snake["id"] == 7
    assert firewall.normalize_rule(dict((k, v) for k, v in snake.items() if k != "id"))["frameType"] == "other"
