# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The assessment report: an overview of what was gathered, the stable JSON document, Markdown for
change tickets, and one self-contained HTML page (inline style, no script, no external asset).
Every value that came from a gathered system is escaped. Pure: no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.clustersafe.deep_security.plugins.module_utils.escape import html as escaped_html, md as escaped_md
from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules.facts import (
    SEVERITIES,
    as_list,
    computer_for,
    key,
    module_state,
)

SCHEMA = "clustersafe.deep_security.assessment"
SCHEMA_VERSION = 1


# -- overview ------------------------------------------------------------------------------------

def _vsphere_overview(cluster):
    dsvas = [d for d in as_list(cluster.get("dsvas")) if isinstance(d, dict)]
    drs = cluster.get("drs") if isinstance(cluster.get("drs"), dict) else {}
    ha = cluster.get("ha") if isinstance(cluster.get("ha"), dict) else {}
    hosts = []
    for host in as_list(cluster.get("hosts")):
        hosts.append(dict(name=host.get("name"), connection_state=host.get("connection_state"),
                          maintenance_mode=host.get("maintenance_mode"), dsvas=host.get("dsvas"),
                          dsm_vms=[vm.get("name") for vm in as_list(cluster.get("dsm_vms")) if vm.get("host") == host.get("name")],
                          powered_on_vm_count=host.get("powered_on_vm_count")))
    return dict(name=cluster.get("name"), datacenter=cluster.get("datacenter"),
                drs=dict(enabled=drs.get("enabled"), automation_level=drs.get("automation_level"),
                         vm_overrides_allowed=drs.get("vm_overrides_allowed")),
                ha=dict(enabled=ha.get("enabled"), host_monitoring=ha.get("host_monitoring")),
                drs_window=cluster.get("drs_window"),
                hosts=hosts,
                dsvas=[dict(name=d.get("name"), host=d.get("host"), power_state=d.get("power_state"), pinned=d.get("pinned"),
                            drs_disabled=d.get("drs_disabled"), ha_restart_disabled=d.get("ha_restart_disabled"))
                       for d in dsvas])


def _computer_view(facts, name):
    computer = computer_for(facts, name)
    if computer is None:
        return dict(in_dsm=False if facts.get("dsm_gathered") else None, agent_version=None, agent_status=None,
                    firewall=None, intrusion_prevention=None, network_engine_mode=None, policy=None)
    return dict(in_dsm=True, agent_version=computer.get("agent_version") or None, agent_status=computer.get("agent_status"),
                firewall=module_state(computer, "firewall"),
                intrusion_prevention=module_state(computer, "intrusion_prevention"),
                network_engine_mode=computer.get("network_engine_mode"),
                policy=computer.get("policy_name") or computer.get("policy_id"))


def _failover_overview(facts, cluster):
    nodes = []
    names = [n.get("name") for n in cluster["nodes"]] or [m.get("computer") for m in cluster["members"].values()]
    states = dict((key(n.get("name")), n) for n in cluster["nodes"])
    for name in names:
        member = cluster["members"].get(key(name)) or {}
        agent = member.get("agent") if isinstance(member.get("agent"), dict) else {}
        nodes.append(dict(name=name, state=(states.get(key(name)) or {}).get("state"),
                          cluster_service=(member.get("cluster_service") or {}).get("status"),
                          roles=sorted(g.get("name") for g in cluster["groups"]
                                       if key(g.get("owner_node")) == key(name) and not g.get("is_core")),
                          agent_version=agent.get("version") if agent.get("installed") else None,
                          error=member.get("error"), dsm=_computer_view(facts, name)))
    return dict(name=cluster["name"], quorum=cluster["quorum"], nodes=nodes,
                roles=[dict(name=g.get("name"), owner_node=g.get("owner_node"), state=g.get("state"))
                       for g in cluster["groups"] if not g.get("is_core")],
                heartbeat_networks=[n.get("name") for n in cluster["networks"] if n.get("heartbeat")])


def _nlb_overview(facts, cluster):
    nodes = []
    for node in cluster["nodes"] or [dict(name=m.get("computer")) for m in cluster["members"].values()]:
        nodes.append(dict(name=node.get("name"), state=node.get("state"), priority=node.get("priority"),
                          error=(cluster["members"].get(key(node.get("name"))) or {}).get("error"),
                          dsm=_computer_view(facts, node.get("name"))))
    return dict(name=cluster["name"], ip_address=cluster.get("ip_address"), mode=cluster.get("mode"), nodes=nodes,
                port_rules=["%s-%s/%s" % (r.get("start_port"), r.get("end_port"), r.get("protocol")) for r in cluster["port_rules"]])


def overview(facts):
    return dict(vsphere_clusters=[_vsphere_overview(c) for c in facts["vsphere_clusters"]],
                failover_clusters=[_failover_overview(facts, c) for c in facts["failover_clusters"]],
                nlb_clusters=[_nlb_overview(facts, c) for c in facts["nlb_clusters"]])


def document(assessment):
    """The stable JSON document (docs/rules.md, "assessment.json")."""
    return dict(schema=SCHEMA, schema_version=SCHEMA_VERSION, summary=assessment["summary"],
                findings=assessment["findings"], overview=overview(assessment["facts"]))


def to_json(doc):
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


# -- text helpers ----------------------------------------------------------------------------------

def _text(value):
    if value is None:
        return "unknown"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(item) for item in value) if value else "none"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return "%s" % (value,)


def escape_html(value):
    return escaped_html(_text(value))


def escape_md(value):
    """One Markdown table cell (module_utils/escape.py: the collection's one rule)."""
    return escaped_md(_text(value))


def _evidence_text(evidence):
    if not isinstance(evidence, dict):
        return _text(evidence)
    return "; ".join("%s: %s" % (name, _text(evidence[name])) for name in sorted(evidence))


def _quorum_text(quorum):
    if not isinstance(quorum, dict) or not quorum:
        return None
    witness = quorum.get("quorum_resource")
    return "%s%s" % (quorum.get("quorum_type") or "type unknown", " (witness: %s)" % witness if witness else "")


def _dsm_cells(node, *fields):
    """DSM columns of a node; "-" where the DSM has no such computer (no agent to judge)."""
    if node["dsm"]["in_dsm"] is False:
        return ["-" for _field in fields]
    return [node["dsm"][field] for field in fields]


# -- Markdown ----------------------------------------------------------------------------------------

def markdown(doc):
    summary = doc["summary"]
    counts = summary["by_severity"]
    lines = ["# Deep Security cluster assessment", "",
             "%d finding(s): %d blocker(s), %d warning(s), %d info. Rules checked: %s."
             % (summary["total"], counts["blocker"], counts["warning"], counts["info"],
                ", ".join(summary["rules_checked"]) or "none"),
             ""]
    for item in summary.get("rules_not_checked") or []:
        lines.append("- Not checked: %s, %s." % (escape_md(item["id"]), escape_md(item["reason"])))
    if summary.get("rules_not_checked"):
        lines.append("")
    if counts["blocker"]:
        lines += ["**Blockers present: no window may start until they are fixed.**", ""]
    lines += ["## Findings", ""]
    if doc["findings"]:
        lines += ["| Severity | Rule | Subject | Finding | Remedy |", "|---|---|---|---|---|"]
        for item in doc["findings"]:
            cells = [escape_md(item[k]) for k in ("severity", "id", "subject", "message", "remedy")]
            lines.append("| %s |" % " | ".join(cells))
    else:
        lines.append("No findings.")
    lines += ["", "## Per rule", "", "| Rule | Blockers | Warnings | Info |", "|---|---|---|---|"]
    for rule_id in summary["rules_checked"]:
        row = summary["by_rule"].get(rule_id) or {}
        lines.append("| %s | %d | %d | %d |" % (escape_md(rule_id), row.get("blocker", 0), row.get("warning", 0), row.get("info", 0)))
    view = doc["overview"]
    for cluster in view["vsphere_clusters"]:
        lines += ["", "## vSphere cluster %s" % escape_md(cluster["name"]), "",
                  "DRS %s (%s), HA %s; DRS window record: %s" % (
                      escape_md(cluster["drs"]["enabled"]), escape_md(cluster["drs"]["automation_level"]),
                      escape_md(cluster["ha"]["enabled"]),
                      escape_md((cluster["drs_window"] or {}).get("window") if cluster["drs_window"] else "none")), "",
                  "| Host | DSVA | Power | Pinned | DRS off | HA restart off | DSM VM |", "|---|---|---|---|---|---|---|"]
        dsvas = dict((d["name"], d) for d in cluster["dsvas"])
        for host in cluster["hosts"]:
            names = as_list(host["dsvas"]) or [None]
            for name in names:
                dsva = dsvas.get(name) or {}
                lines.append("| %s |" % " | ".join(escape_md(v) for v in (
                    host["name"], name or "none", dsva.get("power_state"), dsva.get("pinned"), dsva.get("drs_disabled"),
                    dsva.get("ha_restart_disabled"), host["dsm_vms"])))
    for cluster in view["failover_clusters"]:
        lines += ["", "## Failover cluster %s" % escape_md(cluster["name"]), "",
                  "Quorum: %s; heartbeat networks: %s" % (escape_md(_quorum_text(cluster["quorum"])),
                                                          escape_md(cluster["heartbeat_networks"])), "",
                  "| Node | State | Cluster service | Roles owned | Agent | In DSM | Firewall |", "|---|---|---|---|---|---|---|"]
        for node in cluster["nodes"]:
            lines.append("| %s |" % " | ".join(escape_md(v) for v in (
                node["name"], node["state"], node["cluster_service"], node["roles"], node["agent_version"] or "none",
                node["dsm"]["in_dsm"], _dsm_cells(node, "firewall")[0])))
    for cluster in view["nlb_clusters"]:
        lines += ["", "## NLB cluster %s (%s, %s)" % (escape_md(cluster["name"]), escape_md(cluster["ip_address"]),
                                                      escape_md(cluster["mode"])), "",
                  "| Node | State | Agent | Intrusion Prevention | Firewall | Engine mode |", "|---|---|---|---|---|---|"]
        for node in cluster["nodes"]:
            values = [node["name"], node["state"], node["dsm"]["agent_version"] or "none"]
            values += _dsm_cells(node, "intrusion_prevention", "firewall", "network_engine_mode")
            lines.append("| %s |" % " | ".join(escape_md(v) for v in values))
    return "\n".join(lines) + "\n"


# -- HTML --------------------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#1d1d1f;background:#fff}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #bbb;padding:.3em .6em;text-align:left;
vertical-align:top}th{background:#f0f0f0}.counts span{display:inline-block;margin-right:1em;padding:.3em .8em;
border-radius:4px;font-weight:bold}.blocker{background:#fdd;color:#900}.warning{background:#fff3cd;color:#7a5200}
.info{background:#e7f1ff;color:#084298}.ok{background:#e6f4ea;color:#1e6b34}.bad{background:#fdd;color:#900}
.grid td{text-align:center}.grid td.host{text-align:left;font-weight:bold}.muted{color:#777}
td.sev{font-weight:bold;text-transform:uppercase;font-size:.85em}td.rule{white-space:nowrap}
"""


def _cell(value, css=None):
    return '<td%s>%s</td>' % (' class="%s"' % css if css else "", escape_html(value))


def _findings_html(findings):
    if not findings:
        return '<p class="ok" id="no-findings">No findings.</p>'
    rows = ['<table id="findings"><thead><tr><th>Severity</th><th>Rule</th><th>Subject</th><th>Finding</th>'
            '<th>Evidence</th><th>Remedy</th></tr></thead><tbody>']
    for item in findings:
        rows.append('<tr class="finding" data-rule="%s" data-severity="%s">%s%s%s%s%s%s</tr>' % (
            escape_html(item["id"]), escape_html(item["severity"]),
            _cell(item["severity"], "sev " + item["severity"]), _cell(item["id"], "rule"), _cell(item["subject"]),
            _cell(item["message"]), _cell(_evidence_text(item["evidence"])), _cell(item["remedy"])))
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _pin_text(dsva):
    if dsva.get("pinned") is True:
        return "pinned", "ok"
    parts = []
    for label, value in (("DRS", dsva.get("drs_disabled")), ("HA", dsva.get("ha_restart_disabled"))):
        parts.append("%s %s" % (label, "off" if value is True else "ON" if value is False else "?"))
    return "not pinned (%s)" % ", ".join(parts), "bad"


def _vsphere_html(cluster):
    dsvas = cluster["dsvas"]
    out = ['<h2>vSphere cluster %s</h2>' % escape_html(cluster["name"]),
           '<p>DRS: <b>%s</b> (%s); VM overrides allowed: %s; HA: <b>%s</b> (host monitoring %s); DRS window record: %s</p>'
           % (escape_html("enabled" if cluster["drs"]["enabled"] else "disabled" if cluster["drs"]["enabled"] is False else None),
              escape_html(cluster["drs"]["automation_level"]), escape_html(cluster["drs"]["vm_overrides_allowed"]),
              escape_html("enabled" if cluster["ha"]["enabled"] else "disabled" if cluster["ha"]["enabled"] is False else None),
              escape_html(cluster["ha"]["host_monitoring"]),
              escape_html(cluster["drs_window"].get("window") if isinstance(cluster["drs_window"], dict) else "none"))]
    if not dsvas:
        out.append('<p class="muted">No DSVA in this cluster.</p>')
    out.append('<table class="grid"><thead><tr><th>Host \\ DSVA</th>%s<th>DSM VM</th></tr></thead><tbody>'
               % "".join("<th>%s</th>" % escape_html(d["name"]) for d in dsvas))
    for host in cluster["hosts"]:
        cells = []
        for dsva in dsvas:
            if dsva["host"] == host["name"]:
                text, css = _pin_text(dsva)
                cells.append(_cell("%s, %s" % (dsva.get("power_state") or "power unknown", text), css))
            else:
                cells.append('<td class="muted">-</td>')
        missing = dsvas and not as_list(host["dsvas"])
        out.append('<tr><td class="host%s">%s%s</td>%s%s</tr>' % (
            " bad" if missing else "", escape_html(host["name"]), " (no DSVA)" if missing else "",
            "".join(cells), _cell(host["dsm_vms"] or "-")))
    out.append("</tbody></table>")
    return "\n".join(out)


def _failover_html(cluster):
    out = ['<h2>Failover cluster %s</h2>' % escape_html(cluster["name"]),
           '<p>Quorum: %s; heartbeat networks: %s</p>' % (escape_html(_quorum_text(cluster["quorum"])),
                                                          escape_html(cluster["heartbeat_networks"])),
           '<table><thead><tr><th>Node</th><th>State</th><th>Cluster service</th><th>Roles owned</th><th>Agent</th>'
           '<th>In DSM</th><th>Firewall</th><th>Intrusion Prevention</th></tr></thead><tbody>']
    for node in cluster["nodes"]:
        out.append("<tr>%s</tr>" % "".join(_cell(v) for v in [
            node["name"], node["error"] or node["state"], node["cluster_service"], node["roles"] or "none (standby)",
            node["agent_version"] or "none", node["dsm"]["in_dsm"]] + _dsm_cells(node, "firewall", "intrusion_prevention")))
    out.append("</tbody></table>")
    out.append("<p>Roles: %s</p>" % escape_html(["%s on %s (%s)" % (r["name"], r["owner_node"], r["state"]) for r in cluster["roles"]]))
    return "\n".join(out)


def _nlb_html(cluster):
    out = ['<h2>NLB cluster %s</h2>' % escape_html(cluster["name"]),
           '<p>Virtual IP %s, mode %s, port rules %s</p>' % (
               escape_html(cluster["ip_address"]), escape_html(cluster["mode"]), escape_html(cluster["port_rules"])),
           '<table><thead><tr><th>Node</th><th>State</th><th>Priority</th><th>Agent</th><th>Intrusion Prevention</th>'
           '<th>Firewall</th><th>Engine mode</th></tr></thead><tbody>']
    for node in cluster["nodes"]:
        ips, firewall, mode = _dsm_cells(node, "intrusion_prevention", "firewall", "network_engine_mode")
        out.append("<tr>%s%s%s%s%s%s%s</tr>" % (
            _cell(node["name"]), _cell(node["error"] or node["state"]), _cell(node["priority"]),
            _cell(node["dsm"]["agent_version"] or "none"), _cell(ips, "bad" if ips not in (None, "off", "-") else None),
            _cell(firewall), _cell(mode)))
    out.append("</tbody></table>")
    return "\n".join(out)


def html(doc):
    summary = doc["summary"]
    counts = summary["by_severity"]
    view = doc["overview"]
    parts = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             '<title>Deep Security cluster assessment</title><style>%s</style></head><body>' % STYLE,
             '<h1>Deep Security cluster assessment</h1>',
             '<p class="counts" id="summary">%s</p>' % "".join(
                 '<span class="%s">%d %s</span>' % (s, counts[s], escape_html(s)) for s in SEVERITIES),
             '<p>Rules checked: %s</p>' % escape_html(", ".join(summary["rules_checked"]) or "none"),
             "".join('<p class="not-checked">Not checked: %s, %s.</p>' % (escape_html(item["id"]), escape_html(item["reason"]))
                     for item in summary.get("rules_not_checked") or []),
             '<h2>Findings</h2>', _findings_html(doc["findings"])]
    parts += [_vsphere_html(c) for c in view["vsphere_clusters"]]
    parts += [_failover_html(c) for c in view["failover_clusters"]]
    parts += [_nlb_html(c) for c in view["nlb_clusters"]]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def render(assessment, formats=("json", "markdown", "html")):
    doc = document(assessment)
    out = {}
    if "json" in formats:
        out["json"] = to_json(doc)
    if "markdown" in formats:
        out["markdown"] = markdown(doc)
    if "html" in formats:
        out["html"] = html(doc)
    return doc, out
