"""Ownership, as a stateful property: Hypothesis drives windows from two controllers (alone or at once),
recover (with or without a take-over), an administrator's pauses and stops, an installer that runs on a node,
leases that expire, and controllers killed at any moment, over the in-process lab. After every step:

- never two nodes of the failover cluster out of service by windows at once (their records say which);
- never a node resumed that no window's record says a window paused, never a cluster service started that no
  record says a window stopped: what the administrator took out stays out;
- never a cluster service started while an installer runs on the node, nor by a run that does not hold the
  cluster's lease;
- every node a window reports failed and not put back carries its records.
"""
import json
import tempfile
import threading
from pathlib import Path

from engine_lab import SQL, Crash, VcenterModel, new_lab, records, run_recover, run_window, status, wsfc_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

CONTROLLERS = ("controller-a", "controller-b")


class Ownership(RuleBasedStateMachine):
    def __init__(self):
        super(Ownership, self).__init__()
        self.lab = new_lab(Path(tempfile.mkdtemp(prefix="ownership-")))
        self.vcenter = VcenterModel(self.lab.topology)
        self.violations = []
        self.admin_paused = set()
        self.admin_stopped = set()
        self.crashed_runs = []
        self.installer = set()
        self._watch()

    # --- what the lab sees ---------------------------------------------------------------------------

    def _records(self, node):
        return set(record["change"] for record in self.lab.windows.window_records_status()[node])

    def _lease_controller(self):
        text = self.lab.windows.state["nodes"]["SQL-NODE1"].get("registry_lease") or ""
        return json.loads(text)["controller"] if text else None

    def _watch(self):
        lab = self.lab
        original = lab.windows.script_mscs_node
        machine = self

        def mscs_node(node, params):
            name = node["name"]
            action = params.get("action")
            held = machine._records(name)
            caller = getattr(lab.caller, "controller", None)
            if action in ("start", "resume") and machine._lease_controller() != caller:
                machine.violations.append("%s %s %s while the cluster's lease is %s's" % (
                    caller, "started" if action == "start" else "resumed", name, machine._lease_controller()))
            if action == "resume" and "node_drained" not in held:
                machine.violations.append("resumed %s, which no window's record says a window paused" % name)
            if action == "start":
                if "cluster_service_stopped" not in held:
                    machine.violations.append("started the cluster service of %s, which no window stopped" % name)
                if name in machine.installer:
                    machine.violations.append("started the cluster service of %s while an installer runs" % name)
            answer = original(node, params)
            out = [other for other in SQL if machine._records(other) & {"node_drained", "cluster_service_stopped"}]
            if len(out) > 1:
                machine.violations.append("two nodes out by windows at once: %s" % out)
            return answer
        lab.windows.script_mscs_node = mscs_node

    # --- rules ----------------------------------------------------------------------------------------

    def _window(self, controller, crash_after, window):
        try:
            result, _engine = run_window(self.lab, self.vcenter, settings=wsfc_settings(window=window),
                                         controller=controller, crash_after=crash_after)
        except Crash:
            text = self.lab.windows.state["nodes"]["SQL-NODE1"].get("registry_lease") or ""
            if text:
                self.crashed_runs.append(json.loads(text)["run"])
            return None
        kept = ("in service", "as found (out of service by someone else)",
                "to the run that took the lease over (this run touched nothing more)")
        for report in result["reports"].values():
            for failed in report["failed_nodes"]:
                if failed["left"] not in kept and not failed.get("put_back_error") and failed["step"] != "drain":
                    if not records(self.lab).get(failed["node"]):
                        self.violations.append("%s failed at %s, left %s, without a record" % (
                            failed["node"], failed["step"], failed["left"]))
        return result

    @rule(controller=st.sampled_from(CONTROLLERS), crash_after=st.one_of(st.none(), st.integers(1, 70)),
          window=st.sampled_from(["CHG-1", "CHG-2"]))
    def a_window(self, controller, crash_after, window):
        self._window(controller, crash_after, window)

    @rule(crash_after=st.one_of(st.none(), st.integers(5, 70)))
    def two_windows_at_once(self, crash_after):
        threads = [threading.Thread(target=self._window, args=(CONTROLLERS[0], crash_after, "CHG-1")),
                   threading.Thread(target=self._window, args=(CONTROLLERS[1], None, "CHG-2"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

    @rule(take_over=st.booleans())
    def recover(self, take_over):
        run = self.crashed_runs[-1] if take_over and self.crashed_runs else ""
        run_recover(self.lab, self.vcenter, windows_hosts=list(SQL), take_over=run)

    @rule(take_over=st.booleans())
    def recover_while_a_window_works(self, take_over):
        """recover (an AWX on-failure node, an impatient operator) while a window has a node out of service."""
        stopped = threading.Event()
        recovered = threading.Event()

        def hold(node, script, params):
            if script == "mscs_node" and params.get("action") == "stop" and not stopped.is_set():
                stopped.set()
                recovered.wait(60)
        self.lab.before_script = hold
        worker = threading.Thread(target=self._window, args=(CONTROLLERS[0], None, "CHG-1"))
        worker.start()
        while worker.is_alive() and not stopped.wait(0.02):
            pass
        if stopped.is_set():
            text = self.lab.windows.state["nodes"]["SQL-NODE1"].get("registry_lease") or ""
            live = json.loads(text)["run"] if text else ""
            run_recover(self.lab, self.vcenter, windows_hosts=list(SQL), take_over=live if take_over else "")
        recovered.set()
        worker.join(120)
        self.lab.before_script = None

    @rule(node=st.sampled_from(SQL))
    def administrator_pauses(self, node):
        state = self.lab.windows.state["nodes"][node]
        if state["clussvc"] == "Running" and not state["paused"] and not self._records(node):
            state.update(paused=True, drain_status="Completed")
            self.admin_paused.add(node)

    @rule(node=st.sampled_from(SQL))
    def administrator_resumes(self, node):
        if node in self.admin_paused:
            self.lab.windows.state["nodes"][node].update(paused=False, drain_status="NotInitiated")
            self.admin_paused.discard(node)

    @rule(node=st.sampled_from(SQL))
    def administrator_stops_the_cluster_service(self, node):
        state = self.lab.windows.state["nodes"][node]
        if state["clussvc"] == "Running" and not self._records(node) and node not in self.admin_paused:
            state["clussvc"] = "Stopped"
            self.admin_stopped.add(node)

    @rule(node=st.sampled_from(SQL))
    def administrator_starts_the_cluster_service(self, node):
        if node in self.admin_stopped:
            self.lab.windows.state["nodes"][node]["clussvc"] = "Running"
            self.admin_stopped.discard(node)

    @rule(node=st.sampled_from(SQL), running=st.booleans())
    def an_installer(self, node, running):
        (self.installer.add if running else self.installer.discard)(node)
        self.lab.windows.set_faults({"installer_running": sorted(self.installer)})

    @rule()
    def leases_expire(self):
        self.lab.windows.clock_offset += 120

    # --- invariants ------------------------------------------------------------------------------------

    @invariant()
    def nothing_was_violated(self):
        assert not self.violations, self.violations

    @invariant()
    def what_the_administrator_took_out_stays_out(self):
        nodes = status(self.lab)["clusters"]["SQLCLU01"]["nodes"]
        for node in self.admin_paused:
            assert nodes[node]["state"] == "Paused", (node, nodes[node])
        for node in self.admin_stopped:
            assert nodes[node]["cluster_service"] == "Stopped", (node, nodes[node])


Ownership.TestCase.settings = settings(max_examples=25, stateful_step_count=10, deadline=None,
                                       suppress_health_check=[HealthCheck.too_slow])
TestOwnership = Ownership.TestCase
