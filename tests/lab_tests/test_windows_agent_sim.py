"""ds_agent against the simulated nodes over real WinRM: parameters on standard input (WS-Man Send),
msiexec reboots only when /norestart is missing or it returns 1641, 3010 reported as a pending reboot, 1641 as
a restart that stops the work, activation told by agentCertHash, reset only for another manager, a failed activation with the state it left, agent
self-protection, and cmd.exe metacharacters refused on the node. Own ports, beside a running lab."""
import base64

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import agent, scripts
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service as svc
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import ScriptError, WinRMClient
from tests.lab.windows import model as lab_model

HTTP_PORT, HTTPS_PORT = 26985, 26986  # this module's own WinRM ports, for the windows_lab fixture
WEB1 = "127.0.0.31"
SOFTWARE = "https://127.0.0.1:14119/software/agent/Windows/x86_64/%s/agent.msi"
TOKEN = "LAB-TOKEN-7741"


@pytest.fixture
def fresh(windows_lab):
    windows_lab["part"].reset()
    windows_lab["part"].model.command_lines.clear()
    return windows_lab


def client(lab, address=WEB1):
    return WinRMClient(lab["client_params"](address))


def wanted(version="20.0.1-690", **kwargs):
    base = dict(state="present", version=version, installer_url=SOFTWARE % version,
                installer_sha256=lab_model.lab_msi_sha256(version), activation_url="dsm://127.0.0.1:4120/",
                policy_id=4, token=TOKEN)
    base.update(kwargs)
    return base


def status(lab):
    return lab["part"].status()


def events(lab, name):
    return [item for item in status(lab)["events"] if item["event"] == name]


def test_install_and_activate_sends_no_secret_on_the_command_line(fresh):
    result = svc.ds_agent(client(fresh), wanted())
    assert result["actions"] == ["install", "activate"] and result["agent"]["activated"]
    assert result["reboot_required"] is False and svc.ds_agent(client(fresh), wanted())["changed"] is False
    lines = fresh["part"].model.command_lines["WEB1"]
    assert len(lines) >= 4
    for line in lines:
        decoded = base64.b64decode(line.split()[-1]).decode("utf-16-le")
        assert TOKEN not in line and TOKEN not in decoded


def test_3010_is_reported_and_the_node_is_not_restarted(fresh):
    fresh["part"].set_faults({"msi_exit_next": 3010})
    result = svc.ds_agent(client(fresh), wanted())
    assert result["msi_exit_code"] == 3010 and result["reboot_required"] is True
    assert "reboot pending" in result["msg"] and any("/norestart" in item for item in result["warnings"])
    assert events(fresh, "node.rebooted") == []
    # the pending reboot is still reported by a run that changes nothing
    assert svc.ds_agent(client(fresh), wanted())["reboot_required"] is True


def test_the_model_reboots_a_node_when_msiexec_may(fresh):
    """The lab is as strict as Windows Installer: without /norestart a 3010 becomes a reboot."""
    body = scripts.body("agent_install").replace("'/qn', '/norestart',", "'/qn',")
    fresh["part"].set_faults({"msi_exit_next": 3010})
    done = client(fresh).run("agent_install", body, {}, stdin_params=dict(
        url=SOFTWARE % "20.0.1-690", sha256=lab_model.lab_msi_sha256("20.0.1-690"), path=None, password=None,
        insecure_download=False))
    assert done["exit_code"] == 1641 and [item["host_name"] for item in events(fresh, "node.rebooted")] == ["WEB1"]


def test_remove_with_1641_is_removed_and_the_restart_stops_the_work(fresh):
    """1641 is "the installer has initiated a restart": the node restarts, /norestart or not, and the module says
    so instead of reporting a pending reboot (a change of behaviour, on purpose)."""
    svc.ds_agent(client(fresh), wanted())
    fresh["part"].set_faults({"msi_exit_next": 1641})
    with pytest.raises(agent.RestartInitiatedError) as error:
        svc.ds_agent(client(fresh), dict(state="absent"))
    assert error.value.details["restart_initiated"] is True and error.value.details["msi_exit_code"] == 1641
    assert status(fresh)["agents"]["WEB1"]["version"] is None
    assert [item["host_name"] for item in events(fresh, "node.rebooted")] == ["WEB1"]
    # back from the restart, the agent is gone: nothing left to do
    assert svc.ds_agent(client(fresh), dict(state="absent"))["changed"] is False


def test_activation_to_another_manager_resets_and_a_failure_reports_the_state_left(fresh):
    svc.ds_agent(client(fresh), wanted(activation_url="dsm://127.0.0.9:4120/"))
    assert events(fresh, "agent.reset") == []
    fresh["part"].set_faults({"activation_fail_next": 1})
    with pytest.raises(agent.ActivationError) as error:
        svc.ds_agent(client(fresh), wanted())
    assert "left not activated" in error.value.message and "reset from its previous manager" in error.value.message
    assert TOKEN not in error.value.message and error.value.details["agent"]["installed"] is True
    assert len(events(fresh, "agent.reset")) == 1
    result = svc.ds_agent(client(fresh), wanted())
    assert result["actions"] == ["activate"] and len(events(fresh, "agent.reset")) == 1


def test_self_protection_with_a_password(fresh):
    svc.ds_agent(client(fresh), wanted())
    fresh["part"].set_faults({"self_protection": {"WEB1": "SP-pass-1"}})
    with pytest.raises(agent.MsiError) as error:
        svc.ds_agent(client(fresh), wanted("20.0.1-3180"))
    assert "self_protection_password" in error.value.message and "1603" in error.value.message
    result = svc.ds_agent(client(fresh), wanted("20.0.1-3180", self_protection_password="SP-pass-1"))
    assert result["actions"] == ["upgrade"] and result["self_protection"] == "heartbeat"
    assert status(fresh)["agents"]["WEB1"]["self_protection"] is True


def test_the_node_refuses_cmd_metacharacters(fresh):
    svc.ds_agent(client(fresh), wanted(activation_url=None, policy_id=None, token=None))
    with pytest.raises(ScriptError) as error:
        client(fresh).run("agent_activate", scripts.body("agent_activate"), {}, stdin_params=dict(
            arguments=["dsm://a&calc.exe&:4120/"], url="dsm://a", policy_id=None, reset=False, wait=5, password=None))
    assert "cmd.exe" in error.value.message and status(fresh)["agents"]["WEB1"]["activated"] is False
