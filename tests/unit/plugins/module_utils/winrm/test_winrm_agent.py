"""The Deep Security Agent: versions, input checks, parsers of the node's answers, plans, the MS-02
interlock, the scripts' text, the service flow and what travels on the command line."""
import base64
import json
import re

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import InterlockError, ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils import _agent_version as versions
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import agent, client, scripts, service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import ScriptError
from winrm_fakes import FakeClient, agent_document

URL = "https://dsm:4119/software/agent/Windows/x86_64/20.0.1-690/agent.msi"
SHA = "A" * 64


def desired(**kwargs):
    base = dict(state="present", version=None, installer_url=None, installer_sha256=None, installer_path=None,
                activation_url=None, policy_id=None, tenant_id=None, token=None, reactivate=False,
                allow_running_cluster_service=False)
    base.update(kwargs)
    return base


def facts(*args, **kwargs):
    return agent.agent_facts(agent_document(*args, **kwargs))


# --- versions (issue 10 point 18) -----------------------------------------------------------------

@pytest.mark.parametrize("left, right", [
    ("20.0.0-8438", "20.0.0.8438"),
    ("20.0.0-8438", "20.0.8438"),
    ("20.0.0.8438", "20.0.8438"),
    ("20.0.1-690", "20.0.1.690"),
])
def test_spellings_of_one_build_are_equal(left, right):
    assert versions.same(left, right) is True


@pytest.mark.parametrize("text", ["latest", "20", "20.0", "20.0.0-8438\n", "20.0.0-8438-1", "v20.0.0-1"])
def test_other_version_text_is_refused(text):
    with pytest.raises(ParameterError):
        agent.validate(desired(version=text))


def test_plan_compares_a_three_part_display_version():
    current = facts("20.0.8438")
    assert agent.plan_agent(current, desired(version="20.0.0-8438", installer_url=URL))["actions"] == []


def test_plan_refuses_a_pair_it_cannot_order():
    current = facts("20.0.8438")
    with pytest.raises(ParameterError, match="cannot be ordered"):
        agent.plan_agent(current, desired(version="20.0.1-690", installer_url=URL))


# --- input (issue 10 points 1 and 10) -------------------------------------------------------------

@pytest.mark.parametrize("want, words", [
    (dict(activation_url="dsm://a&calc.exe&:4120/"), "activation_url"),
    (dict(activation_url="dsm://dsm:70000/"), "port 1-65535"),
    (dict(activation_url="dsm://dsm:4120/\n"), "line break"),
    (dict(activation_url="https://dsm:4119/"), "dsm://"),
    (dict(activation_url="dsm://dsm:4120/", tenant_id="T&whoami"), "tenant_id"),
    (dict(activation_url="dsm://dsm:4120/", token="tok%PATH%"), "token"),
    (dict(activation_url="dsm://dsm:4120/", policy_id=-3), "policy_id"),
    (dict(activation_url="dsm://dsm:4120/", policy_id=0), "policy_id"),
    (dict(installer_url="http://dsm/agent.msi"), "https://"),
    (dict(installer_url="https://"), "no host name"),
    (dict(installer_url="https://dsm:99999/agent.msi"), "not a valid URL"),
    (dict(installer_sha256="abc"), "installer_sha256"),
    (dict(installer_sha256=SHA + "\n"), "line break"),
    (dict(reactivate=True), "reactivate=true needs activation_url"),
    (dict(policy_id=3), "give activation_url"),
    (dict(token="abc"), "give activation_url"),
    (dict(version="latest"), "version"),
    (dict(self_protection_password="pa ss&x"), "self_protection_password"),
    (dict(self_protection_password="pass%PATH%"), "self_protection_password"),
])
def test_bad_input_is_refused_naming_the_parameter(want, words):
    with pytest.raises(ParameterError) as error:
        agent.validate(desired(**want))
    assert words in error.value.message


@pytest.mark.parametrize("timeout", [0, -5])
def test_install_timeout_must_be_positive(timeout):
    with pytest.raises(ParameterError) as error:
        agent.validate(desired(), install_timeout=timeout)
    assert "install_timeout" in error.value.message


def test_good_input_passes():
    agent.validate(desired(version="20.0.1-690", installer_url=URL, installer_sha256=SHA,
                           activation_url="dsm://dsm.example.com:4120/", policy_id=3,
                           tenant_id="D2F98333-9496-3B69-8E04-227DD4325E96", token="822B634F-B5A4"))
    agent.validate(desired(activation_url="dsm://[fd00::1]:4120/"))
    agent.validate(desired(activation_url="dsm://192.0.2.10:4120"))


def test_activation_arguments_are_cmd_safe():
    arguments = agent.activation_arguments(desired(activation_url="dsm://dsm:4120/", policy_id=3,
                                                   tenant_id="T-1", token="TOK-1"))
    assert arguments == ["dsm://dsm:4120/", "policyid:3", "tenantID:T-1", "token:TOK-1"]
    with pytest.raises(ParameterError):
        agent.activation_arguments(desired(activation_url="dsm://dsm:4120/&calc"))


# --- URLs and secrets (issue 10 point 7) ----------------------------------------------------------

@pytest.mark.parametrize("url, shown", [
    ("https://user:pa55@dsm:4119/a.msi?sig=SECRET#frag", "https://***@dsm:4119/a.msi?***"),
    ("https://dsm:4119/a.msi", "https://dsm:4119/a.msi"),
    ("dsm://dsm:4120/", "dsm://dsm:4120/"),
])
def test_redact_url(url, shown):
    assert agent.redact_url(url) == shown


def test_url_secrets_never_reach_messages():
    url = "https://user:pa55@dsm:4119/software/agent/Windows/x86_64/20.0.1-690/agent.msi?sig=SECRET"
    client_ = FakeClient({"agent_info": agent_document(None, service="Stopped"),
                          "agent_install": ScriptError("Invoke-WebRequest : 403 for %s" % url, stderr=url)})
    with pytest.raises(ScriptError) as error:
        service.ds_agent(client_, desired(version="20.0.1-690", installer_url=url, installer_sha256=SHA))
    text = error.value.message + repr(error.value.details)
    assert "pa55" not in text and "SECRET" not in text and "403" in text
    with pytest.raises(ParameterError) as error:
        agent.validate(desired(installer_url=url.replace("https", "http")))
    assert "pa55" not in error.value.message and "SECRET" not in error.value.message


def test_installer_url_is_derived_from_the_manager():
    assert agent.installer_url_for("dsm://dsm.example.com:4120/", "20.0.1.690") == \
        "https://dsm.example.com:4119/software/agent/Windows/x86_64/20.0.1-690/agent.msi"
    client_ = FakeClient({"agent_info": agent_document(None, service="Stopped")})
    result = service.ds_agent(client_, desired(version="20.0.1-690", installer_sha256=SHA,
                                               activation_url="dsm://dsm.example.com:4120/"), check_mode=True)
    assert result["actions"] == ["install", "activate"]


# --- parsers (issue 14 point 3, issue 10 point 11) ------------------------------------------------

def test_log_tail_in_the_windows_powershell_51_shape():
    # ConvertTo-Json of Get-Content lines in 5.1 (PowerShell issues 6458, 6388)
    shape = [{"value": "MSI (s) (A4:B8): Product: Trend Micro Deep Security Agent -- Installation failed.",
              "PSPath": "C:\\Windows\\Temp\\msi.log", "PSParentPath": "C:\\Windows\\Temp", "PSChildName": "msi.log",
              "PSDrive": {"Name": "C", "Root": "C:\\"}, "PSProvider": {"Name": "FileSystem"}, "ReadCount": 1},
             {"value": "Installation success or error status: 1603.", "PSPath": "x", "ReadCount": 2}]
    assert agent.log_lines(shape) == [shape[0]["value"], shape[1]["value"]]
    with pytest.raises(agent.MsiError) as error:
        agent.interpret_msi({"exit_code": 1603, "log_tail": shape}, "install", "n")
    assert "Installation success or error status: 1603." in error.value.message
    assert agent.log_lines("one line") == ["one line"]


def test_agent_status_lines_decide_activation():
    lines = ["", "AgentStatus.agentState: green", "AgentStatus.dsmUrl: dsm://dsm:4120/", "banner without colon"]
    assert agent.parse_agent_status(lines) == {"agentState": "green", "dsmUrl": "dsm://dsm:4120/"}
    document = agent_document("20.0.1.690")
    document["agent"]["status_lines"] = ["AgentStatus.agentState: green"]
    # an agentState without dsmUrl is not an activation (Trend's scripts look for dsmUrl)
    assert agent.agent_facts(document)["agent"]["activated"] is False
    assert facts("20.0.1.690", activated=True, dsm_url="dsm://dsm:4120/", policy_id=3)["agent"]["policy_id"] == 3


def test_agent_facts_refuse_foreign_shapes_with_a_typed_error():
    for broken in ([], {"agent": []}, {"agent": {"version": ["20"]}}, {"agent": {"installed": True, "version": "x"}},
                   {"agent": {"status_lines": [["a"]]}}, {"cluster_service": "Running"}):
        with pytest.raises(agent.AgentOutputError) as error:
            agent.agent_facts(broken, "N1")
        assert "agent_info" in error.value.message or "GetAgentStatus" in error.value.message


# --- plans (issue 10 point 15) --------------------------------------------------------------------

@pytest.mark.parametrize("have, want, actions", [
    (None, dict(version="20.0.1-690", installer_url=URL), ["install"]),
    (None, dict(version="20.0.1-690", installer_url=URL, activation_url="dsm://dsm:4120/", policy_id=3),
     ["install", "activate"]),
    ("20.0.1.690", dict(version="20.0.1-690", installer_url=URL), []),
    ("20.0.1.690", dict(version="20.0.1-3180", installer_url=URL), ["upgrade"]),
    ("20.0.1.690", dict(), []),
    ("20.0.1.690", dict(activation_url="dsm://dsm:4120/"), ["activate"]),
    ("20.0.1.690", dict(state="absent"), ["uninstall"]),
    (None, dict(state="absent"), []),
])
def test_plan_agent(have, want, actions):
    assert agent.plan_agent(facts(have), desired(**want))["actions"] == actions


def test_reset_only_when_activated_to_another_manager():
    here = facts("20.0.1.690", activated=True, dsm_url="dsm://dsm:4120/", policy_id=3)
    assert agent.plan_agent(here, desired(activation_url="dsm://dsm:4120/", policy_id=3))["actions"] == []
    plan = agent.plan_agent(here, desired(activation_url="dsm://dsm:4120/", policy_id=4))
    assert plan["actions"] == ["activate"] and plan["reset"] is False
    plan = agent.plan_agent(here, desired(activation_url="dsm://dsm:4120/", reactivate=True))
    assert plan["actions"] == ["activate"] and plan["reset"] is False
    plan = agent.plan_agent(here, desired(activation_url="dsm://other:4120/"))
    assert plan["actions"] == ["activate"] and plan["reset"] is True
    plan = agent.plan_agent(facts("20.0.1.690"), desired(activation_url="dsm://dsm:4120/"))
    assert plan["reset"] is False


@pytest.mark.parametrize("have, want, words", [
    (None, dict(), "give version"),
    (None, dict(version="20.0.1-690"), "installer_url"),
    ("20.0.1.3180", dict(version="20.0.1-690", installer_url=URL), "downgrades"),
])
def test_plan_agent_refusals(have, want, words):
    with pytest.raises(ParameterError) as error:
        agent.plan_agent(facts(have), desired(**want))
    assert words in error.value.message


def test_interlock_ms02():
    running = agent_document(None)
    with pytest.raises(InterlockError) as error:
        agent.check_interlock(running, ["install"])
    assert "MS-02" in error.value.message and "mscs_node state=stopped" in error.value.message
    assert error.value.details["rule"] == "MS-02"
    agent.check_interlock(running, ["install"], allow_running_cluster_service=True)
    agent.check_interlock(running, [])
    agent.check_interlock(agent_document(None, service="Stopped"), ["install"])
    agent.check_interlock(agent_document(None, service=None), ["install"])


# --- msiexec (issue 14 point 2, issue 10 point 13) ------------------------------------------------

def test_interpret_msi():
    assert agent.interpret_msi({"exit_code": 0}, "install", "n") is False
    assert agent.interpret_msi({"exit_code": 3010}, "install", "n") is True
    # 1641: the node is restarting, told apart from a failure (behaviour changed on purpose: it was "success")
    with pytest.raises(agent.RestartInitiatedError) as restart:
        agent.interpret_msi({"exit_code": 1641}, "uninstall", "n")
    assert restart.value.details["restart_initiated"] is True and restart.value.details["msi_exit_code"] == 1641
    assert "initiated a restart of n" in restart.value.message and "must stop" in restart.value.message
    assert not isinstance(restart.value, agent.MsiError)
    with pytest.raises(agent.MsiError) as error:
        agent.interpret_msi({"exit_code": 1603, "log_tail": ["line a", "line b"]}, "install", "n")
    assert "1603 (fatal error during installation)" in error.value.message and "line b" in error.value.message
    assert error.value.details["msi_exit_code"] == 1603


def script(name):
    return scripts.SCRIPTS[name][0]


@pytest.mark.parametrize("name", ["agent_install", "agent_remove"])
def test_msiexec_never_restarts_and_records_the_pending_reboot(name):
    body = script(name)
    assert re.search(r"msiexec\.exe -ArgumentList @\([^)]*'/qn', '/norestart'", body)
    assert "@(0, 3010, 1641)" in body
    assert "RebootPendingBoot" in body


def test_log_tail_lines_are_plain_strings_in_the_scripts():
    for name in ("agent_install", "agent_remove"):
        for line in script(name).splitlines():
            if "Get-Content" in line:
                assert "ForEach-Object { [string]$_ }" in line, line


@pytest.mark.parametrize("name", ["agent_info", "agent_install", "agent_remove", "agent_activate"])
def test_native_commands_run_where_errors_do_not_stop(name):
    """Every call of dsa_query/dsa_control with redirected stderr sits in a scope whose
    $ErrorActionPreference is 'Continue' (issue 14 point 4)."""
    body = script(name)
    calls = [line for line in body.splitlines() if re.search(r"& \$(dq|dc|exe)\b", line)]
    assert calls
    for line in calls:
        in_block = "& { $ErrorActionPreference = 'Continue'" in line
        in_function = re.search(r"function Invoke-Native[^{]*\{\s*\n\s*\$ErrorActionPreference = 'Continue'\s*\n"
                                r"[^\n]*" + re.escape(line.strip()), body)
        assert in_block or in_function, line


def test_install_hashes_and_installs_one_private_copy():
    body = script("agent_install")
    assert "[IO.Directory]::CreateDirectory($d, $acl)" in body and "SetAccessRuleProtection($true, $false)" in body
    assert "'S-1-5-32-544', 'S-1-5-18'" in body
    assert "$f = Join-Path $d 'agent.msi'" in body
    assert "Get-FileHash -LiteralPath $f" in body and "@('/i', \"`\"$f`\"\"" in body
    assert re.search(r"finally \{ Remove-Item -LiteralPath \$d -Recurse", body)


@pytest.mark.parametrize("name", scripts.AGENT_STDIN_SCRIPTS)
def test_agent_scripts_take_their_parameters_from_the_loader(name):
    # the loader on the command line sets $P from standard input; a body reading $input again would find it empty
    assert "$input" not in script(name) and "$P." in script(name)


def test_activation_waits_for_the_service_and_resets_only_on_request():
    body = script("agent_activate")
    assert "Get-Service -Name ds_agent" in body and "AddSeconds([int]$P.wait)" in body
    assert "if ($P.reset) {" in body
    assert "-notmatch '^[A-Za-z0-9_.:/@#+~\\[\\]-]+\\z'" in body


# --- the service flow -----------------------------------------------------------------------------

def test_install_with_3010_reports_a_pending_reboot():
    stopped = agent_document(None, service="Stopped")
    done = agent_document("20.0.1.690", service="Stopped", activated=True, dsm_url="dsm://dsm:4120/", policy_id=3)
    client_ = FakeClient({"agent_info": [stopped, done],
                          "agent_install": {"exit_code": 3010, "log_tail": [], "self_protection": "untouched"},
                          "agent_activate": {"exit_code": 0, "output": "ok", "reset": False,
                                             "service_status": "Running"}})
    result = service.ds_agent(client_, desired(version="20.0.1-690", installer_url=URL, installer_sha256=SHA,
                                               activation_url="dsm://dsm:4120/", policy_id=3, token="T0KEN-secret"))
    assert [call[0] for call in client_.calls] == ["agent_info", "agent_install", "agent_activate", "agent_info"]
    assert result["reboot_required"] is True and result["msi_exit_code"] == 3010
    assert result["msg"] == "SQL-NODE1: Deep Security Agent none -> 20.0.1-690, reboot pending"
    assert any("ERROR_SUCCESS_REBOOT_REQUIRED" in item and "/norestart" in item for item in result["warnings"])
    assert result["agent"]["activated"] is True
    assert "T0KEN-secret" not in repr(result)
    activate = client_.calls[2][1]
    assert activate["arguments"][-1] == "token:T0KEN-secret" and activate["reset"] is False


def test_remove_with_1641_stops_the_work_on_a_restarting_node():
    client_ = FakeClient({"agent_info": [agent_document("20.0.1.690", service=None), agent_document(None, service=None)],
                          "agent_remove": {"exit_code": 1641, "log_tail": [], "removed": True, "self_protection": "off"}})
    with pytest.raises(agent.RestartInitiatedError) as error:
        service.ds_agent(client_, desired(state="absent"))
    assert error.value.details["restart_initiated"] is True and "SQL-NODE1" in error.value.message
    # nothing more was asked of the restarting node
    assert [call[0] for call in client_.calls] == ["agent_info", "agent_remove"]


def test_install_with_1641_stops_before_activation():
    stopped = agent_document(None, service="Stopped")
    client_ = FakeClient({"agent_info": stopped,
                          "agent_install": {"exit_code": 1641, "log_tail": [], "self_protection": "untouched"}})
    with pytest.raises(agent.RestartInitiatedError):
        service.ds_agent(client_, desired(version="20.0.1-690", installer_url=URL, installer_sha256=SHA,
                                          activation_url="dsm://dsm:4120/"))
    assert "agent_activate" not in [call[0] for call in client_.calls]


def test_sha256_is_required_unless_explicitly_waived():
    stopped = agent_document(None, service="Stopped")
    with pytest.raises(ParameterError) as error:
        service.ds_agent(FakeClient({"agent_info": stopped}), desired(version="20.0.1-690", installer_url=URL),
                         check_mode=True)
    assert "installer_sha256 is required" in error.value.message
    result = service.ds_agent(FakeClient({"agent_info": stopped}),
                              desired(version="20.0.1-690", installer_url=URL, allow_unverified_installer=True),
                              check_mode=True)
    assert any("without installer_sha256" in item for item in result["warnings"])
    with pytest.raises(ParameterError):
        service.ds_agent(FakeClient({"agent_info": stopped}),
                         desired(version="20.0.1-690", installer_url=URL, allow_unverified_installer=True,
                                 installer_validate_certs=False), check_mode=True)


def test_failed_activation_reports_the_state_it_left():
    elsewhere = agent_document("20.0.1.690", service="Stopped", activated=True, dsm_url="dsm://old:4120/")
    reset_left = agent_document("20.0.1.690", service="Stopped")
    client_ = FakeClient({"agent_info": [elsewhere, reset_left],
                          "agent_activate": {"exit_code": 2, "output": "Unable to connect; token:T0KEN-secret",
                                             "reset": True, "service_status": "Running"}})
    with pytest.raises(agent.ActivationError) as error:
        service.ds_agent(client_, desired(activation_url="dsm://dsm:4120/", token="T0KEN-secret"))
    message = error.value.message
    assert "left not activated" in message and "reset from its previous manager" in message
    assert "T0KEN-secret" not in message + repr(error.value.details)
    assert error.value.details["agent"]["activated"] is False and client_.calls[1][1]["reset"] is True


def test_activation_when_the_service_never_runs():
    client_ = FakeClient({"agent_info": agent_document("20.0.1.690", service=None),
                          "agent_activate": {"exit_code": -1, "output": "", "reset": False,
                                             "service_status": "Stopped"}})
    with pytest.raises(agent.ActivationError) as error:
        service.ds_agent(client_, desired(activation_url="dsm://dsm:4120/"))
    assert "ds_agent service was Stopped" in error.value.message


def test_wrong_build_from_the_installer_fails():
    client_ = FakeClient({
        "agent_info": [agent_document(None, service=None), agent_document("20.0.1.3180", service=None)],
        "agent_install": {"exit_code": 0, "log_tail": [], "self_protection": "untouched"},
    })
    with pytest.raises(ScriptError) as error:
        service.ds_agent(client_, desired(version="20.0.1-690", installer_url=URL, installer_sha256=SHA))
    assert "installed agent version 20.0.1-3180, not the requested 20.0.1-690" in error.value.message


def test_self_protection_that_blocks_msiexec_is_named():
    client_ = FakeClient({
        "agent_info": agent_document("20.0.1.690", service=None),
        "agent_install": {"exit_code": 1603, "log_tail": ["Removal or modification of this application is "
                                                          "prohibited by its security settings"],
                          "self_protection": "failed", "self_protection_output": "password required"},
    })
    with pytest.raises(agent.MsiError) as error:
        service.ds_agent(client_, desired(version="20.0.1-3180", installer_url=URL, installer_sha256=SHA,
                                          self_protection_password="Wrong-1"))
    assert "self_protection_password" in error.value.message and "Wrong-1" not in error.value.message
    assert client_.calls[1][1]["password"] == "Wrong-1"


# --- the command line carries no parameter (issue 10 point 6) -------------------------------------

class RecordingProtocol(object):
    def __init__(self):
        self.commands, self.inputs, self.console_modes = [], [], []

    def open_shell(self):
        return "S1"

    def run_command(self, shell_id, command, arguments=(), console_mode_stdin=True, skip_cmd_shell=False):
        self.commands.append(command)
        self.console_modes.append(console_mode_stdin)
        return "C1"

    def send_command_input(self, shell_id, command_id, stdin_input, end=False):
        self.inputs.append((stdin_input, end))

    def get_command_output_raw(self, shell_id, command_id):
        return b'{"exit_code": 0, "output": "ok"}', b"", 0, True

    def cleanup_command(self, shell_id, command_id):
        pass

    def close_shell(self, shell_id):
        pass


def test_the_token_travels_on_standard_input_only():
    protocol = RecordingProtocol()
    winrm = client.WinRMClient(dict(hostname="n1", username="u", password="p"),
                               protocol_factory=lambda params: protocol)
    params = dict(arguments=["dsm://dsm:4120/", "token:T0KEN-secret"], url="dsm://dsm:4120/", policy_id=None,
                  reset=False, wait=120, password="SP-secret")
    winrm.run("agent_activate", scripts.body("agent_activate"), {}, stdin_params=params)
    command = protocol.commands[0]
    script_text = base64.b64decode(command.split()[-1]).decode("utf-16-le")
    assert "T0KEN-secret" not in command and "T0KEN-secret" not in script_text and "SP-secret" not in script_text
    assert protocol.console_modes == [False]
    data, end = protocol.inputs[0]
    sent = json.loads(data.decode("ascii"))
    assert end is True and sent["p"] == params and sent["s"] == client.compact(scripts.body("agent_activate"))


def test_the_module_sends_agent_steps_on_standard_input():
    stopped = agent_document(None, service="Stopped")
    done = agent_document("20.0.1.690", service="Stopped", activated=True, dsm_url="dsm://dsm:4120/")

    class Recording(FakeClient):
        def run(self, name, body, params=None, timeout=None, stdin_params=None):
            if name != "agent_info":
                assert params == {} and stdin_params is not None
            return FakeClient.run(self, name, body, params, timeout, stdin_params)

    client_ = Recording({"agent_info": [stopped, done],
                         "agent_install": {"exit_code": 0, "log_tail": [], "self_protection": "untouched"},
                         "agent_activate": {"exit_code": 0, "output": "ok", "reset": False,
                                            "service_status": "Running"}})
    service.ds_agent(client_, desired(version="20.0.1-690", installer_url=URL, installer_sha256=SHA,
                                      activation_url="dsm://dsm:4120/", token="T0KEN-secret"))


@pytest.mark.parametrize("name", ["agent_install", "agent_activate"])
def test_the_registry_record_is_never_recreated(name):
    """New-Item -Force on an existing key would drop the values beside the one being written."""
    for line in script(name).splitlines():
        if "New-Item" in line:
            assert line.strip().startswith("if (-not (Test-Path $k)) { New-Item"), line
