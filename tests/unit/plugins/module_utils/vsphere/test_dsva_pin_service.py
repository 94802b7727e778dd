"""What the DSVA pin service shows before and after (the reconfigure is covered against the lab's vCenter)."""
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.dsva_pin_service import override_view


def test_the_view_shows_each_dsva_and_only_its_own_overrides():
    cluster = {"drs_vm_overrides": [{"moid": "vm-1", "enabled": False}, {"moid": "vm-9", "enabled": True}],
               "ha_vm_overrides": [{"moid": "vm-2", "restart_priority": "disabled"}]}
    view = override_view(cluster, [{"moid": "vm-1", "name": "dsva-esx-01"}, {"moid": "vm-2", "name": "dsva-esx-02"}])
    assert view == {"vm-1": {"vm": "dsva-esx-01", "drs_enabled": False, "ha_restart_priority": None},
                    "vm-2": {"vm": "dsva-esx-02", "drs_enabled": None, "ha_restart_priority": "disabled"}}
