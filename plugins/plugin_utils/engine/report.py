# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The window report (``REPORT_SCHEMA``, docs/window-report.md) and the report across a window's units
(``ESTATE_SCHEMA``), as JSON, Markdown for a change ticket and a self-contained HTML page.

Every value that comes from a record or a remote system (names, messages, times) goes through one escaping
rule per format (``md`` and ``html``), so nothing in it can add a table row, a link, an image or live HTML
to a report. Pure: no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from datetime import datetime

from ansible_collections.clustersafe.deep_security.plugins.module_utils.escape import html, md, md_line

REPORT_SCHEMA = "clustersafe.deep_security/window-report/v1"
ESTATE_SCHEMA = "clustersafe.deep_security/window-estate-report/v1"


def md_row(*cells):
    return "| " + " | ".join(md(cell) for cell in cells) + " |"


def md_table(header, rows):
    return [md_row(*header), "|" + "---|" * len(header)] + [md_row(*row) for row in rows]


def now_iso():
    return datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- one unit's report -----------------------------------------------------------------------------------

def node_entries(plan, steps, failed_by_host, before=None, after=None):
    """The report's node entries: the plan's nodes with their timelines and outcomes."""
    nodes = []
    before_nodes = dict((str(node.get("name") or "").lower(), node) for node in (before or {}).get("nodes") or [])
    after_nodes = dict((str(node.get("name") or "").lower(), node) for node in (after or {}).get("nodes") or [])
    agents_after = (after or {}).get("agents") or {}
    reboots = (after or {}).get("reboots") or {}
    for entry in plan.get("nodes") or []:
        own = [dict(step) for step in steps if step.get("node") == entry["host"]]
        for current, following in zip(own, own[1:]):
            if not current.get("end"):
                current["end"] = following.get("start")
        failed = [step for step in own if step.get("result") == "failed"] or entry["host"] in failed_by_host
        if failed:
            outcome = "failed"
        elif entry.get("maintain") and own and own[-1].get("step") == "verified" and own[-1].get("result") == "ok":
            outcome = "changed"
        elif entry.get("maintain"):
            outcome = "not started" if not own else "incomplete"
        else:
            outcome = "skipped"
        computer = str(entry.get("computer") or "").lower()
        nodes.append({
            "host": entry["host"], "computer": entry.get("computer"), "outcome": outcome,
            "roles_owned_before": entry.get("roles") or [], "agent_actions": entry.get("agent_actions") or [],
            "agent_before": entry.get("agent_before"),
            "agent_after": agents_after.get(entry["host"], entry.get("agent_before") if outcome == "skipped" else None),
            "state_before": (before_nodes.get(computer) or {}).get("state") or entry.get("nlb_state"),
            "state_after": (after_nodes.get(computer) or {}).get("state"),
            "vm": entry.get("vm"), "vsphere_cluster": entry.get("vsphere_cluster"),
            "left": (failed_by_host.get(entry["host"]) or {}).get("left"),
            # msiexec 3010: the install succeeded, the node needs a reboot the window did not do
            "reboot_required": bool(reboots.get(entry["host"])),
            "steps": [dict((key, step.get(key)) for key in ("step", "start", "end", "result", "message")) for step in own],
        })
    return nodes


def result_of(plan, nodes, check_mode, failure=None, failed_nodes=None, held=None):
    if plan.get("blockers"):
        return "refused"
    if failure or failed_nodes or any(node["outcome"] == "failed" for node in nodes):
        return "failed"
    if held and (held.get("drs") or held.get("records")):
        # a failure is a failure: what was not put back fails the window (invariant 10)
        return "failed"
    if check_mode:
        return "planned"
    if any(node["outcome"] in ("not started", "incomplete") for node in nodes):
        return "incomplete"
    return "succeeded"


def window_report(kind, window, started, ended, plan, steps, before=None, after=None, failure=None,
                  failed_nodes=None, stopped_early="", check_mode=False, drs=None, run=None, held=None,
                  not_in_run=None, lease=None):
    """One unit's window report.

    held: what is still held after the window: ``{"drs": [vSphere clusters], "records": {host: [changes]}}``;
    not_in_run: members of the unit outside this run (``--limit``); lease: this run's lease on the unit, or the
    holder that refused it.
    """
    plan = plan or {}
    failed_by_host = dict((item.get("node"), item) for item in failed_nodes or [])
    nodes = node_entries(plan, list(steps or []), failed_by_host, before, after)
    held = held or {"drs": [], "records": {}}
    result = result_of(plan, nodes, check_mode, failure, failed_nodes, held)
    counts = {}
    for node in nodes:
        counts[node["outcome"]] = counts.get(node["outcome"], 0) + 1
    return {
        "schema": REPORT_SCHEMA, "kind": kind, "window": window, "run": run, "result": result,
        "check_mode": bool(check_mode), "started": started, "ended": ended, "cluster": plan.get("cluster"),
        "order": plan.get("order") or [], "blockers": plan.get("blockers") or [], "findings": plan.get("findings") or [],
        "failure": failure, "stopped_early": stopped_early or None,
        "failed_nodes": [dict((key, item.get(key)) for key in ("node", "step", "message", "left", "put_back_error"))
                         for item in failed_nodes or []],
        "drs": list(drs or []), "held": held, "not_in_run": list(not_in_run or []), "lease": lease,
        "groups_before": (before or {}).get("groups") or [], "groups_after": (after or {}).get("groups") or [],
        "nodes": nodes,
        "summary": {"result": result, "nodes": len(nodes), "changed": counts.get("changed", 0),
                    "reboot_required": len([node for node in nodes if node["reboot_required"]]),
                    "skipped": counts.get("skipped", 0), "failed": counts.get("failed", 0),
                    "not_started": counts.get("not started", 0) + counts.get("incomplete", 0),
                    "blockers": len(plan.get("blockers") or []),
                    "held": len(held.get("drs") or []) + sum(len(items) for items in (held.get("records") or {}).values())},
    }


def drs_entry(cluster, window, before, after, record, error=None, held=True):
    """One vSphere cluster of a unit's node VMs: levels before, during (manual when the window held it) and
    after, whether the window's record is left on it (a refused restore leaves it), the error of that restore."""
    return {"cluster": cluster, "before": before, "during": "manual" if held else before,
            "after": after if held else before,
            "record_left": bool(error) or bool(record and str(record.get("window") or "").lower() == str(window).lower()),
            "restore_error": error}


def nlb_section(report, plan=None, modes_before=None, modes_after=None, exclusions=None, inline=None,
                converged_seen=None, phase="rollout"):
    """The window report with its ``nlb`` section."""
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
    if inline is not None and report.get("result") == "succeeded" and not inline.get("ready") \
            and not inline.get("nothing_to_do"):
        report["result"] = "refused"
    report["summary"] = dict(report.get("summary") or {}, result=report.get("result"), phase=phase)
    return report


def stats(report):
    """What set_stats carries to AWX: small, flat, no secrets."""
    summary = dict(report.get("summary") or {})
    summary.update(window=report.get("window"), kind=report.get("kind"))
    return json.loads(json.dumps(summary))


def _held_lines(held):
    lines = []
    for name in (held or {}).get("drs") or []:
        lines.append("DRS of %s is still at manual with its record: run clustersafe.deep_security.recover" % name)
    for host, changes in sorted(((held or {}).get("records") or {}).items()):
        lines.append("%s keeps the record(s) %s" % (host, ", ".join(changes)))
    return lines


def report_markdown(report):
    """The window report as Markdown for a change ticket."""
    lines = ["# Window %s: %s" % (md(report.get("window")), md(report.get("kind"))), "",
             "- Result: **%s**%s" % (md(report.get("result")),
                                     " (check mode: nothing changed)" if report.get("check_mode") else ""),
             "- Run: %s" % md(report.get("run")),
             "- Started: %s, ended: %s" % (md(report.get("started")), md(report.get("ended"))),
             "- Cluster: %s" % md(report.get("cluster")),
             "- Order: %s" % (", ".join(md(host) for host in report.get("order") or []) or "none")]
    if report.get("not_in_run"):
        lines.append("- Not in this run (limit): %s" % ", ".join(md(host) for host in report["not_in_run"]))
    lines.append("")
    held = _held_lines(report.get("held"))
    if held:
        lines += ["## Still held (the window failed)", ""] + ["- %s" % md_line(line) for line in held] + [""]
    if report.get("failure"):
        failure = report["failure"]
        lines += ["## Failure", "", "%s: %s" % (md_line(failure.get("node") or failure.get("step")), md(failure.get("message"))), ""]
    for item in report.get("failed_nodes") or []:
        lines.append("- %s failed at step %s: %s. Left: %s%s" % (
            md_line(item.get("node")), md(item.get("step")), md(item.get("message")), md(item.get("left")),
            ("; putting it back failed: %s" % md(item["put_back_error"])) if item.get("put_back_error") else ""))
    if report.get("stopped_early"):
        lines.append("- No further member was taken out: %s" % md(report["stopped_early"]))
    if report.get("failed_nodes") or report.get("stopped_early"):
        lines.append("")
    if report.get("blockers"):
        lines += ["## Blockers (nothing was changed)", ""]
        lines += md_table(("Subject", "Problem", "Remedy"),
                          [(item.get("subject"), item.get("message"), item.get("remedy")) for item in report["blockers"]])
        lines.append("")
    if report.get("findings"):
        lines += ["## Findings of the preflight assessment", ""]
        lines += md_table(("Rule", "Severity", "Subject", "Finding", "Remedy"),
                          [tuple(item.get(key) for key in ("id", "severity", "subject", "message", "remedy"))
                           for item in report["findings"]])
        lines.append("")
    if report.get("drs"):
        lines += ["## DRS", ""]
        lines += md_table(("vSphere cluster", "Before", "During", "After", "Record left", "Restore error"),
                          [(item.get("cluster"), item.get("before"), item.get("during"), item.get("after"),
                            "yes" if item.get("record_left") else "no", item.get("restore_error") or "")
                           for item in report["drs"]])
        lines.append("")
    lines += ["## Nodes", ""]
    lines += md_table(("Node", "Outcome", "Agent before", "Agent after", "State before", "State after"),
                      [(node.get("host"), node.get("outcome"), node.get("agent_before") or "none",
                        node.get("agent_after") or "none", node.get("state_before"), node.get("state_after"))
                       for node in report.get("nodes") or []])
    pending = [node.get("host") for node in report.get("nodes") or [] if node.get("reboot_required")]
    if pending:
        lines += ["", "Reboot pending (msiexec 3010; the window never reboots a cluster node): %s"
                  % ", ".join(md(host) for host in pending)]
    for node in report.get("nodes") or []:
        if node.get("steps"):
            lines += ["", "### %s" % md(node.get("host")), ""]
            lines += md_table(("Step", "Start", "End", "Result", "Message"),
                              [tuple(step.get(key) for key in ("step", "start", "end", "result", "message"))
                               for step in node["steps"]])
    if report.get("groups_after"):
        lines += ["", "## Roles after the window", ""]
        lines += md_table(("Role", "Owner", "State"), [(group.get("name"), group.get("owner_node"), group.get("state"))
                                                       for group in report["groups_after"]])
    nlb = report.get("nlb")
    if nlb:
        lines += nlb_markdown(nlb)
    return "\n".join(lines) + "\n"


def nlb_markdown(nlb):
    seen = nlb.get("fewest_converged_seen")
    lines = ["", "## NLB farm", "",
             "- Phase: %s; farm: %s" % (md(nlb.get("phase")), md(nlb.get("farm"))),
             "- Converged hosts needed at every moment: %s; Converged before: %s; fewest seen: %s"
             % (md(nlb.get("min_converged")), ", ".join(md(name) for name in nlb.get("converged_before") or []) or "none",
                md(seen) if seen is not None else "not measured"),
             "- Exclusion rules assigned: %s" % (", ".join(md(name) for name in nlb.get("exclusion_rules") or []) or "none")]
    if nlb.get("intrusion_prevention_turned_off"):
        lines.append("- Intrusion Prevention turned off (NLB-01): %s"
                     % ", ".join(md(name) for name in nlb["intrusion_prevention_turned_off"]))
    before, after = nlb.get("network_engine_mode_before") or {}, nlb.get("network_engine_mode_after") or {}
    if before or after:
        lines += [""] + md_table(("Computer", "Network engine mode before", "After"),
                                 [(name, before.get(name) or "-", after.get(name) or "-")
                                  for name in sorted(set(before) | set(after))])
    inline = nlb.get("inline")
    if inline is not None:
        lines += ["", "### Tap -> Inline (NLB-03)", "",
                  "- Tap since: %s; observed %s s of %s s; events read from: %s"
                  % (md(inline.get("tap_since")), md(inline.get("observed_seconds")), md(inline.get("observation_seconds")),
                     md(inline.get("event_source"))),
                  "- Switched to Inline: %s" % ("yes" if inline.get("ready") else "no")]
        if not inline.get("ready"):
            lines += ["- %s: %s" % ("Nothing to do" if inline.get("nothing_to_do") else "Stays in Tap", md(reason))
                      for reason in inline.get("reasons") or []]
    return lines


# --- HTML -----------------------------------------------------------------------------------------------

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#1b1f24;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em}table{border-collapse:collapse;margin:.5em 0;width:100%}
th,td{border:1px solid #c9d1d9;padding:.3em .5em;text-align:left;vertical-align:top;font-size:.9em}
th{background:#f0f3f6}.result{display:inline-block;padding:.15em .6em;border-radius:.3em;color:#fff;font-weight:600}
.succeeded{background:#1a7f37}.failed{background:#cf222e}.refused{background:#9a6700}.incomplete{background:#bc4c00}
.planned{background:#0969da}.held{border-left:.4em solid #cf222e;padding-left:.8em}
.lane{position:relative;height:1.6em;background:#f6f8fa;border:1px solid #d0d7de;margin:.2em 0}
.seg{position:absolute;top:0;bottom:0;overflow:hidden;font-size:.7em;line-height:1.6em;color:#fff;padding-left:.2em;
white-space:nowrap;border-right:1px solid #fff}.ok{background:#2da44e}.bad{background:#cf222e}
.name{font-weight:600;font-size:.85em;margin-top:.6em}
"""


def _epoch(stamp):
    for pattern in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return (datetime.strptime(str(stamp or ""), pattern) - datetime(1970, 1, 1)).total_seconds()
        except ValueError:
            continue
    return None


def _html_table(header, rows):
    out = ["<table><thead><tr>%s</tr></thead><tbody>" % "".join("<th>%s</th>" % html(cell) for cell in header)]
    for row in rows:
        out.append("<tr>%s</tr>" % "".join("<td>%s</td>" % html(cell) for cell in row))
    out.append("</tbody></table>")
    return "".join(out)


def _timeline(report):
    """One lane per node: each step a segment from its start to its end, over the window's span."""
    spans = [(_epoch(step.get("start")), _epoch(step.get("end") or step.get("start")))
             for node in report.get("nodes") or [] for step in node.get("steps") or []]
    spans = [(start, end) for start, end in spans if start is not None and end is not None]
    if not spans:
        return ""
    first, last = min(start for start, _end in spans), max(end for _start, end in spans)
    width = max(last - first, 1.0)
    out = ["<h2>Timeline</h2>"]
    for node in report.get("nodes") or []:
        if not node.get("steps"):
            continue
        out.append('<div class="name">%s (%s)</div><div class="lane">' % (html(node.get("host")), html(node.get("outcome"))))
        for step in node["steps"]:
            start, end = _epoch(step.get("start")), _epoch(step.get("end") or step.get("start"))
            if start is None or end is None:
                continue
            left = 100.0 * (start - first) / width
            span = max(100.0 * (end - start) / width, 0.4)
            out.append('<div class="seg %s" style="left:%.3f%%;width:%.3f%%" title="%s: %s to %s %s">%s</div>' % (
                "bad" if step.get("result") == "failed" else "ok", left, span, html(step.get("step")),
                html(step.get("start")), html(step.get("end")), html(step.get("message") or ""), html(step.get("step"))))
        out.append("</div>")
    return "".join(out)


def report_html(report):
    """The window report as one self-contained HTML page: no script, no external asset."""
    result = str(report.get("result") or "")
    parts = ["<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
             "<title>Window %s: %s</title><style>%s</style></head><body>" % (
                 html(report.get("window")), html(report.get("kind")), _STYLE),
             "<h1>Window %s: %s</h1>" % (html(report.get("window")), html(report.get("kind"))),
             "<p><span class=\"result %s\">%s</span>%s</p>" % (
                 html(result if result in ("succeeded", "failed", "refused", "incomplete", "planned") else "failed"),
                 html(result), " check mode: nothing changed" if report.get("check_mode") else ""),
             _html_table(("Run", "Cluster", "Started", "Ended", "Order"),
                         [(report.get("run"), report.get("cluster"), report.get("started"), report.get("ended"),
                           ", ".join(str(host) for host in report.get("order") or []) or "none")])]
    held = _held_lines(report.get("held"))
    if held:
        parts.append("<div class=\"held\"><h2>Still held</h2><ul>%s</ul></div>"
                     % "".join("<li>%s</li>" % html(line) for line in held))
    if report.get("failure"):
        failure = report["failure"]
        parts.append("<h2>Failure</h2><p>%s: %s</p>" % (html(failure.get("node") or failure.get("step")),
                                                        html(failure.get("message"))))
    if report.get("failed_nodes"):
        parts.append("<h2>Failed nodes</h2>" + _html_table(
            ("Node", "Step", "Message", "Left", "Putting it back"),
            [(item.get("node"), item.get("step"), item.get("message"), item.get("left"), item.get("put_back_error") or "")
             for item in report["failed_nodes"]]))
    if report.get("stopped_early"):
        parts.append("<p>No further member was taken out: %s</p>" % html(report["stopped_early"]))
    if report.get("blockers"):
        parts.append("<h2>Refused before any change</h2>" + _html_table(
            ("Subject", "Problem", "Remedy"),
            [(item.get("subject"), item.get("message"), item.get("remedy")) for item in report["blockers"]]))
    if report.get("findings"):
        parts.append("<h2>Findings</h2>" + _html_table(
            ("Rule", "Severity", "Subject", "Finding", "Remedy"),
            [tuple(item.get(key) for key in ("id", "severity", "subject", "message", "remedy")) for item in report["findings"]]))
    if report.get("drs"):
        parts.append("<h2>DRS held</h2>" + _html_table(
            ("vSphere cluster", "Before", "During", "After", "Record left", "Restore error"),
            [(item.get("cluster"), item.get("before"), item.get("during"), item.get("after"),
              "yes" if item.get("record_left") else "no", item.get("restore_error") or "") for item in report["drs"]]))
    nlb = report.get("nlb")
    if nlb:
        before, after = nlb.get("network_engine_mode_before") or {}, nlb.get("network_engine_mode_after") or {}
        parts.append("<h2>NLB farm %s</h2>" % html(nlb.get("farm")) + _html_table(
            ("Computer", "Engine mode before", "After"),
            [(name, before.get(name) or "-", after.get(name) or "-") for name in sorted(set(before) | set(after))]))
        parts.append("<p>Exclusion rules: %s</p>" % html(", ".join(nlb.get("exclusion_rules") or []) or "none"))
    parts.append(_timeline(report))
    parts.append("<h2>Nodes</h2>" + _html_table(
        ("Node", "Outcome", "Agent before", "Agent after", "State before", "State after", "Left"),
        [(node.get("host"), node.get("outcome"), node.get("agent_before") or "none", node.get("agent_after") or "none",
          node.get("state_before"), node.get("state_after"), node.get("left") or "") for node in report.get("nodes") or []]))
    for node in report.get("nodes") or []:
        if node.get("steps"):
            parts.append("<h2>%s</h2>" % html(node.get("host")) + _html_table(
                ("Step", "Start", "End", "Result", "Message"),
                [tuple(step.get(key) for key in ("step", "start", "end", "result", "message")) for step in node["steps"]]))
    parts.append("</body></html>\n")
    return "".join(parts)


# --- the report across units ----------------------------------------------------------------------------

def _intervals(report):
    spans = []
    for node in report.get("nodes") or []:
        steps = [step for step in node.get("steps") or [] if step.get("start")]
        if steps:
            spans.append((min(step["start"] for step in steps), max(step.get("end") or step["start"] for step in steps),
                          node.get("host")))
    return spans


def most_at_once(spans):
    """Most intervals open at one instant (ISO timestamps compare as text; an end meets the next start)."""
    events = sorted([(start, 1) for start, _end, _host in spans] + [(end, 0) for _start, end, _host in spans])
    most = current = 0
    for _stamp, opening in events:
        current += 1 if opening else -1
        most = max(most, current)
    return most


def _why(report):
    """One line on why a unit's window did not succeed ('' when it did)."""
    if report.get("result") in ("succeeded", "planned"):
        return ""
    parts = ["%s: %s" % (item.get("subject"), item.get("message")) for item in report.get("blockers") or []]
    parts += ["%s failed at %s: %s" % (item.get("node"), item.get("step"), item.get("message"))
              for item in report.get("failed_nodes") or []]
    if report.get("failure") and not report.get("failed_nodes") and not report.get("blockers"):
        parts.append(str((report["failure"] or {}).get("message") or ""))
    if report.get("stopped_early"):
        parts.append("stopped early: %s" % report["stopped_early"])
    parts += _held_lines(report.get("held"))
    inline = (report.get("nlb") or {}).get("inline") or {}
    if inline and not inline.get("ready") and not inline.get("nothing_to_do"):
        parts.append("the farm stays in Tap: %s" % "; ".join(inline.get("reasons") or []))
    return "; ".join(part for part in parts if part) or str(report.get("result"))


def estate_report(kind, window, reports, files=None, max_nodes_out=0, check_mode=False, nlb=False):
    """The report across a window's units (``ESTATE_SCHEMA``): every unit's result and timeline, and the limits
    proven from the timelines: at most one member out per unit, at most ``max_nodes_out`` across them, and for
    NLB farms never fewer Converged hosts than each farm needed."""
    units = []
    all_spans = []
    for key in sorted(reports or {}):
        report = reports[key]
        spans = _intervals(report)
        all_spans.extend(spans)
        nodes = report.get("nodes") or []
        entry = {"key": key, "cluster": report.get("cluster"), "result": report.get("result"),
                 "started": report.get("started"), "ended": report.get("ended"), "report": (files or {}).get(key),
                 "most_nodes_out": most_at_once(spans),
                 "changed": len([node for node in nodes if node.get("outcome") == "changed"]),
                 "failed": len([node for node in nodes if node.get("outcome") == "failed"]),
                 "nodes": [dict((name, node.get(name)) for name in ("host", "computer", "outcome", "agent_before",
                                                                    "agent_after", "steps")) for node in nodes],
                 "drs": report.get("drs") or [], "held": report.get("held"), "failure": report.get("failure"),
                 "blockers": report.get("blockers") or [], "message": _why(report)}
        if nlb:
            section = report.get("nlb") or {}
            seen, needed = section.get("fewest_converged_seen"), section.get("min_converged")
            entry["nlb"] = {"farm": section.get("farm"), "min_converged": needed, "fewest_converged_seen": seen,
                            "min_converged_kept": seen is None or needed is None or int(seen) >= int(needed),
                            "exclusion_rules": list(section.get("exclusion_rules") or []),
                            "network_engine_mode_after": dict(section.get("network_engine_mode_after") or {})}
        units.append(entry)
    results = [unit["result"] for unit in units]
    if not units:
        result = "refused"
    elif all(item == "succeeded" for item in results):
        result = "succeeded"
    elif "failed" in results:
        result = "failed"
    elif "refused" in results:
        result = "refused"
    elif check_mode:
        result = "planned"
    else:
        result = "incomplete"
    drs = {}
    for unit in units:
        for item in unit["drs"]:
            merged = drs.setdefault(item.get("cluster"), dict(item, failover_clusters=[]))
            merged["failover_clusters"].append(unit["key"])
            if item.get("record_left"):
                merged["record_left"] = True
            if item.get("restore_error"):
                merged["restore_error"] = item["restore_error"]
    cap = int(max_nodes_out or 0)
    most_out = most_at_once(all_spans)
    limits = {"most_nodes_out": most_out,
              "most_nodes_out_in_one_cluster": max([unit["most_nodes_out"] for unit in units] or [0]),
              "kept": most_out <= (cap or len(units) or 1) and all(unit["most_nodes_out"] <= 1 for unit in units)}
    if nlb:
        limits["min_converged_kept"] = all(unit["nlb"]["min_converged_kept"] for unit in units)
        limits["kept"] = limits["kept"] and limits["min_converged_kept"]
    started = [unit["started"] for unit in units if unit["started"]]
    ended = [unit["ended"] for unit in units if unit["ended"]]
    return {
        "schema": ESTATE_SCHEMA, "kind": kind, "window": window, "result": result, "check_mode": bool(check_mode),
        "started": min(started) if started else None, "ended": max(ended) if ended else None,
        "max_nodes_out": cap or None, "limits": limits, "drs": [drs[name] for name in sorted(drs)], "clusters": units,
        "summary": {"result": result, "clusters": len(units), "clusters_succeeded": results.count("succeeded"),
                    "nodes": sum(len(unit["nodes"]) for unit in units),
                    "changed": sum(unit["changed"] for unit in units), "failed": sum(unit["failed"] for unit in units),
                    "most_nodes_out": most_out},
    }


def estate_markdown(report, unit_markdowns=None, unit_word="cluster"):
    """The estate report for the change ticket: the units, the limits kept, then each unit's own report."""
    nlb = unit_word != "cluster"
    limits = report.get("limits") or {}
    lines = ["# Window %s across %d %s(s): %s" % (md(report.get("window")), len(report.get("clusters") or []),
                                                  md(unit_word), md(report.get("result"))), "",
             "- Started %s, ended %s" % (md(report.get("started") or "-"), md(report.get("ended") or "-")),
             "- Most %s out at once: %s across the estate%s; %s in one %s"
             % ("hosts" if nlb else "nodes", md(limits.get("most_nodes_out")),
                (" (cap %s)" % md(report["max_nodes_out"])) if report.get("max_nodes_out") else "",
                md(limits.get("most_nodes_out_in_one_cluster")), md(unit_word))]
    if nlb:
        lines.append("- Every farm kept the Converged hosts it needed: %s" % ("yes" if limits.get("min_converged_kept") else "no"))
        header = ("Farm", "NLB cluster", "Result", "Changed", "Failed", "Fewest Converged (needed)", "Started", "Ended", "Report")
    else:
        header = ("Cluster", "Failover cluster", "Result", "Changed", "Failed", "Started", "Ended", "Report")
    rows = []
    for unit in report.get("clusters") or []:
        cells = [unit["key"], unit.get("cluster"), unit.get("result"), unit.get("changed"), unit.get("failed")]
        if nlb:
            farm = unit.get("nlb") or {}
            seen = farm.get("fewest_converged_seen")
            cells.append("%s (%s)" % ("-" if seen is None else seen, farm.get("min_converged")))
        rows.append(cells + [unit.get("started"), unit.get("ended"), unit.get("report")])
    lines += [""] + md_table(header, rows)
    problems = [unit for unit in report.get("clusters") or [] if unit.get("message")]
    if problems:
        lines += ["", "## Why not every %s succeeded" % md(unit_word), ""]
        lines += ["- %s: %s" % (md_line(unit["key"]), md(unit["message"])) for unit in problems]
    if report.get("drs"):
        lines += ["", "## DRS", ""] + md_table(
            ("vSphere cluster", "Before", "After", "Held for", "Record left"),
            [(item.get("cluster"), item.get("before"), item.get("after"), ", ".join(item.get("failover_clusters") or []),
              "yes" if item.get("record_left") else "no") for item in report["drs"]])
    for key in sorted(unit_markdowns or {}):
        lines += ["", "---", ""]
        lines += ["#" + line if line.startswith("#") else line for line in unit_markdowns[key].rstrip("\n").splitlines()]
    return "\n".join(lines) + "\n"


def estate_html(report, unit_reports=None, unit_word="cluster"):
    """The estate report as one self-contained page, each unit's own report below it."""
    body = ["<h1>Window %s across %d %s(s)</h1>" % (html(report.get("window")), len(report.get("clusters") or []),
                                                    html(unit_word)),
            "<p><span class=\"result %s\">%s</span></p>" % (html(report.get("result")), html(report.get("result"))),
            _html_table(("Key", "Cluster", "Result", "Changed", "Failed", "Started", "Ended", "Why"),
                        [(unit["key"], unit.get("cluster"), unit.get("result"), unit.get("changed"), unit.get("failed"),
                          unit.get("started"), unit.get("ended"), unit.get("message")) for unit in report.get("clusters") or []])]
    page = report_html({"window": report.get("window"), "kind": report.get("kind"), "result": report.get("result")})
    head = page.split("<h1>", 1)[0]
    units = []
    for key in sorted(unit_reports or {}):
        inner = report_html(unit_reports[key]).split("<body>", 1)[1].rsplit("</body>", 1)[0]
        units.append("<hr>" + inner.replace("<h1>", "<h2>").replace("</h1>", "</h2>"))
    return head + "".join(body) + "".join(units) + "</body></html>\n"
