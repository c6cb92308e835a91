# AICChain: `make run` starts a dev chain, `make test` runs every test.
# Cargo's target dir lives outside the checkout so that every clone (and CI) reuses one build.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/aicchain-target
# Everything (node, tests) is built with the release profile, so dependencies compile once.
CARGO_PROFILE := --release
NODE := $(CARGO_TARGET_DIR)/release/aicchain-node

.PHONY: setup build run test lint fmt clean-chain

setup:
	@./scripts/setup.sh

build: setup
	cargo build $(CARGO_PROFILE) -p aicchain-node

## One command: build the node and start a single-validator dev chain (RPC on ws://127.0.0.1:9944).
run: build
	$(NODE) --dev --rpc-cors all --prometheus-port 9615

## One command: every test (formatting, runtime and node tests, the dev-node integration test).
test: setup
	cargo fmt --all -- --check
	cargo test $(CARGO_PROFILE) --workspace

## Lints held to `-D warnings` (not part of `make test`: a cold clippy pass doubles CI's build).
lint: setup
	cargo clippy $(CARGO_PROFILE) --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all
