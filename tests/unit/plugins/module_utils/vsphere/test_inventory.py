import json

import pytest
from pyVmomi import vim

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import NotFoundError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import (
    build_inventory,
    datacenter_names,
    read_record,
    resolve_vms,
    select_clusters,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.records import encode_record
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError

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
    window = {"window": "CHG1", "original_level": "fullyAutomated", "owner": "ops", "since": "2026-11-26T07:30:00+00:00"}
    items = [
        obj("Datacenter", "datacenter-1", name="DC-Lab", parent=vim.Folder("group-d1")),
        obj("Folder", "group-d1", name="Datacenters", parent=None),
        obj("Folder", "group-h1", name="host", parent=datacenter),
        obj("ClusterComputeResource", "domain-c1", name="Prod", parent=host_folder, configurationEx=config,
            customValue=[vim.CustomFieldsManager.StringValue(key=101, value=json.dumps(window)),
                         vim.CustomFieldsManager.StringValue(key=103, value="x")]),
        obj("HostSystem", "host-1", name="esx1", parent=cluster_ref, **{
            "runtime.connectionState": "connected", "runtime.inMaintenanceMode": False, "customValue": [],
            "summary.hardware.memorySize": 512 << 30}),
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
                             "admission_control_policy": None,
                             "default_restart_priority": "medium", "isolation_response": "none"}
    assert [h["memory_mb"] for h in cluster["hosts"]] == [512 * 1024, 0]
    assert [h["powered_on_vms"] for h in cluster["hosts"]] == [["dsm-01", "dsva-esx1", "sql1"], ["dsva-esx2"]]
    assert [dict((k, d[k]) for k in ("name", "moid", "host", "drs_disabled", "ha_restart_disabled", "pinned",
                                     "recognised_by", "on_foreign_host"))
            for d in cluster["dsvas"]] == [
        {"name": "dsva-esx1", "moid": "vm-dsva-esx1", "host": "esx1", "drs_disabled": True,
         "ha_restart_disabled": True, "pinned": True, "recognised_by": "name", "on_foreign_host": False},
        {"name": "dsva-esx2", "moid": "vm-dsva-esx2", "host": "esx2", "drs_disabled": True,
         "ha_restart_disabled": False, "pinned": False, "recognised_by": "name", "on_foreign_host": False},
    ]
    assert cluster["dsm_vms"] == [{"name": "dsm-01", "moid": "vm-dsm-01", "host": "esx1", "power_state": "poweredOn"}]
    assert cluster["drs_window"]["window"] == "CHG1"
    assert cluster["hosts"][1]["evacuation"] == {"valid": False, "problems": ["the value is not JSON"],
                                                 "raw": "{not json", "window": None}
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
    record = {"window": "W", "original_level": "manual", "owner": "ops", "since": "2026-11-26T07:30:00Z", "valid": True}
    assert read_record(encode_record(record), "clustersafe.drs_window") == record
    assert read_record("", "clustersafe.drs_window") is None
    assert read_record("[1]", "clustersafe.drs_window") == {"valid": False, "problems": ["the value is not a JSON object"],
                                                            "raw": "[1]", "window": None}


def test_admission_control_policy_and_tools_are_in_the_inventory():
    objects = snapshot()
    das = objects["domain-c1"]["configurationEx"].dasConfig
    das.admissionControlPolicy = vim.cluster.FailoverResourcesAdmissionControlPolicy(
        cpuFailoverResourcesPercent=33, memoryFailoverResourcesPercent=25, failoverLevel=1)
    objects["vm-dsva-esx1"]["guest.toolsRunningStatus"] = "guestToolsRunning"
    objects["vm-dsva-esx2"]["guest.toolsRunningStatus"] = "guestToolsNotRunning"
    cluster = build_inventory(objects, FIELDS)["clusters"][0]
    assert cluster["ha"]["admission_control_policy"] == {"kind": "resources_percent", "cpu_percent": 33,
                                                         "memory_percent": 25, "failover_level": 1}
    assert [(d["name"], d["tools_running"]) for d in cluster["dsvas"]] == [("dsva-esx1", True), ("dsva-esx2", False)]
    das.admissionControlPolicy = vim.cluster.FailoverLevelAdmissionControlPolicy(failoverLevel=2)
    assert build_inventory(objects, FIELDS)["clusters"][0]["ha"]["admission_control_policy"] == {
        "kind": "host_failures", "failover_level": 2}
    das.admissionControlPolicy = vim.cluster.FailoverHostAdmissionControlPolicy(failoverHosts=[vim.HostSystem("host-2")])
    assert build_inventory(objects, FIELDS)["clusters"][0]["ha"]["admission_control_policy"] == {
        "kind": "failover_hosts", "failover_hosts": ["esx2"]}


def test_pinned_needs_the_cluster_to_honour_vm_overrides():
    objects = snapshot()
    objects["domain-c1"]["configurationEx"].drsConfig.enableVmBehaviorOverrides = False
    dsva = build_inventory(objects, FIELDS)["clusters"][0]["dsvas"][0]
    assert dsva["drs_disabled"] and dsva["ha_restart_disabled"]
    assert dsva["drs_override_ignored"] is True and dsva["pinned"] is False


def test_dsvas_recognised_by_product_or_by_name_whatever_the_case():
    objects = snapshot()
    objects["vm-sql1"]["summary.config.product"] = vim.vApp.ProductInfo(
        key=0, name="Deep Security Virtual Appliance", vendor="Trend Micro, Inc.")
    objects["vm-dsva-esx2"]["name"] = "DSVA-ESX2"
    dsvas = build_inventory(objects, FIELDS)["clusters"][0]["dsvas"]
    assert [(d["name"], d["recognised_by"]) for d in dsvas] == [
        ("dsva-esx1", "name"), ("sql1", "product"), ("DSVA-ESX2", "name")]
    other_vendor = snapshot()
    other_vendor["vm-sql1"]["summary.config.product"] = vim.vApp.ProductInfo(
        key=0, name="Deep Security lookalike", vendor="Someone Else")
    assert "sql1" not in [d["name"] for d in build_inventory(other_vendor, FIELDS)["clusters"][0]["dsvas"]]


def test_dsva_on_the_host_of_another_is_reported_foreign():
    objects = snapshot()
    objects["vm-dsva-esx2"]["runtime.host"] = vim.HostSystem("host-1")  # re-registered on esx1 after a failure
    dsvas = build_inventory(objects, FIELDS)["clusters"][0]["dsvas"]
    moved = [d for d in dsvas if d["name"] == "dsva-esx2"][0]
    assert moved["on_foreign_host"] is True and moved["home_host"] == "esx2" and moved["host"] == "esx1"


def test_agent_vms_and_rules_are_in_the_inventory():
    objects = snapshot()
    objects["vm-off1"]["summary.config.managedBy"] = vim.ext.ManagedByInfo(extensionKey="com.vmware.vim.eam",
                                                                           type="cluster-agent")
    config = objects["domain-c1"]["configurationEx"]
    members = [vim.VirtualMachine("vm-sql1"), vim.VirtualMachine("vm-dsm-01")]
    config.rule = [vim.cluster.AntiAffinityRuleSpec(name="apart", enabled=True, vm=members)]
    cluster = build_inventory(objects, FIELDS)["clusters"][0]
    agents = [vm["name"] for vm in cluster["vms"] if vm["eam_agent"]]
    assert agents == ["off1"]
    assert cluster["drs_rules"] == [{"name": "apart", "kind": "vm_anti_affinity", "enabled": True, "mandatory": False,
                                     "vms": ["vm-sql1", "vm-dsm-01"], "vm_names": ["sql1", "dsm-01"]}]


def test_vm_names_resolve_only_when_unique():
    vms = [{"name": "app", "moid": "vm-1"}, {"name": "app", "moid": "vm-2"}, {"name": "db", "moid": "vm-3"}]
    assert resolve_vms(vms, ["db", "vm-2"], "keep_vms") == ["vm-3", "vm-2"]
    with pytest.raises(ParameterError) as caught:
        resolve_vms(vms, ["app"], "keep_vms")
    assert "vm-1, vm-2" in caught.value.message and "keep_vms" in caught.value.message
    with pytest.raises(NotFoundError):
        resolve_vms(vms, ["ap"], "keep_vms")


def test_record_attribute_of_another_object_type_is_not_read():
    objects = snapshot()
    typed = {101: ("clustersafe.drs_window", "VirtualMachine"), 102: ("clustersafe.evacuation", "HostSystem")}
    assert build_inventory(objects, typed)["clusters"][0]["drs_window"] is None
    typed[101] = ("clustersafe.drs_window", "ClusterComputeResource")
    assert build_inventory(objects, typed)["clusters"][0]["drs_window"]["window"] == "CHG1"
