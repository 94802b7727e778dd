"""The rule catalogue judges NLB-01 and MS-01 with the one agent-version module: for any version, installed
or planned, its verdict is the comparison's against the minimum (never "supported" when it cannot tell)."""
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_facts import change, healthy, run

from ansible_collections.clustersafe.deep_security.plugins.module_utils import _agent_version as versions

WEB2 = "dsm_computers.computers.4"
numbers = st.integers(min_value=8, max_value=21)
builds = st.integers(min_value=1, max_value=9999)
spellings = st.one_of(
    st.builds(lambda a, b, c, d: "%d.%d.%d-%d" % (a, b, c, d), numbers, st.integers(0, 6), st.integers(0, 3), builds),
    st.builds(lambda a, b, d: "%d.%d.%d" % (a, b, d), numbers, st.integers(0, 6), builds),
)


@settings(max_examples=100, deadline=None)
@given(spellings)
def test_nlb01_on_an_installed_agent_is_the_comparisons(version):
    facts = change(healthy(), WEB2 + ".agent_version", version)
    blocked = [f for f in run(facts, only="NLB-01") if f["subject"] == "WEBFARM/WEB2" and f["severity"] == "blocker"]
    assert bool(blocked) == (versions.nlb01_supported(version) is not True)


@settings(max_examples=100, deadline=None)
@given(spellings)
def test_nlb01_on_a_planned_version_is_the_comparisons(version):
    blocked = [f for f in run(plan={"agent_version": version}, only="NLB-01") if f["subject"].startswith("agent_version")]
    assert bool(blocked) == (versions.nlb01_supported(version) is not True)


def test_the_cases_that_disagreed_before():
    facts = change(healthy(), WEB2 + ".agent_version", "10.0.100")
    [item] = [f for f in run(facts, only="NLB-01") if f["subject"] == "WEBFARM/WEB2"]
    assert item["severity"] == "blocker" and "not known to be at least" in item["message"]
