# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules NLB-01 ... NLB-03 (REFERENCE sections 1, 2, 6) over ``nlb_cluster_info`` results and
``dsm_computer_info`` computers. Pure: no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.nlb import is_heartbeat_exclusion
from ansible_collections.clustersafe.deep_security.plugins.module_utils import _agent_version as versions
from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules.facts import (
    computer_for,
    finding,
    has_agent,
    module_state,
    remedy,
)

ROLLOUT = remedy("role", "nlb_agent_rollout", "exclusions first, Tap for the rollout, Inline after")


def _older_or_unknown(version):
    """How a version that is not known to support NLB stands against the minimum, in words."""
    if versions.nlb01_supported(version) is False:
        return "older than"
    return "not known to be at least (its spelling lacks the update number: read it in the DSM)"


def _nodes(facts):
    """(cluster, node name) for every NLB host, whether from the cluster's node list or its own report."""
    for cluster in facts["nlb_clusters"]:
        names = [n.get("name") for n in cluster["nodes"]] or [m.get("computer") for m in cluster["members"].values()]
        for name in names:
            if name:
                yield cluster, name


def _subject(cluster, name):
    return "%s/%s" % (cluster["name"], name)


def nlb_01(facts, plan):
    """NLB is supported from DS 10.0 Update 5 (10.0.0-2548), and Intrusion Prevention is not supported on
    NLB nodes."""
    out = []
    target = plan["agent_version"]
    nodes = list(_nodes(facts))
    if target and nodes and versions.nlb01_supported(target) is not True:
        out.append(finding("NLB-01", "blocker", "agent_version " + str(target),
                           "the planned agent version %s is %s 10.0 Update 5 (10.0.0-2548), the first to support NLB"
                           % (target, _older_or_unknown(target)),
                           {"target": target, "minimum": versions.display(versions.NLB_MINIMUM)}, ROLLOUT))
    for cluster in facts["nlb_clusters"]:
        for member in cluster["members"].values():
            if member.get("error"):
                out.append(finding("NLB-01", "warning", _subject(cluster, member.get("computer")),
                                   "NLB host %s could not be read (%s), so its cluster and agent are unknown"
                                   % (member.get("computer"), member["error"]), {"error": member["error"]},
                                   remedy("module", "nlb_cluster_info", "check the host's WinRM access")))
    for cluster, name in nodes:
        computer = computer_for(facts, name)
        if not has_agent(computer):
            continue
        subject = _subject(cluster, name)
        version = computer.get("agent_version")
        if versions.nlb01_supported(version) is not True:
            out.append(finding("NLB-01", "blocker", subject,
                               "agent %s on NLB node %s is %s 10.0 Update 5 (10.0.0-2548), the first to support NLB"
                               % (version, name, _older_or_unknown(version)), {"agent_version": version}, ROLLOUT))
        state = module_state(computer, "intrusion_prevention")
        if state == "off":
            continue
        out.append(finding("NLB-01", "blocker" if state is not None else "warning", subject,
                           "Intrusion Prevention is %s on NLB node %s; it is not supported on NLB nodes"
                           % (state, name) if state is not None else
                           "whether Intrusion Prevention is off on NLB node %s is unknown" % name,
                           {"intrusion_prevention": state, "policy": computer.get("policy_name") or computer.get("policy_id")},
                           remedy("module", "dsm_computer", "modules: {intrusion_prevention: 'off'} for the computer "
                                  "(role clustersafe.deep_security.nlb_agent_rollout does it in its preflight)")))
    return out


def _heartbeat_bypass(facts, computer):
    """((incoming, outgoing) heartbeat bypass assigned to the computer, IDs of assigned rules that were
    not gathered), or None when the rules or the assignments are unknown altogether."""
    rules = facts["firewall_rules"]
    assigned = computer.get("firewall_rule_ids")
    if rules is None or assigned is None:
        return None
    directions = set()
    unread = []
    for rule_id in assigned:
        rule = rules.get(rule_id)
        if rule is None:
            unread.append(rule_id)
        elif is_heartbeat_exclusion(rule):
            directions.add(rule.get("direction"))
    return ("incoming" in directions, "outgoing" in directions), unread


def nlb_02(facts, plan):
    """With the Firewall on, the NLB heartbeat (EtherType 0x886F) bypassed both ways on every NLB node;
    otherwise hosts reject the farm's traffic and log masses of "Invalid Flags"."""
    out = []
    for cluster, name in _nodes(facts):
        computer = computer_for(facts, name)
        if not has_agent(computer):
            continue
        state = module_state(computer, "firewall")
        if state == "off":
            continue
        subject = _subject(cluster, name)
        mode = computer.get("network_engine_mode")
        bypass = _heartbeat_bypass(facts, computer)
        evidence = {"firewall": state, "network_engine_mode": mode, "assigned_rule_ids": computer.get("firewall_rule_ids")}
        fix = remedy("filter", "nlb_exclusion_rules", "with clustersafe.deep_security.dsm_firewall_rule and "
                     "dsm_firewall_assignment (role clustersafe.deep_security.nlb_agent_rollout does both)")
        if bypass is None:
            out.append(finding("NLB-02", "warning", subject,
                               "the firewall rules of NLB node %s were not gathered, so the heartbeat bypass cannot be "
                               "confirmed" % name, evidence, fix))
            continue
        directions, unread = bypass
        if all(directions):
            continue
        missing = [d for d, present in zip(("incoming", "outgoing"), directions) if not present]
        evidence.update(missing_directions=missing, unread_rule_ids=unread)
        if unread:
            out.append(finding("NLB-02", "warning", subject,
                               "no gathered rule bypasses the NLB heartbeat (%s) on NLB node %s, and %d assigned rule(s) "
                               "were not read (name them in assess_firewall_rule_names)" % (", ".join(missing), name, len(unread)),
                               evidence, fix))
            continue
        severity = "warning" if mode == "Tap" else "blocker"
        out.append(finding("NLB-02", severity, subject,
                           "the Firewall is %s on NLB node %s (%s) without the NLB heartbeat bypass (%s): the farm's "
                           "traffic is judged and \"Invalid Flags\" events pile up" % (
                               state or "of unknown state", name, mode or "engine mode unknown", ", ".join(missing)),
                           evidence, fix))
    return out


def nlb_03(facts, plan):
    """During an NLB rollout every node's network engine runs in Tap (events only, no blocking) until the
    exclusions are proven; then Inline."""
    out = []
    if not plan["nlb_rollout"]:
        return out
    for cluster, name in _nodes(facts):
        computer = computer_for(facts, name)
        if not has_agent(computer):
            continue
        mode = computer.get("network_engine_mode")
        if mode == "Tap":
            continue
        out.append(finding("NLB-03", "warning", _subject(cluster, name),
                           "NLB node %s runs its network engine %s during the rollout; run it in Tap until no needed "
                           "traffic (DHCP, DNS, ARP, ...) would be blocked" % (name, mode or "in an unknown mode"),
                           {"network_engine_mode": mode},
                           remedy("module", "dsm_computer", "settings: {firewallSettingNetworkEngineMode: Tap} (role "
                                  "clustersafe.deep_security.nlb_agent_rollout)")))
    return out
