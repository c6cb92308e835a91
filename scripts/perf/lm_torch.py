"""PyTorch twin of `offchain-worker/benches/lm.rs`: the same decoder-only transformer (token and
learned position embeddings, pre-norm blocks of causal multi-head attention and a 4x GELU MLP,
final layer norm, projection to the vocabulary), the same batch of random windows, AdamW
(beta 0.9/0.999, eps 1e-8, no decay, lr 1e-3), on the CPU. Prints one JSON line per shape in the
bench's format (tokens/s per repeat).
"""

import argparse
import json
import time

import torch
from torch import nn

SHAPES = {"seed": (10_000, 256, 4, 2, 64), "small": (2_000, 128, 4, 2, 64)}


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.up = nn.Linear(dim, 4 * dim)
        self.down = nn.Linear(4 * dim, dim)

    def forward(self, x, mask):
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, d // self.heads).unbind(2)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))
        scores = q @ k.transpose(-1, -2) / (d // self.heads) ** 0.5 + mask[:t, :t]
        mixed = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(mixed)
        return x + self.down(nn.functional.gelu(self.up(self.norm2(x)), approximate="tanh"))


class Lm(nn.Module):
    def __init__(self, vocab, dim, heads, layers, context):
        super().__init__()
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Parameter(torch.zeros(context, dim))
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)
        self.register_buffer("mask", torch.full((context, context), float("-inf")).triu(1))

    def forward(self, ids):
        x = self.tokens(ids) + self.positions[: ids.shape[1]]
        for block in self.blocks:
            x = block(x, self.mask)
        return self.head(self.norm(x))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shapes", default="seed")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=12.0)
    args = parser.parse_args()
    for name in args.shapes.split(","):
        vocab, dim, heads, layers, context = SHAPES[name]
        tokens = torch.randint(0, vocab, (200_000,), generator=torch.Generator().manual_seed(9))
        rates = []
        for repeat in range(args.repeats):
            torch.manual_seed(repeat)
            model = Lm(vocab, dim, heads, layers, context)
            optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999),
                                          eps=1e-8, weight_decay=0.0)
            generator = torch.Generator().manual_seed(repeat)

            def step():
                starts = torch.randint(0, len(tokens) - context - 1, (args.batch,), generator=generator)
                windows = torch.stack([tokens[s : s + context + 1] for s in starts.tolist()])
                logits = model(windows[:, :-1])
                loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), windows[:, 1:].reshape(-1))
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()

            step()  # warm-up
            steps, start = 0, time.perf_counter()
            while time.perf_counter() - start < args.budget:
                step()
                steps += 1
            rates.append(steps * args.batch * context / (time.perf_counter() - start))
        model_name = f"transformer {layers}×{dim} h{heads} v{vocab} c{context}"
        print(json.dumps({"engine": f"pytorch {torch.__version__} ({torch.get_num_threads()} threads)",
                          "model": model_name, "unit": "tokens/s", "batch": args.batch,
                          "samples_per_s": rates}))


if __name__ == "__main__":
    main()
