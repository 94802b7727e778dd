# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deep Security Agent versions in one place: parsing the spellings seen in the wild, the minimum
versions of rules MS-01 and NLB-01, and which builds carry the non-interrupting network driver.
Pure: no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# The DSM reports 0.0.0.0 for a computer without an (activated) agent (deep-security-api SDK,
# computer.py); the lab and older code paths report an empty string.
NO_AGENT = ("", "0.0.0.0", "0.0.0-0")

# MS-01: failover clusters are supported from DSA for Windows 8.0 SP1. The seed names the service pack,
# not its build, and no primary source here gives the build number: an 8.0.0 build is therefore
# "cannot tell", never a pass (see ms01_support).
MS01_MIN_FAMILY = (8, 0, 0)
# NLB-01: NLB is supported from DS 10.0 Update 5, build 10.0.0-2548 (REFERENCE section 2).
NLB01_MIN = (10, 0, 0, 2548)
# The non-interrupting network driver (REFERENCE section 2, Trend KA-0008874): 9.6 SP1 U13
# (9.6.2-8207), 10.0 U5 (10.0.0-2548), and every build of 11.0 / 12.0 GM and later.
NON_INTERRUPTING_FROM = (
    ((9, 6), (9, 6, 2, 8207)),
    ((10, 0), (10, 0, 0, 2548)),
)
NON_INTERRUPTING_ALL_FROM_MAJOR = 11


def parse(text):
    """``20.0.1-690``, ``20.0.1.690`` (MSI DisplayVersion) and ``20.0.690`` -> a tuple of ints, padded to
    four parts so that ``10.0.2548`` reads as major.minor.0-build; None when there is no agent."""
    if text is None:
        return None
    text = str(text).strip()
    if text in NO_AGENT:
        return None
    numbers = [int(item) for item in re.findall(r"\d+", text)]
    if not numbers or not any(numbers):
        return None
    if len(numbers) == 3 and numbers[2] > 99:
        # major.minor.build: a build number never fits in the third (patch) field.
        numbers = [numbers[0], numbers[1], 0, numbers[2]]
    while len(numbers) < 4:
        numbers.append(0)
    return tuple(numbers[:4])


def display(version):
    """A parsed version as the DSM prints it (``20.0.1-690``)."""
    if version is None:
        return None
    return "%d.%d.%d-%d" % tuple(version[:4])


def at_least(version, minimum):
    return version is not None and tuple(version) >= tuple(minimum)


def ms01_support(text):
    """(``supported`` | ``unsupported`` | ``unknown`` | ``none``, reason) for a Windows agent on a
    failover-cluster node (MS-01: from 8.0 SP1)."""
    version = parse(text)
    if version is None:
        return ("none", "no agent") if text is None or str(text).strip() in NO_AGENT else ("unknown", "unreadable version")
    if version[:3] < MS01_MIN_FAMILY:
        return "unsupported", "older than 8.0"
    if version[:3] == MS01_MIN_FAMILY:
        return "unknown", "an 8.0.0 build: 8.0 SP1 cannot be told from 8.0 GA by the version alone"
    return "supported", "8.0 SP1 or later"


def nlb01_supported(text):
    """True/False for an agent on an NLB node (NLB-01: from 10.0 U5 = 10.0.0-2548); None without an agent."""
    version = parse(text)
    if version is None:
        return None
    return at_least(version, NLB01_MIN)


def non_interrupting(text):
    """Whether the build carries the non-interrupting network driver (TCP survives, UDP/ICMP may drop)."""
    version = parse(text)
    if version is None:
        return False
    if version[0] >= NON_INTERRUPTING_ALL_FROM_MAJOR:
        return True
    for family, first in NON_INTERRUPTING_FROM:
        if version[:2] == family:
            return version >= first
    return False


def upgrade_blips(installed, target, rebooted_since_install=None):
    """(blips, reason) for bringing the agent from ``installed`` to ``target`` (REFERENCE section 2).

    An install always blips: since DS 9.5 the driver is installed when Firewall, Intrusion Prevention or
    Web Reputation is first turned on (KA-0004754). The first upgrade onto a non-interrupting build still
    blips, and later ones keep blipping until the OS has rebooted (KA-0008874), so a reboot that is not
    known to have happened counts as not happened."""
    have, want = parse(installed), parse(target)
    if want is None:
        return False, "no target version"
    if have is None:
        return True, "install: the network driver loads when Firewall, Intrusion Prevention or Web Reputation is first on"
    if have == want:
        return False, "already at the target version"
    if have > want:
        return True, "downgrade: uninstall and install"
    if not non_interrupting(installed):
        return True, "the installed build %s has the interrupting driver" % display(have)
    if rebooted_since_install is not True:
        return True, ("the installed build %s has the non-interrupting driver, but a reboot since it was installed is "
                      "%s" % (display(have), "not known" if rebooted_since_install is None else "pending"))
    return False, "non-interrupting driver in place and the OS rebooted since: TCP sessions survive, UDP/ICMP may drop"
