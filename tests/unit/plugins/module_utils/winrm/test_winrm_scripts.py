"""Every PowerShell script parses (tree-sitter-pwsh, no ERROR/MISSING nodes), carries its marker, reads
only the parameters the Python side sends, prints the keys the Python side reads, and fits the
command line."""
import re

import pytest
import tree_sitter
import tree_sitter_pwsh

from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import client, scripts

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))
NAMES = sorted(scripts.SCRIPTS)


def problems(node, found):
    if node.type == "ERROR" or node.is_missing:
        found.append("%s at %s: %r" % (node.type, node.start_point, node.text[:60]))
    for child in node.children:
        problems(child, found)
    return found


def built(name, value="x"):
    body, parameters = scripts.SCRIPTS[name][:2]
    return client.build_script(name, body, dict((key, value) for key in parameters))


@pytest.mark.parametrize("name", NAMES)
def test_parses_without_errors(name):
    tree = PARSER.parse(built(name).encode("utf-8"))
    assert problems(tree.root_node, []) == []
    tree = PARSER.parse(scripts.SCRIPTS[name][0].encode("utf-8"))
    assert problems(tree.root_node, []) == []


@pytest.mark.parametrize("name", NAMES)
def test_marker_and_parameters(name):
    text = built(name)
    assert text.splitlines()[0] == "# clustersafe:%s" % name
    assert "$P = @'" in text and "'@ | ConvertFrom-Json" in text
    used = set(re.findall(r"\$P\.(\w+)", scripts.SCRIPTS[name][0]))
    assert used == set(scripts.SCRIPTS[name][1]), "script reads %s, Python sends %s" % (used, scripts.SCRIPTS[name][1])


@pytest.mark.parametrize("name", NAMES)
def test_json_contract(name):
    body, keys = scripts.SCRIPTS[name][0], scripts.SCRIPTS[name][2]
    assert body.count("ConvertTo-Json -Compress -Depth 5") >= 1
    assert "ConvertTo-Json" not in body.replace("ConvertTo-Json -Compress -Depth 5", "")
    assert "$ErrorActionPreference = 'Stop'" in body
    for key in keys:
        assert re.search(r"\b%s\s*=" % re.escape(key), body) or ".%s =" % key in body, key
    assert "Write-Host" not in body and "Write-Output" not in body


@pytest.mark.parametrize("name", NAMES)
def test_enums_are_cast_to_strings(name):
    body = scripts.SCRIPTS[name][0]
    for prop in ("State", "Status", "Role", "DrainStatus", "Mode", "Protocol", "Affinity", "StartType", "QuorumType"):
        for match in re.finditer(r"(\S*)\$\w+\.%s\b" % prop, body):
            assert match.group(1).endswith("[string]") or match.group(1).endswith("[string]("), \
                "%s: %s not cast to string" % (name, match.group(0))


@pytest.mark.parametrize("name", NAMES)
def test_size_fits_the_command_line(name):
    assert len(scripts.SCRIPTS[name][0]) < 3000
    if name in scripts.AGENT_STDIN_SCRIPTS:
        # parameters travel on standard input: the command line carries the script alone
        command = client.encode_command(client.build_script(name, scripts.SCRIPTS[name][0], {}))
    else:
        command = client.encode_command(built(name, "y" * 80))
    assert len(command) < client.COMMAND_LINE_LIMIT
