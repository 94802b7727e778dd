"""The NLB farm window's decisions: plan and blockers (NLB-01, minimum converged), Tap -> Inline, report."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils import nlb_window, window

HOSTS = ["WEB1", "WEB2", "WEB3"]


def nlb_info(me, states=None):
    states = states or {}
    return {"computer": me, "cluster": {"name": "WEBFARM", "ip_address": "192.0.2.80"},
            "nodes": [{"name": name, "state": states.get(name, "Converged(default)")} for name in HOSTS]}


def node_facts(plans=None, records=None, states=None):
    plans = plans or {}
    records = records or {}
    return dict((host, {"nlb": nlb_info(host, states), "records": records.get(host, []),
                        "plan": plans.get(host, {"changed": True, "actions": ["install", "activate"],
                                                 "previous_version": None, "version": "20.0.1-690"})})
                for host in HOSTS)


def computer(name, ips="off", version="20.0.1-690", mode="Inline"):
    return {"host_name": name, "has_agent": bool(version), "agent_version": version, "network_engine_mode": mode,
            "modules": {"intrusion_prevention": {"state": ips}}}


def messages(plan):
    return " | ".join(item["message"] for item in plan["blockers"])


def test_a_fresh_farm_is_planned_host_by_host_with_all_but_one_converged():
    plan = nlb_window.plan_nlb_rollout(HOSTS, node_facts(), "CHG1", dsm_computers=[], version="20.0.1-690")
    assert plan["order"] == HOSTS and plan["blockers"] == []
    assert plan["min_converged"] == 2 and plan["converged"] == HOSTS and plan["cluster"] == "WEBFARM"
    assert plan["computers_known"] == []


def test_a_host_already_at_the_version_is_skipped():
    plans = {"WEB2": {"changed": False, "actions": [], "previous_version": "20.0.1-690", "version": "20.0.1-690"}}
    plan = nlb_window.plan_nlb_rollout(HOSTS, node_facts(plans=plans), "CHG1", dsm_computers=[computer("WEB2")],
                                       version="20.0.1-690")
    assert plan["order"] == ["WEB1", "WEB3"] and plan["computers_known"] == ["WEB2"]


def test_intrusion_prevention_on_an_nlb_host_blocks_unless_the_window_may_turn_it_off():
    facts = node_facts()
    computers = [computer("WEB1", ips="prevent")]
    plan = nlb_window.plan_nlb_rollout(HOSTS, facts, "CHG1", dsm_computers=computers, version="20.0.1-690")
    assert "NLB-01: Intrusion Prevention is prevent on WEB1" in messages(plan)
    allowed = nlb_window.plan_nlb_rollout(HOSTS, facts, "CHG1", dsm_computers=computers, version="20.0.1-690",
                                          turn_off_intrusion_prevention=True)
    assert allowed["blockers"] == [] and allowed["intrusion_prevention_on"] == ["WEB1"]


def test_intrusion_prevention_in_the_activation_policy_blocks():
    plan = nlb_window.plan_nlb_rollout(HOSTS, node_facts(), "CHG1", version="20.0.1-690",
                                       policy_intrusion_prevention="detect")
    assert "activation policy has Intrusion Prevention detect" in messages(plan)
    assert nlb_window.plan_nlb_rollout(HOSTS, node_facts(), "CHG1", version="20.0.1-690",
                                       policy_intrusion_prevention="off")["blockers"] == []


@pytest.mark.parametrize("installed, target, blocked", [
    ("10.0.0-2547", "20.0.1-690", True),     # installed before 10.0 U5
    ("10.0.0.2548", "20.0.1-690", False),    # 10.0 U5 itself, in the MSI's dotted form
    (None, "10.0.0-2500", True),             # target before 10.0 U5
    (None, "10.0.0-2548", False),
    ("9.6.2-8207", "20.0.1-690", True),      # 9.6 SP1 U13 has the new driver but no NLB support
])
def test_agents_older_than_10_0_update_5_block(installed, target, blocked):
    plans = dict((host, {"changed": True, "actions": ["upgrade"], "previous_version": installed, "version": target})
                 for host in HOSTS)
    plan = nlb_window.plan_nlb_rollout(HOSTS, node_facts(plans=plans), "CHG1", version=target)
    assert bool([b for b in plan["blockers"] if "older than 10.0.0-2548" in b["message"]]) is blocked


def test_fewer_converged_than_the_minimum_blocks():
    plan = nlb_window.plan_nlb_rollout(HOSTS, node_facts(states={"WEB3": "Stopped"}), "CHG1", version="20.0.1-690")
    assert "2 of 3 hosts are Converged (WEB1, WEB2); taking one out leaves 1, fewer than the 2" in messages(plan)
    relaxed = nlb_window.plan_nlb_rollout(HOSTS, node_facts(states={"WEB3": "Stopped"}), "CHG1", version="20.0.1-690",
                                          min_converged=1)
    assert relaxed["blockers"] == []


def test_min_converged_out_of_range_is_refused():
    with pytest.raises(nlb_window.NlbWindowError) as error:
        nlb_window.plan_nlb_rollout(HOSTS, node_facts(), "CHG1", min_converged=4)
    assert "nlb_agent_rollout_min_converged" in error.value.message


def test_a_record_of_another_window_blocks_and_its_own_does_not():
    records = {"WEB1": [{"window": "CHG0", "change": "nlb_node_stopped", "since": "x", "controller": "c"},
                        {"window": "chg1", "change": "network_engine_mode", "since": "x", "controller": "c"}]}
    plan = nlb_window.plan_nlb_rollout(HOSTS, node_facts(records=records), "CHG1", version="20.0.1-690")
    assert len(plan["blockers"]) == 1 and "window CHG0 left a record on WEB1" in messages(plan)


def test_an_unreadable_host_blocks():
    facts = node_facts()
    facts["WEB2"]["nlb"] = {"failed": True, "msg": "WEB2 has no Network Load Balancing"}
    plan = nlb_window.plan_nlb_rollout(HOSTS, facts, "CHG1", version="20.0.1-690")
    assert "could not be read: WEB2 has no Network Load Balancing" in messages(plan)


def test_converged_others():
    info = nlb_info("WEB1", states={"WEB2": "Stopped"})
    assert nlb_window.converged_others(info, "web1") == ["WEB3"]


# --- Tap -> Inline ------------------------------------------------------------------------------------

def tap(host, since="2026-11-26T10:00:00Z", window_id="CHG1"):
    return {host: [{"window": window_id, "change": "network_engine_mode", "since": since, "controller": "c",
                    "data": {"previous_mode": "Inline", "computer": host}}]}


def taps(*hosts, **kwargs):
    records = {}
    for host in hosts:
        records.update(tap(host, **kwargs))
    return records


NOW = 1795687200.0 + 3600  # 2026-11-26T11:00:00Z


def test_inline_refused_before_the_observation_time():
    check = nlb_window.inline_check(taps("WEB1", "WEB2"), "CHG1", NOW, 7200, reviewed=True)
    assert not check["ready"] and check["observed_seconds"] == 3600
    assert "3600 s of the 7200 s observation" in check["reasons"][0] and "12:00:00Z" in check["reasons"][0]


def test_inline_counts_from_the_last_tap_switch():
    records = taps("WEB1")
    records.update(tap("WEB2", since="2026-11-26T10:59:00Z"))
    check = nlb_window.inline_check(records, "CHG1", NOW, 120, reviewed=True)
    assert not check["ready"] and check["observed_seconds"] == 60


def test_inline_with_a_real_manager_needs_the_operator_review():
    check = nlb_window.inline_check(taps(*HOSTS), "CHG1", NOW, 60)
    assert not check["ready"] and "cannot read firewall events" in check["reasons"][0]
    assert nlb_window.inline_check(taps(*HOSTS), "CHG1", NOW, 60, reviewed=True)["ready"]


def test_inline_refused_when_the_lab_shows_invalid_flags():
    check = nlb_window.inline_check(taps(*HOSTS), "CHG1", NOW, 60, event_source="lab",
                                    invalid_flags={"WEB1": 4, "WEB2": 0, "WEB3": 8})
    assert not check["ready"]
    assert "Invalid Flags (firewall event 101) since the Tap switch: WEB1 4, WEB3 8" in check["reasons"][0]
    ready = nlb_window.inline_check(taps(*HOSTS), "CHG1", NOW, 60, event_source="lab",
                                    invalid_flags={"WEB1": 0, "WEB2": 0, "WEB3": 0})
    assert ready["ready"] and ready["computers"] == HOSTS


def test_inline_without_tap_records_has_nothing_to_do():
    check = nlb_window.inline_check(taps("WEB1", window_id="OTHER"), "CHG1", NOW, 60, reviewed=True)
    assert not check["ready"] and check["nothing_to_do"]


def test_lab_invalid_flags_counts_only_after_the_first_tap_switch():
    since_ms = 1795687200000  # 2026-11-26T10:00:00Z
    status = {"nlb": {"WEB1": {"invalid_flags_log": [[since_ms - 1, 4], [since_ms, 4], [since_ms + 5000, 4]]},
                      "web2": {"invalid_flags_log": []}}}
    assert nlb_window.lab_invalid_flags(status, taps("WEB1", "WEB2"), "CHG1") == {"WEB1": 8, "WEB2": 0}


# --- the report ---------------------------------------------------------------------------------------

def test_report_section_and_markdown():
    plan = nlb_window.plan_nlb_rollout(HOSTS, node_facts(), "CHG1", version="20.0.1-690")
    steps = [{"node": host, "step": "verified", "start": "t"} for host in HOSTS]
    base = window.window_report("nlb_agent_rollout", "CHG1", "s", "e", plan, steps)
    report = nlb_window.nlb_report(base, plan, modes_before={}, modes_after={"WEB1": "Tap"},
                                   exclusions=["clustersafe NLB WEBFARM heartbeat bypass (incoming)"], converged_seen=2)
    assert report["result"] == "succeeded" and report["nlb"]["fewest_converged_seen"] == 2
    text = nlb_window.nlb_report_markdown(report, window.report_markdown(report))
    assert "| WEB1 | - | Tap |" in text and "fewest seen: 2" in text


def test_report_of_a_refused_switch():
    base = window.window_report("nlb_inline", "CHG1", "s", "e", {}, [])
    check = nlb_window.inline_check(taps("WEB1"), "CHG1", NOW, 60, event_source="lab", invalid_flags={"WEB1": 3})
    report = nlb_window.nlb_report(base, inline=check, phase="inline")
    assert report["result"] == "refused" and report["summary"]["result"] == "refused"
    assert "Stays in Tap: Invalid Flags" in nlb_window.nlb_report_markdown(report, "")


def test_a_failure_in_check_mode_is_not_planned():
    base = window.window_report("nlb_agent_rollout", "CHG1", "s", "e", {}, [], failure={"message": "x"},
                                check_mode=True)
    assert nlb_window.nlb_report(base)["result"] == "failed"
