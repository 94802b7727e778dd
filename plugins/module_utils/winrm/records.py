# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Window records on Windows nodes (safety invariant 7): before a maintenance window changes a node
(drains it, stops its cluster service or its NLB node, changes its network engine mode, works on its
agent) it writes a record on the node itself, and removes the record when the change is undone, so
``recover`` or a re-run of the window can put the node back from any controller.

Registry layout on the node (one key per window, one subkey per change, three REG_SZ values)::

    HKLM\\SOFTWARE\\clustersafe\\maintenance_windows\\<window>\\<change>
        since       UTC time the node wrote the record, ISO 8601 ("2026-11-26T07:30:00Z")
        controller  host name of the controller that wrote it
        data        JSON object with what recover needs ({"previous_mode": "Inline"})

The records live beside, not under, ``HKLM\\SOFTWARE\\clustersafe\\deep_security``: the agent scripts
write that key with ``New-Item -Force``, which recreates an existing registry key without its values
and subkeys (PowerShell issue 5444), and remove it whole when the agent is uninstalled, and a record
must survive exactly those steps.

Registry key names are not case sensitive ("Structure of the Registry",
https://learn.microsoft.com/windows/win32/sysinfo/structure-of-the-registry), so window ids are compared
without case here as they are on the node.

A record is input the collection did not necessarily write: anyone who can write ``HKLM\\SOFTWARE`` on the
node can write one. Every field is checked before a record is used (``validate_record``): the window id
(``window_id.validate_window_id``), the change (one of ``CHANGES``, exactly), ``since`` (the UTC time the
write script writes), ``controller`` (a host name) and ``data`` (the schema of its change,
``DATA_SCHEMAS``). A record that names a computer (``network_engine_mode``, ``agent_maintenance`` of an NLB
window) must name the node's own computer, as the node reports it: a local administrator of one web node
must not be able to make ``recover`` switch another computer in the manager. A record that fails is
returned apart (``invalid_records``, with the reason) and left on the node untouched: no module acts on
it, removes it or writes over it.

The top of this file is pure (validation, parsing, planning); the two functions at the end run the
module's work with a client passed in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
from datetime import datetime

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import HeldError, ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.window_id import (
    WINDOW_ID_PATTERN,
    validate_window_id,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import scripts
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import (
    MalformedOutputError,
    ScriptError,
)

RECORD_ROOT = "HKLM:\\SOFTWARE\\clustersafe\\maintenance_windows"
CHANGES = ("node_drained", "cluster_service_stopped", "nlb_node_stopped", "network_engine_mode", "agent_maintenance")
STATES = ("present", "absent")
# Microsoft advises values over 2,048 bytes go to a file ("Registry Element Size Limits"); 384 characters
# stay well inside it (the parameters travel on standard input, so the command line does not grow with them).
# The schemas below (DATA_SCHEMAS) hold only host names, versions and fixed words, which JSON does not escape;
# their longest data (agent_maintenance naming a 253-character computer) is 355 characters, and a unit test
# checks that each change's longest data is within the limit.
DATA_MAX_CHARS = 384
FIELDS = ("window", "change", "since", "controller", "data")
# What the write script stores: [DateTime]::UtcNow.ToString('s') + 'Z' (the culture-invariant sortable
# pattern, "Standard date and time format strings"), e.g. 2026-11-26T07:30:00Z.
SINCE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
# A host name as RFC 1123 (section 2.1) and RFC 952 allow it: dot-separated labels of letters, digits and
# hyphens, each starting and ending with a letter or digit, at most 63 characters, 253 in all. Windows
# computer names ($env:COMPUTERNAME) of domain members and controllers' host names fit it; nothing else
# (spaces, newlines, Markdown or HTML, "..") does.
HOST_NAME_MAX = 253
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST_NAME = re.compile(r"(?=.{1,%d}\Z)%s(?:\.%s)*\Z" % (HOST_NAME_MAX, _LABEL, _LABEL))
# An agent build as _agent_version.parse reads it (20.0.1-690, 20.0.1.690, 20.0.690), without the spaces it
# forgives.
AGENT_VERSION = re.compile(r"[0-9]{1,5}\.[0-9]{1,5}\.[0-9]{1,6}(?:[.-][0-9]{1,6})?\Z")
# Names shown as they are in a result or message; anything else is shown JSON-escaped (below).
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


class RecordShapeError(MalformedOutputError):
    """A window-record script printed a JSON document whose shape is not the one agreed."""


class InvalidRecordError(HeldError):
    """A record on the node failed validation and stands where a module would write: it is left as found."""


# --- what a record may hold ------------------------------------------------------------------------

def _display(value, limit=80):
    """``value`` safe to put into a message, a result or a Markdown/HTML report: a plain name as it is,
    anything else JSON-escaped (newlines and control characters escaped, and ``< > & | ` [ ] *`` as
    ``\\uXXXX``), at most ``limit`` characters."""
    if isinstance(value, str) and _PLAIN.match(value):
        return value
    try:
        text = json.dumps(value, ensure_ascii=True, sort_keys=True)
    except (TypeError, ValueError):
        text = type(value).__name__
    for char in "<>&|`[]*":
        text = text.replace(char, "\\u%04x" % ord(char))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _one_of(*choices):
    def check(value):
        if value not in choices:
            return "must be one of %s (got %s)" % (", ".join(choices), _display(value))
        return None
    return check


def _host_name(value, nullable=False):
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not HOST_NAME.match(value):
        return "must be a host name (letters, digits and hyphens in dot-separated labels, at most %d characters; " \
               "got %s)" % (HOST_NAME_MAX, _display(value))
    return None


def _boolean(value):
    return None if isinstance(value, bool) else "must be true or false (got %s)" % _display(value)


def _version(value):
    if value is None or (isinstance(value, str) and AGENT_VERSION.match(value)):
        return None
    return "must be an agent version such as 20.0.1-690, or null (got %s)" % _display(value)


# change -> data key -> (required, check). What each writer stores: mscs_node (node_drained: the failback it
# resumes with; cluster_service_stopped: nothing), nlb_node (nlb_node_stopped: the NLB cluster and the
# action), ds_agent (agent_maintenance: the desired state, version, whether it activates; an NLB window may add
# nlb and the computer), the NLB window (network_engine_mode: the mode to put back; it may name the computer,
# the node's own, and whether the mode was the computer's own setting, own_setting, as the window engine's
# undo reads it).
DATA_SCHEMAS = {
    "node_drained": {"failback": (True, _one_of("none", "immediate", "policy"))},
    "cluster_service_stopped": {},
    "nlb_node_stopped": {"cluster": (True, lambda value: _host_name(value, nullable=True)),
                         "action": (True, _one_of("drainstop", "stop"))},
    "network_engine_mode": {"previous_mode": (True, _one_of("Inline", "Tap")), "computer": (False, _host_name),
                            "own_setting": (False, _boolean)},
    "agent_maintenance": {"state": (True, _one_of("present", "absent")), "version": (True, _version),
                          "activation": (True, _boolean), "nlb": (False, _boolean), "computer": (False, _host_name)},
}


def data_problem(change, data):
    """Why ``data`` is not what a ``change`` record holds, or None (pure)."""
    if not isinstance(data, dict):
        return "data must be a JSON object"
    schema = DATA_SCHEMAS[change]
    unknown = sorted(key for key in data if key not in schema)
    if unknown:
        return "data of %s has unknown key %s (allowed: %s)" % (
            change, _display(unknown[0]), ", ".join(sorted(schema)) or "none")
    for key in sorted(schema):
        required, check = schema[key]
        if key not in data:
            if required:
                return "data of %s needs %s" % (change, key)
            continue
        problem = check(data[key])
        if problem:
            return "data.%s %s" % (key, problem)
    if change == "agent_maintenance" and data.get("nlb") and "computer" not in data:
        return "data of agent_maintenance with nlb=true needs computer"
    return None


def _check(item, node_computer=None):
    """(record with data decoded, None) or (None, reason) for one record as the node lists it."""
    window, change = item.get("window"), item.get("change")
    if not isinstance(window, str) or not WINDOW_ID_PATTERN.match(window):
        return None, "the window name %s is not a window id (see window_id.py)" % _display(window)
    if change not in CHANGES:
        return None, "the change %s is not one the collection records (%s)" % (_display(change), ", ".join(CHANGES))
    since = item.get("since")
    if not isinstance(since, str) or not SINCE_PATTERN.match(since):
        return None, "since %s is not a UTC time such as 2026-11-26T07:30:00Z (a write cut short, or a hand " \
                     "edit)" % _display(since)
    try:
        datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None, "since %s is not a valid date and time" % _display(since)
    problem = _host_name(item.get("controller"))
    if problem:
        return None, "controller " + problem
    data = item.get("data")
    if isinstance(data, str):
        if len(data) > DATA_MAX_CHARS:
            return None, "data is %d characters, over the %d the collection writes" % (len(data), DATA_MAX_CHARS)
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            return None, "data is not JSON"
    problem = data_problem(change, data)
    if problem:
        return None, problem
    named = data.get("computer")
    if named is not None and node_computer is not None and named.lower() != node_computer.lower():
        return None, "data.computer %s is not this node's computer (%s): a record may only name its own node" % (
            _display(named), _display(node_computer) if node_computer else "the node did not report its name")
    return {"window": window, "change": change, "since": since, "controller": item["controller"], "data": data}, None


def validate_record(record, node_computer=None):
    """``(True, None)`` when every field of ``record`` is what the collection writes, else ``(False, reason)``.

    ``record`` is one record as the node lists it (``data`` the stored JSON text) or as the parsers return it
    (``data`` a dict). With ``node_computer`` (the computer name the node reports), a record whose data names
    a computer must name that one; ``""`` (a node that did not report its name) fails every such record;
    ``None`` leaves that check out. The reason is safe to show: values in it are escaped and shortened.
    """
    if not isinstance(record, dict):
        return False, "the record is not an object"
    checked, reason = _check(record, node_computer)
    return checked is not None, reason


def host_name_or_none(value):
    """``value`` when it is a HOST_NAME, else None: for facts a record keeps only to inform (the NLB cluster's
    name, which Get-NlbCluster may leave empty)."""
    return value if isinstance(value, str) and HOST_NAME.match(value) else None


def controller_name(name):
    """The controller's host name as records store it: a HOST_NAME, whatever ``socket.gethostname()`` says
    (characters outside it become ``-``); ``unknown`` when nothing is left."""
    labels = []
    for label in str(name or "").split("."):
        label = re.sub(r"[^A-Za-z0-9-]", "-", label).strip("-")[:63].strip("-")
        if label:
            labels.append(label)
    text = ".".join(labels)[:HOST_NAME_MAX].strip(".-")
    return text if HOST_NAME.match(text) else "unknown"


# --- input ---------------------------------------------------------------------------------------

def encode_data(data, parameter="data"):
    """``data`` as the compact, key-sorted, ASCII-only JSON text stored in the registry value."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParameterError("parameter %s must be a dictionary (a JSON object), not %s"
                             % (parameter, type(data).__name__))
    try:
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ParameterError("parameter %s must hold only JSON values (strings, numbers, booleans, null, lists, "
                             "dictionaries with string keys): %s" % (parameter, error))
    if len(text) > DATA_MAX_CHARS:
        raise ParameterError("parameter %s is %d characters as JSON, over the limit of %d; keep only the few "
                             "facts recover needs (e.g. {\"previous_mode\": \"Inline\"})"
                             % (parameter, len(text), DATA_MAX_CHARS))
    return text


def validate_request(state, window, change=None, data=None):
    """Check the module's input before anything is sent; return the data as stored (JSON text)."""
    if state not in STATES:
        raise ParameterError("parameter state must be one of %s, not %r" % (", ".join(STATES), state))
    validate_window_id(window)
    if change is None:
        if state == "present":
            raise ParameterError("parameter change is required with state=present: name what the window changed "
                                 "on this node (%s)" % ", ".join(CHANGES))
    elif change not in CHANGES:
        raise ParameterError("parameter change must be one of %s, not %r" % (", ".join(CHANGES), change))
    text = encode_data(data)
    if state == "present":
        problem = data_problem(change, json.loads(text))
        if problem:
            raise ParameterError("parameter data does not fit change %s: %s; what a %s record holds: %s"
                                 % (change, problem, change, _schema_text(change)))
    return text


def _schema_text(change):
    schema = DATA_SCHEMAS[change]
    if not schema:
        return "nothing (data: {})"
    return ", ".join("%s%s" % (key, "" if schema[key][0] else " (optional)") for key in sorted(schema))


# --- the node's document -------------------------------------------------------------------------

def parse_records(document, host="node"):
    """Turn the scripts' document into ``(records, invalid_records, warnings)``.

    The shape (an object with a ``records`` list of objects naming window and change) is the scripts'
    contract: anything else raises RecordShapeError. Each record is then checked field by field
    (``validate_record``, against the computer the document reports); one that fails goes into
    ``invalid_records`` as ``{window, change, reason}`` (names escaped as ``_display`` does) with a warning,
    and is never acted on. ``records`` holds the valid ones, ``data`` decoded.
    """
    if not isinstance(document, dict):
        raise RecordShapeError("window records from %s: expected a JSON object, got %s"
                               % (host, type(document).__name__), host=host)
    if "records" not in document:
        raise RecordShapeError("window records from %s: the document has no 'records' key" % host, host=host)
    raw = document["records"]
    if raw is None:
        raw = []
    elif isinstance(raw, dict):  # one element, as Windows PowerShell 5.1 prints an unwrapped array
        raw = [raw]
    if not isinstance(raw, list):
        raise RecordShapeError("window records from %s: 'records' must be a list, got %s"
                               % (host, type(raw).__name__), host=host)
    computer = document.get("computer")
    computer = computer if isinstance(computer, str) else ""
    records, invalid, warnings, seen = [], [], [], set()
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise RecordShapeError("window records from %s: record %d is %s, not an object"
                                   % (host, index, type(item).__name__), host=host)
        for key in ("window", "change"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise RecordShapeError("window records from %s: record %d has no %s name (%s)"
                                       % (host, index, key, _display(item.get(key))), host=host)
        identity = (item["window"].lower(), item["change"].lower())
        if identity in seen:
            raise RecordShapeError("window records from %s: record %s/%s appears twice"
                                   % (host, _display(item["window"]), _display(item["change"])), host=host)
        seen.add(identity)
        record, reason = _check(item, computer)
        if record is None:
            entry = {"window": _display(item["window"]), "change": _display(item["change"]), "reason": reason}
            invalid.append(entry)
            warnings.append("window record %s/%s on %s is not trusted and is left as it is: %s"
                            % (entry["window"], entry["change"], _display(host), reason))
            continue
        records.append(record)
    records.sort(key=lambda record: (record["window"].lower(), record["change"].lower()))
    invalid.sort(key=lambda entry: (entry["window"].lower(), entry["change"].lower()))
    return records, invalid, warnings


def select(records, window=None, change=None):
    """The records of ``window`` (without case, as registry key names) and, if given, ``change``."""
    return [record for record in records
            if (window is None or record["window"].lower() == window.lower())
            and (change is None or record["change"].lower() == change.lower())]


# --- decision ------------------------------------------------------------------------------------

def removal_params(window, changes, controller=""):
    """The remove script's parameters; the names come from records read back from the node, so they are
    checked once more here, just before they become registry paths (no ``..``, no unknown change)."""
    if not isinstance(window, str) or not WINDOW_ID_PATTERN.match(window):
        raise RecordShapeError("refusing to remove window records under %s: not a window id" % _display(window))
    for change in changes:
        if change not in CHANGES:
            raise RecordShapeError("refusing to remove window record %s/%s: not a change the collection records"
                                   % (window, _display(change)))
    return dict(action="remove", window=window, change=None, changes=list(changes), data="", controller=controller)


def _held_by_invalid(invalid, window, change):
    """The invalid record standing in the registry key a write of ``window``/``change`` would use."""
    for entry in invalid or []:
        if entry["window"].lower() == window.lower() and entry["change"].lower() == change.lower():
            return entry
    return None


def plan_record(records, state, window, change, data_text, controller, invalid=()):
    """Decide what the write script must do; pure.

    ``records`` are the node's valid records, ``invalid`` its invalid ones (``parse_records``). Returns
    ``dict(action, params, before, after)``: ``action`` is None (nothing to do), ``set`` or ``remove``;
    ``params`` are the write script's parameters; ``before``/``after`` the records of the window concerned,
    for the diff (``since`` of a record about to be written is null: the node sets it). An invalid record in
    the registry key a ``set`` would write is never written over (InvalidRecordError); ``remove`` removes only
    valid records, so an invalid one (and its window's key) stays.
    """
    data = json.loads(data_text)
    if state == "present":
        existing = select(records, window, change)
        before = [dict(record) for record in existing]
        if existing and existing[0]["data"] == data:
            return dict(action=None, params=None, before=before, after=before)
        held = None if existing else _held_by_invalid(invalid, window, change)
        if held is not None:
            raise InvalidRecordError(
                "window record %s/%s already on the node is not trusted (%s); it is left as found and not written "
                "over: check who wrote it, then remove key %s\\%s\\%s on the node by hand"
                % (held["window"], held["change"], held["reason"], RECORD_ROOT, held["window"], held["change"]),
                window=held["window"], change=held["change"], reason=held["reason"])
        stored_window = existing[0]["window"] if existing else window
        written = {"window": stored_window, "change": change, "since": None, "controller": controller, "data": data}
        return dict(action="set", before=before, after=[written],
                    params=dict(action="set", window=stored_window, change=change, changes=[change],
                                data=data_text, controller=controller))
    targets = select(records, window, change)
    before = [dict(record) for record in targets]
    if not targets:
        return dict(action=None, params=None, before=[], after=[])
    params = removal_params(targets[0]["window"], [record["change"] for record in targets], controller)
    params["change"] = change
    return dict(action="remove", before=before, after=[], params=params)


def verify_written(records, plan, host="node"):
    """After the write script: the node must show what the plan asked for (among its valid records)."""
    params = plan["params"]
    found = select(records, params["window"], params["change"] if plan["action"] == "set" else None)
    if plan["action"] == "set":
        wanted = plan["after"][0]["data"]
        if not found or found[0]["data"] != wanted:
            raise ScriptError("window record %s/%s was written on %s but does not read back as written (%r); "
                              "check key %s\\%s on the node"
                              % (params["window"], params["change"], host, found[0]["data"] if found else None,
                                 RECORD_ROOT, params["window"]), host=host)
        return
    left = [record for record in found if record["change"] in params["changes"]]
    if left:
        raise ScriptError("window records %s were removed on %s but are still there; check key %s\\%s on the node"
                          % (", ".join("%s/%s" % (r["window"], r["change"]) for r in left), host, RECORD_ROOT,
                             params["window"]), host=host)


def invalid_record_blockers(host, invalid):
    """Blockers (``subject``, ``message``, ``remedy``, as the window plans list them) for the invalid records
    found on ``host``; pure. A window should not start on a node carrying a record it cannot trust."""
    return [{"subject": host,
             "message": "%s carries window record %s/%s that is not trusted: %s" % (
                 _display(host), entry["window"], entry["change"], entry["reason"]),
             "remedy": "find out who wrote it (registry key %s on the node), then remove it by hand; the "
                       "collection leaves it as found" % RECORD_ROOT}
            for entry in invalid or []]


# --- the modules' work ---------------------------------------------------------------------------

def _read(client, name, params):
    document = client.run(name, scripts.body(name), params)
    host = getattr(client, "host", None) or "node"
    if isinstance(document, dict) and isinstance(document.get("computer"), str) and document["computer"]:
        host = document["computer"]
    return parse_records(document, host)


def read_all_records(client, window=None):
    """(records, invalid_records, warnings) on the node, every window's or ``window``'s: one round trip."""
    return _read(client, "node_window_record_info", dict(window=window))


def read_records(client, window=None):
    """(records, warnings) on the node, every window's or ``window``'s: one round trip. Only the records that
    passed every check; the warnings name the others (``read_all_records`` returns them)."""
    found, _invalid, warnings = read_all_records(client, window)
    return found, warnings


def write_all_records(client, params):
    """Run the write script with ``params`` (from plan_record); (records, invalid_records, warnings) after it."""
    return _read(client, "node_window_record", params)


def write_records(client, params):
    """Run the write script with ``params`` (from plan_record); (records, warnings) after it, as read_records."""
    found, _invalid, warnings = write_all_records(client, params)
    return found, warnings


def node_window_record(client, state, window, change=None, data=None, controller="", check_mode=False):
    """Write (``present``) or remove (``absent``) a window record on the node the client reaches."""
    data_text = validate_request(state, window, change, data)
    controller = controller_name(controller)
    records, invalid, warnings = read_all_records(client)
    plan = plan_record(records, state, window, change, data_text, controller, invalid)
    result = dict(changed=plan["action"] is not None, records=records, invalid_records=invalid, warnings=warnings,
                  diff=dict(before=dict(records=plan["before"]), after=dict(records=plan["after"])))
    if plan["action"] is None or check_mode:
        return result
    records, invalid, warnings = write_all_records(client, plan["params"])
    host = getattr(client, "host", "node")
    verify_written(records, plan, host)
    after = select(records, plan["params"]["window"], change if state == "present" else None)
    result.update(records=records, invalid_records=invalid, warnings=warnings,
                  diff=dict(before=dict(records=plan["before"]), after=dict(records=after)))
    return result


def node_window_record_info(client, window=None):
    """Every window record on the node, or those of ``window``: one script, one round trip. Records that fail
    validation come back apart, in ``invalid_records``."""
    if window is not None:
        validate_window_id(window)
    records, invalid, warnings = read_all_records(client, window)
    return dict(changed=False, records=select(records, window), invalid_records=invalid, warnings=warnings)
