#!/usr/bin/env bash
# Put the offline pip bootstrap (tools/get_pip_offline.py) where ansible-test looks for its cached
# download, once for every pip version the installed ansible-test may pin.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$(dirname "$here")/tools/venv.sh"
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
versions=$("$venv_python" - <<'PY'
import os, re, ansible_test
source = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
with open(source) as handle:
    text = handle.read()
print(" ".join(sorted(set(re.findall(r"""pip['"]?\s*[=:]\s*['"]([0-9][0-9.]*)['"]""", text)))))
PY
)
[ -n "$versions" ] || { echo "could not find the pip version ansible-test pins" >&2; exit 1; }
for version in $versions; do
  cp "$here/get_pip_offline.py" "$cache/get_pip_${version//./_}.py"
  echo "offline pip bootstrap installed for pip $version"
done
