# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pinning DSVAs to their hosts (rule VS-03): a DRS override that excludes each DSVA from DRS and an
HA override with restart priority ``disabled``. Decides which overrides to add, edit or remove so
that only what differs is written. Pure: no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError

HA_DISABLED = "disabled"


def plan_pins(dsvas, drs_overrides, ha_overrides, state):
    """Return a list of changes ``{"kind": "drs"|"ha", "operation": "add"|"edit"|"remove", "vm": name,
    "moid": moid}``.

    ``dsvas`` are ``{"moid", "name"}`` entries; ``drs_overrides``/``ha_overrides`` are the inventory's
    per-VM override lists of the cluster. Overrides are matched on the VM's managed-object id, never its
    name (names repeat across folders).
    """
    drs_by_vm = dict((item["moid"], item) for item in drs_overrides)
    ha_by_vm = dict((item["moid"], item) for item in ha_overrides)
    changes = []
    for vm in sorted(dsvas, key=lambda item: (item["name"], item["moid"])):
        drs = drs_by_vm.get(vm["moid"])
        ha = ha_by_vm.get(vm["moid"])
        entry = {"vm": vm["name"], "moid": vm["moid"]}
        if state == "present":
            if drs is None:
                changes.append(dict(entry, kind="drs", operation="add"))
            elif drs["enabled"] is not False:
                changes.append(dict(entry, kind="drs", operation="edit"))
            if ha is None:
                changes.append(dict(entry, kind="ha", operation="add"))
            elif ha["restart_priority"] != HA_DISABLED:
                changes.append(dict(entry, kind="ha", operation="edit"))
        else:
            if drs is not None:
                changes.append(dict(entry, kind="drs", operation="remove"))
            if ha is not None:
                changes.append(dict(entry, kind="ha", operation="remove"))
    return changes


def overrides_flag_change(drs, state, allowed):
    """Must this run turn vim.cluster.DrsConfigInfo.enableVmBehaviorOverrides on? When it is false, vCenter
    ignores every per-VM DRS override and the cluster default applies, so a DSVA "excluded from DRS" still
    moves (vmware.vmware cluster_drs_vm_overrides refuses to work then too). Raises ParameterError when
    the flag is needed and ``allowed`` is false."""
    if state != "present" or drs.get("vm_overrides_allowed") is not False:
        return False
    if not allowed:
        raise ParameterError(
            "DRS of this cluster ignores per-VM overrides (enableVmBehaviorOverrides is false), so a DSVA override "
            "would not keep it on its host (VS-03); set enable_vm_overrides=true to let this module turn them on, "
            "or turn on 'VM overrides' for DRS in vCenter")
    return True
