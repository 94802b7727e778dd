"""The service layer of vsphere_host_evacuate (vsphere/host_evacuation.py) with a fake vCenter client that
records every call: check mode touches nothing, the record is written before the first move and cleared
after the last, and a restore without a record changes nothing."""
import json

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import host_evacuation
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.client import vim
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import EVACUATION_ATTRIBUTE
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.service import Snapshot

PARAMS = {"keep_vms": None, "failover_cluster_vms": [], "maintenance_mode": True, "power_off_kept_vms": True,
          "owner": "ops", "username": "administrator@vsphere.local", "window": "CHG-1", "timeout": 60}


class FakeClient(object):
    def __init__(self, refuse=()):
        self.calls = []
        self.refuse = set(refuse)

    def check_relocate(self, vm_ref, host_ref, action):
        self.calls.append(("check", vm_ref._moId, host_ref._moId))
        return ["storage not reachable"] if vm_ref._moId in self.refuse else []

    def run_task(self, action, method, *args, **kwargs):
        self.calls.append(("task", action.split(" ")[0]))

    def shut_down_vm(self, vm_ref, name, wait_seconds=600):
        self.calls.append(("shut down", name))

    def custom_field_key(self, name, managed_type, create=False, known=None):
        assert name == EVACUATION_ATTRIBUTE
        return 601

    def set_custom_value(self, entity, key, value):
        self.calls.append(("record", json.loads(value) if value else None))


def vm(name, host, dsva=False):
    return {"name": name, "moid": "vm-" + name, "host": host, "power_state": "poweredOn", "memory_mb": 1024,
            "dsva": dsva, "eam_agent": False}


def world(record=None, maintenance=False):
    hosts = [{"name": name, "moid": "host-" + name, "connection_state": "connected",
              "maintenance_mode": maintenance and name == "esx1", "powered_on_vms": [], "evacuation": None}
             for name in ("esx1", "esx2")]
    hosts[0]["evacuation"] = record
    vms = [vm("app", "esx1"), vm("dsva-esx1", "esx1", True), vm("dsva-esx2", "esx2", True)]
    hosts[0]["powered_on_vms"] = ["app", "dsva-esx1"]
    cluster = {"name": "Prod", "moid": "domain-c1", "hosts": hosts, "vms": vms, "drs_rules": [],
               "dsvas": [{"name": v["name"], "host": v["host"], "power_state": "poweredOn"} for v in vms if v["dsva"]],
               "drs": {"enabled": True, "automation_level": "fullyAutomated"}}
    objects = dict((h["moid"], {"_type": "vim.HostSystem", "_ref": vim.HostSystem(h["moid"])}) for h in hosts)
    objects.update((v["moid"], {"_type": "vim.VirtualMachine", "_ref": vim.VirtualMachine(v["moid"])}) for v in vms)
    return Snapshot(objects, {}, {"clusters": [cluster]}), cluster, hosts[0]


def test_check_mode_plans_and_touches_nothing():
    snapshot, cluster, host = world()
    client = FakeClient()
    result = host_evacuation.evacuate(client, snapshot, cluster, host, PARAMS, check_mode=True)
    assert result["changed"] and [m["vm"] for m in result["moves"]] == ["app"] and result["maintenance_mode"]
    assert [call for call in client.calls if call[0] != "check"] == []


def test_record_first_then_moves_then_maintenance_mode():
    snapshot, cluster, host = world()
    client = FakeClient()
    result = host_evacuation.evacuate(client, snapshot, cluster, host, PARAMS)
    acts = [call for call in client.calls if call[0] != "check"]
    assert [call[0] if call[0] == "record" else call[1] for call in acts] == [
        "record", "migrating", "dsva-esx1", "entering"]
    record = acts[0][1]
    assert record["window"] == "CHG-1" and record["maintenance"] is True
    assert record["powered_off"] == [{"vm": "dsva-esx1", "moid": "vm-dsva-esx1"}]
    assert record["moved"] == [{"vm": "app", "moid": "vm-app", "to": "esx2"}]
    assert result["record"] == record


def test_restore_without_a_record_changes_nothing():
    snapshot, cluster, host = world()
    client = FakeClient()
    result = host_evacuation.restore(client, snapshot, cluster, host, PARAMS)
    assert not result["changed"] and client.calls == [] and "nothing to restore" in result["msg"]


def test_restore_moves_back_what_vcenter_accepts_and_clears_the_record_last():
    record = {"window": "CHG-1", "owner": "ops", "since": "t", "cluster": "Prod", "maintenance": True,
              "moved": [{"vm": "app", "moid": "vm-app", "to": "esx2"}, {"vm": "db", "moid": "vm-db", "to": "esx2"}]}
    snapshot, cluster, host = world(record, maintenance=True)
    cluster["vms"][0]["host"] = "esx2"
    cluster["vms"].append(vm("db", "esx2"))
    snapshot.objects["vm-db"] = {"_type": "vim.VirtualMachine", "_ref": vim.VirtualMachine("vm-db")}
    client = FakeClient(refuse={"vm-db"})
    result = host_evacuation.restore(client, snapshot, cluster, host, PARAMS)
    assert [m["vm"] for m in result["moves"]] == ["app"]
    assert result["not_moved_back"] == [{"vm": "db", "reason": "vCenter refuses the move: storage not reachable"}]
    assert client.calls[0] == ("task", "leaving") and client.calls[-1] == ("record", None)


@pytest.mark.parametrize("timeout", [0, -5])
def test_timeout_must_be_positive(timeout):
    with pytest.raises(ParameterError, match="parameter timeout must be a positive number of seconds"):
        host_evacuation.check_timeout(timeout)
