"""The options of a window and their checks (plugin_utils/engine/settings.py): every message names the variable
the user set (the role's, or the playbook's) and the fix; a misspelled variable is an error naming the nearest
known name, never a silent default."""
import os
import re

import pytest
import yaml

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import settings

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), *[os.pardir] * 5))
SHA = "a" * 64
GOOD = {
    "wsfc": dict(window="CHG1", version="20.0.1-690", installer_url="https://dsm.example/agent.msi"),
    "nlb": dict(window="CHG1", version="20.0.1-690", installer_url="https://dsm.example/agent.msi"),
}


def check(kind, **values):
    return settings.check(kind, dict(GOOD[kind], **values))


def problem(kind, **values):
    with pytest.raises(ParameterError) as error:
        check(kind, **values)
    message = error.value.message
    assert message.startswith("check the variables: ") and message.endswith("; nothing was read or changed"), message
    return message


# --- unknown variables -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, name, nearest", [
    ("wsfc", "wsfc_agent_rollout_verison", "wsfc_agent_rollout_version"),
    ("wsfc", "wsfc_agent_rollout_max_node_out", "wsfc_agent_rollout_max_nodes_out"),
    ("wsfc", "wsfc_rollout_windows", "wsfc_rollout_window"),
    ("wsfc", "wsfc_rollout_on_clusters_failure", "wsfc_rollout_on_cluster_failure"),
    ("nlb", "nlb_agent_rollout_min_convergd", "nlb_agent_rollout_min_converged"),
    ("nlb", "nlb_rollout_exclusion", "nlb_rollout_exclusions"),
    ("nlb", "nlb_inline_observation_secs", "nlb_inline_observation_seconds"),
])
def test_a_misspelled_variable_names_the_nearest_known_one(kind, name, nearest):
    with pytest.raises(ParameterError) as error:
        settings.check_no_unknown(["ansible_host", name, "unrelated_variable"], kind)
    assert error.value.message.startswith("unknown variable: %s (did you mean %s" % (name, nearest)), error.value.message
    assert error.value.message.endswith("; nothing was read or changed")


def test_every_unknown_variable_is_named_at_once_and_one_without_a_near_name_says_so():
    far = "wsfc_agent_rollout_" + "z" * 80
    with pytest.raises(ParameterError) as error:
        settings.check_no_unknown(["wsfc_agent_rollout_verison", far], "wsfc")
    assert error.value.message.startswith("unknown variables: ")
    assert "%s (not a variable of this window)" % far in error.value.message
    assert "wsfc_agent_rollout_verison (did you mean wsfc_agent_rollout_version" in error.value.message


def test_known_variables_and_host_variables_that_are_not_options_pass():
    settings.check_no_unknown(["wsfc_agent_rollout_%s" % name for name in settings.SPECS["wsfc"]]
                              + ["wsfc_agent_rollout_cluster", "wsfc_agent_rollout_vm_name", "wsfc_agent_rollout_cluster_key",
                                 "wsfc_rollout_hosts", "nlb_inline_typo"], "wsfc")
    settings.check_no_unknown(["nlb_agent_rollout_farm", "nlb_rollout_min_converged", "nlb_inline_events_reviewed"],
                              "nlb")


def test_unknown_variables_pairs_each_with_its_nearest_names():
    found = settings.unknown_variables(["x_versio", "x_version", "y_version"], "x_", ["version", "window"])
    assert [name for name, _nearest in found] == ["x_versio"] and found[0][1][0] == "x_version"


def test_a_misspelled_recover_variable_names_the_nearest_one():
    with pytest.raises(ParameterError) as error:
        settings.check_no_unknown_recover(["recover_windows_host", "recover_" + "q" * 80, "ansible_user"])
    message = error.value.message
    assert message.startswith("unknown variables: ") and "recover_windows_host (did you mean recover_windows_hosts" in message
    assert "(not a variable of recover)" in message
    settings.check_no_unknown_recover(["recover_%s" % name for name in settings.RECOVER_SPEC])


# --- the checks ---------------------------------------------------------------------------------------------

def test_good_settings_come_back_with_their_defaults():
    checked, warnings = check("wsfc")
    assert warnings == []
    assert (checked["state"], checked["failback"], checked["on_cluster_failure"], checked["lease_seconds"]) == (
        "present", "none", "stop_cluster", 300)
    checked, _warnings = check("nlb")
    assert (checked["phase"], checked["on_farm_failure"], checked["heartbeat_action"]) == ("rollout", "stop_farm", "bypass")


@pytest.mark.parametrize("kind, values, words", [
    ("wsfc", {"window": ""}, "parameter wsfc_agent_rollout_window must name the maintenance window, e.g. 'CHG0012345' "
                             "(the playbook: wsfc_rollout_window); a window id is required"),
    ("nlb", {"window": "CHG 1"}, "parameter nlb_agent_rollout_window='CHG 1' is not a valid window id"),
    ("nlb", {"window": "../x"}, "(the playbook: nlb_rollout_window)"),
    ("wsfc", {"version": ""}, "wsfc_agent_rollout_version is required: the agent build to install, such as 20.0.1-690"),
    ("nlb", {"version": "twenty"}, "nlb_agent_rollout_version 'twenty' is not a Deep Security Agent build"),
    ("wsfc", {"installer_url": ""}, "wsfc_agent_rollout_installer_url (or wsfc_agent_rollout_installer_path, or "
                                    "wsfc_agent_rollout_activation_url to take the manager's installer) is required"),
    ("wsfc", {"installer_sha256": "abc"}, "wsfc_agent_rollout_installer_sha256 must be 64 hexadecimal digits"),
    ("nlb", {"installer_sha256": "g" * 64}, "nlb_agent_rollout_installer_sha256 must be 64 hexadecimal digits"),
    ("wsfc", {"policy": "Base", "policy_id": 3}, "give the policy either by id (wsfc_agent_rollout_policy_id=3) or by "
                                                 "name (wsfc_agent_rollout_policy='Base'), not both"),
    ("wsfc", {"node_timeout": 0}, "wsfc_agent_rollout_node_timeout must be a positive number of seconds (got 0)"),
    ("wsfc", {"dsm_timeout": -5}, "wsfc_agent_rollout_dsm_timeout must be a positive number of seconds (got -5)"),
    ("nlb", {"install_timeout": 0}, "nlb_agent_rollout_install_timeout must be a positive number of seconds"),
    ("nlb", {"drain_timeout": 0}, "nlb_agent_rollout_drain_timeout must be a positive number of minutes"),
    ("wsfc", {"max_nodes_out": -1}, "wsfc_agent_rollout_max_nodes_out (playbook: wsfc_rollout_max_nodes_out) must be 0 or more (got -1): 0 is "),
    ("wsfc", {"max_failed_nodes": -1}, "wsfc_agent_rollout_max_failed_nodes must be 0 or more"),
    ("wsfc", {"stop_after": -1}, "wsfc_agent_rollout_stop_after must be 0 or more"),
    ("nlb", {"install_retries": -1}, "nlb_agent_rollout_install_retries must be 0 or more"),
    ("nlb", {"min_converged": -1}, "nlb_agent_rollout_min_converged (playbook: nlb_rollout_min_converged) must be 0 or more"),
    ("nlb", {"observation_seconds": -1}, "nlb_agent_rollout_observation_seconds must be 0 or more"),
    ("nlb", {"phase": "inline", "observation_seconds": -1},
     "nlb_agent_rollout_observation_seconds (playbook: nlb_inline_observation_seconds) must be 0 or more"),
    ("wsfc", {"lease_seconds": 29}, "wsfc_agent_rollout_lease_seconds must be at least 30 (got 29)"),
    ("nlb", {"event_source": "lab"}, "nlb_agent_rollout_event_source=lab needs nlb_agent_rollout_lab_status_url"),
])
def test_each_check_names_the_role_variable(kind, values, words):
    assert words in problem(kind, **values)


@pytest.mark.parametrize("kind, values, words", [
    ("wsfc", {"node_timeout": "soon"}, "argument 'wsfc_agent_rollout_node_timeout' is of type str"),
    # the choice "policy" is an option's name too: only the option the message is about is the role's variable
    ("wsfc", {"failback": "later"}, "wsfc_agent_rollout_failback must be one of: none, immediate, policy, got: later"),
    ("wsfc", {"failback": "version"}, "wsfc_agent_rollout_failback must be one of: none, immediate, policy, got: version"),
    ("nlb", {"phase": "tap"}, "nlb_agent_rollout_phase must be one of: rollout, inline"),
    ("nlb", {"protocols": "dhcp"}, None),
    ("wsfc", {"nodes": {"a": 1}}, "argument 'wsfc_agent_rollout_nodes' is of type dict"),
    ("nlb", {"protocols": [{"a": 1}], "min_converged": "two"}, "argument 'nlb_agent_rollout_min_converged' is of type str"),
])
def test_types_and_choices_are_ansibles_own_checks_naming_the_role_variable(kind, values, words):
    if words is None:
        # a single value where a list is expected is a list of one, as Ansible takes it
        assert check(kind, **values)[0]["protocols"] == ["dhcp"]
        return
    with pytest.raises(ParameterError) as error:
        check(kind, **values)
    assert error.value.message.startswith("check the variables: ") and words in error.value.message, error.value.message
    assert "_rollout_%s_rollout_" % kind not in error.value.message


def test_every_problem_is_named_at_once():
    message = problem("wsfc", window="", version="", installer_url="", lease_seconds=1)
    assert message.count(";") >= 3
    for name in ("window", "version", "installer_url", "lease_seconds"):
        assert "wsfc_agent_rollout_%s" % name in message


def test_the_inline_phase_and_an_uninstall_need_no_agent():
    checked, _warnings = settings.check("nlb", {"window": "CHG1", "phase": "inline"})
    assert checked["phase"] == "inline" and checked["version"] == ""
    checked, _warnings = settings.check("wsfc", {"window": "CHG1", "state": "absent"})
    assert checked["state"] == "absent"


def test_an_installer_path_or_the_managers_installer_will_do():
    check("wsfc", installer_url="", installer_path="C:\\install\\agent.msi")
    check("wsfc", installer_url="", activation_url="dsm://dsm.example:4120/", installer_sha256=SHA.upper())


def test_deprecated_options_warn_only_when_set_to_something():
    assert check("wsfc", dsm_poll_interval=10)[1] == [
        "wsfc_agent_rollout_dsm_poll_interval is deprecated and has no effect: the manager is polled as the dsm modules "
        "poll it (1 s growing to 15 s); remove the variable"]
    assert check("wsfc", dsm_poll_interval=5)[1] == [] and check("wsfc", vsphere_facts={})[1] == []
    assert check("nlb", farm_key="WEBFARM")[1][0].startswith("nlb_agent_rollout_farm_key is deprecated")


def test_spec_is_a_copy():
    copied = settings.spec("wsfc")
    copied["version"]["default"] = "changed"
    assert settings.SPECS["wsfc"]["version"]["default"] == ""


# --- recover ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("values, words", [
    ({"window": "bad id"}, "parameter recover_window='bad id' is not a valid window id"),
    ({"timeout": 0}, "recover_timeout must be a positive number of seconds (got 0)"),
    ({"lease_seconds": 10}, "recover_lease_seconds must be at least 30"),
    ({"timeout": "soon"}, "argument 'recover_timeout' is of type str"),
    ({"dsm_timeout": "soon"}, "argument 'recover_dsm_timeout' is of type str"),
])
def test_each_recover_check_names_its_variable(values, words):
    with pytest.raises(ParameterError) as error:
        settings.check_recover(values)
    assert words in error.value.message


def test_recover_settings_come_back_with_their_defaults():
    checked = settings.check_recover({"windows_hosts": ["SQL-NODE1"]})
    assert (checked["window"], checked["timeout"], checked["dsm"], checked["take_over"]) == ("", 300, True, "")
    assert settings.check_recover({"window": "CHG1"})["window"] == "CHG1"


# --- the spec is the roles' and the playbooks' ----------------------------------------------------------------

def role_options(role):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as handle:
        document = yaml.safe_load(handle)
    options = set()
    for entry_point in document["argument_specs"].values():
        options.update(entry_point.get("options") or {})
    return options


@pytest.mark.skipif(not os.path.isdir(os.path.join(ROOT, "roles")), reason="the roles are not beside the tests")
@pytest.mark.parametrize("role, spec, arguments", [
    ("wsfc_agent_rollout", settings.SPECS["wsfc"], ()),
    # the NLB role passes its phase to the action as an argument (nlb_inline.yml sets it), not as a role variable
    ("nlb_agent_rollout", settings.SPECS["nlb"], ("phase",)),
    ("recover", settings.RECOVER_SPEC, ()),
])
def test_the_roles_argument_specs_document_every_option(role, spec, arguments):
    assert role_options(role) == set("%s_%s" % (role, name) for name in spec if name not in arguments)


@pytest.mark.skipif(not os.path.isdir(os.path.join(ROOT, "playbooks")), reason="the playbooks are not beside the tests")
@pytest.mark.parametrize("playbook, prefix, names", [
    ("wsfc_agent_rollout.yml", "wsfc_rollout_", settings.PLAYBOOK_NAMES["wsfc"]),
    ("nlb_agent_rollout.yml", "nlb_rollout_", settings.PLAYBOOK_NAMES["nlb"]),
    ("nlb_inline.yml", "nlb_inline_", settings.PLAYBOOK_NAMES["nlb_inline"]),
])
def test_the_playbooks_variables_are_the_ones_the_window_knows(playbook, prefix, names):
    with open(os.path.join(ROOT, "playbooks", playbook)) as handle:
        used = set(re.findall(r"\b%s(\w+)" % prefix, handle.read()))
    assert used == set(names)


@pytest.mark.parametrize("name, meant", [
    ("wsfc_rollout_windows", "wsfc_rollout_windows (did you mean wsfc_rollout_window?)"),
    ("wsfc_agent_rollout_max_node_out", "wsfc_agent_rollout_max_node_out (did you mean wsfc_agent_rollout_max_nodes_out?)"),
    ("wsfc_agent_rollout_node_timout", "(did you mean wsfc_agent_rollout_node_timeout?)"),
])
def test_a_misspelled_variable_names_only_the_closest(name, meant):
    with pytest.raises(ParameterError) as raised:
        settings.check_no_unknown([name], "wsfc")
    assert meant in raised.value.message
