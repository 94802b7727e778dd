# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each Windows module does: read facts (one script), decide (pure functions), act, verify.

Functions take a ``WinRMClient`` (or anything with ``run(name, body, params, timeout=None)``) and
return the module result; they raise the collection's typed errors and never call ``fail_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils import _agent_version as versions
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    CollectionError,
    InterlockError,
    ParameterError,
    WaitTimeoutError,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.window_id import validate_window_id
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import agent, nlb, records, scripts, wsfc
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import ScriptError, WinRMTimeoutError


def _host(client):
    """The node a client reaches, for the messages of the parsers (test stand-ins may not have one)."""
    return getattr(client, "host", None)


def _run(client, name, params=None, timeout=None):
    return client.run(name, scripts.body(name), params or {}, timeout=timeout)


# --- failover clusters --------------------------------------------------------------------------

def mscs_cluster_info(client, name=None, window_records=False):
    """The cluster as the node sees it; with ``window_records`` also every window record on the node (a
    second script over the same connection), so a window reads a node once before it plans."""
    facts = wsfc.cluster_facts(_run(client, "mscs_cluster_info"), _host(client))
    wsfc.require_member(facts)
    if name:
        wsfc.local_node(facts, name)
    result = dict(changed=False, **facts)
    if window_records:
        # records that fail validation come back apart and are never acted on (records.validate_record)
        result["window_records"], result["invalid_window_records"], result["warnings"] = \
            records.read_all_records(client)
    return result


# The window record each action leaves on the node (invariant 7): written before the action takes the
# node out of service, removed once the action that puts it back has run.
RECORD_BEFORE = {"drain": "node_drained", "stop": "cluster_service_stopped"}
# Starting the cluster service ends the agent work of the window too: a window starts it only once the
# manager has confirmed the agent, and recover only once it has confirmed it itself.
RECORD_AFTER = {"start": ("cluster_service_stopped", "agent_maintenance"), "resume": ("node_drained",)}
RECORD_OF_STATE = {"started": RECORD_AFTER["start"], "resumed": RECORD_AFTER["resume"]}


def _record(client, state, window, change, data=None, controller="", check_mode=False):
    outcome = records.node_window_record(client, state, window, change=change, data=data or {},
                                         controller=controller, check_mode=check_mode)
    return bool(outcome["changed"]), outcome.get("warnings") or []


def remove_records(client, window, changes, check_mode=False):
    """Remove this window's records of ``changes`` from the node: one read, and one write when any is there."""
    present, warnings = records.read_records(client, window)
    found = [record for change in changes for record in records.select(present, window, change)]
    if not found or check_mode:
        return bool(found), warnings
    plan = dict(action="remove", params=records.removal_params(found[0]["window"],
                                                               [record["change"] for record in found]))
    left, warnings = records.write_records(client, plan["params"])
    records.verify_written(left, plan, getattr(client, "host", "node"))
    return True, warnings


def mscs_node(client, state, name=None, force=False, failback="none", timeout=300, check_mode=False,
              force_drain=False, window=None, controller=""):
    """Bring the connected node to ``state``. With ``window``, the change is recorded on the node first
    (node_drained, cluster_service_stopped) and the record removed once the node is put back."""
    if timeout < 1:
        raise ParameterError("timeout must be a positive number of seconds (got %d)" % timeout)
    if window is not None:
        validate_window_id(window)
    facts = wsfc.cluster_facts(_run(client, "mscs_cluster_info"), _host(client))
    wsfc.require_member(facts)
    if name:
        wsfc.local_node(facts, name)
    plan = wsfc.plan_node(facts, state, force=force)
    if "start" in plan["actions"] and not force:
        # MS-02: the network driver's blip fails the cluster over while the cluster service runs, and an installer
        # still running may load it any moment; "unknown" refuses like "running" (agent.installer_state)
        installer = agent.installer_state(facts.get("agent"))
        if installer != "idle":
            raise InterlockError(
                "refusing to start the cluster service of %s: %s; an installation's network driver would blip the "
                "network with the cluster service running (MS-02). Wait until the installation has ended (or check "
                "the Windows Installer on the node), then run again, or set force=true if you accept the risk"
                % (plan["before"]["name"], "an installer is running there" if installer == "running"
                   else "whether an installer runs there cannot be read"), rule="MS-02", installer=installer)
    result = dict(changed=bool(plan["actions"]), actions=plan["actions"], node=plan["before"],
                  diff=dict(before=plan["before"], after=plan["after"]), warnings=[])
    if not plan["actions"]:
        # already there: a record this window left for this state is stale, remove it
        if window is not None and state in RECORD_OF_STATE:
            removed, warnings = remove_records(client, window, RECORD_OF_STATE[state], check_mode=check_mode)
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
                      timeout=int(timeout), allow_quorum_loss=bool(force), roles=[])
        # the script bounds its own wait by `timeout`; give the transport a little more
        outcome = _run(client, "mscs_node", params, timeout=int(timeout) + 60)
        _refused_stop(outcome, me, "drain" in plan["actions"])
        if not outcome.get("completed"):
            raise WaitTimeoutError(
                "%s of %s did not complete within %ss; the node was left with cluster service %s: check it with "
                "mscs_cluster_info, then re-run (the module is idempotent) or resume it (state=resumed)"
                % (action, me, timeout, outcome.get("cluster_service")),
                node=me, action=action, cluster_service=outcome.get("cluster_service"), actions_done=plan["actions"])
        if action == "drain":
            after_drain = wsfc.cluster_facts(_run(client, "mscs_cluster_info"), _host(client))
            failed = wsfc.failed_after_move(facts, after_drain, me)
            if failed:
                _move_back(client, failed, after_drain, me, dict(params, action="return", roles=failed), timeout,
                           window)
            problems = wsfc.verify_drained(after_drain, me)
            if problems:
                raise WaitTimeoutError(
                    "drain of %s finished but %s; the node is paused: fix the roles, then re-run or resume it "
                    "(state=resumed)" % (me, "; ".join(problems)), node=me, problems=problems)
        if window is not None and action in RECORD_AFTER:
            remove_records(client, window, RECORD_AFTER[action])
    final = wsfc.cluster_facts(_run(client, "mscs_cluster_info"), _host(client))
    after = wsfc.node_summary(final)
    result.update(node=after, diff=dict(before=plan["before"], after=after), groups=final["groups"],
                  nodes=final["nodes"])
    return result


def _refused_stop(outcome, me, drained_now):
    """The stop action's own refusals, read on the node just before Stop-Service: nothing was stopped."""
    refused = outcome.get("refused")
    if not refused:
        return
    left = " The node was drained and stays paused (resume it with state=resumed, or fix this and run again)." \
        if drained_now else ""
    if refused == "quorum":
        raise InterlockError(
            "refusing to stop the cluster service of %s: the cluster itself reports that taking the node offline "
            "would lose quorum (MSCluster_Node.WillOfflineLoseQuorum), whatever the vote count the module made; bring "
            "the other nodes or the witness back, or set force=true if you accept losing quorum.%s" % (me, left),
            node=me, will_offline_lose_quorum=True)
    if refused == "dependent_services":
        names = ", ".join(outcome.get("dependent_services") or [])
        raise InterlockError(
            "refusing to stop the cluster service of %s: running services depend on it (%s), and stopping them "
            "with it (Stop-Service -Force) is not the module's to decide; stop them first, then run again.%s"
            % (me, names, left), node=me, dependent_services=outcome.get("dependent_services") or [])
    raise ScriptError("the stop of %s was refused on the node for a reason the module does not know: %s"
                      % (me, refused), node=me)


def _move_back(client, failed, after_drain, me, params, timeout, window):
    """Roles the drain moved that ended Failed on their target were never in service there: the node is resumed,
    they are moved back, and the drain fails saying so. The window's node_drained record goes with the resume."""
    targets = dict((group["name"], group["owner_node"]) for group in after_drain["groups"])
    outcome = _run(client, "mscs_node", params, timeout=int(timeout) + 60)
    if window is not None:
        remove_records(client, window, RECORD_AFTER["resume"])
    moved = "; ".join("%s on %s" % (name, targets.get(name)) for name in failed)
    if outcome.get("completed"):
        raise wsfc.DrainFailedError(
            "drain of %s moved %s, where it ended Failed: never in service after the move. It was moved back to %s "
            "and %s was resumed (no failback of other roles); nothing else was changed. Find why it cannot run on "
            "that node (its resources, possible owners, that node's cluster events) before taking %s out again"
            % (me, moved, me, me, me), node=me, roles=failed, moved_back=True)
    raise wsfc.DrainFailedError(
        "drain of %s moved %s, where it ended Failed: never in service after the move. Moving it back to %s did not "
        "complete within %ss; %s was resumed. Check the roles with mscs_cluster_info now" % (me, moved, me, timeout, me),
        node=me, roles=failed, moved_back=False, cluster_service=outcome.get("cluster_service"))


# --- network load balancing ---------------------------------------------------------------------

def nlb_cluster_info(client):
    facts = nlb.nlb_facts(_run(client, "nlb_cluster_info"), _host(client))
    return dict(changed=False, **facts)


# The NLB record: written before a drainstop or stop takes the host out of the farm, removed once a start
# has brought it back (invariant 7). Suspend and resume are the operator's own and are not recorded.
NLB_RECORD = "nlb_node_stopped"
NLB_RECORD_BEFORE = ("drainstop", "stop")


def nlb_node(client, state, drain_timeout=10, force=False, check_mode=False, window=None, controller=""):
    """Bring the connected NLB host to ``state``. With ``window``, a drainstop or stop is recorded on the
    host first (nlb_node_stopped, with the drain minutes) and the record removed once it is started."""
    if drain_timeout < 1:
        raise ParameterError("drain_timeout must be a positive number of minutes (got %d)" % drain_timeout)
    if window is not None:
        validate_window_id(window)
    facts = nlb.nlb_facts(_run(client, "nlb_cluster_info"), _host(client))
    plan = nlb.plan_nlb(facts, state, force=force)
    result = dict(changed=plan["action"] is not None, action=plan["action"], node=plan["before"],
                  diff=dict(before=plan["before"], after=plan["after"]))
    if plan["action"] is None:
        # already started: a record this window left for the stop is stale, remove it
        if window is not None and state == "started":
            removed, warnings = _record(client, "absent", window, NLB_RECORD, check_mode=check_mode)
            result.update(changed=removed, record_removed=removed)
            if warnings:
                result["warnings"] = warnings
        return result
    if check_mode:
        return result
    if window is not None and plan["action"] in NLB_RECORD_BEFORE:
        _record(client, "present", window, NLB_RECORD, controller=controller,
                data={"cluster": records.host_name_or_none(facts["cluster"].get("name")), "action": plan["action"]})
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
    if window is not None and plan["action"] == "start":
        _record(client, "absent", window, NLB_RECORD)
    return result


# --- Deep Security Agent ------------------------------------------------------------------------

def _agent_step(client, name, params, desired, host, timeout=None):
    """Run an agent script with its parameters on standard input; every message it can raise is
    scrubbed of the token, the self-protection password and URL user info / query strings."""
    try:
        document = client.run(name, scripts.body(name), {}, timeout=timeout, stdin_params=params)
    except CollectionError as error:
        secrets = agent.desired_secrets(desired)
        if isinstance(error, WinRMTimeoutError) and name in ("agent_install", "agent_remove"):
            # Whether ending the WinRM shell also ends a running msiexec is not documented (docs/windows.md):
            # the node is left as if an installation were still under way.
            error.message += ("; msiexec may still be running on %s, or may have been cut short with the shell: keep "
                              "its cluster service stopped, and go on only once mscs_cluster_info shows "
                              "agent.installer_state idle (raise install_timeout if installs take longer)" % host)
            error.details["installer_may_be_running"] = True
        error.message = agent.scrub(error.message, secrets)
        error.args = (error.message,)
        error.details = dict((key, agent.scrub(value, secrets) if isinstance(value, str) else value)
                             for key, value in error.details.items())
        raise
    return document


def _agent_info(client, host=None):
    return agent.agent_facts(_run(client, "agent_info"), host)


def agent_info_facts(client):
    """The agent on the node (installed, version, service, activation), without the cluster: for NLB hosts and
    other nodes without a cluster service."""
    return _agent_info(client)


def ds_agent(client, desired, check_mode=False, install_timeout=1800, window=None, controller=""):
    """Bring the agent to ``desired``. With ``window``, the record ``agent_maintenance`` goes onto the node
    before the first msiexec or dsa_control; mscs_node removes it when it starts the cluster service
    again, after the window has seen the manager confirm the agent (recover confirms it otherwise)."""
    if window is not None:
        validate_window_id(window)
    desired = dict(desired)
    if desired.get("activation_url") is None and desired.get("dsm_url") is not None:
        desired["activation_url"] = desired["dsm_url"]
    agent.validate(desired, install_timeout)
    warnings = []
    if desired.get("state") == "present" and desired.get("version") and not desired.get("installer_url") \
            and not desired.get("installer_path") and desired.get("activation_url"):
        desired["installer_url"] = agent.installer_url_for(desired["activation_url"], desired["version"])
    facts = _agent_info(client)
    plan = agent.plan_agent(facts, desired)
    agent.check_interlock(facts, plan["actions"], desired.get("allow_running_cluster_service"))
    product_code = agent.check_product_code(facts) if "uninstall" in plan["actions"] else None
    host = facts.get("computer")
    installing = [action for action in plan["actions"] if action in ("install", "upgrade")]
    if installing and not desired.get("installer_sha256"):
        if not desired.get("allow_unverified_installer"):
            raise ParameterError("installer_sha256 is required to %s the agent on %s: the node installs only an MSI "
                                 "with that SHA-256 (see docs/windows.md for how to get it), or set "
                                 "allow_unverified_installer=true to accept an unchecked installer"
                                 % (installing[0], host))
        warnings.append("installing the agent on %s without installer_sha256: the MSI is not checked "
                        "(allow_unverified_installer=true)" % host)
    if desired.get("installer_validate_certs") is False and installing and not desired.get("installer_sha256"):
        raise ParameterError("installer_validate_certs=false needs installer_sha256: the digest is then what "
                             "authenticates the download")
    result = dict(changed=bool(plan["actions"]), actions=plan["actions"], computer=host,
                  previous_version=plan["before"]["version"], version=plan["after"]["version"],
                  reboot_required=facts["reboot_pending"], msi_exit_code=None, self_protection=None,
                  agent=plan["before"], diff=dict(before=plan["before"], after=plan["after"]), warnings=warnings)
    if not plan["actions"] or check_mode:
        if result["reboot_required"]:
            warnings.append("%s has a reboot pending" % host)
        return result
    if window is not None:
        # the version as _agent_version writes it (the record's schema takes no surrounding spaces)
        _record(client, "present", window, "agent_maintenance", controller=controller, data=dict(
            state=desired.get("state"), version=versions.display(versions.parse(desired.get("version"))),
            activation="activate" in plan["actions"]))
    password = desired.get("self_protection_password")
    reboot_codes = []
    for action in plan["actions"]:
        if action in ("install", "upgrade"):
            params = dict(url=desired.get("installer_url"), path=desired.get("installer_path"),
                          sha256=desired.get("installer_sha256"), password=password,
                          insecure_download=desired.get("installer_validate_certs") is False)
            done = agent.outcome(_agent_step(client, "agent_install", params, desired, host, install_timeout),
                                 "agent_install", host, ("exit_code", "log_tail"))
        elif action == "uninstall":
            done = agent.outcome(_agent_step(client, "agent_remove", dict(password=password, product_code=product_code),
                                             desired, host, install_timeout), "agent_remove", host,
                                 ("exit_code", "log_tail"))
        else:
            continue
        result["msi_exit_code"] = done["exit_code"]
        result["self_protection"] = done.get("self_protection")
        try:
            if agent.interpret_msi(done, action, host):
                reboot_codes.append(done["exit_code"])
        except agent.MsiError as error:
            if done.get("self_protection") == "failed":
                error.message += ("\nAgent self-protection could not be turned off before msiexec (dsa_control -s 0: "
                                  "%s); give self_protection_password, or turn self-protection off in the manager's "
                                  "policy" % agent.scrub(done.get("self_protection_output"), agent.desired_secrets(desired)))
                error.args = (error.message,)
            raise
        if done.get("self_protection") == "failed":
            warnings.append("agent self-protection on %s could not be turned off (wrong or missing "
                            "self_protection_password?); msiexec succeeded anyway" % host)
    if "activate" in plan["actions"]:
        params = dict(arguments=agent.activation_arguments(desired), url=desired["activation_url"],
                      policy_id=desired.get("policy_id"), reset=plan["reset"], wait=agent.ACTIVATION_WAIT,
                      password=password)
        done = agent.outcome(_agent_step(client, "agent_activate", params, desired, host,
                                         agent.ACTIVATION_WAIT + 300), "agent_activate", host, ("exit_code", "output"))
        if done["exit_code"] != 0:
            left = agent.agent_summary(_agent_info(client, host))
            if done.get("service_status") != "Running":
                why = ("the ds_agent service was %s after %ss, so dsa_control was not run"
                       % (done.get("service_status") or "missing", agent.ACTIVATION_WAIT))
            else:
                why = "dsa_control -a exit code %s: %s" % (done["exit_code"], agent.scrub(
                    done.get("output"), agent.desired_secrets(desired)))
            raise agent.ActivationError(
                "activation of the agent on %s against %s failed (%s); the agent was left %s%s. Check that the node "
                "reaches the manager on that port and that agent-initiated activation is allowed, then run again"
                % (host, agent.redact_url(desired["activation_url"]), why,
                   "activated to %s" % left["dsm_url"] if left["activated"] else "not activated",
                   " (it was reset from its previous manager)" if done.get("reset") else ""),
                host=host, exit_code=done["exit_code"], agent=left, reset=bool(done.get("reset")),
                actions_done=[action for action in plan["actions"] if action != "activate"])
    final = _agent_info(client, host)
    after = agent.agent_summary(final)
    if installing and versions.same(final["agent"]["version"], desired["version"]) is not True:
        raise ScriptError(
            "the installer given for %s installed agent version %s, not the requested %s; check that "
            "installer_url/installer_path points at build %s" % (
                host, after["version"], desired["version"], desired["version"]),
            host=host, installed_version=after["version"])
    if "activate" in plan["actions"] and not after["activated"]:
        raise agent.ActivationError(
            "dsa_control -a reported success on %s, but dsa_query -c GetAgentStatus still shows the bootstrap "
            "certificate (agentCertHash; or no dsmUrl where the agent prints no hash): the agent is not activated. "
            "Check the manager's Computers page and the agent's connectivity" % host,
            host=host, agent=after)
    reboot = bool(reboot_codes) or final["reboot_pending"]
    if reboot_codes:
        warnings.append(agent.reboot_warning(host, reboot_codes[-1]))
    elif reboot:
        warnings.append("%s has a reboot pending" % host)
    result.update(agent=after, version=after["version"], diff=dict(before=plan["before"], after=after),
                  reboot_required=reboot)
    result["msg"] = "%s: Deep Security Agent %s -> %s%s" % (
        host, plan["before"]["version"] or "none", after["version"] or "none", ", reboot pending" if reboot else "")
    return result
