"""End to end: small models trained on sklearn's 8x8 digits with a hand-written SGD loop."""

import time

import numpy as np
import pytest

import tinygradnn as tg
from tinygradnn import nn
from tinygradnn.nn import functional as F

datasets = pytest.importorskip("sklearn.datasets")


def _digits():
    x, y = datasets.load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = (x[order] / 16.0).astype(np.float32), y[order].astype(np.int64)
    return (x[:1500], y[:1500]), (x[1500:], y[1500:])


def _train(model, x, y, epochs, lr, batch=32):
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            model.zero_grad()
            loss = F.cross_entropy(model(tg.from_numpy(x[idx])), tg.from_numpy(y[idx]))
            loss.backward()
            with tg.no_grad():
                for p in model.parameters():
                    p.data -= lr * p.grad
    return loss.item()


def _accuracy(model, x, y):
    model.eval()
    with tg.no_grad():
        return float((model(tg.from_numpy(x)).numpy().argmax(1) == y).mean())


def test_mlp_learns_digits():
    tg.manual_seed(0)
    (xtr, ytr), (xte, yte) = _digits()
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 10))
    start = time.perf_counter()
    _train(model, xtr, ytr, epochs=15, lr=0.1)
    assert time.perf_counter() - start < 20
    assert _accuracy(model, xte, yte) >= 0.9


def test_cnn_learns_digits():
    tg.manual_seed(0)
    (xtr, ytr), (xte, yte) = _digits()
    xtr, xte = xtr.reshape(-1, 1, 8, 8), xte.reshape(-1, 1, 8, 8)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    )
    start = time.perf_counter()
    _train(model, xtr, ytr, epochs=6, lr=0.05)
    assert time.perf_counter() - start < 40
    assert _accuracy(model, xte, yte) >= 0.95
