"""The DSM part of the lab: ``start(world)`` serves the model on the topology's ``dsm.address:dsm.port``
and registers the part for the control endpoint (status, reset, faults).

Faults (``POST /faults/dsm``): ``{"throttle_next": N}`` -> the next N requests get 429,
``{"unavailable_next": N}`` -> 503, ``{"slow_ms": M}`` -> every answer M ms late, ``{"down": true}`` ->
the listener closes (connection refused) until ``{"down": false}``. Lab-only helpers through the same
endpoint: ``{"tick": N}`` advances the NLB event clock, ``{"publish": {"event": "agent.activated",
"host_name": ..., ...}}`` publishes a world event (stands in for the Windows part in tests).
"""
import os

from tests.lab import pki
from tests.lab.dsm.model import DsmModel
from tests.lab.dsm.server import DsmServer

STATE_FILE = "dsm-state.json"


class DsmPart(object):
    def __init__(self, world, address=None, port=None):
        dsm = world.topology.get("dsm") or {}
        self.world = world
        self.model = DsmModel(world.topology, os.path.join(world.state_dir, STATE_FILE), world=world)
        cert, key = pki.issue(os.path.join(world.state_dir, "pki"), "dsm", ip_addresses=["127.0.0.1"],
                              dns_names=["localhost"])
        self.server = DsmServer(self.model, address or dsm.get("address", "127.0.0.1"),
                                dsm.get("port", 14119) if port is None else port, cert, key)
        world.subscribe("agent.activated", self.model.on_agent_activated)
        world.subscribe("agent.removed", self.model.on_agent_removed)
        world.subscribe("agent.upgraded", self.model.on_agent_upgraded)

    def start(self):
        self.server.start()
        return self

    def status(self):
        document = self.model.status()
        document["url"] = self.server.url
        document["down"] = not self.server.running
        return document

    def reset(self):
        self.model.reset()
        if not self.server.running:
            self.server.start()

    def set_faults(self, faults):
        faults = dict(faults or {})
        if "down" in faults:
            down = bool(faults.pop("down"))
            if down and self.server.running:
                self.server.stop()
            elif not down and not self.server.running:
                self.server.start()
        result = self.model.set_faults(faults)
        result["down"] = not self.server.running
        return result

    def shutdown(self):
        self.server.stop()


def start(world, port=None):
    part = DsmPart(world, port=port).start()
    world.register_part("dsm", part)
    return {"url": part.server.url}
