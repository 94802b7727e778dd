# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors shared by every client and service of the collection.

Clients and services raise these; only modules turn them into ``fail_json``. Each error carries a
message written for the operator (what went wrong and what to do) and optional structured details
that the module returns beside ``msg``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib


class CollectionError(Exception):
    """Base class of every error the collection raises on purpose."""

    def __init__(self, message, **details):
        super(CollectionError, self).__init__(message)
        self.message = message
        self.details = details


class ParameterError(CollectionError):
    """Input that cannot be acted on; raised before anything is changed."""


class NotFoundError(CollectionError):
    """A named object (cluster, host, VM, node, computer, rule, ...) does not exist."""


class HeldError(CollectionError):
    """Something else holds the object (another maintenance window, a lock)."""


class InterlockError(CollectionError):
    """A safety interlock refused the operation (for example rule MS-02)."""


class WaitTimeoutError(CollectionError):
    """A bounded wait ran out; ``details`` say in which state the object was left."""


def nearest_names(name, known, count=3):
    """Return up to ``count`` names from ``known`` that look most like ``name``."""
    known = sorted(set(str(item) for item in known))
    close = difflib.get_close_matches(str(name), known, n=count, cutoff=0.4)
    if not close:
        lowered = str(name).lower()
        close = [item for item in known if lowered in item.lower() or item.lower() in lowered][:count]
    return close


def not_found(kind, name, known, parameter=None):
    """Build a NotFoundError naming the missing object and the nearest existing names."""
    known = list(known)
    suggestions = nearest_names(name, known)
    where = " (parameter %s)" % parameter if parameter else ""
    if suggestions:
        hint = "; nearest existing: %s" % ", ".join(suggestions)
    elif known:
        hint = "; existing: %s" % ", ".join(sorted(str(item) for item in known)[:10])
    else:
        hint = "; there are none"
    return NotFoundError(
        "%s %r not found%s%s" % (kind, name, where, hint),
        missing=name,
        nearest=suggestions,
    )
