# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the vSphere window roles decide (dsva_placement, esx_prepare, horizon_window), as pure functions
over what vsphere_cluster_info and dsm_computer_info return. The roles only sequence modules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch

from ansible_collections.clustersafe.deep_security.plugins.module_utils.escape import md as _cell
from ansible_collections.clustersafe.deep_security.plugins.module_utils.escape import md_line
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.evacuation import admission_refusal
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.report import REPORT_SCHEMA


def _blocker(subject, message, remedy):
    return {"subject": subject, "message": message, "remedy": remedy}


def _clusters_by_name(vsphere):
    return dict((cluster.get("name"), cluster) for cluster in (vsphere or {}).get("clusters") or [])


def _missing_clusters(vsphere, names):
    known = _clusters_by_name(vsphere)
    return [_blocker(name, "vSphere cluster not found", "check the cluster name (known: %s)" % (", ".join(sorted(known)) or "none"))
            for name in names or [] if name not in known]


# --- dsva_placement (VS-01, VS-02, VS-03) ---------------------------------------------------------------

def dsva_placement_plan(vsphere, clusters):
    """Per cluster: hosts without a DSVA (VS-01), hosts with more than one (VS-02), DSVAs to pin (VS-03)
    and what the run cannot fix itself. A cluster unknown or without any recognised DSVA blocks."""
    by_name = _clusters_by_name(vsphere)
    blockers = _missing_clusters(vsphere, clusters)
    entries, unfixable = [], []
    for name in clusters or []:
        cluster = by_name.get(name)
        if cluster is None:
            continue
        dsvas = cluster.get("dsvas") or []
        if not dsvas:
            blockers.append(_blocker(name, "no VM of the cluster is recognised as a Deep Security Virtual Appliance",
                                     "deploy the DSVAs through the DSM (or NSX service deployment), or set "
                                     "dsva_placement_dsva_name_pattern to the names they carry"))
            continue
        # a DSVA HA re-registered on another host belongs to its home host, not to where it runs now
        counted = {}
        for dsva in dsvas:
            counted.setdefault(dsva.get("host"), []).append(dsva.get("name"))
        without = [host.get("name") for host in cluster.get("hosts") or [] if not counted.get(host.get("name"))]
        several = dict((host, sorted(names)) for host, names in counted.items() if len(names) > 1)
        to_pin = sorted(dsva.get("name") for dsva in dsvas if not dsva.get("pinned"))
        for host in without:
            unfixable.append({"cluster": name, "subject": host, "rule": "VS-01",
                              "message": "host has no DSVA: a guest moved here by vMotion is unprotected",
                              "remedy": "deploy a DSVA to this host through the DSM (Computers > vCenter > Actions > Deploy "
                                        "Appliance) or NSX service deployment; this role cannot deploy one"})
        for host, names in sorted(several.items()):
            unfixable.append({"cluster": name, "subject": host, "rule": "VS-02",
                              "message": "host runs %d DSVAs (%s); at most one is allowed" % (len(names), ", ".join(names)),
                              "remedy": "move a DSVA that runs away from its home host back once that host is up, "
                                        "or remove the extra appliance through the DSM"})
        for dsva in dsvas:
            if dsva.get("on_foreign_host"):
                unfixable.append({"cluster": name, "subject": dsva.get("name"), "rule": "VS-03",
                                  "message": "DSVA runs on %s, not on its home host %s" % (dsva.get("host"), dsva.get("home_host")),
                                  "remedy": "power it off and move it back to %s once that host is up" % dsva.get("home_host")})
        entries.append({"cluster": name, "dsvas": sorted(dsva.get("name") for dsva in dsvas),
                        "hosts_without_dsva": without, "hosts_with_several": several, "to_pin": to_pin,
                        "overrides_ignored": [dsva.get("name") for dsva in dsvas if dsva.get("drs_override_ignored")]})
    return {"clusters": entries, "blockers": blockers, "unfixable": unfixable,
            "to_pin": [entry["cluster"] for entry in entries if entry["to_pin"] or entry["overrides_ignored"]]}


# --- esx_prepare (VS-04) ------------------------------------------------------------------------------

def _running_dsva_hosts(cluster):
    return set(dsva.get("host") for dsva in cluster.get("dsvas") or []
               if dsva.get("power_state") == "poweredOn" and not dsva.get("on_foreign_host"))


def _record_problems(record):
    return "; ".join((record or {}).get("problems") or [])


def esx_prepare_plan(vsphere, cluster_name, hosts, window, dsvas_expected=True, prepared=None, cluster_node_vms=None,
                     drained_vms=None):
    """The hosts to prepare in order, what each carries away, and the blockers found before any change.

    A host may be prepared only when some other host of the cluster, connected and out of maintenance
    mode, has a running DSVA to take its VMs (VS-01 keeps moved guests protected; VS-04 moves the DSM VM
    too). A host already carrying an evacuation record of this window is resumed; of another window, blocks.
    Hosts in ``prepared`` (the caller's check found nothing to do) are skipped, so a second run changes nothing.

    Also blocking: a record in vCenter that fails validation (records.read_record), the cluster's DRS held by
    another window (the window holds DRS at manual from open to close), a host whose absence breaks the cluster's
    HA admission control (evacuation.admission_refusal), and a running failover-cluster node VM
    (``cluster_node_vms``) on a host to evacuate that is not in ``drained_vms`` (VMware's WSFC guide: a vMotion
    stall longer than the heartbeat time-out fails the node's roles over). Each entry names the host's DSVAs and
    the DSM computer names they are checked under after the host is back (``dsvas``: ``vm``, ``computer``: the
    guest host name, else the VM name).
    """
    blockers = _missing_clusters(vsphere, [cluster_name])
    cluster = _clusters_by_name(vsphere).get(cluster_name)
    if cluster is None:
        return {"cluster": cluster_name, "order": [], "hosts": [], "blockers": blockers, "findings": []}
    by_host = dict((host.get("name"), host) for host in cluster.get("hosts") or [])
    dsva_hosts = _running_dsva_hosts(cluster)
    findings, entries = [], []
    if len(set(hosts or [])) != len(hosts or []):
        blockers.append(_blocker(cluster_name, "a host is named twice", "name each host once"))
    if dsvas_expected and not cluster.get("dsvas"):
        blockers.append(_blocker(cluster_name, "no VM of the cluster is recognised as a Deep Security Virtual Appliance",
                                 "set esx_prepare_dsvas_expected: false for a cluster without DSVAs yet, or fix the name pattern"))
    drs_record = cluster.get("drs_window")
    if drs_record and not drs_record.get("valid", True):
        blockers.append(_blocker(cluster_name, "the cluster's DRS window record fails validation (%s)" % _record_problems(drs_record),
                                 "check the cluster's DRS level in vCenter and clear custom attribute clustersafe.drs_window"))
    elif drs_record and drs_record.get("window") != window:
        blockers.append(_blocker(cluster_name, "DRS of the cluster is held by window %s (owner %s, since %s)"
                                 % (drs_record.get("window"), drs_record.get("owner"), drs_record.get("since")),
                                 "finish or recover that window first (clustersafe.deep_security.recover)"))
    nodes = set(cluster_node_vms or [])
    drained = set(drained_vms or [])
    unknown_nodes = sorted(nodes - set(vm.get("name") for vm in cluster.get("vms") or []))
    if unknown_nodes:
        blockers.append(_blocker(cluster_name, "failover-cluster node VMs not in the cluster: %s" % ", ".join(unknown_nodes),
                                 "name the VMs of the cluster's failover-cluster nodes as vCenter shows them"))
    others_in_maintenance = [name for name, host in by_host.items() if host.get("maintenance_mode")
                             and name not in (hosts or []) and not host.get("evacuation")]
    if others_in_maintenance:
        findings.append({"subject": cluster_name, "message": "already in maintenance mode: %s" % ", ".join(sorted(others_in_maintenance))})
    dsm_hosts = dict((vm.get("name"), vm.get("host")) for vm in cluster.get("dsm_vms") or [] if vm.get("power_state") == "poweredOn")
    for name in hosts or []:
        host = by_host.get(name)
        if host is None:
            blockers.append(_blocker(name, "host is not in cluster %s" % cluster_name,
                                     "name hosts of the cluster (%s)" % ", ".join(sorted(by_host))))
            continue
        record = host.get("evacuation")
        if record and not record.get("valid", True):
            blockers.append(_blocker(name, "the host's evacuation record fails validation (%s), so it is left alone"
                                     % _record_problems(record),
                                     "check the host's VMs in vCenter by hand and clear custom attribute clustersafe.evacuation"))
            continue
        if name in (prepared or []) and not record:
            entries.append({"host": name, "resume": False, "skip": True, "targets": [], "vms_to_move": [], "dsm_vms": [],
                            "dsvas": []})
            continue
        if record and record.get("window") != window:
            blockers.append(_blocker(name, "host carries the evacuation record of window %s (owner %s, since %s)"
                                     % (record.get("window"), record.get("owner"), record.get("since")),
                                     "finish or recover that window first (clustersafe.deep_security.recover)"))
            continue
        if host.get("connection_state") != "connected":
            blockers.append(_blocker(name, "host is %s" % host.get("connection_state"), "reconnect the host first"))
        if host.get("maintenance_mode") and not record:
            blockers.append(_blocker(name, "host is already in maintenance mode and no window of this collection put it there",
                                     "take it out of maintenance mode or leave it out of esx_prepare_hosts"))
        targets = sorted(other for other, info in by_host.items()
                         if other != name and info.get("connection_state") == "connected" and not info.get("maintenance_mode")
                         and (not dsvas_expected or other in dsva_hosts))
        if not targets:
            blockers.append(_blocker(name, "no other host of %s is connected, out of maintenance mode%s to take its VMs"
                                     % (cluster_name, " and runs a DSVA" if dsvas_expected else ""),
                                     "bring another host up (with its DSVA powered on) first"))
        if not host.get("maintenance_mode"):
            reason = admission_refusal(cluster, name)
            if reason:
                blockers.append(_blocker(name, reason, "free or add capacity in the cluster first, or have its owner change "
                                                       "HA admission control for the window"))
        dsvas_here = set(host.get("dsvas") or [])
        to_move = sorted(vm for vm in host.get("powered_on_vms") or [] if vm not in dsvas_here)
        undrained = [vm for vm in to_move if vm in nodes and vm not in drained]
        if undrained:
            blockers.append(_blocker(name, "failover-cluster node VMs would move while their nodes are not drained: %s "
                                     "(a vMotion stall longer than the cluster heartbeat time-out fails their roles over)"
                                     % ", ".join(undrained),
                                     "drain each node first (mscs_node state=drained) and name its VM in esx_prepare_drained_vms"))
        guests = dict((vm.get("name"), vm) for vm in cluster.get("vms") or [])
        entries.append({"host": name, "resume": bool(record), "skip": False, "targets": targets, "vms_to_move": to_move,
                        "dsm_vms": sorted(vm for vm, where in dsm_hosts.items() if where == name),
                        "dsvas": [{"vm": dsva, "computer": (guests.get(dsva) or {}).get("guest_hostname") or dsva}
                                  for dsva in sorted(dsvas_here)]})
    # hosts this window already evacuated first, so an interrupted run finishes the host it left
    order = ([entry["host"] for entry in entries if entry["resume"]]
             + [entry["host"] for entry in entries if not entry["resume"] and not entry["skip"]])
    return {"cluster": cluster_name, "order": order, "hosts": entries, "blockers": blockers, "findings": findings}


# --- horizon_window (VS-05) ---------------------------------------------------------------------------

_PROBLEMS = (("out_of_sync", "out of sync"), ("offline", "offline"))


def _short(name):
    return str(name or "").split(".", 1)[0].lower()


def horizon_desktop_status(vsphere, clusters, computers, desktop_patterns=None):
    """Desktops of the clusters that the DSM shows offline or "interface out of sync" (VS-05), or does not know.

    Desktops are the cluster VMs whose name matches one of ``desktop_patterns`` (default every VM), never
    a DSVA, an ESX Agent Manager VM or a DSM VM. A VM is matched to a DSM computer by guest host name or
    VM name against the computer's host or display name, ignoring case and DNS domain. The DSM shows the
    state as status texts (``agentStatusMessages``, for example "Offline" or "Managed (Offline)"; the
    console's "Interface out of sync" is matched as "out of sync"): the exact texts of every release are
    not documented, so both are matched as substrings, case-insensitively.
    """
    patterns = [pattern.lower() for pattern in desktop_patterns or ["*"]]
    index = {}
    for computer in computers or []:
        for key in (computer.get("host_name"), computer.get("display_name")):
            if key:
                index.setdefault(_short(key), computer)
    listed, checked = [], 0
    for cluster in (vsphere or {}).get("clusters") or []:
        if cluster.get("name") not in (clusters or []):
            continue
        dsm_vms = set(vm.get("moid") for vm in cluster.get("dsm_vms") or [])
        for vm in cluster.get("vms") or []:
            if vm.get("dsva") or vm.get("eam_agent") or vm.get("moid") in dsm_vms:
                continue
            if not any(fnmatch.fnmatchcase(str(vm.get("name") or "").lower(), pattern) for pattern in patterns):
                continue
            checked += 1
            computer = index.get(_short(vm.get("guest_hostname"))) or index.get(_short(vm.get("name")))
            if computer is None:
                listed.append({"cluster": cluster.get("name"), "vm": vm.get("name"), "computer": None, "problem": "not_in_dsm",
                               "agent_status": None, "messages": []})
                continue
            messages = [str(text) for text in computer.get("agent_status_messages") or []]
            text = " ".join(messages).lower()
            problem = next((key for key, needle in _PROBLEMS if needle in text), None)
            if problem:
                listed.append({"cluster": cluster.get("name"), "vm": vm.get("name"), "computer": computer.get("host_name"),
                               "problem": problem, "agent_status": computer.get("agent_status"), "messages": messages})
    return {"checked": checked, "desktops": listed}


# --- dsva_guest_activation (MS-05) -----------------------------------------------------------------------

def guest_activation_plan(nodes, computers, cluster, window_records=None, window=None):
    """The failover-cluster nodes to hold, in order, and the blockers found before any change (MS-05).

    ``nodes`` are inventory hosts, ``computers`` their computer names as mscs_cluster_info reports each
    (``{host: computer}``), ``cluster`` what mscs_cluster_info returned from one of them, ``window_records`` the
    window records each node carries (``{host: [record]}``, mscs_cluster_info ``window_records``). Every named
    node must be a member; every other node must be Up and every role Online, since each held node drains its
    roles onto them (invariant 1). A named node that is not Up is taken only when a record of this ``window``
    says this window took it out (an earlier run left it): a node an administrator paused or stopped is a
    blocker, never resumed or started by the window (invariant 8). Each entry of ``nodes`` in the result says
    whether this window's records allow starting the cluster service (``start``) and resuming (``resume``).
    """
    blockers = []
    members = dict((str(node.get("name") or "").lower(), node) for node in (cluster or {}).get("nodes") or [])
    names, entries = [], []
    for host in nodes or []:
        computer = str((computers or {}).get(host) or "").lower()
        own = set(str(record.get("change")) for record in (window_records or {}).get(host) or []
                  if window and record.get("window") == window)
        member = members.get(computer)
        if member is None and not members and own:
            # no node read reports the cluster: the only ones read are this window's own, their cluster service
            # stopped by it (close after open); its records say it is a node this window took out
            pass
        elif member is None:
            blockers.append(_blocker(host, "not a node of failover cluster %s" % ((cluster or {}).get("cluster") or {}).get("name"),
                                     "name nodes of one failover cluster"))
        elif member.get("state") != "Up" and not own:
            blockers.append(_blocker(member.get("name"), "node is %s and no record of window %s says this window took it "
                                     "out: someone paused or stopped it, and the window leaves that as it is"
                                     % (member.get("state"), window),
                                     "resume or start the node yourself if it belongs in the window, or leave it out of "
                                     "dsva_guest_activation_nodes"))
        names.append(computer)
        entries.append({"host": host, "computer": (computers or {}).get(host), "state": (member or {}).get("state"),
                        "start": "cluster_service_stopped" in own, "resume": "node_drained" in own,
                        "records": sorted(own)})
    for name, node in sorted(members.items()):
        if name not in names and node.get("state") != "Up":
            blockers.append(_blocker(node.get("name"), "node is %s: the cluster is already degraded" % node.get("state"),
                                     "bring the node back Up before the window"))
    for group in (cluster or {}).get("groups") or []:
        if group.get("state") != "Online":
            blockers.append(_blocker(group.get("name"), "role is %s" % group.get("state"), "bring the role Online first"))
    if len(set(names)) != len(names):
        blockers.append(_blocker(", ".join(nodes), "a node is named twice", "name each node once"))
    return {"cluster": ((cluster or {}).get("cluster") or {}).get("name"), "order": list(nodes or []),
            "nodes": entries, "blockers": blockers, "findings": []}


def guest_activation_verdict(cluster):
    """After the window: every node Up and every role Online, as mscs_cluster_info from a node shows the
    cluster; the list of what is not (``subject``, ``message``), empty when the cluster is whole."""
    problems = []
    for node in (cluster or {}).get("nodes") or []:
        if node.get("state") != "Up":
            problems.append({"subject": node.get("name"), "message": "node is %s" % node.get("state")})
    for group in (cluster or {}).get("groups") or []:
        if group.get("state") != "Online":
            problems.append({"subject": group.get("name"), "message": "role is %s" % group.get("state")})
    if not (cluster or {}).get("nodes"):
        problems.append({"subject": "cluster", "message": "the node read reports no failover cluster"})
    return problems


# --- the report of a vSphere window ---------------------------------------------------------------------

def vsphere_window_report(kind, window, started, ended, plan, steps=None, failure=None, check_mode=False,
                          extra=None, result=None):
    """The window report of a vSphere window role (same schema and header as docs/window-report.md)."""
    plan = plan or {}
    steps = [dict((key, step.get(key)) for key in ("subject", "step", "start", "end", "result", "message"))
             for step in steps or []]
    if result is None:
        if plan.get("blockers"):
            result = "refused"
        elif check_mode:
            result = "planned"
        elif failure or any(step.get("result") == "failed" for step in steps):
            result = "failed"
        elif plan.get("unfixable"):
            result = "incomplete"
        else:
            result = "succeeded"
    report = {"schema": REPORT_SCHEMA, "kind": kind, "window": window, "result": result, "check_mode": bool(check_mode),
              "started": started, "ended": ended, "cluster": plan.get("cluster"), "order": plan.get("order") or [],
              "blockers": plan.get("blockers") or [], "findings": plan.get("findings") or [],
              "unfixable": plan.get("unfixable") or [], "failure": failure, "steps": steps}
    report.update(extra or {})
    report["summary"] = {"result": result, "blockers": len(report["blockers"]), "unfixable": len(report["unfixable"]),
                         "steps": len(steps), "failed": len([step for step in steps if step.get("result") == "failed"])}
    return report


def drs_levels(held=None, restored=None):
    """Each cluster's DRS level before the window held it and after this run, from the drs_window role's registered
    vsphere_drs_window results (``held``: the hold, ``restored``: the give-back; either may be missing: an open
    job holds only, a close job gives back only). ``[{cluster, before, after}]``, in the clusters' order."""
    rows = {}
    order = []
    for results, stage in ((held, "held"), (restored, "restored")):
        for item in (results or {}).get("results") or []:
            name = item.get("__drs_window_cluster")
            if not name:
                continue
            if name not in rows:
                rows[name] = {"cluster": name, "before": None, "after": None}
                order.append(name)
            row = rows[name]
            if item.get("failed"):
                row["after"] = row["after"] or "unchanged (%s failed)" % ("hold" if stage == "held" else "give-back")
                continue
            if stage == "held":
                row["before"] = (item.get("record") or {}).get("original_level") or item.get("previous_automation_level")
                row["after"] = item.get("automation_level")
            else:
                saved = (item.get("previous_record") or {}).get("original_level")
                row["before"] = row["before"] or saved or item.get("previous_automation_level")
                row["after"] = item.get("automation_level")
    return [rows[name] for name in order]


def vsphere_report_markdown(report):
    """The vSphere window report as Markdown for a change ticket."""
    lines = ["# Window %s: %s" % (_cell(report.get("window")), _cell(report.get("kind"))), "",
             "- Result: **%s**%s" % (_cell(report.get("result")), " (check mode: nothing changed)" if report.get("check_mode") else ""),
             "- Started: %s, ended: %s" % (_cell(report.get("started")), _cell(report.get("ended")))]
    if report.get("cluster"):
        lines.append("- Cluster: %s" % _cell(report.get("cluster")))
    if report.get("order"):
        lines.append("- Order: %s" % ", ".join(_cell(item) for item in report["order"]))
    lines.append("")
    if report.get("failure"):
        lines += ["## Failure", "", "%s: %s" % (md_line(report["failure"].get("step")), _cell(report["failure"].get("message"))), ""]
    tables = (("blockers", "Blockers (nothing was changed)", ("subject", "message", "remedy")),
              ("unfixable", "What this role cannot fix", ("cluster", "rule", "subject", "message", "remedy")),
              ("drs_levels", "DRS", ("cluster", "before", "after")),
              ("findings", "Findings", ("subject", "message")),
              ("desktops", "Desktops the DSM shows offline, out of sync or does not know", ("cluster", "vm", "computer", "problem", "messages")),
              ("steps", "Steps", ("subject", "step", "start", "end", "result", "message")))
    for key, title, columns in tables:
        rows = report.get(key) or []
        if not rows:
            continue
        lines += ["## %s" % title, "", "| %s |" % " | ".join(column.capitalize() for column in columns),
                  "|%s" % ("---|" * len(columns))]
        for row in rows:
            lines.append("| %s |" % " | ".join(_cell(", ".join(row.get(column)) if isinstance(row.get(column), list)
                                                     else row.get(column)) for column in columns))
        lines.append("")
    return "\n".join(lines) + "\n"
