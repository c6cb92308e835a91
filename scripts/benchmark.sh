#!/usr/bin/env bash
# Regenerates the weights of AICChain's pallets from their v2 benchmarks.
#
# - installs frame-omni-bencher (polkadot-sdk stable2609) once, under $AICCHAIN_TOOLS_DIR;
# - builds the runtime with `runtime-benchmarks` in its own target dir, so that the node's
#   embedded Wasm is never the benchmarking build;
# - runs every benchmark of each pallet and writes `pallets/<pallet>/src/weights.rs`.
#
# Usage: scripts/benchmark.sh [pallet_compute_registry pallet_compute_jobs ...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
./scripts/setup.sh

tools="${AICCHAIN_TOOLS_DIR:-$HOME/.cache/aicchain-tools}"
bench_target="${AICCHAIN_BENCH_TARGET_DIR:-$HOME/.cache/aicchain-bench-target}"
steps="${BENCH_STEPS:-50}"
repeat="${BENCH_REPEAT:-20}"
bencher="$tools/bin/frame-omni-bencher"

if [ ! -x "$bencher" ]; then
	echo "benchmark: installing frame-omni-bencher 0.28.0 (once; RocksDB makes this long)" >&2
	(cd /tmp && CARGO_TARGET_DIR="$tools-target" cargo install frame-omni-bencher \
		--version 0.28.0 --locked --root "$tools")
fi

CARGO_TARGET_DIR="$bench_target" cargo build --release -p aicchain-runtime --features runtime-benchmarks
wasm="$bench_target/release/wbuild/aicchain-runtime/aicchain_runtime.compact.compressed.wasm"

pallets=("$@")
[ "${#pallets[@]}" -gt 0 ] || pallets=(pallet_compute_registry pallet_compute_jobs pallet_community_fund pallet_validator_set pallet_model_registry pallet_inference)
for pallet in "${pallets[@]}"; do
	dir="pallets/$(echo "${pallet#pallet_}" | tr '_' '-')"
	"$bencher" v1 benchmark pallet \
		--runtime "$wasm" \
		--pallet "$pallet" \
		--extrinsic "*" \
		--steps "$steps" \
		--repeat "$repeat" \
		--template scripts/frame-weight-template.hbs \
		--output "$dir/src/weights.rs"
done
