"""VS-01 ... VS-05, each from its rule text (REFERENCE section 1): a healthy estate passes, the one
violation the rule names fails, and a missing fact is a finding, never a pass."""
from rules_facts import change, dsva, healthy, run

HOST0 = "vsphere_clusters.clusters.0.hosts.0"


def test_healthy_estate_has_no_finding():
    assert run() == []


# VS-01: a DSVA on every ESXi host of the cluster
def test_vs01_host_without_dsva_is_a_blocker():
    facts = change(healthy(), HOST0 + ".dsvas", [])
    [item] = run(facts, only="VS-01")
    assert item["severity"] == "blocker" and item["subject"] == "Prod/esx-1" and "dsva_placement" in item["remedy"]


def test_vs01_unknown_placement_is_not_a_pass():
    facts = change(healthy(), HOST0 + ".dsvas", None)
    [item] = run(facts, only="VS-01")
    assert item["severity"] == "blocker" and "unknown" in item["message"]


def test_vs01_powered_off_dsva_is_a_warning():
    facts = change(healthy(), "vsphere_clusters.clusters.0.dsvas.0", dsva("dsva-esx-1", "esx-1", power="poweredOff"))
    [item] = run(facts, only="VS-01")
    assert item["severity"] == "warning"


def test_vs01_cluster_declared_for_dsvas_without_any():
    facts = change(healthy(), "vsphere_clusters.clusters.1.dsvas", [])
    for index in (0, 1):
        facts = change(facts, "vsphere_clusters.clusters.1.hosts.%d.dsvas" % index, [])
    assert run(facts, only="VS-01") == []          # a cluster without DSVAs does not use them
    findings = run(facts, {"dsva_clusters": ["VDI"]}, only="VS-01")
    assert [f["subject"] for f in findings] == ["VDI/esx-11", "VDI/esx-12"]


# VS-02: at most one DSVA per host
def test_vs02_two_dsvas_on_one_host():
    facts = change(healthy(), HOST0 + ".dsvas", ["dsva-esx-1", "dsva-esx-2"])
    [item] = run(facts, only="VS-02")
    assert item["severity"] == "blocker" and item["evidence"]["dsvas"] == ["dsva-esx-1", "dsva-esx-2"]


def test_vs02_one_dsva_passes():
    assert run(only="VS-02") == []


# VS-03: the DSVA never moves (DRS disabled for it, HA restart priority disabled)
def test_vs03_unpinned_dsva():
    facts = change(healthy(), "vsphere_clusters.clusters.0.dsvas.1", dict(
        dsva("dsva-esx-2", "esx-2"), drs_disabled=False, pinned=False))
    [item] = run(facts, only="VS-03")
    assert item["severity"] == "blocker" and "DRS can migrate it" in item["message"]
    assert "HA" not in item["message"].split(":")[-1]


def test_vs03_ha_restart_not_disabled():
    facts = change(healthy(), "vsphere_clusters.clusters.0.dsvas.1", dict(
        dsva("dsva-esx-2", "esx-2"), ha_restart_disabled=False, pinned=False))
    [item] = run(facts, only="VS-03")
    assert "HA can restart it on another host" in item["message"]


def test_vs03_pin_state_unknown_is_a_blocker():
    facts = change(healthy(), "vsphere_clusters.clusters.0.dsvas.0",
                   {"name": "dsva-esx-1", "host": "esx-1", "power_state": "poweredOn"})
    [item] = run(facts, only="VS-03")
    assert item["severity"] == "blocker" and "unknown" in item["message"]


def test_vs03_vm_overrides_not_allowed_makes_pins_ineffective():
    facts = change(healthy(), "vsphere_clusters.clusters.0.drs.vm_overrides_allowed", False)
    [item] = run(facts, only="VS-03")
    assert item["subject"] == "Prod" and "does not allow" in item["message"]


def test_vs03_vm_overrides_unknown_is_not_a_pass():
    facts = healthy()
    del facts["vsphere_clusters"]["clusters"][0]["drs"]["vm_overrides_allowed"]
    [item] = run(facts, only="VS-03")
    assert "unknown" in item["message"]


# VS-04: Prepare ESX reboots the host: move the DSM and every other running VM off first
def test_vs04_dsm_on_a_host_to_prepare_is_a_blocker():
    findings = run(plan={"prepare_hosts": ["esx-1"]}, only="VS-04")
    assert [(f["severity"], f["subject"]) for f in findings] == [("blocker", "Prod/esx-1"), ("warning", "Prod/esx-1")]
    assert findings[0]["evidence"]["dsm_vms"] == ["dsm-01"] and "esx_prepare" in findings[0]["remedy"]
    assert findings[1]["evidence"]["powered_on_vms"] == ["app-esx-1"]   # its own DSVA stays


def test_vs04_empty_host_passes():
    facts = change(healthy(), "vsphere_clusters.clusters.0.hosts.1.powered_on_vms", ["dsva-esx-2"])
    assert run(facts, {"prepare_hosts": ["esx-2"]}, only="VS-04") == []


def test_vs04_no_plan_no_finding():
    assert run(only="VS-04") == []


def test_vs04_unknown_host():
    [item] = run(plan={"prepare_hosts": ["esx-99"]}, only="VS-04")
    assert item["severity"] == "warning" and "not in the gathered clusters" in item["message"]


def test_vs04_evacuation_record_left_behind_goes_to_recover():
    record = {"window": "CHG1", "since": "2026-01-01T00:00:00Z", "moved": []}
    facts = change(healthy(), HOST0 + ".evacuation", record)
    [item] = run(facts, only="VS-04")
    assert "recover" in item["remedy"]
    assert run(facts, {"running_windows": ["CHG1"]}, only="VS-04") == []


# VS-05: DRS manual around Horizon Recompose / Refresh / Rebalance
def test_vs05_automated_desktop_cluster_is_a_warning():
    facts = change(healthy(), "vsphere_clusters.clusters.1.drs.automation_level", "partiallyAutomated")
    [item] = run(facts, {"desktop_clusters": ["VDI"]}, only="VS-05")
    assert item["severity"] == "warning" and "horizon_window" in item["remedy"]


def test_vs05_manual_desktop_cluster_passes():
    assert run(plan={"desktop_clusters": ["VDI"]}, only="VS-05") == []


def test_vs05_only_desktop_clusters_are_judged():
    assert run(plan={"desktop_clusters": []}, only="VS-05") == []     # Prod is fullyAutomated, not a desktop cluster


def test_vs05_drs_window_left_behind():
    record = {"window": "CHG7", "original_level": "fullyAutomated", "owner": "ctl", "since": "x", "valid": True}
    facts = change(healthy(), "vsphere_clusters.clusters.0.drs_window", record)
    [item] = run(facts, only="VS-05")
    assert "recover" in item["remedy"] and "CHG7" in item["message"]
    assert run(facts, {"running_windows": ["CHG7"]}, only="VS-05") == []
