import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import computer
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError


@pytest.mark.parametrize("name", ["Intrusion Prevention", "intrusion_prevention", "IPS", "ips", "DPI",
                                  "Deep Packet Inspection", "deep_packet_inspection", "intrusionPrevention"])
def test_intrusion_prevention_aliases(name):
    assert computer.module_field(name) == "intrusionPrevention"
    assert computer.module_label(computer.module_field(name)) == "Intrusion Prevention"


@pytest.mark.parametrize("name, field", [
    ("Anti-Malware", "antiMalware"), ("web reputation", "webReputation"), ("Firewall", "firewall"),
    ("integrity_monitoring", "integrityMonitoring"), ("Log Inspection", "logInspection"),
    ("application control", "applicationControl"),
])
def test_module_names(name, field):
    assert computer.module_field(name) == field


def test_unknown_module_lists_allowed_names():
    with pytest.raises(ParameterError) as caught:
        computer.module_field("Antivirus")
    assert "Antivirus" in caught.value.message and "Intrusion Prevention" in caught.value.message
    assert "DPI" in caught.value.message


@pytest.mark.parametrize("modules, expected", [
    ({"DPI": "off"}, {"intrusionPrevention": "off"}),
    ({"IPS": "Prevent"}, {"intrusionPrevention": "prevent"}),
    ({"Firewall": True}, {"firewall": "on"}),
    ({"Firewall": False, "im": "real-time"}, {"firewall": "off", "integrityMonitoring": "real-time"}),
])
def test_normalize_modules(modules, expected):
    assert computer.normalize_modules(modules) == expected


@pytest.mark.parametrize("modules, words", [
    ({"Firewall": "prevent"}, ["Firewall", "inherited, on, off"]),
    ({"Intrusion Prevention": "on"}, ["Intrusion Prevention", "inherited, prevent, detect, off"]),
])
def test_bad_states(modules, words):
    with pytest.raises(ParameterError) as caught:
        computer.normalize_modules(modules)
    for word in words:
        assert word in caught.value.message


@pytest.mark.parametrize("settings, expected", [
    ({"firewallSettingNetworkEngineMode": "tap"}, {"firewallSettingNetworkEngineMode": "Tap"}),
    ({"firewallSettingReconnaissanceEnabled": False}, {"firewallSettingReconnaissanceEnabled": "false"}),
    ({"platformSettingHeartbeatInterval": 10}, {"platformSettingHeartbeatInterval": "10"}),
])
def test_normalize_settings(settings, expected):
    assert computer.normalize_settings(settings) == expected


@pytest.mark.parametrize("settings, words", [
    ({"firewallSettingNetworkEngineMode": "Passive"}, ["Passive", "Inline, Tap"]),
    ({"Firewall Setting": "x"}, ["camelCase"]),
])
def test_bad_settings(settings, words):
    with pytest.raises(ParameterError) as caught:
        computer.normalize_settings(settings)
    for word in words:
        assert word in caught.value.message


def test_plan_changes_and_network_driver():
    modules, settings, driver = computer.plan_changes(
        {"firewall": "off", "intrusionPrevention": "prevent", "webReputation": "on"},
        {"firewallSettingNetworkEngineMode": "Inline"},
        {"firewall": "on", "intrusionPrevention": "off", "webReputation": "on"},
        {"firewallSettingNetworkEngineMode": "Tap"})
    assert modules == {"firewall": ("off", "on"), "intrusionPrevention": ("prevent", "off")}
    assert settings == {"firewallSettingNetworkEngineMode": ("Inline", "Tap")}
    assert driver == ["firewall"]


def test_plan_changes_nothing_to_do():
    assert computer.plan_changes({"firewall": "on"}, {"x": "1"}, {"firewall": "on"}, {"x": "1"}) == ({}, {}, [])


def test_summarize_computer():
    summary = computer.summarize_computer({
        "ID": 3, "hostName": "WEB1", "agentVersion": "20.0.1-690", "policyID": 4,
        "computerStatus": {"agentStatus": "active", "agentStatusMessages": ["Managed (Online)"]},
        "computerSettings": {"firewallSettingNetworkEngineMode": {"value": "Tap"}},
        "intrusionPrevention": {"state": "off", "moduleStatus": {"agentStatus": "inactive",
                                                                 "agentStatusMessage": "Off, installed"}},
        "firewall": {"state": "on", "ruleIDs": [9, 2]},
    })
    assert summary["network_engine_mode"] == "Tap"
    assert summary["modules"]["intrusion_prevention"] == {"name": "Intrusion Prevention", "state": "off",
                                                          "status": "inactive", "status_message": "Off, installed"}
    assert summary["firewall_rule_ids"] == [2, 9]
    assert summary["agent_status_messages"] == ["Managed (Online)"]
    assert set(summary["modules"]) == {"anti_malware", "web_reputation", "firewall", "intrusion_prevention",
                                       "integrity_monitoring", "log_inspection", "application_control"}
