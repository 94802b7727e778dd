"""Lets the Windows module tests share the fakes of tests/unit/plugins/module_utils/winrm."""
import os
import sys

FAKES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "module_utils", "winrm")
if FAKES not in sys.path:
    sys.path.insert(0, FAKES)
