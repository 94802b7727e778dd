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
      - Name or address of the vCenter Server.
      - If not set, the value of the E(VMWARE_HOST) environment variable is used.
    type: str
    required: true
  username:
    description:
      - vCenter user name, for example V(administrator@vsphere.local).
      - If not set, the value of the E(VMWARE_USER) environment variable is used.
    type: str
    required: true
    aliases: [user]
  password:
    description:
      - Password of O(username).
      - If not set, the value of the E(VMWARE_PASSWORD) environment variable is used.
    type: str
    required: true
    aliases: [pass, pwd]
  port:
    description:
      - HTTPS port of the vCenter Server, 1 to 65535.
      - If not set, the value of the E(VMWARE_PORT) environment variable is used.
    type: int
    default: 443
  validate_certs:
    description:
      - Whether to validate the vCenter Server's TLS certificate.
      - Only set this to V(false) on a lab or a vCenter whose certificate you have checked by other means;
        every run then warns.
      - If not set, the value of the E(VMWARE_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA (or CAs) that signed the vCenter certificate, used instead of the controller's
        trust store when O(validate_certs=true).
    type: path
notes:
  - 'Runs on the controller: use C(delegate_to: localhost) or a play on C(localhost).'
  - Set the connection options once for every vSphere module of the collection with
    C(module_defaults) and the action group C(group/clustersafe.deep_security.vsphere).
requirements:
  - pyvmomi >= 8.0
"""
