"""The generated lab estate (tests/lab/estate.py): NLB farms beside the failover clusters."""
import os

import pytest
import yaml

from tests.lab import estate

LAB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab")


def _load(name):
    with open(os.path.join(LAB_DIR, name)) as handle:
        return yaml.safe_load(handle)


def test_farms_after_the_first_are_shaped_like_webfarm_with_their_own_addresses():
    base = _load("topology.yml")
    topology = estate.estate_topology(base, 1, nlb_farms=3)
    farms = topology["windows"]["nlb_clusters"]
    assert [farm["name"] for farm in farms] == ["WEBFARM", "WEBFARM02", "WEBFARM03"]
    assert farms[0] == base["windows"]["nlb_clusters"][0]
    assert [node["name"] for node in farms[2]["nodes"]] == ["WEB03-1", "WEB03-2", "WEB03-3"]
    assert [node["address"] for node in farms[1]["nodes"]] == ["127.2.2.1", "127.2.2.2", "127.2.2.3"]
    assert len(set(farm["ip_address"] for farm in farms)) == 3
    assert all(farm["port_rules"] == farms[0]["port_rules"] for farm in farms)
    web = [cluster for cluster in topology["vcenter"]["clusters"] if cluster["name"] == "Web-Cluster"][0]
    assert {"WEB02-1", "WEB03-3"} <= set(vm["name"] for vm in web["vms"])
    # the failover clusters stay the lab's own
    assert topology["windows"]["failover_clusters"] == base["windows"]["failover_clusters"]


def test_the_inventory_names_each_farm_and_all_of_them():
    topology = estate.estate_topology(_load("topology.yml"), 2, nlb_farms=2)
    inventory = estate.estate_inventory(_load("inventory.yml"), topology)
    windows = inventory["all"]["children"]["windows"]["children"]
    assert windows["web_farm"]["vars"] == {"nlb_agent_rollout_farm": "WEBFARM"}
    assert windows["webfarm02"] == {"hosts": {"WEB02-1": {"ansible_host": "127.2.2.1"}, "WEB02-2": {"ansible_host": "127.2.2.2"},
                                              "WEB02-3": {"ansible_host": "127.2.2.3"}},
                                    "vars": {"nlb_agent_rollout_farm": "WEBFARM02"}}
    assert windows["web_farms"] == {"children": {"web_farm": {}, "webfarm02": {}}}
    assert windows["sql_clusters"] == {"children": {"sql_cluster": {}, "sqlclu02": {}}}


def test_failover_clusters_alone_leave_the_farm_as_it_was():
    topology = estate.estate_topology(_load("topology.yml"), 3)
    inventory = estate.estate_inventory(_load("inventory.yml"), topology)
    windows = inventory["all"]["children"]["windows"]["children"]
    assert "web_farms" not in windows and "vars" not in windows["web_farm"]
    assert len(topology["windows"]["nlb_clusters"]) == 1


def test_a_farm_count_out_of_range_names_the_option():
    with pytest.raises(ValueError, match="--nlb-farms"):
        estate.estate_topology(_load("topology.yml"), 1, nlb_farms=0)
