"""Progress while a window waits: against a lab slowed to real durations (a 20-second drain, a 20-second
install; in make test-long a three-minute install), the window's output never falls silent for more than
15 s, in ansible-playbook's output as in an AWX job's (the same lines); each progress line says what it waits
for, how long so far and the limit. Read line by line, with the time each line arrived."""
import re
import time

import pytest

from conftest import lab_control
from test_window_ownership import start
from test_wsfc_window import ROLLOUT, rollout_args

MOST_SILENCE = 15


@pytest.mark.lab
@pytest.mark.parametrize("install_seconds", [
    20,
    # an agent install as long as a real one (one to three minutes): the WinRM service long-polls the
    # Receive (OperationTimeout faults while msiexec runs) and the window completes
    pytest.param(180, marks=pytest.mark.long, id="three-minute-install"),
])
def test_a_slow_window_is_never_silent_for_more_than_fifteen_seconds(fresh_lab, tmp_path, install_seconds):
    lab = fresh_lab
    slow = {"mscs_node.drain": 20, "agent_install": install_seconds}
    lab_control(lab, "POST", "/faults/windows", {"operation_seconds": slow})
    process = start(lab, ROLLOUT, rollout_args(lab, "CHG-PROGRESS", tmp_path, "--limit", "SQL-NODE2"))
    timed = []
    for line in process.stdout:
        timed.append((time.monotonic(), line.rstrip("\n")))
    assert process.wait(timeout=600) == 0, "\n".join(line for _at, line in timed)[-20000:]

    output = "\n".join(line for _at, line in timed)
    window_lines = [(at, line) for at, line in timed if "[CHG-PROGRESS]" in line]
    assert window_lines, output[-5000:]
    # from the window's first line to the play's end, never more than MOST_SILENCE seconds without a line
    first = timed.index(window_lines[0])
    gaps = [(later[0] - earlier[0], later[1]) for earlier, later in zip(timed[first:], timed[first + 1:])]
    longest = max(gaps)
    assert longest[0] <= MOST_SILENCE, "%.1f s of silence before: %s" % longest
    for what in ("the drain of SQL-NODE2", "the agent work on SQL-NODE2 (msiexec, dsa_control)"):
        assert re.search(r"still waiting for %s: \d+ s of at most \d+ s" % re.escape(what), output), what

    # the window's own page, in a real browser: self-contained, no console error, a timeline lane per node worked
    from test_assess import _browse, _chromium, console_messages
    page = str(tmp_path / "CHG-PROGRESS-wsfc_agent_rollout.html")
    with open(page) as handle:
        source = handle.read()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", source), "the page loads an external asset"
    assert "<script" not in source.lower()
    if _chromium() is None:
        pytest.skip("chromium is not installed (tools/install-deps.sh installs Debian's chromium)")
    shown = _browse(page, "--dump-dom")
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert console_messages(shown.stderr) == []
    dom = shown.stdout
    assert "<h2>Timeline</h2>" in dom and "SQL-NODE2 (changed)" in dom
    for step in ("drain", "stop", "agent", "dsm_active", "start", "resume"):
        assert re.search(r'class="seg ok"[^>]*>%s<' % step, dom), step
