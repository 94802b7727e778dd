# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every filter of the collection shares: a decision function's typed error becomes the filter
error Ansible shows, with the function's own message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError


def as_filter(function):
    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except CollectionError as error:
            raise AnsibleFilterError(error.message)
    wrapped.__name__ = function.__name__
    wrapped.__doc__ = function.__doc__
    return wrapped
