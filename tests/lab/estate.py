"""A generated lab estate: N Windows failover clusters of three nodes each, their VMs in vCenter, and an
inventory that names each cluster, from the lab's own topology.

Cluster 1 is the lab's SQLCLU01 as ``topology.yml`` has it (SQL-NODE1..3 on 127.0.0.21-23, VMs on
Prod-Cluster); clusters 2..N are shaped like it: ``SQLCLU<nn>`` with nodes ``SQL<nn>-NODE1..3`` on
127.1.<nn>.1-3 (one WinRM endpoint per node, as for every lab node), the SQL Server role on node 1. Their
VMs go to Prod-Cluster (odd clusters) or to a second DRS cluster, Db-Cluster (even clusters), so a window
over the estate holds DRS on two vSphere clusters, each shared by several failover clusters.

    python3 tests/lab/labctl.py start --failover-clusters 10     # writes <state>/topology.yml, inventory.yml

With N=1 the topology is the lab's own.

``--nlb-farms M`` adds NLB farms the same way: farm 1 is the lab's WEBFARM (WEB1..3 on 127.0.0.31-33);
farms 2..M are shaped like it: ``WEBFARM<nn>`` with hosts ``WEB<nn>-1..3`` on 127.2.<nn>.1-3, a cluster IP
of their own (192.0.2.<80 + nn>) and WEBFARM's port rules, their VMs on Web-Cluster. The inventory then
has a group per farm setting ``nlb_agent_rollout_farm``, and ``web_farms`` over all of them.

    python3 tests/lab/labctl.py start --failover-clusters 1 --nlb-farms 2
"""
import copy

DB_CLUSTER = "Db-Cluster"
DB_HOSTS = ["esx-21.lab.local", "esx-22.lab.local", "esx-23.lab.local"]
MAX_CLUSTERS = 99
MAX_FARMS = 99
WEB_CLUSTER = "Web-Cluster"


def cluster_name(index):
    return "SQLCLU%02d" % index


def _generated_cluster(index):
    nodes = [{"name": "SQL%02d-NODE%d" % (index, position), "address": "127.1.%d.%d" % (index, position)}
             for position in (1, 2, 3)]
    return {
        "name": cluster_name(index),
        "quorum": "NodeAndFileShareMajority",
        "nodes": nodes,
        "groups": [
            {"name": "Cluster Group", "owner": nodes[0]["name"], "core": True},
            {"name": "Available Storage", "owner": nodes[0]["name"], "core": True},
            {"name": "SQL Server (MSSQLSERVER)", "owner": nodes[0]["name"], "application": True},
        ],
        "networks": [{"name": "Cluster Network 1", "role": 3, "address": "10.%d.0.0" % (10 + index)},
                     {"name": "Heartbeat", "role": 1, "address": "10.%d.1.0" % (10 + index)}],
    }


def farm_name(index):
    return "WEBFARM%02d" % index


def _generated_farm(base_farm, index):
    """An NLB farm shaped like the lab's WEBFARM: same size, mode and port rules, its own hosts and cluster IP."""
    farm = copy.deepcopy(base_farm)
    farm["name"] = farm_name(index)
    farm["ip_address"] = "192.0.2.%d" % (80 + index)
    farm["nodes"] = [dict(node, name="WEB%02d-%d" % (index, position), address="127.2.%d.%d" % (index, position))
                     for position, node in enumerate(base_farm["nodes"], start=1)]
    return farm


def _add_nlb_farms(topology, count):
    farms = topology["windows"]["nlb_clusters"]
    web = dict((cluster["name"], cluster) for cluster in topology["vcenter"]["clusters"])[WEB_CLUSTER]
    for index in range(2, count + 1):
        farm = _generated_farm(farms[0], index)
        farms.append(farm)
        for position, node in enumerate(farm["nodes"]):
            web["vms"].append({"name": node["name"], "host": web["hosts"][position % len(web["hosts"])]})


def estate_topology(base, failover_clusters, nlb_farms=1):
    """The lab topology with ``failover_clusters`` failover clusters (1 .. 99) and ``nlb_farms`` NLB farms
    (1 .. 99)."""
    count = int(failover_clusters)
    if not 1 <= count <= MAX_CLUSTERS:
        raise ValueError("--failover-clusters must be between 1 and %d, not %s" % (MAX_CLUSTERS, failover_clusters))
    farms = int(nlb_farms)
    if not 1 <= farms <= MAX_FARMS:
        raise ValueError("--nlb-farms must be between 1 and %d, not %s" % (MAX_FARMS, nlb_farms))
    topology = copy.deepcopy(base)
    if farms > 1:
        _add_nlb_farms(topology, farms)
    if count == 1:
        return topology
    vsphere = dict((cluster["name"], cluster) for cluster in topology["vcenter"]["clusters"])
    prod = vsphere["Prod-Cluster"]
    db = {"name": DB_CLUSTER, "drs": {"enabled": True, "automation": "fullyAutomated", "vmotion_rate": 3},
          "ha": {"enabled": True, "host_monitoring": "enabled", "admission_control": True},
          "dsva": False, "hosts": list(DB_HOSTS), "vms": []}
    topology["vcenter"]["clusters"].append(db)
    for index in range(2, count + 1):
        cluster = _generated_cluster(index)
        topology["windows"]["failover_clusters"].append(cluster)
        target = db if index % 2 == 0 else prod
        for position, node in enumerate(cluster["nodes"]):
            target["vms"].append({"name": node["name"], "host": target["hosts"][position % len(target["hosts"])]})
    return topology


def estate_inventory(base_inventory, topology):
    """The lab inventory with every failover cluster of ``topology`` as a group of its own, each node's
    ``wsfc_agent_rollout_cluster`` set by that group, and ``sql_clusters`` over all of them."""
    inventory = copy.deepcopy(base_inventory)
    windows = inventory["all"]["children"]["windows"]["children"]
    clusters = topology["windows"]["failover_clusters"]
    children = {}
    for index, cluster in enumerate(clusters, start=1):
        group = "sql_cluster" if index == 1 else cluster["name"].lower()
        hosts = dict((node["name"], {"ansible_host": node["address"]}) for node in cluster["nodes"])
        entry = windows.get(group) or {"hosts": hosts}
        entry["vars"] = dict(entry.get("vars") or {}, wsfc_agent_rollout_cluster=cluster["name"])
        windows[group] = entry
        children[group] = {}
    windows["sql_clusters"] = {"children": children}
    farms = topology["windows"].get("nlb_clusters") or []
    if len(farms) > 1:
        farm_groups = {}
        for index, farm in enumerate(farms, start=1):
            group = "web_farm" if index == 1 else farm["name"].lower()
            hosts = dict((node["name"], {"ansible_host": node["address"]}) for node in farm["nodes"])
            entry = windows.get(group) or {"hosts": hosts}
            entry["vars"] = dict(entry.get("vars") or {}, nlb_agent_rollout_farm=farm["name"])
            windows[group] = entry
            farm_groups[group] = {}
        windows["web_farms"] = {"children": farm_groups}
    return inventory
