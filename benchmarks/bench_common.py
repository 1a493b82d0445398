"""What every framework shares: workload settings, model layouts, data and initial weights.

Every worker process calls :func:`make_inputs` with the same seed, so every framework starts
from bit-identical NumPy arrays (the harness checks this with :func:`inputs_digest`). The
frameworks only convert these arrays; none of them draws its own random numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import os

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data", "usps.npz"))
USPS_SHAPE = (7291, 256)

# ---------------------------------------------------------------------------------------------
# Model layouts: (layer name, positional args, keyword args), in torch.nn / tinygradnn.nn terms.
# The index of a layer in the list is its key prefix in state_dict ("0.weight", "3.bias", ...).
# ---------------------------------------------------------------------------------------------


def layer(name: str, *args, **kwargs) -> tuple[str, tuple, dict]:
    return (name, args, kwargs)


LAYOUTS = {
    "mlp": [
        layer("Linear", 256, 128), layer("Tanh"),
        layer("Linear", 128, 64), layer("Tanh"),
        layer("Linear", 64, 10),
    ],
    "cnn": [
        layer("Conv2d", 1, 16, 3, padding=1), layer("ReLU"), layer("MaxPool2d", 2),
        layer("Conv2d", 16, 32, 3, padding=1), layer("ReLU"), layer("MaxPool2d", 2),
        layer("Flatten"),
        layer("Linear", 512, 100), layer("ReLU"),
        layer("Linear", 100, 10),
    ],
    "conv1d": [
        layer("Conv1d", 1, 32, 3), layer("ReLU"), layer("MaxPool1d", 2),
        layer("Flatten"),
        layer("Linear", 32 * 127, 100), layer("ReLU"),
        layer("Linear", 100, 10),
    ],
    "autoencoder": [
        layer("Linear", 256, 64), layer("Tanh"),
        layer("Linear", 64, 16), layer("Tanh"),
        layer("Linear", 16, 64), layer("Tanh"),
        layer("Linear", 64, 256), layer("Sigmoid"),
    ],
}

# micrograd: a 2-16-16-1 tanh MLP whose every weight is its own 0-d tensor.
MICROGRAD_SIZES = (2, 16, 16, 1)

# ---------------------------------------------------------------------------------------------
# Workload settings. QUICK overrides FULL key by key. "batches": None means one full epoch.
# ---------------------------------------------------------------------------------------------

WORKLOADS = ("mlp", "cnn", "conv1d", "overhead", "matmul", "autoencoder", "micrograd")
TRAINING = ("mlp", "cnn", "conv1d", "autoencoder")

FULL = {
    "mlp": {"batch_size": 64, "batches": None, "lr": 0.05, "optimizer": "SGD"},
    "cnn": {"batch_size": 64, "batches": None, "lr": 0.05, "optimizer": "SGD"},
    "conv1d": {"batch_size": 64, "batches": None, "lr": 0.05, "optimizer": "SGD"},
    "autoencoder": {"batch_size": 64, "batches": None, "lr": 1e-3, "optimizer": "Adam"},
    "overhead": {"n_ops": 1000, "shape": (4, 4), "iters": 30},
    "matmul": {"n": 512, "iters": 20},
    "micrograd": {"points": 100, "steps": 2, "lr": 0.01},
}
QUICK = {
    "mlp": {"batches": 10},
    "cnn": {"batches": 10},
    "conv1d": {"batches": 10},
    "autoencoder": {"batches": 10},
    "overhead": {"iters": 3},
    "matmul": {"iters": 3},
    "micrograd": {"steps": 1, "points": 20},
}
WARMUP_BATCHES = 3  # training warm-up: a few steps on a throw-away model
EVAL_SAMPLES = 512  # the loss check evaluates the trained model on the first samples


def loss_rtol(workload: str) -> float:
    """How closely two frameworks' losses must agree after the same training (relative)."""
    # The CNN's 2x2 max pools see many near-ties (ReLU'd convs of blank background); once weights
    # differ by float32 rounding, a tie can resolve the other way and send a gradient elsewhere.
    # Over an epoch this drifts the final loss by up to a few 1e-3 between correct implementations.
    return 1e-2 if workload == "cnn" else 1e-3


def workload_config(workload: str, quick: bool = False, batches: int | None = None) -> dict:
    """Settings of one workload; `batches` overrides the number of training batches."""
    cfg = dict(FULL[workload])
    if quick:
        cfg.update(QUICK[workload])
    if batches is not None and workload in TRAINING:
        cfg["batches"] = batches
    return cfg


def unit_of(workload: str, cfg: dict) -> str:
    """The unit of one timed figure of a workload, as printed in the table."""
    if workload in TRAINING:
        return "ms / epoch" if cfg["batches"] is None else f"ms / {cfg['batches']} batches"
    return {"overhead": "us / op", "matmul": "ms / iter", "micrograd": "ms / step"}[workload]


# ---------------------------------------------------------------------------------------------
# Data and weights
# ---------------------------------------------------------------------------------------------


def load_usps(path: str | None, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """USPS training images (7291, 256) float32 in [0, 1] and labels int64, or random stand-ins."""
    if path and os.path.exists(path):
        with np.load(path) as d:
            x = np.ascontiguousarray(d["x_train"], dtype=np.float32)
            y = np.ascontiguousarray(d["y_train"], dtype=np.int64)
        return x, y, f"USPS ({path})"
    rng = np.random.default_rng(seed + 1)
    x = rng.random(USPS_SHAPE, dtype=np.float32)
    y = rng.integers(0, 10, size=USPS_SHAPE[0]).astype(np.int64)
    return x, y, f"random stand-in of USPS shape ({path} not found)"


def init_weights(layout: list, seed: int) -> dict[str, np.ndarray]:
    """PyTorch-style U(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights and biases, keyed like state_dict."""
    rng = np.random.default_rng(seed)
    weights = {}
    for i, (name, args, _) in enumerate(layout):
        if name == "Linear":
            fan_in, fan_out = args
            shape = (fan_out, fan_in)
        elif name in ("Conv1d", "Conv2d"):
            c_in, c_out, k = args
            fan_in = c_in * k ** (1 if name == "Conv1d" else 2)
            shape = (c_out, c_in) + (k,) * (1 if name == "Conv1d" else 2)
        else:
            continue
        bound = 1.0 / np.sqrt(fan_in)
        weights[f"{i}.weight"] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
        weights[f"{i}.bias"] = rng.uniform(-bound, bound, size=shape[0]).astype(np.float32)
    return weights


def split_batches(x: np.ndarray, y: np.ndarray, batch_size: int, batches: int | None) -> list:
    """Consecutive (x, y) batches as contiguous arrays; the last batch of an epoch may be short."""
    n = len(x) if batches is None else min(len(x), batches * batch_size)
    return [(np.ascontiguousarray(x[i:i + batch_size]), np.ascontiguousarray(y[i:i + batch_size]))
            for i in range(0, n, batch_size)]


def make_inputs(workload: str, cfg: dict, data_path: str | None, seed: int) -> dict:
    """All arrays a workload needs, identical in every process for the same arguments."""
    if workload in TRAINING:
        x, y, source = load_usps(data_path, seed)
        if workload == "cnn":
            x = x.reshape(-1, 1, 16, 16)
        elif workload == "conv1d":
            x = x.reshape(-1, 1, 256)
        if workload == "autoencoder":
            y = x
        return {
            "weights": init_weights(LAYOUTS[workload], seed),
            "batches": split_batches(x, y, cfg["batch_size"], cfg["batches"]),
            "eval": (np.ascontiguousarray(x[:EVAL_SAMPLES]), np.ascontiguousarray(y[:EVAL_SAMPLES])),
            "data": source,
        }
    rng = np.random.default_rng(seed)
    if workload == "overhead":
        return {"x": rng.standard_normal(cfg["shape"], dtype=np.float32), "data": "random"}
    if workload == "matmul":
        n = cfg["n"]
        a, b, g = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(3))
        return {"a": a, "b": b, "g": g, "data": "random"}
    if workload == "micrograd":
        sizes = MICROGRAD_SIZES
        weights = {}
        for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            bound = 1.0 / np.sqrt(n_in)
            weights[f"w{k}"] = rng.uniform(-bound, bound, size=(n_out, n_in)).astype(np.float32)
            weights[f"b{k}"] = rng.uniform(-bound, bound, size=n_out).astype(np.float32)
        points = rng.uniform(-1, 1, size=(cfg["points"], 2)).astype(np.float32)
        targets = np.where(points[:, 0] * points[:, 1] > 0, 1.0, -1.0).astype(np.float32)
        return {"weights": weights, "points": points, "targets": targets, "data": "random"}
    raise ValueError(f"unknown workload {workload!r}; expected one of {', '.join(WORKLOADS)}")


def inputs_digest(inputs: dict) -> str:
    """A short hash of every array in `inputs`, to show that all frameworks got the same ones."""
    h = hashlib.sha256()

    def feed(obj):
        if isinstance(obj, np.ndarray):
            h.update(str((obj.shape, obj.dtype.str)).encode())
            h.update(np.ascontiguousarray(obj).tobytes())
        elif isinstance(obj, dict):
            for key in sorted(obj):
                h.update(key.encode())
                feed(obj[key])
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                feed(item)

    feed({k: v for k, v in inputs.items() if k != "data"})
    return h.hexdigest()[:16]


def count_samples(inputs: dict) -> int:
    return sum(len(xb) for xb, _ in inputs["batches"])


def parse_in_process_args(parser: argparse.ArgumentParser, argv, repeats: int) -> argparse.Namespace:
    """For the one-process scripts (``minimal_tape.py``, ``phases.py``): add their shared options
    (``--batches``, ``--repeats``, ``--threads``, ``--data``), parse ``argv`` and pin BLAS to ``--threads``."""
    parser.add_argument("--batches", type=int, default=None, help="batches per repeat (default: one epoch)")
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default=DEFAULT_DATA)
    args = parser.parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:
        print("threadpoolctl is not installed: BLAS uses its default thread count")
    return args
