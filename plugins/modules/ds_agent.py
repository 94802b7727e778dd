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
  - Installs the agent MSI (C(msiexec /i ... /qn /norestart ADDLOCAL=ALL)) from an HTTPS URL or a path on
    the node. The node downloads or copies the MSI into a new folder only Administrators and SYSTEM can
    write, checks its SHA-256 against O(installer_sha256), installs that same copy and deletes it.
    Upgrades when O(version) is newer than the installed build; uninstalls with O(state=absent).
  - Never restarts the node itself (C(/norestart)). Exit code V(3010) is success with a reboot pending; the task
    reports RV(reboot_required=true) and a warning, and the caller decides when to reboot.
  - Exit code V(1641) ("the installer has initiated a restart") means the node is restarting now. The task
    fails with RV(restart_initiated=true) and a message saying the node is restarting and its work in the window
    must stop there (services set to start automatically, the cluster service among them, start again with it).
    Nothing more is run on the node in that task.
  - Activates the agent against a Deep Security Manager (C(dsa_control -a)) when O(activation_url) is given
    and the agent is not activated there yet, or always with O(reactivate=true). Activated is judged as Trend's
    own Ansible role and Chef cookbook judge it - C(agentCertHash) of C(dsa_query -c GetAgentStatus) differs
    from the bootstrap certificate's hash - and, only for an agent that prints no such hash, by C(dsmUrl)
    being present, as the manager's generated deployment script does.
  - Before an uninstall, the agent's uninstall key name must be a Windows Installer product code (a GUID such
    as C({1D2F3A4B-5C6D-7E8F-9A0B-1C2D3E4F5A6B})); anything else fails the task, in check mode too, and nothing
    runs on the node. It resets the agent (C(dsa_control -r)) only when it is activated to another
    manager, and waits (up to 120 s) for the C(ds_agent) service to run before activating.
  - Parameters reach the node on the standard input of PowerShell, never on its command line.
  - Agent self-protection is turned off (C(dsa_control -s 0), with O(self_protection_password) when set)
    before an upgrade or uninstall; after an upgrade a heartbeat (C(dsa_control -m)) lets the manager
    send its policy, self-protection included, again.
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
      - Without it and without O(installer_path), that manager URL is derived from the host of
        O(activation_url) (port 4119) and O(version).
      - User info and query strings are never shown in messages or results.
    type: str
  installer_sha256:
    description:
      - SHA-256 of the MSI; the node refuses to install a file with another digest.
      - Required to install or upgrade unless O(allow_unverified_installer=true).
    type: str
  allow_unverified_installer:
    description: Install an MSI without checking its SHA-256 (a warning says so).
    type: bool
    default: false
  installer_validate_certs:
    description:
      - Whether the node validates the TLS certificate of O(installer_url).
      - V(false) is for a manager with its out-of-the-box self-signed certificate; it requires
        O(installer_sha256), which then authenticates the download.
    type: bool
    default: true
  installer_path:
    description: Path of the MSI on the node, instead of O(installer_url).
    type: str
  activation_url:
    description:
      - Manager to activate against, C(dsm://<manager host or address>:<port>/), for example
        C(dsm://dsm.example.com:4120/). Nothing else is accepted (the value reaches C(cmd.exe)).
      - The alias O(dsm_url) is deprecated; it is not the C(https://.../api) address the C(dsm_*) modules use.
    type: str
    aliases: [dsm_url]
  policy_id:
    description: Policy to assign at activation (a positive ID).
    type: int
  tenant_id:
    description: Tenant ID (multi-tenant managers and Deep Security as a Service); letters, digits and hyphens.
    type: str
  token:
    description:
      - Activation token (multi-tenant managers and Deep Security as a Service); letters, digits and hyphens.
      - Never shown in output; sent to the node on standard input, not on a command line.
    type: str
  self_protection_password:
    description:
      - Password of agent self-protection ("Local override requires password" in the manager's policy),
        passed to C(dsa_control -p) to turn self-protection off for an upgrade or uninstall.
      - "Letters, digits and C(_ . : / @ # + ~ [ ] -) only, since C(dsa_control) is a C(cmd.exe) script."
    type: str
  reactivate:
    description: Activate again even when the agent is already activated against O(activation_url).
    type: bool
    default: false
  allow_running_cluster_service:
    description:
      - Accept the risk of rule MS-02 and act although the node's cluster service is running.
      - The roles the node owns will fail over, unplanned.
    type: bool
    default: false
  install_timeout:
    description: Seconds to allow the download plus msiexec; a positive number.
    type: int
    default: 1800
  window:
    description:
      - Id of the maintenance window this agent work belongs to (letters, digits, C(.), C(_), C(-); up to 64).
      - Before the first msiexec or C(dsa_control) the module writes the record C(agent_maintenance) on the node
        (as M(clustersafe.deep_security.node_window_record) does). It stays until
        M(clustersafe.deep_security.mscs_node) starts the cluster service within the same window, which a window
        does only once the manager shows the agent's policy applied; C(clustersafe.deep_security.recover) keeps the
        cluster service stopped while the record says agent work was interrupted and not yet confirmed.
    type: str
extends_documentation_fragment:
  - clustersafe.deep_security.winrm
  - clustersafe.deep_security.action_group.windows
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
    activation_url: dsm://dsm.example.com:4120/
    policy_id: 3
  delegate_to: localhost
  register: agent

- name: Reboot later if msiexec asked for it (the module never reboots)
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
  description:
    - Whether the node needs a reboot, because msiexec returned 3010 (the node was not restarted),
      or Windows or an earlier agent change has a reboot pending.
  returned: always
  type: bool
restart_initiated:
  description:
    - True when msiexec returned 1641, that is Windows Installer has initiated a restart of the node; the task failed
      and the window's work on this node must stop there. Returned with the failure, together with RV(msi_exit_code).
  returned: when msiexec returned 1641
  type: bool
  sample: true
self_protection:
  description:
    - What happened to agent self-protection around msiexec; V(untouched) (no agent yet), V(off) (turned
      off; the manager turns it on again with its next policy), V(heartbeat) (turned off, then a heartbeat
      asked the manager for the policy), V(failed) (could not be turned off); null when msiexec did not run.
  returned: always
  type: str
msg:
  description: "One line for the run's report, for example C(SQL-NODE1: Deep Security Agent none -> 20.0.1-690, reboot pending)."
  returned: when something changed
  type: str
agent:
  description: Agent state after the run (before it, in check mode); C(dsm_url) comes from C(dsa_query).
  returned: always
  type: dict
  sample: {"installed": true, "version": "20.0.1-690", "service_status": "Running", "activated": true,
           "dsm_url": "dsm://dsm.example.com:4120/", "policy_id": 3}
"""

import socket

from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.agent import url_secrets
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.module import WinRMModule

DESIRED = ("state", "version", "installer_url", "installer_sha256", "installer_path", "activation_url", "policy_id",
           "tenant_id", "token", "reactivate", "allow_running_cluster_service", "allow_unverified_installer",
           "installer_validate_certs", "self_protection_password")


def main():
    module = WinRMModule(argument_spec=dict(
        state=dict(type="str", default="present", choices=["present", "absent"]),
        version=dict(type="str"),
        installer_url=dict(type="str"),
        installer_sha256=dict(type="str"),
        allow_unverified_installer=dict(type="bool", default=False),
        installer_validate_certs=dict(type="bool", default=True),
        installer_path=dict(type="str"),
        activation_url=dict(type="str", aliases=["dsm_url"],
                            deprecated_aliases=[dict(name="dsm_url", version="2.0.0",
                                                     collection_name="clustersafe.deep_security")]),
        policy_id=dict(type="int"),
        tenant_id=dict(type="str"),
        token=dict(type="str", no_log=True),
        self_protection_password=dict(type="str", no_log=True),
        reactivate=dict(type="bool", default=False),
        allow_running_cluster_service=dict(type="bool", default=False),
        install_timeout=dict(type="int", default=1800),
        window=dict(type="str"),
    ), mutually_exclusive=[("installer_url", "installer_path")])
    p = module.params
    # user info and query strings of URLs (signed URLs) are secrets too: Ansible masks them in the
    # invocation it echoes and in anything the module returns
    for url in (p["installer_url"], p["activation_url"]):
        module.no_log_values.update(url_secrets(url))
    desired = dict((key, p[key]) for key in DESIRED)
    module.run_with_client(lambda client: service.ds_agent(client, desired, check_mode=module.check_mode,
                                                           install_timeout=p["install_timeout"], window=p["window"],
                                                           controller=socket.gethostname()))


if __name__ == "__main__":
    main()
