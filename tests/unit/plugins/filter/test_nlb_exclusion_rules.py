import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.clustersafe.deep_security.plugins.filter.nlb_exclusion_rules import FilterModule
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import firewall
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import DsmClient
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.nlb import is_heartbeat_exclusion
from tests.lab.inprocess import created_rules, load_topology, model_opener, new_model

nlb_exclusion_rules = FilterModule().filters()["nlb_exclusion_rules"]

# As nlb_cluster_info returns it.
INFO = {
    "changed": False,
    "computer": "WEB1",
    "cluster": {"name": "WEBFARM", "ip_address": "192.0.2.80", "subnet_mask": "255.255.255.0", "mode": "Unicast",
                "mac_address": "02-bf-c0-00-02-50", "local_state": "Converged"},
    "nodes": [{"name": "WEB1", "host_id": 1, "state": "Converged"}],
    "port_rules": [
        {"start_port": 80, "end_port": 80, "protocol": "Tcp", "mode": "Multiple", "ip_address": "All"},
        {"start_port": 443, "end_port": 443, "protocol": "Tcp", "mode": "Multiple", "ip_address": "All"},
        {"start_port": 5000, "end_port": 5010, "protocol": "Both", "mode": "Single", "ip_address": "192.0.2.80"},
        {"start_port": 9000, "end_port": 9000, "protocol": "Udp", "ip_address": "192.0.2.99"},
    ],
}


def by_name(rules):
    return dict((rule["name"], rule) for rule in rules)


def test_default_is_the_heartbeat_pair():
    rules = nlb_exclusion_rules(INFO)
    assert [rule["name"] for rule in rules] == ["clustersafe NLB WEBFARM heartbeat bypass (incoming)",
                                                "clustersafe NLB WEBFARM heartbeat bypass (outgoing)"]
    for rule, direction in zip(rules, ("incoming", "outgoing")):
        assert rule["direction"] == direction
        assert (rule["action"], rule["priority"], rule["frame_type"], rule["frame_number"]) == ("bypass", "4", "other", 0x886F)
        assert is_heartbeat_exclusion(firewall.normalize_rule(rule))


def test_names_are_deterministic():
    assert nlb_exclusion_rules(INFO, virtual_ip=True, protocols=["arp", "dns", "dhcp"]) == \
        nlb_exclusion_rules(dict(INFO), virtual_ip=True, protocols=["dhcp", "dns", "arp"])


def test_virtual_ip_pairs_limited_to_port_rules():
    rules = by_name(nlb_exclusion_rules(INFO, virtual_ip=True))
    tcp_in = rules["clustersafe NLB WEBFARM VIP 192.0.2.80 tcp bypass (incoming)"]
    assert tcp_in["destination_ip_value"] == "192.0.2.80" and tcp_in["destination_port_multiple"] == ["80", "443"]
    tcp_out = rules["clustersafe NLB WEBFARM VIP 192.0.2.80 tcp bypass (outgoing)"]
    assert tcp_out["source_ip_value"] == "192.0.2.80" and tcp_out["source_port_multiple"] == ["80", "443"]
    both = rules["clustersafe NLB WEBFARM VIP 192.0.2.80 tcp-udp bypass (incoming)"]
    assert both["destination_port_multiple"] == ["5000-5010"]
    assert not any("udp bypass" in name and "tcp-udp" not in name for name in rules)  # 9000 is another VIP's
    assert len(rules) == 6


def test_extra_protocols():
    rules = by_name(nlb_exclusion_rules(INFO, protocols=["dhcp", "dns", "arp"]))
    assert rules["clustersafe NLB WEBFARM ARP force-allow (incoming)"]["frame_type"] == "arp"
    assert rules["clustersafe NLB WEBFARM DNS force-allow (outgoing)"]["destination_port_multiple"] == ["53"]
    assert rules["clustersafe NLB WEBFARM DHCP force-allow (outgoing)"]["destination_port_multiple"] == ["67"]
    assert all(rule["action"] == "force-allow" for name, rule in rules.items() if "heartbeat" not in name)


@pytest.mark.parametrize("info", [
    INFO["cluster"],
    {"cluster": {"Name": "WEBFARM", "IPAddress": "192.0.2.80"}, "PortRules": [{"StartPort": 80, "EndPort": 80,
                                                                               "Protocol": "Tcp"}]},
    [INFO],
])
def test_input_shapes(info):
    assert nlb_exclusion_rules(info)[0]["name"] == "clustersafe NLB WEBFARM heartbeat bypass (incoming)"


@pytest.mark.parametrize("kwargs, info, words", [
    ({"protocols": ["ntp"]}, INFO, ["ntp", "dhcp, dns, arp"]),
    ({"virtual_ip": True}, {"cluster": {"name": "X"}}, ["no ip_address"]),
    ({}, "WEBFARM", ["expects the result of nlb_cluster_info"]),
    ({}, {"cluster": {}}, ["has no name"]),
])
def test_bad_input(kwargs, info, words):
    with pytest.raises(AnsibleFilterError) as caught:
        nlb_exclusion_rules(info, **kwargs)
    for word in words:
        assert word in str(caught.value)


def test_every_spec_is_accepted_by_the_module_and_the_dsm():
    topology = load_topology()
    model = new_model(topology)
    client = DsmClient("https://dsm.test/api", topology["dsm"]["api_key"], opener=model_opener(model))
    rules = nlb_exclusion_rules(INFO, virtual_ip=True, protocols=["dhcp", "dns", "arp"])
    spec = firewall.argument_spec_fields()
    for rule in rules:
        for key, value in rule.items():
            if key != "name" and "choices" in spec[key]:
                assert str(value) in spec[key]["choices"] or set(value) <= set(spec[key]["choices"])
        created = client.create_firewall_rule(firewall.normalize_rule(rule))
        assert created["name"] == rule["name"]
    assert len(created_rules(model)) == len(rules) == 12
