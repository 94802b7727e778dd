"""The lab's simulated vCenter behaves like a real one where the collection depends on it.

Starts its own instance (private state dir, free ports) and talks to it with plain pyvmomi.
"""
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest
import yaml

LAB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from tests.lab.vcenter import launcher  # noqa: E402

pyVmomi = pytest.importorskip("pyVmomi")
from pyVim.connect import Disconnect, SmartConnect  # noqa: E402
from pyVim.task import WaitForTask  # noqa: E402
from pyVmomi import vim, vmodl  # noqa: E402

BUILD_DIR = os.path.join(LAB_DIR, ".build")
TOPOLOGY_PATH = os.path.join(LAB_DIR, "topology.yml")


def _port_pair_free(port):
    for candidate in (port, port + 1):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                return False
    return True


def _free_port(preferred):
    for port in list(range(preferred, preferred + 40, 2)):
        if _port_pair_free(port):
            return port
    raise RuntimeError("no free port pair near %d" % preferred)


class Instance:
    def __init__(self, topology, port, scale=None):
        self.topology = topology
        self.state_dir = tempfile.mkdtemp(prefix="vcsim-test-")
        self.binary = launcher.build(BUILD_DIR)
        self.port = port
        argv = launcher.command(self.binary, topology, TOPOLOGY_PATH, self.state_dir, port=port, scale=scale)
        self.log = open(os.path.join(self.state_dir, "vcenter.log"), "wb")
        started = time.time()
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        ready = os.path.join(self.state_dir, "vcenter.ready.json")
        while not os.path.exists(ready):
            if self.process.poll() is not None:
                raise RuntimeError("simulator exited: %s" % open(self.log.name).read())
            if time.time() - started > 60:
                raise RuntimeError("simulator not ready after 60 s")
            time.sleep(0.05)
        self.startup_seconds = time.time() - started
        with open(ready) as handle:
            self.ready = json.load(handle)
        self.ca = os.path.join(self.state_dir, "pki", "ca.pem")

    def connect(self, user=None, password=None):
        vcenter = self.topology["vcenter"]
        return SmartConnect(host="127.0.0.1", port=self.port, user=user or vcenter["username"],
                            pwd=password if password is not None else vcenter["password"],
                            sslContext=ssl.create_default_context(cafile=self.ca))

    def control(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.ready["control"] + path, data=data,
                                         method="GET" if body is None else "POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def topology():
    with open(TOPOLOGY_PATH) as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="session")
def lab(topology):
    instance = Instance(topology, _free_port(28443))
    yield instance
    instance.stop()


@pytest.fixture
def si(lab):
    connection = lab.connect()
    yield connection
    try:
        Disconnect(connection)
    except Exception:  # the session may have been dropped on purpose
        pass


def _objects(si, kind):
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        return {obj.name: obj for obj in view.view}
    finally:
        view.Destroy()


def _wait(task, timeout=30):
    deadline = time.time() + timeout
    while task.info.state in (vim.TaskInfo.State.queued, vim.TaskInfo.State.running):
        if time.time() > deadline:
            raise AssertionError("task still running after %ss" % timeout)
        time.sleep(0.05)
    return task.info


def _reconfigure(cluster, spec, modify=True):
    return _wait(cluster.ReconfigureComputeResource_Task(spec, modify))


def test_inventory_matches_topology(si, topology):
    assert set(_objects(si, vim.Datacenter)) == {"DC-Lab"}
    clusters = _objects(si, vim.ClusterComputeResource)
    expected = {c["name"]: c for c in topology["vcenter"]["clusters"]}
    assert set(clusters) == set(expected)
    vms = _objects(si, vim.VirtualMachine)
    for name, spec in expected.items():
        hosts = {h.name: h for h in clusters[name].host}
        assert set(hosts) == set(spec["hosts"])
        for host in hosts.values():
            assert host.runtime.connectionState == "connected"
            assert host.runtime.inMaintenanceMode is False
            dsva = vms["dsva-" + host.name]
            assert dsva.runtime.host.name == host.name
            assert dsva.runtime.powerState == "poweredOn"
        for vm in spec["vms"]:
            assert vms[vm["name"]].runtime.host.name == vm["host"]
            # YAML 1.1 reads a bare `off` as false.
            power = "poweredOff" if str(vm.get("power", "on")).lower() in ("off", "false", "poweredoff") else "poweredOn"
            assert vms[vm["name"]].runtime.powerState == power
    n_vms = sum(len(c["vms"]) + len(c["hosts"]) for c in expected.values())
    assert len(vms) == n_vms
    assert set(_objects(si, vim.HostSystem)) == {h for c in expected.values() for h in c["hosts"]}


def test_cluster_config_is_complete(si):
    clusters = _objects(si, vim.ClusterComputeResource)
    prod = clusters["Prod-Cluster"].configurationEx
    assert prod.drsConfig.enabled is True
    assert prod.drsConfig.defaultVmBehavior == "fullyAutomated"
    assert prod.drsConfig.vmotionRate == 2
    assert prod.drsConfig.enableVmBehaviorOverrides is True
    assert prod.dasConfig.enabled is True
    assert prod.dasConfig.hostMonitoring == "enabled"
    assert prod.dasConfig.admissionControlEnabled is True
    assert prod.dasConfig.vmMonitoring == "vmMonitoringDisabled"
    assert prod.dasConfig.defaultVmSettings.restartPriority == "medium"
    assert prod.dasConfig.defaultVmSettings.isolationResponse == "none"
    assert prod.vsanConfigInfo.enabled is False
    web = clusters["Web-Cluster"].configurationEx
    assert web.drsConfig.defaultVmBehavior == "partiallyAutomated"
    assert web.drsConfig.vmotionRate == 3
    assert web.dasConfig.admissionControlEnabled is False


def test_modify_true_changes_only_what_is_set(si):
    cluster = _objects(si, vim.ClusterComputeResource)["Web-Cluster"]
    spec = vim.cluster.ConfigSpecEx(drsConfig=vim.cluster.DrsConfigInfo(defaultVmBehavior="manual"))
    assert _reconfigure(cluster, spec).state == "success"
    drs = cluster.configurationEx.drsConfig
    assert (drs.defaultVmBehavior, drs.vmotionRate, drs.enabled) == ("manual", 3, True)
    spec = vim.cluster.ConfigSpecEx(dasConfig=vim.cluster.DasConfigInfo(
        defaultVmSettings=vim.cluster.DasVmSettings(restartPriority="high")))
    assert _reconfigure(cluster, spec).state == "success"
    das = cluster.configurationEx.dasConfig
    assert das.defaultVmSettings.restartPriority == "high"
    assert das.defaultVmSettings.isolationResponse == "none"
    assert das.enabled is True and das.hostMonitoring == "enabled"
    spec = vim.cluster.ConfigSpecEx(
        drsConfig=vim.cluster.DrsConfigInfo(defaultVmBehavior="partiallyAutomated"),
        dasConfig=vim.cluster.DasConfigInfo(defaultVmSettings=vim.cluster.DasVmSettings(restartPriority="medium")))
    assert _reconfigure(cluster, spec).state == "success"
    assert cluster.configurationEx.drsConfig.defaultVmBehavior == "partiallyAutomated"


def test_vm_overrides_add_edit_remove(si):
    cluster = _objects(si, vim.ClusterComputeResource)["Prod-Cluster"]
    vm = _objects(si, vim.VirtualMachine)["app-02"]
    add = vim.cluster.ConfigSpecEx(
        drsVmConfigSpec=[vim.cluster.DrsVmConfigSpec(operation="add", info=vim.cluster.DrsVmConfigInfo(key=vm, enabled=False))],
        dasVmConfigSpec=[vim.cluster.DasVmConfigSpec(operation="add", info=vim.cluster.DasVmConfigInfo(
            key=vm, dasSettings=vim.cluster.DasVmSettings(restartPriority="disabled")))])
    assert _reconfigure(cluster, add).state == "success"
    cfg = cluster.configurationEx
    assert [(o.key.name, o.enabled) for o in cfg.drsVmConfig] == [("app-02", False)]
    assert [(o.key.name, o.dasSettings.restartPriority) for o in cfg.dasVmConfig] == [("app-02", "disabled")]
    again = vim.cluster.ConfigSpecEx(drsVmConfigSpec=[vim.cluster.DrsVmConfigSpec(
        operation="add", info=vim.cluster.DrsVmConfigInfo(key=vm, behavior="manual"))])
    info = _reconfigure(cluster, again)
    assert info.state == "error" and isinstance(info.error, vmodl.fault.InvalidArgument)
    edit = vim.cluster.ConfigSpecEx(drsVmConfigSpec=[vim.cluster.DrsVmConfigSpec(
        operation="edit", info=vim.cluster.DrsVmConfigInfo(key=vm, behavior="manual"))])
    assert _reconfigure(cluster, edit).state == "success"
    [override] = cluster.configurationEx.drsVmConfig
    assert (override.enabled, override.behavior) == (False, "manual")
    remove = vim.cluster.ConfigSpecEx(
        drsVmConfigSpec=[vim.cluster.DrsVmConfigSpec(operation="remove", removeKey=vm)],
        dasVmConfigSpec=[vim.cluster.DasVmConfigSpec(operation="remove", removeKey=vm)])
    info = _reconfigure(cluster, remove)
    assert info.state == "success", info.error
    assert not cluster.configurationEx.drsVmConfig and not cluster.configurationEx.dasVmConfig
    info = _reconfigure(cluster, remove)
    assert info.state == "error" and isinstance(info.error, vmodl.fault.InvalidArgument)
    missing_edit = vim.cluster.ConfigSpecEx(dasVmConfigSpec=[vim.cluster.DasVmConfigSpec(
        operation="edit", info=vim.cluster.DasVmConfigInfo(key=vm, dasSettings=vim.cluster.DasVmSettings(restartPriority="high")))])
    assert isinstance(_reconfigure(cluster, missing_edit).error, vmodl.fault.InvalidArgument)


def test_resource_usage(si):
    usage = _objects(si, vim.ClusterComputeResource)["Prod-Cluster"].GetResourceUsage()
    assert 0 < usage.cpuUsedMHz < usage.cpuCapacityMHz
    assert 0 < usage.memUsedMB < usage.memCapacityMB
    assert usage.storageCapacityMB > 0


def test_maintenance_waits_and_times_out_without_full_drs(si):
    host = _objects(si, vim.HostSystem)["esx-13.lab.local"]
    started = time.time()
    task = host.EnterMaintenanceMode_Task(timeout=2)
    time.sleep(0.5)
    assert task.info.state == "running"
    info = _wait(task, timeout=10)
    assert time.time() - started >= 2
    assert info.state == "error" and isinstance(info.error, vim.fault.Timedout)
    assert host.runtime.inMaintenanceMode is False
    assert {vm.name for vm in host.vm} == {"WEB3", "dsva-esx-13.lab.local"}
    with pytest.raises(vim.fault.Timedout):  # pyVim's property-collector wait sees the same
        WaitForTask(host.EnterMaintenanceMode_Task(timeout=1))


def test_maintenance_with_full_drs_moves_movable_vms(si):
    hosts = _objects(si, vim.HostSystem)
    vms = _objects(si, vim.VirtualMachine)
    cluster = _objects(si, vim.ClusterComputeResource)["Prod-Cluster"]
    host, dsva, sql = hosts["esx-03.lab.local"], vms["dsva-esx-03.lab.local"], vms["SQL-NODE3"]
    pin = vim.cluster.ConfigSpecEx(drsVmConfigSpec=[vim.cluster.DrsVmConfigSpec(
        operation="add", info=vim.cluster.DrsVmConfigInfo(key=dsva, enabled=False))])
    assert _reconfigure(cluster, pin).state == "success"
    try:
        task = host.EnterMaintenanceMode_Task(timeout=20)
        deadline = time.time() + 5
        while sql.runtime.host.name == "esx-03.lab.local" and time.time() < deadline:
            time.sleep(0.05)
        assert sql.runtime.host.name in ("esx-01.lab.local", "esx-02.lab.local")
        assert sql in sql.runtime.host.vm and sql not in host.vm
        time.sleep(0.5)
        assert task.info.state == "running"  # the pinned DSVA keeps the host busy
        assert _wait(dsva.PowerOffVM_Task()).state == "success"
        assert _wait(task).state == "success"
        assert host.runtime.inMaintenanceMode is True
        assert vms["app-03"].runtime.host.name == "esx-03.lab.local"  # powered off: stays
        assert _wait(host.ExitMaintenanceMode_Task(timeout=0)).state == "success"
        assert host.runtime.inMaintenanceMode is False
        assert _wait(dsva.PowerOnVM_Task()).state == "success"
        assert _wait(sql.RelocateVM_Task(vim.vm.RelocateSpec(host=host))).state == "success"
    finally:
        unpin = vim.cluster.ConfigSpecEx(drsVmConfigSpec=[vim.cluster.DrsVmConfigSpec(operation="remove", removeKey=dsva)])
        _reconfigure(cluster, unpin)


def test_vm_overrides_are_ignored_when_the_cluster_disables_them(si):
    hosts = _objects(si, vim.HostSystem)
    vms = _objects(si, vim.VirtualMachine)
    cluster = _objects(si, vim.ClusterComputeResource)["Prod-Cluster"]
    host, dsva = hosts["esx-02.lab.local"], vms["dsva-esx-02.lab.local"]
    spec = vim.cluster.ConfigSpecEx(
        drsConfig=vim.cluster.DrsConfigInfo(enableVmBehaviorOverrides=False),
        drsVmConfigSpec=[vim.cluster.DrsVmConfigSpec(operation="add",
                                                     info=vim.cluster.DrsVmConfigInfo(key=dsva, enabled=False))])
    assert _reconfigure(cluster, spec).state == "success"
    try:
        assert _wait(host.EnterMaintenanceMode_Task(timeout=20)).state == "success"
        assert dsva.runtime.host != host  # excluded from DRS, yet moved: the override did not count
    finally:
        if host.runtime.inMaintenanceMode:
            _wait(host.ExitMaintenanceMode_Task(timeout=0))
        for name in ("dsva-esx-02.lab.local", "SQL-NODE2", "app-02"):
            _wait(vms[name].RelocateVM_Task(vim.vm.RelocateSpec(host=host)))
        _reconfigure(cluster, vim.cluster.ConfigSpecEx(
            drsConfig=vim.cluster.DrsConfigInfo(enableVmBehaviorOverrides=True),
            drsVmConfigSpec=[vim.cluster.DrsVmConfigSpec(operation="remove", removeKey=dsva)]))


def test_relocate_moves_vm(si):
    hosts = _objects(si, vim.HostSystem)
    vm = _objects(si, vim.VirtualMachine)["WEB1"]
    source, target = hosts["esx-11.lab.local"], hosts["esx-12.lab.local"]
    assert _wait(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=target))).state == "success"
    assert vm.runtime.host.name == "esx-12.lab.local"
    assert vm.summary.runtime.host.name == "esx-12.lab.local"
    assert vm in target.vm and vm not in source.vm
    assert _wait(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=source))).state == "success"
    assert vm in source.vm and vm not in target.vm


def test_custom_attributes(si):
    content = si.RetrieveContent()
    manager = content.customFieldsManager
    field = manager.AddCustomFieldDef(name="clustersafe.test", moType=None)
    with pytest.raises(vim.fault.DuplicateName):
        manager.AddCustomFieldDef(name="clustersafe.test", moType=None)
    vm = _objects(si, vim.VirtualMachine)["app-01"]
    manager.SetField(entity=vm, key=field.key, value="first")
    manager.SetField(entity=vm, key=field.key, value="second")
    assert [(v.key, v.value) for v in vm.customValue] == [(field.key, "second")]
    assert [(v.key, v.value) for v in vm.value] == [(field.key, "second")]
    manager.SetField(entity=vm, key=field.key, value="")
    assert list(vm.customValue) == []
    cluster = _objects(si, vim.ClusterComputeResource)["Prod-Cluster"]
    host = _objects(si, vim.HostSystem)["esx-01.lab.local"]
    for entity in (cluster, host):
        entity.SetCustomValue(key="clustersafe.test", value="saved")
        entity.SetCustomValue(key="clustersafe.test", value="saved-again")
        assert [(v.key, v.value) for v in entity.customValue] == [(field.key, "saved-again")]
        entity.SetCustomValue(key="clustersafe.test", value="")
        assert list(entity.value) == []


def test_fail_reconfigure_fault(lab, si):
    cluster = _objects(si, vim.ClusterComputeResource)["Web-Cluster"]
    assert lab.control("/faults", {"fail_reconfigure": 1})["fail_reconfigure"] == 1
    spec = vim.cluster.ConfigSpecEx(drsConfig=vim.cluster.DrsConfigInfo(vmotionRate=5))
    info = _reconfigure(cluster, spec)
    assert info.state == "error" and "Lab fault: reconfigure refused" in info.error.msg
    assert cluster.configurationEx.drsConfig.vmotionRate == 3
    assert lab.control("/faults")["fail_reconfigure"] == 0
    assert _reconfigure(cluster, vim.cluster.ConfigSpecEx(drsConfig=vim.cluster.DrsConfigInfo(vmotionRate=3))).state == "success"


def test_drop_sessions(lab):
    connection = lab.connect()
    content = connection.RetrieveContent()
    assert content.rootFolder.childEntity
    lab.control("/faults", {"drop_sessions": True})
    with pytest.raises(vim.fault.NotAuthenticated):
        content.rootFolder.childEntity
    with pytest.raises(vim.fault.NotAuthenticated):
        content.sessionManager.AcquireCloneTicket()
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=content.rootFolder)],
        propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vim.Folder, pathSet=["name"])])
    with pytest.raises(vim.fault.NotAuthenticated):
        content.propertyCollector.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions())
    assert content.sessionManager.currentSession is None
    again = lab.connect()
    assert again.RetrieveContent().rootFolder.childEntity
    Disconnect(again)


def test_wrong_password_is_invalid_login(lab):
    with pytest.raises(vim.fault.InvalidLogin):
        lab.connect(password="not-the-password")


def test_soap_requests_are_counted(lab, si):
    content = si.RetrieveContent()
    lab.control("/stats/reset", {})
    for attempt in range(3):
        assert content.rootFolder.childEntity, attempt
    stats = lab.control("/stats")
    # pyVmomi 8+ reads single properties with Fetch; older clients use RetrieveProperties(Ex).
    assert sum(stats["by_method"].get(m, 0) for m in ("Fetch", "RetrieveProperties", "RetrievePropertiesEx")) == 3
    assert stats["soap_requests"] == sum(stats["by_method"].values()) == 3


def test_latency_injection(lab, si):
    content = si.RetrieveContent()
    assert lab.control("/faults", {"latency_ms": 300})["latency_ms"] == 300
    try:
        started = time.time()
        content.rootFolder.childEntity
        assert time.time() - started >= 0.3
    finally:
        dropped = lab.control("/faults")["sessions_dropped"]
        assert lab.control("/faults", {"clear": True}) == {"fail_reconfigure": 0, "latency_ms": 0, "sessions_dropped": dropped}


def _retrieve_vm_names(si, max_objects=None):
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=view, skip=True, selectSet=[
            vmodl.query.PropertyCollector.TraversalSpec(name="v", type=vim.view.ContainerView, path="view")])],
        propSet=[vmodl.query.PropertyCollector.PropertySpec(type=vim.VirtualMachine, pathSet=["name", "runtime.host"])])
    collector = content.propertyCollector
    result = collector.RetrievePropertiesEx([spec], vmodl.query.PropertyCollector.RetrieveOptions(maxObjects=max_objects))
    names, pages = [], 0
    while result:
        pages += 1
        names += [prop.val for obj in result.objects for prop in obj.propSet if prop.name == "name"]
        result = collector.ContinueRetrievePropertiesEx(result.token) if result.token else None
    view.Destroy()
    return names, pages


def test_property_paging(si, topology):
    # Like vCenter, the lab pages even when the client sets no maximum (at the topology's default size).
    page_size = topology["vcenter"]["default_page_size"]
    everything, pages = _retrieve_vm_names(si)
    assert len(everything) == 18 and page_size < 18
    assert pages == -(-18 // page_size)
    paged, pages = _retrieve_vm_names(si, max_objects=5)
    assert pages == 4 and sorted(paged) == sorted(everything)
    larger, pages = _retrieve_vm_names(si, max_objects=1000)  # a larger maximum does not lift the server's own
    assert pages == -(-18 // page_size) and sorted(larger) == sorted(everything)


def _raw_soap(lab, si, method, this_type, this_value, arguments=""):
    """Send one SOAP call as a client without pyVmomi's checks would (returns status, body)."""
    envelope = ('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
                'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
                '<%s xmlns="urn:vim25"><_this type="%s">%s</_this>%s</%s></soapenv:Body></soapenv:Envelope>'
                % (method, this_type, this_value, arguments, method))
    request = urllib.request.Request("https://127.0.0.1:%d/sdk" % lab.port, data=envelope.encode(), method="POST",
                                     headers={"Content-Type": "text/xml", "SOAPAction": "urn:vim25/8.0.0.0",
                                              "Cookie": si._stub.cookie})
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=lab.ca), timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_maintenance_mode_calls_require_vcenters_timeout(lab, si):
    host = _objects(si, vim.HostSystem)["esx-12.lab.local"]
    for method in ("EnterMaintenanceMode_Task", "ExitMaintenanceMode_Task"):
        status, body = _raw_soap(lab, si, method, "HostSystem", host._moId)
        assert status == 500 and "InvalidRequest" in body and "timeout" in body, body
    # pyVmomi itself refuses the call without timeout, before any request (its type info marks it required)
    with pytest.raises(TypeError):
        host.EnterMaintenanceMode_Task()
    status, body = _raw_soap(lab, si, "ExitMaintenanceMode_Task", "HostSystem", host._moId, "<timeout>30</timeout>")
    assert status == 200 and "ExitMaintenanceMode_TaskResponse" in body


def test_check_relocate_and_relocate_refuse_storage_the_target_cannot_reach(si):
    content = si.RetrieveContent()
    hosts = _objects(si, vim.HostSystem)
    vm = _objects(si, vim.VirtualMachine)["WEB2"]
    source, target = hosts["esx-12.lab.local"], hosts["esx-13.lab.local"]
    checker = content.vmProvisioningChecker
    assert _wait(checker.CheckRelocate_Task(vm=vm, spec=vim.vm.RelocateSpec(host=target))).result[0].error == []
    shared = vm.datastore[0]
    local_dir = tempfile.mkdtemp(prefix="lab-local-ds-")
    local = source.configManager.datastoreSystem.CreateLocalDatastore(name="esx-12-local", path=local_dir)
    try:
        assert _wait(vm.RelocateVM_Task(vim.vm.RelocateSpec(datastore=local))).state == "success"
        results = _wait(checker.CheckRelocate_Task(vm=vm, spec=vim.vm.RelocateSpec(host=target))).result
        assert len(results) == 1 and results[0].vm == vm and results[0].host == target
        # pyVmomi hands a LocalizedMethodFault over as the fault itself, its message in msg
        assert [type(e) for e in results[0].error] == [vim.fault.DatastoreNotWritableOnHost]
        assert "esx-12-local" in results[0].error[0].msg
        info = _wait(vm.RelocateVM_Task(vim.vm.RelocateSpec(host=target)))
        assert info.state == "error" and isinstance(info.error, vim.fault.DatastoreNotWritableOnHost)
        assert vm.runtime.host == source
    finally:
        assert _wait(vm.RelocateVM_Task(vim.vm.RelocateSpec(datastore=shared))).state == "success"
        shutil.rmtree(local_dir, ignore_errors=True)


def test_ovf_deployed_dsvas_carry_their_product(si):
    vms = _objects(si, vim.VirtualMachine)
    product = vms["dsva-esx-11.lab.local"].summary.config.product
    assert "Deep Security" in product.name and "Trend Micro" in product.vendor
    assert vms["dsva-esx-01.lab.local"].summary.config.product is None


def test_build_is_cached(lab):
    started = time.time()
    assert launcher.build(BUILD_DIR) == lab.binary
    assert time.time() - started < 2


def test_scale_mode(topology, lab):
    instance = Instance(topology, _free_port(lab.port + 10), scale={"clusters": 2, "hosts_per_cluster": 3, "vms": 50})
    try:
        connection = instance.connect()
        clusters = _objects(connection, vim.ClusterComputeResource)
        hosts = _objects(connection, vim.HostSystem)
        vms = _objects(connection, vim.VirtualMachine)
        assert len(clusters) == 2 and len(hosts) == 6
        assert all(len(c.host) == 3 for c in clusters.values())
        assert len(vms) == 50 + 6 + 1
        assert "dsm-01" in vms
        for name, host in hosts.items():
            assert vms["dsva-" + name].runtime.host == host
        ordinary = [vm for name, vm in vms.items() if not name.startswith("dsva-") and name != "dsm-01"]
        assert {vm.runtime.host.name for vm in ordinary} == set(hosts)
        Disconnect(connection)
    finally:
        instance.stop()


# -- accounts, privileges and the records' field policy ----------------------------------------------------

@pytest.fixture
def tagger(lab, topology):
    """A session of the topology's account that holds Global.SetCustomField and read privileges only."""
    account = topology["vcenter"]["accounts"][0]
    connection = lab.connect(account["username"], account["password"])
    yield connection
    Disconnect(connection)


def _field(si, name, kind, policy=None):
    manager = si.RetrieveContent().customFieldsManager
    for field in manager.field:
        if field.name == name and field.managedObjectType == kind:
            return field
    privileges = None
    if policy:
        privileges = vim.PrivilegePolicyDef(createPrivilege=policy, readPrivilege="System.Read",
                                            updatePrivilege=policy, deletePrivilege=policy)
    return manager.AddCustomFieldDef(name=name, moType=kind, fieldPolicy=privileges)


def test_sessions_are_named_as_vcenter_names_sso_users(si, tagger, topology):
    assert si.RetrieveContent().sessionManager.currentSession.userName == "VSPHERE.LOCAL\\administrator"
    assert tagger.RetrieveContent().sessionManager.currentSession.userName == "VSPHERE.LOCAL\\tagger"


def test_set_custom_value_needs_the_update_privilege_of_the_fields_policy(si, tagger):
    guarded = _field(si, "lab.guarded", vim.HostSystem, policy="Host.Config.Maintenance")
    assert guarded.fieldInstancePrivileges.updatePrivilege == "Host.Config.Maintenance"
    open_field = _field(si, "lab.open", vim.HostSystem)
    admin_host = _objects(si, vim.HostSystem)["esx-13.lab.local"]
    tagger_host = _objects(tagger, vim.HostSystem)["esx-13.lab.local"]
    admin_host.setCustomValue(key="lab.guarded", value="by the administrator")
    with pytest.raises(vim.fault.NoPermission) as caught:
        tagger_host.setCustomValue(key="lab.guarded", value="forged")
    assert caught.value.privilegeId == "Host.Config.Maintenance"
    # a field without a policy asks Global.SetCustomField, which the tagger holds
    tagger_host.setCustomValue(key="lab.open", value="tagged")
    # SetField is documented to ask Global.SetCustomField on the entity, nothing about the field's policy
    tagger.RetrieveContent().customFieldsManager.SetField(entity=tagger_host, key=guarded.key, value="forged")
    values = dict((value.key, value.value) for value in admin_host.customValue)
    assert values[guarded.key] == "forged" and values[open_field.key] == "tagged"


def test_calls_need_their_privileges(si, tagger):
    host = _objects(tagger, vim.HostSystem)["esx-13.lab.local"]
    with pytest.raises(vim.fault.NoPermission) as caught:
        host.EnterMaintenanceMode_Task(timeout=5)
    assert caught.value.privilegeId == "Host.Config.Maintenance"
    with pytest.raises(vim.fault.NoPermission) as caught:
        tagger.RetrieveContent().customFieldsManager.AddCustomFieldDef(name="lab.tagger", moType=vim.HostSystem)
    assert caught.value.privilegeId == "Global.ManageCustomFields"
    assert _objects(si, vim.HostSystem)["esx-13.lab.local"].runtime.inMaintenanceMode is False


def test_a_field_policy_names_defined_privileges_only(si):
    manager = si.RetrieveContent().customFieldsManager
    policy = vim.PrivilegePolicyDef(createPrivilege="System.Read", readPrivilege="System.Read",
                                    updatePrivilege="Lab.NoSuchPrivilege", deletePrivilege="System.Read")
    with pytest.raises(vim.fault.InvalidPrivilege):
        manager.AddCustomFieldDef(name="lab.bad", moType=vim.HostSystem, fieldPolicy=policy)


# -- events name who did what ---------------------------------------------------------------------------------

def _events(si, entity, types):
    spec = vim.event.EventFilterSpec(entity=vim.event.EventFilterSpec.ByEntity(entity=entity, recursion="all"),
                                     eventTypeId=list(types), maxCount=1000)
    return si.RetrieveContent().eventManager.QueryEvents(spec)


def test_events_carry_the_user_and_the_host_a_vm_left(si):
    objects = _objects(si, vim.ClusterComputeResource)
    cluster = objects["Web-Cluster"]
    hosts, vms = _objects(si, vim.HostSystem), _objects(si, vim.VirtualMachine)
    web, source, target = vms["WEB3"], hosts["esx-13.lab.local"], hosts["esx-12.lab.local"]
    assert _wait(web.RelocateVM_Task(vim.vm.RelocateSpec(host=target))).state == "success"
    assert _wait(web.RelocateVM_Task(vim.vm.RelocateSpec(host=source))).state == "success"
    migrated = [event for event in _events(si, cluster, ["VmMigratedEvent"]) if event.vm.vm == web]
    assert [(event.sourceHost.host, event.host.host) for event in migrated[-2:]] in (
        [(source, target), (target, source)], [(target, source), (source, target)])
    assert all(event.userName == "VSPHERE.LOCAL\\administrator" for event in migrated)
    spec = vim.cluster.ConfigSpecEx(drsConfig=vim.cluster.DrsConfigInfo(vmotionRate=3))
    assert _reconfigure(cluster, spec).state == "success"
    changed = _events(si, cluster, ["ClusterReconfiguredEvent"])
    assert changed and changed[0].computeResource.computeResource == cluster
    assert changed[0].userName == "VSPHERE.LOCAL\\administrator"


def test_maintenance_mode_events_name_the_user_who_asked(si):
    host = _objects(si, vim.HostSystem)["esx-13.lab.local"]
    cluster = _objects(si, vim.ClusterComputeResource)["Web-Cluster"]
    vms = [vm for vm in host.vm if vm.runtime.powerState == "poweredOn"]
    for vm in vms:
        assert _wait(vm.PowerOffVM_Task()).state == "success"
    try:
        assert _wait(host.EnterMaintenanceMode_Task(timeout=10)).state == "success"
        assert _wait(host.ExitMaintenanceMode_Task(timeout=10)).state == "success"
    finally:
        for vm in vms:
            _wait(vm.PowerOnVM_Task(host=host))
    kinds = ["EnteringMaintenanceModeEvent", "EnteredMaintenanceModeEvent", "ExitMaintenanceModeEvent"]
    events = [event for event in _events(si, cluster, kinds) if event.host.host == host]
    assert sorted(type(event).__name__.split(".")[-1] for event in events[:3]) == sorted(kinds)
    assert all(event.userName == "VSPHERE.LOCAL\\administrator" for event in events)


# -- power-on placement and VMware Tools ------------------------------------------------------------------------

def test_drs_places_a_vm_powered_on_without_a_host_and_host_keeps_it(si):
    hosts, vms = _objects(si, vim.HostSystem), _objects(si, vim.VirtualMachine)
    home = hosts["esx-01.lab.local"]  # the busiest host of fully automated Prod-Cluster
    dsva = vms["dsva-esx-01.lab.local"]
    assert _wait(dsva.PowerOffVM_Task()).state == "success"
    assert dsva.guest.toolsRunningStatus == "guestToolsNotRunning"
    assert _wait(dsva.PowerOnVM_Task(host=home)).state == "success"
    assert dsva.runtime.host == home
    # VMware Tools start with the guest, a little after the power-on
    assert dsva.guest.toolsRunningStatus == "guestToolsNotRunning"
    deadline = time.time() + 10
    while dsva.guest.toolsRunningStatus != "guestToolsRunning" and time.time() < deadline:
        time.sleep(0.1)
    assert dsva.guest.toolsRunningStatus == "guestToolsRunning"
    assert _wait(dsva.PowerOffVM_Task()).state == "success"
    try:
        # "DRS will be invoked if the virtual machine can be automatically placed by DRS"
        assert _wait(dsva.PowerOnVM_Task()).state == "success"
        assert dsva.runtime.host != home
    finally:
        _wait(dsva.PowerOffVM_Task())
        assert _wait(dsva.RelocateVM_Task(vim.vm.RelocateSpec(host=home))).state == "success"
        assert _wait(dsva.PowerOnVM_Task(host=home)).state == "success"


def test_a_guest_shutdown_needs_running_tools(si):
    vm = _objects(si, vim.VirtualMachine)["vdi-desktop-02"]
    assert _wait(vm.PowerOffVM_Task()).state == "success"
    assert _wait(vm.PowerOnVM_Task(host=vm.runtime.host)).state == "success"
    with pytest.raises(vim.fault.ToolsUnavailable):
        vm.ShutdownGuest()
    deadline = time.time() + 10
    while vm.guest.toolsRunningStatus != "guestToolsRunning" and time.time() < deadline:
        time.sleep(0.1)
    vm.ShutdownGuest()
    assert vm.runtime.powerState == "poweredOff"
    assert _wait(vm.PowerOnVM_Task(host=vm.runtime.host)).state == "success"


def test_drs_does_not_evacuate_a_host_ha_admission_control_cannot_spare(si):
    cluster = _objects(si, vim.ClusterComputeResource)["Prod-Cluster"]
    host = _objects(si, vim.HostSystem)["esx-02.lab.local"]
    before = sorted(vm.name for vm in host.vm)
    strict = vim.cluster.ConfigSpecEx(dasConfig=vim.cluster.DasConfigInfo(
        admissionControlPolicy=vim.cluster.FailoverLevelAdmissionControlPolicy(failoverLevel=2)))
    assert _reconfigure(cluster, strict).state == "success"
    try:
        info = _wait(host.EnterMaintenanceMode_Task(timeout=2))
        assert info.state == "error" and isinstance(info.error, vim.fault.Timedout)
        assert sorted(vm.name for vm in host.vm) == before and host.runtime.inMaintenanceMode is False
    finally:
        relaxed = vim.cluster.ConfigSpecEx(dasConfig=vim.cluster.DasConfigInfo(
            admissionControlPolicy=vim.cluster.FailoverResourcesAdmissionControlPolicy(
                cpuFailoverResourcesPercent=33, memoryFailoverResourcesPercent=33, failoverLevel=1,
                autoComputePercentages=True)))
        assert _reconfigure(cluster, relaxed).state == "success"
