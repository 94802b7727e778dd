"""The lab's records for the NLB window: the fewest Converged hosts of a farm, Invalid Flags with the
time they were logged, and a blip on a host still in the farm dropping its connections."""
import os

import yaml

from tests.lab.dsm.model import DsmModel
from tests.lab.windows.model import WindowsModel
from tests.lab.world import LabWorld

LAB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lab")


def topology():
    with open(os.path.join(LAB_DIR, "topology.yml")) as handle:
        return yaml.safe_load(handle)


def windows(tmp_path):
    return WindowsModel(LabWorld(topology(), str(tmp_path)))


def test_the_fewest_converged_hosts_are_recorded(tmp_path):
    model = windows(tmp_path)
    assert model.status()["nlb_converged"]["WEBFARM"] == {"hosts": 3, "min": 3, "now": 3}
    model.execute("WEB1", "nlb_node", {"action": "drainstop", "drain_seconds": 60})
    model.execute("WEB2", "nlb_node", {"action": "stop"})
    model.execute("WEB1", "nlb_node", {"action": "start"})
    model.execute("WEB2", "nlb_node", {"action": "start"})
    assert model.status()["nlb_converged"]["WEBFARM"] == {"hosts": 3, "min": 1, "now": 3}
    model.reset()
    assert model.status()["nlb_converged"]["WEBFARM"]["min"] == 3


def test_a_blip_on_a_host_in_the_farm_drops_its_connections_and_not_once_it_is_stopped(tmp_path):
    model = windows(tmp_path)
    model.blip("WEB1", "agent install")
    model.execute("WEB2", "nlb_node", {"action": "drainstop", "drain_seconds": 60})
    model.blip("WEB2", "agent install")
    effects = [(item["node"], item["effect"]) for item in model.status()["blips"]]
    assert effects == [("WEB1", "nlb connections dropped"), ("WEB2", "none")]


def test_invalid_flags_are_logged_with_their_time(tmp_path):
    dsm = DsmModel(topology(), state_file=str(tmp_path / "dsm-state.json"))
    dsm.clock = lambda: 1000.0
    dsm.on_agent_activated(host_name="WEB1", agent_version="20.0.1-690", policy_id=4, dsm_url="dsm://x:4120/")
    dsm.tick()
    dsm.clock = lambda: 2000.0
    dsm.tick()
    record = dsm.status()["nlb"]["WEB1"]
    # 2 other hosts x 2 TCP port rules per tick, Firewall on in the NLB Web Farm policy, no exclusions
    assert record["invalid_flags_log"][:2] == [[1000000, 4], [2000000, 4]]
    assert record["invalid_flags_events"] == sum(events for _stamp, events in record["invalid_flags_log"])
