"""awx/project: the AWX project a user copies, one playbook per job template of docs/awx.md, each importing the
collection's playbook of the same name."""
import glob
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROJECT = os.path.join(ROOT, "awx", "project")

pytestmark = pytest.mark.skipif(not os.path.isdir(PROJECT), reason="no awx/project in this copy")


def wrappers():
    return sorted(glob.glob(os.path.join(PROJECT, "*.yml")))


@pytest.mark.parametrize("path", wrappers(), ids=os.path.basename)
def test_each_playbook_imports_the_collection_playbook_of_its_name(path):
    with open(path) as handle:
        document = yaml.safe_load(handle)
    name = os.path.basename(path)[:-4]
    assert document == [{"name": "Import clustersafe.deep_security.%s" % name,
                         "ansible.builtin.import_playbook": "clustersafe.deep_security.%s" % name}]
    assert os.path.exists(os.path.join(ROOT, "playbooks", name + ".yml"))


def test_every_job_template_of_the_awx_docs_has_its_playbook():
    with open(os.path.join(ROOT, "docs", "awx.md")) as handle:
        docs = handle.read()
    named = {os.path.basename(path) for path in wrappers()}
    for playbook in named:
        assert playbook in docs, "docs/awx.md does not name %s" % playbook
    with open(os.path.join(PROJECT, "collections", "requirements.yml")) as handle:
        requirements = yaml.safe_load(handle)
    assert [entry["name"] for entry in requirements["collections"]] == ["clustersafe.deep_security"]
