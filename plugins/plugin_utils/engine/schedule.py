# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rounds across the units of a window (failover clusters, NLB farms) and who holds DRS.

A round gives each unit with work left at most one member, so a unit never has two members out (safety
invariant 1, rule MS-03), and the estate never more than ``max_nodes_out`` members out of service at once,
counting those a failure left out of service. The units with the most members left go first, so a cap costs
as few rounds as it can. The next round is decided when the previous one has ended, from what is left.

DRS on a vSphere cluster is held once for all the failover clusters of the window whose nodes run on it, and
given back once the last of them is done. Pure: no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError


def check_cap(max_nodes_out, variable):
    try:
        cap = int(max_nodes_out or 0)
    except (TypeError, ValueError):
        cap = -1
    if cap < 0:
        raise ParameterError("%s must be 0 (one member per cluster, no other cap) or a positive number, not %r"
                             % (variable, max_nodes_out))
    return cap


def next_round(remaining, max_nodes_out=0, left_out=0):
    """The next round: ``{unit: member}``.

    remaining: unit -> its members still to do, in order (a unit that must not go on has none left).
    left_out: members a failure left out of service across the estate; they count against the cap.
    """
    waiting = sorted((unit for unit, members in remaining.items() if members),
                     key=lambda unit: (-len(remaining[unit]), unit))
    if max_nodes_out:
        waiting = waiting[:max(int(max_nodes_out) - int(left_out), 0)]
    return dict((unit, remaining[unit][0]) for unit in waiting)


def rounds(orders, max_nodes_out=0):
    """Every round, when nothing fails: ``[{unit: member}]`` (the printed plan and check mode)."""
    remaining = dict((unit, list(order or [])) for unit, order in (orders or {}).items())
    out = []
    while any(remaining.values()):
        chosen = next_round(remaining, max_nodes_out)
        if not chosen:
            break
        for unit in chosen:
            remaining[unit].pop(0)
        out.append(chosen)
    return out


def drs_users(plans):
    """vSphere cluster -> the units (in order) whose members to maintain run on it; a unit with blockers or
    nothing to do holds nothing."""
    users = {}
    for unit in sorted(plans or {}):
        plan = plans[unit] or {}
        if plan.get("blockers") or not plan.get("order"):
            continue
        for name in plan.get("drs_clusters") or []:
            users.setdefault(name, []).append(unit)
    return users


def drs_to_release(users, done_units, released=()):
    """The vSphere clusters whose every user unit is done (and that are not released yet)."""
    done = set(done_units or [])
    return sorted(name for name, units in (users or {}).items()
                  if name not in (released or ()) and set(units) <= done)


def schedule_lines(orders, users, window, units_word, member_word, max_nodes_out=0):
    """The schedule as the printed plan shows it: one line per round, one per held vSphere cluster."""
    cap = int(max_nodes_out or 0)
    lines = ["window %s across %d %s(s), %s" % (
        window, len(orders or {}), units_word,
        ("at most %d %s(s) out at once" % (cap, member_word)) if cap else "one %s per %s at a time" % (member_word, units_word))]
    for index, entry in enumerate(rounds(orders, cap)):
        lines.append("round %d: %s" % (index + 1, ", ".join("%s %s" % (unit, entry[unit]) for unit in sorted(entry))))
    for name, units in sorted((users or {}).items()):
        lines.append("DRS of %s held once for %s" % (name, ", ".join(units)))
    return lines
