"""Facts shaped as the info modules return them (their RETURN docs), for the rule tests. Each builder
gives a healthy default that passes every rule; tests change one thing and expect one finding."""
import copy

from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules import catalogue


def dsva(name, host, pinned=True, power="poweredOn"):
    return {"name": name, "host": host, "power_state": power, "drs_disabled": pinned, "ha_restart_disabled": pinned,
            "pinned": pinned}


def vsphere_cluster(name="Prod", hosts=("esx-1", "esx-2", "esx-3"), level="fullyAutomated", dsm_on="esx-1"):
    host_docs = []
    dsvas = []
    for host in hosts:
        dsvas.append(dsva("dsva-" + host, host))
        guests = ["dsva-" + host, "app-" + host] + (["dsm-01"] if host == dsm_on else [])
        host_docs.append({"name": host, "moid": "host-" + host, "connection_state": "connected", "maintenance_mode": False,
                          "powered_on_vms": sorted(guests), "powered_on_vm_count": len(guests),
                          "dsvas": ["dsva-" + host], "evacuation": None})
    return {"name": name, "moid": "domain-c1", "datacenter": "DC",
            "drs": {"enabled": True, "automation_level": level, "vmotion_rate": 3, "vm_overrides_allowed": True},
            "ha": {"enabled": True, "host_monitoring": "enabled", "admission_control": True,
                   "default_restart_priority": "medium", "isolation_response": "none"},
            "hosts": host_docs, "drs_vm_overrides": [], "ha_vm_overrides": [], "dsvas": dsvas,
            "dsm_vms": [{"name": "dsm-01", "host": dsm_on, "power_state": "poweredOn"}] if dsm_on else [],
            "drs_window": None}


def wsfc_node(computer, service="Running", agent_version="20.0.1.690", owner="SQL-NODE1", cluster="SQLCLU01",
              nodes=("SQL-NODE1", "SQL-NODE2", "SQL-NODE3")):
    """One mscs_cluster_info result as registered (with Ansible's own keys)."""
    running = service == "Running"
    return {
        "changed": False, "invocation": {"module_args": {"password": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}},
        "computer": computer, "member": True,
        "cluster": {"name": cluster, "quorum_type": "NodeAndFileShareMajority", "quorum_resource": "File Share Witness"}
        if running else None,
        "nodes": [{"name": n, "id": str(i + 1), "state": "Up", "drain_status": "NotInitiated", "node_weight": 1,
                   "dynamic_weight": 1} for i, n in enumerate(nodes)] if running else [],
        "groups": [{"name": "Cluster Group", "owner_node": owner, "state": "Online", "is_core": True},
                   {"name": "SQL Server (MSSQLSERVER)", "owner_node": owner, "state": "Online", "is_core": False}]
        if running else [],
        "networks": [{"name": "Heartbeat", "role": "Cluster", "state": "Up", "address": "10.10.1.0", "heartbeat": True,
                      "cluster_only": True}] if running else [],
        "cluster_service": {"status": service, "start_mode": "Automatic"},
        "agent": {"installed": bool(agent_version), "version": agent_version,
                  "service_status": "Running" if agent_version else None},
    }


def wsfc_nodes(**kwargs):
    return {"results": [wsfc_node(name, **kwargs) for name in ("SQL-NODE1", "SQL-NODE2", "SQL-NODE3")],
            "changed": False}


def nlb_node(computer, cluster="WEBFARM", nodes=("WEB1", "WEB2", "WEB3")):
    return {"changed": False, "computer": computer,
            "cluster": {"name": cluster, "ip_address": "192.0.2.80", "subnet_mask": "255.255.255.0", "mode": "Unicast",
                        "mac_address": "02-bf-c0-00-02-50", "local_state": "Converged"},
            "nodes": [{"name": n, "host_id": i + 1, "state": "Converged", "priority": i + 1, "interface": "Ethernet0",
                       "initial_state": "Started"} for i, n in enumerate(nodes)],
            "port_rules": [{"start_port": 80, "end_port": 80, "protocol": "Tcp", "mode": "Multiple", "affinity": "Single",
                            "ip_address": "All"}]}


def nlb_nodes():
    return [nlb_node(name) for name in ("WEB1", "WEB2", "WEB3")]


MODULE_KEYS = ("anti_malware", "web_reputation", "firewall", "intrusion_prevention", "integrity_monitoring",
               "log_inspection", "application_control")


def computer(host_name, computer_id, version="20.0.1-690", firewall="on", ips="off", mode="Inline", rule_ids=()):
    states = dict((k, "off") for k in MODULE_KEYS)
    states.update(firewall=firewall, intrusion_prevention=ips, anti_malware="on")
    return {"id": computer_id, "host_name": host_name, "display_name": "", "platform": "Windows",
            "agent_version": version, "policy_id": 4, "policy_name": "NLB Web Farm", "agent_status": "active",
            "agent_status_messages": ["Managed (Online)"], "network_engine_mode": mode,
            "firewall_rule_ids": list(rule_ids),
            "modules": dict((k, {"name": k, "state": s, "status": "active", "status_message": ""}) for k, s in states.items())}


# The collection's own heartbeat bypass pair (nlb_exclusion_rules) and a failover-cluster heartbeat allow,
# as dsm_firewall_rule returns them (snake_case inside firewall_rule).
HEARTBEAT_IN = {"id": 11, "firewall_rule": {"name": "hb in", "action": "bypass", "direction": "incoming",
                                            "frame_type": "other", "frame_number": 0x886F, "frame_not": False}}
HEARTBEAT_OUT = {"id": 12, "firewall_rule": {"name": "hb out", "action": "bypass", "direction": "outgoing",
                                             "frame_type": "other", "frame_number": 0x886F, "frame_not": False}}
CLUSTER_ALLOW = {"ID": 21, "name": "WSFC heartbeat", "action": "allow", "direction": "incoming", "frameType": "ip",
                 "protocol": "udp", "destinationPortType": "multiple", "destinationPortMultiple": ["3343"]}
CLUSTER_DENY = {"ID": 22, "name": "deny udp", "action": "deny", "direction": "incoming", "frameType": "ip",
                "protocol": "udp", "destinationPortType": "multiple", "destinationPortMultiple": ["3000-4000"]}


def healthy():
    """A fully compliant estate: two vSphere clusters, a failover cluster and an NLB farm with agents."""
    return {
        "vsphere_clusters": {"changed": False, "clusters": [vsphere_cluster("Prod"),
                                                            vsphere_cluster("VDI", ("esx-11", "esx-12"), "manual", None)]},
        "failover_nodes": wsfc_nodes(),
        "nlb_nodes": nlb_nodes(),
        "dsm_computers": {"computers": [computer("SQL-NODE%d" % i, i, rule_ids=[21]) for i in (1, 2, 3)]
                          + [computer("WEB%d" % i, 10 + i, rule_ids=[11, 12]) for i in (1, 2, 3)]},
        "firewall_rules": [HEARTBEAT_IN, HEARTBEAT_OUT, CLUSTER_ALLOW, CLUSTER_DENY],
    }


def run(facts=None, plan=None, only=None):
    """Findings of the rule ``only`` (all rules when None)."""
    result = catalogue.assess(facts if facts is not None else healthy(), plan or {})
    return [f for f in result["findings"] if only is None or f["id"] == only]


def change(facts, path, value):
    """Copy of ``facts`` with one value changed; ``path`` like ``vsphere_clusters.clusters.0.drs.automation_level``."""
    facts = copy.deepcopy(facts)
    target = facts
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last = parts[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return facts
