# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The options of a window, one spec per kind, and the checks that run before anything is read.

A role's variables are ``<role>_<option>`` (``wsfc_agent_rollout_version``); the action plugins read them
from the role (its defaults included) and check them here. The roles' ``meta/argument_specs.yml`` document
the same options; a unit test keeps the two the same. An unknown variable with the role's or the
playbook's prefix (a misspelling) is an error naming the nearest known name: a misspelled variable never
silently becomes a default.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.clustersafe.deep_security.plugins.module_utils import _agent_version as versions
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError, nearest_names
from ansible_collections.clustersafe.deep_security.plugins.module_utils.window_id import validate_window_id
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.kinds import KINDS

SHA256 = re.compile(r"\A[0-9A-Fa-f]{64}\Z")
# A lease shorter than this cannot be renewed in time between two reads of a slow node.
MIN_LEASE_SECONDS = 30

_AGENT = dict(
    version=dict(type="str", default=""),
    installer_url=dict(type="str", default=""),
    installer_path=dict(type="str", default=""),
    installer_sha256=dict(type="str", default=""),
    activation_url=dict(type="str", default=""),
    policy_id=dict(type="int", default=0),
    tenant_id=dict(type="str", default=""),
    token=dict(type="str", default="", no_log=True),
    install_retries=dict(type="int", default=0),
    install_timeout=dict(type="int", default=1800),
)

_COMMON = dict(
    nodes=dict(type="list", elements="str", default=[]),
    window=dict(type="str", default=""),
    order=dict(type="list", elements="str", default=[]),
    node_timeout=dict(type="int", default=300),
    dsm_timeout=dict(type="int", default=600),
    winrm_options=dict(type="dict", default={}),
    report_dir=dict(type="str", default=""),
    max_nodes_out=dict(type="int", default=0),
    fail_when_incomplete=dict(type="bool", default=True),
    lease_seconds=dict(type="int", default=300),
    take_over=dict(type="str", default=""),
)

SPECS = {
    "wsfc": dict(
        _COMMON, **dict(
            _AGENT,
            state=dict(type="str", default="present", choices=["present", "absent"]),
            policy=dict(type="str", default=""),
            failback=dict(type="str", default="none", choices=["none", "immediate", "policy"]),
            max_failed_nodes=dict(type="int", default=0),
            require_all_nodes_online=dict(type="bool", default=True),
            stop_after=dict(type="int", default=0),
            vsphere=dict(type="bool", default=True),
            vsphere_facts=dict(type="dict", default={}),
            dsm_check=dict(type="bool", default=True),
            dsm_poll_interval=dict(type="int", default=5),
            on_cluster_failure=dict(type="str", default="stop_cluster", choices=["stop_cluster", "stop_all"]),
        )),
    "nlb": dict(
        _COMMON, **dict(
            _AGENT,
            min_converged=dict(type="int", default=0),
            turn_off_intrusion_prevention=dict(type="bool", default=False),
            exclusions=dict(type="bool", default=True),
            virtual_ip=dict(type="bool", default=True),
            protocols=dict(type="list", elements="raw", default=[]),
            heartbeat_action=dict(type="str", default="bypass", choices=["bypass", "force-allow", "none"]),
            rule_prefix=dict(type="str", default="clustersafe"),
            drain_timeout=dict(type="int", default=10),
            farm_key=dict(type="str", default=""),
            on_farm_failure=dict(type="str", default="stop_farm", choices=["stop_farm", "stop_all"]),
            phase=dict(type="str", default="rollout", choices=["rollout", "inline"]),
            observation_seconds=dict(type="int", default=3600),
            event_source=dict(type="str", default="operator", choices=["operator", "lab"]),
            events_reviewed=dict(type="bool", default=False),
            lab_status_url=dict(type="str", default=""),
        )),
}

# Options kept for inventories and playbooks written for earlier releases: accepted with a warning.
DEPRECATED = {
    "wsfc": {"dsm_poll_interval": "the manager is polled as the dsm modules poll it (1 s growing to 15 s); "
                                  "remove the variable",
             "vsphere_facts": "the window reads vCenter once itself; remove the variable"},
    "nlb": {"farm_key": "NLB farms are grouped by the NLB cluster their hosts read; nlb_agent_rollout_farm still "
                        "labels them in reports; remove the variable"},
}

# Host variables that share a role's prefix but are not options: the one naming a member's unit, the VM
# name of a node, and the key the playbooks of earlier releases set on their play hosts.
NOT_OPTIONS = {"wsfc": ("cluster", "cluster_key", "vm_name"), "nlb": ("farm",)}

# The playbooks' own variables (<playbook>_<name>), which they map onto the role's options: a misspelled one
# is an error too. A unit test keeps these lists and the playbooks the same.
PLAYBOOK_NAMES = {
    "wsfc": ("hosts", "window", "version", "installer_url", "installer_sha256", "dsm_url", "policy_id", "policy",
             "token", "failback", "ca_path", "max_nodes_out", "on_cluster_failure", "take_over"),
    "nlb": ("hosts", "window", "version", "installer_url", "installer_sha256", "dsm_url", "policy_id", "token",
            "min_converged", "exclusions", "turn_off_intrusion_prevention", "ca_path", "max_nodes_out",
            "on_farm_failure", "take_over"),
    "nlb_inline": ("hosts", "window", "observation_seconds", "event_source", "events_reviewed", "lab_status_url",
                   "ca_path", "take_over"),
}

RECOVER_SPEC = dict(
    windows_hosts=dict(type="list", elements="str", default=[]),
    window=dict(type="str", default=""),
    vsphere=dict(type="bool", default=True),
    vsphere_clusters=dict(type="list", elements="str", default=[]),
    timeout=dict(type="int", default=300),
    winrm_options=dict(type="dict", default={}),
    dsm=dict(type="bool", default=True),
    dsm_timeout=dict(type="int", default=600),
    agent_confirmed=dict(type="bool", default=False),
    lease_seconds=dict(type="int", default=300),
    take_over=dict(type="str", default=""),
    discard_hosts=dict(type="list", elements="str", default=[]),
)


def spec(kind):
    return copy.deepcopy(SPECS[kind])


def unknown_variables(names, prefix, known, extra=()):
    """Names starting with ``prefix`` that are not ``prefix + known``: ``[(name, nearest known names)]``."""
    allowed = set(prefix + name for name in known) | set(prefix + name for name in extra)
    found = []
    for name in sorted(names):
        if name.startswith(prefix) and name not in allowed:
            found.append((name, [prefix + item for item in _closest(name[len(prefix):], known)]))
    return found


def _closest(suffix, known):
    """The known option names most like ``suffix``, compared without the prefix they share (which would make every
    name look alike): the closest, and any as close; else what nearest_names finds."""
    scored = sorted(((difflib.SequenceMatcher(None, suffix, item).ratio(), item) for item in known), reverse=True)
    if scored and scored[0][0] >= 0.6:
        return sorted(item for score, item in scored if score >= scored[0][0] - 0.05)
    return nearest_names(suffix, sorted(known))


def check_no_unknown(names, kind):
    """Refuse a variable with the role's or the playbook's prefix that the window does not know."""
    words = KINDS[kind]
    problems = unknown_variables(names, words.role + "_", SPECS[kind], NOT_OPTIONS.get(kind, ()))
    problems += unknown_variables(names, words.playbook + "_", PLAYBOOK_NAMES[kind])
    if kind == "nlb":
        problems += unknown_variables(names, "nlb_inline_", PLAYBOOK_NAMES["nlb_inline"])
    if problems:
        raise ParameterError("unknown variable%s: %s; nothing was read or changed" % (
            "s" if len(problems) > 1 else "", "; ".join(
                "%s (did you mean %s?)" % (name, " or ".join(close)) if close else "%s (not a variable of this window)" % name
                for name, close in problems)))


def validate_types(kind_spec, values, prefix):
    """Types, choices and defaults with Ansible's own argument-spec validator; messages name the variable."""
    result = ArgumentSpecValidator(kind_spec).validate(dict((key, value) for key, value in values.items()
                                                            if key in kind_spec))
    if result.error_messages:
        raise ParameterError("check the variables: %s" % "; ".join(
            _prefixed(message, kind_spec, prefix) for message in result.error_messages))
    return result.validated_parameters


def _prefixed(message, kind_spec, prefix):
    """Ansible's message with the option it is about named as the user set it (the role variable).

    Each of Ansible's messages is about one option and names it first ("value of failback must be one of: none,
    immediate, policy, got: ...", "argument 'node_timeout' is of type ..."); only that first name is the option's:
    a later word that happens to be an option's name too (the choice ``policy``, the value given) stays as it is."""
    names = sorted(kind_spec, key=len, reverse=True)
    match = re.search(r"(?<![A-Za-z0-9_])(?:%s)(?![A-Za-z0-9_])" % "|".join(re.escape(name) for name in names), message)
    if not match:
        return message
    return message[:match.start()] + prefix + message[match.start():]


def _variable(kind, name, inline=False):
    """The role variable of option ``name``, and the playbook's own where a playbook sets it from one of its
    variables: "nlb_agent_rollout_max_nodes_out (playbook: nlb_rollout_max_nodes_out)"."""
    words = KINDS[kind]
    playbook, prefix = ("nlb_inline", "nlb_inline_") if inline else (kind, words.playbook + "_")
    if name in PLAYBOOK_NAMES[playbook]:
        return "%s_%s (playbook: %s%s)" % (words.role, name, prefix, name)
    return "%s_%s" % (words.role, name)


def check(kind, values):
    """The settings of a window of ``kind`` from ``values`` (option -> value, role prefix stripped), checked;
    every message names the role variable and the fix. Returns (settings, warnings)."""
    words = KINDS[kind]
    prefix = words.role + "_"
    settings = validate_types(SPECS[kind], values, prefix)
    warnings = []
    for name, why in sorted(DEPRECATED.get(kind, {}).items()):
        if name in values and values[name] not in (None, "", {}, [], SPECS[kind][name].get("default")):
            warnings.append("%s%s is deprecated and has no effect: %s" % (prefix, name, why))
    problems = []
    try:
        validate_window_id(settings["window"], parameter=prefix + "window")
    except ParameterError as error:
        problems.append(error.message + " (the playbook: %s_window); a window id is required" % words.playbook)
    inline = settings.get("phase") == "inline"
    present = settings.get("state", "present") == "present" and not inline
    if present:
        if not settings["version"]:
            problems.append("%sversion is required: the agent build to install, such as 20.0.1-690" % prefix)
        else:
            try:
                versions.parse(settings["version"], prefix + "version")
            except ParameterError as error:
                problems.append(error.message)
        if not (settings["installer_url"] or settings["installer_path"] or settings["activation_url"]):
            problems.append("%sinstaller_url (or %sinstaller_path, or %sactivation_url to take the manager's "
                            "installer) is required" % (prefix, prefix, prefix))
    if settings.get("installer_sha256") and not SHA256.match(settings["installer_sha256"]):
        problems.append("%sinstaller_sha256 must be 64 hexadecimal digits" % prefix)
    if settings.get("policy") and settings.get("policy_id"):
        problems.append("give the policy either by id (%spolicy_id=%s) or by name (%spolicy=%r), not both"
                        % (prefix, settings["policy_id"], prefix, settings["policy"]))
    for name in ("node_timeout", "dsm_timeout", "install_timeout", "drain_timeout"):
        if name in settings and settings[name] < 1:
            # NLB's drain-stop takes its timeout in minutes (Stop-NlbClusterNode -Timeout)
            problems.append("%s must be a positive number of %s (got %s)"
                            % (_variable(kind, name, inline), "minutes" if name == "drain_timeout" else "seconds",
                               settings[name]))
    for name in ("max_nodes_out", "max_failed_nodes", "stop_after", "install_retries", "min_converged",
                 "observation_seconds"):
        if name in settings and settings[name] < 0:
            problems.append("%s must be 0 or more (got %s)%s" % (
                _variable(kind, name, inline), settings[name],
                ": 0 is one member per unit and no other cap" if name == "max_nodes_out" else ""))
    if settings["lease_seconds"] < MIN_LEASE_SECONDS:
        problems.append("%slease_seconds must be at least %d (got %s): the lease is renewed at a third of it"
                        % (prefix, MIN_LEASE_SECONDS, settings["lease_seconds"]))
    if settings.get("event_source") == "lab" and not settings.get("lab_status_url"):
        problems.append("%sevent_source=lab needs %slab_status_url" % (prefix, prefix))
    if problems:
        raise ParameterError("check the variables: %s; nothing was read or changed" % "; ".join(problems))
    return settings, warnings


RECOVER_NOT_OPTIONS = ()


def check_no_unknown_recover(names):
    """Refuse a recover_* variable the role does not know (a misspelling never silently becomes a default)."""
    problems = unknown_variables(names, "recover_", RECOVER_SPEC, RECOVER_NOT_OPTIONS)
    if problems:
        raise ParameterError("unknown variable%s: %s; nothing was read or changed" % (
            "s" if len(problems) > 1 else "", "; ".join(
                "%s (did you mean %s?)" % (name, " or ".join(close)) if close else "%s (not a variable of recover)" % name
                for name, close in problems)))


def check_recover(values):
    settings = validate_types(RECOVER_SPEC, values, "recover_")
    if settings["window"]:
        validate_window_id(settings["window"], parameter="recover_window")
    if settings["timeout"] < 1:
        raise ParameterError("recover_timeout must be a positive number of seconds (got %s)" % settings["timeout"])
    if settings["lease_seconds"] < MIN_LEASE_SECONDS:
        raise ParameterError("recover_lease_seconds must be at least %d" % MIN_LEASE_SECONDS)
    return settings
