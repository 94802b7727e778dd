# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module class of every vSphere module: the vCenter connection options, the pyVmomi check, and a run
that logs in, hands the work the session and always logs out again."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.runner import CollectionModule, run_module
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import client as vsphere_client


def check_pyvmomi(module):
    if not vsphere_client.HAS_PYVMOMI:
        module.fail_json(msg=missing_required_lib("pyvmomi"), exception=str(vsphere_client.PYVMOMI_IMPORT_ERROR))


def run_connected(module, body, validate=None):
    """Check the module's own options (``validate()``, raising ParameterError) and the connection options,
    log in, exit with ``body(client)`` -> result dict, log out; errors end through ``run_module``."""

    def action():
        if validate is not None:
            validate()
        client = vsphere_client.VsphereClient.from_module_params(module.params)
        try:
            client.connect()
            result = body(client)
            result["warnings"] = vsphere_client.connection_warnings(module.params) + result.get("warnings", [])
            return result
        except CollectionError:
            raise
        except Exception as error:  # an unexpected fault still gets a readable message, not a bare traceback
            # no traceback in the details: the runner scrubs messages, and a traceback's frames can hold
            # the connection parameters
            raise vsphere_client.VsphereError("unexpected error talking to vCenter: %s: %s" % (type(error).__name__, error))
        finally:
            client.close()

    run_module(module, action)


class VsphereModule(CollectionModule):
    """AnsibleModule for a module that talks to vCenter (doc fragment ``vsphere``)."""

    @staticmethod
    def connection_argument_spec():
        return vsphere_client.vsphere_argument_spec()

    def check_dependencies(self):
        check_pyvmomi(self)

    def run_with_client(self, body, validate=None):
        """Exit with ``body(client)`` -> result dict, run on a logged-in vCenter session; ``validate()``
        checks the module's own options before the login, so a bad one never reaches vCenter."""
        run_connected(self, body, validate)
