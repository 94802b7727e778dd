"""The lab's Python process: simulated Windows nodes (WinRM) and the simulated Deep Security
Manager, sharing one ``LabWorld``, plus a control endpoint for tests.

Control endpoint (loopback, plain HTTP, lab only):
- ``GET  /status``              every part's status document (e.g. failover records, event counts)
- ``POST /reset``               every part back to the topology's initial state
- ``POST /faults/<part>``       JSON body handed to that part's ``set_faults``

Parts are optional: a part whose package is missing is skipped, so each can be developed alone.
"""
import argparse
import importlib
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import yaml  # noqa: E402

from tests.lab.world import LabWorld  # noqa: E402

PART_MODULES = {"windows": "tests.lab.windows.part", "dsm": "tests.lab.dsm.part"}


def make_control_handler(world):
    class ControlHandler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _reply(self, code, document):
            body = json.dumps(document, sort_keys=True).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path.rstrip("/") == "/status":
                with world.lock:
                    return self._reply(200, {name: part.status() for name, part in world.parts.items()})
            return self._reply(404, {"error": "unknown path %s" % self.path})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            path = self.path.rstrip("/")
            with world.lock:
                if path == "/reset":
                    for part in world.parts.values():
                        part.reset()
                    return self._reply(200, {"reset": sorted(world.parts)})
                if path.startswith("/faults/"):
                    name = path.split("/", 2)[2]
                    if name not in world.parts:
                        return self._reply(404, {"error": "unknown part %s" % name})
                    return self._reply(200, world.parts[name].set_faults(body) or {})
            return self._reply(404, {"error": "unknown path %s" % self.path})

    return ControlHandler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--topology", required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--control-port", type=int, default=18080)
    parser.add_argument("--parts", default="windows,dsm")
    args = parser.parse_args()
    with open(args.topology) as handle:
        topology = yaml.safe_load(handle)
    world = LabWorld(topology, args.state_dir)
    endpoints = {}
    for name in [part for part in args.parts.split(",") if part]:
        try:
            module = importlib.import_module(PART_MODULES[name])
        except ImportError as error:
            print("lab part %s not available: %s" % (name, error), file=sys.stderr)
            continue
        endpoints[name] = module.start(world)
    control = ThreadingHTTPServer(("127.0.0.1", args.control_port), make_control_handler(world))
    threading.Thread(target=control.serve_forever, daemon=True).start()
    endpoints["control"] = "http://127.0.0.1:%d" % args.control_port
    ready = os.path.join(args.state_dir, "labd.ready.json")
    with open(ready + ".tmp", "w") as handle:
        json.dump(endpoints, handle)
    os.replace(ready + ".tmp", ready)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for part in world.parts.values():
        getattr(part, "shutdown", lambda: None)()


if __name__ == "__main__":
    main()
