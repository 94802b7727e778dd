"""The lab's public face for unit tests: the simulated systems in-process, with no socket and no running
lab. Unit tests (tests/unit) and benchmarks import the lab from here only; everything else under
tests/lab is the lab's own and may change shape without notice.

What it offers today is the simulated Deep Security Manager, the same model the HTTPS lab serves:

- ``load_topology(path=<tests/lab/topology.yml>)``: the lab's topology document.
- ``new_model(topology=None)``: a fresh DSM model of that topology.
- ``model_opener(model, calls=None)``: an opener for ``DsmClient(opener=...)`` that hands each request
  to the model (faults included); ``calls`` collects ``(method, path, query, body)``.
- ``activate(model, host, policy_id=4, version=...)``: an agent on ``host`` activates against the
  manager, as the simulated Windows node announces it in the running lab.
- ``FakeClock``: a clock shared by a model and a client; sleeping moves it forward, nothing waits.
- ``created_rules(model)``: the firewall rules created since the model started, without the rules the
  topology gives the manager from the start (``dsm.firewall_rules``).
- ``estate_topology(...)``: a topology of N failover clusters and M NLB farms, as
  ``labctl.py start --failover-clusters N --nlb-farms M`` builds it.
- ``InProcessLab(state_dir, topology=None)``: the Windows nodes and the DSM wired through one world as the
  running lab wires them; ``lab.client(node)`` answers the collection's scripts for one node (what
  WinRMClient's ``run`` offers the services), ``lab.dsm_opener()`` serves a ``DsmClient``.
"""
from tests.lab.dsm.inprocess import FakeClock, activate, created_rules, load_topology, model_opener, new_model
from tests.lab.estate import estate_topology
from tests.lab.windows.inprocess import InProcessLab

__all__ = ["FakeClock", "InProcessLab", "activate", "created_rules", "estate_topology", "load_topology", "model_opener", "new_model"]
