# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place where a module's work meets Ansible: run it, turn a CollectionError into
``fail_json`` with the error's message and details, pass warnings on, exit with the result."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError


def run_module(module, action):
    """Call ``action()`` -> result dict and exit the module with it; a ``warnings`` list in the
    result becomes Ansible warnings."""
    try:
        result = action()
    except CollectionError as error:
        module.fail_json(msg=error.message, **error.details)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)
