"""The collection's records in vCenter (vsphere/records.py): the privilege policy of their attributes, the
validation of every field, and the ties to vCenter's events that a restore needs before it acts."""
import datetime
import json

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import records

ME = "VSPHERE.LOCAL\\svc-ds"
OTHER = "VSPHERE.LOCAL\\alice"
BEGIN = datetime.datetime(2026, 11, 26, 7, 25, tzinfo=datetime.timezone.utc)


def at(minutes):
    return BEGIN + datetime.timedelta(minutes=minutes)


def event(kind, minutes, user=ME, host=None, vm=None, source=None, cluster=None):
    return {"type": kind, "key": int(minutes * 100), "created": at(minutes), "user": user, "host": host, "vm": vm,
            "source_host": source, "cluster": cluster}


def test_each_record_is_written_under_the_privilege_it_drives():
    assert records.field_policy("clustersafe.drs_window") == {
        "createPrivilege": "Host.Inventory.EditCluster", "readPrivilege": "System.Read",
        "updatePrivilege": "Host.Inventory.EditCluster", "deletePrivilege": "Host.Inventory.EditCluster"}
    assert records.field_policy("clustersafe.evacuation")["updatePrivilege"] == "Host.Config.Maintenance"
    assert records.definition_policy()["updatePrivilege"] == "Global.ManageCustomFields"


@pytest.mark.parametrize("value,expected", [
    ("2026-11-26T07:30:00+00:00", datetime.datetime(2026, 11, 26, 7, 30, tzinfo=datetime.timezone.utc)),
    ("2026-11-26T07:30:00Z", datetime.datetime(2026, 11, 26, 7, 30, tzinfo=datetime.timezone.utc)),
    ("2026-11-26T08:30:00.25+01:00", datetime.datetime(2026, 11, 26, 7, 30, 0, 250000, tzinfo=datetime.timezone.utc)),
    ("2026-11-26T07:30:00", None), ("2026-11-26", None), ("2026-02-30T07:30:00Z", None), ("2026-11-26T07:30:00+25:00", None),
    ("now", None), (1764142200, None), (None, None),
])
def test_times_are_iso_8601_with_seconds_and_an_offset(value, expected):
    assert records.parse_time(value) == expected


@pytest.mark.parametrize("value,ok", [("ops@ctl1 (vCenter user svc)", True), ("**x** <b>", True), ("", False),
                                      ("a\nb", False), ("a\x00b", False), ("a\u202eb", False), ("a\u2028b", False),
                                      ("x" * 256, True), ("x" * 257, False), (7, False)])
def test_text_fields_are_printable_and_bounded(value, ok):
    assert records.is_text(value, records.TEXT_MAX) is ok


def test_a_valid_drs_record_reads_back_as_written():
    record = {"window": "CHG-1", "original_level": "partiallyAutomated", "owner": "ops", "since": "2026-11-26T07:30:00Z",
              "held_since": "2026-11-26T07:00:00Z", "taken_over_from": "CHG-0", "vcenter_user": ME}
    assert records.read_record(json.dumps(record), records.DRS_WINDOW_ATTRIBUTE) == dict(record, valid=True)


def test_a_record_failing_validation_names_each_problem_and_keeps_a_bounded_raw():
    value = json.dumps({"window": "CHG-1", "original_level": "always", "owner": "x" * 300, "since": "now", "extra": 1})
    result = records.read_record(value, records.DRS_WINDOW_ATTRIBUTE)
    assert result["valid"] is False and result["window"] == "CHG-1" and len(result["raw"]) == records.RAW_MAX + 3
    assert result["problems"] == ["unknown field 'extra'", "original_level is not one of manual, partiallyAutomated, fullyAutomated",
                                  "owner is not text of 1 to 256 printable characters",
                                  "since is not an ISO 8601 time with seconds and offset"]
    message = records.invalid_message(records.DRS_WINDOW_ATTRIBUTE, "cluster Prod", result)
    assert "not acted on" in message and "left as it is" in message and "original_level" in message


def test_an_evacuation_record_checks_its_entries():
    value = json.dumps({"cluster": "Prod", "owner": "ops", "since": "2026-11-26T07:30:00Z", "maintenance": True,
                        "moved": [{"vm": "a", "moid": "vm-1", "to": "esx2"}, {"vm": "b", "moid": "host-7", "to": "esx2"},
                                  "c", {"vm": "d", "moid": "vm-1", "to": "esx2", "extra": 1}],
                        "powered_off": [{"vm": "dsva", "moid": "vm-9"}]})
    result = records.read_record(value, records.EVACUATION_ATTRIBUTE)
    assert result["problems"] == ["moved[1].moid is not a VM managed-object id (vm-<number>)", "moved[2] is not an object",
                                  "moved[3].unknown field 'extra'", "moved names a VM twice"]


def test_maintenance_mode_is_tied_only_when_this_account_entered_it_last():
    own = [event("EnteringMaintenanceModeEvent", 5, host="host-1"), event("EnteredMaintenanceModeEvent", 6, user="", host="host-1")]
    assert records.tie_maintenance("host-1", own, ME, BEGIN) is None
    assert records.tie_maintenance("host-1", own, ME.lower(), BEGIN) is None
    assert "no entry into maintenance mode" in records.tie_maintenance("host-2", own, ME, BEGIN)
    theirs = [event("EnteringMaintenanceModeEvent", 5, user=OTHER, host="host-1"),
              event("EnteredMaintenanceModeEvent", 6, user=OTHER, host="host-1")]
    assert "by VSPHERE.LOCAL\\alice, not by this account" in records.tie_maintenance("host-1", theirs, ME, BEGIN)
    left_and_back = own + [event("ExitMaintenanceModeEvent", 7, user=OTHER, host="host-1")]
    assert "left maintenance mode after" in records.tie_maintenance("host-1", left_and_back, ME, BEGIN)
    # an entry before the record's time is someone else's maintenance mode the record claims
    assert "before the record was written" in records.tie_maintenance("host-1", own, ME, at(10))


def test_a_migration_is_tied_only_when_this_account_moved_the_vm_off_this_host_last():
    own = [event("VmMigratedEvent", 5, host="host-2", vm="vm-1", source="host-1")]
    assert records.tie_migration("vm-1", "host-1", own, ME, BEGIN) is None
    assert "no migration of it off this host" in records.tie_migration("vm-1", "host-3", own, ME, BEGIN)
    assert "no migration of it off this host" in records.tie_migration("vm-1", "host-1", own, OTHER, BEGIN)
    assert "no managed-object id" in records.tie_migration(None, "host-1", own, ME, BEGIN)
    later = own + [event("DrsVmMigratedEvent", 8, user="", host="host-3", vm="vm-1", source="host-2")]
    assert "DRS moved it again" in records.tie_migration("vm-1", "host-1", later, ME, BEGIN)


def test_a_shutdown_is_tied_only_when_this_account_made_the_last_one():
    own = [event("VmGuestShutdownEvent", 5, host="host-1", vm="vm-9"), event("VmPoweredOffEvent", 5.2, user="", host="host-1", vm="vm-9")]
    assert records.tie_power_off("vm-9", own, ME, BEGIN) is None
    assert "no shutdown of it by this account" in records.tie_power_off("vm-9", own, OTHER, BEGIN)
    # quarantined: powered on again and shut down by incident response afterwards
    quarantined = own + [event("VmPoweredOnEvent", 6, user=OTHER, vm="vm-9"), event("VmPoweredOffEvent", 7, user=OTHER, vm="vm-9")]
    assert "powered on again" in records.tie_power_off("vm-9", quarantined, ME, BEGIN)
    assert "VSPHERE.LOCAL\\alice powered it off" in records.tie_power_off("vm-9", own + [event("VmPoweredOffEvent", 7, user=OTHER, vm="vm-9")], ME, BEGIN)


def test_a_drs_change_is_tied_only_when_this_account_reconfigured_the_cluster_last():
    own = [event("ClusterReconfiguredEvent", 5, cluster="domain-c1")]
    assert records.tie_drs_change("domain-c1", own, ME, BEGIN) is None
    assert "no reconfiguration" in records.tie_drs_change("domain-c2", own, ME, BEGIN)
    theirs = own + [event("ClusterReconfiguredEvent", 6, user=OTHER, cluster="domain-c1")]
    assert "VSPHERE.LOCAL\\alice reconfigured the cluster" in records.tie_drs_change("domain-c1", theirs, ME, BEGIN)


def test_tie_evacuation_lists_every_part_it_cannot_tie():
    record = {"since": "2026-11-26T07:30:00+00:00"}
    events = [event("VmMigratedEvent", 6, host="host-2", vm="vm-1", source="host-1")]
    refused = records.tie_evacuation(record, "host-1", events, ME, leave_maintenance=True,
                                     power_on=[{"vm": "dsva", "moid": "vm-9"}],
                                     moves=[{"vm": "a", "moid": "vm-1"}, {"vm": "b", "moid": "vm-2"}])
    assert [item["subject"] for item in refused] == ["maintenance mode", "dsva", "b"]


def test_policy_warnings_name_the_fix():
    warning = records.policy_warning("clustersafe.evacuation", "HostSystem", None)
    assert "has no privilege policy" in warning and "Global.SetCustomField" in warning and "Custom Attributes" in warning
    assert records.policy_warning("clustersafe.evacuation", "HostSystem", "Host.Config.Maintenance") is None
    assert records.policy_warning("owner-tag", None, None) is None


@pytest.mark.parametrize("params,named", [({"window": "CHG 1"}, "window"), ({"window": "x" * 65}, "window"),
                                          ({"owner": "a\nb"}, "owner"), ({"owner": "x" * 257}, "owner"),
                                          ({"run_id": "ABCDEF0123"}, "run_id"), ({"take_over": "unreadable"}, "take_over"),
                                          ({"lease_seconds": 30}, "lease_seconds"), ({"lease_seconds": -1}, "lease_seconds")])
def test_options_a_record_could_not_carry_are_refused_before_anything_is_sent(params, named):
    with pytest.raises(records.ParameterError) as caught:
        records.check_record_params(params)
    assert "parameter %s" % named in caught.value.message
    records.check_record_params({"window": "CHG-1", "owner": "ops@ctl (vCenter user svc)"})
    records.check_record_params({"window": None, "owner": None})
    records.check_record_params({"run_id": "0123456789abcdef", "take_over": None, "lease_seconds": 0})
    records.check_record_params({"lease_seconds": 60})
