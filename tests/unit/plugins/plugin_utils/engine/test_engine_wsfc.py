"""The failover-cluster window end to end over the in-process lab: the engine, its backend and the collection's
services against the lab's models. Each scenario ends with the invariants of engine_lab.assert_put_back, or
with exactly what a failure must leave."""
import pytest
from engine_lab import (SQL, Crash, VcenterModel, assert_put_back, leases, new_lab, records, run_recover, run_window,
                        status, wsfc_settings)

ORDER = ["SQL-NODE2", "SQL-NODE3", "SQL-NODE1"]
STEPS = ["drain", "roles_moved", "stop", "agent", "dsm_active", "start", "resume", "verified"]


@pytest.fixture
def lab(tmp_path):
    return new_lab(tmp_path)


@pytest.fixture
def vcenter(lab):
    return VcenterModel(lab.topology)


def report_of(result):
    [report] = result["reports"].values()
    return report


def test_end_to_end_owners_last_no_unplanned_failover(lab, vcenter):
    lines = []
    result, _window = run_window(lab, vcenter, lines=lines)
    report = report_of(result)
    assert report["result"] == "succeeded", report
    assert report["order"] == ORDER
    assert [node["outcome"] for node in report["nodes"]] == ["changed"] * 3
    assert [step["step"] for step in report["nodes"][0]["steps"]] == STEPS
    assert all(step["result"] == "ok" for node in report["nodes"] for step in node["steps"])
    assert report["drs"] == [{"cluster": "Prod-Cluster", "before": "fullyAutomated", "during": "manual",
                              "after": "fullyAutomated", "record_left": False, "restore_error": None}]
    assert report["held"] == {"drs": [], "records": {}}
    assert_put_back(lab, vcenter)
    state = status(lab)
    assert all(state["agents"][node]["version"] == "20.0.1-690" for node in SQL)
    moves = [move for move in state["failovers"] if move["role"] == "SQL Server (MSSQLSERVER)"]
    assert len(moves) == 1 and moves[0]["planned"]
    # one node out at a time: each node's steps end before the next node's begin
    spans = [(node["steps"][0]["start"], node["steps"][-1]["end"]) for node in report["nodes"]]
    assert all(left[1] <= right[0] for left, right in zip(spans, spans[1:]))
    assert any("SQL-NODE2: [drain]" in line for line in lines)


def test_a_second_run_changes_nothing(lab, vcenter):
    run_window(lab, vcenter)
    calls = len(vcenter.calls)
    result, _window = run_window(lab, vcenter)
    report = report_of(result)
    assert report["result"] == "succeeded" and report["order"] == []
    assert [node["outcome"] for node in report["nodes"]] == ["skipped"] * 3
    assert len(vcenter.calls) == calls
    assert_put_back(lab, vcenter)


def test_check_mode_changes_nothing_and_plans(lab, vcenter):
    before = status(lab)
    result, _window = run_window(lab, vcenter, check_mode=True)
    report = report_of(result)
    assert report["result"] == "planned" and report["order"] == ORDER
    after = status(lab)
    assert after["clusters"] == before["clusters"] and after["agents"] == before["agents"]
    assert records(lab) == {} and leases(lab) == {} and vcenter.calls == []


def test_a_refused_plan_is_refused_in_check_mode_too(lab, vcenter):
    lab.windows.state["nodes"]["SQL-NODE3"]["paused"] = True
    lab.windows.state["nodes"]["SQL-NODE3"]["drain_status"] = "Completed"
    result, _window = run_window(lab, vcenter, check_mode=True)
    report = report_of(result)
    assert report["result"] == "refused"
    assert any("SQL-NODE3" in item["message"] and "not by this window" in item["message"] for item in report["blockers"])


@pytest.mark.parametrize("policy_id, words", [
    # Windows Server: Firewall on with one Allow rule for RDP, which denies every other incoming packet
    (2, "MS-04: Firewall is on in policy Windows Server and the failover-cluster heartbeat (UDP 3343) is not let through"),
    # Base Policy: none of Firewall, Intrusion Prevention and Web Reputation on, the driver would load later
    (1, "MS-02: policy Base Policy turns none of Firewall, Intrusion Prevention and Web Reputation on"),
])
def test_an_activation_policy_that_would_hurt_the_cluster_refuses_before_any_change(lab, vcenter, policy_id, words):
    before = status(lab)
    for check_mode in (True, False):
        result, _window = run_window(lab, vcenter, settings=wsfc_settings(policy_id=policy_id), check_mode=check_mode)
        report = report_of(result)
        assert report["result"] == "refused", report
        assert any(words in item["message"] for item in report["blockers"]), report["blockers"]
    after = status(lab)
    assert after["clusters"] == before["clusters"] and after["agents"] == before["agents"]
    assert records(lab) == {} and leases(lab) == {} and vcenter.calls == []


def test_a_cluster_already_at_the_version_is_not_refused_for_its_policy(lab, vcenter):
    run_window(lab, vcenter)
    # later, someone takes the heartbeat pass off the cluster's policy: a window with nothing to do is not refused
    lab.dsm.state["policies"]["3"]["firewallRuleIDs"] = []
    result, _window = run_window(lab, vcenter)
    report = report_of(result)
    assert report["result"] == "succeeded" and report["order"] == [] and report["blockers"] == [], report["blockers"]
    # ... while the same policy refuses a window that has work to do
    result, _window = run_window(lab, vcenter, settings=wsfc_settings(version="20.0.1-3180"))
    assert report_of(result)["result"] == "refused"
    assert any("MS-04" in item["message"] for item in report_of(result)["blockers"])


def test_msi_failure_starts_the_cluster_service_keeps_the_node_paused_and_stops_the_cluster(lab, vcenter):
    lab.windows.set_faults({"msi_exit_next": 1603, "node": "SQL-NODE3"})
    result, _window = run_window(lab, vcenter)
    report = report_of(result)
    assert report["result"] == "failed"
    [failed] = report["failed_nodes"]
    assert failed["node"] == "SQL-NODE3" and failed["step"] == "agent"
    assert failed["left"] == "cluster service running, node paused (records kept: run recover to resume it)"
    nodes = status(lab)["clusters"]["SQLCLU01"]["nodes"]
    assert nodes["SQL-NODE3"]["state"] == "Paused" and nodes["SQL-NODE3"]["cluster_service"] == "Running"
    assert records(lab) == {"SQL-NODE3": ["node_drained"]}
    assert [node["outcome"] for node in report["nodes"]] == ["changed", "failed", "not started"]
    assert "more than 0 node(s) failed" in report["stopped_early"]
    # the run is over: its lease is released, DRS given back, and recover puts the node back at once
    assert leases(lab) == {}
    outcome = run_recover(lab, vcenter)
    assert [(item["system"], item["change"]) for item in outcome["put_back"]] == [("SQL-NODE3", "node_drained")]
    assert_put_back(lab, vcenter)


def test_a_node_paused_by_someone_else_mid_window_is_left_as_found(lab, vcenter):
    # the administrator pauses SQL-NODE1 (the last node) once SQL-NODE3 is done, before its round
    original = lab.windows.script_node_window_record
    paused = []

    def pause_then(node, params):
        answer = original(node, params)
        if not paused and node["name"] == "SQL-NODE3" and params.get("action") == "remove" \
                and "node_drained" in (params.get("changes") or []):
            admin = lab.windows.state["nodes"]["SQL-NODE1"]
            admin["paused"] = True
            admin["drain_status"] = "Completed"
            paused.append(True)
        return answer
    lab.windows.script_node_window_record = pause_then
    result, _window = run_window(lab, vcenter)
    report = report_of(result)
    assert paused and report["result"] == "failed"
    [failed] = report["failed_nodes"]
    assert failed["node"] == "SQL-NODE1" and failed["step"] == "drain"
    assert failed["left"] == "as found (out of service by someone else)" and "not by this window" in failed["message"]
    assert [node["outcome"] for node in report["nodes"]] == ["changed", "changed", "failed"]
    node1 = status(lab)["clusters"]["SQLCLU01"]["nodes"]["SQL-NODE1"]
    assert node1["state"] == "Paused" and node1["cluster_service"] == "Running"
    assert records(lab) == {} and leases(lab) == {}


def test_a_refused_drs_restore_fails_the_window_and_keeps_its_record(lab, vcenter):
    vcenter.refuse_restore = True
    result, _window = run_window(lab, vcenter)
    report = report_of(result)
    assert report["result"] == "failed"
    assert report["held"]["drs"] == ["Prod-Cluster"]
    assert report["drs"][0]["restore_error"] and vcenter.clusters["Prod-Cluster"]["record"] is not None
    vcenter.refuse_restore = False
    # the window has ended: its lease on the cluster ends with it, so recover needs no take-over
    record = vcenter.clusters["Prod-Cluster"]["record"]
    assert record["run"] and record["expires"] == "2026-12-06T00:30:00+00:00"
    assert ("Prod-Cluster", report["window"], "end_lease") in vcenter.calls


def test_a_fresh_lease_of_another_run_refuses_the_cluster_and_names_it(lab, vcenter):
    with pytest.raises(Crash):
        run_window(lab, vcenter, crash_after=20, run_id="aaaaaaaaaaaaaaaa")
    assert leases(lab) and records(lab), "the crashed run holds its lease and left its records"
    result, _window = run_window(lab, vcenter, settings=wsfc_settings(window="CHG-2"), controller="controller-b")
    report = report_of(result)
    assert report["result"] == "refused"
    assert any("aaaaaaaaaaaaaaaa" in item["message"] and "take_over" in item["message"] for item in report["blockers"])
    # recover refuses too, naming the holder; with take_over it puts everything back
    outcome = run_recover(lab, vcenter)
    assert outcome["refused"] and not outcome["put_back"]
    outcome = run_recover(lab, vcenter, take_over="aaaaaaaaaaaaaaaa")
    assert not outcome["refused"] and not outcome["failed"]
    vcenter.drs("Prod-Cluster", "CHG-1", "restored")
    assert_put_back(lab, vcenter)


def test_a_rerun_of_the_crashed_window_takes_over_by_its_run_id_and_completes(lab, vcenter):
    with pytest.raises(Crash):
        run_window(lab, vcenter, crash_after=20, run_id="bbbbbbbbbbbbbbbb")
    result, _window = run_window(lab, vcenter, settings=wsfc_settings(take_over="bbbbbbbbbbbbbbbb"))
    report = report_of(result)
    assert report["result"] == "succeeded", report
    assert_put_back(lab, vcenter)
    assert all(status(lab)["agents"][node]["version"] == "20.0.1-690" for node in SQL)


def test_limit_changes_only_the_limited_node_and_reads_the_rest(lab, vcenter):
    result, _window = run_window(lab, vcenter, settings=wsfc_settings(nodes=["SQL-NODE2"]))
    report = report_of(result)
    assert report["result"] == "succeeded" and report["order"] == ["SQL-NODE2"]
    assert report["not_in_run"] == ["SQL-NODE1", "SQL-NODE3"]
    agents = status(lab)["agents"]
    assert agents["SQL-NODE2"]["version"] == "20.0.1-690" and agents["SQL-NODE1"]["version"] is None
    assert_put_back(lab, vcenter)


@pytest.mark.parametrize("crash_after", [8, 14, 20, 26, 32, 40])
def test_a_controller_killed_at_any_moment_is_put_back_by_recover(lab, vcenter, crash_after):
    with pytest.raises(Crash):
        run_window(lab, vcenter, crash_after=crash_after, run_id="cccccccccccccccc")
    outcome = run_recover(lab, vcenter, take_over="cccccccccccccccc")
    assert not outcome["failed"] and not outcome["refused"], outcome
    if vcenter.clusters["Prod-Cluster"]["record"]:
        vcenter.drs("Prod-Cluster", "CHG-1", "restored")
    assert_put_back(lab, vcenter)


def test_two_runs_launched_at_once_one_works_the_other_is_refused(lab, vcenter):
    """A double click in AWX: the second run finds the first one's fresh lease and changes nothing."""
    import threading
    first_drain = threading.Event()
    second_done = threading.Event()

    def hold_the_first(node, script, params):
        if script == "mscs_node" and params.get("action") == "drain" and not first_drain.is_set():
            first_drain.set()
            second_done.wait(30)
    lab.before_script = hold_the_first
    outcome = {}
    first = threading.Thread(target=lambda: outcome.update(first=run_window(lab, vcenter, controller="controller-a")[0]))
    first.start()
    assert first_drain.wait(30)
    second, _window = run_window(lab, vcenter, controller="controller-b")
    second_done.set()
    first.join(60)
    refused = report_of(second)
    assert refused["result"] == "refused" and refused["order"] == ORDER
    assert any("held by run %s" % outcome["first"]["run"] in item["message"] for item in refused["blockers"])
    assert report_of(outcome["first"])["result"] == "succeeded"
    assert_put_back(lab, vcenter)


def test_a_run_whose_lease_is_taken_over_stops_and_touches_nothing_more(lab, vcenter):
    """Another run takes the lease over while the window works (an operator's take_over): the window finishes
    the step it is in, takes no further node out and says so; it never touches what the new holder owns."""
    import json
    original = lab.windows.script_node_window_record

    def take_over(node, params):
        answer = original(node, params)
        if params.get("action") == "remove" and node["name"] == "SQL-NODE2" and "node_drained" in (params.get("changes") or []):
            holder = lab.windows.state["nodes"]["SQL-NODE1"]
            lease = json.loads(holder["registry_lease"])
            lease.update(run="dddddddddddddddd", controller="controller-x")
            holder["registry_lease"] = json.dumps(lease)
        return answer
    lab.windows.script_node_window_record = take_over
    result, _window = run_window(lab, vcenter)
    report = report_of(result)
    assert report["result"] == "failed"
    assert [node["outcome"] for node in report["nodes"]] == ["changed", "not started", "not started"]
    assert "dddddddddddddddd" in report["failure"]["message"]
    assert status(lab)["agents"]["SQL-NODE3"]["version"] is None
    # the new holder's lease stays: this run never removes what is not its own
    assert "dddddddddddddddd" in leases(lab)["SQL-NODE1"]


def waits_seen(monkeypatch):
    """Every wait for the manager (computer, since_policy_success), as the engine asks it."""
    from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import backend as engine_backend
    seen = []
    original = engine_backend.DsmIO.wait_policy_applied

    def spy(self, computer, timeout, since_policy_success=None):
        seen.append((computer, since_policy_success))
        return original(self, computer, timeout, since_policy_success=since_policy_success)
    monkeypatch.setattr(engine_backend.DsmIO, "wait_policy_applied", spy)
    return seen


def test_an_upgrade_needs_no_new_policy_send_and_the_manager_learns_the_version(lab, vcenter, monkeypatch):
    import hashlib
    run_window(lab, vcenter)
    sent_before = dict((item["host_name"], item["last_send_policy_success"]) for item in lab.dsm.status()["computers"])
    seen = waits_seen(monkeypatch)
    newer = "20.0.1-3180"
    settings = wsfc_settings(window="CHG-2", version=newer, installer_url="https://127.0.0.1:14119/software/agent/Windows/"
                             "x86_64/%s/agent.msi" % newer,
                             installer_sha256=hashlib.sha256(("clustersafe-lab-msi:%s" % newer).encode()).hexdigest())
    result, _window = run_window(lab, vcenter, settings=settings)
    report = report_of(result)
    assert report["result"] == "succeeded", (report.get("failed_nodes"), report["blockers"])
    # no activation, so no send to wait for beyond the usual: the manager shows the new version, same send
    assert sorted(seen) == [(node, None) for node in sorted(SQL)]
    for item in lab.dsm.status()["computers"]:
        assert item["agent_version"] == newer and item["last_send_policy_success"] == sent_before[item["host_name"]]
    assert_put_back(lab, vcenter)


def test_a_reactivation_waits_for_a_policy_send_later_than_the_one_before_it(lab, vcenter, monkeypatch):
    run_window(lab, vcenter)
    sent_before = dict((item["host_name"], item["last_send_policy_success"]) for item in lab.dsm.status()["computers"])
    # SQL-NODE2's agent lost its activation (dsa_control -r by someone): the next window activates it again
    lab.windows.state["nodes"]["SQL-NODE2"]["agent"].update(activated=False, dsm_url=None, policy_id=None)
    seen = waits_seen(monkeypatch)
    result, _window = run_window(lab, vcenter, settings=wsfc_settings(window="CHG-2"))
    assert report_of(result)["result"] == "succeeded", report_of(result).get("failed_nodes")
    # the wait asked for a send later than the one the manager showed before the activation
    assert seen == [("SQL-NODE2", sent_before["SQL-NODE2"])]
    after = dict((item["host_name"], item["last_send_policy_success"]) for item in lab.dsm.status()["computers"])
    assert after["SQL-NODE2"] > sent_before["SQL-NODE2"]
    assert_put_back(lab, vcenter)


def test_recover_between_two_nodes_of_a_live_window_leaves_it_and_its_drs_alone(lab, vcenter):
    """Between two nodes a running window has no record on any node, only its lease: recover still names it
    live (so its DRS record on vCenter stays) and touches nothing."""
    seen = {}

    def between_nodes(node, script, params):
        done_one = status(lab)["agents"]["SQL-NODE2"]["version"] is not None
        if done_one and not seen and not records(lab) and leases(lab):
            seen["running"] = True
            seen["outcome"] = run_recover(lab, vcenter)
    lab.before_script = between_nodes
    result, _window = run_window(lab, vcenter)
    lab.before_script = None
    outcome = seen["outcome"]
    assert outcome["live_windows"] == ["chg-1"], outcome
    assert not outcome["put_back"] and not outcome["failed"], outcome
    assert report_of(result)["result"] == "succeeded"
    assert_put_back(lab, vcenter)


def test_recover_whose_lease_is_taken_over_touches_nothing_more(lab, vcenter):
    import json
    with pytest.raises(Crash):
        run_window(lab, vcenter, crash_after=26, run_id="dddddddddddddddd")
    left = records(lab)
    [(node, changes)] = left.items()
    assert len(changes) >= 2, left
    other = {"run": "eeeeeeeeeeeeeeee", "window": "CHG-9", "holder": "wsfc_window", "controller": "controller-z",
             "unit": "SQLCLU01", "since": "2026-12-06T00:00:00Z", "heartbeat": "2026-12-06T00:00:00Z",
             "expires": "2099-01-01T00:00:00Z"}

    def take_over_mid_recover(host, script, params):
        if script == "window_lease" and params.get("action") == "take":
            other["recover_holds"] = True
        elif other.get("recover_holds") and host == node and not other.get("taken"):
            # another run takes the cluster over while recover puts back the first record
            other["taken"] = True
            lab.windows.state["nodes"]["SQL-NODE1"]["registry_lease"] = json.dumps(
                dict((key, value) for key, value in other.items() if key not in ("taken", "recover_holds")))
    lab.before_script = take_over_mid_recover
    outcome = run_recover(lab, vcenter, take_over="dddddddddddddddd")
    lab.before_script = None
    assert other.get("taken")
    assert any("another run took over the lease" in item["message"] for item in outcome["refused"]), outcome
    # what recover had not begun is left to the run that holds the cluster now
    assert records(lab).get(node), records(lab)
    assert json.loads(leases(lab)["SQL-NODE1"])["run"] == "eeeeeeeeeeeeeeee"
