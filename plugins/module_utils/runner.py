# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where a module's work meets Ansible: run it, turn a CollectionError into
``fail_json`` with the error's message and details, pass warnings on, return ``diff`` only when the task
asked for it (``--diff`` or ``diff: true``), exit with the result.

Any other exception also ends in ``fail_json``, never in a traceback: its text is kept only after every
secret the module was given (``no_log`` options) has been cut out in each spelling an exception may use
(as is, stripped, escaped as in ``repr``), and URLs lose their user info and query strings.

``CollectionModule`` is the AnsibleModule every module of the collection is built from; each backend
(``winrm/module.py``, ``vsphere/module.py``, ``dsm/module.py``) adds its connection options, the rules
between them and its dependency check, so a module file only declares its own options and its work."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError

MASK = "********"
# The shortest secret fragment worth masking: shorter ones would blank out ordinary words.
_MIN_SECRET = 3
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"]*@")
_URL_QUERY = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s?'\"]*)\?[^\s'\"]*")


def _secret_spellings(values):
    spellings = set()
    for value in values or ():
        text = value if isinstance(value, str) else str(value)
        for candidate in (text, text.strip(), repr(text)[1:-1], repr(text.strip())[1:-1],
                          repr(text.encode("utf-8", "replace"))[2:-1]):
            if len(candidate) >= _MIN_SECRET:
                spellings.add(candidate)
        for line in re.split(r"[\r\n]+", text):
            if len(line.strip()) >= _MIN_SECRET:
                spellings.add(line.strip())
    # Longest first, so a secret is masked whole before any part of it.
    return sorted(spellings, key=len, reverse=True)


def scrub(text, secrets=()):
    """``text`` with every spelling of every secret masked, and URL user info / query strings removed."""
    out = str(text)
    for secret in _secret_spellings(secrets):
        out = out.replace(secret, MASK)
    out = _URL_USERINFO.sub(r"\1<redacted>@", out)
    out = _URL_QUERY.sub(r"\1?<redacted>", out)
    return out


def unexpected_error_message(error, secrets=()):
    """A failure message for an exception nobody raised on purpose: its type and scrubbed text."""
    try:
        text = str(error)
    except Exception:  # an exception whose text itself fails
        text = ""
    detail = scrub(text, secrets)[:1000]
    return ("unexpected %s%s; this is a bug of the collection or an answer it did not expect: please report "
            "it with the task's options (never the secrets)" % (type(error).__name__, ": " + detail if detail else ""))


def _no_log_values(module):
    values = getattr(module, "no_log_values", None) or set()
    return [value for value in values if value]


# Every module with a connection has validate_certs; turning it off is allowed (a lab, a certificate checked
# by other means) but never silent.
CERTIFICATE_NOT_CHECKED = ("validate_certs=false: the server's certificate is not checked, so anyone on the path "
                           "can read the credentials and change what this module sees; give ca_path instead")


def run_module(module, action):
    """Call ``action()`` -> result dict and exit the module with it; a ``warnings`` list in the
    result becomes Ansible warnings, and a ``diff`` is kept only when the task runs in diff mode."""
    secrets = _no_log_values(module)
    try:
        result = action()
    except CollectionError as error:
        details = dict(error.details)
        module.fail_json(msg=scrub(error.message, secrets), **details)
        return
    except Exception as error:  # the one place that turns anything else into a clean failure
        module.fail_json(msg=unexpected_error_message(error, secrets), error_type=type(error).__name__)
        return
    warnings = list(result.pop("warnings", []))
    if not getattr(module, "_diff", False):
        # as ansible-core's own modules do: the before/after can be large and is only shown in diff mode
        result.pop("diff", None)
    if getattr(module, "params", {}).get("validate_certs") is False \
            and not any(str(warning).startswith("validate_certs=false") for warning in warnings):
        warnings.append(CERTIFICATE_NOT_CHECKED)
    for warning in warnings:
        module.warn(scrub(warning, secrets))
    module.exit_json(**result)


# The rule lists AnsibleModule takes besides the argument spec; a backend adds its own to a module's.
RULE_KEYWORDS = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")


class CollectionModule(AnsibleModule):
    """An AnsibleModule with a backend's connection options and rules merged into the module's own, the
    backend's dependency checked before anything else, and ``run`` ending through ``run_module``.

    A backend overrides ``connection_argument_spec``, ``CONNECTION_RULES`` and ``check_dependencies``;
    a module without a backend (``cluster_assess``) uses this class as it is."""

    CONNECTION_RULES = {}

    def __init__(self, argument_spec=None, **kwargs):
        spec = self.connection_argument_spec()
        overlap = set(spec) & set(argument_spec or {})
        if overlap:  # a module must not silently replace a connection option
            raise ValueError("module options %s clash with the connection options" % ", ".join(sorted(overlap)))
        spec.update(argument_spec or {})
        for keyword in RULE_KEYWORDS:
            backend, own = self.CONNECTION_RULES.get(keyword), kwargs.get(keyword)
            if backend and own:
                kwargs[keyword] = dict(backend, **own) if keyword == "required_by" else list(backend) + list(own)
            elif backend:
                kwargs[keyword] = backend
        kwargs.setdefault("supports_check_mode", True)
        super(CollectionModule, self).__init__(argument_spec=spec, **kwargs)
        self.check_dependencies()

    @staticmethod
    def connection_argument_spec():
        """The backend's connection options (none without a backend)."""
        return {}

    def check_dependencies(self):
        """Fail with ``missing_required_lib`` when the backend's Python library is missing."""

    def run(self, action):
        """Exit with ``action()`` -> result dict, through ``run_module``."""
        run_module(self, action)
