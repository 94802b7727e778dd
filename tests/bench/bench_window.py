"""Benchmark: one failover-cluster window across 1, 5 and 10 clusters of three nodes.

For each size the lab is started as a generated estate (``labctl.py start --failover-clusters N``: the
lab's SQLCLU01 plus clusters shaped like it, VMs on two DRS clusters), and the rollout playbook runs over
all its clusters (``wsfc_rollout_hosts=sql_clusters``, ``--forks N``), once per wait profile:

- ``zero``: every simulated operation answers at once and the manager applies policies at once (what
  the controller's own work costs);
- ``realistic``: the simulated nodes take time as real ones do (PROFILES below; powershell.exe start-up per
  script, a role move on drain, msiexec, the cluster service's start and rejoin) and the manager takes
  10 s to apply the first policy. These durations are an assumed profile for the benchmark, not vendor
  figures: they stand for a maintenance window where waiting, not the controller, sets the pace.

It prints, per size and profile, the wall time of ``ansible-playbook`` (start to end), and per node the
WinRM shells, DSM REST requests and vCenter SOAP requests (the lab's counters), which must not grow
with the number of clusters. The last line is ``clusters=10 ratio=<time of 10 / time of 1>`` for the
realistic profile; the zero-wait ratio is printed on the line before it.

    python3 tests/bench/bench_window.py [--clusters 1,5,10] [--profiles zero,realistic]   (make bench-window)
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

from bench_window_node import control, lab_env, run_rollout  # noqa: E402

LABCTL = os.path.join(ROOT, "tests", "lab", "labctl.py")
STATE_DIR = os.environ.get("CLUSTERSAFE_LAB_DIR", os.path.join(ROOT, ".lab"))
NODES_PER_CLUSTER = 3
PROFILES = {
    "zero": {"windows": {}, "policy_delay_ms": 0},
    "realistic": {"windows": {"*": 1.0, "mscs_node.drain": 10, "mscs_node.stop": 5, "mscs_node.start": 10,
                              "mscs_node.resume": 2, "agent_install": 15, "agent_activate": 5},
                  "policy_delay_ms": 10000},
}


def labctl(*args):
    subprocess.check_call([sys.executable, LABCTL] + list(args) + ["--state-dir", STATE_DIR], stdout=subprocess.DEVNULL)


def counters(env, nodes):
    status = control(env, "GET", "/status")
    shells = dict((node, (status["windows"]["counters"].get(node) or {}).get("create", 0)) for node in nodes)
    rest = (status["dsm"].get("requests") or {}).get("requests", 0)
    soap = control(env, "GET", "/stats", key="CLUSTERSAFE_LAB_VCENTER_CONTROL").get("soap_requests", 0)
    return shells, rest, soap


def estate_nodes(env):
    status = control(env, "GET", "/status")
    return [node for cluster in status["windows"]["clusters"].values() for node in cluster["nodes"]]


def run_window(env, clusters, window):
    elapsed, result = run_rollout(env, env["CLUSTERSAFE_LAB_INVENTORY"], window, tempfile.mkdtemp(prefix="bench-estate-"),
                                  "--forks", str(max(clusters, 5)), "-e", "wsfc_rollout_hosts=sql_clusters")
    if result.returncode != 0:
        raise SystemExit("the window over %d cluster(s) failed:\n%s" % (clusters, result.stdout[-6000:]))
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clusters", default="1,5,10", help="estate sizes, comma-separated (default 1,5,10)")
    parser.add_argument("--profiles", default="zero,realistic", help="wait profiles (default zero,realistic)")
    args = parser.parse_args()
    sizes = [int(item) for item in args.clusters.split(",")]
    profiles = args.profiles.split(",")
    unknown = [name for name in profiles if name not in PROFILES]
    if unknown:
        parser.error("--profiles: unknown %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(PROFILES))))

    times = {}
    rows = []
    for size in sizes:
        labctl("stop")
        labctl("start", "--failover-clusters", str(size))
        env = lab_env()
        os.environ.update(dict((key, value) for key, value in env.items() if key in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")))
        nodes = estate_nodes(env)
        for profile in profiles:
            labctl("reset")
            control(env, "POST", "/faults/dsm", {"policy_delay_ms": PROFILES[profile]["policy_delay_ms"]})
            control(env, "POST", "/faults/windows", {"operation_seconds": PROFILES[profile]["windows"]})
            shells_before, rest_before, soap_before = counters(env, nodes)
            elapsed = run_window(env, size, "BENCH-%s-%d" % (profile.upper(), size))
            shells_after, rest_after, soap_after = counters(env, nodes)
            shells = [shells_after[node] - shells_before[node] for node in nodes]
            times[(profile, size)] = elapsed
            rows.append((profile, size, len(nodes), elapsed, min(shells), max(shells),
                         (rest_after - rest_before) / float(len(nodes)), (soap_after - soap_before) / float(len(nodes))))
            print("%-9s clusters=%-3d nodes=%-3d %7.1f s  (done)" % (profile, size, len(nodes), elapsed), file=sys.stderr)
    labctl("stop")

    print("failover-cluster window across clusters of %d nodes (wall time of ansible-playbook, start to end)" % NODES_PER_CLUSTER)
    print("%-9s %8s %6s %10s %8s %14s %12s %12s" % ("waits", "clusters", "nodes", "time (s)", "x one",
                                                    "WinRM shells/node", "REST/node", "SOAP/node"))
    for profile, size, count, elapsed, low, high, rest, soap in rows:
        one = times.get((profile, 1))
        print("%-9s %8d %6d %10.1f %8s %14s %12.1f %12.1f" % (
            profile, size, count, elapsed, ("%.2f" % (elapsed / one)) if one else "-",
            ("%d" % low) if low == high else ("%d-%d" % (low, high)), rest, soap))
    last = max(sizes)
    for profile in ("zero", "realistic"):
        if (profile, 1) in times and (profile, last) in times:
            ratio = times[(profile, last)] / times[(profile, 1)]
            if profile == "zero":
                print("waits=zero clusters=%d ratio=%.2f" % (last, ratio))
            else:
                print("clusters=%d ratio=%.2f" % (last, ratio))


if __name__ == "__main__":
    main()
