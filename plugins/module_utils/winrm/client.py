# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of the collection's PowerShell scripts on a Windows node over WinRM (pywinrm) and return
the single JSON document it prints.

Every failure becomes a typed error (``WinRMAuthError``, ``WinRMTLSError``, ...) whose message says what
to check; nothing here calls ``fail_json``, so services and tests can use the client directly.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import json
import math
import re
import time
import traceback
import xml.etree.ElementTree as ET

from ansible.module_utils.basic import env_fallback

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    CollectionError,
    ParameterError,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.scripts import PREAMBLE

WINRM_IMPORT_ERROR = None
try:
    import requests
    import winrm
    import winrm.exceptions
    import winrm.protocol
    HAS_WINRM = True
except ImportError:
    HAS_WINRM = False
    WINRM_IMPORT_ERROR = traceback.format_exc()

# Windows limits a command line to 8191 characters (ours carries only the loader, see LOADER).
COMMAND_LINE_LIMIT = 8191
COMMAND_PREFIX = "powershell -NoProfile -NonInteractive -EncodedCommand "
MARKER_PREFIX = "# clustersafe:"
TRANSPORTS = ["ntlm", "kerberos", "credssp", "certificate", "basic"]
# Over plain HTTP only Kerberos both encrypts the messages and authenticates the server (mutual
# authentication through the KDC). NTLM message encryption does not prove who the server is, so NTLM over
# HTTP needs the same explicit opt-in as basic; CredSSP is refused over HTTP (see validate_connection).
HTTP_SAFE_TRANSPORTS = ("kerberos",)
# pywinrm extras a transport needs (pywinrm's setup: extras_require kerberos and credssp).
TRANSPORT_EXTRAS = {"kerberos": "pywinrm[kerberos]", "credssp": "pywinrm[credssp]"}
# The lowest CredSSP protocol version accepted from the node. Microsoft's update for CVE-2018-0886 added
# versions 5 and 6; requests-credssp's README ("CredSSP Protocol Versions") says to set minimum_version=5 to
# reject servers not patched for it, and pyspnego (credssp_min_protocol) "5 or higher". pywinrm passes
# Transport.credssp_minimum_version (default 2) to requests-credssp as minimum_version (winrm/transport.py).
CREDSSP_MINIMUM_VERSION = 5
# pywinrm's message when message_encryption=always meets a transport library that cannot encrypt
# (winrm/transport.py build_session; its README: "an old version of pykerberos without message encryption
# support").
_NO_ENCRYPTION = "message encryption is set to 'always'"


class WinRMError(CollectionError):
    """A WinRM exchange with a node failed."""


class WinRMAuthError(WinRMError):
    """The node rejected the credentials (HTTP 401)."""


class WinRMTLSError(WinRMError):
    """The TLS handshake failed, usually certificate validation."""


class WinRMUnreachableError(WinRMError):
    """No WinRM listener answered at the address and port."""


class WinRMTimeoutError(WinRMError):
    """A bounded wait ran out while talking to the node; the script may still be running there."""


class ScriptError(WinRMError):
    """The script ran and failed (non-zero exit); the message carries PowerShell's error text."""


class MalformedOutputError(WinRMError):
    """The script's standard output was not exactly one JSON object."""


def winrm_argument_spec():
    """Connection options shared by every Windows module (doc fragment ``clustersafe.deep_security.winrm``)."""
    return dict(
        hostname=dict(type="str", required=True, fallback=(env_fallback, ["WINRM_HOST"])),
        username=dict(type="str", aliases=["user"], fallback=(env_fallback, ["WINRM_USER"])),
        password=dict(type="str", aliases=["pass", "pwd"], no_log=True, fallback=(env_fallback, ["WINRM_PASSWORD"])),
        port=dict(type="int", fallback=(env_fallback, ["WINRM_PORT"])),
        transport=dict(type="str", choices=TRANSPORTS, default="ntlm", fallback=(env_fallback, ["WINRM_TRANSPORT"])),
        scheme=dict(type="str", choices=["https", "http"], default="https"),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["WINRM_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["WINRM_CA_PATH"])),
        cert_pem=dict(type="path"),
        cert_key_pem=dict(type="path", no_log=False),
        message_encryption=dict(type="str", choices=["auto", "always", "never"], default="auto"),
        kerberos_delegation=dict(type="bool", default=False),
        allow_unencrypted_http=dict(type="bool", default=False),
        operation_timeout=dict(type="int", default=20),
        read_timeout=dict(type="int", default=30),
        command_timeout=dict(type="int", default=600),
    )


CONNECTION_OPTIONS = tuple(winrm_argument_spec())

# The rules between the connection options that Ansible's argument spec can state; WinRMModule hands them to
# AnsibleModule and validate_connection applies the same list for callers of the client outside a module.
# Kerberos takes the ticket from the credential cache and never uses a password (pywinrm's README: "a Kerberos
# ticket needs to be initialized outside of pywinrm using the kinit command"), so it needs neither.
CONNECTION_RULES = dict(required_if=[
    ("transport", "certificate", ("cert_pem", "cert_key_pem")),
    ("transport", "ntlm", ("username", "password")),
    ("transport", "basic", ("username", "password")),
    ("transport", "credssp", ("username", "password")),
])
_REQUIRED_IF_MESSAGES = {
    ("cert_pem", "cert_key_pem"): "transport=%s needs both cert_pem and cert_key_pem",
    ("username", "password"): "transport=%s needs username and password (or WINRM_USER and WINRM_PASSWORD)",
}


def _missing(params, name):
    """As Ansible counts it, except that an empty string is missing too (an empty password is a password)."""
    value = params.get(name)
    return value is None or (value == "" and name != "password")


def validate_connection(params):
    """Refuse unsafe or impossible connection settings before any packet is sent."""
    transport = params.get("transport") or "ntlm"
    scheme = params.get("scheme") or "https"
    if not params.get("hostname"):
        raise ParameterError("hostname is required (the node's address); set it or WINRM_HOST")
    port = params.get("port")
    if port is not None and not 1 <= int(port) <= 65535:
        raise ParameterError("port must be between 1 and 65535 (got %s); WinRM listens on 5986 (https) or 5985 "
                             "(http), or leave port unset" % port)
    effective = dict(params, transport=transport)
    for option, value, needed in CONNECTION_RULES["required_if"]:
        if effective.get(option) == value and any(_missing(effective, name) for name in needed):
            raise ParameterError(_REQUIRED_IF_MESSAGES[needed] % value)
    if transport == "certificate" and scheme != "https":
        raise ParameterError("transport=certificate needs scheme=https")
    if transport == "credssp" and scheme != "https":
        # pywinrm's README: CredSSP "only works over a HTTPS endpoint and not HTTP".
        raise ParameterError("transport=credssp needs scheme=https (CredSSP delegates the password to the node; "
                             "pywinrm supports it only over HTTPS)")
    if scheme == "http" and not params.get("allow_unencrypted_http"):
        if transport not in HTTP_SAFE_TRANSPORTS or params.get("message_encryption") == "never":
            raise ParameterError(
                "scheme=http with transport=%s does not protect the credentials and data from a machine that "
                "pretends to be the node (%s); use scheme=https, or transport=kerberos with message "
                "encryption, or set allow_unencrypted_http=true if this network is trusted"
                % (transport, "NTLM message encryption does not authenticate the server"
                   if transport == "ntlm" else "nothing is encrypted"))
    operation_timeout = params.get("operation_timeout") or 20
    read_timeout = params.get("read_timeout") or 30
    if operation_timeout < 1 or read_timeout <= operation_timeout:
        raise ParameterError("read_timeout (%s) must be greater than operation_timeout (%s), both positive"
                             % (read_timeout, operation_timeout))
    if (params.get("command_timeout") or 600) < 1:
        raise ParameterError("command_timeout must be a positive number of seconds")


def effective_message_encryption(params):
    """The message_encryption handed to pywinrm.

    pywinrm's ``auto`` encrypts over HTTP only "if it is available for the auth method" (its README,
    "Encryption"): with a Kerberos library that lacks WinRM encryption (pykerberos without
    ``authGSSWinRMEncryptMessage``) it silently sends clear text. Kerberos over HTTP is accepted without
    allow_unencrypted_http only because it encrypts, so there ``auto`` becomes ``always``: pywinrm then
    refuses instead of falling back (reported by ``_translate``). ``never`` stays ``never`` (and needs
    allow_unencrypted_http, see validate_connection).
    """
    wanted = params.get("message_encryption") or "auto"
    if wanted == "auto" and (params.get("scheme") or "https") == "http" \
            and (params.get("transport") or "ntlm") == "kerberos":
        return "always"
    return wanted


# The warning every result of a module carries when the connection is plain HTTP without the protection
# validate_connection otherwise requires (allow_unencrypted_http=true), per transport.
_HTTP_RISKS = {
    "basic": "the password and everything sent to and from the node cross the network in clear text",
    "ntlm": "NTLM message encryption does not authenticate the node, so a machine in the middle can pose as it "
            "and read or change what is sent",
    "kerberos": "message_encryption=never: everything sent to and from the node crosses the network in clear text",
}


def connection_warnings(params):
    """Warnings for connection settings that were allowed but weaken the connection (pure).

    ``allow_unencrypted_http=true`` with ``scheme=http`` where the transport does not both encrypt and
    authenticate the node. (``validate_certs=false`` is warned about by the shared runner,
    ``runner.CERTIFICATE_NOT_CHECKED``.)
    """
    transport = params.get("transport") or "ntlm"
    if (params.get("scheme") or "https") != "http" or not params.get("allow_unencrypted_http"):
        return []
    if transport in HTTP_SAFE_TRANSPORTS and effective_message_encryption(params) != "never":
        return []
    risk = _HTTP_RISKS.get(transport, "the connection is not protected")
    return ["allow_unencrypted_http=true: WinRM to %s over http with transport=%s: %s; use scheme=https (or "
            "transport=kerberos with message encryption) outside an isolated test network"
            % (params.get("hostname"), transport, risk)]


# The command line carries only the marker, the preamble and this loader; the script's body and its parameters
# travel together as one JSON document on standard input (WS-Man Send), as ansible-core sends its module payload
# to the fixed bootstrap_wrapper.ps1 it puts on the command line (plugins/connection/winrm.py,
# executor/powershell/bootstrap_wrapper.ps1: the wrapper reads $input and runs [ScriptBlock]::Create of it). The
# command line then stays the same size whatever the script (Windows limits it to 8191 characters) and no
# parameter, secret or not, is on it (process auditing, event 4688). Dot-sourcing runs the body in this scope, so
# the preamble's preferences and $P apply to it.
LOADER = (
    '$I = ConvertFrom-Json -InputObject (@($input) -join "`n")',
    "$P = $I.p",
    ". ([ScriptBlock]::Create([string]$I.s))",
)


def compact(body):
    """The body without comment lines and indentation (the marker is on the command line)."""
    lines = []
    for line in body.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            lines.append(stripped)
    return "\n".join(lines) + "\n"


def build_command(name):
    """The script text of the command line: marker line, the shared preamble, the loader."""
    lines = [MARKER_PREFIX + name]
    lines.extend(line for line in PREAMBLE.splitlines() if line.strip())
    lines.extend(LOADER)
    return "\n".join(lines) + "\n"


def build_input(body, params=None):
    """The document sent on standard input: the compacted body (``s``) and its parameters (``p``), ASCII JSON
    so the node's input code page cannot change it."""
    return json.dumps({"p": params or {}, "s": compact(body)}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True)


def build_script(name, body, params=None):
    """What the node runs, as one text (for reading and for the syntax checks; ``run`` sends the command line
    and the standard input apart): marker, preamble, the parameters as ``$P``, the compacted body."""
    document = json.dumps(params or {}, sort_keys=True, separators=(",", ":"))
    lines = [MARKER_PREFIX + name]
    lines.extend(line for line in PREAMBLE.splitlines() if line.strip())
    lines.extend(["$P = @'", document, "'@ | ConvertFrom-Json"])
    return "\n".join(lines) + "\n" + compact(body)


def encode_command(script):
    return COMMAND_PREFIX + base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def clixml_to_text(data):
    """PowerShell writes errors to stderr as CLIXML; keep only the error strings."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    if not data.startswith("#< CLIXML"):
        return data.strip()
    body = data.split("\n", 1)[1] if "\n" in data else ""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return data.strip()
    parts = []
    for element in root.iter():
        if element.tag.endswith("}S") or element.tag == "S":
            if element.get("S") == "Error" and element.text:
                parts.append(element.text.replace("_x000D__x000A_", "\n"))
    # keep the error message, drop PowerShell's position and category lines
    lines = [line for line in "".join(parts).splitlines()
             if line.strip() and not line.strip().startswith(("+ ", "At line:", "At C:", "~"))]
    return "\n".join(line.rstrip() for line in lines).strip() or data.strip()


def parse_document(stdout, script, host):
    """Exactly one JSON object on stdout, nothing else."""
    text = stdout.decode("utf-8", "replace") if isinstance(stdout, bytes) else stdout
    text = text.lstrip(u"\ufeff").strip()
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        # RecursionError: json nests one Python call per bracket, so a deeply nested answer exhausts the stack
        raise MalformedOutputError(
            "script %s on %s did not print one JSON document (got %d characters starting %r); "
            "check that nothing else on the node writes to standard output (profile scripts, "
            "a wrapper) and retry" % (script, host, len(text), text[:80]),
            host=host, script=script)
    if not isinstance(document, dict):
        raise MalformedOutputError("script %s on %s printed JSON that is not an object" % (script, host),
                                   host=host, script=script)
    return document


class WinRMClient(object):
    """One node, one pywinrm Protocol.

    ``run`` outside a session costs one shell: create, command, receive (repeated while the script runs),
    signal, delete. To run several scripts against one node over one shell, open a session::

        with client.session():
            facts = client.run("mscs_cluster_info", body, {})
            found = client.run("node_window_record_info", other_body, {"window": None})

    Inside ``session()`` each ``run`` is one command of that shell (command, receive, signal), and the shell
    is created when the session opens and deleted when it closes, also when a script fails. Sessions nest
    (an inner one uses the outer shell). Every script still gets its own ``command_timeout``.

    Long scripts: a WinRM service answers Command (and Send) at once and long-polls Receive; while the
    command runs, Receive ends with the WS-Management OperationTimeout fault 2150858793 and the client asks
    again (MS-WSMV 3.1.4.14 Receive). ``_receive`` retries it and bounds the whole wait by command_timeout.
    """

    def __init__(self, params, protocol_factory=None, clock=time.monotonic):
        validate_connection(params)
        self.params = dict(params)
        self.host = params["hostname"]
        self._protocol_factory = protocol_factory
        self._clock = clock
        self._protocol = None
        self._shell_id = None

    @property
    def endpoint(self):
        scheme = self.params.get("scheme") or "https"
        port = self.params.get("port") or (5986 if scheme == "https" else 5985)
        host = self.host
        if ":" in host and not host.startswith("["):
            host = "[%s]" % host
        return "%s://%s:%s/wsman" % (scheme, host, port)

    def _make_protocol(self):
        if self._protocol_factory is not None:
            return self._protocol_factory(self.params)
        p = self.params
        transport = p.get("transport") or "ntlm"
        if p.get("validate_certs", True):
            validation = "validate"
            ca_trust_path = p.get("ca_path") or "legacy_requests"
        else:
            validation = "ignore"
            ca_trust_path = None
        kwargs = dict(
            transport=transport,
            username=p.get("username"),
            password=p.get("password"),
            server_cert_validation=validation,
            ca_trust_path=ca_trust_path,
            read_timeout_sec=p.get("read_timeout") or 30,
            operation_timeout_sec=p.get("operation_timeout") or 20,
            message_encryption=effective_message_encryption(p),
        )
        if transport == "certificate":
            kwargs.update(cert_pem=p.get("cert_pem"), cert_key_pem=p.get("cert_key_pem"))
        elif transport == "kerberos":
            kwargs.update(kerberos_delegation=bool(p.get("kerberos_delegation")))
        protocol = winrm.protocol.Protocol(self.endpoint, **kwargs)
        if transport == "credssp":
            # Protocol does not take it (pywinrm 0.5 passes only credssp_disable_tlsv1_2 on); its Transport
            # reads the attribute when it builds the HTTP session, at the first message.
            protocol.transport.credssp_minimum_version = CREDSSP_MINIMUM_VERSION
        return protocol

    def protocol(self):
        if self._protocol is None:
            try:
                self._protocol = self._make_protocol()
            except CollectionError:
                raise
            except Exception as error:  # pywinrm validates its arguments eagerly
                missing = missing_transport_library(self.params.get("transport"), error)
                if missing:
                    raise missing
                raise self._translate(error, "connect")
        return self._protocol

    @contextlib.contextmanager
    def session(self):
        """Run the ``run`` calls inside the ``with`` block over one shell (see the class docstring)."""
        if self._shell_id is not None:
            yield self
            return
        protocol = self.protocol()
        try:
            shell_id = protocol.open_shell()
        except CollectionError:
            raise
        except Exception as error:
            raise self._translate(error, "open a shell")
        self._shell_id = shell_id
        try:
            yield self
        except BaseException:
            self._shell_id = None
            self._close(protocol, shell_id, quiet=True)
            raise
        self._shell_id = None
        self._close(protocol, shell_id, quiet=False)

    def run(self, name, body, params=None, timeout=None, stdin_params=None):
        """Run script ``name`` with its parameters; return its JSON document.

        The command line carries the marker, the preamble and the loader (``build_command``); the body and the
        parameters go on the command's standard input (``build_input``). ``stdin_params``, where given, are
        the parameters (the agent scripts' name for them); otherwise ``params``. Inside ``session()`` the
        script runs in the session's shell, otherwise in a shell of its own.
        """
        command = encode_command(build_command(name))
        if len(command) > COMMAND_LINE_LIMIT:
            raise ParameterError("script %s is %d characters encoded, over the Windows command-line limit of %d"
                                 % (name, len(command), COMMAND_LINE_LIMIT))
        document = build_input(body, stdin_params if stdin_params is not None else params)
        timeout = timeout or self.params.get("command_timeout") or 600
        protocol = self.protocol()
        own_shell = self._shell_id is None
        stage = "open a shell"
        shell_id, command_id = self._shell_id, None
        try:
            if own_shell:
                shell_id = protocol.open_shell()
            stage = "start the script"
            command_id = self._run_with_input(protocol, shell_id, command, document)
            stage = "read the script's output"
            stdout, stderr, exit_code = self._receive(protocol, shell_id, command_id, name, timeout)
        except CollectionError:
            self._cleanup(protocol, shell_id, command_id, close=own_shell)
            raise
        except Exception as error:
            self._cleanup(protocol, shell_id, command_id, close=own_shell)
            raise self._translate(error, stage, name)
        self._cleanup(protocol, shell_id, command_id, quiet=False, close=own_shell)
        if exit_code != 0:
            text = clixml_to_text(stderr) or "(no error text)"
            raise ScriptError("script %s failed on %s (exit code %s): %s" % (name, self.host, exit_code, text),
                              host=self.host, script=name, exit_code=exit_code, stderr=text[-2000:])
        return parse_document(stdout, name, self.host)

    @staticmethod
    def _run_with_input(protocol, shell_id, command, document):
        """Start the command with a pipe for stdin, send the document, close stdin.

        As ansible-core's winrm connection plugin does for its module payload: ``console_mode_stdin``
        off, then WS-Man ``Send`` with ``End="true"`` (pywinrm ``Protocol.send_command_input``).
        """
        command_id = protocol.run_command(shell_id, command, console_mode_stdin=False)
        protocol.send_command_input(shell_id, command_id, (document + "\r\n").encode("ascii"), end=True)
        return command_id

    def _receive(self, protocol, shell_id, command_id, name, timeout):
        """Receive until the command is done, within ``timeout`` seconds in all.

        While the command runs without output the service answers each Receive with the OperationTimeout
        fault 2150858793 (MS-WSMV 3.1.4.14: the client "SHOULD issue another Receive request"; pywinrm
        raises it as WinRMOperationTimeoutError and its own get_command_output retries it without end).
        Each Receive asks for at most the time left (the request's OperationTimeout, pywinrm's
        ``operation_timeout_sec``, whole seconds, at least 1), so the wait ends near ``timeout`` even when
        operation_timeout is longer.
        """
        deadline = self._clock() + timeout
        configured = getattr(protocol, "operation_timeout_sec", None)
        out, err = [], []
        try:
            while True:
                if configured is not None:
                    left = int(math.ceil(deadline - self._clock()))
                    protocol.operation_timeout_sec = max(1, min(int(configured), left))
                try:
                    stdout, stderr, exit_code, done = protocol.get_command_output_raw(shell_id, command_id)
                except winrm.exceptions.WinRMOperationTimeoutError:
                    stdout, stderr, exit_code, done = b"", b"", None, False
                out.append(stdout)
                err.append(stderr)
                if done:
                    return b"".join(out), b"".join(err), exit_code
                if self._clock() >= deadline:
                    raise WinRMTimeoutError(
                        "script %s on %s did not finish within %ss (command_timeout); it may still be running "
                        "there: check the node's state with the info module before retrying"
                        % (name, self.host, timeout), host=self.host, script=name, timeout=timeout)
        finally:
            if configured is not None:
                protocol.operation_timeout_sec = configured

    def _cleanup(self, protocol, shell_id, command_id, quiet=True, close=True):
        """Signal the command to end (MS-WSMV 3.1.4.14: a final Signal after the output) and, for a shell of
        the run's own, delete the shell; both are tried, the first failure is raised unless ``quiet``."""
        if shell_id is None:
            return
        failure = None
        if command_id is not None:
            try:
                protocol.cleanup_command(shell_id, command_id)
            except Exception as error:
                failure = (error, "end the command")
        if close:
            try:
                protocol.close_shell(shell_id)
            except Exception as error:
                failure = failure or (error, "close the shell")
        if failure is not None and not quiet:
            raise self._translate(*failure)

    def _close(self, protocol, shell_id, quiet=True):
        try:
            protocol.close_shell(shell_id)
        except Exception as error:
            if not quiet:
                raise self._translate(error, "close the shell")

    def _translate(self, error, stage, script=None):
        """Map pywinrm/requests exceptions onto the collection's typed errors."""
        where = "WinRM at %s" % self.endpoint
        details = dict(host=self.host, endpoint=self.endpoint, stage=stage)
        if script:
            details["script"] = script
        if type(error).__name__ in ("KerberosExchangeError", "MutualAuthenticationError"):
            # pywinrm's vendored requests_kerberos: no ticket, an unknown service principal, or the node
            # could not prove who it is
            return WinRMAuthError(
                "Kerberos authentication with %s failed (%s); check that the controller has a ticket (klist; get "
                "one with kinit or a keytab, see docs/windows.md) and that hostname is the node's DNS name"
                % (where, _short(error)), **details)
        text = str(error)
        if _NO_ENCRYPTION in text:
            return ParameterError(
                "transport=%s over scheme=http needs WinRM message encryption, and the Kerberos library on the "
                "controller cannot encrypt WinRM messages (pywinrm: %s); install pywinrm's kerberos extra with "
                "pykerberos 1.2.1 or later (pip install 'pywinrm[kerberos]'), or use scheme=https"
                % (self.params.get("transport"), _short(error)), **details)
        if "did not meet the minimum" in text and self.params.get("transport") == "credssp":
            # pyspnego's CredSSP context: "The peer protocol version was N and did not meet the minimum ..."
            return WinRMAuthError(
                "%s speaks a CredSSP protocol version below %d, so it lacks the fix for CVE-2018-0886 and the "
                "collection will not delegate the password to it (%s); update the node, or use transport=kerberos "
                "with kerberos_delegation" % (where, CREDSSP_MINIMUM_VERSION, _short(error)), **details)
        if isinstance(error, winrm.exceptions.InvalidCredentialsError) or \
                isinstance(error, winrm.exceptions.AuthenticationError):
            if self.params.get("transport") == "kerberos":
                return WinRMAuthError(
                    "%s rejected the Kerberos ticket of %s; check the ticket (klist), that the account may use WinRM "
                    "on the node, and that hostname is the node's DNS name"
                    % (where, self.params.get("username") or "the default principal"), **details)
            return WinRMAuthError(
                "%s rejected the credentials of user %r with transport %s; check username/password "
                "(WINRM_USER/WINRM_PASSWORD) and that the listener allows this transport"
                % (where, self.params.get("username"), self.params.get("transport")), **details)
        if isinstance(error, requests.exceptions.SSLError):
            return WinRMTLSError(
                "TLS with %s failed (%s); give the CA bundle that signed the node's certificate with ca_path "
                "(WINRM_CA_PATH), or check the address matches the certificate" % (where, _short(error)),
                **details)
        if isinstance(error, (requests.exceptions.ReadTimeout,)):
            return WinRMTimeoutError(
                "%s did not answer within read_timeout=%ss while trying to %s; the node may be busy or "
                "the operation may still be running there" % (where, self.params.get("read_timeout"), stage),
                **details)
        if isinstance(error, requests.exceptions.ConnectionError):
            return WinRMUnreachableError(
                "cannot reach %s (%s); check hostname, port, scheme and that WinRM is listening"
                % (where, _short(error)), **details)
        if isinstance(error, winrm.exceptions.WSManFaultError):
            return WinRMError("%s returned a WS-Management fault while trying to %s: %s"
                              % (where, stage, error.reason), wsman_fault_code=error.wsman_fault_code, **details)
        if isinstance(error, winrm.exceptions.WinRMTransportError):
            return WinRMError("%s answered HTTP %s while trying to %s" % (where, error.code, stage), **details)
        return WinRMError("WinRM exchange with %s failed while trying to %s: %s: %s"
                          % (where, stage, type(error).__name__, _short(error)), **details)


def missing_transport_library(transport, error):
    """pywinrm says "requested auth method is kerberos, but pykerberos is not installed" (its transport.py);
    name the extra to install instead."""
    extra = TRANSPORT_EXTRAS.get(transport or "")
    text = str(error)
    if not extra or "not installed" not in text:
        return None
    return ParameterError(
        "transport=%s needs pywinrm's %s extra on the controller (pip install '%s'; it also needs the system "
        "libraries listed in docs/windows.md): %s" % (transport, transport, extra, text[:200]),
        transport=transport)


def _short(error):
    text = str(error)
    # requests nests the useful part deep inside reprs; the tail is what the operator needs.
    match = re.search(r"\(Caused by ([^(]+)\((.*)\)\)\s*$", text)
    if match:
        text = "%s: %s" % (match.group(1), match.group(2))
    return text[:300]
