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
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.wsfc import as_list

ACTIONS = {"drainstopped": "drainstop", "stopped": "stop", "started": "start",
           "suspended": "suspend", "resumed": "resume"}
IN_SERVICE = ("Converged", "Converging")
# Get-NlbClusterDriverInfo's CurrentHostState is the driver's host state (Started, Stopped, Suspended in the
# cmdlet's example), not a convergence state: Started says the host is in the cluster, not that it converged.
HOST_STARTED = "Started"
# The cluster MAC tells the operation mode (unicast 02-BF-<VIP>, multicast 03-BF-<VIP>, IGMP multicast
# 01-00-5E-7F-...); used when the cluster object's mode property comes back empty.
MAC_MODES = (("02-BF-", "Unicast"), ("03-BF-", "Multicast"), ("01-00-5E-", "IgmpMulticast"))
# Seconds in one minute of ``drain_timeout``: the module takes minutes, Stop-NlbClusterNode -Timeout seconds.
DRAIN_UNIT_SECONDS = 60


def base_state(state):
    """``Converged(default)`` and ``Converged`` are the same state for our purposes."""
    state = str(state or "Unknown")
    return state.split("(", 1)[0].strip() or "Unknown"


def nlb_facts(document):
    computer = document.get("computer")
    if not document.get("installed"):
        raise NotFoundError("%s has no Network Load Balancing (the NetworkLoadBalancingClusters module is not "
                            "installed); check hostname" % computer, computer=computer)
    cluster = document.get("cluster")
    if not cluster:
        raise NotFoundError("%s has NLB installed but is not a member of an NLB cluster; check hostname" % computer,
                            computer=computer)
    nodes = [dict(name=node.get("name"), host_id=int(node.get("host_id") or 0), state=str(node.get("state")),
                  priority=int(node.get("priority") or 0), interface=node.get("interface"),
                  initial_state=node.get("initial_state"))
             for node in as_list(document.get("nodes"))]
    rules = [dict(start_port=int(rule.get("start_port")), end_port=int(rule.get("end_port")),
                  protocol=str(rule.get("protocol")), mode=str(rule.get("mode")), affinity=str(rule.get("affinity")),
                  ip_address=rule.get("ip_address"))
             for rule in as_list(document.get("port_rules"))]
    cluster = dict(cluster)
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
                      and base_state(node["state"]) not in IN_SERVICE]
            if others and not force:
                raise InterlockError(
                    "refusing to take %s out of NLB cluster %s: %s already out of service; bring it back first, "
                    "or set force=true" % (me, facts["cluster"].get("name"),
                                           ", ".join("%s (%s)" % (n["name"], n["state"]) for n in others)))
            action, expected = ACTIONS[state], "Stopped"
    elif state == "started":
        if current == "Suspended":
            raise ParameterError("%s is Suspended; resume it first (state=resumed), then start it" % me)
        if current not in IN_SERVICE + (HOST_STARTED,):
            action, expected = "start", "Converged"
    elif state == "suspended":
        if current != "Suspended":
            action, expected = "suspend", "Suspended"
    elif state == "resumed":
        if current == "Suspended":
            action, expected = "resume", "Stopped"
    return dict(action=action, before=before, after=dict(name=me, state=expected))
