# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vCenter client: connect, take one property snapshot of the inventory, run and wait for tasks,
read and write custom attributes.

It raises the typed errors below and never calls ``fail_json``, so the services take it as a plain object
and the unit tests replace it with a fake (tests/unit/plugins/module_utils/vsphere).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import os
import socket
import ssl
import time

from ansible.module_utils.basic import env_fallback

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    CollectionError,
    ParameterError,
    WaitTimeoutError,
)

try:
    from pyVim.connect import SmartStubAdapter
    from pyVmomi import vim, vmodl

    HAS_PYVMOMI = True
    PYVMOMI_IMPORT_ERROR = None
except ImportError as import_error:  # pragma: no cover - exercised only without pyvmomi
    HAS_PYVMOMI = False
    PYVMOMI_IMPORT_ERROR = import_error


class VsphereError(CollectionError):
    """Any failure talking to vCenter."""


class VsphereAuthError(VsphereError):
    """vCenter refused the user name or password."""


class VsphereUnreachableError(VsphereError):
    """vCenter could not be reached at all (DNS, refused, timeout)."""


class VsphereTLSError(VsphereError):
    """The TLS handshake failed, usually an untrusted or mismatched certificate."""


class VsphereTaskError(VsphereError):
    """A vCenter task ended in error; the message is the task's own error text."""


def vsphere_argument_spec():
    """Connection options shared by every vSphere module (see doc fragment ``vsphere``)."""
    return dict(
        hostname=dict(type="str", required=True, fallback=(env_fallback, ["VMWARE_HOST"])),
        username=dict(type="str", required=True, aliases=["user"], fallback=(env_fallback, ["VMWARE_USER"])),
        password=dict(type="str", required=True, aliases=["pass", "pwd"], no_log=True,
                      fallback=(env_fallback, ["VMWARE_PASSWORD"])),
        port=dict(type="int", default=443, fallback=(env_fallback, ["VMWARE_PORT"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["VMWARE_VALIDATE_CERTS"])),
        ca_path=dict(type="path"),
    )


def connection_warnings(params):
    """Warnings every vSphere module gives about its connection settings."""
    warnings = []
    if not params.get("validate_certs", True):
        warnings.append("validate_certs=false: the vCenter certificate is not checked, so anyone on the path can "
                        "read the password and change what this module sees; give ca_path instead")
        if params.get("ca_path"):
            warnings.append("ca_path is ignored because validate_certs=false")
    return warnings


def check_connection_params(params):
    """Refuse a port or CA file that cannot work, before anything is sent."""
    port = params.get("port")
    if port is None or not 1 <= int(port) <= 65535:
        raise ParameterError("parameter port must be a TCP port between 1 and 65535, not %r "
                             "(or set VMWARE_PORT)" % (port,))
    ca_path = params.get("ca_path")
    if ca_path and not os.path.isfile(ca_path):
        raise ParameterError("parameter ca_path: %r is not a readable file; give the PEM file of the CA that "
                             "signed the vCenter certificate" % ca_path)


def _fault_text(fault):
    """The human text of a vmodl fault or task error, as the vSphere client would show it."""
    message = getattr(fault, "msg", None) or getattr(fault, "localizedMessage", None)
    if not message:
        for item in getattr(fault, "faultMessage", None) or []:
            message = getattr(item, "message", None)
            if message:
                break
    return message or type(fault).__name__


def _is_tls_failure(error):
    if isinstance(error, ssl.SSLError):
        return True
    cause = getattr(error, "__cause__", None) or getattr(error, "__context__", None)
    return isinstance(cause, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(error)


class VsphereClient(object):
    """One logged-in vCenter session."""

    TASK_POLL_SECONDS = 0.2

    def __init__(self, hostname, username, password, port=443, validate_certs=True, connect_timeout=30,
                 ca_path=None):
        self.hostname = hostname
        self.ca_path = ca_path
        self.port = port
        self.username = username
        self._password = password
        self.validate_certs = validate_certs
        self.connect_timeout = connect_timeout
        self.si = None
        self.content = None

    @classmethod
    def from_module_params(cls, params):
        check_connection_params(params)
        return cls(params["hostname"], params["username"], params["password"], params["port"],
                   params["validate_certs"], ca_path=params.get("ca_path"))

    # -- session -------------------------------------------------------------------------------
    def connect(self):
        where = "%s:%s" % (self.hostname, self.port)
        if self.validate_certs:
            context = ssl.create_default_context(cafile=self.ca_path or None)
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            # SmartConnect would fetch the service content three times; one fetch and one login suffice.
            stub = SmartStubAdapter(host=self.hostname, port=self.port, sslContext=context,
                                    httpConnectionTimeout=self.connect_timeout)
            service_instance = vim.ServiceInstance("ServiceInstance", stub)
            content = service_instance.RetrieveContent()
            content.sessionManager.Login(self.username, self._password, None)
        except vim.fault.InvalidLogin:
            raise VsphereAuthError(
                "vCenter %s refused the login of %r: check username and password "
                "(parameters username/password or VMWARE_USER/VMWARE_PASSWORD)" % (where, self.username))
        except vmodl.MethodFault as fault:
            raise VsphereError("vCenter %s refused the session: %s" % (where, _fault_text(fault)))
        except Exception as error:  # the socket and TLS layers raise many unrelated types
            if _is_tls_failure(error):
                raise VsphereTLSError(
                    "TLS certificate of vCenter %s could not be verified (%s): install the vCenter's CA "
                    "certificate on the controller, or give its PEM file in ca_path (or point SSL_CERT_FILE at it); "
                    "validate_certs=false only on a lab" % (where, error))
            if isinstance(error, (socket.error, OSError)) or "Connection" in type(error).__name__:
                raise VsphereUnreachableError(
                    "cannot reach vCenter %s: %s; check hostname, port and that the controller can reach it"
                    % (where, error))
            raise VsphereError("cannot connect to vCenter %s: %s" % (where, error))
        self.si = service_instance
        self.content = content
        return self

    def close(self):
        if self.si is not None:
            try:
                # Disconnect() would fetch the service content again just to find the session manager.
                self.content.sessionManager.Logout()
            except Exception:  # a dropped session cannot be logged out; nothing is left to clean up
                pass
            self.si = None

    def __enter__(self):
        return self.connect()

    def __exit__(self, *exc_info):
        self.close()

    # -- one-pass snapshot -------------------------------------------------------------------------
    def snapshot(self, properties_by_type, extra_objects=()):
        """Fetch ``properties_by_type`` ({vim type: [property path, ...]}) for every object of those
        types under the root folder, plus ``extra_objects`` ([(managed object, [paths])]), in one
        property-collector pass (paged when vCenter hands back a token).

        Returns {moid: {"_type": type name, "_ref": managed object, path: value, ...}}.
        """
        collector = self.content.propertyCollector
        view = self.content.viewManager.CreateContainerView(self.content.rootFolder,
                                                            list(properties_by_type), True)
        try:
            traverse = vmodl.query.PropertyCollector.TraversalSpec(
                name="view", path="view", skip=False, type=vim.view.ContainerView)
            object_specs = [vmodl.query.PropertyCollector.ObjectSpec(obj=view, skip=True, selectSet=[traverse])]
            prop_specs = [vmodl.query.PropertyCollector.PropertySpec(type=kind, pathSet=list(paths))
                          for kind, paths in properties_by_type.items()]
            for obj, paths in extra_objects:
                object_specs.append(vmodl.query.PropertyCollector.ObjectSpec(obj=obj, skip=False))
                prop_specs.append(vmodl.query.PropertyCollector.PropertySpec(type=type(obj), pathSet=list(paths)))
            filter_spec = vmodl.query.PropertyCollector.FilterSpec(objectSet=object_specs, propSet=prop_specs)
            result = collector.RetrievePropertiesEx([filter_spec], vmodl.query.PropertyCollector.RetrieveOptions())
            objects = {}
            while result is not None:
                for item in result.objects or []:
                    record = objects.setdefault(item.obj._moId, {"_type": type(item.obj).__name__, "_ref": item.obj})
                    for prop in item.propSet or []:
                        record[prop.name] = prop.val
                token = getattr(result, "token", None)
                result = collector.ContinueRetrievePropertiesEx(token) if token else None
            return objects
        except vmodl.MethodFault as fault:
            raise VsphereError("vCenter property query failed: %s" % _fault_text(fault))
        finally:
            try:
                view.DestroyView()
            except Exception:  # a lost session also loses the view; nothing to clean up
                pass

    # -- tasks ----------------------------------------------------------------------------------------
    def wait_for_task(self, task, action, wait_seconds=600):
        """Wait (bounded) for ``task``; return its result or raise with the task's own error text.

        A task that is still running after ``wait_seconds`` raises WaitTimeoutError: vCenter may still
        finish it, so callers must not undo anything on that error (see apply_window_plan)."""
        deadline = time.time() + wait_seconds
        while True:
            info = task.info
            if info.state == vim.TaskInfo.State.success:
                return info.result
            if info.state == vim.TaskInfo.State.error:
                raise VsphereTaskError("vCenter task %s failed: %s" % (action, _fault_text(info.error)),
                                       task=task._moId)
            if time.time() > deadline:
                raise WaitTimeoutError("vCenter task %s still running after %ss (task %s); it may still finish"
                                       % (action, wait_seconds, task._moId), task=task._moId)
            time.sleep(self.TASK_POLL_SECONDS)

    def run_task(self, action, method, *args, **kwargs):
        """Start a vCenter task with ``method(*args, **kwargs)`` and wait for it.

        The wait limit is ``wait_seconds``, never ``timeout``: several vCenter methods have an argument
        of that name of their own (EnterMaintenanceMode_Task and ExitMaintenanceMode_Task require it,
        pyVmomi type info: vim.HostSystem.EnterMaintenanceMode, param ``timeout`` without F_OPTIONAL),
        and it must reach vCenter untouched."""
        wait_seconds = kwargs.pop("wait_seconds", 600)
        try:
            task = method(*args, **kwargs)
        except vmodl.MethodFault as fault:
            raise VsphereTaskError("vCenter refused %s: %s" % (action, _fault_text(fault)))
        return self.wait_for_task(task, action, wait_seconds=wait_seconds)

    def shut_down_vm(self, vm_ref, name, wait_seconds=600):
        """Stop a VM, gently where vCenter allows it, and wait (bounded) until it is powered off.

        ``ShutdownGuest`` asks the guest OS through VMware Tools (vim.VirtualMachine.ShutdownGuest, not a
        task) and fails with ``vim.fault.ToolsUnavailable`` when Tools are not running; only then is the VM
        powered off (PowerOffVM_Task). A guest that does not stop within ``wait_seconds`` is reported, never
        powered off by force."""
        try:
            vm_ref.ShutdownGuest()
        except vim.fault.ToolsUnavailable:
            self.run_task("powering off %s (VMware Tools not running)" % name, vm_ref.PowerOffVM_Task,
                          wait_seconds=wait_seconds)
            return
        except vmodl.MethodFault as fault:
            raise VsphereTaskError("vCenter refused the guest shutdown of %s: %s" % (name, _fault_text(fault)))
        deadline = time.time() + wait_seconds
        while vm_ref.runtime.powerState != vim.VirtualMachinePowerState.poweredOff:
            if time.time() > deadline:
                raise WaitTimeoutError("the guest of %s was asked to shut down and is still running after %ss"
                                       % (name, wait_seconds))
            time.sleep(self.TASK_POLL_SECONDS)

    def check_relocate(self, vm_ref, host_ref, action):
        """vCenter's own verdict on moving ``vm_ref`` to ``host_ref`` (vim.vm.check.ProvisioningChecker.
        CheckRelocate_Task, all tests: storage and networks reachable from the target, host state, DRS and
        HA constraints). Returns the error texts; an empty list means vCenter sees no obstacle."""
        checker = getattr(self.content, "vmProvisioningChecker", None)
        if checker is None:
            raise VsphereError("%s: this server offers no VM provisioning checker (vim.vm.check.ProvisioningChecker); "
                               "connect to vCenter, not to an ESXi host" % action)
        spec = vim.vm.RelocateSpec(host=host_ref)
        results = self.run_task(action, checker.CheckRelocate_Task, vm=vm_ref, spec=spec) or []
        errors = []
        for result in results:
            for fault in getattr(result, "error", None) or []:
                errors.append(_fault_text(fault))
        return errors

    # -- custom attributes ----------------------------------------------------------------------------
    def custom_field_key(self, name, managed_type, create=False, known=None, policy=None, definition_policy=None):
        """Key of the custom attribute ``name`` defined for ``managed_type`` (or for every type); created
        on request, with the privilege policies ``policy`` (of its values: fieldPolicy) and
        ``definition_policy`` (of the definition: fieldDefPolicy), each {createPrivilege, readPrivilege,
        updatePrivilege, deletePrivilege} (vim.PrivilegePolicyDef).

        Names are unique per managed-object type only (vim.CustomFieldsManager.AddCustomFieldDef takes
        ``moType``), so a same-named attribute of another type is never taken: SetField on it fails.
        ``known`` ({key: (name, type name or None)}, from a snapshot) spares a round trip."""
        manager = self.content.customFieldsManager
        wanted = type_name(managed_type)
        if known is not None:
            candidates = [(key, item[0], item[1]) for key, item in known.items()]
        else:
            candidates = [(field.key, field.name, type_name(field.managedObjectType)) for field in manager.field or []]
        key = _field_for(candidates, name, wanted)
        if key is not None or not create:
            return key
        policies = {}
        if policy:
            policies["fieldPolicy"] = vim.PrivilegePolicyDef(**policy)
        if definition_policy:
            policies["fieldDefPolicy"] = vim.PrivilegePolicyDef(**definition_policy)
        try:
            return manager.AddCustomFieldDef(name=name, moType=managed_type, **policies).key
        except vim.fault.DuplicateName:
            # another controller created it between our read and our write
            key = _field_for([(field.key, field.name, type_name(field.managedObjectType))
                              for field in manager.field or []], name, wanted)
            if key is None:
                raise VsphereError("cannot create custom attribute %s for %s: vCenter reports the name as taken by "
                                   "an attribute of another object type; rename or remove that attribute"
                                   % (name, wanted))
            return key
        except vmodl.MethodFault as fault:
            raise VsphereError("cannot create custom attribute %s: %s" % (name, _fault_text(fault)))

    def set_custom_value(self, entity, name, value):
        """Write the custom attribute ``name`` on ``entity`` through ExtensibleManagedObject.setCustomValue,
        the call that "requires whichever updatePrivilege is defined as one of the
        CustomFieldDef.fieldInstancePrivileges" of the attribute (vSphere Web Services API reference), so the
        attribute's policy applies to the collection's own writes too."""
        try:
            entity.setCustomValue(key=name, value=value)
        except vim.fault.NoPermission as fault:
            raise VsphereError("cannot write custom attribute %s on %s: the vCenter account lacks %s, the privilege "
                               "the attribute's policy asks of its writers (docs/vsphere.md, 'vCenter privileges each module needs')"
                               % (name, entity.name, getattr(fault, "privilegeId", None) or "a privilege"))
        except vmodl.MethodFault as fault:
            raise VsphereError("cannot write custom attribute %s on %s: %s" % (name, entity.name, _fault_text(fault)))

    def server_time(self):
        """vCenter's own clock (vim.ServiceInstance.CurrentTime), an aware datetime: leases on a cluster are judged
        by it, never by a controller's clock."""
        try:
            moment = self.si.CurrentTime()
        except vmodl.MethodFault as fault:
            raise VsphereError("cannot read vCenter's time: %s" % _fault_text(fault))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return moment

    def session_user(self):
        """The user name vCenter reports for this session (vim.UserSession.userName): the name its events carry
        in Event.userName, which may be spelled otherwise than the login (DOMAIN\\user for user@domain)."""
        try:
            session = self.content.sessionManager.currentSession
        except vmodl.MethodFault as fault:
            raise VsphereError("cannot read this vCenter session: %s" % _fault_text(fault))
        if session is None or not getattr(session, "userName", None):
            raise VsphereError("vCenter reports no user for this session")
        return session.userName

    def query_events(self, entity, event_types, begin_time, max_count=1000):
        """vCenter's events of ``event_types`` (vim.event type names) about ``entity`` and everything below it
        since ``begin_time``, as plain data; and whether the answer may be cut off (``max_count`` returned).
        EventManager.QueryEvents with an EventFilterSpec by entity (recursion all), type and time; the time is
        checked here again, since servers differ in which parts of the filter they apply."""
        spec = vim.event.EventFilterSpec(
            entity=vim.event.EventFilterSpec.ByEntity(entity=entity, recursion="all"),
            eventTypeId=list(event_types), time=vim.event.EventFilterSpec.ByTime(beginTime=begin_time),
            maxCount=max_count)
        try:
            events = self.content.eventManager.QueryEvents(spec) or []
        except vmodl.MethodFault as fault:
            raise VsphereError("cannot read vCenter's events of %s: %s" % (getattr(entity, "name", entity), _fault_text(fault)))
        facts = [event_facts(event) for event in events]
        return [fact for fact in facts if fact["type"] in event_types and fact["created"] is not None
                and fact["created"] >= begin_time], len(events) >= max_count

    def power_on(self, vm_ref, host_ref, name, host_name, wait_seconds=600):
        """Power the VM on *on* ``host_ref``: without ``host``, PowerOnVM_Task in a DRS cluster lets DRS place a
        VM it may place (vSphere API reference: "DRS will be invoked if the virtual machine can be
        automatically placed by DRS"). Raises when vCenter powered it on elsewhere all the same."""
        self.run_task("powering on %s on %s" % (name, host_name), vm_ref.PowerOnVM_Task, host=host_ref,
                      wait_seconds=wait_seconds)
        where = vm_ref.runtime.host
        if getattr(where, "_moId", None) != host_ref._moId:
            raise VsphereTaskError("vCenter powered %s on on %s, not on %s as asked" % (
                name, getattr(where, "name", getattr(where, "_moId", "another host")), host_name))

    def wait_for_tools(self, vm_ref, name, wait_seconds=600):
        """Wait (bounded) until VMware Tools run in the VM's guest (guest.toolsRunningStatus guestToolsRunning,
        vim.vm.GuestInfo.ToolsRunningStatus)."""
        deadline = time.time() + wait_seconds
        while True:
            status = getattr(vm_ref.guest, "toolsRunningStatus", None)
            if status == "guestToolsRunning":
                return
            if time.time() > deadline:
                raise WaitTimeoutError("VMware Tools do not run in %s after %ss (%s)" % (name, wait_seconds, status))
            time.sleep(self.TASK_POLL_SECONDS)

    def read_custom_value(self, entity, key):
        """The entity's current value for ``key`` ("" when unset), read fresh from vCenter."""
        try:
            for item in entity.customValue or []:
                if item.key == key:
                    return getattr(item, "value", "") or ""
        except vmodl.MethodFault as fault:
            raise VsphereError("cannot read custom attributes of %s: %s" % (entity.name, _fault_text(fault)))
        return ""


def _moid_of(argument, field):
    ref = getattr(argument, field, None) if argument is not None else None
    return getattr(ref, "_moId", None)


def event_facts(event):
    """A vim.event.Event as plain data: its type name, key, time, user and the objects it names."""
    return {
        "type": type(event).__name__.split(".")[-1],
        "key": getattr(event, "key", None),
        "created": getattr(event, "createdTime", None),
        "user": getattr(event, "userName", None) or "",
        "host": _moid_of(getattr(event, "host", None), "host"),
        "vm": _moid_of(getattr(event, "vm", None), "vm"),
        "cluster": _moid_of(getattr(event, "computeResource", None), "computeResource"),
        "source_host": _moid_of(getattr(event, "sourceHost", None), "host"),
    }


def type_name(managed_type):
    """'ClusterComputeResource' for vim.ClusterComputeResource, its name, or None (every type)."""
    if managed_type is None or managed_type == "":
        return None
    name = getattr(managed_type, "_wsdlName", None) or getattr(managed_type, "__name__", None) or str(managed_type)
    return name.split(".")[-1]


def _field_for(candidates, name, wanted):
    """The key of the attribute ``name`` of type ``wanted``; a global one (no type) only when none is typed."""
    typed = [key for key, field_name, field_type in candidates if field_name == name and field_type == wanted]
    if typed:
        return typed[0]
    untyped = [key for key, field_name, field_type in candidates if field_name == name and field_type is None]
    return untyped[0] if untyped else None
