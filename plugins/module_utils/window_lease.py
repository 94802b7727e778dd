# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A window's lease on a cluster (safety invariant 9): one live owner per failover cluster, NLB farm or
vSphere cluster.

A run writes its lease on the cluster before its first change, renews it between steps (a heartbeat) and
removes it when it is done with nothing left to put back. Another run of any window, and ``recover``, refuse
a cluster whose lease is fresh and name the holder; once the lease has expired (its holder died), or with an
explicit take-over that names the holder's run, they take it over. Microsoft's Cluster-Aware Updating keeps
one Updating Run per cluster the same way (its clustered role holds the run).

The lease is a record like the window records: it is validated before it is trusted (fields, lengths, times),
and an unreadable one is never taken for free. Expiry is judged with the clock of the system that holds the
lease, never a controller's. Pure: no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from datetime import datetime

from ansible_collections.clustersafe.deep_security.plugins.module_utils.window_id import WINDOW_ID_PATTERN

RUN_PATTERN = re.compile(r"\A[0-9a-f]{8,32}\Z")
HOST_PATTERN = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,252}\Z")
UNIT_PATTERN = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9 ._()-]{0,126}\Z")
HOLDERS = ("wsfc_window", "nlb_window", "recover")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# The value take_over accepts for a lease that cannot be read (its run is unknown).
UNREADABLE = "unreadable"


def parse_time(text):
    """An ISO 8601 UTC time as the node writes it (``2026-12-06T03:00:00Z``) -> datetime, or None."""
    try:
        return datetime.strptime(str(text or ""), TIME_FORMAT)
    except ValueError:
        return None


def validate(lease):
    """(lease, problem): the lease when every field is what a window writes, else (None, why)."""
    if not isinstance(lease, dict):
        return None, "not a JSON object"
    checks = (("run", RUN_PATTERN), ("window", WINDOW_ID_PATTERN), ("controller", HOST_PATTERN), ("unit", UNIT_PATTERN))
    for name, pattern in checks:
        value = lease.get(name)
        if not isinstance(value, str) or not pattern.match(value):
            return None, "field %s is %s" % (name, "missing" if value in (None, "") else "not what a window writes")
    if lease.get("holder") not in HOLDERS:
        return None, "field holder is not one of %s" % ", ".join(HOLDERS)
    for name in ("since", "heartbeat", "expires"):
        if parse_time(lease.get(name)) is None:
            return None, "field %s is not an ISO 8601 UTC time" % name
    return dict((key, lease[key]) for key in ("run", "window", "holder", "controller", "unit", "since", "heartbeat",
                                              "expires")), ""


def parse(text):
    """The lease stored as JSON text: (lease or None, problem). No text is no lease (None, '')."""
    if text in (None, ""):
        return None, ""
    try:
        document = json.loads(text)
    except ValueError:
        return None, "not JSON"
    return validate(document)


def fresh(lease, now):
    """Whether ``lease`` holds at ``now`` (a datetime of the same clock as the lease's times)."""
    return lease is not None and parse_time(lease["expires"]) > now


def describe(lease):
    """The holder of a lease, in words, for a refusal."""
    return ("run %s of window %s (%s) from controller %s since %s, last heartbeat %s, expires %s"
            % (lease["run"], lease["window"], lease["holder"], lease["controller"], lease["since"], lease["heartbeat"],
               lease["expires"]))


def judge(raw, now, run, take_over=""):
    """What a run may do with the lease it found on a unit: ``{"action": ..., "expected": ..., "message": ...}``.

    raw: the lease's text as read ('' for none); the swap that follows compares the whole text, so
    ``expected`` is always that text. now: the holder system's clock; run: this run's id; take_over: the run
    id (or ``unreadable``) the operator named to take over.

    - ``take`` (write ours over ``expected``): no lease, ours already, an expired one, or the one named in
      ``take_over``;
    - ``refuse``: a fresh lease of another run, or an unreadable one not named in ``take_over``.
    """
    found, problem = parse(raw)
    if problem:
        if take_over == UNREADABLE:
            return {"action": "take", "expected": raw, "taken_over": UNREADABLE,
                    "message": "took over an unreadable lease (%s), as take_over=%s asked" % (problem, UNREADABLE)}
        return {"action": "refuse", "expected": None, "holder": None,
                "message": "the unit's lease cannot be read (%s): nothing can tell whether a window still runs there; "
                           "check that no window runs, then set take_over=%s" % (problem, UNREADABLE)}
    if found is None:
        return {"action": "take", "expected": raw or "", "message": "no lease"}
    if found["run"] == run:
        return {"action": "take", "expected": raw, "message": "our own lease"}
    if not fresh(found, now):
        return {"action": "take", "expected": raw, "taken_over": found["run"],
                "message": "took over the expired lease of %s" % describe(found)}
    if take_over and take_over == found["run"]:
        return {"action": "take", "expected": raw, "taken_over": found["run"],
                "message": "took over the fresh lease of %s, as take_over asked" % describe(found)}
    return {"action": "refuse", "expected": None, "holder": found,
            "message": "held by %s; wait for it, or once you are sure it no longer runs (its controller died, its AWX "
                       "job was cancelled) set take_over=%s to take it over" % (describe(found), found["run"])}
