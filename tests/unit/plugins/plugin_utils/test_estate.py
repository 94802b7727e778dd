"""The decisions of a window across many failover clusters (plugins/plugin_utils/estate.py)."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils import estate
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.estate import EstatePlanError


def plan(order, drs=(), blockers=()):
    return {"order": list(order), "drs_clusters": list(drs), "blockers": list(blockers)}


# --- clusters of a window -------------------------------------------------------------------------------

def test_nodes_without_a_cluster_variable_are_one_cluster():
    assert estate.cluster_groups(["N1", "N2"], {}) == [{"key": "cluster", "nodes": ["N1", "N2"]}]


def test_nodes_group_by_their_cluster_variable_in_inventory_order():
    groups = estate.cluster_groups(["B1", "A1", "B2", "A2"], {"B1": "CLU-B", "A1": "CLU-A", "B2": "CLU-B", "A2": "clu-a"})
    assert groups == [{"key": "CLU-B", "nodes": ["B1", "B2"]}, {"key": "CLU-A", "nodes": ["A1", "A2"]}]


def test_a_node_without_its_cluster_is_named():
    with pytest.raises(EstatePlanError, match="not set for N3 .*set it on every node"):
        estate.cluster_groups(["N1", "N3"], {"N1": "CLU1", "N3": ""})


def test_a_cluster_key_that_cannot_name_a_host_is_refused():
    with pytest.raises(EstatePlanError, match="short name"):
        estate.cluster_groups(["N1"], {"N1": "CLU 1"})


def test_no_nodes_is_refused_naming_the_variable():
    with pytest.raises(EstatePlanError, match="wsfc_rollout_hosts"):
        estate.cluster_groups([], {})


# --- rounds --------------------------------------------------------------------------------------------

def test_without_a_cap_every_cluster_moves_one_node_per_round():
    plans = {"c1": plan(["a2", "a3", "a1"]), "c2": plan(["b1", "b2", "b3"]), "c3": plan(["c1"])}
    result = estate.schedule(plans)
    assert result["rounds"] == [{"c1": "a2", "c2": "b1", "c3": "c1"}, {"c1": "a3", "c2": "b2"}, {"c1": "a1", "c2": "b3"}]
    assert result["last_round"] == {"c1": 2, "c2": 2, "c3": 0}


def test_a_cap_limits_nodes_out_and_the_longest_clusters_go_first():
    plans = dict(("c%d" % index, plan(["n%d-%d" % (index, node) for node in range(1, 4)])) for index in range(1, 4))
    plans["c4"] = plan(["n4-1"])
    result = estate.schedule(plans, max_nodes_out=2)
    assert all(len(entry) <= 2 for entry in result["rounds"])
    # every cluster's nodes in its own order, each exactly once
    for host, entry in plans.items():
        assert [item[host] for item in result["rounds"] if host in item] == entry["order"]
    # 10 nodes, 2 at a time: 5 rounds, the least possible
    assert len(result["rounds"]) == 5


def test_a_cluster_with_blockers_or_no_plan_takes_no_round_and_holds_nothing():
    plans = {"ok": plan(["n1"], drs=["Prod"]), "blocked": plan(["m1"], drs=["Prod"], blockers=[{"subject": "m1"}]),
             "broken": None}
    result = estate.schedule(plans)
    assert result["rounds"] == [{"ok": "n1"}]
    assert result["last_round"] == {"blocked": -1, "broken": -1, "ok": 0}
    assert result["drs"] == {"Prod": {"owner": "ok", "users": ["ok"]}}


def test_a_bad_cap_names_the_variable():
    for cap in (-1, "two"):
        with pytest.raises(EstatePlanError, match="wsfc_agent_rollout_max_nodes_out"):
            estate.schedule({"c1": plan(["n1"])}, cap)


# --- DRS held once per vSphere cluster, released when its last failover cluster is done ---------------

def shared_estate():
    return estate.schedule({"c1": plan(["a1", "a2"], drs=["Prod"]), "c2": plan(["b1"], drs=["Prod", "Db"]),
                            "c3": plan(["c1"], drs=["Db"]), "c4": plan([], drs=["Web"])})


def test_each_vsphere_cluster_is_held_by_one_owner():
    result = shared_estate()
    holds = [name for host in result["hosts"] for name in estate.drs_to_hold(result, host)]
    assert sorted(holds) == ["Db", "Prod"]
    assert estate.drs_to_hold(result, "c1") == ["Prod"] and estate.drs_to_hold(result, "c2") == ["Db"]


def test_the_owner_releases_only_when_every_user_is_done():
    result = shared_estate()
    assert estate.drs_to_release(result, "c1", ["c1"], []) == []
    assert estate.drs_to_release(result, "c1", ["c1", "c2"], []) == ["Prod"]
    # a user that is not the owner waits for the owner, except at the end of its window
    assert estate.drs_to_release(result, "c3", ["c2", "c3"], []) == []
    assert estate.drs_to_release(result, "c2", ["c2", "c3"], []) == ["Db"]
    assert estate.drs_to_release(result, "c3", ["c2", "c3"], [], at_finish=True) == ["Db"]
    assert estate.drs_to_release(result, "c2", ["c1", "c2", "c3"], ["Db"]) == []


# --- the estate report ---------------------------------------------------------------------------------

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
    report = estate.estate_report("CHG1", reports, max_nodes_out=2, files={"c1": "CHG1-c1-wsfc_agent_rollout.json"})
    assert report["result"] == "succeeded"
    assert report["limits"] == {"most_nodes_out": 2, "most_nodes_out_in_one_cluster": 1, "kept": True}
    assert report["started"] == "T01" and report["ended"] == "T05"
    assert report["drs"][0]["failover_clusters"] == ["c1", "c2"]
    assert report["clusters"][0]["report"] == "CHG1-c1-wsfc_agent_rollout.json"
    markdown = estate.estate_markdown(report, {"c1": "# Window CHG1\n\ntext\n"})
    assert "| c1 | CLU1 | succeeded |" in markdown and "## Window CHG1" in markdown
    assert estate.estate_stats(report)["most_nodes_out"] == 2


def test_overlapping_nodes_of_one_cluster_break_the_limit():
    reports = {"c1": cluster_report("CLU1", "succeeded", [("a1", "T01", "T03"), ("a2", "T02", "T04")])}
    report = estate.estate_report("CHG1", reports)
    assert report["limits"]["most_nodes_out_in_one_cluster"] == 2 and not report["limits"]["kept"]


def test_the_estate_result_is_the_worst_cluster_result():
    ok = cluster_report("CLU1", "succeeded", [("a1", "T01", "T02")])
    failed = cluster_report("CLU2", "failed", [("b1", "T01", "T02")])
    refused = dict(cluster_report("CLU3", "refused", [("c1", "T01", "T02")]), nodes=[])
    assert estate.estate_report("W", {"c1": ok, "c2": failed, "c3": refused})["result"] == "failed"
    assert estate.estate_report("W", {"c1": ok, "c3": refused})["result"] == "refused"
    assert estate.estate_report("W", {"c1": ok}, check_mode=True)["result"] == "planned"


def test_the_printed_schedule_names_rounds_and_holds():
    lines = estate.schedule_lines(shared_estate(), "CHG1", 2)
    assert lines[0] == "window CHG1 across 4 failover cluster(s), at most 2 node(s) out at once"
    assert "round 1: c1 a1, c2 b1, c3 c1" in lines
    assert "DRS of Prod held once, by c1, for c1, c2" in lines


def test_a_cluster_without_a_report_failed_and_says_why():
    failed = dict(cluster_report("CLU2", "failed", [("b1", "T1", "T2")]),
                  failed_nodes=[{"node": "b1", "step": "agent", "message": "exit code 1603"}])
    report = estate.estate_report("W", {"c1": None, "c2": failed})
    assert report["result"] == "failed"
    assert "before its plan" in report["clusters"][0]["message"]
    assert report["clusters"][1]["message"] == "b1 failed at agent: exit code 1603"


# --- NLB farms (kind nlb) -------------------------------------------------------------------------------

def farm_report(farm, result, spans, fewest=2, needed=2, inline=None):
    report = dict(cluster_report(farm, result, spans), drs=[])
    report["nlb"] = {"phase": "rollout" if inline is None else "inline", "farm": farm, "min_converged": needed,
                     "fewest_converged_seen": fewest, "exclusion_rules": ["clustersafe NLB %s heartbeat" % farm],
                     "network_engine_mode_after": {spans[0][0]: "Tap"} if spans else {}, "inline": inline}
    return report


def test_farms_group_by_their_farm_variable_and_errors_name_it():
    assert estate.cluster_groups(["W1", "X1", "W2"], {"W1": "FARM-A", "X1": "FARM-B", "W2": "FARM-A"}, kind="nlb") == [
        {"key": "FARM-A", "nodes": ["W1", "W2"]}, {"key": "FARM-B", "nodes": ["X1"]}]
    assert estate.cluster_groups(["W1", "W2"], {}, kind="nlb") == [{"key": "farm", "nodes": ["W1", "W2"]}]
    with pytest.raises(EstatePlanError, match="nlb_agent_rollout_farm is not set for W3 .*each NLB farm's inventory group"):
        estate.cluster_groups(["W1", "W3"], {"W1": "FARM-A"}, kind="nlb")
    with pytest.raises(EstatePlanError, match="nlb_rollout_hosts"):
        estate.cluster_groups([], {}, kind="nlb")
    with pytest.raises(EstatePlanError, match="nlb_agent_rollout_farm must be a short name"):
        estate.cluster_groups(["W1"], {"W1": "farm a"}, kind="nlb")


def test_an_unknown_estate_kind_is_refused():
    with pytest.raises(EstatePlanError, match="kind must be one of nlb, wsfc"):
        estate.cluster_groups(["W1"], {}, kind="nlb_farm")


def test_two_play_hosts_on_one_cluster_are_found():
    plans = {"f1": {"cluster": "WEBFARM"}, "f2": {"cluster": "webfarm"}, "f3": {"cluster": "WEBFARM02"}, "f4": {}, "f5": None}
    assert estate.shared_clusters(plans) == {"WEBFARM": ["f1", "f2"]}
    assert estate.shared_clusters({"f1": {"cluster": "A"}, "f2": {"cluster": "B"}}) == {}


def test_the_farm_estate_report_keeps_each_farms_converged_minimum():
    reports = {
        "nlb-window-A": farm_report("WEBFARM", "succeeded", [("WEB1", "T01", "T03"), ("WEB2", "T03", "T05")]),
        "nlb-window-B": farm_report("WEBFARM02", "succeeded", [("WEB02-1", "T02", "T04")]),
    }
    report = estate.estate_report("CHG1", reports, keys={"nlb-window-A": "A", "nlb-window-B": "B"}, kind="nlb")
    assert report["kind"] == "nlb_estate" and report["result"] == "succeeded"
    assert report["limits"] == {"most_nodes_out": 2, "most_nodes_out_in_one_cluster": 1, "kept": True,
                                "min_converged_kept": True}
    assert report["drs"] == []
    assert report["clusters"][0]["nlb"] == {"farm": "WEBFARM", "min_converged": 2, "fewest_converged_seen": 2,
                                            "min_converged_kept": True, "exclusion_rules": ["clustersafe NLB WEBFARM heartbeat"],
                                            "network_engine_mode_after": {"WEB1": "Tap"}}
    markdown = estate.estate_markdown(report)
    assert markdown.startswith("# Window CHG1 across 2 NLB farm(s): succeeded")
    assert "| A | WEBFARM | succeeded | 2 | 0 | 2 (2) |" in markdown
    assert "Every farm kept its Converged hosts needed: yes" in markdown and "## DRS" not in markdown
    assert estate.estate_stats(report)["kind"] == "nlb_estate"


def test_a_farm_below_its_converged_minimum_breaks_the_limits():
    reports = {"f1": farm_report("WEBFARM", "succeeded", [("WEB1", "T01", "T02")], fewest=1, needed=2)}
    report = estate.estate_report("CHG1", reports, kind="nlb")
    assert report["limits"]["min_converged_kept"] is False and report["limits"]["kept"] is False
    assert "Converged hosts needed: no" in estate.estate_markdown(report)


def test_a_farm_that_stays_in_tap_says_why():
    inline = {"ready": False, "reasons": ["Invalid Flags (firewall event 101) since the Tap switch: WEB1"]}
    refused = dict(farm_report("WEBFARM", "refused", [("WEB1", "T1", "T2")], inline=inline), nodes=[])
    ok = dict(farm_report("WEBFARM02", "succeeded", [("WEB02-1", "T1", "T2")], inline={"ready": True, "reasons": []}), nodes=[])
    report = estate.estate_report("CHG1", {"f1": refused, "f2": ok}, kind="nlb")
    assert report["result"] == "refused"
    assert report["clusters"][0]["message"] == ("the farm stays in Tap: Invalid Flags (firewall event 101) since the Tap "
                                                "switch: WEB1")
    assert report["clusters"][1]["message"] == ""


def test_failover_cluster_reports_say_their_kind():
    report = estate.estate_report("W", {"c1": cluster_report("CLU1", "succeeded", [("a1", "T01", "T02")])})
    assert report["kind"] == "wsfc_estate" and "nlb" not in report["clusters"][0]
    assert estate.estate_markdown(report).startswith("# Window W across 1 failover cluster(s)")
    # a report written before the kind existed is a failover clusters' report
    assert estate.estate_stats(dict(report, kind=None))["kind"] == "wsfc_estate"


# --- rounds across NLB farms -----------------------------------------------------------------------------

def farm_plan(order, blockers=()):
    """What nlb_rollout_plan gives the schedule: an order, no vSphere clusters."""
    return {"window": "CHG1", "cluster": "F", "order": list(order), "blockers": list(blockers)}


def test_a_cap_of_one_takes_one_host_of_the_whole_estate_per_round():
    plans = {"nlb-window-WEBFARM": farm_plan(["WEB1", "WEB2", "WEB3"]),
             "nlb-window-WEBFARM02": farm_plan(["WEB02-1", "WEB02-2", "WEB02-3"])}
    result = estate.farm_schedule(plans, 1)
    assert [sorted(entry.items()) for entry in result["rounds"]] == [
        [("nlb-window-WEBFARM", "WEB1")], [("nlb-window-WEBFARM02", "WEB02-1")],
        [("nlb-window-WEBFARM", "WEB2")], [("nlb-window-WEBFARM02", "WEB02-2")],
        [("nlb-window-WEBFARM", "WEB3")], [("nlb-window-WEBFARM02", "WEB02-3")]]
    assert result["last_round"] == {"nlb-window-WEBFARM": 4, "nlb-window-WEBFARM02": 5}
    assert result["drs"] == {}
    # without a cap the farms go side by side, one host each per round
    first_round = estate.farm_schedule(plans, 0)["rounds"][0]
    assert first_round == {"nlb-window-WEBFARM": "WEB1", "nlb-window-WEBFARM02": "WEB02-1"}


def test_a_bad_farm_cap_names_the_nlb_variable():
    for cap in (-2, "one"):
        with pytest.raises(EstatePlanError, match=r"nlb_agent_rollout_max_nodes_out must be 0 \(one host per NLB farm"):
            estate.farm_schedule({"f1": farm_plan(["WEB1"])}, cap)


def test_the_printed_farm_schedule_speaks_of_farms_and_hosts():
    result = estate.farm_schedule({"f1": farm_plan(["WEB1", "WEB2"]), "f2": farm_plan(["WEB02-1"])})
    assert estate.farm_schedule_lines(result, "CHG1", 1)[0] == "window CHG1 across 2 NLB farm(s), at most 1 host(s) out at once"
    lines = estate.farm_schedule_lines(result, "CHG1")
    assert lines == ["window CHG1 across 2 NLB farm(s), one host per farm at a time", "round 1: f1 WEB1, f2 WEB02-1",
                     "round 2: f1 WEB2"]
