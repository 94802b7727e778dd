#!/usr/bin/env bash
# Sourced by the other tools: create (once) and put first on PATH the project's own virtual environment,
# so nothing is ever pip-installed into a system Python (Debian 12 refuses that anyway: PEP 668,
# "externally-managed-environment"). It lives in .venv at the root of the clone (ignored by git),
# created with the system Python; CLUSTERSAFE_VENV and CLUSTERSAFE_BASE_PYTHON choose others.
# After sourcing: $venv is its directory, $venv_python its interpreter, and python3, pip,
# ansible-playbook, ansible-test, ansible-lint, pytest resolve to the venv's.
venv_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${CLUSTERSAFE_VENV:-$venv_root/.venv}
base_python=${CLUSTERSAFE_BASE_PYTHON:-/usr/bin/python3}
if [ ! -x "$venv/bin/python" ]; then
  if ! "$base_python" -m venv "$venv"; then
    rm -rf "$venv"
    echo "could not create the virtual environment $venv with $base_python;" \
      "on Debian install python3-venv first (apt-get install python3-venv, which make deps does)" >&2
    exit 1
  fi
fi
# shellcheck disable=SC2034  # read by the scripts that source this file
venv_python="$venv/bin/python"
export VIRTUAL_ENV="$venv"
case ":$PATH:" in
  *":$venv/bin:"*) ;;
  *) export PATH="$venv/bin:$PATH" ;;
esac
unset PYTHONHOME
