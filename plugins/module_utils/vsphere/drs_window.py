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
from ansible_collections.clustersafe.deep_security.plugins.module_utils.window_id import validate_window_id

MANUAL = "manual"
AUTOMATION_LEVELS = ("manual", "partiallyAutomated", "fullyAutomated")


class WindowPlan(object):
    """What to do: ``write_record`` (dict or None), ``set_level`` (str or None), ``clear_record``."""

    def __init__(self, write_record=None, set_level=None, clear_record=False, message=""):
        self.write_record = write_record
        self.set_level = set_level
        self.clear_record = clear_record
        self.message = message

    @property
    def changed(self):
        return bool(self.write_record is not None or self.set_level or self.clear_record)


def _held_message(cluster, record):
    return ("cluster %s is held by DRS window %r (owner %s, since %s, original level %s); finish or restore "
            "that window first, or set force=true to take it over (the original level is kept)"
            % (cluster, record.get("window"), record.get("owner"), record.get("since"), record.get("original_level")))


def plan_window(cluster, state, window, current_level, record, owner, now, force=False):
    """Decide how to reach ``state`` (``manual`` or ``restored``) for window ``window``.

    ``record`` is the parsed custom attribute (None when absent). Raises HeldError when another
    window holds the cluster and ``force`` is false, ParameterError for a record it cannot trust.
    """
    validate_window_id(window)
    if record is not None and not record.get("valid", True):
        raise ParameterError(
            "cluster %s carries an unreadable DRS window record (%r) in custom attribute clustersafe.drs_window; "
            "check the cluster's DRS level in vCenter and clear that attribute by hand" % (cluster, record.get("raw")))
    if record is not None and record.get("original_level") not in AUTOMATION_LEVELS:
        raise ParameterError("cluster %s: DRS window record has no valid original level (%r); clear "
                             "custom attribute clustersafe.drs_window by hand" % (cluster, record.get("original_level")))
    foreign = record is not None and record.get("window") != window

    if state == "manual":
        if record is None:
            new_record = {"window": window, "original_level": current_level, "owner": owner, "since": now}
            return WindowPlan(write_record=new_record, set_level=None if current_level == MANUAL else MANUAL,
                              message="saved %s, DRS set to manual" % current_level)
        if foreign:
            if not force:
                raise HeldError(_held_message(cluster, record), held_by=record.get("window"),
                                owner=record.get("owner"), since=record.get("since"))
            # Taking over keeps the *original* level; never record manual as the level to go back to.
            new_record = dict(record, window=window, owner=owner, since=now, taken_over_from=record.get("window"))
            new_record.pop("valid", None)
            return WindowPlan(write_record=new_record, set_level=None if current_level == MANUAL else MANUAL,
                              message="took over window %s; original level %s kept"
                              % (record.get("window"), record["original_level"]))
        if current_level != MANUAL:
            return WindowPlan(set_level=MANUAL, message="DRS was changed during the window; set back to manual")
        return WindowPlan(message="already held at manual by this window")

    if state == "restored":
        if record is None:
            return WindowPlan(message="no DRS window record on the cluster; nothing to restore")
        if foreign and not force:
            raise HeldError(_held_message(cluster, record), held_by=record.get("window"),
                            owner=record.get("owner"), since=record.get("since"))
        original = record["original_level"]
        return WindowPlan(set_level=None if current_level == original else original, clear_record=True,
                          message="restored DRS to %s" % original)
    raise ParameterError("parameter state must be manual or restored, not %r" % state)
