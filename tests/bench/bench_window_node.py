"""Benchmark: what the failover-cluster window's sequencing costs per node beyond the modules' remote work.

Against the running lab (``python3 tests/lab/labctl.py start``), with the lab's waits at zero (the DSM's
policy delivery delay set to 0 ms), in one run:

  1. the role, through ``playbooks/wsfc_agent_rollout.yml``: per node, the time from the first step to
     the end of the last (from the window report's timeline), and the WinRM shells, DSM REST requests and
     vCenter SOAP requests the whole window sent (the lab's own counters);
  2. the same remote work per node without Ansible: the collection's service functions called directly in
     this process, in the role's order (drain with the window record, read the cluster, stop, install and
     activate, wait for the manager, start, resume, read the cluster).

The difference of 1 and 2 per node is what the sequencing adds (Ansible's task machinery, one process per
module, the timeline bookkeeping). The last line is ``per_node_overhead=<seconds>``.

    python3 tests/bench/bench_window_node.py      (or: make bench-window-node)
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
STATE_DIR = os.environ.get("CLUSTERSAFE_LAB_DIR", os.path.join(ROOT, ".lab"))
VERSION = "20.0.1-690"
ORDER = ("SQL-NODE2", "SQL-NODE3", "SQL-NODE1")
ADDRESSES = {"SQL-NODE1": "127.0.0.21", "SQL-NODE2": "127.0.0.22", "SQL-NODE3": "127.0.0.23"}


def lab_env():
    env = {}
    with open(os.path.join(STATE_DIR, "lab.env")) as handle:
        for line in handle:
            if line.startswith("export "):
                key, value = line[len("export "):].strip().split("=", 1)
                env[key] = value.strip("'")
    return env


def control(env, method, path, document=None, key="CLUSTERSAFE_LAB_CONTROL"):
    data = json.dumps(document or {}).encode() if method == "POST" else None
    request = urllib.request.Request(env[key] + path, data=data, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def reset(env):
    subprocess.check_call([sys.executable, os.path.join(ROOT, "tests", "lab", "labctl.py"), "reset",
                           "--state-dir", STATE_DIR], stdout=subprocess.DEVNULL)
    control(env, "POST", "/faults/dsm", {"policy_delay_ms": 0})


def counters(env):
    status = control(env, "GET", "/status")
    shells = dict((node, status["windows"]["counters"].get(node, {}).get("create", 0)) for node in ADDRESSES)
    rest = (status["dsm"].get("requests") or {}).get("requests", 0)
    soap = control(env, "GET", "/stats", key="CLUSTERSAFE_LAB_VCENTER_CONTROL").get("soap_requests", 0)
    return shells, rest, soap


def collections_path():
    return subprocess.check_output(["bash", os.path.join(ROOT, "tools", "collection-root.sh"), "link"], text=True).strip()


def sha256():
    return hashlib.sha256(("clustersafe-lab-msi:%s" % VERSION).encode()).hexdigest()


def run_rollout(env, inventory, window, report_dir, *extra):
    """playbooks/wsfc_agent_rollout.yml against the lab, waits short: (seconds start to end, completed process)."""
    command = ["ansible-playbook", "-i", inventory, os.path.join(ROOT, "playbooks", "wsfc_agent_rollout.yml"),
               "-e", "wsfc_rollout_window=%s" % window, "-e", "wsfc_rollout_version=%s" % VERSION,
               "-e", "wsfc_rollout_installer_url=https://127.0.0.1:14119/software/agent/Windows/x86_64/%s/agent.msi" % VERSION,
               "-e", "wsfc_rollout_installer_sha256=%s" % sha256(), "-e", "wsfc_rollout_dsm_url=dsm://127.0.0.1:4120/",
               "-e", "wsfc_rollout_policy_id=3", "-e", "wsfc_rollout_token=%s" % env["CLUSTERSAFE_LAB_ACTIVATION_TOKEN"],
               "-e", "wsfc_agent_rollout_report_dir=%s" % report_dir] + list(extra)
    process_env = dict(os.environ, **env)
    process_env.update(ANSIBLE_COLLECTIONS_PATH=collections_path(), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                       ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    started = time.monotonic()
    result = subprocess.run(command, env=process_env, cwd=ROOT, capture_output=True, text=True, check=False)
    return time.monotonic() - started, result


def run_role(env):
    report_dir = tempfile.mkdtemp(prefix="bench-window-")
    total, result = run_rollout(env, os.path.join(ROOT, "tests", "lab", "inventory.yml"), "BENCH", report_dir)
    if result.returncode != 0:
        raise SystemExit("the rollout failed:\n" + result.stdout[-5000:])
    with open(os.path.join(report_dir, "BENCH-wsfc_agent_rollout.json")) as handle:
        report = json.load(handle)
    per_node = {}
    for node in report["nodes"]:
        steps = node["steps"]
        per_node[node["host"]] = _seconds(steps[-1]["end"]) - _seconds(steps[0]["start"])
    return total, per_node


def _seconds(stamp):
    from datetime import datetime
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def run_direct(env):
    """The role's remote work per node, without Ansible: the service functions in this process."""
    sys.path.insert(0, collections_path())
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service as dsm_service
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import DsmClient
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import (
        WinRMClient, winrm_argument_spec)

    defaults = dict((key, spec.get("default")) for key, spec in winrm_argument_spec().items())
    dsm = DsmClient(env["DSM_URL"], env["DSM_API_KEY"], validate_certs=True, ca_path=env.get("REQUESTS_CA_BUNDLE"))
    desired = dict(state="present", version=VERSION, installer_path=None, installer_sha256=sha256(),
                   installer_url="https://127.0.0.1:14119/software/agent/Windows/x86_64/%s/agent.msi" % VERSION,
                   activation_url="dsm://127.0.0.1:4120/", policy_id=3, token=env["CLUSTERSAFE_LAB_ACTIVATION_TOKEN"],
                   tenant_id=None, reactivate=False, allow_unverified_installer=False, installer_validate_certs=True,
                   self_protection_password=None)
    per_node = {}
    for node in ORDER:
        params = dict(defaults, hostname=ADDRESSES[node], port=5986, username=env["WINRM_USER"],
                      password=env["WINRM_PASSWORD"], transport="ntlm", scheme="https",
                      ca_path=env["CLUSTERSAFE_LAB_CA"], validate_certs=True)
        client = WinRMClient(params)
        started = time.monotonic()
        # what the engine sends a node, in its order, over one shell (plugins/plugin_utils/engine/engine.py)
        with client.session():
            service.mscs_cluster_info(client, window_records=True)
            service.mscs_node(client, "drained", name=node, window="BENCH-DIRECT", controller="bench")
            service.mscs_node(client, "stopped", name=node, window="BENCH-DIRECT", controller="bench")
            service.ds_agent(client, dict(desired, allow_running_cluster_service=False), window="BENCH-DIRECT",
                             controller="bench")
            dsm_service.computer_info(dsm, [node], wait_for="policy_applied", wait_timeout=600)
            service.mscs_node(client, "started", name=node, window="BENCH-DIRECT")
            service.mscs_node(client, "resumed", name=node)
            service.mscs_cluster_info(client)
            service.remove_records(client, "BENCH-DIRECT", ["node_drained"])
        per_node[node] = time.monotonic() - started
    return per_node


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    env = lab_env()
    os.environ.update(dict((key, value) for key, value in env.items() if key in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")))

    reset(env)
    shells_before, rest_before, soap_before = counters(env)
    total, role = run_role(env)
    shells_after, rest_after, soap_after = counters(env)

    reset(env)
    direct = run_direct(env)
    reset(env)

    print("failover-cluster window, 3 nodes, lab waits at zero")
    print("%-10s %10s %12s %10s %12s" % ("node", "role (s)", "direct (s)", "added (s)", "WinRM shells"))
    for node in ORDER:
        added = role[node] - direct[node]
        shells = shells_after[node] - shells_before[node]
        print("%-10s %10.2f %12.2f %10.2f %12d" % (node, role[node], direct[node], added, shells))
    overhead = sum(role[node] - direct[node] for node in ORDER) / len(ORDER)
    print("whole window: %.1f s (ansible-playbook start to end, gather and report included)" % total)
    print("DSM REST requests: %d (%.1f per node); vCenter SOAP requests: %d" % (
        rest_after - rest_before, (rest_after - rest_before) / 3.0, soap_after - soap_before))
    print("per_node_overhead=%.2f" % overhead)


if __name__ == "__main__":
    main()
