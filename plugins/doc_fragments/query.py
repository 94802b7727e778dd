# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  query:
    description:
      - A JMESPath expression (U(https://jmespath.org/specification.html)) applied to the module's result
        before it leaves the module, so that only what the next task needs is returned (and stored, under
        AWX, in the job's events).
      - It sees the return fields listed under RETURN (all but C(changed) and C(warnings)) as one object; the
        value it yields is returned as RV(query_result) instead of those fields.
      - Checked before the module connects anywhere; an expression that is not valid JMESPath fails the task
        with a message naming O(query).
      - Needs the Python package C(jmespath) on the host that runs the module.
    type: str
    version_added: 0.2.0
"""
