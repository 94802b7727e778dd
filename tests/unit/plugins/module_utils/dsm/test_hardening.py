"""Issue 10 on the DSM side: the API key never follows a redirect or travels over http:// by accident,
a key with CR/LF is handled before a header is built, Cloud One keys, URL redaction, bad numbers and
names refused before anything is sent (the runner's own tests are in ../test_runner.py)."""
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import firewall
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import (
    DsmClient,
    DsmError,
    redact_url,
    resolve_api_key_type,
)
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.computer import normalize_settings
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError

SECRET = "2:Secret-Key-0123456789"


def _server(handler_class):
    server = HTTPServer(("127.0.0.1", 0), handler_class)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


class _Recorder(BaseHTTPRequestHandler):
    seen = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).seen.append(dict(self.headers.items()))
        body = b'{"policies": []}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _redirector(target, code):
    class Redirector(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(code)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
    return Redirector


@pytest.mark.parametrize("code", [301, 302, 307, 308])
def test_the_api_key_never_follows_a_redirect(code):
    _Recorder.seen = []
    other = _server(_Recorder)
    target = "http://user:pw@127.0.0.1:%d/elsewhere?sig=abc" % other.server_address[1]
    front = _server(_redirector(target, code))
    try:
        client = DsmClient("http://127.0.0.1:%d/api" % front.server_address[1], SECRET, allow_http=True,
                           max_retries=0, timeout=5)
        with pytest.raises(DsmError) as caught:
            client.get("/policies")
    finally:
        front.shutdown()
        other.shutdown()
    assert _Recorder.seen == []
    message = caught.value.message
    assert "redirect" in message and "HTTP %d" % code in message
    assert "user:pw" not in message and "sig=abc" not in message and SECRET not in message


def test_http_is_refused_unless_allowed():
    with pytest.raises(ParameterError) as caught:
        DsmClient("http://dsm.example.com:4119/api", SECRET)
    assert caught.value.details["parameter"] == "dsm_url" and "allow_http" in caught.value.message
    assert DsmClient("http://dsm.example.com:4119/api", SECRET, allow_http=True).base_url.startswith("http://")


@pytest.mark.parametrize("url", [
    "https://admin:hunter2@dsm.example.com:4119/api",
    "https://dsm.example.com:4119/api?token=s3cr3t",
    "https://dsm.example.com:4119/api\n",
    " https://dsm.example.com:4119/api",
    "https://dsm.example.com:99999/api",
])
def test_bad_urls_are_refused_and_never_echoed_with_their_secrets(url):
    with pytest.raises(ParameterError) as caught:
        DsmClient(url, SECRET)
    assert caught.value.details["parameter"] == "dsm_url"
    assert "hunter2" not in caught.value.message and "s3cr3t" not in caught.value.message


def test_redact_url():
    assert redact_url("https://u:p@dsm:4119/api?x=1#f") == "https://<redacted>@dsm:4119/api?<redacted>"
    assert redact_url("https://dsm:4119/api") == "https://dsm:4119/api"


def test_a_trailing_newline_of_a_yaml_block_is_stripped_from_the_key():
    seen = []

    def opener(method, url, data, headers):
        seen.append(headers)

        class Response(object):
            def read(self):
                return b"{}"
        return Response()
    DsmClient("https://dsm:4119/api", SECRET + "\n", opener=opener).get("/policies")
    assert seen[0]["api-secret-key"] == SECRET


@pytest.mark.parametrize("key", ["2:abc\r\nX-Injected: 1", "2:abc\x00def", "  \n", "2:k\u20ac"])
def test_a_key_with_control_characters_inside_is_refused_without_echo(key):
    with pytest.raises(ParameterError) as caught:
        DsmClient("https://dsm:4119/api", key)
    assert caught.value.details["parameter"] == "api_key" and "abc" not in caught.value.message


def test_cloud_one_keys_use_the_authorization_header():
    assert resolve_api_key_type("https://workload.us-1.cloudone.trendmicro.com/api") == "cloud_one"
    assert resolve_api_key_type("https://dsm.example.com:4119/api") == "legacy"
    assert resolve_api_key_type("https://workload.us-1.cloudone.trendmicro.com/api", "legacy") == "legacy"
    seen = []

    def opener(method, url, data, headers):
        seen.append(headers)

        class Response(object):
            def read(self):
                return b"{}"
        return Response()
    DsmClient("https://workload.de-1.cloudone.trendmicro.com/api", SECRET, opener=opener).get("/policies")
    DsmClient("https://dsm:4119/api", SECRET, opener=opener, api_key_type="cloud_one").get("/policies")
    DsmClient("https://dsm:4119/api", SECRET, opener=opener).get("/policies")
    assert seen[0]["Authorization"] == "ApiKey " + SECRET and "api-secret-key" not in seen[0]
    assert seen[1]["Authorization"] == "ApiKey " + SECRET
    assert seen[2]["api-secret-key"] == SECRET and "Authorization" not in seen[2]


@pytest.mark.parametrize("options, parameter", [
    (dict(timeout=-1), "timeout"),
    (dict(timeout=0), "timeout"),
    (dict(retry_backoff=-5), "retry_backoff"),
    (dict(retry_backoff=float("nan")), "retry_backoff"),
    (dict(max_retries=-1), "max_retries"),
    (dict(api_key_type="bearer"), "api_key_type"),
])
def test_bad_numbers_are_named_before_anything_is_sent(options, parameter):
    with pytest.raises(ParameterError) as caught:
        DsmClient("https://dsm:4119/api", SECRET, opener=lambda *a: pytest.fail("sent"), **options)
    assert caught.value.details["parameter"] == parameter


@pytest.mark.parametrize("field, value", [
    ("protocol_number", 999), ("icmp_type", -7), ("icmp_code", 256), ("frame_number", 0x10000),
    ("source_ip_list_id", 0), ("schedule_id", -2),
    ("destination_port_multiple", ["-5"]), ("destination_port_multiple", ["99999"]),
    ("source_port_multiple", ["2000-1000"]), ("source_port_multiple", ["80;90"]),
])
def test_out_of_range_rule_fields_are_refused(field, value):
    with pytest.raises(ParameterError) as caught:
        firewall.normalize_rule({"name": "x", field: value})
    assert caught.value.details["parameter"] == field


def test_good_ports_pass():
    rule = firewall.normalize_rule({"name": "x", "destination_port_multiple": ["0", "80", "1000-2000", "65535"]})
    assert rule["destinationPortMultiple"] == ["0", "80", "1000-2000", "65535"]


def test_a_setting_name_with_a_trailing_newline_is_refused():
    with pytest.raises(ParameterError) as caught:
        normalize_settings({"firewallSettingNetworkEngineMode\n": "Tap"})
    assert caught.value.details["parameter"] == "settings"


@pytest.mark.parametrize("policy", ["-3", "0", "+4"])
def test_a_negative_or_zero_policy_id_is_refused(client, calls, policy):
    with pytest.raises(ParameterError) as caught:
        service.computer_settings(client, policy=policy, settings={"firewallSettingNetworkEngineMode": "Tap"})
    assert caught.value.details["parameter"] == "policy" and calls == []
