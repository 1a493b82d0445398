"""Matrix products (1-D, 2-D and batched, with NumPy's broadcasting of batch dims), dot, outer, diag, trace."""

from __future__ import annotations

import numpy as np

from .._dtype import promote_types
from ..autograd.function import Function
from ..tensor import Tensor, tensor_arg


class MatMul(Function):
    def forward(ctx, a, b):
        ctx.saved = (a, b)
        return np.matmul(a, b)

    def backward(ctx, g, F):
        (a, b), (na, nb) = ctx.saved, ctx.needs_input_grad
        # View 1-D operands as matrices: (k,) @ B is (1, k) @ B and A @ (k,) is A @ (k, 1).
        a2 = F.reshape(a, (1,) + a.shape) if a.ndim == 1 else a
        b2 = F.reshape(b, b.shape + (1,)) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = F.reshape(g2, g2.shape[:-1] + (1,) + g2.shape[-1:]) if b.ndim > 1 else F.reshape(g2, (1,))
        if b.ndim == 1:
            g2 = F.reshape(g2, g2.shape + (1,))
        ga = F.sum_to(F.matmul(g2, F.swapaxes(b2, -1, -2)), a2.shape) if na else None
        gb = F.sum_to(F.matmul(F.swapaxes(a2, -1, -2), g2), b2.shape) if nb else None
        return (None if ga is None else F.reshape(ga, a.shape),
                None if gb is None else F.reshape(gb, b.shape))


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product ``a @ b``: ``(..., n, k) @ (..., k, m) -> (..., n, m)``; 1-D operands as in NumPy."""
    a, b = tensor_arg(a, "matmul"), tensor_arg(b, "matmul")
    if a.dtype != b.dtype:  # float32 @ int64 is float32, as for every binary op (see tinygradnn._dtype)
        dtype = promote_types(a.dtype, b.dtype)
        a, b = a.astype(dtype), b.astype(dtype)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both arguments need at least 1 dim, got shapes {a.shape} and {b.shape}")
    ka, kb = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
    if ka != kb:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: {ka} (last dim of the "
                         f"first) != {kb} ({'dim -2' if b.ndim > 1 else 'length'} of the second)")
    try:
        return MatMul.apply(a, b)
    except ValueError as e:
        raise ValueError(f"matmul: batch dims of shapes {a.shape} and {b.shape} cannot be broadcast") from e


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product of two 2-D tensors, ``(n, k) @ (k, m) -> (n, m)`` (``matmul`` restricted to matrices)."""
    a, b = tensor_arg(a, "mm"), tensor_arg(b, "mm")
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: expected 2-D tensors, got shapes {a.shape} and {b.shape}; use matmul for others")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix product of two 3-D tensors, ``(B, n, k) @ (B, k, m) -> (B, n, m)`` (no broadcasting)."""
    a, b = tensor_arg(a, "bmm"), tensor_arg(b, "bmm")
    if a.ndim != 3 or b.ndim != 3:
        raise ValueError(f"bmm: expected 3-D tensors, got shapes {a.shape} and {b.shape}; use matmul for others")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"bmm: batch sizes {a.shape[0]} and {b.shape[0]} differ (shapes {a.shape} and {b.shape}); "
                         "matmul broadcasts them")
    return matmul(a, b)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of one length and one dtype (PyTorch does not promote here)."""
    a, b = tensor_arg(a, "dot"), tensor_arg(b, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors "
                           f"(shapes {a.shape} and {b.shape})")
    if a.shape != b.shape:
        raise RuntimeError(f"dot: inconsistent tensor size, expected tensors of shapes {a.shape} and {b.shape} "
                           "to have the same number of elements")
    if a.dtype != b.dtype:
        raise RuntimeError(f"dot: expected both vectors to have same dtype, but found {a.dtype} and {b.dtype}")
    if a.dtype == np.bool_:
        raise NotImplementedError("dot: not implemented for bool tensors (as in PyTorch); convert with .long()")
    return MatMul.apply(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """Outer product of two 1-D tensors, ``out[i, j] = a[i] * b[j]`` (dtypes promoted as in ``mul``)."""
    a, b = tensor_arg(a, "outer"), tensor_arg(b, "outer")
    for name, v in (("self", a), ("vec2", b)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D (shape {v.shape})")
    return a.reshape(-1, 1) * b


def _diagonal_index(rows: int, cols: int, k: int):
    """The (row, column) index arrays of diagonal ``k`` of a ``rows`` x ``cols`` matrix (empty if outside)."""
    n = max(0, min(rows + min(k, 0), cols - max(k, 0)))
    i = np.arange(n)
    return i - min(k, 0), i + max(k, 0)


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D ``x`` as the ``diagonal``-th diagonal of a square matrix (0 elsewhere); the ``diagonal``-th
    diagonal of a 2-D ``x`` (above the main one for ``diagonal > 0``, below for ``< 0``)."""
    from .inplace import _Place

    if not isinstance(diagonal, int | np.integer) or isinstance(diagonal, bool):
        raise TypeError(f"diag: diagonal must be an int, got {diagonal!r}")
    if x.ndim == 1:
        m = x.shape[0] + abs(int(diagonal))
        return _Place.apply(x, (m, m), _diagonal_index(m, m, int(diagonal)))
    if x.ndim == 2:
        return x[tuple(Tensor._wrap(i) for i in _diagonal_index(*x.shape, int(diagonal)))]
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D (shape {x.shape})")


def trace(x: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix (integer matrices sum to int64, as ``sum``)."""
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {x.ndim} (shape {x.shape})")
    if x.dtype == np.bool_:
        raise NotImplementedError('"trace" not implemented for \'Bool\' (as in PyTorch); convert with .long()')
    return diag(x).sum()
