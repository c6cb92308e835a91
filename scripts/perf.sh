#!/usr/bin/env bash
# `make perf`: performance figures side by side, on this machine, in one run (not part of
# `make test`). Creates a Python venv with PyTorch (CPU use of the PyPI wheel) and matplotlib
# once, under the cache dir; builds and runs the engine's benches in the project's target dir.
#
# Today it measures training throughput, candle (the engine's canonical fused step, and
# candle's autograd path) against PyTorch on the same shapes, batch and optimiser, and writes
# docs/perf-training.png. Environment: PERF_REPEATS (5), PERF_BUDGET (seconds per repeat, 2),
# PERF_SHAPES (2x32,3x256,4x1024).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/aicchain-target}"
venv="${AICCHAIN_PERF_VENV:-$HOME/.cache/aicchain-perf-venv}"
repeats="${PERF_REPEATS:-5}"
budget="${PERF_BUDGET:-2}"
shapes="${PERF_SHAPES:-2x32,3x256,4x1024}"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import torch, matplotlib" 2>/dev/null; then
	echo "perf: creating $venv (torch 2.15.0, matplotlib 3.11.2 from PyPI)" >&2
	python3 -m venv "$venv"
	"$venv/bin/pip" install -q torch==2.15.0 matplotlib==3.11.2
fi

echo "perf: building the benches" >&2
cargo bench --no-run -q -p aicchain-worker --bench training >&2
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# Candle and PyTorch alternate, one repeat each, so that both see the same machine (a shared
# VM's speed drifts by tens of percent over minutes).
for r in $(seq "$repeats"); do
	echo "perf: repeat $r of $repeats: candle, then pytorch" >&2
	cargo bench -q -p aicchain-worker --bench training -- \
		--shapes "$shapes" --repeats 1 --budget "$budget" --autograd | tee -a "$out" >&2
	"$venv/bin/python" scripts/perf/mlp_torch.py \
		--shapes "$shapes" --repeats 1 --budget "$budget" | tee -a "$out" >&2
done

echo
echo "## Training throughput ($(date -u +%F), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
echo
mkdir -p docs
"$venv/bin/python" scripts/perf/report.py --png docs/perf-training.png <"$out"
