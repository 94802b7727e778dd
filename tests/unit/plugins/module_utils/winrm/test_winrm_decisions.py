"""Pure decisions: WSFC node plans and NLB plans (the agent's are in test_winrm_agent.py)."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    InterlockError,
    NotFoundError,
    ParameterError,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import nlb, wsfc
from winrm_fakes import mscs_document, nlb_document


def facts(**kwargs):
    return wsfc.cluster_facts(mscs_document(**kwargs))


# --- WSFC ---------------------------------------------------------------------------------------

def test_cluster_facts_normalise_numbers_and_heartbeat():
    document = mscs_document(states={"SQL-NODE3": "2"})
    result = wsfc.cluster_facts(document)
    assert result["nodes"][2]["state"] == "Paused"
    assert result["networks"][0] == dict(name="Heartbeat", role="Cluster", state="Up", address="10.10.1.0",
                                         heartbeat=True, cluster_only=True)


@pytest.mark.parametrize("state, kwargs, actions", [
    ("drained", {}, ["drain"]),
    ("drained", dict(states={"SQL-NODE1": "Paused"}, drain={"SQL-NODE1": "Completed"}), []),
    ("stopped", {}, ["drain", "stop"]),
    ("stopped", dict(states={"SQL-NODE1": "Paused"}, drain={"SQL-NODE1": "Completed"},
                     owners={"SQL Server (MSSQLSERVER)": "SQL-NODE2"}), ["stop"]),
    ("stopped", dict(service="Stopped"), []),
    ("started", dict(service="Stopped"), ["start"]),
    ("started", {}, []),
    ("resumed", dict(states={"SQL-NODE1": "Paused"}), ["resume"]),
    ("resumed", {}, []),
])
def test_plan_node(state, kwargs, actions):
    assert wsfc.plan_node(facts(**kwargs), state)["actions"] == actions


@pytest.mark.parametrize("kwargs, words", [
    (dict(states={"SQL-NODE2": "Down"}), "node SQL-NODE2 is Down"),
    (dict(group_states={"SQL Server (MSSQLSERVER)": "Failed"}), "role SQL Server (MSSQLSERVER) is Failed"),
])
def test_degraded_cluster_refuses_unless_forced(kwargs, words):
    for state in ("drained", "stopped"):
        with pytest.raises(InterlockError) as error:
            wsfc.plan_node(facts(**kwargs), state)
        assert words in error.value.message and "force=true" in error.value.message
        assert wsfc.plan_node(facts(**kwargs), state, force=True)["actions"]


def test_quorum_loss_is_refused():
    current = facts(states={"SQL-NODE2": "Down", "SQL-NODE3": "Down"})
    holds, left, total = wsfc.quorum_after_stop(current, "SQL-NODE1")
    assert (holds, left, total) == (False, 1, 4)
    with pytest.raises(InterlockError) as error:
        wsfc.plan_node(current, "stopped")
    assert "quorum" in error.value.message
    assert wsfc.quorum_after_stop(facts(), "SQL-NODE1")[0] is True


def test_no_node_to_take_the_roles_is_refused_even_with_force():
    with pytest.raises(InterlockError):
        wsfc.plan_node(facts(states={"SQL-NODE2": "Paused", "SQL-NODE3": "Down"}), "drained", force=True)


def test_drain_or_resume_of_a_stopped_node_names_the_fix():
    for state in ("drained", "resumed"):
        with pytest.raises(ParameterError) as error:
            wsfc.plan_node(facts(service="Stopped"), state)
        assert "state=started" in error.value.message


def test_not_a_member_and_unknown_name():
    document = mscs_document(service="Stopped")
    document["cluster_service"] = None
    with pytest.raises(NotFoundError):
        wsfc.require_member(wsfc.cluster_facts(document))
    with pytest.raises(NotFoundError) as error:
        wsfc.local_node(facts(), "SQL-NOD1")
    assert "SQL-NODE1" in error.value.message and "parameter name" in error.value.message
    with pytest.raises(ParameterError) as error:
        wsfc.local_node(facts(), "sql-node2")
    assert "point hostname at sql-node2" in error.value.message


def test_verify_drained():
    assert wsfc.verify_drained(facts(states={"SQL-NODE1": "Paused"}, drain={"SQL-NODE1": "Completed"},
                                     owners={"SQL Server (MSSQLSERVER)": "SQL-NODE2"}), "SQL-NODE1") == []
    problems = wsfc.verify_drained(facts(drain={"SQL-NODE1": "Failed"}), "SQL-NODE1")
    assert "drain status of SQL-NODE1 is Failed" in problems
    assert "role SQL Server (MSSQLSERVER) is still on SQL-NODE1" in problems


# --- NLB ----------------------------------------------------------------------------------------

def nfacts(**kwargs):
    return nlb.nlb_facts(nlb_document(**kwargs))


def test_nlb_facts_and_single_rule_as_list():
    result = nfacts()
    assert len(result["port_rules"]) == 1 and result["cluster"]["mac_address"] == "02-BF-C0-00-02-50"
    with pytest.raises(NotFoundError) as error:
        nfacts(installed=False)
    assert "no Network Load Balancing" in error.value.message
    with pytest.raises(NotFoundError):
        nfacts(clustered=False)


@pytest.mark.parametrize("state, states, action, after", [
    ("drainstopped", {}, "drainstop", "Stopped"),
    ("drainstopped", {"WEB1": "Stopped"}, None, "Stopped"),
    ("stopped", {}, "stop", "Stopped"),
    ("started", {"WEB1": "Stopped"}, "start", "Converged"),
    ("started", {}, None, "Converged"),
    ("suspended", {}, "suspend", "Suspended"),
    ("suspended", {"WEB1": "Suspended"}, None, "Suspended"),
    ("resumed", {"WEB1": "Suspended"}, "resume", "Stopped"),
    ("resumed", {}, None, "Converged"),
])
def test_plan_nlb(state, states, action, after):
    plan = nlb.plan_nlb(nfacts(states=states), state)
    assert plan["action"] == action and plan["after"]["state"] == after


def test_nlb_refusals():
    with pytest.raises(ParameterError):
        nlb.plan_nlb(nfacts(states={"WEB1": "Suspended"}), "started")
    with pytest.raises(InterlockError) as error:
        nlb.plan_nlb(nfacts(states={"WEB2": "Stopped"}), "drainstopped")
    assert "WEB2 (Stopped)" in error.value.message
    assert nlb.plan_nlb(nfacts(states={"WEB2": "Stopped"}), "drainstopped", force=True)["action"] == "drainstop"
