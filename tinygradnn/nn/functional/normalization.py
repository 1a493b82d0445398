"""``batch_norm``: normalise each channel with batch statistics (training) or running ones (eval); ``normalize``."""

from __future__ import annotations

import numpy as np

from ...tensor import Tensor


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
        mean = input.mean(axes, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(axes, keepdim=True)
        out = centered * (var + eps).rsqrt()
        if running_mean is not None and running_var is not None:
            _update(running_mean, mean._data.reshape(c), momentum)
            _update(running_var, var._data.reshape(c) * (n / (n - 1)), momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when training=False")
        inv_std = 1.0 / np.sqrt(running_var._data + eps)
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
    from ... import ops

    return input / ops.norm(input, p, dim, keepdim=True).clamp(min=eps)
