# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the vSphere window roles decide with; the logic lives in plugins/plugin_utils/vsphere_windows.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.filters import as_filter as _filter
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils import vsphere_windows


class FilterModule(object):
    def filters(self):
        return {
            "dsva_placement_plan": _filter(vsphere_windows.dsva_placement_plan),
            "esx_prepare_plan": _filter(vsphere_windows.esx_prepare_plan),
            "guest_activation_plan": _filter(vsphere_windows.guest_activation_plan),
            "guest_activation_verdict": _filter(vsphere_windows.guest_activation_verdict),
            "horizon_desktop_status": _filter(vsphere_windows.horizon_desktop_status),
            "vsphere_drs_levels": _filter(vsphere_windows.drs_levels),
            "vsphere_window_report": _filter(vsphere_windows.vsphere_window_report),
            "vsphere_window_report_markdown": _filter(vsphere_windows.vsphere_report_markdown),
        }
