# AICChain: `make run` starts a dev chain, `make test` runs every test.
# Cargo's target dir lives outside the checkout so that every clone (and CI) reuses one build.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/aicchain-target
# Everything (node, tests) is built with the release profile, so dependencies compile once.
CARGO_PROFILE := --release
NODE := $(CARGO_TARGET_DIR)/release/aicchain-node
WORKER := $(CARGO_TARGET_DIR)/release/aicchain-worker
ZOMBIENET := AICCHAIN_NODE=$(NODE) AICCHAIN_WORKER=$(WORKER) zombienet/node_modules/.bin/zombienet
# Benchmarks build with `runtime-benchmarks`; their own target dir keeps the node's build intact.
BENCH_TARGET_DIR ?= $(HOME)/.cache/aicchain-bench-target
BENCHMARKED_PALLETS := -p pallet-compute-registry -p pallet-compute-jobs -p pallet-community-fund \
	-p pallet-validator-set -p pallet-model-registry -p pallet-inference

UI_PORT ?= 5173

.PHONY: setup build test-binaries run test lint fmt bench perf testnet zombienet-test js-test demo ui ui-test

setup:
	@./scripts/setup.sh

build: setup
	cargo build $(CARGO_PROFILE) -p aicchain-node -p aicchain-worker -p aicchain-client

## One command: build the node and the web app, start a single-validator dev chain (RPC on
## ws://127.0.0.1:9944) and serve the web app on http://127.0.0.1:$(UI_PORT)/ beside it.
run: build ui
	@(cd ui && exec node_modules/.bin/vite preview --host 127.0.0.1 --port $(UI_PORT) --strictPort >/dev/null 2>&1) & ui=$$!; \
	trap 'kill $$ui 2>/dev/null' EXIT INT TERM; \
	echo "AICChain web app: http://127.0.0.1:$(UI_PORT)/ (market, rent, provide, govern, decisions)"; \
	(sleep 10; echo; echo "==> AICChain web app: http://127.0.0.1:$(UI_PORT)/   RPC: ws://127.0.0.1:9944"; echo) & \
	$(NODE) --dev --rpc-cors all --prometheus-port 9615

## The web app as static files in ui/dist/ (any host serves them; `?rpc=ws://host:port` picks the node).
ui: setup
	cd ui && npm run build --silent

## Replay the seed demo against the running dev chain (`make run` in another terminal).
demo: build
	$(CARGO_TARGET_DIR)/release/aicchain demo

## One command: every test (formatting; pallet, runtime, engine, node, RPC and CLI tests; benchmark
## tests; the Polkadot.js suite; the web app in Chromium; the zombienet liveness, job-flow and
## fault tests).
test: setup
	cargo fmt --all -- --check
	$(MAKE) test-binaries
	cargo test $(CARGO_PROFILE) --workspace --all-targets
	CARGO_TARGET_DIR=$(BENCH_TARGET_DIR) cargo test $(CARGO_PROFILE) $(BENCHMARKED_PALLETS) --all-targets \
		--features runtime-benchmarks -- benchmarking
	$(MAKE) js-test
	$(MAKE) ui-test
	$(MAKE) zombienet-test

## Every target as `cargo test --workspace --all-targets` builds it (same features, so the test
## run that follows compiles nothing more; `build` resolves features without dev-dependencies and
## would compile the workspace crates a second time). It also builds the `aicchain` CLI binary,
## which the node's CLI test runs but `cargo test` alone would not build.
test-binaries: setup
	cargo build $(CARGO_PROFILE) --workspace --all-targets

## Performance figures side by side (not part of `make test`): candle vs PyTorch training, and
## chain throughput on the dev chain and the zombienet (see scripts/perf.sh).
perf: setup
	./scripts/perf.sh

## Polkadot.js (@polkadot/api 16.5.6) against a dev node: metadata, storage, calls, events, fees.
js-test: test-binaries
	cd tests/js && AICCHAIN_NODE=$(NODE) npm test

## The web app in headless Chromium (Debian's) against a dev node; screenshots to docs/ui/.
ui-test: test-binaries
	cd ui && npx tsc --noEmit && AICCHAIN_NODE=$(NODE) npm test

## The 4-validator zombienet testnet (alice, bob, charlie, dave) on the native provider.
testnet: build
	@echo "Polkadot.js Apps: https://polkadot.js.org/apps/?rpc=ws%3A%2F%2F127.0.0.1%3A9944#/explorer"
	@echo "RPC: alice ws://127.0.0.1:9944  bob :9945  charlie :9946  dave :9947"
	$(ZOMBIENET) spawn --provider native zombienet/aicchain-local.toml

## Zombienet tests: liveness + a job end to end, then a validator stopped mid-job.
zombienet-test: test-binaries
	$(ZOMBIENET) test --provider native zombienet/smoke.zndsl
	$(ZOMBIENET) test --provider native zombienet/fault.zndsl

## Lints held to `-D warnings` (not part of `make test`: a cold clippy pass doubles CI's build).
lint: setup
	cargo clippy $(CARGO_PROFILE) --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

## Regenerate pallet weights from the v2 benchmarks (installs frame-omni-bencher once).
bench:
	./scripts/benchmark.sh
