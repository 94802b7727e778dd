"""Lab part ``windows``: start a WinRM listener per simulated node (HTTP 5985, HTTPS 5986 on the node's
own loopback address), register the part with the world, and wire the shared events."""
import os

from tests.lab import pki
from tests.lab.windows.model import WindowsModel
from tests.lab.windows.server import ensure_ntlm_store, serve


class WindowsPart(object):
    def __init__(self, world, model, listeners, endpoints):
        self.world = world
        self.model = model
        self.listeners = listeners
        self.endpoints = endpoints

    def status(self):
        document = self.model.status()
        document["endpoints"] = self.endpoints
        return document

    def reset(self):
        self.model.reset()

    def set_faults(self, faults):
        return self.model.set_faults(faults or {})

    def shutdown(self):
        for listener in self.listeners:
            listener.shutdown()
            listener.server_close()


def start(world):
    windows = world.topology["windows"]
    credentials = (windows["username"], windows["password"])
    http_port = int(windows.get("http_port", 5985))
    https_port = int(windows.get("https_port", 5986))
    os.makedirs(world.state_dir, exist_ok=True)
    ensure_ntlm_store(world.state_dir, *credentials)
    model = WindowsModel(world)
    listeners, endpoints = [], {}
    addresses = {}
    for cluster in windows.get("failover_clusters", []) + windows.get("nlb_clusters", []):
        for node in cluster["nodes"]:
            addresses[node["name"]] = node["address"]
    pki_dir = os.path.join(world.state_dir, "pki")
    for name, address in sorted(addresses.items()):
        tls_files = pki.issue(pki_dir, "winrm-%s" % name.lower(), dns_names=[name.lower()], ip_addresses=[address])
        listeners.append(serve(address, http_port, name, model, world, credentials))
        listeners.append(serve(address, https_port, name, model, world, credentials, tls_files))
        endpoints[name] = {"address": address, "http": "http://%s:%d/wsman" % (address, http_port),
                           "https": "https://%s:%d/wsman" % (address, https_port)}
    world.subscribe("agent.network_driver_loaded", model.on_network_driver_loaded)
    world.provide("windows.nlb_membership", model.nlb_membership)
    part = WindowsPart(world, model, listeners, endpoints)
    world.register_part("windows", part)
    return endpoints
