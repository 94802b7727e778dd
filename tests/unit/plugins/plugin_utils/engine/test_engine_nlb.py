"""The NLB farm window end to end over the in-process lab: the rollout (exclusions, Tap, one host at a time,
never fewer Converged hosts than the farm needs), the switch to Inline, a failed host kept out of its farm with
its records, and recover."""
import json

import pytest
from engine_lab import WEB, VcenterModel, leases, new_lab, nlb_settings, records, run_recover, run_window, status


@pytest.fixture
def lab(tmp_path):
    return new_lab(tmp_path)


@pytest.fixture
def vcenter(lab):
    return VcenterModel(lab.topology)


def report_of(result):
    [report] = result["reports"].values()
    return report


def dsm_computers(lab):
    return dict((item["host_name"], item) for item in lab.dsm.status()["computers"])


def test_rollout_then_inline(lab, vcenter):
    result, _window = run_window(lab, vcenter, kind="nlb")
    report = report_of(result)
    assert report["result"] == "succeeded", report
    assert [node["outcome"] for node in report["nodes"]] == ["changed"] * 3
    assert [step["step"] for step in report["nodes"][0]["steps"]] == ["drainstop", "agent", "dsm_active", "start", "verified"]
    assert report["nlb"]["fewest_converged_seen"] >= report["nlb"]["min_converged"] == 2
    assert report["nlb"]["exclusion_rules"]
    state = status(lab)
    assert state["nlb"]["WEBFARM"] == dict((host, "Converged") for host in WEB)
    assert state["nlb_converged"]["WEBFARM"]["min"] >= 2
    computers = dsm_computers(lab)
    assert all(computers[host]["network_engine_mode"] == "Tap" and computers[host]["heartbeat_exclusion"] for host in WEB)
    # the Tap records are the window's state until the switch; nothing else is left, the lease is released
    assert records(lab) == dict((host, ["network_engine_mode"]) for host in WEB) and leases(lab) == {}

    again, _window = run_window(lab, vcenter, kind="nlb")
    assert report_of(again)["order"] == [] and report_of(again)["result"] == "succeeded"
    assert records(lab) == dict((host, ["network_engine_mode"]) for host in WEB)

    early, _window = run_window(lab, vcenter, kind="nlb", settings=nlb_settings(phase="inline", event_source="operator"))
    early_report = report_of(early)
    assert early_report["result"] == "refused" and not early_report["nlb"]["inline"]["ready"]
    assert records(lab) == dict((host, ["network_engine_mode"]) for host in WEB)

    done, _window = run_window(lab, vcenter, kind="nlb", settings=nlb_settings(phase="inline", observation_seconds=0,
                                                                               events_reviewed=True))
    done_report = report_of(done)
    assert done_report["result"] == "succeeded", done_report
    assert done_report["nlb"]["network_engine_mode_after"] == dict((host, "Inline") for host in WEB)
    # before: what the switch found (Tap), not the mode before the window, which its inline section keeps
    assert done_report["nlb"]["network_engine_mode_before"] == dict((host, "Tap") for host in WEB)
    assert done_report["nlb"]["inline"]["previous_modes"] == dict((host, "Inline") for host in WEB)
    assert all(dsm_computers(lab)[host]["network_engine_mode"] == "Inline" for host in WEB)
    assert records(lab) == {} and leases(lab) == {}


def test_a_failed_install_keeps_the_host_out_of_its_farm_with_its_records(lab, vcenter):
    lab.windows.set_faults({"msi_exit_next": 1603, "node": "WEB2"})
    result, _window = run_window(lab, vcenter, kind="nlb")
    report = report_of(result)
    assert report["result"] == "failed"
    [failed] = report["failed_nodes"]
    assert failed["node"] == "WEB2" and failed["step"] == "agent"
    assert failed["left"] == "out of the farm (records kept: recover or a re-run starts it)"
    # msiexec rolled the install back, the agent is as it was: no agent work is left to confirm
    assert "agent_maintenance" not in records(lab).get("WEB2", [])
    assert "nlb_node_stopped" in records(lab)["WEB2"]
    assert status(lab)["nlb"]["WEBFARM"]["WEB2"] == "Stopped"
    assert [node["outcome"] for node in report["nodes"]] == ["changed", "failed", "not started"]
    outcome = run_recover(lab, vcenter, windows_hosts=list(WEB), window="CHG-N")
    assert not outcome["failed"] and not outcome["refused"], outcome
    # recover puts back the whole window: WEB2 in its farm again, WEB1's computer back from Tap
    assert status(lab)["nlb"]["WEBFARM"] == dict((host, "Converged") for host in WEB)
    assert records(lab) == {} and leases(lab) == {}
    assert dsm_computers(lab)["WEB1"]["network_engine_mode"] == "Inline"


def test_a_host_stopped_by_someone_else_blocks_before_any_change(lab, vcenter):
    lab.windows.state["nodes"]["WEB3"]["nlb_state"] = "Stopped"
    result, _window = run_window(lab, vcenter, kind="nlb")
    report = report_of(result)
    assert report["result"] == "refused"
    assert any("WEB3" in item["message"] and "not by this window" in item["message"] for item in report["blockers"])
    assert records(lab) == {} and status(lab)["nlb"]["WEBFARM"]["WEB3"] == "Stopped"


def test_check_mode_plans_and_changes_nothing(lab, vcenter):
    result, _window = run_window(lab, vcenter, kind="nlb", check_mode=True)
    assert report_of(result)["result"] == "planned" and report_of(result)["order"] == list(WEB)
    assert records(lab) == {} and leases(lab) == {}
    assert lab.dsm.status()["rules_created"] == 0


def own_mode(lab, host):
    return dsm_computers(lab)[host]["own_settings"].get("firewallSettingNetworkEngineMode")


def test_the_switch_back_leaves_no_override_where_the_computer_followed_its_policy(lab, vcenter):
    # WEB1's computer sets Inline itself (an administrator pinned it); WEB2 and WEB3 follow their policy
    status_code = lab.dsm.handle("POST", "/computers", headers={"api-secret-key": lab.topology["dsm"]["api_key"],
                                                                "api-version": "v1"},
                                 body=json.dumps({"hostName": "WEB1", "policyID": 4, "computerSettings": {
                                     "firewallSettingNetworkEngineMode": {"value": "Inline"}}}))[0]
    assert status_code in (200, 201) and own_mode(lab, "WEB1") == "Inline"
    result, _window = run_window(lab, vcenter, kind="nlb")
    assert report_of(result)["result"] == "succeeded", report_of(result)
    assert all(own_mode(lab, host) == "Tap" for host in WEB)
    done, _window = run_window(lab, vcenter, kind="nlb", settings=nlb_settings(phase="inline", observation_seconds=0,
                                                                               events_reviewed=True))
    assert report_of(done)["result"] == "succeeded", report_of(done)
    assert all(dsm_computers(lab)[host]["network_engine_mode"] == "Inline" for host in WEB)
    # the pinned computer keeps its own Inline; the others follow their policy again, no value of their own
    assert own_mode(lab, "WEB1") == "Inline" and own_mode(lab, "WEB2") is None and own_mode(lab, "WEB3") is None


def test_recover_resets_a_mode_the_computer_did_not_set_itself(lab, vcenter):
    lab.windows.set_faults({"msi_exit_next": 1603, "node": "WEB2"})
    result, _window = run_window(lab, vcenter, kind="nlb")
    assert report_of(result)["result"] == "failed"
    assert own_mode(lab, "WEB1") == "Tap"
    outcome = run_recover(lab, vcenter, windows_hosts=list(WEB), window="CHG-N")
    assert not outcome["failed"] and not outcome["refused"], outcome
    assert dsm_computers(lab)["WEB1"]["network_engine_mode"] == "Inline" and own_mode(lab, "WEB1") is None


def test_a_host_that_cannot_be_read_refuses_the_farm_that_lists_it(lab, vcenter):
    lab.windows.set_faults({"script_error_next": 1, "node": "WEB2", "marker": "nlb_cluster_info"})
    result, _window = run_window(lab, vcenter, kind="nlb")
    # one farm, refused, with the unreadable host among its own: no farm of its own, nothing changed
    report = report_of(result)
    assert report["result"] == "refused" and report["cluster"] == "WEBFARM"
    assert [item["subject"] for item in report["blockers"]] == ["WEB2"], report["blockers"]
    assert "could not be read" in report["blockers"][0]["message"]
    assert records(lab) == {} and leases(lab) == {}
    assert status(lab)["nlb"]["WEBFARM"] == dict((host, "Converged") for host in WEB)
