"""One window across many failover clusters, against a generated lab estate of three clusters
(``labctl.py start --failover-clusters 3``: SQLCLU01 and SQLCLU03 on Prod-Cluster, SQLCLU02 on
Db-Cluster).

The shared lab is stopped for this module and started again afterwards: both bind the same loopback
addresses. The invariants after every scenario: no failover cluster ever had two nodes out at once (the
nodes' timelines), the estate never more than the cap, no unplanned failover, every DRS cluster back at
its level with no record, and, once the window is complete or recovered, every node Up and no record.
"""
import json
import os
import re

import pytest

from conftest import STATE_DIR, generated_lab, lab_control, reset_lab
from test_playbooks import run_playbook
from test_wsfc_window import (RECOVER, ROLLOUT, VERSION, assert_no_secret, assert_nodes_unchanged, recap_changed, rollout_args,
                              vcenter_cluster)

ESTATE_DIR = STATE_DIR.rstrip("/") + "-estate"
CLUSTERS = ("SQLCLU01", "SQLCLU02", "SQLCLU03")
VSPHERE = ("Db-Cluster", "Prod-Cluster")


@pytest.fixture(scope="module")
def estate(lab):
    with generated_lab(ESTATE_DIR, "--failover-clusters", "3") as environment:
        yield environment


@pytest.fixture
def fresh_estate(estate):
    reset_lab(ESTATE_DIR)
    yield estate


def estate_args(lab, window, report_dir, *extra):
    args = rollout_args(lab, window, report_dir, "-e", "wsfc_rollout_hosts=sql_clusters", "-f", "10", *extra)
    # the estate's inventory, generated beside its lab, instead of the lab's own
    position = args.index("-i")
    args[position + 1] = lab["CLUSTERSAFE_LAB_INVENTORY"]
    return args


def windows_status(lab):
    return lab_control(lab, "GET", "/status")["windows"]


def nodes_of(status, cluster):
    return status["clusters"][cluster]["nodes"]


def estate_report(report_dir, window):
    with open(os.path.join(str(report_dir), "%s-wsfc_estate.json" % window)) as handle:
        return json.load(handle)


def assert_estate_invariants(lab, report=None, complete=True):
    status = windows_status(lab)
    assert status["unplanned_failovers"] == 0, status["failovers"]
    for name in VSPHERE:
        vcenter = vcenter_cluster(lab, name)
        assert vcenter["level"] == "fullyAutomated", (name, vcenter)
        assert not vcenter["custom"].get("clustersafe.drs_window"), (name, vcenter)
    if report is not None:
        assert report["limits"]["most_nodes_out_in_one_cluster"] <= 1, report["limits"]
        assert report["limits"]["kept"], report["limits"]
    if complete:
        for cluster in CLUSTERS:
            for node, state in nodes_of(status, cluster).items():
                assert state["state"] == "Up" and state["cluster_service"] == "Running", (node, state)
            assert all(group["state"] == "Online" for group in status["clusters"][cluster]["groups"].values())
        assert all(not records for records in status["window_records"].values()), status["window_records"]
    return status


@pytest.mark.lab
def test_estate_window_end_to_end(fresh_estate, tmp_path):
    lab = fresh_estate
    before = windows_status(lab)
    dry = run_playbook(lab, ROLLOUT, *estate_args(lab, "CHG-ESTATE", tmp_path, "-e", "wsfc_rollout_max_nodes_out=2", "--check"))
    output = dry.stdout + dry.stderr
    assert dry.returncode == 0, output[-20000:]
    assert "window CHG-ESTATE across 3 failover cluster(s), at most 2 node(s) out at once" in output
    assert "DRS of Prod-Cluster held once for SQLCLU01, SQLCLU03" in output
    assert "DRS of Db-Cluster held once for SQLCLU02" in output
    assert_nodes_unchanged(lab, before)

    shells_before = dict((node, counters["create"]) for node, counters in windows_status(lab)["counters"].items())
    # reading a cluster takes half a second on each node, as on a real one: time enough to see reads overlap
    lab_control(lab, "POST", "/faults/windows", {"operation_seconds": {"mscs_cluster_info": 0.5}})
    run = run_playbook(lab, ROLLOUT, *estate_args(lab, "CHG-ESTATE", tmp_path, "-e", "wsfc_rollout_max_nodes_out=2"))
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-20000:]
    assert_no_secret(lab, output)
    report = estate_report(tmp_path, "CHG-ESTATE")
    assert report["result"] == "succeeded" and report["max_nodes_out"] == 2
    assert report["limits"]["most_nodes_out"] <= 2 and report["limits"]["most_nodes_out_in_one_cluster"] == 1
    assert [cluster["key"] for cluster in report["clusters"]] == list(CLUSTERS)
    assert all(cluster["changed"] == 3 for cluster in report["clusters"])
    assert sorted((entry["cluster"], entry["failover_clusters"]) for entry in report["drs"]) == [
        ("Db-Cluster", ["SQLCLU02"]), ("Prod-Cluster", ["SQLCLU01", "SQLCLU03"])]
    for cluster in CLUSTERS:
        assert os.path.exists(os.path.join(str(tmp_path), "CHG-ESTATE-%s-wsfc_agent_rollout.json" % cluster))
    # DRS held once per vSphere cluster and given back once, however many failover clusters use it
    holds = re.findall(r"\[CHG-ESTATE\] holding DRS of (\S+) at manual", output)
    assert sorted(holds) == sorted(VSPHERE), holds
    releases = re.findall(r"\[CHG-ESTATE\] DRS of (\S+) given back: fullyAutomated", output)
    assert sorted(releases) == sorted(VSPHERE), releases
    status = assert_estate_invariants(lab, report)
    assert all(status["agents"][node]["version"] == VERSION for cluster in CLUSTERS for node in nodes_of(status, cluster))
    # each SQL Server role moved once: its owner went last in its cluster
    sql_moves = [(move["cluster"], move["role"]) for move in status["failovers"] if move["role"].startswith("SQL Server")]
    assert sorted(sql_moves) == [(cluster, "SQL Server (MSSQLSERVER)") for cluster in CLUSTERS], status["failovers"]
    # WinRM shells per node do not grow with the number of clusters: a node's reads and steps share a few
    # sessions, the lease holder's a few more (docs/performance.md)
    shells = [status["counters"][node]["create"] - shells_before.get(node, 0) for cluster in CLUSTERS for node in nodes_of(status, cluster)]
    assert max(shells) <= 10, shells
    # the clusters are read side by side: the lab saw scripts of several clusters running at once
    assert status["most_scripts_at_once"] >= 3, status["most_scripts_at_once"]

    again = run_playbook(lab, ROLLOUT, *estate_args(lab, "CHG-ESTATE", tmp_path, "-e", "wsfc_rollout_max_nodes_out=2"))
    assert again.returncode == 0, (again.stdout + again.stderr)[-20000:]
    assert recap_changed(again.stdout) == 0


@pytest.mark.lab
@pytest.mark.long
def test_a_failed_cluster_stops_itself_only_and_recover_puts_it_back(fresh_estate, tmp_path):
    lab = fresh_estate
    lab_control(lab, "POST", "/faults/windows", {"msi_exit_next": 1603, "node": "SQL02-NODE2"})
    run = run_playbook(lab, ROLLOUT, *estate_args(lab, "CHG-EST-FAIL", tmp_path))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "window CHG-EST-FAIL did not complete: failed; SQLCLU02: SQL02-NODE2 failed at agent" in output
    report = estate_report(tmp_path, "CHG-EST-FAIL")
    assert [(cluster["key"], cluster["result"]) for cluster in report["clusters"]] == [
        ("SQLCLU01", "succeeded"), ("SQLCLU02", "failed"), ("SQLCLU03", "succeeded")]
    status = assert_estate_invariants(lab, report, complete=False)
    assert nodes_of(status, "SQLCLU02")["SQL02-NODE2"]["state"] == "Paused"
    assert [status["agents"]["SQL02-NODE%d" % index]["version"] for index in (1, 3)] == [None, None]
    lab_control(lab, "POST", "/faults/windows", {"clear": True})
    recovered = run_playbook(lab, RECOVER, "-i", lab["CLUSTERSAFE_LAB_INVENTORY"])
    assert recovered.returncode == 0, (recovered.stdout + recovered.stderr)[-10000:]
    assert_estate_invariants(lab)


@pytest.mark.lab
@pytest.mark.long
def test_stop_all_stops_every_cluster_after_its_current_node(fresh_estate, tmp_path):
    lab = fresh_estate
    lab_control(lab, "POST", "/faults/windows", {"msi_exit_next": 1603, "node": "SQL02-NODE2"})
    run = run_playbook(lab, ROLLOUT, *estate_args(lab, "CHG-EST-ALL", tmp_path, "-e", "wsfc_rollout_on_cluster_failure=stop_all"))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "failover cluster SQLCLU02 of the window failed (wsfc_agent_rollout_on_cluster_failure=stop_all)" in output
    report = estate_report(tmp_path, "CHG-EST-ALL")
    assert [cluster["result"] for cluster in report["clusters"]] == ["incomplete", "failed", "incomplete"]
    status = assert_estate_invariants(lab, report, complete=False)
    # round 1 ran everywhere (one node each); nothing after it
    for cluster, prefix in (("SQLCLU01", "SQL-NODE"), ("SQLCLU03", "SQL03-NODE")):
        versions = [status["agents"]["%s%d" % (prefix, index)]["version"] for index in (1, 2, 3)]
        assert versions == [None, VERSION, None], (cluster, versions)
        assert all(node["state"] == "Up" for node in nodes_of(status, cluster).values())
    lab_control(lab, "POST", "/faults/windows", {"clear": True})
    recovered = run_playbook(lab, RECOVER, "-i", lab["CLUSTERSAFE_LAB_INVENTORY"])
    assert recovered.returncode == 0, (recovered.stdout + recovered.stderr)[-10000:]
    assert_estate_invariants(lab)
