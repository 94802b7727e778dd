# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Putting back what a window's records say it changed on a node: the one entry point the window (healing an
earlier run) and ``window_recover`` both use. ``decide.undo_steps`` decides each record's steps; this runs them
through the backend, and a refusal keeps the record."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.agent import installer_state
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine import decide
from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.tap import ENGINE_MODE


class StepFailed(CollectionError):
    """A step failed; ``details`` carry what the step knew (msiexec's exit code, ...)."""


def wait_node_up(node, timeout, clock=time.time, sleep=time.sleep):
    """Read the node until the cluster shows it Up; a node still Joining or Paused after ``timeout`` fails."""
    deadline = clock() + timeout
    while True:
        view = node.read_cluster(window_records=False)
        me = [item for item in view.get("nodes") or [] if str(item["name"]).lower() == str(view["computer"]).lower()]
        if me and me[0]["state"] == "Up":
            return view
        if clock() > deadline:
            raise StepFailed("%s did not read back Up within %ss (it is %s)"
                             % (view["computer"], timeout, me[0]["state"] if me else "not in the cluster"))
        sleep(2)


class Undo(object):
    """Runs the undo steps of records on one node. ``waiting(what, limit)`` reports a long wait."""

    def __init__(self, backend, node_timeout, dsm_timeout, waiting, clock=time.time, sleep=time.sleep, dsm=True,
                 agent_confirmed=False):
        self.backend = backend
        self.node_timeout = node_timeout
        self.dsm_timeout = dsm_timeout
        self.waiting = waiting
        self.clock = clock
        self.sleep = sleep
        self.dsm = dsm
        self.agent_confirmed = agent_confirmed

    def agent_state(self, node, kind):
        """Whether an installer runs on the node (running, idle or unknown: agent.installer_state) and whether the
        agent is installed; both kinds read the same installer mutex and service."""
        if kind == "wsfc":
            agent = node.read_cluster(window_records=False).get("agent") or {}
            state = installer_state(agent)
        else:
            agent = node.agent_facts().get("agent") or {}
            state = agent.get("installer_state") or "unknown"
        return {"installer": state, "agent_installed": bool(agent.get("installed"))}

    def records(self, node, kind, records, computer):
        """Put back ``records`` (in the order decide.records_to_undo gives) on ``node``; the first refusal raises
        and the records from there on stay."""
        for record in records:
            facts = {"computer": computer}
            if record["change"] == "agent_maintenance":
                facts.update(self.agent_state(node, kind))
            steps, refusal = decide.undo_steps(record, facts, dsm=self.dsm, agent_confirmed=self.agent_confirmed)
            if refusal:
                raise CollectionError(refusal)
            for operation, arguments in steps:
                self.step(node, record, operation, arguments)

    def step(self, node, record, operation, arguments):
        window = record["window"]
        if operation == "wait_policy_applied":
            with self.waiting("the manager to show %s's policy applied" % arguments["computer"], self.dsm_timeout):
                self.backend.dsm.wait_policy_applied(arguments["computer"], self.dsm_timeout)
        elif operation == "start_service":
            node.mscs_node("started", window=window, timeout=self.node_timeout)
        elif operation == "resume":
            node.mscs_node("resumed", window=None, failback=arguments["failback"], timeout=self.node_timeout)
        elif operation == "wait_up":
            wait_node_up(node, self.node_timeout, self.clock, self.sleep)
        elif operation == "nlb_start":
            node.nlb_node("started", window=window)
        elif operation == "set_engine_mode":
            self.backend.dsm.computer_settings(computers=[arguments["computer"]],
                                               settings={ENGINE_MODE: arguments["mode"]}, wait_timeout=self.dsm_timeout)
        elif operation == "reset_engine_mode":
            # the computer had no mode of its own before the window: it follows its policy again
            self.backend.dsm.computer_settings(computers=[arguments["computer"]], reset_settings=[ENGINE_MODE],
                                               wait_timeout=self.dsm_timeout)
        elif operation == "remove_records":
            node.remove_records(window, arguments["changes"])
        else:
            raise CollectionError("unknown undo step %s" % operation)
