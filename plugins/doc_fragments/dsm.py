# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  dsm_url:
    description:
      - Base URL of the Deep Security Manager REST API, including C(/api), for example
        V(https://dsm.example.com:4119/api) (Cloud One Workload Security
        V(https://workload.us-1.cloudone.trendmicro.com/api)).
      - Must be C(https://) (see O(allow_http)), without user info, query string or surrounding whitespace.
      - Redirects are never followed, so the API key cannot travel to another address; point it at the API itself.
      - If not set, the value of the E(DSM_URL) environment variable is used.
    type: str
    required: true
  api_key:
    description:
      - Secret of a DSM API key (sent as a request header, see O(api_key_type); never logged or returned).
      - Surrounding whitespace (the trailing newline of a YAML block) is stripped; a key with line breaks or
        other control characters inside is refused.
      - The key's role needs the rights the module uses (read computers and policies; edit firewall
        rules, computers or policies for the modules that change them).
      - If not set, the value of the E(DSM_API_KEY) environment variable is used.
    type: str
    required: true
  api_key_type:
    description:
      - "How the key is sent. V(legacy) as the C(api-secret-key) header (Deep Security Manager keys and legacy
        Workload Security keys); V(cloud_one) as C(Authorization: ApiKey <key>) (Trend Cloud One API keys)."
      - V(auto) picks V(cloud_one) when O(dsm_url) is a Cloud One host (C(*.cloudone.trendmicro.com)) and
        V(legacy) otherwise; set V(legacy) for a legacy Workload Security key on Cloud One.
      - If not set, the value of the E(DSM_API_KEY_TYPE) environment variable is used.
    type: str
    choices: [auto, legacy, cloud_one]
    default: auto
  allow_http:
    description:
      - Allow an C(http://) O(dsm_url). The API key then travels in clear text; only for an isolated test
        network. Without it an C(http://) URL is refused before anything is sent.
    type: bool
    default: false
  validate_certs:
    description:
      - Whether to validate the DSM's TLS certificate.
      - Only set this to V(false) on a lab or a DSM whose certificate you have checked by other means;
        prefer O(ca_path).
      - If not set, the value of the E(DSM_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authority that issued the DSM's certificate (the DSM's self-signed
        certificate by default).
      - If not set, the value of the E(DSM_CA_PATH) environment variable is used.
    type: path
  timeout:
    description:
      - Seconds to wait for one answer from the DSM; 1 or more.
    type: int
    default: 30
  max_retries:
    description:
      - How many times one call is retried when the DSM is unavailable (HTTP 502, 503, 504) or the
        connection fails. V(0) disables these retries.
      - Retries back off exponentially (see O(retry_backoff)), or wait as long as the DSM's C(Retry-After)
        header says, each wait capped at 30 seconds; then the module fails with the DSM's last answer.
      - Throttling (HTTP 429) has its own budget, whatever this option says; the DSM counts calls over the
        last 60 seconds, so a throttled call backs off exponentially from one second until at least 60
        seconds have been waited.
      - A firewall rule create whose answer is lost is not simply sent again; the rule is looked up by name
        first, so a retry never makes a duplicate.
    type: int
    default: 4
  retry_backoff:
    description:
      - Seconds to wait before the first retry; each further retry waits twice as long. 0 or more.
    type: float
    default: 1.0
notes:
  - "Runs on the controller: use C(delegate_to: localhost) or a play on C(localhost)."
  - Speaks the DSM REST API v1 (header C(api-version) V(v1)), as Trend Micro's C(deep-security-api) 20.0 SDK does.
  - Set the connection options once for every DSM module of the collection with C(module_defaults) and
    the action group C(group/clustersafe.deep_security.dsm).
"""
