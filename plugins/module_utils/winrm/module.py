# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module class of every Windows module: the WinRM connection options and their rules, the pywinrm
check, and a run that hands the work a client for the node."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.clustersafe.deep_security.plugins.module_utils.runner import CollectionModule
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import (
    CONNECTION_RULES,
    HAS_WINRM,
    WINRM_IMPORT_ERROR,
    WinRMClient,
    connection_warnings,
    winrm_argument_spec,
)


class WinRMModule(CollectionModule):
    """AnsibleModule for a module that reaches one Windows node over WinRM (doc fragment ``winrm``)."""

    CONNECTION_RULES = CONNECTION_RULES

    @staticmethod
    def connection_argument_spec():
        return winrm_argument_spec()

    def check_dependencies(self):
        if not HAS_WINRM:
            self.fail_json(msg=missing_required_lib("pywinrm"), exception=WINRM_IMPORT_ERROR)

    def run(self, action):
        """Exit with ``action()`` -> result dict through the shared runner, with the connection's warnings
        (``connection_warnings``: plain HTTP allowed by allow_unencrypted_http) on every result: in the
        result's ``warnings`` when it succeeds, as module warnings when it fails."""
        notes = connection_warnings(self.params)

        def work():
            try:
                result = action()
            except Exception:
                for note in notes:
                    self.warn(note)
                raise
            result["warnings"] = notes + [item for item in result.get("warnings") or [] if item not in notes]
            return result

        super(WinRMModule, self).run(work)

    def client(self):
        """A client for the node; it checks the connection options and connects only when a script runs."""
        return WinRMClient(self.params)

    def run_with_client(self, work):
        """Exit with ``work(client)`` -> result dict. The client is made inside the run, so a refused
        connection option ends as a clean failure like any other error."""
        self.run(lambda: work(self.client()))
