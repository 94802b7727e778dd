# One entry point for users and CI. `make test` is what .ci/run calls.
SHELL := /bin/bash
PYTHON ?= python3
ROOT := $(CURDIR)
LAB := $(PYTHON) tests/lab/labctl.py
COLLECTIONS = $(shell bash tools/collection-root.sh link)
ANSIBLE_ENV = ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ANSIBLE_PYTHON_INTERPRETER=$$(command -v $(PYTHON)) ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

.PHONY: deps test unit sanity lint integration lab-up lab-down demo bench bench-window crash-matrix clean

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
	$(PYTHON) -m pytest -q tests/lab tests/integration

test: deps  ## everything CI runs
	bash tools/test-all.sh

bench: deps
	$(PYTHON) tests/bench/bench_cluster_info.py

bench-window: lab-up  ## what the failover-cluster window's sequencing adds per node (lab waits at zero)
	$(PYTHON) tests/bench/bench_window.py

crash-matrix: lab-up  ## SIGKILL at every step boundary of the first two nodes, then recover and re-run
	CLUSTERSAFE_CRASH_MATRIX=full $(PYTHON) -m pytest -q tests/integration/test_wsfc_window.py -k crash

clean:
	-$(LAB) stop
	rm -rf build .lab tests/output
