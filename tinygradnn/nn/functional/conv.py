"""Convolution and pooling: PyTorch's signatures, passed through to :mod:`tinygradnn.ops.conv`.

Shapes: ``conv1d``/``conv_transpose1d``/``*_pool1d`` take ``(N, C, L)`` or unbatched ``(C, L)``;
``conv2d``/``conv_transpose2d``/``*_pool2d`` take ``(N, C, H, W)`` or ``(C, H, W)``. Convolution padding
may also be ``'valid'`` or ``'same'``.
"""

from __future__ import annotations

import importlib

from ...tensor import Tensor, tensor_arg

_conv_ops = None


def _ops_conv():
    """``tinygradnn.ops.conv``, imported on first use (nn imports without it)."""
    global _conv_ops
    if _conv_ops is None:
        _conv_ops = importlib.import_module("tinygradnn.ops.conv")
    return _conv_ops


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """1-D cross-correlation: ``(N, C_in, L), (C_out, C_in / groups, kL), (C_out,) -> (N, C_out, L_out)``."""
    return _ops_conv().conv1d(tensor_arg(input, "conv1d"), weight, bias, stride, padding, dilation, groups)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-D cross-correlation: ``(N, C_in, H, W), (C_out, C_in / groups, kH, kW), (C_out,) -> (N, C_out, H', W')``."""
    return _ops_conv().conv2d(tensor_arg(input, "conv2d"), weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution (conv1d's gradient in its input):
    ``(N, C_in, L), (C_in, C_out / groups, kL), (C_out,) -> (N, C_out, L_out)``,
    ``L_out = (L - 1) stride - 2 padding + dilation (kL - 1) + output_padding + 1``."""
    return _ops_conv().conv_transpose1d(tensor_arg(input, "conv_transpose1d"), weight, bias, stride, padding,
                                        output_padding, groups, dilation)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution (conv2d's gradient in its input):
    ``(N, C_in, H, W), (C_in, C_out / groups, kH, kW), (C_out,) -> (N, C_out, H', W')``,
    ``H' = (H - 1) stride[0] - 2 padding[0] + dilation[0] (kH - 1) + output_padding[0] + 1``, likewise ``W'``."""
    return _ops_conv().conv_transpose2d(tensor_arg(input, "conv_transpose2d"), weight, bias, stride, padding,
                                        output_padding, groups, dilation)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Mean over ``output_size`` bins covering the input: ``(N, C, L) -> (N, C, oL)``."""
    return _ops_conv().adaptive_avg_pool1d(tensor_arg(input, "adaptive_avg_pool1d"), output_size)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Mean over ``output_size`` bins covering the input: ``(N, C, H, W) -> (N, C, oH, oW)`` (``None`` keeps a size)."""
    return _ops_conv().adaptive_avg_pool2d(tensor_arg(input, "adaptive_avg_pool2d"), output_size)


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Max over ``output_size`` bins covering the input: ``(N, C, L) -> (N, C, oL)`` (and the indices)."""
    return _ops_conv().adaptive_max_pool1d(tensor_arg(input, "adaptive_max_pool1d"), output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Max over ``output_size`` bins covering the input: ``(N, C, H, W) -> (N, C, oH, oW)`` (``None`` keeps a size)."""
    return _ops_conv().adaptive_max_pool2d(tensor_arg(input, "adaptive_max_pool2d"), output_size, return_indices)


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over sliding windows: ``(N, C, L) -> (N, C, L_out)`` (``stride`` defaults to ``kernel_size``)."""
    return _ops_conv().max_pool1d(tensor_arg(input, "max_pool1d"), kernel_size, stride, padding, dilation, ceil_mode,
                                  return_indices)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """Max over sliding windows: ``(N, C, H, W) -> (N, C, H', W')`` (``stride`` defaults to ``kernel_size``)."""
    return _ops_conv().max_pool2d(tensor_arg(input, "max_pool2d"), kernel_size, stride, padding, dilation, ceil_mode,
                                  return_indices)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over sliding windows: ``(N, C, L) -> (N, C, L_out)``."""
    return _ops_conv().avg_pool1d(tensor_arg(input, "avg_pool1d"), kernel_size, stride, padding, ceil_mode,
                                  count_include_pad)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    """Mean over sliding windows: ``(N, C, H, W) -> (N, C, H', W')``."""
    return _ops_conv().avg_pool2d(tensor_arg(input, "avg_pool2d"), kernel_size, stride, padding, ceil_mode,
                                  count_include_pad, divisor_override)
