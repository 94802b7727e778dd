import io
import socket
from urllib.error import HTTPError, URLError

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import client as dsm_client
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import (
    DsmAuthError,
    DsmClient,
    DsmTLSError,
    DsmUnavailableError,
    DsmValidationError,
    backoff_delay,
    dsm_argument_spec,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import NotFoundError, ParameterError

from tests.lab.inprocess import activate, load_topology


@pytest.fixture
def topology():
    """The lab's topology without the firewall rules it gives the manager from the start: these tests count
    every rule the searches return."""
    document = load_topology()
    document["dsm"]["firewall_rules"] = []
    return document


SECRET = "2:not-the-lab-key"


class Scripted(object):
    """An opener that plays a list of outcomes: an int status (error), an exception, or a body."""

    def __init__(self, outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    def __call__(self, method, url, data, headers):
        self.calls.append((method, url, headers))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, tuple):
            status, body, headers_out = outcome
            raise HTTPError(url, status, "x", headers_out, io.BytesIO(body))

        class Response(object):
            def read(self):
                return outcome
        return Response()


def make(outcomes, **kwargs):
    sleeps = []
    opener = Scripted(outcomes)
    client = DsmClient("https://dsm.test:4119/api/", SECRET, opener=opener, sleep=sleeps.append, **kwargs)
    return client, opener, sleeps


def test_argument_spec_env_fallbacks_and_no_log():
    spec = dsm_argument_spec()
    assert spec["api_key"]["no_log"] is True
    assert spec["dsm_url"]["fallback"][1] == ["DSM_URL"]
    assert spec["api_key"]["fallback"][1] == ["DSM_API_KEY"]
    assert spec["validate_certs"]["fallback"][1] == ["DSM_VALIDATE_CERTS"]
    assert spec["validate_certs"]["default"] is True


def test_headers_carry_key_and_api_version():
    client, opener, _sleeps = make([b'{"policies": []}'])
    client.list_policies()
    method, url, headers = opener.calls[0]
    assert (method, url) == ("GET", "https://dsm.test:4119/api/policies")
    assert headers["api-secret-key"] == SECRET and headers["api-version"] == "v1"


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retries_then_succeeds(status):
    client, opener, sleeps = make([(status, b'{"message": "busy"}', {}), (status, b"", {}), b'{"value": "Tap"}'])
    assert client.get_setting("computers", 1, "firewallSettingNetworkEngineMode") == "Tap"
    assert len(opener.calls) == 3 and len(sleeps) == 2 and client.retries_made == 2


def test_retry_after_is_honoured_and_capped():
    client, _opener, sleeps = make([(429, b"", {"Retry-After": "2"}), (429, b"", {"Retry-After": "999"}), b"{}"])
    client.get("/policies")
    assert sleeps == [2.0, dsm_client.MAX_BACKOFF]


def test_backoff_grows_and_is_bounded():
    delays = [backoff_delay(attempt, 1.0) for attempt in range(1, 10)]
    assert delays[0] < delays[2] < delays[4]
    assert max(delays) <= dsm_client.MAX_BACKOFF


def test_gives_up_after_max_retries_with_the_dsm_message():
    client, opener, sleeps = make([(503, b'{"message": "Service Unavailable"}', {})] * 3, max_retries=2)
    with pytest.raises(DsmUnavailableError) as caught:
        client.get("/policies")
    assert len(opener.calls) == 3 and len(sleeps) == 2
    assert "HTTP 503" in caught.value.message and "Service Unavailable" in caught.value.message
    assert "3 attempts" in caught.value.message


def test_connection_refused_is_retried_then_clear():
    refused = URLError(ConnectionRefusedError(111, "Connection refused"))
    client, opener, _sleeps = make([refused, refused], max_retries=1)
    with pytest.raises(DsmUnavailableError) as caught:
        client.get("/policies")
    assert "cannot reach the DSM at https://dsm.test:4119/api" in caught.value.message
    assert len(opener.calls) == 2


def test_connection_reset_is_retried():
    client, _opener, _sleeps = make([ConnectionResetError(104, "reset"), socket.timeout("timed out"), b'{"policies": []}'])
    assert client.list_policies() == []


def test_auth_error_names_the_option_not_the_key():
    client, opener, sleeps = make([(401, b'{"message": "Authentication failed"}', {})])
    with pytest.raises(DsmAuthError) as caught:
        client.get("/policies")
    assert "api_key" in caught.value.message and "Authentication failed" in caught.value.message
    assert SECRET not in caught.value.message and SECRET not in repr(caught.value.details)
    assert len(opener.calls) == 1 and sleeps == []


def test_validation_error_carries_the_dsm_message():
    client, _opener, _sleeps = make([(400, b'{"message": "Invalid action: \'permit\'."}', {})])
    with pytest.raises(DsmValidationError) as caught:
        client.create_firewall_rule({"name": "x", "action": "permit"})
    assert "Invalid action: 'permit'." in caught.value.message and caught.value.details["status"] == 400


def test_tls_failure_is_not_retried_and_points_at_ca_path():
    client, opener, _sleeps = make([URLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")])
    with pytest.raises(DsmTLSError) as caught:
        client.get("/policies")
    assert "ca_path" in caught.value.message and len(opener.calls) == 1


@pytest.mark.parametrize("url, key, message", [
    ("", SECRET, "dsm_url is required"),
    ("dsm.example.com:4119/api", SECRET, "must start with https://"),
    ("https://dsm.example.com:4119/api", "", "api_key is required"),
])
def test_bad_connection_options(url, key, message):
    with pytest.raises(ParameterError) as caught:
        DsmClient(url, key)
    assert message in caught.value.message


def test_search_pages_by_id_until_a_short_page(client, model, calls):
    for index in range(7):
        client.create_firewall_rule({"name": "rule %02d" % index})
    del calls[:]
    rules = client.search("firewallrules", "firewallRules", page_size=3)
    assert [rule["name"] for rule in rules] == ["rule %02d" % index for index in range(7)]
    bodies = [body for method, path, query, body in calls]
    assert len(bodies) == 3
    assert bodies[0]["searchCriteria"] == [] and bodies[0]["maxItems"] == 3
    assert bodies[1]["searchCriteria"] == [{"idTest": "greater-than", "idValue": rules[2]["ID"]}]


def test_search_exact_page_multiple_ends_with_an_empty_page(client, calls):
    for index in range(4):
        client.create_firewall_rule({"name": "r%d" % index})
    del calls[:]
    assert len(client.search("firewallrules", "firewallRules", page_size=2)) == 4
    assert len(calls) == 3


def test_find_computers_case_insensitive_and_nearest_names(client, model):
    activate(model, "WEB1")
    activate(model, "WEB2")
    assert client.find_computers(["web1"])[0]["hostName"] == "WEB1"
    with pytest.raises(NotFoundError) as caught:
        client.find_computers(["WEB9"], parameter="computers")
    assert "WEB9" in caught.value.message and "parameter computers" in caught.value.message
    assert "WEB1" in caught.value.details["nearest"]


def test_find_policy_by_name_or_id(client):
    assert client.find_policy("nlb web farm")["ID"] == 4
    assert client.find_policy("3")["name"] == "SQL Server Cluster"
    with pytest.raises(NotFoundError) as caught:
        client.find_policy("NLB Webfarm")
    assert "NLB Web Farm" in caught.value.message
