"""The assessment against the lab: the default topology carries exactly the deliberate violations of
docs/lab.md, changing the lab makes the matching findings appear, and the HTML report loads in a real
browser (Debian's chromium, headless) without console errors and shows the findings."""
import json
import os
import re
import shutil
import ssl
import subprocess
import tempfile

import pytest

from conftest import ROOT, reset_lab
from test_playbooks import SECRET_KEYS, run_playbook

LAB_INVENTORY = os.path.join(ROOT, "tests", "lab", "inventory.yml")
ASSESS = os.path.join(ROOT, "playbooks", "assess.yml")
HELPERS = os.path.join(ROOT, "tests", "integration", "assess")
OUTPUT = os.path.join(ROOT, "tests", "output", "assess")

# docs/lab.md, "Deliberate violations": the DSVAs start unpinned (VS-03) and DRS on Web-Cluster, where
# the lab's desktops run, is partially automated (VS-05).
DELIBERATE = [
    ("blocker", "VS-03", "Prod-Cluster/dsva-esx-01.lab.local"),
    ("blocker", "VS-03", "Prod-Cluster/dsva-esx-02.lab.local"),
    ("blocker", "VS-03", "Prod-Cluster/dsva-esx-03.lab.local"),
    ("blocker", "VS-03", "Web-Cluster/dsva-esx-11.lab.local"),
    ("blocker", "VS-03", "Web-Cluster/dsva-esx-12.lab.local"),
    ("blocker", "VS-03", "Web-Cluster/dsva-esx-13.lab.local"),
    ("warning", "VS-05", "Web-Cluster"),
]


def assess(lab, report_dir, *extra):
    result = run_playbook(lab, ASSESS, "-i", LAB_INVENTORY, "-e", "assess_report_dir=%s" % report_dir, *extra)
    output = result.stdout + result.stderr
    for key in SECRET_KEYS:
        if lab.get(key):
            assert lab[key] not in output, "%s leaked into the -vvv output of the assessment" % key
    with open(os.path.join(report_dir, "assessment.json")) as handle:
        return result, json.load(handle)


def found(document):
    return [(f["severity"], f["id"], f["subject"]) for f in document["findings"]]


@pytest.fixture(scope="module")
def default_report(lab):
    """The assessment of the lab exactly as its topology starts."""
    reset_lab()
    report_dir = os.path.join(OUTPUT, "default")
    shutil.rmtree(report_dir, ignore_errors=True)
    result, document = assess(lab, report_dir)
    return result, document, report_dir


@pytest.mark.lab
def test_default_lab_reports_exactly_the_deliberate_violations(default_report):
    result, document, report_dir = default_report
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "6 blocker(s)" in output, output[-5000:]     # blockers fail the run
    assert found(document) == DELIBERATE
    assert document["summary"]["by_severity"] == {"blocker": 6, "warning": 1, "info": 0}
    # the lab's inventory names its failover cluster and NLB farm: every rule had something to check
    assert document["summary"]["rules_not_checked"] == []
    assert sorted(os.listdir(report_dir)) == ["assessment.html", "assessment.json", "assessment.md"]
    overview = document["overview"]
    assert [n["name"] for c in overview["failover_clusters"] for n in c["nodes"]] == ["SQL-NODE1", "SQL-NODE2", "SQL-NODE3"]
    assert [n["state"] for c in overview["nlb_clusters"] for n in c["nodes"]] == ["Converged"] * 3
    with open(os.path.join(report_dir, "assessment.md")) as handle:
        assert "Blockers present" in handle.read()


def _relocate(lab, vm_name, host_name):
    """Move a VM to another host through the vCenter API, as an operator (or DRS) would."""
    from pyVim.connect import Disconnect, SmartConnect
    from pyVim.task import WaitForTask
    from pyVmomi import vim

    context = ssl.create_default_context(cafile=lab["CLUSTERSAFE_LAB_CA"])
    service = SmartConnect(host=lab["VMWARE_HOST"], port=int(lab["VMWARE_PORT"]), user=lab["VMWARE_USER"],
                           pwd=lab["VMWARE_PASSWORD"], sslContext=context)
    try:
        content = service.RetrieveContent()
        objects = {}
        for kind in (vim.VirtualMachine, vim.HostSystem):
            view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
            objects.update((item.name, item) for item in view.view)
            view.Destroy()
        WaitForTask(objects[vm_name].RelocateVM_Task(vim.vm.RelocateSpec(host=objects[host_name])))
    finally:
        Disconnect(service)


@pytest.mark.lab
def test_changing_the_lab_makes_the_matching_findings_appear(lab, default_report):
    try:
        pinned = run_playbook(lab, os.path.join(HELPERS, "pin.yml"))
        assert pinned.returncode == 0, pinned.stdout[-5000:]
        report_dir = os.path.join(OUTPUT, "pinned")
        result, document = assess(lab, report_dir)
        assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]   # no blocker: the run passes
        assert found(document) == [("warning", "VS-05", "Web-Cluster")]
        # the same lab assessed again: the same report, so nothing changes
        again, _document = assess(lab, report_dir)
        assert again.returncode == 0 and re.search(r"localhost\s+: ok=\d+\s+changed=0 ", again.stdout), again.stdout[-3000:]

        # a pin undone, a DSVA moved onto another host's, Intrusion Prevention on for an NLB node
        undone = run_playbook(lab, os.path.join(HELPERS, "pin.yml"), "-e", '{"pin_clusters": ["Web-Cluster"]}',
                              "-e", "pin_state=absent")
        assert undone.returncode == 0, undone.stdout[-5000:]
        _relocate(lab, "dsva-esx-02.lab.local", "esx-03.lab.local")
        ips = run_playbook(lab, os.path.join(HELPERS, "nlb_ips_on.yml"), "-i", LAB_INVENTORY)
        assert ips.returncode == 0, ips.stdout[-5000:]

        report_dir = os.path.join(OUTPUT, "changed")
        result, document = assess(lab, report_dir, "-e", "assess_fail_on_blockers=false")
        assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
        assert found(document) == [
            ("blocker", "VS-01", "Prod-Cluster/esx-02.lab.local"),
            ("blocker", "VS-02", "Prod-Cluster/esx-03.lab.local"),
            ("blocker", "VS-03", "Web-Cluster/dsva-esx-11.lab.local"),
            ("blocker", "VS-03", "Web-Cluster/dsva-esx-12.lab.local"),
            ("blocker", "VS-03", "Web-Cluster/dsva-esx-13.lab.local"),
            ("blocker", "NLB-01", "WEBFARM/WEB2"),
            ("blocker", "NLB-02", "WEBFARM/WEB2"),
            ("warning", "VS-05", "Web-Cluster"),
        ]
        ips_finding = [f for f in document["findings"] if f["id"] == "NLB-01"][0]
        assert ips_finding["evidence"]["intrusion_prevention"] == "prevent"
    finally:
        reset_lab()


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0"]


def _chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _browse(page, *arguments):
    profile = tempfile.mkdtemp(prefix="assess-chromium-")
    try:
        return subprocess.run([_chromium()] + CHROMIUM_FLAGS + ["--user-data-dir=%s" % profile] + list(arguments)
                              + ["file://" + page], capture_output=True, text=True, timeout=120, check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def console_messages(stderr):
    """Chromium's logging of the page's console (``CONSOLE(line)`` entries) and page errors."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


@pytest.mark.lab
def test_report_loads_in_a_real_browser(default_report):
    if _chromium() is None:
        pytest.skip("chromium is not installed (tools/install-deps.sh installs Debian's chromium)")
    _result, document, report_dir = default_report
    page = os.path.join(report_dir, "assessment.html")
    shown = _browse(page, "--dump-dom")
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert console_messages(shown.stderr) == []
    dom = shown.stdout
    assert dom.count('class="finding"') == len(document["findings"]) == 7
    for severity, rule_id, subject in DELIBERATE:
        assert 'data-rule="%s"' % rule_id in dom and subject in dom
    assert "Host \\ DSVA" in dom and "Failover cluster SQLCLU01" in dom and "NLB cluster WEBFARM" in dom
    screenshot = os.path.join(OUTPUT, "assessment.png")
    shot = _browse(page, "--screenshot=%s" % screenshot, "--window-size=1280,2200", "--hide-scrollbars")
    assert shot.returncode == 0 and os.path.getsize(screenshot) > 10000, shot.stderr[-3000:]


def test_browser_check_sees_console_errors(tmp_path):
    """The console check above can fail: a page that logs an error and throws is caught."""
    if _chromium() is None:
        pytest.skip("chromium is not installed (tools/install-deps.sh installs Debian's chromium)")
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><p>x</p><script>console.error("broken page");'
                    "notDefinedAnywhere();</script></body></html>")
    messages = console_messages(_browse(str(page), "--dump-dom").stderr)
    assert any("broken page" in line for line in messages) and any("Uncaught" in line for line in messages)


@pytest.mark.lab
def test_unknown_inventory_group_is_refused_before_anything_is_read(lab, tmp_path):
    result = run_playbook(lab, ASSESS, "-i", LAB_INVENTORY, "-e", "assess_report_dir=%s" % tmp_path,
                          "-e", '{"assess_failover_groups": ["sql_clustr"]}')
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "sql_clustr" in output and "known groups:" in output and "sql_cluster" in output
    assert "Read the vSphere clusters" not in output and not os.listdir(str(tmp_path))


@pytest.mark.lab
def test_without_groups_the_windows_rules_are_listed_as_not_checked(lab, tmp_path):
    result, document = assess(lab, str(tmp_path), "-e", '{"assess_failover_groups": [], "assess_nlb_groups": []}',
                              "-e", "assess_fail_on_blockers=false")
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    not_checked = [item["id"] for item in document["summary"]["rules_not_checked"]]
    assert not_checked == ["MS-01", "MS-02", "MS-03", "MS-04", "MS-05", "NLB-01", "NLB-02", "NLB-03", "GEN-01"]
    assert [rule for rule in document["summary"]["rules_checked"] if not rule.startswith("VS-")] == []
    with open(os.path.join(str(tmp_path), "assessment.md")) as handle:
        assert "- Not checked: MS-01, no failover-cluster node was read" in handle.read()


@pytest.mark.lab
def test_check_mode_writes_no_report_and_counts_no_change(lab, tmp_path):
    report_dir = tmp_path / "reports"
    result = run_playbook(lab, ASSESS, "--check", "-i", LAB_INVENTORY, "-e", "assess_report_dir=%s" % report_dir,
                          "-e", "assess_fail_on_blockers=false")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert re.search(r"^localhost\s*:\s*ok=\d+\s+changed=0\s", output, re.M), output[-3000:]
    assert not report_dir.exists()
