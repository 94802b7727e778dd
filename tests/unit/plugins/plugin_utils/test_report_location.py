"""One rule for where every role writes its reports."""
import os

import pytest

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.report_location import report_dir


@pytest.mark.parametrize("configured, expected", [
    ("", "/srv/awx/project/window-reports"),
    (None, "/srv/awx/project/window-reports"),
    ("  ", "/srv/awx/project/window-reports"),
    ("reports/chg", "/srv/awx/project/reports/chg"),
    ("../out", "/srv/awx/out"),
    ("/var/reports/", "/var/reports"),
])
def test_the_directory_is_absolute_and_relative_to_where_ansible_playbook_started(configured, expected):
    assert report_dir(configured, cwd="/srv/awx/project") == expected


def test_the_home_of_the_controller_user(monkeypatch):
    monkeypatch.setenv("HOME", "/home/ops")
    assert report_dir("~/reports", cwd="/tmp") == "/home/ops/reports"


def test_without_a_directory_given_the_current_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert report_dir("") == os.path.join(str(tmp_path), "window-reports")
