"""A computer's own settings against the ones its policy gives (SDK 20.0 ``describe_computer_setting(
overrides=True)``, ``reset_computer_setting``), and the policy-applied waits judged on the DSM's timestamps
only, against the lab's DSM model in-process."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import computer as computer_model
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm import service
from ansible_collections.clustersafe.deep_security.plugins.module_utils.dsm.client import DsmClient
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import (
    ParameterError,
    WaitTimeoutError,
)
from tests.lab.inprocess import activate, model_opener

MODE = "firewallSettingNetworkEngineMode"


def mode_of(client, host):
    return service.computer_info(client, [host], settings=[MODE])["computers"][0]["settings"][MODE]


# -- the model and the client: own value or none, reset --------------------------------------------------

def test_a_setting_read_with_overrides_is_the_computers_own_or_none(client, model):
    activate(model, "WEB1")
    assert client.get_setting("computers", 1, MODE) == "Inline"
    assert client.get_setting("computers", 1, MODE, overrides=True) is None
    assert client.set_setting("computers", 1, MODE, "Tap") == "Tap"
    assert client.get_setting("computers", 1, MODE, overrides=True) == "Tap"
    assert client.reset_setting("computers", 1, MODE) == "Inline"
    assert client.get_setting("computers", 1, MODE, overrides=True) is None
    assert "settings" not in model.state["computers"]["1"] or MODE not in model.state["computers"]["1"]["settings"]


def test_after_a_reset_the_computer_follows_its_policy_again(client):
    activate(model_of(client), "WEB1")
    assert mode_of(client, "WEB1") == dict(value="Inline", own=False, own_value=None)
    service.computer_settings(client, computers=["WEB1"], settings={MODE: "Tap"})
    assert mode_of(client, "WEB1") == dict(value="Tap", own=True, own_value="Tap")
    service.computer_settings(client, computers=["WEB1"], reset_settings=[MODE])
    assert mode_of(client, "WEB1") == dict(value="Inline", own=False, own_value=None)
    # The policy's later change reaches the computer: it has no value of its own any more.
    service.computer_settings(client, policy="NLB Web Farm", settings={MODE: "Tap"})
    assert mode_of(client, "WEB1") == dict(value="Tap", own=False, own_value=None)


def model_of(client):
    return client._opener.model


@pytest.fixture
def client(model, topology, calls, clock):
    opener = model_opener(model, calls)
    opener.model = model
    return DsmClient("https://dsm.test:4119/api", topology["dsm"]["api_key"], opener=opener, sleep=clock.sleep,
                     clock=clock.time)


def test_writing_back_the_value_in_effect_is_not_a_reset(client):
    """What a window that read the mode in effect and wrote it back did: the computer keeps a value of its
    own and no longer follows its policy. The reset is the way back."""
    activate(model_of(client), "WEB1")
    service.computer_settings(client, computers=["WEB1"], settings={MODE: "Tap"})
    service.computer_settings(client, computers=["WEB1"], settings={MODE: "Inline"})
    assert mode_of(client, "WEB1") == dict(value="Inline", own=True, own_value="Inline")
    result = service.computer_settings(client, computers=["WEB1"], settings={MODE: None})
    assert result["changed"] and result["targets"][0]["settings"][MODE] == {"before": "Inline", "after": None}
    assert mode_of(client, "WEB1")["own"] is False


def test_a_reset_is_idempotent_and_check_mode_writes_nothing(client, calls):
    activate(model_of(client), "WEB1")
    service.computer_settings(client, computers=["WEB1"], settings={MODE: "Tap"})
    del calls[:]
    checked = service.computer_settings(client, computers=["WEB1"], reset_settings=[MODE], check_mode=True)
    assert checked["changed"] and checked["diff"]["before"]["WEB1"]["settings"] == {MODE: "Tap"}
    assert checked["diff"]["after"]["WEB1"]["settings"] == {MODE: None}
    assert not [call for call in calls if call[0] == "DELETE" or (call[0] == "POST" and "search" not in call[1])]
    assert service.computer_settings(client, computers=["WEB1"], reset_settings=[MODE])["changed"]
    assert ("DELETE", "/api/computers/1/settings/%s" % MODE) in [(c[0], c[1]) for c in calls]
    again = service.computer_settings(client, computers=["WEB1"], reset_settings=[MODE])
    assert not again["changed"] and again["targets"][0]["settings"][MODE] == {"before": None, "after": None}


def test_a_policy_setting_resets_to_its_parent(client, model):
    service.computer_settings(client, policy="NLB Web Farm", settings={MODE: "Tap"})
    assert model.state["policies"]["4"]["settings"][MODE] == "Tap"
    assert service.computer_settings(client, policy="NLB Web Farm", reset_settings=[MODE])["changed"]
    assert MODE not in model.state["policies"]["4"]["settings"]


@pytest.mark.parametrize("options, parameter", [
    (dict(settings={MODE: "Tap"}, reset_settings=[MODE]), "reset_settings"),
    (dict(reset_settings=["Mode\n"]), "reset_settings"),
    (dict(settings={"bad name": None}), "settings"),
])
def test_bad_resets_are_refused_before_any_request(client, calls, options, parameter):
    with pytest.raises(ParameterError) as caught:
        service.computer_settings(client, computers=["WEB1"], **options)
    assert caught.value.details["parameter"] == parameter and calls == []


def test_info_names_bad_setting_names(client):
    with pytest.raises(ParameterError) as caught:
        service.computer_info(client, ["WEB1"], settings=["network engine mode"])
    assert caught.value.details["parameter"] == "settings"


# -- the waits: the DSM's timestamps only -------------------------------------------------------------------

def test_a_warning_agent_is_not_active_and_the_reason_says_why():
    document = {"agentVersion": "20.0.1-690", "lastSendPolicyRequest": 5, "lastSendPolicySuccess": 6,
                "computerStatus": {"agentStatus": "warning", "agentStatusMessages": ["Reboot Required"]}}
    state = computer_model.policy_state(document)
    assert not state["active"] and not state["policy_applied"]
    assert "agent status is warning (Reboot Required)" in state["reason"] and "SDK" in state["reason"]
    document["computerStatus"]["agentStatus"] = "active"
    assert computer_model.policy_state(document)["policy_applied"]
    assert not computer_model.policy_state(document, after_success=6)["policy_applied"]
    assert computer_model.policy_state(document, after_success=5)["policy_applied"]


def test_a_controller_clock_far_ahead_of_the_dsm_changes_nothing(model, topology, clock):
    """dsm_computer's own wait compared the controller's clock with the DSM's timestamps: a controller a day
    ahead waited forever. Only the send read before the change counts now."""
    activate(model, "APP1", policy_id=1)
    model.policy_delay_ms = 3000
    skewed = DsmClient("https://dsm.test:4119/api", topology["dsm"]["api_key"], opener=model_opener(model),
                       sleep=clock.sleep, clock=lambda: clock.now + 86400)
    result = service.computer_settings(skewed, computers=["APP1"], settings={MODE: "Tap"}, wait_timeout=60)
    target = result["targets"][0]
    assert target["policy_applied"] is True and target["policy_sent_at"] > target["policy_sent_before"]
    assert result["changed_at"] > target["policy_sent_at"] + 86000 * 1000


def test_info_waits_for_a_send_after_the_baseline(client, model, clock):
    activate(model, "APP1", policy_id=1)
    before = service.computer_info(client, ["APP1"])["computers"][0]["last_send_policy_success"]
    # Nothing changed: the last send is not later than the baseline, so the wait runs out.
    with pytest.raises(WaitTimeoutError) as caught:
        service.computer_info(client, ["APP1"], wait_for="policy_applied", wait_timeout=20, since_policy_success=before)
    assert "read before the change" in caught.value.message
    service.computer_settings(client, computers=["APP1"], settings={MODE: "Tap"}, wait=False)
    result = service.computer_info(client, ["APP1"], wait_for="policy_applied", wait_timeout=60,
                                   since_policy_success=str(before))
    assert result["computers"][0]["last_send_policy_success"] > before and result["waited_seconds"] >= 1


def test_one_baseline_per_computer(client, model):
    activate(model, "APP1", policy_id=1)
    activate(model, "APP2", policy_id=1)
    found = service.computer_info(client, ["APP1", "APP2"])["computers"]
    baselines = {"app1": found[0]["last_send_policy_success"], "APP2": None}
    service.computer_settings(client, computers=["APP1"], settings={MODE: "Tap"}, wait=False)
    result = service.computer_info(client, ["APP1", "APP2"], wait_for="policy_applied", wait_timeout=60,
                                   since_policy_success=baselines)
    assert [c["policy_applied"] for c in result["computers"]] == [True, True]
    assert service.check_wait_options("policy_applied", 5, {"APP1": 7, "app2": ""}, ["APP1", "APP2"]) == [7, None]
    assert service.check_wait_options("policy_applied", 5, 9, ["A", "B"]) == [9, 9]
    assert service.check_wait_options("policy_applied", 5, None, ["A"]) is None


def test_dsm_computer_waits_for_an_agent_in_warning_and_runs_out(client, model, clock):
    activate(model, "APP1", policy_id=1)
    model.state["computers"]["1"]["agentStatus"] = "warning"
    model.state["computers"]["1"]["agentStatusMessages"] = ["Reboot Required"]
    with pytest.raises(WaitTimeoutError) as caught:
        service.computer_settings(client, computers=["APP1"], settings={MODE: "Tap"}, wait_timeout=20)
    assert "agent status is warning (Reboot Required)" in caught.value.message
    assert "do not start the cluster service yet" in caught.value.message
    model.state["computers"]["1"]["agentStatus"] = "error"
    result = service.computer_settings(client, computers=["APP1"], settings={MODE: "Inline"}, wait_timeout=20)
    assert result["targets"][0]["policy_applied"] is None and "no active agent" in result["warnings"][0]
