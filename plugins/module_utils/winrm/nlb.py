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
    return dict(computer=computer, cluster=dict(cluster), nodes=nodes, port_rules=rules)


def local_state(facts):
    computer = (facts.get("computer") or "").lower()
    for node in facts["nodes"]:
        if (node["name"] or "").lower() == computer:
            return base_state(node["state"])
    return base_state(facts["cluster"].get("local_state"))


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
        if current not in IN_SERVICE:
            action, expected = "start", "Converged"
    elif state == "suspended":
        if current != "Suspended":
            action, expected = "suspend", "Suspended"
    elif state == "resumed":
        if current == "Suspended":
            action, expected = "resume", "Stopped"
    return dict(action=action, before=before, after=dict(name=me, state=expected))
