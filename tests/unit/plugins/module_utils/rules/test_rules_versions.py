"""Agent versions: the spellings seen in the wild, the minimums of MS-01 and NLB-01, and the
non-interrupting driver builds of REFERENCE section 2 (9.6.2-8207, 10.0.0-2548, 11.0 and later)."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.rules import versions


@pytest.mark.parametrize("text, parsed", [
    ("20.0.0-8438", (20, 0, 0, 8438)),
    ("20.0.0.8438", (20, 0, 0, 8438)),
    ("20.0.8438", (20, 0, 0, 8438)),
    ("10.0.2548", (10, 0, 0, 2548)),
    ("9.6.2-8207", (9, 6, 2, 8207)),
    ("12.0", (12, 0, 0, 0)),
    ("0.0.0.0", None),
    ("", None),
    (None, None),
])
def test_parse_spellings(text, parsed):
    assert versions.parse(text) == parsed


def test_display_is_the_dsm_spelling():
    assert versions.display(versions.parse("20.0.1.690")) == "20.0.1-690"


@pytest.mark.parametrize("text, status", [
    ("7.5.0-1234", "unsupported"),
    ("8.0.0-1000", "unknown"),      # 8.0 GA and 8.0 SP1 share 8.0.0: cannot tell, never a pass
    ("8.0.1-100", "supported"),
    ("9.0.0-100", "supported"),
    ("20.0.1-690", "supported"),
    ("0.0.0.0", "none"),
])
def test_ms01_from_8_0_sp1(text, status):
    assert versions.ms01_support(text)[0] == status


@pytest.mark.parametrize("text, supported", [
    ("10.0.0-2547", False),
    ("10.0.0-2548", True),          # 10.0 Update 5
    ("9.6.2-8207", False),
    ("11.0.0-100", True),
    ("20.0.1-690", True),
    ("", None),
])
def test_nlb01_from_10_0_u5(text, supported):
    assert versions.nlb01_supported(text) is supported


@pytest.mark.parametrize("text, non_interrupting", [
    ("9.6.2-8206", False), ("9.6.2-8207", True), ("9.5.0-9000", False),
    ("10.0.0-2547", False), ("10.0.0-2548", True), ("10.3.0-100", False),
    ("11.0.0-100", True), ("12.0.0-1", True), ("20.0.1-690", True),
])
def test_non_interrupting_builds(text, non_interrupting):
    assert versions.non_interrupting(text) is non_interrupting


def test_install_always_blips():
    assert versions.upgrade_blips(None, "20.0.1-690")[0] is True


def test_upgrade_from_an_interrupting_build_blips():
    assert versions.upgrade_blips("10.0.0-2000", "20.0.1-690", rebooted_since_install=True)[0] is True


def test_upgrade_from_non_interrupting_blips_until_rebooted():
    assert versions.upgrade_blips("20.0.1-690", "20.0.1-3180", rebooted_since_install=False)[0] is True
    assert versions.upgrade_blips("20.0.1-690", "20.0.1-3180", rebooted_since_install=None)[0] is True
    assert versions.upgrade_blips("20.0.1-690", "20.0.1-3180", rebooted_since_install=True)[0] is False


def test_same_version_is_no_change():
    assert versions.upgrade_blips("20.0.1.690", "20.0.1-690") == (False, "already at the target version")


def test_downgrade_blips():
    assert versions.upgrade_blips("20.0.1-3180", "20.0.1-690", rebooted_since_install=True)[0] is True
