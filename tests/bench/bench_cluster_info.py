"""Benchmark: vsphere_cluster_info against what a user runs today to learn the same
(community.vmware vmware_cluster_info + vmware_vm_info, from the PyPI ``ansible`` 11.x package in a
separate virtualenv), on simulated vCenters of growing size, in one run.

For each inventory size it starts the lab vCenter with that many VMs (4 clusters x 16 hosts, one DSVA
per host), then:
  - runs a play with our module and a play with the two anchor modules, timing the tasks inside each
    play (timestamps before and after), so ansible-playbook's own start-up is not counted;
  - counts the SOAP requests each play sent (the simulator's counter);
  - runs our module once more as a bare process to read its peak RSS.

    python3 tests/bench/bench_cluster_info.py [--sizes 100,1250,2500,5000,10000] [--anchor-max 1250] [--no-anchor]

Prints a table; --markdown prints it for docs/performance.md.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from tests.lab import pki  # noqa: E402
from tests.lab.labctl import load_topology, DEFAULT_TOPOLOGY  # noqa: E402
from tests.lab.vcenter import launcher  # noqa: E402

ANCHOR_VENV = os.path.join(ROOT, "build", "bench-anchor-venv")
ANCHOR_REQUIREMENT = "ansible>=11,<12"
PORT = 28643

OURS = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.set_fact:
        t0: "{{ lookup('ansible.builtin.pipe', 'date +%s.%N') }}"
    - clustersafe.deep_security.vsphere_cluster_info:
      register: info
    - ansible.builtin.set_fact:
        t1: "{{ lookup('ansible.builtin.pipe', 'date +%s.%N') }}"
    - ansible.builtin.copy:
        dest: "{{ result_file }}"
        content: "{{ {'seconds': (t1 | float) - (t0 | float), 'clusters': info.clusters | length,
                      'vms': info.clusters | map(attribute='hosts') | flatten
                             | map(attribute='powered_on_vm_count') | sum} | to_json }}"
        mode: "0600"
"""

ANCHOR = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.set_fact:
        t0: "{{ lookup('ansible.builtin.pipe', 'date +%s.%N') }}"
    - community.vmware.vmware_cluster_info:
        datacenter: DC-Lab
      register: clusters
    - community.vmware.vmware_vm_info:
        vm_type: vm
      register: vms
    - ansible.builtin.set_fact:
        t1: "{{ lookup('ansible.builtin.pipe', 'date +%s.%N') }}"
    - ansible.builtin.copy:
        dest: "{{ result_file }}"
        content: "{{ {'seconds': (t1 | float) - (t0 | float), 'clusters': clusters.clusters | length,
                      'vms': vms.virtual_machines | length} | to_json }}"
        mode: "0600"
"""


def ensure_anchor_venv():
    ansible_playbook = os.path.join(ANCHOR_VENV, "bin", "ansible-playbook")
    if not os.path.exists(ansible_playbook):
        subprocess.check_call([sys.executable, "-m", "venv", ANCHOR_VENV])
        subprocess.check_call([os.path.join(ANCHOR_VENV, "bin", "pip"), "install", "-q", "--disable-pip-version-check",
                               ANCHOR_REQUIREMENT, "pyvmomi", "requests"])
    return ansible_playbook


def control(url, path, document=None):
    data = json.dumps(document).encode() if document is not None else None
    request = urllib.request.Request(url + path, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def start_vcenter(state_dir, vms):
    topology = load_topology(DEFAULT_TOPOLOGY)
    binary = launcher.build(os.path.join(ROOT, "tests", "lab", ".build"))
    pki.ensure_ca(os.path.join(state_dir, "pki"))
    argv = launcher.command(binary, topology, DEFAULT_TOPOLOGY, state_dir, port=PORT,
                            scale={"clusters": 4, "hosts_per_cluster": 16, "vms": vms})
    log = open(os.path.join(state_dir, "vcenter.log"), "ab")
    started = time.time()
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    ready = os.path.join(state_dir, "vcenter.ready.json")
    while not os.path.exists(ready):
        if process.poll() is not None:
            raise SystemExit("simulated vCenter exited; see %s" % log.name)
        if time.time() - started > 300:
            process.kill()
            raise SystemExit("simulated vCenter not ready after 300 s")
        time.sleep(0.2)
    with open(ready) as handle:
        return process, json.load(handle), time.time() - started


def environment(state_dir, topology, collections, python):
    vcenter = topology["vcenter"]
    bundle = os.path.join(state_dir, "pki", "bundle.pem")
    with open(bundle, "w") as out:
        for path in ("/etc/ssl/certs/ca-certificates.crt", os.path.join(state_dir, "pki", "ca.pem")):
            if os.path.exists(path):
                with open(path) as handle:
                    out.write(handle.read())
    env = dict(os.environ)
    env.update({
        "VMWARE_HOST": "127.0.0.1", "VMWARE_PORT": str(PORT), "VMWARE_USER": vcenter["username"],
        "VMWARE_PASSWORD": vcenter["password"], "VMWARE_VALIDATE_CERTS": "true",
        "SSL_CERT_FILE": bundle, "REQUESTS_CA_BUNDLE": bundle,
        "ANSIBLE_COLLECTIONS_PATH": collections, "ANSIBLE_PYTHON_INTERPRETER": python,
        "ANSIBLE_LOCALHOST_WARNING": "false", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "1",
    })
    return env


def run_play(ansible_playbook, playbook_text, env, workdir, name, vcenter):
    playbook = os.path.join(workdir, name + ".yml")
    result_file = os.path.join(workdir, name + ".json")
    with open(playbook, "w") as handle:
        handle.write(playbook_text)
    control(vcenter["control"], "/stats/reset", {})
    completed = subprocess.run([ansible_playbook, "-i", "localhost,", "-c", "local", playbook,
                                "-e", "result_file=%s" % result_file], env=env, cwd=workdir,
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        return {"error": (completed.stdout + completed.stderr)[-3000:]}
    stats = control(vcenter["control"], "/stats")
    with open(result_file) as handle:
        figures = json.load(handle)
    figures["soap_requests"] = stats["soap_requests"]
    figures["by_method"] = stats.get("by_method", {})
    return figures


def module_peak_rss(env, workdir):
    """Run the module as Ansible would (a Python process reading its arguments), return (seconds, peak MB)."""
    args_file = os.path.join(workdir, "args.json")
    with open(args_file, "w") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": {}}, handle)
    code = ("import sys; sys.argv=['m', %r]; "
            "from ansible_collections.clustersafe.deep_security.plugins.modules import vsphere_cluster_info as m; "
            "m.main()") % args_file
    child_env = dict(env, PYTHONPATH=env["ANSIBLE_COLLECTIONS_PATH"])
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.time()
    completed = subprocess.run([sys.executable, "-c", code], env=child_env, capture_output=True, text=True, check=False)
    seconds = time.time() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if completed.returncode != 0:
        raise SystemExit("module failed: %s" % completed.stdout[-2000:])
    # ru_maxrss of children is the largest child so far; each size runs bigger than the last.
    return seconds, max(peak, before) / 1024.0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1250,2500,5000,10000", help="VM counts, comma separated")
    parser.add_argument("--anchor-max", type=int, default=1250,
                        help="largest inventory the anchors run on (they grow linearly: minutes at 10,000 VMs)")
    parser.add_argument("--no-anchor", action="store_true", help="skip community.vmware")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    sizes = [int(item) for item in args.sizes.split(",")]
    collections = subprocess.check_output(["bash", os.path.join(ROOT, "tools", "collection-root.sh"), "link"],
                                          text=True).strip()
    anchor_playbook = None if args.no_anchor else ensure_anchor_venv()
    ours_playbook = shutil.which("ansible-playbook")
    topology = load_topology(DEFAULT_TOPOLOGY)
    rows = []
    for size in sizes:
        state_dir = tempfile.mkdtemp(prefix="clustersafe-bench-")
        process, vcenter, startup = start_vcenter(state_dir, size)
        try:
            env = environment(state_dir, topology, collections, sys.executable)
            ours = run_play(ours_playbook, OURS, env, state_dir, "ours", vcenter)
            module_seconds, rss = module_peak_rss(env, state_dir)
            row = {"vms": size, "startup": startup, "ours": ours, "module_seconds": module_seconds, "rss_mb": rss}
            if anchor_playbook and size <= args.anchor_max:
                anchor_env = dict(env, ANSIBLE_COLLECTIONS_PATH=os.path.join(ANCHOR_VENV, "nonexistent"),
                                  ANSIBLE_PYTHON_INTERPRETER=os.path.join(ANCHOR_VENV, "bin", "python"))
                row["anchor"] = run_play(anchor_playbook, ANCHOR, anchor_env, state_dir, "anchor", vcenter)
            rows.append(row)
            print(json.dumps(row, sort_keys=True), file=sys.stderr)
        finally:
            process.terminate()
            process.wait(timeout=30)
            shutil.rmtree(state_dir, ignore_errors=True)
    print_table(rows, args.markdown)


def print_table(rows, markdown):
    header = ["VMs (4x16 hosts)", "ours: task s", "ours: SOAP", "ours: module RSS MB",
              "anchors: tasks s", "anchors: SOAP", "speed-up"]
    lines = []
    for row in rows:
        ours, anchor = row["ours"], row.get("anchor") or {}
        speedup = ""
        if "seconds" in anchor and "seconds" in ours and ours["seconds"] > 0:
            speedup = "%.0fx" % (anchor["seconds"] / ours["seconds"])
        lines.append([str(row["vms"]), "%.2f" % ours.get("seconds", float("nan")), str(ours.get("soap_requests", "error")),
                      "%.0f" % row["rss_mb"], "%.2f" % anchor["seconds"] if "seconds" in anchor else (
                          "failed" if anchor else "-"),
                      str(anchor.get("soap_requests", "-")), speedup])
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for line in lines:
            print("| " + " | ".join(line) + " |")
    else:
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
        for line in lines:
            print("  ".join(c.ljust(w) for c, w in zip(line, widths)))
    for row in rows:
        for name in ("ours", "anchor"):
            if row.get(name, {}).get("error"):
                print("\n%s failed at %d VMs:\n%s" % (name, row["vms"], row[name]["error"]))


if __name__ == "__main__":
    main()
