"""The vCenter client's own arguments never shadow vCenter's, and custom attributes are matched by
name and managed-object type."""
import pytest
from pyVmomi import vim

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import client as vsphere_client
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.client import (
    VsphereClient,
    check_connection_params,
    connection_warnings,
)


class DoneTask(object):
    _moId = "task-1"

    class info(object):  # noqa: N801 - mimics pyVmomi's attribute
        state = vim.TaskInfo.State.success
        result = None


def test_run_task_passes_vcenters_timeout_through_and_keeps_its_own_wait_apart():
    seen = {}

    def enter_maintenance_mode(**kwargs):
        seen.update(kwargs)
        return DoneTask()

    VsphereClient("vc", "u", "p").run_task("entering", enter_maintenance_mode, timeout=600,
                                           evacuatePoweredOffVms=False, wait_seconds=630)
    assert seen == {"timeout": 600, "evacuatePoweredOffVms": False}


def test_pyvmomi_requires_the_timeout_of_maintenance_mode_calls():
    # What made maintenance mode unreachable: without timeout, pyVmomi refuses before any request.
    info = vim.HostSystem._GetMethodInfo("EnterMaintenanceMode")
    assert [p.name for p in info.params if not p.flags & 4] == ["timeout"]  # 4 = VmomiSupport.F_OPTIONAL
    info = vim.HostSystem._GetMethodInfo("ExitMaintenanceMode")
    assert [p.name for p in info.params if not p.flags & 4] == ["timeout"]


class Field(object):
    def __init__(self, key, name, managed_type):
        self.key, self.name, self.managedObjectType = key, name, managed_type


class Manager(object):
    def __init__(self, fields):
        self.field = fields
        self.added = []

    def AddCustomFieldDef(self, name, moType):  # noqa: N802 - vSphere's method name
        if any(f.name == name and f.managedObjectType in (moType, None) for f in self.field):
            raise vim.fault.DuplicateName(name=name)
        field = Field(900 + len(self.added), name, moType)
        self.added.append(field)
        self.field.append(field)
        return field


class Content(object):
    def __init__(self, fields):
        self.customFieldsManager = Manager(fields)


def client_with(fields):
    client = VsphereClient("vc", "u", "p")
    client.content = Content(fields)
    return client


def test_a_same_named_attribute_of_another_type_is_not_reused():
    client = client_with([Field(5, "clustersafe.drs_window", vim.VirtualMachine)])
    assert client.custom_field_key("clustersafe.drs_window", vim.ClusterComputeResource) is None
    key = client.custom_field_key("clustersafe.drs_window", vim.ClusterComputeResource, create=True)
    assert key == 900
    known = {5: ("clustersafe.drs_window", "VirtualMachine"), 900: ("clustersafe.drs_window", "ClusterComputeResource")}
    assert client.custom_field_key("clustersafe.drs_window", vim.ClusterComputeResource, known=known) == 900


def test_a_global_attribute_serves_every_type_but_a_typed_one_wins():
    client = client_with([Field(5, "clustersafe.evacuation", None), Field(6, "clustersafe.evacuation", vim.HostSystem)])
    assert client.custom_field_key("clustersafe.evacuation", vim.HostSystem) == 6
    client = client_with([Field(5, "clustersafe.evacuation", None)])
    assert client.custom_field_key("clustersafe.evacuation", vim.HostSystem) == 5


@pytest.mark.parametrize("port", [0, -1, 65536, 70000, None])
def test_port_out_of_range_is_refused_before_connecting(port):
    with pytest.raises(ParameterError) as caught:
        check_connection_params({"port": port})
    assert "port" in caught.value.message


def test_missing_ca_file_is_refused(tmp_path):
    with pytest.raises(ParameterError) as caught:
        check_connection_params({"port": 443, "ca_path": str(tmp_path / "none.pem")})
    assert "ca_path" in caught.value.message


def test_ca_path_is_used_for_validation(tmp_path, monkeypatch):
    seen = {}

    def fake_context(cafile=None):
        seen["cafile"] = cafile
        raise RuntimeError("stop here")

    monkeypatch.setattr(vsphere_client.ssl, "create_default_context", fake_context)
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    client = VsphereClient.from_module_params({"hostname": "vc", "username": "u", "password": "p", "port": 443,
                                               "validate_certs": True, "ca_path": str(ca)})
    with pytest.raises(RuntimeError):
        client.connect()
    assert seen["cafile"] == str(ca)


def test_unvalidated_certificates_always_warn():
    assert connection_warnings({"validate_certs": True}) == []
    warnings = connection_warnings({"validate_certs": False, "ca_path": "/x"})
    assert "validate_certs=false" in warnings[0] and "ca_path is ignored" in warnings[1]
