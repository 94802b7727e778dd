"""Run the lab and integration tests in shards at once, each shard with a lab of its own in a private
network namespace, so the shards' labs bind the same loopback addresses and ports without meeting.

    tools/integration.py [--shards N] [-m MARKEXPR] [-k EXPR] [--record] [PATH ...]

Every shard runs ``python -m pytest`` under ``unshare -rn`` (a user namespace mapping the caller to root
and a new network namespace, util-linux unshare(1); the loopback interface of a new network namespace is
down until brought up, network_namespaces(7)), with ``CLUSTERSAFE_LAB_DIR`` naming its own lab state
directory (build/labs/shard-K): the ``lab`` fixture (tests/integration/conftest.py) starts that lab and
stops it at the end. The shards are balanced on the durations in tests/integration/durations.json
(``--record`` writes it from this run's timings); a test file whose tests share a module-scoped fixture
stays in one shard, so its window runs once. Where ``unshare -rn`` is refused (no user namespaces), the
tests run in one shard in the host's namespace, against the lab there.

Logs: build/test-logs/shard-K.log. Exit status: that of the first shard that failed, else 0.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from xml.etree import ElementTree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DURATIONS = os.path.join(ROOT, "tests", "integration", "durations.json")
DEFAULT_PATHS = ["tests/lab_tests", "tests/integration"]
LOGS = os.path.join(ROOT, "build", "test-logs")
LABS = os.path.join(ROOT, "build", "labs")
LOOPBACK_UP = os.path.join(ROOT, "tools", "loopback_up.py")


def test_file(node_id):
    return node_id.split("::", 1)[0]


def plan_shards(node_ids, durations, count, whole_files=()):
    """Split ``node_ids`` into at most ``count`` shards of about equal expected time.

    ``durations`` maps node ids to seconds; a test without one counts as the median of those known (a new
    test is neither free nor the slowest). The tests of a file in ``whole_files`` form one unit that no
    shard splits. Units go, slowest first, to the shard with the least expected time so far (longest
    processing time first); each shard keeps the tests in collection order. Returns a list of
    ``(expected_seconds, [node ids])``, empty shards left out."""
    if count < 1:
        raise ValueError("count must be at least 1, not %r" % (count,))
    known = sorted(durations[node] for node in node_ids if node in durations)
    typical = known[len(known) // 2] if known else 1.0
    order = {node: index for index, node in enumerate(node_ids)}
    units = {}
    for node in node_ids:
        key = test_file(node) if test_file(node) in whole_files else node
        units.setdefault(key, []).append(node)
    weighted = sorted(((sum(durations.get(node, typical) for node in nodes), key, nodes)
                       for key, nodes in units.items()), key=lambda unit: (-unit[0], unit[1]))
    shards = [[0.0, []] for _index in range(count)]
    for seconds, _key, nodes in weighted:
        lightest = min(shards, key=lambda shard: shard[0])
        lightest[0] += seconds
        lightest[1].extend(nodes)
    return [(round(seconds, 1), sorted(nodes, key=order.__getitem__)) for seconds, nodes in shards if nodes]


def files_with_module_fixtures(node_ids):
    """The collected test files whose tests share a module-scoped fixture (a window run once per file)."""
    shared = set()
    for path in sorted({test_file(node) for node in node_ids}):
        with open(os.path.join(ROOT, path)) as handle:
            if 'scope="module"' in handle.read():
                shared.add(path)
    return shared


def collect(paths, markexpr, keyword=None):
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    command += ["-m", markexpr] if markexpr else []
    command += ["-k", keyword] if keyword else []
    result = subprocess.run(command + paths, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 5):
        sys.exit("collecting the tests failed:\n" + result.stdout[-5000:] + result.stderr[-5000:])
    return [line for line in result.stdout.splitlines() if "::" in line and not line.startswith(" ")]


def private_network_works():
    result = subprocess.run(["unshare", "-rn", sys.executable, LOOPBACK_UP, "true"],
                            capture_output=True, check=False)
    return result.returncode == 0


def junit_durations(path):
    """node id -> seconds, from a pytest JUnit XML report (classname is the dotted path of the file)."""
    timings = {}
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        module = case.get("classname", "").replace(".", "/") + ".py"
        timings["%s::%s" % (module, case.get("name"))] = float(case.get("time", 0))
    return timings


def junit_counts(path):
    counts = dict(tests=0, failures=0, errors=0, skipped=0)
    for suite in ElementTree.parse(path).getroot().iter("testsuite"):
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    parser.add_argument("--shards", type=int, default=int(os.environ.get("CLUSTERSAFE_TEST_SHARDS", "4")),
                        help="how many shards run at once (default: CLUSTERSAFE_TEST_SHARDS, else 4: the tests wait on "
                             "the lab more than they compute, so four shards keep two cores busy)")
    parser.add_argument("-m", dest="markexpr", default="not long",
                        help='pytest marker expression (default: "not long"; "" runs every test)')
    parser.add_argument("-k", dest="keyword", default=None, help="pytest keyword expression")
    parser.add_argument("--record", action="store_true",
                        help="write this run's durations to tests/integration/durations.json")
    args = parser.parse_args()
    if args.shards < 1:
        parser.error("--shards must be 1 or more, not %d" % args.shards)

    node_ids = collect(args.paths, args.markexpr, args.keyword)
    if not node_ids:
        sys.exit("no tests collected from %s with -m %r" % (" ".join(args.paths), args.markexpr))
    isolated = private_network_works()
    if not isolated:
        print("unshare -rn is refused here (no user namespaces): one shard, against the lab in this namespace")
    durations = {}
    if os.path.exists(DURATIONS):
        with open(DURATIONS) as handle:
            durations = json.load(handle)
    shards = plan_shards(node_ids, durations, args.shards if isolated else 1, files_with_module_fixtures(node_ids))
    os.makedirs(LOGS, exist_ok=True)
    # The simulated vCenter is built once here rather than by every shard at its first start.
    subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, %r); from tests.lab.vcenter import launcher; "
                    "launcher.build(%r)" % (ROOT, os.path.join(ROOT, "tests", "lab", ".build"))], cwd=ROOT, check=True)

    started = time.monotonic()
    running = []
    for index, (expected, nodes) in enumerate(shards, 1):
        log_path = os.path.join(LOGS, "shard-%d.log" % index)
        report = os.path.join(LOGS, "shard-%d.xml" % index)
        env = dict(os.environ)
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml", report] + nodes
        if isolated:
            env["CLUSTERSAFE_LAB_DIR"] = os.path.join(LABS, "shard-%d" % index)
            command = ["unshare", "-rn", sys.executable, LOOPBACK_UP] + command
        print("shard %d: %d tests, about %.0f s, log %s" % (index, len(nodes), expected, os.path.relpath(log_path, ROOT)),
              flush=True)
        log = open(log_path, "w")
        running.append((index, report, log_path, log,
                        subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)))

    status, totals, timings = 0, dict(tests=0, failures=0, errors=0, skipped=0), {}
    for index, report, log_path, log, process in running:
        code = process.wait()
        log.close()
        with open(log_path) as handle:
            lines = handle.read().splitlines()
        summary = lines[-1] if lines else "(no output)"
        print("shard %d: %s" % (index, summary.strip("= ")), flush=True)
        if code != 0:
            status = status or code
            start = next((n for n, line in enumerate(lines) if "short test summary info" in line), max(0, len(lines) - 40))
            print("\n".join(lines[start:]), flush=True)
        if os.path.exists(report):
            for key, value in junit_counts(report).items():
                totals[key] += value
            timings.update(junit_durations(report))
    passed = totals["tests"] - totals["failures"] - totals["errors"] - totals["skipped"]
    print("all shards: %d passed, %d failed, %d errors, %d skipped in %.0f s" % (
        passed, totals["failures"], totals["errors"], totals["skipped"], time.monotonic() - started))
    if args.record and status == 0:
        durations.update({node: round(seconds, 2) for node, seconds in timings.items()})
        with open(DURATIONS, "w") as handle:
            json.dump(dict(sorted(durations.items())), handle, indent=0)
            handle.write("\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
