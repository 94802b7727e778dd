"""Make ``ansible_collections.clustersafe.deep_security`` importable from a clone anywhere."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, "build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "clustersafe", "deep_security")

if not os.path.exists(LINK):
    subprocess.check_call(["bash", os.path.join(ROOT, "tools", "collection-root.sh"), "link"],
                          stdout=subprocess.DEVNULL)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
