"""The lab's DSM model behind a ``DsmClient`` opener, in-process: unit tests run the collection's
client and services against the same API semantics as the HTTPS lab, with no socket. Unit tests reach
it through ``tests/lab/inprocess.py``, the lab's public face for them."""
import io
import json
import os
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.lab.dsm.model import DsmModel

TOPOLOGY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "topology.yml")


class _Response(object):
    def __init__(self, status, body):
        self.status = status
        self._body = body

    def read(self):
        return self._body


class FakeClock(object):
    """A clock shared by a model and a client: sleeping moves it forward, nothing really waits."""

    def __init__(self, start=1700000000.0):
        self.now = start
        self.slept = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += max(seconds, 0)


def load_topology(path=TOPOLOGY):
    with open(path) as handle:
        return yaml.safe_load(handle)


def model_opener(model, calls=None):
    """An opener for ``DsmClient(opener=...)``; ``calls`` collects (method, path, query, body)."""
    def opener(method, url, data, headers):
        parts = urlsplit(url)
        if calls is not None:
            calls.append((method, parts.path, parts.query, json.loads(data) if data else None))
        fault = model.take_fault()
        if fault == "down":
            raise ConnectionRefusedError("connection refused")
        if fault:
            status, message, reply_headers = fault
            raise HTTPError(url, status, "error", reply_headers, io.BytesIO(json.dumps({"message": message}).encode()))
        status, reply_headers, document = model.handle(method, parts.path, parse_qs(parts.query), headers, data)
        body = b"" if document is None else json.dumps(document).encode()
        if status >= 400:
            raise HTTPError(url, status, "error", reply_headers, io.BytesIO(body))
        return _Response(status, body)
    return opener


def new_model(topology=None):
    return DsmModel(topology or load_topology())


def activate(model, host, policy_id=4, version="20.0.1-690"):
    model.on_agent_activated(host_name=host, agent_version=version, policy_id=policy_id, dsm_url="dsm://x:4120/")


def created_rules(model):
    """The model's firewall rules (ID text -> rule) other than those the topology gives it from the start."""
    return dict((key, rule) for key, rule in model.state["rules"].items() if int(key) not in model.preset_rule_ids)
