"""Start, stop and describe the lab: a simulated vCenter (govmomi, built once and cached), and one
Python process (``labd.py``) serving the simulated Windows nodes and Deep Security Manager.

    python3 tests/lab/labctl.py start      # build if needed, start everything, write .lab/lab.env
    python3 tests/lab/labctl.py env        # print the shell exports for the running lab
    python3 tests/lab/labctl.py status     # what runs, and the parts' status documents
    python3 tests/lab/labctl.py reset      # every part back to the topology's initial state
    python3 tests/lab/labctl.py stop

Everything listens on loopback only. ``--parts vcenter,windows,dsm`` starts a subset.
"""
import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

import yaml  # noqa: E402

from tests.lab import pki  # noqa: E402

DEFAULT_STATE_DIR = os.path.join(ROOT, ".lab")
DEFAULT_TOPOLOGY = os.path.join(HERE, "topology.yml")
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
READY_TIMEOUT = 120


def load_topology(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _read_pid(state_dir, name):
    try:
        with open(os.path.join(state_dir, "%s.pid" % name)) as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


def _spawn(state_dir, name, argv, ready_file, env=None):
    if _read_pid(state_dir, name):
        return
    if os.path.exists(ready_file):
        os.remove(ready_file)
    log = open(os.path.join(state_dir, "%s.log" % name), "ab")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True, cwd=ROOT, env=env)
    with open(os.path.join(state_dir, "%s.pid" % name), "w") as handle:
        handle.write(str(process.pid))
    deadline = time.time() + READY_TIMEOUT
    while not os.path.exists(ready_file):
        if process.poll() is not None:
            log_path = os.path.join(state_dir, "%s.log" % name)
            raise SystemExit("lab %s exited with %s; see %s" % (name, process.returncode, log_path))
        if time.time() > deadline:
            raise SystemExit("lab %s not ready after %ds" % (name, READY_TIMEOUT))
        time.sleep(0.1)


def _ca_bundle(state_dir):
    pki_dir = os.path.join(state_dir, "pki")
    ca_cert = pki.ensure_ca(pki_dir)[0]
    bundle = os.path.join(pki_dir, "ca-bundle.pem")
    with open(bundle, "w") as out:
        if os.path.exists(SYSTEM_CA_BUNDLE):
            with open(SYSTEM_CA_BUNDLE) as handle:
                out.write(handle.read())
        with open(ca_cert) as handle:
            out.write(handle.read())
    return ca_cert, bundle


def start(args):
    topology = load_topology(args.topology)
    os.makedirs(args.state_dir, exist_ok=True)
    ca_cert, bundle = _ca_bundle(args.state_dir)
    parts = args.parts.split(",")
    if "vcenter" in parts:
        _start_vcenter(args, topology)
    labd_parts = [part for part in parts if part in ("windows", "dsm")]
    if labd_parts:
        _spawn(args.state_dir, "labd",
               [sys.executable, os.path.join(HERE, "labd.py"), "--topology", args.topology,
                "--state-dir", args.state_dir, "--parts", ",".join(labd_parts)],
               os.path.join(args.state_dir, "labd.ready.json"))
    write_env(args, topology, ca_cert, bundle)
    print(open(os.path.join(args.state_dir, "lab.env")).read(), end="")


def _ready(state_dir, name):
    try:
        with open(os.path.join(state_dir, "%s.ready.json" % name)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def lab_exports(topology, state_dir, ca_cert, bundle):
    vcenter = topology["vcenter"]
    windows = topology["windows"]
    dsm = topology["dsm"]
    labd = _ready(state_dir, "labd")
    exports = {
        "CLUSTERSAFE_LAB_DIR": state_dir,
        "CLUSTERSAFE_LAB_CA": ca_cert,
        "CLUSTERSAFE_LAB_CONTROL": labd.get("control", ""),
        "CLUSTERSAFE_LAB_VCENTER_CONTROL": _ready(state_dir, "vcenter").get("control", ""),
        "SSL_CERT_FILE": bundle,
        "REQUESTS_CA_BUNDLE": bundle,
        "VMWARE_HOST": vcenter["address"],
        "VMWARE_PORT": str(vcenter["port"]),
        "VMWARE_USER": vcenter["username"],
        "VMWARE_PASSWORD": vcenter["password"],
        "VMWARE_VALIDATE_CERTS": "true",
        "WINRM_USER": windows["username"],
        "WINRM_PASSWORD": windows["password"],
        "DSM_URL": "https://%s:%s/api" % (dsm["address"], dsm["port"]),
        "DSM_API_KEY": dsm["api_key"],
        "DSM_VALIDATE_CERTS": "true",
        "CLUSTERSAFE_LAB_ACTIVATION_TOKEN": dsm.get("activation_token", ""),
    }
    return exports


def write_env(args, topology, ca_cert, bundle):
    exports = lab_exports(topology, args.state_dir, ca_cert, bundle)
    with open(os.path.join(args.state_dir, "lab.env"), "w") as handle:
        for key, value in exports.items():
            handle.write("export %s=%s\n" % (key, shlex.quote(value)))
    os.chmod(os.path.join(args.state_dir, "lab.env"), 0o600)


def _stop_process(state_dir, name):
    pid = _read_pid(state_dir, name)
    if pid:
        os.killpg(pid, signal.SIGTERM)
        deadline = time.time() + 10
        while _pid_alive(pid) and time.time() < deadline:
            time.sleep(0.1)
        if _pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)
        print("stopped %s (pid %s)" % (name, pid))
    for suffix in (".pid", ".ready.json"):
        path = os.path.join(state_dir, name + suffix)
        if os.path.exists(path):
            os.remove(path)


def _start_vcenter(args, topology):
    from tests.lab.vcenter import launcher
    binary = launcher.build(os.path.join(HERE, ".build"))
    _spawn(args.state_dir, "vcenter", launcher.command(binary, topology, args.topology, args.state_dir),
           os.path.join(args.state_dir, "vcenter.ready.json"))


def stop(args):
    for name in ("labd", "vcenter"):
        _stop_process(args.state_dir, name)


def status(args):
    document = {name: {"pid": _read_pid(args.state_dir, name), "endpoints": _ready(args.state_dir, name)}
                for name in ("vcenter", "labd")}
    control = document["labd"]["endpoints"].get("control")
    if control and document["labd"]["pid"]:
        with urllib.request.urlopen(control + "/status", timeout=10) as response:
            document["labd"]["parts"] = json.load(response)
    print(json.dumps(document, indent=2, sort_keys=True))


def reset(args):
    """Every part back to the topology: labd parts reset in place; the vCenter is restarted, which
    rebuilds its inventory (the simulator has no cheaper way back)."""
    control = _ready(args.state_dir, "labd").get("control")
    if control:
        request = urllib.request.Request(control + "/reset", data=b"{}", method="POST")
        urllib.request.urlopen(request, timeout=30).read()
    if _read_pid(args.state_dir, "vcenter"):
        _stop_process(args.state_dir, "vcenter")
        _start_vcenter(args, load_topology(args.topology))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop", "restart", "status", "env", "reset"])
    parser.add_argument("--topology", default=os.environ.get("CLUSTERSAFE_LAB_TOPOLOGY", DEFAULT_TOPOLOGY))
    parser.add_argument("--state-dir", default=os.environ.get("CLUSTERSAFE_LAB_DIR", DEFAULT_STATE_DIR))
    parser.add_argument("--parts", default="vcenter,windows,dsm")
    args = parser.parse_args()
    args.state_dir = os.path.abspath(args.state_dir)
    if args.action == "start":
        start(args)
    elif args.action == "stop":
        stop(args)
    elif args.action == "restart":
        stop(args)
        start(args)
    elif args.action == "status":
        status(args)
    elif args.action == "reset":
        reset(args)
    elif args.action == "env":
        with open(os.path.join(args.state_dir, "lab.env")) as handle:
            print(handle.read(), end="")


if __name__ == "__main__":
    main()
