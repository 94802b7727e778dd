# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``query`` option of the info modules: a JMESPath expression (https://jmespath.org/specification.html)
applied to the module's result on the managed side, so that only what the next step needs leaves the
module (AWX stores every task result in its database; ``vsphere_cluster_info`` returns about 180 KB at
10,000 VMs, see docs/performance.md).

The expression is compiled before the module connects anywhere, so a bad one fails at once with an error
naming ``query``. It is applied to the result's return fields (everything but ``changed`` and
``warnings``, which stay as they are); the value it yields is returned as ``query_result`` instead of
those fields."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError, ParameterError

try:
    import jmespath
    import jmespath.exceptions
except ImportError:
    HAS_JMESPATH = False
    JMESPATH_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_JMESPATH = True
    JMESPATH_IMPORT_ERROR = None

# Kept as they are whatever the query: Ansible reads them.
_KEPT = ("changed", "warnings")


def query_argument_spec():
    return dict(query=dict(type="str"))


def compile_query(expression):
    """The compiled expression, or None when ``expression`` is None; ParameterError naming ``query``
    for an expression that is empty or not valid JMESPath."""
    if expression is None:
        return None
    if not HAS_JMESPATH:
        raise ParameterError(missing_required_lib("jmespath") + " (needed for the query option)",
                             exception=JMESPATH_IMPORT_ERROR)
    if not expression.strip():
        raise ParameterError("query is empty: give a JMESPath expression (https://jmespath.org), "
                             "or leave query out for the whole result")
    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as error:
        raise ParameterError("query is not a valid JMESPath expression: %s; check its syntax at "
                             "https://jmespath.org/specification.html (string literals in single quotes, "
                             "backquotes for JSON literals)" % _one_line(error), query=expression)


def apply_query(result, compiled, expression=None):
    """``result`` unchanged when ``compiled`` is None; otherwise ``changed``, ``warnings`` and
    ``query_result``: the expression's value over the other fields."""
    if compiled is None:
        return result
    data = dict((key, value) for key, value in result.items() if key not in _KEPT)
    try:
        value = compiled.search(data)
    except jmespath.exceptions.JMESPathError as error:
        # Type errors (a function given the wrong type) only show with the data.
        raise ParameterError("query failed on this result: %s; the result's fields are listed under RETURN in "
                             "the module's documentation" % _one_line(error), query=expression)
    out = dict((key, result[key]) for key in _KEPT if key in result)
    out["query_result"] = value
    return out


def module_query(module):
    """The compiled ``query`` of ``module``'s parameters (None without one); a bad expression fails the
    module before it sends anything."""
    expression = module.params.get("query")
    try:
        return compile_query(expression)
    except CollectionError as error:
        module.fail_json(msg=error.message, **error.details)


def _one_line(error):
    return " ".join(str(error).split())
