# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter winrm_connection: a host's inventory variables as the Windows modules' connection options. The logic
is the window engine's own (plugins/plugin_utils/engine/connection.py), so roles that call the modules task by task
reach a node exactly as the windows do."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.connection import winrm_options
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.filters import as_filter


def winrm_connection(host_vars, inventory_hostname=None):
    return winrm_options(host_vars, inventory_hostname)[0]


class FilterModule(object):
    def filters(self):
        return {"winrm_connection": as_filter(winrm_connection)}
