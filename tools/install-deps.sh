#!/usr/bin/env bash
# Install what the collection, its lab and its tests need on a fresh Debian machine; quick when
# everything is already there. Python packages go into the project's virtual environment (.venv,
# tools/venv.sh), never into a system Python.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
need_apt=()
# With ShellCheck installed, ansible-test's shellcheck sanity test runs instead of being skipped.
# Chromium (headless) loads the assessment's HTML report in tests/integration/test_assess.py.
for package in python3-venv golang-go golang-github-vmware-govmomi-dev shellcheck chromium; do
  dpkg -s "$package" >/dev/null 2>&1 || need_apt+=("$package")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
source "$root/tools/venv.sh"
stamp="$venv/.deps-$(sha256sum "$root/requirements.txt" "$root/requirements-test.txt" | sha256sum | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  "$venv_python" -m pip install -q --disable-pip-version-check -r "$root/requirements-test.txt"
  touch "$stamp"
fi
bash "$root/tools/install-get-pip.sh" >/dev/null
