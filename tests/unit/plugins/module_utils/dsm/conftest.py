import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import DsmClient
from tests.lab.dsm.inprocess import load_topology, model_opener, new_model


@pytest.fixture
def topology():
    return load_topology()


@pytest.fixture
def model(topology):
    return new_model(topology)


@pytest.fixture
def calls():
    return []


@pytest.fixture
def client(model, topology, calls):
    return DsmClient("https://dsm.test:4119/api", topology["dsm"]["api_key"], opener=model_opener(model, calls),
                     sleep=lambda seconds: None)
