import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import HeldError, ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window import plan_window

NOW = "2026-11-26T07:00:00+00:00"


def record(window="W1", original="fullyAutomated", owner="ops@ctl1"):
    return {"window": window, "original_level": original, "owner": owner, "since": "2026-11-25T22:00:00+00:00",
            "valid": True}


def plan(state, current, existing, window="W1", force=False):
    return plan_window("Prod", state, window, current, existing, "me@ctl2", NOW, force)


def test_manual_saves_original_before_setting_manual():
    result = plan("manual", "fullyAutomated", None)
    assert result.write_record == {"window": "W1", "original_level": "fullyAutomated", "owner": "me@ctl2", "since": NOW}
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
    assert "valid" not in result.write_record


def test_restore_puts_original_back_and_clears():
    result = plan("restored", "manual", record(original="partiallyAutomated"))
    assert result.set_level == "partiallyAutomated" and result.clear_record


def test_restore_after_crash_between_level_and_clear_only_clears():
    result = plan("restored", "fullyAutomated", record(original="fullyAutomated"))
    assert result.set_level is None and result.clear_record and result.changed


def test_restore_without_record_is_unchanged():
    assert not plan("restored", "fullyAutomated", None).changed


def test_restore_of_foreign_window_needs_force():
    with pytest.raises(HeldError):
        plan("restored", "manual", record(window="X"))
    assert plan("restored", "manual", record(window="X"), force=True).set_level == "fullyAutomated"


@pytest.mark.parametrize("bad", [{"valid": False, "raw": "garbage"}, dict(record(), original_level="sometimes")])
def test_untrustworthy_record_refused(bad):
    with pytest.raises(ParameterError):
        plan("restored", "manual", bad)


def test_window_id_required():
    with pytest.raises(ParameterError) as caught:
        plan("manual", "manual", None, window="")
    assert "window" in caught.value.message
