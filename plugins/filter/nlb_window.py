# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the NLB farm window decides with; the logic lives in plugins/plugin_utils/nlb_window.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.filters import as_filter as _filter
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils import nlb_window


class FilterModule(object):
    def filters(self):
        return {
            "nlb_rollout_plan": _filter(nlb_window.plan_nlb_rollout),
            "nlb_converged_others": _filter(nlb_window.converged_others),
            "nlb_tap_records": _filter(nlb_window.tap_records),
            "nlb_lab_invalid_flags": _filter(nlb_window.lab_invalid_flags),
            "nlb_inline_check": _filter(nlb_window.inline_check),
            "nlb_window_report": _filter(nlb_window.nlb_report),
            "nlb_window_report_markdown": _filter(nlb_window.nlb_report_markdown),
        }
