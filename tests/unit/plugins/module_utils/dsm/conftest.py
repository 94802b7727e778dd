import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import DsmClient
from tests.lab.inprocess import FakeClock, load_topology, model_opener, new_model


@pytest.fixture
def topology():
    return load_topology()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def model(topology, clock):
    instance = new_model(topology)
    instance.clock = clock.time
    return instance


@pytest.fixture
def calls():
    return []


@pytest.fixture
def client(model, topology, calls, clock):
    # The client's waits move the model's clock: the lab's policy delay passes without real sleeping.
    return DsmClient("https://dsm.test:4119/api", topology["dsm"]["api_key"], opener=model_opener(model, calls),
                     sleep=clock.sleep, clock=clock.time)
