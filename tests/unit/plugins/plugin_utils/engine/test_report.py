"""The window report and the report across a window's units (plugin_utils/engine/report.py): results, timelines,
the NLB section, the limits proven from the timelines, and every value rendered as exactly its text in Markdown
(as a change ticket renders it) and in HTML."""
import re
import unicodedata
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import plan as planning
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import report, tap
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.engine import level_of
from test_plan import HOSTS, WEB, cluster_facts, nlb_facts, node_facts, vsphere

NOW = 1795687200.0 + 3600  # 2026-11-26T11:00:00Z


def wsfc_plan(**kwargs):
    return planning.plan_wsfc(HOSTS, cluster_facts(), node_facts(), "CHG1", vsphere=vsphere(), **kwargs)


# --- one unit's report ------------------------------------------------------------------------------------

def test_report_timeline_steps_without_an_end_end_where_the_next_begins():
    """A step the engine closed keeps its own end; one that has none (a run that stopped in it) ends where the
    member's next step began."""
    steps = [{"node": "SQL-NODE2", "step": "drain", "start": "t1", "end": "t2b", "result": "ok"},
             {"node": "SQL-NODE2", "step": "roles_moved", "start": "t2", "end": None, "result": "ok"},
             {"node": "SQL-NODE2", "step": "verified", "start": "t3", "end": "t4", "result": "ok"}]
    result = report.window_report("wsfc_agent_rollout", "CHG1", "t0", "t5", wsfc_plan(), steps)
    node = result["nodes"][0]
    assert node["host"] == "SQL-NODE2" and node["outcome"] == "changed"
    assert [(s["start"], s["end"]) for s in node["steps"]] == [("t1", "t2b"), ("t2", "t3"), ("t3", "t4")]
    assert result["result"] == "incomplete"  # two nodes never started
    assert result["summary"]["not_started"] == 2 and result["summary"]["changed"] == 1


def test_a_member_is_changed_only_when_its_last_step_is_a_verified_ok():
    steps = [{"node": "SQL-NODE2", "step": "verified", "start": "t1", "result": "running"},
             {"node": "SQL-NODE3", "step": "drain", "start": "t1", "result": "ok"}]
    nodes = dict((node["host"], node["outcome"]) for node in
                 report.window_report("k", "CHG1", "a", "b", wsfc_plan(), steps)["nodes"])
    assert nodes == {"SQL-NODE2": "incomplete", "SQL-NODE3": "incomplete", "SQL-NODE1": "not started"}


def test_report_results():
    result_plan = wsfc_plan()
    assert report.window_report("k", "CHG1", "a", "b", result_plan, [], check_mode=True)["result"] == "planned"
    failure = {"node": "SQL-NODE2", "step": "agent", "message": "1603", "left": "paused"}
    failed = report.window_report("k", "CHG1", "a", "b", result_plan, [], failed_nodes=[failure])
    assert failed["result"] == "failed" and failed["nodes"][0]["outcome"] == "failed"
    assert failed["failed_nodes"][0]["left"] == "paused" and failed["nodes"][0]["left"] == "paused"
    blocked = dict(result_plan, blockers=[{"subject": "x", "message": "m", "remedy": "r"}])
    assert report.window_report("k", "CHG1", "a", "b", blocked, [])["result"] == "refused"
    steps = [{"node": host, "step": "verified", "start": "t", "result": "ok"} for host in HOSTS]
    assert report.window_report("k", "CHG1", "a", "b", result_plan, steps)["result"] == "succeeded"


def test_what_is_still_held_fails_the_window():
    """A failure is a failure (invariant 10): DRS or a record not put back fails a window whose members all
    succeeded."""
    steps = [{"node": host, "step": "verified", "start": "t", "result": "ok"} for host in HOSTS]
    for held in ({"drs": ["Prod-Cluster"], "records": {}}, {"drs": [], "records": {"SQL-NODE2": ["node_drained"]}}):
        result = report.window_report("k", "CHG1", "a", "b", wsfc_plan(), steps, held=held)
        assert result["result"] == "failed" and result["summary"]["held"] == 1
    markdown = report.report_markdown(result)
    assert "## Still held (the window failed)" in markdown and "SQL\\-NODE2 keeps the record(s) node\\_drained" in \
        markdown.replace("SQL-NODE2", "SQL\\-NODE2")


def test_markdown_escapes_table_cells():
    result = report.window_report("k", "CHG1", "a", "b", wsfc_plan(), [], failed_nodes=[
        {"node": "SQL-NODE2", "step": "agent", "message": "a|b\nc", "left": "paused"}])
    text = report.report_markdown(result)
    assert "a\\|b c" in text and "| SQL-NODE2 | failed |" in text


def test_drs_entry_before_during_after_and_a_refused_restore():
    """The level after is what the restore returned; a restore that failed leaves it unknown (None) with its
    error, and the window's record still on the cluster, never a level read back and guessed."""
    before = {"clusters": [{"name": "Prod-Cluster", "drs": {"enabled": True, "automation_level": "fullyAutomated"}}]}
    assert report.drs_entry("Prod-Cluster", "CHG1", level_of(before, "Prod-Cluster"), None, {"window": "chg1"},
                            "session lost") == {
        "cluster": "Prod-Cluster", "before": "fullyAutomated", "during": "manual", "after": None,
        "record_left": True, "restore_error": "session lost"}


def test_drs_entry_takes_the_level_the_restore_left():
    before = {"clusters": [{"name": "Db-Cluster", "drs": {"enabled": True, "automation_level": "partiallyAutomated"}}]}
    assert report.drs_entry("Db-Cluster", "CHG1", level_of(before, "Db-Cluster"), "partiallyAutomated", None) == {
        "cluster": "Db-Cluster", "before": "partiallyAutomated", "during": "manual", "after": "partiallyAutomated",
        "record_left": False, "restore_error": None}
    # not restored by anyone: unknown, never guessed; another window's record is not this window's
    assert report.drs_entry("Db-Cluster", "CHG1", "manual", None, {"window": "CHG2"})["record_left"] is False
    assert level_of({"clusters": [{"name": "Off", "drs": {"enabled": False}}]}, "Off") == "disabled"
    assert level_of(before, "Missing") is None


def test_stats_summary_is_flat():
    stats = report.stats(report.window_report("k", "CHG1", "a", "b", wsfc_plan(), [], check_mode=True))
    assert stats["window"] == "CHG1" and stats["result"] == "planned" and stats["nodes"] == 3 and stats["kind"] == "k"


def test_assessment_warnings_reach_the_report():
    findings = [{"id": "MS-04", "severity": "warning", "subject": "SQLCLU01", "message": "cannot confirm the heartbeat allow",
                 "remedy": "dsm_firewall_rule", "evidence": {}}]
    result = report.window_report("k", "CHG1", "a", "b", wsfc_plan(findings=findings), [])
    assert result["findings"][0]["id"] == "MS-04"
    assert "| MS-04 | warning | SQLCLU01 |" in report.report_markdown(result)


def test_a_pending_reboot_is_reported_per_node():
    """msiexec 3010 only: 1641 means the installer started the restart itself, which the window treats as a
    failed step that leaves the node alone (decide.after_wsfc_failure)."""
    after = {"nodes": [], "agents": {"SQL-NODE2": "20.0.1-690"}, "reboots": {"SQL-NODE2": True}}
    result = report.window_report("k", "CHG1", "a", "b", wsfc_plan(), [], after=after)
    assert [node["reboot_required"] for node in result["nodes"]] == [True, False, False]
    assert result["summary"]["reboot_required"] == 1 and result["nodes"][0]["agent_after"] == "20.0.1-690"
    assert "Reboot pending (msiexec 3010; the window never reboots a cluster node): SQL-NODE2" in \
        report.report_markdown(result)


def test_states_before_and_after_and_the_roles_after_the_window():
    before = cluster_facts({"SQL-NODE2": "Paused"})
    after = dict(cluster_facts(), groups=[{"name": "SQL", "owner_node": "SQL-NODE3", "state": "Online"}])
    result = report.window_report("k", "CHG1", "a", "b", wsfc_plan(), [], before=before, after=after,
                                  not_in_run=["SQL-NODE4"], stopped_early="the time budget of 60 s is spent",
                                  failure={"step": "window", "message": "vCenter could not be read"})
    node = result["nodes"][0]
    assert (node["state_before"], node["state_after"]) == ("Paused", "Up")
    markdown = report.report_markdown(result)
    assert "- Not in this run (limit): SQL-NODE4" in markdown
    assert "## Failure\n\nwindow: vCenter could not be read" in markdown
    assert "- No further member was taken out: the time budget of 60 s is spent" in markdown
    assert "| SQL | SQL-NODE3 | Online |" in markdown


# --- the NLB section -------------------------------------------------------------------------------------

def nlb_plan():
    return planning.plan_nlb(WEB, nlb_facts(), "CHG1", version="20.0.1-690")


def taps(*hosts):
    return dict((host, [{"window": "CHG1", "change": "network_engine_mode", "since": "2026-11-26T10:00:00Z",
                         "data": {"previous_mode": "Inline"}}]) for host in hosts)


def test_nlb_section_and_markdown():
    farm_plan = nlb_plan()
    steps = [{"node": host, "step": "verified", "start": "t", "result": "ok"} for host in WEB]
    base = report.window_report("nlb_agent_rollout", "CHG1", "s", "e", farm_plan, steps)
    result = report.nlb_section(base, farm_plan, modes_before={}, modes_after={"WEB1": "Tap"},
                                exclusions=["clustersafe NLB WEBFARM heartbeat bypass (incoming)"], converged_seen=2)
    assert result["result"] == "succeeded" and result["nlb"]["fewest_converged_seen"] == 2
    assert result["summary"]["phase"] == "rollout" and result["nlb"]["converged_before"] == WEB
    text = report.report_markdown(result)
    assert "| WEB1 | - | Tap |" in text and "fewest seen: 2" in text
    assert "- Exclusion rules assigned: clustersafe NLB WEBFARM heartbeat bypass (incoming)" in text
    assert "not measured" in report.report_markdown(report.nlb_section(base, farm_plan))


def test_report_of_a_refused_switch():
    base = report.window_report("nlb_inline", "CHG1", "s", "e", {}, [])
    base["result"] = "succeeded"
    check = tap.inline_check(taps("WEB1"), "CHG1", NOW, 60, event_source="lab", invalid_flags={"WEB1": 3})
    result = report.nlb_section(base, inline=check, phase="inline")
    assert result["result"] == "refused" and result["summary"]["result"] == "refused"
    text = report.report_markdown(result)
    assert "- Stays in Tap: Invalid Flags" in text and "- Switched to Inline: no" in text


def test_a_switch_with_nothing_to_do_is_not_refused():
    base = dict(report.window_report("nlb_inline", "CHG1", "s", "e", {}, []), result="succeeded")
    check = tap.inline_check({}, "CHG1", NOW, 60, reviewed=True)
    result = report.nlb_section(base, inline=check, phase="inline")
    assert result["result"] == "succeeded"
    assert "- Nothing to do: no host carries a Tap record of window CHG1" in report.report_markdown(result)


def test_a_failure_in_check_mode_is_not_planned():
    """The report itself says failed (a refused or failed plan fails in check mode too), with or without its NLB
    section."""
    base = report.window_report("nlb_agent_rollout", "CHG1", "s", "e", {}, [], failure={"message": "x"},
                                check_mode=True)
    assert base["result"] == "failed" and report.nlb_section(base)["result"] == "failed"


def test_intrusion_prevention_turned_off_is_listed():
    farm_plan = dict(nlb_plan(), intrusion_prevention_on=["WEB1"])
    text = report.report_markdown(report.nlb_section(report.window_report("k", "CHG1", "s", "e", farm_plan, []),
                                                     farm_plan))
    assert "- Intrusion Prevention turned off (NLB-01): WEB1" in text


# --- the report across units --------------------------------------------------------------------------------

def cluster_report(cluster, result, spans):
    nodes = [{"host": host, "outcome": "changed" if result == "succeeded" else "failed",
              "steps": [{"step": "drain", "start": start, "end": None}, {"step": "verified", "start": end, "end": end}]}
             for host, start, end in spans]
    return {"cluster": cluster, "result": result, "started": spans[0][1], "ended": spans[-1][2], "nodes": nodes,
            "drs": [{"cluster": "Prod", "before": "fullyAutomated", "after": "fullyAutomated", "record_left": False}]}


def test_the_estate_report_proves_the_limits_from_the_timelines():
    reports = {
        "c1": cluster_report("CLU1", "succeeded", [("a1", "T01", "T03"), ("a2", "T03", "T05")]),
        "c2": cluster_report("CLU2", "succeeded", [("b1", "T02", "T04")]),
    }
    estate = report.estate_report("wsfc_estate", "CHG1", reports, max_nodes_out=2,
                                  files={"c1": "CHG1-c1-wsfc_agent_rollout.json"})
    assert estate["result"] == "succeeded"
    assert estate["limits"] == {"most_nodes_out": 2, "most_nodes_out_in_one_cluster": 1, "kept": True}
    assert estate["started"] == "T01" and estate["ended"] == "T05"
    assert estate["drs"][0]["failover_clusters"] == ["c1", "c2"]
    assert estate["clusters"][0]["report"] == "CHG1-c1-wsfc_agent_rollout.json"
    markdown = report.estate_markdown(estate, {"c1": "# Window CHG1\n\ntext\n"})
    assert "| c1 | CLU1 | succeeded |" in markdown and "## Window CHG1" in markdown
    assert report.stats(estate)["most_nodes_out"] == 2


def test_more_members_out_than_the_cap_break_the_limit():
    reports = {"c1": cluster_report("CLU1", "succeeded", [("a1", "T01", "T03")]),
               "c2": cluster_report("CLU2", "succeeded", [("b1", "T02", "T04")])}
    estate = report.estate_report("wsfc_estate", "CHG1", reports, max_nodes_out=1)
    assert estate["limits"]["most_nodes_out"] == 2 and not estate["limits"]["kept"]
    assert "Most nodes out at once: 2 across the estate (cap 1)" in report.estate_markdown(estate)


def test_overlapping_nodes_of_one_cluster_break_the_limit():
    reports = {"c1": cluster_report("CLU1", "succeeded", [("a1", "T01", "T03"), ("a2", "T02", "T04")])}
    estate = report.estate_report("wsfc_estate", "CHG1", reports)
    assert estate["limits"]["most_nodes_out_in_one_cluster"] == 2 and not estate["limits"]["kept"]


def test_the_estate_result_is_the_worst_unit_result():
    """A refused or failed unit shows through check mode: a refused plan fails in check mode too (invariant 10);
    an estate whose units all planned is planned."""
    ok = cluster_report("CLU1", "succeeded", [("a1", "T01", "T02")])
    failed = cluster_report("CLU2", "failed", [("b1", "T01", "T02")])
    refused = dict(cluster_report("CLU3", "refused", [("c1", "T01", "T02")]), nodes=[])
    planned = dict(ok, result="planned")
    assert report.estate_report("k", "W", {"c1": ok, "c2": failed, "c3": refused})["result"] == "failed"
    assert report.estate_report("k", "W", {"c1": ok, "c3": refused})["result"] == "refused"
    assert report.estate_report("k", "W", {"c1": planned}, check_mode=True)["result"] == "planned"
    assert report.estate_report("k", "W", {"c1": planned, "c3": refused}, check_mode=True)["result"] == "refused"
    assert report.estate_report("k", "W", {"c1": ok, "c2": dict(ok, result="incomplete")})["result"] == "incomplete"
    assert report.estate_report("k", "W", {})["result"] == "refused"


def test_a_unit_that_stopped_before_its_plan_failed_and_says_why():
    """Every unit has a report, even one whose window stopped before its plan: its failure says why."""
    stopped = report.window_report("wsfc_agent_rollout", "W", "s", "e", {}, [],
                                   failure={"step": "window", "message": "vCenter could not be read"})
    failed = dict(cluster_report("CLU2", "failed", [("b1", "T1", "T2")]),
                  failed_nodes=[{"node": "b1", "step": "agent", "message": "exit code 1603"}])
    estate = report.estate_report("wsfc_estate", "W", {"c1": stopped, "c2": failed})
    assert estate["result"] == "failed"
    assert estate["clusters"][0]["message"] == "vCenter could not be read"
    assert estate["clusters"][1]["message"] == "b1 failed at agent: exit code 1603"


def test_why_a_unit_did_not_succeed_names_blockers_early_stops_and_what_is_held():
    blocked = {"result": "refused", "blockers": [{"subject": "SQL-NODE3", "message": "is Down"}],
               "stopped_early": "the time budget of 60 s is spent", "held": {"drs": ["Prod"], "records": {}}}
    assert report._why(blocked) == ("SQL-NODE3: is Down; stopped early: the time budget of 60 s is spent; DRS of Prod is "
                                    "still at manual with its record: run clustersafe.deep_security.recover")
    assert report._why({"result": "incomplete"}) == "incomplete"


def farm_report(farm, result, spans, fewest=2, needed=2, inline=None):
    built = dict(cluster_report(farm, result, spans), drs=[])
    built["nlb"] = {"phase": "rollout" if inline is None else "inline", "farm": farm, "min_converged": needed,
                    "fewest_converged_seen": fewest, "exclusion_rules": ["clustersafe NLB %s heartbeat" % farm],
                    "network_engine_mode_after": {spans[0][0]: "Tap"} if spans else {}, "inline": inline}
    return built


def test_the_farm_estate_report_keeps_each_farms_converged_minimum():
    reports = {"A": farm_report("WEBFARM", "succeeded", [("WEB1", "T01", "T03"), ("WEB2", "T03", "T05")]),
               "B": farm_report("WEBFARM02", "succeeded", [("WEB02-1", "T02", "T04")])}
    estate = report.estate_report("nlb_estate", "CHG1", reports, nlb=True)
    assert estate["kind"] == "nlb_estate" and estate["result"] == "succeeded"
    assert estate["limits"] == {"most_nodes_out": 2, "most_nodes_out_in_one_cluster": 1, "kept": True,
                                "min_converged_kept": True}
    assert estate["drs"] == []
    assert estate["clusters"][0]["nlb"] == {"farm": "WEBFARM", "min_converged": 2, "fewest_converged_seen": 2,
                                            "min_converged_kept": True, "exclusion_rules": ["clustersafe NLB WEBFARM heartbeat"],
                                            "network_engine_mode_after": {"WEB1": "Tap"}}
    markdown = report.estate_markdown(estate, unit_word="farm")
    assert markdown.startswith("# Window CHG1 across 2 farm(s): succeeded")
    assert "| A | WEBFARM | succeeded | 2 | 0 | 2 (2) |" in markdown
    assert "Every farm kept the Converged hosts it needed: yes" in markdown and "## DRS" not in markdown
    assert report.stats(estate)["kind"] == "nlb_estate"


def test_a_farm_below_its_converged_minimum_breaks_the_limits():
    reports = {"f1": farm_report("WEBFARM", "succeeded", [("WEB1", "T01", "T02")], fewest=1, needed=2)}
    estate = report.estate_report("nlb_estate", "CHG1", reports, nlb=True)
    assert estate["limits"]["min_converged_kept"] is False and estate["limits"]["kept"] is False
    assert "Converged hosts it needed: no" in report.estate_markdown(estate, unit_word="farm")
    unmeasured = {"f1": farm_report("WEBFARM", "succeeded", [("WEB1", "T01", "T02")], fewest=None)}
    assert report.estate_report("nlb_estate", "CHG1", unmeasured, nlb=True)["limits"]["min_converged_kept"] is True


def test_a_farm_that_stays_in_tap_says_why():
    inline = {"ready": False, "reasons": ["Invalid Flags (firewall event 101) since the Tap switch: WEB1"]}
    refused = dict(farm_report("WEBFARM", "refused", [("WEB1", "T1", "T2")], inline=inline), nodes=[])
    ok = dict(farm_report("WEBFARM02", "succeeded", [("WEB02-1", "T1", "T2")], inline={"ready": True, "reasons": []}),
              nodes=[])
    estate = report.estate_report("nlb_inline_estate", "CHG1", {"f1": refused, "f2": ok}, nlb=True)
    assert estate["result"] == "refused"
    assert estate["clusters"][0]["message"] == ("the farm stays in Tap: Invalid Flags (firewall event 101) since the Tap "
                                                "switch: WEB1")
    assert estate["clusters"][1]["message"] == ""
    assert "## Why not every farm succeeded" in report.estate_markdown(estate, unit_word="farm")


def test_failover_cluster_reports_say_their_kind():
    """The caller names the estate's kind (kinds.WSFC.estate_kind); a report never guesses it."""
    estate = report.estate_report("wsfc_estate", "W", {"c1": cluster_report("CLU1", "succeeded", [("a1", "T01", "T02")])})
    assert estate["kind"] == "wsfc_estate" and "nlb" not in estate["clusters"][0]
    markdown = report.estate_markdown(estate)
    assert markdown.startswith("# Window W across 1 cluster(s)")
    assert "| vSphere cluster | Before | After | Held for | Record left |" in markdown
    assert report.stats(estate)["kind"] == "wsfc_estate"


def test_most_at_once_counts_an_end_meeting_the_next_start_as_one():
    assert report.most_at_once([("T1", "T2", "a"), ("T2", "T3", "b")]) == 1
    assert report.most_at_once([("T1", "T3", "a"), ("T2", "T4", "b"), ("T2", "T5", "c")]) == 3
    assert report.most_at_once([]) == 0


# --- HTML ---------------------------------------------------------------------------------------------------

def full_report():
    steps = [{"node": "SQL-NODE2", "step": "drain", "start": "2026-12-06T03:00:00.000000Z", "end": "2026-12-06T03:00:10Z",
              "result": "ok"},
             {"node": "SQL-NODE2", "step": "agent", "start": "2026-12-06T03:00:10Z", "end": "2026-12-06T03:01:00Z",
              "result": "failed", "message": "msiexec 1603"},
             {"node": "SQL-NODE3", "step": "drain", "start": "not a time", "result": "ok"}]
    drs = [report.drs_entry("Prod", "CHG1", "manual", None, None, "refused")]
    built = report.window_report(
        "wsfc_agent_rollout", "CHG1", "s", "e", wsfc_plan(), steps, drs=drs,
        failed_nodes=[{"node": "SQL-NODE2", "step": "agent", "message": "msiexec 1603", "left": "paused",
                       "put_back_error": "the node did not answer"}],
        failure={"node": "SQL-NODE2", "message": "msiexec 1603"}, stopped_early="more than 0 node(s) failed",
        held={"drs": ["Prod"], "records": {"SQL-NODE2": ["node_drained"]}})
    built["blockers"] = [{"subject": "b", "message": "m", "remedy": "r"}]
    built["findings"] = [{"id": "MS-04", "severity": "warning", "subject": "s", "message": "m", "remedy": "r"}]
    return report.nlb_section(built, nlb_plan(), modes_before={"WEB1": "Inline"}, modes_after={"WEB1": "Tap"},
                              exclusions=["rule"])


def test_the_html_page_is_self_contained_with_a_timeline():
    page = report.report_html(full_report())
    assert page.startswith("<!DOCTYPE html>") and "default-src 'none'" in page and "<script" not in page
    assert '<span class="result failed">failed</span>' in page
    assert "<h2>Timeline</h2>" in page and 'class="seg bad"' in page and 'class="seg ok"' in page
    assert "<h2>Still held</h2>" in page and "<h2>DRS held</h2>" in page and "<h2>NLB farm WEBFARM</h2>" in page
    assert "putting it back failed: the node did not answer" in report.report_markdown(full_report())
    assert "Timeline" not in report.report_html(report.window_report("k", "CHG1", "s", "e", wsfc_plan(), []))
    # a result the page does not know is shown as a failure
    assert '<span class="result failed">odd</span>' in report.report_html({"result": "odd"})


def test_the_estate_page_holds_each_units_page():
    units = {"c1": full_report(), "c2": report.window_report("k", "CHG1", "s", "e", wsfc_plan(), [], check_mode=True)}
    estate = report.estate_report("wsfc_estate", "CHG1", units)
    page = report.estate_html(estate, units)
    assert page.count("<!DOCTYPE html>") == 1 and page.count("<h1>") == 1 and page.count("<hr>") == 2
    assert "Window CHG1 across 2 cluster(s)" in page and page.rstrip().endswith("</body></html>")


# --- every value renders as exactly its text ---------------------------------------------------------------

MARKER = "qzxmarkerqzx"
# what the renderers make of a value (the one escaping rule per format): Markdown turns line breaks into spaces,
# both drop control characters other than whitespace (WHATWG HTML: control-character-in-input-stream)
LINE_BREAKS = re.compile("[\r\n\u2028\u2029\x0b\x0c\x85]+")
HTML_WHITESPACE = "\t\n\x0c\r"
NASTY = ["|", "\n", "\r", "\r\n", "`", "``code``", "[x](http://e)", "![i](http://e/i.png)", "<img src=x onerror=alert(1)>",
         "<script>alert(1)</script>", "www.x.com", "a@b.c", "http://e.com", "//e.com", "#", "# h", "1.", "1. x", "-", "- x",
         "+ x", "* x", "> q", "~~d~~", "~d~", "*e*", "_e_", "__s__", "**s**", "\\", "&amp;", "&#64;", "&lt;b&gt;",
         "<b>", "</td>", "---", "===", "    ", "\t", "a #", " ##", "10) x", "\x00", "\x1b[31m", "\x7f", "\x9b",
         "\u2028", "\x85", "\x0b", "<!-- c -->", "<http://e.com>", "<a@b.c>", "[x]: http://e", "^[n]", "[^1]", ":smile:",
         "| --- |", "\\|", "$x$", "{x}", "a\u00a0b", "\ufeff"]
VALUES = st.one_of(st.text(), st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=4)), max_size=6).map("".join))


def names_ok(value):
    """An inventory host name, and so a unit's key, is never blank (a blank order reads "none")."""
    return re.sub(r"[\s\x00-\x1f\x7f-\x9f]", "", value) != ""


NAMES = VALUES.filter(names_ok)
FORBIDDEN = ("a", "img", "em", "strong", "code", "del", "s", "script")


def renderer():
    markdown = MarkdownIt("gfm-like", {"linkify": True})
    markdown.linkify.set({"fuzzy_link": False})
    return markdown


MARKDOWN = renderer()


def drop_controls(text):
    return "".join(char for char in text if char in HTML_WHITESPACE or unicodedata.category(char) != "Cc")


def as_markdown_text(value):
    return drop_controls(LINE_BREAKS.sub(" ", value))


class Tree(HTMLParser):
    """The elements of a page in document order: (tag, attributes, text of the element and its descendants)."""

    VOID = ("br", "hr", "img", "meta", "input", "link")

    def __init__(self, page):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.elements, self.open = [], []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        element = [tag, dict(attrs), ""]
        self.elements.append(element)
        if tag not in self.VOID:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append([tag, dict(attrs), ""])

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for element in self.open:
            element[2] += data


def squeeze(text):
    """Whitespace at the edges of a cell or a line is not part of a value, and Markdown trims it."""
    return re.sub(r"\s+", " ", text).strip()


def assert_renders_as_text(page_of, value, expected_of, squeezed):
    """``page_of(value)`` shows ``value`` as ``expected_of(value)`` wherever ``page_of(MARKER)`` shows the marker, with
    the same elements in the same order (no element and no table row from the value)."""
    baseline, page = Tree(page_of(MARKER)), Tree(page_of(value))
    assert [element[0] for element in page.elements] == [element[0] for element in baseline.elements], page_of(value)
    for tag in FORBIDDEN + ("tr",):
        assert sum(1 for element in page.elements if element[0] == tag) == \
            sum(1 for element in baseline.elements if element[0] == tag)
    expected = expected_of(value)
    found = 0
    for index, (tag, attrs, text) in enumerate(baseline.elements):
        if MARKER in text:
            want, got = text.replace(MARKER, expected), page.elements[index][2]
            assert (squeeze(got) == squeeze(want)) if squeezed else (got == want), (tag, got, want)
            found += 1
        for name, attribute in attrs.items():
            if attribute and MARKER in attribute:
                assert page.elements[index][1][name] == attribute.replace(MARKER, expected)
    assert found, "the marker is nowhere in the page"


def unit_report(field, value):
    """A failover-cluster window report with ``value`` in one kind of field."""
    host = value if field == "node" else "SQL-NODE2"
    message = value if field == "step message" else "msiexec 1603"
    entry = {"host": host, "computer": host, "maintain": True, "roles": [], "core_groups": [], "agent_actions": ["install"],
             "agent_before": None, "agent_target": "20.0.1-690", "vm": None, "vsphere_cluster": None}
    result_plan = {"cluster": "SQLCLU01", "order": [host], "nodes": [entry], "drs_clusters": ["Prod"],
                   "blockers": [{"subject": "SQL-NODE3", "message": value if field == "blocker message" else "is Down",
                                 "remedy": "bring it back"}],
                   "findings": [{"id": "MS-04", "severity": "warning", "subject": "SQLCLU01",
                                 "message": value if field == "finding" else "cannot confirm", "remedy": "allow it"}]}
    steps = [{"node": host, "step": "drain", "start": "2026-12-06T03:00:00Z", "end": "2026-12-06T03:00:05Z", "result": "ok"},
             {"node": host, "step": "agent", "start": "2026-12-06T03:00:05Z", "end": "2026-12-06T03:01:00Z",
              "result": "failed", "message": message}]
    drs = [report.drs_entry("Prod", "CHG1", "fullyAutomated", None, {"window": "CHG1"},
                            value if field == "drs error" else "vCenter refused")]
    return report.window_report(
        "wsfc_agent_rollout", "CHG1", "s", "e", result_plan, steps, drs=drs,
        after={"agents": {}, "reboots": {host: True}},
        failed_nodes=[{"node": host, "step": "agent", "message": message, "left": "paused"}],
        failure={"node": host, "message": message}, held={"drs": [], "records": {host: ["node_drained"]}})


FIELDS = ("node", "step message", "blocker message", "drs error", "finding")


@pytest.mark.parametrize("field", FIELDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=VALUES)
@example(value="a|b\nc")
@example(value="[x](http://e)")
@example(value="<img src=x onerror=alert(1)>")
@example(value="www.x.com a@b.c //x.com")
@example(value="# heading #")
@example(value="1. item")
@example(value="- item")
@example(value="a #")
@example(value="\x9b31m\x1b[0m")
def test_a_value_in_the_markdown_report_renders_as_exactly_its_text(field, value):
    assume(field != "node" or names_ok(value))
    assert_renders_as_text(lambda text: MARKDOWN.render(report.report_markdown(unit_report(field, text))), value,
                           as_markdown_text, squeezed=True)


@pytest.mark.parametrize("field", FIELDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=VALUES)
@example(value="<img src=x onerror=alert(1)>\"'")
@example(value="</td></tr></table><script>alert(1)</script>")
@example(value="<h1>x</h1><body>")
@example(value="\x0b\x85\x9b")
def test_a_value_in_the_html_report_renders_as_exactly_its_text(field, value):
    assume(field != "node" or names_ok(value))
    assert_renders_as_text(lambda text: report.report_html(unit_report(field, text)), value, drop_controls,
                           squeezed=False)


def estate_of(value):
    unit = unit_report("node", value)
    unit["result"] = "failed"
    units = {"u-" + value: unit, "other": report.window_report("k", "CHG1", "s", "e", {}, [], check_mode=True)}
    return report.estate_report("wsfc_estate", "CHG1", units), units


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=NAMES)
@example(value="<img src=x onerror=alert(1)>")
@example(value="# x #")
def test_a_value_in_the_estate_reports_renders_as_exactly_its_text(value):
    def markdown(text):
        estate, units = estate_of(text)
        return MARKDOWN.render(report.estate_markdown(estate, dict((key, report.report_markdown(built))
                                                                   for key, built in units.items())))

    def page(text):
        estate, units = estate_of(text)
        return report.estate_html(estate, units)
    assert_renders_as_text(markdown, value, as_markdown_text, squeezed=True)
    assert_renders_as_text(page, value, drop_controls, squeezed=False)
