import pytest

import datetime
import json

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import HeldError, ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window import plan_window
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.records import RecordRefusedError, read_record

NOW = "2026-11-26T07:00:00+00:00"


def record(window="W1", original="fullyAutomated", owner="ops@ctl1"):
    return {"window": window, "original_level": original, "owner": owner, "since": "2026-11-25T22:00:00+00:00",
            "valid": True}


def plan(state, current, existing, window="W1", force=False, saved=None):
    return plan_window("Prod", state, window, current, existing, "me@ctl2", NOW, force, saved_level=saved,
                       user="VSPHERE.LOCAL\\svc-ds")


def test_manual_saves_original_before_setting_manual():
    result = plan("manual", "fullyAutomated", None)
    assert result.write_record == {"window": "W1", "original_level": "fullyAutomated", "owner": "me@ctl2", "since": NOW,
                                   "held_since": NOW, "vcenter_user": "VSPHERE.LOCAL\\svc-ds"}
    assert result.set_level == "manual"
    assert result.changed


def test_manual_on_already_manual_cluster_still_records_so_restore_is_exact():
    result = plan("manual", "manual", None)
    assert result.write_record["original_level"] == "manual"
    assert result.set_level is None
    assert result.changed


def test_second_manual_run_of_same_window_changes_nothing():
    assert not plan("manual", "manual", record()).changed


def test_manual_reapplied_when_someone_changed_drs_during_window():
    result = plan("manual", "partiallyAutomated", record())
    assert result.set_level == "manual" and result.write_record is None


def test_foreign_window_holds_cluster_and_names_holder():
    with pytest.raises(HeldError) as caught:
        plan("manual", "manual", record(window="CHG-OTHER", owner="alice@ctl9"))
    assert "CHG-OTHER" in caught.value.message and "alice@ctl9" in caught.value.message
    assert caught.value.details["held_by"] == "CHG-OTHER"


def test_force_takeover_keeps_original_level_never_manual():
    result = plan("manual", "manual", record(window="CHG-OTHER", original="partiallyAutomated"), force=True)
    assert result.write_record["original_level"] == "partiallyAutomated"
    assert result.write_record["window"] == "W1"
    assert result.write_record["taken_over_from"] == "CHG-OTHER"
    # the time DRS was first held stays, so a restore still finds the reconfiguration that held it
    assert result.write_record["held_since"] == "2026-11-25T22:00:00+00:00"
    assert "valid" not in result.write_record


def test_restore_puts_original_back_and_clears_once_vcenter_ties_the_window():
    result = plan("restored", "manual", record(original="partiallyAutomated"))
    assert result.set_level == "partiallyAutomated" and result.clear_record
    # the level comes from the record alone: vCenter's events must show this account holding DRS since then
    assert result.tie_since == datetime.datetime(2026, 11, 25, 21, 55, tzinfo=datetime.timezone.utc)


def test_the_level_the_window_saved_wins_over_a_changed_record():
    # a DRS record with another level than the one the window saved: the window's own controller still has it
    result = plan("restored", "manual", record(original="fullyAutomated"), saved="partiallyAutomated")
    assert result.set_level == "partiallyAutomated" and result.tie_since is None
    assert "partiallyAutomated is put back" in result.warnings[0] and "fullyAutomated" in result.warnings[0]
    with pytest.raises(ParameterError):
        plan("restored", "manual", record(), saved="sometimes")


def test_a_level_someone_set_during_the_window_is_left_and_the_record_kept():
    with pytest.raises(RecordRefusedError) as caught:
        plan("restored", "partiallyAutomated", record(original="fullyAutomated"))
    assert "not manual" in caught.value.message and "left as it is" in caught.value.message


def test_restore_after_crash_between_level_and_clear_only_clears():
    result = plan("restored", "fullyAutomated", record(original="fullyAutomated"))
    assert result.set_level is None and result.clear_record and result.changed


def test_restore_without_record_is_unchanged():
    assert not plan("restored", "fullyAutomated", None).changed


def test_restore_of_foreign_window_needs_force():
    with pytest.raises(HeldError):
        plan("restored", "manual", record(window="X"))
    assert plan("restored", "manual", record(window="X"), force=True).set_level == "fullyAutomated"


@pytest.mark.parametrize("change", [{"original_level": "sometimes"}, {"original_level": None}, {"window": "W1/../x"},
                                    {"since": "2026-11-25"}, {"held_since": 7}, {"owner": ""}, {"owner": "a\u202eb"},
                                    {"taken_over_from": "a b"}, {"extra": True}])
def test_untrustworthy_record_refused_and_left_alone(change):
    bad = read_record(json.dumps(dict(record(), valid=None, **change)), "clustersafe.drs_window")
    assert bad["valid"] is False
    with pytest.raises(RecordRefusedError) as caught:
        plan("restored", "manual", bad)
    assert "Prod" in caught.value.message and "not acted on" in caught.value.message
    with pytest.raises(RecordRefusedError):
        plan("manual", "manual", bad)


def test_window_id_required():
    with pytest.raises(ParameterError) as caught:
        plan("manual", "manual", None, window="")
    assert "window" in caught.value.message


# --- the window's lease on the cluster (safety invariant 9) -------------------------------------------------------

VCENTER_NOW = datetime.datetime(2026, 11, 26, 7, 0, 0, tzinfo=datetime.timezone.utc)
LEASE = {"run": "0123456789abcdef", "expires": "2026-11-26T07:05:00+00:00"}


def leased(expires="2026-11-26T07:05:00+00:00", run="0123456789abcdef", window="W1"):
    return dict(record(window=window), run=run, expires=expires)


def test_a_hold_with_a_lease_writes_it_with_the_record():
    result = plan_window("Prod", "manual", "W1", "fullyAutomated", None, "me", NOW, lease=LEASE)
    assert result.write_record["run"] == LEASE["run"] and result.write_record["expires"] == LEASE["expires"]
    assert result.set_level == "manual"


def test_holding_again_renews_the_lease_and_keeps_the_original_level():
    later = {"run": LEASE["run"], "expires": "2026-11-26T07:10:00+00:00"}
    result = plan_window("Prod", "manual", "W1", "manual", leased(), "me", NOW, lease=later)
    assert result.write_record["expires"] == later["expires"] and result.set_level is None
    assert result.write_record["original_level"] == "fullyAutomated" and "valid" not in result.write_record
    assert "lease renewed" in result.message
    # the same lease again is no change
    assert not plan_window("Prod", "manual", "W1", "manual", leased(), "me", NOW, lease=LEASE).changed


def test_a_take_over_drops_the_old_holders_lease():
    result = plan_window("Prod", "manual", "W2", "manual", leased(), "me", NOW, force=True)
    assert "run" not in result.write_record and "expires" not in result.write_record


@pytest.mark.parametrize("take_over", ["", "fedcba9876543210"])
def test_recover_leaves_a_record_whose_lease_runs_and_names_its_run(take_over):
    with pytest.raises(HeldError) as raised:
        plan_window("Prod", "restored", "W1", "manual", leased(), "recover", NOW, respect_lease=True,
                    vcenter_now=VCENTER_NOW, take_over=take_over)
    assert "window W1 still runs" in raised.value.message and "take_over=0123456789abcdef" in raised.value.message


@pytest.mark.parametrize("existing, take_over", [
    (leased(expires="2026-11-26T06:59:59+00:00"), ""),   # expired by vCenter's clock: its window died
    (leased(), "0123456789abcdef"),                        # the operator names the run
    (record(), ""),                                        # a record without a lease: as before
])
def test_recover_restores_an_expired_lease_or_the_one_named(existing, take_over):
    result = plan_window("Prod", "restored", "W1", "manual", existing, "recover", NOW, respect_lease=True,
                         vcenter_now=VCENTER_NOW, take_over=take_over, saved_level="fullyAutomated")
    assert result.set_level == "fullyAutomated" and result.clear_record


def test_the_windows_own_close_restores_whatever_its_lease_says():
    result = plan_window("Prod", "restored", "W1", "manual", leased(), "me", NOW, saved_level="fullyAutomated")
    assert result.set_level == "fullyAutomated"


def test_a_lease_field_that_is_not_what_a_window_writes_refuses_the_record():
    raw = json.dumps({"window": "W1", "original_level": "fullyAutomated", "owner": "x", "since": NOW,
                      "run": "NOT-A-RUN", "expires": "tomorrow"})
    found = read_record(raw, "clustersafe.drs_window")
    assert not found["valid"]
    assert any("run" in problem for problem in found["problems"]) and any("expires" in p for p in found["problems"])


def test_a_window_that_could_not_give_drs_back_ends_its_lease_and_keeps_the_rest():
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window import plan_end_lease
    vcenter_now = datetime.datetime(2026, 11, 26, 7, 1, 30, 500, tzinfo=datetime.timezone.utc)
    held = dict(leased(), held_since=NOW)
    result = plan_end_lease("Prod", "W1", held, "0123456789abcdef", vcenter_now)
    assert result.set_level is None and not result.clear_record
    # the record as it was but for the expiry, now by vCenter's clock: recover may put the level back without the run
    assert dict(held, expires="2026-11-26T07:01:30+00:00", valid=True) == dict(result.write_record, valid=True)
    for other in (plan_end_lease("Prod", "W1", held, "fedcba9876543210", vcenter_now),      # another run's lease
                  plan_end_lease("Prod", "W2", held, "0123456789abcdef", vcenter_now),      # another window's record
                  plan_end_lease("Prod", "W1", None, "0123456789abcdef", vcenter_now),      # no record
                  plan_end_lease("Prod", "W1", held, "0123456789abcdef",                   # already expired
                                 datetime.datetime(2026, 11, 26, 7, 6, tzinfo=datetime.timezone.utc))):
        assert not other.changed, other.message
    # the window's own close names no run: the lease in its record ends
    assert plan_end_lease("Prod", "W1", held, None, vcenter_now).write_record["expires"] == "2026-11-26T07:01:30+00:00"
