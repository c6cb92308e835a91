"""Reads the JSON lines of `tests/js/perf-chain.mjs` (kinds `weights`, `block`, `chain`, one
label per run) and of `benches/selection.rs` (kind `selection`) on stdin; prints a Markdown table
of every chain figure beside its goal and the figure the issue measured before (anchor), and
writes a chart of settled jobs per block over blocks for each run (`--png PATH`).
"""

import argparse
import json
import sys

# Figures the issue measured on 2026-11-23 (issue 16), and its goals.
ANCHOR_SETTLED_PER_BLOCK = "~0.6"
GOALS = {"dev-stream": 20, "zombienet-stream": 10}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--png")
    args = parser.parse_args()
    rows = [json.loads(line) for line in sys.stdin if line.startswith("{")]
    chains = {r["label"]: r for r in rows if r["kind"] == "chain"}
    weights = next((r for r in rows if r["kind"] == "weights"), None)
    blocks = {}
    for r in rows:
        if r["kind"] == "block":
            blocks.setdefault(r["label"], []).append(r)
    print("| figure | measured | goal | before (2026-11-23) |")
    print("| --- | ---: | ---: | ---: |")
    if weights:
        ratio = weights["submissions_per_block"] / weights["transfers_per_block"]
        print(f"| `submitJob` vs `transferKeepAlive` per block, by weight | "
              f"{weights['submissions_per_block']:,} vs {weights['transfers_per_block']:,} "
              f"({ratio:.2f}×) | | 0.38× |")
    for label, chain in chains.items():
        what = (f"{chain['jobs']} jobs at once" if chain["mode"] == "burst"
                else f"{chain['rate']} jobs/block for {chain['stream_blocks']} blocks")
        where = "zombienet (4 validators)" if label.startswith("zombienet") else "dev chain (1 validator)"
        setting = f"{where}, {chain['providers']} providers × {chain['gpus_per_node']} GPUs, {what}"
        goal = GOALS.get(label)
        rate = chain["settled_per_block"]
        verdict = "" if goal is None else (" ✅" if rate >= goal else f" ❌ ({goal - rate:.1f} short)")
        print(f"| settled jobs per block, {setting} | {rate:.1f}{verdict} (max {chain['max_settled_in_a_block']} "
              f"in a block) | {'≥ ' + str(goal) if goal else ''} | {ANCHOR_SETTLED_PER_BLOCK} |")
        print(f"| jobs settled / expired / failed, {setting} | {chain['settled']} / {chain['expired']} / "
              f"{chain['failed']} of {chain['jobs']} | all settled | "
              f"{'12 / 36 / 0 of 48' if chain['mode'] == 'burst' else ''} |")
        print(f"| submit → settled p50 / p95, {setting} | {chain['latency_blocks_p50']} / "
              f"{chain['latency_blocks_p95']} blocks ({chain['latency_s_p50']:.0f} s / "
              f"{chain['latency_s_p95']:.0f} s) | | 5 blocks (30 s), one job alone |")
        print(f"| heaviest block (normal class) / finality lag, {setting} | "
              f"{100 * chain['max_normal_weight_share']:.1f}% / {chain['max_finality_lag']} blocks | "
              f"< 100% / steady | |")
    for r in rows:
        if r["kind"] == "selection":
            print(f"| selection among {r['candidates']:,} candidates through the engine's HTTP API, "
                  f"p50 / p95 ({r['requests']} requests) | {r['p50_us'] / 1000:.2f} / "
                  f"{r['p95_us'] / 1000:.2f} ms | | policy forward alone: 12 µs (10) / 0.58 ms (1,000) |")
    if args.png and blocks:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
        for label, runs in blocks.items():
            first = runs[0]["number"]
            ax.plot([b["number"] - first for b in runs], [b["settled"] for b in runs],
                    marker="o", markersize=3, label=label)
        for label, goal in GOALS.items():
            if label in blocks:
                ax.axhline(goal, linestyle=":", linewidth=1, color="grey")
        ax.set_xlabel("blocks since the first submission (6 s each)")
        ax.set_ylabel("jobs settled in the block")
        ax.set_title("Settled jobs per block (dotted: goals, 20 dev / 10 zombienet)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.png)
        print(f"\nchart: {args.png}")


if __name__ == "__main__":
    main()
