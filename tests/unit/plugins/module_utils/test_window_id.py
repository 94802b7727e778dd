"""One window id rule for every record a window writes (DRS record, Windows node records)."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window import plan_window
from ansible_collections.clustersafe.deep_security.plugins.module_utils.window_id import validate_window_id


@pytest.mark.parametrize("window", ["CHG0012345", "CHG-100", "2026-11-26", "sql.patch_2", "a", "9" * 64])
def test_accepts_change_numbers_dates_and_dotted_names(window):
    assert validate_window_id(window) == window


@pytest.mark.parametrize("window", ["", None, "a\\b", "a/b", "CHG 1", "*", "CHG[1]", "..", ".hidden", "-x",
                                    "x" * 65, "ÄNDERUNG1", "CHG1\n", 12])
def test_refuses_what_cannot_be_a_registry_key_name_everywhere(window):
    with pytest.raises(ParameterError) as error:
        validate_window_id(window)
    assert "parameter window" in error.value.message


def test_message_names_the_rule_and_an_example():
    with pytest.raises(ParameterError) as error:
        validate_window_id("CHG 12/3")
    assert "'CHG 12/3'" in error.value.message and "CHG0012345" in error.value.message
    assert "64 characters" in error.value.message


def test_the_drs_window_uses_the_same_rule():
    with pytest.raises(ParameterError) as error:
        plan_window("C1", "manual", "CHG\\1", "fullyAutomated", None, "me@ctl", "2026-11-26T00:00:00+00:00")
    assert "not a valid window id" in error.value.message
