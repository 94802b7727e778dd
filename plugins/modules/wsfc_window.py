#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: wsfc_window
short_description: A maintenance window over Windows failover clusters, one node per failover cluster at a time
version_added: 0.3.0
description:
  - The window engine of the role C(clustersafe.deep_security.wsfc_agent_rollout) (C(ansible-doc -t role
    clustersafe.deep_security.wsfc_agent_rollout) documents every setting). Use the role; this action is what its
    tasks run, once, on the controller.
  - The window's settings are the role's variables (C(wsfc_agent_rollout_<setting>)), the role's defaults included;
    an unknown variable with the role's prefix (or the playbook's) is refused, naming the nearest known one.
  - It reads every node side by side, groups them by the failover cluster each reports, takes each failover cluster's lease (one
    window per failover cluster), puts back what an earlier run of the same window left, plans, and then works the
    failover clusters side by side, one node per failover cluster at a time, writing each change on the system it changes first;
    every decision is made in the collection's tested Python (C(plugins/plugin_utils/engine)).
  - Reaches the nodes over WinRM (their inventory variables, then the command line's C(-u)/C(--ask-pass), then the
    C(WINRM_*) environment), the Deep Security Manager and vCenter (C(module_defaults) of the C(dsm) and
    C(vsphere) action groups, then C(DSM_*) and C(VMWARE_*)) itself; the play host's connection is never used.
  - Writes the window reports (JSON, Markdown, HTML) and hands their summary to AWX (C(set_stats) data in
    C(ansible_stats)); fails when the window did not complete.
author:
  - clustersafe maintainers (@clustersafe)
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads everything, prints the plan and changes nothing; a refused plan fails.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - Runs as an action plugin on the controller; give it C(run_once) in a play over the nodes.
seealso:
  - module: clustersafe.deep_security.window_recover
"""

EXAMPLES = r"""
- name: Maintain the failover clusters of the play, one node per cluster at a time
  clustersafe.deep_security.wsfc_window: {}
  vars:
    wsfc_agent_rollout_window: CHG0012345
    wsfc_agent_rollout_version: 20.0.1-690
    wsfc_agent_rollout_installer_url: https://dsm.corp.example:4119/software/agent/Windows/x86_64/20.0.1-690/agent.msi
    wsfc_agent_rollout_installer_sha256: "{{ agent_msi_sha256 }}"
    wsfc_agent_rollout_activation_url: dsm://dsm.corp.example:4120/
    wsfc_agent_rollout_policy: SQL Servers
  run_once: true
"""

RETURN = r"""
result:
  description: The window's result across its failover clusters (C(succeeded), C(failed), C(refused), C(incomplete), C(planned)).
  returned: always
  type: str
  sample: succeeded
run:
  description: This run's id, as its leases name it.
  returned: always
  type: str
  sample: 3f2a9c0d1e4b5a6f
reports:
  description: Per failover cluster, the summary of its window report (docs/window-report.md).
  returned: always
  type: dict
report_files:
  description: The report files written (none in check mode).
  returned: always
  type: list
  elements: str
"""
