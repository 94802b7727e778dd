"""The order of writes in a DRS window, with a fake vCenter client that records every call."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.client import VsphereTaskError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window import plan_window
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.service import Snapshot, apply_window_plan

ATTRIBUTE = "clustersafe.drs_window"


class FakeCluster(object):
    name = "Prod"

    def ReconfigureComputeResource_Task(self, spec, modify):  # noqa: N802 - vSphere's method name
        raise AssertionError("the client runs the task, the test never calls vCenter")


class FakeClient(object):
    def __init__(self, fail_reconfigure=False):
        self.calls = []
        self.fail_reconfigure = fail_reconfigure

    def custom_field_key(self, name, managed_type, create=False, known=None):
        self.calls.append(("field", name, create))
        return 501

    def set_custom_value(self, entity, key, value):
        self.calls.append(("set", key, "record" if value else "clear"))

    def run_task(self, action, method, **kwargs):
        spec = kwargs["spec"]
        self.calls.append(("reconfigure", spec.drsConfig.defaultVmBehavior, kwargs["modify"],
                           spec.drsConfig.vmotionRate, spec.drsConfig.enabled, spec.dasConfig))
        if self.fail_reconfigure:
            raise VsphereTaskError("vCenter task failed: refused")


def snapshot():
    return Snapshot({}, {}, {"clusters": []})


def test_record_is_written_before_drs_changes_and_spec_holds_only_the_level():
    client = FakeClient()
    plan = plan_window("Prod", "manual", "W", "fullyAutomated", None, "me", "now")
    apply_window_plan(client, snapshot(), FakeCluster(), plan, False, ATTRIBUTE)
    assert [call[0] for call in client.calls] == ["field", "set", "reconfigure"]
    assert client.calls[2] == ("reconfigure", "manual", True, None, None, None)


def test_restore_sets_level_then_clears_record():
    client = FakeClient()
    record = {"window": "W", "original_level": "partiallyAutomated", "owner": "x", "since": "t", "valid": True}
    plan = plan_window("Prod", "restored", "W", "manual", record, "me", "now")
    apply_window_plan(client, snapshot(), FakeCluster(), plan, True, ATTRIBUTE)
    assert [call[0] for call in client.calls] == ["reconfigure", "field", "set"]
    assert client.calls[0][1] == "partiallyAutomated"
    assert client.calls[2][2] == "clear"


def test_failed_reconfigure_removes_the_new_record_and_reports_the_task_error():
    client = FakeClient(fail_reconfigure=True)
    plan = plan_window("Prod", "manual", "W", "fullyAutomated", None, "me", "now")
    with pytest.raises(VsphereTaskError):
        apply_window_plan(client, snapshot(), FakeCluster(), plan, False, ATTRIBUTE)
    assert [call[0] for call in client.calls] == ["field", "set", "reconfigure", "field", "set"]
    assert client.calls[-1][2] == "clear"


def test_failed_reconfigure_keeps_an_existing_record():
    client = FakeClient(fail_reconfigure=True)
    record = {"window": "W", "original_level": "fullyAutomated", "owner": "x", "since": "t", "valid": True}
    plan = plan_window("Prod", "manual", "W", "partiallyAutomated", record, "me", "now")
    with pytest.raises(VsphereTaskError):
        apply_window_plan(client, snapshot(), FakeCluster(), plan, True, ATTRIBUTE)
    assert [call[0] for call in client.calls] == ["reconfigure"]
