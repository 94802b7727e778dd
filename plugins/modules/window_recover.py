#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: window_recover
short_description: Put back what the collection's maintenance windows left behind
version_added: 0.3.0
description:
  - The engine of the role C(clustersafe.deep_security.recover) (C(ansible-doc -t role clustersafe.deep_security.recover)
    documents every setting); its settings are the role's variables (C(recover_<setting>)). Use the role.
  - Reads every Windows host's window records side by side and puts back exactly what they say, one record at a time
    in the safe order, never on a failover cluster or NLB farm whose lease a running window holds; then the host
    evacuations and DRS levels recorded on vCenter, through the vSphere modules.
  - This is also the documented entry point to undo one record; set C(recover_windows_hosts) to the host and
    C(recover_window) to the window.
author:
  - clustersafe maintainers (@clustersafe)
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Lists what it would put back and changes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
notes:
  - Runs as an action plugin on the controller; give it C(run_once). It reaches the Windows hosts over WinRM with their
    inventory variables, the manager and vCenter with the C(dsm) and C(vsphere) action groups' C(module_defaults) or the
    C(DSM_*) and C(VMWARE_*) environment.
seealso:
  - module: clustersafe.deep_security.wsfc_window
  - module: clustersafe.deep_security.nlb_window
"""

EXAMPLES = r"""
- name: Put back what window CHG0012345 left on the SQL Server nodes
  clustersafe.deep_security.window_recover: {}
  vars:
    recover_windows_hosts: "{{ groups['sql_cluster'] }}"
    recover_window: CHG0012345
    recover_vsphere: false
  run_once: true
"""

RETURN = r"""
put_back:
  description: What was put back (or would be in check mode), per system and record.
  returned: always
  type: list
  elements: dict
refused:
  description: Records left alone, and why (a window still runs there, a host that belongs to no cluster).
  returned: always
  type: list
  elements: dict
failed:
  description: Records that could not be put back, and why; they stay on their systems.
  returned: always
  type: list
  elements: dict
run:
  description: This run's id, as the leases it took name it.
  returned: always
  type: str
"""
