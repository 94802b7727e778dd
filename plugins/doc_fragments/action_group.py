# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action group of each module (meta/runtime.yml), for module_defaults."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    VSPHERE = r"""
attributes:
  action_group:
    description: >-
      Use C(group/clustersafe.deep_security.vsphere) in C(module_defaults) to set its options (the vCenter connection) for
      every vSphere module at once.
    support: full
    membership:
      - clustersafe.deep_security.vsphere
"""

    WINDOWS = r"""
attributes:
  action_group:
    description: >-
      Use C(group/clustersafe.deep_security.windows) in C(module_defaults) to set its options (the WinRM connection) for
      every Windows module at once.
    support: full
    membership:
      - clustersafe.deep_security.windows
"""

    DSM = r"""
attributes:
  action_group:
    description: >-
      Use C(group/clustersafe.deep_security.dsm) in C(module_defaults) to set its options (the manager's URL and API key) for
      every DSM module at once.
    support: full
    membership:
      - clustersafe.deep_security.dsm
"""

    ASSESS = r"""
attributes:
  action_group:
    description: >-
      Use C(group/clustersafe.deep_security.assess) in C(module_defaults) to set its options (for example
      O(skip_rules)) for every assessment task; it connects to no system, so it is in none of the connection groups.
    support: full
    membership:
      - clustersafe.deep_security.assess
"""
