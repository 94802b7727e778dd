"""What ``labctl.py start`` prints: where the lab listens and where its environment is, never a credential
(``make demo`` starts the lab, and its output is a job's output)."""
import json

from tests.lab import labctl


def test_the_start_message_names_the_endpoints_and_no_credential(tmp_path):
    (tmp_path / "vcenter.ready.json").write_text(json.dumps({"url": "https://127.0.0.1:18443/sdk"}))
    (tmp_path / "labd.ready.json").write_text(json.dumps({"dsm": {"url": "https://127.0.0.1:14119/api"},
                                                          "windows": {"SQL-NODE1": {}, "WEB1": {}}}))
    (tmp_path / "lab.env").write_text("export VMWARE_PASSWORD=vc-secret-1\nexport DSM_API_KEY=key-secret-2\n")
    message = labctl.started_message(str(tmp_path), kept_state=False)
    assert "https://127.0.0.1:18443/sdk" in message and "https://127.0.0.1:14119/api" in message
    assert "SQL-NODE1, WEB1" in message and "lab.env" in message
    assert "secret" not in message and "kept their state" not in message
    assert "labctl.py reset" in labctl.started_message(str(tmp_path), kept_state=True)


def test_a_reset_restarts_the_vcenter_only_when_something_but_reads_reached_it():
    reads = {"by_method": {"RetrieveServiceContent": 1, "Login": 1, "RetrievePropertiesEx": 3, "Logout": 1}}
    calm = {"fail_reconfigure": 0, "latency_ms": 0, "sessions_dropped": 0}
    assert labctl.vcenter_untouched(reads, calm)
    assert labctl.vcenter_untouched({"by_method": {}}, calm)
    for method in ("ReconfigureComputeResource_Task", "SetField", "EnterMaintenanceMode_Task", "SomethingNew"):
        assert not labctl.vcenter_untouched({"by_method": dict(reads["by_method"], **{method: 1})}, calm), method
    for fault in ({"fail_reconfigure": 2}, {"latency_ms": 50}, {"sessions_dropped": 1}):
        assert not labctl.vcenter_untouched(reads, dict(calm, **fault)), fault
