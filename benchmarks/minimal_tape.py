#!/usr/bin/env python
"""The floor of the tape design: the smallest reverse-mode autograd that trains the MLP workload.

How fast could *any* NumPy framework built like tinygradnn (a Tensor per value, a node per op
recorded as the forward runs, a backward pass that walks the nodes) train the MLP? This file
answers with a framework stripped to what the MLP step needs: three ops (linear, tanh,
cross-entropy), ``Sequential`` modules, a heap-ordered backward and plain SGD. It has none of
what a library needs: no grad mode, hooks, version counters, shape or dtype checks, broadcasting,
``create_graph``, parameter groups or input validation. It runs the very NumPy calls of the
reference (``reference_numpy.py``), so the gap between the two is the cost of the design itself.

Usage (from the repository root)::

    python benchmarks/minimal_tape.py               # one epoch, 7 interleaved repeats
    python benchmarks/minimal_tape.py --batches 20 --repeats 3

It prints the fastest repeat of the NumPy reference, this minimal tape and tinygradnn, timed in one
process, interleaved, with 2 BLAS threads, and the throughput ratios to the reference.
"""

from __future__ import annotations

import argparse
import gc
import time
from heapq import heappop, heappush
from itertools import count

import numpy as np

_new = object.__new__
_next_seq = count().__next__


class Tensor:
    __slots__ = ("data", "ctx", "grad", "requires_grad")


def tensor(data, requires_grad=False) -> Tensor:
    t = _new(Tensor)
    t.data, t.ctx, t.grad, t.requires_grad = data, None, None, requires_grad
    return t


class Op:
    """A node: ``forward`` on arrays, ``backward(g)`` -> one gradient (or None) per input."""

    __slots__ = ("inputs", "needs", "saved", "seq")

    @classmethod
    def apply(cls, *args) -> Tensor:
        ctx = _new(cls)
        out = tensor(ctx.forward(*[a.data if type(a) is Tensor else a for a in args]))
        needs = tuple([type(a) is Tensor and a.requires_grad for a in args])
        if True in needs:
            ctx.inputs, ctx.needs, ctx.seq = args, needs, _next_seq()
            out.ctx, out.requires_grad = ctx, True
        return out


class Linear(Op):
    __slots__ = ()

    def forward(ctx, x, w, b):
        ctx.saved = (x, w)
        y = x @ w.T
        y += b
        return y

    def backward(ctx, g):
        x, w = ctx.saved
        return (g @ w if ctx.needs[0] else None), g.T @ x, np.ones(len(g), g.dtype) @ g


class Tanh(Op):
    __slots__ = ()

    def forward(ctx, x):
        y = np.tanh(x)
        ctx.saved = y
        return y

    def backward(ctx, g):
        y = ctx.saved
        return (g * (1 - y * y),)


class CrossEntropy(Op):
    """Mean cross-entropy of logits (N, C) and int labels (N,)."""

    __slots__ = ()

    def forward(ctx, x, labels):
        rows = np.arange(len(x))
        shifted = x - np.maximum.reduce(x, axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = np.add.reduce(exp, axis=1, keepdims=True)
        losses = np.log(total[:, 0]) - shifted[rows, labels]
        exp /= total
        ctx.saved = (exp, rows, labels)
        return losses.sum() / len(x)

    def backward(ctx, g):
        probs, rows, labels = ctx.saved
        probs[rows, labels] -= 1.0
        probs *= g / len(probs)
        return probs, None


def backward(root: Tensor) -> None:
    """Run every node once, the latest recorded first; sum gradients; store the leaves' in ``.grad``."""
    grads, heap, leaves = {root: np.float32(1.0)}, [(-root.ctx.seq, root)], []
    while heap:
        t = heappop(heap)[1]
        ctx = t.ctx
        for p, need, gi in zip(ctx.inputs, ctx.needs, ctx.backward(grads.pop(t))):
            if not need:
                continue
            if p in grads:
                grads[p] = grads[p] + gi
            else:
                grads[p] = gi
                if p.ctx is None:
                    leaves.append(p)
                else:
                    heappush(heap, (-p.ctx.seq, p))
        ctx.saved = ctx.inputs = None
    for t in leaves:
        g = grads.pop(t)
        if t.grad is None:
            t.grad = tensor(g)
        else:
            t.grad.data = t.grad.data + g


class Module:
    def __call__(self, x):
        return self.forward(x)


class LinearLayer(Module):
    def __init__(self, weight, bias):
        self.weight, self.bias = tensor(weight, True), tensor(bias, True)

    def forward(self, x):
        return Linear.apply(x, self.weight, self.bias)


class TanhLayer(Module):
    def forward(self, x):
        return Tanh.apply(x)


class Sequential(Module):
    def __init__(self, *layers):
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class SGD:
    def __init__(self, params, lr):
        self.params, self.lr = params, lr

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        for p in self.params:
            if p.grad is not None:
                p.data -= self.lr * p.grad.data


def run(inputs: dict, cfg: dict) -> dict:
    """The MLP workload (``bench_common``'s inputs and settings), timed like ``framework_workloads``."""
    w = {key: value.copy() for key, value in inputs["weights"].items()}
    layers = [LinearLayer(w["0.weight"], w["0.bias"]), TanhLayer(), LinearLayer(w["2.weight"], w["2.bias"]),
              TanhLayer(), LinearLayer(w["4.weight"], w["4.bias"])]
    model = Sequential(*layers)
    optimizer = SGD([p for layer in layers[::2] for p in (layer.weight, layer.bias)], cfg["lr"])

    gc.collect()
    start = time.perf_counter()
    running_loss = 0.0
    for xb, yb in inputs["batches"]:
        x, y = tensor(xb), tensor(yb)
        optimizer.zero_grad()
        loss = CrossEntropy.apply(model(x), y)
        backward(loss)
        optimizer.step()
        running_loss += float(loss.data)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "train_loss": running_loss / len(inputs["batches"])}


def main(argv=None) -> int:
    import framework_workloads
    import reference_numpy
    from bench_common import make_inputs, parse_in_process_args, workload_config

    import tinygradnn

    args = parse_in_process_args(argparse.ArgumentParser(description=__doc__.split("\n\n")[0]), argv, repeats=7)
    cfg = workload_config("mlp", batches=args.batches)
    inputs = make_inputs("mlp", cfg, args.data, 0)
    runs = {
        "numpy ref": lambda: reference_numpy.run("mlp", inputs, cfg),
        "minimal tape": lambda: run(inputs, cfg),
        "tinygradnn": lambda: framework_workloads.run(tinygradnn, "mlp", inputs, cfg),
    }
    times = {name: [] for name in runs}
    losses = {}
    for _ in range(args.repeats):
        for name, fn in runs.items():
            result = fn()
            times[name].append(result["seconds"])
            losses[name] = result["train_loss"]
    best_ref = min(times["numpy ref"])
    print(f"MLP, {len(inputs['batches'])} batches, fastest of {args.repeats} interleaved repeats, "
          f"{args.threads} threads")
    print("| | ms | vs numpy ref | mean training loss |\n|---|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {min(values) * 1e3:.1f} | {best_ref / min(values):.2f}x | {losses[name]:.6f} |")
    reference_loss = losses["numpy ref"]
    agree = all(abs(loss - reference_loss) <= 1e-4 * abs(reference_loss) for loss in losses.values())
    if not agree:
        print("the mean training losses disagree: the three did not do the same work")
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
