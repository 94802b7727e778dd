"""The order of writes in a DRS window, with a fake vCenter client that records every call and keeps
the custom attribute's value, so a second controller can be made to write in between."""
import json

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import HeldError, WaitTimeoutError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.client import VsphereError, VsphereTaskError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window import plan_window
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.records import encode_record
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.service import Snapshot, apply_window_plan

ATTRIBUTE = "clustersafe.drs_window"
NOW = "2026-11-26T07:30:00+00:00"
OTHER = {"window": "CHG-OTHER", "original_level": "fullyAutomated", "owner": "someone else", "since": "2026-11-26T07:00:00+00:00"}


class FakeCluster(object):
    name = "Prod"

    def ReconfigureComputeResource_Task(self, spec, modify):  # noqa: N802 - vSphere's method name
        raise AssertionError("the client runs the task, the test never calls vCenter")


class FakeClient(object):
    def __init__(self, value="", fail_reconfigure=None, after_set=None, before_read=None):
        self.calls = []
        self.value = value
        self.fail_reconfigure = fail_reconfigure
        self.after_set = after_set or (lambda client: None)
        self.before_read = before_read or (lambda client, count: None)
        self.reads = 0

    def custom_field_key(self, name, managed_type, create=False, known=None, policy=None, definition_policy=None):
        if create:
            # a new definition carries the record's privilege policy (records.field_policy)
            assert policy["updatePrivilege"] == "Host.Inventory.EditCluster"
            assert definition_policy["deletePrivilege"] == "Global.ManageCustomFields"
        return 501

    def set_custom_value(self, entity, name, value):
        self.calls.append(("set", "record" if value else "clear"))
        self.value = value
        self.after_set(self)

    def read_custom_value(self, entity, key):
        self.reads += 1
        self.before_read(self, self.reads)
        self.calls.append(("read",))
        return self.value

    def run_task(self, action, method, **kwargs):
        spec = kwargs["spec"]
        self.calls.append(("reconfigure", spec.drsConfig.defaultVmBehavior, kwargs["modify"],
                           spec.drsConfig.vmotionRate, spec.drsConfig.enabled, spec.dasConfig))
        if self.fail_reconfigure:
            raise self.fail_reconfigure


def snapshot():
    return Snapshot({}, {}, {"clusters": []})


def kinds(client):
    return [call[0] for call in client.calls]


def test_record_is_written_and_read_back_before_drs_changes_and_spec_holds_only_the_level():
    client = FakeClient()
    plan = plan_window("Prod", "manual", "W", "fullyAutomated", None, "me", NOW)
    apply_window_plan(client, snapshot(), FakeCluster(), plan, None, ATTRIBUTE)
    assert kinds(client) == ["set", "read", "reconfigure"]
    assert client.calls[2] == ("reconfigure", "manual", True, None, None, None)


def test_restore_compares_then_sets_level_then_compares_and_clears():
    record = {"window": "W", "original_level": "partiallyAutomated", "owner": "x", "since": "2026-11-26T06:00:00+00:00", "valid": True}
    client = FakeClient(value=encode_record(record))
    plan = plan_window("Prod", "restored", "W", "manual", record, "me", NOW)
    apply_window_plan(client, snapshot(), FakeCluster(), plan, record, ATTRIBUTE)
    assert kinds(client) == ["read", "reconfigure", "read", "set"]
    assert client.calls[1][1] == "partiallyAutomated"
    assert client.calls[-1] == ("set", "clear")


def test_another_window_writing_in_between_stops_before_drs_changes():
    def interloper(client):
        client.value = encode_record(OTHER)
    client = FakeClient(after_set=interloper)
    plan = plan_window("Prod", "manual", "W", "fullyAutomated", None, "me", NOW)
    with pytest.raises(HeldError) as caught:
        apply_window_plan(client, snapshot(), FakeCluster(), plan, None, ATTRIBUTE)
    assert "CHG-OTHER" in caught.value.message
    assert "reconfigure" not in kinds(client)
    assert json.loads(client.value)["window"] == "CHG-OTHER"


def test_a_restore_never_clears_a_record_another_window_wrote_meanwhile():
    record = {"window": "W", "original_level": "partiallyAutomated", "owner": "x", "since": "2026-11-26T06:00:00+00:00", "valid": True}

    def take_over_after_level_is_set(client, count):
        if count == 2:  # the second read comes after DRS was set: another window took the cluster over
            client.value = encode_record(OTHER)
    client = FakeClient(value=encode_record(record), before_read=take_over_after_level_is_set)
    plan = plan_window("Prod", "restored", "W", "manual", record, "me", NOW)
    with pytest.raises(HeldError):
        apply_window_plan(client, snapshot(), FakeCluster(), plan, record, ATTRIBUTE)
    assert ("set", "clear") not in client.calls
    assert json.loads(client.value)["window"] == "CHG-OTHER"


def test_failed_reconfigure_removes_the_new_record_and_reports_the_task_error():
    client = FakeClient(fail_reconfigure=VsphereTaskError("vCenter task failed: refused"))
    plan = plan_window("Prod", "manual", "W", "fullyAutomated", None, "me", NOW)
    with pytest.raises(VsphereTaskError):
        apply_window_plan(client, snapshot(), FakeCluster(), plan, None, ATTRIBUTE)
    assert kinds(client) == ["set", "read", "reconfigure", "read", "set"]
    assert client.calls[-1] == ("set", "clear")


def test_a_wait_that_runs_out_keeps_the_record_since_the_task_may_still_finish():
    client = FakeClient(fail_reconfigure=WaitTimeoutError("still running"))
    plan = plan_window("Prod", "manual", "W", "fullyAutomated", None, "me", NOW)
    with pytest.raises(WaitTimeoutError):
        apply_window_plan(client, snapshot(), FakeCluster(), plan, None, ATTRIBUTE)
    assert kinds(client) == ["set", "read", "reconfigure"]
    assert json.loads(client.value)["window"] == "W"


def test_failed_reconfigure_keeps_an_existing_record():
    record = {"window": "W", "original_level": "fullyAutomated", "owner": "x", "since": "2026-11-26T06:00:00+00:00", "valid": True}
    client = FakeClient(value=encode_record(record), fail_reconfigure=VsphereTaskError("refused"))
    plan = plan_window("Prod", "manual", "W", "partiallyAutomated", record, "me", NOW)
    with pytest.raises(VsphereTaskError):
        apply_window_plan(client, snapshot(), FakeCluster(), plan, record, ATTRIBUTE)
    assert kinds(client) == ["read", "reconfigure"]


def test_a_global_attribute_of_the_same_name_is_refused_before_writing():
    client = FakeClient()
    snap = Snapshot({}, {501: ("clustersafe.drs_window", "ClusterComputeResource"), 7: ("clustersafe.drs_window", None)},
                    {"clusters": []})
    plan = plan_window("Prod", "manual", "W", "fullyAutomated", None, "me", NOW)
    with pytest.raises(VsphereError) as caught:
        apply_window_plan(client, snap, FakeCluster(), plan, None, ATTRIBUTE)
    assert "for every object type" in caught.value.message and client.calls == []


def test_definitions_without_the_policy_are_reported_with_the_fix():
    snap = Snapshot({}, {501: ("clustersafe.drs_window", "ClusterComputeResource"), 502: ("clustersafe.evacuation", "HostSystem"),
                         503: ("owner-tag", None)},
                    {"clusters": []}, {501: None, 502: "Host.Config.Maintenance", 503: None})
    warnings = snap.record_policy_warnings()
    assert len(warnings) == 1 and "clustersafe.drs_window (ClusterComputeResource) has no privilege policy" in warnings[0]
    assert "Global.SetCustomField" in warnings[0] and "remove the attribute" in warnings[0]
    snap.field_policies[501] = "System.Read"
    assert "the update privilege System.Read, not Host.Inventory.EditCluster" in snap.record_policy_warnings()[0]
    snap.field_policies[501] = "Host.Inventory.EditCluster"
    assert snap.record_policy_warnings() == []
    snap.field_names[9] = ("clustersafe.evacuation", None)
    snap.field_policies[9] = "Host.Config.Maintenance"
    assert "for every object type" in snap.record_policy_warnings()[0]
