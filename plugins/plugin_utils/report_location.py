# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where every role of the collection writes its reports: one rule, on the controller.

Empty: ``window-reports`` under the directory ``ansible-playbook`` was started from (in AWX the job's project
directory); a relative path is relative to that directory too; ``~`` is the controller user's home. Never the
installed collection or a role's directory, and never a module's temporary directory."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

DEFAULT_SUBDIRECTORY = "window-reports"


def report_dir(configured=None, cwd=None):
    """The absolute directory for ``configured`` (the role's ``*_report_dir``)."""
    base = cwd or os.getcwd()
    directory = os.path.expanduser(str(configured or "").strip()) or DEFAULT_SUBDIRECTORY
    return os.path.abspath(os.path.join(base, directory))
