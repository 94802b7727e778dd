"""A window's lease on a cluster (module_utils/window_lease.py, safety invariant 9): what a run may do with the
lease it finds, and what a lease must look like before it is trusted."""
import json
from datetime import datetime

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils import window_lease

NOW = datetime(2026, 12, 6, 3, 0, 0)
OURS = "0123456789abcdef"
THEIRS = "fedcba9876543210"


def lease(**changes):
    fields = {"run": THEIRS, "window": "CHG1", "holder": "wsfc_window", "controller": "awx-task-1.corp.example",
              "unit": "SQLCLU01", "since": "2026-12-06T02:50:00Z", "heartbeat": "2026-12-06T02:59:00Z",
              "expires": "2026-12-06T03:04:00Z"}
    fields.update(changes)
    return fields


def text(**changes):
    return json.dumps(lease(**changes))


# --- judge ---------------------------------------------------------------------------------------------------

def test_no_lease_is_taken():
    for raw in ("", None):
        assert window_lease.judge(raw, NOW, OURS) == {"action": "take", "expected": "", "message": "no lease"}


def test_our_own_lease_is_taken_again_even_when_expired():
    for expires in ("2026-12-06T03:04:00Z", "2026-12-06T02:00:00Z"):
        raw = text(run=OURS, expires=expires)
        assert window_lease.judge(raw, NOW, OURS) == {"action": "take", "expected": raw, "message": "our own lease"}


def test_an_expired_lease_is_taken_over_naming_its_holder():
    raw = text(expires="2026-12-06T02:59:59Z")
    decision = window_lease.judge(raw, NOW, OURS)
    assert (decision["action"], decision["expected"], decision["taken_over"]) == ("take", raw, THEIRS)
    assert decision["message"].startswith("took over the expired lease of run %s of window CHG1 (wsfc_window) from "
                                          "controller awx-task-1.corp.example" % THEIRS)


def test_a_lease_expiring_now_has_expired():
    assert window_lease.judge(text(expires="2026-12-06T03:00:00Z"), NOW, OURS)["action"] == "take"


def test_a_fresh_lease_of_another_run_is_refused_naming_the_holder_and_how_to_take_it_over():
    decision = window_lease.judge(text(), NOW, OURS)
    assert (decision["action"], decision["expected"], decision["holder"]) == ("refuse", None, lease())
    assert "held by run %s of window CHG1 (wsfc_window) from controller awx-task-1.corp.example since " \
           "2026-12-06T02:50:00Z, last heartbeat 2026-12-06T02:59:00Z, expires 2026-12-06T03:04:00Z" % THEIRS \
        in decision["message"]
    assert decision["message"].endswith("set take_over=%s to take it over" % THEIRS)


def test_take_over_by_the_holders_run_id_takes_a_fresh_lease():
    raw = text()
    decision = window_lease.judge(raw, NOW, OURS, take_over=THEIRS)
    assert (decision["action"], decision["expected"], decision["taken_over"]) == ("take", raw, THEIRS)
    assert "as take_over asked" in decision["message"]


@pytest.mark.parametrize("take_over", ["0000000000000000", window_lease.UNREADABLE, THEIRS.upper(), "CHG1"])
def test_take_over_naming_anything_else_refuses_a_fresh_lease(take_over):
    assert window_lease.judge(text(), NOW, OURS, take_over=take_over)["action"] == "refuse"


@pytest.mark.parametrize("raw, problem", [
    ("{not json", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    (json.dumps(lease(run="x")), "field run is not what a window writes"),
    (json.dumps(lease(expires="soon")), "field expires is not an ISO 8601 UTC time"),
])
def test_an_unreadable_lease_is_refused_unless_take_over_is_unreadable(raw, problem):
    refused = window_lease.judge(raw, NOW, OURS, take_over=THEIRS)
    assert (refused["action"], refused["expected"], refused["holder"]) == ("refuse", None, None)
    assert refused["message"].startswith("the unit's lease cannot be read (%s)" % problem)
    assert refused["message"].endswith("set take_over=unreadable")
    taken = window_lease.judge(raw, NOW, OURS, take_over="unreadable")
    assert (taken["action"], taken["expected"], taken["taken_over"]) == ("take", raw, "unreadable")
    assert problem in taken["message"]


# --- validate ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("field, value, problem", [
    ("run", None, "field run is missing"),
    ("run", "", "field run is missing"),
    ("run", "0123ABCD", "field run is not what a window writes"),
    ("run", "0123abc", "field run is not what a window writes"),
    ("run", "0" * 33, "field run is not what a window writes"),
    ("run", 12345678, "field run is not what a window writes"),
    ("window", None, "field window is missing"),
    ("window", "CHG 1", "field window is not what a window writes"),
    ("window", "x" * 65, "field window is not what a window writes"),
    ("controller", "", "field controller is missing"),
    ("controller", "-ctl", "field controller is not what a window writes"),
    ("controller", "ctl/../x", "field controller is not what a window writes"),
    ("unit", None, "field unit is missing"),
    ("unit", "SQL;CLU", "field unit is not what a window writes"),
    ("unit", "u" * 128, "field unit is not what a window writes"),
    ("holder", None, "field holder is not one of wsfc_window, nlb_window, recover"),
    ("holder", "someone", "field holder is not one of wsfc_window, nlb_window, recover"),
    ("since", None, "field since is not an ISO 8601 UTC time"),
    ("heartbeat", "2026-12-06 02:59:00", "field heartbeat is not an ISO 8601 UTC time"),
    ("expires", "2026-12-06T03:04:00.5Z", "field expires is not an ISO 8601 UTC time"),
    ("expires", "2026-13-06T03:04:00Z", "field expires is not an ISO 8601 UTC time"),
])
def test_validate_each_field(field, value, problem):
    assert window_lease.validate(lease(**{field: value})) == (None, problem)


def test_a_valid_lease_keeps_only_its_own_fields():
    found, problem = window_lease.validate(dict(lease(), script="Stop-Computer", unit="NLB farm (WEBFARM) 2"))
    assert problem == "" and "script" not in found and found["unit"] == "NLB farm (WEBFARM) 2"
    for holder in window_lease.HOLDERS:
        assert window_lease.validate(lease(holder=holder))[1] == ""
    assert window_lease.validate("text") == (None, "not a JSON object")


def test_parse_no_text_is_no_lease():
    assert window_lease.parse("") == (None, "") and window_lease.parse(None) == (None, "")
    assert window_lease.parse(text())[0]["run"] == THEIRS


def test_fresh_and_parse_time():
    assert window_lease.fresh(lease(), NOW) is True
    assert window_lease.fresh(lease(expires="2026-12-06T03:00:00Z"), NOW) is False
    assert window_lease.fresh(None, NOW) is False
    assert window_lease.parse_time("2026-12-06T03:00:00Z") == NOW
    assert window_lease.parse_time(None) is None and window_lease.parse_time("2026-12-06") is None
