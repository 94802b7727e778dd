"""Hostile records in vCenter's custom attributes: whatever a window or evacuation record holds, the
modules end in a typed error that names where it came from, never in a traceback, and a record that passes
validation has every field of the documented type."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window import plan_window
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.evacuation import (
    check_evacuation_record,
    plan_return,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.records import (
    AUTOMATION_LEVELS,
    parse_time,
    read_record,
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
WINDOW_KEYS = st.sampled_from(["window", "original_level", "owner", "since", "taken_over_from", "held_since", "valid"])
EVACUATION_KEYS = st.sampled_from(["window", "cluster", "owner", "since", "moved", "maintenance", "powered_off", "valid"])
MOVED_ITEMS = st.lists(st.one_of(JSON_VALUES, st.dictionaries(st.sampled_from(["vm", "moid", "to"]), JSON_VALUES,
                                                              max_size=3)), max_size=4)


def texts(keys):
    records = st.dictionaries(keys, JSON_VALUES, max_size=6).map(json.dumps)
    shaped = st.fixed_dictionaries({"moved": MOVED_ITEMS, "owner": st.text(max_size=6), "cluster": st.text(max_size=6),
                                    "since": st.sampled_from(["2026-11-26T07:30:00+00:00", "yesterday", "2026-13-01T00:00:00Z"]),
                                    "maintenance": st.booleans()},
                                   optional={"window": JSON_VALUES}).map(json.dumps)
    return st.one_of(st.text(max_size=40), JSON_VALUES.map(json.dumps), records, shaped)


VMS = [{"name": "a", "moid": "vm-1", "host": "h2", "power_state": "poweredOn"},
       {"name": "b", "moid": "vm-2", "host": "h1", "power_state": "poweredOff"}]


@settings(max_examples=150, deadline=None)
@given(texts(WINDOW_KEYS), st.sampled_from(["manual", "restored"]), st.booleans(),
       st.sampled_from(["manual", "partiallyAutomated", "fullyAutomated"]))
def test_window_record_never_crashes_the_plan(value, state, force, level):
    record = read_record(value, "clustersafe.drs_window")
    if record is not None and record["valid"]:
        assert record["original_level"] in AUTOMATION_LEVELS and parse_time(record["since"]) is not None
    try:
        plan_window("Prod-Cluster", state, "CHG1", level, record, "me", "now", force)
    except CollectionError as error:
        assert "Prod-Cluster" in error.message


@settings(max_examples=150, deadline=None)
@given(texts(EVACUATION_KEYS))
def test_evacuation_record_is_checked_or_refused_by_type(value):
    try:
        record = check_evacuation_record(read_record(value, "clustersafe.evacuation"), "host esx-01")
    except CollectionError as error:
        assert "host esx-01" in error.message
        return
    if record is not None:
        assert isinstance(record["maintenance"], bool) and all(isinstance(item["vm"], str) for item in record["moved"])
        try:
            plan_return(record, VMS, "h1", "Prod-Cluster")
        except CollectionError as error:
            assert "h1" in error.message
