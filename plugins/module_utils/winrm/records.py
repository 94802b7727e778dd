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

The top of this file is pure (validation, parsing, planning); the two functions at the end run the
module's work with a client passed in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.window_id import validate_window_id
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import scripts
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import (
    MalformedOutputError,
    ScriptError,
)

RECORD_ROOT = "HKLM:\\SOFTWARE\\clustersafe\\maintenance_windows"
CHANGES = ("node_drained", "cluster_service_stopped", "nlb_node_stopped", "network_engine_mode", "agent_maintenance")
STATES = ("present", "absent")
# Microsoft advises values over 2,048 bytes go to a file ("Registry Element Size Limits"). The command line
# is the tighter bound: the data travels JSON-escaped inside the parameters, UTF-16 and base64 encoded
# (up to ~5.3 characters of command line per character of data), within 8,191 characters with the script.
DATA_MAX_CHARS = 384
FIELDS = ("window", "change", "since", "controller", "data")


class RecordShapeError(MalformedOutputError):
    """A window-record script printed a JSON document whose shape is not the one agreed."""


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
    return encode_data(data)


# --- the node's document -------------------------------------------------------------------------

def _warn_value(warnings, host, record, name, problem):
    warnings.append("window record %s/%s on %s: value %s %s; it is returned as null"
                    % (record["window"], record["change"], host, name, problem))


def parse_records(document, host="node"):
    """Turn the scripts' document into ``(records, warnings)``.

    The shape (an object with a ``records`` list of objects naming window and change) is the scripts'
    contract: anything else raises RecordShapeError. The values are what is on the node: a value that is
    missing or unreadable (a record whose write was cut short, or edited by hand) becomes null with a
    warning, so the record still counts as a change the window made.
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
    records, warnings, seen = [], [], set()
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise RecordShapeError("window records from %s: record %d is %s, not an object"
                                   % (host, index, type(item).__name__), host=host)
        for key in ("window", "change"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise RecordShapeError("window records from %s: record %d has no %s name (%r)"
                                       % (host, index, key, item.get(key)), host=host)
        identity = (item["window"].lower(), item["change"].lower())
        if identity in seen:
            raise RecordShapeError("window records from %s: record %s/%s appears twice"
                                   % (host, item["window"], item["change"]), host=host)
        seen.add(identity)
        record = {"window": item["window"], "change": item["change"], "since": None, "controller": None,
                  "data": None}
        for name in ("since", "controller"):
            value = item.get(name)
            if isinstance(value, str) and value:
                record[name] = value
            else:
                _warn_value(warnings, host, record, name, "is missing" if value in (None, "") else "is not a string")
        text = item.get("data")
        if isinstance(text, str):
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if isinstance(value, dict):
                record["data"] = value
            else:
                _warn_value(warnings, host, record, "data", "is not a JSON object")
        else:
            _warn_value(warnings, host, record, "data", "is missing" if text is None else "is not a string")
        records.append(record)
    records.sort(key=lambda record: (record["window"].lower(), record["change"].lower()))
    return records, warnings


def select(records, window=None, change=None):
    """The records of ``window`` (without case, as registry key names) and, if given, ``change``."""
    return [record for record in records
            if (window is None or record["window"].lower() == window.lower())
            and (change is None or record["change"].lower() == change.lower())]


# --- decision ------------------------------------------------------------------------------------

def plan_record(records, state, window, change, data_text, controller):
    """Decide what the write script must do; pure.

    Returns ``dict(action, params, before, after)``: ``action`` is None (nothing to do), ``set`` or
    ``remove``; ``params`` are the write script's parameters; ``before``/``after`` the records of the
    window concerned, for the diff (``since`` of a record about to be written is null: the node sets it).
    """
    data = json.loads(data_text)
    if state == "present":
        existing = select(records, window, change)
        before = [dict(record) for record in existing]
        if existing and existing[0]["data"] == data:
            return dict(action=None, params=None, before=before, after=before)
        stored_window = existing[0]["window"] if existing else window
        written = {"window": stored_window, "change": change, "since": None, "controller": controller, "data": data}
        return dict(action="set", before=before, after=[written],
                    params=dict(action="set", window=stored_window, change=change, changes=[change],
                                data=data_text, controller=controller))
    targets = select(records, window, change)
    before = [dict(record) for record in targets]
    if not targets:
        return dict(action=None, params=None, before=[], after=[])
    return dict(action="remove", before=before, after=[],
                params=dict(action="remove", window=targets[0]["window"], change=change,
                            changes=[record["change"] for record in targets], data="", controller=controller))


def verify_written(records, plan, host="node"):
    """After the write script: the node must show what the plan asked for."""
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


# --- the modules' work ---------------------------------------------------------------------------

def _read(client, name, params):
    document = client.run(name, scripts.body(name), params)
    host = getattr(client, "host", None) or "node"
    if isinstance(document, dict) and isinstance(document.get("computer"), str) and document["computer"]:
        host = document["computer"]
    return parse_records(document, host)


def read_records(client, window=None):
    """(records, warnings) on the node, every window's or ``window``'s: one round trip."""
    return _read(client, "node_window_record_info", dict(window=window))


def write_records(client, params):
    """Run the write script with ``params`` (from plan_record); returns (records after, warnings)."""
    return _read(client, "node_window_record", params)


def node_window_record(client, state, window, change=None, data=None, controller="", check_mode=False):
    """Write (``present``) or remove (``absent``) a window record on the node the client reaches."""
    data_text = validate_request(state, window, change, data)
    records, warnings = _read(client, "node_window_record_info", dict(window=None))
    plan = plan_record(records, state, window, change, data_text, controller)
    result = dict(changed=plan["action"] is not None, records=records, warnings=warnings,
                  diff=dict(before=dict(records=plan["before"]), after=dict(records=plan["after"])))
    if plan["action"] is None or check_mode:
        return result
    records, warnings = _read(client, "node_window_record", plan["params"])
    host = getattr(client, "host", "node")
    verify_written(records, plan, host)
    after = select(records, plan["params"]["window"], change if state == "present" else None)
    result.update(records=records, warnings=warnings, diff=dict(before=dict(records=plan["before"]),
                                                                after=dict(records=after)))
    return result


def node_window_record_info(client, window=None):
    """Every window record on the node, or those of ``window``: one script, one round trip."""
    if window is not None:
        validate_window_id(window)
    records, warnings = _read(client, "node_window_record_info", dict(window=window))
    return dict(changed=False, records=select(records, window), warnings=warnings)
