"""Small helpers shared by the example scripts: arguments, training loop, accuracy, figures.

Kept deliberately short: each example should still read top to bottom like a PyTorch script.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from tqdm import tqdm

import tinygradnn as torch
from tinygradnn.datasets import DatasetNotAvailableError, load_usps

REPO = Path(__file__).resolve().parents[1]
SHARED_USPS = REPO.parent / "shared" / "data" / "usps.npz"


def parser(doc: str, epochs: int, lr: float, batch_size: int = 64) -> argparse.ArgumentParser:
    """The arguments every example takes (``--quick`` shrinks the run to a few seconds for the tests)."""
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(REPO / "docs" / "figures"), help="folder for the figures")
    p.add_argument("--quick", action="store_true", help="a few-second run (used by the tests)")
    return p


def train(model, loader, loss_fn, opt, epochs: int, desc: str, *, scheduler=None, on_epoch=None) -> list[float]:
    """The usual loop (forward, loss, zero_grad, backward, step) with a tqdm bar; returns mean loss per epoch."""
    history = []
    for epoch in (bar := tqdm(range(epochs), desc=desc, unit="epoch", leave=False)):
        model.train()
        total, count = 0.0, 0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            count += len(xb)
        if scheduler is not None:
            scheduler.step()
        history.append(total / count)
        bar.set_postfix(loss=f"{history[-1]:.4f}")
        if on_epoch is not None:
            on_epoch(epoch)
    return history


@torch.no_grad()
def predict(model, x, batch_size: int = 1024) -> np.ndarray:
    """Model outputs for ``x`` in eval mode, as a NumPy array."""
    model.eval()
    return np.concatenate([model(x[i:i + batch_size]).numpy() for i in range(0, len(x), batch_size)])


def accuracy(model, x, y) -> float:
    """Fraction of correct class predictions (argmax of the logits; threshold 0 for one output)."""
    out = predict(model, x)
    pred = out.argmax(1) if out.ndim == 2 and out.shape[1] > 1 else (out.reshape(-1) > 0).astype(np.int64)
    return float((pred == np.asarray(y).reshape(-1)).mean())


def usps(quick: bool = False):
    """USPS as float32 images in [0, 1] and int64 labels: ``../shared/data/usps.npz`` if present, else the cache.

    ``quick`` keeps 1000 train / 500 test images.
    """
    path = os.environ.get("TINYGRADNN_USPS") or (SHARED_USPS if SHARED_USPS.exists() else None)
    try:
        x_tr, y_tr, x_te, y_te = load_usps(path)
    except DatasetNotAvailableError as e:
        raise SystemExit(str(e)) from None
    if quick:
        x_tr, y_tr, x_te, y_te = x_tr[:1000], y_tr[:1000], x_te[:500], y_te[:500]
    return x_tr, y_tr, x_te, y_te


def plot_decision_boundary(ax, predict_fn, X, y, title: str, steps: int = 200) -> None:
    """Colour the plane by ``predict_fn(points) -> labels`` and scatter the data on top."""
    lo, hi = X.min(0) - 0.5, X.max(0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    grid = np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)
    ax.contourf(gx, gy, predict_fn(grid).reshape(gx.shape), alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, s=8, cmap="coolwarm", edgecolors="none")
    ax.set_title(title)


def save(fig, out: str, name: str) -> Path:
    """Save ``fig`` as ``out/name`` (PNG) and close it."""
    path = Path(out) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"saved {path}")
    return path
