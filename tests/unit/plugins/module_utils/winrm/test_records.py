"""Window records on Windows nodes: input validation, the parser of the scripts' document (fuzzed with
Hypothesis), the present/absent plan, read-back verification and the service flow with a fake client."""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import client, records, scripts
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import (
    MalformedOutputError,
    ScriptError,
)
from winrm_fakes import RECORD_DATA, FakeClient

SINCE = "2026-11-26T07:30:00Z"


def raw(window="CHG1", change="node_drained", data='{"failback":"none"}', since=SINCE, controller="ctl01"):
    return {"window": window, "change": change, "since": since, "controller": controller, "data": data}


def document(*items):
    return {"computer": "SQL-NODE1", "records": list(items)}


def parsed(*items):
    return records.parse_records(document(*items))[0]


def invalid(*items, computer="SQL-NODE1"):
    """The invalid records of a document, as parse_records returns them."""
    return records.parse_records(dict(document(*items), computer=computer))[1]


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


LONGEST_HOST = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters, the most HOST_NAME allows
LONGEST_DATA = {
    "node_drained": {"failback": "immediate"},
    "cluster_service_stopped": {},
    "nlb_node_stopped": {"cluster": LONGEST_HOST, "action": "drainstop"},
    "network_engine_mode": {"previous_mode": "Inline", "computer": LONGEST_HOST, "own_setting": False},
    "agent_maintenance": {"activation": False, "computer": LONGEST_HOST, "nlb": False, "state": "present",
                          "version": "99999.99999.999999-999999"},
}


@pytest.mark.parametrize("change", records.CHANGES)
def test_the_longest_data_each_schema_allows_is_within_the_limit(change):
    """Each change's longest data (its strings are host names, versions and fixed words, which JSON does not
    escape) fits DATA_MAX_CHARS, so a valid record is never refused for its length."""
    assert LONGEST_HOST == records.controller_name(LONGEST_HOST)
    text = records.validate_request("present", "W" * 64, change, LONGEST_DATA[change])
    assert len(text) <= records.DATA_MAX_CHARS and records.data_problem(change, json.loads(text)) is None


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


def test_data_full_of_characters_json_escapes_is_refused_by_the_schemas():
    with pytest.raises(ParameterError):
        records.validate_request("present", "CHG1", "network_engine_mode", {"previous_mode": "Inline",
                                                                            "computer": '"' * 100})


# --- the node's document -------------------------------------------------------------------------

def test_parse_records_sorted_with_data_decoded():
    result, bad, warnings = records.parse_records(document(raw(window="chg2"), raw(
        change="agent_maintenance", data=RECORD_DATA["agent_maintenance"])))
    assert warnings == [] and bad == []
    assert [(r["window"], r["change"]) for r in result] == [("CHG1", "agent_maintenance"), ("chg2", "node_drained")]
    assert result[1] == {"window": "chg2", "change": "node_drained", "since": SINCE, "controller": "ctl01",
                         "data": {"failback": "none"}}


def test_one_record_printed_as_an_object_and_no_records_as_null():
    assert len(records.parse_records({"computer": "N", "records": raw()})[0]) == 1
    assert records.parse_records({"computer": "N", "records": None}) == ([], [], [])


def test_values_cut_short_or_edited_by_hand_make_the_record_untrusted():
    """A write cut short (since is written last) or a value edited by hand: the record is returned apart with
    the reason and a warning, never as a change to undo (it was behaviour before: null values, still undone)."""
    result, bad, warnings = records.parse_records(document(
        raw(since=None), raw(window="W2", data=None), raw(window="W3", controller=7), raw(window="W4", data="not json"),
        raw(window="W5")), "SQL-NODE1")
    assert [(r["window"], r["change"]) for r in result] == [("W5", "node_drained")]
    assert [(entry["window"], entry["change"]) for entry in bad] == [
        ("CHG1", "node_drained"), ("W2", "node_drained"), ("W3", "node_drained"), ("W4", "node_drained")]
    reasons = [entry["reason"] for entry in bad]
    assert reasons[0].startswith("since null is not a UTC time")
    assert reasons[1] == "data must be a JSON object" and reasons[3] == "data is not JSON"
    assert reasons[2].startswith("controller must be a host name")
    assert len(warnings) == 4
    assert warnings[0].startswith("window record CHG1/node_drained on SQL-NODE1 is not trusted and is left as it is: ")


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
        result, bad, warnings = records.parse_records(value, "N")
    except records.RecordShapeError:
        return
    for record in result:
        assert set(record) == set(records.FIELDS)
        assert records.validate_record(record, value.get("computer") or "") == (True, None)
        assert record["change"] in records.CHANGES and isinstance(record["data"], dict)
    for entry in bad:
        assert set(entry) == {"window", "change", "reason"} and all(isinstance(entry[key], str) for key in entry)
        assert "\n" not in entry["reason"] and "<" not in entry["window"] + entry["change"]
    assert all(isinstance(item, str) for item in warnings) and len(warnings) == len(bad)
    identities = [(r["window"].lower(), r["change"].lower()) for r in result]
    assert identities == sorted(identities) and len(set(identities)) == len(identities)


LABEL = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,10}[A-Za-z0-9])?", fullmatch=True)
HOSTS = st.lists(LABEL, min_size=1, max_size=3).map(".".join)
VALID_DATA = st.one_of(
    st.tuples(st.just("node_drained"), st.fixed_dictionaries({"failback": st.sampled_from(["none", "immediate", "policy"])})),
    st.tuples(st.just("cluster_service_stopped"), st.just({})),
    st.tuples(st.just("nlb_node_stopped"), st.fixed_dictionaries({"cluster": st.none() | HOSTS,
                                                                  "action": st.sampled_from(["drainstop", "stop"])})),
    st.tuples(st.just("network_engine_mode"), st.fixed_dictionaries(
        {"previous_mode": st.sampled_from(["Inline", "Tap"])},
        optional={"computer": st.just("SQL-NODE1"), "own_setting": st.booleans()})),
    st.tuples(st.just("agent_maintenance"), st.fixed_dictionaries(
        {"state": st.sampled_from(["present", "absent"]), "activation": st.booleans(),
         "version": st.none() | st.from_regex(r"[0-9]{1,2}\.[0-9]\.[0-9]{1,3}-[0-9]{1,5}", fullmatch=True)},
        optional={"nlb": st.just(False)})),
)


@settings(max_examples=200, deadline=None, database=None)
@given(VALID_DATA, HOSTS)
def test_what_the_writers_store_round_trips_through_the_registry_text(change_data, controller):
    change, data = change_data
    text = records.validate_request("present", "CHG1", change, data)
    assert text == records.encode_data(data)
    result, bad, warnings = records.parse_records(document(raw(change=change, data=text, controller=controller)))
    assert bad == [] and warnings == [] and result[0]["data"] == json.loads(text)


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


def test_an_untrusted_record_is_never_written_over():
    """An unreadable or forged record in the key a write would use stays as found (it was rewritten before)."""
    found = document(raw(data="{broken"))
    valid, bad, warnings = records.parse_records(found)
    assert len(warnings) == 1
    with pytest.raises(records.InvalidRecordError) as error:
        records.plan_record(valid, "present", "chg1", "node_drained", '{"failback":"none"}', "c", bad)
    assert "CHG1/node_drained" in error.value.message and "data is not JSON" in error.value.message
    assert "left as found" in error.value.message
    # a write of another change of the same window is not held up by it
    assert records.plan_record(valid, "present", "CHG1", "cluster_service_stopped", "{}", "c", bad)["action"] == "set"


def test_absent_removes_one_change_or_the_whole_window_and_nothing_else():
    existing = parsed(raw(), raw(change="cluster_service_stopped", data="{}"), raw(window="CHG2"))
    assert len(existing) == 3
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
    other = raw(window="OTHER", change="agent_maintenance", data=RECORD_DATA["agent_maintenance"])
    fake = FakeClient({"node_window_record_info": document(other), "node_window_record": document(other, raw())})
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


# --- records trusted only for what they are about (forged or damaged records) ------------------------------

def test_a_record_naming_another_computer_is_not_trusted():
    """A local administrator of WEB1 must not make recover switch another computer (the domain controller) to
    Tap, or wait for another computer's agent: the computer a record names must be the node's own."""
    forged = raw(window="CHG9", change="network_engine_mode", data='{"computer":"DC01","previous_mode":"Tap"}')
    valid, bad, warnings = records.parse_records(dict(document(forged), computer="WEB1"), "WEB1")
    assert valid == []
    assert bad == [{"window": "CHG9", "change": "network_engine_mode",
                    "reason": "data.computer DC01 is not this node's computer (WEB1): a record may only name its own node"}]
    assert "not trusted" in warnings[0]
    nlb_agent = raw(change="agent_maintenance",
                    data='{"activation":true,"computer":"web2","nlb":true,"state":"present","version":"20.0.1-690"}')
    assert invalid(nlb_agent, computer="WEB1")[0]["reason"].startswith("data.computer web2 is not this node's")
    # its own computer, in any case, is fine
    assert records.parse_records(dict(document(nlb_agent), computer="WEB2"))[0][0]["data"]["computer"] == "web2"
    assert records.validate_record(dict(forged, data={"computer": "dc01", "previous_mode": "Tap"}), "DC01") == (True, None)


def test_a_record_naming_a_computer_is_not_trusted_when_the_node_does_not_say_who_it_is():
    forged = raw(change="network_engine_mode", data=RECORD_DATA["network_engine_mode"])
    assert "the node did not report its name" in invalid(forged, computer=None)[0]["reason"]
    ok, reason = records.validate_record(forged, "")
    assert not ok and "did not report" in reason
    # without a node to compare with, only the shape is checked
    assert records.validate_record(forged) == (True, None)


@pytest.mark.parametrize("field, value", [
    ("controller", "ctl01\n# Recovered by <b>admin</b>"),
    ("controller", "[click](https://evil.example/)"),
    ("controller", "<script>alert(1)</script>"),
    ("window", "CHG1\n| injected | row |"),
    ("window", "<img src=x onerror=alert(1)>"),
    ("change", "node_drained\r\n"),
    ("since", "2026-11-26T07:30:00Z\n**done**"),
    ("data", '{"failback":"none\\n## <i>pwned</i>"}'),
])
def test_markdown_html_and_newlines_in_any_field_make_the_record_untrusted(field, value):
    (entry,) = invalid(raw(**{field: value}))
    shown = entry["window"] + entry["change"] + entry["reason"]
    # nothing of it can break out of a line, a table cell or a tag where a report shows it
    for char in "\n\r<>|`[]*":
        assert char not in shown, (char, shown)
    assert records.validate_record(raw(**{field: value}))[0] is False


def test_a_window_name_that_is_a_path_step_is_not_trusted():
    for window in ("..", ".", "..\\..\\Microsoft", "a/../b", "-rf", "x" * 65):
        (entry,) = invalid(raw(window=window))
        assert "is not a window id" in entry["reason"], window
    ok, reason = records.validate_record(raw(window=".."))
    assert not ok and reason == 'the window name ".." is not a window id (see window_id.py)'


@pytest.mark.parametrize("since", ["yesterday", "2026-11-26 07:30:00", "2026-11-26T07:30:00+02:00",
                                   "2026-11-26T07:30:00.123Z", "2026-02-30T07:30:00Z", "2026-11-26T25:00:00Z", "",
                                   20261126, None])
def test_a_bad_since_is_not_trusted(since):
    (entry,) = invalid(raw(since=since))
    assert entry["reason"].startswith("since "), entry


@pytest.mark.parametrize("change", ["node_paused", "NODE_DRAINED", "Node_Drained", "..", "node_drained.."])
def test_an_unknown_change_name_is_not_trusted(change):
    (entry,) = invalid(raw(change=change))
    assert "is not one the collection records" in entry["reason"]


@pytest.mark.parametrize("change, data, words", [
    ("node_drained", {"failback": "sometimes"}, "data.failback must be one of none, immediate, policy"),
    ("node_drained", {}, "data of node_drained needs failback"),
    ("node_drained", {"failback": "none", "script": "Stop-Computer"}, "unknown key script"),
    ("cluster_service_stopped", {"x": 1}, "unknown key x (allowed: none)"),
    ("nlb_node_stopped", {"cluster": "WEBFARM", "action": "remove"}, "data.action must be one of drainstop, stop"),
    ("nlb_node_stopped", {"cluster": "web farm", "action": "stop"}, "data.cluster must be a host name"),
    ("network_engine_mode", {"previous_mode": "Off", "computer": "SQL-NODE1"}, "data.previous_mode must be one of Inline, Tap"),
    ("network_engine_mode", {"computer": "SQL-NODE1"}, "needs previous_mode"),
    ("network_engine_mode", {"previous_mode": "Inline", "own_setting": "no"}, "data.own_setting must be true or false"),
    ("network_engine_mode", {"previous_mode": "Inline", "computer": "SQL-NODE1;calc"}, "data.computer must be a host name"),
    ("network_engine_mode", {"previous_mode": "Inline", "computer": ["SQL-NODE1"]}, "data.computer must be a host name"),
    ("agent_maintenance", {"state": "present", "version": "20.0.1-690", "activation": "yes"}, "data.activation must be true or false"),
    ("agent_maintenance", {"state": "present", "version": "latest", "activation": True}, "data.version must be an agent version"),
    ("agent_maintenance", {"state": "purged", "version": None, "activation": False}, "data.state must be one of present, absent"),
    ("agent_maintenance", {"state": "present", "version": None, "activation": True, "nlb": True}, "nlb=true needs computer"),
])
def test_data_is_checked_against_the_schema_of_its_change(change, data, words):
    (entry,) = invalid(raw(change=change, data=records.encode_data(data)))
    assert words in entry["reason"], entry["reason"]
    with pytest.raises(ParameterError) as error:
        records.validate_request("present", "CHG1", change, data)
    assert "parameter data does not fit change %s" % change in error.value.message and words in error.value.message


@pytest.mark.parametrize("controller", ["", "a" * 254, "ctl..01", "-ctl", "ctl_01", "ctl 01", "a." + "b" * 64])
def test_a_controller_that_is_not_a_host_name_is_not_trusted(controller):
    (entry,) = invalid(raw(controller=controller))
    assert entry["reason"].startswith("controller must be a host name")


def test_data_longer_than_the_collection_writes_is_not_trusted():
    (entry,) = invalid(raw(data='{"failback":"none"}' + " " * records.DATA_MAX_CHARS))
    assert "over the %d the collection writes" % records.DATA_MAX_CHARS in entry["reason"]


def test_names_read_back_are_checked_again_before_they_reach_the_remove_script():
    assert records.removal_params("CHG1", ["node_drained"])["changes"] == ["node_drained"]
    for window, changes in (("..", ["node_drained"]), ("CHG1\\..", ["node_drained"]), ("CHG1", [".."]),
                            ("CHG1", ["node_drained", "Run"])):
        with pytest.raises(records.RecordShapeError) as error:
            records.removal_params(window, changes)
        assert "refusing to remove" in error.value.message


def test_removing_a_window_leaves_its_untrusted_records_alone():
    found = document(raw(), raw(change="cluster_service_stopped", data="{}"),
                     raw(change="agent_maintenance", data='{"state":"present"}'))
    valid, bad, warnings = records.parse_records(found)
    assert [entry["change"] for entry in bad] == ["agent_maintenance"] and len(warnings) == 1
    plan = records.plan_record(valid, "absent", "CHG1", None, "{}", "c", bad)
    assert plan["params"]["changes"] == ["cluster_service_stopped", "node_drained"]


def test_the_module_flow_lists_untrusted_records_apart_and_never_sends_them():
    forged = raw(window="CHG1", change="network_engine_mode", data='{"computer":"DC01","previous_mode":"Tap"}')
    left = document(forged)
    fake = FakeClient({"node_window_record_info": document(raw(), forged), "node_window_record": left})
    result = records.node_window_record(fake, "absent", "CHG1", controller="ctl01")
    assert result["changed"] and result["records"] == []
    assert [entry["change"] for entry in result["invalid_records"]] == ["network_engine_mode"]
    assert fake.calls[1][1]["changes"] == ["node_drained"]
    info = records.node_window_record_info(FakeClient({"node_window_record_info": left}), "CHG1")
    assert info["records"] == [] and info["invalid_records"][0]["reason"].startswith("data.computer DC01")
    assert info["warnings"] and "not trusted" in info["warnings"][0]


def test_writing_where_an_untrusted_record_stands_fails_and_changes_nothing():
    fake = FakeClient({"node_window_record_info": document(raw(since="garbage"))})
    with pytest.raises(records.InvalidRecordError):
        records.node_window_record(fake, "present", "CHG1", "node_drained", {"failback": "none"}, "ctl01")
    assert [call[0] for call in fake.calls] == ["node_window_record_info"]


def test_invalid_record_blockers_name_the_node_the_record_and_the_fix():
    bad = invalid(raw(window="..", change="node_drained"))
    (blocker,) = records.invalid_record_blockers("web1", bad)
    assert blocker["subject"] == "web1" and '".."/node_drained' in blocker["message"]
    assert "not a window id" in blocker["message"] and records.RECORD_ROOT in blocker["remedy"]
    assert records.invalid_record_blockers("web1", []) == []


@pytest.mark.parametrize("name, stored", [
    ("ctl01", "ctl01"), ("awx-ee-7f9c.corp.example", "awx-ee-7f9c.corp.example"), ("CTL_01", "CTL-01"),
    ("ctl 01\n<b>", "ctl-01--b"), ("", "unknown"), ("___", "unknown"), ("a..b", "a.b"), ("x" * 300, "x" * 63),
])
def test_the_controller_name_is_stored_as_a_host_name(name, stored):
    assert records.controller_name(name) == stored
    assert records.HOST_NAME.match(records.controller_name(name))


def test_a_write_stores_the_controller_as_a_host_name():
    fake = FakeClient({"node_window_record_info": document(), "node_window_record": document(raw())})
    records.node_window_record(fake, "present", "CHG1", "node_drained", {"failback": "none"}, "my_laptop.local")
    assert fake.calls[1][1]["controller"] == "my-laptop.local"


def test_record_script_refuses_unknown_names_before_building_a_path():
    """The node checks the names again, with the same rules as Python, before the first registry path."""
    import re

    body = scripts.body("node_window_record")
    known = re.search(r"^\$known = @\((.*)\)$", body, re.MULTILINE).group(1)
    assert [name.strip().strip("'") for name in known.split(",")] == list(records.CHANGES)
    pattern = re.search(r"-cnotmatch '([^']+)'", body).group(1)
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.window_id import WINDOW_ID_PATTERN
    assert pattern.replace("\\z", "") == WINDOW_ID_PATTERN.pattern.replace("\\Z", "")
    assert "-cnotcontains" in body
    assert body.index("throw \"refused: unknown change") < body.index("$w = $root")


def test_an_nlb_cluster_name_that_is_no_host_name_is_recorded_as_null():
    assert records.host_name_or_none("www.contoso.example") == "www.contoso.example"
    assert records.host_name_or_none("") is None and records.host_name_or_none("web farm") is None
    assert records.host_name_or_none(None) is None
    records.validate_request("present", "CHG1", "nlb_node_stopped", {"cluster": None, "action": "stop"})
