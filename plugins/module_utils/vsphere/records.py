# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's records in vCenter and who may write them (docs/security.md, "Records in vCenter").

Two custom attributes carry a window's state on the object it changed: ``clustersafe.drs_window`` on a
cluster (the DRS level to put back) and ``clustersafe.evacuation`` on a host (what an evacuation moved,
powered off and whether it entered maintenance mode). This module holds, as pure functions:

- the privilege policy each attribute is created with (``field_policy``): vim.CustomFieldsManager.
  AddCustomFieldDef takes ``fieldPolicy`` (vim.PrivilegePolicyDef: create/read/update/delete privilege),
  and ExtensibleManagedObject.setCustomValue "requires whichever updatePrivilege is defined as one of the
  CustomFieldDef.fieldInstancePrivileges for the CustomFieldDef whose value is being changed" (vSphere Web
  Services API reference). CustomFieldsManager.SetField is documented to require Global.SetCustomField on
  the entity only, so a record is never trusted for its policy alone;
- the validation of every field of a record (type, allowed values, length, ISO 8601 times, managed-object
  id shape) before anything is done with it; a record that fails is reported and never acted on;
- the checks that tie a record to what vCenter's own event history says this account did (``tie_*``):
  Event.userName is "The user who caused the event" (vim.event.Event), so an entry into maintenance mode, a
  migration off the host or a guest shutdown that another account made is never undone on a record's word.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import re
import unicodedata

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError, ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.window_id import WINDOW_ID_PATTERN


class RecordRefusedError(CollectionError):
    """A record in vCenter that fails validation, or that vCenter's state and events do not bear out: nothing
    was done with it and it is left as it is."""


DRS_WINDOW_ATTRIBUTE = "clustersafe.drs_window"
EVACUATION_ATTRIBUTE = "clustersafe.evacuation"

AUTOMATION_LEVELS = ("manual", "partiallyAutomated", "fullyAutomated")

# The privilege a writer of each record needs (the record's fieldPolicy.updatePrivilege): the one the record
# drives. A DRS window record sets the cluster's DRS level on restore, which ReconfigureComputeResource_Task
# guards with Host.Inventory.EditCluster; an evacuation record takes its host out of maintenance mode
# (ExitMaintenanceMode_Task: Host.Config.Maintenance), the first thing its restore does (privIds from pyVmomi's
# type information). One policy holds one update privilege, so the migrations and power-ons an evacuation
# record also names are checked against vCenter's events instead (tie_evacuation).
FIELD_UPDATE_PRIVILEGES = {
    DRS_WINDOW_ATTRIBUTE: "Host.Inventory.EditCluster",
    EVACUATION_ATTRIBUTE: "Host.Config.Maintenance",
}
# Reading a record needs no more than reading the object (System.Read is in every vCenter role).
FIELD_READ_PRIVILEGE = "System.Read"
# Renaming or removing the definition: Global.ManageCustomFields (RenameCustomFieldDef, RemoveCustomFieldDef).
FIELD_DEFINITION_PRIVILEGE = "Global.ManageCustomFields"

# Limits: a vSphere inventory name is at most 80 characters (VMs, clusters); a host is named by its FQDN or
# address, at most 255 (a DNS name); owners and user names get 256; a record lists at most 1024 VMs.
NAME_MAX = 80
HOST_NAME_MAX = 255
TEXT_MAX = 256
ENTRIES_MAX = 1024
RAW_MAX = 200

# Managed-object ids of VMs as vCenter hands them out ("vm-42").
VM_MOID = re.compile(r"^vm-[0-9]{1,12}\Z")
RUN_ID = re.compile(r"\A[0-9a-f]{8,32}\Z")
# a lease shorter than this would expire between two renewals of a window that waits on a slow step
MIN_LEASE_SECONDS = 60
# ISO 8601 date and time with seconds and an explicit offset (what the collection writes: now_iso()).
ISO_TIME = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,6})?"
                      r"(Z|[+-][0-9]{2}:[0-9]{2})\Z")

# vCenter and controller clocks drift apart; an event stamped by vCenter up to this long before the record's
# time (written by the controller just before the change) still counts as the change the record announced.
CLOCK_SKEW = datetime.timedelta(minutes=5)

# The events the restore looks at (vim.event.*: the type names are the eventTypeId of vCenter's own events).
MAINTENANCE_EVENTS = ("EnteringMaintenanceModeEvent", "EnteredMaintenanceModeEvent", "ExitMaintenanceModeEvent")
MIGRATION_EVENTS = ("VmMigratedEvent", "DrsVmMigratedEvent")
POWER_EVENTS = ("VmPoweredOnEvent", "VmPoweredOffEvent", "VmGuestShutdownEvent")
EVACUATION_EVENTS = MAINTENANCE_EVENTS + MIGRATION_EVENTS + POWER_EVENTS
DRS_EVENTS = ("ClusterReconfiguredEvent",)
# QueryEvents answers with at most this many (EventFilterSpec.maxCount); a full answer may miss older ones.
EVENTS_MAX = 1000


def field_policy(attribute):
    """The privilege policy (vim.PrivilegePolicyDef fields) an attribute's values are created with."""
    update = FIELD_UPDATE_PRIVILEGES[attribute]
    return {"createPrivilege": update, "readPrivilege": FIELD_READ_PRIVILEGE, "updatePrivilege": update,
            "deletePrivilege": update}


def definition_policy():
    """The privilege policy of the attribute definition itself (fieldDefPolicy)."""
    return {"createPrivilege": FIELD_DEFINITION_PRIVILEGE, "readPrivilege": FIELD_READ_PRIVILEGE,
            "updatePrivilege": FIELD_DEFINITION_PRIVILEGE, "deletePrivilege": FIELD_DEFINITION_PRIVILEGE}


def policy_warning(attribute, type_name, update_privilege, global_too=False):
    """Why an existing attribute definition cannot keep other writers out (None when it can)."""
    wanted = FIELD_UPDATE_PRIVILEGES.get(attribute)
    if wanted is None:
        return None
    fix = ("once no %s carries a %s record (recover, or close the windows), remove the attribute in vCenter "
           "(Administration > Custom Attributes) and the next window creates it again with the policy"
           % (type_name or "object", attribute))
    if global_too:
        return ("custom attribute %s exists both for %s and for every object type: setCustomValue may write the "
                "other one; remove the global one: %s" % (attribute, type_name, fix))
    if update_privilege != wanted:
        return ("custom attribute %s (%s) has %s: any account with %s can write its records, which the collection "
                "then checks against vCenter's events instead of trusting; to keep such writers out, %s"
                % (attribute, type_name, "no privilege policy" if not update_privilege
                   else "the update privilege %s, not %s" % (update_privilege, wanted),
                   update_privilege or "Global.SetCustomField", fix))
    return None


# -- validation ----------------------------------------------------------------------------------------

def check_record_params(params):
    """Refuse, before anything is sent, a ``window`` or ``owner`` option a record could not carry (its readers
    would refuse the record the run wrote)."""
    window = params.get("window")
    if window is not None and not WINDOW_ID_PATTERN.match(str(window)):
        raise ParameterError("parameter window=%r is not a valid window id: 1 to 64 characters, a letter or digit first, "
                             "then letters, digits, '.', '_' or '-' (e.g. 'CHG0012345')" % (window,))
    owner = params.get("owner")
    if owner is not None and not is_text(owner, TEXT_MAX):
        raise ParameterError("parameter owner must be 1 to %d printable characters without line breaks, not %r"
                             % (TEXT_MAX, owner))
    for name in ("run_id", "take_over"):
        value = params.get(name)
        if value and not RUN_ID.match(str(value)):
            raise ParameterError("parameter %s=%r is not a run id: 8 to 32 lowercase hexadecimal digits, as a window's "
                                 "run prints it and its record shows it (field run)" % (name, value))
    seconds = params.get("lease_seconds")
    if seconds is not None and (seconds < 0 or (0 < seconds < MIN_LEASE_SECONDS)):
        raise ParameterError("parameter lease_seconds must be 0 (no lease) or at least %d, not %s"
                             % (MIN_LEASE_SECONDS, seconds))


def is_text(value, maximum, minimum=1):
    """A string of ``minimum``..``maximum`` characters without control, format or line/paragraph separator
    characters (no line breaks, no bidirectional overrides)."""
    if not isinstance(value, str) or not minimum <= len(value) <= maximum:
        return False
    return not any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in value)


def parse_time(value):
    """An aware datetime from an ISO 8601 time with seconds and offset; None when it is not one."""
    if not isinstance(value, str):
        return None
    match = ISO_TIME.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction = match.group(7)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    zone = match.group(8)
    if zone == "Z":
        offset = datetime.timedelta(0)
    else:
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            return None
        offset = datetime.timedelta(hours=hours, minutes=minutes) * (-1 if zone[0] == "-" else 1)
    try:
        return datetime.datetime(year, month, day, hour, minute, second, micro, datetime.timezone(offset))
    except ValueError:
        return None


def _check_fields(record, spec, where=""):
    """Problems of ``record`` against ``spec`` ({field: (required, check(value) -> problem or None)})."""
    problems = []
    for field in sorted(set(record) - set(spec)):
        problems.append("%sunknown field %s" % (where, _quote(field)))
    for field, (required, check) in sorted(spec.items()):
        if field not in record:
            if required:
                problems.append("%s%s is missing" % (where, field))
            continue
        problem = check(record[field])
        if problem:
            problems.append("%s%s %s" % (where, field, problem))
    return problems


def _quote(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _window(value):
    return None if isinstance(value, str) and WINDOW_ID_PATTERN.match(value) else "is not a window id"


def _optional_window(value):
    return None if value is None else _window(value)


def _text(maximum):
    return lambda value: None if is_text(value, maximum) else "is not text of 1 to %d printable characters" % maximum


def _time(value):
    return None if parse_time(value) is not None else "is not an ISO 8601 time with seconds and offset"


def _run(value):
    return None if isinstance(value, str) and RUN_ID.match(value) else "is not a run id (8 to 32 lowercase hex digits)"


def _level(value):
    return None if value in AUTOMATION_LEVELS else "is not one of %s" % ", ".join(AUTOMATION_LEVELS)


def _bool(value):
    return None if isinstance(value, bool) else "is not true or false"


def _vm_moid(value):
    return None if isinstance(value, str) and VM_MOID.match(value) else "is not a VM managed-object id (vm-<number>)"


DRS_RECORD_FIELDS = {
    "window": (True, _window),
    "original_level": (True, _level),
    "owner": (True, _text(TEXT_MAX)),
    "since": (True, _time),
    "held_since": (False, _time),
    "taken_over_from": (False, _window),
    "vcenter_user": (False, _text(TEXT_MAX)),
    # the window's lease on the cluster (safety invariant 9): the run that holds it, and until when by vCenter's
    # clock; a window renews it while it runs, recover leaves a record alone until it expires
    "run": (False, _run),
    "expires": (False, _time),
}

MOVED_FIELDS = {"vm": (True, _text(NAME_MAX)), "moid": (False, _vm_moid), "to": (True, _text(HOST_NAME_MAX))}
POWERED_OFF_FIELDS = {"vm": (True, _text(NAME_MAX)), "moid": (True, _vm_moid)}


def _entries(fields):
    def check(value):
        if not isinstance(value, list) or len(value) > ENTRIES_MAX:
            return "is not a list of at most %d entries" % ENTRIES_MAX
        return None
    return check


EVACUATION_RECORD_FIELDS = {
    "window": (False, _optional_window),
    "cluster": (True, _text(NAME_MAX)),
    "owner": (True, _text(TEXT_MAX)),
    "since": (True, _time),
    "maintenance": (True, _bool),
    "moved": (True, _entries(MOVED_FIELDS)),
    "powered_off": (False, _entries(POWERED_OFF_FIELDS)),
    "vcenter_user": (False, _text(TEXT_MAX)),
}


def drs_record_problems(record):
    return _check_fields(record, DRS_RECORD_FIELDS)


def evacuation_record_problems(record):
    problems = _check_fields(record, EVACUATION_RECORD_FIELDS)
    for field, fields in (("moved", MOVED_FIELDS), ("powered_off", POWERED_OFF_FIELDS)):
        entries = record.get(field)
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries[:ENTRIES_MAX]):
            where = "%s[%d]." % (field, index)
            if not isinstance(entry, dict):
                problems.append("%s is not an object" % where[:-1])
                continue
            problems.extend(_check_fields(entry, fields, where))
        moids = [entry.get("moid") for entry in entries if isinstance(entry, dict) and isinstance(entry.get("moid"), str)]
        if len(set(moids)) != len(moids):
            problems.append("%s names a VM twice" % field)
    return problems


PROBLEMS = {DRS_WINDOW_ATTRIBUTE: drs_record_problems, EVACUATION_ATTRIBUTE: evacuation_record_problems}


def read_record(value, attribute):
    """The record stored in ``attribute`` (None when empty). A record that is not JSON, not an object or fails
    validation comes back as ``{"valid": false, "problems": [...], "raw": <its first characters>, "window":
    <its window when that is a valid id, else null>}`` and must never be acted on; a valid one as the
    parsed object with ``"valid": true``."""
    if not value:
        return None
    raw = value if len(value) <= RAW_MAX else value[:RAW_MAX] + "..."
    try:
        record = json.loads(value)
    except ValueError:
        return {"valid": False, "problems": ["the value is not JSON"], "raw": raw, "window": None}
    if not isinstance(record, dict):
        return {"valid": False, "problems": ["the value is not a JSON object"], "raw": raw, "window": None}
    record.pop("valid", None)
    problems = PROBLEMS[attribute](record)
    if problems:
        window = record.get("window")
        return {"valid": False, "problems": problems, "raw": raw,
                "window": window if _optional_window(window) is None else None}
    record["valid"] = True
    return record


def encode_record(record):
    return json.dumps(dict((key, value) for key, value in record.items() if key != "valid"),
                      sort_keys=True, separators=(",", ":"))


def invalid_message(attribute, subject, record):
    """What a failed validation reports: the record is left alone."""
    return ("%s carries a %s record that fails validation (%s), so it was not acted on and is left as it is; "
            "check the object in vCenter by hand and clear custom attribute %s"
            % (subject, attribute, "; ".join(record.get("problems") or []), attribute))


# -- ties to vCenter's event history ---------------------------------------------------------------------

def _same_user(event_user, user):
    return bool(event_user) and bool(user) and event_user.lower() == user.lower()


def _after(event, begin):
    return event.get("created") is not None and event["created"] >= begin


def _ordered(events):
    return sorted(events, key=lambda event: (event["created"], event.get("key") or 0))


def tie_maintenance(host_moid, events, user, begin):
    """None when the host's current maintenance mode is one ``user`` entered at or after ``begin`` (the last
    maintenance-mode event of the host is that entry and nothing left maintenance mode since); the reason
    otherwise."""
    mine = _ordered(event for event in events if event["type"] in MAINTENANCE_EVENTS and event.get("host") == host_moid)
    entered = [index for index, event in enumerate(mine) if event["type"] == "EnteredMaintenanceModeEvent"]
    if not entered:
        return "vCenter's events show no entry into maintenance mode of this host since the record was written"
    last = mine[entered[-1]]
    if any(event["type"] == "ExitMaintenanceModeEvent" for event in mine[entered[-1] + 1:]):
        return "vCenter's events show the host left maintenance mode after it entered it"
    if not _after(last, begin):
        return "the host entered maintenance mode at %s, before the record was written" % last["created"].isoformat()
    entering = [event for event in mine[:entered[-1]] if event["type"] == "EnteringMaintenanceModeEvent"]
    by = last.get("user") or (entering[-1].get("user") if entering else "")
    if not _same_user(by, user):
        return "the host was put into maintenance mode by %s, not by this account (%s)" % (by or "vCenter itself", user)
    return None


def tie_migration(vm_moid, host_moid, events, user, begin):
    """None when the VM's latest migration since ``begin`` is one ``user`` made off the host (it has not been
    moved by anyone since); the reason otherwise."""
    if not vm_moid:
        return "the record names no managed-object id for it"
    moves = _ordered(event for event in events if event["type"] in MIGRATION_EVENTS and event.get("vm") == vm_moid
                     and _after(event, begin))
    if not any(event.get("source_host") == host_moid and _same_user(event.get("user"), user) for event in moves):
        return ("vCenter's events show no migration of it off this host by this account (%s) since the record was written"
                % user)
    last = moves[-1]
    if last.get("source_host") != host_moid or not _same_user(last.get("user"), user):
        return "%s moved it again at %s after this account had" % (last.get("user") or "DRS", last["created"].isoformat())
    return None


def tie_power_off(vm_moid, events, user, begin):
    """None when the VM's latest power-off or guest shutdown since ``begin`` is one ``user`` made and it was not
    powered on (or off by someone else) afterwards; the reason otherwise."""
    mine = _ordered(event for event in events if event["type"] in POWER_EVENTS and event.get("vm") == vm_moid
                    and _after(event, begin))
    ours = [index for index, event in enumerate(mine)
            if event["type"] != "VmPoweredOnEvent" and _same_user(event.get("user"), user)]
    if not ours:
        return "vCenter's events show no shutdown of it by this account (%s) since the record was written" % user
    for event in mine[ours[-1] + 1:]:
        if event["type"] == "VmPoweredOnEvent":
            return "it was powered on again at %s after this account shut it down" % event["created"].isoformat()
        if event.get("user") and not _same_user(event.get("user"), user):
            return "%s powered it off at %s after this account had" % (event["user"], event["created"].isoformat())
    return None


def tie_evacuation(record, host_moid, events, user, leave_maintenance=False, power_on=(), moves=()):
    """Why the parts of an evacuation record this restore would act on cannot be tied to what ``user`` did, as
    a list of ``{"subject", "reason"}`` (empty: every part is tied). ``events`` are the cluster's events since
    the record's time less CLOCK_SKEW, as plain data (``type``, ``created``, ``user``, ``host``, ``vm``,
    ``source_host``); ``leave_maintenance``, ``power_on`` and ``moves`` are what the restore would do."""
    begin = parse_time(record.get("since")) - CLOCK_SKEW
    refused = []
    if leave_maintenance:
        reason = tie_maintenance(host_moid, events, user, begin)
        if reason:
            refused.append({"subject": "maintenance mode", "reason": reason})
    for item in power_on:
        reason = tie_power_off(item["moid"], events, user, begin)
        if reason:
            refused.append({"subject": item["vm"], "reason": reason})
    for item in moves:
        reason = tie_migration(item.get("moid"), host_moid, events, user, begin)
        if reason:
            refused.append({"subject": item["vm"], "reason": reason})
    return refused


def tie_drs_change(cluster_moid, events, user, begin):
    """None when the cluster's latest reconfiguration since ``begin`` is one ``user`` made (the window setting DRS
    to manual, nobody reconfiguring it since); the reason otherwise."""
    changes = _ordered(event for event in events if event["type"] in DRS_EVENTS and event.get("cluster") == cluster_moid
                       and _after(event, begin))
    if not changes:
        return ("vCenter's events show no reconfiguration of the cluster by this account (%s) since the window began"
                % user)
    last = changes[-1]
    if not _same_user(last.get("user"), user):
        return ("%s reconfigured the cluster at %s, after anything this account (%s) did, so its DRS level may be theirs"
                % (last.get("user") or "vCenter itself", last["created"].isoformat(), user))
    return None
