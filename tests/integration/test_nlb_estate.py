"""One NLB window across many farms, against a generated lab estate of two farms (``labctl.py start
--nlb-farms 2``: the lab's WEBFARM, WEB1..3, and WEBFARM02, WEB02-1..3, each with its own cluster IP and
exclusion rules on the one activation policy both farms use).

The shared lab is stopped for this module and started again afterwards: both bind the same loopback
addresses. The invariants after every scenario: no farm ever had two hosts out at once (the hosts'
timelines), no farm ever had fewer Converged hosts than it needs (the lab's own count), and, once the
window is complete or recovered, every host Converged. With a cap (nlb_rollout_max_nodes_out) the lab's own
NLB events prove it: never more hosts drain-stopped and not yet started again across the farms.
"""
import json
import os

import pytest

from conftest import STATE_DIR, generated_lab, lab_control, reset_lab
from test_playbooks import run_playbook
from test_nlb_window import INLINE, LAB_VARS, RECOVER, ROLLOUT, SECRET_KEYS, changed_count

# The estate of NLB farms runs in `make test-long`; `make test` keeps one estate window (test_wsfc_estate.py)
# and the engine's unit tests run the NLB estate in-process (tests/unit/plugins/plugin_utils/engine).
pytestmark = pytest.mark.long
ESTATE_DIR = STATE_DIR.rstrip("/") + "-nlb-estate"
FARMS = {"WEBFARM": ("WEB1", "WEB2", "WEB3"), "WEBFARM02": ("WEB02-1", "WEB02-2", "WEB02-3")}
HOSTS = tuple(host for hosts in FARMS.values() for host in hosts)
VERSION = "20.0.1-690"


@pytest.fixture(scope="module")
def estate(lab):
    with generated_lab(ESTATE_DIR, "--nlb-farms", "2") as environment:
        yield environment


@pytest.fixture
def fresh_estate(estate):
    reset_lab(ESTATE_DIR)
    yield estate


def run(lab, playbook, report_dir, window, *extra):
    result = run_playbook(lab, playbook, "-i", lab["CLUSTERSAFE_LAB_INVENTORY"], "-e", "@%s" % LAB_VARS,
                          "-e", "nlb_agent_rollout_report_dir=%s" % report_dir, "-f", "10",
                          "-e", "nlb_rollout_hosts=web_farms", "-e", "nlb_inline_hosts=web_farms",
                          "-e", "nlb_rollout_window=%s" % window, "-e", "nlb_inline_window=%s" % window, *extra)
    output = result.stdout + result.stderr
    for key in SECRET_KEYS:
        assert lab[key] not in output, key
    return result.returncode, output


def status(lab):
    return lab_control(lab, "GET", "/status")


def computers(document):
    return dict((item["host_name"], item) for item in document["dsm"]["computers"] if item["host_name"] in HOSTS)


def report(report_dir, name):
    with open(os.path.join(str(report_dir), name)) as handle:
        return json.load(handle)


def assert_farms_kept(document, complete=True):
    windows = document["windows"]
    for farm, hosts in FARMS.items():
        # the lab's own count: never fewer than all but one Converged
        assert windows["nlb_converged"][farm]["min"] >= 2, (farm, windows["nlb_converged"][farm])
        if complete:
            assert windows["nlb"][farm] == dict((host, "Converged") for host in hosts), windows["nlb"][farm]
    if complete:
        assert all(not windows["window_records"][host] for host in HOSTS), windows["window_records"]


@pytest.mark.lab
def test_nlb_estate_end_to_end(fresh_estate, tmp_path):
    lab = fresh_estate
    window = "CHG-NLB-ESTATE"
    # reading a farm takes half a second on each host, as on a real one: time enough to see reads overlap
    lab_control(lab, "POST", "/faults/windows", {"operation_seconds": {"nlb_cluster_info": 0.5}})
    code, output = run(lab, ROLLOUT, tmp_path, window)
    assert code == 0, output[-20000:]
    estate_report = report(tmp_path, "%s-nlb_estate.json" % window)
    assert estate_report["kind"] == "nlb_estate" and estate_report["result"] == "succeeded"
    assert [(farm["key"], farm["cluster"], farm["changed"]) for farm in estate_report["clusters"]] == [
        ("WEBFARM", "WEBFARM", 3), ("WEBFARM02", "WEBFARM02", 3)]
    # one host out per farm, the farms side by side: two hosts out across the estate at once
    assert estate_report["limits"] == {"most_nodes_out": 2, "most_nodes_out_in_one_cluster": 1, "kept": True,
                                       "min_converged_kept": True}
    assert all(farm["nlb"]["fewest_converged_seen"] == 2 for farm in estate_report["clusters"])
    for farm in FARMS:
        assert report(tmp_path, "%s-%s-nlb_agent_rollout.json" % (window, farm))["result"] == "succeeded"
    assert os.path.exists(os.path.join(str(tmp_path), "%s-nlb_estate.md" % window))
    # the farms are read side by side: the lab saw scripts of both farms running at once
    assert status(lab)["windows"]["most_scripts_at_once"] >= 2

    lab_now = status(lab)
    assert_farms_kept(lab_now, complete=False)
    agents = lab_now["windows"]["agents"]
    assert all(agents[host]["version"] == VERSION and agents[host]["activated"] for host in HOSTS)
    # each farm's own exclusions in effect on its hosts: the two farms' rules on the one policy did not
    # overwrite each other
    for host, computer in computers(lab_now).items():
        assert computer["network_engine_mode"] == "Tap", (host, computer)
        assert computer["heartbeat_exclusion"] is True and computer["vip_tcp_ports_judged"] == [], (host, computer)
        assert lab_now["dsm"]["nlb"][host]["invalid_flags_events"] == 0, host
    assert all(lab_now["windows"]["nlb"][farm] == dict((host, "Converged") for host in hosts) for farm, hosts in FARMS.items())

    # NLB-03 per farm, both farms side by side
    code, output = run(lab, INLINE, tmp_path, window, "-e", "nlb_inline_observation_seconds=1")
    assert code == 0, output[-20000:]
    inline_report = report(tmp_path, "%s-nlb_inline_estate.json" % window)
    assert [(farm["key"], farm["result"]) for farm in inline_report["clusters"]] == [("WEBFARM", "succeeded"), ("WEBFARM02", "succeeded")]
    lab_now = status(lab)
    assert all(computer["network_engine_mode"] == "Inline" for computer in computers(lab_now).values())
    assert_farms_kept(lab_now)

    code, output = run(lab, ROLLOUT, tmp_path, window)
    assert code == 0 and changed_count(output) == 0, output[-20000:]


@pytest.mark.lab
def test_a_failed_farm_stops_itself_only_and_recover_puts_it_back(fresh_estate, tmp_path):
    lab = fresh_estate
    window = "CHG-NLB-FAIL"
    lab_control(lab, "POST", "/faults/windows", {"msi_exit_next": 1603, "node": "WEB02-2"})
    code, output = run(lab, ROLLOUT, tmp_path, window)
    assert code != 0
    assert "window %s did not complete: failed; WEBFARM02: " % window in output
    estate_report = report(tmp_path, "%s-nlb_estate.json" % window)
    assert [(farm["key"], farm["result"]) for farm in estate_report["clusters"]] == [
        ("WEBFARM", "succeeded"), ("WEBFARM02", "failed")]
    assert estate_report["limits"]["kept"], estate_report["limits"]
    lab_now = status(lab)
    assert_farms_kept(lab_now, complete=False)
    agents = lab_now["windows"]["agents"]
    # WEBFARM done; WEBFARM02 stopped at its second host, which stays out of the farm
    assert all(agents[host]["version"] == VERSION for host in FARMS["WEBFARM"])
    assert [agents[host]["version"] for host in FARMS["WEBFARM02"]] == [VERSION, None, None]
    assert lab_now["windows"]["nlb"]["WEBFARM"] == dict((host, "Converged") for host in FARMS["WEBFARM"])
    assert lab_now["windows"]["nlb"]["WEBFARM02"]["WEB02-2"] != "Converged"
    assert lab_now["windows"]["nlb"]["WEBFARM02"]["WEB02-3"] == "Converged"

    lab_control(lab, "POST", "/faults/windows", {"clear": True})
    code, output = run(lab, RECOVER, tmp_path, window, "-e", "recover_vsphere=false")
    assert code == 0, output[-20000:]
    lab_now = status(lab)
    assert_farms_kept(lab_now)
    # the Tap the window set goes back to the mode before it, on both farms
    assert all(computer["network_engine_mode"] == "Inline" for computer in computers(lab_now).values())


def nlb_events(document, since=0):
    """The lab's own record of the NLB host changes (Stop-NlbClusterNode -Drain, Start-NlbClusterNode), in order."""
    return [(event["event"], event["host_name"]) for event in document["windows"]["events"][since:]
            if event["event"].startswith("nlb.") and event["host_name"] in HOSTS]


def most_hosts_out(events):
    """Most hosts out of their farms at once across the estate, replaying the lab's events in order."""
    out, most = set(), 0
    for event, host in events:
        if event in ("nlb.drainstop", "nlb.stop"):
            out.add(host)
        elif event == "nlb.start":
            out.discard(host)
        most = max(most, len(out))
    return most


@pytest.mark.lab
def test_a_cap_of_one_takes_one_host_out_across_the_farms(fresh_estate, tmp_path):
    lab = fresh_estate
    window = "CHG-NLB-CAP"
    since = len(status(lab)["windows"]["events"])
    code, output = run(lab, ROLLOUT, tmp_path, window, "-e", "nlb_rollout_max_nodes_out=1")
    assert code == 0, output[-20000:]
    assert "window %s across 2 NLB farm(s), at most 1 host(s) out at once" % window in output
    lab_now = status(lab)
    events = nlb_events(lab_now, since)
    # the lab's own record: one host out at a time across both farms, each host out once, the farms in turn
    assert most_hosts_out(events) == 1, events
    assert [host for event, host in events if event == "nlb.drainstop"] == [
        "WEB1", "WEB02-1", "WEB2", "WEB02-2", "WEB3", "WEB02-3"], events
    assert sorted(host for event, host in events if event == "nlb.start") == sorted(HOSTS), events
    # the report proves the same from the hosts' timelines and names the cap
    estate_report = report(tmp_path, "%s-nlb_estate.json" % window)
    assert estate_report["result"] == "succeeded" and estate_report["max_nodes_out"] == 1
    assert estate_report["limits"] == {"most_nodes_out": 1, "most_nodes_out_in_one_cluster": 1, "kept": True,
                                       "min_converged_kept": True}
    with open(os.path.join(str(tmp_path), "%s-nlb_estate.md" % window)) as handle:
        assert "Most hosts out at once: 1 across the estate (cap 1)" in handle.read()
    assert_farms_kept(lab_now, complete=False)
    assert all(lab_now["windows"]["agents"][host]["version"] == VERSION for host in HOSTS)
    assert all(lab_now["windows"]["nlb"][farm] == dict((host, "Converged") for host in hosts) for farm, hosts in FARMS.items())


@pytest.mark.lab
def test_bad_estate_variables_stop_before_anything_is_read(fresh_estate, tmp_path):
    lab = fresh_estate
    shells = dict((host, counters["create"]) for host, counters in status(lab)["windows"]["counters"].items())
    for variable, value, words in (
            ("nlb_rollout_max_nodes_out", "-1", "nlb_agent_rollout_max_nodes_out (playbook: nlb_rollout_max_nodes_out) must be 0 or more (got -1)"),
            # the role's argument spec answers first, naming the variable and its choices
            ("nlb_rollout_on_farm_failure", "stop_everything",
             "value of nlb_agent_rollout_on_farm_failure must be one of: stop_farm, stop_all, got: stop_everything")):
        code, output = run(lab, ROLLOUT, tmp_path, "CHG-NLB-BAD", "-e", "%s=%s" % (variable, value))
        assert code != 0 and words in output, output[-5000:]
    # no host was even read: no WinRM shell opened
    assert dict((host, counters["create"]) for host, counters in status(lab)["windows"]["counters"].items()) == shells


@pytest.mark.lab
def test_stop_all_stops_every_farm_before_its_next_host_and_recover_puts_them_back(fresh_estate, tmp_path):
    lab = fresh_estate
    window = "CHG-NLB-ALL"
    since = len(status(lab)["windows"]["events"])
    lab_control(lab, "POST", "/faults/windows", {"msi_exit_next": 1603, "node": "WEB02-2"})
    code, output = run(lab, ROLLOUT, tmp_path, window, "-e", "nlb_rollout_on_farm_failure=stop_all")
    assert code != 0
    assert "NLB farm WEBFARM02 of the window failed (nlb_agent_rollout_on_farm_failure=stop_all)" in output
    estate_report = report(tmp_path, "%s-nlb_estate.json" % window)
    assert [(farm["key"], farm["result"]) for farm in estate_report["clusters"]] == [
        ("WEBFARM", "incomplete"), ("WEBFARM02", "failed")]
    assert estate_report["limits"]["kept"], estate_report["limits"]
    lab_now = status(lab)
    assert_farms_kept(lab_now, complete=False)
    events = nlb_events(lab_now, since)
    # round 2 (WEB2 beside the failing WEB02-2) finished and WEB2 was started again; WEB3 never left its farm
    # (the two hosts of a round go side by side, in either order)
    assert sorted(host for event, host in events if event == "nlb.drainstop") == ["WEB02-1", "WEB02-2", "WEB1", "WEB2"], events
    agents = lab_now["windows"]["agents"]
    assert [agents[host]["version"] for host in FARMS["WEBFARM"]] == [VERSION, VERSION, None]
    assert [agents[host]["version"] for host in FARMS["WEBFARM02"]] == [VERSION, None, None]
    assert lab_now["windows"]["nlb"]["WEBFARM"] == dict((host, "Converged") for host in FARMS["WEBFARM"])
    assert lab_now["windows"]["nlb"]["WEBFARM02"]["WEB02-2"] != "Converged"

    lab_control(lab, "POST", "/faults/windows", {"clear": True})
    code, output = run(lab, RECOVER, tmp_path, window, "-e", "recover_vsphere=false")
    assert code == 0, output[-20000:]
    lab_now = status(lab)
    assert_farms_kept(lab_now)
    assert all(computer["network_engine_mode"] == "Inline" for computer in computers(lab_now).values())


@pytest.mark.lab
def test_stop_all_refuses_every_farm_before_any_change_when_one_is_refused(fresh_estate, tmp_path):
    lab = fresh_estate
    window = "CHG-NLB-REFUSE"
    before = status(lab)
    # WEB02-1 cannot read its NLB configuration once: WEBFARM02's plan has a blocker
    lab_control(lab, "POST", "/faults/windows", {"script_error_next": 1, "node": "WEB02-1", "marker": "nlb_cluster_info"})
    code, output = run(lab, ROLLOUT, tmp_path, window, "-e", "nlb_rollout_on_farm_failure=stop_all")
    assert code != 0
    assert ("window %s refused before any change" % window) in output
    assert "NLB farm WEBFARM02 of the window is refused (nlb_agent_rollout_on_farm_failure=stop_all)" in output, output[-8000:]
    estate_report = report(tmp_path, "%s-nlb_estate.json" % window)
    # WEBFARM could go, but with stop_all it is refused with its peer: nothing was changed on either
    assert [(farm["key"], farm["result"]) for farm in estate_report["clusters"]] == [
        ("WEBFARM", "refused"), ("WEBFARM02", "refused")]
    assert "nlb_agent_rollout_on_farm_failure=stop_all" in estate_report["clusters"][0]["message"]
    # nothing changed on either farm: no host left its farm, no agent, no Tap, no record
    lab_now = status(lab)
    assert nlb_events(lab_now, len(before["windows"]["events"])) == []
    assert lab_now["windows"]["agents"] == before["windows"]["agents"]
    assert dict((host, computer["network_engine_mode"]) for host, computer in computers(lab_now).items()) == dict(
        (host, computer["network_engine_mode"]) for host, computer in computers(before).items())
    assert_farms_kept(lab_now)
