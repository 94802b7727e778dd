"""Collection metadata: every module in exactly one action group of meta/runtime.yml and documenting it
(attribute action_group); the execution environment's metadata names files that exist; build_ignore keeps
the virtual environment, build output and lab state out of the tarball."""
import ast
import fnmatch
import glob
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ALL_MODULES = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py"))
                     if not os.path.basename(path).startswith("_"))
# The window actions run on the controller and take their settings from their role's variables, not from
# module_defaults: no action group. Each has an action plugin of its name.
WINDOW_ACTIONS = sorted(name for name in ALL_MODULES if os.path.exists(os.path.join(ROOT, "plugins", "action", name + ".py")))
MODULES = [name for name in ALL_MODULES if name not in WINDOW_ACTIONS]


def load(relative):
    with open(os.path.join(ROOT, relative)) as handle:
        return yaml.safe_load(handle)


def documentation(module):
    with open(os.path.join(ROOT, "plugins", "modules", module + ".py")) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError("%s has no DOCUMENTATION" % module)


@pytest.mark.parametrize("module", MODULES)
def test_every_module_is_in_one_action_group_and_documents_it(module):
    groups = load("meta/runtime.yml")["action_groups"]
    member_of = [name for name, members in groups.items() if module in members]
    assert len(member_of) == 1, "%s is in the action groups %s of meta/runtime.yml" % (module, member_of)
    fragments = documentation(module).get("extends_documentation_fragment") or []
    assert "clustersafe.deep_security.action_group.%s" % member_of[0] in fragments, fragments


@pytest.mark.parametrize("module", WINDOW_ACTIONS)
def test_window_actions_are_in_no_action_group(module):
    groups = load("meta/runtime.yml")["action_groups"]
    assert not [name for name, members in groups.items() if module in members]
    assert "action_group" not in (documentation(module).get("attributes") or {})


def test_action_group_fragments_name_their_group():
    from ansible_collections.clustersafe.deep_security.plugins.doc_fragments.action_group import ModuleDocFragment
    for group in load("meta/runtime.yml")["action_groups"]:
        attribute = yaml.safe_load(getattr(ModuleDocFragment, group.upper()))["attributes"]["action_group"]
        assert attribute["membership"] == ["clustersafe.deep_security.%s" % group]
        assert "group/clustersafe.deep_security.%s" % group in attribute["description"]


def test_execution_environment_metadata_names_existing_files():
    meta = load("meta/execution-environment.yml")
    for kind in ("python", "system"):
        path = meta["dependencies"][kind]
        assert not os.path.isabs(path) and os.path.isfile(os.path.join(ROOT, path)), path
    with open(os.path.join(ROOT, meta["dependencies"]["python"])) as handle:
        python = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    with open(os.path.join(ROOT, "requirements.txt")) as handle:
        controller = [line.split(">")[0].split("[")[0].strip() for line in handle
                      if line.strip() and not line.startswith("#")]
    for package in controller:
        assert any(line.startswith(package) for line in python), "%s is missing from the EE's requirements" % package


@pytest.mark.parametrize("path", [".venv/bin/python", "build/collections/x", ".lab/lab.env", "tests/output/x.xml",
                                  "tests/lab/.build/vcsim", "plugins/__pycache__/x.cpython-311.pyc",
                                  "meta/ee/clustersafe-deep_security-0.1.0.tar.gz", ".hypothesis/examples/x"])
@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "galaxy.yml")),
                    reason="an installed copy has MANIFEST.json instead of galaxy.yml")
def test_build_ignore_keeps_local_state_out(path):
    patterns = load("galaxy.yml")["build_ignore"]
    parts = path.split("/")
    prefixes = ["/".join(parts[:count]) for count in range(1, len(parts) + 1)]
    assert any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes for pattern in patterns), path


def _file_modes(relative_dir):
    """(task file, mode) of every task under ``relative_dir`` that sets a file mode."""
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, relative_dir, "**", "*.yml"), recursive=True)):
        stack = [load(os.path.relpath(path, ROOT)) or []]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                for key, value in item.items():
                    if key == "mode" and isinstance(value, str):
                        found.append((os.path.relpath(path, ROOT), value))
                    elif isinstance(value, (dict, list)):
                        stack.append(value)
            elif isinstance(item, list):
                stack.extend(item)
    return found


def test_assessment_reports_are_written_like_window_reports():
    """The assessment names every node, cluster and finding: its directory 0750 and files 0640, as the
    window reports, so other users of the controller cannot read it."""
    assert sorted(mode for path, mode in _file_modes("roles/assess")) == ["0640", "0750"]


def test_no_role_writes_a_file_other_users_can_read():
    modes = _file_modes("roles") + _file_modes("playbooks")
    assert modes and all(int(mode, 8) & 0o007 == 0 for path, mode in modes), modes
