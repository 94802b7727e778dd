"""Make ``ansible_collections.clustersafe.deep_security`` importable from a clone anywhere, and make the
tools the tests start by name (ansible-playbook, ansible-runner) those of the Python running the tests:
its bin directory (the project's .venv under make) goes first on PATH, so a test run as
``.venv/bin/python -m pytest`` never picks up another Ansible from the system."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Tests run either from a clone (the collection is linked under build/collections) or from an installed
# copy (ansible-galaxy collection install: ROOT is .../ansible_collections/clustersafe/deep_security).
INSTALLED = ROOT.split(os.sep)[-3:-1] == ["ansible_collections", "clustersafe"] and not os.path.isdir(
    os.path.join(ROOT, "tools"))
COLLECTIONS = os.path.dirname(os.path.dirname(os.path.dirname(ROOT))) if INSTALLED else os.path.join(
    ROOT, "build", "collections")
LINK = ROOT if INSTALLED else os.path.join(COLLECTIONS, "ansible_collections", "clustersafe", "deep_security")

BIN = os.path.dirname(sys.executable)
if os.environ.get("PATH", "").split(os.pathsep)[0] != BIN:
    os.environ["PATH"] = BIN + os.pathsep + os.environ.get("PATH", "")

if not os.path.exists(LINK):
    subprocess.check_call(["bash", os.path.join(ROOT, "tools", "collection-root.sh"), "link"],
                          stdout=subprocess.DEVNULL)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

if INSTALLED:
    # The tests of an installed copy must exercise that copy, not a clone found elsewhere on sys.path.
    import ansible_collections.clustersafe.deep_security as _collection  # noqa: E402
    assert os.path.realpath(_collection.__path__[0]) == os.path.realpath(ROOT), _collection.__path__
