"""The ordered plan of a failover cluster or an NLB farm and what blocks it before its first change
(plugin_utils/engine/plan.py)."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules import catalogue
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import plan
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.engine import OTHER_WINDOWS_RULES

HOSTS = ["SQL-NODE1", "SQL-NODE2", "SQL-NODE3"]
VERSION = "20.0.1-690"


def cluster_facts(states=None, groups=None, nodes=tuple(HOSTS)):
    states = states or {}
    return {
        "computer": "SQL-NODE1",
        "cluster": {"name": "SQLCLU01"},
        "nodes": [{"name": name, "state": states.get(name, "Up")} for name in nodes],
        "groups": groups if groups is not None else [
            {"name": "Cluster Group", "owner_node": "SQL-NODE1", "state": "Online", "is_core": True},
            {"name": "SQL Server (MSSQLSERVER)", "owner_node": "SQL-NODE1", "state": "Online", "is_core": False},
        ],
    }


def node_facts(plans=None, records=None):
    plans = plans or {}
    records = records or {}
    return dict((host, {"computer": host, "records": records.get(host, []),
                        "plan": plans.get(host, {"changed": True, "actions": ["install", "activate"],
                                                 "previous_version": None, "version": VERSION})})
                for host in HOSTS)


def vsphere(record=None, vms=tuple(HOSTS)):
    return {"clusters": [{"name": "Prod-Cluster", "drs_window": record,
                          "hosts": [{"name": "esx-01", "powered_on_vms": list(vms)}]}]}


def plan_wsfc(cluster=None, facts=None, window="CHG1", **kwargs):
    return plan.plan_wsfc(HOSTS, cluster or cluster_facts(), facts or node_facts(), window, **kwargs)


def messages(result):
    return " | ".join(item["message"] for item in result["blockers"])


# --- failover clusters: order ---------------------------------------------------------------------------

def test_owners_go_last_so_each_role_moves_once():
    result = plan_wsfc(vsphere=vsphere())
    assert result["order"] == ["SQL-NODE2", "SQL-NODE3", "SQL-NODE1"]
    assert result["drs_clusters"] == ["Prod-Cluster"]
    assert result["blockers"] == []
    assert result["members"] == HOSTS and result["cluster"] == "SQLCLU01"
    owner = [entry for entry in result["nodes"] if entry["host"] == "SQL-NODE1"][0]
    assert owner["roles"] == ["SQL Server (MSSQLSERVER)"] and owner["core_groups"] == ["Cluster Group"]
    assert owner["vm"] == "SQL-NODE1" and owner["vsphere_cluster"] == "Prod-Cluster"


def test_nodes_with_nothing_to_do_are_not_maintained_and_hold_no_drs():
    done = {"changed": False, "actions": [], "previous_version": VERSION, "version": VERSION}
    result = plan_wsfc(facts=node_facts(dict((h, done) for h in HOSTS)), vsphere=vsphere())
    assert result["order"] == [] and result["drs_clusters"] == []
    assert all(entry["agent_target"] == VERSION and not entry["maintain"] for entry in result["nodes"])


def test_the_ms02_refusal_means_maintain_and_other_failures_block():
    refused = {"failed": True, "rule": "MS-02", "msg": "rule MS-02: refusing"}
    broken = {"failed": True, "msg": "downgrades are not supported"}
    result = plan_wsfc(facts=node_facts({"SQL-NODE2": refused, "SQL-NODE3": broken}))
    assert "SQL-NODE2" in result["order"]
    assert [b["subject"] for b in result["blockers"]] == ["SQL-NODE3"]
    assert "downgrades" in result["blockers"][0]["message"]


def test_an_explicit_order_wins_and_unknown_hosts_are_refused():
    assert plan_wsfc(order=["SQL-NODE1"])["order"] == ["SQL-NODE1", "SQL-NODE2", "SQL-NODE3"]
    with pytest.raises(ParameterError) as error:
        plan_wsfc(order=["SQL-NODE9"])
    assert error.value.message.startswith("wsfc_agent_rollout_order names SQL-NODE9, not among the window's nodes")


def test_no_nodes_is_a_clear_error():
    with pytest.raises(ParameterError) as error:
        plan.plan_wsfc([], cluster_facts(), {}, "CHG1")
    assert "wsfc_agent_rollout_nodes (the playbook: wsfc_rollout_hosts)" in error.value.message


# --- failover clusters: what blocks ----------------------------------------------------------------------

@pytest.mark.parametrize("states, groups, words", [
    ({"SQL-NODE3": "Down"}, None, "node SQL-NODE3 is Down, and not by this window"),
    ({"SQL-NODE2": "Paused"}, None, "node SQL-NODE2 is Paused (drain status None), and not by this window"),
    ({"SQL-NODE2": "Joining"}, None, "node SQL-NODE2 is Joining, and not by this window"),
    ({}, [{"name": "SQL", "owner_node": "SQL-NODE1", "state": "Failed", "is_core": False}], "role SQL is Failed"),
])
def test_a_degraded_cluster_blocks_before_any_change(states, groups, words):
    """A node of the window that is out of service with no record of this window saying it took it out was
    taken out by someone else: the window leaves it exactly as found (invariant 8), so it blocks."""
    result = plan_wsfc(cluster_facts(states, groups))
    assert any(words in blocker["message"] for blocker in result["blockers"]), result["blockers"]


def test_a_down_node_of_the_window_blocks_even_when_not_all_nodes_must_be_online():
    """wsfc_agent_rollout_require_all_nodes_online=false accepts a node that is down outside the window (not among
    its nodes, as with --limit); a node of the window that someone else took down still blocks: the window never
    brings back what it did not take out."""
    result = plan_wsfc(cluster_facts({"SQL-NODE3": "Down"}), require_all_nodes_online=False)
    assert [b["subject"] for b in result["blockers"]] == ["SQL-NODE3"]
    assert "and not by this window" in result["blockers"][0]["message"]
    outside = cluster_facts({"SQL-NODE4": "Down"}, nodes=HOSTS + ["SQL-NODE4"])
    assert plan_wsfc(outside, require_all_nodes_online=False)["blockers"] == []
    refused = plan_wsfc(outside)
    assert [b["subject"] for b in refused["blockers"]] == ["SQL-NODE4"]
    assert "wsfc_agent_rollout_require_all_nodes_online" in refused["blockers"][0]["message"]


def test_records_of_another_window_block_and_so_do_this_windows_the_heal_left():
    """The engine heals what an earlier run of this window left before it plans, so a record of this window still
    on a node is one the heal could not put back: it blocks too, naming the heal and recover."""
    other = {"window": "CHG-OLD", "change": "cluster_service_stopped", "since": "t", "controller": "ctl"}
    same = dict(other, window="chg1")
    result = plan_wsfc(facts=node_facts(records={"SQL-NODE2": [other], "SQL-NODE3": [same]}))
    assert [b["subject"] for b in result["blockers"]] == ["SQL-NODE2", "SQL-NODE3"]
    assert "window CHG-OLD left a record on SQL-NODE2 (cluster_service_stopped since t, from ctl)" in \
        result["blockers"][0]["message"]
    assert "recover" in result["blockers"][0]["remedy"]
    assert "a record of this window is still on SQL-NODE3" in result["blockers"][1]["message"]
    assert "heal step" in result["blockers"][1]["remedy"]


def test_drs_held_by_another_window_blocks():
    result = plan_wsfc(vsphere=vsphere({"window": "CHG-OTHER", "since": "t", "owner": "o"}))
    assert any("held by window CHG-OTHER" in b["message"] for b in result["blockers"])
    assert plan_wsfc(vsphere=vsphere({"window": "chg1", "since": "t", "owner": "o"}))["blockers"] == []


def test_a_node_vm_missing_in_vcenter_blocks_and_names_the_fix():
    result = plan_wsfc(vsphere=vsphere(vms=["SQL-NODE1", "SQL-NODE2"]))
    assert [b["subject"] for b in result["blockers"]] == ["SQL-NODE3"]
    assert "no powered-on VM 'SQL-NODE3'" in result["blockers"][0]["message"]
    assert "wsfc_agent_rollout_vm_name" in result["blockers"][0]["remedy"]
    result = plan_wsfc(vsphere=vsphere(vms=["SQL-NODE1", "SQL-NODE2", "sql3-vm"]), vm_names={"SQL-NODE3": "sql3-vm"})
    assert result["blockers"] == []


def test_a_missing_vm_of_a_node_with_nothing_to_do_blocks_nothing():
    done = {"changed": False, "actions": [], "previous_version": VERSION, "version": VERSION}
    result = plan_wsfc(facts=node_facts({"SQL-NODE3": done}), vsphere=vsphere(vms=["SQL-NODE1", "SQL-NODE2"]))
    assert result["blockers"] == [] and result["drs_clusters"] == ["Prod-Cluster"]


def test_a_host_outside_the_cluster_blocks():
    facts = node_facts()
    facts["SQL-NODE3"]["computer"] = "WEB1"
    result = plan_wsfc(facts=facts)
    assert any("SQL-NODE3 (computer WEB1) is not a node of cluster SQLCLU01 (nodes: SQL-NODE1, SQL-NODE2, SQL-NODE3)"
               in b["message"] for b in result["blockers"])


def test_a_cluster_no_node_can_read_blocks():
    result = plan.plan_wsfc(HOSTS, {"computer": "SQL-NODE1"}, node_facts(), "CHG1")
    assert [b["subject"] for b in result["blockers"]] == ["SQL-NODE1"]
    assert "no node of the window has its cluster service running" in result["blockers"][0]["message"]
    assert plan.plan_wsfc(HOSTS, {}, node_facts(), "CHG1")["blockers"][0]["subject"] == "SQL-NODE1"


def test_roles_a_drain_cannot_move_block_the_node_that_owns_them():
    groups = [{"name": "AG1", "owner_node": "SQL-NODE2", "state": "Online", "is_core": False,
               "kind": "availability_group"},
              {"name": "Pinned", "owner_node": "SQL-NODE3", "state": "Online", "is_core": False,
               "possible_owners": ["SQL-NODE3"]}]
    result = plan_wsfc(cluster_facts(groups=groups))
    assert [b["subject"] for b in result["blockers"]] == ["AG1", "Pinned"]
    done = {"changed": False, "actions": [], "previous_version": VERSION, "version": VERSION}
    untouched = plan_wsfc(cluster_facts(groups=groups), facts=node_facts({"SQL-NODE2": done, "SQL-NODE3": done}))
    assert untouched["blockers"] == []


def test_assessment_blockers_block_and_its_warnings_reach_the_plan():
    findings = [{"id": "MS-01", "severity": "blocker", "subject": "SQL-NODE2", "message": "agent 7.5 is older than 8.0 SP1",
                 "remedy": "wsfc_agent_rollout", "evidence": {}},
                {"id": "MS-04", "severity": "warning", "subject": "SQLCLU01", "message": "cannot confirm the heartbeat allow",
                 "remedy": "dsm_firewall_rule", "evidence": {}}]
    result = plan_wsfc(findings=findings)
    assert [b["message"] for b in result["blockers"]] == ["MS-01: agent 7.5 is older than 8.0 SP1"]
    assert result["findings"] == [{"id": "MS-04", "severity": "warning", "subject": "SQLCLU01",
                                   "message": "cannot confirm the heartbeat allow", "remedy": "dsm_firewall_rule"}]


def test_node_vms_are_found_by_guest_host_name_and_two_vms_of_one_name_block():
    vsphere_vms = {"clusters": [{"name": "Prod-Cluster", "drs_window": None, "vms": [
        {"name": "vm-sql-a", "moid": "vm-1", "host": "esx-01", "power_state": "poweredOn", "guest_hostname": "SQL-NODE1.corp.example"},
        {"name": "SQL-NODE2", "moid": "vm-2", "host": "esx-01", "power_state": "poweredOn", "guest_hostname": None},
        {"name": "SQL-NODE2-old", "moid": "vm-7", "host": "esx-01", "power_state": "poweredOff"},
        {"name": "SQL-NODE3", "moid": "vm-3", "host": "esx-02", "power_state": "poweredOn"},
        {"name": "SQL-NODE3", "moid": "vm-9", "host": "esx-03", "power_state": "poweredOn"}]}]}
    result = plan_wsfc(vsphere=vsphere_vms)
    assert [entry["vsphere_cluster"] for entry in result["nodes"] if entry["host"] != "SQL-NODE3"] == ["Prod-Cluster"] * 2
    assert [b["subject"] for b in result["blockers"]] == ["SQL-NODE3"]
    assert "more than one" in result["blockers"][0]["message"]


def test_vm_locations_read_hosts_powered_on_vms_as_names_or_documents():
    locations = plan.vm_locations({"clusters": [{"name": "C", "hosts": [{"name": "esx-01", "powered_on_vms": [
        "VM-A", {"name": "vm-b"}]}]}]})
    assert locations == {"vm-a": [("C", "esx-01", None)], "vm-b": [("C", "esx-01", None)]}
    assert plan.vm_locations(None) == {}


# --- NLB farms ------------------------------------------------------------------------------------------

WEB = ["WEB1", "WEB2", "WEB3"]


def nlb_info(me, states=None):
    states = states or {}
    return {"computer": me, "cluster": {"name": "WEBFARM", "ip_address": "192.0.2.80"},
            "nodes": [{"name": name, "state": states.get(name, "Converged(default)")} for name in WEB]}


def nlb_facts(plans=None, records=None, states=None):
    plans = plans or {}
    records = records or {}
    return dict((host, {"nlb": nlb_info(host, states), "records": records.get(host, []),
                        "plan": plans.get(host, {"changed": True, "actions": ["install", "activate"],
                                                 "previous_version": None, "version": VERSION})})
                for host in WEB)


def computer(name, ips="off", version=VERSION, mode="Inline"):
    return {"host_name": name, "has_agent": bool(version), "agent_version": version, "network_engine_mode": mode,
            "modules": {"intrusion_prevention": {"state": ips}}}


def nlb01(facts, computers, version):
    """The rule catalogue's findings over the farm, as the engine gathers them before it plans."""
    return catalogue.assess({"nlb_nodes": [facts[host]["nlb"] for host in WEB if facts[host].get("nlb")],
                             "dsm_computers": {"computers": computers or []}},
                            {"agent_version": version, "running_windows": ["CHG1"]},
                            skip_rules=OTHER_WINDOWS_RULES["nlb"])["findings"]


def plan_nlb(facts=None, computers=None, version=VERSION, **kwargs):
    facts = facts or nlb_facts()
    return plan.plan_nlb(WEB, facts, "CHG1", dsm_computers=computers, version=version,
                         findings=nlb01(facts, computers, version), **kwargs)


def test_a_fresh_farm_is_planned_host_by_host_with_all_but_one_converged():
    result = plan_nlb(computers=[])
    assert result["order"] == WEB and result["blockers"] == []
    assert result["min_converged"] == 2 and result["converged"] == WEB and result["cluster"] == "WEBFARM"
    assert result["computers_known"] == [] and result["farm_size"] == 3 and result["members"] == WEB


def test_a_host_already_at_the_version_is_skipped():
    plans = {"WEB2": {"changed": False, "actions": [], "previous_version": VERSION, "version": VERSION}}
    result = plan_nlb(nlb_facts(plans=plans), computers=[computer("WEB2")])
    assert result["order"] == ["WEB1", "WEB3"] and result["computers_known"] == ["WEB2"]


def test_intrusion_prevention_on_an_nlb_host_blocks_unless_the_window_may_turn_it_off():
    """NLB-01 on a computer is the rule catalogue's finding (its ``findings``), not a check of the plan's own:
    the plan turns it into a blocker, except when the window was asked to turn Intrusion Prevention off first."""
    computers = [computer("WEB1", ips="prevent")]
    result = plan_nlb(computers=computers)
    assert "NLB-01: Intrusion Prevention is prevent on NLB node WEB1; it is not supported on NLB nodes" in messages(result)
    assert [b["subject"] for b in result["blockers"]] == ["WEBFARM/WEB1"]
    allowed = plan_nlb(computers=computers, turn_off_intrusion_prevention=True)
    assert allowed["blockers"] == [] and allowed["intrusion_prevention_on"] == ["WEB1"]
    assert [f["id"] for f in allowed["findings"]] == ["NLB-01"]


def test_intrusion_prevention_in_the_activation_policy_blocks():
    result = plan_nlb(policy_intrusion_prevention="detect")
    assert "activation policy has Intrusion Prevention detect" in messages(result)
    assert [b["subject"] for b in result["blockers"]] == ["nlb_agent_rollout_policy_id"]
    for state in ("off", "inherited", None):
        assert plan_nlb(policy_intrusion_prevention=state)["blockers"] == []
    assert plan_nlb(policy_intrusion_prevention="prevent", turn_off_intrusion_prevention=True)["blockers"] == []


@pytest.mark.parametrize("installed, target, blocked", [
    ("10.0.0-2547", VERSION, True),          # installed before 10.0 U5
    ("10.0.0.2548", VERSION, False),         # 10.0 U5 itself, in the MSI's dotted form
    (None, "10.0.0-2500", True),             # target before 10.0 U5
    (None, "10.0.0-2548", False),
    ("9.6.2-8207", VERSION, True),           # 9.6 SP1 U13 has the new driver but no NLB support
    ("10.0.2600", VERSION, True),            # no update number: cannot be ordered against 10.0 U5
    ("10.0.2548", VERSION, False),           # the same build number in 10.0 is taken as 10.0 U5
])
def test_agents_older_than_10_0_update_5_block(installed, target, blocked):
    """The installed agent is the plan's check (an upgrade from it loads an interrupting driver); the target
    version is the rule catalogue's NLB-01 finding, which the plan turns into a blocker."""
    plans = dict((host, {"changed": True, "actions": ["upgrade"], "previous_version": installed, "version": target})
                 for host in WEB)
    result = plan_nlb(nlb_facts(plans=plans), version=target)
    nlb01_blockers = [b for b in result["blockers"] if b["message"].startswith("NLB-01")]
    assert bool(nlb01_blockers) is blocked
    if installed and blocked:
        assert "WEB1 has agent %s installed" % installed in messages(result)
        assert "10.0.0-2548 (10.0 Update 5)" in messages(result)
        assert ("not known to be at least" if installed == "10.0.2600" else "older than") in messages(result)
    if installed is None and blocked:
        assert [b["subject"] for b in nlb01_blockers] == ["agent_version %s" % target]


def test_fewer_converged_than_the_minimum_blocks():
    """A host that is out of the farm and has nothing to do leaves the farm short: the window refuses to take
    another one out, unless the operator lowers the minimum."""
    done = {"changed": False, "actions": [], "previous_version": VERSION, "version": VERSION}
    facts = nlb_facts(plans={"WEB3": done}, states={"WEB3": "Stopped"})
    result = plan_nlb(facts)
    assert "2 of 3 hosts are Converged (WEB1, WEB2); taking one out leaves 1, fewer than the 2" in messages(result)
    assert plan_nlb(facts, min_converged=1)["blockers"] == []


def test_a_host_someone_else_stopped_blocks_whatever_the_minimum():
    """A host to maintain that is out of its farm with no record of this window was taken out by someone else:
    the window leaves it as it found it (invariant 8)."""
    for state in ("Stopped", "Suspended", "Draining"):
        result = plan_nlb(nlb_facts(states={"WEB3": state}), min_converged=1)
        assert [b["subject"] for b in result["blockers"]] == ["WEB3"]
        assert "NLB host WEB3 is %s, and not by this window" % state in messages(result)


def test_min_converged_out_of_range_is_refused():
    for minimum in (4, -1):
        with pytest.raises(ParameterError) as error:
            plan_nlb(min_converged=minimum)
        assert "nlb_agent_rollout_min_converged must be between 1 and the farm's 3 hosts" in error.value.message


def test_a_record_of_another_window_blocks_and_its_own_tap_record_does_not():
    """This window's Tap record (network_engine_mode) is its state until the switch to Inline, not a leftover;
    any other record of this window still there is one its heal could not put back."""
    records = {"WEB1": [{"window": "CHG0", "change": "nlb_node_stopped", "since": "x", "controller": "c"},
                        {"window": "chg1", "change": "network_engine_mode", "since": "x", "controller": "c"}]}
    result = plan_nlb(nlb_facts(records=records))
    assert len(result["blockers"]) == 1 and "window CHG0 left a record on WEB1" in messages(result)
    leftover = {"WEB2": [{"window": "CHG1", "change": "nlb_node_stopped", "since": "x", "controller": "c"}]}
    assert "a record of this window is still on WEB2" in messages(plan_nlb(nlb_facts(records=leftover)))


def test_an_unreadable_host_blocks():
    facts = nlb_facts()
    facts["WEB2"]["nlb"] = {"failed": True, "msg": "WEB2 has no Network Load Balancing"}
    result = plan_nlb(facts)
    assert "could not be read: WEB2 has no Network Load Balancing" in messages(result)


def test_hosts_of_two_farms_block_and_a_failed_agent_plan_blocks():
    facts = nlb_facts(plans={"WEB2": {"failed": True, "msg": "the installer's checksum differs"}})
    facts["WEB3"]["nlb"] = dict(nlb_info("WEB3"), cluster={"name": "OTHERFARM"})
    result = plan_nlb(facts)
    assert "the agent plan for WEB2 failed: the installer's checksum differs" in messages(result)
    assert "the hosts belong to more than one NLB cluster (OTHERFARM, WEBFARM)" in messages(result)


def test_an_explicit_nlb_order_wins_and_unknown_hosts_are_refused():
    assert plan_nlb(order=["WEB3"])["order"] == ["WEB3", "WEB1", "WEB2"]
    with pytest.raises(ParameterError) as error:
        plan_nlb(order=["WEB9"])
    assert "nlb_agent_rollout_order names WEB9, not among the window's hosts (WEB1, WEB2, WEB3)" in error.value.message
    with pytest.raises(ParameterError) as error:
        plan.plan_nlb([], {}, "CHG1")
    assert "nlb_agent_rollout_nodes (the playbook: nlb_rollout_hosts)" in error.value.message


def test_converged_others():
    info = nlb_info("WEB1", states={"WEB2": "Stopped"})
    assert plan.converged_others(info, "web1") == ["WEB3"]
    assert plan.converged_others(None, "WEB1") == []


def test_default_min_converged_is_all_but_one_and_at_least_one():
    assert [plan.default_min_converged(size) for size in (1, 2, 3, 8)] == [1, 1, 2, 7]


# --- the printed plan -----------------------------------------------------------------------------------

def test_plan_lines_name_what_each_member_holds():
    entry = {"host": "SQL-NODE1", "maintain": True, "vm": "sql1-vm", "vsphere_cluster": "Prod", "roles": ["SQL"],
             "agent_actions": ["upgrade"], "agent_before": "12.0.0-1234", "agent_target": VERSION}
    assert plan.plan_line(entry) == "SQL-NODE1 (VM sql1-vm in Prod): upgrade; owns SQL; agent 12.0.0-1234 -> %s" % VERSION
    assert plan.plan_line(dict(entry, vsphere_cluster=None, roles=[], agent_actions=[], agent_before=None)) == \
        "SQL-NODE1: maintain; owns no role; agent none -> %s" % VERSION
    assert plan.plan_line({"host": "WEB1", "maintain": True, "nlb_state": "Converged"}, member="host") == \
        "WEB1: maintain; NLB state Converged; agent none -> none"
    assert plan.plan_line({"host": "WEB2", "maintain": False}) == "WEB2: nothing to do (agent already as asked)"


def test_blocker_and_finding_lines():
    assert plan.blocker_line(plan.blocker("WEB1", "is Stopped", "start it")) == "BLOCKER WEB1: is Stopped (remedy: start it)"
    assert plan.finding_line({"id": "MS-04", "severity": "warning", "subject": "SQLCLU01", "message": "m",
                              "remedy": "r"}) == "WARNING MS-04 SQLCLU01: m (remedy: r)"
