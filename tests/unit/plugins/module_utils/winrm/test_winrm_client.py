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
