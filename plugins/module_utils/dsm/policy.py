# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A policy as a maintenance window must know it, and the blockers it gives a window. Pure: the service
(``service.policy_details``) gathers the documents, these functions judge them.

Sources:
- SDK 20.0 ``Policy.parent_id`` ("ID of the parent policy"); each module's ``state`` ("Module state. The
  'inherited' value is write-only", so a policy read without ``overrides`` shows the state in effect) and
  ``module_status`` (``PolicyModuleStatus.status``: inactive, active, warning, error, not-supported);
  ``describe_policy(overrides=True)``: "Show only overrides defined for the current policy".
- Deep Security Help, "Policies, inheritance, and overrides": child policies inherit their parents' settings
  and rules unless they override them.
- Trend Micro help center, "Windows machine loses connectivity" (KA-0004754): the agent's network driver is
  installed, with a short loss of the network, the first time a policy that includes Firewall, Intrusion
  Prevention or Web Reputation is applied.
- Deep Security Help, "Firewall rule actions and priorities": an Allow rule allows what it matches and
  implicitly denies everything else (the order of rules: ``firewall.passage``).
- Microsoft, "Service overview and network port requirements for Windows": the Cluster Service uses UDP
  (and DTLS) 3343 (the cluster network driver, NetFT, carries the heartbeats over it); TCP 3343 only while
  a node joins.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import computer as computer_model
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import firewall as firewall_model

HEARTBEAT_PROTOCOL = "udp"
HEARTBEAT_PORT = 3343
CLUSTER_KINDS = ("failover_cluster", "nlb")
# The modules whose first policy installs the network driver, as snake_case keys of ``modules``.
DRIVER_KEYS = ("firewall", "intrusion_prevention", "web_reputation")
ENGINE_MODE = computer_model.ENGINE_MODE_SETTING
# Policies nest a few levels deep; a longer chain is a loop in a foreign answer.
MAX_CHAIN = 32


def _obj(value):
    return value if isinstance(value, dict) else {}


def positive_id(value):
    """``value`` when it is a positive integer (an object ID), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _ref(policy):
    return dict(id=policy.get("ID"), name=policy.get("name"))


def _state(document, field):
    """A readable module state (not 'inherited', which is write-only) or None."""
    state = _obj(document.get(field)).get("state")
    if not isinstance(state, str) or not state or state == "inherited":
        return None
    return state


def is_on(state):
    """True for a state that runs the module (on, real-time, prevent, detect), False for off, None when
    unknown."""
    if state is None:
        return None
    return state != "off"


def policy_facts(policy, chain, own, rules, assigned):
    """The facts of ``policy`` a window needs, from:

    - ``policy``: the policy as the DSM answers it (states in effect);
    - ``chain``: the policy and its ancestors, nearest first, as the DSM answers them;
    - ``own``: policy ID -> the policy read with ``overrides=true`` (only what it sets itself);
    - ``rules``: the firewall rules in effect on the policy (``GET /policies/{id}/firewall/rules``, camelCase);
    - ``assigned``: policy ID -> the rule IDs assigned to that policy itself (``overrides=true``).
    """
    modules = {}
    for field, label, snake, _states, _aliases in computer_model.PROTECTION_MODULES:
        state = _state(policy, field)
        set_by = None
        for ancestor in chain:
            own_state = _state(_obj(own.get(ancestor.get("ID"))), field)
            if own_state is not None:
                set_by = _ref(ancestor) if state is None or own_state == state else None
                state = state if state is not None else own_state
                break
        status = _obj(_obj(policy.get(field)).get("moduleStatus"))
        modules[snake] = dict(name=label, state=state, on=is_on(state), set_by=set_by,
                              status=status.get("status") if isinstance(status.get("status"), str) else None,
                              status_message=status.get("statusMessage")
                              if isinstance(status.get("statusMessage"), str) else None)
    by_rule = {}
    for ancestor in chain:
        for rule_id in assigned.get(ancestor.get("ID")) or []:
            by_rule.setdefault(rule_id, _ref(ancestor))
    out_rules = []
    for rule in sorted(rules or [], key=lambda item: item.get("ID") or 0):
        snake = firewall_model.to_snake(rule)
        snake["assigned_by"] = by_rule.get(rule.get("ID"))
        snake["inherited"] = snake["assigned_by"] is not None and snake["assigned_by"]["id"] != policy.get("ID")
        out_rules.append(snake)
    engine = _obj(_obj(policy.get("policySettings")).get(ENGINE_MODE)).get("value")
    parent = positive_id(policy.get("parentID"))
    return dict(
        id=policy.get("ID"), name=policy.get("name"), parent_id=parent, description=policy.get("description") or "",
        chain=[_ref(item) for item in chain],
        modules=modules,
        network_driver_modules=[modules[key]["name"] for key in DRIVER_KEYS if modules[key]["on"]],
        network_engine_mode=engine if isinstance(engine, str) else None,
        firewall_rules=out_rules,
        heartbeat=heartbeat(out_rules),
    )


def heartbeat(rules):
    """Whether the failover-cluster heartbeat (UDP 3343) gets through ``rules`` (snake_case, in effect),
    incoming and outgoing (``firewall.passage``)."""
    return dict((direction, firewall_model.passage(rules, direction, HEARTBEAT_PROTOCOL, HEARTBEAT_PORT))
                for direction in firewall_model.DIRECTIONS)


def check_cluster_kind(cluster_kind):
    if cluster_kind not in CLUSTER_KINDS:
        raise ParameterError("invalid value %r for cluster_kind; allowed values: %s (the kind of cluster whose "
                             "nodes get the policy)" % (cluster_kind, ", ".join(CLUSTER_KINDS)),
                             parameter="cluster_kind", allowed=list(CLUSTER_KINDS))
    return cluster_kind


def _blocker(subject, message, remedy):
    return {"subject": subject, "message": message, "remedy": remedy}


def policy_window_blockers(policy_facts, cluster_kind):
    """Blockers (subject, message, remedy) a window must check before any change on nodes that get the
    policy ``policy_facts`` (a ``policies[]`` entry of ``dsm_policy_info`` with ``details: true``).

    - Any kind: a policy that turns none of Firewall, Intrusion Prevention and Web Reputation on. The
      window then never loads the network driver; it loads later, at the first policy change that turns one
      on, with the cluster service running (KA-0004754, MS-02). A module whose state the DSM did not give
      counts as unknown and blocks too.
    - ``failover_cluster``: Firewall on (or of unknown state) and the heartbeat (UDP 3343) not let through,
      incoming or outgoing, by a bypass, force-allow or allow rule that matches all of it before any rule
      that may deny it (MS-04; ``firewall.passage``).
    """
    check_cluster_kind(cluster_kind)
    if not isinstance(policy_facts, dict) or not isinstance(policy_facts.get("modules"), dict):
        raise ParameterError("policy_facts must be a policy as dsm_policy_info returns it with details: true "
                             "(with modules and firewall_rules)", parameter="policy_facts")
    name = policy_facts.get("name")
    subject = "policy %s (ID %s)" % (name, policy_facts.get("id"))
    modules = policy_facts["modules"]
    states = dict((key, _obj(modules.get(key))) for key in DRIVER_KEYS)
    labels = dict((key, states[key].get("name") or key) for key in DRIVER_KEYS)
    unknown = [labels[key] for key in DRIVER_KEYS if states[key].get("on") is None]
    blockers = []
    if unknown:
        blockers.append(_blocker(
            subject, "MS-02: the DSM gave no state for %s in policy %s, so it cannot be shown when the agent's network "
            "driver loads" % (", ".join(unknown), name),
            "check that the API key's role may read policy %s and its parent policies, then read it again "
            "(dsm_policy_info details: true)" % name))
    elif not any(states[key].get("on") for key in DRIVER_KEYS):
        blockers.append(_blocker(
            subject, "MS-02: policy %s turns none of Firewall, Intrusion Prevention and Web Reputation on, so the "
            "agent's network driver does not load in this window; it loads, with a network blip, the first time "
            "a later policy turns one of them on, with the cluster service running (Trend Micro KA-0004754)" % name,
            "turn Firewall (with the heartbeat let through), Intrusion Prevention or Web Reputation on in policy %s "
            "(clustersafe.deep_security.dsm_computer policy=%s modules=...) or activate with a policy that does, so "
            "the driver loads while the window holds the cluster service stopped" % (name, name)))
    firewall = states["firewall"]
    if cluster_kind == "failover_cluster" and firewall.get("on") is not False:
        rules = policy_facts.get("firewall_rules")
        if not isinstance(rules, list) or not all(isinstance(rule, dict) for rule in rules):
            blockers.append(_blocker(
                subject, "MS-04: the firewall rules in effect in policy %s were not read, so the cluster heartbeat "
                "(UDP %d) cannot be shown to pass" % (name, HEARTBEAT_PORT),
                "read the policy with dsm_policy_info details: true"))
            return blockers
        verdict = heartbeat(rules)
        failing = [verdict[direction] for direction in firewall_model.DIRECTIONS if not verdict[direction]["passes"]]
        if failing:
            mode = policy_facts.get("network_engine_mode")
            blockers.append(_blocker(
                subject, "MS-04: Firewall is %s in policy %s and the failover-cluster heartbeat (UDP %d) is not let "
                "through: %s%s" % (firewall.get("state") or "of unknown state", name, HEARTBEAT_PORT,
                                   "; ".join(item["reason"] for item in failing),
                                   " (the policy is in Tap mode now, which only logs; Inline would block it)"
                                   if mode == "Tap" else ""),
                "assign to policy %s (or a parent) a force-allow rule for UDP %d, incoming and outgoing, with a priority "
                "above every deny that matches it (clustersafe.deep_security.dsm_firewall_rule, then "
                "dsm_firewall_assignment policy=%s), or remove the deny" % (name, HEARTBEAT_PORT, name)))
    return blockers
