import copy

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils import vsphere_windows as vw


def _dsva(name, host, pinned=False, power="poweredOn", foreign=False, home=None):
    return {"name": name, "host": host, "pinned": pinned, "power_state": power, "on_foreign_host": foreign,
            "home_host": home, "drs_override_ignored": False}


def _cluster():
    return {"name": "Prod", "hosts": [
        {"name": "esx-1", "connection_state": "connected", "maintenance_mode": False, "evacuation": None,
         "dsvas": ["dsva-esx-1"], "powered_on_vms": ["dsm-01", "app-1", "dsva-esx-1"]},
        {"name": "esx-2", "connection_state": "connected", "maintenance_mode": False, "evacuation": None,
         "dsvas": ["dsva-esx-2"], "powered_on_vms": ["dsva-esx-2", "app-2"]},
        {"name": "esx-3", "connection_state": "connected", "maintenance_mode": False, "evacuation": None,
         "dsvas": [], "powered_on_vms": []}],
        "dsvas": [_dsva("dsva-esx-1", "esx-1", pinned=True), _dsva("dsva-esx-2", "esx-2")],
        "dsm_vms": [{"name": "dsm-01", "moid": "vm-1", "host": "esx-1", "power_state": "poweredOn"}],
        "vms": [{"name": "dsm-01", "moid": "vm-1", "guest_hostname": "dsm", "dsva": False, "eam_agent": False},
                {"name": "dsva-esx-1", "moid": "vm-2", "dsva": True},
                {"name": "vdi-01", "moid": "vm-3", "guest_hostname": "VDI-01.corp.example", "dsva": False, "eam_agent": False},
                {"name": "vdi-02", "moid": "vm-4", "guest_hostname": "", "dsva": False, "eam_agent": False},
                {"name": "vdi-03", "moid": "vm-5", "guest_hostname": "vdi-03", "dsva": False, "eam_agent": False},
                {"name": "app-1", "moid": "vm-6", "guest_hostname": "app-1", "dsva": False, "eam_agent": False}]}


def test_placement_lists_hosts_without_and_with_two_dsvas_and_what_to_pin():
    cluster = _cluster()
    cluster["dsvas"].append(_dsva("dsva-esx-3", "esx-2", foreign=True, home="esx-3"))
    plan = vw.dsva_placement_plan({"clusters": [cluster]}, ["Prod"])
    entry = plan["clusters"][0]
    assert entry["hosts_without_dsva"] == ["esx-3"]
    assert entry["hosts_with_several"] == {"esx-2": ["dsva-esx-2", "dsva-esx-3"]}
    assert entry["to_pin"] == ["dsva-esx-2", "dsva-esx-3"]
    assert plan["to_pin"] == ["Prod"] and not plan["blockers"]
    rules = sorted(item["rule"] for item in plan["unfixable"])
    assert rules == ["VS-01", "VS-02", "VS-03"]
    assert "through the DSM" in [item for item in plan["unfixable"] if item["rule"] == "VS-01"][0]["remedy"]


def test_placement_with_everything_pinned_has_nothing_to_do():
    cluster = _cluster()
    cluster["hosts"] = cluster["hosts"][:2]
    cluster["dsvas"][1]["pinned"] = True
    plan = vw.dsva_placement_plan({"clusters": [cluster]}, ["Prod"])
    assert plan["to_pin"] == [] and plan["unfixable"] == [] and plan["blockers"] == []


def test_placement_blocks_on_unknown_cluster_and_cluster_without_dsva():
    cluster = _cluster()
    cluster["dsvas"] = []
    plan = vw.dsva_placement_plan({"clusters": [cluster]}, ["Prod", "Nope"])
    subjects = sorted(item["subject"] for item in plan["blockers"])
    assert subjects == ["Nope", "Prod"]


def test_prepare_plan_moves_the_dsm_onto_hosts_with_a_running_dsva():
    plan = vw.esx_prepare_plan({"clusters": [_cluster()]}, "Prod", ["esx-1"], "CHG-1")
    assert plan["blockers"] == []
    entry = plan["hosts"][0]
    assert entry["targets"] == ["esx-2"]  # esx-3 has no DSVA
    assert entry["dsm_vms"] == ["dsm-01"] and entry["vms_to_move"] == ["app-1", "dsm-01"]


def test_prepare_plan_blocks_without_a_target_with_a_running_dsva():
    cluster = _cluster()
    cluster["dsvas"][1]["power_state"] = "poweredOff"
    plan = vw.esx_prepare_plan({"clusters": [cluster]}, "Prod", ["esx-1"], "CHG-1")
    assert [item["subject"] for item in plan["blockers"]] == ["esx-1"]
    assert "runs a DSVA" in plan["blockers"][0]["message"]
    # a cluster without DSVAs yet may be prepared when the caller says so
    cluster["dsvas"] = []
    plan = vw.esx_prepare_plan({"clusters": [cluster]}, "Prod", ["esx-1"], "CHG-1", dsvas_expected=False)
    assert plan["blockers"] == [] and plan["hosts"][0]["targets"] == ["esx-2", "esx-3"]


def test_prepare_plan_resumes_its_own_record_first_and_blocks_on_another_window():
    cluster = _cluster()
    cluster["hosts"][1]["evacuation"] = {"window": "CHG-1", "owner": "me", "since": "t"}
    cluster["hosts"][1]["maintenance_mode"] = True
    plan = vw.esx_prepare_plan({"clusters": [cluster]}, "Prod", ["esx-1", "esx-2"], "CHG-1")
    assert plan["order"] == ["esx-2", "esx-1"]
    other = vw.esx_prepare_plan({"clusters": [copy.deepcopy(cluster)]}, "Prod", ["esx-2"], "CHG-2")
    assert "CHG-1" in other["blockers"][0]["message"]


def test_prepare_plan_blocks_foreign_maintenance_mode_unknown_host_and_disconnected():
    cluster = _cluster()
    cluster["hosts"][0]["maintenance_mode"] = True
    cluster["hosts"][1]["connection_state"] = "disconnected"
    plan = vw.esx_prepare_plan({"clusters": [cluster]}, "Prod", ["esx-1", "esx-2", "esx-9"], "CHG-1")
    messages = " / ".join("%s: %s" % (item["subject"], item["message"]) for item in plan["blockers"])
    assert "esx-1: host is already in maintenance mode" in messages
    assert "esx-2: host is disconnected" in messages
    assert "esx-9: host is not in cluster" in messages


def test_horizon_lists_offline_out_of_sync_and_unknown_desktops():
    computers = [
        {"host_name": "vdi-01.corp.example", "agent_status": "error", "agent_status_messages": ["Offline", "Interface Out of Sync"]},
        {"host_name": "VDI-02", "agent_status": "warning", "agent_status_messages": ["Managed (Offline)"]},
        {"host_name": "app-1", "agent_status": "active", "agent_status_messages": ["Managed (Online)"]},
    ]
    status = vw.horizon_desktop_status({"clusters": [_cluster()]}, ["Prod"], computers, ["vdi-*"])
    assert status["checked"] == 3
    problems = dict((item["vm"], item["problem"]) for item in status["desktops"])
    assert problems == {"vdi-01": "out_of_sync", "vdi-02": "offline", "vdi-03": "not_in_dsm"}
    # DSM and DSVA VMs are never desktops; an online computer is not listed
    everything = vw.horizon_desktop_status({"clusters": [_cluster()]}, ["Prod"], computers)
    assert everything["checked"] == 4 and "app-1" not in [item["vm"] for item in everything["desktops"]]


def test_report_results_and_markdown():
    plan = {"cluster": "Prod", "blockers": [{"subject": "a|b", "message": "m", "remedy": "r"}]}
    report = vw.vsphere_window_report("esx_prepare", "CHG-1", "t0", "t1", plan)
    assert report["result"] == "refused" and report["summary"]["blockers"] == 1
    assert "a\\|b" in vw.vsphere_report_markdown(report)


def test_markdown_and_html_from_a_record_come_out_as_text():
    # a record in vCenter with Markdown and HTML in its fields: the plan quotes it, the report shows it as text
    cluster = _cluster()
    cluster["hosts"][1]["evacuation"] = {"window": "CHG-9", "owner": "**boss** [x](http://evil) <img src=x onerror=alert(1)>",
                                         "since": "`now`", "valid": True}
    plan = vw.esx_prepare_plan({"clusters": [cluster]}, "Prod", ["esx-2"], "CHG-1")
    markdown = vw.vsphere_report_markdown(vw.vsphere_window_report("esx_prepare", "CHG-1", "t0", "t1", plan))
    assert "<img" not in markdown and "&lt;img src=x onerror=alert(1)&gt;" in markdown
    assert "\\*\\*boss\\*\\*" in markdown and "\\[x\\](http\\:\\//evil)" in markdown and "\\`now\\`" in markdown
    assert vw.vsphere_window_report("x", "W", "t0", "t1", {}, check_mode=True)["result"] == "planned"
    failed = vw.vsphere_window_report("x", "W", "t0", "t1", {}, steps=[{"subject": "esx-1", "step": "evacuate", "result": "failed"}])
    assert failed["result"] == "failed"
    assert vw.vsphere_window_report("x", "W", "t0", "t1", {"unfixable": [{"rule": "VS-01"}]})["result"] == "incomplete"
    assert vw.vsphere_window_report("x", "W", "t0", "t1", {})["result"] == "succeeded"


def test_prepare_plan_skips_hosts_the_callers_check_found_prepared_unless_this_window_left_them():
    cluster = _cluster()
    plan = vw.esx_prepare_plan({"clusters": [cluster]}, "Prod", ["esx-1", "esx-2"], "CHG-1", prepared=["esx-1"])
    assert plan["order"] == ["esx-2"] and plan["hosts"][0]["skip"]
    cluster["hosts"][0]["evacuation"] = {"window": "CHG-1"}
    cluster["hosts"][0]["maintenance_mode"] = True
    plan = vw.esx_prepare_plan({"clusters": [cluster]}, "Prod", ["esx-1", "esx-2"], "CHG-1", prepared=["esx-1"])
    assert plan["order"] == ["esx-1", "esx-2"]


def _wsfc(states=("Up", "Up", "Up"), group_state="Online"):
    return {"cluster": {"name": "SQLCLU01"},
            "nodes": [{"name": "SQL-NODE%d" % (index + 1), "state": state} for index, state in enumerate(states)],
            "groups": [{"name": "SQL Server", "owner_node": "SQL-NODE1", "state": group_state, "is_core": False}]}


def test_guest_activation_plan_accepts_a_healthy_cluster_and_its_own_paused_node():
    computers = {"n1": "SQL-NODE1", "n2": "sql-node2"}
    plan = vw.guest_activation_plan(["n1"], computers, _wsfc(), {}, "CHG-1")
    assert plan["blockers"] == [] and plan["nodes"] == [
        {"host": "n1", "computer": "SQL-NODE1", "state": "Up", "start": False, "resume": False, "records": []}]
    # the node being worked on may be left Paused by an earlier run of the window: its records say so
    records = {"n2": [{"window": "CHG-1", "change": "node_drained"}, {"window": "CHG-1", "change": "cluster_service_stopped"},
                      {"window": "CHG-0", "change": "agent_maintenance"}]}
    plan = vw.guest_activation_plan(["n2"], computers, _wsfc(states=("Up", "Paused", "Up")), records, "CHG-1")
    assert plan["blockers"] == [] and plan["nodes"][0]["start"] and plan["nodes"][0]["resume"]


def test_guest_activation_plan_closes_a_node_whose_stopped_service_reports_no_cluster():
    # close after open reads only the held node, whose cluster service this window stopped: no cluster view
    records = {"n2": [{"window": "CHG-1", "change": "node_drained"}, {"window": "CHG-1", "change": "cluster_service_stopped"}]}
    stopped = {"cluster": None, "nodes": [], "groups": []}
    plan = vw.guest_activation_plan(["n2"], {"n2": "SQL-NODE2"}, stopped, records, "CHG-1")
    assert plan["blockers"] == [] and plan["nodes"][0]["start"] and plan["nodes"][0]["resume"]
    # without a record of this window such a node is a stranger
    assert vw.guest_activation_plan(["n2"], {"n2": "SQL-NODE2"}, stopped, {}, "CHG-1")["blockers"][0]["subject"] == "n2"


def test_guest_activation_plan_leaves_an_administrators_pause_alone():
    # a node found Paused (or stopped: Down) without a record of this window is someone else's: a blocker
    computers = {"n2": "SQL-NODE2"}
    for state in ("Paused", "Down"):
        plan = vw.guest_activation_plan(["n2"], computers, _wsfc(states=("Up", state, "Up")),
                                        {"n2": [{"window": "CHG-OTHER", "change": "node_drained"}]}, "CHG-1")
        assert [item["subject"] for item in plan["blockers"]] == ["SQL-NODE2"]
        assert "no record of window CHG-1" in plan["blockers"][0]["message"]
        assert plan["nodes"][0]["start"] is False and plan["nodes"][0]["resume"] is False


def test_guest_activation_verdict_names_what_is_not_back():
    assert vw.guest_activation_verdict(_wsfc()) == []
    left = vw.guest_activation_verdict(_wsfc(states=("Up", "Paused", "Up"), group_state="Failed"))
    assert [(item["subject"], item["message"]) for item in left] == [("SQL-NODE2", "node is Paused"), ("SQL Server", "role is Failed")]
    assert vw.guest_activation_verdict({"nodes": []})[0]["subject"] == "cluster"


def test_guest_activation_plan_blocks_a_degraded_cluster_an_offline_role_and_strangers():
    computers = {"n1": "SQL-NODE1", "x": "WEB1"}
    plan = vw.guest_activation_plan(["n1", "x"], computers, _wsfc(states=("Up", "Down", "Up"), group_state="Failed"))
    subjects = sorted(item["subject"] for item in plan["blockers"])
    assert subjects == ["SQL Server", "SQL-NODE2", "x"]


def _ha_cluster():
    cluster = _cluster()
    for host in cluster["hosts"]:
        host["memory_mb"] = 65536
    for vm in cluster["vms"]:
        vm.update(power_state="poweredOn", memory_mb=4096)
    cluster["ha"] = {"enabled": True, "admission_control": True,
                     "admission_control_policy": {"kind": "host_failures", "failover_level": 2}}
    return cluster


def test_prepare_plan_blocks_a_host_ha_admission_control_cannot_spare():
    plan = vw.esx_prepare_plan({"clusters": [_ha_cluster()]}, "Prod", ["esx-1"], "CHG-1")
    assert [item["subject"] for item in plan["blockers"]] == ["esx-1"]
    assert "HA admission control keeps 2 host(s) spare" in plan["blockers"][0]["message"]


def test_prepare_plan_blocks_an_undrained_failover_cluster_node_and_lists_the_dsvas_to_ask_the_dsm_about():
    cluster = _cluster()
    cluster["vms"][1]["guest_hostname"] = "dsva-esx-1.corp.example"
    plan = vw.esx_prepare_plan({"clusters": [cluster]}, "Prod", ["esx-1"], "CHG-1", cluster_node_vms=["app-1"])
    assert [item["subject"] for item in plan["blockers"]] == ["esx-1"] and "app-1" in plan["blockers"][0]["message"]
    plan = vw.esx_prepare_plan({"clusters": [cluster]}, "Prod", ["esx-1"], "CHG-1", cluster_node_vms=["app-1"],
                               drained_vms=["app-1"])
    assert plan["blockers"] == []
    assert plan["hosts"][0]["dsvas"] == [{"vm": "dsva-esx-1", "computer": "dsva-esx-1.corp.example"}]
    plan = vw.esx_prepare_plan({"clusters": [cluster]}, "Prod", ["esx-1"], "CHG-1", cluster_node_vms=["app-9"])
    assert "not in the cluster: app-9" in plan["blockers"][0]["message"]


def test_prepare_plan_blocks_records_that_fail_validation_and_drs_held_by_another_window():
    cluster = _cluster()
    cluster["hosts"][0]["evacuation"] = {"valid": False, "problems": ["since is not an ISO 8601 time"], "raw": "{}", "window": None}
    cluster["drs_window"] = {"window": "CHG-7", "owner": "ops", "since": "2026-11-26T07:00:00Z", "original_level": "manual",
                             "valid": True}
    plan = vw.esx_prepare_plan({"clusters": [cluster]}, "Prod", ["esx-1"], "CHG-1")
    messages = " / ".join("%s: %s" % (item["subject"], item["message"]) for item in plan["blockers"])
    assert "Prod: DRS of the cluster is held by window CHG-7" in messages
    assert "esx-1: the host's evacuation record fails validation (since is not an ISO 8601 time)" in messages
    cluster["drs_window"] = {"valid": False, "problems": ["original_level is not one of manual"], "raw": "{}", "window": None}
    plan = vw.esx_prepare_plan({"clusters": [cluster]}, "Prod", ["esx-2"], "CHG-1")
    assert "DRS window record fails validation" in plan["blockers"][0]["message"]
    cluster["drs_window"] = {"window": "CHG-1", "valid": True}
    assert vw.esx_prepare_plan({"clusters": [cluster]}, "Prod", ["esx-2"], "CHG-1")["blockers"] == []


def test_drs_levels_before_and_after_from_the_hold_and_the_give_back():
    from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.vsphere_windows import drs_levels
    held = {"results": [
        {"__drs_window_cluster": "Web-Cluster", "automation_level": "manual", "previous_automation_level": "partiallyAutomated",
         "record": {"original_level": "partiallyAutomated"}},
        {"__drs_window_cluster": "Prod-Cluster", "failed": True, "msg": "refused"}]}
    restored = {"results": [
        {"__drs_window_cluster": "Web-Cluster", "automation_level": "partiallyAutomated", "previous_automation_level": "manual"}]}
    # open: held only
    assert drs_levels(held) == [{"cluster": "Web-Cluster", "before": "partiallyAutomated", "after": "manual"},
                                {"cluster": "Prod-Cluster", "before": None, "after": "unchanged (hold failed)"}]
    # hold with its give-back in one run
    assert drs_levels(held, restored)[0] == {"cluster": "Web-Cluster", "before": "partiallyAutomated",
                                             "after": "partiallyAutomated"}
    # close, a job of its own: the give-back only; the level before the window is the record's
    restored["results"][0]["previous_record"] = {"window": "CHG-1", "original_level": "partiallyAutomated"}
    assert drs_levels({}, restored) == [{"cluster": "Web-Cluster", "before": "partiallyAutomated",
                                         "after": "partiallyAutomated"}]
