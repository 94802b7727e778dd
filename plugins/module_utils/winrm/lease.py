# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A window's lease on a Windows node (module_utils/window_lease.py says what a lease is and who may take
it): read it, or swap it for another in one script that compares the whole stored text under a named system
mutex (scripts.WINDOW_LEASE), so two controllers can never both take it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils import window_lease
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import scripts
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import MalformedOutputError

ACTIONS = ("read", "take", "release")


def _answer(document, host):
    """The script's answer, checked: computer, the node's clock, the stored text, whether it swapped."""
    if not isinstance(document, dict):
        raise MalformedOutputError("the lease script on %s did not answer a JSON object" % host, host=host)
    now = window_lease.parse_time(document.get("now"))
    raw = document.get("lease")
    if raw is None:
        raw = ""
    if now is None or not isinstance(raw, str) or not isinstance(document.get("swapped"), bool) \
            or not isinstance(document.get("computer"), str):
        raise MalformedOutputError("the lease script on %s answered a document of another shape: %r"
                                   % (host, sorted(document)), host=host)
    return {"computer": document["computer"], "now": now, "raw": raw, "swapped": document["swapped"]}


def lease(client, action="read", expected="", lease_fields=None, ttl=0):
    """Run the lease script: ``read``, ``take`` (write ``lease_fields`` with a heartbeat and an expiry ``ttl``
    seconds from the node's now, if the stored text is still ``expected``) or ``release`` (remove it, if still
    ``expected``). Returns ``{"computer", "now", "raw", "swapped"}``; ``raw`` is the text stored after the call."""
    if action not in ACTIONS:
        raise ValueError("lease action must be one of %s" % ", ".join(ACTIONS))
    params = dict(action=action, expected=expected or "", lease=dict(lease_fields or {}), ttl=int(ttl or 0))
    document = client.run("window_lease", scripts.body("window_lease"), params)
    return _answer(document, getattr(client, "host", "node"))
