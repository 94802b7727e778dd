# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deep Security Manager REST client (API v1, the contract of Trend's ``deep-security-api`` 20.0 SDK).

Raises typed errors that carry the DSM's own message; never calls ``fail_json``. The API key is only
ever placed in a request header and never in an error message or a returned value; redirects are never
followed (the key would travel with them), and URLs in messages lose their user info and query string.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import math
import random
import re
import socket
import time

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import quote, urlencode, urlsplit, urlunsplit
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
# The DSM measures its rate limits over the last sixty seconds and processes nothing from a throttled key
# until the rate falls; Trend's own handler retries with exponential backoff and the DSM sends no
# Retry-After (Automation Center "API Rate Limits" and "Handle rate limit errors in your code",
# https://automation.deepsecurity.trendmicro.com/article/20_0/rate-limits). So HTTP 429 has its own
# budget: keep backing off until at least this many seconds have been waited, whatever max_retries says.
RATE_LIMIT_BUDGET = 60.0
RATE_LIMIT_FIRST_WAIT = 1.0
# Cloud One Workload Security: new Cloud One API keys authenticate with "Authorization: ApiKey <key>",
# legacy Workload Security and on-premise DSM keys with "api-secret-key" (REFERENCE section 2;
# Cloud One "Manage API keys" / Workload Security "API keys" docs).
API_KEY_TYPES = ("auto", "legacy", "cloud_one")
CLOUD_ONE_HOST_SUFFIX = ".cloudone.trendmicro.com"


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


class DsmTLSError(DsmError):
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
        allow_http=dict(type="bool", default=False),
        api_key_type=dict(type="str", default="auto", choices=list(API_KEY_TYPES),
                          fallback=(env_fallback, ["DSM_API_KEY_TYPE"])),
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
        allow_http=params.get("allow_http") or False,
        api_key_type=params.get("api_key_type") or "auto",
    )


def redact_url(url):
    """``url`` without user info and query string (signed URLs carry secrets there), for messages."""
    text = str(url or "")
    try:
        parts = urlsplit(text)
    except ValueError:
        return "<unparsable URL>"
    host = parts.hostname or ""
    if ":" in host:
        host = "[%s]" % host
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (":%d" % port if port else "")
    if parts.username is not None or parts.password is not None:
        netloc = "<redacted>@" + netloc
    query = "<redacted>" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_connection_options(url, api_key, timeout, max_retries, retry_backoff, allow_http=False,
                             api_key_type="auto"):
    """Validate the connection options before any request; returns ``(base_url, api_key)`` cleaned.

    Every error names the option and never contains the key.
    """
    if not url or not str(url).strip():
        raise ParameterError("dsm_url is required (or set DSM_URL), e.g. https://dsm.example.com:4119/api",
                             parameter="dsm_url")
    url = str(url)
    if _CONTROL.search(url) or url != url.strip():
        raise ParameterError("dsm_url %s contains whitespace or control characters (a trailing newline from a "
                             "YAML block?); give the URL alone" % redact_url(url.strip()), parameter="dsm_url")
    try:
        parts = urlsplit(url)
        parts.port
    except ValueError:
        raise ParameterError("dsm_url %s is not a valid URL (the port must be 1-65535)" % redact_url(url),
                             parameter="dsm_url")
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise ParameterError("dsm_url must start with https:// and name a host, e.g. https://<host>:4119/api (got %s)" % redact_url(url),
                             parameter="dsm_url")
    if scheme == "http" and not allow_http:
        raise ParameterError("dsm_url %s uses http://, which sends the API key in clear text; use https:// (or set "
                             "allow_http=true on an isolated test network)" % redact_url(url), parameter="dsm_url")
    if parts.username is not None or parts.password is not None:
        raise ParameterError("dsm_url must not carry user info (user:password@); the DSM authenticates with "
                             "api_key only (got %s)" % redact_url(url), parameter="dsm_url")
    if parts.query or parts.fragment:
        raise ParameterError("dsm_url must not carry a query string or fragment (got %s)" % redact_url(url),
                             parameter="dsm_url")
    if not api_key:
        raise ParameterError("api_key is required (or set DSM_API_KEY)", parameter="api_key")
    # A YAML "|" block leaves a trailing newline; a header value with CR/LF is refused by http.client
    # with the value in the message, so strip surrounding whitespace and refuse what is left.
    api_key = str(api_key).strip()
    if not api_key or _CONTROL.search(api_key):
        raise ParameterError("api_key contains line breaks or other control characters inside the key (or only "
                             "whitespace); give the secret alone on one line", parameter="api_key")
    try:
        api_key.encode("latin-1")
    except UnicodeEncodeError:
        raise ParameterError("api_key contains characters an HTTP header cannot carry; give the secret as the DSM "
                             "showed it", parameter="api_key")
    if api_key_type not in API_KEY_TYPES:
        raise ParameterError("invalid value %r for api_key_type; allowed values: %s"
                             % (api_key_type, ", ".join(API_KEY_TYPES)), parameter="api_key_type")
    _check_number("timeout", timeout, minimum=1, integer=True, hint="seconds to wait for one answer, e.g. 30")
    _check_number("max_retries", max_retries, minimum=0, integer=True, hint="0 disables retries")
    _check_number("retry_backoff", retry_backoff, minimum=0, integer=False, hint="seconds before the first retry")
    return url.rstrip("/"), api_key


def _check_number(parameter, value, minimum, integer, hint):
    ok = not isinstance(value, bool) and isinstance(value, (int, float))
    if ok and integer and int(value) != value:
        ok = False
    if ok and (isinstance(value, float) and not math.isfinite(value)):
        ok = False
    if not ok or value < minimum:
        raise ParameterError("%s must be %s %d or more (got %r): %s"
                             % (parameter, "an integer" if integer else "a number", minimum, value, hint),
                             parameter=parameter)


def resolve_api_key_type(url, api_key_type="auto"):
    """``legacy`` (header ``api-secret-key``) or ``cloud_one`` (``Authorization: ApiKey``).

    ``auto``: Cloud One hosts (``*.cloudone.trendmicro.com``) get ``cloud_one``, every other URL (an
    on-premise DSM) ``legacy``. A legacy Workload Security key on Cloud One needs ``legacy`` explicitly.
    """
    if api_key_type in ("legacy", "cloud_one"):
        return api_key_type
    host = (urlsplit(url).hostname or "").lower()
    return "cloud_one" if host.endswith(CLOUD_ONE_HOST_SUFFIX) else "legacy"


def auth_headers(api_key, key_type):
    if key_type == "cloud_one":
        return {"Authorization": "ApiKey " + api_key}
    return {"api-secret-key": api_key}


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


def parse_json(raw, source, status=None):
    """Bytes from the DSM -> the JSON document; anything else is a DsmError naming ``source``."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        return json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise DsmError("the DSM answered %s with a body that is not JSON: %r" % (source, raw[:200]), status=status)


def rate_limit_delay(throttled, base, retry_after=None):
    """Wait before retry ``throttled`` (1-based) after HTTP 429: exponential from at least one second, or a
    longer Retry-After if the server sends one; each wait capped at MAX_BACKOFF."""
    first = max(float(base or 0.0), RATE_LIMIT_FIRST_WAIT)
    if retry_after is not None:
        try:
            return min(max(float(retry_after), first), MAX_BACKOFF)
        except (TypeError, ValueError):
            pass
    delay = first * (2 ** (throttled - 1))
    return min(delay + random.uniform(0, first / 4.0), MAX_BACKOFF)


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
                 retry_backoff=1.0, sleep=time.sleep, opener=None, allow_http=False, api_key_type="auto",
                 clock=time.time):
        self.base_url, self._api_key = check_connection_options(
            url, api_key, timeout, max_retries, retry_backoff, allow_http=allow_http, api_key_type=api_key_type)
        self.key_type = resolve_api_key_type(self.base_url, api_key_type)
        self.clock = clock
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

    def sleep(self, seconds):
        self._sleep(seconds)

    @property
    def safe_url(self):
        return redact_url(self.base_url)

    def _open(self, method, url, data):
        headers = {
            "api-version": API_VERSION,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        headers.update(auth_headers(self._api_key, self.key_type))
        if self._opener is not None:
            return self._opener(method, url, data, headers)
        # follow_redirects="none": a 3xx comes back as an HTTPError and is reported, never followed, so the
        # key is never sent to another host or over http:// (urllib would copy the header to the new URL).
        request = Request(headers=headers, timeout=self.timeout, validate_certs=self.validate_certs,
                          ca_path=self.ca_path, http_agent="clustersafe.deep_security", use_netrc=False,
                          follow_redirects="none", force_basic_auth=False)
        return request.open(method, url, data=data)

    def request(self, method, path, body=None, query=None, retry_transient=True):
        """One API call with bounded retries; returns the decoded JSON document (or None).

        ``retry_transient=False``: a timeout, a lost connection or HTTP 502/503/504 is raised at once (the
        call may have been carried out); HTTP 429 is still retried, since a throttled DSM processes nothing.
        """
        max_retries = self.max_retries if retry_transient else 0
        url = self.base_url + path
        if query:
            url += "?" + urlencode(query, doseq=True)
        data = json.dumps(body).encode("utf-8") if body is not None else None
        attempt = 0
        throttled = 0
        throttle_waited = 0.0
        while True:
            attempt += 1
            self.requests_made += 1
            try:
                response = self._open(method, url, data)
                raw = response.read()
                if not raw:
                    return None
                return parse_json(raw, "%s %s" % (method, path), status=getattr(response, "status", None))
            except HTTPError as error:
                status = error.code
                message = _dsm_message(_read_error_body(error))
                if 300 <= status < 400:
                    location = error.headers.get("Location") if error.headers else None
                    raise DsmError(
                        "the DSM answered %s %s with a redirect (HTTP %d to %s); redirects are not followed so the "
                        "API key never leaves for another address: set dsm_url to the DSM's own https:// API URL"
                        % (method, path, status, redact_url(location) if location else "no location"),
                        status=status)
                if status == 429:
                    throttled += 1
                    if throttle_waited < RATE_LIMIT_BUDGET:
                        retry_after = error.headers.get("Retry-After") if error.headers else None
                        delay = rate_limit_delay(throttled, self.retry_backoff, retry_after)
                        throttle_waited += delay
                        self.retries_made += 1
                        self._sleep(delay)
                        continue
                elif status in RETRY_STATUSES and attempt - throttled <= max_retries:
                    retry_after = error.headers.get("Retry-After") if error.headers else None
                    self._wait(attempt - throttled, retry_after)
                    continue
                raise self._http_error(method, path, status, message, attempt, throttle_waited)
            except (URLError, socket.timeout, socket.error) as error:
                reason = getattr(error, "reason", error)
                text = str(reason)
                if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
                    raise DsmTLSError(
                        "the DSM's TLS certificate at %s could not be validated (%s); set ca_path "
                        "(DSM_CA_PATH) to the CA that issued it" % (self.safe_url, text),
                        url=self.safe_url)
                if attempt - throttled <= max_retries:
                    self._wait(attempt - throttled, None)
                    continue
                raise DsmUnavailableError(
                    "cannot reach the DSM at %s: %s (gave up after %d attempts)"
                    % (self.safe_url, text, attempt), url=self.safe_url, attempts=attempt)

    def _wait(self, attempt, retry_after):
        self.retries_made += 1
        self._sleep(backoff_delay(attempt, self.retry_backoff, retry_after))

    def _http_error(self, method, path, status, message, attempt, throttle_waited=0.0):
        where = "%s %s" % (method, path)
        if status in (401, 403):
            hint = ("check api_key / DSM_API_KEY and the key's role; the key was sent as %s (api_key_type %s)"
                    % ("Authorization: ApiKey" if self.key_type == "cloud_one" else "api-secret-key", self.key_type))
            return DsmAuthError(
                "the DSM rejected the API key (HTTP %d: %s); %s" % (status, message or "unauthorized", hint),
                status=status)
        if status == 400:
            return DsmValidationError("the DSM refused %s (HTTP 400): %s" % (where, message), status=status)
        if status == 404:
            return DsmNotFoundError("the DSM has no %s (HTTP 404): %s" % (path, message), status=status)
        if status == 429:
            return DsmUnavailableError(
                "the DSM kept answering HTTP 429 to %s (%s) for %.0f s of backoff; its rate limit counts the last "
                "60 s of calls: run fewer DSM tasks at once or raise the limit"
                % (where, message or "throttled", throttle_waited),
                status=status, attempts=attempt)
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
            document = self.post("/%s/search" % resource, body, query=query)
            page = _items(document, key, "POST /%s/search" % resource)
            items.extend(page)
            if len(page) < page_size or not page:
                return items
            last_id = page[-1]["ID"]

    @staticmethod
    def exact(field, value):
        """A string criterion that matches ``value`` literally. The DSM treats ``%`` and ``_`` as wildcards
        unless ``stringWildcards`` is false (SDK 20.0 ``SearchCriteria.string_wildcards``: "Default true"),
        so a rule named ``web_1`` would also match ``webX1``."""
        return {"fieldName": field, "stringTest": "equal", "stringValue": value, "stringWildcards": False}

    # -- computers -------------------------------------------------------------------------------

    def list_computers(self, expand=("none",)):
        return self.search("computers", "computers", expand=expand)

    def find_computers(self, host_names, expand=("none",), parameter="computers"):
        """Computers by host name (exact first, then case-insensitive); unknown names -> NotFoundError."""
        found = []
        everything = None
        for name in host_names:
            matches = self.search("computers", "computers", expand=expand, criteria=[self.exact("hostName", name)])
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
        return _items(self.get("/policies"), "policies", "GET /policies")

    def find_policy(self, name_or_id, parameter="policy"):
        text = str(name_or_id).strip()
        if re.match(r"^[+-]\d+$", text) or (text.isdigit() and int(text) == 0):
            raise ParameterError("policy %r: a policy ID is a positive integer (or give the policy's name)"
                                 % (name_or_id,), parameter=parameter)
        policies = self.list_policies()
        for policy in policies:
            if text.isdigit() and int(text) == policy.get("ID"):
                return policy
        for policy in policies:
            if str(policy.get("name", "")).lower() == text.lower():
                return policy
        raise not_found("policy", name_or_id, [policy.get("name") for policy in policies], parameter)

    def search_policies(self):
        """Every policy, paged by ID (SDK 20.0 ``PoliciesApi.search_policies``: ``POST /policies/search``)."""
        return self.search("policies", "policies")

    def find_policies_by_name(self, name):
        """Policies named exactly ``name``. ``Policy.name`` is "Searchable as String" (SDK 20.0
        ``models/policy.py``); the criterion turns wildcards off, and only literal matches are kept since
        the DSM compares case as its database does."""
        return [policy for policy in self.search("policies", "policies", criteria=[self.exact("name", name)])
                if policy.get("name") == name]

    def get_policy(self, policy_id, overrides=False):
        """A policy. Module states read this way are those in effect: "The 'inherited' value is write-only"
        (SDK 20.0 ``FirewallPolicyExtension.state`` and the other modules'). ``overrides=True`` shows only
        what the policy sets itself (``describe_policy(overrides=...)``: "Show only overrides defined for
        the current policy")."""
        return self.get("/policies/%d" % int(policy_id), query={"overrides": "true"} if overrides else None)

    def modify_policy(self, policy_id, changes):
        return self.post("/policies/%d" % int(policy_id), changes)

    def modify_object(self, kind, object_id, changes):
        """Write module states to a computer or policy; the answer is not read, so a computer is asked for
        no complex properties (``expand=none``, Automation Center "Performance tips")."""
        query = {"expand": ["none"]} if kind == "computers" else None
        return self.post("/%s/%d" % (kind, int(object_id)), changes, query=query)

    # -- settings --------------------------------------------------------------------------------

    def get_setting(self, kind, object_id, name, overrides=False):
        """The value in effect, or with ``overrides=True`` the object's own value and None when it has none
        (SDK 20.0 ``describe_computer_setting(overrides=...)``: "Show the value only if defined for the
        current computer"; the same for policies)."""
        path = "/%s/%d/settings/%s" % (kind, int(object_id), quote(name))
        document = self.get(path, query={"overrides": "true"} if overrides else None)
        return _setting_value(document, "GET " + path)

    def set_setting(self, kind, object_id, name, value):
        path = "/%s/%d/settings/%s" % (kind, int(object_id), quote(name))
        return _setting_value(self.post(path, {"value": value}), "POST " + path)

    def reset_setting(self, kind, object_id, name):
        """Remove the object's own value so it follows its policy (or parent policy) again; returns the value
        in effect afterwards (SDK 20.0 ``reset_computer_setting``: ``DELETE /computers/{id}/settings/{name}``,
        "Reset the value for a computer setting"; ``reset_policy_setting`` for policies)."""
        path = "/%s/%d/settings/%s" % (kind, int(object_id), quote(name))
        return _setting_value(self.delete(path), "DELETE " + path)

    # -- firewall rules --------------------------------------------------------------------------

    def list_firewall_rules(self):
        return self.search("firewallrules", "firewallRules")

    def find_firewall_rules_by_name(self, name):
        # The search is exact (no wildcards) and the DSM compares case as its database does; keep only
        # the literal matches so the key is the name as written.
        return [rule for rule in self.search("firewallrules", "firewallRules", criteria=[self.exact("name", name)])
                if rule.get("name") == name]

    def create_firewall_rule(self, rule):
        """Create a rule once. A create whose answer is lost (timeout, reset, 502/503/504) may still have
        happened, so it is not blindly retried: the rule is looked up by name first and only re-sent when
        it is not there (a second POST would make a duplicate rule)."""
        name = rule.get("name")
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.request("POST", "/firewallrules", body=rule, retry_transient=False)
            except DsmUnavailableError as error:
                if error.details.get("status") == 429:
                    raise
                existing = self.find_firewall_rules_by_name(name) if name else []
                if existing:
                    return existing[0]
                if attempt > self.max_retries:
                    raise DsmUnavailableError(
                        "creating firewall rule %r got no answer from the DSM at %s after %d attempts (%s); it was "
                        "looked up by name after each attempt and is not there"
                        % (name, self.safe_url, attempt, error.message),
                        attempts=attempt)
                self._wait(attempt, None)

    def modify_firewall_rule(self, rule_id, changes):
        return self.post("/firewallrules/%d" % int(rule_id), changes)

    def delete_firewall_rule(self, rule_id):
        return self.delete("/firewallrules/%d" % int(rule_id))

    def firewall_rules_on(self, kind, object_id, overrides=False):
        """The firewall rules as they apply to a policy or computer: those in effect, the parent policies'
        included, each "including policy-level overrides" (SDK 20.0 ``list_firewall_rules_on_policy``:
        "Lists all firewall rules assigned to a policy"; ``list_firewall_rules_on_computer``);
        ``overrides=True``: "Show only rules assigned to the current policy"."""
        path = "/%s/%d/firewall/rules" % (kind, int(object_id))
        return _items(self.get(path, query={"overrides": "true"} if overrides else None), "firewallRules",
                      "GET " + path)

    # -- firewall rule assignments ---------------------------------------------------------------

    def get_firewall_assignments(self, kind, object_id, overrides=False):
        """Assigned rule IDs. Without ``overrides`` the DSM lists the rules in effect, the policy's included;
        ``overrides=true`` lists only those assigned to the object itself (SDK 20.0
        ``list_firewall_rule_ids_on_computer(overrides=...)``: "Return only rule IDs assigned directly")."""
        path = "/%s/%d/firewall/assignments" % (kind, int(object_id))
        query = {"overrides": "true"} if overrides else None
        return _rule_ids(self.get(path, query=query), "GET " + path)

    def add_firewall_assignments(self, kind, object_id, rule_ids):
        path = "/%s/%d/firewall/assignments" % (kind, int(object_id))
        return _rule_ids(self.post(path, {"ruleIDs": list(rule_ids)}, query={"overrides": "true"}), "POST " + path)

    def remove_firewall_assignment(self, kind, object_id, rule_id):
        path = "/%s/%d/firewall/assignments/%d" % (kind, int(object_id), int(rule_id))
        return _rule_ids(self.request("DELETE", path, query={"overrides": "true"}), "DELETE " + path)


def _items(document, key, source):
    """The list under ``key`` of a DSM answer, each item an object with an integer ``ID``."""
    if document is None:
        return []
    if not isinstance(document, dict):
        raise DsmError("the DSM answered %s with %s where an object with %r was expected"
                       % (source, type(document).__name__, key))
    items = document.get(key)
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, dict) and _is_id(item.get("ID")) for item in items):
        raise DsmError("the DSM answered %s with a malformed %r list (objects with an integer ID expected)"
                       % (source, key))
    return items


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _setting_value(document, source):
    """``SettingValue.value`` of an answer: a string, or None when the answer carries no value."""
    if document is None:
        return None
    if not isinstance(document, dict):
        raise DsmError("the DSM answered %s with %s where a setting value object was expected"
                       % (source, type(document).__name__))
    value = document.get("value")
    if value is not None and not isinstance(value, str):
        raise DsmError("the DSM answered %s with a setting value that is not a string: %r" % (source, value))
    return value


def _rule_ids(document, source):
    if document is None:
        return []
    ids = document.get("assignedRuleIDs") if isinstance(document, dict) else None
    if ids is None and isinstance(document, dict):
        return []
    if not isinstance(ids, list) or not all(_is_id(item) for item in ids):
        raise DsmError("the DSM answered %s with a malformed assignedRuleIDs (a list of integers expected)" % source)
    return list(ids)


def _read_error_body(error):
    try:
        return error.read()
    except Exception:
        return b""
