"""Figures shared by the USPS examples: learning curves, confusion matrix, grids of images.

The training itself stays in each script; these are only the matplotlib chores.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from common import save


def plot_curves(out: str, name: str, losses, train_acc, test_acc, title: str):
    """Two panels: training loss per epoch, and train/test accuracy per epoch."""
    epochs = np.arange(1, len(losses) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, losses)
    ax1.set(title=f"{title}: training loss", xlabel="epoch", ylabel="cross-entropy")
    ax2.plot(epochs, train_acc, label="train")
    ax2.plot(epochs, test_acc, label="test")
    ax2.set(title=f"{title}: accuracy", xlabel="epoch", ylabel="accuracy")
    ax2.legend()
    return save(fig, out, name)


def plot_confusion(out: str, name: str, y_true, y_pred, title: str):
    """Confusion matrix (rows: true digit, columns: predicted digit) with the counts written in."""
    cm = np.zeros((10, 10), dtype=int)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(np.log1p(cm), cmap="Blues")
    for i in range(10):
        for j in range(10):
            if cm[i, j]:
                ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=7,
                        color="white" if i == j else "black")
    ax.set(title=title, xlabel="predicted", ylabel="true", xticks=range(10), yticks=range(10))
    return save(fig, out, name)


def plot_images(out: str, name: str, images, titles=None, cols: int = 10, title: str = "", cmap="gray_r",
                symmetric: bool = False):
    """A grid of small images (e.g. digits or filters), each with an optional caption.

    ``symmetric`` centres the colour map on 0 (for learned filters, whose weights have both signs).
    """
    images = np.asarray(images)
    rows = int(np.ceil(len(images) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 1.0 + 0.4), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k < len(images):
            img = images[k]
            lim = np.abs(img).max() if symmetric else None
            ax.imshow(img, cmap=cmap, vmin=-lim if symmetric else None, vmax=lim)
            if titles is not None:
                ax.set_title(titles[k], fontsize=8)
    fig.suptitle(title)
    return save(fig, out, name)


def with_shifted_copies(images, labels):
    """Data augmentation: the images plus four copies shifted by one pixel (down, up, right, left).

    ``images`` has 256 pixels per row or is ``(N, 1, 16, 16)``; the result keeps that shape and is
    five times longer. Shifting the digits a little teaches translation invariance to a model that
    has none built in (an MLP), and gives a CNN more varied data.
    """
    x = np.asarray(images).reshape(-1, 16, 16)
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))  # one row/column of zeros around each image
    shifts = [(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)]
    copies = [padded[:, 1 + dy:17 + dy, 1 + dx:17 + dx] for dy, dx in shifts]
    x_aug = np.concatenate(copies).reshape(len(shifts) * len(x), *np.shape(images)[1:])
    return x_aug, np.tile(np.asarray(labels), len(shifts))


def plot_row_by_row(out: str, name: str, digits, probs, labels):
    """Per digit, the image beside the class probabilities read after each of its rows (a recurrent model).

    ``digits`` (k, 16, 16), ``probs`` (k, 16 rows, 10 classes), ``labels`` (k,): row r of the heat map is the
    prediction once the model has seen rows 0 to r of the image, drawn level with that row.
    """
    return _digits_over_maps(out, name, digits, probs, labels, dict(vmin=0, vmax=1, aspect="auto"), range(0, 10, 3),
                             "class", "after row", "the LSTM's class probabilities after each row (top to bottom)")


def plot_attention(out: str, name: str, digits, weights, labels):
    """Per digit, the image above its row-to-row attention matrix (a transformer over the rows).

    ``digits`` (k, 16, 16), ``weights`` (k, 16 queries, 16 keys), ``labels`` (k,): line r of the matrix is how
    row r of the image weighs the 16 rows (each line sums to 1), drawn level with that row.
    """
    return _digits_over_maps(out, name, digits, weights, labels, dict(vmin=0), [0, 15], "key row", "query row",
                             "first layer's attention between rows (averaged over heads)")


def _digits_over_maps(out, name, digits, maps, labels, imshow, xticks, xlabel, ylabel, title):
    """A row of digits with, under each, a heat map whose lines are level with the digit's 16 rows."""
    k = len(digits)
    fig, axes = plt.subplots(2, k, figsize=(k * 1.3, 3.4))
    for j in range(k):
        axes[0, j].imshow(digits[j], cmap="gray_r")
        axes[0, j].set_title(f"digit {labels[j]}", fontsize=8)
        axes[0, j].axis("off")
        axes[1, j].imshow(maps[j], cmap="Blues", **imshow)
        axes[1, j].set_xticks(xticks)
        axes[1, j].tick_params(labelsize=6)
        axes[1, j].set_yticks([] if j else [0, 15])
        axes[1, j].set_xlabel(xlabel, fontsize=7)
    axes[1, 0].set_ylabel(ylabel, fontsize=7)
    fig.suptitle(title)
    return save(fig, out, name)
