# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network Load Balancing decisions: facts in, plan or refusal out. No I/O here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    InterlockError,
    NotFoundError,
    ParameterError,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.wsfc import (
    integer_field,
    object_field,
    object_list,
    output_error,
    text_field,
)

ACTIONS = {"drainstopped": "drainstop", "stopped": "stop", "started": "start",
           "suspended": "suspend", "resumed": "resume"}
# A host that is in the cluster: converged, or converging while it joins (Get-NlbClusterNode states). A
# window counts only Converged hosts as carrying the farm's load (plugin_utils/window/plan.py).
JOINED = ("Converged", "Converging")
# Get-NlbClusterDriverInfo's CurrentHostState is the driver's host state (Started, Stopped, Suspended in the
# cmdlet's example), not a convergence state: Started says the host is in the cluster, not that it converged.
HOST_STARTED = "Started"
# The cluster MAC tells the operation mode (unicast 02-BF-<VIP>, multicast 03-BF-<VIP>, IGMP multicast
# 01-00-5E-7F-...); used when the cluster object's mode property comes back empty.
MAC_MODES = (("02-BF-", "Unicast"), ("03-BF-", "Multicast"), ("01-00-5E-", "IgmpMulticast"))
# Port rules cover TCP/UDP ports (Get-NlbClusterPortRule StartPort/EndPort); host ids and priorities are
# small positive numbers (HostPriority 1 to 32), bounded here only so a foreign answer cannot pass as one.
PORTS = (0, 65535)
HOST_NUMBERS = (0, 2 ** 31 - 1)
# Seconds in one minute of ``drain_timeout``: the module takes minutes, Stop-NlbClusterNode -Timeout seconds.
DRAIN_UNIT_SECONDS = 60


def base_state(state):
    """``Converged(default)`` and ``Converged`` are the same state for our purposes."""
    state = str(state or "Unknown")
    return state.split("(", 1)[0].strip() or "Unknown"


def nlb_facts(document, host=None):
    """Normalise the nlb_cluster_info script's document; ClusterOutputError (naming the script and ``host``)
    on a foreign shape, NotFoundError when the node has no NLB or is in no NLB cluster."""
    source = "nlb_cluster_info"
    if not isinstance(document, dict):
        raise output_error(source, host, "not a JSON object")
    computer = text_field(document.get("computer"), source, host, "computer", required=True)
    host = host or computer
    if not document.get("installed"):
        raise NotFoundError("%s has no Network Load Balancing (the NetworkLoadBalancingClusters module is not "
                            "installed); check hostname" % computer, computer=computer)
    cluster = document.get("cluster")
    if not cluster:
        raise NotFoundError("%s has NLB installed but is not a member of an NLB cluster; check hostname" % computer,
                            computer=computer)
    cluster = dict(object_field(cluster, source, host, "cluster"))
    for key in ("name", "mode", "mac_address", "host_state", "local_state", "ip_address", "subnet_mask"):
        if key in cluster:
            cluster[key] = text_field(cluster[key], source, host, "cluster." + key)
    nodes = []
    for index, node in enumerate(object_list(document.get("nodes"), source, host, "nodes")):
        field = "nodes[%d]." % index
        nodes.append(dict(
            name=text_field(node.get("name"), source, host, field + "name"),
            host_id=integer_field(node.get("host_id") or 0, source, host, field + "host_id", HOST_NUMBERS),
            state=str(text_field(node.get("state"), source, host, field + "state")),
            priority=integer_field(node.get("priority") or 0, source, host, field + "priority", HOST_NUMBERS),
            interface=text_field(node.get("interface"), source, host, field + "interface"),
            initial_state=text_field(node.get("initial_state"), source, host, field + "initial_state")))
    rules = []
    for index, rule in enumerate(object_list(document.get("port_rules"), source, host, "port_rules")):
        field = "port_rules[%d]." % index
        start_port = integer_field(rule.get("start_port"), source, host, field + "start_port", PORTS)
        end_port = integer_field(rule.get("end_port"), source, host, field + "end_port", PORTS)
        if end_port < start_port:
            raise output_error(source, host, "%send_port %d is below start_port %d" % (field, end_port, start_port))
        rules.append(dict(start_port=start_port, end_port=end_port,
                          protocol=str(text_field(rule.get("protocol"), source, host, field + "protocol")),
                          mode=str(text_field(rule.get("mode"), source, host, field + "mode")),
                          affinity=str(text_field(rule.get("affinity"), source, host, field + "affinity")),
                          ip_address=text_field(rule.get("ip_address"), source, host, field + "ip_address")))
    if not cluster.get("mode"):
        cluster["mode"] = mode_from_mac(cluster.get("mac_address"))
    # older documents called the driver's host state local_state; both names carry the same value
    host_state = cluster.get("host_state") or cluster.get("local_state")
    cluster.update(host_state=host_state, local_state=host_state)
    return dict(computer=computer, cluster=cluster, nodes=nodes, port_rules=rules)


def mode_from_mac(mac):
    text = str(mac or "").upper().replace(":", "-")
    for prefix, mode in MAC_MODES:
        if text.startswith(prefix):
            return mode
    return None


def drain_seconds(drain_timeout_minutes):
    """What Stop-NlbClusterNode -Drain -Timeout gets: seconds (its cmdlet page; the module's unit is minutes)."""
    return int(drain_timeout_minutes) * DRAIN_UNIT_SECONDS


def local_state(facts):
    """The connected host's convergence state from the node list; failing that, its driver host state
    (Stopped, Suspended, or Started, which is kept as Started: in the cluster, convergence unknown)."""
    computer = (facts.get("computer") or "").lower()
    for node in facts["nodes"]:
        if (node["name"] or "").lower() == computer:
            return base_state(node["state"])
    return base_state(facts["cluster"].get("host_state"))


def reached(state, expected):
    """Whether ``state`` (a convergence state, or the driver's host state) is the one an action aimed at."""
    if state == expected:
        return True
    if expected == "Converged":
        return state in ("Converging", HOST_STARTED)
    return False


def plan_nlb(facts, state, force=False):
    """Action (or None) that brings the connected node to ``state``; refusals as typed errors."""
    if state not in ACTIONS:
        raise ParameterError("state must be one of %s (got %r)" % (", ".join(sorted(ACTIONS)), state))
    me = facts["computer"]
    current = local_state(facts)
    before = dict(name=me, state=current)
    action = None
    expected = current
    if state in ("drainstopped", "stopped"):
        if current == "Suspended":
            raise ParameterError("%s is Suspended; resume it first (state=resumed), then stop it" % me)
        if current != "Stopped":
            others = [node for node in facts["nodes"] if (node["name"] or "").lower() != me.lower()
                      and base_state(node["state"]) not in JOINED]
            if others and not force:
                raise InterlockError(
                    "refusing to take %s out of NLB cluster %s: %s already out of service; bring it back first, "
                    "or set force=true" % (me, facts["cluster"].get("name"),
                                           ", ".join("%s (%s)" % (n["name"], n["state"]) for n in others)))
            action, expected = ACTIONS[state], "Stopped"
    elif state == "started":
        if current == "Suspended":
            raise ParameterError("%s is Suspended; resume it first (state=resumed), then start it" % me)
        if current not in JOINED + (HOST_STARTED,):
            action, expected = "start", "Converged"
    elif state == "suspended":
        if current != "Suspended":
            action, expected = "suspend", "Suspended"
    elif state == "resumed":
        if current == "Suspended":
            action, expected = "resume", "Stopped"
    return dict(action=action, before=before, after=dict(name=me, state=expected))
