"""A window owns what it changes, and only that (safety invariants 8-10), against the lab: a double launch, recover
while a window works, an administrator's pause mid-window, --limit to one node, vCenter refusing the DRS restore,
a refused plan in check mode, and the playbook's own variables checked. The lab's nodes take time where a test
needs a window to be caught in the middle (fault operation_seconds: the reply to that script comes that much later).
"""
import json
import os
import subprocess
import sys
import time

import pytest

from conftest import ROOT, collections_path, lab_control
from test_playbooks import run_playbook
from test_wsfc_window import (INVENTORY, NODES, RECOVER, ROLLOUT, VERSION, assert_invariants, recap_changed,
                              rollout_args, run_id, vcenter_cluster, windows_status)

SUPPORT = os.path.join(ROOT, "tests", "integration", "playbooks", "support")


def start(lab, playbook, args):
    env = dict(os.environ, **lab)
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    return subprocess.Popen(["ansible-playbook", playbook] + args, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL, start_new_session=True)


def read_until(process, text, lines, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if text in line:
            return
    raise AssertionError("%r never appeared:\n%s" % (text, "".join(lines)[-8000:]))


def finish(process, lines, timeout=600):
    rest = process.communicate(timeout=timeout)[0]
    lines.append(rest)
    return process.returncode, "".join(lines)


def slow(lab, **seconds):
    lab_control(lab, "POST", "/faults/windows", {"operation_seconds": seconds})


def report(tmp_path, window):
    with open(os.path.join(str(tmp_path), "%s-wsfc_agent_rollout.json" % window)) as handle:
        return json.load(handle)


@pytest.mark.lab
def test_a_double_launch_leaves_the_second_run_refused_and_the_first_completes(fresh_lab, tmp_path):
    lab = fresh_lab
    slow(lab, **{"mscs_node.drain": 6})
    first_lines = []
    first = start(lab, ROLLOUT, rollout_args(lab, "CHG-TWICE", tmp_path))
    read_until(first, "SQL-NODE2: [drain]", first_lines)
    second = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-TWICE", tmp_path / "second"))
    output = second.stdout + second.stderr
    first_code, first_output = finish(first, first_lines)
    assert second.returncode != 0
    assert "refused before any change" in output and "held by run %s" % run_id(first_lines) in output
    assert first_code == 0, first_output[-20000:]
    status = assert_invariants(lab)
    assert all(status["agents"][node]["version"] == VERSION for node in NODES)
    drains = [event for event in status["events"] if event.get("event") == "wsfc.drain"]
    assert len(drains) == 3, "each node drained once: the second run changed nothing"


@pytest.mark.lab
def test_recover_while_a_window_works_names_it_and_changes_nothing(fresh_lab, tmp_path):
    lab = fresh_lab
    slow(lab, agent_install=6)
    lines = []
    window = start(lab, ROLLOUT, rollout_args(lab, "CHG-LIVE", tmp_path))
    read_until(window, "SQL-NODE2: [agent]", lines)
    held = windows_status(lab)
    recovered = run_playbook(lab, RECOVER, "-i", INVENTORY)
    output = recovered.stdout + recovered.stderr
    assert recovered.returncode != 0
    assert "held by run %s of window CHG-LIVE" % run_id(lines) in output
    assert "window CHG-LIVE still runs" in output, "its DRS record on vCenter is left alone too"
    assert vcenter_cluster(lab)["level"] == "manual"
    assert windows_status(lab)["clusters"]["SQLCLU01"]["nodes"]["SQL-NODE2"]["cluster_service"] == "Stopped"
    assert held["window_records"]["SQL-NODE2"], "the window's records were there while recover ran"
    code, window_output = finish(window, lines)
    assert code == 0, window_output[-20000:]
    assert_invariants(lab)


@pytest.mark.lab
def test_a_node_an_administrator_pauses_mid_window_is_left_as_found(fresh_lab, tmp_path):
    lab = fresh_lab
    slow(lab, **{"mscs_node.drain": 4})
    lines = []
    window = start(lab, ROLLOUT, rollout_args(lab, "CHG-ADMIN", tmp_path))
    read_until(window, "SQL-NODE2: [drain]", lines)
    # the administrator drains SQL-NODE1 by hand (mscs_node without a window: no record)
    paused = run_playbook(lab, os.path.join(SUPPORT, "pause_node.yml"), "-e", "node=SQL-NODE1")
    assert paused.returncode == 0, paused.stdout[-5000:]
    code, output = finish(window, lines)
    assert code != 0
    built = report(tmp_path, "CHG-ADMIN")
    assert built["result"] == "failed"
    status = windows_status(lab)
    node1 = status["clusters"]["SQLCLU01"]["nodes"]["SQL-NODE1"]
    assert node1["state"] == "Paused" and node1["cluster_service"] == "Running", "left exactly as the administrator left it"
    assert all(not records for records in status["window_records"].values()), status["window_records"]
    assert all(not lease for lease in status["leases"].values())
    assert status["unplanned_failovers"] == 0
    assert vcenter_cluster(lab)["level"] == "fullyAutomated"
    assert status["agents"]["SQL-NODE1"]["version"] is None


@pytest.mark.lab
def test_limit_changes_only_the_limited_node(fresh_lab, tmp_path):
    lab = fresh_lab
    run = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-LIMIT", tmp_path, "--limit", "SQL-NODE2"))
    assert run.returncode == 0, (run.stdout + run.stderr)[-20000:]
    status = assert_invariants(lab)
    assert status["agents"]["SQL-NODE2"]["version"] == VERSION
    assert status["agents"]["SQL-NODE1"]["version"] is None and status["agents"]["SQL-NODE3"]["version"] is None
    built = report(tmp_path, "CHG-LIMIT")
    assert built["order"] == ["SQL-NODE2"] and built["not_in_run"] == ["SQL-NODE1", "SQL-NODE3"]


@pytest.mark.lab
def test_vcenter_refusing_the_drs_restore_fails_the_window_and_keeps_the_record(fresh_lab, tmp_path):
    lab = fresh_lab
    lines = []
    window = start(lab, ROLLOUT, rollout_args(lab, "CHG-REFUSE", tmp_path))
    read_until(window, "SQL-NODE1: [verified]", lines)
    lab_control(lab, "POST", "/faults", {"fail_reconfigure": 5}, part_url_key="CLUSTERSAFE_LAB_VCENTER_CONTROL")
    code, output = finish(window, lines)
    lab_control(lab, "POST", "/faults", {"clear": True}, part_url_key="CLUSTERSAFE_LAB_VCENTER_CONTROL")
    assert code != 0, output[-20000:]
    assert "DRS of Prod-Cluster is still at manual with its record" in output
    built = report(tmp_path, "CHG-REFUSE")
    assert built["result"] == "failed" and built["held"]["drs"] == ["Prod-Cluster"]
    assert built["drs"][0]["restore_error"] and built["drs"][0]["after"] is None
    held = vcenter_cluster(lab)
    assert held["level"] == "manual" and held["custom"].get("clustersafe.drs_window")
    recovered = run_playbook(lab, RECOVER, "-i", INVENTORY)
    assert recovered.returncode == 0, (recovered.stdout + recovered.stderr)[-20000:]
    assert_invariants(lab)


@pytest.mark.lab
def test_a_refused_plan_fails_in_check_mode_too(fresh_lab, tmp_path):
    lab = fresh_lab
    dry = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-DRY", tmp_path, "--check", "-e", "wsfc_rollout_policy_id=0",
                                                   "-e", "wsfc_rollout_policy=SQL Server Clustr"))
    output = dry.stdout + dry.stderr
    assert dry.returncode != 0
    assert "SQL Server Cluster" in output, "the misspelled policy is named with the nearest one"
    assert all(not records for records in windows_status(lab)["window_records"].values())


@pytest.mark.lab
@pytest.mark.parametrize("extra, words", [
    (("-e", "wsfc_rollout_windows=CHG-X"), "wsfc_rollout_windows (did you mean wsfc_rollout_window?)"),
    (("-e", "wsfc_agent_rollout_max_node_out=2"), "did you mean wsfc_agent_rollout_max_nodes_out"),
])
def test_a_misspelled_variable_is_an_error_naming_the_nearest(lab, tmp_path, extra, words):
    run = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-TYPO", tmp_path, *extra))
    assert run.returncode != 0 and words in run.stdout + run.stderr


@pytest.mark.lab
def test_the_window_id_is_required(lab, tmp_path):
    args = rollout_args(lab, "CHG-NONE", tmp_path)
    where = args.index("wsfc_rollout_window=CHG-NONE")
    del args[where - 1:where + 1]
    run = run_playbook(lab, ROLLOUT, *args)
    output = run.stdout + run.stderr
    assert run.returncode != 0 and "a window id is required" in output and "wsfc_rollout_window" in output


@pytest.mark.lab
def test_a_users_own_play_runs_the_window(fresh_lab, tmp_path):
    """The role in a play of the user's own (their hosts, pre_tasks, module_defaults): check mode plans, the run
    changes, a second run changes nothing."""
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(json.dumps({"user_play_vcenter_password": fresh_lab["VMWARE_PASSWORD"],
                                   "user_play_dsm_api_key": fresh_lab["DSM_API_KEY"]}))
    # the environment's credentials are wrong: only module_defaults can get the window through
    lab = dict(fresh_lab, VMWARE_PASSWORD="not-the-password", DSM_API_KEY="2:not-the-key")
    playbook = os.path.join(SUPPORT, "user_play.yml")
    extra = ["-i", INVENTORY, "-e", "@%s" % secrets, "-e", "user_play_window=CHG-USER",
             "-e", "user_play_report_dir=%s" % tmp_path]
    dry = run_playbook(lab, playbook, "--check", *extra)
    output = dry.stdout + dry.stderr
    assert dry.returncode == 0, output[-20000:]
    assert "(check mode)" in output and "failover cluster SQLCLU01: 3 node(s) to maintain" in output
    assert all(not records for records in windows_status(fresh_lab)["window_records"].values())
    assert all(windows_status(fresh_lab)["agents"][node]["version"] is None for node in NODES)
    first = run_playbook(lab, playbook, *extra)
    assert first.returncode == 0, (first.stdout + first.stderr)[-20000:]
    assert recap_changed(first.stdout) >= 1
    assert report(tmp_path, "CHG-USER")["result"] == "succeeded"
    status = assert_invariants(fresh_lab)
    assert all(status["agents"][node]["version"] == VERSION for node in NODES)
    again = run_playbook(lab, playbook, *extra)
    assert again.returncode == 0, (again.stdout + again.stderr)[-20000:]
    assert recap_changed(again.stdout) == 0
    for run in (dry, first, again):
        assert fresh_lab["VMWARE_PASSWORD"] not in run.stdout + run.stderr
        assert fresh_lab["DSM_API_KEY"] not in run.stdout + run.stderr
