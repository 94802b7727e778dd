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
        V(https://dsm.example.com:4119/api).
      - If not set, the value of the E(DSM_URL) environment variable is used.
    type: str
    required: true
  api_key:
    description:
      - Secret of a DSM API key (sent as the C(api-secret-key) header, never logged or returned).
      - The key's role needs the rights the module uses (read computers and policies; edit firewall
        rules, computers or policies for the modules that change them).
      - If not set, the value of the E(DSM_API_KEY) environment variable is used.
    type: str
    required: true
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
      - Seconds to wait for one answer from the DSM.
    type: int
    default: 30
  max_retries:
    description:
      - How many times one call is retried when the DSM throttles (HTTP 429), is unavailable
        (HTTP 502, 503, 504) or the connection fails. V(0) disables retries.
      - Retries back off exponentially (see O(retry_backoff)), or wait as long as the DSM's C(Retry-After)
        header says, each wait capped at 30 seconds; then the module fails with the DSM's last answer.
    type: int
    default: 4
  retry_backoff:
    description:
      - Seconds to wait before the first retry; each further retry waits twice as long.
    type: float
    default: 1.0
notes:
  - "Runs on the controller: use C(delegate_to: localhost) or a play on C(localhost)."
  - Speaks the DSM REST API v1 (header C(api-version) V(v1)), as Trend Micro's C(deep-security-api) 20.0 SDK does.
  - Set the connection options once for every DSM module of the collection with C(module_defaults) and
    the action group C(group/clustersafe.deep_security.dsm).
"""
