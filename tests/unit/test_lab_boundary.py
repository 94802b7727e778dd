"""Unit tests reach the lab only through its public face, ``tests.lab.inprocess``: the lab's folders
(simulators, parts, servers) can then change shape without touching the unit tests."""
import ast
import os

UNIT = os.path.dirname(os.path.abspath(__file__))
PUBLIC = "tests.lab.inprocess"


def _unit_test_files():
    for directory, _subdirectories, names in os.walk(UNIT):
        for name in sorted(names):
            if name.endswith(".py"):
                yield os.path.join(directory, name)


def lab_imports(source):
    """Every module under ``tests.lab`` that ``source`` imports, as dotted names (``from tests.lab import
    pki`` counts as ``tests.lab.pki``; the bare package is not counted)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend([node.module] + ["%s.%s" % (node.module, alias.name) for alias in node.names
                                          if node.module in ("tests", "tests.lab")])
    return [name for name in found if name.startswith("tests.lab.")]


def test_lab_imports_sees_internal_and_public_imports():
    source = ("from tests.lab.dsm.inprocess import activate\nimport tests.lab.windows.model\n"
              "from tests.lab import pki\nfrom tests.lab.inprocess import new_model\n")
    assert lab_imports(source) == ["tests.lab.dsm.inprocess", "tests.lab.windows.model", "tests.lab.pki",
                                   "tests.lab.inprocess"]


def test_unit_tests_import_only_the_labs_public_face():
    offenders = {}
    for path in _unit_test_files():
        with open(path) as handle:
            internal = [name for name in lab_imports(handle.read()) if name != PUBLIC]
        if internal:
            offenders[os.path.relpath(path, UNIT)] = internal
    assert offenders == {}, "import these from %s instead: %s" % (PUBLIC, offenders)
