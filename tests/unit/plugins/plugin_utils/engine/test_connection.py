"""How the window reaches each Windows node (plugin_utils/engine/connection.py): ansible.windows' inventory
variables mapped onto the collection's WinRM options, where each value came from, and the host of a computer."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import connection


# --- the inventory variables ---------------------------------------------------------------------------

def test_winrm_options_map_the_ansible_windows_variables_and_say_where_each_came_from():
    options, sources = connection.winrm_options({
        "ansible_host": "10.0.0.21", "ansible_port": "5986", "ansible_user": "CORP\\svc", "ansible_password": "pw",
        "ansible_winrm_transport": ["kerberos", "ntlm"], "ansible_winrm_scheme": "https",
        "ansible_winrm_server_cert_validation": "ignore", "ansible_winrm_ca_trust_path": "/etc/ca.pem",
    }, "sql1")
    assert options == {"hostname": "10.0.0.21", "port": 5986, "username": "CORP\\svc", "password": "pw",
                       "transport": "kerberos", "scheme": "https", "validate_certs": False, "ca_path": "/etc/ca.pem"}
    assert sources == {"hostname": "ansible_host", "port": "ansible_port", "username": "ansible_user",
                       "password": "ansible_password", "transport": "ansible_winrm_transport",
                       "scheme": "ansible_winrm_scheme", "validate_certs": "ansible_winrm_server_cert_validation",
                       "ca_path": "ansible_winrm_ca_trust_path"}


def test_winrm_options_leave_unset_variables_to_the_later_sources():
    assert connection.winrm_options({}, "SQL-NODE1") == ({"hostname": "SQL-NODE1"},
                                                         {"hostname": "the inventory host name"})
    assert connection.winrm_options({"ansible_winrm_transport": "credssp, ntlm"}, "n")[0]["transport"] == "credssp"
    assert connection.winrm_options({"ansible_winrm_server_cert_validation": "validate"}, "n")[0]["validate_certs"] is True
    # the host's own inventory_hostname when the caller names none; an empty variable is not set
    assert connection.winrm_options({"inventory_hostname": "WEB1", "ansible_host": ""})[0] == {"hostname": "WEB1"}
    assert connection.winrm_options(None) == ({}, {})


def test_winrm_options_take_the_first_of_several_names_for_one_option():
    options, sources = connection.winrm_options({"ansible_winrm_user": "second", "ansible_user": "first",
                                                 "ansible_winrm_pass": "p2", "ansible_pass": "p3",
                                                 "ansible_winrm_operation_timeout_sec": "20",
                                                 "ansible_winrm_read_timeout_sec": 30}, "n")
    assert (options["username"], sources["username"]) == ("first", "ansible_user")
    assert (options["password"], sources["password"]) == ("p2", "ansible_winrm_pass")
    assert (options["operation_timeout"], options["read_timeout"]) == (20, 30)


@pytest.mark.parametrize("variables, words", [
    ({"ansible_winrm_transport": "plaintext"}, "ansible_winrm_transport of n is 'plaintext'; use one of ntlm"),
    ({"ansible_winrm_server_cert_validation": "maybe"}, "validate or ignore"),
    ({"ansible_port": "fivenine"}, "ansible_port of n must be a number"),
    ({"ansible_winrm_read_timeout_sec": "soon"}, "ansible_winrm_read_timeout_sec of n must be a number"),
])
def test_winrm_options_refuse_variables_they_cannot_map(variables, words):
    with pytest.raises(ParameterError) as error:
        connection.winrm_options(variables, "n")
    assert words in error.value.message


# --- the order of the sources ---------------------------------------------------------------------------

def test_node_params_take_winrm_options_then_the_host_then_the_command_line_then_the_environment():
    host_vars = {"ansible_host": "10.0.0.21", "ansible_user": "inventory-user", "ansible_winrm_transport": "ntlm"}
    params, sources = connection.node_params(
        "SQL-NODE1", host_vars, overrides={"port": 5986}, command_line={"user": "cli-user", "password": "cli-pw"},
        environ={"WINRM_USER": "env-user", "WINRM_PASSWORD": "env-pw", "WINRM_CA_PATH": "/etc/lab-ca.pem"})
    assert (params["hostname"], params["port"], params["username"], params["password"]) == (
        "10.0.0.21", 5986, "inventory-user", "cli-pw")
    assert params["ca_path"] == "/etc/lab-ca.pem" and params["validate_certs"] is True
    assert sources["port"] == "winrm_options" and sources["username"] == "ansible_user"
    assert sources["password"] == "the command line's --ask-pass (AWX: the Machine credential)"
    assert sources["ca_path"] == "the environment variable WINRM_CA_PATH"


def test_node_params_fall_back_to_the_command_line_user_then_the_environment():
    params, sources = connection.node_params("WEB1", {}, command_line={"user": "cli-user"},
                                             environ={"WINRM_USER": "env-user", "WINRM_PASSWORD": "env-pw"})
    assert (params["username"], params["password"]) == ("cli-user", "env-pw")
    assert sources["username"] == "the command line's -u (AWX: the Machine credential)"
    assert sources["password"] == "the environment variable WINRM_PASSWORD"


def test_node_params_refuse_a_node_without_credentials_and_say_where_each_was_looked_for():
    with pytest.raises(ParameterError) as error:
        connection.node_params("WEB1", {"ansible_user": "svc"}, environ={})
    message = error.value.message
    assert message.startswith("WEB1: transport=ntlm needs username and password")
    assert "username from ansible_user; password from nowhere: it is not set" in message
    assert "transport from nowhere" in message


def test_node_params_refuse_an_option_of_the_wrong_type_naming_the_host():
    with pytest.raises(ParameterError) as error:
        connection.node_params("WEB1", {"ansible_user": "u", "ansible_password": "p"},
                               overrides={"message_encryption": "sometimes"}, environ={})
    assert error.value.message.startswith("the WinRM settings of WEB1:") and "message_encryption" in error.value.message


def test_describe_sources_names_where_never_what():
    text = connection.describe_sources({"username": "ansible_user", "password": "ansible_password"})
    assert text == "username from ansible_user; password from ansible_password"


# --- which inventory host reaches a computer ------------------------------------------------------------

def test_host_for_computer_by_inventory_name_or_ansible_host_short_names_without_case():
    hostvars = {"sql1": {"ansible_host": "SQL-NODE1.corp.example"}, "SQL-NODE2": {}, "other": {"ansible_host": "10.0.0.9"}}
    assert connection.host_for_computer("sql-node1", hostvars) == "sql1"
    assert connection.host_for_computer("SQL-NODE2.corp.example", hostvars) == "SQL-NODE2"
    assert connection.host_for_computer("SQL-NODE3", hostvars) is None
    assert connection.host_for_computer("", hostvars) is None


def test_host_for_computer_looks_at_the_windows_own_hosts_first():
    hostvars = {"a-copy": {"ansible_host": "WEB1"}, "z-window": {"ansible_host": "web1"}}
    assert connection.host_for_computer("WEB1", hostvars) == "a-copy"
    assert connection.host_for_computer("WEB1", hostvars, preferred=["z-window"]) == "z-window"
