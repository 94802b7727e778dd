"""Run every integration playbook (tests/integration/playbooks/*.yml) against the lab.

Each playbook proves its module's contract with ``assert`` tasks: first run changed, second run
unchanged, check mode changes nothing, bad input fails cleanly. This driver runs each with ``-vvv``
and fails if any lab secret (passwords, API key, activation token) appears anywhere in the output.
"""
import glob
import os
import subprocess
import sys

import pytest

from conftest import ROOT, collections_path

PLAYBOOKS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "playbooks", "*.yml")))
SECRET_KEYS = ("VMWARE_PASSWORD", "WINRM_PASSWORD", "DSM_API_KEY", "CLUSTERSAFE_LAB_ACTIVATION_TOKEN")


# CLUSTERSAFE_ANSIBLE_BIN names the bin directory of another ansible-core (`make oldest` runs the
# playbooks once more with the oldest supported one); its Python runs the modules too.
ANSIBLE_BIN = os.environ.get("CLUSTERSAFE_ANSIBLE_BIN", "")


def run_playbook(lab, playbook, *extra, cwd=ROOT):
    """``ansible-playbook -vvv`` against the lab, started from ``cwd`` (the clone unless told)."""
    env = dict(os.environ)
    env.update(lab)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": collections_path(),
        "ANSIBLE_HOST_KEY_CHECKING": "false",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PYTHON_INTERPRETER": os.path.join(ANSIBLE_BIN, "python") if ANSIBLE_BIN else sys.executable,
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
    })
    ansible_playbook = os.path.join(ANSIBLE_BIN, "ansible-playbook") if ANSIBLE_BIN else "ansible-playbook"
    command = [ansible_playbook, "-vvv", "-i", os.path.join(ROOT, "tests", "integration", "inventory.yml"),
               playbook] + list(extra)
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.lab
@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=[os.path.basename(p)[:-4] for p in PLAYBOOKS])
def test_playbook(lab, playbook):
    result = run_playbook(lab, playbook)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    for key in SECRET_KEYS:
        secret = lab.get(key)
        if secret:
            assert secret not in output, "%s leaked into the -vvv output of %s" % (key, playbook)
