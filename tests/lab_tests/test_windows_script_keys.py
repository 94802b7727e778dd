"""The lab's Windows model may not drift from the real scripts: for the failover-cluster and NLB scripts,
the JSON keys the model answers with are exactly the keys the PowerShell writes (hash-table entries and
``$r.<key> =`` assignments, read with the tree-sitter-pwsh grammar), and the parameters the model reads
are the ones the script reads from ``$P``."""
import os
import re

import pytest
import tree_sitter
import tree_sitter_pwsh
import yaml

from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import scripts
from tests.lab.windows.model import WindowsModel
from tests.lab.world import LabWorld

LAB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab")
PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))
# variables that hold (part of) the printed document in the cluster and NLB scripts
DOCUMENT_VARIABLES = ("$r", "$n")


def script_keys(body):
    keys = set()

    def walk(node):
        if node.type == "hash_entry":
            key = node.child_by_field_name("key") or node.children[0]
            keys.add(key.text.decode().strip())
        if node.type == "left_assignment_expression":
            target = node.children[0].children[0] if node.children[0].children else node.children[0]
            if target.type == "member_access":
                root = target
                while root.type == "member_access":
                    root = root.children[0]
                if root.text.decode() in DOCUMENT_VARIABLES:
                    keys.add(target.children[-1].text.decode())
        for child in node.children:
            walk(child)

    walk(PARSER.parse(body.encode("utf-8")).root_node)
    return keys


def document_keys(value, found=None):
    found = set() if found is None else found
    if isinstance(value, dict):
        for key, item in value.items():
            found.add(key)
            document_keys(item, found)
    elif isinstance(value, list):
        for item in value:
            document_keys(item, found)
    return found


@pytest.fixture
def model(tmp_path):
    with open(os.path.join(LAB_DIR, "topology.yml")) as handle:
        topology = yaml.safe_load(handle)
    return WindowsModel(LabWorld(topology, str(tmp_path)))


def answers(model, name):
    """Every answer the model gives to script ``name`` across the states it can be in."""
    documents = []
    if name == "mscs_cluster_info":
        documents.append(model.execute("SQL-NODE1", name, {}))
        model.execute("SQL-NODE2", "mscs_node", {"action": "stop"})
        documents.append(model.execute("SQL-NODE2", name, {}))
        documents.append(model.execute("WEB1", name, {}))
    elif name == "mscs_node":
        for action in ("drain", "resume", "drain", "stop", "start", "resume"):
            documents.append(model.execute("SQL-NODE1", name, {"action": action, "force_drain": False,
                                                               "failback": "NoFailback", "timeout": 5}))
    elif name == "nlb_cluster_info":
        documents.append(model.execute("WEB1", name, {}))
        documents.append(model.execute("SQL-NODE1", name, {}))
    elif name == "nlb_node":
        for action in ("drainstop", "start", "stop", "suspend", "resume", "start"):
            documents.append(model.execute("WEB1", name, {"action": action, "drain_seconds": 600}))
    return documents


@pytest.mark.parametrize("name", ["mscs_cluster_info", "mscs_node", "nlb_cluster_info", "nlb_node"])
def test_lab_answers_with_exactly_the_keys_the_script_writes(model, name):
    body, read_by_python = scripts.SCRIPTS[name][0], scripts.SCRIPTS[name][2]
    written = script_keys(body)
    given = set()
    for document in answers(model, name):
        given |= document_keys(document)
    assert given - written == set(), "the lab answers keys the script never writes"
    assert written - given == set(), "the script writes keys the lab never answers"
    assert set(read_by_python) <= written


@pytest.mark.parametrize("name, marker", [("mscs_node", "script_mscs_node"), ("nlb_node", "script_nlb_node")])
def test_lab_reads_only_the_parameters_the_script_reads(name, marker):
    import inspect

    source = inspect.getsource(getattr(WindowsModel, marker))
    lab_reads = set(re.findall(r"params(?:\.get\(|\[)\"(\w+)\"", source))
    script_reads = set(re.findall(r"\$P\.(\w+)", scripts.SCRIPTS[name][0]))
    assert lab_reads <= script_reads, "the lab reads %s that the script never sends" % (lab_reads - script_reads)


def test_key_reader_sees_entries_and_member_assignments():
    assert script_keys("$r = @{ a = 1; b = @{ c = 2 } }\n$r.d = 3\n$r.e.f = 4\n$x.g = 5") == {"a", "b", "c", "d", "f"}
