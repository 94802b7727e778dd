#!/usr/bin/env bash
# Everything CI runs, in order of cost: `make test`. The Makefile is the one definition of the steps
# (TEST_STEPS: unit tests, ansible-test sanity, ansible-lint, docs, the lab's and integration tests,
# the Galaxy tarball, the playbooks on the oldest ansible-core); run one with `make <step>`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec make test "$@"
