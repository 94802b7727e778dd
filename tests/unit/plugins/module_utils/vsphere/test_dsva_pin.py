import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.dsva_pin import (
    overrides_flag_change,
    plan_pins,
)

A = {"moid": "vm-1", "name": "dsva-a"}
B = {"moid": "vm-2", "name": "dsva-b"}


def test_missing_overrides_are_added():
    changes = plan_pins([A], [], [], "present")
    assert changes == [{"kind": "drs", "operation": "add", "vm": "dsva-a", "moid": "vm-1"},
                       {"kind": "ha", "operation": "add", "vm": "dsva-a", "moid": "vm-1"}]


def test_only_what_differs_is_edited():
    drs = [{"vm": "dsva-a", "moid": "vm-1", "enabled": False, "behavior": None},
           {"vm": "dsva-b", "moid": "vm-2", "enabled": True, "behavior": "manual"}]
    ha = [{"vm": "dsva-a", "moid": "vm-1", "restart_priority": "high"},
          {"vm": "dsva-b", "moid": "vm-2", "restart_priority": "disabled"}]
    assert plan_pins([A, B], drs, ha, "present") == [
        {"kind": "ha", "operation": "edit", "vm": "dsva-a", "moid": "vm-1"},
        {"kind": "drs", "operation": "edit", "vm": "dsva-b", "moid": "vm-2"},
    ]


def test_pinned_is_idempotent():
    drs = [{"vm": "dsva-a", "moid": "vm-1", "enabled": False, "behavior": None}]
    ha = [{"vm": "dsva-a", "moid": "vm-1", "restart_priority": "disabled"}]
    assert plan_pins([A], drs, ha, "present") == []


def test_absent_removes_only_existing_and_leaves_other_vms():
    drs = [{"vm": "dsva-a", "moid": "vm-1", "enabled": False, "behavior": None},
           {"vm": "sql", "moid": "vm-9", "enabled": False, "behavior": None}]
    assert plan_pins([A], drs, [], "absent") == [{"kind": "drs", "operation": "remove", "vm": "dsva-a", "moid": "vm-1"}]


def test_override_of_a_same_named_vm_elsewhere_does_not_count():
    # another folder holds a VM also called dsva-a, already excluded from DRS: ours still needs its own
    drs = [{"vm": "dsva-a", "moid": "vm-77", "enabled": False, "behavior": None}]
    ha = [{"vm": "dsva-a", "moid": "vm-77", "restart_priority": "disabled"}]
    assert [c["operation"] for c in plan_pins([A], drs, ha, "present")] == ["add", "add"]


def test_pinning_needs_the_cluster_to_honour_vm_overrides():
    assert overrides_flag_change({"vm_overrides_allowed": True}, "present", True) is False
    assert overrides_flag_change({"vm_overrides_allowed": None}, "present", True) is False
    assert overrides_flag_change({"vm_overrides_allowed": False}, "present", True) is True
    assert overrides_flag_change({"vm_overrides_allowed": False}, "absent", False) is False
    with pytest.raises(ParameterError) as caught:
        overrides_flag_change({"vm_overrides_allowed": False}, "present", False)
    assert "enableVmBehaviorOverrides" in caught.value.message and "enable_vm_overrides" in caught.value.message
