"""Result size of the info modules with and without ``query`` (what AWX stores per task in its database).

- vsphere_cluster_info against the lab vCenter at 4 clusters x 16 hosts and --vms VMs (started here on its
  own port, as tests/bench/bench_cluster_info.py does), run as Ansible runs a module (a Python process
  reading its arguments); the size is that of the JSON the module prints.
- dsm_computer_info for every computer against the lab's DSM model in-process, populated with --computers
  activated computers (a quarter of them on an older agent); the size is that of the result as JSON.

    python3 tests/bench/bench_query_size.py [--vms 10000] [--computers 1000,5000] [--markdown]

Must run inside the lab's network namespace (it binds a loopback port for the vCenter).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from bench_cluster_info import environment, start_vcenter  # noqa: E402
from tests.lab.labctl import load_topology, DEFAULT_TOPOLOGY  # noqa: E402

VSPHERE_QUERIES = [
    ("DSVAs not pinned (VS-03)", "clusters[].dsvas[?!pinned][].{name: name, host: host}"),
    ("DRS level and window per cluster", "clusters[].{cluster: name, drs: drs.automation_level, window: drs_window.window}"),
    ("hosts and their powered-on VM counts", "clusters[].hosts[].{host: name, vms: powered_on_vm_count}"),
]
DSM_QUERIES = [
    ("host names on an older agent", "computers[?agent_version != '20.0.1-690'].host_name"),
    ("host names with policy not applied", "computers[?!policy_applied].host_name"),
]


def module_output_size(env, module, args):
    """Run ``module`` with ``args`` as Ansible does; return (bytes printed, seconds)."""
    workdir = tempfile.mkdtemp(prefix="clustersafe-size-")
    try:
        args_file = os.path.join(workdir, "args.json")
        with open(args_file, "w") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
        code = ("import sys; sys.argv=['m', %r]; "
                "from ansible_collections.clustersafe.deep_security.plugins.modules import %s as m; m.main()"
                ) % (args_file, module)
        started = time.time()
        completed = subprocess.run([sys.executable, "-c", code], env=dict(env, PYTHONPATH=env["ANSIBLE_COLLECTIONS_PATH"]),
                                   capture_output=True, check=False)
        seconds = time.time() - started
        result = json.loads(completed.stdout)
        if result.get("failed"):
            raise SystemExit("%s failed: %s" % (module, result.get("msg")))
        return len(completed.stdout), seconds
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def vsphere_rows(vms, collections):
    state_dir = tempfile.mkdtemp(prefix="clustersafe-bench-")
    process, _vcenter, _startup = start_vcenter(state_dir, vms)
    try:
        env = environment(state_dir, load_topology(DEFAULT_TOPOLOGY), collections, sys.executable)
        whole, seconds = module_output_size(env, "vsphere_cluster_info", {})
        rows = [("vsphere_cluster_info", "%d VMs" % vms, "(none)", whole, seconds)]
        for label, expression in VSPHERE_QUERIES:
            size, seconds = module_output_size(env, "vsphere_cluster_info", {"query": expression})
            rows.append(("vsphere_cluster_info", "%d VMs" % vms, "%s: `%s`" % (label, expression), size, seconds))
        return rows
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(state_dir, ignore_errors=True)


def dsm_rows(count):
    from tests.lab.inprocess import FakeClock, activate, load_topology as dsm_topology, model_opener, new_model
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import DsmClient
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
    from ansible_collections.clustersafe.deep_security.plugins.module_utils.query import apply_query, compile_query

    topology = dsm_topology()
    model = new_model(topology)
    for number in range(count):
        activate(model, "host-%05d.corp.example" % number, version="20.0.0-877" if number % 4 == 0 else "20.0.1-690")
    clock = FakeClock()
    client = DsmClient("https://dsm.test:4119/api", topology["dsm"]["api_key"], opener=model_opener(model),
                       sleep=clock.sleep)
    started = time.time()
    result = service.computer_info(client, None)
    seconds = time.time() - started
    rows = [("dsm_computer_info", "%d computers" % count, "(none)", len(json.dumps(result)), seconds)]
    for label, expression in DSM_QUERIES:
        queried = apply_query(result, compile_query(expression), expression)
        rows.append(("dsm_computer_info", "%d computers" % count, "%s: `%s`" % (label, expression),
                     len(json.dumps(queried)), seconds))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vms", type=int, default=10000)
    parser.add_argument("--computers", default="1000,5000", help="DSM computer counts, comma separated")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    collections = subprocess.check_output(["bash", os.path.join(ROOT, "tools", "collection-root.sh"), "link"],
                                          text=True).strip()
    sys.path.insert(0, collections)
    rows = vsphere_rows(args.vms, collections) if args.vms else []
    for count in [int(item) for item in args.computers.split(",") if item]:
        rows.extend(dsm_rows(count))
    header = ["Module", "Inventory", "query", "Result bytes", "vs. whole"]
    lines = []
    whole = {}
    for module, inventory, label, size, _seconds in rows:
        if label == "(none)":
            whole[(module, inventory)] = size
        share = size / float(whole[(module, inventory)])
        lines.append([module, inventory, label, "{:,}".format(size), "100%" if label == "(none)" else (
            "%.2f%%" % (100 * share) if share < 0.1 else "%.0f%%" % (100 * share))])
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        for line in lines:
            print("  ".join(line))


if __name__ == "__main__":
    main()
