"""A window over several clusters or farms where one of them is refused: the others go on exactly as when every
unit may go, DRS held around their nodes and their farms prepared (exclusions, known computers in Tap)."""
import pytest
from engine_lab import VcenterModel, new_lab, nlb_settings, records, run_window, status, wsfc_settings

CLUSTER_1 = ("SQL-NODE1", "SQL-NODE2", "SQL-NODE3")
CLUSTER_2 = ("SQL02-NODE1", "SQL02-NODE2", "SQL02-NODE3")
FARM_1 = ("WEB1", "WEB2", "WEB3")
FARM_2 = ("WEB02-1", "WEB02-2", "WEB02-3")


@pytest.fixture
def lab(tmp_path):
    return new_lab(tmp_path, failover_clusters=2, nlb_farms=2)


@pytest.fixture
def vcenter(lab):
    return VcenterModel(lab.topology)


def test_a_refused_failover_cluster_does_not_keep_drs_from_being_held_for_the_others(lab, vcenter):
    levels_before = dict((name, item["level"]) for name, item in vcenter.clusters.items())
    lab.windows.set_faults({"script_error_next": 1, "node": "SQL02-NODE2", "marker": "mscs_cluster_info"})
    result, _window = run_window(lab, vcenter, settings=wsfc_settings(nodes=list(CLUSTER_1 + CLUSTER_2)))
    reports = result["reports"]
    assert reports["SQLCLU02"]["result"] == "refused" and reports["SQLCLU01"]["result"] == "succeeded", reports
    # the vSphere cluster of SQLCLU01's node VMs held at manual before its first node, given back after its last
    held = [call for call in vcenter.calls if call[2] == "manual"]
    drs = reports["SQLCLU01"]["drs"]
    assert held and [call[0] for call in held] == [entry["cluster"] for entry in drs], (vcenter.calls, drs)
    assert all(entry["during"] == "manual" for entry in drs), drs
    assert dict((name, item["level"]) for name, item in vcenter.clusters.items()) == levels_before
    assert all(item["record"] is None for item in vcenter.clusters.values())
    # the refused cluster was not touched; nothing is left anywhere
    assert all(status(lab)["agents"][node]["version"] is None for node in CLUSTER_2)
    assert records(lab) == {}


def test_a_refused_farm_does_not_keep_the_others_from_their_exclusions_and_tap(lab, vcenter):
    lab.windows.set_faults({"script_error_next": 1, "node": "WEB02-2", "marker": "nlb_cluster_info"})
    result, _window = run_window(lab, vcenter, kind="nlb", settings=nlb_settings(nodes=list(FARM_1 + FARM_2)))
    reports = result["reports"]
    assert reports["WEBFARM02"]["result"] == "refused" and reports["WEBFARM"]["result"] == "succeeded", reports
    assert reports["WEBFARM"]["nlb"]["exclusion_rules"], reports["WEBFARM"]["nlb"]
    computers = dict((item["host_name"], item) for item in lab.dsm.status()["computers"])
    for host in FARM_1:
        assert computers[host]["network_engine_mode"] == "Tap" and computers[host]["heartbeat_exclusion"], host
    assert not any(host in computers for host in FARM_2)
