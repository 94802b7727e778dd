# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module class of every Deep Security Manager module: the DSM connection options, and a run that
hands the work a client for the manager's REST API.

There is no dependency to check: the client speaks HTTPS through ansible-core's own
``ansible.module_utils.urls``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import (
    client_from_module,
    dsm_argument_spec,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.runner import CollectionModule


class DsmModule(CollectionModule):
    """AnsibleModule for a module that talks to the DSM REST API (doc fragment ``dsm``)."""

    @staticmethod
    def connection_argument_spec():
        return dsm_argument_spec()

    def client(self):
        """A client for the manager; it checks the connection options (URL, key, retries) when made."""
        return client_from_module(self)

    def run_with_client(self, work):
        """Exit with ``work(client)`` -> result dict; a refused connection option ends as a clean failure."""
        self.run(lambda: work(self.client()))
