# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the NLB farm window decides (rules NLB-01 ... NLB-03), as pure functions over module results.

The role ``nlb_agent_rollout`` only sequences modules: which hosts go and in which order, what blocks the
window before its first change, when the farm may leave Tap mode for Inline, and the NLB part of the
window report are decided here and unit-tested without any server.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import datetime

from ansible_collections.clustersafe.deep_security.plugins.module_utils import _agent_version as versions
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError

IN_SERVICE = ("Converged",)
TAP_RECORD = "network_engine_mode"


class NlbWindowError(CollectionError):
    """The NLB window's inputs cannot make a plan (bad variable)."""


def _lower(value):
    return str(value or "").lower()


def _base_state(state):
    return str(state or "Unknown").split("(", 1)[0].strip() or "Unknown"


def older_than_nlb_minimum(version):
    """An installed or planned agent that is not known to be 10.0 Update 5 or later (NLB-01), as the rule
    catalogue judges it: the one version module decides both."""
    return not versions.is_no_agent(version) and versions.nlb01_supported(version) is not True


def _blocker(subject, message, remedy):
    return {"subject": subject, "message": message, "remedy": remedy}


def _ips_on(state):
    return _lower(state) not in ("", "off", "inherited", "none")


def default_min_converged(farm_size):
    """All but one: the farm carries its load with one host out at a time."""
    return max(int(farm_size) - 1, 1)


def plan_nlb_rollout(hosts, node_facts, window, dsm_computers=None, version="", min_converged=None,
                     turn_off_intrusion_prevention=False, policy_intrusion_prevention=None, order=None):
    """The ordered plan of an NLB farm agent window and what blocks it before any change.

    node_facts: inventory host -> ``{"nlb": <nlb_cluster_info>, "plan": <ds_agent in check mode>,
        "records": [this node's window records of other windows]}``.
    dsm_computers: ``dsm_computer_info`` computers (all of them; hosts without an agent are not there yet).
    policy_intrusion_prevention: the Intrusion Prevention state in effect in the activation policy
        (None when no policy is given).
    min_converged: converged hosts the farm needs at every moment (None: all but one).
    """
    if not hosts:
        raise NlbWindowError("the rollout has no hosts: set nlb_agent_rollout_nodes to the inventory hosts of one NLB farm")
    blockers = []
    by_name = dict((_lower(item.get("host_name")), item) for item in dsm_computers or [])
    farm_names = set()
    farm_nodes = {}
    farm_display = {}
    entries = []
    for index, host in enumerate(hosts):
        facts = node_facts.get(host) or {}
        nlb = facts.get("nlb") or {}
        computer = nlb.get("computer") or host
        cluster = nlb.get("cluster") or {}
        if nlb.get("failed") or not cluster.get("name"):
            blockers.append(_blocker(host, "the NLB configuration of %s could not be read: %s"
                                     % (host, nlb.get("msg") or "no NLB cluster"),
                                     "list only hosts of one NLB farm in nlb_agent_rollout_nodes, reachable over WinRM"))
        else:
            farm_names.add(cluster["name"])
            for node in nlb.get("nodes") or []:
                farm_nodes[_lower(node.get("name"))] = _base_state(node.get("state"))
                farm_display[_lower(node.get("name"))] = node.get("name")
        for record in facts.get("records") or []:
            if _lower(record.get("window")) != _lower(window):
                blockers.append(_blocker(host, "window %s left a record on %s (%s since %s, from %s)"
                                         % (record.get("window"), host, record.get("change"), record.get("since"),
                                            record.get("controller")),
                                         "run clustersafe.deep_security.recover (or that window again) first"))
        plan = facts.get("plan") or {}
        if plan.get("failed"):
            blockers.append(_blocker(host, "the agent plan for %s failed: %s" % (host, plan.get("msg")),
                                     "fix the agent parameters or the host, then run the window again"))
        needed = bool(plan.get("actions")) or bool(plan.get("changed"))
        dsm = by_name.get(_lower(computer)) or by_name.get(_lower(computer).split(".", 1)[0])
        installed = plan.get("previous_version")
        if older_than_nlb_minimum(installed):
            message = ("NLB-01: %s has agent %s installed, older than %s, which NLB needs; an upgrade from it "
                       "loads an interrupting network driver" % (host, installed, versions.NLB_MINIMUM_TEXT))
            blockers.append(_blocker(host, message,
                                     "upgrade it outside the farm's service hours with the host drain-stopped by hand, "
                                     "then run the window"))
        ips = ((dsm or {}).get("modules") or {}).get("intrusion_prevention") or {}
        if dsm and dsm.get("has_agent") and _ips_on(ips.get("state")) and not turn_off_intrusion_prevention:
            blockers.append(_blocker(host, "NLB-01: Intrusion Prevention is %s on %s; it is not supported on NLB hosts"
                                     % (ips.get("state"), computer),
                                     "turn it off in the DSM, or set nlb_agent_rollout_turn_off_intrusion_prevention=true "
                                     "so the window turns it off before any other change"))
        entries.append({"host": host, "computer": computer, "maintain": needed, "roles": [], "core_groups": [],
                        "agent_actions": plan.get("actions") or [], "agent_before": installed,
                        "agent_target": plan.get("version") if needed else installed,
                        "nlb_state": farm_nodes.get(_lower(computer)),
                        "dsm_known": bool(dsm and dsm.get("has_agent")),
                        "intrusion_prevention": ips.get("state") if dsm else None,
                        "network_engine_mode": (dsm or {}).get("network_engine_mode"), "_index": index})
    if len(farm_names) > 1:
        blockers.append(_blocker(", ".join(hosts), "the hosts belong to more than one NLB cluster (%s)"
                                 % ", ".join(sorted(farm_names)), "run one window per NLB farm"))
    if version and older_than_nlb_minimum(version):
        blockers.append(_blocker("nlb_agent_rollout_version", "NLB-01: the target agent %s is older than %s"
                                 % (version, versions.NLB_MINIMUM_TEXT), "roll out 10.0 Update 5 or later"))
    if _ips_on(policy_intrusion_prevention) and not turn_off_intrusion_prevention:
        blockers.append(_blocker("nlb_agent_rollout_policy_id", "NLB-01: the activation policy has Intrusion "
                                 "Prevention %s; it is not supported on NLB hosts" % policy_intrusion_prevention,
                                 "turn it off in that policy, or set nlb_agent_rollout_turn_off_intrusion_prevention=true"))
    size = len(farm_nodes) or len(hosts)
    try:
        minimum = default_min_converged(size) if min_converged in (None, "", 0, "0") else int(min_converged)
    except (TypeError, ValueError):
        raise NlbWindowError("nlb_agent_rollout_min_converged must be a whole number (got %r)" % (min_converged,))
    if minimum < 1 or minimum > size:
        raise NlbWindowError("nlb_agent_rollout_min_converged must be between 1 and the farm's %d hosts (got %d)"
                             % (size, minimum))
    converged = sorted(farm_display[name] for name, state in farm_nodes.items() if state in IN_SERVICE)
    if order:
        unknown = [host for host in order if host not in hosts]
        if unknown:
            raise NlbWindowError("nlb_agent_rollout_order names %s, not among the rollout's hosts (%s)"
                                 % (", ".join(unknown), ", ".join(hosts)))
        rank = dict((host, position) for position, host in enumerate(order))
        entries.sort(key=lambda item: (rank.get(item["host"], len(order)), item["_index"]))
    for entry in entries:
        del entry["_index"]
    maintained = [entry for entry in entries if entry["maintain"]]
    out_at_once = 1 if any(entry["nlb_state"] in IN_SERVICE for entry in maintained) else 0
    if maintained and len(converged) - out_at_once < minimum:
        blockers.append(_blocker(", ".join(sorted(farm_names)) or hosts[0],
                                 "%d of %d hosts are Converged (%s); taking one out leaves %d, fewer than the %d the "
                                 "farm needs (nlb_agent_rollout_min_converged)"
                                 % (len(converged), size, ", ".join(converged) or "none",
                                    len(converged) - out_at_once, minimum),
                                 "bring the stopped hosts back (clustersafe.deep_security.recover starts what a window "
                                 "stopped), or lower nlb_agent_rollout_min_converged if the farm carries its load"))
    return {"window": window, "cluster": ", ".join(sorted(farm_names)) or None, "order": [e["host"] for e in maintained],
            "nodes": entries, "blockers": blockers, "findings": [], "min_converged": minimum, "farm_size": size,
            "converged": converged,
            "computers_known": [e["computer"] for e in entries if e["dsm_known"]],
            "intrusion_prevention_on": [e["computer"] for e in entries
                                        if e["dsm_known"] and _ips_on(e["intrusion_prevention"])]}


def converged_others(nlb, computer):
    """Hosts of the farm other than ``computer`` that are Converged, from ``nlb_cluster_info``."""
    return sorted(node.get("name") for node in (nlb or {}).get("nodes") or []
                  if _lower(node.get("name")) != _lower(computer) and _base_state(node.get("state")) in IN_SERVICE)


# --- Tap -> Inline (NLB-03) ---------------------------------------------------------------------------

def _epoch(text):
    """ISO 8601 UTC (``2026-11-26T10:00:00Z``, with or without fractions) -> seconds since the epoch."""
    value = str(text or "").strip().rstrip("Z")
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S"):
        try:
            moment = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return (moment - datetime(1970, 1, 1)).total_seconds()
    return None


def tap_records(records_by_host, window):
    """host -> this window's ``network_engine_mode`` record, for the hosts that carry one."""
    found = {}
    for host, records in (records_by_host or {}).items():
        for record in records or []:
            if record.get("change") == TAP_RECORD and _lower(record.get("window")) == _lower(window):
                found[host] = record
    return found


def lab_invalid_flags(lab_dsm_status, records_by_host, window):
    """Invalid Flags (event 101) per computer the window put in Tap, logged at or after its first Tap switch,
    from the lab DSM model's status (``nlb.<host>.invalid_flags_log``: ``[milliseconds, events]`` per tick
    that logged any). A real DSM has no REST call for firewall events (docs/dsm.md)."""
    records = tap_records(records_by_host, window)
    moments = [_epoch(record.get("since")) for record in records.values()]
    since_ms = min(moment for moment in moments if moment is not None) * 1000.0 if any(
        moment is not None for moment in moments) else 0.0
    nlb = dict((_lower(key), value) for key, value in ((lab_dsm_status or {}).get("nlb") or {}).items())
    counts = {}
    for host, record in records.items():
        computer = (record.get("data") or {}).get("computer") or host
        entry = nlb.get(_lower(computer)) or {}
        counts[computer] = sum(int(events) for stamp, events in entry.get("invalid_flags_log") or []
                               if float(stamp) >= since_ms)
    return counts


def inline_check(records_by_host, window, now_epoch, observation_seconds, invalid_flags=None, reviewed=False,
                 event_source="operator"):
    """Whether the farm may go from Tap to Inline (NLB-03), and why not.

    records_by_host: host -> its window records; the ``network_engine_mode`` records of ``window`` name the
    computers the window put in Tap and when (their ``since``, written by the node before the switch).
    invalid_flags: computer -> Invalid Flags events since the switch (``event_source: lab``), else None.
    reviewed: someone checked the farm's firewall events since the switch (``event_source: operator``).
    """
    records = tap_records(records_by_host, window)
    computers = dict((host, (record.get("data") or {}).get("computer") or host) for host, record in records.items())
    result = {"ready": False, "reasons": [], "tap_since": None, "ready_at": None, "observed_seconds": None,
              "observation_seconds": int(observation_seconds), "event_source": event_source,
              "invalid_flags": invalid_flags, "hosts": sorted(records), "computers": [computers[h] for h in sorted(records)],
              "previous_modes": dict((computers[h], (records[h].get("data") or {}).get("previous_mode")) for h in records)}
    if not records:
        result["reasons"].append("no host carries a Tap record of window %s: nothing to switch" % window)
        result["nothing_to_do"] = True
        return result
    moments = [_epoch(record.get("since")) for record in records.values()]
    if None in moments:
        result["reasons"].append("a Tap record of window %s has no readable time; the observation cannot be "
                                 "counted: check the records with node_window_record_info" % window)
        return result
    since = max(moments)
    observed = float(now_epoch) - since
    result.update(tap_since=max(record.get("since") for record in records.values()),
                  observed_seconds=int(observed), ready_at=since + int(observation_seconds))
    if observed < int(observation_seconds):
        result["reasons"].append(
            "the farm has been in Tap for %d s of the %d s observation (since %s); run again after %s UTC"
            % (observed, int(observation_seconds), result["tap_since"],
               datetime.utcfromtimestamp(since + int(observation_seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")))
    if event_source == "lab":
        flagged = dict((computer, count) for computer, count in sorted((invalid_flags or {}).items()) if count)
        missing = [c for c in result["computers"] if c not in (invalid_flags or {})]
        if missing:
            result["reasons"].append("the Invalid Flags count could not be read for %s" % ", ".join(missing))
        if flagged:
            result["reasons"].append(
                "Invalid Flags (firewall event 101) since the Tap switch: %s; traffic the firewall would judge "
                "is not excluded: add bypass rules (nlb_agent_rollout_virtual_ip=true, nlb_agent_rollout_protocols) "
                "and observe again" % ", ".join("%s %d" % item for item in flagged.items()))
    elif not reviewed:
        result["reasons"].append(
            "the DSM's REST API cannot read firewall events: check Invalid Flags (event 101) and unexpected denies "
            "for %s since %s in the DSM console or your SIEM, then run with nlb_agent_rollout_events_reviewed=true "
            "(in AWX: the approval node before this job)" % (", ".join(result["computers"]), result["tap_since"]))
    result["ready"] = not result["reasons"]
    return result


# --- the NLB part of the window report ------------------------------------------------------------------

def nlb_report(report, plan=None, modes_before=None, modes_after=None, exclusions=None, inline=None,
               converged_seen=None, phase="rollout"):
    """The window report (plugin_utils.window.window_report) with its ``nlb`` section."""
    plan = plan or {}
    report = dict(report or {})
    report["nlb"] = {
        "phase": phase, "farm": plan.get("cluster"), "min_converged": plan.get("min_converged"),
        "converged_before": plan.get("converged"), "fewest_converged_seen": converged_seen,
        "exclusion_rules": list(exclusions or []),
        "network_engine_mode_before": dict(modes_before or {}),
        "network_engine_mode_after": dict(modes_after or {}),
        "intrusion_prevention_turned_off": plan.get("intrusion_prevention_on") or [],
        "inline": inline,
    }
    if report.get("failure") and report.get("result") == "planned":
        report["result"] = "failed"
    if inline is not None and report.get("result") in ("succeeded",) and not inline.get("ready") \
            and not inline.get("nothing_to_do"):
        report["result"] = "refused"
    report.setdefault("summary", {})
    report["summary"] = dict(report["summary"], result=report.get("result"), phase=phase)
    return report


def nlb_report_markdown(report, base_markdown):
    """The window report's Markdown with the NLB section appended."""
    nlb = report.get("nlb") or {}
    lines = [base_markdown.rstrip("\n"), "", "## NLB farm", "",
             "- Phase: %s; farm: %s" % (nlb.get("phase"), nlb.get("farm")),
             "- Converged hosts needed at every moment: %s; Converged before: %s; fewest seen: %s"
             % (nlb.get("min_converged"), ", ".join(nlb.get("converged_before") or []) or "none",
                nlb.get("fewest_converged_seen") if nlb.get("fewest_converged_seen") is not None else "not measured"),
             "- Exclusion rules assigned: %s" % (", ".join(nlb.get("exclusion_rules") or []) or "none")]
    if nlb.get("intrusion_prevention_turned_off"):
        lines.append("- Intrusion Prevention turned off (NLB-01): %s" % ", ".join(nlb["intrusion_prevention_turned_off"]))
    before, after = nlb.get("network_engine_mode_before") or {}, nlb.get("network_engine_mode_after") or {}
    if before or after:
        lines += ["", "| Computer | Network engine mode before | After |", "|---|---|---|"]
        lines += ["| %s | %s | %s |" % (name, before.get(name) or "-", after.get(name) or "-")
                  for name in sorted(set(before) | set(after))]
    inline = nlb.get("inline")
    if inline is not None:
        lines += ["", "### Tap -> Inline (NLB-03)", "",
                  "- Tap since: %s; observed %s s of %s s; events read from: %s"
                  % (inline.get("tap_since"), inline.get("observed_seconds"), inline.get("observation_seconds"),
                     inline.get("event_source")),
                  "- Switched to Inline: %s" % ("yes" if inline.get("ready") else "no")]
        lines += ["- Stays in Tap: %s" % reason for reason in inline.get("reasons") or []
                  if not inline.get("ready") and not inline.get("nothing_to_do")]
        if inline.get("nothing_to_do"):
            lines.append("- %s" % (inline.get("reasons") or [""])[0])
    return "\n".join(lines) + "\n"
