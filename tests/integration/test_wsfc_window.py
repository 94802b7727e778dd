"""The failover-cluster window end to end against the lab: the role clustersafe.deep_security.wsfc_agent_rollout
through its playbook, recover after a controller killed at step boundaries, and faults.

After every scenario the same invariants must hold: every node Up with its cluster service running, every
role Online, no unplanned failover (the lab's own record), DRS of the node VMs' cluster back at its original
level with no window record left in vCenter, and no window record left on any node.
"""
import json
import os
import signal
import ssl
import subprocess
import sys
import time

import pytest

from conftest import ROOT, collections_path, lab_control
from test_playbooks import run_playbook

ROLLOUT = os.path.join(ROOT, "playbooks", "wsfc_agent_rollout.yml")
RECOVER = os.path.join(ROOT, "playbooks", "recover.yml")
INVENTORY = os.path.join(ROOT, "tests", "lab", "inventory.yml")
VERSION = "20.0.1-690"
NODES = ("SQL-NODE1", "SQL-NODE2", "SQL-NODE3")
ORDER = ("SQL-NODE2", "SQL-NODE3", "SQL-NODE1")  # owners last: SQL-NODE1 owns the SQL Server role
SQL_ROLE = "SQL Server (MSSQLSERVER)"
SECRET_KEYS = ("VMWARE_PASSWORD", "WINRM_PASSWORD", "DSM_API_KEY", "CLUSTERSAFE_LAB_ACTIVATION_TOKEN")


def rollout_args(lab, window, report_dir, *extra):
    import hashlib
    sha256 = hashlib.sha256(("clustersafe-lab-msi:%s" % VERSION).encode()).hexdigest()
    args = ["-i", INVENTORY,
            "-e", "wsfc_rollout_window=%s" % window,
            "-e", "wsfc_rollout_version=%s" % VERSION,
            "-e", "wsfc_rollout_installer_url=https://127.0.0.1:14119/software/agent/Windows/x86_64/%s/agent.msi" % VERSION,
            "-e", "wsfc_rollout_installer_sha256=%s" % sha256,
            "-e", "wsfc_rollout_dsm_url=dsm://127.0.0.1:4120/",
            "-e", "wsfc_rollout_policy_id=3",
            "-e", "wsfc_rollout_token=%s" % lab["CLUSTERSAFE_LAB_ACTIVATION_TOKEN"],
            "-e", "wsfc_agent_rollout_report_dir=%s" % report_dir]
    return args + list(extra)


def windows_status(lab):
    return lab_control(lab, "GET", "/status")["windows"]


def assert_nodes_unchanged(lab, before):
    """The failover clusters and the agents still as ``before`` (a windows_status); returns the status now."""
    after = windows_status(lab)
    assert after["clusters"] == before["clusters"] and after["agents"] == before["agents"]
    return after


def vcenter_cluster(lab, name="Prod-Cluster"):
    """DRS level and custom values of a cluster, read with pyVmomi directly (not through the collection)."""
    from pyVim.connect import Disconnect, SmartConnect
    from pyVmomi import vim
    context = ssl.create_default_context(cafile=lab["SSL_CERT_FILE"])
    service = SmartConnect(host=lab["VMWARE_HOST"], port=int(lab["VMWARE_PORT"]), user=lab["VMWARE_USER"],
                           pwd=lab["VMWARE_PASSWORD"], sslContext=context)
    try:
        content = service.RetrieveContent()
        view = content.viewManager.CreateContainerView(content.rootFolder, [vim.ClusterComputeResource], True)
        cluster = [item for item in view.view if item.name == name][0]
        fields = dict((field.key, field.name) for field in content.customFieldsManager.field)
        values = dict((fields.get(value.key), value.value) for value in cluster.customValue if value.value)
        return {"level": cluster.configurationEx.drsConfig.defaultVmBehavior, "custom": values}
    finally:
        Disconnect(service)


def assert_invariants(lab, expected_drs="fullyAutomated"):
    status = windows_status(lab)
    cluster = status["clusters"]["SQLCLU01"]
    for node in NODES:
        assert cluster["nodes"][node]["state"] == "Up", (node, cluster["nodes"][node])
        assert cluster["nodes"][node]["cluster_service"] == "Running", (node, cluster["nodes"][node])
    for role, group in cluster["groups"].items():
        assert group["state"] == "Online", (role, group)
    assert status["unplanned_failovers"] == 0, status["failovers"]
    assert all(not records for records in status["window_records"].values()), status["window_records"]
    assert all(not lease for lease in status["leases"].values()), status["leases"]
    vcenter = vcenter_cluster(lab)
    assert vcenter["level"] == expected_drs, vcenter
    assert not vcenter["custom"].get("clustersafe.drs_window"), vcenter
    return status


def assert_no_secret(lab, output):
    for key in SECRET_KEYS:
        if lab.get(key):
            assert lab[key] not in output, "%s leaked" % key


def recap_changed(output):
    """Changes of the whole run: every host of the recap (the rollout's play hosts are one per failover cluster)."""
    if "PLAY RECAP" not in output:
        raise AssertionError("no recap in output")
    recap = output.rsplit("PLAY RECAP", 1)[1]
    return sum(int(line.split("changed=")[1].split()[0]) for line in recap.splitlines() if " changed=" in line)


@pytest.mark.lab
def test_rollout_end_to_end(fresh_lab, tmp_path):
    lab = fresh_lab
    before = windows_status(lab)

    dry = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-E2E", tmp_path, "--check"))
    output = dry.stdout + dry.stderr
    assert dry.returncode == 0, output[-20000:]
    assert "3 node(s) to maintain, in this order: SQL-NODE2 -> SQL-NODE3 -> SQL-NODE1" in output
    assert "DRS held at manual on: Prod-Cluster" in output
    after_dry = assert_nodes_unchanged(lab, before)
    assert after_dry["failovers"] == before["failovers"]
    assert vcenter_cluster(lab)["level"] == "fullyAutomated"
    assert not os.path.exists(os.path.join(str(tmp_path), "CHG-E2E-wsfc_agent_rollout.json"))

    run = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-E2E", tmp_path))
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-20000:]
    assert_no_secret(lab, output)
    status = assert_invariants(lab)
    for node in NODES:
        assert status["agents"][node]["version"] == VERSION
    moves = [move for move in status["failovers"] if move["role"] == SQL_ROLE]
    assert len(moves) == 1 and moves[0]["planned"], moves
    dsm = lab_control(lab, "GET", "/status")["dsm"]
    active = dict((computer["host_name"], computer) for computer in dsm["computers"])
    for node in NODES:
        assert active[node]["agent_status"] == "active" and active[node]["agent_version"] == VERSION, active[node]

    with open(os.path.join(str(tmp_path), "CHG-E2E-wsfc_agent_rollout.json")) as handle:
        report = json.load(handle)
    assert report["schema"] == "clustersafe.deep_security/window-report/v1"
    assert report["result"] == "succeeded" and report["order"] == list(ORDER)
    assert [node["outcome"] for node in report["nodes"]] == ["changed"] * 3
    assert report["drs"] == [{"cluster": "Prod-Cluster", "before": "fullyAutomated", "during": "manual",
                              "after": "fullyAutomated", "record_left": False, "restore_error": None}]
    steps = [step["step"] for step in report["nodes"][0]["steps"]]
    assert steps == ["drain", "roles_moved", "stop", "agent", "dsm_active", "start", "resume", "verified"]
    assert os.path.exists(os.path.join(str(tmp_path), "CHG-E2E-wsfc_agent_rollout.md"))

    again = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-E2E", tmp_path))
    output = again.stdout + again.stderr
    assert again.returncode == 0, output[-20000:]
    assert recap_changed(output) == 0
    assert "0 node(s) to maintain" in output
    assert len(windows_status(lab)["failovers"]) == len(status["failovers"])


def run_until_task(lab, playbook, args, task, occurrence=1, timeout=600, banner=False):
    """Run a playbook and SIGKILL it (the controller and its workers: the window stops with its controller) when
    the window says ``task`` begins (``SQL-NODE2: [drain]``, ``holding DRS of Prod-Cluster``), or, with
    ``banner``, when Ansible starts the task of that name (the vSphere windows' roles). Returns the output and the
    run id the window printed (recover and a re-run take its lease over with it; None without one)."""
    env = dict(os.environ, **lab)
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    process = subprocess.Popen(["ansible-playbook", playbook] + args, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL, start_new_session=True)
    seen, count = [], 0
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            seen.append(line)
            if (line.startswith("TASK [") and ": %s]" % task in line) if banner else task in line:
                count += 1
                if count == occurrence:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
                    # the worker notices its controller is gone within half a second and stops
                    time.sleep(1.5)
                    return "".join(seen), None if banner else run_id(seen)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    raise AssertionError("task %r never started:\n%s" % (task, "".join(seen)[-8000:]))


def run_id(lines):
    """The run id a window prints first ("[CHG1] run 3f2a... from controller ...")."""
    for line in lines:
        if "] run " in line and " from controller " in line:
            return line.split("] run ", 1)[1].split()[0]
    raise AssertionError("no run id in the output")


STEPS = ("drain", "roles_moved", "stop", "agent", "dsm_active", "start", "resume", "verified")


def _node_steps(node):
    return ["%s: [%s]" % (node, step) for step in STEPS]


# Every step boundary of the first and the second node, and while DRS is held before the first node.
KILL_POINTS = ["holding DRS of Prod-Cluster"] + _node_steps(ORDER[0]) + _node_steps(ORDER[1])
# CI kills at a boundary of each kind of state a crash can leave (DRS held only; node drained; agent
# installed with the cluster service stopped; service started, node still paused; the second node with
# its agent installed); the whole matrix runs with CLUSTERSAFE_CRASH_MATRIX=full (make crash-matrix).
QUICK_KILL_POINTS = [KILL_POINTS[0], KILL_POINTS[2], KILL_POINTS[5], KILL_POINTS[7], KILL_POINTS[8 + 5]]


@pytest.mark.lab
@pytest.mark.parametrize("task", KILL_POINTS)
def test_crash_then_recover_then_rerun(fresh_lab, tmp_path, task):
    if os.environ.get("CLUSTERSAFE_CRASH_MATRIX") != "full" and task not in QUICK_KILL_POINTS:
        pytest.skip("one of the full crash matrix; run with CLUSTERSAFE_CRASH_MATRIX=full (make crash-matrix)")
    lab = fresh_lab
    _output, dead = run_until_task(lab, ROLLOUT, rollout_args(lab, "CHG-CRASH", tmp_path), task)

    # the dead run's lease is fresh: recover names it and changes nothing until it is taken over
    refused = run_playbook(lab, RECOVER, "-i", INVENTORY)
    if any(records for records in windows_status(lab)["window_records"].values()):
        assert refused.returncode != 0 and "take_over=%s" % dead in refused.stdout + refused.stderr
    recovered = run_playbook(lab, RECOVER, "-i", INVENTORY, "-e", "recover_take_over=%s" % dead)
    output = recovered.stdout + recovered.stderr
    assert recovered.returncode == 0, output[-20000:]
    assert_no_secret(lab, output)
    assert_invariants(lab)

    rerun = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-CRASH", tmp_path))
    assert rerun.returncode == 0, (rerun.stdout + rerun.stderr)[-20000:]
    status = assert_invariants(lab)
    assert all(status["agents"][node]["version"] == VERSION for node in NODES)


@pytest.mark.lab
def test_recover_check_mode_lists_and_a_second_recover_finds_nothing(fresh_lab, tmp_path):
    lab = fresh_lab
    _output, dead = run_until_task(lab, ROLLOUT, rollout_args(lab, "CHG-LIST", tmp_path), _node_steps(ORDER[0])[4])
    held = windows_status(lab)

    dry = run_playbook(lab, RECOVER, "-i", INVENTORY, "--check", "-e", "recover_take_over=%s" % dead)
    output = dry.stdout + dry.stderr
    assert dry.returncode == 0, output[-20000:]
    # the three records on the node, DRS, and the lease of the run that died
    assert "recover would put back 5 change(s)" in output
    for change in ("agent_maintenance", "cluster_service_stopped", "node_drained"):
        assert "SQL-NODE2: CHG-LIST/%s would put back" % change in output
    assert "Prod-Cluster: CHG-LIST/drs_window would put back" in output
    assert "SQL-NODE1: CHG-LIST/lease would remove the lease of a run that no longer works" in output
    assert windows_status(lab)["clusters"] == held["clusters"]
    assert windows_status(lab)["window_records"] == held["window_records"]
    assert windows_status(lab)["leases"] == held["leases"]
    assert vcenter_cluster(lab)["level"] == "manual"

    recovered = run_playbook(lab, RECOVER, "-i", INVENTORY, "-e", "recover_take_over=%s" % dead)
    assert recovered.returncode == 0, (recovered.stdout + recovered.stderr)[-20000:]
    assert_invariants(lab)
    again = run_playbook(lab, RECOVER, "-i", INVENTORY)
    assert again.returncode == 0 and recap_changed(again.stdout) == 0, again.stdout[-5000:]
    assert "recover found nothing a window left behind" in again.stdout


@pytest.mark.lab
def test_recover_waits_while_an_installer_runs(fresh_lab, tmp_path):
    """A controller killed during msiexec: the node's cluster service stays stopped while the installer
    runs (the _MSIExecute mutex), and the other parts are still put back."""
    lab = fresh_lab
    _output, dead = run_until_task(lab, ROLLOUT, rollout_args(lab, "CHG-MSI", tmp_path), _node_steps(ORDER[0])[4])
    set_windows_faults(lab, installer_running=[ORDER[0]])
    blocked = run_playbook(lab, RECOVER, "-i", INVENTORY, "-e", "recover_take_over=%s" % dead)
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0
    assert "an installer is still running on %s" % ORDER[0] in output
    status = windows_status(lab)
    assert status["clusters"]["SQLCLU01"]["nodes"][ORDER[0]]["cluster_service"] == "Stopped"
    assert vcenter_cluster(lab)["level"] == "fullyAutomated", "vCenter is put back even when a node is not"
    set_windows_faults(lab, clear=True)
    recovered = run_playbook(lab, RECOVER, "-i", INVENTORY)
    assert recovered.returncode == 0, (recovered.stdout + recovered.stderr)[-20000:]
    assert_invariants(lab)


@pytest.mark.lab
def test_rerun_of_the_same_window_heals_without_recover(fresh_lab, tmp_path):
    """A controller killed with the node stopped: the same window, run again, puts it back first and completes."""
    lab = fresh_lab
    _output, dead = run_until_task(lab, ROLLOUT, rollout_args(lab, "CHG-HEAL", tmp_path), _node_steps(ORDER[0])[3])
    held = windows_status(lab)
    assert held["clusters"]["SQLCLU01"]["nodes"][ORDER[0]]["cluster_service"] == "Stopped"
    assert vcenter_cluster(lab)["level"] == "manual"
    # a second launch of the same window while the first one's lease is fresh is refused (a double click)
    refused = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-HEAL", tmp_path))
    assert refused.returncode != 0 and "held by run %s" % dead in refused.stdout + refused.stderr
    rerun = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-HEAL", tmp_path, "-e", "wsfc_rollout_take_over=%s" % dead))
    assert rerun.returncode == 0, (rerun.stdout + rerun.stderr)[-20000:]
    status = assert_invariants(lab)
    assert all(status["agents"][node]["version"] == VERSION for node in NODES)


@pytest.mark.lab
def test_another_window_left_behind_blocks_until_recover(fresh_lab, tmp_path):
    lab = fresh_lab
    _output, dead = run_until_task(lab, ROLLOUT, rollout_args(lab, "CHG-OLD", tmp_path), _node_steps(ORDER[0])[3])
    refused = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-NEW", tmp_path))
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "refused before any change" in output and "window CHG-OLD left a record" in output
    assert "DRS of Prod-Cluster is held by window CHG-OLD" in output
    assert "held by run %s of window CHG-OLD" % dead in output
    recovered = run_playbook(lab, RECOVER, "-i", INVENTORY, "-e", "recover_take_over=%s" % dead)
    assert recovered.returncode == 0, (recovered.stdout + recovered.stderr)[-20000:]
    assert_invariants(lab)


def set_windows_faults(lab, **faults):
    return lab_control(lab, "POST", "/faults/windows", faults)


@pytest.mark.lab
def test_msi_failure_on_the_second_node(fresh_lab, tmp_path):
    lab = fresh_lab
    set_windows_faults(lab, msi_exit_next=1603, node=ORDER[1])
    run = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-1603", tmp_path))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "exit code 1603" in output
    status = windows_status(lab)
    nodes = status["clusters"]["SQLCLU01"]["nodes"]
    # the failed node: cluster service back (it counts for quorum), paused until someone looks at the MSI log
    assert nodes[ORDER[1]] == {"state": "Paused", "cluster_service": "Running", "drain_status": "Completed"}
    assert nodes[ORDER[0]]["state"] == "Up" and nodes[ORDER[2]]["state"] == "Up"
    assert status["agents"][ORDER[0]]["version"] == VERSION
    assert status["agents"][ORDER[2]]["version"] is None, "the rollout must stop at the failed node"
    assert [record["change"] for record in status["window_records"][ORDER[1]]] == ["node_drained"]
    assert vcenter_cluster(lab)["level"] == "fullyAutomated"
    with open(os.path.join(str(tmp_path), "CHG-1603-wsfc_agent_rollout.json")) as handle:
        report = json.load(handle)
    assert report["result"] == "failed"
    assert report["failed_nodes"][0]["node"] == ORDER[1] and report["failed_nodes"][0]["step"] == "agent"
    set_windows_faults(lab, clear=True)
    recovered = run_playbook(lab, RECOVER, "-i", INVENTORY)
    assert recovered.returncode == 0, recovered.stdout[-5000:]
    assert_invariants(lab)


@pytest.mark.lab
def test_degraded_cluster_is_refused_before_any_change(fresh_lab, tmp_path):
    lab = fresh_lab
    stop = run_playbook(lab, os.path.join(ROOT, "tests", "integration", "playbooks", "support", "stop_node.yml"),
                        "-e", "node=SQL-NODE3")
    assert stop.returncode == 0, stop.stdout[-5000:]
    before = windows_status(lab)
    refused = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-DEGRADED", tmp_path))
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert "refused before any change" in output and "node SQL-NODE3 is Down" in output
    after = assert_nodes_unchanged(lab, before)
    assert all(not records for records in after["window_records"].values())
    assert vcenter_cluster(lab)["level"] == "fullyAutomated"


@pytest.mark.lab
def test_node_that_does_not_rejoin_in_time(fresh_lab, tmp_path):
    lab = fresh_lab
    set_windows_faults(lab, no_rejoin_next=1, node=ORDER[0], marker="mscs_node")
    run = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-REJOIN", tmp_path))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "did not complete" in output
    # the node is put back (started, resumed) and the window stops there
    status = assert_invariants(lab)
    assert status["agents"][ORDER[1]]["version"] is None


@pytest.mark.lab
def test_winrm_timeout_while_draining(fresh_lab, tmp_path):
    lab = fresh_lab
    set_windows_faults(lab, timeout_next=1, node=ORDER[0], marker="mscs_node")
    run = run_playbook(lab, ROLLOUT, *rollout_args(lab, "CHG-TIMEOUT", tmp_path,
                                                   "-e", "wsfc_agent_rollout_node_timeout=5"))
    output = run.stdout + run.stderr
    assert run.returncode != 0
    status = assert_invariants(lab)
    assert all(status["agents"][node]["version"] is None for node in NODES)


@pytest.mark.lab
def test_vcenter_session_lost_between_hold_and_restore(fresh_lab, tmp_path):
    """vCenter drops every session while DRS is held; the window still restores DRS at its end."""
    lab = fresh_lab
    env = dict(os.environ, **lab)
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false")
    process = subprocess.Popen(["ansible-playbook", ROLLOUT] + rollout_args(lab, "CHG-SESSION", tmp_path), env=env,
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               stdin=subprocess.DEVNULL)
    dropped = False
    lines = []
    for line in process.stdout:
        lines.append(line)
        if not dropped and _node_steps(ORDER[0])[3] in line:
            assert vcenter_cluster(lab)["level"] == "manual"
            lab_control(lab, "POST", "/faults", {"drop_sessions": True}, part_url_key="CLUSTERSAFE_LAB_VCENTER_CONTROL")
            dropped = True
    assert process.wait(timeout=900) == 0, "".join(lines)[-20000:]
    assert dropped
    assert_invariants(lab)


INVENTORY_WITH_CREDENTIALS = """
all:
  children:
    windows:
      vars:
        ansible_connection: winrm
        ansible_port: 5986
        ansible_winrm_transport: ntlm
        ansible_winrm_server_cert_validation: validate
        ansible_winrm_ca_trust_path: "{{ lookup('ansible.builtin.env', 'CLUSTERSAFE_LAB_CA') }}"
        ansible_user: "{{ lookup('ansible.builtin.env', 'LAB_WINDOWS_USER') }}"
        ansible_password: "{{ lookup('ansible.builtin.env', 'LAB_WINDOWS_PASSWORD') }}"
      children:
        sql_cluster:
          hosts:
            SQL-NODE1: {ansible_host: 127.0.0.21}
            SQL-NODE2: {ansible_host: 127.0.0.22}
            SQL-NODE3: {ansible_host: 127.0.0.23}
"""


@pytest.mark.lab
def test_credentials_come_from_the_inventory_the_ansible_windows_way(lab, tmp_path):
    """As an AWX Machine credential sets them: ansible_user / ansible_password, no WINRM_* environment."""
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(INVENTORY_WITH_CREDENTIALS)
    environment = dict((key, value) for key, value in lab.items() if not key.startswith("WINRM_"))
    environment.update(LAB_WINDOWS_USER=lab["WINRM_USER"], LAB_WINDOWS_PASSWORD=lab["WINRM_PASSWORD"])
    saved = dict((key, os.environ.pop(key)) for key in list(os.environ) if key.startswith("WINRM_"))
    try:
        args = rollout_args(lab, "CHG-CREDS", tmp_path, "--check")
        args[args.index(INVENTORY)] = str(inventory)
        result = run_playbook(environment, ROLLOUT, *args)
    finally:
        os.environ.update(saved)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "node(s) to maintain" in output
    assert lab["WINRM_PASSWORD"] not in output
