# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The window's decisions between its steps: whether the next member goes, what to put back after a failed
step, what undoing each kind of record means, and whether a member is out of service by someone else.

Pure: the engine passes what it read and what failed, and does what comes back.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# --- records --------------------------------------------------------------------------------------------

# The order in which a node's records are undone: interrupted agent work is confirmed first (no installer
# still running, the manager shows the policy applied, so the network driver's blip is over), then the
# cluster service (a paused node can only be resumed once it runs), then the drain, then the NLB records.
UNDO_ORDER = ("agent_maintenance", "cluster_service_stopped", "node_drained", "nlb_node_stopped",
              "network_engine_mode")


def lower(value):
    return str(value or "").lower()


def records_of(records, window=None, changes=None):
    """The records of ``window`` (all windows when None; ids compare without case, as registry key names),
    limited to ``changes`` when given."""
    return [record for record in records or []
            if (not window or lower(record.get("window")) == lower(window))
            and (changes is None or record.get("change") in changes)]


def records_to_undo(records, window=None):
    """A node's records to put back, in the order they must be undone."""
    rank = dict((change, position) for position, change in enumerate(UNDO_ORDER))
    return sorted(records_of(records, window),
                  key=lambda record: (lower(record.get("window")), rank.get(record.get("change"), len(rank))))


def undo_steps(record, facts, dsm=True, agent_confirmed=False):
    """What undoing one record takes on its node: ``(steps, refusal)``.

    facts: the node as read now (``computer``, ``installer``: running | idle | unknown, ``agent_installed``).
    Each step is ``(operation, arguments)`` for the engine's backend; a refusal ('' when none) says why the
    record must stay: interrupted agent work whose end nothing can confirm keeps the cluster service stopped
    (rule MS-02), so recover never starts it while an installer runs or before the manager has the agent.
    The computer a record makes the manager act on is always the node's own, read from the node, never one the
    record names: a record is trusted only for what it is about.
    """
    change = record.get("change")
    data = record.get("data") or {}
    computer = facts.get("computer")
    if change == "agent_maintenance":
        installer = facts.get("installer") or "unknown"
        if installer == "running":
            return [], ("an installer is still running on %s (window %s was working on the agent); its cluster "
                        "service stays stopped: run recover again once the installation has ended"
                        % (computer, record.get("window")))
        if installer != "idle":
            return [], ("whether an installer still runs on %s cannot be read (the Windows Installer mutex could not be "
                        "checked); its records stay: check the node, then run recover again" % computer)
        steps = []
        if facts.get("agent_installed") and data.get("activation", True) and data.get("state", "present") == "present":
            if dsm:
                steps.append(("wait_policy_applied", {"computer": computer}))
            elif not agent_confirmed:
                return [], ("%s has the agent installed by window %s, and without the manager (recover_dsm=false) nothing "
                            "shows its first policy applied; its records stay. Check the agent on the node and in the "
                            "manager, then run recover with recover_agent_confirmed=true" % (computer, record.get("window")))
        steps.append(("remove_records", {"changes": ["agent_maintenance"]}))
        return steps, ""
    if change == "cluster_service_stopped":
        return [("start_service", {}), ("remove_records", {"changes": ["cluster_service_stopped", "agent_maintenance"]})], ""
    if change == "node_drained":
        failback = data.get("failback") if data.get("failback") in ("none", "immediate", "policy") else "none"
        return [("resume", {"failback": failback}), ("wait_up", {}), ("remove_records", {"changes": ["node_drained"]})], ""
    if change == "nlb_node_stopped":
        return [("nlb_start", {}), ("remove_records", {"changes": ["nlb_node_stopped"]})], ""
    if change == "network_engine_mode":
        previous = data.get("previous_mode")
        if previous not in ("Inline", "Tap"):
            return [], "the record's previous mode %r is not Inline or Tap; it stays for someone to look at" % (previous,)
        if data.get("own_setting") is False:
            step = ("reset_engine_mode", {"computer": computer})
        else:
            step = ("set_engine_mode", {"computer": computer, "mode": previous})
        return [step, ("remove_records", {"changes": ["network_engine_mode"]})], ""
    return [], "unknown change %r: this collection did not write it; it stays for someone to look at" % (change,)


# --- ownership ------------------------------------------------------------------------------------------

def wsfc_out_by_someone_else(member, records, window):
    """Why a failover-cluster node is out of service, and not by this window ('' when it is not): this
    window's own records say what it took out, nothing else does."""
    ours = set(record.get("change") for record in records_of(records, window))
    if member.get("state") == "Paused" and "node_drained" not in ours:
        return "is Paused (drain status %s)" % member.get("drain_status")
    if member.get("drain_status") == "InProgress" and "node_drained" not in ours:
        return "is being drained"
    if member.get("state") in ("Down", "Joining") and "cluster_service_stopped" not in ours:
        return "is %s" % member.get("state")
    return ""


def nlb_out_by_someone_else(state, records, window):
    """Why an NLB host is out of its farm, and not by this window ('' when it is not)."""
    ours = set(record.get("change") for record in records_of(records, window))
    if state in ("Stopped", "Suspended", "Draining") and "nlb_node_stopped" not in ours:
        return "is %s" % state
    return ""


# --- after a failed step ------------------------------------------------------------------------------

WSFC_BEFORE_AGENT = ("drain", "roles_moved", "stop")
WSFC_AFTER_AGENT = ("start", "resume", "verified")


def after_wsfc_failure(step, failure, ours):
    """What to put back on a failover-cluster node after ``step`` failed.

    failure: the failed step's details (``msi_exit_code`` when msiexec ended, ``restart_initiated`` for msiexec
    1641); ours: the changes this window's records on the node say it made (after the failure).

    - drain, roles_moved, stop, start, resume, verified: the agent was not touched, or its work is done: start the
      cluster service and resume the node, where this window stopped or paused it;
    - agent, after msiexec ended with an error (1603, ... : Windows Installer rolls the installation back): start
      the cluster service so the node counts for quorum again, but leave it paused, holding no role, until
      someone has read the MSI log (recover resumes it);
    - agent without an msiexec result (a timeout, a lost connection), or dsm_active (the first policy, which loads
      the network driver, may still be on its way): leave the cluster service stopped: starting it could let the
      blip fail the cluster over (MS-02);
    - msiexec 1641 (the installer has initiated a restart): the node is restarting; touch nothing.
    """
    ours = set(ours or ())
    if (failure or {}).get("restart_initiated"):
        return {"start_service": False, "resume": False,
                "left": "restarting (msiexec 1641: the installer initiated a restart); records kept: once it is back, "
                        "run recover or the window again"}
    if step in WSFC_BEFORE_AGENT + WSFC_AFTER_AGENT:
        start, resume = True, True
    elif step == "agent" and (failure or {}).get("msi_exit_code") is not None:
        start, resume = True, False
    else:
        start, resume = False, False
    start = start and "cluster_service_stopped" in ours
    resume = resume and "node_drained" in ours
    if resume or (not ours):
        left = "in service"
    elif start:
        left = "cluster service running, node paused (records kept: run recover to resume it)"
    else:
        left = "cluster service stopped, node paused (records kept: run recover once the node is checked)"
    return {"start_service": start, "resume": resume, "left": left}


def after_nlb_failure(step, failure, ours, agent_unchanged=False):
    """What an NLB host is left as after ``step`` failed: nothing is put back (the host stays out of its
    farm under its records, which recover or a re-run undo), except that after an msiexec that ended with an
    error and left the agent as it was (Windows Installer rolls a failed installation back,
    learn.microsoft.com/windows/win32/msi/rollback-installation) there is no new agent whose first policy the
    manager must confirm, so the agent_maintenance record goes."""
    ours = set(ours or ())
    remove = []
    if step == "agent" and (failure or {}).get("msi_exit_code") is not None and agent_unchanged \
            and "agent_maintenance" in ours:
        remove.append("agent_maintenance")
    if "nlb_node_stopped" in ours:
        left = "out of the farm (records kept: recover or a re-run starts it)"
    else:
        left = "in the farm"
    return {"remove_records": remove, "left": left}


# --- whether the next member goes ------------------------------------------------------------------------

def stop_reason(kind_words, failed_members, max_failed, elapsed, stop_after, failed_peers, on_failure,
                lease_lost=""):
    """Why a unit takes no further member out ('' when it goes on).

    failed_members: this unit's failed members; max_failed: how many may fail (Cluster-Aware Updating's
    MaxFailedNodes) before no further one starts; elapsed/stop_after: seconds since the window began and its
    budget (0: none); failed_peers: other units of the window that failed; on_failure: ``stop_all`` stops every
    unit when another failed; lease_lost: why this run no longer holds the unit's lease.
    """
    if lease_lost:
        return "this run no longer holds the %s's lease: %s" % (kind_words.unit, lease_lost)
    if len(failed_members) > int(max_failed or 0):
        return "more than %s %s(s) failed" % (max_failed, kind_words.member)
    if stop_after and elapsed > stop_after:
        return "the time budget of %s s is spent" % stop_after
    if on_failure == "stop_all" and failed_peers:
        return "%s %s of the window failed (%s=stop_all)" % (kind_words.unit, ", ".join(sorted(failed_peers)),
                                                             "%s_%s" % (kind_words.role, kind_words.on_failure_option))
    return ""
