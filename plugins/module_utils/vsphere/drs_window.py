# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DRS window: hold a cluster's DRS automation level at ``manual`` for a maintenance window and
put the original level back afterwards (rules VS-05, invariant 3).

The original level lives in a custom attribute on the cluster (``clustersafe.drs_window``), written
*before* DRS is changed, so any later run from any controller can restore it after a crash. This
module decides; the module file acts. Pure: no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import HeldError, ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.records import (
    AUTOMATION_LEVELS,
    CLOCK_SKEW,
    DRS_WINDOW_ATTRIBUTE,
    RecordRefusedError,
    invalid_message,
    parse_time,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.window_id import validate_window_id

MANUAL = "manual"


class WindowPlan(object):
    """What to do: ``write_record`` (dict or None), ``set_level`` (str or None), ``clear_record``.

    ``tie_since`` (an aware datetime, or None): before setting the level, vCenter's events must show this
    account reconfiguring the cluster since then (records.tie_drs_change); set when the level to put back
    comes from the record alone. ``warnings`` go to the module's result."""

    def __init__(self, write_record=None, set_level=None, clear_record=False, message="", tie_since=None, warnings=None):
        self.write_record = write_record
        self.set_level = set_level
        self.clear_record = clear_record
        self.message = message
        self.tie_since = tie_since
        self.warnings = list(warnings or [])

    @property
    def changed(self):
        return bool(self.write_record is not None or self.set_level or self.clear_record)


def _held_message(cluster, record):
    return ("cluster %s is held by DRS window %r (owner %s, since %s, original level %s); finish or restore "
            "that window first, or set force=true to take it over (the original level is kept)"
            % (cluster, record.get("window"), record.get("owner"), record.get("since"), record.get("original_level")))


def lease_fields(run, expires):
    """The lease fields of a DRS window record (``run``, ``expires``), or none without a lease."""
    return {"run": run, "expires": expires} if run and expires else {}


def live_lease(record, vcenter_now):
    """Whether ``record`` carries a lease that has not expired at ``vcenter_now`` (vCenter's clock)."""
    expires = parse_time((record or {}).get("expires"))
    return expires is not None and vcenter_now is not None and expires > vcenter_now


def plan_end_lease(cluster, window, record, run, vcenter_now):
    """End the lease of run ``run`` on the record of ``window`` (``expires`` set to ``vcenter_now``), leaving DRS and
    the rest of the record as they are: a window that ends without giving DRS back (vCenter refused the restore)
    says so, and ``recover`` may then put the level back without naming the run. ``run`` None: the lease in this
    window's record, whichever run holds it (the window's own close). A record of another window or another run,
    or one without a lease, is left alone."""
    run = run or (record or {}).get("run")
    if record is None or record.get("window") != window or not run or record.get("run") != run:
        return WindowPlan(message="cluster %s: no lease of run %s of window %s to end" % (cluster, run, window))
    if not live_lease(record, vcenter_now):
        return WindowPlan(message="cluster %s: the lease of run %s had already ended" % (cluster, run))
    ended = dict((key, value) for key, value in record.items() if key != "valid")
    ended["expires"] = vcenter_now.replace(microsecond=0).isoformat()
    return WindowPlan(write_record=ended, message="cluster %s: the lease of run %s ended at %s; DRS stays at manual with "
                                                  "its record for recover" % (cluster, run, ended["expires"]))


def plan_window(cluster, state, window, current_level, record, owner, now, force=False, saved_level=None, user=None,
                lease=None, vcenter_now=None, respect_lease=False, take_over=""):
    """Decide how to reach ``state`` (``manual`` or ``restored``) for window ``window``.

    ``lease`` (``lease_fields``): with ``manual``, the record carries it (the holder's run and the expiry by
    vCenter's clock); holding again renews it. ``respect_lease`` (recover): a restore of a record whose lease
    has not expired at ``vcenter_now`` is refused (HeldError naming the holder), unless ``take_over`` names its
    run: that window still runs (safety invariant 9).

    ``record`` is the validated custom attribute (records.read_record; None when absent). Raises HeldError
    when another window holds the cluster and ``force`` is false, RecordRefusedError for a record that fails
    validation or that the cluster's DRS no longer bears out, ParameterError for bad options.

    On restore, ``saved_level`` is the level this window's own controller saved when it set DRS to manual
    (``record.original_level`` of its vsphere_drs_window state=manual result): it wins over the record, which anyone who may write
    the attribute can change. Without it the record's level is put back only once vCenter's events tie the
    window to this account (``tie_since``). Either way a level is put back only while DRS is still at manual,
    the level the window left: whoever changed it since keeps their change (invariant 8).
    """
    validate_window_id(window)
    if saved_level is not None and saved_level not in AUTOMATION_LEVELS:
        raise ParameterError("parameter original_level must be one of %s, not %r" % (", ".join(AUTOMATION_LEVELS), saved_level))
    if record is not None and not record.get("valid", True):
        raise RecordRefusedError(invalid_message(DRS_WINDOW_ATTRIBUTE, "cluster %s" % cluster, record),
                                 problems=record.get("problems"))
    foreign = record is not None and record.get("window") != window

    lease = dict(lease or {})
    if state == "manual":
        if record is None:
            new_record = {"window": window, "original_level": current_level, "owner": owner, "since": now,
                          "held_since": now}
            new_record.update(lease)
            if user:
                new_record["vcenter_user"] = user
            return WindowPlan(write_record=new_record, set_level=None if current_level == MANUAL else MANUAL,
                              message="saved %s, DRS set to manual" % current_level)
        if foreign:
            if not force:
                raise HeldError(_held_message(cluster, record), held_by=record.get("window"),
                                owner=record.get("owner"), since=record.get("since"))
            # Taking over keeps the *original* level and the time DRS was first held; never record manual as
            # the level to go back to.
            new_record = dict(record, window=window, owner=owner, since=now, taken_over_from=record.get("window"),
                              held_since=record.get("held_since") or record.get("since"))
            # the lease is the new holder's, or none: never the old holder's
            new_record.pop("run", None)
            new_record.pop("expires", None)
            new_record.update(lease)
            if user:
                new_record["vcenter_user"] = user
            new_record.pop("valid", None)
            return WindowPlan(write_record=new_record, set_level=None if current_level == MANUAL else MANUAL,
                              message="took over window %s; original level %s kept"
                              % (record.get("window"), record["original_level"]))
        renewed = None
        if lease and (record.get("run"), record.get("expires")) != (lease["run"], lease["expires"]):
            renewed = dict((key, value) for key, value in record.items() if key != "valid")
            renewed.update(lease)
        if current_level != MANUAL:
            return WindowPlan(write_record=renewed, set_level=MANUAL,
                              message="DRS was changed during the window; set back to manual")
        if renewed is not None:
            return WindowPlan(write_record=renewed, message="already held at manual by this window; lease renewed until %s"
                              % lease["expires"])
        return WindowPlan(message="already held at manual by this window")

    if state == "restored":
        if record is None:
            return WindowPlan(message="no DRS window record on the cluster; nothing to restore")
        if foreign and not force:
            raise HeldError(_held_message(cluster, record), held_by=record.get("window"),
                            owner=record.get("owner"), since=record.get("since"))
        if respect_lease and live_lease(record, vcenter_now) and (not take_over or take_over != record.get("run")):
            raise HeldError(
                "cluster %s: window %s still runs: its lease (run %s, owner %s) holds DRS at manual until %s by vCenter's "
                "clock, so its record is left alone; once that window has ended or died, wait for the expiry, or set "
                "take_over=%s (recover_take_over) to put the level back now"
                % (cluster, record.get("window"), record.get("run"), record.get("owner"), record.get("expires"),
                   record.get("run")), held_by=record.get("window"), run=record.get("run"), expires=record.get("expires"))
        warnings = []
        original = record["original_level"]
        if saved_level is not None and saved_level != original:
            warnings.append("cluster %s: the DRS window record says to put back %s, but this window saved %s when "
                            "it set DRS to manual; %s is put back. Someone changed the record in vCenter: check who "
                            "may write custom attribute %s (docs/security.md)"
                            % (cluster, original, saved_level, saved_level, DRS_WINDOW_ATTRIBUTE))
            original = saved_level
        if current_level == original:
            return WindowPlan(clear_record=True, message="DRS already at %s; record cleared" % original, warnings=warnings)
        if current_level != MANUAL:
            raise RecordRefusedError(
                "cluster %s: DRS is %s now, not manual as window %s left it, so someone changed it during the window; "
                "it is left as it is (a window undoes only what it did) and so is the record: set the level you want "
                "by hand, then clear custom attribute %s" % (cluster, current_level, record.get("window"), DRS_WINDOW_ATTRIBUTE),
                automation_level=current_level)
        tie_since = None
        if saved_level is None:
            tie_since = parse_time(record.get("held_since") or record.get("since")) - CLOCK_SKEW
        return WindowPlan(set_level=original, clear_record=True, message="restored DRS to %s" % original,
                          tie_since=tie_since, warnings=warnings)
    raise ParameterError("parameter state must be manual or restored, not %r" % state)
