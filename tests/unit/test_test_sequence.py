"""The test sequence has one definition, the Makefile's TEST_STEPS: `make test` runs them, CI
(.ci/run) and tools/test-all.sh run `make test`, and the Makefile names only targets it has."""
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAKEFILE = os.path.join(ROOT, "Makefile")

pytestmark = pytest.mark.skipif(not os.path.isdir(os.path.join(ROOT, "tools")),
                                reason="an installed copy has no tools/ and no CI")


def read(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return handle.read()


def makefile_shape(text):
    """(targets defined, names in .PHONY, steps of TEST_STEPS), continuation lines joined."""
    text = text.replace("\\\n", " ")
    variables = dict(re.findall(r"^([A-Z_]+)\s*:?=\s*(.*)$", text, re.M))
    targets = set()
    for names in re.findall(r"^([A-Za-z0-9_.$() -]+?)\s*:(?!=)", text, re.M):
        if not names.startswith("."):
            targets.update(names.split())
    phony = " ".join(re.findall(r"^\.PHONY\s*:(.*)$", text, re.M))
    steps = variables.get("TEST_STEPS", "").split()
    phony = phony.replace("$(TEST_STEPS)", " ".join(steps))
    phony = phony.replace("$(LONG_STEPS)", variables.get("LONG_STEPS", "")).split()
    return targets, phony, steps


def test_makefile_shape_finds_a_phony_name_without_a_target():
    targets, phony, steps = makefile_shape("TEST_STEPS := unit\n.PHONY: test docs $(TEST_STEPS)\n"
                                           "test:\n\techo\nunit: deps\n\techo\n")
    assert targets == {"test", "unit"} and phony == ["test", "docs", "unit"] and steps == ["unit"]


def test_phony_names_only_targets_that_exist():
    targets, phony, steps = makefile_shape(read("Makefile"))
    assert sorted(set(phony) - targets) == []
    assert steps and sorted(set(steps) - targets) == []


def test_no_make_variable_runs_a_command_when_expanded():
    # $(shell ...) in a variable runs wherever the variable is expanded, even for `make -n` or `make help`
    assert "$(shell" not in read("Makefile")


def test_ci_and_test_all_run_make_test():
    assert "make test" in read("README.md")
    assert re.search(r"^make test\s*$", read(".ci", "run"), re.M)
    commands = [line for line in read("tools", "test-all.sh").splitlines()
                if line.strip() and not line.startswith("#") and not line.startswith("set ")
                and not line.startswith("cd ")]
    assert commands == ['exec make test "$@"']


def test_test_long_runs_targets_that_exist_and_none_of_make_test():
    text = read("Makefile")
    targets, _phony, steps = makefile_shape(text)
    long_steps = dict(re.findall(r"^([A-Z_]+)\s*:?=\s*(.*)$", text.replace("\\\n", " "), re.M))["LONG_STEPS"].split()
    assert long_steps and sorted(set(long_steps) - targets) == []
    assert set(long_steps).isdisjoint(steps)
