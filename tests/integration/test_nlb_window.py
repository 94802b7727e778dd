"""The NLB farm window end to end against the lab (rules NLB-01 ... NLB-03): check mode changes nothing;
the rollout leaves the three web hosts at the version, active, Intrusion Prevention off, the heartbeat
and virtual-IP bypass pairs in effect, in Tap, never fewer than the minimum Converged; nlb_inline refuses
before the observation time, then goes Inline with no Invalid Flags; a second run changes nothing.
Negative control: without exclusions the lab logs Invalid Flags and the farm stays in Tap, saying why;
recover puts the previous mode back."""
import json
import os
import re

import pytest

from conftest import ROOT, lab_control
from test_playbooks import run_playbook

ROLLOUT = os.path.join(ROOT, "playbooks", "nlb_agent_rollout.yml")
INLINE = os.path.join(ROOT, "playbooks", "nlb_inline.yml")
RECOVER = os.path.join(ROOT, "playbooks", "recover.yml")
INVENTORY = os.path.join(ROOT, "tests", "lab", "inventory.yml")
LAB_VARS = os.path.join(ROOT, "tests", "integration", "nlb", "lab_vars.yml")
HOSTS = ("WEB1", "WEB2", "WEB3")
WINDOW = "LAB-NLB-1"
SECRET_KEYS = ("VMWARE_PASSWORD", "WINRM_PASSWORD", "DSM_API_KEY", "CLUSTERSAFE_LAB_ACTIVATION_TOKEN")


def run(lab, playbook, report_dir, *extra):
    result = run_playbook(lab, playbook, "-i", INVENTORY, "-e", "@%s" % LAB_VARS,
                          "-e", "nlb_agent_rollout_report_dir=%s" % report_dir, *extra)
    output = result.stdout + result.stderr
    for key in SECRET_KEYS:
        assert lab[key] not in output, key
    return result.returncode, output


def changed_count(output):
    """Changes across every host of the play recap (the farm's play host and localhost)."""
    recap = output.rsplit("PLAY RECAP", 1)[-1]
    return sum(int(count) for count in re.findall(r"^\S+\s+: ok=\d+\s+changed=(\d+)", recap, re.M))


def status(lab):
    return lab_control(lab, "GET", "/status")


def farm_computers(document):
    return dict((item["host_name"], item) for item in document["dsm"]["computers"] if item["host_name"] in HOSTS)


def window_records(document, change=None):
    return dict((host, [r for r in document["windows"]["window_records"][host] if change in (None, r["change"])])
                for host in HOSTS)


@pytest.mark.lab
def test_nlb_window_end_to_end(fresh_lab, tmp_path):
    lab = fresh_lab
    before = status(lab)

    code, output = run(lab, ROLLOUT, tmp_path, "--check")
    assert code == 0, output[-20000:]
    assert "NLB farm WEBFARM: 3 host(s) to maintain, in this order: WEB1 -> WEB2 -> WEB3" in output and "**planned**" in output
    after_check = status(lab)
    assert after_check["windows"]["agents"] == before["windows"]["agents"]
    assert farm_computers(after_check) == {} and after_check["dsm"]["rules"] == before["dsm"]["rules"]
    assert all(not records for records in window_records(after_check).values())

    code, output = run(lab, ROLLOUT, tmp_path)
    assert code == 0, output[-20000:]
    report = json.load(open(os.path.join(str(tmp_path), "%s-nlb_agent_rollout.json" % WINDOW)))
    assert report["result"] == "succeeded" and [n["outcome"] for n in report["nodes"]] == ["changed"] * 3
    lab_now = status(lab)
    windows = lab_now["windows"]
    assert all(windows["agents"][host]["version"] == "20.0.1-690" and windows["agents"][host]["activated"]
               for host in HOSTS)
    # never fewer than all-but-one Converged at any moment (the lab records the fewest), all back now
    assert windows["nlb_converged"]["WEBFARM"] == {"hosts": 3, "min": 2, "now": 3}
    assert report["nlb"]["fewest_converged_seen"] == 2
    # each agent step happened with its host out of the farm: no blip dropped farm connections
    assert [b for b in windows["blips"] if "nlb" in b["effect"]] == []
    computers = farm_computers(lab_now)
    for host in HOSTS:
        computer = computers[host]
        assert computer["agent_status"] == "active" and computer["agent_version"] == "20.0.1-690"
        assert computer["intrusion_prevention"] == "off"
        assert computer["heartbeat_exclusion"] is True and computer["vip_tcp_ports_judged"] == []
        assert computer["network_engine_mode"] == "Tap"
        assert lab_now["dsm"]["nlb"][host]["invalid_flags_events"] == 0
    tap = window_records(lab_now, "network_engine_mode")
    assert all(len(tap[host]) == 1 and json.loads(tap[host][0]["data"]) == {"previous_mode": "Inline", "own_setting": False}
               for host in HOSTS)
    assert [r["change"] for host in HOSTS for r in window_records(lab_now)[host]] == ["network_engine_mode"] * 3

    # NLB-03: not before the observation time
    code, output = run(lab, INLINE, tmp_path, "-e", "nlb_inline_observation_seconds=3600")
    assert code != 0 and "the farm stays in Tap" in output and "of the 3600 s observation" in output
    assert all(c["network_engine_mode"] == "Tap" for c in farm_computers(status(lab)).values())

    code, output = run(lab, INLINE, tmp_path, "-e", "nlb_inline_observation_seconds=1", "--check")
    assert code == 0, output[-20000:]
    assert all(c["network_engine_mode"] == "Tap" for c in farm_computers(status(lab)).values())

    code, output = run(lab, INLINE, tmp_path, "-e", "nlb_inline_observation_seconds=1")
    assert code == 0, output[-20000:]
    assert "- Switched to Inline: yes" in output
    lab_now = status(lab)
    for host, computer in farm_computers(lab_now).items():
        assert computer["network_engine_mode"] == "Inline"
        assert lab_now["dsm"]["nlb"][host]["invalid_flags_events"] == 0
    assert all(not records for records in window_records(lab_now).values())
    assert lab_now["windows"]["nlb"]["WEBFARM"] == dict((host, "Converged") for host in HOSTS)

    # a second run of either changes nothing
    code, output = run(lab, ROLLOUT, tmp_path)
    assert code == 0 and changed_count(output) == 0, output[-20000:]
    assert "NLB farm WEBFARM: 0 host(s) to maintain" in output
    code, output = run(lab, INLINE, tmp_path, "-e", "nlb_inline_observation_seconds=1")
    assert code == 0 and changed_count(output) == 0, output[-20000:]
    assert farm_computers(status(lab)) == dict((h, c) for h, c in farm_computers(lab_now).items())


@pytest.mark.lab
def test_without_exclusions_the_farm_stays_in_tap_and_recover_puts_the_mode_back(fresh_lab, tmp_path):
    lab = fresh_lab
    code, output = run(lab, ROLLOUT, tmp_path, "-e", "nlb_rollout_exclusions=false")
    assert code == 0, output[-20000:]
    assert "NO NLB exclusions" in output
    lab_now = status(lab)  # each status read is one tick of farm traffic in the lab
    assert all(lab_now["dsm"]["nlb"][host]["invalid_flags_events"] > 0 for host in HOSTS)
    assert all(lab_now["dsm"]["nlb"][host]["invalid_flags_blocked"] == 0 for host in HOSTS)  # Tap only logs

    code, output = run(lab, INLINE, tmp_path, "-e", "nlb_inline_observation_seconds=1")
    assert code != 0
    assert "the farm stays in Tap" in output and "Invalid Flags (firewall event 101) since the Tap switch: WEB1" in output
    report = json.load(open(os.path.join(str(tmp_path), "%s-nlb_inline.json" % WINDOW)))
    assert report["result"] == "refused" and not report["nlb"]["inline"]["ready"]
    assert all(c["network_engine_mode"] == "Tap" for c in farm_computers(status(lab)).values())

    code, output = run(lab, RECOVER, tmp_path, "-e", "recover_window=%s" % WINDOW, "-e", "recover_vsphere=false",
                       "-e", "{\"recover_windows_hosts\": [\"WEB1\", \"WEB2\", \"WEB3\"]}")
    assert code == 0, output[-20000:]
    lab_now = status(lab)
    assert all(c["network_engine_mode"] == "Inline" for c in farm_computers(lab_now).values())
    assert all(not records for records in window_records(lab_now).values())
