"""Reads `benches/policy.rs`'s output on stdin and draws PPO's learning curve (mean reward per
training rollout, and the greedy policy's on held-out markets, with each strategy's mean reward
on the benchmark markets as horizontal lines) as SVG (`--svg PATH`)."""

import argparse
import json
import statistics
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--svg", required=True)
    args = parser.parse_args()
    lines = [json.loads(line) for line in sys.stdin if line.startswith("{")]
    curve = next(l for l in lines if l["kind"] == "curve")
    strategies = [l for l in lines if l["kind"] == "strategy"]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    rewards = curve["rewards"]
    window = 5
    smooth = [statistics.fmean(rewards[max(0, i - window + 1): i + 1]) for i in range(len(rewards))]
    decisions = [curve["steps"] * (i + 1) for i in range(len(rewards))]
    ax.plot(decisions, rewards, color="tab:blue", alpha=0.3, linewidth=1)
    ax.plot(decisions, smooth, color="tab:blue", linewidth=1.5, alpha=0.6,
            label="PPO training rollouts (sampling, training markets)")
    held = [curve["steps"] * u for u in curve["held_out_updates"]]
    ax.plot(held, curve["held_out"], color="black", linewidth=2, marker=".",
            label="PPO greedy, held-out markets")
    for i, s in enumerate(strategies):
        ax.axhline(statistics.fmean(s["rewards"]), linestyle="--", linewidth=1,
                   color=plt.cm.tab10((i + 1) % 10), label=f'{s["name"]} (benchmark mean)')
    ax.set_xlabel("training decisions")
    ax.set_ylabel("mean reward per job")
    ax.set_title("Node selection: PPO learning curve")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(args.svg, format="svg")


if __name__ == "__main__":
    main()
