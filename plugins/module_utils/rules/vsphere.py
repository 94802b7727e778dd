# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules VS-01 ... VS-05 (REFERENCE section 1) over ``vsphere_cluster_info`` clusters. Pure: no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules.facts import (
    as_list,
    finding,
    remedy,
)

DSVA_PLACEMENT = remedy("role", "dsva_placement", "deploy one DSVA per host, then pin every DSVA")
PIN = remedy("role", "dsva_placement", "pins every DSVA (module clustersafe.deep_security.vsphere_dsva_pin)")
ESX_PREPARE = remedy("role", "esx_prepare", "evacuates the host, the DSM VM included, before Prepare ESX")
DRS_WINDOW = remedy("playbook", "horizon_window", "holds DRS at manual around the Horizon operation (role "
                    "clustersafe.deep_security.drs_window)")
RECOVER = remedy("playbook", "recover", "puts back what the window left")


def _in_scope(cluster, plan):
    """Clusters that use DSVAs: one is deployed, or the plan says the cluster must have them."""
    return bool(as_list(cluster.get("dsvas"))) or cluster.get("name") in plan["dsva_clusters"]


def _dsva_by_name(cluster):
    return dict((d.get("name"), d) for d in as_list(cluster.get("dsvas")) if isinstance(d, dict))


def vs_01(facts, plan):
    """A DSVA on every ESXi host of a cluster that uses DSVAs; a DSVA that is off protects nothing."""
    out = []
    for cluster in facts["vsphere_clusters"]:
        if not _in_scope(cluster, plan):
            continue
        dsvas = _dsva_by_name(cluster)
        hosts = cluster.get("hosts")
        if hosts is None:
            out.append(finding("VS-01", "blocker", cluster.get("name"),
                               "the hosts of cluster %s are unknown, so a DSVA on every host cannot be confirmed"
                               % cluster.get("name"), {"hosts": None}, DSVA_PLACEMENT))
            continue
        for host in as_list(hosts):
            subject = "%s/%s" % (cluster.get("name"), host.get("name"))
            names = host.get("dsvas")
            if names is None:
                out.append(finding("VS-01", "blocker", subject, "whether host %s has a DSVA is unknown" % host.get("name"),
                                   {"dsvas": None}, DSVA_PLACEMENT))
            elif not names:
                out.append(finding("VS-01", "blocker", subject,
                                   "host %s has no DSVA: a guest moved there by vMotion is unprotected" % host.get("name"),
                                   {"dsvas": [], "cluster_dsvas": sorted(dsvas)}, DSVA_PLACEMENT))
            else:
                states = dict((name, (dsvas.get(name) or {}).get("power_state")) for name in names)
                if not any(state == "poweredOn" for state in states.values()):
                    out.append(finding("VS-01", "warning", subject,
                                       "no DSVA is running on host %s (%s)" % (host.get("name"), ", ".join(
                                           "%s %s" % (n, s or "power state unknown") for n, s in sorted(states.items()))),
                                       {"dsvas": names, "power_states": states},
                                       remedy("module", "vsphere_dsva_pin", "power the host's DSVA on (vSphere client), "
                                              "then re-run the assessment")))
    return out


def vs_02(facts, plan):
    """At most one DSVA per ESXi host."""
    out = []
    for cluster in facts["vsphere_clusters"]:
        for host in as_list(cluster.get("hosts")):
            names = as_list(host.get("dsvas"))
            if len(names) > 1:
                out.append(finding("VS-02", "blocker", "%s/%s" % (cluster.get("name"), host.get("name")),
                                   "host %s runs %d DSVAs (%s); at most one per host is allowed"
                                   % (host.get("name"), len(names), ", ".join(sorted(names))),
                                   {"dsvas": sorted(names)},
                                   remedy("role", "dsva_placement", "remove or move the extra DSVA so each host has one")))
    return out


def vs_03(facts, plan):
    """Every DSVA pinned: DRS disabled for it and HA restart priority ``disabled``; per-VM DRS overrides
    only take effect while the cluster allows them (``enableVmBehaviorOverrides``)."""
    out = []
    for cluster in facts["vsphere_clusters"]:
        dsvas = [d for d in as_list(cluster.get("dsvas")) if isinstance(d, dict)]
        if not dsvas:
            continue
        drs = cluster.get("drs") if isinstance(cluster.get("drs"), dict) else {}
        overrides_allowed = drs.get("vm_overrides_allowed")
        if drs.get("enabled") is not False and overrides_allowed is not True:
            out.append(finding(
                "VS-03", "blocker", cluster.get("name"),
                "cluster %s %s per-VM DRS overrides, so DRS may move its DSVAs whatever their override says"
                % (cluster.get("name"), "does not allow" if overrides_allowed is False else "may not allow (unknown)"),
                {"drs_enabled": drs.get("enabled"), "vm_overrides_allowed": overrides_allowed},
                remedy("role", "dsva_placement", "allow VM overrides on the cluster (vSphere client, DRS > VM "
                       "overrides), then pin the DSVAs")))
        for dsva in dsvas:
            drs_off, ha_off, pinned = dsva.get("drs_disabled"), dsva.get("ha_restart_disabled"), dsva.get("pinned")
            evidence = {"host": dsva.get("host"), "drs_disabled": drs_off, "ha_restart_disabled": ha_off,
                        "pinned": pinned}
            if pinned is True and drs_off is not False and ha_off is not False:
                continue
            if drs_off is None or ha_off is None:
                if pinned is True:
                    continue
                missing = [name for name, value in (("DRS override", drs_off), ("HA override", ha_off)) if value is None]
                message = "whether DSVA %s is pinned is unknown (%s not reported)" % (dsva.get("name"), ", ".join(missing))
            else:
                loose = []
                if not drs_off:
                    loose.append("DRS can migrate it")
                if not ha_off:
                    loose.append("HA can restart it on another host")
                message = "DSVA %s on %s is not pinned: %s" % (dsva.get("name"), dsva.get("host"), "; ".join(loose))
            out.append(finding("VS-03", "blocker", "%s/%s" % (cluster.get("name"), dsva.get("name")), message,
                               evidence, PIN))
    return out


def _host_index(facts):
    index = {}
    for cluster in facts["vsphere_clusters"]:
        for host in as_list(cluster.get("hosts")):
            index[str(host.get("name")).lower()] = (cluster, host)
    return index


def _left_behind(record, plan):
    return isinstance(record, dict) and record.get("window") not in plan["running_windows"]


def vs_04(facts, plan):
    """Prepare ESX reboots the host: the DSM VM and every other running VM off it first; an evacuation
    record of a window that is not running is left behind."""
    out = []
    hosts = _host_index(facts)
    for name in plan["prepare_hosts"]:
        found = hosts.get(name.lower())
        if found is None:
            out.append(finding("VS-04", "warning", name, "host %s, planned for Prepare ESX, is not in the gathered "
                               "clusters (%d hosts known)" % (name, len(hosts)), {"known_hosts": sorted(hosts)[:20]},
                               ESX_PREPARE))
            continue
        cluster, host = found
        subject = "%s/%s" % (cluster.get("name"), host.get("name"))
        dsm = [vm.get("name") for vm in as_list(cluster.get("dsm_vms"))
               if vm.get("host") == host.get("name") and vm.get("power_state") != "poweredOff"]
        if dsm:
            out.append(finding("VS-04", "blocker", subject,
                               "the Deep Security Manager (%s) runs on %s, planned for Prepare ESX (the host reboots)"
                               % (", ".join(dsm), host.get("name")), {"dsm_vms": dsm}, ESX_PREPARE))
        running = host.get("powered_on_vms")
        own = set(as_list(host.get("dsvas")))
        others = sorted(vm for vm in as_list(running) if vm not in own and vm not in dsm)
        if running is None:
            out.append(finding("VS-04", "warning", subject, "the running VMs of %s are unknown" % host.get("name"),
                               {"powered_on_vms": None}, ESX_PREPARE))
        elif others:
            out.append(finding("VS-04", "warning", subject,
                               "%d running VM(s) on %s must move off before Prepare ESX: %s"
                               % (len(others), host.get("name"), ", ".join(others[:10]) + (" ..." if len(others) > 10 else "")),
                               {"powered_on_vms": others}, ESX_PREPARE))
    for cluster in facts["vsphere_clusters"]:
        for host in as_list(cluster.get("hosts")):
            record = host.get("evacuation")
            if _left_behind(record, plan):
                out.append(finding("VS-04", "warning", "%s/%s" % (cluster.get("name"), host.get("name")),
                                   "host %s carries the evacuation record of window %s (since %s) and no such window is "
                                   "running: its VMs may not be back"
                                   % (host.get("name"), record.get("window"), record.get("since")),
                                   {"evacuation": record}, RECOVER))
    return out


def vs_05(facts, plan):
    """DRS manual around Horizon Recompose / Refresh / Rebalance on the desktop clusters; a DRS window
    record of a window that is not running holds DRS at manual with nobody to restore it."""
    out = []
    by_name = dict((c.get("name"), c) for c in facts["vsphere_clusters"])
    for name in plan["desktop_clusters"]:
        cluster = by_name.get(name)
        if cluster is None:
            out.append(finding("VS-05", "warning", name, "desktop cluster %s is not in the gathered clusters" % name,
                               {"known_clusters": sorted(by_name)}, DRS_WINDOW))
            continue
        drs = cluster.get("drs") if isinstance(cluster.get("drs"), dict) else {}
        level = drs.get("automation_level")
        if drs.get("enabled") is False or level == "manual":
            continue
        out.append(finding("VS-05", "warning", name,
                           "DRS on desktop cluster %s is %s: a Horizon Recompose, Refresh or Rebalance can leave desktops "
                           "\"Offline, interface out of sync\"; run them with DRS held at manual"
                           % (name, level or "of unknown automation level"),
                           {"drs_enabled": drs.get("enabled"), "automation_level": level}, DRS_WINDOW))
    for cluster in facts["vsphere_clusters"]:
        record = cluster.get("drs_window")
        if _left_behind(record, plan):
            out.append(finding("VS-05", "warning", cluster.get("name"),
                               "DRS of cluster %s is held by window %s (since %s, original level %s) and no such window "
                               "is running" % (cluster.get("name"), record.get("window"), record.get("since"),
                                               record.get("original_level")),
                               {"drs_window": record}, RECOVER))
    return out
