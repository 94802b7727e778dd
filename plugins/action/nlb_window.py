# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nlb_window action: a maintenance window over Windows NLB farms, run by the window engine
(plugins/plugin_utils/engine); its options are the nlb_agent_rollout role's variables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.action import WindowActionBase, run_window


class ActionModule(WindowActionBase):
    def run(self, tmp=None, task_vars=None):
        super(ActionModule, self).run(tmp, task_vars)
        return run_window(self, "nlb", task_vars or {})
