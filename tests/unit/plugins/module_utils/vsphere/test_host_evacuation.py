"""The service layer of vsphere_host_evacuate (vsphere/host_evacuation.py) with a fake vCenter client that
records every call and keeps the custom attributes and vCenter's events: check mode touches nothing, the record
is written before the first move and cleared after the last, a restore acts only on what vCenter's events tie
to this account, and the forged records of the security review are refused before any change."""
import datetime
import json

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import host_evacuation
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.client import VsphereTaskError, vim
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.evacuation import (
    AdmissionControlError,
    ClusterNodeError,
    EvacuationRecordError,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import EVACUATION_ATTRIBUTE
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.records import read_record
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.service import Snapshot

ME = "VSPHERE.LOCAL\\svc-ds"
ADMIN = "VSPHERE.LOCAL\\alice"
SINCE = "2026-11-26T07:30:00+00:00"
PARAMS = {"keep_vms": None, "failover_cluster_vms": [], "drained_vms": [], "maintenance_mode": True,
          "power_off_kept_vms": True, "owner": "ops", "username": "svc-ds@vsphere.local", "window": "CHG-1",
          "timeout": 60}
FIELD_KEYS = {EVACUATION_ATTRIBUTE: 601, "clustersafe.drs_window": 602}


def at(minutes):
    return datetime.datetime(2026, 11, 26, 7, 30, tzinfo=datetime.timezone.utc) + datetime.timedelta(minutes=minutes)


def event(kind, minutes, user=ME, host=None, vm=None, source=None):
    return {"type": kind, "key": int(minutes * 10), "created": at(minutes), "user": user, "host": host, "vm": vm,
            "cluster": "domain-c1", "source_host": source}


class FakeClient(object):
    def __init__(self, refuse=(), events=(), fail_maintenance=False):
        self.calls = []
        self.refuse = set(refuse)
        self.events = list(events)
        self.fail_maintenance = fail_maintenance
        self.values = {}

    def check_relocate(self, vm_ref, host_ref, action):
        self.calls.append(("check", vm_ref._moId, host_ref._moId))
        return ["storage not reachable"] if vm_ref._moId in self.refuse else []

    def run_task(self, action, method, *args, **kwargs):
        self.calls.append(("task", action.split(" ")[0]))
        if self.fail_maintenance and action.startswith("entering maintenance"):
            raise VsphereTaskError("vCenter task entering maintenance mode failed: Operation timed out.")

    def shut_down_vm(self, vm_ref, name, wait_seconds=600):
        self.calls.append(("shut down", name))

    def power_on(self, vm_ref, host_ref, name, host_name, wait_seconds=600):
        self.calls.append(("power on", name, host_name))

    def wait_for_tools(self, vm_ref, name, wait_seconds=600):
        self.calls.append(("tools", name))

    def session_user(self):
        return ME

    def query_events(self, entity, event_types, begin_time):
        self.calls.append(("events", entity._moId))
        return [item for item in self.events if item["type"] in event_types and item["created"] >= begin_time], False

    def custom_field_key(self, name, managed_type, create=False, known=None, policy=None, definition_policy=None):
        return FIELD_KEYS[name]

    def set_custom_value(self, entity, name, value):
        self.values[(entity._moId, name)] = value
        self.calls.append(("record", name, json.loads(value) if value else None))

    def read_custom_value(self, entity, key):
        name = [attribute for attribute, number in FIELD_KEYS.items() if number == key][0]
        return self.values.get((entity._moId, name), "")


class FakeCluster(object):
    _moId = "domain-c1"
    name = "Prod"

    def ReconfigureComputeResource_Task(self, spec, modify):  # noqa: N802 - vSphere's method name
        raise AssertionError("the client runs the task, the test never calls vCenter")


def vm(name, moid, host, dsva=False, power="poweredOn"):
    return {"name": name, "moid": moid, "host": host, "power_state": power, "memory_mb": 1024,
            "dsva": dsva, "eam_agent": False}


def world(record=None, maintenance=False, drs="manual", dsva_power="poweredOn"):
    hosts = [{"name": name, "moid": moid, "connection_state": "connected", "memory_mb": 65536,
              "maintenance_mode": maintenance and name == "esx1", "powered_on_vms": [], "evacuation": None}
             for name, moid in (("esx1", "host-1"), ("esx2", "host-2"))]
    if record is not None:
        hosts[0]["evacuation"] = read_record(json.dumps(record), EVACUATION_ATTRIBUTE)
    vms = [vm("app", "vm-1", "esx1"), vm("dsva-esx1", "vm-2", "esx1", True, dsva_power), vm("dsva-esx2", "vm-3", "esx2", True),
           vm("db", "vm-4", "esx2"), vm("SQL-NODE1", "vm-5", "esx1")]
    hosts[0]["powered_on_vms"] = [v["name"] for v in vms if v["host"] == "esx1" and v["power_state"] == "poweredOn"]
    cluster = {"name": "Prod", "moid": "domain-c1", "hosts": hosts, "vms": vms, "drs_rules": [],
               "dsvas": [{"name": v["name"], "moid": v["moid"], "host": v["host"], "power_state": v["power_state"]}
                         for v in vms if v["dsva"]],
               "drs": {"enabled": True, "automation_level": drs}, "drs_window": None,
               "ha": {"enabled": True, "admission_control": True,
                      "admission_control_policy": {"kind": "resources_percent", "memory_percent": 25}}}
    objects = dict((h["moid"], {"_type": "vim.HostSystem", "_ref": vim.HostSystem(h["moid"])}) for h in hosts)
    objects.update((v["moid"], {"_type": "vim.VirtualMachine", "_ref": vim.VirtualMachine(v["moid"])}) for v in vms)
    objects["domain-c1"] = {"_type": "vim.ClusterComputeResource", "_ref": FakeCluster()}
    return Snapshot(objects, {}, {"clusters": [cluster]}), cluster, hosts[0]


def acts(client):
    return [call for call in client.calls if call[0] not in ("check", "events")]


def evacuated(moved=(("app", "vm-1", "esx2"),), powered_off=(("dsva-esx1", "vm-2"),), maintenance=True, **extra):
    record = {"window": "CHG-1", "cluster": "Prod", "owner": "ops", "since": SINCE, "maintenance": maintenance,
              "vcenter_user": ME, "moved": [{"vm": name, "moid": moid, "to": to} for name, moid, to in moved],
              "powered_off": [{"vm": name, "moid": moid} for name, moid in powered_off]}
    record.update(extra)
    return record


# What this account did during the evacuation, as vCenter's events show it.
OWN_EVENTS = [event("VmMigratedEvent", 1, host="host-2", vm="vm-1", source="host-1"),
              event("VmGuestShutdownEvent", 2, host="host-1", vm="vm-2"),
              event("VmPoweredOffEvent", 2.1, user="", host="host-1", vm="vm-2"),
              event("EnteringMaintenanceModeEvent", 3, host="host-1"),
              event("EnteredMaintenanceModeEvent", 3.2, host="host-1")]


def restored_world(record=None, events=None, **options):
    snapshot, cluster, host = world(record or evacuated(), maintenance=True, dsva_power="poweredOff", **options)
    cluster["vms"][0]["host"] = "esx2"  # app was moved to esx2
    cluster["vms"][4]["host"] = "esx2"
    return snapshot, cluster, host, FakeClient(events=OWN_EVENTS if events is None else events)


def test_check_mode_plans_and_touches_nothing():
    snapshot, cluster, host = world()
    client = FakeClient()
    params = dict(PARAMS, drained_vms=[], failover_cluster_vms=[])
    result = host_evacuation.evacuate(client, snapshot, cluster, host, params, check_mode=True)
    assert result["changed"] and sorted(m["vm"] for m in result["moves"]) == ["SQL-NODE1", "app"] and result["maintenance_mode"]
    assert acts(client) == []


def test_record_first_then_moves_then_maintenance_mode():
    snapshot, cluster, host = world()
    client = FakeClient()
    result = host_evacuation.evacuate(client, snapshot, cluster, host, PARAMS)
    done = acts(client)
    assert [call[0] if call[0] in ("record", "shut down") else call[1] for call in done] == [
        "record", "migrating", "migrating", "shut down", "entering"]
    record = done[0][2]
    assert record["window"] == "CHG-1" and record["maintenance"] is True and record["vcenter_user"] == ME
    assert record["powered_off"] == [{"vm": "dsva-esx1", "moid": "vm-2"}]
    assert sorted(item["moid"] for item in record["moved"]) == ["vm-1", "vm-5"]
    assert result["record"] == record
    assert read_record(json.dumps(record), EVACUATION_ATTRIBUTE)["valid"] is True


def test_a_failover_cluster_node_that_is_not_drained_is_not_moved():
    snapshot, cluster, host = world()
    client = FakeClient()
    with pytest.raises(ClusterNodeError) as caught:
        host_evacuation.evacuate(client, snapshot, cluster, host, dict(PARAMS, failover_cluster_vms=["SQL-NODE1"]))
    assert "SQL-NODE1" in caught.value.message and "drained_vms" in caught.value.message and acts(client) == []
    result = host_evacuation.evacuate(FakeClient(), snapshot, cluster, host,
                                      dict(PARAMS, failover_cluster_vms=["SQL-NODE1"], drained_vms=["vm-5"]))
    assert "SQL-NODE1" in [m["vm"] for m in result["moves"]]


def test_a_host_ha_admission_control_cannot_spare_is_not_evacuated():
    snapshot, cluster, host = world()
    cluster["hosts"][1]["memory_mb"] = 2048  # the one other host could not take esx1's VMs and keep 25% free
    client = FakeClient()
    with pytest.raises(AdmissionControlError) as caught:
        host_evacuation.evacuate(client, snapshot, cluster, host, PARAMS)
    assert "admission control" in caught.value.message and client.calls == []


def test_failed_maintenance_mode_powers_the_dsva_on_again_on_its_host_before_failing():
    snapshot, cluster, host = world()
    client = FakeClient(fail_maintenance=True)
    with pytest.raises(VsphereTaskError) as caught:
        host_evacuation.evacuate(client, snapshot, cluster, host, PARAMS)
    done = acts(client)
    assert done[-3:-1] == [("task", "entering"), ("power on", "dsva-esx1", "esx1")]
    record = done[-1][2]
    assert record["maintenance"] is False and record["powered_off"] == [] and len(record["moved"]) == 2
    assert "dsva-esx1 powered on again on esx1" in caught.value.message


def test_restore_without_a_record_changes_nothing():
    snapshot, cluster, host = world()
    client = FakeClient()
    result = host_evacuation.restore(client, snapshot, cluster, host, PARAMS)
    assert not result["changed"] and client.calls == [] and "nothing to restore" in result["msg"]


def test_restore_leaves_maintenance_starts_the_dsva_on_its_host_waits_for_tools_then_moves_back():
    record = evacuated(moved=(("app", "vm-1", "esx2"), ("db", "vm-4", "esx2")))
    events = OWN_EVENTS + [event("VmMigratedEvent", 1.5, host="host-2", vm="vm-4", source="host-1")]
    snapshot, cluster, host, client = restored_world(record, events)
    client.refuse = {"vm-4"}
    result = host_evacuation.restore(client, snapshot, cluster, host, PARAMS)
    done = acts(client)
    assert done[:3] == [("task", "leaving"), ("power on", "dsva-esx1", "esx1"), ("tools", "dsva-esx1")]
    assert done[3][0] == "record" and done[3][2]["maintenance"] is False and done[3][2]["powered_off"] == []
    assert done[4] == ("task", "migrating") and done[-1] == ("record", EVACUATION_ATTRIBUTE, None)
    assert [m["vm"] for m in result["moves"]] == ["app"]
    assert result["not_moved_back"] == [{"vm": "db", "reason": "vCenter refuses the move: storage not reachable"}]
    assert result["tools_waited"] == ["dsva-esx1"]


def test_restore_holds_automated_drs_at_manual_and_puts_it_back_last():
    snapshot, cluster, host, client = restored_world(drs="fullyAutomated")
    host_evacuation.restore(client, snapshot, cluster, host, PARAMS)
    done = acts(client)
    assert done[0][:2] == ("record", "clustersafe.drs_window") and done[0][2]["original_level"] == "fullyAutomated"
    assert done[1] == ("task", "setting") and done[2] == ("task", "leaving")
    assert done[-2] == ("task", "setting") and done[-1] == ("record", "clustersafe.drs_window", None)


def test_restore_keeps_drs_held_while_another_host_is_back_without_its_vms():
    snapshot, cluster, host, client = restored_world(drs="fullyAutomated")
    cluster["hosts"][1]["evacuation"] = {"window": "CHG-1", "valid": True}  # esx2: out of maintenance mode, VMs not back
    result = host_evacuation.restore(client, snapshot, cluster, host, PARAMS)
    assert acts(client)[-1] == ("record", EVACUATION_ATTRIBUTE, None)
    assert "stays at manual" in result["warnings"][0] and "esx2 is out of maintenance mode" in result["warnings"][0]


def test_restore_puts_back_the_hold_an_earlier_restore_left_once_vcenter_ties_it():
    held = {"window": "evacuation-restore", "original_level": "fullyAutomated", "owner": "ops", "since": SINCE,
            "held_since": SINCE, "valid": True}
    events = OWN_EVENTS + [event("ClusterReconfiguredEvent", 0.5)]
    snapshot, cluster, host, client = restored_world(events=events)
    cluster["drs_window"] = held
    client.values[("domain-c1", "clustersafe.drs_window")] = json.dumps(dict((k, v) for k, v in held.items() if k != "valid"))
    host_evacuation.restore(client, snapshot, cluster, host, PARAMS)
    assert acts(client)[-2:] == [("task", "setting"), ("record", "clustersafe.drs_window", None)]
    # someone else reconfigured the cluster since: the level stays, the record too, and the run says why
    snapshot, cluster, host, client = restored_world(events=events + [event("ClusterReconfiguredEvent", 4, user=ADMIN)])
    cluster["drs_window"] = held
    with pytest.raises(EvacuationRecordError.__bases__[0]) as caught:
        host_evacuation.restore(client, snapshot, cluster, host, PARAMS)
    assert "alice reconfigured the cluster" in caught.value.message
    assert ("task", "setting") not in acts(client)


def test_restore_in_two_steps_leaves_the_moves_for_after_the_dsm_check():
    snapshot, cluster, host, client = restored_world()
    first = host_evacuation.restore(client, snapshot, cluster, host, dict(PARAMS, move_back=False))
    assert first["moves"] == [] and first["record"]["moved"] == [{"vm": "app", "moid": "vm-1", "to": "esx2"}]
    done = acts(client)
    assert [call[0] for call in done] == ["task", "power on", "tools", "record"]
    assert done[-1][2]["maintenance"] is False and done[-1][2]["moved"] == first["record"]["moved"]
    # the second step finds the host out of maintenance mode with only the moves left; the first step again changes nothing
    snapshot, cluster, host = world(done[-1][2], dsva_power="poweredOn")
    cluster["vms"][0]["host"] = "esx2"
    client = FakeClient(events=OWN_EVENTS)
    again = host_evacuation.restore(client, snapshot, cluster, host, dict(PARAMS, move_back=False))
    assert again["changed"] is False and [call[0] for call in acts(client)] == ["tools"]
    client = FakeClient(events=OWN_EVENTS)
    second = host_evacuation.restore(client, snapshot, cluster, host, PARAMS)
    assert [m["vm"] for m in second["moves"]] == ["app"] and acts(client)[-1] == ("record", EVACUATION_ATTRIBUTE, None)
    with pytest.raises(ParameterError) as caught:
        snapshot, cluster, host, client = restored_world(drs="partiallyAutomated")
        host_evacuation.restore(client, snapshot, cluster, host, dict(PARAMS, move_back=False))
    assert "hold DRS" in caught.value.message


def test_no_vm_moves_back_onto_a_host_without_a_running_dsva():
    record = evacuated(powered_off=())
    snapshot, cluster, host, client = restored_world(record)
    cluster["dsvas"][0]["power_state"] = "poweredOff"
    cluster["vms"][1]["host"] = "esx2"  # someone moved the powered-off DSVA away: the restore does not power it on
    with pytest.raises(EvacuationRecordError) as caught:
        host_evacuation.restore(client, snapshot, cluster, host, PARAMS)
    assert "no running DSVA" in caught.value.message
    assert ("task", "migrating") not in acts(client)


# -- the forged records of the security review ------------------------------------------------------------

def refused(record, events=None, maintenance=True):
    snapshot, cluster, host, client = restored_world(record, events)
    host["maintenance_mode"] = maintenance
    with pytest.raises(EvacuationRecordError) as caught:
        host_evacuation.restore(client, snapshot, cluster, host, PARAMS)
    assert acts(client) == [] and "left as it is" in caught.value.message
    return caught.value.message


def test_a_forged_record_naming_other_vms_is_refused_before_any_change():
    # db runs on esx2 and was never migrated off esx1 by this account
    message = refused(evacuated(moved=(("app", "vm-1", "esx2"), ("db", "vm-4", "esx2"))))
    assert "db: vCenter's events show no migration of it off this host" in message


def test_a_forged_record_naming_a_quarantined_vm_is_refused():
    # incident response shut a VM down on esx1; a forged record lists it as powered off by the evacuation
    events = OWN_EVENTS + [event("VmPoweredOffEvent", 2.5, user=ADMIN, host="host-1", vm="vm-9")]
    record = evacuated(powered_off=(("dsva-esx1", "vm-2"), ("quarantined", "vm-9")))
    snapshot, cluster, host, client = restored_world(record, events)
    cluster["vms"].append(vm("quarantined", "vm-9", "esx1", power="poweredOff"))
    with pytest.raises(EvacuationRecordError) as caught:
        host_evacuation.restore(client, snapshot, cluster, host, PARAMS)
    assert "quarantined: vCenter's events show no shutdown of it by this account" in caught.value.message
    assert acts(client) == []


def test_a_forged_record_on_a_host_an_administrator_put_into_maintenance_mode_is_refused():
    events = [event("EnteringMaintenanceModeEvent", 3, user=ADMIN, host="host-1"),
              event("EnteredMaintenanceModeEvent", 3.2, user=ADMIN, host="host-1")]
    message = refused(evacuated(moved=(), powered_off=()), events)
    assert "maintenance mode: the host was put into maintenance mode by VSPHERE.LOCAL\\alice" in message


def test_a_record_without_maintenance_on_a_host_in_maintenance_mode_is_refused():
    message = refused(evacuated(moved=(), powered_off=(), maintenance=False))
    assert "the record does not say this collection put it there" in message


def test_an_entry_without_an_id_cannot_be_tied_and_refuses_the_record():
    record = evacuated()
    record["moved"].append({"vm": "db", "to": "esx2"})
    assert "db: the record names no managed-object id" in refused(record)


def test_an_invalid_record_is_refused_and_left_alone():
    snapshot, cluster, host, client = restored_world(evacuated(owner="<img src=x onerror=alert(1)>\n**x**"))
    with pytest.raises(EvacuationRecordError) as caught:
        host_evacuation.restore(client, snapshot, cluster, host, PARAMS)
    assert "owner is not text" in caught.value.message and client.calls == []


@pytest.mark.parametrize("timeout", [0, -5])
def test_timeout_must_be_positive(timeout):
    with pytest.raises(ParameterError, match="parameter timeout must be a positive number of seconds"):
        host_evacuation.check_timeout(timeout)
