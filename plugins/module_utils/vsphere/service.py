# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the vSphere modules share: gather the inventory in one pass, write records and DRS levels,
and run a module body with the error handling every module wants."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import getpass
import socket
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.runner import run_module
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere import client as vsphere_client
from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import (
    SNAPSHOT_PROPERTIES,
    build_inventory,
    datacenter_names,
    encode_record,
)


class Snapshot(object):
    """One property-collector pass: the raw objects, the inventory document built from them, and
    the managed-object references the writers need."""

    def __init__(self, objects, field_names, inventory):
        self.objects = objects
        self.field_names = field_names
        self.inventory = inventory
        self.datacenters = datacenter_names(objects)

    def ref(self, moid):
        return self.objects[moid]["_ref"]

    def vm_refs_by_name(self):
        return dict((record["name"], record["_ref"]) for record in self.objects.values()
                    if record["_type"].endswith("VirtualMachine"))

    def vm_facts(self):
        """{VM name: {"host": host name, "power_state": str, "memory_mb": int}} from the same pass."""
        host_names = dict((moid, record["name"]) for moid, record in self.objects.items()
                          if record["_type"].endswith("HostSystem"))
        facts = {}
        for record in self.objects.values():
            if record["_type"].endswith("VirtualMachine"):
                host = record.get("runtime.host")
                facts[record["name"]] = {
                    "host": host_names.get(getattr(host, "_moId", None)),
                    "power_state": str(record.get("runtime.powerState")),
                    "memory_mb": record.get("summary.config.memorySizeMB") or 0,
                }
        return facts

    def host_refs_by_name(self):
        return dict((record["name"], record["_ref"]) for record in self.objects.values()
                    if record["_type"].endswith("HostSystem"))


def gather(client, dsva_pattern="dsva-*", dsm_patterns=("dsm*",)):
    vim = vsphere_client.vim
    types = dict((getattr(vim, name), paths) for name, paths in SNAPSHOT_PROPERTIES.items())
    manager = client.content.customFieldsManager
    objects = client.snapshot(types, extra_objects=[(manager, ["field"])] if manager is not None else [])
    field_names = {}
    for moid in list(objects):
        if objects[moid]["_type"].endswith("CustomFieldsManager"):
            for field in objects.pop(moid).get("field") or []:
                field_names[field.key] = field.name
    return Snapshot(objects, field_names, build_inventory(objects, field_names, dsva_pattern, dsm_patterns))


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def default_owner(username):
    try:
        local_user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        local_user = "unknown"
    return "%s@%s (vCenter user %s)" % (local_user, socket.gethostname(), username)


def write_record(client, snapshot, entity, attribute, managed_type, record):
    """Write (record dict) or clear (None) a JSON record in a custom attribute on ``entity``."""
    key = client.custom_field_key(attribute, managed_type, create=record is not None, known=snapshot.field_names)
    if key is None:
        return
    client.set_custom_value(entity, key, encode_record(record) if record is not None else "")


def set_drs_level(client, cluster_ref, level):
    """Change only the DRS automation level; every other DRS and HA setting stays as it is."""
    vim = vsphere_client.vim
    spec = vim.cluster.ConfigSpecEx(drsConfig=vim.cluster.DrsConfigInfo(defaultVmBehavior=level))
    client.run_task("setting DRS automation level of %s to %s" % (cluster_ref.name, level),
                    cluster_ref.ReconfigureComputeResource_Task, spec=spec, modify=True)


def apply_window_plan(client, snapshot, cluster_ref, plan, had_record, attribute):
    """Carry out a DRS window plan in the only safe order: record first, then DRS, then clear.

    When setting DRS fails right after a *new* record was written, the record is removed again so no
    record claims a window that never started; the vCenter error is raised either way.
    """
    managed_type = type(cluster_ref)
    if plan.write_record is not None:
        write_record(client, snapshot, cluster_ref, attribute, managed_type, plan.write_record)
    if plan.set_level:
        try:
            set_drs_level(client, cluster_ref, plan.set_level)
        except Exception:
            if not had_record and plan.write_record is not None:
                write_record(client, snapshot, cluster_ref, attribute, managed_type, None)
            raise
    if plan.clear_record:
        write_record(client, snapshot, cluster_ref, attribute, managed_type, None)


def run_vsphere_module(module, body):
    """Connect, run ``body(client)`` -> result dict, close, exit; errors go through ``run_module``."""
    if not vsphere_client.HAS_PYVMOMI:
        module.fail_json(msg=missing_required_lib("pyvmomi"), exception=str(vsphere_client.PYVMOMI_IMPORT_ERROR))
    client = vsphere_client.VsphereClient.from_module_params(module.params)

    def action():
        try:
            client.connect()
            return body(client)
        except CollectionError:
            raise
        except Exception as error:  # an unexpected fault still gets a readable message, not a bare traceback
            raise vsphere_client.VsphereError("unexpected error talking to vCenter: %s: %s" % (type(error).__name__, error),
                                              exception=traceback.format_exc())
        finally:
            client.close()

    run_module(module, action)
