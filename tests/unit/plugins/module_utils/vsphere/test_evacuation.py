import json

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.evacuation import (
    EvacuationRecordError,
    NoTargetError,
    admission_refusal,
    check_evacuation_record,
    cluster_node_refusals,
    plan_evacuation,
    plan_power_on,
    plan_return,
    return_refusals,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.records import read_record

VALID = {"window": "CHG-1", "cluster": "C", "owner": "ops", "since": "2026-11-26T07:30:00+00:00", "maintenance": True,
         "moved": []}

MEMORY = {"big": 8192, "mid": 4096, "small": 1024, "tiny": 512, "x": 2048}


def host(name, state="connected", maintenance=False):
    return {"name": name, "connection_state": state, "maintenance_mode": maintenance}


def vm(name, where, power="poweredOn", moid=None, dsva=None, eam=False):
    return {"name": name, "moid": moid or "vm-" + name, "host": where, "power_state": power,
            "memory_mb": MEMORY.get(name, 1024), "dsva": name.startswith("dsva-") if dsva is None else dsva,
            "eam_agent": eam}


def cluster(hosts, vms, dsvas=None, rules=()):
    if dsvas is None:
        dsvas = [{"name": "dsva-" + h["name"], "host": h["name"], "power_state": "poweredOn"} for h in hosts]
    return {"name": "C", "hosts": hosts, "vms": vms, "dsvas": dsvas, "drs_rules": list(rules)}


def with_dsvas(hosts, vms):
    return vms + [vm("dsva-" + h["name"], h["name"]) for h in hosts]


def test_spreads_largest_first_onto_least_loaded_and_keeps_dsva():
    hosts = [host("h1"), host("h2"), host("h3")]
    c = cluster(hosts, with_dsvas(hosts, [vm("big", "h1"), vm("mid", "h1"), vm("small", "h1"), vm("x", "h2")]))
    plan = plan_evacuation(c, "h1", {"vm-dsva-h1"})
    assert [(m["vm"], m["to"]) for m in plan["moves"]] == [("big", "h3"), ("mid", "h2"), ("small", "h2")]
    assert plan["moves"][0] == {"vm": "big", "moid": "vm-big", "from": "h1", "to": "h3"}
    assert plan["kept_powered_on"] == ["dsva-h1"]


def test_never_targets_hosts_without_running_dsva_or_unusable():
    hosts = [host("h1"), host("h2"), host("h3", maintenance=True), host("h4", state="disconnected")]
    c = cluster(hosts, [vm("a", "h1")],
                dsvas=[{"name": "dsva-h1", "host": "h1", "power_state": "poweredOn"},
                       {"name": "dsva-h2", "host": "h2", "power_state": "poweredOff"},
                       {"name": "dsva-h3", "host": "h3", "power_state": "poweredOn"}])
    with pytest.raises(NoTargetError) as caught:
        plan_evacuation(c, "h1", set())
    reasons = caught.value.details["refused_hosts"]
    assert reasons == {"h2": "no running DSVA (rule VS-01)", "h3": "in maintenance mode", "h4": "not connected (disconnected)"}


def test_cluster_without_dsva_may_use_any_connected_host():
    c = cluster([host("h1"), host("h2")], [vm("a", "h1")], dsvas=[])
    assert plan_evacuation(c, "h1", set())["moves"] == [{"vm": "a", "moid": "vm-a", "from": "h1", "to": "h2"}]


def test_maintenance_with_powered_on_kept_vm_refused_before_change():
    hosts = [host("h1"), host("h2")]
    c = cluster(hosts, with_dsvas(hosts, [vm("a", "h1")]))
    with pytest.raises(ParameterError) as caught:
        plan_evacuation(c, "h1", {"vm-dsva-h1"}, maintenance_mode=True)
    assert "dsva-h1" in caught.value.message


def test_empty_host_needs_no_target():
    hosts = [host("h1")]
    assert plan_evacuation(cluster(hosts, with_dsvas(hosts, [])), "h1", {"vm-dsva-h1"})["moves"] == []


def test_dsva_and_agent_vms_never_move_even_when_not_kept():
    hosts = [host("h1"), host("h2")]
    c = cluster(hosts, with_dsvas(hosts, [vm("vCLS-1", "h1", eam=True), vm("a", "h1")]))
    plan = plan_evacuation(c, "h1", set())
    assert [m["vm"] for m in plan["moves"]] == ["a"]
    assert sorted(item["vm"] for item in plan["left_alone"]) == ["dsva-h1", "vCLS-1"]


def test_same_names_are_kept_apart_by_moid():
    hosts = [host("h1"), host("h2")]
    c = cluster(hosts, with_dsvas(hosts, [vm("app", "h1", moid="vm-10"), vm("app", "h1", moid="vm-11")]))
    plan = plan_evacuation(c, "h1", {"vm-dsva-h1", "vm-10"})
    assert [m["moid"] for m in plan["moves"]] == ["vm-11"]


def test_anti_affinity_and_vm_host_rules_steer_targets():
    hosts = [host("h1"), host("h2"), host("h3")]
    vms = with_dsvas(hosts, [vm("SQL-NODE1", "h1"), vm("SQL-NODE2", "h2"), vm("pinned-app", "h1")])
    rules = [{"name": "sql-apart", "kind": "vm_anti_affinity", "enabled": True, "mandatory": False,
              "vms": ["vm-SQL-NODE1", "vm-SQL-NODE2"]},
             {"name": "app-on-h2", "kind": "vm_host", "enabled": True, "mandatory": True,
              "vms": ["vm-pinned-app"], "affine_hosts": ["h2"], "anti_affine_hosts": None}]
    plan = plan_evacuation(cluster(hosts, vms, rules=rules), "h1", {"vm-dsva-h1"})
    targets = dict((m["vm"], m["to"]) for m in plan["moves"])
    assert targets == {"SQL-NODE1": "h3", "pinned-app": "h2"}
    assert plan["drain_first"] == ["SQL-NODE1"]


def test_no_target_allowed_by_rules_or_vcenter_check_changes_nothing():
    hosts = [host("h1"), host("h2")]
    vms = with_dsvas(hosts, [vm("SQL-NODE1", "h1"), vm("SQL-NODE2", "h2"), vm("local-disk", "h1")])
    rules = [{"name": "sql-apart", "kind": "vm_anti_affinity", "enabled": True, "mandatory": True,
              "vms": ["vm-SQL-NODE1", "vm-SQL-NODE2"]}]

    def can_move(candidate, target):
        return "datastore not accessible from %s" % target if candidate["name"] == "local-disk" else None

    with pytest.raises(NoTargetError) as caught:
        plan_evacuation(cluster(hosts, vms, rules=rules), "h1", {"vm-dsva-h1"}, can_move=can_move)
    blocked = caught.value.details["blocked_vms"]
    assert sorted(blocked) == ["SQL-NODE1", "local-disk"]
    assert "sql-apart" in blocked["SQL-NODE1"][0] and "datastore" in blocked["local-disk"][0]


def test_failover_nodes_named_by_the_caller_are_reported():
    hosts = [host("h1"), host("h2")]
    c = cluster(hosts, with_dsvas(hosts, [vm("SQL-NODE1", "h1")]))
    assert plan_evacuation(c, "h1", {"vm-dsva-h1"}, failover_vms=["vm-SQL-NODE1"])["drain_first"] == ["SQL-NODE1"]


def test_return_moves_back_only_what_is_in_the_cluster_elsewhere_and_running():
    record = {"moved": [{"vm": "a", "moid": "vm-a", "to": "h2"}, {"vm": "b", "moid": "vm-b", "to": "h2"},
                        {"vm": "c", "moid": "vm-c", "to": "h3"}, {"vm": "d", "moid": "vm-d", "to": "h3"}]}
    vms = [vm("a", "h2"), vm("b", "h1"), vm("c", "h3", power="poweredOff")]
    moves, skipped, untied = plan_return(record, vms, "h1")
    assert moves == [{"vm": "a", "moid": "vm-a", "from": "h2", "to": "h1"}]
    assert skipped == [{"vm": "c", "reason": "powered off"}, {"vm": "d", "reason": "no longer in this cluster"}]
    assert untied == []


def test_return_never_matches_a_record_entry_by_name():
    # an entry without a managed-object id cannot be tied to a migration off the host: it is returned as untied,
    # never matched to a VM of that name (names repeat across folders)
    record = {"moved": [{"vm": "a", "to": "h2"}, {"vm": "dup", "to": "h2"}]}
    vms = [vm("a", "h2"), vm("dup", "h2", moid="vm-1"), vm("dup", "h3", moid="vm-2")]
    moves, skipped, untied = plan_return(record, vms, "h1")
    assert moves == [] and skipped == [] and untied == [{"vm": "a", "moid": None}, {"vm": "dup", "moid": None}]


def test_return_refuses_a_record_of_another_cluster():
    with pytest.raises(EvacuationRecordError):
        plan_return({"cluster": "Other", "moved": []}, [], "h1", "C")


@pytest.mark.parametrize("change", [
    {"moved": "a,b"},
    {"moved": [["a", "h2"]]},
    {"moved": [{"vm": "a"}]},
    {"moved": [{"vm": 7, "to": "h2"}]},
    {"moved": [{"vm": "a", "moid": "42", "to": "h2"}]},
    {"moved": [{"vm": "a", "moid": "vm-1", "to": "h2"}, {"vm": "b", "moid": "vm-1", "to": "h3"}]},
    {"maintenance": "yes"},
    {"owner": ["x"]},
    {"owner": "line\nbreak"},
    {"owner": "x" * 257},
    {"since": "yesterday"},
    {"since": "2026-11-26 07:30"},
    {"window": "CHG 1"},
    {"cluster": None},
    {"powered_off": "dsva-h1"},
    {"powered_off": [{"vm": "dsva-h1"}]},
    {"extra": 1},
])
def test_bad_record_fields_are_typed_errors_naming_the_host_and_the_field(change):
    bad = read_record(json.dumps(dict(VALID, **change)), "clustersafe.evacuation")
    assert bad["valid"] is False
    with pytest.raises(EvacuationRecordError) as caught:
        check_evacuation_record(bad, "host esx-01")
    assert "host esx-01" in caught.value.message and "left as it is" in caught.value.message
    assert any(field in caught.value.message for field in list(change) + ["moved"])


def test_unreadable_record_is_a_typed_error():
    with pytest.raises(EvacuationRecordError) as caught:
        check_evacuation_record(read_record("{oops", "clustersafe.evacuation"), "host esx-01")
    assert "not JSON" in caught.value.message


def test_return_refusals_rerun_the_evacuation_checks():
    hosts = [host("h1"), host("h2")]
    rules = [{"name": "apart", "kind": "vm_anti_affinity", "enabled": True, "vms": ["vm-a", "vm-b"]},
             {"name": "keep", "kind": "vm_host", "enabled": True, "vms": ["vm-c"], "affine_hosts": ["h2"],
              "anti_affine_hosts": None}]
    c = cluster(hosts, with_dsvas(hosts, [vm("a", "h2"), vm("b", "h1"), vm("c", "h2"), vm("d", "h2")]), rules=rules)
    moves = [{"vm": name, "moid": "vm-" + name, "from": "h2", "to": "h1"} for name in ("a", "c", "d")]
    refused = return_refusals(c, "h1", moves, dsva_running=True)
    assert sorted(refused) == ["vm-a", "vm-c"] and "apart" in refused["vm-a"] and "keep" in refused["vm-c"]
    refused = return_refusals(c, "h1", moves, dsva_running=False)
    assert sorted(refused) == ["vm-a", "vm-c", "vm-d"] and "VS-01" in refused["vm-d"]


def ha_cluster(policy, memories=(65536, 65536, 65536), demand=(8192,)):
    hosts = [dict(host("h%d" % (index + 1)), memory_mb=memory) for index, memory in enumerate(memories)]
    vms = [dict(vm("v%d" % index, "h1"), memory_mb=memory) for index, memory in enumerate(demand)]
    return dict(cluster(hosts, vms), ha={"enabled": True, "admission_control": True, "admission_control_policy": policy})


def test_admission_control_refuses_a_host_the_policy_cannot_spare():
    percent = {"kind": "resources_percent", "memory_percent": 50}
    assert admission_refusal(ha_cluster(percent), "h1") is None
    assert "50%" in admission_refusal(ha_cluster(percent, demand=(65536, 8192)), "h1")
    failures = {"kind": "host_failures", "failover_level": 1}
    assert admission_refusal(ha_cluster(failures), "h1") is None
    assert "1 host(s) spare" in admission_refusal(ha_cluster(failures, memories=(65536, 65536)), "h1")
    assert "spare" in admission_refusal(ha_cluster(failures, demand=(40000, 40000)), "h1")
    dedicated = {"kind": "failover_hosts", "failover_hosts": ["h2", "h3"]}
    assert "dedicated" in admission_refusal(ha_cluster(dedicated), "h1")
    assert admission_refusal(ha_cluster(dedicated), "h2") is None
    off = ha_cluster(failures, memories=(65536, 65536))
    off["ha"]["admission_control"] = False
    assert admission_refusal(off, "h1") is None


def test_cluster_node_moves_refused_unless_drained():
    moves = [{"vm": "SQL-NODE1", "moid": "vm-1"}, {"vm": "SQL-NODE2", "moid": "vm-2"}, {"vm": "app", "moid": "vm-3"}]
    refused = cluster_node_refusals(moves, {"vm-1", "vm-2"}, {"vm-2"})
    assert list(refused) == ["SQL-NODE1"] and "heartbeat" in refused["SQL-NODE1"]
    assert cluster_node_refusals(moves, {"vm-1"}, {"vm-1"}) == {}


def test_maintenance_with_power_off_kept_shuts_the_dsva_down_but_never_an_eam_vm():
    hosts = [host("h1"), host("h2")]
    c = cluster(hosts, with_dsvas(hosts, [vm("a", "h1")]))
    plan = plan_evacuation(c, "h1", {"vm-dsva-h1"}, maintenance_mode=True, power_off_kept=True)
    assert plan["power_off"] == [{"vm": "dsva-h1", "moid": "vm-dsva-h1"}] and plan["kept_powered_on"] == []
    # without maintenance mode nothing is powered off
    assert plan_evacuation(c, "h1", {"vm-dsva-h1"}, power_off_kept=True)["power_off"] == []
    # an ESX Agent Manager VM still refuses maintenance mode: EAM powers it, not this collection
    c = cluster(hosts, with_dsvas(hosts, [vm("vCLS-1", "h1", eam=True)]))
    with pytest.raises(ParameterError) as caught:
        plan_evacuation(c, "h1", {"vm-dsva-h1"}, maintenance_mode=True, power_off_kept=True)
    assert "vCLS-1" in caught.value.message and "dsva-h1" not in caught.value.message


def test_power_on_only_what_the_record_powered_off_and_is_still_off_on_the_host():
    record = {"moved": [], "powered_off": [{"vm": "dsva-h1", "moid": "vm-dsva-h1"}, {"vm": "gone", "moid": "vm-gone"},
                                           {"vm": "moved", "moid": "vm-moved"}, {"vm": "on", "moid": "vm-on"}]}
    vms = [vm("dsva-h1", "h1", power="poweredOff"), vm("moved", "h2", power="poweredOff"), vm("on", "h1")]
    assert plan_power_on(record, vms, "h1") == [{"vm": "dsva-h1", "moid": "vm-dsva-h1"}]
    valid = read_record(json.dumps(dict(VALID, powered_off=[{"vm": "dsva-h1", "moid": "vm-17"}])), "clustersafe.evacuation")
    assert check_evacuation_record(valid, "host h1") is valid
