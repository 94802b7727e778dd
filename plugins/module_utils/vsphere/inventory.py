# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn one property snapshot of vCenter into the plain, documented inventory the modules return
and the rule catalogue judges (clusters, DRS/HA settings, hosts, overrides, DSVAs, DSM VMs, window
records). Pure: no I/O, testable with hand-built vSphere data objects."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    CollectionError,
    ParameterError,
    not_found,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.records import (
    DRS_WINDOW_ATTRIBUTE,
    EVACUATION_ATTRIBUTE,
    read_record,
)

# What one pass fetches. configurationEx is fetched whole: vCenter 8 rejects nested paths below it.
# summary.config.product is the vApp product of an appliance deployed from an OVF (vim.vApp.ProductInfo);
# summary.config.managedBy names the extension that owns the VM (vim.ext.ManagedByInfo).
SNAPSHOT_PROPERTIES = {
    "ClusterComputeResource": ["name", "parent", "configurationEx", "customValue"],
    "HostSystem": ["name", "parent", "runtime.connectionState", "runtime.inMaintenanceMode", "customValue",
                   "summary.hardware.memorySize"],
    "VirtualMachine": ["name", "runtime.host", "runtime.powerState", "summary.config.memorySizeMB",
                       "summary.config.product", "summary.config.managedBy", "guest.hostName",
                       "guest.toolsRunningStatus"],
    "Datacenter": ["name", "parent"],
    "Folder": ["name", "parent"],
}

POWERED_ON = "poweredOn"
# vim.vm.GuestInfo.ToolsRunningStatus: VMware Tools run in the guest.
TOOLS_RUNNING = "guestToolsRunning"

# vSphere ESX Agent Manager owns the agent VMs it deploys (solutions such as NSX guest introspection and
# vSphere Cluster Services); vim.ext.ManagedByInfo.extensionKey of those VMs is EAM's extension key.
EAM_EXTENSION_KEY = "com.vmware.vim.eam"
# What the Deep Security Virtual Appliance's OVF declares as its product. Trend's deployment guides name
# the appliance "Deep Security Virtual Appliance" from vendor Trend Micro; the exact product string of
# each release could not be read here, so both are matched as case-insensitive substrings.
DSVA_PRODUCT_WORDS = ("deep security",)
DSVA_VENDOR_WORDS = ("trend micro",)


class RecordError(CollectionError):
    """A window or evacuation record in vCenter that cannot be trusted (bad JSON, wrong shape)."""


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


def _admission_policy(das, host_names):
    """The HA admission control policy as plain data (vim.cluster.DasAdmissionControlPolicy and its kinds:
    FailoverResourcesAdmissionControlPolicy, FailoverLevelAdmissionControlPolicy,
    FailoverHostAdmissionControlPolicy)."""
    policy = getattr(das, "admissionControlPolicy", None)
    if policy is None:
        return None
    kind = type(policy).__name__.split(".")[-1]
    if kind.endswith("FailoverResourcesAdmissionControlPolicy"):
        return {"kind": "resources_percent", "cpu_percent": getattr(policy, "cpuFailoverResourcesPercent", None),
                "memory_percent": getattr(policy, "memoryFailoverResourcesPercent", None),
                "failover_level": getattr(policy, "failoverLevel", None)}
    if kind.endswith("FailoverLevelAdmissionControlPolicy"):
        return {"kind": "host_failures", "failover_level": getattr(policy, "failoverLevel", None)}
    if kind.endswith("FailoverHostAdmissionControlPolicy"):
        return {"kind": "failover_hosts",
                "failover_hosts": sorted(host_names.get(_moid(host), _moid(host)) for host in getattr(policy, "failoverHosts", None) or [])}
    return {"kind": "other"}


def _ha(config, host_names=None):
    das = getattr(config, "dasConfig", None)
    defaults = getattr(das, "defaultVmSettings", None)
    return {
        "enabled": bool(getattr(das, "enabled", False)),
        "host_monitoring": _enum(getattr(das, "hostMonitoring", None)),
        "admission_control": getattr(das, "admissionControlEnabled", None),
        "admission_control_policy": _admission_policy(das, host_names or {}),
        "default_restart_priority": _enum(getattr(defaults, "restartPriority", None)),
        "isolation_response": _enum(getattr(defaults, "isolationResponse", None)),
    }


def overrides_honoured(drs):
    """vim.cluster.DrsConfigInfo.enableVmBehaviorOverrides: when false, per-VM DRS overrides are ignored
    and the cluster default applies (unset means true). Only an explicit true-or-unset counts."""
    return drs.get("vm_overrides_allowed") is not False


def _field_table(field_names):
    """{key: (name, type name or None)} from {key: name} or {key: (name, type)}."""
    table = {}
    for key, value in (field_names or {}).items():
        table[key] = (value, None) if isinstance(value, str) else (value[0], value[1])
    return table


def _is_eam_agent(vm):
    managed_by = vm.get("summary.config.managedBy")
    return getattr(managed_by, "extensionKey", None) == EAM_EXTENSION_KEY


def dsva_evidence(vm, dsva_pattern):
    """How a VM is known to be a DSVA: "product" (its vApp product is Trend Micro's Deep Security
    appliance), "name" (``dsva_pattern``, case-insensitive), or None."""
    product = vm.get("summary.config.product")
    name = (getattr(product, "name", None) or "").lower()
    vendor = (getattr(product, "vendor", None) or "").lower()
    if any(word in name for word in DSVA_PRODUCT_WORDS) and (
            not vendor or any(word in vendor for word in DSVA_VENDOR_WORDS)):
        return "product"
    if dsva_pattern and fnmatch.fnmatchcase((vm.get("name") or "").lower(), dsva_pattern.lower()):
        return "name"
    return None


def _rules(config, vm_names, host_names):
    """DRS rules the evacuation must respect, as plain data (vim.cluster.ConfigInfoEx.rule / group)."""
    groups = {}
    for group in getattr(config, "group", None) or []:
        members = getattr(group, "vm", None)
        if members is None:
            members = getattr(group, "host", None) or []
        groups[group.name] = [_moid(item) for item in members]
    rules = []
    for rule in getattr(config, "rule", None) or []:
        kind = type(rule).__name__.split(".")[-1]
        item = {"name": rule.name, "enabled": rule.enabled is not False, "mandatory": bool(rule.mandatory)}
        if kind.endswith("AntiAffinityRuleSpec"):
            item.update(kind="vm_anti_affinity", vms=[_moid(vm) for vm in rule.vm or []])
        elif kind.endswith("AffinityRuleSpec"):
            item.update(kind="vm_affinity", vms=[_moid(vm) for vm in rule.vm or []])
        elif kind.endswith("VmHostRuleInfo"):
            item.update(kind="vm_host", vms=groups.get(rule.vmGroupName, []),
                        affine_hosts=[host_names.get(h, h) for h in groups.get(rule.affineHostGroupName, [])]
                        if rule.affineHostGroupName else None,
                        anti_affine_hosts=[host_names.get(h, h) for h in groups.get(rule.antiAffineHostGroupName, [])]
                        if rule.antiAffineHostGroupName else None)
        else:
            continue
        item["vm_names"] = [vm_names.get(moid, moid) for moid in item["vms"]]
        rules.append(item)
    return sorted(rules, key=lambda rule: rule["name"])


def build_inventory(objects, field_names, dsva_pattern="dsva-*", dsm_patterns=("dsm*",)):
    """Inventory document from a snapshot ({moid: {"_type", prop: value}}) and the custom attribute
    definitions ({key: name} or {key: (name, managed-object type name or None)})."""
    fields = _field_table(field_names)
    by_type = {}
    for moid, record in objects.items():
        by_type.setdefault(record["_type"].split(".")[-1], []).append((moid, record))

    def values(record):
        kind = record["_type"].split(".")[-1]
        result = {}
        for item in record.get("customValue") or []:
            name, field_type = fields.get(item.key, (None, None))
            if name is not None and field_type in (None, kind):
                # a typed attribute wins over a global one of the same name
                if name not in result or field_type == kind:
                    result[name] = getattr(item, "value", "")
        return result

    vms_by_host = {}
    vm_names = {}
    name_count = {}
    for moid, vm in by_type.get("VirtualMachine", []):
        vm_names[moid] = vm.get("name")
        name_count[vm.get("name")] = name_count.get(vm.get("name"), 0) + 1
        vms_by_host.setdefault(_moid(vm.get("runtime.host")), []).append((moid, vm))
    host_names = dict((moid, host.get("name")) for moid, host in by_type.get("HostSystem", []))

    hosts_by_cluster = {}
    for moid, host in by_type.get("HostSystem", []):
        hosts_by_cluster.setdefault(_moid(host.get("parent")), []).append((moid, host))

    clusters = []
    for moid, cluster in sorted(by_type.get("ClusterComputeResource", []), key=lambda item: item[1]["name"]):
        config = cluster.get("configurationEx")
        drs_settings = _drs(config)
        drs_overrides = []
        for item in getattr(config, "drsVmConfig", None) or []:
            drs_overrides.append({"vm": vm_names.get(_moid(item.key), _moid(item.key)), "moid": _moid(item.key),
                                  "enabled": item.enabled if item.enabled is not None else True,
                                  "behavior": _enum(item.behavior)})
        ha_overrides = []
        for item in getattr(config, "dasVmConfig", None) or []:
            settings = getattr(item, "dasSettings", None)
            ha_overrides.append({"vm": vm_names.get(_moid(item.key), _moid(item.key)), "moid": _moid(item.key),
                                 "restart_priority": _enum(getattr(settings, "restartPriority", None))
                                 or _enum(getattr(item, "restartPriority", None))})
        drs_by_vm = dict((item["moid"], item) for item in drs_overrides)
        ha_by_vm = dict((item["moid"], item) for item in ha_overrides)
        cluster_host_names = [item[1]["name"] for item in hosts_by_cluster.get(moid, [])]

        hosts, dsvas, dsm_vms, vms = [], [], [], []
        for host_moid, host in sorted(hosts_by_cluster.get(moid, []), key=lambda item: item[1]["name"]):
            guests = sorted(vms_by_host.get(host_moid, []), key=lambda item: (item[1]["name"], item[0]))
            powered_on = sorted(item[1]["name"] for item in guests if _enum(item[1].get("runtime.powerState")) == POWERED_ON)
            host_dsvas = []
            for vm_moid, vm in guests:
                power = _enum(vm.get("runtime.powerState"))
                evidence = dsva_evidence(vm, dsva_pattern)
                tools = vm.get("guest.toolsRunningStatus")
                vms.append({"name": vm["name"], "moid": vm_moid, "host": host["name"], "power_state": power,
                            "guest_hostname": vm.get("guest.hostName"), "tools_running": tools == TOOLS_RUNNING,
                            "memory_mb": vm.get("summary.config.memorySizeMB") or 0,
                            "eam_agent": _is_eam_agent(vm), "dsva": evidence is not None,
                            "name_unique": name_count.get(vm["name"], 0) == 1})
                if evidence:
                    drs = drs_by_vm.get(vm_moid)
                    ha = ha_by_vm.get(vm_moid)
                    drs_disabled = bool(drs and drs["enabled"] is False)
                    ha_disabled = bool(ha and ha["restart_priority"] == "disabled")
                    ignored = not overrides_honoured(drs_settings)
                    # A DSVA deployed for another host (its name names another host of the cluster) has been
                    # moved, e.g. re-registered by HA after a host failure (VS-03).
                    named = [other for other in cluster_host_names if other.lower() in vm["name"].lower()]
                    named_host = max(named, key=len) if named else None
                    foreign = named_host is not None and named_host != host["name"]
                    host_dsvas.append(vm["name"])
                    dsvas.append({"name": vm["name"], "moid": vm_moid, "host": host["name"], "power_state": power,
                                  "tools_running": tools == TOOLS_RUNNING,
                                  "guest_hostname": vm.get("guest.hostName"), "recognised_by": evidence,
                                  "drs_disabled": drs_disabled, "ha_restart_disabled": ha_disabled,
                                  "drs_override_ignored": ignored,
                                  "pinned": drs_disabled and ha_disabled and not ignored,
                                  "on_foreign_host": foreign,
                                  "home_host": named_host if foreign else None})
                if any(fnmatch.fnmatchcase(vm["name"], pattern) for pattern in dsm_patterns):
                    dsm_vms.append({"name": vm["name"], "moid": vm_moid, "host": host["name"], "power_state": power})
            hosts.append({
                "name": host["name"],
                "moid": host_moid,
                "connection_state": _enum(host.get("runtime.connectionState")),
                "maintenance_mode": bool(host.get("runtime.inMaintenanceMode")),
                "powered_on_vms": powered_on,
                "powered_on_vm_count": len(powered_on),
                "dsvas": host_dsvas,
                "memory_mb": (host.get("summary.hardware.memorySize") or 0) // (1024 * 1024),
                "evacuation": read_record(values(host).get(EVACUATION_ATTRIBUTE), EVACUATION_ATTRIBUTE),
            })
        for host in hosts:
            # VS-02: a second DSVA on a host is one that does not belong there.
            if len(host["dsvas"]) > 1:
                for dsva in dsvas:
                    if dsva["host"] == host["name"] and dsva["home_host"] is None and host["name"].lower() not in dsva["name"].lower():
                        dsva["on_foreign_host"] = True
        clusters.append({
            "name": cluster["name"],
            "moid": moid,
            "datacenter": _datacenter_of(_moid(cluster.get("parent")), objects),
            "drs": drs_settings,
            "ha": _ha(config, host_names),
            "hosts": hosts,
            "vms": vms,
            "drs_vm_overrides": sorted(drs_overrides, key=lambda item: (str(item["vm"]), str(item["moid"]))),
            "ha_vm_overrides": sorted(ha_overrides, key=lambda item: (str(item["vm"]), str(item["moid"]))),
            "drs_rules": _rules(config, vm_names, host_names),
            "dsvas": dsvas,
            "dsm_vms": dsm_vms,
            "drs_window": read_record(values(cluster).get(DRS_WINDOW_ATTRIBUTE), DRS_WINDOW_ATTRIBUTE),
        })
    return {"clusters": clusters}


def resolve_vms(vms, wanted, parameter):
    """Managed-object ids of the VMs named in ``wanted`` (each a VM name or a managed-object id such as
    ``vm-42``) among ``vms`` (inventory VM entries). VM names are unique only within a folder, so a name
    that more than one VM carries is refused, naming the ids to use instead."""
    by_moid = dict((vm["moid"], vm) for vm in vms)
    by_name = {}
    for vm in vms:
        by_name.setdefault(vm["name"], []).append(vm["moid"])
    resolved = []
    for item in wanted:
        if item in by_moid:
            resolved.append(item)
            continue
        matches = by_name.get(item, [])
        if len(matches) > 1:
            raise ParameterError("parameter %s: VM name %r is not unique here (%s); give the managed-object "
                                 "id instead" % (parameter, item, ", ".join(sorted(matches))),
                                 ambiguous=item, candidates=sorted(matches))
        if not matches:
            raise not_found("VM", item, sorted(by_name), parameter=parameter)
        resolved.append(matches[0])
    return resolved


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
