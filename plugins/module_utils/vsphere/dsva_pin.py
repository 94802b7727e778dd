# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pinning DSVAs to their hosts (rule VS-03): a DRS override that excludes each DSVA from DRS and an
HA override with restart priority ``disabled``. Decides which overrides to add, edit or remove so
that only what differs is written. Pure: no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

HA_DISABLED = "disabled"


def plan_pins(dsva_names, drs_overrides, ha_overrides, state):
    """Return a list of changes ``{"kind": "drs"|"ha", "operation": "add"|"edit"|"remove", "vm": name}``.

    ``drs_overrides``/``ha_overrides`` are the inventory's per-VM override lists of the cluster.
    """
    drs_by_vm = dict((item["vm"], item) for item in drs_overrides)
    ha_by_vm = dict((item["vm"], item) for item in ha_overrides)
    changes = []
    for name in sorted(set(dsva_names)):
        drs = drs_by_vm.get(name)
        ha = ha_by_vm.get(name)
        if state == "present":
            if drs is None:
                changes.append({"kind": "drs", "operation": "add", "vm": name})
            elif drs["enabled"] is not False:
                changes.append({"kind": "drs", "operation": "edit", "vm": name})
            if ha is None:
                changes.append({"kind": "ha", "operation": "add", "vm": name})
            elif ha["restart_priority"] != HA_DISABLED:
                changes.append({"kind": "ha", "operation": "edit", "vm": name})
        else:
            if drs is not None:
                changes.append({"kind": "drs", "operation": "remove", "vm": name})
            if ha is not None:
                changes.append({"kind": "ha", "operation": "remove", "vm": name})
    return changes
