# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When an NLB farm may go from Tap to Inline (NLB-03), from the Tap records its hosts carry. Pure: no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import datetime

TAP_RECORD = "network_engine_mode"
# the computer setting the Tap/Inline switch changes (SDK 20.0 ComputerSettings.firewall_setting_network_engine_mode)
ENGINE_MODE = "firewallSettingNetworkEngineMode"


def _lower(value):
    return str(value or "").lower()


# --- Tap -> Inline (NLB-03) ---------------------------------------------------------------------------

def _epoch(text):
    """ISO 8601 UTC (``2026-11-26T10:00:00Z``, with or without fractions) -> seconds since the epoch."""
    value = str(text or "").strip().rstrip("Z")
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S"):
        try:
            moment = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return (moment - datetime(1970, 1, 1)).total_seconds()
    return None


def _is_tap_record(record, window):
    return record.get("change") == TAP_RECORD and _lower(record.get("window")) == _lower(window)


def tap_records(records_by_host, window):
    """host -> this window's ``network_engine_mode`` record, for the hosts that carry one."""
    found = {}
    for host, records in (records_by_host or {}).items():
        for record in records or []:
            if _is_tap_record(record, window):
                found[host] = record
    return found


def records_in_the_way(records_by_host, window):
    """host -> the records on it other than this window's Tap records: another window's (its lease or changes), or
    a change this window made and has not put back (a host left out of its farm). The switch to Inline waits
    until they are gone: it changes how the firewall judges the farm's traffic on every host at once."""
    found = {}
    for host, records in (records_by_host or {}).items():
        for record in records or []:
            if not _is_tap_record(record, window):
                found.setdefault(host, []).append(record)
    return found


def lab_invalid_flags(lab_dsm_status, records_by_host, window, computers=None):
    """Invalid Flags (event 101) per computer the window put in Tap, logged at or after its first Tap switch,
    from the lab DSM model's status (``nlb.<host>.invalid_flags_log``: ``[milliseconds, events]`` per tick
    that logged any). A real DSM has no REST call for firewall events (docs/dsm.md)."""
    records = tap_records(records_by_host, window)
    moments = [_epoch(record.get("since")) for record in records.values()]
    since_ms = min(moment for moment in moments if moment is not None) * 1000.0 if any(
        moment is not None for moment in moments) else 0.0
    nlb = dict((_lower(key), value) for key, value in ((lab_dsm_status or {}).get("nlb") or {}).items())
    counts = {}
    for host, record in records.items():
        computer = (computers or {}).get(host) or host
        entry = nlb.get(_lower(computer)) or {}
        counts[computer] = sum(int(events) for stamp, events in entry.get("invalid_flags_log") or []
                               if float(stamp) >= since_ms)
    return counts


def inline_check(records_by_host, window, now_epoch, observation_seconds, invalid_flags=None, reviewed=False,
                 event_source="operator", computers=None):
    """Whether the farm may go from Tap to Inline (NLB-03), and why not.

    records_by_host: host -> its window records; the ``network_engine_mode`` records of ``window`` name the
    computers the window put in Tap and when (their ``since``, written by the node before the switch).
    invalid_flags: computer -> Invalid Flags events since the switch (``event_source: lab``), else None.
    computers: host -> its computer name as the host reported it.
    reviewed: someone checked the farm's firewall events since the switch (``event_source: operator``).
    """
    records = tap_records(records_by_host, window)
    # each host's own computer, as the host reported it: a record never names the computer it acts on
    names = dict((host, (computers or {}).get(host) or host) for host in records)
    result = {"ready": False, "reasons": [], "tap_since": None, "ready_at": None, "observed_seconds": None,
              "observation_seconds": int(observation_seconds), "event_source": event_source,
              "invalid_flags": invalid_flags, "hosts": sorted(records), "computers": [names[h] for h in sorted(records)],
              "previous_modes": dict((names[h], (records[h].get("data") or {}).get("previous_mode")) for h in records),
              # host -> whether the mode before Tap was the computer's own (False: its policy's; None: not recorded)
              "own_settings": dict((h, (records[h].get("data") or {}).get("own_setting")) for h in records)}
    if not records:
        result["reasons"].append("no host carries a Tap record of window %s: nothing to switch" % window)
        result["nothing_to_do"] = True
        return result
    for host, others in sorted(records_in_the_way(records_by_host, window).items()):
        result["reasons"].append(
            "%s carries %s: a host that is out of its farm or held by another window does not switch; finish or "
            "recover that first (clustersafe.deep_security.recover)"
            % (host, ", ".join("a %s record of window %s" % (other.get("change"), other.get("window")) for other in others)))
    moments = [_epoch(record.get("since")) for record in records.values()]
    if None in moments:
        result["reasons"].append("a Tap record of window %s has no readable time; the observation cannot be "
                                 "counted: check the records with node_window_record_info" % window)
        return result
    since = max(moments)
    observed = float(now_epoch) - since
    result.update(tap_since=max(record.get("since") for record in records.values()),
                  observed_seconds=int(observed), ready_at=since + int(observation_seconds))
    if observed < int(observation_seconds):
        result["reasons"].append(
            "the farm has been in Tap for %d s of the %d s observation (since %s); run again after %s UTC"
            % (observed, int(observation_seconds), result["tap_since"],
               datetime.utcfromtimestamp(since + int(observation_seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")))
    if event_source == "lab":
        flagged = dict((computer, count) for computer, count in sorted((invalid_flags or {}).items()) if count)
        missing = [c for c in result["computers"] if c not in (invalid_flags or {})]
        if missing:
            result["reasons"].append("the Invalid Flags count could not be read for %s" % ", ".join(missing))
        if flagged:
            result["reasons"].append(
                "Invalid Flags (firewall event 101) since the Tap switch: %s; traffic the firewall would judge "
                "is not excluded: add bypass rules (nlb_agent_rollout_virtual_ip=true, nlb_agent_rollout_protocols) "
                "and observe again" % ", ".join("%s %d" % item for item in flagged.items()))
    elif not reviewed:
        result["reasons"].append(
            "the DSM's REST API cannot read firewall events: check Invalid Flags (event 101) and unexpected denies "
            "for %s since %s in the DSM console or your SIEM, then run with nlb_agent_rollout_events_reviewed=true "
            "(in AWX: the approval node before this job)" % (", ".join(result["computers"]), result["tap_since"]))
    result["ready"] = not result["reasons"]
    return result
