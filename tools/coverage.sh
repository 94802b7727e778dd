#!/usr/bin/env bash
# Line coverage of the window engine's decisions (the pure modules the engine decides with, and the lease and
# version rules they use) over the unit tests: prints each module's figure, and fails when one is below the
# floor. `make coverage` runs it in the project's virtual environment (tools/venv.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/tools/venv.sh"
cd "$root"
floor=${CLUSTERSAFE_COVERAGE_FLOOR:-90}
modules=(
  plugins/plugin_utils/engine/plan.py plugins/plugin_utils/engine/schedule.py plugins/plugin_utils/engine/decide.py
  plugins/plugin_utils/engine/report.py plugins/plugin_utils/engine/tap.py plugins/plugin_utils/engine/settings.py
  plugins/plugin_utils/engine/connection.py plugins/plugin_utils/engine/kinds.py
  plugins/module_utils/window_lease.py plugins/module_utils/_agent_version.py plugins/module_utils/escape.py
)
include=$(IFS=,; echo "${modules[*]}")
out=build/coverage
mkdir -p "$out"
"$venv_python" -m coverage run --rcfile=tools/coverage.ini --data-file="$out/engine.coverage" -m pytest -q tests/unit
"$venv_python" -m coverage report --rcfile=tools/coverage.ini --data-file="$out/engine.coverage" --include="$include" --show-missing
"$venv_python" -m coverage json --rcfile=tools/coverage.ini --data-file="$out/engine.coverage" --include="$include" -q -o "$out/engine.json"
"$venv_python" - "$floor" "$out/engine.json" "${modules[@]}" <<'PYTHON'
import json
import sys

floor, report, wanted = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
with open(report) as handle:
    files = json.load(handle)["files"]
# a module no test imports is not in the data at all: 0 %
covered = dict((name, (files.get(name) or {"summary": {"percent_covered": 0.0}})["summary"]["percent_covered"])
               for name in wanted)
low = [(name, percent) for name, percent in sorted(covered.items()) if percent < floor]
for name, percent in low:
    print("%s: %.1f%% of its lines, below the floor of %s%%" % (name, percent, floor), file=sys.stderr)
sys.exit(1 if low else 0)
PYTHON
