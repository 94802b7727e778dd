from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.dsva_pin import plan_pins


def test_missing_overrides_are_added():
    changes = plan_pins(["dsva-a"], [], [], "present")
    assert changes == [{"kind": "drs", "operation": "add", "vm": "dsva-a"},
                       {"kind": "ha", "operation": "add", "vm": "dsva-a"}]


def test_only_what_differs_is_edited():
    drs = [{"vm": "dsva-a", "enabled": False, "behavior": None}, {"vm": "dsva-b", "enabled": True, "behavior": "manual"}]
    ha = [{"vm": "dsva-a", "restart_priority": "high"}, {"vm": "dsva-b", "restart_priority": "disabled"}]
    assert plan_pins(["dsva-a", "dsva-b"], drs, ha, "present") == [
        {"kind": "ha", "operation": "edit", "vm": "dsva-a"},
        {"kind": "drs", "operation": "edit", "vm": "dsva-b"},
    ]


def test_pinned_is_idempotent():
    drs = [{"vm": "dsva-a", "enabled": False, "behavior": None}]
    ha = [{"vm": "dsva-a", "restart_priority": "disabled"}]
    assert plan_pins(["dsva-a"], drs, ha, "present") == []


def test_absent_removes_only_existing_and_leaves_other_vms():
    drs = [{"vm": "dsva-a", "enabled": False, "behavior": None}, {"vm": "sql", "enabled": False, "behavior": None}]
    assert plan_pins(["dsva-a"], drs, [], "absent") == [{"kind": "drs", "operation": "remove", "vm": "dsva-a"}]
