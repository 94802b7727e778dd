"""The Python model behind the simulated Windows nodes.

State shared across nodes: failover-cluster membership, role ownership, each node's cluster service,
NLB host states and installed agents. It answers the collection's scripts (recognised by their marker
line) with the JSON document the real PowerShell would print, and models the hazard of rule MS-02: a
network blip on a node whose cluster service runs fails its roles over (unplanned) and can leave the
application role Failed. Draining first records planned moves instead.

State is written to ``<state_dir>/windows-state.json`` after every change so a labd restart keeps it.
"""
import copy
import hashlib
import json
import os
import re
import time
import uuid

VERSION_IN_SOURCE = re.compile(r"(\d+\.\d+\.\d+[-.]\d+)")


class ScriptFailure(Exception):
    """A terminating PowerShell error: the text goes to stderr as CLIXML, exit code 1."""


def lab_msi_sha256(version):
    """The lab's MSI for a version is a fixed byte string, so tests can compute its digest."""
    return hashlib.sha256(("clustersafe-lab-msi:%s" % dash_version(version)).encode()).hexdigest().upper()


def dash_version(version):
    numbers = re.findall(r"\d+", str(version))
    if len(numbers) == 4:
        return "%s.%s.%s-%s" % tuple(numbers)
    return str(version)


def msi_version(version):
    return ".".join(re.findall(r"\d+", str(version)))


def initial_state(topology):
    windows = topology["windows"]
    state = {"clusters": {}, "nlb": {}, "nodes": {}, "failovers": [], "blips": [], "events": []}
    for cluster in windows.get("failover_clusters", []):
        entry = {"name": cluster["name"], "quorum": cluster.get("quorum", "NodeMajority"), "order": [],
                 "groups": [], "networks": []}
        for index, node in enumerate(cluster["nodes"]):
            entry["order"].append(node["name"])
            state["nodes"][node["name"]] = _node(node, wsfc=cluster["name"], node_id=index + 1)
        for group in cluster.get("groups", []):
            entry["groups"].append(_group(group, entry["order"]))
        for network in cluster.get("networks", []):
            entry["networks"].append({"name": network["name"], "role": int(network.get("role", 3)),
                                      "address": network.get("address", ""), "state": "Up"})
        state["clusters"][cluster["name"]] = entry
    for farm in windows.get("nlb_clusters", []):
        entry = {"name": farm["name"], "ip_address": farm["ip_address"],
                 "subnet_mask": farm.get("subnet_mask", "255.255.255.0"), "mode": farm.get("mode", "Unicast"),
                 "order": [], "port_rules": copy.deepcopy(farm.get("port_rules", [])),
                 "open_connection_seconds": int(farm.get("open_connection_seconds", 45))}
        for node in farm["nodes"]:
            entry["order"].append(node["name"])
            record = state["nodes"].setdefault(node["name"], _node(node))
            record["nlb"] = farm["name"]
            record["nlb_state"] = "Converged"
            record["nlb_priority"] = int(node.get("host_priority", len(entry["order"])))
            record["nlb_interface"] = node.get("interface", "Ethernet0")
        state["nlb"][farm["name"]] = entry
    return state


def _group(group, nodes):
    """A role: its resources' types (SQL Server registers "SQL Server" for an FCI and "SQL Server Availability
    Group" for an availability group) and the nodes that may own it (every resource's possible owners; all the
    cluster's nodes unless the topology or a fault says otherwise)."""
    return {"name": group["name"], "owner": group["owner"], "home": group["owner"], "state": "Online",
            "core": bool(group.get("core")), "application": bool(group.get("application")),
            "resource_types": list(group.get("resource_types") or []),
            "possible_owners": list(group["possible_owners"]) if group.get("possible_owners") is not None
            else list(nodes)}


def _node(node, wsfc=None, node_id=None):
    return {"name": node["name"], "address": node["address"], "wsfc": wsfc, "node_id": node_id,
            "clussvc": "Running" if wsfc else None, "paused": False, "drain_status": "NotInitiated",
            "nlb": None, "nlb_state": None,
            "agent": _no_agent()}


def _no_agent(reboot_required=False):
    return {"version": None, "activated": False, "dsm_url": None, "policy_id": None, "tenant_id": None,
            "reboot_required": reboot_required, "driver_loaded": False, "self_protection": False,
            "self_protection_password": None, "recorded_url": None, "recorded_policy_id": None}


# Get-ClusterQuorum on Windows Server 2016 and later: QuorumType Majority whatever the witness; the witness
# is QuorumResource with its ResourceType.DisplayName (FailoverClusterDsc DSC_ClusterQuorum.psm1).
WITNESS_BY_QUORUM = {"NodeAndFileShareMajority": ("File Share Witness", "File Share Quorum Witness"),
                     "NodeAndDiskMajority": ("Cluster Disk 1", "Physical Disk"),
                     "NodeAndCloudMajority": ("Cloud Witness", "Cloud Witness")}
# Get-NlbClusterDriverInfo CurrentHostState: the driver's host state, not the convergence state.
NLB_HOST_STATES = {"Stopped": "Stopped", "Suspended": "Suspended"}


def nlb_mac(mode, address):
    octets = [int(part) for part in address.split(".")]
    if mode == "IgmpMulticast":
        return "01-00-5E-7F-%02X-%02X" % (octets[2], octets[3])
    prefix = "03-BF" if mode == "Multicast" else "02-BF"
    return prefix + "".join("-%02X" % octet for octet in octets)


class WindowsModel(object):
    def __init__(self, world):
        self.world = world
        self.path = os.path.join(world.state_dir, "windows-state.json")
        self.faults = {}
        self.counters = {}
        self.command_lines = {}
        self.script_text = ""
        # seconds the nodes' clocks run ahead of this machine's (tests let leases expire without waiting)
        self.clock_offset = 0.0
        # scripts whose replies are not due yet, across every node: how many a controller had running at once
        self._running_until = []
        self.most_scripts_at_once = 0
        self.state = None
        if os.path.exists(self.path):
            try:
                with open(self.path) as handle:
                    self.state = json.load(handle)
            except ValueError:
                self.state = None
        if self.state is None:
            self.reset()

    # --- persistence and control ----------------------------------------------------------------

    def save(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        with open(self.path + ".tmp", "w") as handle:
            json.dump(self.state, handle, sort_keys=True)
        os.replace(self.path + ".tmp", self.path)

    def reset(self):
        self.state = initial_state(self.world.topology)
        self.faults = {}
        self._running_until = []
        self.most_scripts_at_once = 0
        self.save()

    def set_faults(self, faults):
        """Counted faults (``timeout_next``, ``script_error_next``, ``malformed_next``,
        ``no_rejoin_next``), ``msi_exit_next`` and ``slow_ms``; ``node`` and ``marker`` scope the
        counted faults and the MSI exit code to one node and/or one script."""
        if faults.get("clear"):
            self.faults = {}
        for key in ("timeout_next", "malformed_next", "slow_ms", "msi_exit_next", "script_error_next",
                    "no_rejoin_next", "node", "marker", "activation_fail_next", "installer_running",
                    "installer_mutex", "product_code", "fail_on_move", "quorum_loss_on_stop",
                    "dependent_services", "operation_seconds"):
            if key in faults:
                self.faults[key] = faults[key]
        # {"self_protection": {"WEB3": "password"}}: turn agent self-protection on for a node, with the
        # password "Local override requires password" sets in the manager's policy ("" for none)
        # {"roles": {"SQLCLU01": [{"name": "AG01", "owner": "SQL-NODE2", "resource_types": [...],
        # "possible_owners": [...]}]}}: roles added to a cluster until the next reset (an availability group, a role
        # pinned to some nodes) without touching the topology the other tests use
        for cluster_name, roles in (faults.get("roles") or {}).items():
            cluster = self.state["clusters"][cluster_name]
            for role in roles:
                cluster["groups"].append(_group(role, cluster["order"]))
            self.save()
        for node_name, password in (faults.get("self_protection") or {}).items():
            agent = self.state["nodes"][node_name]["agent"]
            agent.update(self_protection=True, self_protection_password=password or None)
            self.save()
        return {"faults": dict(self.faults)}

    def operation_seconds(self, marker, params):
        """How long a script takes on a real node, for benchmarks: fault ``operation_seconds`` maps
        ``<marker>.<action>`` (for example ``mscs_node.drain``), ``<marker>`` (``agent_install``) or ``*`` (any
        other script) to seconds; unset, every script answers at once (the lab's waits at zero)."""
        durations = self.faults.get("operation_seconds") or {}
        action = (params or {}).get("action")
        seconds = durations.get("%s.%s" % (marker, action)) if action else None
        if seconds is None:
            # ``*``: what every other script costs (powershell.exe starting and loading its modules)
            seconds = durations.get(marker, durations.get("*", 0))
        return max(float(seconds or 0), 0.0)

    def note_script_running(self, started, ready_at):
        """A script began at ``started`` and answers at ``ready_at`` (monotonic): counted among those running at
        once, the measure of whether a controller works several nodes side by side."""
        self._running_until = [until for until in self._running_until if until > started] + [ready_at]
        self.most_scripts_at_once = max(self.most_scripts_at_once, len(self._running_until))

    def _fault_applies(self, node=None, marker=None):
        wanted_node, wanted_marker = self.faults.get("node"), self.faults.get("marker")
        return (not wanted_node or wanted_node == node) and (not wanted_marker or wanted_marker == marker)

    def take_fault(self, key, node=None, marker=None):
        """Consume one occurrence of a counted fault, if it applies to this node and script."""
        count = self.faults.get(key) or 0
        if count <= 0 or not self._fault_applies(node, marker):
            return False
        self.faults[key] = count - 1
        return True

    def count(self, node, operation, marker=None):
        counters = self.counters.setdefault(node, {"create": 0, "command": 0, "receive": 0, "signal": 0,
                                                   "delete": 0, "scripts": {}})
        counters[operation] += 1
        if marker:
            counters["scripts"][marker] = counters["scripts"].get(marker, 0) + 1

    def status(self):
        clusters = {}
        for name, cluster in self.state["clusters"].items():
            clusters[name] = {
                "nodes": {node: {"state": self._node_state(self.state["nodes"][node]),
                                 "cluster_service": self.state["nodes"][node]["clussvc"],
                                 "drain_status": self.state["nodes"][node]["drain_status"]}
                          for node in cluster["order"]},
                "groups": {group["name"]: {"owner": group["owner"], "state": group["state"]}
                           for group in cluster["groups"]},
            }
        nlb = {name: {node: self.state["nodes"][node]["nlb_state"] for node in farm["order"]}
               for name, farm in self.state["nlb"].items()}
        nlb_converged = {name: {"now": farm.get("converged_now", len(farm["order"])),
                                "min": farm.get("min_converged", len(farm["order"])), "hosts": len(farm["order"])}
                         for name, farm in self.state["nlb"].items()}
        agents = {name: {"version": dash_version(node["agent"]["version"]) if node["agent"]["version"] else None,
                         "activated": node["agent"]["activated"], "policy_id": node["agent"]["policy_id"],
                         "reboot_required": node["agent"]["reboot_required"],
                         "self_protection": node["agent"].get("self_protection", False)}
                  for name, node in self.state["nodes"].items()}
        failovers = self.state["failovers"]
        return {"clusters": clusters, "nlb": nlb, "nlb_converged": nlb_converged, "agents": agents, "failovers": failovers,
                "unplanned_failovers": len([item for item in failovers if not item["planned"]]),
                "blips": self.state["blips"], "events": self.state["events"], "counters": self.counters,
                "faults": self.faults, "window_records": self.window_records_status(),
                "most_scripts_at_once": self.most_scripts_at_once,
                "leases": dict((name, node.get("registry_lease") or "") for name, node in self.state["nodes"].items())}

    # --- helpers ---------------------------------------------------------------------------------

    def node(self, name):
        return self.state["nodes"][name]

    @staticmethod
    def _node_state(node):
        if node["clussvc"] != "Running":
            return "Down"
        return "Paused" if node["paused"] else "Up"

    def _cluster(self, node):
        return self.state["clusters"].get(node["wsfc"]) if node["wsfc"] else None

    def _takers(self, cluster, exclude, group=None):
        """Nodes that can take roles (of ``group``: those among its possible owners): cluster service running and
        not paused, in topology order."""
        allowed = group.get("possible_owners") if group is not None else None
        return [name for name in cluster["order"] if name != exclude
                and self.state["nodes"][name]["clussvc"] == "Running" and not self.state["nodes"][name]["paused"]
                and (allowed is None or name in allowed)]

    def _move(self, cluster, group, target, planned, cause):
        self.state["failovers"].append({"cluster": cluster["name"], "role": group["name"], "from": group["owner"],
                                        "to": target, "planned": planned, "cause": cause, "time": time.time()})
        group["owner"] = target

    # --- the hazard ------------------------------------------------------------------------------

    def blip(self, name, cause):
        """A short network outage on ``name``: harmless unless its cluster service runs."""
        node = self.state["nodes"].get(name)
        if node is None:
            return
        cluster = self._cluster(node)
        effect = "none"
        if cluster and node["clussvc"] == "Running":
            effect = "failover"
            takers = self._takers(cluster, name)
            for group in cluster["groups"]:
                if group["owner"] != name:
                    continue
                if takers:
                    self._move(cluster, group, takers[0], False, "network blip: %s" % cause)
                    # the seed: the blip stops applications such as SQL Server
                    group["state"] = "Failed" if group["application"] else "Online"
                else:
                    group["state"] = "Failed"
            # ...and the cluster service itself, leaving the node Down
            node["clussvc"] = "Stopped"
        if node.get("nlb") and node.get("nlb_state") in ("Converged", "Converging"):
            # a host in the farm holds client connections of the virtual IP: the blip drops them
            effect = "nlb connections dropped" if effect == "none" else effect + ", nlb connections dropped"
        self.state["blips"].append({"node": name, "cause": cause, "effect": effect, "time": time.time()})
        self.save()

    def on_network_driver_loaded(self, host_name=None, modules=None, **_):
        node = self._find(host_name)
        if node is None:
            return
        node["agent"]["driver_loaded"] = True
        self.state["events"].append({"event": "agent.network_driver_loaded", "host_name": node["name"],
                                     "modules": modules})
        self.blip(node["name"], "network driver loaded (%s)" % ", ".join(modules or []))

    def nlb_membership(self, host_name=None):
        node = self._find(host_name)
        if node is None or not node["nlb"]:
            return None
        return {"cluster": node["nlb"], "state": node["nlb_state"], "exclusion_needed": True}

    def _find(self, host_name):
        if not host_name:
            return None
        for name, node in self.state["nodes"].items():
            if name.lower() == str(host_name).lower() or name.lower() == str(host_name).split(".", 1)[0].lower():
                return node
        return None

    # --- scripts ---------------------------------------------------------------------------------

    def execute(self, name, marker, params, script=None):
        """Run script ``marker`` on node ``name``; return its JSON document. ``script`` is the text the
        node received: the agent model reads the msiexec and dsa_control arguments it would run."""
        handler = getattr(self, "script_" + marker, None)
        if handler is None:
            raise ScriptFailure("The term '%s' is not recognized as the name of a cmdlet, function, script file, "
                                "or operable program." % marker)
        self.script_text = script or ""
        result = handler(self.node(name), params or {})
        self.save()
        return result

    def record_command_line(self, node, command_line):
        """The last command lines a node was given (in memory): tests check that no secret is on them."""
        lines = self.command_lines.setdefault(node, [])
        lines.append(command_line)
        del lines[:-50]

    def _service(self, node):
        if not node["wsfc"]:
            return None
        return {"status": node["clussvc"], "start_mode": "Automatic"}

    # The mutex Global\_MSIExecute as the node has it: "absent", "held" (an msiexec still running, e.g. after the
    # controller died: fault installer_running), "denied" (it exists and the account may not open it: .NET's
    # UnauthorizedAccessException) or "broken" (any other failure of Mutex.OpenExisting), fault installer_mutex.
    def _installer_mutex(self, node):
        if node["name"] in (self.faults.get("installer_running") or []):
            return "held"
        return (self.faults.get("installer_mutex") or {}).get(node["name"], "absent")

    def _agent_doc(self, node):
        agent = node["agent"]
        mutex = self._installer_mutex(node)
        # what the script makes of it: not found -> false, opened or access denied -> true, anything else -> null;
        # the msiserver service accepts SERVICE_ACCEPT_SHUTDOWN only while it processes an installation
        return {"installed": bool(agent["version"]), "version": msi_version(agent["version"]) if agent["version"] else None,
                "service_status": "Running" if agent["version"] else None,
                "installer_running": {"absent": False, "held": True, "denied": True}.get(mutex),
                "installer_service": {"status": "Running" if mutex == "held" else "Stopped",
                                      "accepts_shutdown": mutex == "held"}}

    def script_mscs_cluster_info(self, node, params):
        doc = {"computer": node["name"], "cluster": None, "nodes": [], "groups": [], "networks": [],
               "cluster_service": self._service(node), "agent": self._agent_doc(node)}
        cluster = self._cluster(node)
        if cluster and node["clussvc"] == "Running":
            witness = WITNESS_BY_QUORUM.get(cluster["quorum"])
            voting = len([member for member in cluster["order"]
                          if self.state["nodes"][member]["clussvc"] == "Running"])
            # dynamic quorum: a node's vote goes with its cluster service; dynamic witness: the witness votes
            # only while the node votes are even (Microsoft's failover-clustering quorum documentation)
            doc["cluster"] = {"name": cluster["name"], "quorum_type": "Majority",
                              "quorum_resource": witness[0] if witness else None,
                              "witness_type": witness[1] if witness else None,
                              "witness_state": "Online" if witness else None,
                              "witness_dynamic_weight": (1 if voting % 2 == 0 else 0) if witness else None,
                              "dynamic_quorum": 1}
            for member in cluster["order"]:
                record = self.state["nodes"][member]
                doc["nodes"].append({"name": member, "id": str(record["node_id"]), "state": self._node_state(record),
                                     "drain_status": record["drain_status"], "node_weight": 1,
                                     "dynamic_weight": 1 if record["clussvc"] == "Running" else 0})
            doc["groups"] = [{"name": group["name"], "owner_node": group["owner"], "state": group["state"],
                              "is_core": group["core"],
                              "resources": [{"group": group["name"], "name": "%s (%s)" % (kind, group["name"]),
                                             "type": kind, "possible_owners": list(group.get("possible_owners") or [])}
                                            for kind in group.get("resource_types") or []],
                              "preferred_owners": [group["home"]]} for group in cluster["groups"]]
            roles = {0: "None", 1: "Cluster", 2: "Client", 3: "ClusterAndClient"}
            doc["networks"] = [{"name": net["name"], "role": roles.get(net["role"], str(net["role"])),
                                "state": net["state"], "address": net["address"]} for net in cluster["networks"]]
        return doc

    def script_mscs_node(self, node, params):
        cluster = self._cluster(node)
        if cluster is None:
            raise ScriptFailure("Cannot find a service with service name 'ClusSvc'.")
        action = params.get("action")
        name = node["name"]
        answer = {"computer": name, "action": action, "completed": True, "cluster_service": None, "refused": None,
                  "will_offline_lose_quorum": None, "dependent_services": []}
        if action == "drain":
            if node["clussvc"] != "Running":
                raise ScriptFailure("The cluster service is not running on node '%s'." % name)
            failed = False
            for group in cluster["groups"]:
                if group["owner"] == name and not group["core"]:
                    takers = self._takers(cluster, name, group)
                    if takers:
                        self._move(cluster, group, takers[0], True, "drain")
                        if group["name"] in (self.faults.get("fail_on_move") or []):
                            # the role moved but cannot come online on its target (fault fail_on_move)
                            self.faults["fail_on_move"] = [item for item in self.faults["fail_on_move"]
                                                           if item != group["name"]]
                            group["state"] = "Failed"
                    elif params.get("force_drain"):
                        # -ForceDrain: a role that cannot move is stopped and failed over as a failed role
                        group["state"] = "Failed"
                    else:
                        failed = True
            node["paused"] = True
            node["drain_status"] = "Failed" if failed else "Completed"
            self.state["events"].append({"event": "wsfc.drain", "host_name": name,
                                         "force_drain": bool(params.get("force_drain"))})
        elif action == "stop":
            if node["clussvc"] == "Running":
                answer["will_offline_lose_quorum"] = self._would_lose_quorum(cluster, name)
                answer["dependent_services"] = list((self.faults.get("dependent_services") or {}).get(name) or [])
                if answer["will_offline_lose_quorum"] and not params.get("allow_quorum_loss"):
                    answer["refused"] = "quorum"
                elif answer["dependent_services"]:
                    answer["refused"] = "dependent_services"
            if node["clussvc"] == "Running" and not answer["refused"]:
                # the script moves the core groups off with Move-ClusterGroup before Stop-Service; without that,
                # stopping the service moves them as it goes down (recorded as such)
                how = "Move-ClusterGroup" if "Move-ClusterGroup" in self.script_text else "Stop-Service"
                for group in cluster["groups"]:
                    if group["owner"] == name:
                        takers = self._takers(cluster, name, group)
                        if takers:
                            planned = group["core"]
                            self._move(cluster, group, takers[0], planned,
                                       "cluster service stopped" if planned else "cluster service stopped before drain")
                            self.state["failovers"][-1]["how"] = how
                        else:
                            group["state"] = "Offline"
                node["clussvc"] = "Stopped"
        elif action == "start":
            node["clussvc"] = "Running"
            if self.take_fault("no_rejoin_next", name, "mscs_node"):
                # the service runs but the node has not rejoined within the script's bounded wait
                answer.update(completed=False, cluster_service="Running")
                return answer
        elif action == "resume":
            if node["clussvc"] != "Running":
                raise ScriptFailure("The cluster service is not running on node '%s'." % name)
            node["paused"] = False
            node["drain_status"] = "NotInitiated"
            if params.get("failback") in ("Immediate", "Policy"):
                for group in cluster["groups"]:
                    if group["home"] == name and group["owner"] != name:
                        self._move(cluster, group, name, True, "failback")
        elif action == "return":
            # Resume-ClusterNode -Failback NoFailback, then Move-ClusterGroup <role> -Node <this node>
            node["paused"] = False
            node["drain_status"] = "NotInitiated"
            for group in cluster["groups"]:
                if group["name"] in (params.get("roles") or []) and group["owner"] != name:
                    self._move(cluster, group, name, True, "moved back: failed after the drain")
                    group["state"] = "Online"
        else:
            raise ScriptFailure("unknown action %s" % action)
        answer["cluster_service"] = node["clussvc"]
        return answer

    def _would_lose_quorum(self, cluster, name):
        """MSCluster_Node.WillOfflineLoseQuorum as the model counts it: dynamic quorum (a vote per running node)
        and the dynamic witness (a vote while the node votes are even); fault quorum_loss_on_stop forces true."""
        if name in (self.faults.get("quorum_loss_on_stop") or []):
            return True
        running = len([member for member in cluster["order"] if self.state["nodes"][member]["clussvc"] == "Running"])
        witness = 1 if WITNESS_BY_QUORUM.get(cluster["quorum"]) else 0
        total = running + (witness if running % 2 == 0 else 0)
        left = running - 1 + (witness if running % 2 == 0 else 0)
        return left * 2 <= total

    def script_nlb_cluster_info(self, node, params):
        doc = {"computer": node["name"], "installed": bool(node["nlb"]), "cluster": None, "nodes": [],
               "port_rules": []}
        if not node["nlb"]:
            return doc
        farm = self.state["nlb"][node["nlb"]]
        doc["cluster"] = {"name": farm["name"], "ip_address": farm["ip_address"], "subnet_mask": farm["subnet_mask"],
                          "mode": farm["mode"], "mac_address": nlb_mac(farm["mode"], farm["ip_address"]),
                          "host_state": self._nlb_host_state(node)}
        for member in farm["order"]:
            record = self.state["nodes"][member]
            doc["nodes"].append({"name": member, "host_id": record["nlb_priority"], "state": record["nlb_state"],
                                 "priority": record["nlb_priority"], "interface": record["nlb_interface"],
                                 "initial_state": "Started"})
        doc["port_rules"] = [{"start_port": rule["start_port"], "end_port": rule["end_port"],
                              "protocol": rule.get("protocol", "Both"), "mode": rule.get("mode", "Multiple"),
                              "affinity": rule.get("affinity", "Single"), "ip_address": rule.get("ip_address", "All")}
                             for rule in farm["port_rules"]]
        return doc

    @staticmethod
    def _nlb_host_state(node):
        return NLB_HOST_STATES.get(node["nlb_state"], "Started")

    def script_nlb_node(self, node, params):
        if not node["nlb"]:
            raise ScriptFailure("The specified module 'NetworkLoadBalancingClusters' was not loaded because no "
                                "valid module file was found in any module directory.")
        action = params.get("action")
        current = node["nlb_state"]
        record = {"event": "nlb." + action, "host_name": node["name"]}
        if action == "drainstop":
            # Stop-NlbClusterNode -Drain -Timeout <seconds>: connections still open when the time runs out
            # are dropped. The farm's open connections need open_connection_seconds to finish. A missing
            # parameter is $null on the node, and [uint32]$null is 0: no drain at all.
            seconds = int(params.get("drain_seconds") or 0)
            farm = self.state["nlb"][node["nlb"]]
            record.update(drain_seconds=seconds,
                          dropped_connections=current in ("Converged", "Converging")
                          and seconds < farm["open_connection_seconds"])
            node["nlb_state"] = "Stopped"
        elif action == "stop":
            record["dropped_connections"] = current in ("Converged", "Converging")
            node["nlb_state"] = "Stopped"
        elif action == "start":
            if current == "Suspended":
                raise ScriptFailure("The host %s is suspended; resume it before starting it." % node["name"])
            node["nlb_state"] = "Converged"
        elif action == "suspend":
            node["nlb_state"] = "Suspended"
        elif action == "resume":
            if current == "Suspended":
                node["nlb_state"] = "Stopped"
        else:
            raise ScriptFailure("unknown action %s" % action)
        record["state"] = node["nlb_state"]
        self.state["events"].append(record)
        self._count_converged(node["nlb"])
        return {"computer": node["name"], "action": action, "state": node["nlb_state"],
                "host_state": self._nlb_host_state(node)}

    def _count_converged(self, farm_name):
        """The fewest Converged hosts the farm has had since the topology was loaded (a window must never
        leave fewer than the farm needs to carry its load)."""
        farm = self.state["nlb"][farm_name]
        converged = len([member for member in farm["order"] if self.state["nodes"][member]["nlb_state"] == "Converged"])
        farm["converged_now"] = converged
        farm["min_converged"] = min(converged, farm.get("min_converged", len(farm["order"])))

    # --- the agent -------------------------------------------------------------------------------
    # What the real node would answer, from Trend's tools and Windows Installer as documented (see
    # docs/windows.md, "The Deep Security Agent"): GetAgentStatus lines carry dsmUrl once activated;
    # msiexec /qn without /norestart restarts the node itself when it needs to; self-protection blocks
    # msiexec until dsa_control -s 0 (with -p <password> when one is set) turns it off.

    CMD_METACHARACTERS = re.compile(r"[&|<>^%!\"(),;\s]")

    # An agent carries Trend's bootstrap certificate until it is activated (its hash is the one Trend's Ansible role
    # and Chef cookbook compare agentCertHash with); activation gives it a certificate of the manager's, a reset
    # (dsa_control -r) takes it back to the bootstrap one.
    BOOTSTRAP_CERT_HASH = "D0:68:DE:48:1B:DC:4D:00:89:07:7F:85:15:20:C5:90:11:EB:56:6A"

    def _agent_status_lines(self, node, agent):
        if not agent["version"]:
            return []
        cert = self.BOOTSTRAP_CERT_HASH
        if agent["activated"]:
            digest = hashlib.sha1(("%s|%s" % (node["name"], agent["dsm_url"])).encode()).hexdigest().upper()
            cert = ":".join(digest[index:index + 2] for index in range(0, 40, 2))
        lines = ["", "AgentStatus.agentState: %s" % ("green" if agent["activated"] else "inactive"),
                 "AgentStatus.agentCertHash: %s" % cert]
        if agent["activated"]:
            lines.append("AgentStatus.dsmUrl: %s" % agent["dsm_url"])
        return lines

    def _product_code(self, node, agent):
        """The agent's uninstall key name: its MSI's ProductCode, a GUID in registry form; fault product_code
        ({"WEB1": "<text>"}) gives a node a damaged entry."""
        damaged = (self.faults.get("product_code") or {}).get(node["name"])
        if damaged is not None:
            return damaged
        return "{%s}" % str(uuid.UUID(hashlib.md5(agent["version"].encode()).hexdigest())).upper()

    def script_agent_info(self, node, params):
        agent = node["agent"]
        doc = {"computer": node["name"], "cluster_service": self._service(node),
               "reboot_pending": agent["reboot_required"]}
        info = {"installed": bool(agent["version"]), "version": None, "product_code": None, "service_status": None,
                "status_lines": self._agent_status_lines(node, agent), "recorded_url": agent.get("recorded_url"),
                "recorded_policy_id": agent.get("recorded_policy_id")}
        mutex = self._agent_doc(node)
        info.update(installer_running=mutex["installer_running"], installer_service=mutex["installer_service"])
        if agent["version"]:
            info.update(version=msi_version(agent["version"]),
                        product_code=self._product_code(node, agent),
                        service_status="Running")
        doc["agent"] = info
        return doc

    def _msi_exit(self, node=None):
        code = self.faults.get("msi_exit_next")
        if code is not None and self._fault_applies(node, "agent_install" if node else None):
            self.faults.pop("msi_exit_next")
            return int(code)
        return 0

    def _msiexec_line(self):
        for line in self.script_text.splitlines():
            if "msiexec.exe" in line and "-ArgumentList" in line:
                return line
        return ""

    def _turn_self_protection_off(self, agent, params):
        """dsa_control -s 0 [-p password], if the script runs it; returns the state it reports."""
        if not agent["version"]:
            return "untouched"
        if "@('-s', '0')" not in self.script_text:
            return "not run"
        wanted = agent.get("self_protection_password")
        if wanted and params.get("password") != wanted:
            return "failed"
        agent["self_protection"] = False
        return "off"

    def _restart(self, node, cause):
        """The node restarts: a blip while it goes down, then every service set to start automatically runs again,
        the cluster service among them (its start mode is Automatic); a paused node stays paused."""
        self.state["events"].append({"event": "node.rebooted", "host_name": node["name"], "cause": cause})
        self.blip(node["name"], "reboot: %s" % cause)
        node["agent"]["reboot_required"] = False
        if node["wsfc"]:
            node["clussvc"] = "Running"

    def _msi_outcome(self, node, code, action):
        """Exit code as msiexec would give it, and a reboot when the command line lets it reboot."""
        agent = node["agent"]
        if code == 1641:
            # ERROR_SUCCESS_REBOOT_INITIATED: "the installer has initiated a restart", /norestart or not
            self._restart(node, "msiexec %s returned 1641" % action)
            return code
        if code == 3010:
            agent["reboot_required"] = True
            if "'/norestart'" not in self._msiexec_line():
                # "If no reboot options are specified, the installer restarts the computer whenever
                # necessary without displaying any prompt" (Windows Installer command-line options)
                self._restart(node, "msiexec %s without /norestart" % action)
                return 1641
        return code

    def script_agent_install(self, node, params):
        source = params.get("url") or params.get("path") or ""
        # the last version-looking part of the URL or path (an IP address in the host looks like one too)
        found = VERSION_IN_SOURCE.findall(source)
        known = [dash_version(item) for item in self.world.topology.get("dsm", {}).get("agent_versions", [])]
        if not found or dash_version(found[-1]) not in known:
            if params.get("url"):
                raise ScriptFailure("The remote server returned an error: (404) Not Found.")
            raise ScriptFailure("Cannot find path '%s' because it does not exist." % source)
        version = dash_version(found[-1])
        digest = lab_msi_sha256(version)
        if params.get("sha256") and params["sha256"].upper() != digest:
            raise ScriptFailure("SHA-256 of the installer is %s, expected %s; nothing was installed"
                                % (digest, params["sha256"]))
        agent = node["agent"]
        protection = self._turn_self_protection_off(agent, params)
        code = self._msi_exit(node["name"])
        if agent.get("self_protection") and code == 0:
            code = 1603
        if code not in (0, 3010, 1641):
            tail = ["MSI (s) (A4:B8) [10:21:07:115]: Product: Trend Micro Deep Security Agent -- Installation failed.",
                    "MSI (s) (A4:B8) [10:21:07:116]: Windows Installer installed the product. Product Name: Trend "
                    "Micro Deep Security Agent. Product Version: %s. Installation success or error status: %d."
                    % (msi_version(version), code)]
            if agent.get("self_protection"):
                tail.insert(0, "CustomAction returned: Removal or modification of this application is prohibited "
                               "by its security settings.")
            return {"exit_code": code, "log_tail": tail, "self_protection": protection,
                    "self_protection_output": "Error: password required" if protection == "failed" else ""}
        upgrade = bool(agent["version"])
        agent["version"] = version
        # the network driver's blip comes with the install; a restart, if any, after it
        self.blip(node["name"], "agent upgrade" if upgrade else "agent install")
        code = self._msi_outcome(node, code, "upgrade" if upgrade else "install")
        if upgrade and agent["activated"]:
            # the upgraded agent's service starts and reports to its manager (its heartbeat carries "the status of
            # the agent", Deep Security Help "Agent-manager communication"): no new activation, no policy sent
            self.world.publish("agent.upgraded", host_name=node["name"], agent_version=version)
        if protection == "off" and "@('-m')" in self.script_text:
            # the heartbeat lets the manager send its policy again, self-protection included
            protection = "heartbeat"
            if agent["activated"]:
                agent["self_protection"] = True
        return {"exit_code": code, "log_tail": [], "self_protection": protection, "self_protection_output": ""}

    GUID = re.compile(r"\{[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}\}\Z")

    def script_agent_remove(self, node, params):
        agent = node["agent"]
        if not agent["version"]:
            return {"exit_code": 0, "log_tail": [], "removed": False, "self_protection": "untouched"}
        code = self._product_code(node, agent)
        if not self.GUID.match(code) or code != params.get("product_code"):
            # what the script refuses: msiexec /x never sees a key name that is not the checked product code
            raise ScriptFailure("the agent's uninstall key name is not the product code the module checked; nothing "
                                "was run")
        protection = self._turn_self_protection_off(agent, params)
        code = self._msi_exit()
        if agent.get("self_protection") and code == 0:
            code = 1603
        if code not in (0, 3010, 1641):
            return {"exit_code": code, "log_tail": ["MSI (s): Removal failed, error status: %d." % code],
                    "removed": False, "self_protection": protection}
        node["agent"] = _no_agent()
        self.blip(node["name"], "agent uninstall")
        code = self._msi_outcome(node, code, "uninstall")
        self.state["events"].append({"event": "agent.removed", "host_name": node["name"]})
        self.world.publish("agent.removed", host_name=node["name"])
        return {"exit_code": code, "log_tail": [], "removed": True, "self_protection": protection}

    def script_agent_activate(self, node, params):
        agent = node["agent"]
        if not agent["version"]:
            raise ScriptFailure("dsa_control not found at C:\\Program Files\\Trend Micro\\Deep Security Agent"
                                "\\dsa_control.cmd; install the agent first")
        arguments = [str(item) for item in params.get("arguments") or []]
        if any(self.CMD_METACHARACTERS.search(item) for item in arguments):
            # what the script refuses; were it passed on, cmd.exe would run whatever follows an '&'
            raise ScriptFailure("an argument for dsa_control holds a character cmd.exe would interpret; nothing "
                                "was run")
        output = []
        reset = False
        if params.get("reset"):
            agent.update(activated=False, dsm_url=None, policy_id=None, tenant_id=None)
            self.state["events"].append({"event": "agent.reset", "host_name": node["name"]})
            output.append("Agent reset.")
            reset = True
        url = arguments[0] if arguments else ""
        options = dict(item.split(":", 1) for item in arguments[1:] if ":" in item)
        if self.take_fault("activation_fail_next") or not re.match(r"^dsm://[^/:\s]+:\d+/?$", url):
            output.append("Attempting to connect to %s\nUnable to connect to the manager." % url)
            return {"exit_code": 2, "output": "\n".join(output), "reset": reset, "service_status": "Running"}
        policy = options.get("policyid")
        agent.update(activated=True, dsm_url=url, policy_id=int(policy) if policy else None,
                     tenant_id=options.get("tenantID"), recorded_url=params.get("url"),
                     recorded_policy_id=str(params.get("policy_id")) if params.get("policy_id") else "")
        self.blip(node["name"], "agent activation")
        self.state["events"].append({"event": "agent.activated", "host_name": node["name"],
                                     "policy_id": agent["policy_id"], "reset": reset})
        self.world.publish("agent.activated", host_name=node["name"], agent_version=dash_version(agent["version"]),
                           policy_id=agent["policy_id"], dsm_url=url)
        output.append("HTTP Status: 200 - OK\nResponse:\nAttempting to connect to %s\nCommand session completed." % url)
        return {"exit_code": 0, "output": "\n".join(output), "reset": reset, "service_status": "Running"}

    # --- window records in the node's registry (scripts node_window_record[_info]) -----------------
    # The part of HKLM\SOFTWARE\clustersafe\maintenance_windows the scripts touch, per node:
    # node["registry_windows"] = {window key: {change key: {value name: string}}}. As in the registry,
    # key names keep the case they were created with and are looked up without case ("Structure of the
    # Registry"); a name with a backslash or over 255 characters ("Registry Element Size Limits") fails
    # here, where Windows would fail or, for a backslash, silently nest keys: the lab is the stricter.

    @staticmethod
    def _registry_key(keys, name):
        """The existing key of ``keys`` named ``name`` without case, or None."""
        for key in keys:
            if key.lower() == name.lower():
                return key
        return None

    @staticmethod
    def _registry_name(name, what):
        if not name or "\\" in name or len(name) > 255:
            raise ScriptFailure("New-Item : The parameter is incorrect. (registry %s name %r)" % (what, name))
        return name

    def _window_records(self, node, only=""):
        records = []
        windows = node.get("registry_windows") or {}
        for window in sorted(windows, key=str.lower):
            if only and window.lower() != only.lower():
                continue
            for change in sorted(windows[window], key=str.lower):
                values = windows[window][change]
                records.append({"window": window, "change": change, "since": values.get("since"),
                                "controller": values.get("controller"), "data": values.get("data")})
        return records

    def script_window_lease(self, node, params):
        """The lease script (module_utils/winrm/scripts.py WINDOW_LEASE): a compare-and-swap of the whole stored
        text. The lab's lock serialises scripts as the node's named mutex does; times are the node's clock."""
        stored = node.get("registry_lease") or ""
        now = time.time() + self.clock_offset
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        swapped = False
        action = params.get("action")
        if action not in ("read", "take", "release"):
            raise ScriptFailure("unknown action %s" % action)
        if action != "read" and stored == str(params.get("expected") or ""):
            if action == "release":
                stored = ""
            else:
                fields = params.get("lease") or {}
                try:
                    current = json.loads(stored) if stored else {}
                except ValueError:
                    current = {}
                since = current.get("since") if current.get("run") == fields.get("run") and current.get("since") else stamp
                lease = dict((name, str(fields.get(name) or "")) for name in ("run", "window", "holder", "controller", "unit"))
                lease.update(since=since, heartbeat=stamp,
                             expires=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + int(params.get("ttl") or 0))))
                stored = json.dumps(lease, separators=(",", ":"))
            node["registry_lease"] = stored
            swapped = True
            self.state["events"].append({"event": "lease.%s" % action, "host_name": node["name"],
                                         "run": (params.get("lease") or {}).get("run")})
        return {"computer": node["name"], "now": stamp, "lease": stored, "swapped": swapped}

    def script_node_window_record_info(self, node, params):
        return {"computer": node["name"], "records": self._window_records(node, str(params.get("window") or ""))}

    # the write script's own refusal (scripts.NODE_WINDOW_RECORD), before any registry path is built
    RECORD_WINDOW = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
    RECORD_CHANGES = ("node_drained", "cluster_service_stopped", "nlb_node_stopped", "network_engine_mode",
                      "agent_maintenance")

    def script_node_window_record(self, node, params):
        windows = node.setdefault("registry_windows", {})
        if not self.RECORD_WINDOW.match(str(params.get("window") or "")):
            raise ScriptFailure("refused: window %s is not a window id" % params.get("window"))
        for change in [params.get("change")] + list(params.get("changes") or []):
            if change and str(change) not in self.RECORD_CHANGES:
                raise ScriptFailure("refused: unknown change %s" % change)
        window_name = self._registry_name(str(params.get("window") or ""), "key")
        action = params.get("action")
        if action == "set":
            change_name = self._registry_name(str(params.get("change") or ""), "key")
            window = self._registry_key(windows, window_name)
            if window is None:
                window = window_name
                windows[window] = {}
            change = self._registry_key(windows[window], change_name)
            if change is None:
                change = change_name
                windows[window][change] = {}
            windows[window][change].update(
                data=str(params.get("data") or ""), controller=str(params.get("controller") or ""),
                since=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        elif action == "remove":
            window = self._registry_key(windows, window_name)
            if window is not None:
                for name in params.get("changes") or []:
                    change = self._registry_key(windows[window], str(name))
                    if change is not None:
                        del windows[window][change]
                if not windows[window]:
                    del windows[window]
        else:
            raise ScriptFailure("unknown action %s" % action)
        return {"computer": node["name"], "records": self._window_records(node)}

    def window_records_status(self):
        """Per node, every window record on it (the lab's /status shows them)."""
        return {name: self._window_records(node) for name, node in self.state["nodes"].items()}
