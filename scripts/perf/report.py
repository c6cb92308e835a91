"""Reads the JSON lines of `benches/training.rs` and `mlp_torch.py` (MLPs, samples/s), and of
`benches/lm.rs` and `lm_torch.py` (transformers, `"unit": "tokens/s"`) on stdin; prints a
Markdown table (mean throughput with a 95% confidence interval per engine and model, and each
candle path's ratio to PyTorch), and writes a bar chart as PNG (`--png PATH`).
"""

import argparse
import json
import statistics
import sys

# Two-sided 95% Student t quantiles by degrees of freedom.
T95 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26,
       10: 2.23, 15: 2.13, 20: 2.09, 30: 2.04}


def interval(values):
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, 0.0
    df = len(values) - 1
    t = T95.get(df) or T95[max(k for k in T95 if k <= df)]
    return mean, t * statistics.stdev(values) / len(values) ** 0.5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--png")
    args = parser.parse_args()
    rows = [json.loads(line) for line in sys.stdin if line.startswith("{")]
    models = list(dict.fromkeys(r["model"] for r in rows))
    engines = list(dict.fromkeys(r["engine"] for r in rows))
    samples = {}
    for r in rows:
        samples.setdefault((r["engine"], r["model"]), []).extend(r["samples_per_s"])
    stats = {key: interval(values) for key, values in samples.items()}
    torch = next((e for e in engines if e.startswith("pytorch")), None)
    units = {r["model"]: r.get("unit", "samples/s") for r in rows}
    label = {m: (m if m.startswith("transformer") else f"MLP {m}") for m in models}
    print("| model | engine | runs | per second (mean ± 95% CI) | × PyTorch |")
    print("| --- | --- | ---: | ---: | ---: |")
    for model in models:
        for engine in engines:
            if (engine, model) not in stats:
                continue
            mean, half = stats[(engine, model)]
            ratio = ""
            if torch and engine != torch and (torch, model) in stats:
                ratio = f"{mean / stats[(torch, model)][0]:.2f}×"
            runs = len(samples[(engine, model)])
            print(f"| {label[model]} | {engine} | {runs} | {mean:,.0f} ± {half:,.0f} {units[model]} | {ratio} |")
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
        width = 0.8 / max(1, len(engines))
        for i, engine in enumerate(engines):
            xs = [m + i * width for m in range(len(models)) if (engine, models[m]) in stats]
            got = [stats[(engine, m)] for m in models if (engine, m) in stats]
            ax.bar(xs, [g[0] for g in got], width, yerr=[g[1] for g in got], capsize=3,
                   label=engine)
        ax.set_xticks([m + width * (len(engines) - 1) / 2 for m in range(len(models))])
        ax.set_xticklabels([label[m].replace(" h", "\nh") for m in models], fontsize=7)
        ax.set_yscale("log")
        ax.set_ylabel("training samples/s (MLPs), tokens/s (transformers), log scale")
        ax.set_title("Training throughput, AdamW, CPU (mean, 95% CI)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.png)
        print(f"\nchart: {args.png}")


if __name__ == "__main__":
    main()
