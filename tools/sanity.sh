#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection under .../ansible_collections/clustersafe/deep_security,
# with the offline pip bootstrap in place (tools/install-get-pip.sh), run by the project's virtual
# environment (tools/venv.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/tools/venv.sh"
bash "$root/tools/install-get-pip.sh" >/dev/null
copy=$(bash "$root/tools/collection-root.sh" copy)
python=$("$venv_python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$copy"
# pslint needs PowerShell, which this platform does not have; the PowerShell is checked by the unit
# tests with the tree-sitter grammar instead.
ansible-test sanity --color no --python "$python" --skip-test pslint "$@"
