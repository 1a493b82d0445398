"""``batch_norm``: normalise each channel with batch statistics (training) or running ones (eval);
``layer_norm``: normalise each sample over its trailing dims; ``group_norm``: over groups of channels;
``normalize``, ``cosine_similarity``."""

from __future__ import annotations

import math

import numpy as np

from ... import ops
from ..._dtype import promote_types
from ...autograd.grad_mode import _State
from ...ops.normalization import normalized
from ...tensor import Tensor, tensor_arg


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """``(x - mean) / sqrt(var + eps) * weight + bias`` per channel: ``(N, C, *) -> (N, C, *)``.

    Training: mean and (biased) variance over every dim but 1; the running statistics, if given, are
    updated in place: ``running = (1 - momentum) * running + momentum * batch`` (unbiased variance).
    Eval: the running statistics are used.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, *), got {input.shape}")
    c = input.shape[1]
    shape = (1, c) + (1,) * (input.ndim - 2)
    axes = (0,) + tuple(range(2, input.ndim))
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"batch_norm: {name} of shape {t.shape} does not match the {c} channels of the "
                             f"input of shape {input.shape}")
        if t is not None and t.dtype != input.dtype:  # (NumPy would silently compute in the wider one)
            raise TypeError(f"batch_norm: input dtype {input.dtype} does not match {name} dtype {t.dtype}; "
                            "convert the input (x.float()) or the model (model.double())")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if training:
        n = input._data.size // max(c, 1)
        if n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of "
                             f"shape {input.shape}")
        if input.dtype.kind == "f":
            stats = []
            view = (input.shape[0], 1, c, n // input.shape[0])
            out = normalized(input, weight, bias, view, (0, 3), eps, stats)
            mean, var = (s.reshape(c) for s in stats)
            weight = bias = None  # (applied)
        else:
            mean = input.mean(axes, keepdim=True)
            centered = input - mean
            var = (centered * centered).mean(axes, keepdim=True)
            out = centered * (var + eps).rsqrt()
            mean, var = mean._data.reshape(c), var._data.reshape(c)
        if running_mean is not None and running_var is not None:
            _update(running_mean, mean, momentum)
            _update(running_var, var * (n / (n - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
        inv_std = 1.0 / np.sqrt(running_var._data + eps)
        if not _State.enabled or not any(t is not None and t.requires_grad for t in (weight, bias)):
            # inference: PyTorch's x * scale + shift, two passes instead of four
            scale = inv_std if weight is None else inv_std * weight._data
            shift = -running_mean._data * scale + (0 if bias is None else bias._data)
            return (input * scale.reshape(shape)).add_(shift.reshape(shape))  # (in place: the product is ours)
        out = (input - running_mean._data.reshape(shape)) * inv_std.reshape(shape)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def _update(running: Tensor, batch: np.ndarray, momentum: float) -> None:
    """``running = (1 - momentum) * running + momentum * batch``, in place (not recorded)."""
    data = running._data
    data *= 1.0 - momentum
    data += momentum * batch.astype(data.dtype, copy=False)
    running._bump_version()


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``input / max(norm(input, p, dim, keepdim=True), eps)``: unit ``p``-norm slices along ``dim``."""
    return input / ops.norm(input, p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 * x2, dim) / (max(|x1|, eps) * max(|x2|, eps))`` with 2-norms along ``dim`` of the broadcast
    inputs: ``(*1, D, *2), (*1, D, *2) -> (*1, *2)``. As PyTorch, the clamp at ``eps`` passes the gradient.
    """
    x1, x2 = tensor_arg(x1, "cosine_similarity"), tensor_arg(x2, "cosine_similarity")
    dtype = promote_types(x1.dtype, x2.dtype)
    if dtype.kind != "f":
        raise TypeError(f"cosine_similarity: expected a floating input, got dtypes {x1.dtype} and {x2.dtype}")
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"cosine_similarity: the shapes {x1.shape} and {x2.shape} do not broadcast") from None
    x1, x2 = (ops.cast(x, dtype).expand(shape) for x in (x1, x2))

    def clamped_norm(x):  # max(|x|, eps) whose gradient is the norm's
        n = ops.norm(x, 2, dim, keepdim=True)
        return ops.where(n.detach() < eps, n - n.detach() + eps, n)

    return ((x1 / clamped_norm(x1)) * (x2 / clamped_norm(x2))).sum(dim)


def _check_affine(name: str, input: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple) -> None:
    """A floating ``input``, and ``weight``/``bias`` (if given) of ``shape`` and of the input's dtype."""
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating input, got dtype {input.dtype}; convert it with .float()")
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ValueError(f"{name}: {what} of shape {t.shape} does not match the expected {shape} (input of "
                             f"shape {input.shape})")
        if t is not None and t.dtype != input.dtype:
            raise TypeError(f"{name}: input dtype {input.dtype} does not match {what} dtype {t.dtype}; "
                            "convert the input (x.float()) or the model (model.double())")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """``(x - mean) / sqrt(var + eps) * weight + bias``, mean and (biased) variance over the trailing
    ``len(normalized_shape)`` dims of each sample: ``(*, *normalized_shape) -> (*, *normalized_shape)``;
    ``weight`` and ``bias`` have shape ``normalized_shape``. float16 is computed in float32 and rounded once.
    """
    input = tensor_arg(input, "layer_norm")
    if not isinstance(normalized_shape, tuple | list):
        raise TypeError(f"layer_norm: normalized_shape must be a tuple or list of ints, got {normalized_shape!r}")
    shape = tuple(int(n) for n in normalized_shape)
    k = len(shape)
    if k == 0 or input.shape[input.ndim - k:] != shape or input.ndim < k:
        raise ValueError(f"layer_norm: normalized_shape={shape} expects an input of shape (*, "
                         f"{', '.join(map(str, shape))}), got {input.shape}")
    _check_affine("layer_norm", input, weight, bias, shape)
    size = math.prod(shape)
    return normalized(input, weight, bias, (input.numel() // max(size, 1), 1, size, 1), (2, 3), eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """``(x - mean) / sqrt(var + eps) * weight + bias``, mean and (biased) variance over each group of
    ``C / num_groups`` channels (with all their other dims) of each sample: ``(N, C, *) -> (N, C, *)``;
    ``weight`` and ``bias`` have shape ``(C,)``. float16 is computed in float32 and rounded once.
    """
    input = tensor_arg(input, "group_norm")
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, *), got {input.shape}")
    n, c = input.shape[:2]
    if not isinstance(num_groups, int | np.integer) or isinstance(num_groups, bool):
        raise TypeError(f"group_norm: num_groups must be an int, got {num_groups!r}")
    if num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: expected a number of channels divisible by num_groups={num_groups}, got "
                         f"input of shape {input.shape}")
    if input.numel() == num_groups:  # (PyTorch's check)
        raise ValueError(f"group_norm: expected more than 1 value per channel when training, got input of shape "
                         f"{input.shape}")
    _check_affine("group_norm", input, weight, bias, (c,))
    view = (n, num_groups, c // num_groups, input.numel() // max(n * c, 1))
    return normalized(input, weight, bias, view, (2, 3), eps)
