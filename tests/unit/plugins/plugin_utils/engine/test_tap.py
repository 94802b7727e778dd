"""When an NLB farm may go from Tap to Inline (rule NLB-03), from the Tap records its hosts carry
(plugin_utils/engine/tap.py)."""
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import tap

HOSTS = ["WEB1", "WEB2", "WEB3"]
NOW = 1795687200.0 + 3600  # 2026-11-26T11:00:00Z


def tap_record(host, since="2026-11-26T10:00:00Z", window_id="CHG1", data=None):
    return {host: [{"window": window_id, "change": "network_engine_mode", "since": since, "controller": "c",
                    "data": data if data is not None else {"previous_mode": "Inline"}}]}


def taps(*hosts, **kwargs):
    records = {}
    for host in hosts:
        records.update(tap_record(host, **kwargs))
    return records


def test_tap_records_are_this_windows_engine_mode_records():
    records = taps("WEB1")
    records["WEB2"] = [{"window": "chg1", "change": "nlb_node_stopped"}]
    records.update(tap_record("WEB3", window_id="OTHER"))
    assert list(tap.tap_records(records, "CHG1")) == ["WEB1"]
    assert tap.tap_records(None, "CHG1") == {}


def test_inline_refused_before_the_observation_time():
    check = tap.inline_check(taps("WEB1", "WEB2"), "CHG1", NOW, 7200, reviewed=True)
    assert not check["ready"] and check["observed_seconds"] == 3600
    assert "3600 s of the 7200 s observation" in check["reasons"][0] and "12:00:00Z" in check["reasons"][0]
    assert check["tap_since"] == "2026-11-26T10:00:00Z" and check["ready_at"] == NOW - 3600 + 7200


def test_inline_counts_from_the_last_tap_switch():
    records = taps("WEB1")
    records.update(tap_record("WEB2", since="2026-11-26T10:59:00.250Z"))
    check = tap.inline_check(records, "CHG1", NOW, 120, reviewed=True)
    assert not check["ready"] and check["observed_seconds"] == 59
    assert check["tap_since"] == "2026-11-26T10:59:00.250Z"


def test_inline_with_a_real_manager_needs_the_operator_review():
    check = tap.inline_check(taps(*HOSTS), "CHG1", NOW, 60)
    assert not check["ready"] and "cannot read firewall events" in check["reasons"][0]
    assert "nlb_agent_rollout_events_reviewed=true" in check["reasons"][0]
    assert tap.inline_check(taps(*HOSTS), "CHG1", NOW, 60, reviewed=True)["ready"]


def test_inline_refused_when_the_lab_shows_invalid_flags():
    check = tap.inline_check(taps(*HOSTS), "CHG1", NOW, 60, event_source="lab",
                             invalid_flags={"WEB1": 4, "WEB2": 0, "WEB3": 8})
    assert not check["ready"]
    assert "Invalid Flags (firewall event 101) since the Tap switch: WEB1 4, WEB3 8" in check["reasons"][0]
    ready = tap.inline_check(taps(*HOSTS), "CHG1", NOW, 60, event_source="lab",
                             invalid_flags={"WEB1": 0, "WEB2": 0, "WEB3": 0})
    assert ready["ready"] and ready["computers"] == HOSTS and ready["reasons"] == []


def test_inline_refused_when_a_count_could_not_be_read():
    check = tap.inline_check(taps("WEB1", "WEB2"), "CHG1", NOW, 60, event_source="lab", invalid_flags={"WEB1": 0})
    assert not check["ready"] and check["reasons"] == ["the Invalid Flags count could not be read for WEB2"]
    assert not tap.inline_check(taps("WEB1"), "CHG1", NOW, 60, event_source="lab")["ready"]


def test_inline_without_tap_records_has_nothing_to_do():
    check = tap.inline_check(taps("WEB1", window_id="OTHER"), "CHG1", NOW, 60, reviewed=True)
    assert not check["ready"] and check["nothing_to_do"]
    assert check["reasons"] == ["no host carries a Tap record of window CHG1: nothing to switch"]


def test_a_tap_record_without_a_readable_time_refuses_the_switch():
    records = taps("WEB1")
    records.update(tap_record("WEB2", since="yesterday"))
    check = tap.inline_check(records, "CHG1", NOW, 60, reviewed=True)
    assert not check["ready"] and "has no readable time" in check["reasons"][0]
    assert check["observed_seconds"] is None


def test_the_computers_are_the_hosts_own_never_a_records():
    """A record is trusted only for what it is about: the computer a Tap record's data names is never the one
    switched or counted; each host's computer comes from the host itself (``computers``)."""
    records = taps("web1-inventory", data={"previous_mode": "Tap", "computer": "DSM-SERVER"})
    check = tap.inline_check(records, "CHG1", NOW, 60, event_source="lab", invalid_flags={"WEB1": 0},
                             computers={"web1-inventory": "WEB1"})
    assert check["ready"] and check["computers"] == ["WEB1"] and check["previous_modes"] == {"WEB1": "Tap"}
    assert check["hosts"] == ["web1-inventory"]
    # without the hosts' own names, the inventory name stands for the computer, never the record's
    assert tap.inline_check(records, "CHG1", NOW, 60, reviewed=True)["computers"] == ["web1-inventory"]


def test_lab_invalid_flags_counts_only_after_the_first_tap_switch():
    since_ms = 1795687200000  # 2026-11-26T10:00:00Z
    status = {"nlb": {"WEB1": {"invalid_flags_log": [[since_ms - 1, 4], [since_ms, 4], [since_ms + 5000, 4]]},
                      "web2": {"invalid_flags_log": []}}}
    assert tap.lab_invalid_flags(status, taps("WEB1", "WEB2"), "CHG1") == {"WEB1": 8, "WEB2": 0}
    # the first switch counts, not each host's own
    later = taps("WEB1")
    later.update(tap_record("WEB2", since="2026-11-26T10:00:05Z"))
    assert tap.lab_invalid_flags(status, later, "CHG1")["WEB1"] == 8


def test_lab_invalid_flags_are_counted_for_the_hosts_own_computer_not_the_records():
    """The same rule as the switch: the record's ``data.computer`` is not trusted, the host's computer is."""
    since_ms = 1795687200000
    status = {"nlb": {"WEB1": {"invalid_flags_log": [[since_ms + 1, 3]]},
                      "DSM-SERVER": {"invalid_flags_log": [[since_ms + 1, 99]]}}}
    records = taps("web1-inventory", data={"previous_mode": "Inline", "computer": "DSM-SERVER"})
    assert tap.lab_invalid_flags(status, records, "CHG1", computers={"web1-inventory": "WEB1"}) == {"WEB1": 3}
    assert tap.lab_invalid_flags(None, records, "CHG1") == {"web1-inventory": 0}


def test_lab_invalid_flags_without_a_readable_switch_time_count_everything():
    status = {"nlb": {"WEB1": {"invalid_flags_log": [[5, 1], [6, 2]]}}}
    assert tap.lab_invalid_flags(status, taps("WEB1", since=""), "CHG1") == {"WEB1": 3}


def test_another_windows_record_or_a_host_left_out_keeps_the_farm_in_tap():
    records = taps(*HOSTS)
    records["WEB2"].append({"window": "CHG9", "change": "lease", "since": "2026-11-26T10:30:00Z"})
    records["WEB3"].append({"window": "CHG1", "change": "nlb_node_stopped", "since": "2026-11-26T10:40:00Z"})
    check = tap.inline_check(records, "CHG1", NOW, 60, reviewed=True)
    assert not check["ready"]
    assert [reason.split(" carries ")[0] for reason in check["reasons"]] == ["WEB2", "WEB3"]
    assert "a lease record of window CHG9" in check["reasons"][0]
    assert "a nlb_node_stopped record of window CHG1" in check["reasons"][1]
    # once they are gone the farm may switch
    assert tap.inline_check(taps(*HOSTS), "CHG1", NOW, 60, reviewed=True)["ready"]
