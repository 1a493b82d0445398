"""Matrix product (1-D, 2-D and batched, with NumPy's broadcasting of batch dims)."""

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
