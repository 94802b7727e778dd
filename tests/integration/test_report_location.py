"""Where the reports go: one rule for every role (plugins/plugin_utils/report_location.py). Unset, a
role writes into ``window-reports`` under the directory ``ansible-playbook`` was started from, as AWX starts
a job in its project directory; a relative directory is relative to that directory too; nothing lands in
the collection or beside the playbook."""
import glob
import os

import pytest

from conftest import ROOT
from test_playbooks import run_playbook
from test_wsfc_window import ROLLOUT, rollout_args

PLACEMENT = os.path.join(ROOT, "playbooks", "dsva_placement.yml")


def ran(result):
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    return output


def files_under(directory):
    return sorted(os.path.relpath(path, directory) for path in glob.glob(os.path.join(directory, "**", "*"), recursive=True)
                  if os.path.isfile(path))


def clone_reports():
    """Report files in the clone where a relative path could resolve: its root, beside the playbooks, in a role."""
    patterns = ("window-reports", "*/window-reports", "roles/*/window-reports", "roles/*/*/window-reports")
    return sorted(path for pattern in patterns for path in glob.glob(os.path.join(ROOT, pattern, "*")))


@pytest.mark.lab
def test_reports_land_under_the_directory_the_job_started_from(fresh_lab, tmp_path):
    lab = fresh_lab
    job = tmp_path / "project"
    job.mkdir()
    before = clone_reports()
    # the failover-cluster window (the engine's action) with its report directory unset
    args = rollout_args(lab, "CHG-WHERE", "unused")[:-2]
    ran(run_playbook(lab, ROLLOUT, *args, cwd=str(job)))
    # a vSphere window (a role's own tasks): unset, then relative
    ran(run_playbook(lab, PLACEMENT, "-e", "dsva_placement_cluster=Prod-Cluster", cwd=str(job)))
    ran(run_playbook(lab, PLACEMENT, "-e", "dsva_placement_cluster=Prod-Cluster",
                     "-e", "dsva_placement_report_dir=reports/CHG-REL", cwd=str(job)))

    found = files_under(str(job))
    assert {"window-reports/CHG-WHERE-wsfc_agent_rollout.%s" % extension for extension in ("json", "md", "html")} <= set(found), found
    assert {"window-reports/dsva-placement-dsva_placement.json", "window-reports/dsva-placement-dsva_placement.md",
            "reports/CHG-REL/dsva-placement-dsva_placement.json"} <= set(found), found
    assert clone_reports() == before
