# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failover-cluster decisions: facts in, plan or refusal out. No I/O here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    CollectionError,
    InterlockError,
    NotFoundError,
    ParameterError,
    not_found,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.agent import installer_state

FAILBACK = {"none": "NoFailback", "immediate": "Immediate", "policy": "Policy"}
# ClusterNetworkRole as numbers (what PowerShell 5.1 emits if a cast is missed) and names.
NETWORK_ROLES = {"0": "None", "1": "Cluster", "2": "Client", "3": "ClusterAndClient"}
NODE_STATES = {"0": "Up", "1": "Down", "2": "Paused", "3": "Joining", "-1": "Unknown"}


# NodeWeight and DynamicWeight are DWORDs from 0 to 1 (Microsoft's Node Common Properties pages, "nodes-nodeweight"
# and "nodes-dynamicweight": Minimum 0, Maximum 1); anything else is not a vote count the quorum check can trust.
WEIGHTS = (0, 1)


class ClusterOutputError(CollectionError):
    """A failover-cluster or NLB script's answer did not have the documented shape; the message names the
    script and the node."""


def output_error(source, host, what):
    return ClusterOutputError("the answer of %s on %s is not what the collection expects: %s; the node may run a "
                              "profile or wrapper that changes output, or a Windows version this module does not know"
                              % (source, host, what), host=host, script=source)


def text_field(value, source, host, field, required=False):
    """A scalar as text (PowerShell may write an enum as its number); None stays None unless ``required``."""
    if value is None or (required and value == ""):
        if required:
            raise output_error(source, host, "%s is missing" % field)
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise output_error(source, host, "%s is %s, expected text" % (field, type(value).__name__))
    return str(value)


def integer_field(value, source, host, field, allowed):
    """An integer within ``allowed`` (lowest, highest); numbers written as text or as whole floats are accepted."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.match(r"\A[+-]?[0-9]{1,10}\Z", value.strip()):
        number = int(value.strip())
    if number is None or not allowed[0] <= number <= allowed[1]:
        raise output_error(source, host, "%s is %r, expected a whole number from %d to %d"
                           % (field, value if not isinstance(value, str) else value[:40], allowed[0], allowed[1]))
    return number


def object_field(value, source, host, field):
    """A JSON object, or None when absent."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise output_error(source, host, "%s is %s, expected an object" % (field, type(value).__name__))
    return value


def object_list(value, source, host, field):
    """The objects of ``field`` (one object alone is a one-element list, see ``as_list``)."""
    items = as_list(value)
    for index, item in enumerate(items):
        object_field(item, source, host, "%s[%d]" % (field, index))
        if item is None:
            raise output_error(source, host, "%s[%d] is null, expected an object" % (field, index))
    return items


def as_list(value):
    """ConvertTo-Json writes a one-element array as the element itself when a script forgets @()."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def text_list(value, source, host, field):
    """A list of names (ConvertTo-Json writes a one-element array as the element)."""
    return [text_field(item, source, host, "%s[%d]" % (field, index), required=True)
            for index, item in enumerate(as_list(value))]


# The cluster resource types SQL Server registers: an Always On availability group's role holds a resource of type
# "SQL Server Availability Group", a failover cluster instance's role one of type "SQL Server" (type names as the
# failover cluster reports them, compared without case).
AG_RESOURCE_TYPE = "SQL Server Availability Group"
FCI_RESOURCE_TYPE = "SQL Server"


def role_kind(resources):
    """resource_types, kind (availability_group, fci or other) and possible_owners of a role from its resources.

    A role can be owned only by a node that can own every resource in it, so its possible owners are the
    intersection of its resources' possible owners (Get-ClusterOwnerNode on each resource); None for a role
    without resources (nothing restricts it). An empty list stays empty: no node can take the role.
    """
    types = sorted(set(resource["type"] for resource in resources if resource["type"]), key=str.lower)
    lowered = [item.lower() for item in types]
    kind = "availability_group" if AG_RESOURCE_TYPE.lower() in lowered else \
        "fci" if FCI_RESOURCE_TYPE.lower() in lowered else "other"
    owners = None
    for resource in resources:
        names = dict((name.lower(), name) for name in resource["possible_owners"])
        owners = names if owners is None else dict((key, value) for key, value in owners.items() if key in names)
    return dict(resource_types=types, kind=kind,
                possible_owners=None if owners is None else sorted(owners.values(), key=str.lower))


def cluster_facts(document, host=None):
    """Normalise the mscs_cluster_info script's document into the module's return shape.

    Every field the decisions read is checked here, so a foreign answer ends in ClusterOutputError naming
    the script and ``host`` instead of a wrong decision or a traceback later.
    """
    source = "mscs_cluster_info"
    if not isinstance(document, dict):
        raise output_error(source, host, "not a JSON object")
    computer = text_field(document.get("computer"), source, host, "computer", required=True)
    host = host or computer
    nodes = []
    for index, node in enumerate(object_list(document.get("nodes"), source, host, "nodes")):
        field = "nodes[%d]." % index
        state = text_field(node.get("state"), source, host, field + "state") or "Unknown"
        weight = node.get("node_weight", 1)
        dynamic = node.get("dynamic_weight")
        nodes.append(dict(
            name=text_field(node.get("name"), source, host, field + "name", required=True),
            id=str(text_field(node.get("id"), source, host, field + "id")),
            state=NODE_STATES.get(state, state),
            drain_status=text_field(node.get("drain_status"), source, host, field + "drain_status") or "NotInitiated",
            node_weight=0 if weight in (None, "") else integer_field(weight, source, host, field + "node_weight",
                                                                     WEIGHTS),
            dynamic_weight=None if dynamic in (None, "") else integer_field(dynamic, source, host,
                                                                            field + "dynamic_weight", WEIGHTS)))
    groups = []
    for index, group in enumerate(object_list(document.get("groups"), source, host, "groups")):
        field = "groups[%d]." % index
        is_core = group.get("is_core")
        if isinstance(is_core, (list, dict)):
            raise output_error(source, host, "%sis_core is %s, expected true or false" % (field, type(is_core).__name__))
        resources = []
        for number, resource in enumerate(object_list(group.get("resources"), source, host, field + "resources")):
            where = "%sresources[%d]." % (field, number)
            resources.append(dict(
                name=text_field(resource.get("name"), source, host, where + "name"),
                type=text_field(resource.get("type"), source, host, where + "type") or "",
                possible_owners=text_list(resource.get("possible_owners"), source, host, where + "possible_owners")))
        groups.append(dict(name=text_field(group.get("name"), source, host, field + "name", required=True),
                           owner_node=text_field(group.get("owner_node"), source, host, field + "owner_node"),
                           state=str(text_field(group.get("state"), source, host, field + "state")),
                           is_core=bool(is_core), resources=resources,
                           preferred_owners=text_list(group.get("preferred_owners"), source, host,
                                                      field + "preferred_owners"),
                           **role_kind(resources)))
    networks = []
    for index, network in enumerate(object_list(document.get("networks"), source, host, "networks")):
        field = "networks[%d]." % index
        role = str(text_field(network.get("role"), source, host, field + "role"))
        role = NETWORK_ROLES.get(role, role)
        networks.append(dict(name=text_field(network.get("name"), source, host, field + "name"), role=role,
                             state=str(text_field(network.get("state"), source, host, field + "state")),
                             address=text_field(network.get("address"), source, host, field + "address"),
                             heartbeat=role in ("Cluster", "ClusterAndClient"),
                             cluster_only=role == "Cluster"))
    service = object_field(document.get("cluster_service"), source, host, "cluster_service")
    if service is not None:
        for key in ("status", "start_mode"):
            text_field(service.get(key), source, host, "cluster_service." + key)
    cluster = object_field(document.get("cluster"), source, host, "cluster")
    if cluster is not None:
        cluster = dict(cluster)
        for key in ("name", "quorum_type", "quorum_resource", "witness_type", "witness_state"):
            cluster[key] = text_field(cluster.get(key), source, host, "cluster." + key)
        cluster.setdefault("dynamic_quorum", None)
        if cluster.get("witness_dynamic_weight") in (None, ""):
            cluster["witness_dynamic_weight"] = None
        else:
            cluster["witness_dynamic_weight"] = integer_field(cluster["witness_dynamic_weight"], source, host,
                                                              "cluster.witness_dynamic_weight", WEIGHTS)
        cluster["witness"] = witness_kind(cluster)
    agent = dict(dict(installed=False, version=None, service_status=None, installer_running=None,
                      installer_service=None), **(object_field(document.get("agent"), source, host, "agent") or {}))
    if agent["installer_running"] is not None and not isinstance(agent["installer_running"], bool):
        raise output_error(source, host, "agent.installer_running is %r, expected true, false or null"
                           % (agent["installer_running"],))
    service_of_installer = object_field(agent["installer_service"], source, host, "agent.installer_service")
    if service_of_installer is not None:
        agent["installer_service"] = dict(
            status=text_field(service_of_installer.get("status"), source, host, "agent.installer_service.status"),
            accepts_shutdown=service_of_installer.get("accepts_shutdown") is True)
    agent["installer_state"] = installer_state(agent)
    return dict(
        computer=computer,
        member=bool(service) and (service.get("start_mode") != "Disabled" or cluster is not None),
        cluster=cluster,
        nodes=nodes,
        groups=groups,
        networks=networks,
        cluster_service=service,
        agent=agent,
    )


def local_node(facts, name=None):
    """The node this connection reaches; ``name`` (if given) must be that node."""
    computer = facts.get("computer") or ""
    known = [node["name"] for node in facts["nodes"]]
    if name and name.lower() != computer.lower():
        if any(name.lower() == item.lower() for item in known):
            raise ParameterError(
                "name=%s is another node of cluster %s, but this connection reaches %s; point hostname at %s "
                "(cluster service start/stop must run on the node itself)"
                % (name, (facts.get("cluster") or {}).get("name"), computer, name))
        raise not_found("cluster node", name, known or [computer], parameter="name")
    for node in facts["nodes"]:
        if node["name"].lower() == computer.lower():
            return node
    return None


def require_member(facts):
    if not facts.get("cluster_service"):
        raise NotFoundError(
            "%s is not a failover-cluster node (no cluster service ClusSvc); check hostname"
            % facts.get("computer"), computer=facts.get("computer"))
    if not facts.get("member"):
        raise NotFoundError(
            "%s has the Failover Clustering feature but is not a member of a cluster (ClusSvc is disabled); "
            "check hostname" % facts.get("computer"), computer=facts.get("computer"))


def node_summary(facts):
    """The connected node's state as before/after: node state, drain status, cluster service."""
    service = facts.get("cluster_service") or {}
    node = local_node(facts)
    if service.get("status") != "Running":
        state, drain = "Down", "NotInitiated"
    elif node is None:
        state, drain = "Unknown", "NotInitiated"
    else:
        state, drain = node["state"], node["drain_status"]
    return dict(name=facts.get("computer"), state=state, drain_status=drain,
                cluster_service=service.get("status"))


# QuorumResource.ResourceType.DisplayName of each witness kind (FailoverClusterDsc DSC_ClusterQuorum.psm1).
WITNESS_TYPES = {"Physical Disk": "disk", "File Share Quorum Witness": "file_share", "Cloud Witness": "cloud"}
# Quorum types that name their witness (Windows Server 2012 R2 and earlier; DiskOnly on every version).
LEGACY_WITNESS = {"NodeAndDiskMajority": "disk", "NodeAndFileShareMajority": "file_share", "DiskOnly": "disk"}


def witness_kind(cluster):
    """disk, file_share, cloud, other or None, from the quorum as Get-ClusterQuorum reports it.

    From Windows Server 2016 QuorumType is ``Majority`` whatever the witness; the witness is
    QuorumResource and its resource type (FailoverClusterDsc's DSC_ClusterQuorum.psm1 reads it so).
    """
    witness_type = cluster.get("witness_type")
    if witness_type:
        return WITNESS_TYPES.get(witness_type, "other")
    legacy = LEGACY_WITNESS.get(str(cluster.get("quorum_type") or ""))
    if legacy:
        return legacy
    return "other" if cluster.get("quorum_resource") else None


def witness_vote(cluster):
    """The witness's vote now: none without a witness or when its resource is not Online; its dynamic weight
    where the cluster reports one (dynamic witness: a vote only while the node votes are even, Microsoft's
    failover-clustering quorum docs); otherwise one."""
    if not witness_kind(cluster):
        return 0
    if cluster.get("witness_state") not in (None, "", "Online"):
        return 0
    if cluster.get("witness_dynamic_weight") is not None:
        return int(cluster["witness_dynamic_weight"])
    return 1


def quorum_after_stop(facts, node_name):
    """(holds, votes_left, votes_total) if ``node_name`` stops.

    Votes are each node's DynamicWeight where every node reports one (dynamic quorum, Server 2012 and
    later), otherwise its NodeWeight; a node that is not Up or Paused keeps no vote for the count left.
    The witness counts as ``witness_vote``.
    """
    cluster = facts.get("cluster") or {}
    witness = witness_vote(cluster)
    nodes = facts["nodes"]
    dynamic = bool(nodes) and all(node.get("dynamic_weight") is not None for node in nodes)
    key = "dynamic_weight" if dynamic else "node_weight"
    total = sum(node[key] for node in nodes) + witness
    left = witness + sum(node[key] for node in nodes
                         if node["name"].lower() != node_name.lower() and node["state"] in ("Up", "Paused"))
    return left * 2 > total, left, total


def _degradation(facts, me):
    problems = []
    for node in facts["nodes"]:
        if node["name"].lower() != me.lower() and node["state"] != "Up":
            problems.append("node %s is %s" % (node["name"], node["state"]))
    for group in facts["groups"]:
        if group["state"] != "Online":
            problems.append("role %s is %s" % (group["name"], group["state"]))
    return problems


def _refuse(what, me, problems):
    raise InterlockError(
        "refusing to %s %s: %s; never take a second node out of a degraded cluster (fix the cluster first, "
        "or set force=true if you accept the risk)" % (what, me, "; ".join(problems)), problems=problems)


def plan_node(facts, state, force=False):
    """Decide the actions that bring the connected node to ``state``.

    Returns ``dict(actions=[...], before=..., after=...)``; ``actions`` is empty when the node is
    already there. Raises InterlockError when the cluster is not in a state where this is safe.
    """
    require_member(facts)
    before = node_summary(facts)
    me = before["name"]
    running = before["cluster_service"] == "Running"
    drained = before["state"] == "Paused" and before["drain_status"] == "Completed"
    others_up = [node for node in facts["nodes"] if node["name"].lower() != me.lower() and node["state"] == "Up"]
    after = dict(before)
    actions = []
    if state == "drained":
        if not running:
            raise ParameterError("%s cannot be drained: its cluster service is %s; start it first (state=started)"
                                 % (me, before["cluster_service"]))
        if not drained:
            if not others_up:
                raise InterlockError("refusing to drain %s: no other node is Up to take its roles" % me)
            problems = _degradation(facts, me)
            if problems and not force:
                _refuse("drain", me, problems)
            refuse_hazards(role_hazards(facts, me), "drain", me)
            actions = ["drain"]
            after.update(state="Paused", drain_status="Completed")
    elif state == "stopped":
        if running:
            problems = _degradation(facts, me)
            holds, left, total = quorum_after_stop(facts, me)
            if not holds:
                problems.append("stopping it would lose quorum (%d of %d votes left)" % (left, total))
            if problems and not force:
                _refuse("stop the cluster service of", me, problems)
            if not drained:
                if not others_up:
                    raise InterlockError("refusing to stop %s: no other node is Up to take its roles" % me)
                refuse_hazards(role_hazards(facts, me), "stop the cluster service of", me)
                actions.append("drain")
            actions.append("stop")
            after.update(state="Down", drain_status="NotInitiated", cluster_service="Stopped")
    elif state == "started":
        if not running:
            actions = ["start"]
            after.update(state="Up or Paused", cluster_service="Running")
    elif state == "resumed":
        if not running:
            raise ParameterError("%s cannot be resumed: its cluster service is %s; start it first (state=started)"
                                 % (me, before["cluster_service"]))
        if before["state"] == "Paused":
            actions = ["resume"]
            after.update(state="Up", drain_status="NotInitiated")
    else:
        raise ParameterError("state must be one of drained, stopped, started, resumed (got %r)" % state)
    return dict(actions=actions, before=before, after=after)


class DrainFailedError(CollectionError):
    """A drain moved a role that then failed on its target; details name the roles and what was done."""


def _hazard(subject, message, remedy):
    return dict(subject=subject, message=message, remedy=remedy)


def role_hazards(facts, node_name):
    """Blockers for taking ``node_name`` out (drain or stop), from its roles: dicts subject, message, remedy.

    - An availability group role the node owns: "Do not use the Failover Cluster Manager to move availability
      groups to different nodes or to fail over availability groups. The Failover Cluster Manager is not aware of
      the synchronization status of the availability replicas, and doing so can lead to extended downtime"
      (Microsoft, "Failover Clustering and Always On Availability Groups"); a drain is such a cluster move. The
      documented way is a planned manual failover, supported "only when the primary replica and the target
      secondary replica are running in synchronous-commit mode and are currently synchronized" (Microsoft,
      "Perform a planned manual failover of an availability group"). The collection cannot read replica states
      over WinRM without SQL Server credentials, so it refuses and names that manual step.
    - A role whose possible owners (every resource's Get-ClusterOwnerNode) leave no other node that is Up: the drain
      could only fail it, or with -ForceDrain stop it.
    Core groups are the cluster's own and move when the service stops; they are left out.
    """
    me = node_name.lower()
    others_up = [node["name"] for node in facts.get("nodes") or []
                 if node["name"].lower() != me and node["state"] == "Up"]
    hazards = []
    for group in facts.get("groups") or []:
        if group.get("is_core") or (group.get("owner_node") or "").lower() != me:
            continue
        name = group["name"]
        if group.get("kind") == "availability_group":
            hazards.append(_hazard(
                name, "role %s is a SQL Server availability group owned by %s: a cluster move (a drain) is not aware "
                "of the replicas' synchronization and can lead to extended downtime (Microsoft)" % (name, node_name),
                "fail the availability group over with SQL Server first - a planned manual failover, ALTER "
                "AVAILABILITY GROUP [%s] FAILOVER run on a synchronous-commit secondary replica whose databases are "
                "SYNCHRONIZED (is_failover_ready = 1 in sys.dm_hadr_database_replica_cluster_states), or SQL Server "
                "Management Studio's Failover wizard - then run again: the node then owns no availability group"
                % name))
            continue
        owners = group.get("possible_owners")
        if owners is None:
            continue
        allowed = set(owner.lower() for owner in owners)
        if not [other for other in others_up if other.lower() in allowed]:
            hazards.append(_hazard(
                name, "role %s can be owned only by %s (its resources' possible owners), and no other node that can "
                "own it is Up, so a drain could only fail it" % (name, ", ".join(owners) or "no node"),
                "bring a node that can own %s Up, or add one to its resources' possible owners "
                "(Set-ClusterOwnerNode -Resource <resource> -Owners ...), then run again" % name))
    return hazards


def refuse_hazards(hazards, what, me):
    if hazards:
        reasons = "; ".join("%s (fix: %s)" % (item["message"], item["remedy"]) for item in hazards)
        raise InterlockError("refusing to %s %s: %s" % (what, me, reasons), hazards=hazards)


def failed_after_move(before, after, me):
    """Roles ``me`` owned before a drain that another node owns now, Failed there: never in service after the move."""
    owned = set(group["name"] for group in before.get("groups") or []
                if not group.get("is_core") and (group.get("owner_node") or "").lower() == me.lower())
    return [group["name"] for group in after.get("groups") or []
            if group["name"] in owned and (group.get("owner_node") or "").lower() != me.lower()
            and group["state"] == "Failed"]


def verify_drained(facts, me):
    """Problems left after a drain: roles still on the node, roles not Online elsewhere."""
    problems = []
    node = local_node(facts)
    if node and node["drain_status"] not in ("Completed",):
        problems.append("drain status of %s is %s" % (me, node["drain_status"]))
    for group in facts["groups"]:
        if group["is_core"]:
            continue
        if (group["owner_node"] or "").lower() == me.lower():
            problems.append("role %s is still on %s" % (group["name"], me))
        elif group["state"] != "Online":
            problems.append("role %s is %s on %s" % (group["name"], group["state"], group["owner_node"]))
    return problems
