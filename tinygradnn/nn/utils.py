"""Helpers around parameters: gradient clipping and flattening parameters to one vector."""

from __future__ import annotations

import math

import numpy as np

from .. import ops
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor


def _as_list(parameters) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients as if concatenated into one vector (``norm_type=inf`` for the
    largest magnitude). Returns that total norm (before clipping) as a 0-d Tensor.
    """
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return Tensor._wrap(np.asarray(0.0, dtype=np.float32))
    norm_type, max_norm = float(norm_type), float(max_norm)
    arrays = [g._data for g in grads]
    dtype = np.result_type(*arrays)  # the total norm's: the widest gradient dtype
    if math.isinf(norm_type):  # the largest magnitude (inf) or the smallest (-inf); over no elements 0 or inf
        pick = np.max if norm_type > 0 else np.min  # (unlike Python's max and min, they let a NaN through)
        peaks = [pick(np.abs(a)) for a in arrays if a.size]
        total = float(pick(peaks)) if peaks else (0.0 if norm_type > 0 else math.inf)
    elif norm_type == 0:  # PyTorch takes the 0-"norm" of the per-tensor norms: the gradients not all zero
        total = float(sum(bool(np.count_nonzero(a)) for a in arrays))
    else:
        # float16 in float32, as PyTorch: their powers would overflow or underflow in float16; for a negative
        # norm_type a zero's power is inf (no warning) and the norm 0, as in PyTorch
        with np.errstate(divide="ignore"):
            powers = sum(float(np.sum(np.abs(a, dtype=np.promote_types(a.dtype, np.float32)) ** norm_type))
                         for a in arrays)
        total = powers ** (1.0 / norm_type) if powers or norm_type > 0 else math.inf  # (no elements: inf)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, so "
                           "they cannot be clipped; set error_if_nonfinite=False to skip this check")
    coef = max_norm / (total + 1e-6)
    if not coef >= 1:  # (a NaN norm makes every gradient NaN, as in PyTorch)
        for a in arrays:
            a *= coef
    return Tensor._wrap(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and joined into one 1-D Tensor (differentiable)."""
    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters_to_vector: expected Tensors, got {type(p).__name__}")
    return ops.cat([ops.reshape(p, (-1,)) for p in params], 0)


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    params = _as_list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {total} elements, got shape {vec.shape}")
    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p._data[...] = vec._data[start:start + n].reshape(p.shape)
            p._bump_version()
            start += n
