# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the window reaches each Windows node: the collection's WinRM options from the node's inventory
variables (ansible.windows' names), the credentials Ansible was given on its command line (``-u`` and
``--ask-pass``, as AWX passes a Machine credential), then the modules' environment variables; and, for every
option, where its value came from, so a message names what the user set.

Pure: the action plugin passes the host variables and the command line's credentials in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import (
    TRANSPORTS,
    validate_connection,
    winrm_argument_spec,
)

# ansible.windows' connection variables (its winrm connection plugin's documented names), mapped onto the
# collection's WinRM module options. Only what a host defines is mapped.
WINRM_VARIABLES = (
    ("hostname", ("ansible_host",)),
    ("port", ("ansible_port", "ansible_winrm_port")),
    ("username", ("ansible_user", "ansible_winrm_user")),
    ("password", ("ansible_password", "ansible_winrm_password", "ansible_winrm_pass", "ansible_pass")),
    ("scheme", ("ansible_winrm_scheme",)),
    ("ca_path", ("ansible_winrm_ca_trust_path",)),
    ("cert_pem", ("ansible_winrm_cert_pem",)),
    ("cert_key_pem", ("ansible_winrm_cert_key_pem",)),
    ("message_encryption", ("ansible_winrm_message_encryption",)),
    ("operation_timeout", ("ansible_winrm_operation_timeout_sec",)),
    ("read_timeout", ("ansible_winrm_read_timeout_sec",)),
)
CERT_VALIDATION = {"validate": True, "ignore": False}
INTEGER_OPTIONS = ("port", "operation_timeout", "read_timeout")
# The environment variables the Windows modules fall back to (module_utils/winrm/client.py's spec).
ENVIRONMENT = dict((name, list(option.get("fallback", (None, []))[1]))
                   for name, option in winrm_argument_spec().items() if option.get("fallback"))


def winrm_options(host_vars, inventory_hostname=None):
    """(options, sources): the WinRM module options one host's inventory variables give, and for each option
    the variable it came from. ``ansible_winrm_transport`` may be a list or a comma-separated string (as
    ansible.windows accepts it); the first transport the collection supports is taken."""
    host_vars = host_vars or {}
    options, sources = {}, {}
    for option, names in WINRM_VARIABLES:
        for name in names:
            value = host_vars.get(name)
            if value is not None and value != "":
                options[option], sources[option] = value, name
                break
    if "hostname" not in options:
        name = inventory_hostname or host_vars.get("inventory_hostname")
        if name:
            options["hostname"], sources["hostname"] = name, "the inventory host name"
    for option in INTEGER_OPTIONS:
        if option in options:
            try:
                options[option] = int(options[option])
            except (TypeError, ValueError):
                raise ParameterError("%s of %s must be a number, got %r" % (sources[option], inventory_hostname,
                                                                            options[option]))
    transport = host_vars.get("ansible_winrm_transport")
    if transport:
        wanted = transport if isinstance(transport, (list, tuple)) else str(transport).split(",")
        chosen = [item.strip().lower() for item in wanted if item.strip().lower() in TRANSPORTS]
        if not chosen:
            raise ParameterError("ansible_winrm_transport of %s is %r; use one of %s"
                                 % (inventory_hostname, transport, ", ".join(TRANSPORTS)))
        options["transport"], sources["transport"] = chosen[0], "ansible_winrm_transport"
    validation = host_vars.get("ansible_winrm_server_cert_validation")
    if validation is not None and validation != "":
        key = str(validation).strip().lower()
        if key not in CERT_VALIDATION:
            raise ParameterError("ansible_winrm_server_cert_validation of %s is %r; use validate or ignore"
                                 % (inventory_hostname, validation))
        options["validate_certs"], sources["validate_certs"] = CERT_VALIDATION[key], "ansible_winrm_server_cert_validation"
    return options, sources


def node_params(host, host_vars, overrides=None, command_line=None, environ=None):
    """The checked WinRM parameters of one inventory host and where each came from.

    Order, first wins: the window's ``winrm_options`` (``overrides``), the host's inventory variables, the
    command line's ``-u`` / ``--ask-pass`` (``command_line``: ``{"user": ..., "password": ...}``), then the
    environment (``WINRM_USER`` ...), then the modules' defaults.
    """
    environ = os.environ if environ is None else environ
    options, sources = winrm_options(host_vars, host)
    for option, value in (overrides or {}).items():
        options[option], sources[option] = value, "winrm_options"
    command_line = command_line or {}
    if "username" not in options and command_line.get("user"):
        options["username"], sources["username"] = command_line["user"], "the command line's -u (AWX: the Machine credential)"
    if "password" not in options and command_line.get("password"):
        options["password"], sources["password"] = command_line["password"], \
            "the command line's --ask-pass (AWX: the Machine credential)"
    for option, variables in ENVIRONMENT.items():
        if option in options:
            continue
        for variable in variables:
            if environ.get(variable):
                options[option], sources[option] = environ[variable], "the environment variable %s" % variable
                break
    spec = winrm_argument_spec()
    for option in spec.values():
        option.pop("fallback", None)
    result = ArgumentSpecValidator(spec).validate(options)
    if result.error_messages:
        raise ParameterError("the WinRM settings of %s: %s" % (host, "; ".join(result.error_messages)))
    params = result.validated_parameters
    try:
        validate_connection(params)
    except ParameterError as error:
        raise ParameterError("%s: %s (%s)" % (host, error.message, describe_sources(sources, ("username", "password",
                                                                                              "transport", "scheme"))))
    return params, sources


def describe_sources(sources, options=("username", "password")):
    """Where the credentials of a node came from, in words, for a message (never a value)."""
    parts = []
    for option in options:
        parts.append("%s from %s" % (option, sources.get(option, "nowhere: it is not set")))
    return "; ".join(parts)


def _short(name):
    return str(name or "").strip().lower().split(".", 1)[0]


def host_for_computer(computer, hostvars, preferred=()):
    """The inventory host that reaches the Windows computer named ``computer``: the host whose inventory name
    or ``ansible_host`` is that computer's name (short names compared without case). Hosts in ``preferred``
    (the window's own) are looked at first. None when the inventory has none."""
    wanted = _short(computer)
    if not wanted:
        return None
    ordered = list(preferred) + sorted(name for name in hostvars if name not in preferred)
    for host in ordered:
        variables = hostvars.get(host) or {}
        if _short(host) == wanted or _short(variables.get("ansible_host")) == wanted:
            return host
    return None
