"""``scaled_dot_product_attention``: ``softmax(q @ k^T * scale + mask) @ v``, composed of differentiable ops
(matmul, where, softmax, dropout), so gradients and double backward need no rule of their own."""

from __future__ import annotations

import math

import numpy as np

from ... import ops
from ...tensor import Tensor, tensor_arg
from .layers import dropout


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """Attention of ``query`` ``(*, L, E)`` over ``key`` ``(*, S, E)`` and ``value`` ``(*, S, Ev)``:
    ``softmax(query @ key^T * scale + bias) @ value``, ``(*, L, Ev)``; the leading dims broadcast.

    ``attn_mask`` broadcasts to ``(*, L, S)``: a bool mask says which keys take part (True) and a float mask
    is added to the scores. ``is_causal`` masks out the keys after each query (upper-left aligned, as
    PyTorch). ``scale`` defaults to ``1 / sqrt(E)``. A query that no key may attend to gives zeros (and zero
    gradients), as PyTorch 2.13 on the CPU. ``dropout_p > 0`` drops attention weights with NumPy's random
    stream (always: there is no training flag, as in PyTorch). ``enable_gqa`` lets ``query`` have more heads
    (dim -3) than ``key``/``value``, a multiple of theirs.

    Examples:
        >>> import tinygradnn.nn.functional as F
        >>> q, k, v = tg.randn(2, 4, 3, 8), tg.randn(2, 4, 5, 8), tg.randn(2, 4, 5, 6)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        (2, 4, 3, 6)
    """
    q, k, v = (tensor_arg(t, "scaled_dot_product_attention") for t in (query, key, value))
    if enable_gqa:
        k, v = _repeat_heads(q, k, v)
    _check_inputs(q, k, v, attn_mask, dropout_p, is_causal)
    factor = 1.0 / math.sqrt(max(q.shape[-1], 1)) if scale is None else float(scale)  # (E = 0: uniform)
    scores = ops.matmul(q, k.transpose(-2, -1)) * factor
    if is_causal:
        attn_mask = np.tril(np.ones((q.shape[-2], k.shape[-2]), dtype=bool))
    if attn_mask is not None:
        if _data(attn_mask).dtype == np.bool_:
            scores = ops.where(attn_mask, scores, -math.inf)
        else:
            scores = scores + attn_mask
    dead = np.isneginf(scores._data).all(axis=-1, keepdims=True)  # rows no key may attend to (PyTorch: zeros)
    if dead.any():
        scores = ops.where(dead, 0.0, scores)
        weights = ops.where(dead, 0.0, ops.softmax(scores, -1))
    else:
        weights = ops.softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return ops.matmul(weights, v)


def _data(t) -> np.ndarray:
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def _check_inputs(q: Tensor, k: Tensor, v: Tensor, attn_mask, dropout_p: float, is_causal: bool) -> None:
    """PyTorch's errors (``RuntimeError``) for ranks, dtypes, mismatched sizes and the mask."""
    name = "scaled_dot_product_attention"
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise RuntimeError(f"{name}: expected query, key and value to be at least 2-dimensional, got shapes "
                           f"{q.shape}, {k.shape} and {v.shape}")
    if not q.dtype == k.dtype == v.dtype:
        raise RuntimeError(f"{name}: expected query, key and value to have the same dtype, got {q.dtype}, "
                           f"{k.dtype} and {v.dtype}")
    if q.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected floating point query, key and value, got dtype {q.dtype}")
    if q.shape[-1] != k.shape[-1]:
        raise RuntimeError(f"{name}: query of shape {q.shape} and key of shape {k.shape} must have the same "
                           "last dim (the embedding size E)")
    if k.shape[-2] != v.shape[-2]:
        raise RuntimeError(f"{name}: key of shape {k.shape} and value of shape {v.shape} must have the same "
                           "number of positions S (dim -2)")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{name}: the batch dims of query {q.shape}, key {k.shape} and value {v.shape} do not "
                           "broadcast") from None
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if attn_mask is not None:
        if is_causal:
            raise RuntimeError(f"{name}: Explicit attn_mask should not be set when is_causal=True")
        m = _data(attn_mask)
        if m.dtype != np.bool_ and m.dtype != q.dtype:
            raise RuntimeError(f"{name}: expected attn_mask dtype to be bool or to match the query dtype "
                               f"{q.dtype}, got {m.dtype}")
        try:
            np.broadcast_shapes(m.shape, (*batch, q.shape[-2], k.shape[-2]))
        except ValueError:
            raise RuntimeError(f"{name}: attn_mask of shape {m.shape} does not broadcast to the attention "
                               f"scores' shape {(*batch, q.shape[-2], k.shape[-2])}") from None


def _repeat_heads(q: Tensor, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
    """``enable_gqa``: repeat each head of ``k`` and ``v`` (dim -3) to match ``q``'s number of heads."""
    if min(q.ndim, k.ndim, v.ndim) < 3:
        raise RuntimeError("scaled_dot_product_attention: enable_gqa needs a heads dim (-3) in query, key and "
                           f"value, got shapes {q.shape}, {k.shape} and {v.shape}")
    hq, hk, hv = q.shape[-3], k.shape[-3], v.shape[-3]
    if hk == 0 or hv == 0 or hq % hk or hq % hv:
        raise RuntimeError(f"scaled_dot_product_attention: the number of heads in key ({hk}) and value ({hv}) "
                           f"must divide the number of heads in query ({hq})")
    return ops.repeat_interleave(k, hq // hk, -3), ops.repeat_interleave(v, hq // hv, -3)
