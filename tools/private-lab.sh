#!/usr/bin/env bash
# Run a command beside a lab of its own: in a private network namespace (unshare -rn; tools/loopback_up.py
# brings its loopback up), with the lab's state in build/labs/NAME. The tests' `lab` fixture starts that lab
# and stops it at the end. Where user namespaces are refused, the command runs here, against the lab of
# this namespace (started on demand the same way).
# Usage: tools/private-lab.sh NAME COMMAND [ARG ...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
name=${1:?usage: tools/private-lab.sh NAME COMMAND [ARG ...]}
shift
python=${CLUSTERSAFE_VENV:-$root/.venv}/bin/python
if unshare -rn true 2>/dev/null; then
  export CLUSTERSAFE_LAB_DIR="$root/build/labs/$name"
  exec unshare -rn "$python" "$root/tools/loopback_up.py" "$@"
fi
echo "unshare -rn is refused here: running against the lab of this namespace" >&2
exec "$@"
