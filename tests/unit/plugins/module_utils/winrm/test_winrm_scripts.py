"""Every PowerShell script parses (tree-sitter-pwsh, no ERROR/MISSING nodes), carries its marker, reads
only the parameters the Python side sends, prints the keys the Python side reads, and fits the
command line."""
import inspect
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


# Windows' command line holds 8191 characters; a command within 1,000 of that has no room for a longer marker,
# preamble or loader, so the margin is part of the contract.
COMMAND_LINE_MARGIN = 1000


@pytest.mark.parametrize("name", NAMES)
def test_the_command_line_keeps_a_real_margin_below_the_limit(name):
    command = client.encode_command(client.build_command(name))
    assert len(command) < client.COMMAND_LINE_LIMIT - COMMAND_LINE_MARGIN, \
        "%s: %d characters encoded, within %d of the limit" % (name, len(command), COMMAND_LINE_MARGIN)
    # the body and the parameters travel on standard input, never on the command line
    assert client.compact(scripts.SCRIPTS[name][0]).strip().splitlines()[-1] not in client.build_command(name)


@pytest.mark.parametrize("name", NAMES)
def test_bodies_stay_short(name):
    assert len(client.compact(scripts.SCRIPTS[name][0])) < 4000


# --- the shared preamble: written once, carried by every script -------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_every_built_script_carries_the_preamble_right_after_its_marker(name):
    lines = built(name).splitlines()
    preamble = [line for line in scripts.PREAMBLE.splitlines() if line.strip()]
    assert lines[1:1 + len(preamble)] == preamble
    assert lines[1 + len(preamble)] == "$P = @'"
    text = "\n".join(lines)
    assert "$ErrorActionPreference = 'Stop'" in text and "$ProgressPreference = 'SilentlyContinue'" in text
    tree = PARSER.parse(built(name).encode("utf-8"))
    assert problems(tree.root_node, []) == []


@pytest.mark.parametrize("name", NAMES)
def test_bodies_do_not_repeat_the_preamble(name):
    body = scripts.SCRIPTS[name][0]
    # a scope of its own with 'Continue' for native commands is not the preamble (issue: native stderr
    # under Stop in Windows PowerShell 5.1)
    for word in ("$ErrorActionPreference = 'Stop'", "$ProgressPreference", "OutputEncoding"):
        assert word not in body, "%s repeats %s; build_script adds it" % (name, word)


def test_output_encoding_is_guarded():
    # [Console]::OutputEncoding can throw "The handle is invalid" without a console; under Stop that
    # would end every script
    line = [item for item in scripts.PREAMBLE.splitlines() if "OutputEncoding" in item][0]
    assert line.startswith("try {") and "catch" in line
    assert scripts.PREAMBLE.index("$ErrorActionPreference") < scripts.PREAMBLE.index("OutputEncoding")


def test_no_unused_module_constants():
    constants = [name for name in vars(scripts) if name.isupper() and not name.startswith("_")]
    bodies = set(id(item[0]) for item in scripts.SCRIPTS.values())
    for name in constants:
        value = getattr(scripts, name)
        names_scripts = isinstance(value, tuple) and value and set(value) <= set(scripts.SCRIPTS)
        assert name in ("SCRIPTS", "PREAMBLE") or names_scripts or id(value) in bodies, \
            "%s is not used by any script" % name


def test_the_agent_uninstall_lookup_is_written_once():
    # one named function in scripts.py, defined in each script before the first use of $a
    source = inspect.getsource(scripts)
    assert source.count("CurrentVersion\\Uninstall") == 1
    for name in ("mscs_cluster_info", "agent_info", "agent_remove"):
        text = scripts.body(name)
        definition = text.index("function Get-AgentUninstallEntry")
        assert definition < text.index("$a = Get-AgentUninstallEntry") < text.index("if ($a")


# --- what each cluster and NLB script asks the node for -----------------------------------------------

def test_nlb_drain_timeout_goes_to_the_cmdlet_in_seconds():
    body = scripts.NLB_NODE
    assert "-Drain -Timeout ([uint32]$P.drain_seconds)" in body
    assert "drain_timeout" not in body


def test_nlb_port_rules_read_the_documented_property_names():
    body = scripts.NLB_INFO
    assert "[string]$_.VirtualIPAddress" in body and "[string]$_.FilteringMode" in body
    assert "$_.IPAddress" not in body and "$_.Mode" not in body


def test_nlb_host_state_is_not_passed_off_as_a_convergence_state():
    assert "host_state = [string]$d.CurrentHostState" in scripts.NLB_INFO
    assert "local_state" not in scripts.NLB_INFO
    assert "host_state = [string]$d.CurrentHostState" in scripts.NLB_NODE


def test_force_drain_is_its_own_parameter():
    body = scripts.MSCS_NODE
    assert "-ForceDrain:([bool]$P.force_drain)" in body
    assert "$P.force)" not in body and "$P.force " not in body


def test_drain_wait_ignores_a_status_left_by_an_earlier_drain():
    body = scripts.MSCS_NODE
    before = body.index("$was = [string](Get-ClusterNode -Name $n).DrainStatus")
    assert before < body.index("Suspend-ClusterNode")
    assert "$d -eq 'InProgress' -or $d -ne $was" in body
    assert "$script:seen -and @('Completed', 'Failed') -contains $d" in body


def test_quorum_reads_the_witness_resource_and_its_type():
    body = scripts.MSCS_INFO
    assert "$w = $q.QuorumResource" in body
    assert "witness_type = [string]$w.ResourceType.DisplayName" in body
    assert "[int]$c.WitnessDynamicWeight" in body
    # DynamicWeight only where the cluster reports it (null otherwise, never a made-up 0)
    assert "if ($null -ne $_.DynamicWeight) { $n.dynamic_weight = [int]$_.DynamicWeight }" in body


def test_nlb_node_list_failure_names_the_transport_fix():
    body = scripts.NLB_INFO
    assert "try { $all = @(Get-NlbClusterNode) } catch {\n    throw (" in body
    assert "transport=credssp" in body and "kerberos_delegation=true" in body
    # the host's own state comes from its driver, which only reads this machine
    assert "$d = Get-NlbClusterDriverInfo" in scripts.NLB_NODE
