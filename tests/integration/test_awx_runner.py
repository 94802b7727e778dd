"""The main job (the failover-cluster rollout) run the way AWX runs a job template: through ansible-runner,
with a private data directory holding the project, an inventory, ``env/extravars`` (what the job template
and its survey pass), ``env/envvars`` (what the credential types inject: vCenter, WinRM, DSM API key) and
``env/settings``. AWX stores the job events ansible-runner writes, so none of them may hold a secret; the
job's artifacts come from ``set_stats`` (``wsfc_agent_rollout``)."""
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, collections_path, lab_control
from test_wsfc_window import NODES, ORDER, SECRET_KEYS, VERSION, assert_invariants, windows_status

RUNNER = os.path.join(os.path.dirname(sys.executable), "ansible-runner")
# What the credential types of docs/awx.md inject as environment variables.
CREDENTIAL_ENV = ("VMWARE_HOST", "VMWARE_PORT", "VMWARE_USER", "VMWARE_PASSWORD", "VMWARE_VALIDATE_CERTS",
                  "WINRM_USER", "WINRM_PASSWORD", "DSM_URL", "DSM_API_KEY", "DSM_VALIDATE_CERTS")
# What the execution environment's image provides (its CA bundle, its collections, its Python).
IMAGE_ENV = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def private_data_dir(base, lab, window):
    """The directory AWX hands to ansible-runner for one job."""
    root = base / "job"
    root.mkdir()
    # The project of awx/project: one-line playbooks importing the collection's (AWX lists only a project's own).
    shutil.copytree(os.path.join(ROOT, "awx", "project"), str(root / "project"))
    (root / "inventory").mkdir()
    (root / "env").mkdir()
    shutil.copy(os.path.join(ROOT, "tests", "lab", "inventory.yml"), str(root / "inventory" / "hosts.yml"))
    sha256 = hashlib.sha256(("clustersafe-lab-msi:%s" % VERSION).encode()).hexdigest()
    extravars = {
        # The survey of docs/awx.md.
        "wsfc_rollout_hosts": "sql_cluster",
        "wsfc_rollout_window": window,
        "wsfc_rollout_version": VERSION,
        "wsfc_rollout_installer_url": "https://127.0.0.1:14119/software/agent/Windows/x86_64/%s/agent.msi" % VERSION,
        "wsfc_rollout_installer_sha256": sha256,
        "wsfc_rollout_dsm_url": "dsm://127.0.0.1:4120/",
        "wsfc_rollout_policy_id": 3,
        # The activation token credential type injects it as an extra variable.
        "wsfc_rollout_token": lab["CLUSTERSAFE_LAB_ACTIVATION_TOKEN"],
        # Job template variables.
        "wsfc_agent_rollout_report_dir": str(base / "reports"),
        "wsfc_agent_rollout_dsm_poll_interval": 1,
    }
    (root / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    envvars = dict((key, lab[key]) for key in CREDENTIAL_ENV + IMAGE_ENV if key in lab)
    envvars.update(ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                   PATH=os.environ["PATH"])
    (root / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    (root / "env" / "settings").write_text(yaml.safe_dump({"job_timeout": 900, "suppress_ansible_output": True}))
    (base / "reports").mkdir()
    return root


def run_job(root, ident):
    completed = subprocess.run([RUNNER, "run", str(root), "-p", "wsfc_agent_rollout.yml", "--ident", ident],
                               capture_output=True, text=True, timeout=1200, check=False)
    artifacts = root / "artifacts" / ident
    events = []
    for path in sorted(glob.glob(str(artifacts / "job_events" / "*.json"))):
        with open(path) as handle:
            events.append((path, handle.read()))
    status = (artifacts / "status").read_text().strip() if (artifacts / "status").exists() else None
    return completed, status, events


@pytest.mark.lab
def test_rollout_through_ansible_runner(lab, tmp_path):
    if not os.path.exists(RUNNER):
        pytest.fail("ansible-runner is not installed next to %s (make deps installs it)" % sys.executable)
    lab_control(lab, "POST", "/reset")
    root = private_data_dir(tmp_path, lab, "CHG-AWX")
    completed, status, events = run_job(root, "1")
    stdout = (root / "artifacts" / "1" / "stdout").read_text() if (root / "artifacts" / "1" / "stdout").exists() else ""
    assert status == "successful", (status, completed.stderr[-5000:], stdout[-20000:])
    assert (root / "artifacts" / "1" / "rc").read_text().strip() == "0"

    documents = [json.loads(text) for _path, text in events]
    stats = [doc for doc in documents if doc.get("event") == "playbook_on_stats"]
    assert len(stats) == 1
    artifact = stats[0]["event_data"]["artifact_data"]["wsfc_agent_rollout"]
    assert artifact["result"] == "succeeded", artifact
    assert artifact["window"] == "CHG-AWX"
    assert artifact["kind"] == "wsfc_agent_rollout"
    assert (artifact["nodes"], artifact["changed"], artifact["failed"], artifact["blockers"]) == (len(NODES), 3, 0, 0)

    # AWX keeps every event (and the stdout built from them) in its database.
    for key in SECRET_KEYS:
        secret = lab.get(key)
        if not secret:
            continue
        for path, text in events:
            assert secret not in text, "%s in the job event %s" % (key, os.path.basename(path))
        assert secret not in stdout, "%s in the job's stdout" % key

    status_doc = assert_invariants(lab)
    for node in ORDER:
        assert status_doc["agents"][node]["version"] == VERSION
    lab_control(lab, "POST", "/reset")
    assert windows_status(lab)["unplanned_failovers"] == 0


@pytest.mark.lab
def test_a_machine_credential_reaches_the_window_as_awx_passes_it(lab, tmp_path):
    """AWX passes a Machine credential as ``-u USER --ask-pass`` and answers the password prompt (its
    ``env/cmdline`` and ``env/passwords`` in the private data directory); no WINRM_* credential is injected."""
    if not os.path.exists(RUNNER):
        pytest.fail("ansible-runner is not installed next to %s (make deps installs it)" % sys.executable)
    lab_control(lab, "POST", "/reset")
    root = private_data_dir(tmp_path, lab, "CHG-AWX-MACHINE")
    envvars = yaml.safe_load((root / "env" / "envvars").read_text())
    for key in ("WINRM_USER", "WINRM_PASSWORD"):
        envvars.pop(key, None)
    (root / "env" / "envvars").write_text(yaml.safe_dump(envvars))
    (root / "env" / "cmdline").write_text("-u '%s' --ask-pass" % lab["WINRM_USER"])
    (root / "env" / "passwords").write_text(yaml.safe_dump({r"^SSH [pP]assword:\s*?$": lab["WINRM_PASSWORD"]}))
    completed, status, events = run_job(root, "1")
    stdout = (root / "artifacts" / "1" / "stdout").read_text() if (root / "artifacts" / "1" / "stdout").exists() else ""
    assert status == "successful", (status, completed.stderr[-5000:], stdout[-20000:])
    stats = [json.loads(text) for _path, text in events if '"playbook_on_stats"' in text]
    artifact = stats[0]["event_data"]["artifact_data"]["wsfc_agent_rollout"]
    assert artifact["result"] == "succeeded" and artifact["changed"] == len(NODES), artifact
    for _path, text in events:
        assert lab["WINRM_PASSWORD"] not in text
    assert lab["WINRM_PASSWORD"] not in stdout
    assert_invariants(lab)
    lab_control(lab, "POST", "/reset")
