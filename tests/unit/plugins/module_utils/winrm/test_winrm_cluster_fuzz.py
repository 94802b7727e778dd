"""Hostile or garbled answers from a failover-cluster or NLB node never end in a traceback: the parsers
either return facts the decisions can use or raise ClusterOutputError naming the script and the node, and
the client's document reading raises MalformedOutputError naming them."""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError, NotFoundError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import client, nlb, wsfc

SCALAR = (st.none() | st.booleans() | st.integers(min_value=-2 ** 70, max_value=2 ** 70)
          | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20))
JSON = st.recursive(SCALAR, lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.text(max_size=10), children, max_size=4), max_leaves=12)
NAMES = st.sampled_from(["N1", "n1", "N2", "N3", "Ñödé-3"]) | JSON
STATES = st.sampled_from(["Up", "Down", "Paused", "Joining", "0", "1", "2", 0, 2, -1]) | JSON
WEIGHTS = st.sampled_from([0, 1, "1", "", None, 1.0]) | JSON


def maybe(**fields):
    return st.fixed_dictionaries({}, optional=fields)


NODE = maybe(name=NAMES, id=JSON, state=STATES, drain_status=st.sampled_from(["Completed", "InProgress"]) | JSON,
             node_weight=WEIGHTS, dynamic_weight=WEIGHTS)
GROUP = maybe(name=JSON, owner_node=NAMES, state=st.sampled_from(["Online", "Offline"]) | JSON, is_core=JSON)
NETWORK = maybe(name=JSON, role=st.sampled_from(["1", "3", 2]) | JSON, state=JSON, address=JSON)
CLUSTER = maybe(name=JSON, quorum_type=st.sampled_from(["Majority", "NodeAndDiskMajority"]) | JSON,
                quorum_resource=JSON, witness_type=st.sampled_from(["Cloud Witness", "Physical Disk"]) | JSON,
                witness_state=st.sampled_from(["Online", "Failed"]) | JSON, witness_dynamic_weight=WEIGHTS,
                dynamic_quorum=JSON)
SERVICE = maybe(status=st.sampled_from(["Running", "Stopped"]) | JSON,
                start_mode=st.sampled_from(["Automatic", "Disabled"]) | JSON)
MSCS = maybe(computer=NAMES, cluster_service=SERVICE | JSON, cluster=CLUSTER | JSON, agent=JSON,
             nodes=st.lists(NODE | JSON, max_size=4) | NODE | JSON,
             groups=st.lists(GROUP | JSON, max_size=3) | GROUP | JSON,
             networks=st.lists(NETWORK | JSON, max_size=2) | NETWORK | JSON)

NLB_NODE = maybe(name=NAMES, host_id=WEIGHTS, state=st.sampled_from(["Converged(default)", "Stopped", "Suspended"])
                 | JSON, priority=WEIGHTS, interface=JSON, initial_state=JSON)
PORT = st.integers(min_value=-5, max_value=70000) | JSON
RULE = maybe(start_port=PORT, end_port=PORT, protocol=JSON, mode=JSON, affinity=JSON, ip_address=JSON)
NLB_CLUSTER = maybe(name=JSON, mode=JSON, mac_address=st.sampled_from(["02-BF-C0-00-02-50"]) | JSON,
                    host_state=STATES, local_state=STATES, ip_address=JSON)
NLB = maybe(computer=NAMES, installed=st.just(True) | JSON, cluster=NLB_CLUSTER | JSON,
            nodes=st.lists(NLB_NODE | JSON, max_size=4) | NLB_NODE | JSON,
            port_rules=st.lists(RULE | JSON, max_size=3) | RULE | JSON)


def names_source(error, script):
    return script in error.message and "N1" in error.message


@settings(max_examples=200, deadline=None)
@given(MSCS | JSON, NAMES)
def test_cluster_documents(document, other):
    try:
        facts = wsfc.cluster_facts(document, "N1")
    except wsfc.ClusterOutputError as error:
        assert names_source(error, "mscs_cluster_info"), error.message
        return
    # whatever the facts, the decisions end in a result or one of the collection's errors
    try:
        wsfc.node_summary(facts)
    except CollectionError:
        pass
    for state in ("drained", "stopped", "started", "resumed"):
        try:
            plan = wsfc.plan_node(facts, state)
        except CollectionError:
            continue
        assert set(plan["actions"]) <= {"drain", "stop", "start", "resume"}
    for name in [node["name"] for node in facts["nodes"]] + [facts["computer"] or "N1"]:
        holds, left, total = wsfc.quorum_after_stop(facts, name)
        assert holds in (True, False) and 0 <= left <= total
    try:
        wsfc.verify_drained(facts, facts["computer"] or "N1")
        if isinstance(other, str):
            wsfc.local_node(facts, other)
    except CollectionError:
        pass


@settings(max_examples=200, deadline=None)
@given(NLB | JSON)
def test_nlb_documents(document):
    try:
        facts = nlb.nlb_facts(document, "N1")
    except wsfc.ClusterOutputError as error:
        assert names_source(error, "nlb_cluster_info"), error.message
        return
    except NotFoundError as error:  # no NLB on the node, or in no NLB cluster
        assert "NLB" in error.message or "Network Load Balancing" in error.message
        return
    assert all(0 <= rule["start_port"] <= rule["end_port"] <= 65535 for rule in facts["port_rules"])
    for state in ("drainstopped", "stopped", "started", "suspended", "resumed"):
        try:
            plan = nlb.plan_nlb(facts, state)
        except CollectionError:
            continue
        assert plan["action"] in (None, "drainstop", "stop", "start", "suspend", "resume")


@settings(max_examples=200, deadline=None)
@given(JSON | STATES)
def test_nlb_state_text(state):
    text = nlb.base_state(state)
    assert isinstance(text, str) and text and text == text.strip() and "(" not in text


DOCUMENT_TEXT = (st.text(max_size=60) | st.binary(max_size=60)
                 | st.builds(lambda depth, opening: opening * depth, st.integers(0, 200000), st.sampled_from(["[", "{\"a\":", "[{\"b\":"]))
                 | st.builds(lambda digits: "{\"n\": %s}" % ("9" * digits), st.integers(1, 20000))
                 | JSON.map(json.dumps))


@settings(max_examples=200, deadline=None)
@given(DOCUMENT_TEXT)
def test_script_output_reading(stdout):
    try:
        document = client.parse_document(stdout, "mscs_cluster_info", "N1")
    except client.MalformedOutputError as error:
        assert names_source(error, "mscs_cluster_info"), error.message
        return
    assert isinstance(document, dict)


# The examples the fuzzing found: each ended in a traceback (AttributeError, TypeError, ValueError,
# OverflowError) or, for a negative weight, in a quorum count below zero, before the parsers checked shapes.
RUNNING = {"computer": "N1", "cluster_service": {"status": "Running", "start_mode": "Automatic"}, "cluster": {}}
CLUSTER_CRASHES = [
    ([], "not a JSON object"),
    (dict(RUNNING, nodes=["N1"]), "nodes[0] is str, expected an object"),
    (dict(RUNNING, nodes=[None]), "nodes[0] is null"),
    (dict(RUNNING, nodes=[{"name": "N1", "node_weight": "one"}]), "nodes[0].node_weight"),
    (json.loads('{"computer": "N1", "nodes": [{"name": "N1", "node_weight": Infinity}]}'), "nodes[0].node_weight"),
    (dict(RUNNING, nodes=[{"name": "N2", "state": "Up", "dynamic_weight": -5}]), "from 0 to 1"),
    (dict(RUNNING, nodes=[{"name": "N2", "state": "Up", "node_weight": 2 ** 70}]), "from 0 to 1"),
    (dict(RUNNING, nodes=[{"state": "Up"}]), "nodes[0].name is missing"),
    (dict(RUNNING, cluster="CLU"), "cluster is str"),
    (dict(RUNNING, cluster={"witness_type": [1]}), "cluster.witness_type is list"),
    (dict(RUNNING, agent=[1]), "agent is list"),
    (dict(RUNNING, cluster_service=[1]), "cluster_service is list"),
    (dict(RUNNING, groups=[{"name": "SQL", "owner_node": {"n": 1}}]), "groups[0].owner_node is dict"),
    ({"cluster_service": {"status": "Running"}}, "computer is missing"),
]


@pytest.mark.parametrize("document, what", CLUSTER_CRASHES)
def test_cluster_shapes_found_by_fuzzing(document, what):
    with pytest.raises(wsfc.ClusterOutputError) as error:
        wsfc.cluster_facts(document, "N1")
    assert what in error.value.message and "mscs_cluster_info on N1" in error.value.message
    assert error.value.details == {"host": "N1", "script": "mscs_cluster_info"}


NLB_BASE = {"computer": "N1", "installed": True, "cluster": {"name": "WEBFARM"}}
NLB_CRASHES = [
    ([], "not a JSON object"),
    (dict(NLB_BASE, cluster="WEBFARM"), "cluster is str"),
    (dict(NLB_BASE, port_rules=[{}]), "port_rules[0].start_port"),
    (dict(NLB_BASE, port_rules=[{"start_port": 80, "end_port": 99999}]), "port_rules[0].end_port"),
    (dict(NLB_BASE, port_rules=[{"start_port": 443, "end_port": 80}]), "below start_port"),
    (dict(NLB_BASE, nodes=[{"name": "N1", "host_id": "x"}]), "nodes[0].host_id"),
    (dict(NLB_BASE, nodes=[{"name": ["N1"]}]), "nodes[0].name is list"),
    ({"installed": True, "cluster": {"name": "WEBFARM"}}, "computer is missing"),
]


@pytest.mark.parametrize("document, what", NLB_CRASHES)
def test_nlb_shapes_found_by_fuzzing(document, what):
    with pytest.raises(wsfc.ClusterOutputError) as error:
        nlb.nlb_facts(document, "N1")
    assert what in error.value.message and "nlb_cluster_info on N1" in error.value.message


def test_deeply_nested_output_is_malformed_not_a_recursion_error():
    with pytest.raises(client.MalformedOutputError) as error:
        client.parse_document("[" * 100000, "mscs_cluster_info", "N1")
    assert "mscs_cluster_info on N1" in error.value.message


def test_weights_written_as_text_or_whole_floats_are_read():
    facts = wsfc.cluster_facts(dict(RUNNING, nodes=[{"name": "N1", "state": "0", "node_weight": "1",
                                                     "dynamic_weight": 1.0}]), "N1")
    assert facts["nodes"][0]["node_weight"] == 1 and facts["nodes"][0]["dynamic_weight"] == 1
    assert facts["nodes"][0]["state"] == "Up"


def test_service_names_the_client_host_in_the_error():
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service
    from winrm_fakes import FakeClient

    fake = FakeClient({"mscs_cluster_info": dict(RUNNING, nodes=[{"name": None}])})
    fake.host = "sql-node1.example.test"
    with pytest.raises(wsfc.ClusterOutputError) as error:
        service.mscs_cluster_info(fake)
    assert "mscs_cluster_info on sql-node1.example.test" in error.value.message
