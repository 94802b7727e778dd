# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deep Security Manager REST client (API v1, the contract of Trend's ``deep-security-api`` 20.0 SDK).

Raises typed errors that carry the DSM's own message; never calls ``fail_json``. The API key is only
ever placed in a request header and never in an error message or a returned value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import random
import socket
import time

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode
from ansible.module_utils.urls import Request

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    CollectionError,
    ParameterError,
    not_found,
)

API_VERSION = "v1"
DEFAULT_PAGE_SIZE = 5000
RETRY_STATUSES = (429, 502, 503, 504)
MAX_BACKOFF = 30.0


class DsmError(CollectionError):
    """The DSM answered with an error, or could not be asked."""


class DsmAuthError(DsmError):
    """The DSM rejected the API key (HTTP 401/403)."""


class DsmUnavailableError(DsmError):
    """The DSM was down, unreachable or throttling, and stayed so through every retry."""


class DsmValidationError(DsmError):
    """The DSM rejected the request's content (HTTP 400): its message names the field."""


class DsmNotFoundError(DsmError):
    """The DSM answered 404 for an object that was expected to exist."""


class DsmTlsError(DsmError):
    """The DSM's TLS certificate could not be validated."""


def dsm_argument_spec():
    """Connection options shared by every DSM module (doc fragment ``clustersafe.deep_security.dsm``)."""
    return dict(
        dsm_url=dict(type="str", required=True, fallback=(env_fallback, ["DSM_URL"])),
        api_key=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["DSM_API_KEY"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["DSM_VALIDATE_CERTS"])),
        ca_path=dict(type="path", fallback=(env_fallback, ["DSM_CA_PATH"])),
        timeout=dict(type="int", default=30),
        max_retries=dict(type="int", default=4),
        retry_backoff=dict(type="float", default=1.0),
    )


def client_from_module(module):
    params = module.params
    return DsmClient(
        params["dsm_url"],
        params["api_key"],
        validate_certs=params["validate_certs"],
        ca_path=params.get("ca_path"),
        timeout=params["timeout"],
        max_retries=params["max_retries"],
        retry_backoff=params["retry_backoff"],
    )


def _dsm_message(raw):
    """The DSM puts its explanation in ``{"message": ...}``; fall back to the raw text."""
    if not raw:
        return ""
    try:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    except Exception:  # pragma: no cover - defensive
        return ""
    try:
        document = json.loads(text)
    except ValueError:
        return text.strip()[:500]
    if isinstance(document, dict) and document.get("message"):
        return str(document["message"])
    return text.strip()[:500]


def backoff_delay(attempt, base, retry_after=None):
    """Delay before retry ``attempt`` (1-based): the server's Retry-After if given, else exponential
    with jitter, both capped so a retry budget stays bounded."""
    if retry_after is not None:
        try:
            return min(max(float(retry_after), 0.0), MAX_BACKOFF)
        except (TypeError, ValueError):
            pass
    delay = base * (2 ** (attempt - 1))
    return min(delay + random.uniform(0, base / 2.0), MAX_BACKOFF)


class DsmClient(object):
    def __init__(self, url, api_key, validate_certs=True, ca_path=None, timeout=30, max_retries=4,
                 retry_backoff=1.0, sleep=time.sleep, opener=None):
        if not url:
            raise ParameterError("dsm_url is required (or set DSM_URL), e.g. https://dsm.example.com:4119/api")
        if not api_key:
            raise ParameterError("api_key is required (or set DSM_API_KEY)")
        if not (url.startswith("https://") or url.startswith("http://")):
            raise ParameterError("dsm_url must start with https:// (got %r)" % url)
        if max_retries < 0:
            raise ParameterError("max_retries must be 0 or more (got %d)" % max_retries)
        self.base_url = url.rstrip("/")
        self._api_key = api_key
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self._sleep = sleep
        self._opener = opener
        self.requests_made = 0
        self.retries_made = 0

    # -- transport -------------------------------------------------------------------------------

    def _open(self, method, url, data):
        headers = {
            "api-secret-key": self._api_key,
            "api-version": API_VERSION,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        if self._opener is not None:
            return self._opener(method, url, data, headers)
        request = Request(headers=headers, timeout=self.timeout, validate_certs=self.validate_certs,
                          ca_path=self.ca_path, http_agent="clustersafe.deep_security", use_netrc=False)
        return request.open(method, url, data=data)

    def request(self, method, path, body=None, query=None):
        """One API call with bounded retries; returns the decoded JSON document (or None)."""
        url = self.base_url + path
        if query:
            url += "?" + urlencode(query, doseq=True)
        data = json.dumps(body).encode("utf-8") if body is not None else None
        attempt = 0
        while True:
            attempt += 1
            self.requests_made += 1
            retry_after = None
            try:
                response = self._open(method, url, data)
                raw = response.read()
                if not raw:
                    return None
                try:
                    return json.loads(raw.decode("utf-8"))
                except ValueError:
                    raise DsmError("DSM answered %s %s with a body that is not JSON: %r"
                                   % (method, path, raw[:200]), status=getattr(response, "status", None))
            except HTTPError as error:
                status = error.code
                message = _dsm_message(_read_error_body(error))
                if status in RETRY_STATUSES and attempt <= self.max_retries:
                    retry_after = error.headers.get("Retry-After") if error.headers else None
                    self._wait(attempt, retry_after)
                    continue
                raise self._http_error(method, path, status, message, attempt)
            except (URLError, socket.timeout, socket.error) as error:
                reason = getattr(error, "reason", error)
                text = str(reason)
                if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
                    raise DsmTlsError(
                        "the DSM's TLS certificate at %s could not be validated (%s); set ca_path "
                        "(DSM_CA_PATH) to the CA that issued it" % (self.base_url, text),
                        url=self.base_url)
                if attempt <= self.max_retries:
                    self._wait(attempt, None)
                    continue
                raise DsmUnavailableError(
                    "cannot reach the DSM at %s: %s (gave up after %d attempts)"
                    % (self.base_url, text, attempt), url=self.base_url, attempts=attempt)

    def _wait(self, attempt, retry_after):
        self.retries_made += 1
        self._sleep(backoff_delay(attempt, self.retry_backoff, retry_after))

    def _http_error(self, method, path, status, message, attempt):
        where = "%s %s" % (method, path)
        if status in (401, 403):
            return DsmAuthError(
                "the DSM rejected the API key (HTTP %d: %s); check api_key / DSM_API_KEY and the key's "
                "role" % (status, message or "unauthorized"), status=status)
        if status == 400:
            return DsmValidationError("the DSM refused %s (HTTP 400): %s" % (where, message), status=status)
        if status == 404:
            return DsmNotFoundError("the DSM has no %s (HTTP 404): %s" % (path, message), status=status)
        if status in RETRY_STATUSES:
            return DsmUnavailableError(
                "the DSM kept answering HTTP %d to %s (%s); gave up after %d attempts"
                % (status, where, message or "unavailable", attempt), status=status, attempts=attempt)
        return DsmError("the DSM answered %s with HTTP %d: %s" % (where, status, message), status=status)

    def get(self, path, query=None):
        return self.request("GET", path, query=query)

    def post(self, path, body=None, query=None):
        return self.request("POST", path, body=body if body is not None else {}, query=query)

    def put(self, path, body):
        return self.request("PUT", path, body=body)

    def delete(self, path):
        return self.request("DELETE", path)

    # -- search ----------------------------------------------------------------------------------

    def search(self, resource, key, criteria=None, expand=None, page_size=DEFAULT_PAGE_SIZE):
        """All objects of ``resource`` matching ``criteria``, paging by ID until a short page."""
        items = []
        last_id = None
        query = {"expand": list(expand)} if expand else None
        while True:
            page_criteria = list(criteria or [])
            if last_id is not None:
                page_criteria.append({"idTest": "greater-than", "idValue": last_id})
            body = {"maxItems": page_size, "searchCriteria": page_criteria, "sortByObjectID": True}
            document = self.post("/%s/search" % resource, body, query=query) or {}
            page = document.get(key) or []
            items.extend(page)
            if len(page) < page_size or not page:
                return items
            last_id = page[-1]["ID"]

    # -- computers -------------------------------------------------------------------------------

    def list_computers(self, expand=("none",)):
        return self.search("computers", "computers", expand=expand)

    def find_computers(self, host_names, expand=("none",), parameter="computers"):
        """Computers by host name (exact first, then case-insensitive); unknown names -> NotFoundError."""
        found = []
        everything = None
        for name in host_names:
            matches = self.search("computers", "computers", expand=expand, criteria=[
                {"fieldName": "hostName", "stringTest": "equal", "stringValue": name}])
            if not matches:
                if everything is None:
                    everything = self.list_computers(expand=expand)
                matches = [item for item in everything
                           if str(item.get("hostName", "")).lower() == name.lower()
                           or str(item.get("displayName") or "").lower() == name.lower()]
            if not matches:
                if everything is None:
                    everything = self.list_computers(expand=expand)
                raise not_found("computer", name, [item.get("hostName") for item in everything], parameter)
            found.append(matches[0])
        return found

    def get_computer(self, computer_id, expand=("all",)):
        return self.get("/computers/%d" % int(computer_id), query={"expand": list(expand)})

    def modify_computer(self, computer_id, changes, expand=("none",)):
        return self.post("/computers/%d" % int(computer_id), changes, query={"expand": list(expand)})

    # -- policies --------------------------------------------------------------------------------

    def list_policies(self):
        return (self.get("/policies") or {}).get("policies") or []

    def find_policy(self, name_or_id, parameter="policy"):
        policies = self.list_policies()
        text = str(name_or_id)
        for policy in policies:
            if text.isdigit() and int(text) == policy.get("ID"):
                return policy
        for policy in policies:
            if str(policy.get("name", "")).lower() == text.lower():
                return policy
        raise not_found("policy", name_or_id, [policy.get("name") for policy in policies], parameter)

    def get_policy(self, policy_id):
        return self.get("/policies/%d" % int(policy_id))

    def modify_policy(self, policy_id, changes):
        return self.post("/policies/%d" % int(policy_id), changes)

    # -- settings --------------------------------------------------------------------------------

    def get_setting(self, kind, object_id, name):
        document = self.get("/%s/%d/settings/%s" % (kind, int(object_id), quote(name))) or {}
        return document.get("value")

    def set_setting(self, kind, object_id, name, value):
        document = self.post("/%s/%d/settings/%s" % (kind, int(object_id), quote(name)), {"value": value}) or {}
        return document.get("value")

    # -- firewall rules --------------------------------------------------------------------------

    def list_firewall_rules(self):
        return self.search("firewallrules", "firewallRules")

    def find_firewall_rules_by_name(self, name):
        return self.search("firewallrules", "firewallRules", criteria=[
            {"fieldName": "name", "stringTest": "equal", "stringValue": name}])

    def create_firewall_rule(self, rule):
        return self.post("/firewallrules", rule)

    def modify_firewall_rule(self, rule_id, changes):
        return self.post("/firewallrules/%d" % int(rule_id), changes)

    def delete_firewall_rule(self, rule_id):
        return self.delete("/firewallrules/%d" % int(rule_id))

    # -- firewall rule assignments ---------------------------------------------------------------

    def get_firewall_assignments(self, kind, object_id):
        document = self.get("/%s/%d/firewall/assignments" % (kind, int(object_id))) or {}
        return list(document.get("assignedRuleIDs") or [])

    def add_firewall_assignments(self, kind, object_id, rule_ids):
        document = self.post("/%s/%d/firewall/assignments" % (kind, int(object_id)),
                             {"ruleIDs": list(rule_ids)}) or {}
        return list(document.get("assignedRuleIDs") or [])

    def remove_firewall_assignment(self, kind, object_id, rule_id):
        document = self.delete("/%s/%d/firewall/assignments/%d" % (kind, int(object_id), int(rule_id))) or {}
        return list(document.get("assignedRuleIDs") or [])


def _read_error_body(error):
    try:
        return error.read()
    except Exception:
        return b""
