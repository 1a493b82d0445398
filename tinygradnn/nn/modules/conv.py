"""``Conv1d`` and ``Conv2d`` (cross-correlation, as in every deep-learning library), and their transposes
``ConvTranspose1d`` and ``ConvTranspose2d``."""

from __future__ import annotations

import math

import numpy as np

from ...tensor import Tensor, tensor_arg
from .. import functional as F
from .. import init
from ..module import Module
from ._factory import check_size, empty_parameter


def _is_int(v) -> bool:
    """A Python or NumPy integer (not a bool), as PyTorch's layers take them."""
    return isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)


def _ntuple(value, n: int, name: str, what: str, minimum: int = 1) -> tuple:
    out = tuple(value) if isinstance(value, tuple | list) else (value,) * n
    if len(out) != n or not all(map(_is_int, out)):
        raise ValueError(f"{name}: {what} must be an int or a tuple of {n} ints, got {value!r}")
    out = tuple(map(int, out))
    if any(v < minimum for v in out):
        raise ValueError(f"{name}: {what} must be {'positive' if minimum else 'non-negative'}, got {value!r}")
    return out


class _ConvNd(Module):
    """What Conv1d and Conv2d (and the transposed layers) share: parameters, checks, initialisation and repr."""

    _nd = 0
    _conv = None
    _transposed = False  # the weight is (in_channels, out_channels / groups, *kernel), as PyTorch's

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):
        super().__init__()
        name, nd = type(self).__name__, self._nd
        check_size(name, "in_channels", in_channels)
        check_size(name, "out_channels", out_channels)
        if not _is_int(groups) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        groups = int(groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                             f"divisible by groups ({groups})")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got "
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _ntuple(kernel_size, nd, name, "kernel_size")
        self.stride = _ntuple(stride, nd, name, "stride")
        self.dilation = _ntuple(dilation, nd, name, "dilation")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = _ntuple(padding, nd, name, "padding", minimum=0)
        self.output_padding = (0,) * nd
        self.padding_mode = padding_mode
        # F.pad's widths (last dim first) for the padding modes other than zeros, as PyTorch's
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(reversed(self.dilation), reversed(self.kernel_size))]
            self._reversed_padding_repeated_twice = [v for t in totals for v in (t // 2, t - t // 2)]
        else:
            widths = (0,) * nd if self.padding == "valid" else self.padding
            self._reversed_padding_repeated_twice = [p for p in reversed(widths) for _ in range(2)]
        channels = (in_channels, out_channels // groups) if self._transposed else (out_channels, in_channels // groups)
        self.weight = empty_parameter(channels + self.kernel_size, device, dtype)
        if bias:
            self.bias = empty_parameter((out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: ``kaiming_uniform_(a=sqrt(5))`` weight, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _checked(self, input) -> Tensor:
        """``input`` as a Tensor, or a ValueError if its rank or channel count does not fit the layer."""
        name, nd = type(self).__name__, self._nd
        input = tensor_arg(input, name)
        if input.ndim not in (nd + 1, nd + 2):
            raise ValueError(f"{name}: expected a {nd + 2}-d input (N, C, ...) or a {nd + 1}-d unbatched one "
                             f"(C, ...), got shape {input.shape}")
        dim = input.ndim - nd - 1  # the channel dim
        if input.shape[dim] != self.in_channels:
            raise ValueError(f"{name}: expected input with {self.in_channels} channels (in_channels) at dim {dim}, "
                             f"got shape {input.shape}")
        return input

    def forward(self, input: Tensor) -> Tensor:
        input = self._checked(input)
        params = self._parameters  # (one dict lookup instead of two Module.__getattr__ calls)
        padding = self.padding
        if self.padding_mode != "zeros":  # pad first, then convolve without padding, as PyTorch
            input, padding = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), 0
        return type(self)._conv(input, params["weight"], params["bias"], self.stride, padding, self.dilation,
                                self.groups)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution: ``(N, C_in, L) -> (N, C_out, L_out)`` (or unbatched ``(C_in, L)``).

    ``weight``: ``(out_channels, in_channels / groups, kernel_size)``; ``bias``: ``(out_channels,)``.
    ``L_out = (L + 2 padding - dilation (kernel_size - 1) - 1) // stride + 1``.
    """

    _nd = 1
    _conv = staticmethod(F.conv1d)


class Conv2d(_ConvNd):
    """2-D convolution: ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)`` (or unbatched ``(C_in, H, W)``).

    ``weight``: ``(out_channels, in_channels / groups, kH, kW)``; ``bias``: ``(out_channels,)``.
    ``H_out = (H + 2 padding[0] - dilation[0] (kH - 1) - 1) // stride[0] + 1``, likewise ``W_out``.
    """

    _nd = 2
    _conv = staticmethod(F.conv2d)


class _ConvTransposeNd(_ConvNd):
    """What ConvTranspose1d and ConvTranspose2d share: PyTorch's argument order, ``output_padding`` and the
    ``output_size`` argument of ``forward``. The fan-in of the default initialisation is, as in PyTorch,
    computed from the (in_channels, out_channels / groups, *kernel) weight: ``out_channels / groups * kernel``."""

    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None, dtype=None):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}, got padding_mode={padding_mode!r}')
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple of {self._nd} ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)
        self.output_padding = _ntuple(output_padding, self._nd, name, "output_padding", minimum=0)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        """The transposed convolution of ``input``; ``output_size`` (the spatial sizes, optionally preceded by the
        batch and channel sizes) picks the output padding that gives that size, as in PyTorch."""
        input = self._checked(input)
        output_padding = self.output_padding if output_size is None else self._output_padding(input, output_size)
        params = self._parameters
        return type(self)._conv(input, params["weight"], params["bias"], self.stride, self.padding, output_padding,
                                self.groups, self.dilation)

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """The output padding that makes the output's spatial size ``output_size`` (PyTorch's rule: each size must
        lie between the size without output padding and that plus ``stride - 1``)."""
        name, nd = type(self).__name__, self._nd
        lead = input.ndim - nd  # batch and channel dims (just the channel when unbatched)
        if not isinstance(output_size, tuple | list) or not all(
                isinstance(v, int | np.integer) and not isinstance(v, bool) for v in output_size):
            raise TypeError(f"{name}: output_size must be a list or tuple of ints, got {output_size!r}")
        size = tuple(int(v) for v in output_size)
        if len(size) == lead + nd:
            size = size[lead:]
        if len(size) != nd:
            raise ValueError(f"{name}: for a {input.ndim}-d input, output_size must have {nd} or {lead + nd} "
                             f"elements (got {len(output_size)}: {output_size!r})")
        smallest = tuple((n - 1) * s - 2 * p + d * (k - 1) + 1 for n, s, p, d, k in zip(
            input.shape[lead:], self.stride, self.padding, self.dilation, self.kernel_size))
        largest = tuple(lo + s - 1 for lo, s in zip(smallest, self.stride))
        if any(not lo <= v <= hi for v, lo, hi in zip(size, smallest, largest)):
            raise ValueError(f"{name}: requested an output size of {size}, but valid sizes range from {smallest} to "
                             f"{largest} (for an input of spatial size {input.shape[lead:]})")
        return tuple(v - lo for v, lo in zip(size, smallest))


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution (Conv1d's gradient in its input): ``(N, C_in, L) -> (N, C_out, L_out)`` (or
    unbatched ``(C_in, L)``).

    ``weight``: ``(in_channels, out_channels / groups, kernel_size)``; ``bias``: ``(out_channels,)``.
    ``L_out = (L - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1``.
    """

    _nd = 1
    _conv = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (Conv2d's gradient in its input): ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``
    (or unbatched ``(C_in, H, W)``).

    ``weight``: ``(in_channels, out_channels / groups, kH, kW)``; ``bias``: ``(out_channels,)``.
    ``H_out = (H - 1) stride[0] - 2 padding[0] + dilation[0] (kH - 1) + output_padding[0] + 1``, likewise ``W_out``.

    Examples:
        >>> up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        >>> up(tg.randn(4, 16, 7, 7)).shape
        (4, 8, 14, 14)
    """

    _nd = 2
    _conv = staticmethod(F.conv_transpose2d)
