# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the vSphere modules share: gather the inventory in one pass, write records and DRS levels."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import getpass
import socket

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    HeldError,
    ParameterError,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import client as vsphere_client
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import records
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import (
    SNAPSHOT_PROPERTIES,
    build_inventory,
    datacenter_names,
)


class Snapshot(object):
    """One property-collector pass: the raw objects, the inventory document built from them, and
    the managed-object references the writers need."""

    def __init__(self, objects, field_names, inventory, field_policies=None):
        self.objects = objects
        # {key: (name, managed-object type name or None)}; a bare {key: name} means "every type"
        self.field_names = dict((key, (value, None) if isinstance(value, str) else tuple(value))
                                for key, value in (field_names or {}).items())
        # {key: update privilege of the attribute's values (fieldInstancePrivileges), or None}
        self.field_policies = dict(field_policies or {})
        self.inventory = inventory
        self.datacenters = datacenter_names(objects)

    def ref(self, moid):
        return self.objects[moid]["_ref"]

    def record_policy_warnings(self):
        """A warning for each of the collection's attribute definitions that cannot keep other writers out:
        no privilege policy or another update privilege than its record drives, or a same-named global
        definition beside the typed one (records.policy_warning)."""
        warnings = []
        for attribute in sorted(records.FIELD_UPDATE_PRIVILEGES):
            defined = [(key, kind) for key, (name, kind) in self.field_names.items() if name == attribute]
            typed = [key for key, kind in defined if kind]
            for key, kind in sorted(defined, key=lambda item: (str(item[1]), item[0])):
                if kind or not typed:
                    warning = records.policy_warning(attribute, kind, self.field_policies.get(key))
                    if warning:
                        warnings.append(warning)
            if typed and len(defined) > len(typed):
                warnings.append(records.policy_warning(attribute, defined[0][1] or "its type", None, global_too=True))
        return warnings


def gather(client, dsva_pattern="dsva-*", dsm_patterns=("dsm*",)):
    vim = vsphere_client.vim
    types = dict((getattr(vim, name), paths) for name, paths in SNAPSHOT_PROPERTIES.items())
    manager = client.content.customFieldsManager
    objects = client.snapshot(types, extra_objects=[(manager, ["field"])] if manager is not None else [])
    field_names, field_policies = {}, {}
    for moid in list(objects):
        if objects[moid]["_type"].endswith("CustomFieldsManager"):
            for field in objects.pop(moid).get("field") or []:
                field_names[field.key] = (field.name, vsphere_client.type_name(field.managedObjectType))
                policy = getattr(field, "fieldInstancePrivileges", None)
                field_policies[field.key] = getattr(policy, "updatePrivilege", None) or None
    return Snapshot(objects, field_names, build_inventory(objects, field_names, dsva_pattern, dsm_patterns),
                    field_policies)


def missing_dsva_message(cluster, pattern):
    return ("no VM of cluster %s is recognised as a Deep Security Virtual Appliance (by vApp product, or by "
            "name pattern %r, case-insensitive): set dsva_name_pattern to the appliances' names, or "
            "dsvas_expected=false if the cluster is protected by agents only" % (cluster["name"], pattern))


def require_dsvas(cluster, expected, pattern):
    """A changing module must not treat DSVAs it failed to recognise as ordinary VMs (VS-01, VS-03)."""
    if expected and not cluster["dsvas"]:
        raise ParameterError(missing_dsva_message(cluster, pattern), cluster=cluster["name"])


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def default_owner(username):
    try:
        local_user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        local_user = "unknown"
    return "%s@%s (vCenter user %s)" % (local_user, socket.gethostname(), username)


def write_record(client, snapshot, entity, attribute, managed_type, record):
    """Write (record dict) or clear (None) a JSON record in a custom attribute on ``entity``.

    A definition created here carries the record's privilege policy (records.field_policy). The value goes
    through setCustomValue, which names the attribute, not its key: with a same-named attribute for every
    object type beside the typed one, vCenter could write either, so that is refused before writing."""
    key = client.custom_field_key(attribute, managed_type, create=record is not None, known=snapshot.field_names,
                                  policy=records.field_policy(attribute), definition_policy=records.definition_policy())
    if key is None:
        return
    if key not in snapshot.field_names:
        # a definition created just now is not in the snapshot; later reads of this run need its key
        snapshot.field_names[key] = (attribute, vsphere_client.type_name(managed_type))
        snapshot.field_policies[key] = records.FIELD_UPDATE_PRIVILEGES[attribute]
    same_named = [kind for name, kind in snapshot.field_names.values() if name == attribute]
    if len(same_named) > 1 and None in same_named:
        raise vsphere_client.VsphereError(
            "custom attribute %s exists for %s and for every object type, so vCenter could write either; remove "
            "the one for every object type in vCenter (Administration > Custom Attributes) once it carries no "
            "record" % (attribute, vsphere_client.type_name(managed_type)))
    client.set_custom_value(entity, attribute, records.encode_record(record) if record is not None else "")


def read_record(client, snapshot, entity, attribute, managed_type):
    """The record on ``entity`` as vCenter holds it now (not as the snapshot saw it)."""
    key = client.custom_field_key(attribute, managed_type, known=snapshot.field_names)
    if key is None:
        return None
    return records.read_record(client.read_custom_value(entity, key), attribute)


def same_holder(record, expected):
    """Does ``record`` belong to the same window and owner as ``expected``? (None matches None.)"""
    if record is None or expected is None:
        return record is None and expected is None
    return record.get("window") == expected.get("window") and record.get("owner") == expected.get("owner")


def _holder_changed(cluster_name, found, expected, doing):
    found_text = "no record" if found is None else "window %r of %s" % (found.get("window"), found.get("owner"))
    return HeldError("cluster %s: the DRS window record changed under this run (%s; expected window %r of %s), "
                     "so %s was not done; another controller is working on this cluster: check "
                     "vsphere_cluster_info and retry" % (cluster_name, found_text,
                                                         (expected or {}).get("window"), (expected or {}).get("owner"),
                                                         doing),
                     held_by=(found or {}).get("window"), owner=(found or {}).get("owner"))


def set_drs_level(client, cluster_ref, level):
    """Change only the DRS automation level; every other DRS and HA setting stays as it is."""
    vim = vsphere_client.vim
    spec = vim.cluster.ConfigSpecEx(drsConfig=vim.cluster.DrsConfigInfo(defaultVmBehavior=level))
    client.run_task("setting DRS automation level of %s to %s" % (cluster_ref.name, level),
                    cluster_ref.ReconfigureComputeResource_Task, spec=spec, modify=True)


def apply_window_plan(client, snapshot, cluster_ref, plan, current_record, attribute):
    """Carry out a DRS window plan in the only safe order: record first, then DRS, then clear.

    vCenter's setCustomValue has no expected value, so the record is compared after each write and before
    each clear instead (window and owner): a run that finds another window's record changes nothing
    more and raises HeldError. When setting DRS fails right after a *new* record was written, the record
    is removed again so no record claims a window that never started; only a failed vCenter task counts,
    never a wait that ran out (the task may still finish and leave DRS at manual).
    """
    managed_type = type(cluster_ref)
    if plan.write_record is not None:
        write_record(client, snapshot, cluster_ref, attribute, managed_type, plan.write_record)
        found = read_record(client, snapshot, cluster_ref, attribute, managed_type)
        if not same_holder(found, plan.write_record):
            raise _holder_changed(cluster_ref.name, found, plan.write_record, "setting DRS")
        expected = plan.write_record
    else:
        expected = current_record
        if plan.set_level or plan.clear_record:
            found = read_record(client, snapshot, cluster_ref, attribute, managed_type)
            if not same_holder(found, expected):
                raise _holder_changed(cluster_ref.name, found, expected, "setting DRS")
    if plan.set_level:
        try:
            set_drs_level(client, cluster_ref, plan.set_level)
        except vsphere_client.VsphereTaskError:
            if current_record is None and plan.write_record is not None:
                found = read_record(client, snapshot, cluster_ref, attribute, managed_type)
                if same_holder(found, plan.write_record):
                    write_record(client, snapshot, cluster_ref, attribute, managed_type, None)
            raise
    if plan.clear_record:
        found = read_record(client, snapshot, cluster_ref, attribute, managed_type)
        if not same_holder(found, expected):
            raise _holder_changed(cluster_ref.name, found, expected, "clearing the record")
        write_record(client, snapshot, cluster_ref, attribute, managed_type, None)
