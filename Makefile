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

# In order of cost. The lab steps run each with labs of their own in private network namespaces
# (tools/integration.py, tools/private-lab.sh), so they leave the lab of `make lab-up` alone. docs/testing.md
# says what runs where and how long it takes.
TEST_STEPS := unit sanity lint docs integration galaxy-lab oldest
# What `make test` leaves out: the tests marked long, the whole crash matrix, every integration playbook on
# ansible-core 2.16, the coverage floor and the benchmarks.
LONG_STEPS := integration-long crash-matrix oldest-all coverage bench bench-window-node bench-window
# The oldest ansible-core runs what can differ there: each backend's module contract (vSphere, WinRM, DSM), a
# lookup-based query, the window engine's action (plan, window, report) and a role of templated tasks.
OLDEST_TESTS := tests/integration/test_playbooks.py::test_playbook[vsphere_drs_window] \
  tests/integration/test_playbooks.py::test_playbook[mscs_node] \
  tests/integration/test_playbooks.py::test_playbook[dsm_computer] \
  tests/integration/test_playbooks.py::test_playbook[info_query] \
  tests/integration/test_wsfc_window.py::test_rollout_end_to_end \
  tests/integration/test_vsphere_windows.py::test_dsva_placement_pins_once_and_check_mode_changes_nothing

.PHONY: deps collections test test-long $(TEST_STEPS) $(LONG_STEPS) galaxy oldest-venv lab-up lab-down demo clean distclean

deps:  ## Debian and Python packages the collection, its lab and its tests need
	bash tools/install-deps.sh

collections:  ## the collections path ansible-core needs (a symlink to this clone under build/collections)
	bash tools/collection-root.sh link >/dev/null

# The loop calls $(MAKE), so `make -n test` runs it too (the sub-makes only print); it leaves the lab alone.
test: deps  ## everything CI runs: the steps of TEST_STEPS in order, stopping at the first that fails
	@status=0; began=$$(date +%s); for step in $(TEST_STEPS); do \
	  printf '\n=== make %s ===\n' "$$step"; started=$$(date +%s); \
	  $(MAKE) --no-print-directory "$$step" || { status=$$?; break; }; \
	  printf '=== make %s: %d s\n' "$$step" $$(( $$(date +%s) - started )); \
	done; printf '=== make test: %d s, status %d\n' $$(( $$(date +%s) - began )) $$status; $(if $(findstring n,$(firstword -$(MAKEFLAGS))),echo) $(LAB) stop >/dev/null 2>&1 || true; exit $$status

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

integration: deps collections  ## the simulators' own tests and the integration tests, in shards with labs of their own
	$(PYTHON) tools/integration.py

integration-long: deps collections  ## the tests marked long (real durations, the estates beyond one)
	$(PYTHON) tools/integration.py -m long

# The loop calls $(MAKE), so `make -n test-long` runs it too (the sub-makes only print).
test-long: deps  ## everything `make test` leaves out: LONG_STEPS in order, stopping at the first that fails
	@status=0; for step in $(LONG_STEPS); do \
	  printf '\n=== make %s ===\n' "$$step"; \
	  $(MAKE) --no-print-directory "$$step" || { status=$$?; break; }; \
	done; exit $$status

galaxy: deps  ## build the tarball, test the installed copy, check the execution environment (without the lab)
	bash tools/galaxy-check.sh --no-lab

galaxy-lab: deps  ## the same, plus one lab playbook against the installed copy (a lab of its own)
	bash tools/private-lab.sh galaxy bash tools/galaxy-check.sh

oldest-venv: deps
	if [ ! -x "$(OLDEST)/bin/ansible-playbook" ]; then \
	  $(PYTHON) -m venv "$(OLDEST)" && \
	  "$(OLDEST)/bin/pip" install -q --disable-pip-version-check "ansible-core>=2.16,<2.17" -r requirements.txt; \
	fi

oldest: oldest-venv collections  ## what can differ on ansible-core 2.16 (OLDEST_TESTS; its venv needs the network once)
	CLUSTERSAFE_ANSIBLE_BIN="$(OLDEST)/bin" bash tools/private-lab.sh oldest $(PYTHON) -m pytest -q $(OLDEST_TESTS)

oldest-all: oldest-venv collections  ## every integration playbook on ansible-core 2.16
	CLUSTERSAFE_ANSIBLE_BIN="$(OLDEST)/bin" bash tools/private-lab.sh oldest $(PYTHON) -m pytest -q tests/integration/test_playbooks.py

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

crash-matrix: deps collections  ## SIGKILL at every step boundary of the first two nodes, then recover and re-run
	CLUSTERSAFE_CRASH_MATRIX=full $(PYTHON) tools/integration.py -k crash tests/integration/test_wsfc_window.py

clean:  ## lab state and build output; the venv stays (make distclean removes it too)
	-$(LAB) stop
	rm -rf build .lab tests/output

distclean: clean
	rm -rf $(VENV)
