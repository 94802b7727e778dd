"""Window records on Windows nodes: input validation, the parser of the scripts' document (fuzzed with
Hypothesis), the present/absent plan, read-back verification and the service flow with a fake client."""
import json

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import client, records, scripts
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import (
    MalformedOutputError,
    ScriptError,
)
from winrm_fakes import FakeClient

SINCE = "2026-11-26T07:30:00Z"


def raw(window="CHG1", change="node_drained", data='{"failback":"none"}', since=SINCE, controller="ctl01"):
    return {"window": window, "change": change, "since": since, "controller": controller, "data": data}


def document(*items):
    return {"computer": "SQL-NODE1", "records": list(items)}


def parsed(*items):
    return records.parse_records(document(*items))[0]


# --- input ---------------------------------------------------------------------------------------

def test_data_is_stored_as_compact_sorted_ascii_json():
    assert records.encode_data({"b": 1, "a": "Ä"}) == '{"a":"\\u00c4","b":1}'
    assert records.encode_data(None) == "{}"


@pytest.mark.parametrize("data, words", [
    ([1], "must be a dictionary"),
    ({"when": object()}, "only JSON values"),
    ({"x": float("nan")}, "only JSON values"),
    ({"x": "y" * 600}, "over the limit of 384"),
])
def test_bad_data_is_refused_naming_the_parameter(data, words):
    with pytest.raises(ParameterError) as error:
        records.encode_data(data)
    assert "parameter data" in error.value.message and words in error.value.message


def test_data_at_the_limit_is_accepted():
    data = {"k": "y" * (records.DATA_MAX_CHARS - len('{"k":""}'))}
    assert len(records.encode_data(data)) == records.DATA_MAX_CHARS


def test_present_needs_a_change_and_changes_come_from_the_list():
    with pytest.raises(ParameterError) as error:
        records.validate_request("present", "CHG1", None)
    assert "change is required with state=present" in error.value.message and "node_drained" in error.value.message
    with pytest.raises(ParameterError) as error:
        records.validate_request("absent", "CHG1", "node_paused")
    assert "parameter change must be one of" in error.value.message
    assert records.validate_request("absent", "CHG1", None) == "{}"


def test_window_id_uses_the_shared_rule():
    with pytest.raises(ParameterError) as error:
        records.validate_request("present", "CHG\\1", "node_drained")
    assert "not a valid window id" in error.value.message


def test_largest_data_stays_under_the_registry_value_size_advice():
    """Worst case: data full of characters JSON escapes (the registry value is the compact JSON text); Microsoft's
    "Registry Element Size Limits" advises values under 2,048 bytes (UTF-16: two bytes a character). The
    parameters travel on standard input, so the command line does not grow with them."""
    data = {"k": '"' * ((records.DATA_MAX_CHARS - len('{"k":""}')) // 2)}
    text = records.encode_data(data)
    assert len(text) <= records.DATA_MAX_CHARS and len(text.encode("utf-16-le")) < 2048
    params = dict(action="set", window="W" * 64, change="cluster_service_stopped", changes=["cluster_service_stopped"],
                  data=text, controller="c" * 253)
    assert text not in client.build_command("node_window_record")
    assert json.loads(client.build_input(scripts.body("node_window_record"), params))["p"]["data"] == text


# --- the node's document -------------------------------------------------------------------------

def test_parse_records_sorted_with_data_decoded():
    result, warnings = records.parse_records(document(raw(window="chg2"), raw(change="agent_maintenance", data="{}")))
    assert warnings == []
    assert [(r["window"], r["change"]) for r in result] == [("CHG1", "agent_maintenance"), ("chg2", "node_drained")]
    assert result[1] == {"window": "chg2", "change": "node_drained", "since": SINCE, "controller": "ctl01",
                         "data": {"failback": "none"}}


def test_one_record_printed_as_an_object_and_no_records_as_null():
    assert len(records.parse_records({"computer": "N", "records": raw()})[0]) == 1
    assert records.parse_records({"computer": "N", "records": None}) == ([], [])


def test_values_cut_short_or_edited_by_hand_become_null_with_a_warning():
    result, warnings = records.parse_records(document(raw(since=None, data="not json"), raw(window="W2", data=None,
                                                                                            controller=7)), "SQL-NODE1")
    assert result[0]["since"] is None and result[0]["data"] is None
    assert result[1]["data"] is None and result[1]["controller"] is None
    assert len(warnings) == 4
    assert "window record CHG1/node_drained on SQL-NODE1: value since is missing" in warnings[0]


@pytest.mark.parametrize("bad, words", [
    ([], "expected a JSON object"),
    ({"computer": "N"}, "no 'records' key"),
    ({"records": "x"}, "'records' must be a list"),
    ({"records": [1]}, "record 0 is int"),
    ({"records": [raw(window="")]}, "no window name"),
    ({"records": [raw(change=None)]}, "no change name"),
    ({"records": [raw(), raw(window="chg1")]}, "appears twice"),
])
def test_bad_shapes_are_typed_errors(bad, words):
    with pytest.raises(records.RecordShapeError) as error:
        records.parse_records(bad, "SQL-NODE1")
    assert words in error.value.message
    assert isinstance(error.value, MalformedOutputError)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=10)
RECORDISH = st.dictionaries(st.sampled_from(["window", "change", "since", "controller", "data", "other"]),
                            JSON | st.text(max_size=10), max_size=6)


@settings(max_examples=400, deadline=None, database=None)
@given(st.one_of(JSON, st.dictionaries(st.sampled_from(["computer", "records"]),
                                       st.one_of(JSON, st.lists(st.one_of(RECORDISH, JSON), max_size=4), RECORDISH),
                                       max_size=2)))
def test_parser_fuzz_only_typed_errors_and_well_formed_records(value):
    try:
        result, warnings = records.parse_records(value, "N")
    except records.RecordShapeError:
        return
    for record in result:
        assert set(record) == set(records.FIELDS)
        assert isinstance(record["window"], str) and record["window"]
        assert isinstance(record["change"], str) and record["change"]
        assert record["since"] is None or isinstance(record["since"], str)
        assert record["controller"] is None or isinstance(record["controller"], str)
        assert record["data"] is None or isinstance(record["data"], dict)
    assert all(isinstance(item, str) for item in warnings)
    identities = [(r["window"].lower(), r["change"].lower()) for r in result]
    assert identities == sorted(identities) and len(set(identities)) == len(identities)


@settings(max_examples=200, deadline=None, database=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), JSON, max_size=4))
def test_data_round_trips_through_the_registry_text(data):
    assume(len(json.dumps(data, separators=(",", ":"))) <= records.DATA_MAX_CHARS // 2)
    text = records.encode_data(data)
    result, warnings = records.parse_records(document(raw(data=text)))
    assert warnings == [] and result[0]["data"] == json.loads(text)


# --- decision ------------------------------------------------------------------------------------

def test_present_writes_a_new_record():
    plan = records.plan_record(parsed(), "present", "CHG1", "node_drained", '{"failback":"none"}', "ctl02")
    assert plan["action"] == "set" and plan["before"] == []
    assert plan["params"] == dict(action="set", window="CHG1", change="node_drained", changes=["node_drained"],
                                  data='{"failback":"none"}', controller="ctl02")
    assert plan["after"] == [{"window": "CHG1", "change": "node_drained", "since": None, "controller": "ctl02",
                              "data": {"failback": "none"}}]


def test_present_with_the_same_data_keeps_since_and_controller_even_from_another_controller():
    existing = parsed(raw())
    plan = records.plan_record(existing, "present", "chg1", "node_drained", '{"failback":"none"}', "ctl02")
    assert plan["action"] is None and plan["after"] == existing


def test_present_with_other_data_rewrites_under_the_stored_window_name():
    plan = records.plan_record(parsed(raw()), "present", "chg1", "node_drained", '{"failback":"policy"}', "ctl02")
    assert plan["action"] == "set" and plan["params"]["window"] == "CHG1"
    assert plan["before"][0]["data"] == {"failback": "none"} and plan["after"][0]["data"] == {"failback": "policy"}


def test_an_unreadable_record_is_rewritten():
    plan = records.plan_record(parsed(raw(data="{broken")), "present", "CHG1", "node_drained", "{}", "c")
    assert plan["action"] == "set"


def test_absent_removes_one_change_or_the_whole_window_and_nothing_else():
    existing = parsed(raw(), raw(change="cluster_service_stopped", data="{}"), raw(window="CHG2"))
    one = records.plan_record(existing, "absent", "CHG1", "node_drained", "{}", "c")
    assert one["action"] == "remove" and one["params"]["changes"] == ["node_drained"]
    every = records.plan_record(existing, "absent", "chg1", None, "{}", "c")
    assert every["params"]["window"] == "CHG1"
    assert every["params"]["changes"] == ["cluster_service_stopped", "node_drained"]
    assert [r["window"] for r in every["before"]] == ["CHG1", "CHG1"] and every["after"] == []
    nothing = records.plan_record(existing, "absent", "CHG3", None, "{}", "c")
    assert nothing["action"] is None and nothing["params"] is None


def test_verify_written_catches_a_record_that_does_not_read_back():
    plan = records.plan_record([], "present", "CHG1", "node_drained", '{"failback":"none"}', "c")
    records.verify_written(parsed(raw()), plan)
    with pytest.raises(ScriptError) as error:
        records.verify_written(parsed(raw(data="{}")), plan, "SQL-NODE1")
    assert "does not read back" in error.value.message
    removal = records.plan_record(parsed(raw()), "absent", "CHG1", None, "{}", "c")
    records.verify_written([], removal)
    with pytest.raises(ScriptError):
        records.verify_written(parsed(raw()), removal)


# --- the service flow ----------------------------------------------------------------------------

def test_check_mode_reads_once_and_writes_nothing():
    fake = FakeClient({"node_window_record_info": document()})
    result = records.node_window_record(fake, "present", "CHG1", "node_drained", {"failback": "none"}, "ctl01",
                                        check_mode=True)
    assert result["changed"] and result["records"] == []
    assert result["diff"]["after"]["records"][0]["data"] == {"failback": "none"}
    assert [call[0] for call in fake.calls] == ["node_window_record_info"]


def test_present_writes_then_returns_what_the_node_reads_back():
    fake = FakeClient({"node_window_record_info": document(raw(window="OTHER", change="agent_maintenance", data="{}")),
                       "node_window_record": document(raw(window="OTHER", change="agent_maintenance", data="{}"),
                                                      raw())})
    result = records.node_window_record(fake, "present", "CHG1", "node_drained", {"failback": "none"}, "ctl01")
    assert result["changed"] and len(result["records"]) == 2
    assert result["diff"]["after"]["records"][0]["since"] == SINCE
    assert fake.calls[0] == ("node_window_record_info", {"window": None})
    assert fake.calls[1][1]["action"] == "set" and fake.calls[1][1]["controller"] == "ctl01"


def test_unchanged_costs_one_read():
    fake = FakeClient({"node_window_record_info": document(raw())})
    result = records.node_window_record(fake, "present", "CHG1", "node_drained", {"failback": "none"}, "ctl09")
    assert not result["changed"] and len(fake.calls) == 1


def test_bad_input_sends_nothing():
    fake = FakeClient({})
    with pytest.raises(ParameterError):
        records.node_window_record(fake, "present", "bad id", "node_drained", {})
    with pytest.raises(ParameterError):
        records.node_window_record_info(fake, "bad id")
    assert fake.calls == []


def test_info_filters_by_window_without_case():
    fake = FakeClient({"node_window_record_info": document(raw(), raw(window="CHG2"))})
    result = records.node_window_record_info(fake, "chg2")
    assert [r["window"] for r in result["records"]] == ["CHG2"] and not result["changed"]
    assert fake.calls == [("node_window_record_info", {"window": "chg2"})]


# --- script text -----------------------------------------------------------------------------------

def test_scripts_use_the_records_root_and_literal_paths():
    for name in ("node_window_record", "node_window_record_info"):
        body = scripts.body(name)
        assert "'%s'" % records.RECORD_ROOT in body
        assert "deep_security" not in body
        for cmdlet in ("Test-Path", "Get-ChildItem", "Get-ItemProperty", "Set-ItemProperty", "Remove-Item"):
            for line in body.splitlines():
                for part in line.split(cmdlet + " ")[1:]:
                    assert part.startswith("-LiteralPath"), "%s: %s without -LiteralPath" % (name, cmdlet)


def test_record_script_creates_keys_only_when_missing_and_writes_since_last():
    body = scripts.body("node_window_record")
    assert "if (-not (Test-Path -LiteralPath $k)) { New-Item -Path $k -Force | Out-Null }" in body
    assert body.count("New-Item -Path") == 1
    order = [body.index("-Name %s " % name) for name in ("data", "controller", "since")]
    assert order == sorted(order)
    assert body.count("-Type String") == 3
    assert "ToString('s') + 'Z'" in body
    # the window key goes only when it holds no record
    assert "-not (Get-ChildItem -LiteralPath $w)) { Remove-Item -LiteralPath $w }" in body
