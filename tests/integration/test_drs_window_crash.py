"""Invariant 3: a controller that dies while DRS is held at manual loses nothing. The original level
lives on the cluster, so a new process (here: a fresh ansible-playbook run) restores it."""
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, collections_path
from test_playbooks import run_playbook

HOLD_AND_HANG = """
- hosts: localhost
  gather_facts: false
  tasks:
    - clustersafe.deep_security.vsphere_drs_window:
        cluster: Web-Cluster
        window: CHG-CRASH
        state: manual
    - ansible.builtin.pause:
        seconds: 600
"""

RESTORE_AND_READ = """
- hosts: localhost
  gather_facts: false
  tasks:
    - clustersafe.deep_security.vsphere_drs_window:
        cluster: Web-Cluster
        window: CHG-CRASH
        state: restored
      register: restore
    - clustersafe.deep_security.vsphere_cluster_info:
        clusters: [Web-Cluster]
      register: info
    - ansible.builtin.assert:
        that:
          - restore is changed
          - info.clusters[0].drs.automation_level == 'partiallyAutomated'
          - info.clusters[0].drs.vmotion_rate == 3
          - info.clusters[0].drs_window is none
"""

READ_HELD = """
- hosts: localhost
  gather_facts: false
  tasks:
    - clustersafe.deep_security.vsphere_cluster_info:
        clusters: [Web-Cluster]
      register: info
    - ansible.builtin.assert:
        that:
          - info.clusters[0].drs.automation_level == 'manual'
          - info.clusters[0].drs_window.window == 'CHG-CRASH'
          - info.clusters[0].drs_window.original_level == 'partiallyAutomated'
"""


@pytest.mark.lab
def test_restore_from_new_process_after_kill(lab, tmp_path):
    hold = tmp_path / "hold.yml"
    hold.write_text(HOLD_AND_HANG)
    env = dict(os.environ, **lab)
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    process = subprocess.Popen(["ansible-playbook", "-i", "localhost,", "-c", "local", str(hold)], env=env,
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        seen = ""
        while "Pausing for" not in seen and time.time() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            seen += line
        assert "Pausing for" in seen, seen
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    held = tmp_path / "held.yml"
    held.write_text(READ_HELD)
    result = run_playbook(lab, str(held))
    assert result.returncode == 0, result.stdout[-5000:]

    restore = tmp_path / "restore.yml"
    restore.write_text(RESTORE_AND_READ)
    result = run_playbook(lab, str(restore))
    assert result.returncode == 0, result.stdout[-5000:]
