# tracecard — developer workflow. `make help` lists the targets.
#
#   make setup   # check toolchains, build the CLI, create .venv and build the Python package
#   make demo    # compile the bundled example traces and print their cards
#   make test    # install what is missing, then run every test of every language
#
# Needs: Rust >= 1.89 (cargo), a C linker, CPython >= 3.9 with venv, Node >= 20.17 with npm,
# Java >= 17 (the Spark tests of test-scale).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON   ?= python3
VENV     := $(CURDIR)/.venv
PY_DIR   := bindings/python
NODE_DIR := bindings/node
CARGO    ?= cargo
TRACECARD := target/debug/tracecard

.PHONY: help setup demo test test-rust test-python test-scale scale-bench test-browser test-e2e test-node guard-study claude-code-cli lint fmt bench bench-peer hostile fuzz check-tools clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

check-tools: ## Check that the toolchains are present
	@scripts/check-tools

setup: check-tools ## Build everything and install the dev tools (idempotent)
	$(CARGO) build --locked --workspace --exclude tracecard-python
	@if [ -d $(PY_DIR) ]; then $(MAKE) --no-print-directory -C $(PY_DIR) setup VENV=$(VENV) PYTHON=$(PYTHON); fi
	$(MAKE) --no-print-directory -C $(NODE_DIR) setup
	@echo "setup done: try 'make demo' and 'make test'"

demo: ## Compile the bundled example traces and print their cards
	$(CARGO) build --locked -q -p tracecard-cli
	$(TRACECARD) compile examples/traces --summary
	$(TRACECARD) compile examples/traces
	$(TRACECARD) report examples/traces -o target/report.html

test: test-rust test-python test-scale test-node test-browser test-e2e ## Run every test (Rust, Python, Spark/Ray local, Node, browser, real Claude Code CLI); installs what is missing

test-rust: ## Rust unit, integration, property and doc tests (+ benches in test mode); type-checks the fuzz targets
	$(CARGO) test --locked --all-targets
	$(CARGO) test --locked --doc
	scripts/fuzz check

test-browser: ## The HTML report in headless Chromium (installs chromium and playwright-core when missing)
	scripts/report-browser-test

test-python: ## Build the Python package into .venv and run pytest + stubtest
	@if [ -d $(PY_DIR) ]; then $(MAKE) --no-print-directory -C $(PY_DIR) test VENV=$(VENV) PYTHON=$(PYTHON); else echo "no Python package yet"; fi

test-scale: ## Spark and Ray (local mode) jobs on the fixtures vs compile --format parquet; installs pyspark and ray into .venv
	$(CARGO) build --locked -q -p tracecard-cli
	@$(MAKE) --no-print-directory -C $(PY_DIR) test-scale VENV=$(VENV) PYTHON=$(PYTHON)

SCALE_SESSIONS ?= 7308
scale-bench: ## Not CI: generate SCALE_SESSIONS sessions under target/scale, time the CLI, Spark and Ray on them (BENCHMARKS.md)
	$(CARGO) build --locked --release -q -p tracecard-cli -p ops-agent
	@$(MAKE) --no-print-directory -C $(PY_DIR) develop-release VENV=$(VENV) PYTHON=$(PYTHON)
	$(VENV)/bin/python scripts/scale-bench.py --sessions $(SCALE_SESSIONS)

CLAUDE_CODE_VERSION ?= 2.1.332
CLAUDE_CODE_DIR    := $(CURDIR)/target/claude-code-cli
E2E_DIR            := $(CURDIR)/target/claude-code-e2e

claude-code-cli: $(CLAUDE_CODE_DIR)/node_modules/.bin/claude ## Install the real Claude Code CLI (npm, ~400 MB) under target/

$(CLAUDE_CODE_DIR)/node_modules/.bin/claude:
	mkdir -p $(CLAUDE_CODE_DIR)
	cd $(CLAUDE_CODE_DIR) && [ -f package.json ] || echo '{"name":"claude-code-cli","private":true}' > $(CLAUDE_CODE_DIR)/package.json
	cd $(CLAUDE_CODE_DIR) && npm install --no-audit --no-fund @anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION)

test-e2e: claude-code-cli ## Run the real Claude Code CLI offline (scripted API server; one session with `tracecard guard` as its hook), then test the cards of its sessions
	rm -rf $(E2E_DIR)
	$(CARGO) build --locked -q -p tracecard-cli
	CLAUDE_CODE_DIR=$(CLAUDE_CODE_DIR) scripts/claude_code_e2e/run.sh $(E2E_DIR)
	TRACECARD_CLAUDE_E2E=$(E2E_DIR) $(CARGO) test --locked -p tracecard-core --test it claude_code_e2e -- --ignored
	TRACECARD_CLAUDE_E2E=$(E2E_DIR) $(CARGO) test --locked -p tracecard-cli --test claude_code_e2e -- --ignored
test-node: ## npm ci (dev tools), napi debug build, then node --test
	$(MAKE) --no-print-directory -C $(NODE_DIR) test

guard-study: ## Transfer study of the guard at full size (48 training, 2x100 evaluation sessions), then the savings ceiling per waste category
	$(CARGO) run --locked --release -q -p guard-study -- --train 48 --eval 100 --ceiling

lint: ## rustfmt check and clippy with warnings denied
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

fmt: ## Format the Rust code
	$(CARGO) fmt --all

hostile: ## Longer hostile-input campaign: every fixture, 5 seeds (make test runs a small sample)
	HOSTILE_ALL=1 HOSTILE_SEEDS=$${HOSTILE_SEEDS:-5} $(CARGO) test --locked -p tracecard-cli --test campaign -- --nocapture

FUZZ_SECONDS ?= 60
fuzz: ## Run every fuzz target for FUZZ_SECONDS (60) each (installs cargo-fuzz if missing); prints execs, time and crashes per target
	scripts/fuzz run $(FUZZ_SECONDS)

bench: ## Run the criterion benchmarks (figures go in BENCHMARKS.md)
	$(CARGO) bench -p tracecard-benches

bench-peer: ## Side by side with ccusage (installed from npm under target/peer if missing): CPU-s and ratio, plus the 100k-step session's peak RSS
	scripts/bench-peer

clean: ## Remove build outputs and the venv
	rm -rf target .venv $(PY_DIR)/python/tracecard/*.so $(NODE_DIR)/*.node $(NODE_DIR)/node_modules
