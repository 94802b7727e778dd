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
    # 9000 is another virtual IP's: not the cluster IP's ...
    assert not any("192.0.2.80 udp bypass" in name for name in rules)


def test_a_secondary_virtual_ip_gets_its_own_rules_and_those_for_all():
    rules = by_name(nlb_exclusion_rules(INFO, virtual_ip=True))
    # ... but 192.0.2.99's own, with the rules for all virtual IPs (80, 443); 5000-5010 are 192.0.2.80's only.
    udp_in = rules["clustersafe NLB WEBFARM VIP 192.0.2.99 udp bypass (incoming)"]
    assert (udp_in["destination_ip_value"], udp_in["destination_port_multiple"]) == ("192.0.2.99", ["9000"])
    udp_out = rules["clustersafe NLB WEBFARM VIP 192.0.2.99 udp bypass (outgoing)"]
    assert (udp_out["source_ip_value"], udp_out["source_port_multiple"]) == ("192.0.2.99", ["9000"])
    tcp_in = rules["clustersafe NLB WEBFARM VIP 192.0.2.99 tcp bypass (incoming)"]
    assert tcp_in["destination_port_multiple"] == ["80", "443"]
    assert not any("192.0.2.99 tcp-udp" in name for name in rules)
    # heartbeat pair + (cluster IP: tcp, tcp-udp) + (192.0.2.99: tcp, udp), two rules each
    assert len(rules) == 10


def test_virtual_ips_listed_in_the_input_get_the_rules_for_all():
    info = dict(INFO, virtual_ips=["192.0.2.80", "192.0.2.98"])
    rules = by_name(nlb_exclusion_rules(info, virtual_ip=True))
    assert rules["clustersafe NLB WEBFARM VIP 192.0.2.98 tcp bypass (incoming)"]["destination_port_multiple"] == \
        ["80", "443"]
    assert not any("192.0.2.98 udp" in name or "192.0.2.98 tcp-udp" in name for name in rules)
    assert len(rules) == 12


def test_a_port_rule_for_the_cluster_ip_alone_is_not_given_to_the_others():
    info = {"cluster": {"name": "F", "ip_address": "10.0.0.5"},
            "port_rules": [{"start_port": 80, "end_port": 80, "protocol": "Tcp", "ip_address": "10.0.0.5"},
                           {"start_port": 25, "end_port": 25, "protocol": "Tcp", "ip_address": "10.0.0.6"}]}
    rules = by_name(nlb_exclusion_rules(info, virtual_ip=True, heartbeat_action="none"))
    assert rules["clustersafe NLB F VIP 10.0.0.5 tcp bypass (incoming)"]["destination_port_multiple"] == ["80"]
    assert rules["clustersafe NLB F VIP 10.0.0.6 tcp bypass (incoming)"]["destination_port_multiple"] == ["25"]
    assert len(rules) == 4


@pytest.mark.parametrize("mode, expected", [("IgmpMulticast", True), ("igmpmulticast", True), ("Multicast", False),
                                            ("Unicast", False), (None, False)])
def test_igmp_multicast_mode_lets_the_hosts_igmp_out(mode, expected):
    cluster = dict(INFO["cluster"], mode=mode)
    rules = by_name(nlb_exclusion_rules(dict(INFO, cluster=cluster)))
    name = "clustersafe NLB WEBFARM IGMP force-allow (outgoing)"
    assert (name in rules) == expected
    if expected:
        rule = rules[name]
        assert (rule["action"], rule["direction"], rule["frame_type"], rule["protocol"]) == \
            ("force-allow", "outgoing", "ip", "igmp")
        assert "KB 283028" in rule["description"]
        assert firewall.normalize_rule(rule)["protocol"] == "igmp"


def test_igmp_by_request_and_mode_from_get_nlbcluster_spelling():
    assert "clustersafe NLB WEBFARM IGMP force-allow (outgoing)" in by_name(nlb_exclusion_rules(INFO, protocols=["igmp"]))
    raw = {"cluster": {"Name": "WEBFARM", "IPAddress": "192.0.2.80", "Mode": "IgmpMulticast"}}
    assert [rule["name"] for rule in nlb_exclusion_rules(raw, heartbeat_action="none")] == \
        ["clustersafe NLB WEBFARM IGMP force-allow (outgoing)"]


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
    rules = nlb_exclusion_rules(INFO, virtual_ip=True, protocols=["dhcp", "dns", "arp", "igmp"])
    spec = firewall.argument_spec_fields()
    for rule in rules:
        for key, value in rule.items():
            if key != "name" and "choices" in spec[key]:
                assert str(value) in spec[key]["choices"] or set(value) <= set(spec[key]["choices"])
        created = client.create_firewall_rule(firewall.normalize_rule(rule))
        assert created["name"] == rule["name"]
    # heartbeat 2, virtual IPs 8 (two of them, two protocols each), DHCP, DNS, ARP 6, IGMP 1
    assert len(created_rules(model)) == len(rules) == 17


def test_the_rules_stop_invalid_flags_on_a_secondary_virtual_ip_in_the_lab():
    """The lab's DSM judges each virtual IP's TCP ports: a port rule for a secondary virtual IP is traffic to
    that address. Before the fix its port rules were skipped and its events went on."""
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
    from tests.lab.inprocess import activate
    topology = load_topology()
    farm = topology["windows"]["nlb_clusters"][0]
    farm["port_rules"] = [dict(rule, ip_address="All") for rule in farm["port_rules"]] + [
        {"start_port": 8443, "end_port": 8443, "protocol": "Tcp", "mode": "Multiple", "ip_address": "192.0.2.81"}]
    model = new_model(topology)
    model.policy_delay_ms = 0
    client = DsmClient("https://dsm.test/api", topology["dsm"]["api_key"], opener=model_opener(model))
    activate(model, "WEB1")
    model.tick()
    # 2 other hosts x (80, 443 on the cluster IP and on 192.0.2.81, 8443 on 192.0.2.81)
    assert model.state["nlb"]["WEB1"]["invalid_flags_events"] == 2 * 5
    info = {"cluster": {"name": farm["name"], "ip_address": farm["ip_address"], "mode": farm["mode"]},
            "port_rules": farm["port_rules"]}
    ids = [service.firewall_rule(client, spec)["id"] for spec in nlb_exclusion_rules(info, virtual_ip=True)]
    service.firewall_assignment(client, [str(rule_id) for rule_id in ids], computers=["WEB1"])
    model._apply_due()
    model.tick()
    assert model.state["nlb"]["WEB1"]["invalid_flags_events"] == 2 * 5
