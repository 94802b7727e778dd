"""The one runner (every module ends through it) and the module class every module is built from: clean,
secret-free failures, warnings, diff only in diff mode, and each backend's connection options and rules."""
import pytest

from ansible_collections.clustersafe.deep_security.plugins.module_utils import runner
from ansible_collections.clustersafe.deep_security.plugins.module_utils.errors import CollectionError

SECRET = "2:Secret-Key-0123456789"


class _Module(object):
    def __init__(self, secrets):
        self.no_log_values = set(secrets)
        self.failed = None
        self.exited = None
        self.warnings = []

    def fail_json(self, **kwargs):
        self.failed = kwargs

    def exit_json(self, **kwargs):
        self.exited = kwargs

    def warn(self, text):
        self.warnings.append(text)


def test_an_unexpected_exception_becomes_a_message_without_secrets():
    module = _Module([SECRET + "\n"])

    def crash():
        raise ValueError("Invalid header value %r" % (SECRET + "\n").encode())
    runner.run_module(module, crash)
    assert module.failed and "ValueError" in module.failed["msg"]
    assert "Secret-Key-0123456789" not in module.failed["msg"] and runner.MASK in module.failed["msg"]


def test_urls_in_failures_lose_user_info_and_query():
    module = _Module([])

    def crash():
        raise CollectionError("could not fetch https://bob:pw@files.example.com/a.msi?X-Amz-Signature=abc ok")
    runner.run_module(module, crash)
    assert "pw" not in module.failed["msg"] and "abc" not in module.failed["msg"]
    assert "files.example.com/a.msi" in module.failed["msg"]


def test_the_runner_passes_results_and_warnings_on():
    module = _Module([SECRET])
    runner.run_module(module, lambda: {"changed": False, "warnings": ["key %s leaked" % SECRET]})
    assert module.exited == {"changed": False} and SECRET not in module.warnings[0]


def test_the_runner_warns_whenever_certificates_are_not_checked():
    module = _Module([])
    module.params = {"validate_certs": False}
    runner.run_module(module, lambda: {"changed": False})
    assert module.warnings == [runner.CERTIFICATE_NOT_CHECKED]
    # a backend's own, more precise warning is not doubled
    module = _Module([])
    module.params = {"validate_certs": False}
    runner.run_module(module, lambda: {"changed": False, "warnings": ["validate_certs=false: the vCenter ..."]})
    assert module.warnings == ["validate_certs=false: the vCenter ..."]
    module = _Module([])
    module.params = {"validate_certs": True}
    runner.run_module(module, lambda: {"changed": False})
    assert module.warnings == []


def test_diff_is_returned_only_in_diff_mode():
    diff = {"before": {"state": "Up"}, "after": {"state": "Paused"}}
    module = _Module([])
    runner.run_module(module, lambda: {"changed": True, "diff": dict(diff)})
    assert module.exited == {"changed": True}
    module = _Module([])
    module._diff = True
    runner.run_module(module, lambda: {"changed": True, "diff": dict(diff)})
    assert module.exited == {"changed": True, "diff": diff}


class _Backend(runner.CollectionModule):
    CONNECTION_RULES = dict(required_if=[("auth", "key", ("api_key",))])

    @staticmethod
    def connection_argument_spec():
        return dict(endpoint=dict(type="str", required=True), auth=dict(type="str", default="key"),
                    api_key=dict(type="str", no_log=True))


def _build(monkeypatch, args, **kwargs):
    from tests.unit.module_args import module_args
    with module_args(monkeypatch, args):
        return _Backend(**kwargs)


def test_a_backend_adds_its_options_and_its_rules(monkeypatch, capsys):
    module = _build(monkeypatch, {"endpoint": "e", "api_key": "k", "size": 2},
                    argument_spec=dict(size=dict(type="int")))
    assert module.params["size"] == 2 and module.params["auth"] == "key" and module.check_mode is False
    with pytest.raises(SystemExit):
        _build(monkeypatch, {"endpoint": "e"}, argument_spec={})
    assert "auth is key but all of the following are missing: api_key" in capsys.readouterr().out


def test_the_module_rules_are_kept_beside_the_backend_rules(monkeypatch, capsys):
    spec = dict(size=dict(type="int"), unit=dict(type="str"))
    with pytest.raises(SystemExit):
        _build(monkeypatch, {"endpoint": "e", "api_key": "k", "size": 2}, argument_spec=spec,
               required_together=[("size", "unit")])
    assert "parameters are required together: size, unit" in capsys.readouterr().out


def test_a_module_option_cannot_replace_a_connection_option(monkeypatch):
    with pytest.raises(ValueError, match="endpoint"):
        _build(monkeypatch, {"endpoint": "e", "api_key": "k"}, argument_spec=dict(endpoint=dict(type="str")))
