# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What vsphere_host_evacuate does on vCenter: read the cluster, let evacuation.py decide, then act in the
safe order (the record on the host first, cleared last) and report.

Functions take a ``VsphereClient`` (or anything with its methods) and the module's options as a dict; they
raise the collection's typed errors and never call ``fail_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    CollectionError,
    ParameterError,
    WaitTimeoutError,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import client as vsphere_client
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import records
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window import MANUAL, plan_window
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window_service import check_drs_tie
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.evacuation import (
    AdmissionControlError,
    ClusterNodeError,
    EvacuationRecordError,
    admission_refusal,
    check_evacuation_record,
    cluster_node_refusals,
    plan_evacuation,
    plan_power_on,
    plan_return,
    return_refusals,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import (
    DRS_WINDOW_ATTRIBUTE,
    EVACUATION_ATTRIBUTE,
    POWERED_ON,
    find_host,
    resolve_vms,
    select_clusters,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.service import (
    apply_window_plan,
    default_owner,
    gather,
    now_iso,
    require_dsvas,
    write_record,
)

# The DRS window a restore holds by itself when nobody holds the cluster (a record written before DRS changes).
RESTORE_DRS_WINDOW = "evacuation-restore"


def check_timeout(timeout):
    if timeout <= 0:
        raise ParameterError("parameter timeout must be a positive number of seconds, not %s" % timeout)


def check_params(params):
    """The module's own options, before anything is sent to vCenter."""
    check_timeout(params["timeout"])
    records.check_record_params(params)


def host_evacuation(client, params, check_mode=False):
    """The module's work: evacuate (state=evacuated) or restore the host ``params["host"]``."""
    snapshot = gather(client, params["dsva_name_pattern"])
    cluster = select_clusters(snapshot.inventory, [params["cluster"]], params["datacenter"], snapshot.datacenters)[0]
    host = find_host(cluster, params["host"])
    if params["state"] == "evacuated":
        require_dsvas(cluster, params["dsvas_expected"], params["dsva_name_pattern"])
        result = evacuate(client, snapshot, cluster, host, params, check_mode=check_mode)
    else:
        result = restore(client, snapshot, cluster, host, params, check_mode=check_mode)
    result["warnings"] = snapshot.record_policy_warnings() + result.get("warnings", [])
    return result


def migrate(client, snapshot, move, wait_seconds):
    spec = vsphere_client.vim.vm.RelocateSpec(host=snapshot.ref(move["to_moid"]))
    client.run_task("migrating %s from %s to %s" % (move["vm"], move["from"], move["to"]),
                    snapshot.ref(move["moid"]).RelocateVM_Task, spec=spec, wait_seconds=wait_seconds)


def host_moids(cluster):
    return dict((host["name"], host["moid"]) for host in cluster["hosts"])


def _record_base(record, params, user, cluster):
    if record:
        base = dict(record)
        base.pop("valid", None)
    else:
        base = {"owner": params["owner"] or default_owner(params["username"]), "since": now_iso(), "moved": [],
                "maintenance": False, "vcenter_user": user}
    base["window"] = params["window"] or base.get("window")
    base["cluster"] = cluster["name"]
    return base


def evacuate(client, snapshot, cluster, host, params, check_mode=False):
    """Empty ``host`` as plan_evacuation decides: record first, then migrate, shut down what stays, enter
    maintenance mode. Refused before any change: a host whose absence breaks HA admission control, and the move
    of a failover-cluster node VM (``failover_cluster_vms``) that is not in ``drained_vms``."""
    record = check_evacuation_record(host["evacuation"], "host %s" % host["name"])
    if params["keep_vms"] is not None:
        keep = set(resolve_vms(cluster["vms"], params["keep_vms"], "keep_vms"))
    else:
        keep = set(vm["moid"] for vm in cluster["vms"] if vm["dsva"] and vm["host"] == host["name"])
    failover_vms = resolve_vms(cluster["vms"], params["failover_cluster_vms"] or [], "failover_cluster_vms")
    drained = set(resolve_vms(cluster["vms"], params.get("drained_vms") or [], "drained_vms"))
    enter_maintenance = params["maintenance_mode"] and not host["maintenance_mode"]
    hosts = host_moids(cluster)
    if enter_maintenance:
        reason = admission_refusal(cluster, host["name"])
        if reason:
            raise AdmissionControlError(
                "host %s cannot be taken out of cluster %s: %s, so nothing was changed. Free or add capacity first, "
                "or have the cluster's owner change its HA admission control for the window" % (host["name"], cluster["name"], reason),
                host=host["name"])

    def can_move(vm, target):
        # vCenter's own check (CheckRelocate_Task) before any move, so a VM on local storage or a network
        # the target lacks stops the run before the first migration instead of half-way through it.
        errors = client.check_relocate(snapshot.ref(vm["moid"]), snapshot.ref(hosts[target]),
                                       "checking the migration of %s to %s" % (vm["name"], target))
        return "; ".join(errors) if errors else None

    plan = plan_evacuation(cluster, host["name"], keep, maintenance_mode=enter_maintenance,
                           can_move=can_move, failover_vms=failover_vms, power_off_kept=params["power_off_kept_vms"])
    refused = cluster_node_refusals(plan["moves"], set(failover_vms), drained)
    if refused:
        raise ClusterNodeError(
            "host %s: these VMs are failover-cluster nodes whose nodes are not drained, so nothing was moved: %s. Drain "
            "each node first (mscs_node state=drained) and name its VM in drained_vms"
            % (host["name"], "; ".join("%s (%s)" % item for item in sorted(refused.items()))), refused=refused)
    changed = bool(plan["moves"]) or enter_maintenance
    warnings = []
    if plan["drain_first"]:
        warnings.append("%s %s in an enabled VM-VM anti-affinity rule, as failover-cluster nodes are: if %s, drain "
                        "%s roles first (vMotion of an active node can fail it over) and name %s in failover_cluster_vms"
                        % (", ".join(plan["drain_first"]), "is" if len(plan["drain_first"]) == 1 else "are",
                           "it is one" if len(plan["drain_first"]) == 1 else "they are",
                           "its" if len(plan["drain_first"]) == 1 else "their",
                           "it" if len(plan["drain_first"]) == 1 else "them"))
    if (not params["maintenance_mode"] and not host["maintenance_mode"] and cluster["drs"]["enabled"]
            and cluster["drs"]["automation_level"] == "fullyAutomated"):
        warnings.append("host %s stays out of maintenance mode in fully automated DRS cluster %s: DRS can move VMs "
                        "back onto it before the reboot; use maintenance_mode=true or hold DRS at manual with "
                        "vsphere_drs_window" % (host["name"], cluster["name"]))
    new_record = None
    if changed:
        base = _record_base(record, params, None if check_mode else client.session_user(), cluster)
        base["moved"] = base.get("moved", []) + [{"vm": m["vm"], "moid": m["moid"], "to": m["to"]} for m in plan["moves"]]
        base["maintenance"] = bool(base.get("maintenance") or enter_maintenance)
        if plan["power_off"] or base.get("powered_off"):
            base["powered_off"] = base.get("powered_off", []) + plan["power_off"]
        if base.get("vcenter_user") is None:
            base.pop("vcenter_user", None)
        new_record = base
    result = {
        "changed": changed,
        "warnings": warnings,
        "moves": plan["moves"],
        "powered_off": plan["power_off"],
        "powered_on": [],
        "not_moved_back": [],
        "left_alone": plan["left_alone"],
        "drain_first": plan["drain_first"],
        "maintenance_mode": host["maintenance_mode"] or enter_maintenance,
        "tools_waited": [],
        "record": new_record or record,
        "diff": {"before": {"powered_on_vms": host["powered_on_vms"], "maintenance_mode": host["maintenance_mode"]},
                 "after": {"powered_on_vms": plan["kept_powered_on"],
                           "maintenance_mode": host["maintenance_mode"] or enter_maintenance}},
    }
    if not changed or check_mode:
        return result
    host_ref = snapshot.ref(host["moid"])
    write_record(client, snapshot, host_ref, EVACUATION_ATTRIBUTE, type(host_ref), new_record)
    for move in plan["moves"]:
        migrate(client, snapshot, dict(move, to_moid=hosts[move["to"]]), params["timeout"])
    for vm in plan["power_off"]:
        # only once the host is empty: a pinned DSVA cannot move (VS-03) and protects no guest here any more
        client.shut_down_vm(snapshot.ref(vm["moid"]), vm["vm"], wait_seconds=params["timeout"])
    if enter_maintenance:
        try:
            # vCenter's own timeout ends the task with a Timedout fault (vim.HostSystem.EnterMaintenanceMode:
            # "timeout <= 0 means no timeout"), so a host never stays "entering maintenance mode" after this
            # run; the wait allows a little more than that so vCenter's verdict is the one reported.
            client.run_task("entering maintenance mode on %s" % host["name"], host_ref.EnterMaintenanceMode_Task,
                            timeout=params["timeout"], evacuatePoweredOffVms=False,
                            wait_seconds=params["timeout"] + 30)
        except (vsphere_client.VsphereError, WaitTimeoutError) as error:
            raise _maintenance_failed(client, snapshot, host, host_ref, record, new_record, plan["power_off"], params, error)
    return result


def _maintenance_failed(client, snapshot, host, host_ref, old_record, new_record, powered_off, params, error):
    """Maintenance mode failed after the VMs that stay were shut down: their guests (the host's DSVA among them)
    lose their network while the appliance is down (Trend, NSX fail-closed), so they are powered on again on
    this host before anything else; the record then says what is left. Returns the error to raise."""
    back, failed = [], []
    for vm in powered_off:
        try:
            client.power_on(snapshot.ref(vm["moid"]), host_ref, vm["vm"], host["name"], wait_seconds=params["timeout"])
            back.append(vm["moid"])
        except (CollectionError, vsphere_client.VsphereError) as power_error:
            failed.append("%s: %s" % (vm["vm"], getattr(power_error, "message", power_error)))
    record = dict(new_record, maintenance=bool((old_record or {}).get("maintenance")),
                  powered_off=[item for item in new_record.get("powered_off", []) if item["moid"] not in back])
    try:
        write_record(client, snapshot, host_ref, EVACUATION_ATTRIBUTE, type(host_ref), record)
    except vsphere_client.VsphereError as record_error:
        failed.append("the record: %s" % record_error.message)
    names = [vm["vm"] for vm in powered_off if vm["moid"] in back]
    message = "%s; %s" % (getattr(error, "message", str(error)),
                          ("%s powered on again on %s" % (", ".join(names), host["name"])) if names else "nothing was shut down")
    if failed:
        message += "; NOT put back: %s" % "; ".join(failed)
    message += ". The VMs moved off stay where they are; the record on the host lets state=restored move them back"
    return type(error)(message, **getattr(error, "details", {}))


def _refuse(host, refused, cut_off=False):
    text = "; ".join("%s: %s" % (item["subject"], item["reason"]) for item in refused)
    if cut_off:
        text += " (vCenter returned %d events or more for the cluster, so older ones may be missing)" % records.EVENTS_MAX
    return EvacuationRecordError(
        "host %s: the evacuation record cannot be tied to what this vCenter account did (%s), so nothing was changed "
        "and the record is left as it is. Check the host in vCenter; put back by hand what the collection did, then "
        "clear custom attribute %s" % (host["name"], text, EVACUATION_ATTRIBUTE), refused=refused)


def _hold_drs(client, snapshot, cluster, params):
    """Hold DRS at manual for the restore when nobody holds the cluster: with DRS automated, vCenter places VMs
    on the host as soon as it leaves maintenance mode, before its DSVA runs. The hold is a DRS window of its own
    (RESTORE_DRS_WINDOW), so a window that holds the cluster itself (esx_prepare) keeps its hold. Returns
    ``(record, saved)``: the hold this restore puts back at its end (a hold an earlier restore left included) and
    whether this run saved the level itself; ``(None, False)`` when it holds nothing."""
    drs = cluster["drs"]
    current = cluster["drs_window"]
    if current is not None:
        if current.get("valid") and current.get("window") == RESTORE_DRS_WINDOW:
            return current, False
        return None, False
    if not drs["enabled"] or drs["automation_level"] == MANUAL:
        return None, False
    plan = plan_window(cluster["name"], "manual", RESTORE_DRS_WINDOW, drs["automation_level"], None,
                       params["owner"] or default_owner(params["username"]), now_iso(), user=client.session_user())
    apply_window_plan(client, snapshot, snapshot.ref(cluster["moid"]), plan, None, DRS_WINDOW_ATTRIBUTE)
    return plan.write_record, True


def _release_drs(client, snapshot, cluster, host, held, saved):
    """Put back the restore's own DRS hold, unless another host of the cluster is out of maintenance mode with its
    evacuation not finished (DRS would place VMs on it before its DSVA protects them). Returns a warning or None."""
    pending = sorted(other["name"] for other in cluster["hosts"] if other["name"] != host["name"] and other["evacuation"]
                     and not other["maintenance_mode"])
    if pending:
        verb = "is" if len(pending) == 1 else "are"
        return ("DRS of cluster %s stays at manual (window %s): %s %s out of maintenance mode with VMs not back; the "
                "restore of the last of them puts DRS back" % (cluster["name"], RESTORE_DRS_WINDOW, ", ".join(pending), verb))
    plan = plan_window(cluster["name"], "restored", RESTORE_DRS_WINDOW, MANUAL, dict(held, valid=True), held["owner"],
                       now_iso(), saved_level=held["original_level"] if saved else None)
    # a hold an earlier restore left: its level comes from the record, so vCenter's events must tie it to this account
    check_drs_tie(client, snapshot.ref(cluster["moid"]), dict(cluster, drs_window=held), plan)
    apply_window_plan(client, snapshot, snapshot.ref(cluster["moid"]), plan, held, DRS_WINDOW_ATTRIBUTE)
    return None


def restore(client, snapshot, cluster, host, params, check_mode=False):
    """Undo what the record on ``host`` says an evacuation did, then clear the record.

    Before anything changes, every part of the record this run would act on must be tied to what this vCenter
    account did (records.tie_evacuation over vCenter's events): maintenance mode it entered, VMs it shut down on
    this host, VMs it migrated off it; a record that fails validation or a tie is refused as a whole. Then, in
    order: DRS held at manual (unless someone holds it), maintenance mode left, the VMs shut down powered on on
    this host (``host=``), VMware Tools running in its DSVAs, and only with ``move_back`` (the default) the VMs
    moved back, each checked again as the evacuation checked it (DRS rules, a running DSVA on the host, vCenter's
    CheckRelocate_Task), the record cleared and DRS put back. With ``move_back=false`` the record is left with
    the moves only, so the caller can ask the DSM whether the appliance is active before moving guests back."""
    record = check_evacuation_record(host["evacuation"], "host %s" % host["name"])
    if record is None:
        return {"changed": False, "moves": [], "powered_off": [], "powered_on": [], "not_moved_back": [],
                "left_alone": [], "drain_first": [], "maintenance_mode": host["maintenance_mode"], "tools_waited": [],
                "record": None, "msg": "no evacuation record on %s; nothing to restore" % host["name"]}
    move_back = params.get("move_back", True)
    moves, skipped, untied = plan_return(record, cluster["vms"], host["name"], cluster["name"])
    power_on = plan_power_on(record, cluster["vms"], host["name"])
    leave_maintenance = bool(record.get("maintenance")) and host["maintenance_mode"]
    refused = [{"subject": item["vm"], "reason": "the record names no managed-object id for it"} for item in untied]
    if host["maintenance_mode"] and not record.get("maintenance"):
        refused.append({"subject": "maintenance mode", "reason": "the host is in maintenance mode and the record does "
                                                                 "not say this collection put it there"})
    if not move_back and cluster["drs"]["enabled"] and cluster["drs"]["automation_level"] != MANUAL:
        raise ParameterError("move_back=false leaves host %s out of maintenance mode with its VMs elsewhere: hold DRS "
                             "of cluster %s at manual first (vsphere_drs_window), or DRS may place VMs on the host "
                             "before its DSVA runs" % (host["name"], cluster["name"]))
    user = client.session_user()
    begin = records.parse_time(record["since"]) - records.CLOCK_SKEW
    events, cut_off = client.query_events(snapshot.ref(cluster["moid"]), records.EVACUATION_EVENTS, begin)
    refused += records.tie_evacuation(record, host["moid"], events, user, leave_maintenance=leave_maintenance,
                                      power_on=power_on, moves=moves if move_back else [])
    if refused:
        raise _refuse(host, refused, cut_off)
    dsvas_here = [dsva for dsva in cluster["dsvas"] if dsva["host"] == host["name"]]
    result = {
        # the first step alone changes only what is still to undo on the host itself
        "changed": True if move_back else bool(leave_maintenance or power_on),
        "moves": moves if move_back else [],
        "powered_off": [],
        "powered_on": power_on,
        # not "skipped": Ansible reads a true "skipped" in a result as "the task was skipped"
        "not_moved_back": skipped if move_back else [],
        "left_alone": [],
        "drain_first": [],
        "maintenance_mode": host["maintenance_mode"] and not leave_maintenance,
        "tools_waited": [dsva["name"] for dsva in dsvas_here],
        "record": None if move_back else dict(_record_base(record, params, None, cluster), maintenance=False, powered_off=[]),
        "diff": {"before": {"maintenance_mode": host["maintenance_mode"], "record": record},
                 "after": {"maintenance_mode": host["maintenance_mode"] and not leave_maintenance, "record": None}},
    }
    if check_mode:
        return result
    host_ref = snapshot.ref(host["moid"])
    held, saved = _hold_drs(client, snapshot, cluster, params) if move_back else (None, False)
    if leave_maintenance:
        # vim.HostSystem.ExitMaintenanceMode requires ``timeout`` too.
        client.run_task("leaving maintenance mode on %s" % host["name"], host_ref.ExitMaintenanceMode_Task,
                        timeout=params["timeout"], wait_seconds=params["timeout"] + 30)
    for vm in power_on:
        # the host's DSVA first, on this host, so the guests moving back are protected on arrival (VS-01)
        client.power_on(snapshot.ref(vm["moid"]), host_ref, vm["vm"], host["name"], wait_seconds=params["timeout"])
    powered = set(vm["moid"] for vm in power_on)
    for dsva in dsvas_here:
        if dsva["power_state"] == POWERED_ON or dsva["moid"] in powered:
            client.wait_for_tools(snapshot.ref(dsva["moid"]), dsva["name"], wait_seconds=params["timeout"])
    dsva_running = any(dsva["power_state"] == POWERED_ON or dsva["moid"] in powered for dsva in dsvas_here)
    if leave_maintenance or power_on:
        left = _record_base(record, params, None, cluster)
        left.update(maintenance=False, powered_off=[])
        write_record(client, snapshot, host_ref, EVACUATION_ATTRIBUTE, type(host_ref), left)
    if not move_back:
        return result
    refusals = return_refusals(cluster, host["name"], moves, dsva_running)
    if moves and cluster["dsvas"] and not dsva_running:
        raise EvacuationRecordError("host %s has no running DSVA, so no VM was moved back onto it (rule VS-01); the "
                                    "record keeps the moves: power its DSVA on, then restore again" % host["name"])
    done = []
    for move in moves:
        if move["moid"] in refusals:
            result["not_moved_back"].append({"vm": move["vm"], "reason": refusals[move["moid"]]})
            continue
        # Checked only now: a host still in maintenance mode fails every check. A VM vCenter will not move
        # back (say, its disks moved to storage this host cannot reach) keeps running where it is and is
        # reported, rather than stopping the restore half-way.
        errors = client.check_relocate(snapshot.ref(move["moid"]), host_ref,
                                       "checking the migration of %s back to %s" % (move["vm"], host["name"]))
        if errors:
            result["not_moved_back"].append({"vm": move["vm"], "reason": "vCenter refuses the move: %s" % "; ".join(errors)})
            continue
        migrate(client, snapshot, dict(move, to_moid=host["moid"]), params["timeout"])
        done.append(move)
    result["moves"] = done
    write_record(client, snapshot, host_ref, EVACUATION_ATTRIBUTE, type(host_ref), None)
    if held is not None:
        warning = _release_drs(client, snapshot, cluster, host, held, saved)
        if warning:
            result.setdefault("warnings", []).append(warning)
    return result
