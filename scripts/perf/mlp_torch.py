"""PyTorch (CPU) training throughput of the engine's MLPs: the same shapes, batch, loss and
optimiser as the candle trainer (`aicchain-worker`'s `benches/training.rs`).

Per step: gather the batch's rows by index, forward (Linear + ReLU layers, one logit), logistic
loss from logits (mean over the batch), backward, AdamW (lr from the spec, betas 0.9/0.999,
eps 1e-8, no weight decay). Each epoch visits the training rows in a fresh random order in
batches of 64. Prints one JSON object per model with the samples/s of every repeat.

Usage: python mlp_torch.py --shapes 2x32,3x256,4x1024 --features 8 --rows 2400 --repeats 5
"""

import argparse
import json
import time

import torch


def model_of(features: int, layers: int, hidden: int) -> torch.nn.Module:
    parts, width = [], features
    for _ in range(layers):
        parts += [torch.nn.Linear(width, hidden), torch.nn.ReLU()]
        width = hidden
    parts.append(torch.nn.Linear(width, 1))
    return torch.nn.Sequential(*parts)


def samples_per_second(features, rows, layers, hidden, epochs, seed) -> float:
    torch.manual_seed(seed)
    x = torch.randn(rows, features)
    y = (torch.rand(rows) < 0.3).float()
    model = model_of(features, layers, hidden)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=5e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(rows)
        for chunk in order.split(64):
            xb, yb = x.index_select(0, chunk), y.index_select(0, chunk)
            optimiser.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb).squeeze(-1), yb)
            loss.backward()
            optimiser.step()
    elapsed = time.perf_counter() - start
    return rows * epochs / elapsed


def main() -> None:
    # Subnormal numbers flushed to zero, as the candle step flushes AdamW's moments: without it
    # long runs slow down as dead units' moments decay into subnormals.
    torch.set_flush_denormal(True)
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", default="2x32,3x256,4x1024")
    parser.add_argument("--features", type=int, default=8)
    parser.add_argument("--rows", type=int, default=2400)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=2.0, help="seconds per repeat, about")
    args = parser.parse_args()
    for shape in args.shapes.split(","):
        layers, hidden = (int(v) for v in shape.split("x"))
        # One warm-up epoch, then enough epochs for about `budget` seconds per repeat.
        rate = samples_per_second(args.features, args.rows, layers, hidden, 1, 0)
        epochs = max(1, round(args.budget * rate / args.rows))
        rates = [
            samples_per_second(args.features, args.rows, layers, hidden, epochs, seed + 1)
            for seed in range(args.repeats)
        ]
        print(json.dumps({
            "engine": f"pytorch {torch.__version__} ({torch.get_num_threads()} threads)",
            "model": shape,
            "epochs": epochs,
            "samples_per_s": rates,
        }), flush=True)


if __name__ == "__main__":
    main()
