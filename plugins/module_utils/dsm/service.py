# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each DSM module does, given a client: look up, plan with the pure functions, act unless in
check mode, and report before/after. Modules only parse options and turn errors into ``fail_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    InterlockError,
    NotFoundError,
    ParameterError,
    WaitTimeoutError,
    not_found,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import (
    DsmError,
    DsmNotFoundError,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import computer as computer_model
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import firewall as firewall_model
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import policy as policy_model

INFO_EXPAND = ("computerStatus", "computerSettings", "allSecurityModules", "tasks")
WAIT_EXPAND = ("computerStatus", "tasks")
WAIT_FOR = ("none", "active", "policy_applied")
DEFAULT_WAIT_TIMEOUT = 900
FIRST_POLL = 1.0
MAX_POLL = 15.0


def _baseline(value, where):
    """One ``lastSendPolicySuccess`` read before a change: milliseconds since the epoch on the DSM's clock,
    or None (no send before)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) <= 0:
        raise ParameterError("since_policy_success%s must be the computer's last_send_policy_success read before the "
                             "change (milliseconds since the epoch, as the DSM counts; for example dsm_computer's "
                             "targets[].policy_sent_before), or null when it had none; got %r" % (where, value),
                             parameter="since_policy_success")
    return int(text)


def check_wait_options(wait_for="none", wait_timeout=DEFAULT_WAIT_TIMEOUT, since_policy_success=None,
                       host_names=None):
    """Validate the wait options before anything is asked. Returns the baselines, one per host name (a
    ``lastSendPolicySuccess`` or None), or None when no baseline was given.

    ``since_policy_success``: one value for every computer named, or a dict host name -> value."""
    if wait_for not in WAIT_FOR:
        raise ParameterError("invalid value %r for wait_for; allowed values: %s" % (wait_for, ", ".join(WAIT_FOR)),
                             parameter="wait_for")
    if isinstance(wait_timeout, bool) or not isinstance(wait_timeout, int) or wait_timeout < 1:
        raise ParameterError("wait_timeout must be a whole number of seconds, 1 or more (got %r)" % (wait_timeout,),
                             parameter="wait_timeout")
    if wait_for != "none" and not host_names:
        raise ParameterError("wait_for=%s needs computers (the host names to wait for)" % wait_for,
                             parameter="computers")
    if since_policy_success is None:
        return None
    if wait_for != "policy_applied":
        raise ParameterError("since_policy_success only applies with wait_for=policy_applied",
                             parameter="since_policy_success")
    if not isinstance(since_policy_success, dict):
        value = _baseline(since_policy_success, "")
        return [value for _name in host_names]
    lowered = dict((str(key).lower(), key) for key in since_policy_success)
    unknown = sorted(str(key) for key in since_policy_success
                     if str(key).lower() not in [str(name).lower() for name in host_names])
    if unknown:
        raise ParameterError("since_policy_success names %s, which are not in computers (%s); give one value per "
                             "computer waited for" % (", ".join(unknown), ", ".join(host_names)),
                             parameter="since_policy_success")
    out = []
    for name in host_names:
        key = name if name in since_policy_success else lowered.get(str(name).lower())
        if key is None:
            raise ParameterError("since_policy_success has no value for %s; give one per computer (null for a computer "
                                 "that had no policy sent before the change)" % name, parameter="since_policy_success")
        out.append(_baseline(since_policy_success[key], " for %s" % name))
    return out


def _poll_until(client, timeout, look, what):
    """Call ``look()`` -> (done, detail) until done or ``timeout`` seconds pass; waits grow from 1 s to
    15 s. Returns (detail, seconds waited); raises WaitTimeoutError with the last detail."""
    start = client.clock()
    delay = FIRST_POLL
    while True:
        done, detail = look()
        waited = client.clock() - start
        if done:
            return detail, waited
        remaining = timeout - waited
        if remaining <= 0:
            raise WaitTimeoutError("timed out after %d s waiting for %s: %s" % (timeout, what, detail["message"]),
                                   waited_seconds=int(waited), pending=detail.get("pending", []))
        client.sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_POLL)


# -- dsm_computer_info ---------------------------------------------------------------------------

def check_setting_names(names):
    out = []
    for name in names or []:
        computer_model.check_setting_name(name)
        if name not in out:
            out.append(name)
    return out


def _settings_of(client, item, names):
    """Each setting named: the value in effect (from the computer's ``computerSettings``) and whether the
    computer sets it itself (``GET .../settings/{name}?overrides=true``, SDK 20.0 ``describe_computer_setting``:
    "Show the value only if defined for the current computer")."""
    out = {}
    for name in names:
        value = computer_model.setting_in_effect(item, name)
        if value is None:
            value = client.get_setting("computers", item["ID"], name)
        own_value = client.get_setting("computers", item["ID"], name, overrides=True)
        out[name] = dict(value=value, own=own_value is not None, own_value=own_value)
    return out


def computer_info(client, host_names=None, wait_for="none", wait_timeout=DEFAULT_WAIT_TIMEOUT,
                  since_policy_success=None, settings=None):
    """Computers by host name (or all). ``wait_for``: ``active`` waits (bounded by ``wait_timeout``
    seconds) until each named computer exists with an activated agent whose status is active;
    ``policy_applied`` also until no agent task is pending and the last successful policy send is at or
    after the last request and, when ``since_policy_success`` gives the send read before the change, later
    than it (the DSM's timestamps only, ``computer.policy_state``).

    ``settings``: setting names; each computer gets ``settings`` with the value in effect and whether it is
    the computer's own (``_settings_of``)."""
    baselines = check_wait_options(wait_for, wait_timeout, since_policy_success, host_names)
    names = check_setting_names(settings)
    waited = 0

    def baseline(index):
        return baselines[index] if baselines is not None else None
    if wait_for != "none":
        def look():
            try:
                found = client.find_computers(host_names, expand=WAIT_EXPAND, parameter="computers")
            except NotFoundError as error:
                return False, dict(message=error.message, pending=list(host_names))
            pending = []
            for index, item in enumerate(found):
                state = computer_model.policy_state(item, after_success=baseline(index))
                if not (state["active"] if wait_for == "active" else state["policy_applied"]):
                    pending.append("%s: %s" % (item.get("hostName"), state["reason"]))
            return not pending, dict(message="; ".join(pending), pending=pending)
        _detail, waited = _poll_until(client, wait_timeout, look, "%s on %s" % (wait_for, ", ".join(host_names)))
    if host_names:
        computers = client.find_computers(host_names, expand=INFO_EXPAND, parameter="computers")
    else:
        computers = client.list_computers(expand=INFO_EXPAND)
    policies = dict((policy.get("ID"), policy.get("name")) for policy in client.list_policies())
    out = []
    for index, item in enumerate(computers):
        summary = computer_model.summarize_computer(item)
        summary["policy_name"] = policies.get(summary["policy_id"])
        state = computer_model.policy_state(item, after_success=baseline(index) if host_names else None)
        summary["policy_applied"] = state["policy_applied"]
        if names:
            summary["settings"] = _settings_of(client, item, names)
        out.append(summary)
    return dict(changed=False, computers=out, waited_seconds=int(waited))


# -- dsm_policy_info -----------------------------------------------------------------------------

def check_policy_names(names):
    """The names asked, each once, in the order given; None (or an empty list) means every policy."""
    if not names:
        return None
    out = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ParameterError("policies must list policy names as the DSM shows them (got %r); omit policies "
                                 "to read every policy" % (name,), parameter="policies")
        if name not in out:
            out.append(name)
    return out


def summarize_policy(item):
    """A DSM policy (SDK 20.0 ``Policy``: ``ID``, ``name``, ``parentID``, ``description``) as the module
    returns it; a policy without a parent (no ``parentID``, or 0) has ``parent_id`` None."""
    parent = item.get("parentID")
    return dict(id=item.get("ID"), name=item.get("name"),
                parent_id=parent if isinstance(parent, int) and not isinstance(parent, bool) and parent > 0 else None,
                description=item.get("description") or "")


def check_policy_ids(ids):
    """The IDs asked, each once, in the order given; None (or an empty list) means none asked by ID."""
    if not ids:
        return None
    out = []
    for item in ids:
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            raise ParameterError("ids must list policy IDs, positive integers (got %r)" % (item,), parameter="ids")
        if item not in out:
            out.append(item)
    return out


def _policy_document(document, source):
    if not isinstance(document, dict) or not policy_model.positive_id(document.get("ID")):
        raise DsmError("the DSM answered %s with %s where a policy object with an integer ID was expected"
                       % (source, type(document).__name__ if not isinstance(document, dict) else "an object without ID"))
    return document


def policy_details(client, policy, known=None):
    """What a window must know of ``policy`` (a policy document as the DSM answers it): the module states in
    effect and which policy of its chain sets each, the firewall rules in effect with the policy that
    assigns each, and whether the failover-cluster heartbeat gets through (``policy.policy_facts``).

    Requests: one read of each parent not in ``known`` (ID -> document), then for the policy and each parent
    its own values (``overrides=true``) and its own rule assignments, and one list of the rules in effect."""
    known = dict(known or {})
    chain = [policy]
    seen = set([policy.get("ID")])
    parent = policy_model.positive_id(policy.get("parentID"))
    while parent is not None:
        if parent in seen or len(chain) >= policy_model.MAX_CHAIN:
            raise DsmError("the parent policies of policy %r (ID %s) loop or nest deeper than %d: %s"
                           % (policy.get("name"), policy.get("ID"), policy_model.MAX_CHAIN,
                              " -> ".join(str(item.get("ID")) for item in chain + [{"ID": parent}])))
        seen.add(parent)
        document = known.get(parent)
        if document is None:
            document = _policy_document(client.get_policy(parent), "GET /policies/%d" % parent)
        chain.append(document)
        parent = policy_model.positive_id(document.get("parentID"))
    own = dict((item.get("ID"), client.get_policy(item.get("ID"), overrides=True) or {}) for item in chain)
    assigned = dict((item.get("ID"), client.get_firewall_assignments("policies", item.get("ID"), overrides=True))
                    for item in chain)
    rules = client.firewall_rules_on("policies", policy.get("ID"))
    return policy_model.policy_facts(policy, chain, own, rules, assigned)


def policy_info(client, names=None, ids=None, details=False, cluster_kind=None):
    """Policies by exact name (in the order asked), by ID, or every policy. One search per name; an unknown
    name lists the policies once and fails naming the nearest.

    ``details``: each policy also gets ``policy_details``; ``cluster_kind`` (implies ``details``): each
    also gets ``window_blockers`` (``policy.policy_window_blockers``)."""
    names = check_policy_names(names)
    ids = check_policy_ids(ids)
    if cluster_kind is not None:
        policy_model.check_cluster_kind(cluster_kind)
        details = True
    everything = None
    if names is None and ids is None:
        everything = client.search_policies()
        found = list(everything)
    else:
        found = []
        for name in names or []:
            matches = client.find_policies_by_name(name)
            if not matches:
                raise not_found("policy", name, [item.get("name") for item in client.list_policies()], "policies")
            if len(matches) > 1:
                # The DSM refuses a second policy of the same name; should it hold two all the same, an ID
                # picked here could activate agents with the wrong one.
                raise DsmError("%d policies are named %r (IDs %s); give the policy ID instead"
                               % (len(matches), name, ", ".join(str(m.get("ID")) for m in matches)),
                               duplicates=[m.get("ID") for m in matches])
            found.append(matches[0])
        for policy_id in ids or []:
            try:
                document = _policy_document(client.get_policy(policy_id), "GET /policies/%d" % policy_id)
            except DsmNotFoundError:
                raise not_found("policy ID", policy_id, [item.get("ID") for item in client.list_policies()], "ids")
            if document.get("ID") not in [item.get("ID") for item in found]:
                found.append(document)
    known = dict((item.get("ID"), item) for item in everything or found)
    out = []
    for item in found:
        summary = summarize_policy(item)
        if details:
            summary.update(policy_details(client, item, known))
            if cluster_kind is not None:
                summary["window_blockers"] = policy_model.policy_window_blockers(summary, cluster_kind)
        out.append(summary)
    return dict(changed=False, policies=out)


# -- dsm_firewall_rule ---------------------------------------------------------------------------

def _rule_by_name(client, name):
    matches = client.find_firewall_rules_by_name(name)
    if len(matches) > 1:
        raise DsmError("%d firewall rules are named %r (IDs %s); rules are keyed by name, so rename or delete "
                       "the duplicates first" % (len(matches), name, ", ".join(str(m.get("ID")) for m in matches)),
                       duplicates=[m.get("ID") for m in matches])
    return matches[0] if matches else None


def firewall_rule(client, options, state="present", check_mode=False):
    """``options``: snake_case rule fields (unset ones None), ``name`` required."""
    name = options.get("name")
    if not name or not str(name).strip():
        raise ParameterError("name is required and must not be empty", parameter="name")
    desired = firewall_model.normalize_rule(options) if state == "present" else {"name": name}
    current = _rule_by_name(client, name)
    plan = firewall_model.plan_rule(current, desired, state)
    rule = current
    if plan["action"] == "create":
        rule = dict(plan["changes"]) if check_mode else client.create_firewall_rule(plan["changes"])
    elif plan["action"] == "update":
        if check_mode:
            rule = dict(current)
            rule.update(plan["changes"])
        else:
            rule = client.modify_firewall_rule(current["ID"], plan["changes"])
    elif plan["action"] == "delete":
        if not check_mode:
            client.delete_firewall_rule(current["ID"])
        rule = None
    result = dict(
        changed=plan["action"] != "none",
        action=plan["action"],
        id=(rule or current or {}).get("ID"),
        firewall_rule=firewall_model.to_snake(rule) if rule else {},
        changed_fields=sorted(firewall_model.CAMEL_TO_SNAKE.get(f, f) for f in plan["changes"])
        if plan["action"] == "update" else [],
        diff=dict(before=plan["before"], after=plan["after"]),
    )
    return result


# -- targets: computers by host name, or one policy -----------------------------------------------

def resolve_targets(client, computers=None, policy=None):
    """[(kind, id, label)] where kind is ``computers`` or ``policies``."""
    if policy is not None and computers:
        raise ParameterError("computers and policy are mutually exclusive", parameter="policy")
    if policy is not None:
        found = client.find_policy(policy, parameter="policy")
        return [("policies", found["ID"], found.get("name"))]
    if not computers:
        raise ParameterError("one of computers or policy is required", parameter="computers")
    found = client.find_computers(computers, parameter="computers")
    return [("computers", item["ID"], item.get("hostName")) for item in found]


# -- dsm_firewall_assignment ---------------------------------------------------------------------

def resolve_rules(client, rules):
    """Rule names or IDs -> [(id, name)]; unknown ones -> NotFoundError with the nearest names."""
    everything = None
    out = []
    for item in rules:
        text = str(item).strip()
        if text.isdigit():
            try:
                rule = client.get("/firewallrules/%d" % int(text))
            except DsmNotFoundError:
                everything = everything if everything is not None else client.list_firewall_rules()
                raise not_found("firewall rule ID", int(text), [r.get("ID") for r in everything], "rules")
            out.append((rule["ID"], rule.get("name")))
            continue
        matches = client.find_firewall_rules_by_name(text)
        if not matches:
            everything = everything if everything is not None else client.list_firewall_rules()
            raise not_found("firewall rule", text, [r.get("name") for r in everything], "rules")
        if len(matches) > 1:
            raise DsmError("%d firewall rules are named %r (IDs %s); give the ID instead"
                           % (len(matches), text, ", ".join(str(m.get("ID")) for m in matches)))
        out.append((matches[0]["ID"], matches[0].get("name")))
    return out


def firewall_assignment(client, rules, computers=None, policy=None, state="present", check_mode=False):
    if not rules:
        raise ParameterError("rules must name at least one firewall rule (name or ID)", parameter="rules")
    targets = resolve_targets(client, computers, policy)
    wanted = resolve_rules(client, rules)
    wanted_ids = [rule_id for rule_id, _name in wanted]
    names = dict(wanted)
    changed = False
    report = []
    before_diff, after_diff = {}, {}
    for kind, object_id, label in targets:
        # Compare with the object's own assignments only: a plain GET also lists the rules its policy
        # assigns, which this module neither adds nor may remove (SDK 20.0 ``overrides``).
        current = client.get_firewall_assignments(kind, object_id, overrides=True)
        in_effect = client.get_firewall_assignments(kind, object_id)
        inherited = sorted(set(in_effect) - set(current))
        if state == "present":
            to_add = [rule_id for rule_id in wanted_ids if rule_id not in current]
            to_remove = []
        else:
            to_add = []
            to_remove = [rule_id for rule_id in wanted_ids if rule_id in current]
        after = sorted((set(current) | set(to_add)) - set(to_remove))
        if not check_mode:
            if to_add:
                after = sorted(client.add_firewall_assignments(kind, object_id, to_add))
            for rule_id in to_remove:
                after = sorted(client.remove_firewall_assignment(kind, object_id, rule_id))
        if to_add or to_remove:
            changed = True
        entry = dict(kind="computer" if kind == "computers" else "policy", id=object_id, name=label,
                     added=to_add, removed=to_remove, before=sorted(current), after=after, inherited=inherited)
        report.append(entry)
        before_diff[label] = sorted(current)
        after_diff[label] = after
    return dict(changed=changed, assignments=report,
                rules=[dict(id=rule_id, name=names[rule_id]) for rule_id in wanted_ids],
                diff=dict(before=before_diff, after=after_diff))


# -- dsm_computer --------------------------------------------------------------------------------

def _inherited_states(client, kind, document, cache):
    """The module states the object would get from its policy (its parent, for a policy)."""
    parent = document.get("policyID") if kind == "computers" else document.get("parentID")
    if isinstance(parent, bool) or not isinstance(parent, int) or parent <= 0:
        # No policy (or the base policy has no parent): "inherited" leaves the module off.
        return dict((field, "off") for field in computer_model.NETWORK_DRIVER_MODULES)
    if parent not in cache:
        cache[parent] = computer_model.states_of(client.get_policy(parent) or {})
    return cache[parent]


def computer_settings(client, computers=None, policy=None, settings=None, modules=None, check_mode=False,
                      allow_network_blip=False, wait=True, wait_timeout=DEFAULT_WAIT_TIMEOUT, reset_settings=None):
    """Module states and settings on computers or a policy, written only where they differ. A setting
    whose desired value is None (``reset_settings``, or null in ``settings``) is reset: the object's own
    value is removed so it follows its policy again (``DsmClient.reset_setting``); it is compared with the
    object's own value (``overrides=true``), so a second run changes nothing."""
    desired_states = computer_model.normalize_modules(modules)
    desired_settings = computer_model.normalize_settings(settings, reset_settings)
    if not desired_states and not desired_settings:
        raise ParameterError("nothing to set: give settings, reset_settings and/or modules", parameter="settings")
    check_wait_options("policy_applied" if wait else "none", wait_timeout, None, computers or [policy])
    targets = resolve_targets(client, computers, policy)
    policy_cache = {}
    before_send = {}
    changed = False
    report = []
    warnings = []
    writes = []
    blips = []
    before_diff, after_diff = {}, {}
    for kind, object_id, label in targets:
        path = "/%s/%d" % (kind, object_id)
        current_states = {}
        effective_states = {}
        inherited_states = {}
        if desired_states or kind == "computers":
            query = {"expand": ["allSecurityModules"] + list(WAIT_EXPAND)} if kind == "computers" else None
            document = client.get(path, query=query) or {}
            current_states = computer_model.states_of(document)
            effective_states = dict(current_states)
            if kind == "computers":
                before_send[object_id] = computer_model.policy_state(document)
            if "inherited" in desired_states.values():
                inherited_states = _inherited_states(client, kind, document, policy_cache)
                overrides_query = dict(query or {}, overrides="true")
                own = computer_model.states_of(client.get(path, query=overrides_query) or {})
                for field, wanted in desired_states.items():
                    if wanted == "inherited" and own.get(field) in (None, "inherited"):
                        current_states[field] = "inherited"
        current_settings = dict((name, client.get_setting(kind, object_id, name, overrides=wanted is None))
                                for name, wanted in desired_settings.items())
        module_changes, setting_changes, driver = computer_model.plan_changes(
            current_states, current_settings, desired_states, desired_settings, effective_states=effective_states,
            inherited_states=inherited_states)
        if driver and kind == "computers":
            blips.append("%s (%s)" % (label, ", ".join(computer_model.module_label(field) for field in driver)))
        writes.append((path, kind, object_id, module_changes, setting_changes))
        if module_changes or setting_changes:
            changed = True
        labels = dict((field, computer_model.module_label(field)) for field in desired_states)
        entry = dict(
            kind="computer" if kind == "computers" else "policy", id=object_id, name=label,
            changed=bool(module_changes or setting_changes),
            modules=dict((labels[field], dict(before=current_states.get(field), after=wanted))
                         for field, wanted in desired_states.items()),
            settings=dict((name, dict(before=current_settings.get(name), after=wanted))
                          for name, wanted in desired_settings.items()),
            network_driver_modules=[computer_model.module_label(field) for field in driver],
        )
        if kind == "computers":
            entry["policy_sent_before"] = before_send[object_id]["last_send_policy_success"]
        report.append(entry)
        before_diff[label] = dict(modules=dict((labels[f], current_states.get(f)) for f in desired_states),
                                  settings=dict(current_settings))
        after_diff[label] = dict(modules=dict((labels[f], w) for f, w in desired_states.items()),
                                 settings=dict(desired_settings))
    if blips:
        message = ("turning on these modules loads the agent's network driver the first time and blips the network "
                   "(Trend Micro KA-0004754): %s" % "; ".join(blips))
        if not allow_network_blip:
            # Invariant 2: on a failover-cluster node a blip with the cluster service running fails the
            # roles over (rule MS-02). This module cannot see the cluster service, so it refuses until
            # the caller says the blip is safe; nothing has been written yet.
            raise InterlockError(
                message + ". On a failover-cluster node stop the cluster service first (mscs_node state=stopped), "
                "then set allow_network_blip=true; set it too for computers that are not cluster nodes",
                parameter="allow_network_blip", computers=blips)
        warnings.append(message)
    changed_at = None
    if not check_mode:
        for path, kind, object_id, module_changes, setting_changes in writes:
            if (module_changes or setting_changes) and changed_at is None:
                changed_at = int(client.clock() * 1000)
            if module_changes:
                client.modify_object(kind, object_id,
                                     dict((field, {"state": wanted}) for field, (_h, wanted) in module_changes.items()))
            for name, (_have, wanted) in sorted(setting_changes.items()):
                if wanted is None:
                    client.reset_setting(kind, object_id, name)
                else:
                    client.set_setting(kind, object_id, name, wanted)
    waited = 0
    for entry in report:
        entry["policy_applied"] = None
    if wait and not check_mode and changed_at is not None:
        waited = _wait_policy_applied(client, report, before_send, changed_at, wait_timeout, warnings)
    return dict(changed=changed, targets=report, warnings=warnings, changed_at=changed_at, waited_seconds=int(waited),
                diff=dict(before=before_diff, after=after_diff))


def _wait_policy_applied(client, report, before_send, changed_at, wait_timeout, warnings):
    """After its own change, wait (bounded) until each changed computer's agent has the policy: agent
    active, no agent task pending, and a successful send later than the one read before the change, all on
    the DSM's clock (``computer.policy_state``). Computers without an active agent get the policy when their
    agent next connects; they are reported, not waited for. An agent in status ``warning`` may be online and
    get the policy (and the driver's blip) at any moment, so it is waited for, and the wait ends only once it
    is active with the policy, or at the timeout (the safe side: no caller goes on as if nothing could come)."""
    entries = []
    for entry in report:
        if entry["kind"] != "computer" or not entry["changed"]:
            continue
        before = before_send.get(entry["id"]) or {}
        if not before.get("active") and before.get("agent_status") != "warning":
            warnings.append("%s has no active agent (%s): the change reaches it when its agent next connects; "
                            "not waited for" % (entry["name"], before.get("reason", "unknown")))
            continue
        entries.append((entry, before.get("last_send_policy_success")))
    if not entries:
        return 0

    def look():
        pending = []
        for entry, previous in entries:
            document = client.get_computer(entry["id"], expand=WAIT_EXPAND) or {}
            state = computer_model.policy_state(document, after_success=previous)
            entry["policy_applied"] = state["policy_applied"]
            entry["policy_sent_at"] = state["last_send_policy_success"]
            if not state["policy_applied"]:
                pending.append("%s: %s" % (entry["name"], state["reason"]))
        return not pending, dict(message="; ".join(pending), pending=pending)
    try:
        _detail, waited = _poll_until(client, wait_timeout, look,
                                      "the policy to reach %s" % ", ".join(entry["name"] for entry, _p in entries))
    except WaitTimeoutError as error:
        # The writes are done; say so, so the caller neither repeats them blindly nor starts the cluster
        # service as if the policy had arrived.
        raise WaitTimeoutError(error.message + ". The change is saved in the DSM but has not reached these agents: do "
                               "not start the cluster service yet; wait again with dsm_computer_info wait_for="
                               "policy_applied and since_policy_success set to each computer's policy_sent_before, "
                               "or check the agents' communication with the DSM",
                               changed_at=changed_at, targets=report, **error.details)
    return waited
