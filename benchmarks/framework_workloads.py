"""The workloads written once for every framework with a PyTorch-shaped API.

Each function takes the framework module as `fw` (``torch`` or ``tinygradnn``) and uses only
the API the two share: ``fw.nn.<Layer>``, ``fw.nn.Sequential``, ``fw.nn.functional.cross_entropy``,
``fw.nn.MSELoss``, ``fw.optim.SGD/Adam``, ``fw.from_numpy``, ``fw.tensor``, ``fw.no_grad``,
``Tensor.backward/.item/.numpy/.tanh/.sum`` and ``model.load_state_dict``.

A workload function returns ``{"seconds": timed seconds, "units": how many units they cover,
"check": a float that must agree across frameworks}``. Building the model and computing the
check happen outside the timed region.
"""

from __future__ import annotations

import gc
import time

import numpy as np
from bench_common import LAYOUTS, WARMUP_BATCHES


def build_model(fw, workload: str, weights: dict):
    """An ``fw.nn.Sequential`` of the workload's layout, loaded with the shared initial weights."""
    layers = [getattr(fw.nn, name)(*args, **kwargs) for name, args, kwargs in LAYOUTS[workload]]
    model = fw.nn.Sequential(*layers)
    model.load_state_dict({key: fw.from_numpy(value.copy()) for key, value in weights.items()})
    return model


def make_loss_fn(fw, workload: str):
    if workload == "autoencoder":
        return fw.nn.MSELoss()
    return fw.nn.functional.cross_entropy


def make_optimizer(fw, params, cfg: dict):
    return getattr(fw.optim, cfg["optimizer"])(params, lr=cfg["lr"])


def run_training(fw, workload: str, inputs: dict, cfg: dict, warmup: bool) -> dict:
    """One epoch (or cfg["batches"] batches) of minibatch training from the initial weights."""
    model = build_model(fw, workload, inputs["weights"])
    optimizer = make_optimizer(fw, model.parameters(), cfg)
    loss_fn = make_loss_fn(fw, workload)
    batches = inputs["batches"][:WARMUP_BATCHES] if warmup else inputs["batches"]

    gc.collect()
    start = time.perf_counter()
    running_loss = 0.0
    for xb, yb in batches:
        x, y = fw.from_numpy(xb), fw.from_numpy(yb)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    seconds = time.perf_counter() - start

    x_eval, y_eval = inputs["eval"]
    with fw.no_grad():
        check = loss_fn(model(fw.from_numpy(x_eval)), fw.from_numpy(y_eval)).item()
    return {"seconds": seconds, "units": 1, "check": float(check), "train_loss": running_loss / len(batches)}


def run_overhead(fw, inputs: dict, cfg: dict, warmup: bool) -> dict:
    """A chain of n_ops tiny elementwise ops (x*1.0001, x+0.001, tanh, ...) then backward."""
    n_ops = cfg["n_ops"]
    iters = 1 if warmup else cfg["iters"]
    x0 = inputs["x"]

    gc.collect()
    start = time.perf_counter()
    for _ in range(iters):
        x = fw.tensor(x0, requires_grad=True)
        y = x
        for k in range(n_ops):
            if k % 3 == 0:
                y = y * 1.0001
            elif k % 3 == 1:
                y = y + 0.001
            else:
                y = y.tanh()
        y.sum().backward()
    seconds = time.perf_counter() - start

    check = float(np.abs(x.grad.numpy()).mean() + np.abs(y.detach().numpy()).mean())
    return {"seconds": seconds, "units": iters * n_ops, "check": check}


def run_matmul(fw, inputs: dict, cfg: dict, warmup: bool) -> dict:
    """C = A @ B with upstream gradient G: forward plus dA = G @ B.T and dB = A.T @ G."""
    iters = 1 if warmup else cfg["iters"]
    g = fw.from_numpy(inputs["g"])

    gc.collect()
    start = time.perf_counter()
    for _ in range(iters):
        a = fw.tensor(inputs["a"], requires_grad=True)
        b = fw.tensor(inputs["b"], requires_grad=True)
        ((a @ b) * g).sum().backward()
    seconds = time.perf_counter() - start

    check = float(np.abs(a.grad.numpy()).mean() + np.abs(b.grad.numpy()).mean())
    return {"seconds": seconds, "units": iters, "check": check}


def micrograd_params(fw, weights: dict) -> list:
    """[(rows of weight scalars, bias scalars) per layer], every number its own 0-d leaf tensor."""
    layers = []
    for k in range(len(weights) // 2):
        w, b = weights[f"w{k}"], weights[f"b{k}"]
        rows = [[fw.tensor(float(v), requires_grad=True) for v in row] for row in w]
        layers.append((rows, [fw.tensor(float(v), requires_grad=True) for v in b]))
    return layers


def micrograd_loss(layers: list, points: list, targets: list):
    """Sum of squared errors of the scalar tanh MLP over all points, one 0-d op at a time."""
    loss = None
    for point, target in zip(points, targets):
        h = point
        for depth, (rows, biases) in enumerate(layers):
            out = []
            for row, bias in zip(rows, biases):
                act = bias
                for w, hi in zip(row, h):
                    act = act + w * hi
                out.append(act.tanh() if depth < len(layers) - 1 else act)
            h = out
        err = h[0] - target
        loss = err * err if loss is None else loss + err * err
    return loss


def run_micrograd(fw, inputs: dict, cfg: dict, warmup: bool) -> dict:
    """SGD steps on a graph of 0-d tensors (about 640 nodes per point)."""
    layers = micrograd_params(fw, inputs["weights"])
    params = [p for rows, biases in layers for p in [*(w for row in rows for w in row), *biases]]
    optimizer = fw.optim.SGD(params, lr=cfg["lr"])
    points, targets = inputs["points"].tolist(), inputs["targets"].tolist()
    steps = cfg["steps"]
    if warmup:
        points, targets, steps = points[:5], targets[:5], 1

    gc.collect()
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = micrograd_loss(layers, points, targets)
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - start

    with fw.no_grad():
        check = micrograd_loss(layers, points, targets).item()
    return {"seconds": seconds, "units": steps, "check": float(check)}


def run(fw, workload: str, inputs: dict, cfg: dict, warmup: bool = False) -> dict:
    if workload in LAYOUTS:
        return run_training(fw, workload, inputs, cfg, warmup)
    return {"overhead": run_overhead, "matmul": run_matmul, "micrograd": run_micrograd}[workload](
        fw, inputs, cfg, warmup)
