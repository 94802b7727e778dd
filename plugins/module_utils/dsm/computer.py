# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Computers and policies as pure data: protection module names and states, settings, and the plan
that turns current + desired into the calls to make."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import DsmError

# DSM field -> (name printed to operators, snake_case key in our output, allowed states, input aliases).
# Deep Packet Inspection (DPI) is the pre-9.0 name of Intrusion Prevention (IPS): both are accepted,
# only "Intrusion Prevention" is printed (REFERENCE section 1).
PROTECTION_MODULES = [
    ("antiMalware", "Anti-Malware", "anti_malware", ["inherited", "on", "off"], ["am", "antimalware"]),
    ("webReputation", "Web Reputation", "web_reputation", ["inherited", "on", "off"], ["wr", "wrs"]),
    ("firewall", "Firewall", "firewall", ["inherited", "on", "off"], ["fw"]),
    ("intrusionPrevention", "Intrusion Prevention", "intrusion_prevention",
     ["inherited", "prevent", "detect", "off"],
     ["ips", "dpi", "deep_packet_inspection", "deep packet inspection", "intrusion prevention system"]),
    ("integrityMonitoring", "Integrity Monitoring", "integrity_monitoring",
     ["inherited", "real-time", "on", "off"], ["im"]),
    ("logInspection", "Log Inspection", "log_inspection", ["inherited", "on", "off"], ["li"]),
    ("applicationControl", "Application Control", "application_control", ["inherited", "on", "off"], ["ac"]),
]
# Turning one of these on for the first time installs the agent's network driver: a network blip
# (REFERENCE section 2, KA-0004754).
NETWORK_DRIVER_MODULES = ("firewall", "intrusionPrevention", "webReputation")

ENGINE_MODE_SETTING = "firewallSettingNetworkEngineMode"
# Settings whose values the DSM restricts to a list; anything else is passed through and the DSM
# judges it (its 400 message comes back to the operator).
SETTING_CHOICES = {
    ENGINE_MODE_SETTING: ["Inline", "Tap"],
}


def _key(text):
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


_MODULE_INDEX = {}
for _field, _label, _snake, _states, _aliases in PROTECTION_MODULES:
    for _alias in [_field, _label, _snake] + _aliases:
        _MODULE_INDEX[_key(_alias)] = _field


def module_field(name):
    """Any accepted spelling of a protection module -> the DSM's field (``intrusionPrevention``)."""
    field = _MODULE_INDEX.get(_key(name))
    if field is None:
        raise ParameterError(
            "unknown protection module %r in modules; allowed: %s (Intrusion Prevention is also "
            "accepted as IPS, DPI or Deep Packet Inspection)"
            % (name, ", ".join(label for _f, label, _s, _st, _a in PROTECTION_MODULES)), parameter="modules")
    return field


def module_label(field):
    for candidate, label, _snake, _states, _aliases in PROTECTION_MODULES:
        if candidate == field:
            return label
    return field


def module_states(field):
    for candidate, _label, _snake, states, _aliases in PROTECTION_MODULES:
        if candidate == field:
            return states
    return []


def normalize_modules(modules):
    """``{"IPS": "off", "Firewall": "on"}`` -> ``{"intrusionPrevention": "off", "firewall": "on"}``."""
    out = {}
    for name, state in (modules or {}).items():
        field = module_field(name)
        if isinstance(state, bool):
            state = "on" if state else "off"
        text = str(state).strip().lower()
        allowed = module_states(field)
        if text not in allowed:
            raise ParameterError("invalid state %r for %s in modules; allowed values: %s"
                                 % (state, module_label(field), ", ".join(allowed)),
                                 parameter="modules", allowed=allowed)
        out[field] = text
    return out


def check_setting_name(name, parameter="settings"):
    if not isinstance(name, str) or not re.match(r"[a-z][A-Za-z0-9]*\Z", name):
        raise ParameterError("setting name %r is not a DSM setting name (camelCase, e.g. %s)"
                             % (name, ENGINE_MODE_SETTING), parameter=parameter)
    return name


def normalize_settings(settings, reset=None):
    """Settings name -> value as the DSM stores it (strings; booleans as ``true``/``false``), or None for a
    setting to reset to the value its policy gives (a null value in ``settings``, or a name in ``reset``)."""
    out = {}
    for name in reset or []:
        check_setting_name(name, "reset_settings")
        if (settings or {}).get(name) is not None:
            raise ParameterError("setting %s is both given a value in settings and listed in reset_settings; give "
                                 "one of them" % name, parameter="reset_settings")
        out[name] = None
    for name, value in (settings or {}).items():
        check_setting_name(name)
        if value is None:
            out[name] = None
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        value = str(value)
        choices = SETTING_CHOICES.get(name)
        if choices:
            matched = [choice for choice in choices if choice.lower() == value.lower()]
            if not matched:
                raise ParameterError("invalid value %r for setting %s; allowed values: %s"
                                     % (value, name, ", ".join(choices)), parameter="settings", allowed=choices)
            value = matched[0]
        out[name] = value
    return out


def plan_changes(current_states, current_settings, desired_states, desired_settings, effective_states=None,
                 inherited_states=None):
    """Compare effective states/settings with the desired ones.

    Returns ``(module_changes, setting_changes, driver_modules)``: the module states and settings to
    write, and the protection modules that go from off to on and so may load the network driver.
    ``current_states`` holds effective states, except where ``inherited`` is desired: there the caller
    passes ``inherited`` when the object has no value of its own (the DSM's ``overrides`` view), so
    that a second identical run is no change.

    ``effective_states``: the states in effect now (defaults to ``current_states``);
    ``inherited_states``: the states the object's policy would give it. Going back to ``inherited``
    under a policy that turns a module on loads the driver just as ``on`` does; when the policy's state
    is unknown, the change is counted as one that may (the safe side).
    """
    module_changes = {}
    for field, wanted in desired_states.items():
        have = current_states.get(field)
        if have != wanted:
            module_changes[field] = (have, wanted)
    setting_changes = {}
    for name, wanted in desired_settings.items():
        have = current_settings.get(name)
        if wanted is None:
            # a reset: ``have`` is the object's own value (None when it follows its policy already)
            if have is not None:
                setting_changes[name] = (have, None)
        elif (have or "") != wanted:
            setting_changes[name] = (have, wanted)
    effective_states = current_states if effective_states is None else effective_states
    inherited_states = inherited_states or {}
    driver = []
    for field, (_have, wanted) in module_changes.items():
        if field not in NETWORK_DRIVER_MODULES or effective_states.get(field) != "off":
            continue
        after = inherited_states.get(field) if wanted == "inherited" else wanted
        if after != "off":
            driver.append(field)
    return module_changes, setting_changes, sorted(driver)


NO_AGENT_VERSION = "0.0.0.0"


def agent_version_of(computer):
    """The agent version, or None without an agent: the DSM reports ``0.0.0.0`` for a computer with no
    agent installed or activated (SDK 20.0 ``Computer.agent_version``); older answers leave it empty."""
    version = computer.get("agentVersion") if isinstance(computer, dict) else None
    if not isinstance(version, str):
        return None
    text = str(version).strip()
    if not text or text == NO_AGENT_VERSION:
        return None
    return text


def _obj(value):
    """A nested part of a DSM answer as a dict; anything else (absent, null, a wrong type) as empty."""
    return value if isinstance(value, dict) else {}


def _text(value):
    return value if isinstance(value, str) else None


def _strings(value):
    return [str(item) for item in value] if isinstance(value, list) else []


def _document(computer, what="computer"):
    if not isinstance(computer, dict):
        raise DsmError("the DSM answered a %s that is not a JSON object (%s)" % (what, type(computer).__name__))
    return computer


def _timestamp(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        return None
    return int(value)


# ComputerStatus.agent_status (SDK 20.0): inactive, active, warning, error, not-supported. Only "active" counts:
# neither the SDK (whose description is "Agent status.") nor Trend's help on computer and agent statuses
# says that an agent in "warning" is online and takes its policy, so a wait does not treat it as one.
ACTIVE_STATUS = "active"


def policy_state(computer, after_success=None):
    """Judge one computer (expanded with ``computerStatus`` and ``tasks``) for the bounded waits, on the
    DSM's own timestamps only.

    Returns a dict: ``active`` (an activated agent whose status is active), ``policy_applied`` (active, no
    agent task pending, ``lastSendPolicySuccess`` at or after ``lastSendPolicyRequest`` and, when
    ``after_success`` is given, later than it) and ``reason`` saying what is still missing.
    ``after_success``: the computer's ``lastSendPolicySuccess`` read before the change, so that only a send
    after the change counts. Fields: SDK 20.0 ``Computer.last_send_policy_request`` ("Timestamp of the last
    policy request sent"), ``last_send_policy_success`` ("Timestamp of last successful policy sent"),
    ``ComputerTasks.agent_tasks``, ``ComputerStatus.agent_status``.
    """
    computer = _document(computer)
    status = _obj(computer.get("computerStatus"))
    tasks = _strings(_obj(computer.get("tasks")).get("agentTasks"))
    agent_status = _text(status.get("agentStatus"))
    request = _timestamp(computer.get("lastSendPolicyRequest"))
    success = _timestamp(computer.get("lastSendPolicySuccess"))
    messages = ", ".join(_strings(status.get("agentStatusMessages"))) or "-"
    reasons = []
    if agent_version_of(computer) is None:
        reasons.append("no agent is activated (agentVersion %s)" % (computer.get("agentVersion") or "empty"))
    if agent_status == "warning":
        reasons.append("agent status is warning (%s), which neither the SDK nor Trend's documentation says is an "
                       "agent online with its policy; resolve the warning or check the agent" % messages)
    elif agent_status != ACTIVE_STATUS:
        reasons.append("agent status is %s, not active (%s)" % (agent_status, messages))
    active = not reasons
    if tasks:
        reasons.append("agent tasks pending: %s" % ", ".join(str(task) for task in tasks))
    if success is None:
        reasons.append("no policy has been sent successfully yet")
    else:
        if request is not None and success < request:
            reasons.append("the last policy request (%d) is newer than the last successful send (%d)" % (request, success))
        if after_success is not None and success <= after_success:
            reasons.append("no policy has been sent successfully since the one at %d, read before the change"
                           % after_success)
    return dict(active=active, policy_applied=not reasons, reason="; ".join(reasons) or "policy applied",
                agent_status=agent_status, last_send_policy_request=request, last_send_policy_success=success,
                agent_tasks=list(tasks))


def summarize_computer(computer, assigned_rule_ids=None):
    """A DSM computer (expanded) -> the plain, stable document ``dsm_computer_info`` returns. Parts of the
    wrong type are reported as absent; a computer that is not an object is a DsmError."""
    computer = _document(computer)
    status = _obj(computer.get("computerStatus"))
    settings = _obj(computer.get("computerSettings"))
    engine = settings.get(ENGINE_MODE_SETTING)
    modules = {}
    for field, label, snake, _states, _aliases in PROTECTION_MODULES:
        extension = _obj(computer.get(field))
        module_status = _obj(extension.get("moduleStatus"))
        modules[snake] = dict(
            name=label,
            state=_text(extension.get("state")),
            status=_text(module_status.get("agentStatus")),
            status_message=_text(module_status.get("agentStatusMessage")),
        )
    firewall = _obj(computer.get("firewall"))
    rule_ids = assigned_rule_ids if assigned_rule_ids is not None else firewall.get("ruleIDs")
    return dict(
        id=computer.get("ID") if isinstance(computer.get("ID"), int) else None,
        host_name=_text(computer.get("hostName")),
        display_name=_text(computer.get("displayName")) or "",
        platform=_text(computer.get("platform")),
        agent_version=agent_version_of(computer) or "",
        has_agent=agent_version_of(computer) is not None,
        policy_id=computer.get("policyID") if isinstance(computer.get("policyID"), int) else None,
        last_agent_communication=_timestamp(computer.get("lastAgentCommunication")),
        agent_status=_text(status.get("agentStatus")),
        agent_status_messages=_strings(status.get("agentStatusMessages")),
        modules=modules,
        network_engine_mode=_text(_obj(engine).get("value") if isinstance(engine, dict) else engine),
        firewall_rule_ids=sorted(item for item in (rule_ids if isinstance(rule_ids, list) else [])
                                 if isinstance(item, int) and not isinstance(item, bool)),
        last_send_policy_request=_timestamp(computer.get("lastSendPolicyRequest")),
        last_send_policy_success=_timestamp(computer.get("lastSendPolicySuccess")),
        agent_tasks=_strings(_obj(computer.get("tasks")).get("agentTasks")),
    )


def setting_in_effect(computer, name):
    """The value in effect of setting ``name`` in a computer expanded with ``computerSettings``, or None when
    the answer does not carry it."""
    value = _obj(_obj(_document(computer).get("computerSettings")).get(name)).get("value")
    return value if isinstance(value, str) else None


def states_of(document):
    """Effective protection module states of a computer or policy document."""
    document = _document(document, "computer or policy")
    return dict((field, _text(_obj(document.get(field)).get("state"))) for field, _l, _s, _st, _a in PROTECTION_MODULES)


def labelled(changes):
    """``{"intrusionPrevention": (a, b)}`` -> ``{"Intrusion Prevention": b}`` for messages and diffs."""
    return dict((module_label(field), wanted) for field, (_have, wanted) in changes.items())
