"""tools/integration.py: how the lab and integration tests are split into shards that run at once, each
with a lab of its own in a private network namespace."""
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "integration.py")

pytestmark = pytest.mark.skipif(not os.path.exists(TOOL), reason="an installed copy has no tools/")


@pytest.fixture(scope="module")
def shards():
    spec = importlib.util.spec_from_file_location("integration_shards", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ids(*names):
    return ["tests/integration/%s" % name for name in names]


def test_every_test_lands_in_exactly_one_shard_in_collection_order(shards):
    nodes = ids("test_a.py::one", "test_a.py::two", "test_b.py::one", "test_c.py::one", "test_c.py::two")
    durations = dict(zip(nodes, [5, 50, 20, 30, 10]))
    plan = shards.plan_shards(nodes, durations, 2)
    placed = [node for _seconds, shard in plan for node in shard]
    assert sorted(placed) == sorted(nodes)
    for _seconds, shard in plan:
        assert shard == [node for node in nodes if node in shard]


def test_the_slowest_tests_go_first_to_the_lightest_shard(shards):
    nodes = ids("test_a.py::slow", "test_a.py::mid", "test_b.py::mid", "test_b.py::fast")
    durations = dict(zip(nodes, [60, 30, 30, 5]))
    plan = shards.plan_shards(nodes, durations, 2)
    assert sorted(seconds for seconds, _shard in plan) == [60, 65]
    # 60 to the first shard, each 30 to the second, and the 5 s test to the first (a tie goes first)
    assert [shard for seconds, shard in plan if seconds == 60] == [[nodes[1], nodes[2]]]


def test_a_file_with_a_module_fixture_stays_in_one_shard(shards):
    nodes = ids("test_estate.py::one", "test_estate.py::two", "test_x.py::one", "test_y.py::one")
    durations = dict(zip(nodes, [40, 40, 30, 30]))
    plan = shards.plan_shards(nodes, durations, 2, whole_files={"tests/integration/test_estate.py"})
    estate = [shard for _seconds, shard in plan if nodes[0] in shard][0]
    assert nodes[1] in estate
    assert sorted(seconds for seconds, _shard in plan) == [60, 80]


def test_a_test_without_a_recorded_duration_counts_as_the_median(shards):
    nodes = ids("test_a.py::one", "test_a.py::two", "test_a.py::three", "test_new.py::new")
    durations = dict(zip(nodes[:3], [10, 20, 90]))
    plan = shards.plan_shards(nodes, durations, 3)
    assert sorted(seconds for seconds, _shard in plan) == [20, 30, 90]


def test_more_shards_than_tests_leaves_no_empty_shard(shards):
    nodes = ids("test_a.py::one")
    assert shards.plan_shards(nodes, {}, 4) == [(1.0, nodes)]


def test_zero_shards_is_refused(shards):
    with pytest.raises(ValueError, match="at least 1"):
        shards.plan_shards(ids("test_a.py::one"), {}, 0)


def test_the_junit_report_maps_back_to_node_ids(shards, tmp_path):
    report = tmp_path / "report.xml"
    report.write_text('<testsuites><testsuite tests="2" failures="1" errors="0" skipped="0">'
                      '<testcase classname="tests.integration.test_a" name="test_one[x: [y]]" time="2.5"/>'
                      '<testcase classname="tests.integration.test_a" name="test_two" time="1"><failure/></testcase>'
                      '</testsuite></testsuites>')
    assert shards.junit_durations(str(report)) == {"tests/integration/test_a.py::test_one[x: [y]]": 2.5,
                                                   "tests/integration/test_a.py::test_two": 1.0}
    assert shards.junit_counts(str(report)) == dict(tests=2, failures=1, errors=0, skipped=0)


def test_loopback_comes_up_in_a_new_network_namespace():
    if subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False).returncode != 0:
        pytest.skip("this machine refuses unshare -rn (no user namespaces)")
    probe = ("import socket; s = socket.socket(); s.bind(('127.0.0.21', 5985)); s.listen(); "
             "socket.create_connection(('127.0.0.21', 5985), timeout=5); print('reached')")
    down = subprocess.run(["unshare", "-rn", sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert down.returncode != 0
    up = subprocess.run(["unshare", "-rn", sys.executable, os.path.join(ROOT, "tools", "loopback_up.py"),
                         sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert up.returncode == 0 and up.stdout.strip() == "reached", up.stderr
