"""A model of the Deep Security Manager REST API (v1), as Trend's ``deep-security-api`` 20.0 SDK speaks
it: computers, policies, firewall rules, rule assignments and settings, with the DSM's validation,
search semantics and error bodies (``{"message": ...}``).

``DsmModel.handle(method, path, query, headers, body)`` is the whole API as a function: the HTTPS
server and the unit tests' in-process opener both call it. State lives in one JSON file so a restart of
the lab loses nothing.

Policy delivery: in agent-initiated communication a change reaches the agent at its next heartbeat
(Deep Security Help "Agent-manager communication"). A change to a computer, or to a policy, rule or
assignment in effect for it, records ``lastSendPolicyRequest``, puts "Sending Policy" in
``tasks.agentTasks`` and applies the policy ``policy_apply_delay_ms`` later (topology ``dsm`` key, default
1500 ms; fault ``policy_delay_ms``), and only on a computer whose agent is active; then
``lastSendPolicySuccess`` is set and the task list empties (SDK 20.0 ``Computer``, ``ComputerTasks``).
Activation applies the policy at once.

Hazard bookkeeping (REFERENCE section 1-2):
- an agent's network driver is installed the first time Firewall, Intrusion Prevention or Web
  Reputation is in effect *when a policy is applied* to its computer; the model publishes
  ``agent.network_driver_loaded`` then;
- "Invalid Flags" (firewall event 101) is about TCP flags that make no sense in the context of a
  connection, assessed by stateful inspection (Deep Security Help, "Firewall events": "Flag(s) set in a
  packet were invalid ... 'Firewall Stateful Configuration' must be On for connection context"). NLB
  delivers the cluster's TCP traffic to every host, so each host sees mid-connection packets of the
  connections other hosts own. Per *tick*, each NLB node whose agent is active with Firewall on logs one
  event per other host of the cluster for each TCP port rule not covered by an assigned bypass pair for
  the virtual IP (bypass ignores stateful inspection; force-allow does not). Heartbeat frames (EtherType
  0x886F) carry no TCP flags, so a heartbeat rule changes nothing here. A tick is one read of the lab's
  status document (or ``{"tick": N}`` through the fault endpoint). In Tap mode the events are logged but
  nothing is blocked.
"""
import copy
import json
import os
import re
import threading
import time

API_KEY_HEADER = "api-secret-key"
CLOUD_ONE_HEADER = "authorization"
HEARTBEAT_ETHERTYPE = 0x886F
# SDK 20.0 Computer.agent_version: "When no agent software is installed or activated, the version is
# '0.0.0.0'."
NO_AGENT_VERSION = "0.0.0.0"
POLICY_APPLY_DELAY_MS = 1500
SENDING_POLICY_TASK = "Sending Policy"

ENUMS = {
    "action": ["log-only", "allow", "deny", "force-allow", "bypass"],
    "priority": ["0", "1", "2", "3", "4"],
    "direction": ["incoming", "outgoing"],
    "frameType": ["any", "ip", "arp", "revarp", "ipv4", "ipv6", "other"],
    "protocol": ["any", "icmp", "igmp", "ggp", "tcp", "pup", "udp", "idp", "nd", "raw", "tcp-udp", "icmpv6",
                 "other"],
    "sourceIPType": ["any", "masked-ip", "range", "ip-list", "single", "multiple"],
    "destinationIPType": ["any", "masked-ip", "range", "ip-list", "single", "multiple"],
    "sourceMACType": ["any", "single", "mac-list", "multiple"],
    "destinationMACType": ["any", "single", "mac-list", "multiple"],
    "sourcePortType": ["any", "multiple", "port-list"],
    "destinationPortType": ["any", "multiple", "port-list"],
}
RULE_DEFAULTS = {
    "description": "", "action": "allow", "priority": "0", "direction": "incoming", "frameType": "ip",
    "frameNumber": 2048, "frameNot": False, "protocol": "any", "protocolNot": False,
    "sourceIPType": "any", "sourceIPNot": False, "sourceMACType": "any", "sourceMACNot": False,
    "sourcePortType": "any", "sourcePortNot": False, "destinationIPType": "any", "destinationIPNot": False,
    "destinationMACType": "any", "destinationMACNot": False, "destinationPortType": "any",
    "destinationPortNot": False, "anyFlags": True, "logDisabled": False, "includePacketData": False,
    "alertEnabled": False,
}
RULE_INTS = ("frameNumber", "protocolNumber", "sourceIPListID", "sourceMACListID", "sourcePortListID",
             "destinationIPListID", "destinationMACListID", "destinationPortListID", "scheduleID", "contextID",
             "ICMPType", "ICMPCode")
RULE_BOOLS = ("frameNot", "protocolNot", "sourceIPNot", "sourceMACNot", "sourcePortNot", "destinationIPNot",
              "destinationMACNot", "destinationPortNot", "anyFlags", "logDisabled", "includePacketData",
              "alertEnabled", "TCPNot", "ICMPNot")
RULE_LISTS = ("sourceIPMultiple", "sourceMACMultiple", "sourcePortMultiple", "destinationIPMultiple",
              "destinationMACMultiple", "destinationPortMultiple", "tcpflags")
RULE_STRINGS = ("name", "description", "sourceIPValue", "sourceIPMask", "sourceIPRangeFrom", "sourceIPRangeTo",
                "sourceMACValue", "destinationIPValue", "destinationIPMask", "destinationIPRangeFrom",
                "destinationIPRangeTo", "destinationMACValue")
RULE_FIELDS = set(RULE_DEFAULTS) | set(ENUMS) | set(RULE_INTS) | set(RULE_BOOLS) | set(RULE_LISTS) | set(RULE_STRINGS)
TCP_FLAGS = ["fin", "syn", "rst", "psh", "ack", "urg"]

MODULES = {
    "antiMalware": ["inherited", "on", "off"],
    "webReputation": ["inherited", "on", "off"],
    "activityMonitoring": ["inherited", "on", "off"],
    "firewall": ["inherited", "on", "off"],
    "intrusionPrevention": ["inherited", "prevent", "detect", "off"],
    "integrityMonitoring": ["inherited", "real-time", "on", "off"],
    "logInspection": ["inherited", "on", "off"],
    "applicationControl": ["inherited", "on", "off"],
}
DRIVER_MODULES = ("firewall", "intrusionPrevention", "webReputation")
SETTINGS = {
    "firewallSettingNetworkEngineMode": (["Inline", "Tap"], "Inline"),
    "firewallSettingEngineOptionForceAllowDhcpDns": (None, "Off"),
    "firewallSettingReconnaissanceEnabled": (["true", "false"], "true"),
    "firewallSettingEventLogFileSizeMax": (None, "4"),
    "platformSettingHeartbeatInterval": (None, "10"),
    "intrusionPreventionSettingAutoApplyRecommendationsEnabled": (["Yes", "No", "Inherited"], "Yes"),
}
COMPUTER_EXPANDS = ["none", "all", "computerStatus", "tasks", "securityUpdates", "computerSettings",
                    "allSecurityModules", "antiMalware", "webReputation", "activityMonitoring", "firewall",
                    "intrusionPrevention", "integrityMonitoring", "logInspection", "applicationControl", "SAP",
                    "interfaces", "ESXSummary", "allVirtualMachineSummaries", "azureARMVirtualMachineSummary",
                    "azureVMVirtualMachineSummary", "ec2VirtualMachineSummary", "noConnectorVirtualMachineSummary",
                    "vmwareVMVirtualMachineSummary", "vcloudVMVirtualMachineSummary",
                    "workspaceVirtualMachineSummary", "gcpVirtualMachineSummary"]
# Module states of the topology's policies: the base policy has Anti-Malware only; the children
# inherit it and add what their workload needs (ID -> overrides; unknown IDs inherit everything).
POLICY_DEFAULTS = {
    1: {"antiMalware": "on", "webReputation": "off", "activityMonitoring": "off", "firewall": "off",
        "intrusionPrevention": "off", "integrityMonitoring": "off", "logInspection": "off",
        "applicationControl": "off"},
    2: {"firewall": "on"},
    3: {"firewall": "on", "intrusionPrevention": "prevent"},
    4: {"firewall": "on", "webReputation": "on"},
}
COMPUTER_SEARCH_FIELDS = {"ID": "id", "hostName": "string", "displayName": "string", "description": "string",
                          "policyID": "numeric", "groupID": "numeric", "agentVersion": "string",
                          "platform": "string", "lastAgentCommunication": "date", "lastIPUsed": "string"}
RULE_SEARCH_FIELDS = dict([("ID", "id"), ("name", "string"), ("description", "string"), ("action", "choice"),
                           ("direction", "choice"), ("frameType", "choice"), ("protocol", "choice"),
                           ("priority", "choice"), ("frameNumber", "numeric")])
# SDK 20.0 models/policy.py: ID "Searchable as ID", name and description "as String", parentID "as Numeric",
# recommendationScanMode (off, ongoing) and autoRequiresUpdate (on, off) "as Choice"; nothing else.
POLICY_SEARCH_FIELDS = {"ID": "id", "name": "string", "description": "string", "parentID": "numeric",
                        "recommendationScanMode": "choice", "autoRequiresUpdate": "choice"}
POLICY_CHOICE_DEFAULTS = {"autoRequiresUpdate": "on", "recommendationScanMode": "off"}
MAX_ITEMS = 5000


class ApiError(Exception):
    def __init__(self, status, message, headers=None):
        super(ApiError, self).__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _now_ms():
    return int(time.time() * 1000)


def _covers_port(port_specs, port):
    for spec in port_specs or []:
        text = str(spec)
        low, _sep, high = text.partition("-")
        try:
            if int(low) <= port <= int(high or low):
                return True
        except ValueError:
            continue
    return False


def _wildcard(pattern):
    # The DSM's string wildcards are SQL-like: % any run of characters, _ one character.
    return re.compile("^" + "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
                                    for ch in pattern) + "$", re.S)


class DsmModel(object):
    def __init__(self, topology, state_file=None, world=None):
        self.topology = topology or {}
        self.dsm = self.topology.get("dsm") or {}
        self.api_key = self.dsm.get("api_key", "")
        # IDs of the rules the topology gives the manager from the start
        self.preset_rule_ids = set(int(entry["id"]) for entry in self.dsm.get("firewall_rules") or [])
        self.state_file = state_file
        self.world = world
        self.clock = time.time
        self.policy_delay_ms = int(self.dsm.get("policy_apply_delay_ms", POLICY_APPLY_DELAY_MS))
        self._timers = []
        self.lock = threading.RLock()
        self.faults = {}
        self.counters = {"requests": 0, "unauthorized": 0, "throttled": 0, "unavailable": 0, "by_route": {}}
        self.state = None
        self._pending_events = []
        if state_file and os.path.exists(state_file):
            with open(state_file) as handle:
                self.state = json.load(handle)
        if not self.state:
            self.state = self._initial_state()
            self._save()

    # -- state -----------------------------------------------------------------------------------

    def _initial_state(self):
        policies = {}
        for entry in self.dsm.get("policies") or [{"id": 1, "name": "Base Policy"}]:
            policy_id = int(entry["id"])
            own = dict(POLICY_DEFAULTS.get(policy_id, {}))
            for field, state in (entry.get("modules") or {}).items():
                own[field] = state
            policies[str(policy_id)] = {
                "ID": policy_id, "name": entry["name"], "description": entry.get("description", ""),
                "parentID": entry.get("parent_id", 0 if policy_id == 1 else 1),
                "modules": own, "settings": dict(entry.get("settings") or {}), "firewallRuleIDs": [],
            }
            policies[str(policy_id)].update(POLICY_CHOICE_DEFAULTS)
        rules = {}
        for entry in self.dsm.get("firewall_rules") or []:
            # Rules the manager already holds (a DSM ships with rules of its own, and a site adds more): the
            # topology gives their IDs, fields as the API spells them, and the policies they are assigned to.
            entry = dict(entry)
            rule_id = int(entry.pop("id"))
            assigned = entry.pop("policies", []) or []
            rule = dict(RULE_DEFAULTS)
            rule.update(self._validate_rule_fields(entry))
            rule["ID"] = rule_id
            rules[str(rule_id)] = rule
            for policy_id in assigned:
                policies[str(int(policy_id))]["firewallRuleIDs"].append(rule_id)
        return {"next_computer_id": 1, "next_rule_id": 1, "policies": policies, "computers": {}, "rules": rules,
                "nlb": {}}

    def _save(self):
        if not self.state_file:
            return
        directory = os.path.dirname(self.state_file)
        if directory:
            os.makedirs(directory, exist_ok=True)
        temporary = self.state_file + ".tmp"
        with open(temporary, "w") as handle:
            json.dump(self.state, handle, sort_keys=True)
        os.replace(temporary, self.state_file)

    def reset(self):
        with self.lock:
            self.state = self._initial_state()
            self.faults = {}
            self.counters = {"requests": 0, "unauthorized": 0, "throttled": 0, "unavailable": 0, "by_route": {}}
            self._save()

    # -- faults ----------------------------------------------------------------------------------

    def set_faults(self, faults):
        with self.lock:
            faults = dict(faults or {})
            ticks = int(faults.pop("tick", 0) or 0)
            events = faults.pop("publish", None)
            if "policy_delay_ms" in faults:
                delay = faults.pop("policy_delay_ms")
                self.policy_delay_ms = int(self.dsm.get("policy_apply_delay_ms", POLICY_APPLY_DELAY_MS)
                                           if delay is None else delay)
            for key, value in faults.items():
                if value in (None, 0, False):
                    self.faults.pop(key, None)
                else:
                    self.faults[key] = value
            current = dict(self.faults)
        for _tick in range(ticks):
            self.tick()
        if events:
            for event in events if isinstance(events, list) else [events]:
                event = dict(event)
                name = event.pop("event")
                if self.world is not None:
                    self.world.publish(name, **event)
                elif name == "agent.activated":
                    self.on_agent_activated(**event)
                elif name == "agent.removed":
                    self.on_agent_removed(**event)
        self._flush_events()
        return {"faults": current}

    def take_fault(self):
        """The fault for the next request, if any: (status, message, headers), "down", or None."""
        with self.lock:
            if self.faults.get("down"):
                return "down"
            # A throttled DSM answers 429 "Too many API requests" and sends no Retry-After
            # (Automation Center "API Rate Limits").
            for key, status, message, headers in (
                    ("throttle_next", 429, "Too many API requests", {}),
                    ("unavailable_next", 503, "Service Unavailable", {})):
                remaining = int(self.faults.get(key) or 0)
                if remaining > 0:
                    if remaining == 1:
                        self.faults.pop(key)
                    else:
                        self.faults[key] = remaining - 1
                    self.counters["throttled" if status == 429 else "unavailable"] += 1
                    return (status, message, headers)
        return None

    # -- world events ----------------------------------------------------------------------------

    def on_agent_activated(self, host_name, agent_version=None, policy_id=None, dsm_url=None, **_extra):
        with self.lock:
            computer = self._computer_by_host(host_name)
            if computer is None:
                computer_id = self.state["next_computer_id"]
                self.state["next_computer_id"] += 1
                computer = {"ID": computer_id, "hostName": host_name, "displayName": "", "description": "",
                            "platform": "Microsoft Windows Server 2019 (64 bit)", "groupID": 0,
                            "modules": {}, "settings": {}, "firewallRuleIDs": [], "networkDriverLoaded": False,
                            "driverModules": []}
                self.state["computers"][str(computer_id)] = computer
            if policy_id is not None and str(int(policy_id)) in self.state["policies"]:
                computer["policyID"] = int(policy_id)
            computer.setdefault("policyID", 1)
            version = agent_version or computer.get("agentVersion")
            computer["agentVersion"] = version if version and version != NO_AGENT_VERSION else "20.0.0-0"
            computer["agentStatus"] = "active"
            computer["agentStatusMessages"] = ["Managed (Online)"]
            computer["lastAgentCommunication"] = self._ms()
            computer["activated"] = True
            # Activation sends the policy at once.
            computer["lastSendPolicyRequest"] = self._ms()
            self._apply_policy(computer)
            self._save()
        self._flush_events()

    def on_agent_upgraded(self, host_name, agent_version=None, **_extra):
        """An activated agent upgraded in place: the manager learns the version at the agent's next heartbeat
        (Deep Security Help, "Agent-manager communication": the heartbeat carries the agent's status); the
        policy is not sent again for it."""
        with self.lock:
            computer = self._computer_by_host(host_name)
            if computer is None or not agent_version:
                return
            computer["agentVersion"] = agent_version
            computer["lastAgentCommunication"] = self._ms()
            self._save()
        self._flush_events()

    def on_agent_removed(self, host_name, **_extra):
        with self.lock:
            computer = self._computer_by_host(host_name)
            if computer is None:
                return
            computer["agentStatus"] = "inactive"
            computer["agentStatusMessages"] = ["Unmanaged (Unknown)"]
            computer["agentVersion"] = NO_AGENT_VERSION
            computer["activated"] = False
            computer["agentTasks"] = []
            computer.pop("policyDueMs", None)
            computer["networkDriverLoaded"] = False
            computer["driverModules"] = []
            self._save()

    # -- policy delivery -------------------------------------------------------------------------

    def _ms(self):
        return int(self.clock() * 1000)

    def _mark_pending(self, computers):
        """A change in effect for ``computers``: the DSM will send their policy at the next heartbeat."""
        now = self._ms()
        for computer in computers:
            computer["lastSendPolicyRequest"] = now
            computer["agentTasks"] = [SENDING_POLICY_TASK]
            computer["policyDueMs"] = now + max(self.policy_delay_ms, 0)
        if computers and self.world is not None and self.policy_delay_ms > 0:
            timer = threading.Timer(self.policy_delay_ms / 1000.0 + 0.05, self._timer_fired)
            timer.daemon = True
            self._timers = [t for t in self._timers if t.is_alive()] + [timer]
            timer.start()

    def _timer_fired(self):
        with self.lock:
            self._apply_due()
            self._save()
        self._flush_events()

    def _apply_due(self):
        now = self._ms()
        for computer in self.state["computers"].values():
            due = computer.get("policyDueMs")
            if due is None or now < due:
                continue
            if computer.get("activated") and computer.get("agentStatus") == "active":
                self._apply_policy(computer)

    def _apply_policy(self, computer):
        """The agent receives its policy: from now on it filters with what the DSM held at this moment."""
        computer["lastSendPolicySuccess"] = self._ms()
        computer["agentTasks"] = []
        computer.pop("policyDueMs", None)
        computer["applied"] = {
            "firewall": self._effective_module(computer, "firewall"),
            "engineMode": self._effective_setting(computer, "firewallSettingNetworkEngineMode"),
            "rules": [self._effective_rule(computer, rule_id)
                      for rule_id in sorted(self._effective_rule_ids(computer))
                      if str(rule_id) in self.state["rules"]],
        }
        self._check_driver(computer)

    def _computers_affected(self, obj, is_policy):
        if not is_policy:
            return [obj]
        out = []
        for computer in self.state["computers"].values():
            if any(policy["ID"] == obj["ID"] for policy in self._policy_chain(computer.get("policyID"))):
                out.append(computer)
        return out

    def _rule_affected(self, rule_id):
        return [computer for computer in self.state["computers"].values()
                if rule_id in self._effective_rule_ids(computer)]

    def _effective_rule_ids(self, obj, is_policy=False):
        rule_ids = set(obj.get("firewallRuleIDs") or [])
        for policy in self._policy_chain(obj.get("parentID") if is_policy else obj.get("policyID")):
            rule_ids.update(policy.get("firewallRuleIDs") or [])
        return rule_ids

    def _effective_rule(self, obj, rule_id, is_policy=False):
        """The rule as it applies to ``obj``: its own fields, then the overrides of each policy of the chain
        from the top down, then the object's own (a child inherits its parents' overrides, Deep Security
        Help "Policies, inheritance, and overrides")."""
        rule = copy.deepcopy(self.state["rules"][str(rule_id)])
        chain = list(self._policy_chain(obj.get("parentID") if is_policy else obj.get("policyID")))
        for holder in list(reversed(chain)) + [obj]:
            rule.update(copy.deepcopy((holder.get("ruleOverrides") or {}).get(str(rule_id)) or {}))
        return rule

    def _check_driver(self, computer):
        """Queue ``agent.network_driver_loaded`` when a driver module first takes effect (published
        after the lock is released, so a subscriber may call back into the lab)."""
        if not computer.get("activated"):
            return
        on = [field for field in DRIVER_MODULES if self._effective_module(computer, field) not in ("off", None)]
        if on and not computer.get("networkDriverLoaded"):
            computer["networkDriverLoaded"] = True
            computer["driverModules"] = on
            names = {"firewall": "Firewall", "intrusionPrevention": "Intrusion Prevention",
                     "webReputation": "Web Reputation"}
            self._pending_events.append(("agent.network_driver_loaded",
                                         {"host_name": computer["hostName"], "modules": [names[f] for f in on]}))
            self.counters.setdefault("network_driver_loaded", []).append(computer["hostName"])

    def _flush_events(self):
        with self.lock:
            events, self._pending_events = self._pending_events, []
        if self.world is None or not events:
            return
        # The other parts change their state under the world's lock; take it (never while holding
        # ours) so their handlers never race their own request threads.
        with getattr(self.world, "lock", threading.RLock()):
            for name, payload in events:
                self.world.publish(name, **payload)

    # -- NLB "Invalid Flags" ---------------------------------------------------------------------

    def _nlb_topology(self):
        members = {}
        for cluster in ((self.topology.get("windows") or {}).get("nlb_clusters") or []):
            nodes = cluster.get("nodes") or []
            for node in nodes:
                members[str(node["name"]).lower()] = {"cluster": cluster["name"], "size": len(nodes),
                                                      "ip_address": cluster.get("ip_address"),
                                                      "port_rules": list(cluster.get("port_rules") or [])}
        return members

    def nlb_membership(self, host_name):
        """NLB membership of a host: the Windows part's answer, or the topology while it is absent."""
        missing = object()
        answer = missing
        if self.world is not None:
            answer = self.world.ask("windows.nlb_membership", default=missing, host_name=host_name)
        topology = self._nlb_topology().get(str(host_name).lower())
        if answer is missing:
            return topology
        if not answer:
            return None
        info = {"cluster": (topology or {}).get("cluster"), "size": (topology or {}).get("size", 1),
                "ip_address": (topology or {}).get("ip_address"), "port_rules": (topology or {}).get("port_rules") or []}
        if isinstance(answer, dict):
            info["cluster"] = answer.get("cluster") or answer.get("cluster_name") or info["cluster"]
            info["ip_address"] = answer.get("ip_address") or info["ip_address"]
            if isinstance(answer.get("port_rules"), list):
                info["port_rules"] = answer["port_rules"]
            info["state"] = answer.get("state")
            nodes = answer.get("nodes")
            if isinstance(nodes, (list, tuple)) and nodes:
                info["size"] = len(nodes)
        elif isinstance(answer, str):
            info["state"] = answer
        return info

    def tick(self, count=1):
        with self.lock:
            hosts = [c["hostName"] for c in self.state["computers"].values() if c.get("activated")]
        with getattr(self.world, "lock", threading.RLock()):
            membership = dict((host, self.nlb_membership(host)) for host in hosts)
        with self.lock:
            for _tick in range(count):
                for computer in self.state["computers"].values():
                    info = membership.get(computer["hostName"])
                    if not info or not computer.get("activated"):
                        continue
                    record = self.state["nlb"].setdefault(computer["hostName"], {
                        "invalid_flags_events": 0, "invalid_flags_blocked": 0, "cluster": info.get("cluster")})
                    # A stopped or suspended NLB host takes no cluster traffic, so nothing reaches its agent.
                    if str(info.get("state") or "").lower().startswith(("stopped", "suspended")):
                        continue
                    # The agent filters with the policy it last received, not with what the DSM holds now.
                    applied = computer.get("applied") or {}
                    if applied.get("firewall") != "on":
                        continue
                    uncovered = self._uncovered_vip_tcp(applied.get("rules") or [], info)
                    frames = max(int(info.get("size") or 1) - 1, 0) * len(uncovered)
                    if not frames:
                        continue
                    record["invalid_flags_events"] += frames
                    # when they were logged, as an event search by time would see them; bounded
                    log = record.setdefault("invalid_flags_log", [])
                    log.append([self._ms(), frames])
                    del log[:-500]
                    if applied.get("engineMode") == "Inline":
                        record["invalid_flags_blocked"] += frames
            self._save()

    def _assigned_rules(self, computer):
        return [self._effective_rule(computer, rule_id) for rule_id in sorted(self._effective_rule_ids(computer))
                if str(rule_id) in self.state["rules"]]

    def _has_heartbeat_exclusion(self, computer):
        directions = set()
        for rule in self._assigned_rules(computer):
            if (rule.get("action") == "bypass" and rule.get("frameType") == "other"
                    and int(rule.get("frameNumber") or 0) == HEARTBEAT_ETHERTYPE and not rule.get("frameNot")):
                directions.add(rule.get("direction"))
        return directions >= {"incoming", "outgoing"}

    @staticmethod
    def _rule_matches_ip(rule, side, address):
        kind = rule.get(side + "IPType", "any")
        if rule.get(side + "IPNot"):
            return False
        if kind == "any":
            return True
        if kind == "single":
            return rule.get(side + "IPValue") == address
        if kind == "multiple":
            return address in (rule.get(side + "IPMultiple") or [])
        return False

    @staticmethod
    def _rule_matches_port(rule, side, port):
        kind = rule.get(side + "PortType", "any")
        if rule.get(side + "PortNot"):
            return False
        if kind == "any":
            return True
        if kind == "multiple":
            return _covers_port(rule.get(side + "PortMultiple"), port)
        return False

    def _uncovered_vip_tcp(self, rules, info):
        """(virtual IP, TCP port) pairs of the NLB port rules whose traffic is still judged by stateful
        inspection: not covered by a bypass rule in both directions (incoming to the virtual IP's port,
        outgoing from it). A port rule for one virtual IP (``Get-NlbClusterPortRule`` ``VirtualIPAddress``)
        covers that address; a rule for all of them ("All", 255.255.255.255) covers the cluster IP and
        every other virtual IP the port rules name."""
        specific = []
        for port_rule in info.get("port_rules") or []:
            address = str(port_rule.get("ip_address") or "All")
            if address.lower() not in ("all", "255.255.255.255") and address not in specific:
                specific.append(address)
        every = [info.get("ip_address")] + [address for address in specific if address != info.get("ip_address")]
        pairs = []
        for port_rule in info.get("port_rules") or []:
            protocol = str(port_rule.get("protocol") or "Both").lower()
            if protocol not in ("tcp", "both"):
                continue
            address = str(port_rule.get("ip_address") or "All")
            targets = every if address.lower() in ("all", "255.255.255.255") else [address]
            for vip in targets:
                if (vip, int(port_rule.get("start_port") or 0)) not in pairs:
                    pairs.append((vip, int(port_rule.get("start_port") or 0)))
        bypass = [rule for rule in rules
                  if rule.get("action") == "bypass" and rule.get("protocol") in ("tcp", "tcp-udp", "any")
                  and not rule.get("protocolNot") and rule.get("frameType") in ("ip", "ipv4", "any")]
        uncovered = []
        for vip, port in pairs:
            incoming = any(rule.get("direction") == "incoming" and self._rule_matches_ip(rule, "destination", vip)
                           and self._rule_matches_port(rule, "destination", port) for rule in bypass)
            outgoing = any(rule.get("direction") == "outgoing" and self._rule_matches_ip(rule, "source", vip)
                           and self._rule_matches_port(rule, "source", port) for rule in bypass)
            if not (incoming and outgoing):
                uncovered.append((vip, port))
        return uncovered

    def _uncovered_vip_tcp_ports(self, rules, info):
        """The TCP ports of ``_uncovered_vip_tcp``, each once."""
        return sorted(set(port for _vip, port in self._uncovered_vip_tcp(rules, info)))

    # -- effective values ------------------------------------------------------------------------

    def _policy_chain(self, policy_id):
        seen = set()
        policy = self.state["policies"].get(str(policy_id))
        while policy is not None and policy["ID"] not in seen:
            seen.add(policy["ID"])
            yield policy
            policy = self.state["policies"].get(str(policy.get("parentID")))

    def _effective_module(self, obj, field, is_policy=False):
        own = (obj.get("modules") or {}).get(field)
        if own and own != "inherited":
            return own
        start = obj.get("parentID") if is_policy else obj.get("policyID")
        for policy in self._policy_chain(start):
            value = (policy.get("modules") or {}).get(field)
            if value and value != "inherited":
                return value
        return "off"

    def _effective_setting(self, obj, name, is_policy=False):
        own = (obj.get("settings") or {}).get(name)
        if own is not None:
            return own
        start = obj.get("parentID") if is_policy else obj.get("policyID")
        for policy in self._policy_chain(start):
            value = (policy.get("settings") or {}).get(name)
            if value is not None:
                return value
        return SETTINGS[name][1]

    # -- status ----------------------------------------------------------------------------------

    def status(self):
        with self.lock:
            self._apply_due()
        self._flush_events()
        self.tick()
        with self.lock:
            computers = []
            for computer in sorted(self.state["computers"].values(), key=lambda c: c["ID"]):
                computers.append({
                    "id": computer["ID"], "host_name": computer["hostName"],
                    "agent_version": computer.get("agentVersion"), "agent_status": computer.get("agentStatus"),
                    "policy_id": computer.get("policyID"),
                    "firewall": self._effective_module(computer, "firewall"),
                    "intrusion_prevention": self._effective_module(computer, "intrusionPrevention"),
                    "web_reputation": self._effective_module(computer, "webReputation"),
                    "network_engine_mode": self._effective_setting(computer, "firewallSettingNetworkEngineMode"),
                    # the computer's own values (none: every setting follows its policy)
                    "own_settings": dict(computer.get("settings") or {}),
                    "network_driver_loaded": computer.get("networkDriverLoaded", False),
                    "firewall_rule_ids": sorted(computer.get("firewallRuleIDs") or []),
                    "heartbeat_exclusion": self._has_heartbeat_exclusion(computer),
                    "vip_tcp_ports_judged": self._uncovered_vip_tcp_ports(
                        (computer.get("applied") or {}).get("rules") or [],
                        self._nlb_topology().get(computer["hostName"].lower()) or {}),
                    "agent_tasks": list(computer.get("agentTasks") or []),
                    "last_send_policy_request": computer.get("lastSendPolicyRequest"),
                    "last_send_policy_success": computer.get("lastSendPolicySuccess"),
                })
            return {
                "computers": computers,
                "rules": len(self.state["rules"]),
                # the rules created since the start, without those the topology gives the manager
                "rules_created": len([key for key in self.state["rules"] if int(key) not in self.preset_rule_ids]),
                "rule_names": sorted(rule["name"] for rule in self.state["rules"].values()),
                "policies": dict((p["ID"], {"name": p["name"], "firewall_rule_ids": sorted(p["firewallRuleIDs"]),
                                            "modules": p["modules"], "settings": p["settings"]})
                                 for p in self.state["policies"].values()),
                "nlb": copy.deepcopy(self.state["nlb"]),
                "requests": copy.deepcopy(self.counters),
                "faults": dict(self.faults),
            }

    # -- the API ---------------------------------------------------------------------------------

    def handle(self, method, path, query=None, headers=None, body=None):
        """One API request -> (status, headers, document). ``body`` is bytes or None."""
        query = query or {}
        headers = dict((str(k).lower(), v) for k, v in (headers or {}).items())
        try:
            with self.lock:
                self.counters["requests"] += 1
                route = "%s %s" % (method, re.sub(r"/\d+", "/{id}", path))
                self.counters["by_route"][route] = self.counters["by_route"].get(route, 0) + 1
                self._apply_due()
                if headers.get(API_KEY_HEADER) != self.api_key:
                    self.counters["unauthorized"] += 1
                    raise ApiError(401, "Authentication failed: the API key is invalid, expired or disabled.")
                if headers.get("api-version") != "v1":
                    raise ApiError(400, "Missing or unsupported api-version header; supported: v1.")
                document = None
                if body:
                    try:
                        document = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
                    except ValueError:
                        raise ApiError(400, "The request body is not valid JSON.")
                status, result = self._route(method, path, query, document)
                self._save()
            self._flush_events()
            return status, {}, result
        except ApiError as error:
            return error.status, error.headers, {"message": error.message}

    def _route(self, method, path, query, body):
        parts = [part for part in path.split("/") if part]
        if parts and parts[0] == "api":
            parts = parts[1:]
        if not parts:
            raise ApiError(404, "Not found.")
        head = parts[0]
        if head == "firewallrules":
            return self._route_rules(method, parts[1:], body)
        if head in ("computers", "policies"):
            return self._route_objects(head, method, parts[1:], query, body)
        if head == "apiversion" and method == "GET":
            return 200, 1
        raise ApiError(404, "Not found: %s" % path)

    # -- firewall rules --------------------------------------------------------------------------

    def _route_rules(self, method, rest, body):
        if not rest:
            if method == "GET":
                return 200, {"firewallRules": [self._rule_out(r) for r in self._sorted(self.state["rules"])]}
            if method == "POST":
                return 200, self._create_rule(body)
        elif rest == ["search"] and method == "POST":
            rules = self._search(self._sorted(self.state["rules"]), body, RULE_SEARCH_FIELDS)
            return 200, {"firewallRules": [self._rule_out(r) for r in rules]}
        elif len(rest) == 1 and rest[0].isdigit():
            rule = self.state["rules"].get(rest[0])
            if rule is None:
                raise ApiError(404, "The firewall rule does not exist.")
            if method == "GET":
                return 200, self._rule_out(rule)
            if method == "POST":
                return 200, self._modify_rule(rule, body)
            if method == "DELETE":
                users = self._rule_users(rule["ID"])
                if users:
                    raise ApiError(400, "The firewall rule is assigned to %s and cannot be deleted."
                                   % ", ".join(users))
                del self.state["rules"][rest[0]]
                for holder in list(self.state["computers"].values()) + list(self.state["policies"].values()):
                    (holder.get("ruleOverrides") or {}).pop(rest[0], None)
                return 204, None
        raise ApiError(405 if rest else 404, "Method not allowed.")

    def _rule_users(self, rule_id):
        users = ["computer %s" % c["hostName"] for c in self._sorted(self.state["computers"])
                 if rule_id in (c.get("firewallRuleIDs") or [])]
        users += ["policy %s" % p["name"] for p in self._sorted(self.state["policies"])
                  if rule_id in (p.get("firewallRuleIDs") or [])]
        return users

    @staticmethod
    def _sorted(table):
        return [table[key] for key in sorted(table, key=int)]

    def _rule_out(self, rule):
        return copy.deepcopy(rule)

    def _validate_rule_fields(self, body):
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be a firewall rule object.")
        clean = {}
        for field, value in body.items():
            if field == "ID" or value is None:
                continue
            if field not in RULE_FIELDS:
                continue
            if field in ENUMS:
                if value not in ENUMS[field]:
                    raise ApiError(400, "Invalid %s: '%s'. Valid values: %s." % (field, value, ", ".join(ENUMS[field])))
            elif field in RULE_INTS:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ApiError(400, "Invalid %s: '%s'. Must be an integer." % (field, value))
            elif field in RULE_BOOLS:
                if not isinstance(value, bool):
                    raise ApiError(400, "Invalid %s: '%s'. Must be true or false." % (field, value))
            elif field in RULE_LISTS:
                if not isinstance(value, list):
                    raise ApiError(400, "Invalid %s: must be a list." % field)
                if field == "tcpflags":
                    for flag in value:
                        if flag not in TCP_FLAGS:
                            raise ApiError(400, "Invalid tcpflags: '%s'. Valid values: %s." % (flag, ", ".join(TCP_FLAGS)))
                value = [str(item) for item in value]
            elif not isinstance(value, str):
                raise ApiError(400, "Invalid %s: must be a string." % field)
            clean[field] = value
        return clean

    def _check_rule(self, rule, rule_id=None):
        if not str(rule.get("name") or "").strip():
            raise ApiError(400, "Name is required.")
        for other in self.state["rules"].values():
            if other["name"] == rule["name"] and other["ID"] != rule_id:
                raise ApiError(400, "A firewall rule with the name '%s' already exists." % rule["name"])
        if rule.get("frameType") == "other" and not 0x600 <= int(rule.get("frameNumber") or 0) <= 0xFFFF:
            raise ApiError(400, "Invalid frameNumber: %s. An 'other' frame type needs an EtherType between "
                                "1536 and 65535." % rule.get("frameNumber"))
        if rule.get("protocol") == "other" and not 0 <= int(rule.get("protocolNumber") or -1) <= 255:
            raise ApiError(400, "Invalid protocolNumber: an 'other' protocol needs a number between 0 and 255.")
        for side in ("source", "destination"):
            if rule.get(side + "PortType") == "multiple":
                if rule.get("protocol") not in ("tcp", "udp", "tcp-udp"):
                    raise ApiError(400, "Invalid %sPortType: ports apply only to protocol tcp, udp or tcp-udp." % side)
                ports = rule.get(side + "PortMultiple") or []
                if not ports:
                    raise ApiError(400, "%sPortMultiple is required when %sPortType is multiple." % (side, side))
                for port in ports:
                    if not re.match(r"^\d{1,5}(-\d{1,5})?$", str(port)):
                        raise ApiError(400, "Invalid %sPortMultiple entry: '%s'." % (side, port))
            if rule.get(side + "IPType") == "single" and not rule.get(side + "IPValue"):
                raise ApiError(400, "%sIPValue is required when %sIPType is single." % (side, side))

    def _create_rule(self, body):
        fields = self._validate_rule_fields(body)
        rule = dict(RULE_DEFAULTS)
        rule.update(fields)
        if rule.get("frameType") == "other" and "frameNumber" not in fields:
            rule["frameNumber"] = 0
        self._check_rule(rule)
        # IDs come from one sequence and are never reused; the sequence steps over IDs already taken (the
        # topology's rules carry their own).
        rule_id = self.state["next_rule_id"]
        while str(rule_id) in self.state["rules"]:
            rule_id += 1
        self.state["next_rule_id"] = rule_id + 1
        rule["ID"] = rule_id
        self.state["rules"][str(rule_id)] = rule
        return self._rule_out(rule)

    def _modify_rule(self, rule, body):
        fields = self._validate_rule_fields(body)
        updated = dict(rule)
        updated.update(fields)
        self._check_rule(updated, rule["ID"])
        rule.clear()
        rule.update(updated)
        self._mark_pending(self._rule_affected(rule["ID"]))
        return self._rule_out(rule)

    # -- search ----------------------------------------------------------------------------------

    def _search(self, items, body, fields):
        body = body or {}
        if not isinstance(body, dict):
            raise ApiError(400, "The search filter must be an object.")
        max_items = body.get("maxItems", MAX_ITEMS)
        if max_items is None:
            max_items = MAX_ITEMS
        if isinstance(max_items, bool) or not isinstance(max_items, int) or not 0 <= max_items <= MAX_ITEMS:
            raise ApiError(400, "Invalid maxItems: %r. Must be between 0 and %d." % (max_items, MAX_ITEMS))
        criteria = body.get("searchCriteria") or []
        if not isinstance(criteria, list):
            raise ApiError(400, "searchCriteria must be a list.")
        matchers = [self._criterion(c, fields) for c in criteria]
        out = [item for item in items if all(m(item) for m in matchers)]
        out.sort(key=lambda item: item["ID"])
        return out[:max_items]

    def _criterion(self, criterion, fields):
        if not isinstance(criterion, dict):
            raise ApiError(400, "Each search criterion must be an object.")
        if "idTest" in criterion or "idValue" in criterion:
            field, kind = "ID", "id"
        else:
            field = criterion.get("fieldName")
            if not field:
                raise ApiError(400, "Invalid search criteria: fieldName is required.")
            if field not in fields:
                raise ApiError(400, "Invalid search criteria: the field '%s' is not searchable. Searchable "
                                    "fields: %s." % (field, ", ".join(sorted(fields))))
            kind = fields[field]
        ops = {"equal": lambda a, b: a == b, "not-equal": lambda a, b: a != b,
               "greater-than": lambda a, b: a is not None and a > b,
               "greater-than-or-equal": lambda a, b: a is not None and a >= b,
               "less-than": lambda a, b: a is not None and a < b,
               "less-than-or-equal": lambda a, b: a is not None and a <= b}
        if "nullTest" in criterion:
            want_null = bool(criterion.get("nullTest"))
            return lambda item: (item.get(field) in (None, "", 0)) == want_null
        if kind == "id":
            test = criterion.get("idTest", "equal")
            value = criterion.get("idValue")
            if test not in ops or not isinstance(value, int) or isinstance(value, bool):
                raise ApiError(400, "Invalid ID search: idTest must be one of %s and idValue an integer."
                               % ", ".join(ops))
            return lambda item: ops[test](item.get("ID"), value)
        if kind == "string":
            test = criterion.get("stringTest", "equal")
            if test not in ("equal", "not-equal"):
                raise ApiError(400, "Invalid stringTest: '%s'. Valid values: equal, not-equal." % test)
            value = criterion.get("stringValue")
            if not isinstance(value, str):
                raise ApiError(400, "Invalid string search on %s: stringValue is required." % field)
            wildcards = criterion.get("stringWildcards", True)
            if not isinstance(wildcards, bool):
                raise ApiError(400, "Invalid stringWildcards: must be true or false.")
            # SDK 20.0 SearchCriteria.string_wildcards: "Default true": % and _ are wildcards unless the
            # caller turns them off.
            if wildcards:
                pattern = _wildcard(value)

                def match(have):
                    return bool(pattern.match(have or ""))
            else:
                def match(have):
                    return (have or "") == value
            return (lambda item: match(item.get(field))) if test == "equal" else \
                (lambda item: not match(item.get(field)))
        if kind == "numeric":
            test = criterion.get("numericTest", "equal")
            value = criterion.get("numericValue")
            if test not in ops or not isinstance(value, (int, float)):
                raise ApiError(400, "Invalid numeric search on %s: numericTest must be one of %s and numericValue "
                                    "a number." % (field, ", ".join(ops)))
            return lambda item: ops[test](item.get(field), value)
        if kind == "choice":
            test = criterion.get("choiceTest", "equal")
            value = criterion.get("choiceValue")
            if test not in ("equal", "not-equal") or value is None:
                raise ApiError(400, "Invalid choice search on %s: choiceTest equal or not-equal and a choiceValue."
                               % field)
            return lambda item: (str(item.get(field)) == str(value)) == (test == "equal")
        raise ApiError(400, "Invalid search criteria: the field '%s' cannot be searched this way." % field)

    # -- computers and policies ------------------------------------------------------------------

    def _computer_by_host(self, host_name):
        for computer in self.state["computers"].values():
            if computer["hostName"] == host_name:
                return computer
        lowered = str(host_name).lower()
        for computer in self.state["computers"].values():
            if computer["hostName"].lower() == lowered:
                return computer
        return None

    def _expand(self, query):
        values = query.get("expand")
        if values is None:
            return {"all"}
        if isinstance(values, str):
            values = [values]
        out = set()
        for value in values:
            for item in str(value).split(","):
                item = item.strip()
                if item not in COMPUTER_EXPANDS:
                    raise ApiError(400, "Invalid expand value: '%s'. Valid values: %s." % (item, ", ".join(COMPUTER_EXPANDS)))
                out.add(item)
        return out

    def _overrides(self, query):
        value = query.get("overrides")
        if isinstance(value, list):
            value = value[-1] if value else None
        return str(value).lower() == "true"

    def _module_out(self, obj, field, is_policy, overrides):
        if overrides:
            own = (obj.get("modules") or {}).get(field)
            return {"state": own} if own else None
        state = self._effective_module(obj, field, is_policy)
        if is_policy:
            return {"state": state, "moduleStatus": {"status": "active" if state != "off" else "inactive",
                                                     "statusMessage": "On" if state != "off" else "Off"}}
        active = obj.get("activated")
        if not active:
            status, message = "inactive", "Off, not installed"
        elif state == "off":
            status, message = "inactive", "Off, installed"
        else:
            status, message = "active", "On" if state in ("on", "real-time") else "On, %s" % state.capitalize()
        out = {"state": state, "moduleStatus": {"agentStatus": status, "agentStatusMessage": message}}
        if field in ("firewall", "intrusionPrevention", "integrityMonitoring", "logInspection"):
            out["ruleIDs"] = sorted(self._effective_rule_ids(obj)) if field == "firewall" else []
        return out

    def _settings_out(self, obj, is_policy, overrides):
        out = {}
        for name in SETTINGS:
            if overrides:
                own = (obj.get("settings") or {}).get(name)
                if own is not None:
                    out[name] = {"value": own}
            else:
                out[name] = {"value": self._effective_setting(obj, name, is_policy)}
        return out

    def _computer_out(self, computer, expand, overrides=False):
        out = {"ID": computer["ID"], "hostName": computer["hostName"]}
        if not overrides:
            out.update({
                "displayName": computer.get("displayName", ""), "description": computer.get("description", ""),
                "platform": computer.get("platform", ""), "groupID": computer.get("groupID", 0),
                "policyID": computer.get("policyID", 0),
                "agentVersion": computer.get("agentVersion") or NO_AGENT_VERSION,
                "lastAgentCommunication": computer.get("lastAgentCommunication", 0),
                "lastIPUsed": computer.get("lastIPUsed", ""), "assetImportanceID": 0, "relayListID": 0,
            })
            for field in ("lastSendPolicyRequest", "lastSendPolicySuccess"):
                if computer.get(field):
                    out[field] = computer[field]
        every = "all" in expand
        if (every or "tasks" in expand) and not overrides:
            tasks = list(computer.get("agentTasks") or [])
            out["tasks"] = {"agentTasks": tasks} if tasks else {}
        if every or "computerStatus" in expand:
            if not overrides:
                out["computerStatus"] = {"agentStatus": computer.get("agentStatus", "inactive"),
                                         "agentStatusMessages": list(computer.get("agentStatusMessages")
                                                                     or ["Unmanaged (Unknown)"])}
        if every or "computerSettings" in expand:
            out["computerSettings"] = self._settings_out(computer, False, overrides)
        for field in MODULES:
            if every or "allSecurityModules" in expand or field in expand:
                value = self._module_out(computer, field, False, overrides)
                if value is not None:
                    out[field] = value
        if every or "interfaces" in expand:
            if not overrides:
                out["interfaces"] = {"interfaces": []}
        return out

    def _policy_out(self, policy, overrides=False):
        out = {"ID": policy["ID"], "name": policy["name"]}
        if not overrides:
            out.update({"description": policy.get("description", ""), "parentID": policy.get("parentID", 0)})
            out.update((field, policy.get(field, default)) for field, default in POLICY_CHOICE_DEFAULTS.items())
        out["policySettings"] = self._settings_out(policy, True, overrides)
        for field in MODULES:
            value = self._module_out(policy, field, True, overrides)
            if value is not None:
                if field == "firewall" and not overrides:
                    value["ruleIDs"] = sorted(policy.get("firewallRuleIDs") or [])
                out[field] = value
        return out

    def _route_objects(self, kind, method, rest, query, body):
        table = self.state[kind]
        is_policy = kind == "policies"
        out = (lambda obj: self._policy_out(obj, self._overrides(query))) if is_policy else \
            (lambda obj: self._computer_out(obj, self._expand(query), self._overrides(query)))
        if not rest:
            if method == "GET":
                return 200, {kind: [out(obj) for obj in self._sorted(table)]}
            if method == "POST":
                return 200, out(self._create_object(kind, body))
        if rest == ["search"] and method == "POST":
            fields = POLICY_SEARCH_FIELDS if is_policy else COMPUTER_SEARCH_FIELDS
            return 200, {kind: [out(obj) for obj in self._search(self._sorted(table), body, fields)]}
        if not rest[0].isdigit():
            raise ApiError(404, "Not found.")
        obj = table.get(rest[0])
        if obj is None:
            raise ApiError(404, "The %s does not exist." % ("policy" if is_policy else "computer"))
        if len(rest) == 1:
            if method == "GET":
                return 200, out(obj)
            if method == "POST":
                self._modify_object(obj, body, is_policy)
                return 200, out(obj)
            if method == "DELETE" and not is_policy:
                del table[rest[0]]
                return 204, None
        if len(rest) == 3 and rest[1] == "settings":
            return self._route_setting(obj, rest[2], method, body, is_policy, self._overrides(query))
        if len(rest) >= 3 and rest[1] == "firewall" and rest[2] == "assignments":
            return self._route_assignments(obj, method, rest[3:], body, is_policy, self._overrides(query))
        if len(rest) >= 3 and rest[1] == "firewall" and rest[2] == "rules":
            return self._route_rules_on(obj, method, rest[3:], body, is_policy, self._overrides(query))
        raise ApiError(405, "Method not allowed.")

    def _create_object(self, kind, body):
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be an object.")
        if kind == "policies":
            name = str(body.get("name") or "").strip()
            if not name:
                raise ApiError(400, "Name is required.")
            if any(p["name"] == name for p in self.state["policies"].values()):
                raise ApiError(400, "A policy with the name '%s' already exists." % name)
            policy_id = max(int(k) for k in self.state["policies"]) + 1
            policy = {"ID": policy_id, "name": name, "description": body.get("description", ""),
                      "parentID": int(body.get("parentID") or 0), "modules": {}, "settings": {}, "firewallRuleIDs": []}
            policy.update(POLICY_CHOICE_DEFAULTS)
            self.state["policies"][str(policy_id)] = policy
            self._modify_object(policy, body, True)
            return policy
        host = str(body.get("hostName") or "").strip()
        if not host:
            raise ApiError(400, "hostName is required.")
        computer_id = self.state["next_computer_id"]
        self.state["next_computer_id"] += 1
        computer = {"ID": computer_id, "hostName": host, "displayName": body.get("displayName", ""),
                    "description": body.get("description", ""), "platform": "", "groupID": 0,
                    "policyID": 0, "modules": {}, "settings": {}, "firewallRuleIDs": [], "agentVersion": NO_AGENT_VERSION,
                    "agentStatus": "inactive", "agentStatusMessages": ["Unmanaged (Unknown)"], "activated": False}
        self.state["computers"][str(computer_id)] = computer
        self._modify_object(computer, body, False)
        return computer

    def _modify_object(self, obj, body, is_policy):
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be an object.")
        changes = {}
        for field in MODULES:
            if body.get(field) is None:
                continue
            value = body[field]
            if not isinstance(value, dict):
                raise ApiError(400, "Invalid %s: must be an object." % field)
            state = value.get("state")
            if state is None:
                continue
            if state not in MODULES[field]:
                raise ApiError(400, "Invalid %s.state: '%s'. Valid values: %s." % (field, state, ", ".join(MODULES[field])))
            changes[field] = state
        policy_id = body.get("parentID" if is_policy else "policyID")
        if policy_id is not None and policy_id != 0 and str(policy_id) not in self.state["policies"]:
            field_name = "parentID" if is_policy else "policyID"
            raise ApiError(400, "Invalid %s: %s. The policy does not exist." % (field_name, policy_id))
        settings_key = "policySettings" if is_policy else "computerSettings"
        new_settings = {}
        for name, value in (body.get(settings_key) or {}).items():
            if value is None:
                continue
            new_settings[name] = self._check_setting(name, (value or {}).get("value") if isinstance(value, dict) else value)
        for field, state in changes.items():
            obj.setdefault("modules", {})[field] = state
        if policy_id is not None:
            obj["parentID" if is_policy else "policyID"] = int(policy_id)
        obj.setdefault("settings", {}).update(new_settings)
        for field in ("displayName", "description") if not is_policy else ("name", "description"):
            if isinstance(body.get(field), str):
                obj[field] = body[field]
        self._after_change(obj, is_policy)

    def _after_change(self, obj, is_policy):
        self._mark_pending(self._computers_affected(obj, is_policy))

    def _check_setting(self, name, value):
        if name not in SETTINGS:
            raise ApiError(400, "Invalid setting name: '%s'." % name)
        if not isinstance(value, str):
            raise ApiError(400, "Invalid value for %s: must be a string." % name)
        choices = SETTINGS[name][0]
        if choices and value not in choices:
            raise ApiError(400, "Invalid value for %s: '%s'. Valid values: %s." % (name, value, ", ".join(choices)))
        return value

    def _route_setting(self, obj, name, method, body, is_policy, overrides=False):
        """SDK 20.0 ``describe_computer_setting`` / ``modify_computer_setting`` / ``reset_computer_setting``
        (and the policy ones): ``GET|POST|DELETE .../settings/{name}``. The answer is the value in effect;
        with ``overrides=true`` ("Show the value only if defined for the current computer") it carries a
        value only when the object sets one itself. DELETE ("Reset a Computer Setting") removes the
        object's own value, so the setting follows its policy (or parent policy) again."""
        if name not in SETTINGS:
            raise ApiError(400, "Invalid setting name: '%s'." % name)

        def answer():
            if overrides:
                own = (obj.get("settings") or {}).get(name)
                return 200, ({"value": own} if own is not None else {})
            return 200, {"value": self._effective_setting(obj, name, is_policy)}
        if method == "GET":
            return answer()
        if method == "POST":
            if not isinstance(body, dict) or "value" not in body:
                raise ApiError(400, "The request body must be {\"value\": ...}.")
            obj.setdefault("settings", {})[name] = self._check_setting(name, body["value"])
            self._after_change(obj, is_policy)
            return answer()
        if method == "DELETE":
            obj.setdefault("settings", {}).pop(name, None)
            self._after_change(obj, is_policy)
            return answer()
        raise ApiError(405, "Method not allowed.")

    def _route_rules_on(self, obj, method, rest, body, is_policy, overrides):
        """Firewall rules as they apply to a policy or computer (SDK 20.0 ``PolicyFirewallRuleDetailsApi``,
        ``ComputerFirewallRuleDetailsApi``): ``GET .../firewall/rules`` lists the rules in effect, those of
        the parent policies included ("Lists all firewall rules assigned to a policy"), each "including
        policy-level overrides"; with ``overrides=true`` only the rules assigned to the object itself.
        ``GET|POST|DELETE .../firewall/rules/{id}`` describe one rule with the overrides in effect (with
        ``overrides=true`` only the object's own overridden fields), override fields of it for this object
        (and, through inheritance, its children), and reset the object's overrides."""
        if not rest:
            if method != "GET":
                raise ApiError(405, "Method not allowed.")
            ids = (obj.get("firewallRuleIDs") or []) if overrides else self._effective_rule_ids(obj, is_policy)
            rules = [self._effective_rule(obj, rule_id, is_policy) for rule_id in sorted(ids)
                     if str(rule_id) in self.state["rules"]]
            return 200, {"firewallRules": rules}
        if len(rest) != 1 or not rest[0].isdigit():
            raise ApiError(404, "Not found.")
        rule_id = int(rest[0])
        if str(rule_id) not in self.state["rules"]:
            raise ApiError(404, "The firewall rule does not exist.")
        own = obj.setdefault("ruleOverrides", {})
        if method == "POST":
            fields = self._validate_rule_fields(body)
            fields.pop("name", None)
            merged = self._effective_rule(obj, rule_id, is_policy)
            merged.update(fields)
            self._check_rule(merged, rule_id)
            own.setdefault(str(rule_id), {}).update(fields)
            self._after_change(obj, is_policy)
        elif method == "DELETE":
            if own.pop(str(rule_id), None) is not None:
                self._after_change(obj, is_policy)
        elif method != "GET":
            raise ApiError(405, "Method not allowed.")
        if overrides:
            out = {"ID": rule_id}
            out.update(own.get(str(rule_id)) or {})
            return 200, out
        return 200, self._effective_rule(obj, rule_id, is_policy)

    def _route_assignments(self, obj, method, rest, body, is_policy, overrides):
        """Without ``overrides`` the DSM answers with every rule in effect, the policy chain's included;
        with ``overrides=true`` only the object's own (SDK 20.0 ``list_firewall_rule_ids_on_computer``)."""
        assigned = obj.setdefault("firewallRuleIDs", [])

        def answer():
            ids = assigned if overrides else self._effective_rule_ids(obj, is_policy)
            return 200, {"assignedRuleIDs": sorted(ids)}
        if not rest:
            if method == "GET":
                return answer()
            if method in ("POST", "PUT"):
                if not isinstance(body, dict) or not isinstance(body.get("ruleIDs"), list):
                    raise ApiError(400, "The request body must be {\"ruleIDs\": [...]}.")
                ids = []
                for rule_id in body["ruleIDs"]:
                    if isinstance(rule_id, bool) or not isinstance(rule_id, int) or str(rule_id) not in self.state["rules"]:
                        raise ApiError(400, "Invalid rule ID: %s. The firewall rule does not exist." % rule_id)
                    ids.append(rule_id)
                if method == "PUT":
                    assigned[:] = sorted(set(ids))
                else:
                    assigned[:] = sorted(set(assigned) | set(ids))
                self._after_change(obj, is_policy)
                return answer()
        elif len(rest) == 1 and rest[0].isdigit() and method == "DELETE":
            rule_id = int(rest[0])
            if rule_id in assigned:
                assigned.remove(rule_id)
                self._after_change(obj, is_policy)
            return answer()
        raise ApiError(405, "Method not allowed.")
