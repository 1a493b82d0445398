"""Layer functions without convolution: ``linear``, ``dropout`` (and the channel-wise ``dropout1d``,
``dropout2d``), ``embedding``, ``one_hot``, ``pad``, ``flatten``."""

from __future__ import annotations

import warnings

import numpy as np

from ... import ops
from ...ops import nnops
from ...ops.inplace import _rebase, _records, _writable
from ...random import get_generator
from ...tensor import Tensor, tensor_arg


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``: ``(*, in), (out, in), (out,) -> (*, out)`` (one fused graph node)."""
    if type(input) is not Tensor:
        input = tensor_arg(input, "linear")
    try:
        x, w, b = input._data, weight._data, None if bias is None else bias._data
    except AttributeError:  # (e.g. a layer's weight set to None)
        name, value = ("weight", weight) if not isinstance(weight, Tensor) else ("bias", bias)
        raise TypeError(f"linear: {name} must be a Tensor, got {type(value).__name__}") from None
    if (w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1] or x.dtype != w.dtype
            or (b is not None and (b.shape != w.shape[:1] or b.dtype != w.dtype))):
        _linear_error(x, w, b)
    return nnops.linear(input, weight, bias)


def _linear_error(x, w, b):
    """Raise the error that explains why ``linear`` cannot take these arrays."""
    if w.ndim != 2 or x.ndim == 0 or x.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: input of shape {x.shape} does not match weight of shape {w.shape} "
                         f"(expected the input's last dim to be {w.shape[-1] if w.ndim else '?'})")
    if b is not None and b.shape != w.shape[:1]:
        raise ValueError(f"linear: bias of shape {b.shape} does not match weight of shape {w.shape} "
                         f"(expected ({w.shape[0]},))")
    raise TypeError(f"linear: input dtype {x.dtype} does not match weight dtype {w.dtype}; convert "
                    "the input (x.float()) or the model (model.double())")


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the others by ``1 / (1 - p)`` when
    ``training``; the identity otherwise. ``(*) -> (*)``. Uses the global generator. ``inplace=True``
    writes the result into ``input`` and returns it (recorded as an in-place op, as in PyTorch)."""
    _check_p(p)
    input = tensor_arg(input, "dropout")
    if input.dtype.kind != "f":
        raise TypeError(f"dropout: expected a floating point input, got dtype {input.dtype}; convert with .float()")
    if not training or p == 0.0:
        return input
    def drop(x):
        return x * 0.0 if p == 1.0 else nnops.dropout(x, p, get_generator())

    return _apply(input, drop, inplace, "dropout")


def _apply(input: Tensor, fn, inplace: bool, name: str) -> Tensor:
    """``fn(input)``, or with ``inplace`` its result written into ``input`` (recorded as an in-place op)."""
    if not inplace:
        return fn(input)
    if _records(input):
        return _rebase(input, fn, name=name)
    _writable(input)[...] = fn(input)._data
    input._bump_version()
    return input


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, name: str, batched: bool) -> Tensor:
    """Zero whole channels: one keep/drop draw per ``(N, C)`` entry (per ``C`` when not ``batched``). As PyTorch,
    the rank is checked only for a draw: no draw returns the input and ``p = 1`` zeroes it."""
    lead = 2 if batched else 1
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point input, got dtype {input.dtype}; convert with .float()")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if input.ndim < lead and p != 1.0:
        raise RuntimeError(f"{name}: Feature dropout requires at least 2 dimensions in the input, got shape "
                           f"{input.shape}")

    def drop(x):
        if p == 1.0:
            return x * 0.0
        keep = get_generator().random(x.shape[:lead] + (1,) * (x.ndim - lead), dtype=np.float32) >= p
        mask = keep.astype(x.dtype)
        mask *= 1.0 / (1.0 - p)
        return x * Tensor._wrap(mask)

    return _apply(input, drop, inplace, name)


def _check_p(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each channel of ``(N, C, L)`` or ``(C, L)`` with probability ``p`` (all its ``L`` values) and scale
    the kept ones by ``1 / (1 - p)`` when ``training``; the identity otherwise."""
    _check_p(p)
    input = tensor_arg(input, "dropout1d")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input (shape "
                           f"{input.shape}). Note that dropout1d exists to provide channel-wise dropout on inputs "
                           "with 1 spatial dimension, a channel dimension, and an optional batch dimension "
                           "(i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, "dropout1d", batched=input.ndim == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each channel of ``(N, C, H, W)`` with probability ``p`` (its whole ``H x W`` map) and scale the kept
    ones by ``1 / (1 - p)`` when ``training``; the identity otherwise. As PyTorch, a 3-D input is read as
    ``(N, C, L)`` and other ranks drop per ``(N, C)`` entry, each with PyTorch's warning."""
    _check_p(p)
    input = tensor_arg(input, "dropout2d")
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout2d exists to provide channel-wise dropout on "
                      "inputs with 2 spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a "
                      "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.", UserWarning, stacklevel=2)
    return _feature_dropout(input, p, training, inplace, "dropout2d", batched=True)


def _int_indices(indices, name: str) -> np.ndarray:
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer indices (int64), got dtype {idx.dtype}; use .long()")
    return idx


def embedding(input, weight: Tensor, padding_idx: int | None = None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` picked by integer ``input``: ``(*) int, (num, dim) -> (*, dim)``.

    The row ``padding_idx`` gets no gradient.
    """
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not supported")
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype not in (np.int64, np.int32):  # (as PyTorch: no other integer dtype, no float or bool)
        raise TypeError(f"embedding: expected integer indices of dtype int64 or int32, got dtype {idx.dtype}; "
                        "use .long()")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    n = weight.shape[0]
    if padding_idx is not None and not -n <= padding_idx < n:
        raise ValueError(f"embedding: padding_idx {padding_idx} is out of range for an embedding table of {n} rows")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].flat[0]
        raise IndexError(f"embedding: index {bad} is out of range for an embedding table of {n} rows "
                         f"(expected 0 <= index < {n})")
    rows = ops.getitem(weight, idx)
    if padding_idx is not None and weight.requires_grad:
        if padding_idx < 0:
            padding_idx += n
        keep = (idx != padding_idx)[..., None]
        rows = ops.where(keep, rows, rows.detach())  # same values, no gradient through padding rows
    return rows


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding: ``(*) int -> (*, num_classes)`` (``num_classes=-1``: max + 1)."""
    idx = _int_indices(tensor, "one_hot")
    if not idx.size and num_classes <= 0:
        raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor.")
    if idx.size and idx.min() < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {idx.min()}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and idx.max() >= num_classes:
        raise RuntimeError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {idx.max()}")
    return Tensor._wrap((idx[..., None] == np.arange(num_classes)).astype(np.int64))


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad ``'constant'`` (with ``value``), ``'reflect'``, ``'replicate'`` or ``'circular'``;
    ``pad = (left, right, top, bottom, ...)`` starts at the last dim, negative widths crop."""
    return ops.pad(input, pad, mode, value)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    return ops.flatten(input, start_dim, end_dim)
