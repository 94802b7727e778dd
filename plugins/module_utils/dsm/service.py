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

INFO_EXPAND = ("computerStatus", "computerSettings", "allSecurityModules", "tasks")
WAIT_EXPAND = ("computerStatus", "tasks")
WAIT_FOR = ("none", "active", "policy_applied")
DEFAULT_WAIT_TIMEOUT = 900
FIRST_POLL = 1.0
MAX_POLL = 15.0


def check_wait_options(wait_for="none", wait_timeout=DEFAULT_WAIT_TIMEOUT, since=None, host_names=None):
    """Validate the wait options before anything is asked; returns ``since`` as milliseconds or None."""
    if wait_for not in WAIT_FOR:
        raise ParameterError("invalid value %r for wait_for; allowed values: %s" % (wait_for, ", ".join(WAIT_FOR)),
                             parameter="wait_for")
    if isinstance(wait_timeout, bool) or not isinstance(wait_timeout, int) or wait_timeout < 1:
        raise ParameterError("wait_timeout must be a whole number of seconds, 1 or more (got %r)" % (wait_timeout,),
                             parameter="wait_timeout")
    if wait_for != "none" and not host_names:
        raise ParameterError("wait_for=%s needs computers (the host names to wait for)" % wait_for,
                             parameter="computers")
    if since is None or since == "":
        return None
    text = str(since).strip()
    if isinstance(since, bool) or not text.isdigit() or int(text) <= 0:
        raise ParameterError("since must be a time in milliseconds since the epoch, as the DSM's timestamps are "
                             "(for example the changed_at of dsm_computer); got %r" % (since,), parameter="since")
    if wait_for != "policy_applied":
        raise ParameterError("since only applies with wait_for=policy_applied", parameter="since")
    return int(text)


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

def computer_info(client, host_names=None, wait_for="none", wait_timeout=DEFAULT_WAIT_TIMEOUT, since=None):
    """Computers by host name (or all). ``wait_for``: ``active`` waits (bounded by ``wait_timeout``
    seconds) until each named computer exists with an activated agent whose status is active;
    ``policy_applied`` also until no agent task is pending and the last successful policy send is at or
    after the last request and, when given, ``since`` (ms since the epoch, the DSM's clock)."""
    since_ms = check_wait_options(wait_for, wait_timeout, since, host_names)
    waited = 0
    if wait_for != "none":
        def look():
            try:
                found = client.find_computers(host_names, expand=WAIT_EXPAND, parameter="computers")
            except NotFoundError as error:
                return False, dict(message=error.message, pending=list(host_names))
            pending = []
            for item in found:
                state = computer_model.policy_state(item, since_ms=since_ms)
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
    for item in computers:
        summary = computer_model.summarize_computer(item)
        summary["policy_name"] = policies.get(summary["policy_id"])
        state = computer_model.policy_state(item, since_ms=since_ms)
        summary["policy_applied"] = state["policy_applied"]
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


def policy_info(client, names=None):
    """Policies by exact name (in the order asked) or every policy. One search per name; an unknown name
    lists the policies once and fails naming the nearest."""
    names = check_policy_names(names)
    if names is None:
        return dict(changed=False, policies=[summarize_policy(item) for item in client.search_policies()])
    out = []
    for name in names:
        matches = client.find_policies_by_name(name)
        if not matches:
            raise not_found("policy", name, [item.get("name") for item in client.list_policies()], "policies")
        if len(matches) > 1:
            # The DSM refuses a second policy of the same name; should it hold two all the same, an ID
            # picked here could activate agents with the wrong one.
            raise DsmError("%d policies are named %r (IDs %s); give the policy ID instead"
                           % (len(matches), name, ", ".join(str(m.get("ID")) for m in matches)),
                           duplicates=[m.get("ID") for m in matches])
        out.append(summarize_policy(matches[0]))
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
                      allow_network_blip=False, wait=True, wait_timeout=DEFAULT_WAIT_TIMEOUT):
    desired_states = computer_model.normalize_modules(modules)
    desired_settings = computer_model.normalize_settings(settings)
    if not desired_states and not desired_settings:
        raise ParameterError("nothing to set: give settings and/or modules", parameter="settings")
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
        if desired_states or (kind == "computers" and wait):
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
        current_settings = dict((name, client.get_setting(kind, object_id, name)) for name in desired_settings)
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
    active, no agent task pending, a successful send at or after the change and later than the last one
    before it (so neither clock alone decides). Computers without an active agent get the policy when
    their agent next connects; they are reported, not waited for."""
    entries = []
    for entry in report:
        if entry["kind"] != "computer" or not entry["changed"]:
            continue
        before = before_send.get(entry["id"]) or {}
        if not before.get("active"):
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
            state = computer_model.policy_state(document, since_ms=changed_at, after_success=previous)
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
        raise WaitTimeoutError(error.message + ". The change is saved in the DSM (changed_at %d) but has not reached "
                               "these agents: do not start the cluster service yet; rerun to wait again, or check "
                               "the agents' communication with the DSM" % changed_at,
                               changed_at=changed_at, targets=report, **error.details)
    return waited
