"""What the simulated Windows nodes and the simulated Deep Security Manager share.

Both run inside one lab process (``labd.py``). Neither imports the other: each *provides* answers
(``provide``/``ask``) and *publishes* events (``subscribe``/``publish``) through this object, so the
coupling between the simulated systems stays explicit and in one place:

- the Windows model publishes ``agent.activated`` / ``agent.removed`` when a node's agent is
  activated against the DSM or uninstalled; the DSM model turns those into computers;
- the DSM model publishes ``agent.network_driver_loaded`` when Firewall, Intrusion Prevention or Web
  Reputation is first turned on for a computer; the Windows model turns that into a network blip;
- the DSM model asks ``windows.nlb_membership`` (host name -> NLB state or None) to count the
  "Invalid Flags" events of NLB nodes.
"""
import threading


class LabWorld(object):
    def __init__(self, topology, state_dir):
        self.topology = topology
        self.state_dir = state_dir
        self.lock = threading.RLock()
        self._subscribers = {}
        self._providers = {}
        self.parts = {}

    def register_part(self, name, part):
        """A part has ``status()``, ``reset()`` and ``set_faults(dict)`` for the control endpoint."""
        self.parts[name] = part

    def subscribe(self, event, callback):
        self._subscribers.setdefault(event, []).append(callback)

    def publish(self, event, **payload):
        for callback in list(self._subscribers.get(event, ())):
            callback(**payload)

    def provide(self, question, answer):
        self._providers[question] = answer

    def ask(self, question, default=None, **arguments):
        answer = self._providers.get(question)
        if answer is None:
            return default
        return answer(**arguments)
