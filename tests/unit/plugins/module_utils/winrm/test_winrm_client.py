"""The WinRM client: connection validation, script framing, error mapping, bounded waits."""
import base64
import json

import pytest
import requests
import winrm.exceptions

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import client as c

BASE = dict(hostname="node1", username="LAB\\admin", password="S3cret!", port=None, transport="ntlm", scheme="https",
            validate_certs=True, ca_path=None, message_encryption="auto", operation_timeout=20, read_timeout=30,
            command_timeout=60, allow_unencrypted_http=False)


class FakeProtocol(object):
    def __init__(self, outputs=None, fail=None, fail_on="open_shell"):
        self.outputs = list(outputs or [])
        self.fail, self.fail_on = fail, fail_on
        self.log = []

    def _maybe_fail(self, stage):
        self.log.append(stage)
        if self.fail is not None and stage == self.fail_on:
            raise self.fail

    def open_shell(self):
        self._maybe_fail("open_shell")
        return "S1"

    def run_command(self, shell_id, command, console_mode_stdin=True):
        self._maybe_fail("run_command")
        self.command = command
        self.console_mode_stdin = console_mode_stdin
        return "C1"

    def send_command_input(self, shell_id, command_id, stdin_input, end=False):
        self._maybe_fail("send")
        self.stdin, self.stdin_end = stdin_input, end

    def get_command_output_raw(self, shell_id, command_id):
        self._maybe_fail("receive")
        item = self.outputs.pop(0) if len(self.outputs) > 1 else self.outputs[0]
        if isinstance(item, Exception):
            raise item
        return item

    def cleanup_command(self, shell_id, command_id):
        self.log.append("signal")

    def close_shell(self, shell_id):
        self.log.append("delete")


def make(protocol, clock=None, **overrides):
    params = dict(BASE, **overrides)
    kwargs = {"protocol_factory": lambda _: protocol}
    if clock:
        kwargs["clock"] = clock
    return c.WinRMClient(params, **kwargs)


def test_argument_spec_marks_secrets_and_env_fallbacks():
    spec = c.winrm_argument_spec()
    assert spec["password"]["no_log"] is True
    assert spec["transport"]["default"] == "ntlm" and spec["scheme"]["default"] == "https"
    assert spec["validate_certs"]["default"] is True
    for option, env in (("hostname", "WINRM_HOST"), ("username", "WINRM_USER"), ("password", "WINRM_PASSWORD"),
                        ("port", "WINRM_PORT"), ("transport", "WINRM_TRANSPORT"),
                        ("validate_certs", "WINRM_VALIDATE_CERTS"), ("ca_path", "WINRM_CA_PATH")):
        assert spec[option]["fallback"][1] == [env]


@pytest.mark.parametrize("overrides, words", [
    (dict(scheme="http", transport="basic"), "allow_unencrypted_http"),
    (dict(scheme="http", transport="ntlm", message_encryption="never"), "unencrypted"),
    (dict(transport="certificate"), "cert_pem"),
    (dict(transport="certificate", scheme="http", cert_pem="a", cert_key_pem="b"), "scheme=https"),
    (dict(password=None), "password"),
    (dict(read_timeout=20), "read_timeout"),
    (dict(hostname=""), "hostname"),
])
def test_bad_connection_settings_are_refused_before_connecting(overrides, words):
    with pytest.raises(ParameterError) as error:
        c.validate_connection(dict(BASE, **overrides))
    assert words in error.value.message
    assert "S3cret" not in error.value.message


def test_http_allowed_with_kerberos_or_opt_in():
    c.validate_connection(dict(BASE, scheme="http", transport="kerberos"))
    c.validate_connection(dict(BASE, scheme="http", transport="basic", allow_unencrypted_http=True))
    c.validate_connection(dict(BASE, scheme="http", transport="ntlm", allow_unencrypted_http=True))


def test_ntlm_over_http_needs_the_same_opt_in_as_basic():
    # NTLM message encryption does not authenticate the server: a machine in the middle can answer as the node
    with pytest.raises(ParameterError) as error:
        c.validate_connection(dict(BASE, scheme="http", transport="ntlm"))
    assert "allow_unencrypted_http" in error.value.message and "authenticate the server" in error.value.message


def test_credssp_is_refused_over_http_even_with_the_opt_in():
    with pytest.raises(ParameterError) as error:
        c.validate_connection(dict(BASE, scheme="http", transport="credssp", allow_unencrypted_http=True))
    assert "scheme=https" in error.value.message


@pytest.mark.parametrize("port", [-1, 0, 65536, 70000])
def test_port_out_of_range_is_refused_naming_the_parameter(port):
    with pytest.raises(ParameterError) as error:
        c.validate_connection(dict(BASE, port=port))
    assert error.value.message.startswith("port must be between 1 and 65535") and str(port) in error.value.message


def test_port_in_range_is_accepted():
    for port in (1, 5985, 65535):
        c.validate_connection(dict(BASE, port=port))


def test_kerberos_needs_no_password_and_no_username():
    # a ticket from kinit, or a client keytab (KRB5_CLIENT_KTNAME), is all pywinrm's Kerberos uses
    c.validate_connection(dict(BASE, transport="kerberos", username=None, password=None))
    c.validate_connection(dict(BASE, transport="kerberos", username="admin@LAB.EXAMPLE", password=None))


def test_credssp_still_needs_username_and_password():
    # CredSSP delegates the password itself to the node; there is nothing to delegate without one
    with pytest.raises(ParameterError) as error:
        c.validate_connection(dict(BASE, transport="credssp", password=None))
    assert "username and password" in error.value.message


class CapturingProtocol(object):
    seen = []

    def __init__(self, endpoint, **kwargs):
        CapturingProtocol.seen.append((endpoint, kwargs))


def test_kerberos_client_passes_no_password_and_the_delegation_choice(monkeypatch):
    CapturingProtocol.seen = []
    monkeypatch.setattr(c.winrm.protocol, "Protocol", CapturingProtocol)
    client = c.WinRMClient(dict(BASE, transport="kerberos", username=None, password=None, kerberos_delegation=True))
    client.protocol()
    endpoint, kwargs = CapturingProtocol.seen[0]
    assert endpoint == "https://node1:5986/wsman"
    assert kwargs["transport"] == "kerberos" and kwargs["username"] is None and kwargs["password"] is None
    assert kwargs["kerberos_delegation"] is True


def test_ntlm_client_does_not_send_kerberos_options(monkeypatch):
    CapturingProtocol.seen = []
    monkeypatch.setattr(c.winrm.protocol, "Protocol", CapturingProtocol)
    c.WinRMClient(dict(BASE, kerberos_delegation=True)).protocol()
    assert "kerberos_delegation" not in CapturingProtocol.seen[0][1]


@pytest.mark.parametrize("transport, text, extra", [
    ("kerberos", "requested auth method is kerberos, but pykerberos is not installed", "pywinrm[kerberos]"),
    ("credssp", "requests auth method is credssp, but requests-credssp is not installed", "pywinrm[credssp]"),
])
def test_missing_transport_extra_names_what_to_install(monkeypatch, transport, text, extra):
    def refuse(endpoint, **kwargs):
        raise winrm.exceptions.WinRMError(text)

    monkeypatch.setattr(c.winrm.protocol, "Protocol", refuse)
    with pytest.raises(ParameterError) as error:
        c.WinRMClient(dict(BASE, transport=transport)).protocol()
    assert extra in error.value.message and "docs/windows.md" in error.value.message
    assert "S3cret" not in error.value.message


def test_endpoint_defaults_port_by_scheme():
    assert make(FakeProtocol()).endpoint == "https://node1:5986/wsman"
    assert make(FakeProtocol(), scheme="http", transport="kerberos").endpoint == "http://node1:5985/wsman"
    assert make(FakeProtocol(), port=15986).endpoint == "https://node1:15986/wsman"


def test_build_script_marker_params_and_compaction():
    text = c.build_script("demo", "  # a comment\n  $x = 1\n\n", {"b": 1, "a": "it's"})
    lines = text.splitlines()
    assert lines[0] == "# clustersafe:demo"
    assert json.loads(lines[lines.index("$P = @'") + 1]) == {"a": "it's", "b": 1}
    assert lines[-1] == "$x = 1" and "a comment" not in text


def test_run_returns_the_document_and_uses_one_shell():
    protocol = FakeProtocol([(b'\xef\xbb\xbf{"ok": true}\r\n', b"", 0, True)])
    assert make(protocol).run("demo", "$x = 1", {}) == {"ok": True}
    assert protocol.log == ["open_shell", "run_command", "send", "receive", "signal", "delete"]
    assert protocol.command.startswith(c.COMMAND_PREFIX)


def test_the_command_line_carries_the_loader_and_standard_input_the_body_and_parameters():
    protocol = FakeProtocol([(b'{"ok": true}', b"", 0, True)])
    make(protocol).run("demo", "  # note\n  $x = $P.name\n", {"name": "it's"})
    script = base64.b64decode(protocol.command[len(c.COMMAND_PREFIX):]).decode("utf-16-le")
    assert script.splitlines()[0] == "# clustersafe:demo"
    assert script.splitlines()[-3:] == list(c.LOADER)
    assert "$x" not in script and "it's" not in script
    assert protocol.console_mode_stdin is False and protocol.stdin_end is True
    assert json.loads(protocol.stdin.decode("ascii")) == {"p": {"name": "it's"}, "s": "$x = $P.name\n"}
    assert protocol.stdin.endswith(b"\r\n")


def test_the_command_line_is_the_same_whatever_the_script():
    first, second = FakeProtocol([(b"{}", b"", 0, True)]), FakeProtocol([(b"{}", b"", 0, True)])
    make(first).run("demo", "$x = 'y'\n" * 2000, {"a": "b" * 5000})
    make(second).run("demo", "", {})
    assert first.command == second.command


def test_operation_timeouts_are_retried_until_done():
    protocol = FakeProtocol([winrm.exceptions.WinRMOperationTimeoutError(), (b'{"a"', b"", None, False),
                             (b': 1}', b"", 0, True)])
    protocol.outputs = [protocol.outputs[0], protocol.outputs[1], protocol.outputs[2]]
    assert make(protocol).run("demo", "", {}) == {"a": 1}


def test_command_timeout_bounds_the_wait_and_cleans_up():
    now = [0.0]

    def clock():
        now[0] += 1.0
        return now[0]

    protocol = FakeProtocol([winrm.exceptions.WinRMOperationTimeoutError()])
    with pytest.raises(c.WinRMTimeoutError) as error:
        make(protocol, clock=clock, command_timeout=5).run("demo", "", {})
    assert "may still be running" in error.value.message
    assert protocol.log[-2:] == ["signal", "delete"]


@pytest.mark.parametrize("exception, kind", [
    (winrm.exceptions.InvalidCredentialsError("rejected"), c.WinRMAuthError),
    (requests.exceptions.SSLError("certificate verify failed"), c.WinRMTLSError),
    (requests.exceptions.ConnectionError("refused"), c.WinRMUnreachableError),
    (requests.exceptions.ConnectTimeout("connect timed out"), c.WinRMUnreachableError),
    (requests.exceptions.ReadTimeout("read timed out"), c.WinRMTimeoutError),
    (winrm.exceptions.WinRMTransportError("http", 500, "boom"), c.WinRMError),
])
def test_transport_errors_are_typed(exception, kind):
    with pytest.raises(kind) as error:
        make(FakeProtocol(fail=exception)).run("demo", "", {})
    assert "S3cret" not in error.value.message
    assert error.value.details["host"] == "node1"


def test_script_error_carries_the_powershell_text():
    stderr = (b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
              b'<S S="Error">Cannot find a service with service name \'ClusSvc\'._x000D__x000A_</S>'
              b'<S S="Error">    + CategoryInfo          : ObjectNotFound_x000D__x000A_</S></Objs>')
    with pytest.raises(c.ScriptError) as error:
        make(FakeProtocol([(b"", stderr, 1, True)])).run("demo", "", {})
    assert error.value.message.endswith("Cannot find a service with service name 'ClusSvc'.")
    assert error.value.details["exit_code"] == 1


@pytest.mark.parametrize("stdout", [b"", b"WARNING: x\r\n{}", b'{"a":1}{"b":2}', b"[1, 2]", b"not json"])
def test_anything_but_one_json_object_is_malformed(stdout):
    with pytest.raises(c.MalformedOutputError):
        make(FakeProtocol([(stdout, b"", 0, True)])).run("demo", "", {})


def test_a_command_line_over_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(c, "LOADER", c.LOADER + ("$x = 'y'",) * 900)
    with pytest.raises(ParameterError) as error:
        make(FakeProtocol([(b"{}", b"", 0, True)])).run("demo", "", {})
    assert "command-line limit" in error.value.message


def test_clixml_plain_text_passthrough():
    assert c.clixml_to_text(b"plain error\r\n") == "plain error"


class KerberosExchangeError(requests.exceptions.RequestException):
    """Stands in for pywinrm's vendored requests_kerberos error of that name (matched by name)."""


def test_kerberos_failures_point_at_the_ticket():
    with pytest.raises(c.WinRMAuthError) as error:
        make(FakeProtocol(fail=KerberosExchangeError("authGSSClientStep() failed: No credentials cache found")),
             transport="kerberos", password=None).run("demo", "", {})
    assert "klist" in error.value.message and "kinit" in error.value.message
    with pytest.raises(c.WinRMAuthError) as error:
        make(FakeProtocol(fail=winrm.exceptions.InvalidCredentialsError("rejected")),
             transport="kerberos", username=None, password=None).run("demo", "", {})
    assert "Kerberos ticket of the default principal" in error.value.message


# --- long operations: Receive long-polls, faults 2150858793 while the command runs -------------------

class PollingProtocol(FakeProtocol):
    """A node whose command runs ``busy`` Receives long: each Receive before then ends with the
    OperationTimeout fault, as MS-WSMV 3.1.4.14 has the service answer. Records the OperationTimeout each
    Receive asked for (pywinrm puts ``operation_timeout_sec`` into the request's header)."""

    def __init__(self, busy, operation_timeout_sec=20):
        FakeProtocol.__init__(self, [(b'{"done": true}', b"", 0, True)])
        self.busy = busy
        self.operation_timeout_sec = operation_timeout_sec
        self.asked = []

    def get_command_output_raw(self, shell_id, command_id):
        self.asked.append(self.operation_timeout_sec)
        if len(self.asked) <= self.busy:
            self.log.append("receive")
            raise winrm.exceptions.WinRMOperationTimeoutError()
        return FakeProtocol.get_command_output_raw(self, shell_id, command_id)


def test_a_command_longer_than_read_timeout_is_received_after_operation_timeouts():
    now = [0.0]

    def clock():
        return now[0]

    protocol = PollingProtocol(busy=3)
    real = protocol.get_command_output_raw

    def long_poll(shell_id, command_id):
        now[0] += protocol.operation_timeout_sec  # each fault comes after the full OperationTimeout
        return real(shell_id, command_id)

    protocol.get_command_output_raw = long_poll
    assert make(protocol, clock=clock, command_timeout=600).run("demo", "", {}) == {"done": True}
    assert protocol.log == ["open_shell", "run_command", "send"] + ["receive"] * 4 + ["signal", "delete"]
    assert protocol.asked == [20, 20, 20, 20] and protocol.operation_timeout_sec == 20


def test_the_last_receive_asks_only_for_the_time_left_so_command_timeout_bounds_the_wait():
    now = [0.0]
    protocol = PollingProtocol(busy=100)
    real = protocol.get_command_output_raw

    def long_poll(shell_id, command_id):
        now[0] += protocol.operation_timeout_sec
        return real(shell_id, command_id)

    protocol.get_command_output_raw = long_poll
    with pytest.raises(c.WinRMTimeoutError) as error:
        make(protocol, clock=lambda: now[0], command_timeout=45).run("demo", "", {})
    assert protocol.asked == [20, 20, 5] and now[0] == 45
    assert "45s (command_timeout)" in error.value.message
    assert protocol.operation_timeout_sec == 20  # put back for the next script
    assert protocol.log[-2:] == ["signal", "delete"]


def test_a_short_command_timeout_asks_at_least_one_second():
    now = [0.0]
    protocol = PollingProtocol(busy=100)
    real = protocol.get_command_output_raw

    def poll(shell_id, command_id):
        now[0] += 0.75
        return real(shell_id, command_id)

    protocol.get_command_output_raw = poll
    with pytest.raises(c.WinRMTimeoutError):
        make(protocol, clock=lambda: now[0], command_timeout=2).run("demo", "", {})
    assert protocol.asked == [2, 2, 1]


# --- several scripts over one shell ------------------------------------------------------------------

class ShellProtocol(FakeProtocol):
    """Counts shells and commands, and which shell each command ran in."""

    def __init__(self, outputs, fail_command=None):
        FakeProtocol.__init__(self, outputs)
        self.shells, self.commands, self.fail_command = 0, [], fail_command

    def open_shell(self):
        self.log.append("open_shell")
        self.shells += 1
        return "S%d" % self.shells

    def run_command(self, shell_id, command, console_mode_stdin=True):
        self.log.append("run_command")
        self.commands.append(shell_id)
        if self.fail_command is not None and len(self.commands) == self.fail_command:
            raise requests.exceptions.ConnectionError("reset by peer")
        return "C%d" % len(self.commands)


def test_a_session_runs_several_scripts_over_one_shell():
    protocol = ShellProtocol([(b'{"n": 1}', b"", 0, True)])
    client = make(protocol)
    with client.session() as same:
        assert same is client
        assert client.run("one", "", {}) == {"n": 1}
        assert client.run("two", "", {}) == {"n": 1}
        with client.session():  # nested: the same shell
            client.run("three", "", {})
    assert protocol.shells == 1 and protocol.commands == ["S1", "S1", "S1"]
    assert protocol.log == ["open_shell"] + ["run_command", "send", "receive", "signal"] * 3 + ["delete"]


def test_run_outside_a_session_keeps_one_shell_per_script():
    protocol = ShellProtocol([(b"{}", b"", 0, True)])
    client = make(protocol)
    client.run("one", "", {})
    with client.session():
        client.run("two", "", {})
    client.run("three", "", {})
    assert protocol.commands == ["S1", "S2", "S3"] and protocol.log.count("delete") == 3


def test_a_failing_script_in_a_session_still_closes_the_shell_once():
    stderr = b"boom"
    protocol = ShellProtocol([(b"", stderr, 1, True)])
    client = make(protocol)
    with pytest.raises(c.ScriptError):
        with client.session():
            client.run("one", "", {})
    assert protocol.log == ["open_shell", "run_command", "send", "receive", "signal", "delete"]
    # the client is usable afterwards, one shell per run again
    protocol.outputs = [(b"{}", b"", 0, True)]
    client.run("two", "", {})
    assert protocol.shells == 2


def test_a_transport_failure_in_a_session_is_typed_and_the_shell_is_closed():
    protocol = ShellProtocol([(b"{}", b"", 0, True)], fail_command=2)
    client = make(protocol)
    with pytest.raises(c.WinRMUnreachableError) as error:
        with client.session():
            client.run("one", "", {})
            client.run("two", "", {})
    assert error.value.details["stage"] == "start the script" and error.value.details["script"] == "two"
    assert protocol.log[-1] == "delete" and protocol.log.count("delete") == 1


def test_a_session_that_cannot_open_its_shell_is_a_typed_error():
    client = make(FakeProtocol(fail=winrm.exceptions.InvalidCredentialsError("rejected")))
    with pytest.raises(c.WinRMAuthError):
        with client.session():
            raise AssertionError("the body must not run")


def test_closing_the_shell_of_a_session_that_succeeded_reports_a_failure():
    protocol = ShellProtocol([(b"{}", b"", 0, True)])

    def refuse(shell_id):
        raise requests.exceptions.ConnectionError("gone")

    protocol.close_shell = refuse
    with pytest.raises(c.WinRMUnreachableError) as error:
        with make(protocol).session() as client:
            client.run("one", "", {})
    assert error.value.details["stage"] == "close the shell"


# --- transport hardening -------------------------------------------------------------------------------

def test_kerberos_over_http_asks_pywinrm_to_always_encrypt(monkeypatch):
    CapturingProtocol.seen = []
    monkeypatch.setattr(c.winrm.protocol, "Protocol", CapturingProtocol)
    c.WinRMClient(dict(BASE, scheme="http", transport="kerberos", password=None)).protocol()
    c.WinRMClient(dict(BASE, transport="kerberos", password=None)).protocol()
    c.WinRMClient(dict(BASE, scheme="http", transport="ntlm", allow_unencrypted_http=True)).protocol()
    assert [kwargs["message_encryption"] for endpoint, kwargs in CapturingProtocol.seen] == ["always", "auto", "auto"]


@pytest.mark.parametrize("overrides, wanted", [
    (dict(scheme="http", transport="kerberos"), "always"),
    (dict(scheme="http", transport="kerberos", message_encryption="always"), "always"),
    (dict(scheme="http", transport="kerberos", message_encryption="never", allow_unencrypted_http=True), "never"),
    (dict(scheme="https", transport="kerberos"), "auto"),
    (dict(scheme="http", transport="basic", allow_unencrypted_http=True), "auto"),
])
def test_effective_message_encryption(overrides, wanted):
    assert c.effective_message_encryption(dict(BASE, **overrides)) == wanted


def test_a_kerberos_library_that_cannot_encrypt_is_a_clear_error():
    text = "message encryption is set to 'always' but the selected auth method kerberos does not support it"
    with pytest.raises(ParameterError) as error:
        make(FakeProtocol(fail=winrm.exceptions.WinRMError(text)), scheme="http", transport="kerberos",
             password=None).run("demo", "", {})
    assert "needs WinRM message encryption" in error.value.message and "pywinrm[kerberos]" in error.value.message
    assert "scheme=https" in error.value.message


class CredSSPProtocol(object):
    def __init__(self, endpoint, **kwargs):
        self.kwargs = kwargs
        self.transport = type("Transport", (), {"credssp_minimum_version": 2})()


def test_credssp_requires_a_node_patched_for_cve_2018_0886(monkeypatch):
    monkeypatch.setattr(c.winrm.protocol, "Protocol", CredSSPProtocol)
    protocol = c.WinRMClient(dict(BASE, transport="credssp")).protocol()
    assert protocol.transport.credssp_minimum_version == 5 == c.CREDSSP_MINIMUM_VERSION
    assert "credssp_minimum_version" not in protocol.kwargs  # pywinrm's Protocol does not take it


def test_the_real_pywinrm_transport_hands_the_minimum_to_requests_credssp():
    protocol = c.WinRMClient(dict(BASE, transport="credssp"))._make_protocol()
    assert protocol.transport.credssp_minimum_version == c.CREDSSP_MINIMUM_VERSION


def test_a_node_below_the_credssp_minimum_is_named():
    fail = requests.exceptions.RequestException("The peer protocol version was 3 and did not meet the minimum "
                                                "requirements of 5")
    with pytest.raises(c.WinRMAuthError) as error:
        make(FakeProtocol(fail=fail), transport="credssp").run("demo", "", {})
    assert "CVE-2018-0886" in error.value.message and "S3cret" not in error.value.message


@pytest.mark.parametrize("overrides, words", [
    (dict(scheme="http", transport="basic", allow_unencrypted_http=True), "clear text"),
    (dict(scheme="http", transport="ntlm", allow_unencrypted_http=True), "does not authenticate the node"),
    (dict(scheme="http", transport="kerberos", message_encryption="never", allow_unencrypted_http=True),
     "message_encryption=never"),
])
def test_plain_http_allowed_by_the_opt_in_is_warned_about(overrides, words):
    (warning,) = c.connection_warnings(dict(BASE, **overrides))
    assert warning.startswith("allow_unencrypted_http=true") and words in warning and "node1" in warning
    assert "S3cret" not in warning


@pytest.mark.parametrize("overrides", [
    dict(),
    dict(allow_unencrypted_http=True),  # over https the opt-in changes nothing
    dict(scheme="http", transport="kerberos"),
    dict(scheme="http", transport="kerberos", allow_unencrypted_http=True),
])
def test_protected_connections_carry_no_warning(overrides):
    assert c.connection_warnings(dict(BASE, **overrides)) == []
