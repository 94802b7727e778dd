# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one rule for a maintenance window's id, shared by every record a window writes (the DRS window
record on a vSphere cluster, the window records on Windows nodes), so an id accepted by one is accepted
by all and a role can pass the same id everywhere.

The id becomes a registry key name on Windows nodes. Microsoft's "Registry Element Size Limits"
(https://learn.microsoft.com/windows/win32/sysinfo/registry-element-size-limits) allows 255 characters
and no backslash; PowerShell paths also treat ``/`` as a separator and ``* ? [ ]`` as wildcards, and
``.``/``..`` as the current/parent location. The rule below stays well inside all of that: a letter or
digit first, then letters, digits, ``.``, ``_`` or ``-``, at most 64 characters. Change numbers
(``CHG0012345``), dates (``2026-11-26``) and dotted names (``sql.patch-2``) all fit. Pure: no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError

WINDOW_ID_MAX_LENGTH = 64
WINDOW_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,%d}\Z" % (WINDOW_ID_MAX_LENGTH - 1))


def validate_window_id(window, parameter="window"):
    """Return ``window`` when it is a valid window id; raise ParameterError naming ``parameter`` otherwise."""
    if window is None or window == "":
        raise ParameterError("parameter %s must name the maintenance window, e.g. 'CHG0012345'" % parameter)
    if not isinstance(window, str) or not WINDOW_ID_PATTERN.match(window):
        raise ParameterError(
            "parameter %s=%r is not a valid window id: use 1 to %d characters, a letter or digit first, then "
            "letters, digits, '.', '_' or '-' (e.g. 'CHG0012345'); the id becomes a registry key name on "
            "Windows nodes" % (parameter, window, WINDOW_ID_MAX_LENGTH))
    return window
