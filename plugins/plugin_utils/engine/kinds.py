# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kinds of window the engine runs, in their own words: what a cluster and a member are called, the
role and playbook variables that set a window's options, the steps of one member, and the report names.

One name per idea inside the engine: a *unit* is what keeps one member out at a time (a failover cluster,
an NLB farm), a *member* is one of its machines (a node, an NLB host). Users read the kind's own words.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

Kind = namedtuple("Kind", [
    "name",            # wsfc | nlb
    "role",            # the public role; its variables are <role>_<option>
    "playbook",        # the prefix of the playbook's own variables (<playbook>_<name>)
    "unit", "units",   # "failover cluster(s)", "NLB farm(s)"
    "member",          # "node", "host"
    "label_variable",  # the optional host variable that names a member's unit in the inventory
    "on_failure_option", "stop_unit",  # the option saying what a failed unit stops, and its value for "itself only"
    "steps",           # the steps of one member, in order (the report's timeline)
    "report_kind",     # the window report's "kind" and file-name suffix
    "estate_kind",     # the estate report's "kind", its file-name suffix and its set_stats key
    "stats_key",       # the set_stats key of a window of one unit
])

WSFC = Kind(
    name="wsfc", role="wsfc_agent_rollout", playbook="wsfc_rollout",
    unit="failover cluster", units="failover clusters", member="node",
    label_variable="wsfc_agent_rollout_cluster",
    on_failure_option="on_cluster_failure", stop_unit="stop_cluster",
    steps=("drain", "roles_moved", "stop", "agent", "dsm_active", "start", "resume", "verified"),
    report_kind="wsfc_agent_rollout", estate_kind="wsfc_estate", stats_key="wsfc_agent_rollout",
)

NLB = Kind(
    name="nlb", role="nlb_agent_rollout", playbook="nlb_rollout",
    unit="NLB farm", units="NLB farms", member="host",
    label_variable="nlb_agent_rollout_farm",
    on_failure_option="on_farm_failure", stop_unit="stop_farm",
    steps=("drainstop", "agent", "dsm_active", "start", "verified"),
    report_kind="nlb_agent_rollout", estate_kind="nlb_estate", stats_key="nlb_agent_rollout",
)

KINDS = {"wsfc": WSFC, "nlb": NLB}
# The NLB farm's second phase (Tap -> Inline, NLB-03) reports under its own kind.
NLB_INLINE_REPORT_KIND = "nlb_inline"
NLB_INLINE_ESTATE_KIND = "nlb_inline_estate"


def kind_of(name):
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError("unknown window kind %r (known: %s)" % (name, ", ".join(sorted(KINDS))))
