"""The lab's Windows nodes and Deep Security Manager in-process, with no socket: the same models the running
lab serves, wired through one world as labd wires them, and a client per node that hands each script to the
model the way the WinRM server does (marker, parameters, faults). Unit tests reach it through
tests/lab/inprocess.py."""
import copy
import os

from tests.lab.dsm.inprocess import load_topology, model_opener
from tests.lab.dsm.model import DsmModel
from tests.lab.windows.model import ScriptFailure, WindowsModel
from tests.lab.world import LabWorld


class InProcessLab(object):
    """The Windows nodes and the DSM of ``topology`` (the lab's by default), their state in ``state_dir``."""

    def __init__(self, state_dir, topology=None):
        self.topology = copy.deepcopy(topology or load_topology())
        self.world = LabWorld(self.topology, state_dir)
        os.makedirs(state_dir, exist_ok=True)
        self.windows = WindowsModel(self.world)
        self.dsm = DsmModel(self.topology, os.path.join(state_dir, "dsm-state.json"), world=self.world)
        self.world.subscribe("agent.network_driver_loaded", self.windows.on_network_driver_loaded)
        self.world.provide("windows.nlb_membership", self.windows.nlb_membership)
        self.world.subscribe("agent.activated", self.dsm.on_agent_activated)
        self.world.subscribe("agent.removed", self.dsm.on_agent_removed)
        self.world.subscribe("agent.upgraded", self.dsm.on_agent_upgraded)
        self.calls = []
        # called with (node, script, parameters) before each script, outside the lab's lock: a test can hold
        # one node's script there while other nodes answer, as real nodes do
        self.before_script = None

    def client(self, node_name):
        return NodeClient(self, node_name)

    def dsm_opener(self, calls=None):
        return model_opener(self.dsm, calls)


class NodeClient(object):
    """What WinRMClient offers the services (``run``), answered by the Windows model."""

    def __init__(self, lab, node_name):
        self.lab = lab
        self.host = node_name
        self.params = {"hostname": node_name}

    def run(self, name, body, params=None, timeout=None, stdin_params=None):
        from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import ScriptError
        arguments = dict(params or {})
        arguments.update(stdin_params or {})
        if self.lab.before_script is not None:
            self.lab.before_script(self.host, name, arguments)
        model = self.lab.windows
        with self.lab.world.lock:
            self.lab.calls.append((self.host, name, arguments))
            model.count(self.host, "create", name)
            if model.take_fault("script_error_next", self.host, name):
                raise ScriptError("script %s failed on %s (exit code 1): Access is denied. (simulated fault)"
                                  % (name, self.host), host=self.host, script=name, exit_code=1)
            try:
                return copy.deepcopy(model.execute(self.host, name, arguments, script="# clustersafe:%s\n%s" % (name, body)))
            except ScriptFailure as error:
                raise ScriptError("script %s failed on %s (exit code 1): %s" % (name, self.host, error),
                                  host=self.host, script=name, exit_code=1)
