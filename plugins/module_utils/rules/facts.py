# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the rules judge: the info modules' results gathered into one plain document, and the shape of
a finding. Every reader here is defensive: a field that is missing is ``None`` (unknown), and the rules
treat unknown as "cannot tell", never as a pass. Pure: no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils._agent_version import parse_or_none

SEVERITIES = ("blocker", "warning", "info")
UNKNOWN = None
# Keys that Ansible adds to registered results and loop items; never facts.
_RESULT_NOISE = ("invocation", "changed", "item", "ansible_loop_var", "_ansible_no_log", "_ansible_item_label")

COLLECTION = "clustersafe.deep_security"


def remedy(kind, name, how=""):
    """``role clustersafe.deep_security.dsva_placement`` (+ what to do)."""
    text = "%s %s.%s" % (kind, COLLECTION, name)
    return text + (": " + how if how else "")


def finding(rule_id, severity, subject, message, evidence, remedy_text):
    if severity not in SEVERITIES:
        raise ValueError("severity %r" % severity)
    return {"id": rule_id, "severity": severity, "subject": subject, "message": message,
            "evidence": evidence, "remedy": remedy_text}


def key(name):
    """Host names compare without case and without the domain (``SQL-NODE1.corp`` is ``sql-node1``)."""
    if name is None:
        return None
    return str(name).strip().lower().split(".", 1)[0]


def as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _results(value):
    """A registered loop result (``{"results": [...]}``), a list, or one result -> list of dicts."""
    if isinstance(value, dict) and isinstance(value.get("results"), list):
        return [item for item in value["results"] if isinstance(item, dict)]
    return [item for item in as_list(value) if isinstance(item, dict)]


def _clean(result):
    return dict((k, v) for k, v in result.items() if k not in _RESULT_NOISE)


def vsphere_clusters(value):
    """``vsphere_cluster_info`` results, their ``clusters``, or cluster documents -> cluster documents."""
    clusters = []
    for item in _results(value):
        if isinstance(item.get("clusters"), list):
            clusters.extend(c for c in item["clusters"] if isinstance(c, dict))
        elif "name" in item and ("hosts" in item or "drs" in item or "dsvas" in item):
            clusters.append(item)
    return clusters


def _unreachable(item):
    return bool(item.get("failed") or item.get("unreachable") or item.get("skipped"))


def failover_clusters(value):
    """``mscs_cluster_info`` results, one per node -> clusters ``{name, quorum, nodes, groups, networks,
    members}`` where ``members`` maps each node key to what that node itself reported (``computer``,
    ``cluster_service``, ``agent``, any window record) or ``{error}`` when it could not be read."""
    clusters = {}
    unplaced = []
    for raw in _results(value):
        item = _clean(raw)
        computer = item.get("computer") or (raw.get("item") if isinstance(raw.get("item"), str) else None)
        # A failed read (also one registered with failed_when: false) carries no computer of its own.
        if _unreachable(item) or not item.get("computer"):
            unplaced.append(dict(computer=computer, error=item.get("msg") or "no result"))
            continue
        cluster = item.get("cluster") if isinstance(item.get("cluster"), dict) else None
        node_names = [n.get("name") for n in as_list(item.get("nodes")) if isinstance(n, dict)]
        name = (cluster or {}).get("name")
        entry = clusters.get(name) if name else None
        if entry is None and name:
            entry = clusters.setdefault(name, dict(name=name, quorum=None, nodes=[], groups=[], networks=[], members={}))
        if entry is not None and cluster is not None and not entry["nodes"]:
            entry.update(quorum=dict((k, cluster.get(k)) for k in ("quorum_type", "quorum_resource") if k in cluster),
                         nodes=[n for n in as_list(item.get("nodes")) if isinstance(n, dict)],
                         groups=[g for g in as_list(item.get("groups")) if isinstance(g, dict)],
                         networks=[n for n in as_list(item.get("networks")) if isinstance(n, dict)])
        member = dict((k, item.get(k)) for k in ("computer", "cluster_service", "agent", "member"))
        for record_key in ("window", "window_record", "windows"):
            if item.get(record_key):
                member["window"] = item[record_key]
        if entry is None:
            unplaced.append(dict(member, node_names=node_names))
        else:
            entry["members"][key(computer)] = member
    # A node whose cluster service is stopped cannot read the cluster: place it by the node lists.
    for member in unplaced:
        for entry in clusters.values():
            if key(member.get("computer")) in [key(n.get("name")) for n in entry["nodes"]]:
                entry["members"][key(member["computer"])] = member
                break
        else:
            name = "(unknown cluster of %s)" % member.get("computer")
            clusters.setdefault(name, dict(name=name, quorum=None, nodes=[], groups=[], networks=[],
                                           members={}))["members"][key(member.get("computer"))] = member
    return [clusters[name] for name in sorted(clusters)]


def nlb_clusters(value):
    """``nlb_cluster_info`` results, one per host -> clusters ``{name, ip_address, mode, nodes,
    port_rules, members}``."""
    clusters = {}
    errors = []
    for raw in _results(value):
        item = _clean(raw)
        cluster = item.get("cluster") if isinstance(item.get("cluster"), dict) else None
        if _unreachable(item) or cluster is None:
            errors.append(dict(computer=item.get("computer") or (raw.get("item") if isinstance(raw.get("item"), str) else None),
                               error=item.get("msg") or "no NLB cluster"))
            continue
        name = cluster.get("name") or "(unnamed)"
        entry = clusters.setdefault(name, dict(name=name, ip_address=cluster.get("ip_address"),
                                               mode=cluster.get("mode"), nodes=[], port_rules=[], members={}))
        if not entry["nodes"]:
            entry["nodes"] = [n for n in as_list(item.get("nodes")) if isinstance(n, dict)]
            entry["port_rules"] = [r for r in as_list(item.get("port_rules")) if isinstance(r, dict)]
        entry["members"][key(item.get("computer"))] = dict(computer=item.get("computer"),
                                                           local_state=cluster.get("local_state"))
    result = [clusters[name] for name in sorted(clusters)]
    if errors:
        result.append(dict(name="(unreadable NLB hosts)", ip_address=None, mode=None, nodes=[], port_rules=[],
                           members=dict((key(e["computer"]), e) for e in errors)))
    return result


def dsm_computers(value):
    """``dsm_computer_info`` results or computer documents -> {host key: computer}."""
    index = {}
    for item in _results(value):
        computers = item.get("computers") if isinstance(item.get("computers"), list) else [item]
        for computer in computers:
            if not isinstance(computer, dict):
                continue
            for name in (computer.get("host_name"), computer.get("display_name")):
                if name and key(name) not in index:
                    index[key(name)] = computer
    return index


def _camel(rule):
    """Firewall rules as ``dsm_firewall_rule`` returns them (snake_case) or as the DSM has them (camelCase)."""
    names = {"id": "ID", "frame_type": "frameType", "frame_number": "frameNumber", "frame_not": "frameNot",
             "protocol_not": "protocolNot", "destination_port_type": "destinationPortType",
             "destination_port_multiple": "destinationPortMultiple", "source_port_type": "sourcePortType",
             "source_port_multiple": "sourcePortMultiple", "destination_ports": "destinationPorts"}
    out = {}
    for name, value in rule.items():
        out[names.get(name, name)] = value
    if isinstance(rule.get("firewall_rule"), dict):
        inner = _camel(rule["firewall_rule"])
        inner.setdefault("ID", rule.get("id"))
        return inner
    return out


def firewall_rules(value):
    """Known firewall rules by ID, or None when the caller gathered none (unknown, not "no rules")."""
    if value is None:
        return None
    rules = {}
    for item in _results(value):
        rule = _camel(_clean(item))
        if rule.get("ID") is not None:
            try:
                rules[int(rule["ID"])] = rule
            except (TypeError, ValueError):
                continue
    return rules


def gather(raw):
    """The document every rule reads, from the module's options (see ``cluster_assess``)."""
    raw = raw or {}
    return dict(
        vsphere_clusters=vsphere_clusters(raw.get("vsphere_clusters")),
        failover_clusters=failover_clusters(raw.get("failover_nodes")),
        nlb_clusters=nlb_clusters(raw.get("nlb_nodes")),
        computers=dsm_computers(raw.get("dsm_computers")),
        dsm_gathered=raw.get("dsm_computers") is not None,
        firewall_rules=firewall_rules(raw.get("firewall_rules")),
    )


def plan_of(raw):
    """The planned work the assessment is a preflight for; every part optional."""
    raw = raw or {}
    return dict(
        agent_version=raw.get("agent_version") or None,
        prepare_hosts=[str(h) for h in as_list(raw.get("prepare_hosts"))],
        desktop_clusters=[str(c) for c in as_list(raw.get("desktop_clusters"))],
        dsva_clusters=[str(c) for c in as_list(raw.get("dsva_clusters"))],
        agentless_guests=[str(g) for g in as_list(raw.get("agentless_guests"))],
        nlb_rollout=bool(raw.get("nlb_rollout")),
        running_windows=[str(w) for w in as_list(raw.get("running_windows"))],
        other_clusters=[c if isinstance(c, dict) else {"name": str(c)} for c in as_list(raw.get("other_clusters"))],
    )


def computer_for(facts, name):
    return facts["computers"].get(key(name))


def module_state(computer, module):
    """A protection module's state as ``dsm_computer_info`` reports it; None when unknown."""
    modules = computer.get("modules") if isinstance(computer, dict) else None
    if not isinstance(modules, dict) or not isinstance(modules.get(module), dict):
        return None
    state = modules[module].get("state")
    return str(state).lower() if state is not None else None


def has_agent(computer):
    return computer is not None and parse_or_none(computer.get("agent_version")) is not None
