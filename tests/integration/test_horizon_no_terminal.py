"""A Horizon window run where nobody can answer a prompt (as AWX runs jobs: no terminal) fails before
it holds DRS, instead of opening and closing the window at once (issue: AWX has no terminal)."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT, collections_path
from test_wsfc_window import vcenter_cluster


@pytest.mark.lab
def test_horizon_window_without_a_terminal_refuses_and_changes_nothing(lab):
    before = vcenter_cluster(lab, "Web-Cluster")
    env = dict(os.environ, **lab)
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    result = subprocess.run(["ansible-playbook", "-i", "localhost,", "-c", "local",
                             os.path.join(ROOT, "playbooks", "horizon_window.yml"),
                             "-e", "horizon_window_cluster=Web-Cluster", "-e", "horizon_window_id=CHG-NOTTY"],
                            env=env, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=600, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-5000:]
    assert "nobody confirmed window CHG-NOTTY" in output
    after = vcenter_cluster(lab, "Web-Cluster")
    assert after == before and not after["custom"].get("clustersafe.drs_window")


@pytest.mark.lab
def test_the_operator_types_the_window_id_and_a_stray_enter_keeps_drs_held(lab):
    """At the operator's step only the window id gives DRS back: a stray Enter or "done" asks again, DRS stays
    manual through them (a restore in the middle of a recompose is what the window prevents)."""
    import pexpect
    env = dict(os.environ, **lab)
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    before = vcenter_cluster(lab, "Web-Cluster")
    child = pexpect.spawn("ansible-playbook", ["-i", "localhost,", "-c", "local",
                                               os.path.join(ROOT, "playbooks", "horizon_window.yml"),
                                               "-e", "horizon_window_cluster=Web-Cluster", "-e", "horizon_window_id=CHG-HZ"],
                          env=env, cwd=ROOT, encoding="utf-8", timeout=300)
    try:
        child.expect(r"Type the window id \(CHG-HZ\) to set DRS")
        child.sendline("CHG-HZ")
        for answer in ("", "done", "CHG-H"):
            child.expect(r"type the window id \(CHG-HZ\) to give DRS back")
            held = vcenter_cluster(lab, "Web-Cluster")
            assert held["level"] == "manual" and held["custom"].get("clustersafe.drs_window"), held
            child.sendline(answer)
        child.expect(r"type the window id \(CHG-HZ\) to give DRS back")
        assert vcenter_cluster(lab, "Web-Cluster")["level"] == "manual"
        child.sendline("CHG-HZ")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, child.before
    after = vcenter_cluster(lab, "Web-Cluster")
    assert after["level"] == before["level"] and not after["custom"].get("clustersafe.drs_window")
