# One entry point for users and CI, and the one definition of the test sequence: `make test` runs the
# steps of TEST_STEPS in order (.ci/run and tools/test-all.sh call `make test`); each step is also a
# target of its own (`make unit`, `make integration`, ...).
SHELL := /bin/bash
ROOT := $(CURDIR)
# Everything runs in the project's own virtual environment (tools/venv.sh creates it with the system
# Python /usr/bin/python3): its bin directory goes first on PATH for every recipe, so ansible-playbook,
# ansible-lint and pytest are the venv's, and nothing is pip-installed into a system Python.
VENV ?= $(ROOT)/.venv
export CLUSTERSAFE_VENV := $(VENV)
export VIRTUAL_ENV := $(VENV)
export PATH := $(VENV)/bin:$(PATH)
PYTHON := $(VENV)/bin/python
LAB := $(PYTHON) tests/lab/labctl.py
# ansible-core finds the collection under build/collections, where the `collections` target links
# ansible_collections/clustersafe/deep_security to this clone (tools/collection-root.sh link).
export ANSIBLE_COLLECTIONS_PATH := $(ROOT)/build/collections
export ANSIBLE_PYTHON_INTERPRETER := $(PYTHON)
QUIET_ANSIBLE = ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
# The oldest ansible-core the collection supports (meta/runtime.yml), in a venv of its own.
OLDEST := $(ROOT)/build/ansible-core-2.16

# In order of cost. The lab steps start the lab if it is not running; `make test` stops it at the end.
TEST_STEPS := unit sanity lint docs integration galaxy-lab oldest

.PHONY: deps collections test $(TEST_STEPS) coverage galaxy lab-up lab-down demo bench bench-window bench-window-node crash-matrix \
        clean distclean

deps:  ## Debian and Python packages the collection, its lab and its tests need
	bash tools/install-deps.sh

collections:  ## the collections path ansible-core needs (a symlink to this clone under build/collections)
	bash tools/collection-root.sh link >/dev/null

# The loop calls $(MAKE), so `make -n test` runs it too (the sub-makes only print); it leaves the lab alone.
test: deps  ## everything CI runs: the steps of TEST_STEPS in order, stopping at the first that fails
	@status=0; for step in $(TEST_STEPS); do \
	  printf '\n=== make %s ===\n' "$$step"; \
	  $(MAKE) --no-print-directory "$$step" || { status=$$?; break; }; \
	done; $(if $(findstring n,$(firstword -$(MAKEFLAGS))),echo) $(LAB) stop >/dev/null 2>&1 || true; exit $$status

unit: deps
	$(PYTHON) -m pytest -q tests/unit

coverage: deps  ## line coverage of the window engine's decision modules over tests/unit, each at least 90%
	bash tools/coverage.sh

sanity: deps  ## ansible-test sanity (needs the network for its own venvs)
	bash tools/sanity.sh

lint: deps collections  ## ansible-lint, production profile, over playbooks and roles
	$(QUIET_ANSIBLE) ansible-lint --profile production --offline

docs: deps  ## HTML documentation (build/docs/html) and changelog (build/docs/CHANGELOG.rst)
	bash tools/docs.sh

integration: lab-up collections  ## the simulators' own tests and the integration tests against the lab
	$(PYTHON) -m pytest -q tests/lab_tests tests/integration

galaxy: deps  ## build the tarball, test the installed copy, check the execution environment (without the lab)
	bash tools/galaxy-check.sh --no-lab

galaxy-lab: lab-up  ## the same, plus one lab playbook against the installed copy
	bash tools/galaxy-check.sh

oldest: lab-up collections  ## the integration playbooks again on ansible-core 2.16 (its venv needs the network once)
	if [ ! -x "$(OLDEST)/bin/ansible-playbook" ]; then \
	  $(PYTHON) -m venv "$(OLDEST)" && \
	  "$(OLDEST)/bin/pip" install -q --disable-pip-version-check "ansible-core>=2.16,<2.17" -r requirements.txt; \
	fi
	CLUSTERSAFE_ANSIBLE_BIN="$(OLDEST)/bin" $(PYTHON) -m pytest -q tests/integration/test_playbooks.py

lab-up: deps
	$(LAB) start

lab-down:
	$(LAB) stop

demo: lab-up collections  ## the main job against the built-in lab
	set -a && source .lab/lab.env && set +a && $(QUIET_ANSIBLE) ansible-playbook -i tests/lab/inventory.yml playbooks/demo.yml

bench: deps
	$(PYTHON) tests/bench/bench_cluster_info.py

bench-window: deps collections  ## one window across 1, 5 and 10 failover clusters, lab waits at zero and realistic (restarts the lab as generated estates)
	$(PYTHON) tests/bench/bench_window.py

bench-window-node: lab-up  ## what the failover-cluster window's sequencing adds per node (lab waits at zero)
	$(PYTHON) tests/bench/bench_window_node.py

crash-matrix: lab-up  ## SIGKILL at every step boundary of the first two nodes, then recover and re-run
	CLUSTERSAFE_CRASH_MATRIX=full $(PYTHON) -m pytest -q tests/integration/test_wsfc_window.py -k crash

clean:  ## lab state and build output; the venv stays (make distclean removes it too)
	-$(LAB) stop
	rm -rf build .lab tests/output

distclean: clean
	rm -rf $(VENV)
