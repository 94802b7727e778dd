# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The window engine's I/O: the Windows nodes over WinRM, the Deep Security Manager's REST API and vCenter,
through the collection's services in module_utils, the same code the modules run. Records and leases are
written only by those services, in one shape per change kind.

One object per system; ``Backend`` hands them out. Each node's client is used by one thread at a time (the
thread of its unit); the manager gets a client per caller, so one unit's long wait does not hold another's
request; vCenter is one session behind a lock.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import threading
from contextlib import ExitStack, contextmanager

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service as dsm_service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import DsmClient, dsm_argument_spec
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.firewall import FIELDS, argument_spec_fields
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    CollectionError,
    NotFoundError,
    ParameterError,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import lease as winrm_lease
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import records as winrm_records
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service as winrm_service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import WinRMClient


def controller_name():
    """This controller, as records and leases name it: its host name, cut to what a record accepts."""
    name = "".join(char for char in socket.gethostname().split(".", 1)[0] if char.isalnum() or char in "-_")
    return (name or "controller")[:63]


def validated(spec, params, what):
    """``params`` checked against a module's argument spec (defaults and environment fallbacks applied), the
    way the module would take them; a refusal names ``what``."""
    result = ArgumentSpecValidator(spec).validate(dict((key, value) for key, value in params.items()
                                                       if key in spec and value is not None))
    if result.error_messages:
        raise ParameterError("%s: %s" % (what, "; ".join(result.error_messages)))
    return result.validated_parameters


class NodeIO(object):
    """One Windows node (failover-cluster node or NLB host)."""

    def __init__(self, host, params, sources, controller, client=None):
        self.host = host
        self.sources = sources
        self.controller = controller
        self.client = client if client is not None else WinRMClient(params)
        self._held = None

    @contextmanager
    def session(self):
        """The scripts run inside the block share one shell (WinRMClient.session): one logon and one
        powershell.exe host on the node for a whole step of the window, instead of one per script."""
        opener = getattr(self.client, "session", None)
        if opener is None:
            yield self
            return
        with opener():
            yield self

    def hold_session(self):
        """A session kept open until ``release_session`` (the lease's heartbeats, many over a window)."""
        if self._held is None:
            self._held = ExitStack()
            self._held.enter_context(self.session())

    def release_session(self):
        held, self._held = self._held, None
        if held is not None:
            try:
                held.close()
            except CollectionError:
                pass

    # reads
    def read_cluster(self, window_records=True):
        return winrm_service.mscs_cluster_info(self.client, window_records=window_records)

    def read_nlb(self):
        return winrm_service.nlb_cluster_info(self.client)

    def read_records(self):
        found, _warnings = winrm_records.read_records(self.client)
        return found

    def read_all_records(self):
        """(records, untrusted records): the second are those the node holds but the collection would not have
        written (winrm/records.py validate_record); they are never acted on."""
        found, invalid, _warnings = winrm_records.read_all_records(self.client)
        return found, invalid

    def agent_facts(self):
        return winrm_service.agent_info_facts(self.client)

    def agent_plan(self, desired):
        """What ds_agent would change (check mode); a refusal comes back as ``{"failed": True, "msg", "rule"}``."""
        try:
            return winrm_service.ds_agent(self.client, dict(desired, allow_running_cluster_service=True),
                                          check_mode=True, install_timeout=desired.get("install_timeout") or 1800)
        except CollectionError as error:
            return {"failed": True, "msg": error.message, "rule": error.details.get("rule")}

    # changes, each recorded on the node first by the service (invariant 7)
    def mscs_node(self, state, window=None, failback="none", timeout=300):
        return winrm_service.mscs_node(self.client, state, failback=failback, timeout=int(timeout), window=window,
                                       controller=self.controller if window else "")

    def nlb_node(self, state, window=None, drain_timeout=10):
        return winrm_service.nlb_node(self.client, state, drain_timeout=int(drain_timeout), window=window,
                                      controller=self.controller if window else "")

    def agent(self, desired, window, install_timeout):
        return winrm_service.ds_agent(self.client, dict(desired), install_timeout=int(install_timeout), window=window,
                                      controller=self.controller)

    def write_record(self, window, change, data):
        return winrm_records.node_window_record(self.client, "present", window, change=change, data=data,
                                                controller=self.controller)

    def remove_records(self, window, changes):
        return winrm_service.remove_records(self.client, window, changes)

    def lease(self, action, expected="", fields=None, ttl=0):
        return winrm_lease.lease(self.client, action, expected=expected, lease_fields=fields, ttl=ttl)


class DsmIO(object):
    """The Deep Security Manager; a new REST client per call, so waits in several threads do not queue."""

    def __init__(self, params, opener=None, sleep=None):
        self.params = params
        self._opener = opener
        self._sleep = sleep

    def client(self):
        p = self.params
        extra = {}
        if self._opener is not None:
            extra.update(opener=self._opener)
        if self._sleep is not None:
            extra.update(sleep=self._sleep)
        return DsmClient(p["dsm_url"], p["api_key"], validate_certs=p["validate_certs"], ca_path=p.get("ca_path"),
                         timeout=p["timeout"], max_retries=p["max_retries"], retry_backoff=p["retry_backoff"],
                         allow_http=p.get("allow_http") or False, api_key_type=p.get("api_key_type") or "auto", **extra)

    def computers(self, host_names=None):
        return dsm_service.computer_info(self.client(), host_names)["computers"]

    def wait_policy_applied(self, computer, timeout, since_policy_success=None):
        """Until the manager shows the computer active with a policy sent after the last request and, given the
        send read before the change (``policy_success``), later than that one: the manager's clock only."""
        return dsm_service.computer_info(self.client(), [computer], wait_for="policy_applied", wait_timeout=int(timeout),
                                         since_policy_success=since_policy_success)["computers"][0]

    def policy_success(self, computer):
        """The computer's last successful policy send as the manager shows it (None: not known to it yet, or never
        sent), read before a change so the wait after it needs a later one."""
        try:
            found = dsm_service.computer_info(self.client(), [computer])["computers"][0]
        except NotFoundError:
            return None
        return found.get("last_send_policy_success")

    def policy_blockers(self, policy_id, cluster_kind):
        """What in the activation policy refuses a window before any change (dsm/policy.py
        policy_window_blockers: a policy that loads no network driver, MS-02; the failover-cluster heartbeat
        not let through, MS-04), read with its parents and its rules in effect."""
        found = dsm_service.policy_info(self.client(), ids=[int(policy_id)], cluster_kind=cluster_kind)
        return found["policies"][0]["window_blockers"]

    def policy_id(self, name):
        return dsm_service.policy_info(self.client(), [name])["policies"][0]["id"]

    def computer_settings(self, computers=None, policy=None, settings=None, modules=None, wait_timeout=600,
                          check_mode=False, reset_settings=None):
        return dsm_service.computer_settings(self.client(), computers=computers, policy=policy, settings=settings,
                                             modules=modules, check_mode=check_mode, wait=not check_mode and bool(computers),
                                             wait_timeout=int(wait_timeout), reset_settings=reset_settings)

    def setting(self, computer, name):
        """One setting of a computer: ``{"value": in effect, "own": whether the computer sets it itself}``."""
        found = dsm_service.computer_info(self.client(), [computer], settings=[name])["computers"][0]
        return found["settings"][name]

    def firewall_rule(self, spec):
        options = validated(dict(argument_spec_fields(), name=dict(type="str", required=True)), spec,
                            "NLB exclusion rule %s" % spec.get("name"))
        return dsm_service.firewall_rule(self.client(), dict((field, options.get(field)) for field in list(FIELDS) + ["name"]
                                                             if field in options))

    def assign_rules(self, rules, computers=None, policy=None):
        return dsm_service.firewall_assignment(self.client(), rules, computers=computers, policy=policy)


class VcenterIO(object):
    """vCenter: one session for the window, behind a lock (DRS holds and reads are short)."""

    def __init__(self, params, controller):
        self.params = params
        self.controller = controller
        self._client = None
        self._lock = threading.Lock()

    def _connected(self):
        from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.client import VsphereClient
        if self._client is None:
            client = VsphereClient.from_module_params(self.params)
            client.connect()
            self._client = client
        return self._client

    def _call(self, what, work):
        """``work(client)`` on the window's session; a session vCenter dropped meanwhile (a window can last hours,
        vCenter's sessions expire) is logged in again once. Any other failure is one CollectionError."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    return work(self._connected())
                except CollectionError:
                    raise
                except Exception as error:  # noqa: BLE001 - pyVmomi faults, a dropped connection
                    # pyVmomi names its faults by their full type (vim.fault.NotAuthenticated)
                    kind = type(error).__name__.rsplit(".", 1)[-1]
                    if attempt == 1 and kind in ("NotAuthenticated", "ConnectionError", "RemoteDisconnected",
                                                 "BrokenPipeError"):
                        self._drop()
                        continue
                    raise CollectionError("vCenter failed to %s: %s: %s"
                                          % (what, type(error).__name__, getattr(error, "msg", None) or error))

    def _drop(self):
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001 - the session is gone already
                pass
            self._client = None

    def read(self, clusters=None):
        from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.inventory import select_clusters
        from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.service import gather

        def work(client):
            snapshot = gather(client)
            return {"clusters": select_clusters(snapshot.inventory, list(clusters or []), None, snapshot.datacenters)}
        return self._call("read the clusters", work)

    def drs(self, cluster, window, state, original_level=None, lease_seconds=0, run_id=None, end_lease=False):
        """Hold (``manual``) or give back (``restored``) one cluster's DRS. A hold carries the run's lease on the
        cluster (``lease_seconds`` ahead by vCenter's clock; holding again renews it). A restore passes the level
        this run saved when it held the cluster: the controller's own copy wins over the record on the cluster (a
        record anyone with Global.SetCustomField could have changed meanwhile). ``end_lease`` ends the run's lease
        and leaves DRS held (a window that could not give it back)."""
        from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.drs_window_service import drs_window
        what = "end the lease on" if end_lease else "hold" if state == "manual" else "give back"
        return self._call("%s DRS of %s" % (what, cluster),
                          lambda client: drs_window(client, dict(cluster=cluster, window=window, state=state,
                                                                 datacenter=None, owner=None,
                                                                 username=self.params["username"], force=False,
                                                                 original_level=original_level,
                                                                 lease_seconds=lease_seconds, run_id=run_id,
                                                                 end_lease=end_lease)))

    def close(self):
        with self._lock:
            self._drop()


class Backend(object):
    """Hands the engine one object per system. ``node_params(host)`` -> (WinRM parameters, their sources)."""

    def __init__(self, node_params, dsm_params=None, vsphere_params=None, controller=None, clients=None,
                 dsm_opener=None, dsm_sleep=None, vcenter=None):
        """``clients(host)``, ``dsm_opener`` and ``vcenter`` stand in for the networked systems (the in-process
        lab of the unit tests); without them every node, the manager and vCenter are reached over the network."""
        self._node_params = node_params
        self._clients = clients
        self._dsm_opener = dsm_opener
        self._dsm_sleep = dsm_sleep
        self.controller = controller or controller_name()
        self._nodes = {}
        self._lease_nodes = {}
        self._lock = threading.Lock()
        self._dsm_params = dsm_params
        self._vsphere_params = vsphere_params
        self._vcenter = vcenter

    def node(self, host):
        return self._node(host, self._nodes)

    def lease_node(self, host):
        """A second connection to ``host`` for the lease's heartbeat, which runs beside the unit's own work."""
        return self._node(host, self._lease_nodes)

    def _node(self, host, cache):
        with self._lock:
            if host not in cache:
                params, sources = self._node_params(host)
                client = self._clients(host) if self._clients is not None else None
                cache[host] = NodeIO(host, params, sources, self.controller, client=client)
            return cache[host]

    @property
    def dsm(self):
        if self._dsm_params is None:
            raise ParameterError("the window needs the Deep Security Manager: set DSM_URL and DSM_API_KEY (or "
                                 "module_defaults for group/clustersafe.deep_security.dsm)")
        return DsmIO(validated(dsm_argument_spec(), self._dsm_params, "the Deep Security Manager's settings"),
                     opener=self._dsm_opener, sleep=self._dsm_sleep)

    @property
    def vcenter(self):
        with self._lock:
            if self._vcenter is None:
                if self._vsphere_params is None:
                    raise ParameterError("the window needs vCenter: set VMWARE_HOST, VMWARE_USER and VMWARE_PASSWORD (or "
                                         "module_defaults for group/clustersafe.deep_security.vsphere)")
                from ansible_collections.clustersafe.deep_security.plugins.module_utils.vsphere.client import (
                    vsphere_argument_spec)
                self._vcenter = VcenterIO(validated(vsphere_argument_spec(), self._vsphere_params, "vCenter's settings"),
                                          self.controller)
            return self._vcenter

    @staticmethod
    def fetch_json(url, timeout=30):
        """A JSON document over HTTP(S) (the lab's status, where the lab counts the farm's firewall events)."""
        from ansible.module_utils.urls import open_url
        try:
            return json.loads(open_url(url, timeout=timeout).read())
        except Exception as error:  # noqa: BLE001 - any failure to read it is one message
            raise CollectionError("could not read %s: %s" % (url, error))

    def close(self):
        if self._vcenter is not None:
            self._vcenter.close()
