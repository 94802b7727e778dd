"""The window engine against the in-process lab: the real services and backend over the lab's Windows and DSM
models (tests/lab/inprocess.py), vCenter as a small model of its DRS and custom attributes, no socket and no
waiting. What the engine tests share."""
import copy
import datetime
import hashlib
import threading

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError, HeldError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window import (
    lease_fields,
    plan_end_lease,
    plan_window,
)
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import settings as window_settings
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.backend import Backend
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.engine import Window
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.recover import Recover
from tests.lab.inprocess import FakeClock, InProcessLab, estate_topology, load_topology

VERSION = "20.0.1-690"
SQL = ("SQL-NODE1", "SQL-NODE2", "SQL-NODE3")
WEB = ("WEB1", "WEB2", "WEB3")
SHA = hashlib.sha256(("clustersafe-lab-msi:%s" % VERSION).encode()).hexdigest()


class VcenterModel(object):
    """vCenter as the window uses it: each cluster's DRS level, its DRS window record (a custom attribute written
    before the level, vSphere API CustomFieldsManager.SetField), the powered-on VMs and their hosts."""

    def __init__(self, topology):
        self.clusters = {}
        for cluster in topology["vcenter"]["clusters"]:
            self.clusters[cluster["name"]] = {
                "level": cluster["drs"]["automation"], "record": None,
                "vms": [{"name": vm["name"], "host": vm["host"], "moid": "vm-%s" % vm["name"],
                         "power_state": vm.get("power", "poweredOn")} for vm in cluster.get("vms") or []]}
        self.refuse_restore = False
        self.calls = []

    def read(self, clusters=None):
        return {"clusters": [{"name": name, "drs": {"enabled": True, "automation_level": item["level"]},
                              "vms": copy.deepcopy(item["vms"]), "drs_window": copy.deepcopy(item["record"])}
                             for name, item in sorted(self.clusters.items()) if not clusters or name in clusters]}

    # vCenter's clock while a window runs: before the leases the model writes (they expire at 01:00)
    NOW = datetime.datetime(2026, 12, 6, 0, 30, tzinfo=datetime.timezone.utc)

    def drs(self, cluster, window, state, original_level=None, lease_seconds=0, run_id=None, end_lease=False):
        self.calls.append((cluster, window, "end_lease" if end_lease else state))
        item = self.clusters[cluster]
        if end_lease:
            plan = plan_end_lease(cluster, window, item["record"], run_id, self.NOW)
            if plan.write_record is not None:
                item["record"] = plan.write_record
            return {"automation_level": item["level"], "record": item["record"], "changed": plan.changed}
        lease = lease_fields(run_id, "2026-12-06T01:00:00+00:00") if lease_seconds else None
        plan = plan_window(cluster, state, window, item["level"], item["record"], "tester", "2026-12-06T00:00:00Z",
                           saved_level=original_level, lease=lease)
        if state == "restored" and self.refuse_restore:
            raise CollectionError("vCenter refused the reconfiguration of %s (simulated)" % cluster)
        if plan.write_record is not None:
            item["record"] = plan.write_record
        if plan.set_level:
            item["level"] = plan.set_level
        if plan.clear_record:
            item["record"] = None
        return {"automation_level": item["level"], "record": item["record"], "changed": plan.changed}

    def close(self):
        pass


class Crash(BaseException):
    """The controller dies: every call from here on fails as a killed process would stop."""


class LabBackend(Backend):
    """The engine's backend over the in-process lab; ``crash_after`` kills the run after that many calls to the
    nodes (a controller killed at that moment)."""

    def __init__(self, lab, vcenter, controller="controller-a", crash_after=None):
        self.lab = lab
        self.crash_after = crash_after
        self.node_calls = 0
        super(LabBackend, self).__init__(
            node_params=lambda host: ({"hostname": host}, {"hostname": "the inventory host name"}),
            dsm_params={"dsm_url": "https://127.0.0.1:14119/api", "api_key": lab.topology["dsm"]["api_key"]},
            controller=controller, clients=self._client, dsm_opener=lab.dsm_opener(), dsm_sleep=lambda seconds: None,
            vcenter=vcenter)

    def _client(self, host):
        client = self.lab.client(host)
        backend = self
        run = client.run

        def counted(*args, **kwargs):
            backend.node_calls += 1
            if backend.crash_after is not None and backend.node_calls > backend.crash_after:
                raise Crash("the controller died")
            # which controller sends this script, for tests that check who acts on a node
            self.lab.caller.controller = backend.controller
            return run(*args, **kwargs)
        client.run = counted
        return client

    def close(self):
        pass


def new_lab(tmp_path, failover_clusters=1, nlb_farms=1):
    """The lab's own topology, or a generated estate of several failover clusters and NLB farms
    (tests/lab/estate.py, as ``labctl.py start --failover-clusters N --nlb-farms M``)."""
    topology = None
    if failover_clusters > 1 or nlb_farms > 1:
        topology = estate_topology(load_topology(), failover_clusters, nlb_farms)
    lab = InProcessLab(str(tmp_path / "lab"), topology=topology)
    lab.caller = threading.local()
    lab.dsm.set_faults({"policy_delay_ms": 0})
    return lab


def hostvars(lab=None):
    """Every Windows node of the lab's topology as an inventory host of that name."""
    if lab is None:
        return dict((host, {"inventory_hostname": host}) for host in SQL + WEB)
    windows = lab.topology["windows"]
    names = [node["name"] for group in ("failover_clusters", "nlb_clusters") for unit in windows.get(group) or []
             for node in unit["nodes"]]
    return dict((host, {"inventory_hostname": host}) for host in names)


def wsfc_settings(window="CHG-1", **overrides):
    values = dict(window=window, version=VERSION, installer_url="https://127.0.0.1:14119/software/agent/Windows/x86_64/%s/"
                  "agent.msi" % VERSION, installer_sha256=SHA, activation_url="dsm://127.0.0.1:4120/", policy_id=3,
                  token="lab-activation-token", nodes=list(SQL), lease_seconds=60)
    values.update(overrides)
    checked, _warnings = window_settings.check("wsfc", values)
    return checked


def nlb_settings(window="CHG-N", **overrides):
    values = dict(window=window, version=VERSION, installer_url="https://127.0.0.1:14119/software/agent/Windows/x86_64/%s/"
                  "agent.msi" % VERSION, installer_sha256=SHA, activation_url="dsm://127.0.0.1:4120/", policy_id=4,
                  token="lab-activation-token", nodes=list(WEB), lease_seconds=60)
    values.update(overrides)
    checked, _warnings = window_settings.check("nlb", values)
    return checked


def run_window(lab, vcenter, kind="wsfc", settings=None, check_mode=False, controller="controller-a",
               crash_after=None, lines=None, run_id=None):
    backend = LabBackend(lab, vcenter, controller=controller, crash_after=crash_after)
    clock = FakeClock()
    window = Window(kind, settings or (wsfc_settings() if kind == "wsfc" else nlb_settings()), backend,
                    hostvars=hostvars(lab), say=(lines.append if lines is not None else None), check_mode=check_mode,
                    clock=clock.time, sleep=clock.sleep, run_id=run_id)
    return window.run_window(), window


def run_recover(lab, vcenter, check_mode=False, **overrides):
    values = dict(windows_hosts=list(SQL + WEB), vsphere=False)
    values.update(overrides)
    checked = window_settings.check_recover(values)
    backend = LabBackend(lab, vcenter, controller="controller-r")
    clock = FakeClock()
    return Recover(checked, backend, hostvars=hostvars(lab), check_mode=check_mode, clock=clock.time,
                   sleep=clock.sleep).run_recover()


def status(lab):
    return lab.windows.status()


def records(lab):
    return dict((node, [record["change"] for record in items]) for node, items in status(lab)["window_records"].items()
                if items)


def leases(lab):
    return dict((node, text) for node, text in status(lab)["leases"].items() if text)


def assert_put_back(lab, vcenter, level="fullyAutomated"):
    """What every scenario must end with: every node Up with its cluster service, every role Online, no unplanned
    failover, no record and no lease on any node, DRS back with no record."""
    state = status(lab)
    cluster = state["clusters"]["SQLCLU01"]
    for node in SQL:
        assert cluster["nodes"][node]["state"] == "Up", (node, cluster["nodes"][node])
        assert cluster["nodes"][node]["cluster_service"] == "Running", (node, cluster["nodes"][node])
    for role, group in cluster["groups"].items():
        assert group["state"] == "Online", (role, group)
    assert state["unplanned_failovers"] == 0, state["failovers"]
    assert records(lab) == {}
    assert leases(lab) == {}
    assert vcenter.clusters["Prod-Cluster"]["level"] == level and vcenter.clusters["Prod-Cluster"]["record"] is None


__all__ = ["Crash", "HeldError", "VcenterModel", "run_window", "run_recover"]
