#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: ds_agent
short_description: Install, upgrade, activate or remove the Trend Micro Deep Security Agent on a Windows node
version_added: 0.1.0
description:
  - Installs the agent MSI (C(msiexec /i ... /qn ADDLOCAL=ALL)) from an HTTPS URL, checked against
    O(installer_sha256), or from a path on the node; upgrades when O(version) is newer than the installed
    build; uninstalls with O(state=absent).
  - Activates the agent against a Deep Security Manager (C(dsa_control -r), then C(dsa_control -a)) when
    O(dsm_url) is given and the agent is not activated there yet, or always with O(reactivate=true).
  - Reports the previous and new version and the MSI exit code; V(3010) is success with a reboot
    required, any other failure code fails the task with the tail of the MSI log.
  - B(Interlock, rule MS-02.) Installing, upgrading, uninstalling or activating the agent loads or unloads
    a network driver that blips the node's network. On a failover-cluster node whose cluster service runs,
    that fails the cluster's roles over and can stop SQL Server, so the module refuses unless
    O(allow_running_cluster_service=true). Stop the cluster service first with
    M(clustersafe.deep_security.mscs_node) O(clustersafe.deep_security.mscs_node#module:state=stopped).
author:
  - clustersafe maintainers (@clustersafe)
options:
  state:
    description: Whether the agent should be installed.
    type: str
    choices: [present, absent]
    default: present
  version:
    description:
      - Agent build to install or upgrade to, for example V(20.0.1-690).
      - Without it, an installed agent of any version is left alone (activation still applies).
    type: str
  installer_url:
    description:
      - HTTPS URL the node downloads the MSI from, for example the manager's
        C(https://<dsm>:4119/software/agent/Windows/x86_64/<version>/agent.msi).
    type: str
  installer_sha256:
    description:
      - SHA-256 of the MSI; the node refuses to install a file with another digest.
    type: str
  installer_path:
    description: Path of the MSI on the node, instead of O(installer_url).
    type: str
  dsm_url:
    description: Manager to activate against, C(dsm://<manager>:4120/).
    type: str
  policy_id:
    description: Policy to assign at activation.
    type: int
  tenant_id:
    description: Tenant ID (multi-tenant managers and Deep Security as a Service).
    type: str
  token:
    description: Activation token (multi-tenant managers and Deep Security as a Service). Never shown in output.
    type: str
  reactivate:
    description: Activate again even when the agent is already activated against O(dsm_url).
    type: bool
    default: false
  allow_running_cluster_service:
    description:
      - Accept the risk of rule MS-02 and act although the node's cluster service is running.
      - The roles the node owns will fail over, unplanned.
    type: bool
    default: false
  install_timeout:
    description: Seconds to allow the download plus msiexec.
    type: int
    default: 1800
extends_documentation_fragment:
  - clustersafe.deep_security.winrm
attributes:
  check_mode:
    support: full
    description: Reports the planned actions and versions, changes nothing.
  diff_mode:
    support: full
    description: Agent version, service and activation before and after.
"""

EXAMPLES = r"""
- name: Install and activate the agent on a cluster node whose cluster service was stopped before
  clustersafe.deep_security.ds_agent:
    hostname: "{{ ansible_host }}"
    version: 20.0.1-690
    installer_url: https://dsm.example.com:4119/software/agent/Windows/x86_64/20.0.1-690/agent.msi
    installer_sha256: "{{ agent_sha256 }}"
    dsm_url: dsm://dsm.example.com:4120/
    policy_id: 3
  delegate_to: localhost
  register: agent

- name: Reboot later if msiexec asked for it
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }} needs a reboot"
  when: agent.reboot_required

- name: Remove the agent
  clustersafe.deep_security.ds_agent:
    hostname: "{{ ansible_host }}"
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
actions:
  description: Steps taken (or that would be taken in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: [install, activate]
computer:
  description: Computer name of the connected node.
  returned: always
  type: str
previous_version:
  description: Agent version before the run; null when none was installed.
  returned: always
  type: str
  sample: 20.0.1-690
version:
  description: Agent version after the run (planned, in check mode); null when none is installed.
  returned: always
  type: str
  sample: 20.0.1-3180
msi_exit_code:
  description: Exit code of msiexec when it ran.
  returned: always
  type: int
  sample: 0
reboot_required:
  description: Whether the node needs a reboot (msiexec returned 3010 or a reboot is pending).
  returned: always
  type: bool
agent:
  description: Agent state after the run (before it, in check mode).
  returned: always
  type: dict
  sample: {"installed": true, "version": "20.0.1-690", "service_status": "Running", "activated": true,
           "dsm_url": "dsm://dsm.example.com:4120/", "policy_id": 3}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.clustersafe.deep_security.plugins.module_utils.runner import run_module
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.client import (
    HAS_WINRM,
    WINRM_IMPORT_ERROR,
    WinRMClient,
    winrm_argument_spec,
)

DESIRED = ("state", "version", "installer_url", "installer_sha256", "installer_path", "dsm_url", "policy_id",
           "tenant_id", "token", "reactivate", "allow_running_cluster_service")


def main():
    argument_spec = winrm_argument_spec()
    argument_spec.update(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        version=dict(type="str"),
        installer_url=dict(type="str"),
        installer_sha256=dict(type="str"),
        installer_path=dict(type="str"),
        dsm_url=dict(type="str"),
        policy_id=dict(type="int"),
        tenant_id=dict(type="str"),
        token=dict(type="str", no_log=True),
        reactivate=dict(type="bool", default=False),
        allow_running_cluster_service=dict(type="bool", default=False),
        install_timeout=dict(type="int", default=1800),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=[("installer_url", "installer_path")])
    if not HAS_WINRM:
        module.fail_json(msg=missing_required_lib("pywinrm"), exception=WINRM_IMPORT_ERROR)
    p = module.params
    desired = dict((key, p[key]) for key in DESIRED)
    run_module(module, lambda: service.ds_agent(WinRMClient(p), desired, check_mode=module.check_mode,
                                                install_timeout=p["install_timeout"]))


if __name__ == "__main__":
    main()
