"""Parsers and decisions fed the shapes Microsoft documents: a Windows Server 2016+ quorum with its witness
in QuorumResource, dynamic weights, NLB port rules by their property names, the NLB driver's host state,
and the drain timeout unit."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import InterlockError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import nlb, service, wsfc
from winrm_fakes import FakeClient, mscs_document, nlb_document


def two_node_2016(witness=True, weights=(1, 1), witness_weight=1, witness_state="Online"):
    """Get-ClusterQuorum on Server 2016+: QuorumType Majority whatever the witness; the witness is
    QuorumResource, its ResourceType.DisplayName 'File Share Quorum Witness' (FailoverClusterDsc)."""
    cluster = {"name": "FSCLU", "quorum_type": "Majority", "quorum_resource": None, "witness_type": None,
               "witness_state": None, "witness_dynamic_weight": None, "dynamic_quorum": 1}
    if witness:
        cluster.update(quorum_resource="File Share Witness", witness_type="File Share Quorum Witness",
                       witness_state=witness_state, witness_dynamic_weight=witness_weight)
    return {"computer": "FS-NODE1", "cluster_service": {"status": "Running", "start_mode": "Automatic"},
            "agent": {"installed": False, "version": None, "service_status": None}, "cluster": cluster,
            "nodes": [{"name": name, "id": str(index + 1), "state": "Up", "drain_status": "NotInitiated",
                       "node_weight": 1, "dynamic_weight": weights[index]}
                      for index, name in enumerate(["FS-NODE1", "FS-NODE2"])],
            "groups": [{"name": "Cluster Group", "owner_node": "FS-NODE1", "state": "Online", "is_core": True},
                       {"name": "FileServer", "owner_node": "FS-NODE1", "state": "Online", "is_core": False}],
            "networks": []}


def test_2016_witness_is_read_from_the_quorum_resource():
    facts = wsfc.cluster_facts(two_node_2016())
    assert facts["cluster"]["witness"] == "file_share"
    assert facts["cluster"]["quorum_type"] == "Majority"
    assert wsfc.witness_vote(facts["cluster"]) == 1


def test_two_node_cluster_with_a_file_share_witness_stops_a_node_without_force():
    facts = wsfc.cluster_facts(two_node_2016())
    assert wsfc.quorum_after_stop(facts, "FS-NODE1") == (True, 2, 3)
    assert wsfc.plan_node(facts, "stopped")["actions"] == ["drain", "stop"]


def test_two_node_cluster_without_witness_keeps_the_dynamic_vote_holder():
    # dynamic quorum's tie breaker takes one node's vote away: stopping that node keeps quorum, the other not
    facts = wsfc.cluster_facts(two_node_2016(witness=False, weights=(1, 0)))
    assert wsfc.quorum_after_stop(facts, "FS-NODE2") == (True, 1, 1)
    assert wsfc.quorum_after_stop(facts, "FS-NODE1") == (False, 0, 1)
    with pytest.raises(InterlockError) as error:
        wsfc.plan_node(facts, "stopped")
    assert "lose quorum (0 of 1 votes left)" in error.value.message


def test_a_failed_witness_has_no_vote():
    facts = wsfc.cluster_facts(two_node_2016(witness_state="Failed"))
    assert wsfc.witness_vote(facts["cluster"]) == 0
    assert wsfc.quorum_after_stop(facts, "FS-NODE1")[0] is False


def test_dynamic_witness_weight_is_used_where_reported():
    # three voting nodes: the dynamic witness has no vote (odd number of node votes)
    document = mscs_document()
    document["cluster"].update(quorum_type="Majority", quorum_resource="Cloud Witness", witness_type="Cloud Witness",
                               witness_state="Online", witness_dynamic_weight=0)
    facts = wsfc.cluster_facts(document)
    assert facts["cluster"]["witness"] == "cloud"
    assert wsfc.quorum_after_stop(facts, "SQL-NODE1") == (True, 2, 3)


@pytest.mark.parametrize("quorum_type, resource, kind", [
    ("NodeAndFileShareMajority", "File Share Witness", "file_share"),
    ("NodeAndDiskMajority", "Cluster Disk 1", "disk"),
    ("NodeMajority", None, None),
    ("Majority", None, None),
])
def test_quorum_shapes_before_2016_still_count_their_witness(quorum_type, resource, kind):
    document = mscs_document()
    document["cluster"] = {"name": "C", "quorum_type": quorum_type, "quorum_resource": resource}
    assert wsfc.cluster_facts(document)["cluster"]["witness"] == kind


def test_node_weights_when_dynamic_weight_is_not_reported():
    document = two_node_2016(witness=False, weights=(None, None))
    facts = wsfc.cluster_facts(document)
    assert facts["nodes"][0]["dynamic_weight"] is None
    assert wsfc.quorum_after_stop(facts, "FS-NODE1") == (False, 1, 2)


# --- force and force_drain ------------------------------------------------------------------------

def test_force_never_turns_on_force_drain():
    client = FakeClient({"mscs_cluster_info": [mscs_document(states={"SQL-NODE3": "Down"}),
                                               mscs_document(states={"SQL-NODE1": "Paused", "SQL-NODE3": "Down"},
                                                             drain={"SQL-NODE1": "Completed"},
                                                             owners={"SQL Server (MSSQLSERVER)": "SQL-NODE2"})],
                         "mscs_node": {"completed": True, "cluster_service": "Running"}})
    service.mscs_node(client, "drained", force=True)
    sent = [params for name, params in client.calls if name == "mscs_node"]
    # force lifts the quorum refusal of the stop action on the node too (allow_quorum_loss), never -ForceDrain
    assert sent == [{"action": "drain", "force_drain": False, "failback": "NoFailback", "timeout": 300,
                     "allow_quorum_loss": True, "roles": []}]


def test_force_drain_is_sent_only_when_asked():
    client = FakeClient({"mscs_cluster_info": [mscs_document(), mscs_document(
        states={"SQL-NODE1": "Paused"}, drain={"SQL-NODE1": "Completed"},
        owners={"SQL Server (MSSQLSERVER)": "SQL-NODE2"})],
        "mscs_node": {"completed": True, "cluster_service": "Running"}})
    service.mscs_node(client, "drained", force_drain=True)
    assert [params["force_drain"] for name, params in client.calls if name == "mscs_node"] == [True]


# --- NLB ------------------------------------------------------------------------------------------

def test_drain_timeout_minutes_become_cmdlet_seconds():
    assert nlb.drain_seconds(10) == 600 and nlb.drain_seconds(1) == 60


def test_port_rules_keep_their_documented_values():
    document = nlb_document()
    document["port_rules"] = [{"start_port": 0, "end_port": 65535, "protocol": "Both", "mode": "Single",
                               "affinity": "", "ip_address": "255.255.255.255"}]
    rule = nlb.nlb_facts(document)["port_rules"][0]
    assert rule["mode"] == "Single" and rule["ip_address"] == "255.255.255.255"


@pytest.mark.parametrize("mac, mode", [("02-BF-C0-00-02-50", "Unicast"), ("03-bf-c0-00-02-50", "Multicast"),
                                       ("01-00-5E-7F-02-50", "IgmpMulticast"), ("", None)])
def test_cluster_mode_falls_back_to_the_cluster_mac(mac, mode):
    document = nlb_document()
    document["cluster"].update(mode="", mac_address=mac)
    assert nlb.nlb_facts(document)["cluster"]["mode"] == mode


def host_state_only(host_state):
    """The connected host missing from Get-NlbClusterNode's list: only the driver's CurrentHostState is known."""
    document = nlb_document(me="WEB9")
    document["cluster"].pop("local_state")
    document["cluster"]["host_state"] = host_state
    return nlb.nlb_facts(document)


def test_started_host_state_is_not_reported_as_converged():
    facts = host_state_only("Started")
    assert nlb.local_state(facts) == "Started"
    assert facts["cluster"]["host_state"] == "Started" and facts["cluster"]["local_state"] == "Started"
    # in the cluster already: nothing to start; still a host to drain-stop
    assert nlb.plan_nlb(facts, "started")["action"] is None
    assert nlb.plan_nlb(facts, "drainstopped")["action"] == "drainstop"


@pytest.mark.parametrize("host_state, state, action", [
    ("Stopped", "started", "start"),
    ("Suspended", "resumed", "resume"),
    ("Stopped", "drainstopped", None),
])
def test_host_state_fallback_plans(host_state, state, action):
    assert nlb.plan_nlb(host_state_only(host_state), state)["action"] == action


def test_nlb_node_verifies_with_the_host_state_when_the_node_list_is_unreadable():
    client = FakeClient({"nlb_cluster_info": nlb_document(states={"WEB1": "Stopped"}),
                         "nlb_node": {"state": None, "host_state": "Started"}})
    result = service.nlb_node(client, "started")
    assert result["node"]["state"] == "Started" and result["changed"]
