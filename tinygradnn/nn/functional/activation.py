"""Activation functions: ``relu``, ``leaky_relu``, ``gelu``, ``elu``, ``softplus``, ``tanh``, ``sigmoid``,
``silu``, ``mish``, ``hardtanh``, ``relu6``, ``prelu``, ``softmax``, ``log_softmax``. All keep
the input's shape and dtype.

``inplace=True`` is accepted for PyTorch compatibility; only ``relu`` really works in place, the
others return a new tensor.
"""

from __future__ import annotations

import warnings

import numpy as np

from ... import ops
from ...ops import nnops
from ...tensor import Tensor, tensor_arg

_F16 = np.dtype(np.float16)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``; ``(*) -> (*)``."""
    return ops.relu_(input) if inplace else ops.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` if ``x > 0`` else ``negative_slope * x``; ``(*) -> (*)``."""
    return ops.leaky_relu(input, negative_slope)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` (``approximate='tanh'`` for the tanh formula); ``(*) -> (*)``."""
    return ops.gelu(input, approximate)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``; ``(*) -> (*)``."""
    return ops.elu(input, alpha)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``; ``(*) -> (*)``."""
    return ops.softplus(input, beta, threshold)


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent; ``(*) -> (*)``."""
    return ops.tanh(input)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``; ``(*) -> (*)``."""
    return ops.sigmoid(input)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)``; ``(*) -> (*)``. float16 in float32, rounded once (as PyTorch)."""
    if isinstance(input, Tensor) and input._data.dtype is _F16:
        return ops.cast(silu(ops.cast(input, np.float32)), _F16)
    return ops.elementwise.silu(tensor_arg(input, "silu"))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))``; ``(*) -> (*)``. float16 in float32, rounded once (as PyTorch)."""
    if isinstance(input, Tensor) and input._data.dtype is _F16:
        return ops.cast(mish(ops.cast(input, np.float32)), _F16)
    return input * ops.tanh(ops.softplus(input))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` clipped to ``[min_val, max_val]``, gradient 0 at and beyond the bounds; ``(*) -> (*)``."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val={min_val}, "
                         f"max_val={max_val}")
    input = tensor_arg(input, "hardtanh")
    if input.dtype == bool:  # (as PyTorch; NumPy would clip to a bool)
        raise RuntimeError("hardtanh: bool inputs are not supported; convert with .float() or .long()")
    return nnops.hardtanh(input, min_val, max_val)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``, gradient 0 at 0 and 6; ``(*) -> (*)``."""
    return hardtanh(input, 0.0, 6.0)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` if ``x > 0`` else ``weight * x``, one slope per channel (dim 1) or one for all; ``(*) -> (*)``.

    ``weight`` is 0-d or 1-D with 1 or C elements (a 1-D input has one channel). At ``x = 0`` the gradient
    is the slope's, as PyTorch's.
    """
    input, weight = tensor_arg(input, "prelu"), tensor_arg(weight, "prelu")
    if weight.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}")
    n = weight.numel()
    if n != 1:
        if input.ndim == 0:
            raise RuntimeError(f"prelu: Not allow zero-dim input tensor with a weight of {n} elements.")
        channels = input.shape[1] if input.ndim >= 2 else 1
        if n != channels:
            raise RuntimeError(f"prelu: Mismatch of parameter numbers and input channel size. Found parameter "
                               f"numbers = {n} and channel size = {channels} (input of shape {input.shape}).")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {input.dtype} and {weight.dtype}")
    if input.dtype.kind != "f":
        raise NotImplementedError(f"prelu: expected floating point tensors, got dtype {input.dtype}; "
                                  "convert with .float()")
    slope = weight.reshape((n,) + (1,) * (input.ndim - 2)) if n != 1 else weight.reshape(())
    return ops.where(input > 0, input, input * slope)


def _softmax_dim(name: str, ndim: int) -> int:
    """PyTorch's legacy choice when ``dim`` is not given (with its deprecation warning)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim`` (entries along ``dim`` sum to 1); ``(*) -> (*)``."""
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    if dtype is not None:
        input = input.astype(dtype)
    return ops.softmax(input, dim)


def log_softmax(input: Tensor, dim: int | None = None, dtype=None) -> Tensor:
    """``log(softmax(x))`` computed stably along ``dim``; ``(*) -> (*)``."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    if dtype is not None:
        input = input.astype(dtype)
    return ops.log_softmax(input, dim)
