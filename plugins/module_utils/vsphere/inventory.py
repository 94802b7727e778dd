# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn one property snapshot of vCenter into the plain, documented inventory the modules return
and the rule catalogue judges (clusters, DRS/HA settings, hosts, overrides, DSVAs, DSM VMs, window
records). Pure: no I/O, testable with hand-built vSphere data objects."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import not_found

DRS_WINDOW_ATTRIBUTE = "clustersafe.drs_window"
EVACUATION_ATTRIBUTE = "clustersafe.evacuation"

# What one pass fetches. configurationEx is fetched whole: vCenter 8 rejects nested paths below it.
SNAPSHOT_PROPERTIES = {
    "ClusterComputeResource": ["name", "parent", "configurationEx", "customValue"],
    "HostSystem": ["name", "parent", "runtime.connectionState", "runtime.inMaintenanceMode", "customValue"],
    "VirtualMachine": ["name", "runtime.host", "runtime.powerState", "summary.config.memorySizeMB"],
    "Datacenter": ["name", "parent"],
    "Folder": ["name", "parent"],
}

POWERED_ON = "poweredOn"


def parse_record(value):
    """A window/evacuation record stored as JSON in a custom attribute; None when empty."""
    if not value:
        return None
    try:
        record = json.loads(value)
    except ValueError:
        return {"valid": False, "raw": value}
    if not isinstance(record, dict):
        return {"valid": False, "raw": value}
    record.setdefault("valid", True)
    return record


def encode_record(record):
    return json.dumps(dict((key, value) for key, value in record.items() if key != "valid"),
                      sort_keys=True, separators=(",", ":"))


def _moid(ref):
    return getattr(ref, "_moId", None) if ref is not None else None


def _enum(value):
    return str(value) if value is not None else None


def _datacenter_of(moid, objects):
    seen = set()
    while moid and moid not in seen:
        seen.add(moid)
        record = objects.get(moid)
        if record is None:
            return None
        if record["_type"].endswith("Datacenter"):
            return record["name"]
        moid = _moid(record.get("parent"))
    return None


def _drs(config):
    drs = getattr(config, "drsConfig", None)
    return {
        "enabled": bool(getattr(drs, "enabled", False)),
        "automation_level": _enum(getattr(drs, "defaultVmBehavior", None)),
        "vmotion_rate": getattr(drs, "vmotionRate", None),
        "vm_overrides_allowed": getattr(drs, "enableVmBehaviorOverrides", None),
    }


def _ha(config):
    das = getattr(config, "dasConfig", None)
    defaults = getattr(das, "defaultVmSettings", None)
    return {
        "enabled": bool(getattr(das, "enabled", False)),
        "host_monitoring": _enum(getattr(das, "hostMonitoring", None)),
        "admission_control": getattr(das, "admissionControlEnabled", None),
        "default_restart_priority": _enum(getattr(defaults, "restartPriority", None)),
        "isolation_response": _enum(getattr(defaults, "isolationResponse", None)),
    }


def build_inventory(objects, field_names, dsva_pattern="dsva-*", dsm_patterns=("dsm*",)):
    """Inventory document from a snapshot ({moid: {"_type", prop: value}}) and {field key: name}."""
    by_type = {}
    for moid, record in objects.items():
        by_type.setdefault(record["_type"].split(".")[-1], []).append((moid, record))

    def values(record):
        result = {}
        for item in record.get("customValue") or []:
            name = field_names.get(item.key)
            if name is not None:
                result[name] = getattr(item, "value", "")
        return result

    vms_by_host = {}
    vm_names = {}
    for moid, vm in by_type.get("VirtualMachine", []):
        vm_names[moid] = vm.get("name")
        vms_by_host.setdefault(_moid(vm.get("runtime.host")), []).append(vm)

    hosts_by_cluster = {}
    for moid, host in by_type.get("HostSystem", []):
        hosts_by_cluster.setdefault(_moid(host.get("parent")), []).append((moid, host))

    clusters = []
    for moid, cluster in sorted(by_type.get("ClusterComputeResource", []), key=lambda item: item[1]["name"]):
        config = cluster.get("configurationEx")
        drs_overrides = []
        for item in getattr(config, "drsVmConfig", None) or []:
            drs_overrides.append({"vm": vm_names.get(_moid(item.key), _moid(item.key)),
                                  "enabled": item.enabled if item.enabled is not None else True,
                                  "behavior": _enum(item.behavior)})
        ha_overrides = []
        for item in getattr(config, "dasVmConfig", None) or []:
            settings = getattr(item, "dasSettings", None)
            ha_overrides.append({"vm": vm_names.get(_moid(item.key), _moid(item.key)),
                                 "restart_priority": _enum(getattr(settings, "restartPriority", None))
                                 or _enum(getattr(item, "restartPriority", None))})
        drs_by_vm = dict((item["vm"], item) for item in drs_overrides)
        ha_by_vm = dict((item["vm"], item) for item in ha_overrides)

        hosts, dsvas, dsm_vms = [], [], []
        for host_moid, host in sorted(hosts_by_cluster.get(moid, []), key=lambda item: item[1]["name"]):
            guests = vms_by_host.get(host_moid, [])
            powered_on = sorted(vm["name"] for vm in guests if _enum(vm.get("runtime.powerState")) == POWERED_ON)
            host_dsvas = []
            for vm in sorted(guests, key=lambda item: item["name"]):
                power = _enum(vm.get("runtime.powerState"))
                if fnmatch.fnmatchcase(vm["name"], dsva_pattern):
                    drs = drs_by_vm.get(vm["name"])
                    ha = ha_by_vm.get(vm["name"])
                    drs_disabled = bool(drs and drs["enabled"] is False)
                    ha_disabled = bool(ha and ha["restart_priority"] == "disabled")
                    host_dsvas.append(vm["name"])
                    dsvas.append({"name": vm["name"], "host": host["name"], "power_state": power,
                                  "drs_disabled": drs_disabled, "ha_restart_disabled": ha_disabled,
                                  "pinned": drs_disabled and ha_disabled})
                if any(fnmatch.fnmatchcase(vm["name"], pattern) for pattern in dsm_patterns):
                    dsm_vms.append({"name": vm["name"], "host": host["name"], "power_state": power})
            hosts.append({
                "name": host["name"],
                "moid": host_moid,
                "connection_state": _enum(host.get("runtime.connectionState")),
                "maintenance_mode": bool(host.get("runtime.inMaintenanceMode")),
                "powered_on_vms": powered_on,
                "powered_on_vm_count": len(powered_on),
                "dsvas": host_dsvas,
                "evacuation": parse_record(values(host).get(EVACUATION_ATTRIBUTE)),
            })
        clusters.append({
            "name": cluster["name"],
            "moid": moid,
            "datacenter": _datacenter_of(_moid(cluster.get("parent")), objects),
            "drs": _drs(config),
            "ha": _ha(config),
            "hosts": hosts,
            "drs_vm_overrides": sorted(drs_overrides, key=lambda item: str(item["vm"])),
            "ha_vm_overrides": sorted(ha_overrides, key=lambda item: str(item["vm"])),
            "dsvas": dsvas,
            "dsm_vms": dsm_vms,
            "drs_window": parse_record(values(cluster).get(DRS_WINDOW_ATTRIBUTE)),
        })
    return {"clusters": clusters}


def datacenter_names(objects):
    return sorted(record["name"] for record in objects.values() if record["_type"].endswith("Datacenter"))


def select_clusters(inventory, names=None, datacenter=None, known_datacenters=()):
    """The clusters asked for, in the order asked; unknown names raise with the nearest names."""
    clusters = inventory["clusters"]
    if datacenter:
        if datacenter not in known_datacenters:
            raise not_found("datacenter", datacenter, known_datacenters, parameter="datacenter")
        clusters = [cluster for cluster in clusters if cluster["datacenter"] == datacenter]
    if not names:
        return clusters
    by_name = dict((cluster["name"], cluster) for cluster in clusters)
    selected = []
    for name in names:
        if name not in by_name:
            raise not_found("cluster", name, by_name, parameter="cluster")
        selected.append(by_name[name])
    return selected


def find_host(cluster, name):
    for host in cluster["hosts"]:
        if host["name"] == name:
            return host
    raise not_found("host", name, [host["name"] for host in cluster["hosts"]], parameter="host")
