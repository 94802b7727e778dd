# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rules MS-01 ... MS-05 (REFERENCE sections 1, 2, 5) over ``mscs_cluster_info`` results (one per node)
and ``dsm_computer_info`` computers. Pure: no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils import _agent_version as versions
from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules.facts import (
    as_list,
    computer_for,
    finding,
    key,
    module_state,
    remedy,
)

ROLLOUT = remedy("role", "wsfc_agent_rollout", "drains the node and stops its cluster service around the change")
RECOVER = remedy("playbook", "recover", "starts the cluster service and resumes the node the window left")
# The cluster heartbeat: UDP 3343 (REFERENCE section 5, Microsoft failover-cluster networking).
HEARTBEAT_PORT = 3343
PASSING = ("allow", "force-allow", "bypass")


def _members(cluster):
    """(node name, what the node reported or None) for every node of the cluster."""
    names = [n.get("name") for n in cluster["nodes"]] or [m.get("computer") for m in cluster["members"].values()]
    return [(name, cluster["members"].get(key(name))) for name in names]


def _agent_version(member):
    """(version text or None, known) of the agent the node itself reported."""
    if not member or member.get("error"):
        return None, False
    agent = member.get("agent")
    if not isinstance(agent, dict) or "installed" not in agent:
        return None, False
    if not agent.get("installed"):
        return None, True
    return agent.get("version"), agent.get("version") is not None


def _subject(cluster, name):
    return "%s/%s" % (cluster["name"], name)


def ms_01(facts, plan):
    """Failover clusters are supported from DSA for Windows 8.0 SP1: installed and planned versions."""
    out = []
    target = plan["agent_version"]
    if target and facts["failover_clusters"]:
        status, reason = versions.ms01_support(target)
        if status in ("unsupported", "unknown"):
            out.append(finding("MS-01", "blocker" if status == "unsupported" else "warning", "agent_version " + target,
                               "the planned agent version %s is %s; failover clusters are supported from DSA 8.0 SP1"
                               % (target, reason), {"target": target},
                               remedy("role", "wsfc_agent_rollout", "choose a current agent version (wsfc_rollout_version)")))
    for cluster in facts["failover_clusters"]:
        for name, member in _members(cluster):
            version, known = _agent_version(member)
            if not known:
                out.append(finding("MS-01", "warning", _subject(cluster, name),
                                   "the agent on %s could not be read (%s)" % (name, (member or {}).get("error") or "node not gathered"),
                                   {"node": member}, remedy("module", "mscs_cluster_info", "check the node's WinRM access")))
                continue
            if version is None:
                continue
            status, reason = versions.ms01_support(version)
            if status == "supported":
                continue
            out.append(finding("MS-01", "blocker" if status == "unsupported" else "warning", _subject(cluster, name),
                               "agent %s on failover-cluster node %s is %s; failover clusters are supported from DSA 8.0 SP1"
                               % (version, name, reason), {"agent_version": version}, ROLLOUT))
    return out


def _owners(cluster):
    return set(key(g.get("owner_node")) for g in cluster["groups"] if not g.get("is_core") and g.get("owner_node"))


def _rebooted(member):
    agent = (member or {}).get("agent") or {}
    pending = agent.get("reboot_pending", (member or {}).get("reboot_pending"))
    return None if pending is None else not pending


def _blip_findings(rule_id, facts, plan, active):
    """The planned change on each active (or standby) node: does it blip the network?"""
    target = plan["agent_version"]
    if not target:
        return []
    out = []
    for cluster in facts["failover_clusters"]:
        owners = _owners(cluster)
        for name, member in _members(cluster):
            if (key(name) in owners) != active:
                continue
            version, known = _agent_version(member)
            if known and versions.same(version, target) is True:
                continue
            if known:
                blips, reason = versions.upgrade_blips(version, target, _rebooted(member))
                change = "upgrade %s -> %s" % (version, target) if version else "install of %s" % target
            else:
                blips, reason = True, "the installed agent is unknown"
                change = "change to %s" % target
            if active:
                role = "active node (owns %s)" % ", ".join(sorted(
                    g.get("name") for g in cluster["groups"] if key(g.get("owner_node")) == key(name) and not g.get("is_core")))
            else:
                role = "standby node (owns no role; treated like an active one)"
            evidence = {"installed": version, "target": target, "blips": blips, "reason": reason,
                        "cluster_service": ((member or {}).get("cluster_service") or {}).get("status")}
            if blips:
                out.append(finding(rule_id, "warning", _subject(cluster, name),
                                   "%s blips the network of %s, %s (%s): only with its cluster service stopped"
                                   % (change, name, role, reason), evidence, ROLLOUT))
            else:
                out.append(finding(rule_id, "info", _subject(cluster, name),
                                   "%s on %s: %s" % (change, name, reason), evidence, ROLLOUT))
    return out


def ms_02(facts, plan):
    """Install / uninstall / upgrade only with the cluster service stopped: the blip risk of the planned
    change on each active node, from the installed and target versions (non-interrupting driver builds,
    reboot since the last upgrade); window records left on the nodes."""
    out = _blip_findings("MS-02", facts, plan, active=True)
    for cluster in facts["failover_clusters"]:
        for name, member in _members(cluster):
            record = (member or {}).get("window")
            if isinstance(record, dict) and record.get("window") not in plan["running_windows"]:
                out.append(finding("MS-02", "warning", _subject(cluster, name),
                                   "node %s carries the record of window %s (%s) and no such window is running"
                                   % (name, record.get("window"), record.get("step") or record.get("action") or "step unknown"),
                                   {"window": record}, RECOVER))
    return out


def ms_03(facts, plan):
    """Standby nodes are treated like active ones: the same blip judgement for nodes that own no role."""
    return _blip_findings("MS-03", facts, plan, active=False)


def _ports(value):
    out = []
    for item in as_list(value):
        for part in str(item).split(","):
            part = part.strip()
            if not part:
                continue
            if "-" in part:
                low, high = part.split("-", 1)
                out.append((int(low), int(high)))
            else:
                out.append((int(part), int(part)))
    return out


def _covers_heartbeat(rule):
    """Whether an incoming rule matches the cluster heartbeat (UDP 3343)."""
    if str(rule.get("direction") or "incoming") != "incoming":
        return False
    if str(rule.get("frameType") or "any") not in ("any", "ip", "ipv4", "ipv6"):
        return False
    if str(rule.get("protocol") or "any") not in ("any", "udp", "tcp-udp"):
        return False
    port_type = str(rule.get("destinationPortType") or "any")
    if port_type == "any":
        return True
    if port_type == "multiple":
        try:
            ranges = _ports(rule.get("destinationPortMultiple"))
        except ValueError:
            return False
        return any(low <= HEARTBEAT_PORT <= high for low, high in ranges)
    return False


def ms_04(facts, plan):
    """The cluster heartbeat must not be blocked by the Deep Security firewall: a deny that matches it
    is a blocker; without an allow, force-allow or bypass for it the node is not proven safe."""
    out = []
    rules = facts["firewall_rules"]
    for cluster in facts["failover_clusters"]:
        heartbeat = [n.get("name") for n in cluster["networks"] if n.get("heartbeat")]
        for name, _member in _members(cluster):
            computer = computer_for(facts, name)
            if computer is None:
                continue
            state = module_state(computer, "firewall")
            if state == "off":
                continue
            subject = _subject(cluster, name)
            evidence = {"firewall": state, "heartbeat_networks": heartbeat,
                        "assigned_rule_ids": computer.get("firewall_rule_ids")}
            assigned = computer.get("firewall_rule_ids")
            if rules is None or assigned is None:
                out.append(finding("MS-04", "warning", subject,
                                   "the Deep Security firewall is %s on %s and its rules were not gathered, so the heartbeat "
                                   "(UDP %d) cannot be shown to pass" % (state or "of unknown state", name, HEARTBEAT_PORT),
                                   evidence, remedy("role", "assess", "gather the firewall rules (assess_firewall_rule_names)")))
                continue
            matching = [rules[i] for i in assigned if i in rules and _covers_heartbeat(rules[i])]
            denies = [r for r in matching if r.get("action") == "deny"]
            passes = [r for r in matching if r.get("action") in PASSING]
            evidence.update(heartbeat_rules=[r.get("name") for r in matching])
            fix = remedy("module", "dsm_firewall_rule", "an incoming allow (or bypass) for UDP %d from the cluster "
                         "networks, assigned with clustersafe.deep_security.dsm_firewall_assignment" % HEARTBEAT_PORT)
            if denies:
                out.append(finding("MS-04", "blocker", subject, "firewall rule(s) %s on %s deny the cluster heartbeat (UDP %d)"
                                   % (", ".join(str(r.get("name")) for r in denies), name, HEARTBEAT_PORT), evidence, fix))
            elif not passes:
                unread = [i for i in assigned if i not in rules]
                evidence.update(unread_rule_ids=unread)
                out.append(finding("MS-04", "warning", subject,
                                   "the Deep Security firewall is %s on %s and no %sassigned rule lets the cluster heartbeat "
                                   "(UDP %d) through%s" % (state or "of unknown state", name, "gathered " if unread else "",
                                                           HEARTBEAT_PORT,
                                                           "; %d assigned rule(s) were not read (name them in "
                                                           "assess_firewall_rule_names)" % len(unread) if unread else ""),
                                   evidence, fix))
    return out


def ms_05(facts, plan):
    """Agentless (DSVA) activation or deactivation blips the guest's network: for failover-cluster nodes
    planned for it, stop the cluster service first."""
    out = []
    planned = set(key(g) for g in plan["agentless_guests"])
    for cluster in facts["failover_clusters"]:
        for name, member in _members(cluster):
            if key(name) not in planned:
                continue
            out.append(finding("MS-05", "warning", _subject(cluster, name),
                               "DSVA activation or deactivation of %s reconfigures its vNIC (dvfilter) and blips its network: "
                               "drain the node and stop its cluster service first" % name,
                               {"cluster_service": ((member or {}).get("cluster_service") or {}).get("status")},
                               remedy("module", "mscs_node", "state=stopped before, state=started and resumed after")))
    return out
