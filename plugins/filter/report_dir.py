# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter report_dir: the one rule for where the collection's roles write their reports
(plugins/plugin_utils/report_location.py), the same as the window actions'."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.filters import as_filter
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.report_location import report_dir


class FilterModule(object):
    def filters(self):
        return {"report_dir": as_filter(report_dir)}
