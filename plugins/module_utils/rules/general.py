# -*- coding: utf-8 -*-
# Copyright: contributors to clustersafe.deep_security
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rule GEN-01: cluster environments the vendor has not tested. Pure: no I/O."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules.facts import finding, key, remedy

OWN_TESTS = remedy("role", "assess", "the vendor offers no fix: test Deep Security on this cluster yourself before rollout")


def gen_01(facts, plan):
    """Clusters the vendor has not tested: those the caller declares, and a host that is both a
    failover-cluster node and an NLB host (a combination the vendor's note does not cover)."""
    out = []
    for item in plan["other_clusters"]:
        name = item.get("name")
        kind = item.get("kind") or "cluster"
        out.append(finding("GEN-01", "warning", name, "%s %s is a cluster environment Trend Micro has not tested with "
                           "Deep Security" % (kind, name), {"kind": kind}, OWN_TESTS))
    nlb_hosts = {}
    for cluster in facts["nlb_clusters"]:
        for node in cluster["nodes"]:
            nlb_hosts[key(node.get("name"))] = cluster["name"]
    for cluster in facts["failover_clusters"]:
        for node in cluster["nodes"]:
            farm = nlb_hosts.get(key(node.get("name")))
            if farm:
                out.append(finding("GEN-01", "warning", node.get("name"),
                                   "%s is both a node of failover cluster %s and a host of NLB cluster %s, a combination "
                                   "the vendor has not tested" % (node.get("name"), cluster["name"], farm),
                                   {"failover_cluster": cluster["name"], "nlb_cluster": farm}, OWN_TESTS))
    return out
