"""What the scripts share: the data as NumPy arrays, framework-independent weights, and a command line."""

from __future__ import annotations

import functools
import importlib
import math
import sys

import numpy as np


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    order = np.random.default_rng(0).permutation(len(d.target))  # one fixed shuffle, the same for both frameworks
    return d.images[order] / 16.0, d.target[order].astype(np.int64)


def digits(n_train: int = 1200, n_test: int = 400):
    """sklearn's 8x8 digits in [0, 1], shuffled once: ``(x_train, y_train, x_test, y_test)`` as fresh arrays."""
    x, y = _digits()
    return (x[:n_train].copy(), y[:n_train].copy(), x[n_train:n_train + n_test].copy(),
            y[n_train:n_train + n_test].copy())


def seeded_init_(torch, model, seed: int = 0):
    """Give every layer with a weight matrix (Linear, Conv, Embedding) uniform weights and biases drawn from
    NumPy, in registration order, so the same model gets the same numbers under tinygradnn and PyTorch.
    Norm layers keep their deterministic defaults (weight 1, bias 0). Returns ``model``."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for module in model.modules():
            weight = getattr(module, "weight", None)
            if weight is None or weight.dim() < 2:
                continue
            bound = 1.0 / math.sqrt(weight[0].numel())  # 1 / sqrt(fan_in), PyTorch's default scale
            weight.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(weight.shape))))
            bias = getattr(module, "bias", None)
            if bias is not None:
                bias.copy_(torch.from_numpy(rng.uniform(-bound, bound, tuple(bias.shape))))
    return model


def main(run) -> None:
    """``python -m pytorch_scripts.<name> [--torch] [steps]``: run one script and print what it returns."""
    args = sys.argv[1:]
    framework = importlib.import_module("torch" if "--torch" in args else "tinygradnn")
    steps = [int(a) for a in args if a.isdigit()]
    result = run(framework, *steps)
    for key, value in result.items():
        print(f"{key}: {value:.6g}" if isinstance(value, float) else f"{key}: {value}")
