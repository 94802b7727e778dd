"""The simulated nodes' window records (HKLM\\SOFTWARE\\clustersafe\\maintenance_windows): over the wire
through the collection's client and modules' service functions, and in the model (registry key names
without case, key name limits, persistence across a labd restart, reset, /status). Uses its own ports so
it can run beside a running lab and beside tests/lab_tests/test_windows_sim.py."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import records, scripts
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import ScriptError, WinRMClient
from tests.lab.windows import model as lab_model

HTTP_PORT, HTTPS_PORT = 27985, 27986  # this module's own WinRM ports, for the windows_lab fixture


@pytest.fixture
def fresh(windows_lab):
    windows_lab["part"].reset()
    return windows_lab


def connect(lab, address="127.0.0.21"):
    return WinRMClient(lab["client_params"](address, command_timeout=10))


def test_present_absent_cycle_over_winrm(fresh):
    client = connect(fresh)
    first = records.node_window_record(client, "present", "CHG1", "node_drained", {"failback": "none"}, "ctl01")
    assert first["changed"]
    (record,) = first["records"]
    assert record["window"] == "CHG1" and record["controller"] == "ctl01" and record["data"] == {"failback": "none"}
    assert record["since"].endswith("Z") and len(record["since"]) == 20
    again = records.node_window_record(client, "present", "chg1", "node_drained", {"failback": "none"}, "ctl02")
    assert not again["changed"] and again["records"] == [record]
    updated = records.node_window_record(client, "present", "chg1", "node_drained", {"failback": "policy"}, "ctl02")
    assert updated["changed"] and updated["records"][0]["window"] == "CHG1"
    assert updated["records"][0]["controller"] == "ctl02"
    records.node_window_record(client, "present", "CHG1", "cluster_service_stopped", {}, "ctl02")
    records.node_window_record(connect(fresh, "127.0.0.22"), "present", "CHG1", "node_drained", {"failback": "none"},
                               "ctl02")
    status = fresh["part"].status()["window_records"]
    assert [r["change"] for r in status["SQL-NODE1"]] == ["cluster_service_stopped", "node_drained"]
    assert len(status["SQL-NODE2"]) == 1 and status["SQL-NODE3"] == []
    info = records.node_window_record_info(client, "CHG1")
    assert len(info["records"]) == 2
    gone = records.node_window_record(client, "absent", "CHG1")
    assert gone["changed"] and gone["records"] == []
    assert "CHG1" not in fresh["part"].model.node("SQL-NODE1")["registry_windows"]
    assert not records.node_window_record(client, "absent", "CHG1")["changed"]
    assert fresh["part"].status()["window_records"]["SQL-NODE2"][0]["window"] == "CHG1"


def test_check_mode_writes_nothing_on_the_node(fresh):
    client = connect(fresh)
    result = records.node_window_record(client, "present", "CHG1", "agent_maintenance",
                                        {"state": "present", "version": "20.0.1-690", "activation": True}, "ctl01",
                                        check_mode=True)
    assert result["changed"] and result["records"] == []
    assert fresh["part"].status()["window_records"]["SQL-NODE1"] == []


def test_records_survive_a_restart_and_go_with_reset(fresh):
    records.node_window_record(connect(fresh), "present", "CHG7", "network_engine_mode",
                               {"previous_mode": "Inline", "computer": "SQL-NODE1"}, "ctl01")
    reloaded = lab_model.WindowsModel(fresh["world"])
    assert reloaded.window_records_status()["SQL-NODE1"][0]["data"] == '{"computer":"SQL-NODE1","previous_mode":"Inline"}'
    fresh["part"].reset()
    assert all(found == [] for found in fresh["part"].status()["window_records"].values())
    assert lab_model.WindowsModel(fresh["world"]).window_records_status()["SQL-NODE1"] == []


def test_model_refuses_names_no_registry_key_can_have(fresh):
    model = fresh["part"].model
    node = model.node("SQL-NODE1")
    for window in ("a\\b", "x" * 256, ""):
        with pytest.raises(lab_model.ScriptFailure):
            model.script_node_window_record(node, dict(action="set", window=window, change="node_drained",
                                                       data="{}", controller="c"))
    with pytest.raises(lab_model.ScriptFailure):
        model.script_node_window_record(node, dict(action="rename", window="W", changes=[]))
    assert model.script_node_window_record_info(node, {})["records"] == []


def test_a_record_cut_short_is_listed_apart_and_left_alone(fresh):
    """since is written last: a record without it is one whose write was cut short (or a hand edit). It is
    not trusted, so it is returned apart and nothing removes or overwrites it."""
    model = fresh["part"].model
    node = model.node("SQL-NODE1")
    node["registry_windows"] = {"CHG9": {"node_drained": {"data": '{"failback":"none"}'}}}
    model.save()
    info = records.node_window_record_info(connect(fresh))
    assert info["records"] == [] and len(info["warnings"]) == 1
    (entry,) = info["invalid_records"]
    assert (entry["window"], entry["change"]) == ("CHG9", "node_drained") and entry["reason"].startswith("since null")
    assert not records.node_window_record(connect(fresh), "absent", "CHG9")["changed"]
    with pytest.raises(records.InvalidRecordError):
        records.node_window_record(connect(fresh), "present", "CHG9", "node_drained", {"failback": "none"}, "ctl01")
    assert model.node("SQL-NODE1")["registry_windows"] == {"CHG9": {"node_drained": {"data": '{"failback":"none"}'}}}


def test_forged_records_on_a_web_node_are_never_acted_on(fresh):
    """A local administrator of WEB1 plants records: one naming another computer (to have recover put the
    domain controller in Tap), one under '..', one of a change the collection does not make, one with
    Markdown and HTML in its controller. All come back apart; removing the window removes only the real one."""
    model = fresh["part"].model
    node = model.node("WEB1")
    since = "2026-11-26T07:30:00Z"
    node["registry_windows"] = {
        "CHG5": {"network_engine_mode": {"data": '{"computer":"DC01","previous_mode":"Tap"}', "controller": "ctl01",
                                         "since": since},
                 "nlb_node_stopped": {"data": '{"action":"stop","cluster":"WEBFARM"}', "controller": "ctl01",
                                      "since": since},
                 "run_script": {"data": "{}", "controller": "ctl01", "since": since}},
        "..": {"nlb_node_stopped": {"data": '{"action":"stop","cluster":"WEBFARM"}', "controller": "ctl01",
                                    "since": since}},
        "CHG6": {"nlb_node_stopped": {"data": '{"action":"stop","cluster":"WEBFARM"}', "since": since,
                                      "controller": "ctl01\n# <b>recovered</b>"}},
    }
    model.save()
    client = connect(fresh, "127.0.0.31")
    info = records.node_window_record_info(client)
    assert [(r["window"], r["change"]) for r in info["records"]] == [("CHG5", "nlb_node_stopped")]
    reasons = dict(((entry["window"], entry["change"]), entry["reason"]) for entry in info["invalid_records"])
    assert set(reasons) == {('".."', "nlb_node_stopped"), ("CHG5", "network_engine_mode"), ("CHG5", "run_script"),
                            ("CHG6", "nlb_node_stopped")}
    assert reasons[("CHG5", "network_engine_mode")].startswith("data.computer DC01 is not this node's computer (WEB1)")
    assert "<" not in reasons[("CHG6", "nlb_node_stopped")] and "\n" not in reasons[("CHG6", "nlb_node_stopped")]
    removed = records.node_window_record(client, "absent", "CHG5")
    assert removed["changed"] and removed["records"] == []
    left = model.node("WEB1")["registry_windows"]
    assert sorted(left["CHG5"]) == ["network_engine_mode", "run_script"] and ".." in left and "CHG6" in left


def test_the_node_refuses_a_path_step_or_an_unknown_change_in_the_write_script(fresh):
    client = connect(fresh)
    for params in (dict(action="remove", window="..", change=None, changes=["node_drained"], data="", controller=""),
                   dict(action="remove", window="CHG1", change=None, changes=[".."], data="", controller=""),
                   dict(action="set", window="CHG1", change="Run", changes=["Run"], data="{}", controller="c")):
        with pytest.raises(ScriptError) as error:
            client.run("node_window_record", scripts.body("node_window_record"), params)
        assert "refused:" in error.value.message


def test_a_write_that_does_not_read_back_is_an_error(fresh, monkeypatch):
    model = fresh["part"].model
    real = model.script_node_window_record

    def loses_the_data(node, params):
        document = real(node, params)
        for record in document["records"]:
            record["data"] = "{}"
        return document

    monkeypatch.setattr(model, "script_node_window_record", loses_the_data)
    with pytest.raises(ScriptError) as error:
        records.node_window_record(connect(fresh), "present", "CHG1", "node_drained", {"failback": "none"}, "c")
    assert "does not read back" in error.value.message
