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
