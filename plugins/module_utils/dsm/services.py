# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each DSM module does, given a client: look up, plan with the pure functions, act unless in
check mode, and report before/after. Modules only parse options and turn errors into ``fail_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import InterlockError, ParameterError, not_found
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import (
    DsmError,
    DsmNotFoundError,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import computer as computer_model
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import firewall as firewall_model

INFO_EXPAND = ("computerStatus", "computerSettings", "allSecurityModules")


# -- dsm_computer_info ---------------------------------------------------------------------------

def computer_info(client, host_names=None):
    if host_names:
        computers = client.find_computers(host_names, expand=INFO_EXPAND, parameter="computers")
    else:
        computers = client.list_computers(expand=INFO_EXPAND)
    policies = dict((policy.get("ID"), policy.get("name")) for policy in client.list_policies())
    out = []
    for item in computers:
        summary = computer_model.summarize_computer(item)
        summary["policy_name"] = policies.get(summary["policy_id"])
        out.append(summary)
    return dict(changed=False, computers=out)


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
        current = client.get_firewall_assignments(kind, object_id)
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
                     added=to_add, removed=to_remove, before=sorted(current), after=after)
        report.append(entry)
        before_diff[label] = sorted(current)
        after_diff[label] = after
    return dict(changed=changed, assignments=report,
                rules=[dict(id=rule_id, name=names[rule_id]) for rule_id in wanted_ids],
                diff=dict(before=before_diff, after=after_diff))


# -- dsm_computer --------------------------------------------------------------------------------

def computer_settings(client, computers=None, policy=None, settings=None, modules=None, check_mode=False,
                      allow_network_blip=False):
    desired_states = computer_model.normalize_modules(modules)
    desired_settings = computer_model.normalize_settings(settings)
    if not desired_states and not desired_settings:
        raise ParameterError("nothing to set: give settings and/or modules", parameter="settings")
    targets = resolve_targets(client, computers, policy)
    changed = False
    report = []
    warnings = []
    writes = []
    blips = []
    before_diff, after_diff = {}, {}
    for kind, object_id, label in targets:
        path = "/%s/%d" % (kind, object_id)
        current_states = {}
        if desired_states:
            query = {"expand": ["allSecurityModules"]} if kind == "computers" else None
            document = client.get(path, query=query) or {}
            current_states = computer_model.states_of(document)
            if "inherited" in desired_states.values():
                overrides_query = dict(query or {}, overrides="true")
                own = computer_model.states_of(client.get(path, query=overrides_query) or {})
                for field, wanted in desired_states.items():
                    if wanted == "inherited" and own.get(field) in (None, "inherited"):
                        current_states[field] = "inherited"
        current_settings = dict((name, client.get_setting(kind, object_id, name)) for name in desired_settings)
        module_changes, setting_changes, driver = computer_model.plan_changes(
            current_states, current_settings, desired_states, desired_settings)
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
    if not check_mode:
        for path, kind, object_id, module_changes, setting_changes in writes:
            if module_changes:
                client.post(path, dict((field, {"state": wanted}) for field, (_h, wanted) in module_changes.items()))
            for name, (_have, wanted) in sorted(setting_changes.items()):
                client.set_setting(kind, object_id, name, wanted)
    return dict(changed=changed, targets=report, warnings=warnings,
                diff=dict(before=before_diff, after=after_diff))
