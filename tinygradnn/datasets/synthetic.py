"""Seeded toy datasets in two dimensions, returned as NumPy arrays.

Every generator takes ``n`` (number of samples), ``noise`` and ``seed``. The same seed
always gives the same arrays, so a train and a test set are two calls with different
seeds::

    Examples:
        >>> from tinygradnn.datasets import xor_data
        >>> X_train, y_train = xor_data(400, seed=0)
        >>> X_test, y_test = xor_data(200, seed=1)
        >>> X_train.shape, X_train.dtype, y_train.dtype
        ((400, 2), dtype('float32'), dtype('int64'))

Inputs are float32; class labels are int64 (``0 .. k-1``) and the classes are balanced
(``n // k`` or ``n // k + 1`` points each). Samples come in random order.
"""

import numpy as np

__all__ = ["linear_data", "two_blobs", "xor_data", "four_gaussians", "checkerboard"]


def _check(n, noise):
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if not noise >= 0:  # also rejects NaN
        raise ValueError(f"noise must be >= 0, got {noise!r}")


def _gaussian_clusters(centers, labels, n, noise, seed):
    """``n`` points spread as Gaussians of std ``noise`` around ``centers``, cycling through them."""
    _check(n, noise)
    rng = np.random.default_rng(seed)
    which = rng.permutation(np.arange(n) % len(centers))
    X = np.asarray(centers, dtype=np.float64)[which] + noise * rng.standard_normal((n, 2))
    return X.astype(np.float32), np.asarray(labels, dtype=np.int64)[which]


def linear_data(n=200, noise=0.1, seed=0, *, slope=2.0, intercept=-1.0):
    """Regression data ``y = slope * x + intercept + noise * N(0, 1)`` with ``x`` uniform on [-1, 1].

    Returns ``X`` of shape ``(n, 1)`` and ``y`` of shape ``(n,)``, both float32.

    Examples:
        >>> X, y = linear_data(5, noise=0.0)
        >>> bool(np.allclose(y, 2 * X[:, 0] - 1))
        True
    """
    _check(n, noise)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, n)
    y = slope * x + intercept + noise * rng.standard_normal(n)
    return x[:, None].astype(np.float32), y.astype(np.float32)


def two_blobs(n=200, noise=0.5, seed=0):
    """Two Gaussian blobs of std ``noise`` centred at (-1, -1) (label 0) and (1, 1) (label 1).

    With the default noise the classes are linearly separable in practice.
    """
    return _gaussian_clusters([(-1, -1), (1, 1)], [0, 1], n, noise, seed)


def xor_data(n=200, noise=0.3, seed=0):
    """The XOR layout: label 0 around (1, 1) and (-1, -1), label 1 around (1, -1) and (-1, 1).

    Each corner is a Gaussian of std ``noise``. No straight line separates the two classes.
    """
    return _gaussian_clusters([(1, 1), (-1, -1), (1, -1), (-1, 1)], [0, 0, 1, 1], n, noise, seed)


def four_gaussians(n=200, noise=0.3, seed=0):
    """Four classes, one Gaussian of std ``noise`` per quadrant, numbered counter-clockwise.

    Class 0 is around (1, 1), class 1 around (-1, 1), class 2 around (-1, -1), class 3 around (1, -1).
    """
    return _gaussian_clusters([(1, 1), (-1, 1), (-1, -1), (1, -1)], [0, 1, 2, 3], n, noise, seed)


def checkerboard(n=200, noise=0.0, seed=0):
    """Points uniform on [-1, 1]^2 labelled like a 4x4 checkerboard.

    The square is cut into 4x4 cells of side 0.5; cell ``(i, j)`` (column ``i``, row ``j``,
    counted from the corner (-1, -1)) has label ``(i + j) % 2``. Labels are computed first,
    then every point is moved by Gaussian jitter of std ``noise``, so with ``noise > 0``
    points near a cell edge can land on the wrong side (and slightly outside the square).

    Examples:
        >>> X, y = checkerboard(4, seed=0)
        >>> cells = np.floor((X + 1) / 0.5).astype(int)
        >>> bool(np.all(y == cells.sum(axis=1) % 2))
        True
    """
    _check(n, noise)
    rng = np.random.default_rng(seed)
    # Round to float32 before labelling, so a returned point never sits across an edge from its label.
    X = rng.uniform(-1.0, 1.0, (n, 2)).astype(np.float32).astype(np.float64)
    cells = np.clip(np.floor((X + 1.0) / 0.5), 0, 3).astype(np.int64)
    y = cells.sum(axis=1) % 2
    X = X + noise * rng.standard_normal((n, 2))
    return X.astype(np.float32), y
