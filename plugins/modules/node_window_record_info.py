#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: node_window_record_info
short_description: List the maintenance window records on a Windows node
version_added: 0.1.0
description:
  - Lists what maintenance windows recorded on the node the WinRM connection reaches, from
    C(HKLM\SOFTWARE\clustersafe\maintenance_windows) (see M(clustersafe.deep_security.node_window_record)).
    C(recover) and a re-run of a window read these to put the node back from any controller.
  - Every record is checked field by field before it is returned (anyone who can write C(HKLM\SOFTWARE) on
    the node can write one); the records that fail come back apart, in RV(invalid_records), with the reason
    and a warning each, so nothing acts on them.
  - One WinRM shell on the node.
author:
  - clustersafe maintainers (@clustersafe)
options:
  window:
    description:
      - Only the records of this window (compared without case, as Windows compares registry key names).
    type: str
extends_documentation_fragment:
  - clustersafe.deep_security.winrm
  - clustersafe.deep_security.query
  - clustersafe.deep_security.action_group.windows
  - clustersafe.deep_security.attributes.info_module
notes:
  - "Microsoft: registry provider U(https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_registry_provider),
    C(Get-ChildItem), C(Get-ItemProperty)."
"""

EXAMPLES = r"""
- name: What did window CHG0012345 leave on this node?
  clustersafe.deep_security.node_window_record_info:
    hostname: "{{ ansible_host }}"
    window: CHG0012345
  delegate_to: localhost
  register: left

- name: Resume the node if the window drained it
  clustersafe.deep_security.mscs_node:
    hostname: "{{ ansible_host }}"
    state: resumed
    failback: "{{ (left.records | selectattr('change', 'equalto', 'node_drained') | first).data.failback }}"
  delegate_to: localhost
  when: left.records | selectattr('change', 'equalto', 'node_drained') | list | length > 0
"""

RETURN = r"""
query_result:
  description: The value of O(query) over the other return fields; only with O(query), and then instead of them.
  returned: when O(query) is set
  type: raw
  sample: [stop_cluster_service]
records:
  description:
    - The window records on the node (of O(window) when given) that passed every check, sorted by window and
      change.
  returned: always
  type: list
  elements: dict
  contains:
    window:
      description: Window id, as the registry key is named on the node.
      type: str
      sample: CHG0012345
    change:
      description: What the window changed on the node.
      type: str
      sample: cluster_service_stopped
    since:
      description: When the node wrote the record, UTC, ISO 8601.
      type: str
      sample: "2026-11-26T07:30:00Z"
    controller:
      description: Host name of the controller that wrote the record.
      type: str
      sample: ctl01
    data:
      description: The facts written with the record (what each change holds is in M(clustersafe.deep_security.node_window_record)).
      type: dict
      sample: {}
invalid_records:
  description:
    - The records on the node (of O(window) when given) that are not trusted, each with the reason; left on the
      node as they are. See M(clustersafe.deep_security.node_window_record) for the checks.
    - Names that are not plain are shown JSON-escaped, so a report can show them as text.
  returned: always
  type: list
  elements: dict
  sample: [{"window": "CHG0012345", "change": "node_drained",
            "reason": "since null is not a UTC time such as 2026-11-26T07:30:00Z (a write cut short, or a hand edit)"}]
  contains:
    window:
      description: The window's key name, escaped unless plain.
      type: str
    change:
      description: The change's key name, escaped unless plain.
      type: str
    reason:
      description: Why the record is not trusted.
      type: str
"""

from ansible_collections.clustersafe.deep_security.plugins.module_utils.query import apply_query, module_query, query_argument_spec
from ansible_collections.clustersafe.deep_security.plugins.module_utils.window_id import validate_window_id
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import records
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm.module import WinRMModule


def main():
    module = WinRMModule(argument_spec=dict(window=dict(type="str"), **query_argument_spec()))
    query = module_query(module)
    p = module.params

    def work():
        if p["window"] is not None:
            validate_window_id(p["window"])
        return apply_query(records.node_window_record_info(module.client(), window=p["window"]), query, p["query"])

    module.run(work)


if __name__ == "__main__":
    main()
