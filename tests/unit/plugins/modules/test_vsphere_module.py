"""VsphereModule, the module class of the vSphere modules: a bad option of the module is refused before the
login, a missing pyVmomi is named, and the session is always logged out."""
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import client as vsphere_client
from ansible_collections.clustersafe.deep_security.plugins.modules import vsphere_cluster_info, vsphere_host_evacuate
from tests.unit.module_args import run_main

CONNECTION = {"hostname": "vcenter.lab", "username": "administrator@vsphere.local", "password": "Vc-secret-1"}
EVACUATE = dict(CONNECTION, cluster="Prod", host="esx1")


class Session(object):
    def __init__(self):
        self.events = []

    def connect(self):
        self.events.append("login")

    def close(self):
        self.events.append("logout")


def test_bad_timeout_is_refused_before_the_login(monkeypatch, capsys):
    def no_login(params):
        raise AssertionError("logged in despite a bad timeout")
    monkeypatch.setattr(vsphere_client.VsphereClient, "from_module_params", staticmethod(no_login))
    result, failed = run_main(monkeypatch, capsys, vsphere_host_evacuate, dict(EVACUATE, timeout=0))
    assert failed and result["msg"] == "parameter timeout must be a positive number of seconds, not 0"


def test_missing_pyvmomi_is_named(monkeypatch, capsys):
    monkeypatch.setattr(vsphere_client, "HAS_PYVMOMI", False)
    result, failed = run_main(monkeypatch, capsys, vsphere_host_evacuate, EVACUATE)
    assert failed and "pyvmomi" in result["msg"]


def test_the_session_is_closed_after_a_failure_and_the_failure_is_clean(monkeypatch, capsys):
    session = Session()
    monkeypatch.setattr(vsphere_client.VsphereClient, "from_module_params", staticmethod(lambda params: session))

    def broken(client, *args, **kwargs):
        raise KeyError("clusters")
    monkeypatch.setattr(vsphere_cluster_info, "gather", broken)
    result, failed = run_main(monkeypatch, capsys, vsphere_cluster_info, CONNECTION)
    assert failed and result["msg"].startswith("unexpected error talking to vCenter: KeyError")
    assert session.events == ["login", "logout"]


def test_cluster_info_warns_about_records_that_fail_validation():
    bad = {"valid": False, "problems": ["since is not an ISO 8601 time with seconds and offset"], "raw": "{}", "window": None}
    hosts = [{"name": "esx1", "evacuation": bad}, {"name": "esx2", "evacuation": {"window": "W", "valid": True}}]
    clusters = [{"name": "Prod", "drs_window": None, "hosts": hosts}]
    warnings = vsphere_cluster_info.record_warnings(clusters)
    assert len(warnings) == 1 and "host esx1 carries a clustersafe.evacuation record that fails validation" in warnings[0]
    assert "since is not an ISO 8601 time" in warnings[0]
