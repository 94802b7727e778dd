# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of a window across many failover clusters (or NLB farms, with kind=nlb); the logic lives in plugins/plugin_utils/estate.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.filters import as_filter as _filter
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils import estate


class FilterModule(object):
    def filters(self):
        return {
            "wsfc_estate_groups": _filter(estate.cluster_groups),
            "wsfc_estate_schedule": _filter(estate.schedule),
            "wsfc_estate_shared_clusters": _filter(estate.shared_clusters),
            "wsfc_estate_schedule_lines": _filter(estate.schedule_lines),
            "wsfc_estate_drs_hold": _filter(estate.drs_to_hold),
            "wsfc_estate_drs_release": _filter(estate.drs_to_release),
            "wsfc_estate_report": _filter(estate.estate_report),
            "wsfc_estate_report_markdown": _filter(estate.estate_markdown),
            "wsfc_estate_report_stats": _filter(estate.estate_stats),
            "nlb_estate_schedule": _filter(estate.farm_schedule),
            "nlb_estate_schedule_lines": _filter(estate.farm_schedule_lines),
        }
