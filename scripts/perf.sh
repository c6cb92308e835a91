#!/usr/bin/env bash
# `make perf`: performance figures side by side, on this machine, in one run (not part of
# `make test`). Creates a Python venv with PyTorch (CPU use of the PyPI wheel) and matplotlib
# once, under the cache dir; builds and runs the engine's benches in the project's target dir.
#
# Four sections (PERF_SECTIONS, default "training,lm,chain,policy"):
# - training: candle (the engine's canonical fused step, and candle's autograd path) against
#   PyTorch on the same shapes, batch and optimiser; docs/perf-training.png. PERF_REPEATS (5),
#   PERF_BUDGET (seconds per repeat, 2), PERF_SHAPES (2x32,3x256,4x1024).
# - lm: transformer language-model training, candle against PyTorch on the same shape, batch,
#   context and optimiser (tokens/s); docs/perf-lm.png. PERF_LM_SHAPES (small,seed),
#   PERF_LM_BUDGET (seconds per repeat, 12), PERF_REPEATS.
# - chain: selection latency through the engine's HTTP API; on the real dev node with 20
#   providers, 48 jobs at once and a stream of PERF_DEV_RATE (25) jobs a block for 12 blocks; on
#   the 4-validator zombienet (zombienet/perf.toml), a stream of PERF_ZOMBIENET_RATE (20) a
#   block; transactions per block by weight; docs/perf-chain.png (settled jobs over blocks).
# - policy: node selection, PPO against every baseline and an oracle on the same jobs of
#   PERF_POLICY_SEEDS (10) markets of PERF_POLICY_JOBS (3000) jobs; docs/policy-curve.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/aicchain-target}"
venv="${AICCHAIN_PERF_VENV:-$HOME/.cache/aicchain-perf-venv}"
sections="${PERF_SECTIONS:-training,lm,chain,policy}"
repeats="${PERF_REPEATS:-5}"
budget="${PERF_BUDGET:-2}"
shapes="${PERF_SHAPES:-2x32,3x256,4x1024}"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch, matplotlib" 2>/dev/null; then
	echo "perf: creating $venv (torch 2.15.0, matplotlib 3.11.2 from PyPI)" >&2
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q torch==2.15.0 matplotlib==3.11.2
fi

out="$(mktemp)"
lm="$(mktemp)"
chain="$(mktemp)"
policy="$(mktemp)"
zombie_pid=""
cleanup() {
	rm -f "$out" "$lm" "$chain" "$policy"
	if [ -n "$zombie_pid" ]; then kill -- "-$zombie_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT

if [[ ",$sections," == *",training,"* ]]; then
	echo "perf: building the training bench" >&2
	cargo bench --no-run -q -p aicchain-worker --bench training >&2
	# Candle and PyTorch alternate, one repeat each, so that both see the same machine (a shared
	# VM's speed drifts by tens of percent over minutes).
	for r in $(seq "$repeats"); do
		echo "perf: repeat $r of $repeats: candle, then pytorch" >&2
		cargo bench -q -p aicchain-worker --bench training -- \
			--shapes "$shapes" --repeats 1 --budget "$budget" --autograd | tee -a "$out" >&2
		"$venv/bin/python" scripts/perf/mlp_torch.py \
			--shapes "$shapes" --repeats 1 --budget "$budget" | tee -a "$out" >&2
	done
fi

if [[ ",$sections," == *",lm,"* ]]; then
	echo "perf: building the language-model bench" >&2
	cargo bench --no-run -q -p aicchain-worker --bench lm >&2
	lm_shapes="${PERF_LM_SHAPES:-small,seed}"
	lm_budget="${PERF_LM_BUDGET:-12}"
	for r in $(seq "$repeats"); do
		echo "perf: language model, repeat $r of $repeats: candle, then pytorch" >&2
		cargo bench -q -p aicchain-worker --bench lm -- \
			--shapes "$lm_shapes" --repeats 1 --budget "$lm_budget" | tee -a "$lm" >&2
		"$venv/bin/python" scripts/perf/lm_torch.py \
			--shapes "$lm_shapes" --repeats 1 --budget "$lm_budget" | tee -a "$lm" >&2
	done
fi

if [[ ",$sections," == *",chain,"* ]]; then
	echo "perf: building the node, the worker and the selection bench" >&2
	cargo build --release -q -p aicchain-node -p aicchain-worker >&2
	cargo bench -q -p aicchain-worker --bench selection | tee -a "$chain" >&2
	node_bin="$CARGO_TARGET_DIR/release/aicchain-node"
	echo "perf: dev chain, 48 jobs at once" >&2
	(cd tests/js && AICCHAIN_NODE="$node_bin" PERF_LABEL=dev-burst PERF_MODE=burst PERF_JOBS=48 \
		node perf-chain.mjs) | tee -a "$chain" >&2
	echo "perf: dev chain, a stream of jobs" >&2
	(cd tests/js && AICCHAIN_NODE="$node_bin" PERF_LABEL=dev-stream PERF_MODE=stream \
		PERF_RATE="${PERF_DEV_RATE:-25}" node perf-chain.mjs) | tee -a "$chain" >&2
	echo "perf: zombienet (4 validators), a stream of jobs" >&2
	zombie_log="$(mktemp)"
	AICCHAIN_NODE="$node_bin" setsid zombienet/node_modules/.bin/zombienet spawn --provider native \
		zombienet/perf.toml >"$zombie_log" 2>&1 &
	zombie_pid=$!
	engines="http://127.0.0.1:9960,http://127.0.0.1:9961,http://127.0.0.1:9962,http://127.0.0.1:9963"
	(cd tests/js && PERF_URL=ws://127.0.0.1:9944 PERF_ENGINES="$engines" \
		PERF_LABEL=zombienet-stream PERF_MODE=stream PERF_RATE="${PERF_ZOMBIENET_RATE:-20}" \
		node perf-chain.mjs) | tee -a "$chain" >&2 || { tail -20 "$zombie_log" >&2; exit 1; }
	kill -- "-$zombie_pid" 2>/dev/null || true
	zombie_pid=""
	rm -f "$zombie_log"
fi

if [[ ",$sections," == *",policy,"* ]]; then
	echo "perf: node selection (PPO and the baselines)" >&2
	cargo bench -q -p aicchain-worker --bench policy -- --seeds "${PERF_POLICY_SEEDS:-10}" \
		--jobs "${PERF_POLICY_JOBS:-3000}" >"$policy"
fi

mkdir -p docs
if [ -s "$policy" ]; then
	echo
	echo "## Node selection ($(date -u +%F), $(nproc) cores)"
	echo
	grep -v '^{' "$policy"
	"$venv/bin/python" scripts/perf/policy_report.py --svg docs/policy-curve.svg <"$policy"
fi
if [ -s "$out" ]; then
	echo
	echo "## Training throughput ($(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
	echo
	"$venv/bin/python" scripts/perf/report.py --png docs/perf-training.png <"$out"
fi
if [ -s "$lm" ]; then
	echo
	echo "## Transformer training throughput ($(date -u +%F), $(nproc) cores)"
	echo
	"$venv/bin/python" scripts/perf/report.py --png docs/perf-lm.png <"$lm"
fi
if [ -s "$chain" ]; then
	echo
	echo "## Chain throughput ($(date -u +%F), $(nproc) cores)"
	echo
	"$venv/bin/python" scripts/perf/chain_report.py --png docs/perf-chain.png <"$chain"
fi
