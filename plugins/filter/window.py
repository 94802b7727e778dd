# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters the window roles decide with; the logic lives in plugins/plugin_utils/window.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.filters import as_filter as _filter
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils import window


def vsphere_recover_entry(item, change, check_mode=False):
    """What recover put back on vCenter, as a report entry (item: a cluster, or [cluster, host])."""
    if isinstance(item, (list, tuple)):
        cluster, host = item[0], item[1]
        record = host.get("evacuation") or {}
        system = "%s/%s" % (cluster.get("name"), host.get("name"))
    else:
        record = item.get("drs_window") or {}
        system = item.get("name")
    return {"system": system, "window": record.get("window"), "change": change, "since": record.get("since"),
            "controller": record.get("owner"), "result": "would put back" if check_mode else "put back"}


class FilterModule(object):
    def filters(self):
        return {
            "winrm_connection": _filter(window.winrm_connection),
            "wsfc_rollout_plan": _filter(window.plan_wsfc_rollout),
            "records_to_undo": _filter(window.records_to_undo),
            "window_report": _filter(window.window_report),
            "window_report_markdown": _filter(window.report_markdown),
            "window_report_stats": _filter(window.summary_for_stats),
            "vsphere_recover_entry": _filter(vsphere_recover_entry),
            "window_drs_report": _filter(window.drs_report),
            "window_plan_line": _filter(window.plan_line),
            "window_blocker_line": _filter(window.blocker_line),
            "window_finding_line": _filter(window.finding_line),
        }
