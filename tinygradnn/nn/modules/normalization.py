"""``BatchNorm1d`` and ``BatchNorm2d``: normalise each channel over the batch (and length / spatial dims);
``LayerNorm``: normalise each sample over its trailing dims; ``GroupNorm``: over groups of channels."""

from __future__ import annotations

import numpy as np

from ...tensor import Tensor, tensor_arg
from .. import functional as F
from .. import init
from ..module import Module
from ._factory import check_size, empty_parameter, float_dtype


class _BatchNorm(Module):
    """Parameters ``weight``/``bias`` ``(C,)`` (if ``affine``); buffers ``running_mean``, ``running_var``
    ``(C,)`` and ``num_batches_tracked`` (if ``track_running_stats``), named as in PyTorch."""

    _ranks = ()  # accepted input ranks
    _optional_state = ("num_batches_tracked",)  # older PyTorch checkpoints lack it (PyTorch accepts them too)
    _layout = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        check_size(type(self).__name__, "num_features", num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = empty_parameter((num_features,), device, dtype)
            if bias:
                self.bias = empty_parameter((num_features,), device, dtype)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            dt = float_dtype(device, dtype)
            self.register_buffer("running_mean", Tensor._wrap(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor._wrap(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self) -> None:
        """Running statistics reset; ``weight`` ones and ``bias`` zeros."""
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        name = type(self).__name__
        input = tensor_arg(input, name)
        if input.ndim not in self._ranks:
            raise ValueError(f"{name}: expected a {' or '.join(f'{r}-d' for r in self._ranks)} input "
                             f"{self._layout}, got shape {input.shape}")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected input with {self.num_features} channels (num_features) at dim 1, "
                             f"got shape {input.shape}")
        tracking = self.training and self.track_running_stats
        factor = 0.0 if self.momentum is None else self.momentum
        if tracking and self.momentum is None:  # cumulative moving average
            factor = 1.0 / (int(self.num_batches_tracked._data) + 1)
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        out = F.batch_norm(input, self.running_mean if keep_stats else None, self.running_var if keep_stats else None,
                           self.weight, self.bias, use_batch_stats, factor, self.eps)
        if tracking:
            self.num_batches_tracked._data += 1
        return out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` inputs (statistics over N, and L)."""

    _ranks = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)`` inputs (statistics over N, H and W)."""

    _ranks = (4,)
    _layout = "(N, C, H, W)"


def _affine_parameters(module: Module, shape: tuple, affine: bool, bias: bool, device, dtype) -> None:
    """Register ``weight`` (ones) and ``bias`` (zeros) of ``shape``, or None when not ``affine`` (``bias``: False
    for no bias), as LayerNorm and GroupNorm do."""
    module.register_parameter("weight", empty_parameter(shape, device, dtype) if affine else None)
    module.register_parameter("bias", empty_parameter(shape, device, dtype) if affine and bias else None)
    _reset_affine(module)


def _reset_affine(module: Module) -> None:
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Layer normalisation over the trailing dims ``normalized_shape`` (an int or a tuple):
    ``(*, *normalized_shape) -> (*, *normalized_shape)``, the same in training and eval.

    Parameters ``weight`` (ones) and ``bias`` (zeros) of shape ``normalized_shape`` if ``elementwise_affine``
    (no ``bias`` if ``bias=False``); no buffers.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int | np.integer) else tuple(normalized_shape)
        for n in shape:
            check_size("LayerNorm", "normalized_shape", n)
        self.normalized_shape, self.eps, self.elementwise_affine = tuple(int(n) for n in shape), eps, elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, device, dtype)

    def reset_parameters(self) -> None:
        """``weight`` ones and ``bias`` zeros."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalisation: the ``num_channels`` channels of ``(N, C, *)`` inputs split into ``num_groups``
    groups, each normalised per sample; ``(N, C, *) -> (N, C, *)``, the same in training and eval.

    Parameters ``weight`` (ones) and ``bias`` (zeros) of shape ``(C,)`` if ``affine`` (no ``bias`` if
    ``bias=False``); no buffers.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        check_size("GroupNorm", "num_groups", num_groups)
        check_size("GroupNorm", "num_channels", num_channels)
        if num_groups == 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        _affine_parameters(self, (num_channels,), affine, bias, device, dtype)

    def reset_parameters(self) -> None:
        """``weight`` ones and ``bias`` zeros."""
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
