"""The vSphere windows end to end against the lab, through their playbooks: esx_prepare (VS-04) on the host
that runs dsm-01, a controller killed in the middle and undone by recover, dsva_placement (VS-01 ... VS-03),
horizon_window (VS-05) and dsva_guest_activation (MS-05). Each role: check mode changes nothing, a second run
changes nothing (where the role can know that nothing is left to do).

vCenter's state is read with pyVmomi directly, not through the collection."""
import json
import os
import ssl

import pytest

from conftest import ROOT, lab_control
from test_playbooks import run_playbook
from test_wsfc_window import INVENTORY, RECOVER, assert_no_secret, recap_changed, run_until_task

PLAYBOOKS = os.path.join(ROOT, "playbooks")
SUPPORT = os.path.join(ROOT, "tests", "integration", "playbooks", "support")
DSM_HOST = "esx-01.lab.local"  # tests/lab/topology.yml: dsm-01 runs there


def vcenter_state(lab):
    """Every host (maintenance mode, custom values), VM (host, power state) and cluster override."""
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim
    context = ssl.create_default_context(cafile=lab["SSL_CERT_FILE"])
    service = SmartConnect(host=lab["VMWARE_HOST"], port=int(lab["VMWARE_PORT"]), user=lab["VMWARE_USER"],
                           pwd=lab["VMWARE_PASSWORD"], sslContext=context)
    try:
        content = service.RetrieveContent()
        fields = dict((field.key, field.name) for field in content.customFieldsManager.field)
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.ClusterComputeResource], True)
        state = {"hosts": {}, "vms": {}, "clusters": {}}
        for cluster in view.view:
            config = cluster.configurationEx
            state["clusters"][cluster.name] = {
                "drs": config.drsConfig.defaultVmBehavior,
                "drs_overrides": sorted((item.key.name, item.enabled) for item in config.drsVmConfig),
                "ha_overrides": sorted((item.key.name, item.dasSettings.restartPriority) for item in config.dasVmConfig),
                "custom": dict((fields.get(value.key), value.value) for value in cluster.customValue if value.value)}
            for host in cluster.host:
                state["hosts"][host.name] = {
                    "maintenance": host.runtime.inMaintenanceMode,
                    "custom": dict((fields.get(value.key), value.value) for value in host.customValue if value.value)}
                for vm in host.vm:
                    state["vms"][vm.name] = (host.name, vm.runtime.powerState)
        return state
    finally:
        Disconnect(service)


def running_dsva_hosts(state):
    return set(host for name, (host, power) in state["vms"].items() if name.startswith("dsva-") and power == "poweredOn")


def dsvas_known_to_the_dsm(lab, *hosts):
    """The DSM shows the DSVAs of these hosts active (the lab's DSM knows computers only once they are activated,
    so their activation is published to it, as an appliance deployed and activated through the DSM would be)."""
    lab_control(lab, "POST", "/faults/dsm", {"publish": [
        {"event": "agent.activated", "host_name": "dsva-%s" % host, "agent_version": "20.0.1-690", "policy_id": 1,
         "dsm_url": "dsm://127.0.0.1:4120/"} for host in hosts]})


def prepare_args(tmp_path, *extra, **options):
    args = ["-i", INVENTORY, "-e", "esx_prepare_cluster=Prod-Cluster", "-e", '{"esx_prepare_hosts": ["%s"]}' % DSM_HOST,
            "-e", "esx_prepare_window=CHG-ESX", "-e", "esx_prepare_report_dir=%s" % tmp_path,
            "-e", "esx_prepare_check_tasks=%s" % os.path.join(SUPPORT, "esx_prepare_check.yml"),
            "-e", "esx_prepare_marker_dir=%s" % tmp_path]
    if options.get("step", True):
        args += ["-e", "esx_prepare_tasks=%s" % os.path.join(SUPPORT, "esx_prepare_step.yml")]
    return args + list(extra)


def ok(result):
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    return output


@pytest.mark.lab
def test_esx_prepare_moves_the_dsm_onto_a_dsva_host_and_brings_the_host_back(fresh_lab, tmp_path):
    lab = fresh_lab
    dsvas_known_to_the_dsm(lab, DSM_HOST)
    before = vcenter_state(lab)
    assert before["vms"]["dsm-01"][0] == DSM_HOST

    # check mode: the moves are shown, nothing changes, no report is written
    output = ok(run_playbook(lab, os.path.join(PLAYBOOKS, "esx_prepare.yml"), *prepare_args(tmp_path, "--check")))
    assert "dsm-01" in output and vcenter_state(lab) == before
    assert not os.path.exists(os.path.join(str(tmp_path), "CHG-ESX-esx_prepare.json"))

    output = ok(run_playbook(lab, os.path.join(PLAYBOOKS, "esx_prepare.yml"), *prepare_args(tmp_path)))
    assert_no_secret(lab, output)
    after = vcenter_state(lab)
    assert after["hosts"][DSM_HOST]["maintenance"] is False
    assert not after["hosts"][DSM_HOST]["custom"].get("clustersafe.evacuation"), after["hosts"][DSM_HOST]
    # every VM back where it ran, powered on as before, the host's DSVA running again
    assert after["vms"] == before["vms"]
    with open(os.path.join(str(tmp_path), "CHG-ESX-esx_prepare.json")) as handle:
        report = json.load(handle)
    assert report["result"] == "succeeded", report
    assert [step["step"] for step in report["steps"]] == ["evacuate", "prepare", "restore"]
    # DRS was held at manual for the whole preparation and is back at its level, with no record left
    assert report["drs"] == {"held": True, "restored": True, "kept_manual": None}
    assert after["clusters"]["Prod-Cluster"] == before["clusters"]["Prod-Cluster"]
    evacuate = report["steps"][0]["message"]
    dsm_target = evacuate.split("dsm-01 -> ")[1].split(",")[0].strip()
    # the DSM VM went to a host with a running DSVA (VS-04 onto VS-01 hosts)
    assert dsm_target != DSM_HOST and dsm_target in running_dsva_hosts(before), evacuate
    assert os.path.exists(os.path.join(str(tmp_path), "prepared-%s" % DSM_HOST))

    # second run: the caller's check finds the host prepared, nothing changes
    output = ok(run_playbook(lab, os.path.join(PLAYBOOKS, "esx_prepare.yml"), *prepare_args(tmp_path)))
    assert recap_changed(output) == 0 and vcenter_state(lab) == after


@pytest.mark.lab
def test_esx_prepare_without_a_prepare_step_refuses_before_any_change(fresh_lab, tmp_path):
    before = vcenter_state(fresh_lab)
    result = run_playbook(fresh_lab, os.path.join(PLAYBOOKS, "esx_prepare.yml"), *prepare_args(tmp_path, step=False))
    assert result.returncode != 0 and "give esx_prepare_tasks" in result.stdout
    assert vcenter_state(fresh_lab) == before


@pytest.mark.lab
@pytest.mark.parametrize("task", ["Install the filter driver (the lab waits instead)",
                                  "Read the cluster after the evacuation of %s" % DSM_HOST])
def test_esx_prepare_killed_in_the_middle_is_undone_by_recover(fresh_lab, tmp_path, task):
    lab = fresh_lab
    dsvas_known_to_the_dsm(lab, DSM_HOST)
    before = vcenter_state(lab)
    run_until_task(lab, os.path.join(PLAYBOOKS, "esx_prepare.yml"),
                   prepare_args(tmp_path, "-e", "esx_prepare_step_seconds=300"), task, banner=True)
    left = vcenter_state(lab)
    record = json.loads(left["hosts"][DSM_HOST]["custom"]["clustersafe.evacuation"])
    assert record["window"] == "CHG-ESX" and record["maintenance"] is True
    assert left["vms"]["dsm-01"][0] != DSM_HOST and left["vms"]["dsva-%s" % DSM_HOST][1] == "poweredOff"
    assert left["clusters"]["Prod-Cluster"]["drs"] == "manual"
    assert json.loads(left["clusters"]["Prod-Cluster"]["custom"]["clustersafe.drs_window"])["window"] == "CHG-ESX"

    output = ok(run_playbook(lab, RECOVER, "-i", INVENTORY, "-e", '{"recover_windows_hosts": []}'))
    assert "host_evacuation" in output
    after = vcenter_state(lab)
    assert after["hosts"][DSM_HOST]["maintenance"] is False
    assert not after["hosts"][DSM_HOST]["custom"].get("clustersafe.evacuation")
    assert after["vms"] == before["vms"]
    assert after["clusters"]["Prod-Cluster"] == before["clusters"]["Prod-Cluster"]


@pytest.mark.lab
def test_esx_prepare_moves_no_vm_back_before_the_dsm_shows_the_dsva_active(fresh_lab, tmp_path):
    lab = fresh_lab
    before = vcenter_state(lab)
    # the DSM does not know the appliance of esx-01: the host comes back, its DSVA runs, the guests stay away
    result = run_playbook(lab, os.path.join(PLAYBOOKS, "esx_prepare.yml"),
                          *prepare_args(tmp_path, "-e", "esx_prepare_dsm_timeout=3"))
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Wait until the DSM shows the host's DSVA active" in output, output[-20000:]
    left = vcenter_state(lab)
    assert left["hosts"][DSM_HOST]["maintenance"] is False
    assert left["vms"]["dsva-%s" % DSM_HOST] == (DSM_HOST, "poweredOn")
    assert left["vms"]["dsm-01"][0] != DSM_HOST
    record = json.loads(left["hosts"][DSM_HOST]["custom"]["clustersafe.evacuation"])
    assert record["maintenance"] is False and record["powered_off"] == [] and record["moved"]
    # DRS stays at manual: automated, it would place VMs on the host before its appliance protects them
    assert left["clusters"]["Prod-Cluster"]["drs"] == "manual"
    with open(os.path.join(str(tmp_path), "CHG-ESX-esx_prepare.json")) as handle:
        report = json.load(handle)
    assert report["result"] == "failed" and report["drs"]["kept_manual"], report["drs"]

    # once the DSM shows the appliance active, close moves the VMs back and puts DRS back
    dsvas_known_to_the_dsm(lab, DSM_HOST)
    ok(run_playbook(lab, os.path.join(PLAYBOOKS, "esx_prepare_close.yml"), "-e", "esx_prepare_cluster=Prod-Cluster",
                    "-e", "esx_prepare_host=%s" % DSM_HOST, "-e", "esx_prepare_window=CHG-ESX",
                    "-e", "esx_prepare_report_dir=%s" % tmp_path))
    after = vcenter_state(lab)
    assert after["vms"] == before["vms"] and after["clusters"]["Prod-Cluster"] == before["clusters"]["Prod-Cluster"]
    assert not after["hosts"][DSM_HOST]["custom"].get("clustersafe.evacuation")


@pytest.mark.lab
def test_esx_prepare_refuses_to_move_an_undrained_failover_cluster_node(fresh_lab, tmp_path):
    before = vcenter_state(fresh_lab)
    result = run_playbook(fresh_lab, os.path.join(PLAYBOOKS, "esx_prepare.yml"),
                          *prepare_args(tmp_path, "-e", '{"esx_prepare_failover_cluster_vms": ["SQL-NODE1"]}'))
    assert result.returncode != 0
    assert "failover-cluster node VMs would move while their nodes are not drained: SQL-NODE1" in result.stdout
    assert vcenter_state(fresh_lab) == before


@pytest.mark.lab
def test_dsva_placement_pins_once_and_check_mode_changes_nothing(fresh_lab, tmp_path):
    lab = fresh_lab
    args = ["-e", "dsva_placement_cluster=Prod-Cluster", "-e", "dsva_placement_report_dir=%s" % tmp_path]
    before = vcenter_state(lab)
    output = ok(run_playbook(lab, os.path.join(PLAYBOOKS, "dsva_placement.yml"), "--check", *args))
    assert recap_changed(output) >= 1 and vcenter_state(lab) == before

    ok(run_playbook(lab, os.path.join(PLAYBOOKS, "dsva_placement.yml"), *args))
    pinned = vcenter_state(lab)["clusters"]["Prod-Cluster"]
    dsvas = ["dsva-esx-0%d.lab.local" % number for number in (1, 2, 3)]
    assert pinned["drs_overrides"] == [(name, False) for name in dsvas]
    assert pinned["ha_overrides"] == [(name, "disabled") for name in dsvas]
    with open(os.path.join(str(tmp_path), "dsva-placement-dsva_placement.json")) as handle:
        report = json.load(handle)
    assert report["result"] == "succeeded" and report["clusters"][0]["hosts_without_dsva"] == []

    output = ok(run_playbook(lab, os.path.join(PLAYBOOKS, "dsva_placement.yml"), *args))
    assert recap_changed(output) == 0


@pytest.mark.lab
def test_dsva_placement_reports_a_host_without_dsva_it_cannot_fix(fresh_lab, tmp_path):
    from pyVim.connect import Disconnect, SmartConnect
    from pyVim.task import WaitForTask
    from pyVmomi import vim
    lab = fresh_lab
    context = ssl.create_default_context(cafile=lab["SSL_CERT_FILE"])
    service = SmartConnect(host=lab["VMWARE_HOST"], port=int(lab["VMWARE_PORT"]), user=lab["VMWARE_USER"],
                           pwd=lab["VMWARE_PASSWORD"], sslContext=context)
    try:
        content = service.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
        dsva = [vm for vm in view.view if vm.name == "dsva-esx-03.lab.local"][0]
        WaitForTask(dsva.PowerOffVM_Task())
        WaitForTask(dsva.Destroy_Task())
    finally:
        Disconnect(service)
    args = ["-e", "dsva_placement_cluster=Prod-Cluster", "-e", "dsva_placement_report_dir=%s" % tmp_path]
    output = ok(run_playbook(lab, os.path.join(PLAYBOOKS, "dsva_placement.yml"), *args))
    with open(os.path.join(str(tmp_path), "dsva-placement-dsva_placement.json")) as handle:
        report = json.load(handle)
    assert report["result"] == "incomplete"
    assert [(item["rule"], item["subject"]) for item in report["unfixable"]] == [("VS-01", "esx-03.lab.local")]
    assert "through the DSM" in report["unfixable"][0]["remedy"] and "esx-03.lab.local" in output
    failing = run_playbook(lab, os.path.join(PLAYBOOKS, "dsva_placement.yml"), "-e", "dsva_placement_fail_on_unfixable=true", *args)
    assert failing.returncode != 0 and "host has no DSVA" in failing.stdout


@pytest.mark.lab
def test_horizon_window_restores_drs_then_lists_desktops(fresh_lab, tmp_path):
    lab = fresh_lab
    before = vcenter_state(lab)
    args = ["-e", "horizon_window_cluster=Web-Cluster", "-e", "horizon_window_id=CHG-HZN",
            "-e", "horizon_window_report_dir=%s" % tmp_path,
            "-e", "horizon_window_tasks=%s" % os.path.join(ROOT, "tests", "lab", "tasks", "horizon_operation.yml"),
            "-e", '{"horizon_window_desktop_patterns": ["vdi-*"]}']
    output = ok(run_playbook(lab, os.path.join(PLAYBOOKS, "horizon_window.yml"), "--check", *args))
    assert vcenter_state(lab) == before

    # vdi-desktop-01 is known to the DSM (registered, no agent: not offline); vdi-desktop-02 is not
    ok(run_playbook(lab, os.path.join(ROOT, "tests", "integration", "playbooks", "support", "register_desktop.yml")))
    output = ok(run_playbook(lab, os.path.join(PLAYBOOKS, "horizon_window.yml"), *args))
    assert_no_secret(lab, output)
    assert vcenter_state(lab)["clusters"]["Web-Cluster"] == before["clusters"]["Web-Cluster"]
    with open(os.path.join(str(tmp_path), "CHG-HZN-horizon_window.json")) as handle:
        report = json.load(handle)
    assert report["result"] == "succeeded" and report["desktops_checked"] == 2
    assert [(item["vm"], item["problem"]) for item in report["desktops"]] == [("vdi-desktop-02", "not_in_dsm")]
    level = before["clusters"]["Web-Cluster"]["drs"]
    assert report["drs_levels"] == [{"cluster": "Web-Cluster", "before": level, "after": level}]

    # the AWX pair: open leaves DRS manual, close restores it and checks the desktops
    pair = ["-e", "horizon_window_cluster=Web-Cluster", "-e", "horizon_window_id=CHG-HZN2", "-e", "horizon_window_report_dir=%s" % tmp_path]
    ok(run_playbook(lab, os.path.join(PLAYBOOKS, "horizon_window_open.yml"), *pair))
    assert vcenter_state(lab)["clusters"]["Web-Cluster"]["drs"] == "manual"
    with open(os.path.join(str(tmp_path), "CHG-HZN2-horizon_window-open.json")) as handle:
        assert json.load(handle)["drs_levels"] == [{"cluster": "Web-Cluster", "before": level, "after": "manual"}]
    with open(os.path.join(str(tmp_path), "CHG-HZN2-horizon_window-open.md")) as handle:
        assert "| Web-Cluster | %s | manual |" % level in handle.read()
    ok(run_playbook(lab, os.path.join(PLAYBOOKS, "horizon_window_close.yml"), *pair))
    assert vcenter_state(lab)["clusters"]["Web-Cluster"] == before["clusters"]["Web-Cluster"]
    with open(os.path.join(str(tmp_path), "CHG-HZN2-horizon_window-close.json")) as handle:
        closed = json.load(handle)
    assert closed["desktops_checked"] == 5  # every VM of Web-Cluster but its DSVAs
    assert closed["drs_levels"] == [{"cluster": "Web-Cluster", "before": level, "after": level}]
    # closing again finds no window: nothing changes
    output = ok(run_playbook(lab, os.path.join(PLAYBOOKS, "horizon_window_close.yml"), *pair))
    assert recap_changed(output) == 0


def windows_status(lab):
    return lab_control(lab, "GET", "/status")["windows"]


@pytest.mark.lab
def test_dsva_guest_activation_leaves_an_administrators_pause_alone(fresh_lab, tmp_path):
    lab = fresh_lab
    # an administrator paused SQL-NODE2 (no window: no record on the node)
    ok(run_playbook(lab, os.path.join(SUPPORT, "pause_node.yml"), "-i", INVENTORY, "-e", "node=SQL-NODE2"))
    paused = windows_status(lab)
    assert paused["clusters"]["SQLCLU01"]["nodes"]["SQL-NODE2"]["state"] == "Paused"
    for action in ("hold", "close"):
        result = run_playbook(lab, os.path.join(PLAYBOOKS, "dsva_guest_activation.yml"), "-i", INVENTORY,
                              "-e", "dsva_guest_activation_hosts=SQL-NODE2", "-e", "dsva_guest_activation_window=CHG-GA3",
                              "-e", "dsva_guest_activation_action=%s" % action, "-e", "dsva_guest_activation_report_dir=%s" % tmp_path,
                              "-e", "dsva_guest_activation_tasks=%s" % os.path.join(SUPPORT, "guest_activation_step.yml"))
        assert result.returncode != 0 and "no record of window CHG-GA3" in result.stdout, result.stdout[-5000:]
        now = windows_status(lab)
        assert now["clusters"] == paused["clusters"] and now["window_records"] == paused["window_records"]


@pytest.mark.lab
def test_dsva_guest_activation_holds_the_node_and_leaves_no_record(fresh_lab, tmp_path):
    lab = fresh_lab
    args = ["-i", INVENTORY, "-e", "dsva_guest_activation_hosts=SQL-NODE2", "-e", "dsva_guest_activation_window=CHG-GA",
            "-e", "dsva_guest_activation_report_dir=%s" % tmp_path,
            "-e", "dsva_guest_activation_tasks=%s" % os.path.join(SUPPORT, "guest_activation_step.yml")]
    before = windows_status(lab)
    ok(run_playbook(lab, os.path.join(PLAYBOOKS, "dsva_guest_activation.yml"), "--check", *args))
    after_check = windows_status(lab)
    assert after_check["clusters"] == before["clusters"] and after_check["window_records"] == before["window_records"]

    output = ok(run_playbook(lab, os.path.join(PLAYBOOKS, "dsva_guest_activation.yml"), *args))
    assert_no_secret(lab, output)
    status = windows_status(lab)
    cluster = status["clusters"]["SQLCLU01"]
    assert all(node["state"] == "Up" and node["cluster_service"] == "Running" for node in cluster["nodes"].values())
    assert all(group["state"] == "Online" for group in cluster["groups"].values())
    assert status["unplanned_failovers"] == 0
    assert all(not records for records in status["window_records"].values()), status["window_records"]
    with open(os.path.join(str(tmp_path), "CHG-GA-dsva_guest_activation.json")) as handle:
        report = json.load(handle)
    assert report["result"] == "succeeded" and report["steps"][0]["message"] == "drained, stopped, started, resumed"

    # open leaves the node drained and stopped with its records; close puts it back; closing twice changes nothing
    pair = ["-i", INVENTORY, "-e", "dsva_guest_activation_hosts=SQL-NODE2", "-e", "dsva_guest_activation_window=CHG-GA2",
            "-e", "dsva_guest_activation_report_dir=%s" % tmp_path]
    ok(run_playbook(lab, os.path.join(PLAYBOOKS, "dsva_guest_activation.yml"), "-e", "dsva_guest_activation_action=open", *pair))
    opened = windows_status(lab)
    assert opened["clusters"]["SQLCLU01"]["nodes"]["SQL-NODE2"]["cluster_service"] != "Running"
    assert opened["window_records"].get("SQL-NODE2"), opened["window_records"]
    ok(run_playbook(lab, os.path.join(PLAYBOOKS, "dsva_guest_activation.yml"), "-e", "dsva_guest_activation_action=close", *pair))
    closed = windows_status(lab)
    assert closed["clusters"]["SQLCLU01"]["nodes"]["SQL-NODE2"]["state"] == "Up"
    assert all(not records for records in closed["window_records"].values()), closed["window_records"]
    output = ok(run_playbook(lab, os.path.join(PLAYBOOKS, "dsva_guest_activation.yml"), "-e", "dsva_guest_activation_action=close", *pair))
    assert recap_changed(output) == 0
