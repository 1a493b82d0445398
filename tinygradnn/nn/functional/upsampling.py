"""``interpolate``: resize the spatial dims of ``(N, C, *spatial)`` by nearest neighbours or (bi/tri)linearly.

Every mode here is separable: each spatial dim is resized in turn, by picking entries (``index_select``)
and, for the linear modes, mixing two neighbours with constant weights: ``_Interp``, a matrix of those weights
applied along the dim (one matmul forward, its transpose backward). The source positions are computed as
PyTorch's CPU kernels do, and the dims are mixed last first, as PyTorch's loops nest.
"""

from __future__ import annotations

import math

import numpy as np

from ... import ops
from ...autograd.function import Function
from ...tensor import Tensor, tensor_arg

_MODES = "nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact"
_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}


def _scale(n: int, out: int, scale_factor) -> np.float32 | float:
    """PyTorch's source step per output step: ``1 / scale_factor`` when given, else ``n / out`` (float32)."""
    return 1.0 / scale_factor if scale_factor is not None and scale_factor > 0 else n / out


def _nearest(n: int, out: int, scale_factor, exact: bool, shortcuts: bool) -> np.ndarray:
    """The source index of each output index, PyTorch's float32 ``floor((i [+ 0.5]) * scale)``; with
    ``shortcuts`` (PyTorch's 2-D 'nearest' kernel) an output of n or 2n copies or doubles whatever the scale."""
    if shortcuts and out == n:
        return np.arange(n)
    if shortcuts and out == 2 * n:
        return np.arange(out) >> 1
    scale = np.float32(_scale(n, out, scale_factor))
    i = np.arange(out, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(i * scale).astype(np.int64), n - 1)


def _linear(n: int, out: int, scale_factor, align_corners: bool, dtype):
    """The two source indices of each output index and the weight of the second, in ``dtype``."""
    if align_corners:
        src = np.arange(out, dtype=dtype) * dtype.type((n - 1) / (out - 1) if out > 1 else 0)
    else:
        scale = dtype.type(_scale(n, out, scale_factor))
        src = np.maximum(scale * (np.arange(out, dtype=dtype) + dtype.type(0.5)) - dtype.type(0.5), 0)
    lo = np.minimum(np.floor(src).astype(np.int64), n - 1)
    lam = np.clip(src - lo, 0, 1).astype(dtype)
    return lo, np.minimum(lo + 1, n - 1), lam


class _Interp(Function):
    """Linear interpolation along ``axis``: y = A x, where ``taps`` = (lo, hi, lam, A) give output j the weights
    1 - lam[j] at lo[j] and lam[j] at hi[j] (A (out, n) holds them as a matrix); with ``transpose``, x = A.T y.
    Each is the other's backward."""

    def forward(ctx, x, taps, axis, transpose):
        ctx.args = (taps, axis, transpose)
        return _interp(x, taps, axis, transpose)

    def backward(ctx, g, F):
        taps, axis, transpose = ctx.args
        if isinstance(g, np.ndarray):
            return _interp(g, taps, axis, not transpose), None, None, None
        return _Interp.apply(g, taps, axis, not transpose), None, None, None


@np.errstate(invalid="ignore", over="ignore")  # (an inf times a zero weight is NaN silently, as in PyTorch)
def _interp(x: np.ndarray, taps: tuple, axis: int, transpose: bool) -> np.ndarray:
    """A (or A.T) applied along ``axis`` of x: one matmul. A non-finite x is mixed from the two neighbours only
    (a gather, or for A.T a scatter-add), as in PyTorch: A's other zeros times an inf would be NaN."""
    lo, hi, lam, a = taps
    m = a.T if transpose else a  # (result size, x's size) along the axis
    if np.isfinite(np.add.reduce(x, axis=None)):
        if axis == x.ndim - 1:
            return x @ m.T
        rows = x.reshape(x.shape[:axis + 1] + (int(np.prod(x.shape[axis + 1:])),))
        return np.matmul(m, rows).reshape(x.shape[:axis] + (m.shape[0],) + x.shape[axis + 1:])
    xm = np.moveaxis(x, axis, 0)
    w0, w1 = ((1 - lam).reshape((-1,) + (1,) * (xm.ndim - 1)), lam.reshape((-1,) + (1,) * (xm.ndim - 1)))
    if transpose:
        out = np.zeros((m.shape[0],) + xm.shape[1:], x.dtype)
        np.add.at(out, lo, xm * w0)
        np.add.at(out, hi, xm * w1)
    else:
        out = np.take(xm, lo, 0) * w0 + np.take(xm, hi, 0) * w1
    return np.moveaxis(out, 0, axis)


def _sizes(x: Tensor, size, scale_factor, recompute_scale_factor):
    """The output sizes and the scale factors the kernels use (None where PyTorch derives them from the sizes)."""
    dims, spatial = x.ndim - 2, list(x.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size.")
        sizes = list(size) if isinstance(size, tuple | list) else [size] * dims
        if len(sizes) != dims:
            raise ValueError(f"interpolate: Input and output must have the same number of spatial dimensions, but "
                             f"got input with spatial dimensions of {spatial} and output size of {size}.")
        if not all(isinstance(s, int | np.integer) and not isinstance(s, bool) for s in sizes):
            raise TypeError(f"interpolate: expected size to be an int or a tuple of ints, but got size {size!r}")
        return [int(s) for s in sizes], [None] * dims
    if scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    scales = list(scale_factor) if isinstance(scale_factor, tuple | list) else [scale_factor] * dims
    if len(scales) != dims:
        raise ValueError(f"interpolate: Input and scale_factor must have the same number of spatial dimensions, but "
                         f"got input with spatial dimensions of {spatial} and scale_factor of shape {scale_factor}.")
    if not recompute_scale_factor and not all(math.isfinite(float(s)) for s in scales):
        raise RuntimeError(f"interpolate: the output size for scale_factor {scale_factor} cannot be converted to "
                           "type int64_t without overflow")
    sizes = [math.floor(n * float(s)) for n, s in zip(spatial, scales)]
    return sizes, [None] * dims if recompute_scale_factor else [float(s) for s in scales]


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize ``(N, C, *spatial)`` (1 to 3 spatial dims) to ``size``, or by ``scale_factor`` (output size
    ``floor(n * scale_factor)``). Modes: ``'nearest'``, ``'nearest-exact'``, and ``'linear'`` (3-D input),
    ``'bilinear'`` (4-D), ``'trilinear'`` (5-D), with ``align_corners`` (default False)."""
    x = tensor_arg(input, "interpolate")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if antialias and not (mode in ("bilinear", "bicubic") and x.ndim == 4):
        raise ValueError("interpolate: Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
                         f"requires a 4-D tensor as input (got mode {mode!r} and a {x.ndim}-D input)")
    if x.ndim not in (3, 4, 5) or mode not in ("nearest", "nearest-exact", *_LINEAR, "bicubic", "area"):
        raise NotImplementedError(f"interpolate: Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{x.ndim}D) for the modes: {_MODES} (got {mode})")
    if mode in ("bicubic", "area") or antialias:
        raise NotImplementedError(f"interpolate: mode={mode!r}{' with antialias' if antialias else ''} is not "
                                  "supported yet; use 'nearest', 'nearest-exact' or (bi/tri)linear")
    if mode in _LINEAR and x.ndim != _LINEAR[mode]:
        raise NotImplementedError(f"interpolate: Got {x.ndim}D input, but {mode} mode needs {_LINEAR[mode]}D input")
    sizes, scales = _sizes(x, size, scale_factor, recompute_scale_factor)
    if min(sizes) <= 0 or 0 in x.shape[2:]:
        raise RuntimeError(f"interpolate: Input and output sizes should be greater than 0, but got input "
                           f"{tuple(x.shape[2:])} output {tuple(sizes)}")
    if x.shape[1] == 0:
        raise RuntimeError(f"interpolate: Non-empty {x.ndim}D data tensor expected but got a tensor with sizes "
                           f"{list(x.shape)}")
    if x.dtype.kind != "f" and not (x.dtype == np.uint8 and mode in ("nearest", "nearest-exact")):
        raise NotImplementedError(f"interpolate: not implemented for '{'Long' if x.dtype == np.int64 else x.dtype}'"
                                  f" inputs (dtype {x.dtype}); convert with .float()")
    half = mode in _LINEAR and x.dtype == np.float16  # (as PyTorch: positions and blends in float32, rounded once)
    x = x.float() if half else x
    dims = list(enumerate(zip(x.shape[2:], sizes, scales), start=2))
    for axis, (n, out, s) in dims[::-1] if mode in _LINEAR else dims:  # (linear: the last dim first, as PyTorch)
        if mode in _LINEAR:
            if out == n:  # (PyTorch copies a dim whose size is kept, whatever the scale)
                continue
            lo, hi, lam = _linear(n, out, s, align_corners, x.dtype)
            a = np.zeros((out, n), x.dtype)
            np.add.at(a, (np.arange(out), lo), 1 - lam)
            np.add.at(a, (np.arange(out), hi), lam)
            x = _Interp.apply(x, (lo, hi, lam, a), axis, False)
        else:
            idx = _nearest(n, out, s, mode == "nearest-exact", shortcuts=mode == "nearest" and x.ndim == 4)
            if out != n or (idx != np.arange(n)).any():
                x = ops.index_select(x, axis, idx)
    return x.half() if half else x
