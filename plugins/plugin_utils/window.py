# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the window roles decide, as pure functions over the facts the modules return.

The roles only sequence modules; which node goes when, what blocks a window before its first change,
what a window left behind and how the window report reads are decided here, on the controller, and
unit-tested without any server.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError

REPORT_SCHEMA = "clustersafe.deep_security/window-report/v1"

# ansible.windows' connection variables, mapped onto the collection's WinRM module options. Only the
# variables a host defines are mapped, so the modules' environment fallbacks (WINRM_USER, ...) still
# apply to the rest.
_WINRM_VARIABLES = (
    ("hostname", ("ansible_host",)),
    ("port", ("ansible_port", "ansible_winrm_port")),
    ("username", ("ansible_user", "ansible_winrm_user")),
    ("password", ("ansible_password", "ansible_winrm_password", "ansible_winrm_pass", "ansible_pass")),
    ("scheme", ("ansible_winrm_scheme",)),
    ("ca_path", ("ansible_winrm_ca_trust_path",)),
    ("cert_pem", ("ansible_winrm_cert_pem",)),
    ("cert_key_pem", ("ansible_winrm_cert_key_pem",)),
    ("message_encryption", ("ansible_winrm_message_encryption",)),
    ("operation_timeout", ("ansible_winrm_operation_timeout_sec",)),
    ("read_timeout", ("ansible_winrm_read_timeout_sec",)),
)
_TRANSPORTS = ("ntlm", "kerberos", "credssp", "certificate", "basic")
_CERT_VALIDATION = {"validate": True, "ignore": False}
_INTEGER_OPTIONS = ("port", "operation_timeout", "read_timeout")


class WindowPlanError(CollectionError):
    """The window's inputs cannot make a plan (bad variable, unknown host)."""


def winrm_connection(host_vars, inventory_hostname=None):
    """Module options for the collection's Windows modules from one host's inventory variables.

    ``host_vars`` is ``hostvars[host]``. ``ansible_winrm_transport`` may be a list or a comma separated
    string (ansible.windows accepts both); the first transport the collection supports is taken.
    ``ansible_winrm_server_cert_validation`` is ``validate`` or ``ignore``.
    """
    host_vars = host_vars or {}
    options = {}
    for option, names in _WINRM_VARIABLES:
        for name in names:
            value = host_vars.get(name)
            if value is not None and value != "":
                options[option] = value
                break
    if "hostname" not in options:
        name = inventory_hostname or host_vars.get("inventory_hostname")
        if name:
            options["hostname"] = name
    for option in _INTEGER_OPTIONS:
        if option in options:
            try:
                options[option] = int(options[option])
            except (TypeError, ValueError):
                raise WindowPlanError("the inventory variable for WinRM %s of %s must be a number, got %r"
                                      % (option, options.get("hostname"), options[option]))
    transport = host_vars.get("ansible_winrm_transport")
    if transport:
        wanted = transport if isinstance(transport, (list, tuple)) else str(transport).split(",")
        chosen = [item.strip().lower() for item in wanted if item.strip().lower() in _TRANSPORTS]
        if not chosen:
            raise WindowPlanError("ansible_winrm_transport of %s is %r; use one of %s"
                                  % (options.get("hostname"), transport, ", ".join(_TRANSPORTS)))
        options["transport"] = chosen[0]
    validation = host_vars.get("ansible_winrm_server_cert_validation")
    if validation is not None and validation != "":
        key = str(validation).strip().lower()
        if key not in _CERT_VALIDATION:
            raise WindowPlanError("ansible_winrm_server_cert_validation of %s is %r; use validate or ignore"
                                  % (options.get("hostname"), validation))
        options["validate_certs"] = _CERT_VALIDATION[key]
    return options


# --- failover-cluster rollout ------------------------------------------------------------------------

def _lower(value):
    return str(value or "").lower()


def _short(value):
    return _lower(value).split(".", 1)[0]


def _blocker(subject, message, remedy):
    return {"subject": subject, "message": message, "remedy": remedy}


def _plan_refused_by_interlock(plan):
    """ds_agent's MS-02 interlock refuses in check mode too (unless asked only to plan): that refusal
    is the signal to maintain, not a blocker."""
    return plan.get("rule") == "MS-02"


def _vm_locations(vsphere):
    """VM name, and guest host name, (lower case) -> list of (cluster, host, moid) of powered-on VMs, from
    vsphere_cluster_info's clusters (its ``vms`` where returned, else each host's ``powered_on_vms``)."""
    locations = {}
    for cluster in (vsphere or {}).get("clusters") or []:
        if cluster.get("vms") is not None:
            for vm in cluster.get("vms") or []:
                if vm.get("power_state") not in (None, "poweredOn"):
                    continue
                place = (cluster.get("name"), vm.get("host"), vm.get("moid"))
                keys = set([_lower(vm.get("name"))])
                if vm.get("guest_hostname"):
                    keys.update([_lower(vm["guest_hostname"]), _short(vm["guest_hostname"])])
                for key in keys:
                    locations.setdefault(key, []).append(place)
            continue
        for host in cluster.get("hosts") or []:
            for vm in host.get("powered_on_vms") or []:
                name = vm.get("name") if isinstance(vm, dict) else vm
                locations.setdefault(_lower(name), []).append((cluster.get("name"), host.get("name"), None))
    return locations


def _drs_records(vsphere):
    return dict((cluster.get("name"), cluster.get("drs_window")) for cluster in (vsphere or {}).get("clusters") or [])


def plan_wsfc_rollout(hosts, cluster, node_facts, window, vsphere=None, vm_names=None, order=None,
                      require_all_nodes_online=True, findings=None):
    """The ordered plan of a failover-cluster agent window, and what blocks it before any change.

    hosts: the inventory hosts of the rollout, in inventory order.
    cluster: ``mscs_cluster_info`` from a node whose cluster service runs.
    node_facts: inventory host -> ``{"plan": <ds_agent in check mode>, "records": [node window records],
        "computer": <computer name>}``.
    vsphere: ``vsphere_cluster_info`` (None when the nodes are not vSphere VMs);
    vm_names: inventory host -> VM name in vCenter (defaults to the host's computer name).
    order: an explicit node order (inventory host names) overriding the computed one.
    findings: the assessment's findings (cluster_assess) for this window; blockers among them block it.
    """
    if not hosts:
        raise WindowPlanError("the rollout has no nodes: set wsfc_agent_rollout_nodes to the inventory hosts "
                              "(or group) of one failover cluster")
    blockers = []
    cluster_name = (cluster.get("cluster") or {}).get("name")
    members = dict((_lower(node.get("name")), node) for node in cluster.get("nodes") or [])
    groups = cluster.get("groups") or []
    if not cluster_name:
        blockers.append(_blocker(cluster.get("computer") or hosts[0],
                                 "the cluster could not be read: the node's cluster service is not running",
                                 "start the cluster service on the node (or run clustersafe.deep_security.recover "
                                 "if a window stopped it)"))
    for node in cluster.get("nodes") or []:
        if node.get("state") != "Up" and require_all_nodes_online:
            blockers.append(_blocker(node.get("name"), "node %s is %s; the window starts only with every node Up "
                                     "(wsfc_agent_rollout_require_all_nodes_online)" % (node.get("name"), node.get("state")),
                                     "bring the node back (clustersafe.deep_security.recover puts back what a "
                                     "window left), then run the window again"))
    for group in groups:
        if group.get("state") != "Online":
            blockers.append(_blocker(group.get("name"), "role %s is %s on %s" % (group.get("name"), group.get("state"),
                                                                                 group.get("owner_node")),
                                     "bring the role Online in Failover Cluster Manager before the window"))
    locations = _vm_locations(vsphere) if vsphere is not None else {}
    drs_records = _drs_records(vsphere)
    entries = []
    for index, host in enumerate(hosts):
        facts = node_facts.get(host) or {}
        computer = facts.get("computer") or host
        member = members.get(_lower(computer)) or members.get(_short(computer))
        if cluster_name and member is None:
            blockers.append(_blocker(host, "%s (computer %s) is not a node of cluster %s (nodes: %s)"
                                     % (host, computer, cluster_name, ", ".join(sorted(n.get("name") for n in members.values()))),
                                     "list only the nodes of one failover cluster in wsfc_agent_rollout_nodes"))
        for record in facts.get("records") or []:
            if _lower(record.get("window")) != _lower(window):
                blockers.append(_blocker(host, "window %s left a record on %s (%s since %s, from %s)"
                                         % (record.get("window"), host, record.get("change"), record.get("since"),
                                            record.get("controller")),
                                         "run clustersafe.deep_security.recover (or that window again) first"))
        plan = facts.get("plan") or {}
        if plan.get("failed") and not _plan_refused_by_interlock(plan):
            blockers.append(_blocker(host, "the agent plan for %s failed: %s" % (host, plan.get("msg")),
                                     "fix the agent parameters or the node, then run the window again"))
        needed = bool(plan.get("actions")) or bool(plan.get("changed")) or _plan_refused_by_interlock(plan)
        member_name = member.get("name") if member else computer
        owned = [g.get("name") for g in groups if _lower(g.get("owner_node")) == _lower(member_name) and not g.get("is_core")]
        core = [g.get("name") for g in groups if _lower(g.get("owner_node")) == _lower(member_name) and g.get("is_core")]
        entry = {"host": host, "computer": member_name, "maintain": needed, "roles": owned, "core_groups": core,
                 "agent_actions": plan.get("actions") or [], "agent_before": plan.get("previous_version"),
                 "agent_target": plan.get("version") if needed else plan.get("previous_version"),
                 "vm": None, "vsphere_cluster": None, "_index": index}
        if vsphere is not None:
            vm = (vm_names or {}).get(host) or member_name
            found = locations.get(_lower(vm)) or locations.get(_short(vm)) or []
            entry["vm"] = vm
            if len(set(place[2] or place for place in found)) == 1:
                entry["vsphere_cluster"] = found[0][0]
            elif needed:
                blockers.append(_blocker(host, "%s VM %r of %s in vCenter" % (
                    "no powered-on" if not found else "more than one", vm, host),
                    "set the host variable wsfc_agent_rollout_vm_name to the node's VM name, or "
                    "wsfc_agent_rollout_vsphere=false for physical nodes"))
        entries.append(entry)
    if order:
        unknown = [host for host in order if host not in hosts]
        if unknown:
            raise WindowPlanError("wsfc_agent_rollout_order names %s, not among the rollout's nodes (%s)"
                                  % (", ".join(unknown), ", ".join(hosts)))
        rank = dict((host, position) for position, host in enumerate(order))
        entries.sort(key=lambda item: (rank.get(item["host"], len(order)), item["_index"]))
    else:
        # Cluster-Aware Updating's way: nodes that own no role first, owners last, so each role moves once.
        entries.sort(key=lambda item: (len(item["roles"]), len(item["core_groups"]), item["_index"]))
    drs_clusters = []
    for entry in entries:
        del entry["_index"]
        if entry["maintain"] and entry["vsphere_cluster"] and entry["vsphere_cluster"] not in drs_clusters:
            drs_clusters.append(entry["vsphere_cluster"])
    for name in drs_clusters:
        record = drs_records.get(name)
        if record and _lower(record.get("window")) != _lower(window):
            blockers.append(_blocker(name, "DRS of %s is held by window %s since %s (%s)" % (
                name, record.get("window"), record.get("since"), record.get("owner")),
                "wait for that window, or run clustersafe.deep_security.recover if it is not running"))
    for finding in findings or []:
        if finding.get("severity") == "blocker":
            blockers.append(_blocker(finding.get("subject"), "%s: %s" % (finding.get("id"), finding.get("message")),
                                     finding.get("remedy")))
    return {"window": window, "cluster": cluster_name, "order": [entry["host"] for entry in entries if entry["maintain"]],
            "nodes": entries, "drs_clusters": sorted(drs_clusters), "blockers": blockers,
            "findings": [dict((key, finding.get(key)) for key in ("id", "severity", "subject", "message", "remedy"))
                         for finding in findings or [] if finding.get("severity") != "blocker"]}


# --- what a window left behind -------------------------------------------------------------------------

# The order in which a node's records are undone: interrupted agent work is confirmed first (no installer
# still running, the manager shows the policy applied, so the network driver's blip is over), then the
# cluster service (a paused node can only be resumed once it runs), then the drain, then NLB records.
_UNDO_ORDER = ("agent_maintenance", "cluster_service_stopped", "node_drained", "nlb_node_stopped",
               "network_engine_mode")


def records_to_undo(records, window=None):
    """Node window records to put back, in the order they must be undone (all windows, or one)."""
    # registry key names, and so window ids on Windows nodes, compare without case
    chosen = [record for record in records or [] if not window or _lower(record.get("window")) == _lower(window)]
    rank = dict((change, position) for position, change in enumerate(_UNDO_ORDER))
    return sorted(chosen, key=lambda record: (_lower(record.get("window")), rank.get(record.get("change"), len(rank))))


# --- the window report ---------------------------------------------------------------------------------

def window_report(kind, window, started, ended, plan, steps, before=None, after=None, result=None,
                  failure=None, failed_nodes=None, stopped_early="", check_mode=False, drs=None):
    """Assemble the window report (schema ``REPORT_SCHEMA``, documented in docs/window-report.md)."""
    plan = plan or {}
    steps = list(steps or [])
    failed_by_host = dict((item.get("node"), item) for item in failed_nodes or [])
    nodes = []
    before_nodes = dict((_lower(node.get("name")), node) for node in (before or {}).get("nodes") or [])
    after_nodes = dict((_lower(node.get("name")), node) for node in (after or {}).get("nodes") or [])
    agents_after = (after or {}).get("agents") or {}
    reboots = (after or {}).get("reboots") or {}
    for entry in plan.get("nodes") or []:
        own_steps = [dict(step) for step in steps if step.get("node") == entry["host"]]
        # a step ends where the next one of the same node begins: one clock reading for both
        for current, following in zip(own_steps, own_steps[1:]):
            current["end"] = following.get("start")
        failed = [step for step in own_steps if step.get("result") == "failed"] or entry["host"] in failed_by_host
        if failed:
            outcome = "failed"
        elif entry.get("maintain") and any(step.get("step") == "verified" for step in own_steps):
            outcome = "changed"
        elif entry.get("maintain"):
            outcome = "not started" if not own_steps else "incomplete"
        else:
            outcome = "skipped"
        nodes.append({
            "host": entry["host"], "computer": entry.get("computer"), "outcome": outcome,
            "roles_owned_before": entry.get("roles") or [], "agent_actions": entry.get("agent_actions") or [],
            "agent_before": entry.get("agent_before"),
            "agent_after": agents_after.get(entry["host"], entry.get("agent_before") if outcome == "skipped" else None),
            "state_before": (before_nodes.get(_lower(entry.get("computer"))) or {}).get("state"),
            "state_after": (after_nodes.get(_lower(entry.get("computer"))) or {}).get("state"),
            "vm": entry.get("vm"), "vsphere_cluster": entry.get("vsphere_cluster"),
            "left": (failed_by_host.get(entry["host"]) or {}).get("left"),
            # msiexec 3010/1641: the install succeeded, the node needs a reboot the window did not do
            "reboot_required": bool(reboots.get(entry["host"])),
            "steps": [dict((key, step.get(key)) for key in ("step", "start", "end", "result", "message"))
                      for step in own_steps],
        })
    if result is None:
        if plan.get("blockers"):
            result = "refused"
        elif check_mode:
            result = "planned"
        elif failure or failed_by_host or any(node["outcome"] == "failed" for node in nodes):
            result = "failed"
        elif any(node["outcome"] in ("not started", "incomplete") for node in nodes):
            # the time budget ran out, or the run stopped between nodes
            result = "incomplete"
        else:
            result = "succeeded"
    counts = {}
    for node in nodes:
        counts[node["outcome"]] = counts.get(node["outcome"], 0) + 1
    return {
        "schema": REPORT_SCHEMA, "kind": kind, "window": window, "result": result, "check_mode": bool(check_mode),
        "started": started, "ended": ended, "cluster": plan.get("cluster"), "order": plan.get("order") or [],
        "blockers": plan.get("blockers") or [], "findings": plan.get("findings") or [],
        "failure": failure, "stopped_early": stopped_early or None,
        "failed_nodes": [dict((key, item.get(key)) for key in ("node", "step", "message", "left", "put_back_error"))
                         for item in failed_nodes or []],
        "drs": list(drs or []),
        "groups_before": (before or {}).get("groups") or [], "groups_after": (after or {}).get("groups") or [],
        "nodes": nodes,
        "summary": {"result": result, "nodes": len(nodes), "changed": counts.get("changed", 0),
                    "reboot_required": len([node for node in nodes if node["reboot_required"]]),
                    "skipped": counts.get("skipped", 0), "failed": counts.get("failed", 0),
                    "not_started": counts.get("not started", 0) + counts.get("incomplete", 0),
                    "blockers": len(plan.get("blockers") or [])},
    }


def _cell(value):
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _row(*cells):
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _table(header, rows):
    return [_row(*header), "|" + "---|" * len(header)] + [_row(*row) for row in rows]


def report_markdown(report):
    """The window report as Markdown for a change ticket."""
    lines = ["# Window %s: %s" % (_cell(report.get("window")), _cell(report.get("kind"))), "",
             "- Result: **%s**%s" % (_cell(report.get("result")),
                                     " (check mode: nothing changed)" if report.get("check_mode") else ""),
             "- Started: %s, ended: %s" % (_cell(report.get("started")), _cell(report.get("ended"))),
             "- Cluster: %s" % _cell(report.get("cluster")),
             "- Node order: %s" % (", ".join(_cell(host) for host in report.get("order") or []) or "none"), ""]
    if report.get("failure"):
        failure = report["failure"]
        where = failure.get("node") or failure.get("step")
        lines += ["## Failure", "", "%s: %s" % (_cell(where), _cell(failure.get("message"))), ""]
    for item in report.get("failed_nodes") or []:
        lines.append("- Node %s failed at step %s: %s. Left: %s" % tuple(
            _cell(item.get(key)) for key in ("node", "step", "message", "left")))
    if report.get("stopped_early"):
        lines.append("- No further node was started: %s" % _cell(report["stopped_early"]))
    if report.get("failed_nodes") or report.get("stopped_early"):
        lines.append("")
    if report.get("blockers"):
        lines += ["## Blockers (nothing was changed)", ""]
        lines += _table(("Subject", "Problem", "Remedy"),
                        [(item.get("subject"), item.get("message"), item.get("remedy")) for item in report["blockers"]])
        lines.append("")
    if report.get("findings"):
        lines += ["## Findings of the preflight assessment", ""]
        lines += _table(("Rule", "Severity", "Subject", "Finding", "Remedy"),
                        [tuple(item.get(key) for key in ("id", "severity", "subject", "message", "remedy"))
                         for item in report["findings"]])
        lines.append("")
    if report.get("drs"):
        lines += ["## DRS", ""]
        lines += _table(("vSphere cluster", "Before", "During", "After", "Record left"),
                        [(item.get("cluster"), item.get("before"), item.get("during"), item.get("after"),
                          "yes" if item.get("record_left") else "no") for item in report["drs"]])
        lines.append("")
    lines += ["## Nodes", ""]
    lines += _table(("Node", "Outcome", "Agent before", "Agent after", "State before", "State after"),
                    [(node.get("host"), node.get("outcome"), node.get("agent_before") or "none",
                      node.get("agent_after") or "none", node.get("state_before"), node.get("state_after"))
                     for node in report.get("nodes") or []])
    pending = [node.get("host") for node in report.get("nodes") or [] if node.get("reboot_required")]
    if pending:
        lines += ["", "Reboot pending (msiexec 3010/1641; the window never reboots a cluster node): %s"
                  % ", ".join(_cell(host) for host in pending)]
    for node in report.get("nodes") or []:
        if node.get("steps"):
            lines += ["", "### %s" % _cell(node.get("host")), ""]
            lines += _table(("Step", "Start", "End", "Result", "Message"),
                            [tuple(step.get(key) for key in ("step", "start", "end", "result", "message"))
                             for step in node["steps"]])
    if report.get("groups_after"):
        lines += ["", "## Roles after the window", ""]
        lines += _table(("Role", "Owner", "State"), [(group.get("name"), group.get("owner_node"), group.get("state"))
                                                     for group in report["groups_after"]])
    return "\n".join(lines) + "\n"


def summary_for_stats(report):
    """What set_stats carries to AWX: small, flat, no secrets."""
    summary = dict(report.get("summary") or {})
    summary.update(window=report.get("window"), kind=report.get("kind"))
    return json.loads(json.dumps(summary))


def drs_report(clusters, window, vsphere_before=None, vsphere_after=None, restore=None):
    """Before/during/after of DRS on each cluster the window held, for the report."""
    def level(vsphere, name):
        for cluster in (vsphere or {}).get("clusters") or []:
            if cluster.get("name") == name:
                drs = cluster.get("drs") or {}
                return (drs.get("automation_level") if drs.get("enabled", True) else "disabled"), cluster.get("drs_window")
        return None, None
    errors = {}
    restored = {}
    for item in (restore or {}).get("results") or []:
        name = item.get("__wsfc_agent_rollout_drs_cluster") or item.get("item")
        if item.get("failed"):
            errors[name] = item.get("msg")
        elif item.get("automation_level"):
            # vsphere_drs_window returns the level and the record it leaves
            restored[name] = (item["automation_level"], item.get("record"))
    entries = []
    for name in clusters or []:
        before, _record = level(vsphere_before, name)
        after, record = level(vsphere_after, name)
        if after is None and name in restored:
            after, record = restored[name]
        entries.append({"cluster": name, "before": before, "during": "manual", "after": after,
                        "record_left": bool(record and record.get("window") == window),
                        "restore_error": errors.get(name)})
    return entries


def plan_line(entry):
    """One line of the printed plan for a node."""
    if not entry.get("maintain"):
        return "%s: nothing to do (agent already as asked)" % entry.get("host")
    where = " (VM %s in %s)" % (entry.get("vm"), entry.get("vsphere_cluster")) if entry.get("vsphere_cluster") else ""
    roles = ", ".join(entry.get("roles") or []) or "no role"
    return "%s%s: %s; owns %s; agent %s -> %s" % (
        entry.get("host"), where, "/".join(entry.get("agent_actions") or ["maintain"]), roles,
        entry.get("agent_before") or "none", entry.get("agent_target") or "none")


def blocker_line(blocker):
    return "BLOCKER %s: %s (remedy: %s)" % (blocker.get("subject"), blocker.get("message"), blocker.get("remedy"))


def finding_line(finding):
    return "%s %s %s: %s (remedy: %s)" % ((str(finding.get("severity") or "").upper(),)
                                          + tuple(finding.get(key) for key in ("id", "subject", "message", "remedy")))
