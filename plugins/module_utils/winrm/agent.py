# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deep Security Agent lifecycle decisions, input checks, parsers of the node's answers and the MS-02
interlock. No I/O here.

Vendor sources (see docs/windows.md, "The Deep Security Agent"): Trend Micro's retired Ansible role
(deep-security/ansible, tasks/install-win.yml and activate-win.yml), its Chef cookbook
(deep-security/chef-agent, libraries/dsa.rb), its Puppet module (deep-security/puppet), the Windows
deployment script the DSM generates (trendmicro/cloudone-community, CFAutomationDSADeploy.template), and
Microsoft's Windows Installer documentation (msiexec command-line options, MsiExec.exe error codes).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import urlsplit, urlunsplit
except ImportError:  # Python 2
    from urlparse import urlsplit, urlunsplit  # type: ignore

from ansible_collections.clustersafe.deep_security.plugins.module_utils import _agent_version as versions
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    CollectionError,
    InterlockError,
    ParameterError,
)

# Windows Installer error codes (Microsoft: "MsiExec.exe and InstMsi.exe error messages"):
# 3010 ERROR_SUCCESS_REBOOT_REQUIRED, "a restart is required to complete the install": success, the node not
# restarted (reboot_required, the caller decides when). 1641 ERROR_SUCCESS_REBOOT_INITIATED, "the installer has
# initiated a restart": the change succeeded but the node is going down now, /norestart or not, so the work on it
# must stop there (RestartInitiatedError, restart_initiated: true).
MSI_SUCCESS = {0: False, 3010: True}  # exit code -> reboot required
MSI_RESTART_INITIATED = 1641
MSI_MEANING = {
    1602: "the user cancelled the installation",
    1603: "fatal error during installation",
    1618: "another installation is already in progress",
    1619: "the installation package could not be opened",
    1625: "the installation is forbidden by system policy",
    1638: "another version of this product is already installed",
}
# What dsa_control is handed goes through cmd.exe (dsa_control is a .cmd): only these characters may
# appear in any of its arguments. Trend's own scripts pass dsm://host:port/, policyid:N, groupid:N,
# tenantID:<GUID> and token:<GUID> (the generated deployment script), so letters, digits and -:/.[]
# cover every documented argument and none of cmd.exe's metacharacters (& | < > ^ % ! " ( ) , ; space).
SAFE_ARGUMENT = re.compile(r"[A-Za-z0-9:/.\[\]-]+\Z")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ACTIVATION_URL = re.compile(r"dsm://(?P<host>%s(?:\.%s)*|\[[0-9A-Fa-f:.]+\]):(?P<port>[0-9]{1,5})/?\Z"
                            % (_LABEL, _LABEL))
# Tenant IDs and tokens are GUIDs in Trend's deployment scripts (tenantID:D2F9...-...); letters, digits
# and hyphens are accepted, nothing else.
TENANT_OR_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,127}\Z")
SHA256 = re.compile(r"[0-9A-Fa-f]{64}\Z")
# Windows Installer's ProductCode property is a GUID in registry format, {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}
# (Microsoft: "ProductCode property", "GUID"); it names the agent's uninstall key and is handed to msiexec /x.
PRODUCT_CODE = re.compile(r"\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}\Z")
# The certificate hash an agent carries before activation, the same in Trend's retired Ansible role
# (deep-security/ansible, tasks/activate-win.yml) and its Chef cookbook (deep-security/chef-agent,
# libraries/dsa.rb, BOOTSTRAP_CERT); both read it with dsa_query -c GetAgentStatus agentCertHash.
BOOTSTRAP_CERT_HASH = "D0:68:DE:48:1B:DC:4D:00:89:07:7F:85:15:20:C5:90:11:EB:56:6A"
CERT_HASH = re.compile(r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+\Z")
# dsa_control -p <password> goes through cmd.exe as well: none of its metacharacters
SELF_PROTECTION_PASSWORD = re.compile(r"[A-Za-z0-9_.:/@#+~\[\]-]{1,128}\Z")
STATUS_LINE = re.compile(r"\s*([A-Za-z0-9_.]+)\s*:\s?(.*)\Z")
# The DSM serves the agent packages (REFERENCE.md section 2; the retired Ansible role's install-win.yml).
INSTALLER_PATH = "/software/agent/Windows/x86_64/%s/agent.msi"
DSM_CONSOLE_PORT = 4119
ACTIVATION_WAIT = 120  # seconds to wait for ds_agent to be Running before dsa_control (point 14)


class MsiError(CollectionError):
    """msiexec reported a failure; details carry the exit code and the tail of the MSI log."""


class RestartInitiatedError(CollectionError):
    """msiexec returned 1641: Windows Installer has started a restart of the node; details carry
    ``restart_initiated: true`` and the exit code, so a caller can tell it from a failed install."""


class ActivationError(CollectionError):
    """dsa_control -a failed; details carry its exit code and the agent state it left."""


class AgentOutputError(CollectionError):
    """A script's answer about the agent did not have the documented shape; the message names the source."""


# --- URLs and secrets -----------------------------------------------------------------------------

def redact_url(url):
    """The URL without user info, query string or fragment (signed URLs carry secrets there)."""
    if url is None:
        return None
    text = str(url)
    try:
        parts = urlsplit(text)
    except ValueError:
        return "(unparsable URL)"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    if not parts.scheme and not netloc:
        return "(unparsable URL)" if ("@" in text or "?" in text) else text
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


def url_secrets(url):
    """The parts of ``url`` that must never be printed: user info and query string."""
    if not url:
        return []
    found = []
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return [str(url)]
    if "@" in parts.netloc:
        found.append(parts.netloc.rsplit("@", 1)[0])
    if parts.query:
        found.append(parts.query)
    if parts.fragment:
        found.append(parts.fragment)
    if found:
        found.append(str(url))
    return found


def scrub(text, secrets):
    """``text`` with every secret replaced; longest first so a secret inside another goes too."""
    text = "" if text is None else str(text)
    for secret in sorted((item for item in secrets if item), key=len, reverse=True):
        text = text.replace(secret, "********")
    return text


def desired_secrets(desired):
    secrets = [desired.get("token"), desired.get("self_protection_password")]
    secrets += url_secrets(desired.get("installer_url"))
    secrets += url_secrets(desired.get("activation_url"))
    return [item for item in secrets if item]


def manager_address(url):
    """(host, port) of a manager URL of any scheme, for comparing dsa_query's dsmUrl with ours."""
    try:
        parts = urlsplit(str(url).strip())
        return ((parts.hostname or "").lower(), parts.port)
    except ValueError:
        return (str(url).strip().lower(), None)


def installer_url_for(activation_url, version):
    """The DSM serves each agent build at https://<dsm>:4119/software/agent/Windows/x86_64/<version>/agent.msi."""
    match = ACTIVATION_URL.match(activation_url or "")
    if not match or not version:
        return None
    return "https://%s:%d%s" % (match.group("host"), DSM_CONSOLE_PORT, INSTALLER_PATH % versions.display(version))


# --- input ----------------------------------------------------------------------------------------

def validate(desired, install_timeout=1800):
    """Bad input is refused before any connection; each message names the parameter and the fix.

    Every pattern is a full match (``\\Z``): ``$`` would accept a trailing newline.
    """
    if install_timeout is not None and int(install_timeout) < 1:
        raise ParameterError("install_timeout must be a positive number of seconds (got %s)" % install_timeout)
    for name in ("installer_url", "installer_sha256", "installer_path", "activation_url", "tenant_id", "token",
                 "version", "self_protection_password"):
        value = desired.get(name)
        if value is not None and re.search(r"[\x00-\x1f\x7f]", str(value)):
            raise ParameterError("%s contains a line break or another control character; remove it (a YAML "
                                 "'|' block adds a trailing newline: use '>-' or a plain scalar)" % name)
    if desired.get("installer_url") and desired.get("installer_path"):
        raise ParameterError("installer_url and installer_path are mutually exclusive; give one")
    url = desired.get("installer_url")
    if url:
        try:
            parts = urlsplit(url)
            host = parts.hostname
            parts.port  # noqa: B018  # raises ValueError on a port out of range
        except ValueError:
            raise ParameterError("installer_url %s is not a valid URL" % redact_url(url))
        if parts.scheme.lower() != "https":
            raise ParameterError("installer_url must be an https:// URL (got %s); the node downloads it and "
                                 "the download must be authenticated" % redact_url(url))
        if not host or re.search(r"\s", url):
            raise ParameterError("installer_url %s has no host name; give the full URL of agent.msi, for example "
                                 "https://<dsm>:4119%s" % (redact_url(url), INSTALLER_PATH % "<version>"))
    sha = desired.get("installer_sha256")
    if sha is not None and not SHA256.match(sha):
        raise ParameterError("installer_sha256 must be 64 hexadecimal characters (a SHA-256 digest)")
    if desired.get("version") is not None:
        versions.parse(desired["version"], "version")
    activation = desired.get("activation_url")
    if activation:
        match = ACTIVATION_URL.match(activation)
        if not match or not 1 <= int(match.group("port")) <= 65535:
            raise ParameterError("activation_url (dsm_url) must be dsm://<manager host name or address>:<port 1-65535>/ "
                                 "such as dsm://dsm.example.com:4120/, with nothing else (got %s)"
                                 % redact_url(activation))
    for name in ("tenant_id", "token"):
        value = desired.get(name)
        if value is not None and not TENANT_OR_TOKEN.match(value):
            raise ParameterError("%s may hold only letters, digits and hyphens (Trend's tenant IDs and activation "
                                 "tokens are GUIDs such as 8B8E2E64-1F6C-4C8B-9D0A-2E0C6A7B1D3F)" % name)
    password = desired.get("self_protection_password")
    if password is not None and not SELF_PROTECTION_PASSWORD.match(password):
        raise ParameterError("self_protection_password may hold only letters, digits and _ . : / @ # + ~ [ ] - "
                             "(dsa_control is a cmd.exe script); set a password of those characters in the "
                             "manager's policy")
    policy = desired.get("policy_id")
    if policy is not None and int(policy) < 1:
        raise ParameterError("policy_id must be a positive policy ID (got %s)" % policy)
    if desired.get("state") == "present":
        if desired.get("reactivate") and not activation:
            raise ParameterError("reactivate=true needs activation_url (the manager to activate against)")
        if (policy is not None or desired.get("tenant_id") or desired.get("token")) and not activation:
            raise ParameterError("policy_id, tenant_id and token are used for activation; give activation_url too")


def activation_arguments(desired):
    """The arguments of ``dsa_control -a``, each checked again against the cmd.exe-safe alphabet."""
    arguments = [desired["activation_url"]]
    if desired.get("policy_id") is not None:
        arguments.append("policyid:%d" % int(desired["policy_id"]))
    if desired.get("tenant_id"):
        arguments.append("tenantID:%s" % desired["tenant_id"])
    if desired.get("token"):
        arguments.append("token:%s" % desired["token"])
    for argument in arguments:
        if not SAFE_ARGUMENT.match(argument):
            raise ParameterError("an activation argument holds a character cmd.exe would interpret; only letters, "
                                 "digits and - : / . [ ] are passed to dsa_control")
    return arguments


# --- parsers of the node's answers ----------------------------------------------------------------

def _fail(source, host, what):
    return AgentOutputError("the answer of %s on %s is not what the collection expects: %s; the node may run a "
                            "profile or wrapper that changes output, or an agent build this module does not know"
                            % (source, host, what), host=host, script=source)


def _text(value, source, host, field):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _fail(source, host, "%s is %s, expected text" % (field, type(value).__name__))
    return str(value)


def log_lines(value, source="agent_install", host=None):
    """The MSI log tail as plain strings.

    Windows PowerShell 5.1 attaches PSPath, PSParentPath, PSChildName, PSDrive, PSProvider and ReadCount
    to every line ``Get-Content`` returns, and ``ConvertTo-Json`` then writes each line as an object
    ``{"value": "...", "PSPath": ...}`` (PowerShell issues 6458 and 6388). The script unwraps them; this
    accepts that shape as well so an MSI error is never lost.
    """
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list):
        raise _fail(source, host, "log_tail is %s, expected a list of lines" % type(value).__name__)
    lines = []
    for item in value:
        if isinstance(item, dict):
            item = item.get("value", item.get("Value"))
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise _fail(source, host, "a log_tail line is %s, expected text" % type(item).__name__)
        lines.append(str(item))
    return lines


def parse_agent_status(lines, host=None, source="dsa_query -c GetAgentStatus"):
    """``dsa_query -c GetAgentStatus`` prints ``AgentStatus.<field>: <value>`` lines; returns field -> value.

    Lines of another shape are ignored (the tool prints banners); a value that is not text is refused.
    """
    status = {}
    for line in log_lines(lines, source, host):
        match = STATUS_LINE.match(line.rstrip("\r"))
        if not match:
            continue
        key = match.group(1)
        if key.startswith("AgentStatus."):
            key = key[len("AgentStatus."):]
        status[key] = match.group(2).strip()
    return status


def _record_int(value):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def agent_facts(document, host=None):
    """The ``agent_info`` document, checked and normalised; AgentOutputError on a foreign shape."""
    source = "agent_info"
    if not isinstance(document, dict):
        raise _fail(source, host, "not a JSON object")
    host = _text(document.get("computer"), source, host, "computer") or host
    agent = document.get("agent")
    if agent is None:
        agent = {}
    if not isinstance(agent, dict):
        raise _fail(source, host, "agent is %s, expected an object" % type(agent).__name__)
    service = document.get("cluster_service")
    if service is not None and not isinstance(service, dict):
        raise _fail(source, host, "cluster_service is %s, expected an object" % type(service).__name__)
    status = parse_agent_status(agent.get("status_lines"), host)
    version_text = _text(agent.get("version"), source, host, "agent.version")
    try:
        version = versions.parse(version_text, "DisplayVersion of the installed agent")
    except ParameterError as error:
        raise _fail(source, host, error.message)
    dsm_url = status.get("dsmUrl") or None
    activated, activation_signal = activation_state(status)
    product_code = _text(agent.get("product_code"), source, host, "agent.product_code") or None
    recorded = _text(agent.get("recorded_url"), source, host, "agent.recorded_url") or None
    policy = None
    if dsm_url and recorded and manager_address(recorded) == manager_address(dsm_url):
        policy = _record_int(_text(agent.get("recorded_policy_id"), source, host, "agent.recorded_policy_id"))
    installed = bool(agent.get("installed"))
    return dict(
        computer=host,
        cluster_service=dict(status=_text((service or {}).get("status"), source, host, "cluster_service.status"))
        if service else None,
        reboot_pending=bool(document.get("reboot_pending")),
        agent=dict(installed=installed, version=version if installed else None,
                   service_status=_text(agent.get("service_status"), source, host, "agent.service_status"),
                   activated=bool(installed and activated), activation_signal=activation_signal if installed else None,
                   dsm_url=dsm_url if installed else None,
                   policy_id=policy if installed else None, product_code=product_code if installed else None,
                   status=status, installer_state=installer_state(agent)),
    )


def activation_state(status):
    """(activated, signal) from the fields of ``dsa_query -c GetAgentStatus``, as Trend's own scripts decide.

    Trend's Chef cookbook (libraries/dsa.rb, is_DSA_activated?) and retired Ansible role (activate-win.yml) read
    ``agentCertHash``: activated when it differs from the bootstrap certificate's hash (``cert_hash``). Only
    when the agent prints no usable hash does the collection fall back to ``dsmUrl`` being present, the test the
    DSM's generated deployment script makes (``dsa_query --cmd GetAgentStatus dsmUrl``; CFAutomationDSADeploy
    in trendmicro/cloudone-community) (``dsm_url``). Chef raises where the hash is missing; the fallback is
    never looser than that script. A hash equal to the bootstrap hash is "not activated" whatever dsmUrl says.
    """
    cert_hash = (status.get("agentCertHash") or "").strip()
    if CERT_HASH.match(cert_hash):
        return cert_hash.upper() != BOOTSTRAP_CERT_HASH, "cert_hash"
    if status.get("dsmUrl"):
        return True, "dsm_url"
    return False, "dsm_url" if not cert_hash else "unreadable_cert_hash"


def check_product_code(facts):
    """The product code msiexec /x will be given, checked before anything runs on the node: the uninstall key's
    name is input the collection did not write, and anything but a GUID stops here."""
    code = facts["agent"].get("product_code")
    if code is not None and not PRODUCT_CODE.match(code):
        raise AgentOutputError(
            "the agent's uninstall entry on %s is named %r, not a Windows Installer product code such as "
            "{1D2F3A4B-5C6D-7E8F-9A0B-1C2D3E4F5A6B}; nothing was run. Check HKLM\\SOFTWARE\\Microsoft\\Windows\\"
            "CurrentVersion\\Uninstall on the node (remove the agent with Trend's own tools if the entry is damaged)"
            % (facts.get("computer"), code[:80]), host=facts.get("computer"), product_code=code[:80])
    if code is None:
        raise AgentOutputError(
            "the agent on %s has no product code in its uninstall entry; nothing was run. Check "
            "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall on the node" % facts.get("computer"),
            host=facts.get("computer"))
    return code


# --- the installer on the node (read by mscs_cluster_info; recover must see "idle" before it starts ClusSvc) ----

INSTALLER_STATES = ("running", "idle", "unknown")


def installer_state(agent_facts):
    """"running", "idle" or "unknown" for the Windows Installer on a node.

    ``agent_facts`` is the ``agent`` object of mscs_cluster_info (or the whole result, which holds it):
    ``installer_running`` true when the mutex Global\\_MSIExecute exists (opened, or refused with
    UnauthorizedAccessException), false only when .NET said it does not exist (WaitHandleCannotBeOpenedException),
    null for any other answer; ``installer_service`` the msiserver service's status and whether it accepts
    SERVICE_ACCEPT_SHUTDOWN, which Microsoft's _MSIExecute page gives as the sign that the service is processing an
    installation. Anything but a definite "not running" from the mutex and no sign of work from the service is
    never "idle": a caller refuses on "unknown" exactly as on "running".
    """
    facts = agent_facts or {}
    if isinstance(facts.get("agent"), dict):
        facts = facts["agent"]
    running = facts.get("installer_running")
    service = facts.get("installer_service")
    busy = isinstance(service, dict) and service.get("status") == "Running" and service.get("accepts_shutdown") is True
    if running is True or busy:
        return "running"
    if running is False:
        return "idle"
    return "unknown"


def agent_summary(facts):
    agent = facts["agent"]
    return dict(installed=agent["installed"], version=versions.display(agent["version"]),
                service_status=agent["service_status"], activated=agent["activated"],
                dsm_url=redact_url(agent["dsm_url"]) if agent["dsm_url"] else None, policy_id=agent["policy_id"])


def outcome(document, source, host, keys):
    """A step's answer: an object holding ``keys``; exit codes are integers."""
    if not isinstance(document, dict):
        raise _fail(source, host, "not a JSON object")
    for key in keys:
        if key not in document:
            raise _fail(source, host, "%s is missing" % key)
    if "exit_code" in document:
        code = document["exit_code"]
        if isinstance(code, bool) or not isinstance(code, int):
            raise _fail(source, host, "exit_code is %r, expected an integer" % (code,))
    return document


# --- plans ----------------------------------------------------------------------------------------

def plan_agent(facts, desired):
    """Actions (``install``/``upgrade``/``uninstall``/``activate``) that bring the agent to ``desired``,
    and whether activation must reset the agent first (only when it is activated to another manager)."""
    before = agent_summary(facts)
    have = facts["agent"]["version"]
    after = dict(before)
    actions = []
    if desired["state"] == "absent":
        if before["installed"]:
            actions.append("uninstall")
            after = dict(installed=False, version=None, service_status=None, activated=False,
                         dsm_url=None, policy_id=None)
        return dict(actions=actions, before=before, after=after, reset=False)
    wanted = versions.parse(desired.get("version"))
    computer = facts.get("computer")
    same = versions.same(have, wanted) if before["installed"] and wanted is not None else False
    if not before["installed"] or (wanted is not None and same is not True):
        if wanted is None:
            raise ParameterError("the agent is not installed on %s; give version (and installer_url or "
                                 "installer_path) to install it" % computer)
        order = versions.compare(have, wanted) if before["installed"] and have is not None else -1
        if order is None:
            raise ParameterError("%s has agent %s, which cannot be ordered against version=%s: one spelling lacks the "
                                 "update number, and Trend's build numbers start again with each update; read the "
                                 "agent's full build (major.minor.update-build) in the manager and give version so"
                                 % (computer, before["version"], desired["version"]))
        if order > 0:
            raise ParameterError("%s has agent %s, newer than version=%s; downgrades are not supported: "
                                 "uninstall first (state=absent) if you really want the older build"
                                 % (computer, before["version"], desired["version"]))
        if not desired.get("installer_url") and not desired.get("installer_path"):
            raise ParameterError("installing agent %s on %s needs installer_url (for example the manager's "
                                 "https://<dsm>:4119%s), installer_path, or activation_url to derive it from"
                                 % (desired["version"], computer, INSTALLER_PATH % versions.display(wanted)))
        actions.append("upgrade" if before["installed"] else "install")
        after.update(installed=True, version=versions.display(wanted), service_status="Running")
        if not before["installed"]:
            after.update(activated=False, dsm_url=None, policy_id=None)
    reset = False
    activation = desired.get("activation_url")
    if activation:
        policy = desired.get("policy_id")
        # activated as agent_facts judges it (agentCertHash first); dsmUrl then tells which manager
        activated = facts["agent"]["installed"] and facts["agent"]["activated"]
        current = facts["agent"]["dsm_url"] if activated else None
        elsewhere = bool(current) and manager_address(current) != manager_address(activation)
        other_policy = activated and policy is not None and before["policy_id"] != policy
        if desired.get("reactivate") or not activated or elsewhere or other_policy:
            actions.append("activate")
            # dsa_control -r only when the agent belongs to another manager: a reset followed by a
            # failed activation would leave the node unprotected for nothing.
            reset = elsewhere
            after.update(activated=True, dsm_url=redact_url(activation), policy_id=policy)
    return dict(actions=actions, before=before, after=after, reset=reset)


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
    """Exit code -> reboot_required; RestartInitiatedError for 1641; MsiError with the tail of the MSI log."""
    code = result.get("exit_code")
    if code in MSI_SUCCESS:
        return MSI_SUCCESS[code]
    if code == MSI_RESTART_INITIATED:
        raise RestartInitiatedError(
            "msiexec %s of the Deep Security Agent on %s returned 1641 (ERROR_SUCCESS_REBOOT_INITIATED): Windows "
            "Installer has initiated a restart of %s. The node is restarting now; its work in this window must stop "
            "here: services set to start automatically (the cluster service among them) start again with it. Once it "
            "is back, read it with mscs_cluster_info and ds_agent in check mode before anything else"
            % (action, host, host), msi_exit_code=code, restart_initiated=True, host=host)
    tail = [line for line in log_lines(result.get("log_tail"), "agent_" + action, host) if line][-20:]
    meaning = MSI_MEANING.get(code, "see the MSI log")
    raise MsiError("msiexec %s of the Deep Security Agent on %s failed with exit code %s (%s); last lines of "
                   "the MSI log:\n%s" % (action, host, code, meaning, "\n".join(tail) or "(no log)"),
                   msi_exit_code=code, msi_log_tail=tail)


def reboot_warning(host, code):
    return ("%s needs a reboot to finish the agent change (msiexec exit code %s: ERROR_SUCCESS_REBOOT_REQUIRED). "
            "The collection passes /norestart, so the node was not restarted; reboot it in the node's maintenance "
            "window (drained, cluster service stopped) before the next node" % (host, code))
