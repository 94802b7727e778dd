"""A scripted stand-in for WinRMClient: answers each script name from a queue of documents."""
import copy

# What each change's record holds as its writer stores it (compact, key-sorted JSON), valid for records.DATA_SCHEMAS
# on a node whose computer is SQL-NODE1 (network_engine_mode and an NLB agent_maintenance name their computer).
RECORD_DATA = {
    "node_drained": '{"failback":"none"}',
    "cluster_service_stopped": "{}",
    "nlb_node_stopped": '{"action":"drainstop","cluster":"WEBFARM"}',
    "network_engine_mode": '{"computer":"SQL-NODE1","previous_mode":"Inline"}',
    "agent_maintenance": '{"activation":true,"state":"present","version":"20.0.1-690"}',
}


class FakeClient(object):
    def __init__(self, answers):
        self.answers = {name: list(items) if isinstance(items, list) else [items] for name, items in answers.items()}
        self.calls = []

    def run(self, name, body, params=None, timeout=None, stdin_params=None):
        self.calls.append((name, params if stdin_params is None else stdin_params))
        queue = self.answers[name]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return copy.deepcopy(answer)


def mscs_document(me="SQL-NODE1", states=None, owners=None, service="Running", group_states=None, drain=None):
    states = states or {}
    owners = owners or {}
    group_states = group_states or {}
    drain = drain or {}
    names = ["SQL-NODE1", "SQL-NODE2", "SQL-NODE3"]
    document = {"computer": me, "cluster_service": {"status": service, "start_mode": "Automatic"},
                "agent": {"installed": False, "version": None, "service_status": None, "installer_running": False,
                          "installer_service": {"status": "Stopped", "accepts_shutdown": False}},
                "cluster": None, "nodes": [], "groups": [], "networks": []}
    if service != "Running":
        return document
    document["cluster"] = {"name": "SQLCLU01", "quorum_type": "NodeAndFileShareMajority", "quorum_resource": "FSW"}
    document["nodes"] = [{"name": name, "id": str(index + 1), "state": states.get(name, "Up"),
                          "drain_status": drain.get(name, "NotInitiated"), "node_weight": 1, "dynamic_weight": 1}
                         for index, name in enumerate(names)]
    groups = [("Cluster Group", True), ("Available Storage", True), ("SQL Server (MSSQLSERVER)", False)]
    document["groups"] = [{"name": name, "owner_node": owners.get(name, "SQL-NODE1"),
                           "state": group_states.get(name, "Online"), "is_core": core} for name, core in groups]
    document["networks"] = [{"name": "Heartbeat", "role": "1", "state": "Up", "address": "10.10.1.0"}]
    return document


# the bootstrap certificate's hash of Trend's Ansible role and Chef cookbook, and one an activated agent may carry
BOOTSTRAP_CERT_HASH = "D0:68:DE:48:1B:DC:4D:00:89:07:7F:85:15:20:C5:90:11:EB:56:6A"
ACTIVATED_CERT_HASH = "3A:91:5C:0E:77:2B:D4:18:C6:05:9F:E1:42:7D:B8:63:0A:F2:9C:54"
PRODUCT_CODE = "{6D8A3A5C-1F2E-4B7A-9C3D-8E5F6A7B8C9D}"


def agent_document(version=None, service="Running", activated=False, dsm_url=None, policy_id=None,
                   reboot_pending=False):
    """``agent_info`` as the script prints it: GetAgentStatus lines, and the module's own record."""
    lines = []
    if version:
        lines = ["AgentStatus.agentState: %s" % ("green" if activated else "inactive"),
                 "AgentStatus.agentCertHash: %s" % (ACTIVATED_CERT_HASH if activated else BOOTSTRAP_CERT_HASH)]
        if activated:
            lines.append("AgentStatus.dsmUrl: %s" % (dsm_url or "dsm://dsm:4120/"))
    return {"computer": "SQL-NODE1", "reboot_pending": reboot_pending,
            "cluster_service": {"status": service, "start_mode": "Automatic"} if service else None,
            "agent": {"installed": bool(version), "version": version, "product_code": PRODUCT_CODE if version else None,
                      "service_status": "Running" if version else None, "status_lines": lines,
                      "recorded_url": dsm_url if activated else None,
                      "recorded_policy_id": str(policy_id) if policy_id else None}}


def nlb_document(me="WEB1", states=None, installed=True, clustered=True):
    states = states or {}
    document = {"computer": me, "installed": installed, "cluster": None, "nodes": [], "port_rules": []}
    if installed and clustered:
        document["cluster"] = {"name": "WEBFARM", "ip_address": "192.0.2.80", "subnet_mask": "255.255.255.0",
                               "mode": "Unicast", "mac_address": "02-BF-C0-00-02-50",
                               "local_state": states.get(me, "Converged")}
        document["nodes"] = [{"name": name, "host_id": index + 1, "state": states.get(name, "Converged(default)"),
                              "priority": index + 1, "interface": "Ethernet0", "initial_state": "Started"}
                             for index, name in enumerate(["WEB1", "WEB2", "WEB3"])]
        # a single port rule as PowerShell 5.1 writes it when @() is forgotten
        document["port_rules"] = {"start_port": 80, "end_port": 80, "protocol": "Tcp", "mode": "Multiple",
                                  "affinity": "Single", "ip_address": "All"}
    return document


def run_module(monkeypatch, capsys, module, args, client):
    """Run a Windows module's ``main()`` with ``args`` and ``client`` in place of the WinRM client it would
    make; return (result, failed)."""
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import module as winrm_module
    from tests.unit.module_args import run_main

    monkeypatch.setattr(winrm_module, "WinRMClient", lambda params: client)
    return run_main(monkeypatch, capsys, module, args)
