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
      - Required unless O(transport=certificate) or O(transport=kerberos).
      - With O(transport=kerberos) it names the principal whose ticket to use (V(admin@DOMAIN.EXAMPLE));
        without it the default principal of the credential cache is used.
      - If not set, the value of the E(WINRM_USER) environment variable is used.
    type: str
    aliases: [user]
  password:
    description:
      - Password of O(username). Never shown in output.
      - Required for V(ntlm), V(credssp) and V(basic). Not used by O(transport=kerberos), which takes its
        ticket from the credential cache (C(kinit), or a keytab through C(kinit -k -t) or E(KRB5_CLIENT_KTNAME)).
      - If not set, the value of the E(WINRM_PASSWORD) environment variable is used.
    type: str
    aliases: [pass, pwd]
  port:
    description:
      - WinRM listener port, 1 to 65535.
      - Defaults to V(5986) with O(scheme=https) and V(5985) with O(scheme=http).
      - If not set, the value of the E(WINRM_PORT) environment variable is used.
    type: int
  transport:
    description:
      - Authentication of the WinRM session.
      - V(kerberos) needs pywinrm's Kerberos extra (C(pywinrm[kerberos])) and a ticket from C(kinit) on the
        controller; V(credssp) needs C(pywinrm[credssp]), O(scheme=https), O(username) and O(password).
      - V(credssp) delegates credentials (a double hop), needed only by tasks that reach a third machine;
        O(kerberos_delegation) does the same for V(kerberos). With V(credssp) the node must speak CredSSP
        protocol version 5 or later (patched for CVE-2018-0886), as requests-credssp advises; an older node is
        refused before the password is delegated.
      - V(certificate) uses O(cert_pem) and O(cert_key_pem) and needs O(scheme=https).
      - If not set, the value of the E(WINRM_TRANSPORT) environment variable is used.
    type: str
    choices: [ntlm, kerberos, credssp, certificate, basic]
    default: ntlm
  scheme:
    description:
      - V(https) (port 5986) or V(http) (port 5985).
      - V(http) is accepted without O(allow_unencrypted_http=true) only with O(transport=kerberos) and
        O(message_encryption) not V(never), because Kerberos encrypts the messages and authenticates the node.
        NTLM message encryption does not authenticate the node, so V(ntlm) over V(http) needs
        O(allow_unencrypted_http=true) like V(basic); V(credssp) is refused over V(http).
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
      - With O(scheme=http) and O(transport=kerberos), V(auto) is passed to pywinrm as V(always), so a Kerberos
        library without WinRM encryption (pykerberos before 1.2.1) is an error instead of clear text. V(never)
        there needs O(allow_unencrypted_http=true).
    type: str
    choices: [auto, always, never]
    default: auto
  allow_unencrypted_http:
    description:
      - Accept O(scheme=http) without a transport that both encrypts and authenticates the node, that is
        with O(transport=basic) (clear text) or O(transport=ntlm) (encrypted, but the node is not
        authenticated, so a machine in the middle can pose as it).
      - Only for isolated test networks. Every result of the module (failed ones too) then carries a warning
        saying what is unprotected.
    type: bool
    default: false
  kerberos_delegation:
    description:
      - With O(transport=kerberos), forward the Kerberos ticket to the node so that it can reach a third
        machine in the user's name (a double hop), as CredSSP does with the password.
      - The account and the node must be trusted for delegation in Active Directory.
    type: bool
    default: false
  operation_timeout:
    description:
      - WS-Management operation timeout in seconds; must be lower than O(read_timeout).
      - The longest the node holds one request. While a script runs, the node answers each request for its
        output after this time with an operation-timeout fault and the module asks again, so a script may run
        far longer than O(read_timeout), up to O(command_timeout).
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
      - The last request for output asks the node for only the time left, so the wait ends at this bound even
        when O(operation_timeout) is longer.
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
  - Each call costs one WinRM shell on the node (create, command, receive, signal, delete) per script run; a
    script that runs longer than O(operation_timeout) costs more receives, not more shells.
requirements:
  - pywinrm >= 0.4.3 (it brings requests-ntlm for O(transport=ntlm))
  - pywinrm[kerberos] for O(transport=kerberos) (pykerberos, built against the system's Kerberos libraries)
  - pywinrm[credssp] for O(transport=credssp) (requests-credssp)
"""
