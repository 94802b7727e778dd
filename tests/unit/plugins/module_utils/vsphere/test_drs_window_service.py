"""The DRS window service's own decisions (the vCenter side is covered against the lab's vCenter)."""
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window_service import (
    public_record,
    vms_still_automated,
)


def cluster(enabled=True, overrides_honoured=True, overrides=()):
    return {"drs": {"enabled": enabled, "vm_overrides_allowed": overrides_honoured,
                    "automation_level": "fullyAutomated"},
            "drs_vm_overrides": list(overrides)}


OVERRIDES = [{"vm": "desk-1", "moid": "vm-1", "enabled": None, "behavior": "fullyAutomated"},
             {"vm": "desk-2", "moid": "vm-2", "enabled": False, "behavior": "fullyAutomated"},
             {"vm": "desk-3", "moid": "vm-3", "enabled": True, "behavior": "manual"}]


def test_only_enabled_fully_automated_overrides_keep_moving():
    assert vms_still_automated(cluster(overrides=OVERRIDES)) == [{"vm": "desk-1", "moid": "vm-1"}]


def test_overrides_do_not_count_when_drs_is_off():
    assert vms_still_automated(cluster(enabled=False, overrides=OVERRIDES)) == []


def test_the_public_record_drops_the_parser_flag():
    assert public_record({"window": "CHG1", "valid": True}) == {"window": "CHG1"}
    assert public_record(None) is None


def test_overrides_do_not_count_when_the_cluster_ignores_them():
    assert vms_still_automated(cluster(overrides_honoured=False, overrides=OVERRIDES)) == []
