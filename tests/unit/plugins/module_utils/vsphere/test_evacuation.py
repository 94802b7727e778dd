import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.evacuation import (
    NoTargetError,
    plan_evacuation,
    plan_return,
)


def host(name, vms, state="connected", maintenance=False):
    return {"name": name, "connection_state": state, "maintenance_mode": maintenance, "powered_on_vms": vms}


def cluster(hosts, dsvas=None):
    return {"name": "C", "hosts": hosts, "dsvas": dsvas if dsvas is not None else
            [{"name": "dsva-" + h["name"], "host": h["name"], "power_state": "poweredOn"} for h in hosts]}


MEMORY = {"big": 8192, "mid": 4096, "small": 1024, "tiny": 512, "x": 2048}


def test_spreads_largest_first_onto_least_loaded_and_keeps_dsva():
    c = cluster([host("h1", ["dsva-h1", "big", "mid", "small"]), host("h2", ["dsva-h2", "x"]), host("h3", ["dsva-h3"])])
    plan = plan_evacuation(c, "h1", {"dsva-h1"}, MEMORY)
    assert plan["moves"] == [{"vm": "big", "from": "h1", "to": "h3"},
                             {"vm": "mid", "from": "h1", "to": "h2"},
                             {"vm": "small", "from": "h1", "to": "h2"}]
    assert plan["kept_powered_on"] == ["dsva-h1"]


def test_never_targets_hosts_without_running_dsva_or_unusable():
    c = cluster([host("h1", ["a"]), host("h2", []), host("h3", [], maintenance=True), host("h4", [], state="disconnected")],
                dsvas=[{"name": "dsva-h1", "host": "h1", "power_state": "poweredOn"},
                       {"name": "dsva-h2", "host": "h2", "power_state": "poweredOff"},
                       {"name": "dsva-h3", "host": "h3", "power_state": "poweredOn"}])
    with pytest.raises(NoTargetError) as caught:
        plan_evacuation(c, "h1", set(), {})
    reasons = caught.value.details["refused_hosts"]
    assert reasons == {"h2": "no running DSVA (rule VS-01)", "h3": "in maintenance mode", "h4": "not connected (disconnected)"}


def test_cluster_without_dsva_may_use_any_connected_host():
    c = cluster([host("h1", ["a"]), host("h2", [])], dsvas=[])
    assert plan_evacuation(c, "h1", set(), {})["moves"] == [{"vm": "a", "from": "h1", "to": "h2"}]


def test_maintenance_with_powered_on_kept_vm_refused_before_change():
    c = cluster([host("h1", ["dsva-h1", "a"]), host("h2", ["dsva-h2"])])
    with pytest.raises(ParameterError) as caught:
        plan_evacuation(c, "h1", {"dsva-h1"}, {}, maintenance_mode=True)
    assert "dsva-h1" in caught.value.message


def test_empty_host_needs_no_target():
    c = cluster([host("h1", ["dsva-h1"])])
    assert plan_evacuation(c, "h1", {"dsva-h1"}, {})["moves"] == []


def test_return_moves_back_only_what_is_elsewhere_and_running():
    record = {"moved": [{"vm": "a", "to": "h2"}, {"vm": "b", "to": "h2"}, {"vm": "c", "to": "h3"}, {"vm": "d", "to": "h3"}]}
    where = {"a": ("h2", "poweredOn"), "b": ("h1", "poweredOn"), "c": ("h3", "poweredOff")}
    moves, skipped = plan_return(record, where, "h1")
    assert moves == [{"vm": "a", "from": "h2", "to": "h1"}]
    assert skipped == [{"vm": "c", "reason": "powered off"}, {"vm": "d", "reason": "no longer exists"}]
