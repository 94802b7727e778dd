"""A WinRM (WS-Management shell) server speaking the protocol the way pywinrm 0.5 expects it.

One listener per node and port; HTTP with Basic auth, HTTPS with Basic or NTLM (pyspnego acceptor).
Every request is ``POST /wsman`` with a SOAP envelope; the actions handled are shell Create,
Command, Send, Receive, Signal and Delete. A Command must be ``powershell ... -EncodedCommand <base64 of
UTF-16-LE>``; the script's first line is the marker ``# clustersafe:<name>``. The collection's loader
(``client.LOADER``) reads the body and its parameters as one JSON document ``{"p": ..., "s": ...}`` from
standard input (``Send``, stream ``stdin``): such a script blocks, as powershell.exe does, until its
standard input is closed (``End="true"``).
The model answers; the output carries the JSON on stdout, or a CLIXML error on stderr with exit code 1,
as Windows PowerShell does.

Timing, as a WinRM service runs a command (MS-WSMV, Microsoft's WS-Management protocol extensions,
3.1.4.11 Command, 3.1.4.13 Send, 3.1.4.14 Receive; pywinrm's own tests show the same exchange:
winrm/tests/test_protocol.py test_send_command_input and test_get_command_output, the requests and
responses in winrm/tests/conftest.py, and the OperationTimeout fault in test_exceptions.py
test_wsman_fault_known_fault):

- Command and Send answer at once; the script then runs "in the background" for the time the model gives
  it (``WindowsModel.operation_seconds``, the ``operation_seconds`` fault). The model applies the script's
  effect when it starts, so a client that stops waiting (command_timeout, Signal, Delete) does not undo it,
  as on a real node where the work goes on without the client.
- Receive long-polls: it answers as soon as the command is done (its streams and
  ``CommandState/Done`` with the exit code), and otherwise, when the request's ``OperationTimeout`` has
  passed, with the WS-Management fault 2150858793 ("If no output is available before the
  wsman:OperationTimeout expires, the server MUST return a WSManFault with the Code attribute equal to
  2150858793. When the client receives this fault, it SHOULD issue another Receive request", 3.1.4.14),
  which pywinrm turns into WinRMOperationTimeoutError. A request without OperationTimeout, or asking for
  more, waits at most the service's MaxTimeoutms (3.1.4.1.6; 60 s, Windows' default).
- A script that never finishes (fault ``timeout_next``) or still waits for its standard input long-polls
  the same way and never completes.
"""
import base64
import json
import os
import re
import socket
import ssl
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.lab.windows.model import ScriptFailure

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
}
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer/"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"
OPERATION_TIMEOUT_FAULT = 2150858793
ENCODED = re.compile(r"-e(?:ncodedcommand|nc|c)?\s+([A-Za-z0-9+/=]+)", re.IGNORECASE)
MARKER = re.compile(r"^# clustersafe:([a-z_]+)")
PARAMS = re.compile(r"^\$P = @'\n(.*?)\n'@", re.MULTILINE | re.DOTALL)
# the collection's loader (client.LOADER): body and parameters arrive as {"p": ..., "s": ...} on standard input
STDIN_READER = re.compile(r"^\$I = ConvertFrom-Json -InputObject \(@\(\$input\)", re.MULTILINE)
# MaxTimeoutms, the longest OperationTimeout the service grants (MS-WSMV 3.1.4.1.6); 60000 is Windows' default
MAX_TIMEOUT_SECONDS = 60.0
DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
# how often a waiting Receive looks again (a Signal, a Delete or the end of the command)
POLL_SECONDS = 0.05


def operation_timeout(header):
    """Seconds a request's ``wsman:OperationTimeout`` (an xs:duration such as ``PT20S``) allows, capped at
    MaxTimeoutms; the cap when the header is missing or not a duration."""
    text = (header.findtext("w:OperationTimeout", "", NS) or "").strip() if header is not None else ""
    match = DURATION.match(text)
    if not text or not match:
        return MAX_TIMEOUT_SECONDS
    days, hours, minutes, seconds = match.groups()
    total = (int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0))
    return min(total, MAX_TIMEOUT_SECONDS)


def clixml_error(text):
    """stderr as powershell.exe -EncodedCommand writes it for a terminating error."""
    escaped = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
               .replace("\r\n", "\n").replace("\n", "_x000D__x000A_"))
    return ('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
            '<S S="Error">%s_x000D__x000A_</S>'
            '<S S="Error">    + CategoryInfo          : NotSpecified: (:) [], RuntimeException_x000D__x000A_</S>'
            '</Objs>' % escaped).encode("utf-8")


def envelope(action, relates_to, body):
    return ('<?xml version="1.0" ?>\n<s:Envelope xml:lang="en-US" xmlns:s="%(s)s" xmlns:a="%(a)s" xmlns:w="%(w)s" '
            'xmlns:rsp="%(rsp)s" xmlns:x="%(x)s" xmlns:p="%(p)s"><s:Header><a:Action>%(action)s</a:Action>'
            '<a:MessageID>uuid:%(mid)s</a:MessageID>'
            '<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>'
            '<a:RelatesTo>%(relates)s</a:RelatesTo></s:Header><s:Body>%(body)s</s:Body></s:Envelope>'
            % dict(NS, action=action, mid=uuid.uuid4(), relates=relates_to, body=body)).encode("utf-8")


def fault(relates_to, code, reason, wsman_code):
    body = ('<s:Fault><s:Code><s:Value>s:%s</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code>'
            '<s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason><s:Detail>'
            '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="%d" Machine="lab">'
            '<f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault>' % (code, reason, wsman_code, reason))
    return envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


def _started(entry):
    """A command entry as Receive reads it: one that ran (or failed to start) has output from ``ready_at``
    (now unless the model gave it a duration); one that hangs or waits for its input has none."""
    if not entry.get("hang") and not entry.get("awaiting_input"):
        entry.setdefault("ready_at", time.monotonic())
    return entry


class Shells(object):
    """Open shells and their commands, per listener."""

    def __init__(self):
        self.lock = threading.Lock()
        self.shells = {}


def make_handler(node_name, model, world, credentials, shells, tls):
    username, password = credentials

    def user_matches(given):
        given = given.lower()
        wanted = username.lower()
        return given == wanted or given == wanted.split("\\")[-1] or "%s\\%s" % (wanted.split("\\")[0], given) == wanted

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "Microsoft-HTTPAPI/2.0"
        ntlm_context = None
        authenticated = False

        def log_message(self, *args):
            pass

        def setup(self):
            BaseHTTPRequestHandler.setup(self)
            # headers and body go out in two writes; without this, Nagle plus delayed ACK costs ~40 ms each
            try:
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

        def _send(self, code, body=b"", headers=()):
            self.send_response(code)
            for key, value in headers:
                self.send_header(key, value)
            if body:
                self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def _challenge(self):
            offers = [("WWW-Authenticate", 'Basic realm="WSMAN"')]
            if tls:
                offers = [("WWW-Authenticate", "Negotiate")] + offers
            self._send(401, b"", offers)

        def _authenticate(self):
            """True when the request may proceed; otherwise the 401 has been sent."""
            header = self.headers.get("Authorization") or ""
            scheme, token = (header.split(" ", 1) + [""])[:2]
            scheme = scheme.lower()
            if scheme == "basic":
                try:
                    user, given = (base64.b64decode(token).decode("utf-8").split(":", 1) + [None])[:2]
                except (ValueError, UnicodeDecodeError):
                    user, given = "", None
                if user_matches(user) and given == password:
                    return True
                self._challenge()
                return False
            if scheme in ("negotiate", "ntlm") and tls and token:
                return self._ntlm(scheme, token)
            if self.authenticated:
                return True
            self._challenge()
            return False

        def _ntlm(self, scheme, token):
            import spnego
            raw = base64.b64decode(token)
            if self.ntlm_context is None or raw.startswith(b"NTLMSSP\x00\x01"):
                self.ntlm_context = spnego.server(protocol="ntlm")
            try:
                answer = self.ntlm_context.step(raw)
            except Exception:
                self.ntlm_context = None
                self._challenge()
                return False
            if not self.ntlm_context.complete:
                label = "Negotiate" if scheme == "negotiate" else "NTLM"
                self._send(401, b"", [("WWW-Authenticate", "%s %s" % (label, base64.b64encode(answer).decode()))])
                return False
            self.authenticated = True
            return True

        def do_POST(self):
            slow = model.faults.get("slow_ms")
            if slow:
                time.sleep(int(slow) / 1000.0)
            # read the body first so a 401 leaves the keep-alive connection in step
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length else b""
            if not self._authenticate():
                return
            if not data:
                return self._send(200)
            try:
                root = ET.fromstring(data)
            except ET.ParseError:
                return self._send(400)
            header = root.find("s:Header", NS)
            action = (header.findtext("a:Action", "", NS) or "").strip()
            message_id = (header.findtext("a:MessageID", "", NS) or "").strip()
            selector = header.find("w:SelectorSet/w:Selector[@Name='ShellId']", NS)
            shell_id = selector.text.strip() if selector is not None and selector.text else None
            body = root.find("s:Body", NS)
            if action == SHELL + "Receive":
                # waits outside the lab's lock, so the other nodes (and this node's other shells) go on
                code, payload = self._receive(message_id, shell_id, body, operation_timeout(header))
            else:
                with world.lock:
                    code, payload = self._dispatch(action, message_id, shell_id, body)
            self._send(code, payload)

        def _receive(self, message_id, shell_id, body, timeout):
            """Long-poll one Receive: the output once the command is done, or the OperationTimeout fault."""
            stream = body.find("rsp:Receive/rsp:DesiredStream", NS) if body is not None else None
            command_id = stream.get("CommandId") if stream is not None else None
            with world.lock:
                model.count(node_name, "receive")
            ends = time.monotonic() + timeout
            while True:
                with world.lock:
                    if shell_id not in shells.shells:
                        return 500, self._no_shell(message_id, shell_id)
                    result = shells.shells[shell_id].get(command_id)
                    if result is None:
                        return 500, fault(message_id, "Sender", "unknown CommandId %s" % command_id, 2150858843)
                    now = time.monotonic()
                    ready_at = result.get("ready_at")
                    if ready_at is not None and now >= ready_at:
                        return 200, self._output(message_id, command_id, result)
                    if now >= ends:
                        return 500, fault(message_id, "Receiver", "The WS-Management service cannot complete the "
                                          "operation within the time specified in OperationTimeout.",
                                          OPERATION_TIMEOUT_FAULT)
                wake = ends if ready_at is None else min(ready_at, ends)
                time.sleep(max(0.0, min(wake - now, POLL_SECONDS)))

        @staticmethod
        def _output(message_id, command_id, result):
            parts = []
            for name in ("stdout", "stderr"):
                if result[name]:
                    parts.append('<rsp:Stream Name="%s" CommandId="%s">%s</rsp:Stream>'
                                 % (name, command_id, base64.b64encode(result[name]).decode()))
                parts.append('<rsp:Stream Name="%s" CommandId="%s" End="true"></rsp:Stream>' % (name, command_id))
            parts.append('<rsp:CommandState CommandId="%s" State="%sCommandState/Done"><rsp:ExitCode>%d'
                         '</rsp:ExitCode></rsp:CommandState>' % (command_id, SHELL, result["exit_code"]))
            return envelope(SHELL + "ReceiveResponse", message_id,
                            "<rsp:ReceiveResponse>%s</rsp:ReceiveResponse>" % "".join(parts))

        @staticmethod
        def _no_shell(message_id, shell_id):
            return fault(message_id, "Sender", "The request for the Windows Remote Shell with ShellId %s failed "
                         "because the shell was not found on the server." % shell_id, 2150858843)

        def _dispatch(self, action, message_id, shell_id, body):
            if action == TRANSFER + "Create":
                model.count(node_name, "create")
                new_id = str(uuid.uuid4()).upper()
                with shells.lock:
                    shells.shells[new_id] = {}
                return 200, envelope(TRANSFER + "CreateResponse", message_id,
                                     '<x:ResourceCreated><a:Address>http://%s:5985/wsman</a:Address>'
                                     '<a:ReferenceParameters><w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/'
                                     'windows/shell/cmd</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">%s'
                                     '</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>'
                                     % (node_name, new_id))
            if shell_id not in shells.shells:
                return 500, self._no_shell(message_id, shell_id)
            commands = shells.shells[shell_id]
            if action == SHELL + "Command":
                command = body.findtext("rsp:CommandLine/rsp:Command", "", NS) or ""
                arguments = body.findtext("rsp:CommandLine/rsp:Arguments", "", NS) or ""
                command_id = str(uuid.uuid4()).upper()
                commands[command_id] = _started(self._run(("%s %s" % (command, arguments)).strip()))
                model.record_command_line(node_name, ("%s %s" % (command, arguments)).strip())
                model.count(node_name, "command", commands[command_id].get("marker"))
                return 200, envelope(SHELL + "CommandResponse", message_id,
                                     "<rsp:CommandResponse><rsp:CommandId>%s</rsp:CommandId></rsp:CommandResponse>"
                                     % command_id)
            if action == SHELL + "Send":
                stream = body.find("rsp:Send/rsp:Stream", NS)
                command_id = stream.get("CommandId") if stream is not None else None
                result = commands.get(command_id)
                if result is None or stream.get("Name") != "stdin":
                    return 500, fault(message_id, "Sender", "unknown CommandId %s" % command_id, 2150858843)
                if result.get("awaiting_input"):
                    result["input"] += base64.b64decode(stream.text or "")
                    if (stream.get("End") or "").lower() == "true":
                        commands[command_id] = _started(self._loaded(result["marker"], result["script"],
                                                                     result["input"].decode("utf-8", "replace")))
                return 200, envelope(SHELL + "SendResponse", message_id, "<rsp:SendResponse/>")
            if action == SHELL + "Signal":
                model.count(node_name, "signal")
                signal = body.find("rsp:Signal", NS)
                if signal is not None:
                    commands.pop(signal.get("CommandId"), None)
                return 200, envelope(SHELL + "SignalResponse", message_id, "<rsp:SignalResponse/>")
            if action == TRANSFER + "Delete":
                model.count(node_name, "delete")
                with shells.lock:
                    shells.shells.pop(shell_id, None)
                return 200, envelope(TRANSFER + "DeleteResponse", message_id, "")
            return 500, fault(message_id, "Sender", "unsupported action %s" % action, 2150858817)

        def _run(self, command_line):
            match = ENCODED.search(command_line)
            if not command_line.lower().startswith("powershell") or not match:
                word = command_line.split(" ", 1)[0]
                return {"stdout": b"", "exit_code": 1, "marker": None,
                        "stderr": ("'%s' is not recognized as an internal or external command,\r\noperable program "
                                   "or batch file.\r\n" % word).encode()}
            try:
                script = base64.b64decode(match.group(1)).decode("utf-16-le")
            except (ValueError, UnicodeDecodeError):
                return {"stdout": b"", "exit_code": 1, "marker": None,
                        "stderr": clixml_error("Cannot process the command because the value specified with "
                                               "-EncodedCommand is not properly encoded.")}
            marker = MARKER.match(script)
            if not marker:
                return {"stdout": b"", "exit_code": 1, "marker": "unknown",
                        "stderr": clixml_error("This simulated node only runs the clustersafe.deep_security "
                                               "scripts (no '# clustersafe:<name>' marker on the first line).")}
            name = marker.group(1)
            if STDIN_READER.search(script):
                # the script reads its parameters from standard input: it runs once that is closed
                return {"awaiting_input": True, "marker": name, "script": script, "input": b""}
            params_match = PARAMS.search(script)
            return self._execute(name, script, params_match.group(1) if params_match else "{}")

        def _loaded(self, name, command_script, document):
            """What the loader runs: the body and parameters it read from standard input, after the marker."""
            try:
                loaded = json.loads(document)
                body, params = str(loaded["s"]), json.dumps(loaded.get("p") or {})
            except (ValueError, KeyError, TypeError, AttributeError):
                return {"stdout": b"", "exit_code": 1, "marker": name, "script": command_script,
                        "stderr": clixml_error("ConvertFrom-Json : Invalid JSON primitive.")}
            return self._execute(name, command_script.splitlines()[0] + "\n" + body, params)

        def _execute(self, name, script, document):
            try:
                params = json.loads(document) if document.strip() else {}
            except ValueError:
                return {"stdout": b"", "exit_code": 1, "marker": name, "script": script,
                        "stderr": clixml_error("ConvertFrom-Json : Invalid JSON primitive.")}
            if model.take_fault("timeout_next", node_name, name):
                return {"hang": True, "marker": name}
            # the script runs from now for as long as the model says; its output is there at ready_at
            started = time.monotonic()
            ready_at = started + model.operation_seconds(name, params)
            model.note_script_running(started, ready_at)  # under world.lock, as every command is
            if model.take_fault("script_error_next", node_name, name):
                return {"stdout": b"", "exit_code": 1, "marker": name, "ready_at": ready_at,
                        "stderr": clixml_error("Access is denied. (simulated fault)")}
            try:
                document = model.execute(node_name, name, params, script=script)
            except ScriptFailure as error:
                return {"stdout": b"", "exit_code": 1, "marker": name, "ready_at": ready_at,
                        "stderr": clixml_error(str(error))}
            stdout = json.dumps(document, separators=(",", ":")).encode("utf-8") + b"\r\n"
            if model.take_fault("malformed_next", node_name, name):
                stdout = b"WARNING: profile loaded\r\n" + stdout[: len(stdout) // 2]
            return {"stdout": stdout, "stderr": b"", "exit_code": 0, "marker": name, "ready_at": ready_at}

    return Handler


class WinRMListener(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, port, handler, tls_context=None):
        self.tls_context = tls_context
        ThreadingHTTPServer.__init__(self, (address, port), handler)

    def finish_request(self, request, client_address):
        # the TLS handshake happens in the connection's own thread, so a silent client blocks nobody
        if self.tls_context is not None:
            request.settimeout(30)
            try:
                request = self.tls_context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError, socket.timeout):
                return
        ThreadingHTTPServer.finish_request(self, request, client_address)


def serve(address, port, node_name, model, world, credentials, tls_files=None):
    context = None
    if tls_files:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls_files)
    handler = make_handler(node_name, model, world, credentials, Shells(), tls=context is not None)
    listener = WinRMListener(address, port, handler, context)
    thread = threading.Thread(target=listener.serve_forever, name="winrm-%s-%d" % (node_name, port), daemon=True)
    thread.start()
    return listener


def ensure_ntlm_store(state_dir, username, password):
    """pyspnego's NTLM acceptor reads its users from the file named by NTLM_USER_FILE."""
    path = os.path.join(state_dir, "windows-ntlm-users")
    domain, user = ([""] + username.split("\\"))[-2:]
    with open(path, "w") as handle:
        handle.write("%s:%s:%s\n" % (domain, user, password))
    os.chmod(path, 0o600)
    os.environ["NTLM_USER_FILE"] = path
    return path
