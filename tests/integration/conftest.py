"""Fixtures for tests that need the running lab: start it when it is not running (and stop it
afterwards in that case), and hand tests its environment (endpoints, lab credentials, CA bundle)."""
import contextlib
import os
import shlex
import subprocess
import sys
import urllib.request
import json

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LABCTL = os.path.join(ROOT, "tests", "lab", "labctl.py")
STATE_DIR = os.environ.get("CLUSTERSAFE_LAB_DIR", os.path.join(ROOT, ".lab"))


def _lab_running():
    for name in ("vcenter", "labd"):
        try:
            with open(os.path.join(STATE_DIR, name + ".pid")) as handle:
                os.kill(int(handle.read()), 0)
        except (OSError, ValueError):
            return False
    return os.path.exists(os.path.join(STATE_DIR, "lab.env"))


def read_lab_env(state_dir=STATE_DIR):
    exports = {}
    with open(os.path.join(state_dir, "lab.env")) as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("export "):
                key, value = line[len("export "):].split("=", 1)
                exports[key] = shlex.split(value)[0] if value else ""
    return exports


def labctl(*args):
    subprocess.check_call([sys.executable, LABCTL] + list(args), stdout=subprocess.DEVNULL)


@pytest.fixture(scope="session")
def lab():
    started_here = False
    if not _lab_running():
        labctl("start", "--state-dir", STATE_DIR)
        started_here = True
    yield read_lab_env()
    if started_here:
        subprocess.call([sys.executable, LABCTL, "stop", "--state-dir", STATE_DIR], stdout=subprocess.DEVNULL)


@contextlib.contextmanager
def generated_lab(state_dir, *start_args):
    """A generated lab estate (``labctl.py start <start_args>``, tests/lab/estate.py) in ``state_dir``, in place
    of the shared lab, which is stopped meanwhile and started again afterwards: both bind the same loopback
    addresses. Yields the estate's environment (lab.env)."""
    labctl("stop", "--state-dir", STATE_DIR)
    labctl("start", "--state-dir", state_dir, *start_args)
    try:
        yield read_lab_env(state_dir)
    finally:
        labctl("stop", "--state-dir", state_dir)
        labctl("start", "--state-dir", STATE_DIR)


def lab_control(lab, method, path, document=None, part_url_key="CLUSTERSAFE_LAB_CONTROL"):
    """Call a lab control endpoint (``GET /status``, ``POST /reset``, ``POST /faults/<part>``)."""
    data = json.dumps(document or {}).encode() if method == "POST" else None
    request = urllib.request.Request(lab[part_url_key] + path, data=data, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def collections_path():
    """Where ansible-playbook finds the collection: the clone (linked under build/collections), or the
    collections path named by CLUSTERSAFE_COLLECTIONS_PATH (tools/galaxy-check.sh: an installed tarball)."""
    if os.environ.get("CLUSTERSAFE_COLLECTIONS_PATH"):
        return os.environ["CLUSTERSAFE_COLLECTIONS_PATH"]
    return subprocess.check_output(["bash", os.path.join(ROOT, "tools", "collection-root.sh"), "link"],
                                   text=True).strip()


def reset_lab(state_dir=STATE_DIR):
    """Every part of the lab back to the topology (the vCenter is restarted)."""
    labctl("reset", "--state-dir", state_dir)


@pytest.fixture
def fresh_lab(lab):
    """A test that changes the lab starts it from the topology and leaves it so for the next test."""
    reset_lab()
    yield lab
    reset_lab()
