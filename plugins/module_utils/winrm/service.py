# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each Windows module does: read facts (one script), decide (pure functions), act, verify.

Functions take a ``WinRMClient`` (or anything with ``run(name, body, params, timeout=None)``) and
return the module result; they raise the collection's typed errors and never call ``fail_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    WaitTimeoutError,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.window_id import validate_window_id
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import agent, nlb, records, scripts, wsfc
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import ScriptError


def _run(client, name, params=None, timeout=None):
    return client.run(name, scripts.body(name), params or {}, timeout=timeout)


# --- failover clusters --------------------------------------------------------------------------

def mscs_cluster_info(client, name=None):
    facts = wsfc.cluster_facts(_run(client, "mscs_cluster_info"))
    wsfc.require_member(facts)
    if name:
        wsfc.local_node(facts, name)
    return dict(changed=False, **facts)


# The window record each action leaves on the node (invariant 7): written before the action takes the
# node out of service, removed once the action that puts it back has run.
RECORD_BEFORE = {"drain": "node_drained", "stop": "cluster_service_stopped"}
RECORD_AFTER = {"start": "cluster_service_stopped", "resume": "node_drained"}
RECORD_OF_STATE = {"started": "cluster_service_stopped", "resumed": "node_drained"}


def _record(client, state, window, change, data=None, controller="", check_mode=False):
    outcome = records.node_window_record(client, state, window, change=change, data=data or {},
                                         controller=controller, check_mode=check_mode)
    return bool(outcome["changed"]), outcome.get("warnings") or []


def mscs_node(client, state, name=None, force=False, failback="none", timeout=300, check_mode=False,
              force_drain=False, window=None, controller=""):
    """Bring the connected node to ``state``. With ``window``, the change is recorded on the node first
    (node_drained, cluster_service_stopped) and the record removed once the node is put back."""
    if window is not None:
        validate_window_id(window)
    facts = wsfc.cluster_facts(_run(client, "mscs_cluster_info"))
    wsfc.require_member(facts)
    if name:
        wsfc.local_node(facts, name)
    plan = wsfc.plan_node(facts, state, force=force)
    result = dict(changed=bool(plan["actions"]), actions=plan["actions"], node=plan["before"],
                  diff=dict(before=plan["before"], after=plan["after"]), warnings=[])
    if not plan["actions"]:
        # already there: a record this window left for this state is stale, remove it
        if window is not None and state in RECORD_OF_STATE:
            removed, warnings = _record(client, "absent", window, RECORD_OF_STATE[state], check_mode=check_mode)
            result.update(changed=removed, record_removed=removed, warnings=warnings)
        return result
    if check_mode:
        return result
    me = plan["before"]["name"]
    for action in plan["actions"]:
        if window is not None and action in RECORD_BEFORE:
            _record(client, "present", window, RECORD_BEFORE[action],
                    data={"failback": failback} if action == "drain" else None, controller=controller)
        # force only lifts the collection's own refusals; -ForceDrain (roles that cannot move are stopped
        # and failed over) is sent only when force_drain asks for it
        params = dict(action=action, force_drain=bool(force_drain), failback=wsfc.FAILBACK[failback],
                      timeout=int(timeout))
        # the script bounds its own wait by `timeout`; give the transport a little more
        outcome = _run(client, "mscs_node", params, timeout=int(timeout) + 60)
        if not outcome.get("completed"):
            raise WaitTimeoutError(
                "%s of %s did not complete within %ss; the node was left with cluster service %s: check it with "
                "mscs_cluster_info, then re-run (the module is idempotent) or resume it (state=resumed)"
                % (action, me, timeout, outcome.get("cluster_service")),
                node=me, action=action, cluster_service=outcome.get("cluster_service"), actions_done=plan["actions"])
        if action == "drain":
            after_drain = wsfc.cluster_facts(_run(client, "mscs_cluster_info"))
            problems = wsfc.verify_drained(after_drain, me)
            if problems:
                raise WaitTimeoutError(
                    "drain of %s finished but %s; the node is paused: fix the roles, then re-run or resume it "
                    "(state=resumed)" % (me, "; ".join(problems)), node=me, problems=problems)
        if window is not None and action in RECORD_AFTER:
            _record(client, "absent", window, RECORD_AFTER[action])
    final = wsfc.cluster_facts(_run(client, "mscs_cluster_info"))
    after = wsfc.node_summary(final)
    result.update(node=after, diff=dict(before=plan["before"], after=after), groups=final["groups"])
    return result


# --- network load balancing ---------------------------------------------------------------------

def nlb_cluster_info(client):
    facts = nlb.nlb_facts(_run(client, "nlb_cluster_info"))
    return dict(changed=False, **facts)


def nlb_node(client, state, drain_timeout=10, force=False, check_mode=False):
    facts = nlb.nlb_facts(_run(client, "nlb_cluster_info"))
    plan = nlb.plan_nlb(facts, state, force=force)
    result = dict(changed=plan["action"] is not None, action=plan["action"], node=plan["before"],
                  diff=dict(before=plan["before"], after=plan["after"]))
    if plan["action"] is None or check_mode:
        return result
    # drain_timeout is in minutes; Stop-NlbClusterNode -Timeout takes seconds. Bound the transport to match.
    seconds = nlb.drain_seconds(drain_timeout)
    outcome = _run(client, "nlb_node", dict(action=plan["action"], drain_seconds=seconds), timeout=seconds + 120)
    state_now = nlb.base_state(outcome.get("state") or outcome.get("host_state"))
    after = dict(name=plan["before"]["name"], state=state_now)
    result.update(node=after, diff=dict(before=plan["before"], after=after))
    if not nlb.reached(state_now, plan["after"]["state"]):
        raise WaitTimeoutError("%s of %s left it %s, expected %s; check it with nlb_cluster_info"
                               % (plan["action"], plan["before"]["name"], state_now, plan["after"]["state"]),
                               node=plan["before"]["name"], state=state_now)
    return result


# --- Deep Security Agent ------------------------------------------------------------------------

def ds_agent(client, desired, check_mode=False, install_timeout=1800):
    agent.validate(desired)
    facts = _run(client, "agent_info")
    plan = agent.plan_agent(facts, desired)
    agent.check_interlock(facts, plan["actions"], desired.get("allow_running_cluster_service"))
    host = facts.get("computer")
    result = dict(changed=bool(plan["actions"]), actions=plan["actions"], computer=host,
                  previous_version=plan["before"]["version"], version=plan["after"]["version"],
                  reboot_required=bool(facts.get("reboot_pending")), msi_exit_code=None,
                  agent=plan["before"], diff=dict(before=plan["before"], after=plan["after"]))
    if not plan["actions"] or check_mode:
        return result
    for action in plan["actions"]:
        if action in ("install", "upgrade"):
            outcome = _run(client, "agent_install", dict(url=desired.get("installer_url"),
                                                         path=desired.get("installer_path"),
                                                         sha256=desired.get("installer_sha256")),
                           timeout=install_timeout)
            result["msi_exit_code"] = outcome.get("exit_code")
            result["reboot_required"] = agent.interpret_msi(outcome, action, host) or result["reboot_required"]
            installed = agent.parse_version(outcome.get("version"))
            if installed != agent.parse_version(desired["version"]):
                raise ScriptError(
                    "the installer given for %s installed agent version %s, not the requested %s; check that "
                    "installer_url/installer_path points at build %s" % (
                        host, agent.display_version(outcome.get("version")), desired["version"], desired["version"]),
                    host=host, installed_version=agent.display_version(outcome.get("version")))
        elif action == "uninstall":
            outcome = _run(client, "agent_remove", timeout=install_timeout)
            result["msi_exit_code"] = outcome.get("exit_code")
            result["reboot_required"] = agent.interpret_msi(outcome, action, host) or result["reboot_required"]
        elif action == "activate":
            outcome = _run(client, "agent_activate", dict(dsm_url=desired["dsm_url"], policy_id=desired.get("policy_id"),
                                                          tenant_id=desired.get("tenant_id"),
                                                          token=desired.get("token")))
            if int(outcome.get("exit_code", -1)) != 0:
                raise ScriptError("activation of the agent on %s against %s failed (dsa_control exit code %s): %s"
                                  % (host, desired["dsm_url"], outcome.get("exit_code"), outcome.get("output")),
                                  host=host, exit_code=outcome.get("exit_code"))
    final = _run(client, "agent_info")
    after = agent.agent_summary(final)
    result.update(agent=after, version=after["version"], diff=dict(before=plan["before"], after=after),
                  reboot_required=result["reboot_required"] or bool(final.get("reboot_pending")))
    return result
