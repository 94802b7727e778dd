"""docs/playbooks.md documents every variable each collection playbook reads.

Each playbook in playbooks/ (but demo.yml, the lab's demo) is parsed: every Jinja template and every bare
conditional (when, until, failed_when, changed_when, assert's that) gives the variables it reads. What the
playbook defines itself (registered results, set_fact names, loop variables, task and role ``vars:``), Ansible's
magic variables and Jinja's globals are left out, and so are role options: any option of a role's
meta/argument_specs.yml, and a name with a role's prefix (``<role>_``) that the playbook reads without giving it a
value (a result the role sets, such as ``assess_summary``). A name with a role's prefix that the playbook gives
a value of its own (``| default(...)`` or its play ``vars:``) is the playbook's own short name
(``horizon_window_cluster``, ``dsva_guest_activation_hosts``) and must be documented. Each remaining variable
must be a row of a table in the section of docs/playbooks.md whose heading names the playbook file, with the
role option it sets and its default.
"""
import glob
import os
import re

import jinja2
import jinja2.meta
import jinja2.nodes
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "docs", "playbooks.md")
PLAYBOOKS = sorted(os.path.basename(path) for path in glob.glob(os.path.join(ROOT, "playbooks", "*.yml"))
                   if os.path.basename(path) != "demo.yml")

pytestmark = pytest.mark.skipif(not (PLAYBOOKS and os.path.isfile(DOC) and os.path.isdir(os.path.join(ROOT, "roles"))),
                                reason="the playbooks, roles and docs are not beside the tests")

# Ansible's special variables (the ansible_* ones by their prefix) and the globals its templates may call.
MAGIC = frozenset(("hostvars", "groups", "group_names", "inventory_hostname", "inventory_hostname_short",
                   "inventory_dir", "inventory_file", "playbook_dir", "play_hosts", "role_name", "role_names",
                   "role_path", "omit", "environment", "vars", "item"))
GLOBALS = frozenset(("lookup", "query", "q", "now", "undef", "range", "dict", "lipsum", "cycler", "joiner",
                     "namespace"))
CONDITIONALS = ("when", "until", "failed_when", "changed_when")


class AnyName(dict):
    """Every filter and test name is known: Ansible's and the collection's are not Jinja's own, and only the
    variables a template reads matter here."""

    def __contains__(self, name):
        return True

    def __missing__(self, name):
        return _anything

    def get(self, name, default=None):
        return self[name]


def _anything(*args, **kwargs):
    return None


ENVIRONMENT = jinja2.Environment()
ENVIRONMENT.filters = AnyName(ENVIRONMENT.filters)
ENVIRONMENT.tests = AnyName(ENVIRONMENT.tests)


def role_names():
    return sorted(os.path.basename(path) for path in glob.glob(os.path.join(ROOT, "roles", "*"))
                  if os.path.isdir(path))


def role_options(role=None):
    """Every option of every entry point of ``role`` (of every role when None)."""
    options = set()
    for path in glob.glob(os.path.join(ROOT, "roles", role or "*", "meta", "argument_specs.yml")):
        with open(path) as handle:
            document = yaml.safe_load(handle)
        for entry_point in document["argument_specs"].values():
            options.update(entry_point.get("options") or {})
    return options


class Reads(object):
    """What one playbook reads, defines and defaults."""

    def __init__(self):
        self.read = set()
        self.defined = set()        # registered, set_fact, loop variables, task/block/role vars
        self.play_vars = {}         # play-level vars: the user may override them with -e
        self.defaults = {}          # name -> set of the constants given in `| default(...)`
        self.targets = {}           # name -> set of the keys its value is assigned to (vars, module options)
        self.roles = set()

    def template(self, text, target=None):
        if not isinstance(text, str) or ("{{" not in text and "{%" not in text):
            return set()
        return self._names(ENVIRONMENT.parse(text), target)

    def expression(self, text, target=None):
        if isinstance(text, bool) or text is None:
            return set()
        if isinstance(text, list):
            found = set()
            for item in text:
                found |= self.expression(item, target)
            return found
        text = str(text)
        if "{{" in text or "{%" in text:
            return self.template(text, target)
        return self._names(ENVIRONMENT.parse("{{ (%s) }}" % text), target)

    def _names(self, tree, target):
        names = set(jinja2.meta.find_undeclared_variables(tree))
        for node in tree.find_all(jinja2.nodes.Filter):
            if node.name == "default" and isinstance(node.node, jinja2.nodes.Name):
                value = node.args[0].value if node.args and isinstance(node.args[0], jinja2.nodes.Const) else None
                self.defaults.setdefault(node.node.name, set()).add(_text(value))
        self.read |= names
        if target and not target.startswith("__"):
            for name in names:
                self.targets.setdefault(name, set()).add(target)
        return names

    def walk(self, value, target=None):
        """Every template in ``value`` (a YAML node); ``target`` is the key the value is assigned to."""
        if isinstance(value, str):
            self.template(value, target)
        elif isinstance(value, list):
            for item in value:
                self.walk(item, target)
        elif isinstance(value, dict):
            for key, item in value.items():
                self.walk(item, target)

    def variables(self, mapping, play=False):
        for key, value in (mapping or {}).items():
            if play:
                self.play_vars[key] = value
                if not isinstance(value, (dict, list)) and not (isinstance(value, str) and "{{" in value):
                    self.defaults.setdefault(key, set()).add(_text(value))
            else:
                self.defined.add(key)
            self.walk(value, key)

    def task(self, task):
        for block in ("block", "rescue", "always"):
            for inner in task.get(block) or []:
                self.task(inner)
        self.variables(task.get("vars"))
        if task.get("register"):
            self.defined.add(task["register"])
        self.defined.add((task.get("loop_control") or {}).get("loop_var", "item"))
        for key in CONDITIONALS:
            if key in task:
                self.expression(task[key])
        for key, value in task.items():
            if key in ("block", "rescue", "always", "vars", "register", "loop_control", "name") + CONDITIONALS:
                continue
            short = key.rsplit(".", 1)[-1]
            if short == "set_fact" and isinstance(value, dict):
                self.defined.update(name for name in value if name != "cacheable")
                self.walk(value)
            elif short == "assert" and isinstance(value, dict):
                self.expression(value.get("that"))
                self.walk(dict((k, v) for k, v in value.items() if k != "that"))
            elif short in ("include_role", "import_role") and isinstance(value, dict):
                self.roles.add(str(value.get("name")).rsplit(".", 1)[-1])
                self.walk(value)
            elif key.startswith("clustersafe.deep_security.") and isinstance(value, dict):
                for option, argument in value.items():
                    self.walk(argument, option)
            else:
                self.walk(value)

    def play(self, play):
        self.variables(play.get("vars"), play=True)
        self.walk(play.get("hosts"))
        for entry in play.get("roles") or []:
            entry = entry if isinstance(entry, dict) else {"role": entry}
            self.roles.add(str(entry.get("role") or entry.get("name")).rsplit(".", 1)[-1])
            self.variables(entry.get("vars"))
        for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
            for task in play.get(section) or []:
                self.task(task)


def _text(value):
    """A constant as docs/playbooks.md writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def reads_of(text):
    reads = Reads()
    for play in yaml.safe_load(text) or []:
        reads.play(play)
    return reads


def undocumented_candidates(reads, options=None, roles=None):
    """The variables of ``reads`` that docs/playbooks.md must list."""
    options = role_options() if options is None else options
    prefixes = tuple("%s_" % role for role in (role_names() if roles is None else roles))
    own = set(reads.play_vars) | set(reads.defaults)
    found = set()
    for name in reads.read:
        if name in MAGIC or name in GLOBALS or name.startswith("ansible_") or name in reads.defined:
            continue
        if name in options:
            continue
        if name.startswith(prefixes) and name not in own:
            continue
        found.add(name)
    return found


def read_playbook(name):
    with open(os.path.join(ROOT, "playbooks", name)) as handle:
        return reads_of(handle.read())


def doc_sections():
    """Heading -> its lines, for each ``##`` section of docs/playbooks.md."""
    sections, heading = {}, None
    with open(DOC) as handle:
        for line in handle:
            if line.startswith("## "):
                heading = line[3:].strip()
                sections[heading] = []
            elif heading is not None:
                sections[heading].append(line.rstrip("\n"))
    return sections


def section_of(playbook):
    pattern = re.compile(r"(?<![\w.])%s(?![\w.])" % re.escape(playbook))
    found = [lines for heading, lines in doc_sections().items() if pattern.search(heading)]
    assert len(found) == 1, "docs/playbooks.md needs exactly one section whose heading names %s" % playbook
    return found[0]


def rows(lines):
    """Variable -> its table row's cells (Variable | Required | Default | Sets)."""
    table = {}
    for line in lines:
        if not line.startswith("|") or set(line.replace("|", "").strip()) <= set("-: "):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        name = re.match(r"`([^`]+)`", cells[0])
        if name and len(cells) == 4:
            table[name.group(1)] = cells
    return table


# --- the extraction itself ------------------------------------------------------------------------------------

SAMPLE = """
- hosts: "{{ sample_hosts | default('web') }}"
  vars:
    sample_pattern: dsva-*
    horizon_window_cluster: ""
  tasks:
    - name: Read
      clustersafe.deep_security.vsphere_cluster_info:
        clusters: "{{ [horizon_window_cluster] + sample_clusters }}"
        dsva_name_pattern: "{{ sample_pattern }}"
      register: sample_result
      when: sample_flag is defined and not ansible_check_mode
    - name: Remember
      ansible.builtin.set_fact:
        __sample_fact: "{{ sample_result.clusters | map(attribute='name') | list }}"
    - name: Each
      ansible.builtin.debug:
        msg: "{{ item }} {{ __sample_fact }} {{ hostvars[inventory_hostname] }} {{ lookup('env', 'HOME') }}"
      loop: "{{ groups['all'] }}"
    - name: Check
      ansible.builtin.assert:
        that:
          - assess_summary is defined
          - horizon_window_id | length > 0
    - name: Run the role
      ansible.builtin.include_role:
        name: clustersafe.deep_security.horizon_window
      vars:
        horizon_window_tasks: "{{ sample_tasks | default('') }}"
"""


def test_the_extraction_finds_the_playbooks_own_variables_and_nothing_else():
    reads = reads_of(SAMPLE)
    assert undocumented_candidates(reads) == {"sample_hosts", "sample_pattern", "horizon_window_cluster",
                                              "sample_clusters", "sample_flag", "sample_tasks"}
    assert reads.targets["sample_pattern"] == {"dsva_name_pattern"}
    assert reads.targets["sample_tasks"] == {"horizon_window_tasks"}
    assert reads.defaults["sample_hosts"] == {"web"} and reads.defaults["sample_pattern"] == {"dsva-*"}
    assert reads.roles == {"horizon_window"}


def test_the_window_playbooks_short_names_are_found():
    """The engine's own list of each window playbook's names (settings.PLAYBOOK_NAMES) is what the extraction finds."""
    from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import settings
    for playbook, kind, prefix in (("wsfc_agent_rollout.yml", "wsfc", "wsfc_rollout_"),
                                   ("nlb_agent_rollout.yml", "nlb", "nlb_rollout_"),
                                   ("nlb_inline.yml", "nlb_inline", "nlb_inline_")):
        assert undocumented_candidates(read_playbook(playbook)) == set(prefix + name for name in
                                                                       settings.PLAYBOOK_NAMES[kind])


# --- docs/playbooks.md ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_every_variable_the_playbook_reads_is_documented_in_its_section(playbook):
    documented = rows(section_of(playbook))
    missing = sorted(undocumented_candidates(read_playbook(playbook)) - set(documented))
    assert not missing, "docs/playbooks.md, section %s, does not document %s" % (playbook, ", ".join(missing))


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_each_documented_variable_names_the_option_it_sets(playbook):
    reads = read_playbook(playbook)
    documented = rows(section_of(playbook))
    wrong = []
    for name in sorted(undocumented_candidates(reads) & set(documented)):  # a missing row fails the test above
        for target in sorted(reads.targets.get(name, ())):
            if "`%s`" % target not in documented[name][3]:
                wrong.append("%s sets %s, the doc says %r" % (name, target, documented[name][3]))
    assert not wrong, "; ".join(wrong)


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_each_documented_default_is_the_playbooks(playbook):
    reads = read_playbook(playbook)
    documented = rows(section_of(playbook))
    wrong = []
    for name in sorted(set(documented) & set(reads.defaults)):
        for value in sorted(reads.defaults.get(name, ())):
            cell = documented[name][2]
            if value == "" and not cell.startswith("empty"):
                wrong.append("%s defaults to empty, the doc says %r" % (name, cell))
            elif value != "" and "`%s`" % value not in cell:
                wrong.append("%s defaults to %s, the doc says %r" % (name, value, cell))
    assert not wrong, "; ".join(wrong)


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_every_documented_variable_is_one_the_playbook_reads_or_its_roles_take(playbook):
    reads = read_playbook(playbook)
    known = set(reads.read)
    for role in reads.roles:
        known |= role_options(role)
    stale = sorted(set(rows(section_of(playbook))) - known)
    assert not stale, "docs/playbooks.md, section %s, documents %s, which %s neither reads nor passes to a role" % (
        playbook, ", ".join(stale), playbook)


def test_every_section_names_a_playbook_that_exists():
    for heading in doc_sections():
        named = re.findall(r"`([\w]+\.yml)`", heading)
        assert named and all(name in PLAYBOOKS for name in named), heading
