#!/usr/bin/env bash
# Everything CI runs, in order of cost: unit tests, ansible-test sanity, ansible-lint, then the lab
# simulators and the integration tests against them. The lab is stopped on every exit path.
# Everything runs with the project's virtual environment (.venv, tools/venv.sh): python3,
# ansible-playbook, ansible-test and ansible-lint below are its own.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash tools/install-deps.sh
source tools/venv.sh
collections=$(bash tools/collection-root.sh link)
export ANSIBLE_COLLECTIONS_PATH="$collections"
ANSIBLE_PYTHON_INTERPRETER=$venv_python
export ANSIBLE_PYTHON_INTERPRETER

step() { printf '\n=== %s ===\n' "$*"; }

step "unit tests"
python3 -m pytest -q tests/unit

step "ansible-test sanity"
bash tools/sanity.sh

step "ansible-lint (production profile)"
ansible-lint --offline --profile production

step "documentation: collection docsite and changelog (tools/docs.sh)"
bash tools/docs.sh

step "lab and integration tests"
trap 'python3 tests/lab/labctl.py stop >/dev/null 2>&1 || true' EXIT
python3 tests/lab/labctl.py start >/dev/null
python3 -m pytest -q tests/lab_tests tests/integration

step "the collection as installed from its tarball, and the execution environment (tools/galaxy-check.sh)"
bash tools/galaxy-check.sh

step "integration playbooks again on the oldest supported ansible-core (2.16)"
oldest="$root/build/ansible-core-2.16"
if [ ! -x "$oldest/bin/ansible-playbook" ]; then
  "$venv_python" -m venv "$oldest"
  "$oldest/bin/pip" install -q --disable-pip-version-check "ansible-core>=2.16,<2.17" -r requirements.txt
fi
CLUSTERSAFE_ANSIBLE_BIN="$oldest/bin" python3 -m pytest -q tests/integration/test_playbooks.py
