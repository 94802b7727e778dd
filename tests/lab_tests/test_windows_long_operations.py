"""Operations that take longer than the client's read_timeout, as on a real node: the simulated WinRM
service answers Command and Send at once and long-polls Receive, faulting with OperationTimeout
(2150858793) while the script runs (MS-WSMV 3.1.4.14), and the collection's client asks again until the
script is done, within command_timeout. Driven through the modules' own main(): with their default
timeouts (operation_timeout 20 s, read_timeout 30 s: a 40-second install, in ``make test-long``) and with
timeouts scaled down (the same exchange in a few seconds, in ``make test``). Own ports, beside a running lab."""
import copy
import time

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import records, scripts
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import (
    WinRMClient,
    WinRMTimeoutError,
)
from ansible_collections.clustersafe.deep_security.plugins.modules import ds_agent, mscs_node
from tests.lab.windows import model as lab_model
from tests.unit.module_args import run_main

HTTP_PORT, HTTPS_PORT = 28985, 28986  # this module's own WinRM ports, for the windows_lab fixture
VERSION = "20.0.1-690"
SOFTWARE = "https://127.0.0.1:14119/software/agent/Windows/x86_64/%s/agent.msi" % VERSION
SHELL_OPERATIONS = ("create", "command", "signal", "delete")


@pytest.fixture
def fresh(windows_lab):
    windows_lab["part"].reset()
    return windows_lab


def counters(lab, node):
    return copy.deepcopy(lab["part"].status()["counters"].get(node) or dict.fromkeys(SHELL_OPERATIONS + ("receive",), 0))


def spent(lab, node, before):
    after = counters(lab, node)
    return dict((operation, after[operation] - before.get(operation, 0)) for operation in SHELL_OPERATIONS + ("receive",))


def connection(lab, address="127.0.0.21", **timeouts):
    """The module options a task would pass: NTLM over HTTPS, the lab CA, the timeouts given (else the defaults)."""
    params = lab["client_params"](address)
    options = dict((key, params[key]) for key in ("hostname", "username", "password", "port", "ca_path"))
    options.update(timeouts)
    return options


# (module timeouts, drain seconds, install seconds): each operation outlasts operation_timeout, so its first
# Receive ends with the OperationTimeout fault; the install ends before a second one would.
DEFAULT_TIMEOUTS = ({}, 35, 40)
SCALED_DOWN = (dict(operation_timeout=2, read_timeout=4), 3, 3)


@pytest.mark.parametrize("timeouts, drain, install", [
    pytest.param(*SCALED_DOWN, id="scaled-down"),
    pytest.param(*DEFAULT_TIMEOUTS, id="default-timeouts", marks=pytest.mark.long),
])
def test_a_long_install_and_a_long_drain_complete_through_the_modules(fresh, monkeypatch, capsys, timeouts, drain, install):
    fresh["part"].set_faults({"operation_seconds": {"mscs_node.drain": drain, "agent_install": install}})
    before = counters(fresh, "SQL-NODE1")
    started = time.monotonic()
    result, failed = run_main(monkeypatch, capsys, mscs_node, dict(connection(fresh, **timeouts), state="stopped"))
    assert not failed, result.get("msg")
    assert result["actions"] == ["drain", "stop"] and time.monotonic() - started >= drain
    stop = spent(fresh, "SQL-NODE1", before)
    # read, drain, verify, stop, final read: one shell each, however long the drain took
    assert all(stop[operation] == 5 for operation in SHELL_OPERATIONS), stop
    assert stop["receive"] > stop["command"]  # the drain's Receive was answered with OperationTimeout first

    before = counters(fresh, "SQL-NODE1")
    started = time.monotonic()
    result, failed = run_main(monkeypatch, capsys, ds_agent, dict(
        connection(fresh, **timeouts), version=VERSION, installer_url=SOFTWARE, installer_sha256=lab_model.lab_msi_sha256(VERSION),
        activation_url="dsm://127.0.0.1:4120/", policy_id=3))
    assert not failed, result.get("msg")
    assert result["actions"] == ["install", "activate"] and result["version"] == VERSION
    assert time.monotonic() - started >= install
    spent_on_install = spent(fresh, "SQL-NODE1", before)
    # read, install, activate, final read
    assert all(spent_on_install[operation] == 4 for operation in SHELL_OPERATIONS), spent_on_install
    # the first Receive ends with the OperationTimeout fault (at operation_timeout), the second gets the output
    assert spent_on_install["receive"] == spent_on_install["command"] + 1
    status = fresh["part"].status()
    assert status["agents"]["SQL-NODE1"]["version"] == VERSION and status["unplanned_failovers"] == 0


def test_a_script_that_outlives_command_timeout_fails_on_time_and_leaves_its_effect(fresh):
    fresh["part"].set_faults({"operation_seconds": {"mscs_node.drain": 30}})
    client = WinRMClient(fresh["client_params"]("127.0.0.22", operation_timeout=20, read_timeout=30, command_timeout=4))
    started = time.monotonic()
    with pytest.raises(WinRMTimeoutError) as error:
        drain = dict(action="drain", force_drain=False, failback="NoFailback", timeout=60)
        client.run("mscs_node", scripts.body("mscs_node"), drain)
    # the Receive asked for the 4 s left, not the 20 s of operation_timeout
    assert 4 <= time.monotonic() - started < 10
    assert "command_timeout" in error.value.message and "may still be running" in error.value.message
    # the node drains on without the client, as a real one would
    assert fresh["part"].status()["clusters"]["SQLCLU01"]["nodes"]["SQL-NODE2"]["state"] == "Paused"


def test_a_session_runs_several_scripts_over_one_shell_on_the_node(fresh):
    client = WinRMClient(fresh["client_params"]("127.0.0.23"))
    before = counters(fresh, "SQL-NODE3")
    with client.session():
        facts = client.run("mscs_cluster_info", scripts.body("mscs_cluster_info"), {})
        found = client.run("node_window_record_info", scripts.body("node_window_record_info"), {"window": None})
    assert facts["computer"] == "SQL-NODE3" and records.parse_records(found, "SQL-NODE3")[0] == []
    used = spent(fresh, "SQL-NODE3", before)
    assert (used["create"], used["delete"]) == (1, 1) and (used["command"], used["signal"], used["receive"]) == (2, 2, 2)


def test_receive_long_polls_for_the_requested_operation_timeout_then_faults(fresh):
    """Bare pywinrm against the lab: a command still running answers Receive with the WS-Management
    OperationTimeout fault after the request's OperationTimeout, which pywinrm raises as
    WinRMOperationTimeoutError; Command itself answered at once."""
    import winrm.exceptions
    import winrm.protocol

    from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import (
        build_script,
        encode_command,
    )

    fresh["part"].set_faults({"operation_seconds": {"mscs_cluster_info": 5}})
    params = fresh["client_params"]("127.0.0.21")
    protocol = winrm.protocol.Protocol("https://127.0.0.21:%d/wsman" % HTTPS_PORT, transport="ntlm",
                                       username=params["username"], password=params["password"],
                                       ca_trust_path=params["ca_path"], operation_timeout_sec=2, read_timeout_sec=4)
    shell = protocol.open_shell()
    started = time.monotonic()
    command = protocol.run_command(shell, encode_command(build_script("mscs_cluster_info",
                                                                      scripts.body("mscs_cluster_info"))))
    assert time.monotonic() - started < 1
    with pytest.raises(winrm.exceptions.WinRMOperationTimeoutError):
        protocol.get_command_output_raw(shell, command)
    assert 2 <= time.monotonic() - started < 3
    stdout, stderr, code = protocol.get_command_output(shell, command)  # pywinrm's own retry loop
    assert code == 0 and b"SQLCLU01" in stdout and 5 <= time.monotonic() - started < 7
    protocol.cleanup_command(shell, command)
    protocol.close_shell(shell)
