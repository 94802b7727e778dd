"""A window across many failover clusters or NLB farms: which units there are (the engine's read), the rounds
across them and the estate-wide cap, and who holds and releases DRS (plugin_utils/engine/schedule.py)."""
import contextlib
import copy

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError, ParameterError
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import kinds, schedule
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import settings as window_settings
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.action import safe_name
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.engine import Window

VERSION = "20.0.1-690"


def plan(order, drs=(), blockers=()):
    return {"order": list(order), "drs_clusters": list(drs), "blockers": list(blockers)}


# --- the units of a window: grouped by the cluster each member reports ----------------------------------------

class Member(object):
    """A Windows node as the engine reads it: the cluster (or NLB farm) it reports, its records, its agent plan."""

    def __init__(self, document):
        self.document = document

    def read_cluster(self, window_records=True):
        if isinstance(self.document, Exception):
            raise self.document
        return copy.deepcopy(self.document)

    read_nlb = read_cluster

    @contextlib.contextmanager
    def session(self):
        yield self

    def read_records(self):
        return []

    def read_all_records(self):
        return [], []

    def agent_plan(self, desired):
        return {"changed": True, "actions": ["install", "activate"], "previous_version": None, "version": VERSION}


class Members(object):
    controller = "controller-a"

    def __init__(self, documents):
        self.documents = documents

    def node(self, host):
        return Member(self.documents[host])


def failover(computer, cluster, nodes, running=True):
    return {"computer": computer, "cluster": {"name": cluster} if running else None,
            "nodes": [{"name": name, "state": "Up"} for name in nodes] if running else [], "groups": [],
            "window_records": []}


def farm(computer, name, hosts):
    return {"computer": computer, "cluster": {"name": name},
            "nodes": [{"name": host, "state": "Converged"} for host in hosts]}


def read_units(kind, documents, labels=None, nodes=None):
    words = kinds.kind_of(kind)
    values = dict(window="CHG1", version=VERSION, installer_url="https://dsm.example/agent.msi",
                  nodes=list(documents) if nodes is None else nodes)
    checked, _warnings = window_settings.check(kind, values)
    hostvars = dict((host, {"inventory_hostname": host}) for host in documents)
    for host, label in (labels or {}).items():
        hostvars[host][words.label_variable] = label
    window = Window(kind, checked, Members(documents), hostvars=hostvars)
    window.read()
    return [(unit.key, unit.hosts, unit.label) for unit in window.units]


def test_nodes_of_one_failover_cluster_are_one_unit_named_by_the_cluster():
    """The nodes need no inventory variable to be grouped: each reports its cluster, and the unit is that cluster."""
    documents = dict((host, failover(host, "SQLCLU01", ["N1", "N2"])) for host in ("N1", "N2"))
    assert read_units("wsfc", documents) == [("SQLCLU01", ["N1", "N2"], None)]


def test_nodes_group_by_the_cluster_they_report_in_inventory_order_labelled_by_the_inventory():
    """wsfc_agent_rollout_cluster labels a unit in reports and output when its members agree on it; the cluster
    a node reports groups it, so an inventory that labels one cluster's nodes differently can never make
    two units of one cluster (two of its nodes out at once)."""
    documents = {"B1": failover("B1", "CLU-B", ["B1", "B2"]), "A1": failover("A1", "CLU-A", ["A1", "A2"]),
                 "B2": failover("B2", "clu-b", ["B1", "B2"]), "A2": failover("A2", "CLU-A", ["A1", "A2"])}
    labels = {"B1": "rack-b", "A1": "one", "B2": "rack-b", "A2": "two"}
    assert read_units("wsfc", documents, labels, nodes=["B1", "A1", "B2", "A2"]) == [
        ("CLU-B", ["B1", "B2"], "rack-b"), ("CLU-A", ["A1", "A2"], None)]


def test_a_node_whose_cluster_service_is_stopped_joins_the_cluster_that_lists_it():
    """A node that cannot tell its cluster (its cluster service is stopped) and has no label is still grouped:
    with the cluster whose running nodes list it; the unit keeps the label its labelled members give."""
    documents = {"N1": failover("N1", "CLU1", ["N1", "N3"]), "N3": failover("N3", None, [], running=False)}
    assert read_units("wsfc", documents, {"N1": "CLU1-label"}) == [("CLU1", ["N1", "N3"], "CLU1-label")]


def test_a_node_nobody_lists_or_nobody_can_reach_is_a_unit_of_its_own():
    documents = {"N1": failover("N1", "CLU1", ["N1"]), "N9": failover("N9", None, [], running=False),
                 "N5": CollectionError("N5: connection refused")}
    assert read_units("wsfc", documents) == [("CLU1", ["N1"], None), ("wsfc-unread-N9", ["N9"], None),
                                             ("wsfc-unreachable-N5", ["N5"], None)]


def test_no_nodes_is_refused_naming_the_variables():
    for kind, words in (("wsfc", "set wsfc_agent_rollout_nodes (the playbook: wsfc_rollout_hosts)"),
                        ("nlb", "set nlb_agent_rollout_nodes (the playbook: nlb_rollout_hosts)")):
        with pytest.raises(CollectionError) as error:
            read_units(kind, {}, nodes=[])
        assert words in error.value.message


def test_farms_group_by_the_nlb_cluster_their_hosts_report_labelled_by_their_farm_variable():
    documents = {"W1": farm("W1", "WEBFARM", ["W1", "W2"]), "X1": farm("X1", "WEBFARM02", ["X1"]),
                 "W2": farm("W2", "WEBFARM", ["W1", "W2"])}
    assert read_units("nlb", documents, {"W1": "FARM-A", "W2": "FARM-A", "X1": "FARM-B"}, nodes=["W1", "X1", "W2"]) == [
        ("WEBFARM", ["W1", "W2"], "FARM-A"), ("WEBFARM02", ["X1"], "FARM-B")]


@pytest.mark.parametrize("label, name", [
    ("CLU-A", "CLU-A"), ("CLU 1", "CLU_1"), ("../etc/passwd", ".._etc_passwd"), ("SQL:PROD\\2", "SQL_PROD_2"),
    ("", "unit"), (None, "None"), ("x" * 80, "x" * 64),
])
def test_a_units_label_is_any_text_and_becomes_a_safe_file_name(label, name):
    """A unit's label (wsfc_agent_rollout_cluster, nlb_agent_rollout_farm) only names the unit in output and
    reports; it is no longer an inventory host of its own, so it need not be a host name: it becomes part of the
    report files' names with every character other than letters, digits, '.', '_' and '-' replaced."""
    assert safe_name(label) == name


def test_an_unknown_window_kind_is_refused():
    with pytest.raises(ValueError, match=r"unknown window kind 'nlb_farm' \(known: nlb, wsfc\)"):
        kinds.kind_of("nlb_farm")
    assert kinds.kind_of("nlb") is kinds.NLB and kinds.kind_of("wsfc").member == "node"


# --- rounds ----------------------------------------------------------------------------------------------

def test_without_a_cap_every_cluster_moves_one_node_per_round():
    orders = {"c1": ["a2", "a3", "a1"], "c2": ["b1", "b2", "b3"], "c3": ["c1"]}
    assert schedule.rounds(orders) == [{"c1": "a2", "c2": "b1", "c3": "c1"}, {"c1": "a3", "c2": "b2"},
                                       {"c1": "a1", "c2": "b3"}]


def test_a_cap_limits_nodes_out_and_the_longest_clusters_go_first():
    orders = dict(("c%d" % index, ["n%d-%d" % (index, node) for node in range(1, 4)]) for index in range(1, 4))
    orders["c4"] = ["n4-1"]
    result = schedule.rounds(orders, max_nodes_out=2)
    assert all(len(entry) <= 2 for entry in result)
    # every cluster's nodes in its own order, each exactly once
    for unit, order in orders.items():
        assert [item[unit] for item in result if unit in item] == order
    # 10 nodes, 2 at a time: 5 rounds, the least possible
    assert len(result) == 5


def test_a_cluster_with_blockers_or_no_plan_takes_no_round_and_holds_nothing():
    """The engine schedules only the units whose plan it may carry out (a refused unit has nothing left to do);
    DRS is held only for the units that will take a member out."""
    plans = {"ok": plan(["n1"], drs=["Prod"]), "blocked": plan(["m1"], drs=["Prod"], blockers=[{"subject": "m1"}]),
             "broken": None, "done": plan([], drs=["Web"])}
    assert schedule.drs_users(plans) == {"Prod": ["ok"]}
    assert schedule.rounds({"ok": ["n1"], "blocked": [], "broken": None}) == [{"ok": "n1"}]


@pytest.mark.parametrize("cap", [-1, "two", -2, "one"])
def test_a_bad_cap_names_the_kinds_variable(cap):
    for kind in ("wsfc", "nlb"):
        variable = "%s_max_nodes_out" % kinds.kind_of(kind).role
        with pytest.raises(ParameterError) as error:
            schedule.check_cap(cap, variable)
        assert error.value.message.startswith("%s must be 0 (one member per cluster, no other cap) or a positive number"
                                              % variable)


def test_a_good_cap_is_a_number():
    assert [schedule.check_cap(value, "v") for value in (None, "", 0, "3", 2)] == [0, 0, 0, 3, 2]


def test_a_cap_of_one_takes_one_host_of_the_whole_estate_per_round():
    orders = {"nlb-window-WEBFARM": ["WEB1", "WEB2", "WEB3"], "nlb-window-WEBFARM02": ["WEB02-1", "WEB02-2", "WEB02-3"]}
    assert [sorted(entry.items()) for entry in schedule.rounds(orders, 1)] == [
        [("nlb-window-WEBFARM", "WEB1")], [("nlb-window-WEBFARM02", "WEB02-1")],
        [("nlb-window-WEBFARM", "WEB2")], [("nlb-window-WEBFARM02", "WEB02-2")],
        [("nlb-window-WEBFARM", "WEB3")], [("nlb-window-WEBFARM02", "WEB02-3")]]
    # NLB plans name no vSphere cluster: nothing is held
    assert schedule.drs_users(dict((key, plan(order)) for key, order in orders.items())) == {}
    # without a cap the farms go side by side, one host each per round
    assert schedule.rounds(orders, 0)[0] == {"nlb-window-WEBFARM": "WEB1", "nlb-window-WEBFARM02": "WEB02-1"}


# --- the next round, decided when the previous one has ended ---------------------------------------------------

@pytest.mark.parametrize("remaining, cap, left_out, expected", [
    ({}, 0, 0, {}),
    ({"a": [], "b": []}, 0, 0, {}),
    ({"a": ["a1", "a2"], "b": ["b1"]}, 0, 0, {"a": "a1", "b": "b1"}),
    # the units with the most members left go first, ties by name
    ({"a": ["a1"], "b": ["b1", "b2"], "c": ["c1", "c2"]}, 2, 0, {"b": "b1", "c": "c1"}),
    # a member a failure left out of service counts against the cap
    ({"a": ["a1"], "b": ["b1", "b2"], "c": ["c1", "c2"]}, 2, 1, {"b": "b1"}),
    ({"a": ["a1"], "b": ["b1"]}, 2, 2, {}),
    ({"a": ["a1"], "b": ["b1"]}, 2, 5, {}),
    # without a cap, what a failure left out does not stop the other units (each keeps one member out at most)
    ({"a": ["a1"], "b": ["b1"]}, 0, 3, {"a": "a1", "b": "b1"}),
])
def test_next_round(remaining, cap, left_out, expected):
    assert schedule.next_round(remaining, cap, left_out) == expected


def test_rounds_of_nothing_and_of_a_cap_that_leaves_no_room():
    assert schedule.rounds(None) == [] and schedule.rounds({"a": []}) == []
    # a cap the engine would refuse (check_cap) never loops: no room, no round
    assert schedule.rounds({"a": ["a1"]}, -1) == []


# --- DRS held once per vSphere cluster, given back when every unit using it is done ----------------------------

def shared_estate():
    return {"c1": plan(["a1", "a2"], drs=["Prod"]), "c2": plan(["b1"], drs=["Prod", "Db"]),
            "c3": plan(["c1"], drs=["Db"]), "c4": plan([], drs=["Web"])}


def test_each_vsphere_cluster_is_held_once_for_every_unit_using_it():
    """The engine holds DRS itself, once for the whole window, before the first round: there is no owner among
    the units any more, only the units each vSphere cluster waits for."""
    assert schedule.drs_users(shared_estate()) == {"Prod": ["c1", "c2"], "Db": ["c2", "c3"]}
    assert schedule.drs_users(None) == {}


def test_drs_is_given_back_once_every_unit_using_it_is_done():
    users = schedule.drs_users(shared_estate())
    assert schedule.drs_to_release(users, ["c1"]) == []
    assert schedule.drs_to_release(users, ["c1", "c2"]) == ["Prod"]
    assert schedule.drs_to_release(users, ["c2", "c3"]) == ["Db"]
    assert schedule.drs_to_release(users, ["c1", "c2", "c3"], ["Db"]) == ["Prod"]
    assert schedule.drs_to_release(users, ["c1", "c2", "c3"], ["Db", "Prod"]) == []
    assert schedule.drs_to_release(None, ["c1"]) == []


# --- the printed schedule ------------------------------------------------------------------------------------

def test_the_printed_schedule_names_rounds_and_holds():
    orders = dict((key, item["order"]) for key, item in shared_estate().items())
    lines = schedule.schedule_lines(orders, schedule.drs_users(shared_estate()), "CHG1", kinds.WSFC.unit,
                                    kinds.WSFC.member, 2)
    assert lines[0] == "window CHG1 across 4 failover cluster(s), at most 2 node(s) out at once"
    assert "round 1: c1 a1, c2 b1" in lines
    assert "DRS of Prod held once for c1, c2" in lines and "DRS of Db held once for c2, c3" in lines


def test_the_printed_farm_schedule_speaks_of_farms_and_hosts():
    orders = {"f1": ["WEB1", "WEB2"], "f2": ["WEB02-1"]}
    lines = schedule.schedule_lines(orders, {}, "CHG1", kinds.NLB.unit, kinds.NLB.member, 1)
    assert lines[0] == "window CHG1 across 2 NLB farm(s), at most 1 host(s) out at once"
    assert schedule.schedule_lines(orders, {}, "CHG1", kinds.NLB.unit, kinds.NLB.member) == [
        "window CHG1 across 2 NLB farm(s), one host per NLB farm at a time", "round 1: f1 WEB1, f2 WEB02-1",
        "round 2: f1 WEB2"]
