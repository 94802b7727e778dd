# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``nlb_exclusion_rules`` filter; documented in ``nlb_exclusion_rules.yml`` beside this file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.nlb import exclusion_rules


def nlb_exclusion_rules(info, virtual_ip=False, protocols=None, name_prefix="clustersafe", heartbeat_action="bypass"):
    try:
        return exclusion_rules(info, virtual_ip=virtual_ip, protocols=protocols, name_prefix=name_prefix,
                               heartbeat_action=heartbeat_action)
    except CollectionError as e:
        raise AnsibleFilterError(e.message)


class FilterModule(object):
    def filters(self):
        return {"nlb_exclusion_rules": nlb_exclusion_rules}
