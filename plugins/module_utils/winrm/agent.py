# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deep Security Agent lifecycle decisions and the MS-02 interlock. No I/O here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    CollectionError,
    InterlockError,
    ParameterError,
)

MSI_SUCCESS = {0: False, 3010: True, 1641: True}  # exit code -> reboot required
MSI_MEANING = {
    1603: "fatal error during installation",
    1618: "another installation is already in progress",
    1619: "the installation package could not be opened",
    1638: "another version of this product is already installed",
}
INACTIVE_STATES = ("", "inactive", "not activated", "deactivated", "unknown", "none")
DSM_URL = re.compile(r"^dsm://[^/:\s]+:\d+/?$")
SHA256 = re.compile(r"^[0-9A-Fa-f]{64}$")


class MsiError(CollectionError):
    """msiexec reported a failure; details carry the exit code and the tail of the MSI log."""


def parse_version(text):
    """``20.0.1-690`` and ``20.0.1.690`` (how MSI reports it) compare equal."""
    if text is None or text == "":
        return None
    numbers = re.findall(r"\d+", str(text))
    if not numbers:
        raise ParameterError("version %r is not a Deep Security Agent version such as 20.0.1-690" % (text,))
    return tuple(int(item) for item in numbers)


def display_version(text):
    parts = parse_version(text)
    if parts is None:
        return None
    if len(parts) == 4:
        return "%d.%d.%d-%d" % parts
    return ".".join(str(item) for item in parts)


def validate(desired):
    """Bad input is refused before any connection; each message names the parameter and the fix."""
    if desired.get("state") == "present":
        if desired.get("installer_url") and desired.get("installer_path"):
            raise ParameterError("installer_url and installer_path are mutually exclusive; give one")
        url = desired.get("installer_url")
        if url and not url.lower().startswith("https://"):
            raise ParameterError("installer_url must be an https:// URL (got %s); the node downloads it and "
                                 "the download must be authenticated" % url.split("?")[0])
        if desired.get("installer_sha256") and not SHA256.match(desired["installer_sha256"]):
            raise ParameterError("installer_sha256 must be 64 hexadecimal characters (a SHA-256 digest)")
        if desired.get("version") is not None:
            parse_version(desired["version"])
        if desired.get("dsm_url") and not DSM_URL.match(desired["dsm_url"]):
            raise ParameterError("dsm_url must look like dsm://<manager>:4120/ (got %s)" % desired["dsm_url"])
        if desired.get("reactivate") and not desired.get("dsm_url"):
            raise ParameterError("reactivate=true needs dsm_url (the manager to activate against)")
        if (desired.get("policy_id") is not None or desired.get("tenant_id")) and not desired.get("dsm_url"):
            raise ParameterError("policy_id and tenant_id are used for activation; give dsm_url too")


def agent_summary(facts):
    agent = facts.get("agent") or {}
    return dict(installed=bool(agent.get("installed")), version=display_version(agent.get("version")),
                service_status=agent.get("service_status"), activated=is_activated(agent),
                dsm_url=agent.get("dsm_url") or None, policy_id=_int_or_none(agent.get("policy_id")))


def is_activated(agent):
    if not agent.get("installed"):
        return False
    if agent.get("dsm_url"):
        return True
    return str(agent.get("agent_state") or "").strip().lower() not in INACTIVE_STATES


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def plan_agent(facts, desired):
    """Actions (``install``/``upgrade``/``uninstall``/``activate``) that bring the agent to ``desired``."""
    before = agent_summary(facts)
    after = dict(before)
    actions = []
    if desired["state"] == "absent":
        if before["installed"]:
            actions.append("uninstall")
            after = dict(installed=False, version=None, service_status=None, activated=False,
                         dsm_url=None, policy_id=None)
        return dict(actions=actions, before=before, after=after)
    wanted = parse_version(desired.get("version"))
    have = parse_version(before["version"])
    if not before["installed"] or (wanted is not None and have != wanted):
        if wanted is None:
            raise ParameterError("the agent is not installed on %s; give version (and installer_url or "
                                 "installer_path) to install it" % facts.get("computer"))
        if before["installed"] and have is not None and have > wanted:
            raise ParameterError("%s has agent %s, newer than version=%s; downgrades are not supported: "
                                 "uninstall first (state=absent) if you really want the older build"
                                 % (facts.get("computer"), before["version"], desired["version"]))
        if not desired.get("installer_url") and not desired.get("installer_path"):
            raise ParameterError("installing agent %s on %s needs installer_url (for example the manager's "
                                 "https://<dsm>:4119/software/agent/Windows/x86_64/%s/agent.msi) or installer_path"
                                 % (desired["version"], facts.get("computer"), desired["version"]))
        actions.append("upgrade" if before["installed"] else "install")
        after.update(installed=True, version=display_version(desired["version"]), service_status="Running")
        if not before["installed"]:
            after.update(activated=False, dsm_url=None, policy_id=None)
    dsm_url = desired.get("dsm_url")
    if dsm_url:
        policy = desired.get("policy_id")
        differs = after["dsm_url"] is not None and (
            after["dsm_url"].rstrip("/") != dsm_url.rstrip("/") or (policy is not None and after["policy_id"] != policy))
        if desired.get("reactivate") or not after["activated"] or differs:
            actions.append("activate")
            after.update(activated=True, dsm_url=dsm_url, policy_id=policy)
    return dict(actions=actions, before=before, after=after)


def check_interlock(facts, actions, allow_running_cluster_service=False):
    """Rule MS-02: no agent install/upgrade/uninstall/activation while the cluster service runs."""
    service = facts.get("cluster_service") or {}
    if not actions or service.get("status") != "Running" or allow_running_cluster_service:
        return
    raise InterlockError(
        "rule MS-02: refusing to %s the Deep Security Agent on %s because its cluster service (ClusSvc) is "
        "running: the agent's network driver blips the network, which fails the cluster's roles over and can stop "
        "SQL Server. Stop the cluster service first with clustersafe.deep_security.mscs_node state=stopped (it "
        "drains the node), run this again, then start and resume the node; or set "
        "allow_running_cluster_service=true to accept the risk" % ("/".join(actions), facts.get("computer")),
        rule="MS-02", actions=actions)


def interpret_msi(result, action, host):
    """Exit code -> reboot_required, or MsiError with the tail of the MSI log."""
    code = int(result.get("exit_code", -1))
    if code in MSI_SUCCESS:
        return MSI_SUCCESS[code]
    tail = [line for line in (result.get("log_tail") or []) if line][-20:]
    meaning = MSI_MEANING.get(code, "see the MSI log")
    raise MsiError("msiexec %s of the Deep Security Agent on %s failed with exit code %d (%s); last lines of "
                   "the MSI log:\n%s" % (action, host, code, meaning, "\n".join(tail) or "(no log)"),
                   msi_exit_code=code, msi_log_tail=tail)
