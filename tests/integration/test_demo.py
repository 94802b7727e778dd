"""The README's first command runs playbooks/demo.yml against the lab: keep it true. The demo
asserts, from the lab's own record, that the rollout caused no unplanned failover."""
import os
import re

import pytest

from conftest import ROOT
from test_playbooks import run_playbook


@pytest.mark.lab
def test_demo_runs_clean_from_a_fresh_lab(fresh_lab):
    lab = fresh_lab
    result = run_playbook(lab, os.path.join(ROOT, "playbooks", "demo.yml"), "-i",
                          os.path.join(ROOT, "tests", "lab", "inventory.yml"))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "unplanned failovers 0" in output
    # the window report the role prints: every node changed from no agent to the version
    assert len(re.findall(r'^\| SQL-NODE\d \| changed \| none \| 20\.0\.1-690 \| Up \| Up \|$', output, re.M)) == 3
    assert "| Prod-Cluster | fullyAutomated | manual | fullyAutomated | no |" in output
    # the NLB farm: rolled out in Tap, then Inline with no Invalid Flags
    assert len(re.findall(r'^\| WEB\d \| changed \| none \| 20\.0\.1-690 \| Converged \| Converged \|$', output, re.M)) == 3
    assert "- Switched to Inline: yes" in output and "Invalid Flags 0, fewest Converged 2 of 3" in output
    for key in ("VMWARE_PASSWORD", "WINRM_PASSWORD", "DSM_API_KEY", "CLUSTERSAFE_LAB_ACTIVATION_TOKEN"):
        assert lab[key] not in output

    again = run_playbook(lab, os.path.join(ROOT, "playbooks", "demo.yml"), "-i",
                         os.path.join(ROOT, "tests", "lab", "inventory.yml"))
    output = again.stdout + again.stderr
    assert again.returncode == 0, output[-20000:]
    # a second rollout finds every node done and leaves them in service: no drain, no stop, no DRS hold
    assert "failover cluster SQLCLU01: 0 node(s) to maintain" in output
    assert len(re.findall(r'^\| SQL-NODE\d \| skipped \| 20\.0\.1-690 \| 20\.0\.1-690 \| Up \| Up \|$', output, re.M)) == 3
    assert "unplanned failovers 0" in output
    assert "Invalid Flags 0, fewest Converged 2 of 3" in output
