"""Recurrent layers against PyTorch: forward + backward time of ``nn.RNN``/``LSTM``/``GRU`` on one thread.

Both libraries run in this process, on the same weights and input (float32), with BLAS limited to one
thread (threadpoolctl) and ``torch.set_num_threads(1)``; each time is the median of ``--repeats`` runs of
``forward, sum, backward``, the two libraries taking turns (their outputs are checked equal first). Prints
one line per case: both times and their ratio (tinygradnn's time over PyTorch's).

    python benchmarks/rnn.py
    python benchmarks/rnn.py --repeats 30 --only lstm-small,gru
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

import tinygradnn as tg
from tinygradnn import nn

# name: (layer, L, N, input size, hidden size, keyword arguments)
CASES = {
    "lstm-small": ("LSTM", 100, 8, 32, 32, {}),
    "lstm-large": ("LSTM", 35, 20, 200, 200, {}),
    "gru": ("GRU", 100, 8, 32, 32, {}),
    "rnn": ("RNN", 100, 8, 32, 32, {}),
    "lstm-2layer-bidir": ("LSTM", 50, 8, 32, 32, {"num_layers": 2, "bidirectional": True}),
    "lstm-usps": ("LSTM", 16, 64, 16, 128, {"batch_first": True}),  # (examples/usps_lstm.py's batches)
}


def _times(steps, repeats: int) -> list[float]:
    """The median seconds of each of ``steps``, run in turn ``repeats`` times (so that they see the same load;
    the order rotates from round to round, so that none always runs right after the same one)."""
    times = [[] for _ in steps]
    for i in range(repeats + 1):
        for k in range(len(steps)):
            k = (k + i) % len(steps)
            start = time.perf_counter()
            steps[k]()
            if i:  # (the first round warms up)
                times[k].append(time.perf_counter() - start)
    return [float(np.median(ts)) for ts in times]


def run(name: str, repeats: int) -> tuple[float, float]:
    """The median seconds of one forward + backward, (tinygradnn, torch)."""
    kind, steps, batch, size, hidden, kwargs = CASES[name]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(size, hidden, **kwargs)
    ours = getattr(nn, kind)(size, hidden, **kwargs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    shape = (batch, steps, size) if kwargs.get("batch_first") else (steps, batch, size)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    tx, ox = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
    np.testing.assert_allclose(ours(ox)[0].detach().numpy(), theirs(tx)[0].detach().numpy(), rtol=1e-3, atol=1e-4)

    def ours_step():
        ours(ox)[0].sum().backward()

    def theirs_step():
        theirs(tx)[0].sum().backward()

    return tuple(_times([ours_step, theirs_step], repeats))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per case (default 15)")
    parser.add_argument("--only", default=",".join(CASES), help=f"comma-separated cases of: {', '.join(CASES)}")
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(CASES)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; the cases: {', '.join(CASES)}")
    torch.set_num_threads(1)
    with threadpool_limits(1):
        for name in args.only.split(","):
            kind, steps, batch, size, hidden, kwargs = CASES[name]
            ours, theirs = run(name, args.repeats)
            extra = "".join(f" {k}={v}" for k, v in kwargs.items())
            print(f"{name:18} {kind} L={steps} N={batch} in={size} H={hidden}{extra}: "
                  f"tinygradnn {ours * 1e3:7.2f} ms  torch {theirs * 1e3:6.2f} ms  ratio {ours / theirs:5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
