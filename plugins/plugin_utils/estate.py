# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One window across many failover clusters (or NLB farms): which clusters there are, which node of which
cluster goes in which round, who holds and who releases DRS on a vSphere cluster several of them share,
and the estate's report.

The role ``nlb_agent_rollout`` uses the grouping and the report with ``kind="nlb"``: one play host per
NLB farm, and the same rounds through ``farm_schedule`` (it holds no DRS).

The role ``wsfc_agent_rollout`` runs once per failover cluster, each on a play host of its own, so
Ansible runs the clusters side by side. Every play host computes the same schedule from the plans of
all of them (pure functions over the same facts), so no host needs another host's decisions:

- a round gives each scheduled cluster one node, so a cluster never has more than one node out
  (invariant 1, rule MS-03) and the estate never more than ``max_nodes_out``;
- DRS on a vSphere cluster is held once, by its *owner* (the first of the failover clusters using it),
  and released by the owner once every failover cluster using it is done (or, at the end of a window
  that stopped early, by whichever of them gets there last).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.window import _table

ESTATE_REPORT_SCHEMA = "clustersafe.deep_security/window-estate-report/v1"
# an inventory host name of ours per failover cluster: letters, digits, dot, dash, underscore
_CLUSTER_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}\Z")
DEFAULT_CLUSTER_KEY = "cluster"
# The words of each kind of estate: the host variable naming a node's cluster, the variables listing the
# window's hosts, what a cluster is called, the key of a window with one cluster, the set_stats key, the
# variable of the estate-wide cap and what it counts.
KINDS = {
    "wsfc": {"variable": "wsfc_agent_rollout_cluster", "hosts": "wsfc_rollout_hosts (or wsfc_agent_rollout_nodes)",
             "unit": "failover cluster", "units": "failover clusters", "column": "Failover cluster",
             "default_key": DEFAULT_CLUSTER_KEY, "stats": "wsfc_estate",
             "cap_variable": "wsfc_agent_rollout_max_nodes_out", "member": "node"},
    "nlb": {"variable": "nlb_agent_rollout_farm", "hosts": "nlb_rollout_hosts (or nlb_agent_rollout_nodes)",
            "unit": "NLB farm", "units": "NLB farms", "column": "NLB cluster",
            "default_key": "farm", "stats": "nlb_estate",
            "cap_variable": "nlb_agent_rollout_max_nodes_out", "member": "host"},
}


class EstatePlanError(CollectionError):
    """The estate's inputs cannot make a plan (a node without its cluster, a bad cap)."""


def _words(kind):
    if kind not in KINDS:
        raise EstatePlanError("the estate kind must be one of %s, not %r" % (", ".join(sorted(KINDS)), kind))
    return KINDS[kind]


def cluster_groups(nodes, cluster_of, kind="wsfc"):
    """The failover clusters (``kind="nlb"``: NLB farms) of a window: ``[{"key": ..., "nodes": [...]}]`` in
    order of first appearance.

    nodes: the inventory hosts of the window, in inventory order.
    cluster_of: inventory host -> the value of its ``wsfc_agent_rollout_cluster`` (``nlb_agent_rollout_farm``)
        variable ('' or None when unset). When no node sets it, all nodes are one cluster (key ``cluster``,
        for NLB ``farm``); when some do, all must.
    """
    words = _words(kind)
    nodes = list(nodes or [])
    if not nodes:
        raise EstatePlanError("the rollout has no nodes: set %s to the inventory hosts or groups of the %s"
                              % (words["hosts"], words["units"]))
    keys = dict((node, str((cluster_of or {}).get(node) or "").strip()) for node in nodes)
    if not any(keys.values()):
        return [{"key": words["default_key"], "nodes": nodes}]
    missing = [node for node in nodes if not keys[node]]
    if missing:
        raise EstatePlanError(
            "%s is not set for %s while other nodes of the rollout set it: set it on every node (for example as a "
            "group variable of each %s's inventory group)" % (words["variable"], ", ".join(missing), words["unit"]))
    bad = sorted(set(key for key in keys.values() if not _CLUSTER_KEY.match(key)))
    if bad:
        raise EstatePlanError("%s must be a short name (letters, digits, '.', '_', '-'), not %s"
                              % (words["variable"], ", ".join(repr(key) for key in bad)))
    groups = []
    by_key = {}
    for node in nodes:
        key = keys[node]
        if key.lower() not in by_key:
            by_key[key.lower()] = {"key": key, "nodes": []}
            groups.append(by_key[key.lower()])
        by_key[key.lower()]["nodes"].append(node)
    return groups


def shared_clusters(plans):
    """The clusters (``plan["cluster"]``: the failover cluster or NLB cluster a plan read from its nodes)
    that the plans of several play hosts name, as ``{cluster: [hosts]}``.

    Two play hosts on one cluster would each take a node of it out at the same time (invariant 1): an
    inventory that gives one cluster's nodes two keys must stop the window before any change.
    """
    hosts_of = {}
    names = {}
    for host in sorted(plans or {}):
        name = str((plans[host] or {}).get("cluster") or "").strip()
        if name:
            names.setdefault(name.lower(), name)
            hosts_of.setdefault(name.lower(), []).append(host)
    return dict((names[key], hosts) for key, hosts in hosts_of.items() if len(hosts) > 1)


def _usable(plan):
    return bool(plan) and not plan.get("blockers")


def _cap(max_nodes_out, kind):
    """The estate-wide cap as a number (0: none beyond one per cluster); a bad one names the kind's variable."""
    words = _words(kind)
    try:
        cap = int(max_nodes_out or 0)
    except (TypeError, ValueError):
        cap = -1
    if cap < 0:
        raise EstatePlanError("%s must be 0 (one %s per %s, no other cap) or a positive number of %ss, not %r"
                              % (words["cap_variable"], words["member"], words["unit"], words["member"], max_nodes_out))
    return cap


def schedule(plans, max_nodes_out=0, kind="wsfc"):
    """The rounds of the estate and the DRS holds, from every failover cluster's plan.

    plans: play host (one per failover cluster) -> its plan (``wsfc_rollout_plan``), or None when that
        cluster has no plan (it failed before planning). A plan with blockers takes no round.
    max_nodes_out: most nodes out of service across the estate at once (0: one per cluster, no other cap).
    kind: ``wsfc`` or ``nlb`` (``farm_schedule``): the words of a bad cap's message.

    Returns ``{"rounds": [{host: node}], "last_round": {host: index or -1}, "drs": {vsphere cluster:
    {"owner": host, "users": [hosts]}}, "hosts": [hosts in order]}``. The clusters with the most nodes
    left go first in a round, so a cap costs as few rounds as it can.
    """
    cap = _cap(max_nodes_out, kind)
    hosts = sorted(plans or {})
    remaining = dict((host, list((plans[host] or {}).get("order") or []) if _usable(plans[host]) else [])
                     for host in hosts)
    rounds = []
    while any(remaining.values()):
        waiting = sorted((host for host in hosts if remaining[host]), key=lambda host: (-len(remaining[host]), host))
        chosen = waiting[:cap] if cap else waiting
        rounds.append(dict((host, remaining[host].pop(0)) for host in chosen))
    last_round = dict((host, max([index for index, entry in enumerate(rounds) if host in entry] or [-1])) for host in hosts)
    drs = {}
    for host in hosts:
        plan = plans[host]
        if not _usable(plan) or not plan.get("order"):
            continue
        for name in plan.get("drs_clusters") or []:
            drs.setdefault(name, {"owner": None, "users": []})["users"].append(host)
    for entry in drs.values():
        entry["owner"] = entry["users"][0]
    return {"rounds": rounds, "last_round": last_round, "drs": drs, "hosts": hosts}


def schedule_lines(estate, window, max_nodes_out=0):
    """The schedule as the printed plan shows it: one line per round, one per held vSphere cluster."""
    estate = estate or {}
    lines = ["window %s across %d failover cluster(s), %s" % (
        window, len(estate.get("hosts") or []),
        ("at most %d node(s) out at once" % int(max_nodes_out)) if int(max_nodes_out or 0) else "one node per cluster at a time")]
    for index, entry in enumerate(estate.get("rounds") or []):
        lines.append("round %d: %s" % (index + 1, ", ".join("%s %s" % (host, entry[host]) for host in sorted(entry))))
    for name, entry in sorted((estate.get("drs") or {}).items()):
        lines.append("DRS of %s held once, by %s, for %s" % (name, entry["owner"], ", ".join(entry["users"])))
    return lines


def drs_to_hold(estate, host):
    """The vSphere clusters this play host holds DRS on: those it owns."""
    return sorted(name for name, entry in (estate or {}).get("drs", {}).items() if entry["owner"] == host)


def drs_to_release(estate, host, done_hosts, released, at_finish=False):
    """The vSphere clusters this play host releases now.

    A cluster is released once every failover cluster using it is done, by its owner; at the end of the
    window (``at_finish``) by any user that finds it still held, because its owner may have ended first.
    done_hosts: play hosts done with their last node (or stopped); released: clusters already released.
    """
    done = set(done_hosts or [])
    chosen = []
    for name, entry in sorted(((estate or {}).get("drs") or {}).items()):
        if name in (released or []) or host not in entry["users"]:
            continue
        if not set(entry["users"]) <= done:
            continue
        if entry["owner"] == host or at_finish:
            chosen.append(name)
    return chosen


def _intervals(report):
    spans = []
    for node in report.get("nodes") or []:
        steps = [step for step in node.get("steps") or [] if step.get("start")]
        if steps:
            spans.append((min(step["start"] for step in steps), max(step.get("end") or step["start"] for step in steps),
                          node.get("host")))
    return spans


def _most_at_once(spans):
    """Most intervals open at one instant (ISO timestamps compare as text; an end meets the next start)."""
    events = sorted([(start, 1) for start, _end, _host in spans] + [(end, 0) for _start, end, _host in spans])
    most = current = 0
    for _stamp, opening in events:
        current += 1 if opening else -1
        most = max(most, current)
    return most


def _why(report):
    """One line on why a failover cluster's window did not succeed ('' when it did)."""
    if report.get("result") in ("succeeded", "planned"):
        return ""
    parts = [("%s: %s" % (item.get("subject"), item.get("message"))) for item in report.get("blockers") or []]
    parts += [("%s failed at %s: %s" % (item.get("node"), item.get("step"), item.get("message")))
              for item in report.get("failed_nodes") or []]
    if report.get("failure") and not report.get("failed_nodes") and not report.get("blockers"):
        parts.append(str((report["failure"] or {}).get("message") or ""))
    if report.get("stopped_early"):
        parts.append("stopped early: %s" % report["stopped_early"])
    inline = (report.get("nlb") or {}).get("inline") or {}
    if inline and not inline.get("ready") and not inline.get("nothing_to_do"):
        parts.append("the farm stays in Tap: %s" % "; ".join(inline.get("reasons") or []))
    return "; ".join(part for part in parts if part) or str(report.get("result"))


def _nlb_summary(report):
    """What the estate report keeps of a farm's ``nlb`` section (plugin_utils.nlb_window.nlb_report)."""
    nlb = report.get("nlb") or {}
    seen, needed = nlb.get("fewest_converged_seen"), nlb.get("min_converged")
    return {"farm": nlb.get("farm"), "min_converged": needed, "fewest_converged_seen": seen,
            "min_converged_kept": seen is None or needed is None or int(seen) >= int(needed),
            "exclusion_rules": list(nlb.get("exclusion_rules") or []),
            "network_engine_mode_after": dict(nlb.get("network_engine_mode_after") or {})}


def estate_report(window, reports, max_nodes_out=0, check_mode=False, files=None, keys=None, kind="wsfc"):
    """The window's report across failover clusters or, ``kind="nlb"``, NLB farms (``ESTATE_REPORT_SCHEMA``,
    docs/window-report.md).

    reports: play host -> that cluster's window report (``window_report``); files: play host -> the
    file name of that report; keys: play host -> the cluster's key (wsfc_agent_rollout_cluster,
    nlb_agent_rollout_farm). The node intervals of the timelines prove the limits: at most one node out
    per cluster, at most ``max_nodes_out`` (when set) across the estate; for NLB farms also never fewer
    Converged hosts than each farm needed (its ``nlb.fewest_converged_seen``).
    """
    words = _words(kind)
    clusters = []
    all_spans = []
    for host in sorted(reports or {}):
        report = reports[host] or {"result": "failed", "failure": {
            "step": "", "message": "no report: the window stopped on this %s before its plan (see the play output)"
            % words["unit"]}}
        spans = _intervals(report)
        all_spans.extend(spans)
        nodes = report.get("nodes") or []
        entry = {
            "key": (keys or {}).get(host) or host, "host": host, "cluster": report.get("cluster"), "result": report.get("result"),
            "started": report.get("started"), "ended": report.get("ended"),
            "report": (files or {}).get(host), "most_nodes_out": _most_at_once(spans),
            "changed": len([node for node in nodes if node.get("outcome") == "changed"]),
            "failed": len([node for node in nodes if node.get("outcome") == "failed"]),
            "nodes": [dict((key, node.get(key)) for key in ("host", "computer", "outcome", "agent_before", "agent_after", "steps"))
                      for node in nodes],
            "drs": report.get("drs") or [],
            "failure": report.get("failure"), "blockers": report.get("blockers") or [],
            "message": _why(report),
        }
        if kind == "nlb":
            entry["nlb"] = _nlb_summary(report)
        clusters.append(entry)
    results = [cluster["result"] for cluster in clusters]
    if not clusters:
        result = "refused"
    elif check_mode:
        result = "planned"
    elif all(item == "succeeded" for item in results):
        result = "succeeded"
    elif "failed" in results:
        result = "failed"
    elif "refused" in results:
        result = "refused"
    else:
        result = "incomplete"
    started = [cluster["started"] for cluster in clusters if cluster["started"]]
    ended = [cluster["ended"] for cluster in clusters if cluster["ended"]]
    most_out = _most_at_once(all_spans)
    drs = {}
    for cluster in clusters:
        for entry in cluster["drs"]:
            merged = drs.setdefault(entry.get("cluster"), dict(entry, failover_clusters=[]))
            merged["failover_clusters"].append(cluster["key"])
            if entry.get("record_left"):
                merged["record_left"] = True
            if entry.get("restore_error"):
                merged["restore_error"] = entry["restore_error"]
    cap = int(max_nodes_out or 0)
    limits = {"most_nodes_out": most_out,
              "most_nodes_out_in_one_cluster": max([cluster["most_nodes_out"] for cluster in clusters] or [0]),
              "kept": most_out <= (cap or len(clusters) or 1)
              and all(cluster["most_nodes_out"] <= 1 for cluster in clusters)}
    if kind == "nlb":
        limits["min_converged_kept"] = all(cluster["nlb"]["min_converged_kept"] for cluster in clusters)
        limits["kept"] = limits["kept"] and limits["min_converged_kept"]
    return {
        "schema": ESTATE_REPORT_SCHEMA, "kind": words["stats"], "window": window, "result": result,
        "check_mode": bool(check_mode),
        "started": min(started) if started else None, "ended": max(ended) if ended else None,
        "max_nodes_out": cap or None,
        "limits": limits,
        "drs": [drs[name] for name in sorted(drs)],
        "clusters": clusters,
        "summary": {"result": result, "clusters": len(clusters),
                    "clusters_succeeded": results.count("succeeded"),
                    "nodes": sum(len(cluster["nodes"]) for cluster in clusters),
                    "changed": sum(cluster["changed"] for cluster in clusters),
                    "failed": sum(cluster["failed"] for cluster in clusters),
                    "most_nodes_out": most_out},
    }


def _report_words(report):
    """The words of a report's kind (reports written before ``kind`` existed are failover clusters')."""
    for words in KINDS.values():
        if words["stats"] == (report or {}).get("kind"):
            return words
    return KINDS["wsfc"]


def estate_markdown(report, cluster_markdowns=None):
    """The estate report for the change ticket: the clusters, the limits kept, then each cluster's own report."""
    words = _report_words(report)
    nlb = words is KINDS["nlb"]
    lines = ["# Window %s across %d %s(s): %s" % (report.get("window"), len(report.get("clusters") or []), words["unit"],
                                                  report.get("result")), ""]
    limits = report.get("limits") or {}
    lines.append("- Started %s, ended %s" % (report.get("started") or "-", report.get("ended") or "-"))
    lines.append("- Most nodes out at once: %s across the estate%s; %s in one %s"
                 % (limits.get("most_nodes_out"), (" (cap %s)" % report["max_nodes_out"]) if report.get("max_nodes_out") else "",
                    limits.get("most_nodes_out_in_one_cluster"), "farm" if nlb else "cluster"))
    if nlb:
        lines.append("- Every farm kept its Converged hosts needed: %s" % ("yes" if limits.get("min_converged_kept") else "no"))
        header = ("Farm", "NLB cluster", "Result", "Changed", "Failed", "Fewest Converged (needed)", "Started", "Ended", "Report")
    else:
        header = ("Cluster", "Failover cluster", "Result", "Changed", "Failed", "Started", "Ended", "Report")
    rows = []
    for cluster in report.get("clusters") or []:
        cells = [cluster["key"], cluster.get("cluster"), cluster.get("result"), cluster.get("changed"), cluster.get("failed")]
        if nlb:
            farm = cluster.get("nlb") or {}
            seen = farm.get("fewest_converged_seen")
            cells.append("%s (%s)" % ("-" if seen is None else seen, farm.get("min_converged")))
        rows.append(cells + [cluster.get("started"), cluster.get("ended"), cluster.get("report")])
    lines += [""] + _table(header, rows)
    if report.get("drs"):
        lines += ["", "## DRS", ""] + _table(
            ("vSphere cluster", "Before", "After", "Held for", "Record left"),
            [(entry.get("cluster"), entry.get("before"), entry.get("after"), ", ".join(entry.get("failover_clusters") or []),
              "yes" if entry.get("record_left") else "no") for entry in report["drs"]])
    for key in sorted(cluster_markdowns or {}):
        lines += ["", "---", ""]
        lines += ["#" + line if line.startswith("#") else line for line in cluster_markdowns[key].rstrip("\n").splitlines()]
    return "\n".join(lines) + "\n"


def estate_stats(report):
    """What set_stats carries to AWX for the estate: small and flat."""
    summary = dict(report.get("summary") or {})
    summary.update(window=report.get("window"), kind=_report_words(report)["stats"])
    return summary


# --- NLB farms: the same rounds, in the words of farms and hosts ------------------------------------------

def farm_schedule(plans, max_nodes_out=0):
    """The rounds of a window across NLB farms: ``schedule`` over the farms' plans (``nlb_rollout_plan``), one
    host per farm per round and at most ``max_nodes_out`` hosts per round (0: no cap beyond one per farm).

    The plans name no vSphere cluster, so ``drs`` is empty. A bad cap names ``nlb_agent_rollout_max_nodes_out``.
    """
    return schedule(plans, max_nodes_out, kind="nlb")


def farm_schedule_lines(estate, window, max_nodes_out=0):
    """The rounds across NLB farms as the printed plan shows them: the first line in the words of farms."""
    cap = int(max_nodes_out or 0)
    lines = schedule_lines(estate, window, cap)
    lines[0] = "window %s across %d NLB farm(s), %s" % (
        window, len((estate or {}).get("hosts") or []),
        ("at most %d host(s) out at once" % cap) if cap else "one host per farm at a time")
    return lines
