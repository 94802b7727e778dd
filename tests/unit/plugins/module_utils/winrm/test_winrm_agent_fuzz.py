"""Hostile or garbled answers from a node never end in a traceback: the agent's parsers either return
their result or raise AgentOutputError (or MsiError for a failed msiexec), whose message names the source."""
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.clustersafe.deep_security.plugins.module_utils import _agent_version as versions
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import ParameterError
from ansible_collections.clustersafe.deep_security.plugins.module_utils.winrm import agent

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2 ** 40, max_value=2 ** 40) | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20)
KEYS = ["installed", "version", "service_status", "status_lines", "recorded_url", "recorded_policy_id",
        "product_code"]
AGENT = st.fixed_dictionaries({}, optional=dict((key, JSON) for key in KEYS))
VERSIONISH = st.from_regex(r"\A[0-9]{1,6}([.-][0-9]{1,6}){0,4}\Z") | st.text(max_size=20)
STATUS_LINE = st.builds(lambda key, value: "AgentStatus.%s: %s" % (key, value),
                        st.sampled_from(["dsmUrl", "agentState", "agentCertHash"]), st.text(max_size=30))
DOCUMENT = st.fixed_dictionaries({}, optional=dict(
    computer=JSON, reboot_pending=JSON, cluster_service=JSON | st.fixed_dictionaries({"status": JSON}),
    agent=JSON | AGENT | st.fixed_dictionaries({"installed": st.booleans(), "version": VERSIONISH,
                                                "status_lines": st.lists(STATUS_LINE | JSON, max_size=6)})))


def named(error):
    return ("agent_info" in error.message or "GetAgentStatus" in error.message or "agent_install" in error.message)


@settings(max_examples=200, deadline=None)
@given(DOCUMENT | JSON)
def test_agent_info_documents(document):
    try:
        facts = agent.agent_facts(document, "N1")
    except agent.AgentOutputError as error:
        assert named(error), error.message
        return
    summary = agent.agent_summary(facts)
    assert isinstance(summary["installed"], bool) and isinstance(summary["activated"], bool)
    if summary["activated"]:
        assert facts["agent"]["dsm_url"]


@settings(max_examples=150, deadline=None)
@given(st.lists(STATUS_LINE | st.text(max_size=60) | JSON, max_size=10) | JSON)
def test_get_agent_status_lines(lines):
    try:
        status = agent.parse_agent_status(lines, "N1")
    except agent.AgentOutputError as error:
        assert "GetAgentStatus" in error.message
        return
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in status.items())


@settings(max_examples=150, deadline=None)
@given(JSON | st.fixed_dictionaries({"exit_code": JSON, "log_tail": JSON}))
def test_msiexec_outcomes(document):
    try:
        done = agent.outcome(document, "agent_install", "N1", ("exit_code", "log_tail"))
        reboot = agent.interpret_msi(done, "install", "N1")
    except agent.AgentOutputError as error:
        assert "agent_install" in error.message
        return
    except agent.MsiError as error:
        assert "exit code" in error.message and isinstance(error.details["msi_log_tail"], list)
        return
    assert reboot in (True, False)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_version_text(text):
    try:
        parts = versions.parse(text)
    except ParameterError as error:
        assert "Deep Security Agent build" in error.message
        return
    assert parts is None or versions.parse(versions.display(parts)) == parts
