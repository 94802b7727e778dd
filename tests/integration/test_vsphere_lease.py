"""The window's lease on a vSphere cluster (safety invariant 9): a Horizon window opened (an AWX workflow's first
job) holds DRS with a lease; recover, run meanwhile, leaves it alone and names its run; with recover_take_over
naming that run it gives DRS back; the window's own close needs no take-over."""
import json
import os

import pytest

from conftest import ROOT, lab_control
from test_playbooks import run_playbook
from test_wsfc_window import INVENTORY, vcenter_cluster

OPEN = os.path.join(ROOT, "playbooks", "horizon_window_open.yml")
CLOSE = os.path.join(ROOT, "playbooks", "horizon_window_close.yml")
RECOVER = os.path.join(ROOT, "playbooks", "recover.yml")
NO_WINDOWS_HOSTS = json.dumps({"recover_windows_hosts": []})


def ok(result):
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    return output


def open_window(lab, tmp_path, window_id):
    """The Horizon window opened on Web-Cluster (DRS held with the run's lease); returns its arguments."""
    window = ["-e", "horizon_window_cluster=Web-Cluster", "-e", "horizon_window_id=%s" % window_id,
              "-e", "horizon_window_report_dir=%s" % tmp_path]
    ok(run_playbook(lab, OPEN, "-i", INVENTORY, *window))
    return window


def assert_given_back(lab, before):
    after = vcenter_cluster(lab, "Web-Cluster")
    assert after["level"] == before["level"] and not after["custom"].get("clustersafe.drs_window")


def held_record(lab):
    cluster = vcenter_cluster(lab, "Web-Cluster")
    assert cluster["level"] == "manual", cluster
    return json.loads(cluster["custom"]["clustersafe.drs_window"])


@pytest.mark.lab
def test_recover_leaves_a_live_horizon_window_alone_until_its_run_is_named(fresh_lab, tmp_path):
    lab = fresh_lab
    before = vcenter_cluster(lab, "Web-Cluster")
    open_window(lab, tmp_path, "CHG-HZL")
    record = held_record(lab)
    assert record["window"] == "CHG-HZL" and len(record["run"]) == 16 and record["expires"] > record["since"]

    refused = run_playbook(lab, RECOVER, "-i", INVENTORY, "-e", NO_WINDOWS_HOSTS)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "window CHG-HZL still runs" in output and "take_over=%s" % record["run"] in output
    assert held_record(lab) == record, "recover changed nothing on the cluster"

    ok(run_playbook(lab, RECOVER, "-i", INVENTORY, "-e", NO_WINDOWS_HOSTS, "-e", "recover_take_over=%s" % record["run"]))
    assert_given_back(lab, before)


@pytest.mark.lab
def test_the_windows_own_close_restores_whatever_its_lease_says(fresh_lab, tmp_path):
    lab = fresh_lab
    before = vcenter_cluster(lab, "Web-Cluster")
    window = open_window(lab, tmp_path, "CHG-HZC")
    assert held_record(lab)["expires"]
    ok(run_playbook(lab, CLOSE, "-i", INVENTORY, *window))
    assert_given_back(lab, before)


@pytest.mark.lab
def test_a_close_vcenter_refuses_ends_the_lease_so_recover_needs_no_take_over(fresh_lab, tmp_path):
    lab = fresh_lab
    before = vcenter_cluster(lab, "Web-Cluster")
    window = open_window(lab, tmp_path, "CHG-HZR")
    opened = held_record(lab)
    lab_control(lab, "POST", "/faults", {"fail_reconfigure": 5}, part_url_key="CLUSTERSAFE_LAB_VCENTER_CONTROL")
    closed = run_playbook(lab, CLOSE, "-i", INVENTORY, *window)
    lab_control(lab, "POST", "/faults", {"clear": True}, part_url_key="CLUSTERSAFE_LAB_VCENTER_CONTROL")
    output = closed.stdout + closed.stderr
    assert closed.returncode != 0 and "DRS could not be restored on Web-Cluster" in output, output[-5000:]
    ended = held_record(lab)
    # the record stays (DRS still at manual) with the same run, its lease ended by vCenter's clock
    assert ended["run"] == opened["run"] and ended["expires"] < opened["expires"]
    assert dict(ended, expires=None) == dict(opened, expires=None)

    ok(run_playbook(lab, RECOVER, "-i", INVENTORY, "-e", NO_WINDOWS_HOSTS))
    assert_given_back(lab, before)
