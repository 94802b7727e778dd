import json

import pytest
from pyVmomi import vim

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import NotFoundError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import (
    build_inventory,
    datacenter_names,
    encode_record,
    parse_record,
    select_clusters,
)

FIELDS = {101: "clustersafe.drs_window", 102: "clustersafe.evacuation", 103: "owner-tag"}


def obj(kind, moid, **props):
    ref = getattr(vim, kind)(moid)
    return moid, dict(props, _type="vim." + kind, _ref=ref)


def snapshot():
    datacenter = vim.Datacenter("datacenter-1")
    host_folder = vim.Folder("group-h1")
    cluster_ref = vim.ClusterComputeResource("domain-c1")
    hosts = [vim.HostSystem("host-%d" % i) for i in (1, 2)]
    vms = dict((name, vim.VirtualMachine("vm-%s" % name)) for name in ("dsva-esx1", "dsva-esx2", "dsm-01", "sql1", "off1"))
    config = vim.cluster.ConfigInfoEx(
        drsConfig=vim.cluster.DrsConfigInfo(enabled=True, defaultVmBehavior="fullyAutomated", vmotionRate=2,
                                            enableVmBehaviorOverrides=True),
        dasConfig=vim.cluster.DasConfigInfo(enabled=True, hostMonitoring="enabled", admissionControlEnabled=True,
                                            defaultVmSettings=vim.cluster.DasVmSettings(
                                                restartPriority="medium", isolationResponse="none")),
        drsVmConfig=[vim.cluster.DrsVmConfigInfo(key=vms["dsva-esx1"], enabled=False),
                     vim.cluster.DrsVmConfigInfo(key=vms["dsva-esx2"], enabled=False)],
        dasVmConfig=[vim.cluster.DasVmConfigInfo(key=vms["dsva-esx1"],
                                                 dasSettings=vim.cluster.DasVmSettings(restartPriority="disabled"))],
    )
    window = {"window": "CHG1", "original_level": "fullyAutomated", "owner": "ops", "since": "t"}
    items = [
        obj("Datacenter", "datacenter-1", name="DC-Lab", parent=vim.Folder("group-d1")),
        obj("Folder", "group-d1", name="Datacenters", parent=None),
        obj("Folder", "group-h1", name="host", parent=datacenter),
        obj("ClusterComputeResource", "domain-c1", name="Prod", parent=host_folder, configurationEx=config,
            customValue=[vim.CustomFieldsManager.StringValue(key=101, value=json.dumps(window)),
                         vim.CustomFieldsManager.StringValue(key=103, value="x")]),
        obj("HostSystem", "host-1", name="esx1", parent=cluster_ref, **{
            "runtime.connectionState": "connected", "runtime.inMaintenanceMode": False, "customValue": []}),
        obj("HostSystem", "host-2", name="esx2", parent=cluster_ref, **{
            "runtime.connectionState": "connected", "runtime.inMaintenanceMode": False,
            "customValue": [vim.CustomFieldsManager.StringValue(key=102, value="{not json")]}),
    ]
    placement = {"dsva-esx1": (hosts[0], "poweredOn"), "dsva-esx2": (hosts[1], "poweredOn"),
                 "dsm-01": (hosts[0], "poweredOn"), "sql1": (hosts[0], "poweredOn"), "off1": (hosts[1], "poweredOff")}
    for name, (host, power) in placement.items():
        items.append(obj("VirtualMachine", vms[name]._moId, name=name,
                         **{"runtime.host": host, "runtime.powerState": power, "summary.config.memorySizeMB": 1024}))
    return dict(items)


def test_inventory_document():
    objects = snapshot()
    cluster = build_inventory(objects, FIELDS)["clusters"][0]
    assert cluster["name"] == "Prod" and cluster["datacenter"] == "DC-Lab"
    assert cluster["drs"] == {"enabled": True, "automation_level": "fullyAutomated", "vmotion_rate": 2,
                              "vm_overrides_allowed": True}
    assert cluster["ha"] == {"enabled": True, "host_monitoring": "enabled", "admission_control": True,
                             "default_restart_priority": "medium", "isolation_response": "none"}
    assert [h["powered_on_vms"] for h in cluster["hosts"]] == [["dsm-01", "dsva-esx1", "sql1"], ["dsva-esx2"]]
    assert cluster["dsvas"] == [
        {"name": "dsva-esx1", "host": "esx1", "power_state": "poweredOn", "drs_disabled": True,
         "ha_restart_disabled": True, "pinned": True},
        {"name": "dsva-esx2", "host": "esx2", "power_state": "poweredOn", "drs_disabled": True,
         "ha_restart_disabled": False, "pinned": False},
    ]
    assert cluster["dsm_vms"] == [{"name": "dsm-01", "host": "esx1", "power_state": "poweredOn"}]
    assert cluster["drs_window"]["window"] == "CHG1"
    assert cluster["hosts"][1]["evacuation"] == {"valid": False, "raw": "{not json"}
    assert cluster["hosts"][0]["dsvas"] == ["dsva-esx1"]


def test_cluster_without_das_config_does_not_crash():
    objects = snapshot()
    objects["domain-c1"]["configurationEx"] = vim.cluster.ConfigInfoEx()
    cluster = build_inventory(objects, FIELDS)["clusters"][0]
    assert cluster["ha"]["enabled"] is False and cluster["ha"]["default_restart_priority"] is None


def test_select_unknown_cluster_names_nearest():
    inventory = build_inventory(snapshot(), FIELDS)
    with pytest.raises(NotFoundError) as caught:
        select_clusters(inventory, ["Prd"])
    assert "Prod" in caught.value.message and "cluster" in caught.value.message


def test_select_unknown_datacenter():
    objects = snapshot()
    with pytest.raises(NotFoundError) as caught:
        select_clusters(build_inventory(objects, FIELDS), None, "DC-Lba", datacenter_names(objects))
    assert "DC-Lab" in caught.value.message


def test_record_round_trip():
    record = {"window": "W", "original_level": "manual", "valid": True}
    assert parse_record(encode_record(record)) == record
    assert parse_record("") is None
    assert parse_record("[1]") == {"valid": False, "raw": "[1]"}
