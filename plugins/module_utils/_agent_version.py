# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deep Security Agent versions: the one parser and comparison of the collection (private: the modules,
the rule catalogue and the window engine all call it, so they can never disagree).

Trend writes a build as ``major.minor.update-build`` (``20.0.1-690``, ``10.0.0-2548``). Windows Installer's
ProductVersion, which the uninstall key's DisplayVersion carries, has up to four dot-separated fields
(``20.0.1.690``), and Trend's own pages also print three, leaving the update out: ``11.0.1617`` for
"Deep Security 11.0 update 23" and ``9.6.100`` (help.deepsecurity.trendmicro.com, "Agent package integrity
check" and "About upgrades"). Build numbers start again with each update (``20.0.0-8438`` comes before
``20.0.1-690``), so a spelling without the update cannot be ordered against another build of the same
major.minor: ``compare`` then says None (cannot tell), and every caller takes the safe side.

The minimum versions of the vendor's rules:

- NLB-01: NLB is supported from Deep Security 10.0 Update 5 (the seed); Trend's KA-0008874 gives that
  release's build, ``10.0.0-2548`` ("Deep Security Agent 10.0 Update 5 (build 10.0.0-2548)"), which is also
  the first 10.0 build with the non-interrupting network driver.
- MS-01: failover clusters are supported from 8.0 Service Pack 1 (the seed). No primary source found here
  gives that service pack's build, so an 8.0 build cannot be told apart from 8.0 GA: ``ms01_support`` says
  "unknown" for it, never "supported".

Pure: no I/O.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError

# The DSM reports 0.0.0.0 for a computer without an (activated) agent (deep-security-api SDK, computer.py);
# an empty string means the same wherever the collection reads a version.
NO_AGENT = ("", "0.0.0.0", "0.0.0-0", "0.0.0")
_SPELLING = re.compile(r"\A[ ]*([0-9]{1,5})\.([0-9]{1,5})\.([0-9]{1,6})(?:[.-]([0-9]{1,6}))?[ ]*\Z")


class AgentVersion(namedtuple("AgentVersion", "major minor update build")):
    """One agent build; ``update`` is None when the spelling left it out."""

    __slots__ = ()

    def __str__(self):
        return display(self)


NLB_MINIMUM = AgentVersion(10, 0, 0, 2548)
NLB_MINIMUM_TEXT = "10.0.0-2548 (10.0 Update 5)"
MS01_MINIMUM_FAMILY = (8, 0)
MS01_MINIMUM_TEXT = "8.0 Service Pack 1"
# Builds with the non-interrupting network driver (KA-0008874): 9.6 SP1 Update 13 (9.6.2-8207),
# 10.0 Update 5 (10.0.0-2548), and every build of 11.0 and 12.0 GM and later.
NON_INTERRUPTING_FROM = (AgentVersion(9, 6, 2, 8207), AgentVersion(10, 0, 0, 2548))
NON_INTERRUPTING_ALL_FROM_MAJOR = 11


def is_no_agent(text):
    return text is None or str(text).strip() in NO_AGENT


def parse(text, source="version"):
    """``text`` as an AgentVersion; None for no agent (None, '', 0.0.0.0). Raises ParameterError, naming
    ``source``, for anything that is not an agent build."""
    if isinstance(text, AgentVersion):
        return text
    if is_no_agent(text):
        return None
    match = _SPELLING.match(str(text))
    if not match:
        raise ParameterError("%s %r is not a Deep Security Agent build such as 20.0.1-690 (major.minor.update-build)"
                             % (source, text))
    major, minor, third, fourth = match.groups()
    if fourth is None:
        return AgentVersion(int(major), int(minor), None, int(third))
    return AgentVersion(int(major), int(minor), int(third), int(fourth))


def parse_or_none(text):
    """As ``parse``, but None for what is not an agent build too (reports, facts read from elsewhere)."""
    try:
        return parse(text)
    except ParameterError:
        return None


def display(version):
    """``20.0.1-690``; ``20.0.8438`` when the update is not known; None for None."""
    if version is None:
        return None
    version = parse(version)
    if version.update is None:
        return "%d.%d.%d" % (version.major, version.minor, version.build)
    return "%d.%d.%d-%d" % version


def compare(left, right):
    """-1, 0 or 1 as ``left`` is older than, the same as or newer than ``right``; None when the two cannot be
    ordered: one spelling lacks the update, both are the same major.minor and their build numbers differ
    (``20.0.8438`` is taken as ``20.0.0-8438``, but never ordered against ``20.0.1-690``). Neither may be None."""
    a, b = parse(left), parse(right)
    if a is None or b is None:
        raise ParameterError("compare needs two agent builds, got %r and %r" % (left, right))
    if (a.major, a.minor) != (b.major, b.minor):
        return -1 if (a.major, a.minor) < (b.major, b.minor) else 1
    if a.update is None and b.update is None:
        return (a.build > b.build) - (a.build < b.build)
    if a.update is None or b.update is None:
        # the same build number in one major.minor is taken as the same build; any other pair is open
        return 0 if a.build == b.build else None
    return (a > b) - (a < b)


def same(left, right):
    """True, False, or None when it cannot be told; no agent on both sides is the same."""
    a, b = parse_or_none(left), parse_or_none(right)
    if a is None or b is None:
        return a is None and b is None
    order = compare(a, b)
    return None if order is None else order == 0


def at_least(version, minimum):
    """True or False; None when there is no agent or the spelling cannot be ordered against ``minimum``."""
    found = parse_or_none(version)
    if found is None:
        return None
    order = compare(found, minimum)
    return None if order is None else order >= 0


def nlb01_supported(version):
    """NLB-01 for an installed or planned agent: True, False, or None (no agent, or cannot tell)."""
    return at_least(version, NLB_MINIMUM)


def ms01_support(text):
    """(``supported`` | ``unsupported`` | ``unknown`` | ``none``, reason) for a Windows agent on a
    failover-cluster node (MS-01: from 8.0 Service Pack 1, whose build no source here gives)."""
    if is_no_agent(text):
        return "none", "no agent"
    version = parse_or_none(text)
    if version is None:
        return "unknown", "unreadable version"
    if (version.major, version.minor) < MS01_MINIMUM_FAMILY:
        return "unsupported", "older than 8.0"
    if (version.major, version.minor) == MS01_MINIMUM_FAMILY:
        return "unknown", "an 8.0 build: 8.0 SP1 cannot be told from 8.0 GA by the version alone"
    return "supported", "8.0 SP1 or later"


def non_interrupting(text):
    """Whether the build carries the non-interrupting network driver (TCP survives, UDP/ICMP may drop);
    False when it cannot be told."""
    version = parse_or_none(text)
    if version is None:
        return False
    if version.major >= NON_INTERRUPTING_ALL_FROM_MAJOR:
        return True
    for first in NON_INTERRUPTING_FROM:
        if (version.major, version.minor) == (first.major, first.minor):
            return compare(version, first) in (0, 1)
    return False


def upgrade_blips(installed, target, rebooted_since_install=None):
    """(blips, reason) for bringing the agent from ``installed`` to ``target`` (REFERENCE section 2).

    An install always blips: since DS 9.5 the driver is installed when Firewall, Intrusion Prevention or
    Web Reputation is first turned on (KA-0004754). The first upgrade onto a non-interrupting build still
    blips, and later ones keep blipping until the OS has rebooted (KA-0008874), so a reboot that is not
    known to have happened counts as not happened. A pair that cannot be ordered blips (the safe side)."""
    have, want = parse_or_none(installed), parse_or_none(target)
    if want is None:
        return False, "no target version"
    if have is None:
        return True, "install: the network driver loads when Firewall, Intrusion Prevention or Web Reputation is first on"
    order = compare(have, want)
    if order == 0:
        return False, "already at the target version"
    if order is None:
        return True, "the installed build %s cannot be ordered against %s: counted as a change" % (
            display(have), display(want))
    if order > 0:
        return True, "downgrade: uninstall and install"
    if not non_interrupting(installed):
        return True, "the installed build %s has the interrupting driver" % display(have)
    if rebooted_since_install is not True:
        return True, ("the installed build %s has the non-interrupting driver, but a reboot since it was installed is "
                      "%s" % (display(have), "not known" if rebooted_since_install is None else "pending"))
    return False, "non-interrupting driver in place and the OS rebooted since: TCP sessions survive, UDP/ICMP may drop"
