"""The one way the unit tests run a module's ``main()``: with task arguments as Ansible passes them, and
the JSON it prints read back."""
import contextlib
import json

import pytest


def module_args(monkeypatch, args):
    """A context in which AnsibleModule reads ``args`` (plus the internal options every task carries)."""
    base = {"_ansible_remote_tmp": "/tmp", "_ansible_keep_remote_files": False}
    base.update(args)
    try:
        from ansible.module_utils.testing import patch_module_args
        return patch_module_args(base)
    except ImportError:  # ansible-core < 2.19
        from ansible.module_utils import basic
        from ansible.module_utils.common.text.converters import to_bytes
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": base})))
        return contextlib.nullcontext()


def run_main(monkeypatch, capsys, module, args):
    """Run ``module.main()`` with ``args``; return (result, failed)."""
    with module_args(monkeypatch, args):
        with pytest.raises(SystemExit) as exit_info:
            module.main()
    return json.loads(capsys.readouterr().out), exit_info.value.code != 0
