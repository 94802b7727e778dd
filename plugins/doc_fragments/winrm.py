# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  hostname:
    description:
      - Address or name of the Windows node to connect to, for example V({{ ansible_host }}).
      - If not set, the value of the E(WINRM_HOST) environment variable is used.
    type: str
    required: true
  username:
    description:
      - User for WinRM, for example V(DOMAIN\\admin) or V(admin@domain.example).
      - Required unless O(transport=certificate).
      - If not set, the value of the E(WINRM_USER) environment variable is used.
    type: str
    aliases: [user]
  password:
    description:
      - Password of O(username). Never shown in output.
      - If not set, the value of the E(WINRM_PASSWORD) environment variable is used.
    type: str
    aliases: [pass, pwd]
  port:
    description:
      - WinRM listener port.
      - Defaults to V(5986) with O(scheme=https) and V(5985) with O(scheme=http).
      - If not set, the value of the E(WINRM_PORT) environment variable is used.
    type: int
  transport:
    description:
      - Authentication of the WinRM session.
      - V(credssp) delegates credentials (a double hop), needed only by tasks that reach a third machine.
      - V(certificate) uses O(cert_pem) and O(cert_key_pem) and needs O(scheme=https).
      - If not set, the value of the E(WINRM_TRANSPORT) environment variable is used.
    type: str
    choices: [ntlm, kerberos, credssp, certificate, basic]
    default: ntlm
  scheme:
    description:
      - V(https) (port 5986) or V(http) (port 5985).
      - V(http) is only accepted with a transport that encrypts messages (V(ntlm), V(kerberos), V(credssp))
        and O(message_encryption) not V(never), or with O(allow_unencrypted_http=true).
    type: str
    choices: [https, http]
    default: https
  validate_certs:
    description:
      - Whether to validate the node's TLS certificate.
      - Only set this to V(false) on a lab or a node whose certificate you have checked by other means.
      - If not set, the value of the E(WINRM_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM bundle of the certificate authorities that sign the nodes' WinRM certificates.
      - If not set, the value of the E(WINRM_CA_PATH) environment variable is used, then
        E(REQUESTS_CA_BUNDLE), then the system store.
    type: path
  cert_pem:
    description:
      - Client certificate (PEM) for O(transport=certificate).
    type: path
  cert_key_pem:
    description:
      - Private key (PEM) of O(cert_pem).
    type: path
  message_encryption:
    description:
      - WinRM message encryption; V(auto) encrypts over HTTP when the transport can.
    type: str
    choices: [auto, always, never]
    default: auto
  allow_unencrypted_http:
    description:
      - Accept O(scheme=http) without message encryption (for example O(transport=basic)).
      - Credentials and data then cross the network in clear text; only for isolated test networks.
    type: bool
    default: false
  operation_timeout:
    description:
      - WS-Management operation timeout in seconds; must be lower than O(read_timeout).
    type: int
    default: 20
  read_timeout:
    description:
      - Seconds to wait for any HTTP answer from the node.
    type: int
    default: 30
  command_timeout:
    description:
      - Upper bound in seconds for one script on the node, from start to its last output.
      - When it runs out the module fails and says the operation may still be running on the node.
    type: int
    default: 600
notes:
  - "Runs on the controller (C(delegate_to: localhost)) and reaches the node with pywinrm; the node needs a
    WinRM listener and PowerShell 5.1 or later."
  - Set the connection options once for every Windows module of the collection with C(module_defaults)
    and the action group C(group/clustersafe.deep_security.windows), for example from the usual inventory
    variables C(ansible_host), C(ansible_user), C(ansible_password), C(ansible_port) and
    C(ansible_winrm_transport).
  - Each call costs one WinRM shell on the node (create, command, receive, delete) per script run.
requirements:
  - pywinrm >= 0.4.3
  - requests-ntlm (for O(transport=ntlm)), pykerberos or requests-kerberos (for O(transport=kerberos)),
    requests-credssp (for O(transport=credssp))
"""
