# One entry point for users and CI. `make test` is what .ci/run calls.
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
COLLECTIONS = $(shell bash tools/collection-root.sh link)
ANSIBLE_ENV = ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ANSIBLE_PYTHON_INTERPRETER=$(PYTHON) ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

.PHONY: deps test unit sanity lint integration lab-up lab-down demo bench bench-window bench-window-node crash-matrix docs galaxy clean distclean

deps:  ## Debian and Python packages the collection, its lab and its tests need
	bash tools/install-deps.sh

lab-up: deps
	$(LAB) start

lab-down:
	$(LAB) stop

demo: lab-up  ## the main job against the built-in lab
	set -a && source .lab/lab.env && set +a && $(ANSIBLE_ENV) ansible-playbook -i tests/lab/inventory.yml playbooks/demo.yml

unit: deps
	$(PYTHON) -m pytest -q tests/unit

sanity: deps
	bash tools/sanity.sh

lint: deps
	$(ANSIBLE_ENV) ansible-lint --profile production --offline

integration: deps
	$(PYTHON) -m pytest -q tests/lab_tests tests/integration

test: deps  ## everything CI runs
	bash tools/test-all.sh

docs: deps  ## HTML documentation (build/docs/html) and changelog (build/docs/CHANGELOG.rst)
	bash tools/docs.sh

galaxy: deps  ## build the tarball, test the installed copy, check the execution environment (no lab: --no-lab)
	bash tools/galaxy-check.sh --no-lab

bench: deps
	$(PYTHON) tests/bench/bench_cluster_info.py

bench-window-node: lab-up  ## what the failover-cluster window's sequencing adds per node (lab waits at zero)
	$(PYTHON) tests/bench/bench_window_node.py

crash-matrix: lab-up  ## SIGKILL at every step boundary of the first two nodes, then recover and re-run
	CLUSTERSAFE_CRASH_MATRIX=full $(PYTHON) -m pytest -q tests/integration/test_wsfc_window.py -k crash

clean:  ## lab state and build output; the venv stays (make distclean removes it too)
	-$(LAB) stop
	rm -rf build .lab tests/output

distclean: clean
	rm -rf $(VENV)
