"""The window's decisions between its steps (plugin_utils/engine/decide.py): which records to undo and how, who
took a member out of service, what to put back after a failed step, and whether the next member goes."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import decide
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.kinds import NLB, WSFC


def record(change, window="CHG1", **data):
    return {"window": window, "change": change, "since": "2026-12-06T03:00:00Z", "controller": "ctl", "data": data}


# --- records ---------------------------------------------------------------------------------------------

def test_records_are_undone_agent_first_then_service_then_drain_and_filtered_by_window():
    records = [{"window": "A", "change": "node_drained"}, {"window": "A", "change": "cluster_service_stopped"},
               {"window": "B", "change": "nlb_node_stopped"}]
    assert [r["change"] for r in decide.records_to_undo(records + [{"window": "a", "change": "agent_maintenance"}], "A")] == [
        "agent_maintenance", "cluster_service_stopped", "node_drained"]
    assert len(decide.records_to_undo(records)) == 3


def test_records_of_several_windows_are_undone_window_by_window_and_unknown_changes_last():
    records = [{"window": "B", "change": "network_engine_mode"}, {"window": "A", "change": "somebody_elses"},
               {"window": "B", "change": "nlb_node_stopped"}, {"window": "A", "change": "node_drained"}]
    assert [(r["window"], r["change"]) for r in decide.records_to_undo(records)] == [
        ("A", "node_drained"), ("A", "somebody_elses"), ("B", "nlb_node_stopped"), ("B", "network_engine_mode")]
    assert decide.records_to_undo(None) == []


def test_records_of_a_window_limited_to_some_changes():
    records = [record("node_drained"), record("cluster_service_stopped", window="chg1"), record("node_drained", "CHG2")]
    assert [r["change"] for r in decide.records_of(records, "CHG1", ["node_drained"])] == ["node_drained"]
    assert len(decide.records_of(records, "Chg1")) == 2
    assert len(decide.records_of(records)) == 3
    assert decide.records_of(records, "CHG1", []) == []


# --- undoing one record --------------------------------------------------------------------------------------

NODE = {"computer": "SQL-NODE2", "installer": "idle", "agent_installed": True}


@pytest.mark.parametrize("change, data, facts, options, steps", [
    # interrupted agent work: the manager must show the first policy applied (the driver's blip is over)
    ("agent_maintenance", {}, NODE, {}, [("wait_policy_applied", {"computer": "SQL-NODE2"}),
                                         ("remove_records", {"changes": ["agent_maintenance"]})]),
    # without the manager, the operator confirms the agent
    ("agent_maintenance", {}, NODE, {"dsm": False, "agent_confirmed": True},
     [("remove_records", {"changes": ["agent_maintenance"]})]),
    # no agent installed (a failed installation rolled back), no activation asked, or an uninstall: nothing to wait for
    ("agent_maintenance", {}, dict(NODE, agent_installed=False), {}, [("remove_records", {"changes": ["agent_maintenance"]})]),
    ("agent_maintenance", {"activation": False}, NODE, {}, [("remove_records", {"changes": ["agent_maintenance"]})]),
    ("agent_maintenance", {"state": "absent"}, NODE, {"dsm": False}, [("remove_records", {"changes": ["agent_maintenance"]})]),
    # the cluster service first (its record goes with the agent's: the service runs again only after the agent)
    ("cluster_service_stopped", {}, NODE, {}, [("start_service", {}),
                                               ("remove_records", {"changes": ["cluster_service_stopped", "agent_maintenance"]})]),
    ("node_drained", {"failback": "immediate"}, NODE, {}, [("resume", {"failback": "immediate"}), ("wait_up", {}),
                                                           ("remove_records", {"changes": ["node_drained"]})]),
    # a failback a window never writes is not trusted: none
    ("node_drained", {"failback": "; Stop-Computer"}, NODE, {}, [("resume", {"failback": "none"}), ("wait_up", {}),
                                                                 ("remove_records", {"changes": ["node_drained"]})]),
    ("nlb_node_stopped", {}, NODE, {}, [("nlb_start", {}), ("remove_records", {"changes": ["nlb_node_stopped"]})]),
    ("network_engine_mode", {"previous_mode": "Inline"}, NODE, {},
     [("set_engine_mode", {"computer": "SQL-NODE2", "mode": "Inline"}), ("remove_records", {"changes": ["network_engine_mode"]})]),
    # the computer had no setting of its own: reset it, so it inherits again
    ("network_engine_mode", {"previous_mode": "Tap", "own_setting": False}, NODE, {},
     [("reset_engine_mode", {"computer": "SQL-NODE2"}), ("remove_records", {"changes": ["network_engine_mode"]})]),
])
def test_undo_steps(change, data, facts, options, steps):
    assert decide.undo_steps(record(change, **data), facts, **options) == (steps, "")


@pytest.mark.parametrize("change, data, facts, options, words", [
    ("agent_maintenance", {}, dict(NODE, installer="running"), {}, "an installer is still running on SQL-NODE2"),
    ("agent_maintenance", {}, dict(NODE, installer="unknown"), {}, "whether an installer still runs on SQL-NODE2 cannot be read"),
    ("agent_maintenance", {}, {"computer": "SQL-NODE2"}, {}, "cannot be read"),
    ("agent_maintenance", {}, NODE, {"dsm": False}, "run recover with recover_agent_confirmed=true"),
    ("network_engine_mode", {"previous_mode": "Off"}, NODE, {}, "previous mode 'Off' is not Inline or Tap"),
    ("network_engine_mode", {}, NODE, {}, "previous mode None is not Inline or Tap"),
    ("registry_cleanup", {}, NODE, {}, "unknown change 'registry_cleanup': this collection did not write it"),
])
def test_undo_refusals_keep_the_record(change, data, facts, options, words):
    steps, refusal = decide.undo_steps(record(change, **data), facts, **options)
    assert steps == [] and words in refusal


def test_undo_acts_on_the_nodes_own_computer_never_the_one_a_record_names():
    """A record is trusted only for what it is about: the manager is asked about the node's own computer."""
    for change, data in (("agent_maintenance", {}), ("network_engine_mode", {"previous_mode": "Inline"})):
        steps, _refusal = decide.undo_steps(record(change, computer="DSM-SERVER", **data), NODE)
        assert steps[0][1]["computer"] == "SQL-NODE2"


# --- out of service by someone else ---------------------------------------------------------------------------

@pytest.mark.parametrize("member, ours, why", [
    ({"state": "Up", "drain_status": "NotInitiated"}, [], ""),
    ({"state": "Paused", "drain_status": "Completed"}, [], "is Paused (drain status Completed)"),
    ({"state": "Paused", "drain_status": "Completed"}, ["node_drained"], ""),
    ({"state": "Up", "drain_status": "InProgress"}, [], "is being drained"),
    ({"state": "Up", "drain_status": "InProgress"}, ["node_drained"], ""),
    ({"state": "Down"}, [], "is Down"),
    ({"state": "Joining"}, ["node_drained"], "is Joining"),
    ({"state": "Down"}, ["cluster_service_stopped"], ""),
    # a paused node this window only stopped was paused by someone else
    ({"state": "Paused", "drain_status": "Failed"}, ["cluster_service_stopped"], "is Paused (drain status Failed)"),
])
def test_wsfc_out_by_someone_else(member, ours, why):
    others = [record("node_drained", window="OTHER"), record("cluster_service_stopped", window="OTHER")]
    records = [record(change) for change in ours] + others
    assert decide.wsfc_out_by_someone_else(member, records, "chg1") == why


@pytest.mark.parametrize("state, ours, why", [
    ("Converged", [], ""),
    ("Converging", [], ""),
    ("Stopped", [], "is Stopped"),
    ("Suspended", [], "is Suspended"),
    ("Draining", [], "is Draining"),
    ("Stopped", ["nlb_node_stopped"], ""),
    ("Stopped", ["network_engine_mode"], "is Stopped"),
    (None, [], ""),
])
def test_nlb_out_by_someone_else(state, ours, why):
    records = [record(change) for change in ours] + [record("nlb_node_stopped", window="OTHER")]
    assert decide.nlb_out_by_someone_else(state, records, "CHG1") == why


# --- after a failed step --------------------------------------------------------------------------------------

BOTH = ["cluster_service_stopped", "node_drained", "agent_maintenance"]


@pytest.mark.parametrize("step, failure, ours, start, resume, left", [
    # the agent was not touched, or its work is done: put everything back
    ("drain", {}, ["node_drained"], False, True, "in service"),
    ("roles_moved", {}, ["node_drained"], False, True, "in service"),
    ("stop", {}, ["node_drained", "cluster_service_stopped"], True, True, "in service"),
    ("start", {}, BOTH, True, True, "in service"),
    ("resume", {}, ["node_drained"], False, True, "in service"),
    ("verified", {}, [], False, False, "in service"),
    # msiexec ended with an error (rolled back): the service starts, the node stays paused for someone to read the log
    ("agent", {"msi_exit_code": 1603}, BOTH, True, False, "cluster service running, node paused (records kept: run recover"),
    ("agent", {"msi_exit_code": 0}, BOTH, True, False, "cluster service running, node paused"),
    # no msiexec result, or the first policy may still load the driver: the service stays stopped (MS-02)
    ("agent", {}, BOTH, False, False, "cluster service stopped, node paused (records kept"),
    ("agent", None, BOTH, False, False, "cluster service stopped, node paused"),
    ("dsm_active", {"msi_exit_code": 0}, BOTH, False, False, "cluster service stopped, node paused"),
    # what this window's records do not say it changed is never put back
    ("stop", {}, [], False, False, "in service"),
    # msiexec 1641: the node is restarting, nothing is touched
    ("start", {"restart_initiated": True}, BOTH, False, False, "restarting (msiexec 1641"),
])
def test_after_wsfc_failure(step, failure, ours, start, resume, left):
    decision = decide.after_wsfc_failure(step, failure, ours)
    assert (decision["start_service"], decision["resume"]) == (start, resume)
    assert decision["left"].startswith(left), decision["left"]


@pytest.mark.parametrize("step, failure, ours, unchanged, remove, left", [
    ("agent", {"msi_exit_code": 1603}, ["nlb_node_stopped", "agent_maintenance"], True, ["agent_maintenance"],
     "out of the farm (records kept: recover or a re-run starts it)"),
    # a new agent may still get its first policy: its record stays
    ("agent", {"msi_exit_code": 1603}, ["nlb_node_stopped", "agent_maintenance"], False, [], "out of the farm"),
    ("agent", {}, ["nlb_node_stopped", "agent_maintenance"], True, [], "out of the farm"),
    ("dsm_active", {"msi_exit_code": 1603}, ["nlb_node_stopped", "agent_maintenance"], True, [], "out of the farm"),
    ("agent", {"msi_exit_code": 1603}, ["nlb_node_stopped"], True, [], "out of the farm"),
    ("drainstop", None, [], False, [], "in the farm"),
])
def test_after_nlb_failure(step, failure, ours, unchanged, remove, left):
    decision = decide.after_nlb_failure(step, failure, ours, agent_unchanged=unchanged)
    assert decision["remove_records"] == remove
    assert decision["left"] in ("in the farm", "out of the farm (records kept: recover or a re-run starts it)")
    assert decision["left"].startswith(left)


# --- whether the next member goes -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind, failed, max_failed, elapsed, stop_after, peers, on_failure, lease_lost, why", [
    (WSFC, [], 0, 10, 0, [], "stop_cluster", "", ""),
    (WSFC, [{"node": "N1"}], 0, 10, 0, [], "stop_cluster", "", "more than 0 node(s) failed"),
    (WSFC, [{"node": "N1"}], 1, 10, 0, [], "stop_cluster", "", ""),
    (NLB, [{"node": "W1"}, {"node": "W2"}], 1, 10, 0, [], "stop_farm", "", "more than 1 host(s) failed"),
    (WSFC, [], None, 10, 0, [], "stop_cluster", "", ""),
    (WSFC, [], 0, 601, 600, [], "stop_cluster", "", "the time budget of 600 s is spent"),
    (WSFC, [], 0, 600, 600, [], "stop_cluster", "", ""),
    (WSFC, [], 0, 10, 0, ["CLU2", "CLU1"], "stop_cluster", "", ""),
    (WSFC, [], 0, 10, 0, ["CLU2", "CLU1"], "stop_all",
     "", "failover cluster CLU1, CLU2 of the window failed (wsfc_agent_rollout_on_cluster_failure=stop_all)"),
    (NLB, [], 0, 10, 0, ["WEBFARM02"], "stop_all",
     "", "NLB farm WEBFARM02 of the window failed (nlb_agent_rollout_on_farm_failure=stop_all)"),
    # a lost lease comes before everything: another run owns the unit now
    (WSFC, [{"node": "N1"}], 0, 601, 600, ["CLU2"], "stop_all", "taken over by run 0123abcd",
     "this run no longer holds the failover cluster's lease: taken over by run 0123abcd"),
])
def test_stop_reason(kind, failed, max_failed, elapsed, stop_after, peers, on_failure, lease_lost, why):
    assert decide.stop_reason(kind, failed, max_failed, elapsed, stop_after, peers, on_failure, lease_lost) == why
