#!/usr/bin/env python
"""Layer by layer: forward + backward time of common layers in tinygradnn and PyTorch CPU.

``run.py`` times whole training loops. This script looks for the layers a model might spend its time
in (and, last, three whole small models): each case builds the layer in PyTorch, copies its ``state_dict``
into tinygradnn's (so both hold the same weights), checks that both give the same output, then times
``layer(x)``, ``.sum()`` and ``backward()`` for both, interleaved, and keeps the fastest repeat of each.

Usage (from the repository root)::

    python benchmarks/layers.py                   # every case, 2 threads
    python benchmarks/layers.py --only Conv,Norm  # the cases whose name contains one of these
    python benchmarks/layers.py --quick --json layers.json

It prints a markdown table: milliseconds per forward + backward and PyTorch's time over tinygradnn's
(above 1: tinygradnn is faster). Without PyTorch it times tinygradnn alone.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time

import numpy as np


def _self_attention(nn):
    """``MultiheadAttention(64, 4)`` on ``(x, x, x)``, without the weights: one input, one output."""
    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(64, 4, batch_first=True)

        def forward(self, x):
            return self.attn(x, x, x, need_weights=False)[0]

    return SelfAttention()


def _small_cnn(nn):
    """Two conv blocks with BatchNorm and two Linear layers, for 3x32x32 images."""
    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]

    return nn.Sequential(*block(3, 16), *block(16, 32), nn.Flatten(), nn.Linear(32 * 8 * 8, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def _normalized_mlp(nn):
    return nn.Sequential(nn.Linear(784, 256), nn.BatchNorm1d(256), nn.GELU(), nn.Linear(256, 128),
                         nn.LayerNorm(128), nn.LeakyReLU(), nn.Linear(128, 10))


def _encoder(nn):
    layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


# (name, the layer from a framework's nn, input shape)
CASES = [
    ("Linear(512, 512)", lambda nn: nn.Linear(512, 512), (64, 512)),
    ("Conv2d(3, 32, 3, padding=1)", lambda nn: nn.Conv2d(3, 32, 3, padding=1), (32, 3, 32, 32)),
    ("Conv2d(32, 64, 3, stride=2, padding=1)", lambda nn: nn.Conv2d(32, 64, 3, stride=2, padding=1), (32, 32, 32, 32)),
    ("Conv2d(16, 16, 5, padding=2)", lambda nn: nn.Conv2d(16, 16, 5, padding=2), (32, 16, 28, 28)),
    ("Conv2d(32, 32, 3, padding=1, groups=32)", lambda nn: nn.Conv2d(32, 32, 3, padding=1, groups=32),
     (32, 32, 32, 32)),
    ("Conv1d(16, 32, 5)", lambda nn: nn.Conv1d(16, 32, 5), (32, 16, 256)),
    ("ConvTranspose2d(32, 16, 4, 2, 1)", lambda nn: nn.ConvTranspose2d(32, 16, 4, 2, 1), (16, 32, 16, 16)),
    ("MaxPool2d(2)", lambda nn: nn.MaxPool2d(2), (32, 32, 32, 32)),
    ("MaxPool2d(3, 2, 1)", lambda nn: nn.MaxPool2d(3, 2, 1), (32, 32, 32, 32)),
    ("AvgPool2d(2)", lambda nn: nn.AvgPool2d(2), (32, 32, 32, 32)),
    ("BatchNorm2d(32)", lambda nn: nn.BatchNorm2d(32), (32, 32, 32, 32)),
    ("BatchNorm1d(256)", lambda nn: nn.BatchNorm1d(256), (64, 256)),
    ("LayerNorm(256)", lambda nn: nn.LayerNorm(256), (64, 50, 256)),
    ("GroupNorm(8, 32)", lambda nn: nn.GroupNorm(8, 32), (32, 32, 16, 16)),
    ("GELU()", lambda nn: nn.GELU(), (64, 512, 64)),
    ("GELU(approximate='tanh')", lambda nn: nn.GELU(approximate="tanh"), (64, 512, 64)),
    ("SiLU()", lambda nn: nn.SiLU(), (64, 512, 64)),
    ("Softplus()", lambda nn: nn.Softplus(), (64, 512, 64)),
    ("Softmax(-1)", lambda nn: nn.Softmax(-1), (64, 128, 128)),
    ("LogSoftmax(1)", lambda nn: nn.LogSoftmax(1), (256, 1000)),
    ("Dropout(0.5)", lambda nn: nn.Dropout(0.5), (64, 4096)),
    ("Upsample(scale_factor=2, mode='bilinear')", lambda nn: nn.Upsample(scale_factor=2, mode="bilinear"),
     (16, 16, 32, 32)),
    ("MultiheadAttention(64, 4)", _self_attention, (32, 20, 64)),
    ("TransformerEncoderLayer(64, 4, 128)",
     lambda nn: nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, batch_first=True), (32, 20, 64)),
    # recurrent layers: (L, N, input) unless batch_first
    ("RNN(32, 32)", lambda nn: nn.RNN(32, 32), (100, 8, 32)),
    ("GRU(32, 32)", lambda nn: nn.GRU(32, 32), (100, 8, 32)),
    ("LSTM(32, 32)", lambda nn: nn.LSTM(32, 32), (100, 8, 32)),
    ("LSTM(200, 200)", lambda nn: nn.LSTM(200, 200), (35, 20, 200)),
    ("LSTM(32, 32, num_layers=2, bidirectional=True)", lambda nn: nn.LSTM(32, 32, 2, bidirectional=True),
     (50, 8, 32)),
    ("LSTM(16, 128, batch_first=True)", lambda nn: nn.LSTM(16, 128, batch_first=True), (64, 16, 16)),  # (usps_lstm.py)
    # whole small models
    ("model: CNN, 2 x (Conv2d, BatchNorm2d, ReLU, MaxPool2d), 2 Linear", _small_cnn, (64, 3, 32, 32)),
    ("model: MLP, Linear, BatchNorm1d, GELU, Linear, LayerNorm, LeakyReLU, Linear", _normalized_mlp, (128, 784)),
    ("model: TransformerEncoder, 2 x TransformerEncoderLayer(64, 4, 128)", _encoder, (32, 40, 64)),
]


def _step(fw, layer, x: np.ndarray):
    """One forward + backward of ``layer`` on a fresh copy of ``x``; returns the output as an array."""
    xt = fw.from_numpy(x).requires_grad_(True)
    out = layer(xt)
    out = out[0] if isinstance(out, tuple) else out  # (recurrent layers: the output, not the states)
    out.sum().backward()
    return out.detach().numpy()


def time_case(build, shape: tuple, frameworks: dict, repeats: int, seed: int) -> dict:
    """Fastest forward + backward time of one case for each framework, in seconds."""
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    layers = {name: build(fw.nn) for name, fw in frameworks.items()}
    if "torch" in layers:  # the same weights in both
        state = {k: v.detach().numpy().copy() for k, v in layers["torch"].state_dict().items()}
        layers["tinygradnn"].load_state_dict({k: frameworks["tinygradnn"].from_numpy(v) for k, v in state.items()})
    outputs = {name: _step(fw, layers[name], x) for name, fw in frameworks.items()}  # (also the warm-up)
    if "torch" in outputs and "Dropout" not in type(layers["torch"]).__name__:
        np.testing.assert_allclose(outputs["tinygradnn"], outputs["torch"], rtol=1e-3, atol=1e-4)
    best = dict.fromkeys(frameworks, float("inf"))
    names = list(frameworks)
    for r in range(repeats):
        for name in names[r % 2:] + names[:r % 2]:  # interleaved, the order alternating
            start = time.perf_counter()
            _step(frameworks[name], layers[name], x)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated parts of case names to run")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2 repeats and shapes cut to batch 2 (a smoke run)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    import tinygradnn

    threadpool_limits(args.threads)
    frameworks = {"tinygradnn": tinygradnn}
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch.set_num_threads(args.threads)
        frameworks["torch"] = torch
    else:
        print("PyTorch is not installed: tinygradnn alone", file=sys.stderr)
    wanted = [part for part in args.only.split(",") if part]
    cases = [case for case in CASES if not wanted or any(part in case[0] for part in wanted)]
    if not cases:
        parser.error(f"no case matches --only {args.only!r}")

    print(f"Forward + backward, fastest of {2 if args.quick else args.repeats} interleaved repeats, "
          f"{args.threads} threads, float32; ms\n")
    print("| layer | input | tinygradnn | PyTorch | PyTorch time / ours |\n|---|---|---:|---:|---:|")
    results = []
    for name, build, shape in cases:
        if args.quick:
            shape = (2,) + shape[1:]
        best = time_case(build, shape, frameworks, 2 if args.quick else args.repeats, args.seed)
        ours, theirs = best["tinygradnn"], best.get("torch")
        ratio = f"{theirs / ours:.2f}x" if theirs else "-"
        print(f"| `{name}` | {'x'.join(map(str, shape))} | {ours * 1e3:.2f} | "
              f"{f'{theirs * 1e3:.2f}' if theirs else '-'} | {ratio} |", flush=True)
        results.append({"layer": name, "input": list(shape), "tinygradnn_s": ours, "torch_s": theirs})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
