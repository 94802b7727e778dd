"""The rollout with the policy given by name (wsfc_rollout_policy -> wsfc_agent_rollout_policy): resolved to the
manager's id before any change and used for the activation; an unknown name, a name given together with an
id, and a policy that would block the cluster's heartbeat (MS-04) fail before anything is changed."""
import json
import os

import pytest

from conftest import lab_control
from test_playbooks import run_playbook
from test_wsfc_window import (NODES, ROLLOUT, assert_invariants, assert_no_secret, assert_nodes_unchanged, rollout_args,
                              windows_status)


def by_name(lab, window, tmp_path, policy, *extra):
    # Extra variables given as JSON: a policy name has spaces.
    args = rollout_args(lab, window, tmp_path, "-e", json.dumps({"wsfc_rollout_policy": policy}), *extra)
    index = args.index("wsfc_rollout_policy_id=3")
    return args[:index - 1] + args[index + 1:]


def dsm_computers(lab):
    return dict((c["host_name"], c) for c in lab_control(lab, "GET", "/status")["dsm"]["computers"])


@pytest.mark.lab
def test_rollout_activates_with_the_policy_named(fresh_lab, tmp_path):
    lab = fresh_lab
    run = run_playbook(lab, ROLLOUT, *by_name(lab, "CHG-POLICY", tmp_path, "SQL Server Cluster"))
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-20000:]
    assert_no_secret(lab, output)
    assert_invariants(lab)
    computers = dsm_computers(lab)
    for node in NODES:
        # SQL Server Cluster is policy 3 in the topology, found by its name (the id was not given)
        assert computers[node]["policy_id"] == 3 and computers[node]["agent_status"] == "active", computers[node]


@pytest.mark.lab
def test_a_policy_that_blocks_the_heartbeat_refuses_before_any_change(fresh_lab, tmp_path):
    lab = fresh_lab
    before = windows_status(lab)
    # Windows Server: Firewall on with one Allow rule (RDP in), which denies every other incoming packet, UDP 3343 too
    run = run_playbook(lab, ROLLOUT, *by_name(lab, "CHG-POLICY-HB", tmp_path, "Windows Server"))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "window CHG-POLICY-HB refused before any change" in output
    assert "MS-04: Firewall is on in policy Windows Server and the failover-cluster heartbeat (UDP 3343) is not let " \
           "through" in output
    assert_nodes_unchanged(lab, before)
    assert dsm_computers(lab) == {}
    assert_invariants(lab)


@pytest.mark.lab
def test_unknown_policy_name_fails_before_any_change(fresh_lab, tmp_path):
    lab = fresh_lab
    before = windows_status(lab)
    run = run_playbook(lab, ROLLOUT, *by_name(lab, "CHG-POLICY-TYPO", tmp_path, "Windows Servr"))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "policy 'Windows Servr' not found (parameter policies); nearest existing: Windows Server" in output
    assert_nodes_unchanged(lab, before)
    assert dsm_computers(lab) == {}
    assert_invariants(lab)


@pytest.mark.lab
def test_policy_by_id_and_by_name_is_refused(fresh_lab, tmp_path):
    lab = fresh_lab
    args = rollout_args(lab, "CHG-POLICY-BOTH", tmp_path, "-e", json.dumps({"wsfc_rollout_policy": "Windows Server"}))
    run = run_playbook(lab, ROLLOUT, *args)
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "give the policy either by id (wsfc_agent_rollout_policy_id=3) or by name" in output
    assert not os.path.exists(os.path.join(str(tmp_path), "CHG-POLICY-BOTH-wsfc_agent_rollout.json"))
