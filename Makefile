# cachekeeper developer commands. Every target bootstraps what it needs, so a fresh clone works.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 7071
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: test run lint typecheck unit bootstrap clean chromium runtime-venv runtime-test lock lock-check

bootstrap: $(STAMP) $(NODE_STAMP)

$(STAMP): requirements.lock requirements.in requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .  # the `cachekeeper` console script
	touch $@

# requirements.lock pins every package CI installs, for every supported Python (universal
# markers), compiled from requirements.in (runtime ranges) and requirements-dev.txt; requirements.txt,
# what the deployment installs, is the lock's runtime subset (scripts/export_runtime_lock.py).
# Regenerate both after editing requirements.in or requirements-dev.txt: `make lock`.
# tests/unit/test_lock.py fails when either is out of date; `make lock-check` recompiles online.
LOCK_COMPILE = $(BIN)/uv pip compile --universal --python-version 3.11 --quiet \
	--custom-compile-command 'make lock' requirements-dev.txt

lock: $(STAMP)
	$(LOCK_COMPILE) -o requirements.lock
	$(BIN)/python scripts/export_runtime_lock.py

lock-check: $(STAMP)
	cp requirements.lock $(VENV)/requirements.lock.check
	$(LOCK_COMPILE) -o $(VENV)/requirements.lock.check
	cmp -s requirements.lock $(VENV)/requirements.lock.check || (echo "requirements.lock is out of date with requirements.in / requirements-dev.txt: run make lock" >&2; exit 1)
	$(BIN)/python scripts/export_runtime_lock.py --check
	$(BIN)/uv pip compile --universal --python-version 3.11 --quiet --no-annotate --no-header \
		requirements.txt -o $(VENV)/requirements.txt.closure
	grep -v '^#' requirements.txt | cmp -s - $(VENV)/requirements.txt.closure || (echo "requirements.txt does not resolve to itself: a deployed package's dependency is missing" >&2; exit 1)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# the dashboard's browser test drives the system Chromium (Debian package) with playwright-core
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

test: bootstrap chromium checkov-tool lint typecheck runtime-test
	$(BIN)/python -m pytest

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

run: bootstrap
	$(BIN)/python -m devhost --port $(PORT)

clean:
	rm -rf $(VENV) $(RUNTIME_VENV) tests/runtime/_rpc node_modules .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis

# ---- benchmarks --------------------------------------------------------------------------------
# `make bench` prints one table of ratios and writes bench/results.json (docs/performance.md).
# Cloud Custodian's c7n-azure, the cold-start peer, goes only into its own venv under .tools/;
# when it cannot be installed the figure is reported as unavailable (rm -rf .tools/bench-venv
# to try again).
BENCH_VENV := .tools/bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: bench

$(BENCH_STAMP):
	mkdir -p .tools
	( $(PYTHON) -m venv $(BENCH_VENV) && timeout 300 $(BENCH_VENV)/bin/python -m pip install --quiet c7n-azure >.tools/bench-venv-install.log 2>&1 ) \
		|| ( mkdir -p $(BENCH_VENV) && echo "pip install c7n-azure failed (see .tools/bench-venv-install.log)" >$(BENCH_VENV)/c7n-unavailable.txt )
	touch $@

bench: bootstrap $(BENCH_STAMP)
	$(BIN)/python -m bench

# ---- infra scanning ------------------------------------------------------------------------
# checkov scans infra/ in tests/contract/test_infra_checkov.py. It goes into its own venv under
# .tools/ because its dependency pins (packaging, boto3, ...) clash with the app's.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := .tools/checkov-venv
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

.PHONY: checkov checkov-tool

checkov-tool: $(CHECKOV_STAMP)

$(CHECKOV_STAMP):
	mkdir -p .tools
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $@

checkov: $(CHECKOV_STAMP)
	$(CHECKOV_VENV)/bin/checkov --directory infra --framework bicep --skip-download --compact

# ---- reliability and security soak -------------------------------------------------------
# `make soak`: 1,000 mixed events under injected faults (~10 % 429, 5 % 500, 2 % timeouts) and a
# 300-event run on the Azurite journal, each compared with a fault-free run of the same events;
# the parsers fuzzed with 10,000 cases; schemathesis with a larger budget; crash, concurrency and
# security checks. The soak prints its figures. `make test` runs the same tests, smaller.
# Also compared with fault-free runs: the same events delivered to several workers at once, writes
# whose answer is lost, the journal behind a fault-injecting proxy, workers killed mid-write, and
# a write that stalls past its lease (tests/integration/test_soak_*.py).
SOAK_EVENTS ?= 1000
SOAK_AZURITE_EVENTS ?= 300
SOAK_WORKER_EVENTS ?= 150
SOAK_LOST_EVENTS ?= 1000
SOAK_TABLE_EVENTS ?= 200
SOAK_KILL_EVENTS ?= 300
SCHEMATHESIS_EXAMPLES ?= 25

.PHONY: soak

soak: bootstrap
	SOAK_EVENTS=$(SOAK_EVENTS) SOAK_AZURITE_EVENTS=$(SOAK_AZURITE_EVENTS) CACHEKEEPER_FUZZ=soak \
	SOAK_WORKER_EVENTS=$(SOAK_WORKER_EVENTS) SOAK_LOST_EVENTS=$(SOAK_LOST_EVENTS) \
	SOAK_TABLE_EVENTS=$(SOAK_TABLE_EVENTS) SOAK_KILL_EVENTS=$(SOAK_KILL_EVENTS) \
	SCHEMATHESIS_EXAMPLES=$(SCHEMATHESIS_EXAMPLES) $(BIN)/python -m pytest -q --timeout 1800 \
		tests/integration/test_soak_faults.py tests/integration/test_soak_workers.py \
		tests/integration/test_soak_lost_responses.py tests/integration/test_soak_table_faults.py \
		tests/integration/test_soak_kills.py tests/integration/test_soak_stalled_write.py \
		tests/integration/test_crash_safety.py \
		tests/integration/test_concurrency_sandbox.py tests/integration/test_security_sandbox.py \
		tests/unit/test_fuzz_parsers.py tests/unit/test_security_static.py \
		tests/e2e/test_security_http_e2e.py

# ---- the real-runtime tier -----------------------------------------------------------------
# tests/runtime runs the app under the real Python worker (azure-functions-runtime, what Azure
# loads for Python 3.13+) through the host <-> worker protobuf messages, in its own pytest run on
# Python 3.13 (the rest of the suite runs on $(PYTHON)). The venv is made from pyenv's 3.13
# (`PYENV_VERSION=3.13.0 python3.13`, or PYTHON313=/path/to/python3.13); without one this stops
# with a message, never a silent skip. The protos are compiled into tests/runtime/_rpc here and
# again at every run of the tier (tests/runtime/rpc_codegen.py).
RUNTIME_PYTHON_VERSION ?= 3.13.0
PYTHON313 ?= python3.13
RUNTIME_VENV := .venv313
RUNTIME_STAMP := $(RUNTIME_VENV)/.installed

runtime-venv: $(RUNTIME_STAMP)

$(RUNTIME_STAMP): requirements.txt requirements-runtime.txt
	@PYENV_VERSION=$(RUNTIME_PYTHON_VERSION) $(PYTHON313) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null || { \
		echo "error: the real-runtime tier needs Python 3.13: 'PYENV_VERSION=$(RUNTIME_PYTHON_VERSION) $(PYTHON313)' is not a working 3.13." >&2; \
		echo "       Install it (pyenv install $(RUNTIME_PYTHON_VERSION)) or pass PYTHON313=/path/to/python3.13." >&2; \
		exit 1; }
	test -x $(RUNTIME_VENV)/bin/python || PYENV_VERSION=$(RUNTIME_PYTHON_VERSION) $(PYTHON313) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/python -m pip install --quiet -r requirements-runtime.txt
	$(RUNTIME_VENV)/bin/python tests/runtime/rpc_codegen.py
	touch $@

runtime-test: $(RUNTIME_STAMP)
	$(RUNTIME_VENV)/bin/python -m pytest tests/runtime
