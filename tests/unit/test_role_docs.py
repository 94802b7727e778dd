"""The roles' manuals (``ansible-doc -t role``, from meta/argument_specs.yml) say what ansible-doc only marks.

- An option with ``required: true`` says "Required." first: ansible-doc shows ``required`` as a marker users miss;
  an option that is not required never starts so.
- The window roles name, in a "Host variables" paragraph of their ``main`` entry point, every host variable the
  window reads from the inventory (the action's HOST_VARIABLES: WinRM settings under ansible.windows' names and
  the unit and VM labels), and none that it does not read.
"""
import glob
import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPECS = sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")))

pytestmark = pytest.mark.skipif(not SPECS, reason="the roles are not beside the tests")


def load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)["argument_specs"]


def paragraphs(description):
    return [description] if isinstance(description, str) else list(description or [])


def role_of(path):
    return path.split(os.sep)[-3]


@pytest.mark.parametrize("path", SPECS, ids=role_of)
def test_a_required_option_says_so_first_and_only_a_required_one(path):
    wrong = []
    for entry_point, spec in load(path).items():
        for name, option in (spec.get("options") or {}).items():
            first = paragraphs(option.get("description"))[0]
            if option.get("required") and not first.startswith("Required. "):
                wrong.append("%s (%s) is required; its description must start with 'Required.'" % (name, entry_point))
            if not option.get("required") and first.startswith("Required."):
                wrong.append("%s (%s) is not required but its description starts with 'Required.'" % (name, entry_point))
    assert not wrong, "; ".join(wrong)


def test_some_role_has_a_required_option():
    """The check above is not vacuous."""
    assert any(option.get("required") for path in SPECS for spec in load(path).values()
               for option in (spec.get("options") or {}).values())


def host_variable_paragraph(role):
    main = load(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"))["main"]
    found = [text for text in paragraphs(main["description"]) if text.startswith("Host variables (")]
    assert len(found) == 1, "%s: one paragraph of main's description starts with 'Host variables ('" % role
    return found[0]


@pytest.mark.parametrize("role, label", [("wsfc_agent_rollout", "wsfc_agent_rollout_cluster"),
                                         ("nlb_agent_rollout", "nlb_agent_rollout_farm")])
def test_the_window_roles_name_every_host_variable_the_window_reads(role, label):
    from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.action import HOST_VARIABLES
    from ansible_collections.clustersafe.deep_security.plugins.plugin_utils.engine.kinds import KINDS

    labels = set(kind.label_variable for kind in KINDS.values())
    assert label in labels
    # the VM name is read for failover-cluster nodes only (the NLB window holds no DRS)
    expected = set(name for name in HOST_VARIABLES if name not in labels and name != "wsfc_agent_rollout_vm_name")
    expected.add(label)
    if role == "wsfc_agent_rollout":
        expected.add("wsfc_agent_rollout_vm_name")
    named = set(re.findall(r"C\(((?:ansible|wsfc|nlb)_\w+)\)", host_variable_paragraph(role)))
    assert named == expected, "missing %s; not read %s" % (sorted(expected - named), sorted(named - expected))
