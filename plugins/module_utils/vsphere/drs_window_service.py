# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The DRS window against vCenter: read the cluster, let ``drs_window.plan_window`` decide, write the
record and the level (module ``vsphere_drs_window``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import uuid

from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import records
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window import (
    lease_fields,
    plan_end_lease,
    plan_window,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import (
    DRS_WINDOW_ATTRIBUTE,
    overrides_honoured,
    select_clusters,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.service import (
    apply_window_plan,
    default_owner,
    gather,
    now_iso,
)


def vms_still_automated(cluster):
    """VMs whose own DRS override is fullyAutomated: DRS moves them whatever the cluster level, as long as
    the cluster honours per-VM overrides (vim.cluster.DrsConfigInfo.enableVmBehaviorOverrides and
    vim.cluster.DrsVmConfigInfo.behavior in the vSphere API reference)."""
    if not overrides_honoured(cluster["drs"]) or not cluster["drs"]["enabled"]:
        return []
    return [{"vm": item["vm"], "moid": item["moid"]} for item in cluster["drs_vm_overrides"]
            if item["enabled"] is not False and item["behavior"] == "fullyAutomated"]


def public_record(record):
    return None if record is None else dict((k, v) for k, v in record.items() if k != "valid")


def check_drs_tie(client, cluster_ref, cluster, plan):
    """Refuse a restore whose level comes from the record alone unless vCenter's events show this account
    reconfiguring the cluster since the window began (records.tie_drs_change): a record anyone with
    Global.SetCustomField may have written does not set DRS on its own word."""
    if plan.tie_since is None or not plan.set_level:
        return
    user = client.session_user()
    events, cut_off = client.query_events(cluster_ref, records.DRS_EVENTS, plan.tie_since)
    reason = records.tie_drs_change(cluster["moid"], events, user, plan.tie_since)
    if cut_off and reason:
        reason += " (vCenter returned %d events or more, so older ones may be missing)" % records.EVENTS_MAX
    if reason:
        raise records.RecordRefusedError(
            "cluster %s: the DRS window record of window %s says to put back %s, but %s, so DRS is left at manual and "
            "the record as it is; run the window's own close, which passes the level it saved (original_level), "
            "or set the level by hand and clear custom attribute %s"
            % (cluster["name"], cluster["drs_window"].get("window"), plan.set_level, reason, DRS_WINDOW_ATTRIBUTE))


def _hold_or_restore_plan(client, cluster, current, record, params):
    """The plan for ``state`` manual (a hold, with the run's lease when ``lease_seconds``) or restored."""
    taking = params["state"] == "manual" and (record is None or record.get("window") != params["window"])
    user = client.session_user() if taking else None
    lease, vcenter_now = None, None
    if (params["state"] == "manual" and params.get("lease_seconds")) or \
            (params["state"] == "restored" and params.get("respect_lease") and record and record.get("expires")):
        vcenter_now = client.server_time()
    if params["state"] == "manual" and params.get("lease_seconds"):
        ours = (record or {}).get("window") == params["window"]
        # a renewal keeps this window's run; a new hold is the run given, or one made up here
        run = params.get("run_id") or ((record or {}).get("run") if ours else None)
        expires = (vcenter_now + datetime.timedelta(seconds=int(params["lease_seconds"]))).replace(microsecond=0)
        lease = lease_fields(run or uuid.uuid4().hex[:16], expires.isoformat())
    return plan_window(cluster["name"], params["state"], params["window"], current, record,
                       params.get("owner") or default_owner(params["username"]), now_iso(), params.get("force", False),
                       saved_level=params.get("original_level"), user=user, lease=lease, vcenter_now=vcenter_now,
                       respect_lease=params.get("respect_lease", False), take_over=params.get("take_over") or "")


def drs_window(client, params, check_mode=False):
    """Hold (``state=manual``) or restore (``state=restored``) one cluster's DRS for a window; the result
    document of the module. Nothing is written in check mode."""
    snapshot = gather(client)
    cluster = select_clusters(snapshot.inventory, [params["cluster"]], params.get("datacenter"), snapshot.datacenters)[0]
    current = cluster["drs"]["automation_level"]
    record = cluster["drs_window"]
    if params.get("end_lease"):
        plan = plan_end_lease(cluster["name"], params["window"], record, params.get("run_id"), client.server_time())
    else:
        plan = _hold_or_restore_plan(client, cluster, current, record, params)
        check_drs_tie(client, snapshot.ref(cluster["moid"]), cluster, plan)
    after_level = plan.set_level or current
    if plan.clear_record:
        after_record = None
    elif plan.write_record is not None:
        after_record = plan.write_record
    else:
        after_record = public_record(record)
    still_moving = vms_still_automated(cluster)
    warnings = snapshot.record_policy_warnings() + plan.warnings
    if params["state"] == "manual" and not params.get("end_lease") and still_moving:
        warnings.append(
            "cluster %s: DRS stays fully automated for %s, whose own DRS override says fullyAutomated; DRS "
            "keeps moving them while the cluster is at manual (rule VS-05). Remove or change those overrides "
            "before the Horizon operation" % (cluster["name"], ", ".join(item["vm"] for item in still_moving)))
    result = {
        "changed": plan.changed,
        "warnings": warnings,
        "fully_automated_vms": still_moving,
        "automation_level": after_level,
        "previous_automation_level": current,
        "record": after_record,
        "previous_record": public_record(record),
        "message": plan.message,
        "diff": {"before": {"automation_level": current, "record": public_record(record)},
                 "after": {"automation_level": after_level, "record": after_record}},
    }
    if plan.changed and not check_mode:
        apply_window_plan(client, snapshot, snapshot.ref(cluster["moid"]), plan, record, DRS_WINDOW_ATTRIBUTE)
    return result
