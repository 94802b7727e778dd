"""Fixtures shared by the simulators' own tests."""
import os

import pytest
import yaml

from tests.lab.windows import part as windows_part
from tests.lab.world import LabWorld

LAB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab")


@pytest.fixture(scope="module")
def windows_lab(request, tmp_path_factory):
    """The simulated Windows nodes in this process, on the requesting module's own WinRM ports (its
    ``HTTP_PORT`` and ``HTTPS_PORT``), so each module runs beside a running lab and beside the others.

    A dict: ``world``, ``part``, ``topology``, ``ca`` (the lab CA's PEM), ``events`` (the
    ``agent.activated`` / ``agent.removed`` events published, in order) and ``client_params(address,
    **overrides)``: the collection's WinRM client parameters for a node, NTLM over HTTPS with the
    certificate checked against the lab CA, as the modules would pass them."""
    http_port, https_port = request.module.HTTP_PORT, request.module.HTTPS_PORT
    with open(os.path.join(LAB_DIR, "topology.yml")) as handle:
        topology = yaml.safe_load(handle)
    topology["windows"]["http_port"] = http_port
    topology["windows"]["https_port"] = https_port
    state_dir = str(tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2]))
    world = LabWorld(topology, state_dir)
    events = []
    for event in ("agent.activated", "agent.removed"):
        world.subscribe(event, lambda event=event, **payload: events.append((event, payload)))
    windows_part.start(world)
    part = world.parts["windows"]
    ca = os.path.join(state_dir, "pki", "ca.pem")
    windows = topology["windows"]

    def client_params(address, **overrides):
        params = dict(hostname=address, username=windows["username"], password=windows["password"], port=https_port,
                      transport="ntlm", scheme="https", validate_certs=True, ca_path=ca, message_encryption="auto",
                      operation_timeout=5, read_timeout=10, command_timeout=5)
        params.update(overrides)
        return params

    yield dict(world=world, part=part, topology=topology, ca=ca, events=events, client_params=client_params)
    part.shutdown()
