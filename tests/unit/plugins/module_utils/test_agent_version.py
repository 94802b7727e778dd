"""The one agent-version module: the spellings seen in the wild, ordering (and when it cannot be told), the
minimums of MS-01 and NLB-01, the non-interrupting driver builds (KA-0008874), and that every caller - the
rule catalogue, the agent module's plan and the NLB window - comes to the same verdict on any version."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.clustersafe.deep_security.plugins.module_utils import _agent_version as versions
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import agent


@pytest.mark.parametrize("text, parsed", [
    ("20.0.0-8438", (20, 0, 0, 8438)),
    ("20.0.0.8438", (20, 0, 0, 8438)),
    ("20.0.8438", (20, 0, None, 8438)),      # update left out, as Trend prints 11.0.1617
    ("10.0.2548", (10, 0, None, 2548)),
    ("9.6.2-8207", (9, 6, 2, 8207)),
    (" 20.0.1-690 ", (20, 0, 1, 690)),
    ("0.0.0.0", None),
    ("", None),
    (None, None),
])
def test_parse_spellings(text, parsed):
    assert versions.parse(text) == parsed


@pytest.mark.parametrize("text", ["12.0", "20.0.1-690\n", "abc", "20.0.1-690-1", "1.2.3.4.5"])
def test_parse_refuses_what_is_not_a_build_and_names_the_source(text):
    with pytest.raises(ParameterError, match="wsfc_agent_rollout_version"):
        versions.parse(text, "wsfc_agent_rollout_version")
    assert versions.parse_or_none(text) is None


def test_display_is_the_dsm_spelling():
    assert versions.display("20.0.1.690") == "20.0.1-690"
    assert versions.display("20.0.8438") == "20.0.8438"
    assert versions.display(None) is None


@pytest.mark.parametrize("left, right, order", [
    ("20.0.1-690", "20.0.1-3180", -1),
    ("20.0.1.690", "20.0.1-690", 0),
    ("20.0.0-8438", "20.0.1-690", -1),        # builds start again with each update
    ("20.0.8438", "20.0.1-690", None),        # the case: cannot tell, never "a downgrade"
    ("20.0.8438", "20.0.0-8438", 0),          # the same build number in one major.minor
    ("10.0.100", "10.0.0-2548", None),        # the case: cannot tell, never "supported"
    ("11.0.1617", "11.0.1500", 1),            # both without the update: builds of one series
    ("12.0.0-967", "11.0.1617", 1),           # another major.minor orders at once
])
def test_compare(left, right, order):
    assert versions.compare(left, right) == order


@pytest.mark.parametrize("text, status", [
    ("7.5.0-1234", "unsupported"),
    ("8.0.0-1000", "unknown"),      # 8.0 GA and 8.0 SP1 share 8.0: cannot tell, never a pass
    ("8.0.1-100", "unknown"),
    ("9.0.0-100", "supported"),
    ("20.0.1-690", "supported"),
    ("0.0.0.0", "none"),
    ("garbage", "unknown"),
])
def test_ms01_from_8_0_sp1(text, status):
    assert versions.ms01_support(text)[0] == status


@pytest.mark.parametrize("text, supported", [
    ("10.0.0-2547", False),
    ("10.0.0-2548", True),          # 10.0 Update 5 (KA-0008874)
    ("10.0.100", None),
    ("9.6.2-8207", False),
    ("11.0.0-100", True),
    ("20.0.1-690", True),
    ("", None),
])
def test_nlb01_from_10_0_u5(text, supported):
    assert versions.nlb01_supported(text) is supported


@pytest.mark.parametrize("text, non_interrupting", [
    ("9.6.2-8206", False), ("9.6.2-8207", True), ("9.5.0-9000", False),
    ("10.0.0-2547", False), ("10.0.0-2548", True), ("10.3.0-100", False), ("10.0.3000", False),
    ("11.0.0-100", True), ("12.0.0-1", True), ("20.0.1-690", True),
])
def test_non_interrupting_builds(text, non_interrupting):
    assert versions.non_interrupting(text) is non_interrupting


def test_upgrade_blips():
    assert versions.upgrade_blips(None, "20.0.1-690")[0] is True
    assert versions.upgrade_blips("10.0.0-2000", "20.0.1-690", rebooted_since_install=True)[0] is True
    assert versions.upgrade_blips("20.0.1-690", "20.0.1-3180", rebooted_since_install=None)[0] is True
    assert versions.upgrade_blips("20.0.1-690", "20.0.1-3180", rebooted_since_install=True)[0] is False
    assert versions.upgrade_blips("20.0.1.690", "20.0.1-690") == (False, "already at the target version")
    assert versions.upgrade_blips("20.0.1-3180", "20.0.1-690", rebooted_since_install=True)[0] is True
    assert versions.upgrade_blips("20.0.8438", "20.0.1-690", rebooted_since_install=True)[0] is True


# --- properties: one comparison, whoever asks ------------------------------------------------------

numbers = st.integers(min_value=1, max_value=30)
builds = st.integers(min_value=0, max_value=99999)
spellings = st.one_of(
    st.builds(lambda a, b, c, d: "%d.%d.%d-%d" % (a, b, c, d), numbers, numbers, numbers, builds),
    st.builds(lambda a, b, c, d: "%d.%d.%d.%d" % (a, b, c, d), numbers, numbers, numbers, builds),
    st.builds(lambda a, b, d: "%d.%d.%d" % (a, b, d), numbers, numbers, builds),
)


@settings(max_examples=300)
@given(spellings, spellings)
def test_compare_is_antisymmetric_and_display_round_trips(left, right):
    order = versions.compare(left, right)
    reverse = versions.compare(right, left)  # pylint: disable=arguments-out-of-order
    assert (order is None) == (reverse is None)
    if order is not None:
        assert order == -reverse
    assert versions.parse(versions.display(left)) == versions.parse(left)


@settings(max_examples=300)
@given(spellings, spellings, spellings)
def test_compare_is_transitive_where_it_decides(a, b, c):
    if versions.compare(a, b) == -1 and versions.compare(b, c) == -1:
        assert versions.compare(a, c) in (-1, None)
    if versions.compare(a, c) is None:
        # only a spelling without the update can leave it open, never two full ones
        assert None in (versions.parse(a).update, versions.parse(c).update)


def _agent_facts(version):
    return {"computer": "WEB1", "agent": {"installed": True, "version": versions.parse(version), "service_status": "Running",
                                          "activated": False, "dsm_url": None, "policy_id": None}}


@settings(max_examples=200)
@given(spellings, spellings)
def test_the_agent_plan_follows_the_comparison(installed, target):
    """ds_agent installs, upgrades, refuses a downgrade or refuses what it cannot order exactly as the
    comparison says."""
    order = versions.compare(installed, target)
    desired = {"state": "present", "version": target, "installer_url": "https://dsm:4119/agent.msi"}
    if order is None or order > 0:
        with pytest.raises(ParameterError):
            agent.plan_agent(_agent_facts(installed), desired)
    else:
        plan = agent.plan_agent(_agent_facts(installed), desired)
        assert plan["actions"] == ([] if order == 0 else ["upgrade"])
