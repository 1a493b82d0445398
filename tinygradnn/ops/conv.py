"""Convolution and pooling, PyTorch style (NCW / NCHW layouts), vectorised with im2col.

Contents, top to bottom:

* geometry: ``_Geometry`` holds kernel, stride, padding, dilation, groups and the sizes, checked once
  (1-D ops are 2-D ops with a height of 1, so every kernel below works on 4-D arrays);
* array kernels: im2col (one strided view of the windows, one contiguous copy), the matmuls, and the
  adjoint col2im (one slice-add per kernel offset, never a loop over pixels); pooling likewise loops
  over kernel offsets only;
* Functions: ``Conv`` (conv + bias in one node), its two adjoints ``ConvTranspose`` (the input
  gradient; also the transposed convolution) and ``ConvWeight`` (the weight gradient), ``MaxPool`` and
  ``AvgPool``. The three conv Functions are each other's backward, so gradients of any order work;
* the public functions ``conv1d``, ``conv2d``, ``conv_transpose1d``, ``conv_transpose2d``,
  ``max_pool1d``, ``max_pool2d``, ``avg_pool1d``, ``avg_pool2d`` and the adaptive poolings (composed from
  matmul or gather).

Convolution here is cross-correlation, as in PyTorch: for ``groups=1``

    y[n, o, p, q] = b[o] + sum_{c, i, j} w[o, c, i, j] * xpad[n, c, p*sh + i*dh, q*sw + j*dw]

im2col copies every window of the padded input into one column of a matrix: ``cols`` of shape
``(N, C*kh*kw, Ho*Wo)``, and the convolution is the one (batched, BLAS) matrix product
``w.reshape(O, -1) @ cols``, which comes out already in the (N, O, Ho*Wo) layout. With ``groups=1``
the columns are built channels last instead, ``(N*Ho*Wo, kh*kw*C)``, which NumPy copies faster; the
product is then a single gemm whose result is stored (N, Ho, Wo, O) and returned as an (N, O, Ho, Wo)
view (see ``_channels_last``). The arithmetic is the same either way. Stride-1 convolutions with kernels
larger than 3x3 copy kw shifts of the flattened input instead of kh*kw, and the input gradients of big
kernels and of few channels likewise avoid the per-tap gemms (see ``_flat_forward``); those results are
views of (C, N, H, W)-ordered arrays. Depthwise convolutions (one input channel per group) skip the
columns: a sum over the kernel taps of shifted inputs times per-channel weights (see ``_dw_forward``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from .namespaces import ones_vector


# ----------------------------------------------------------------------------- geometry
@dataclass(frozen=True)
class _Geometry:
    """Everything about a sliding window except the data (2-D; 1-D ops use a height of 1).

    ``pad`` is ((top, bottom), (left, right)); ``in_size`` is the unpadded (H, W) and ``out_size``
    the number of window positions (Ho, Wo).
    """

    kernel: tuple
    stride: tuple
    dilation: tuple
    pad: tuple
    in_size: tuple
    out_size: tuple
    groups: int = 1
    one_d: bool = False

    @property
    def padded_size(self):
        (t, b), (left, r) = self.pad
        return self.in_size[0] + t + b, self.in_size[1] + left + r

    @property
    def tiles(self) -> bool:
        """True when the windows tile the input exactly (no overlap, gap or padding): pooling's common case."""
        return (self.stride == self.kernel and self.dilation == (1, 1) and self.pad == ((0, 0), (0, 0))
                and self.in_size == (self.out_size[0] * self.kernel[0], self.out_size[1] * self.kernel[1]))

    @functools.cached_property
    def offsets(self) -> tuple:
        """For each kernel offset (i, j) in row-major order: (i, j, the (rows, cols) slices it reads).

        ``xpad[:, :, rows, cols]`` is the (N, C, Ho, Wo) array of the pixels that kernel element
        (i, j) sees at every output position. Built once per geometry (geometries are cached).
        """
        (kh, kw), (sh, sw), (dh, dw), (ho, wo) = self.kernel, self.stride, self.dilation, self.out_size
        return tuple((i, j, (slice(i * dh, i * dh + (ho - 1) * sh + 1, sh),
                             slice(j * dw, j * dw + (wo - 1) * sw + 1, sw)))
                     for i in range(kh) for j in range(kw))


def _ints(value, n: int, name: str, op: str) -> tuple:
    """``value`` (an int, or a sequence of n ints or of one, as in PyTorch) as a tuple of n ints."""
    if isinstance(value, tuple | list) and len(value) == 1:
        value = value[0]
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return (int(value),) * n
    if isinstance(value, tuple | list) and len(value) == n and all(
            isinstance(v, int | np.integer) and not isinstance(v, bool) for v in value):
        return tuple(int(v) for v in value)
    raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")


def _lift(values: tuple, nd: int, fill) -> tuple:
    """A 1-D parameter as the width part of a 2-D one (height gets ``fill``)."""
    return values if nd == 2 else (fill,) + values


def _out_len(op: str, size: int, lo: int, hi: int, k: int, s: int, d: int, names: str) -> int:
    span = d * (k - 1) + 1
    if size + lo + hi < span:
        raise ValueError(f"{op}: input {names} {size} (padded to {size + lo + hi}) is smaller than the "
                         f"{'dilated ' if d > 1 else ''}kernel size {span}")
    return (size + lo + hi - span) // s + 1


def _memoised(build):
    """Cache a geometry builder: a network calls it with the same arguments at every step."""
    cached = functools.lru_cache(maxsize=1024, typed=True)(build)

    @functools.wraps(build)
    def wrapper(*args):
        if not _hashable(args):  # lists become tuples; anything else unhashable is checked without the cache
            args = tuple(tuple(a) if isinstance(a, list) else a for a in args)
            if not _hashable(args):
                return build(*args)
        return cached(*args)

    return wrapper


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


@_memoised
def _conv_geometry(op, nd, x_shape, w_shape, stride, padding, dilation, groups, in_size=None):
    """Check a convolution's arguments and return its geometry (``in_size`` overrides the input's)."""
    stride = _ints(stride, nd, "stride", op)
    dilation = _ints(dilation, nd, "dilation", op)
    if min(stride) <= 0:
        raise ValueError(f"{op}: stride must be positive, got {stride}")
    if min(dilation) <= 0:
        raise ValueError(f"{op}: dilation must be positive, got {dilation}")
    kernel = tuple(w_shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pad = ((0, 0),) * nd
        elif padding == "same":
            if max(stride) > 1:
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride}), as in PyTorch")
            totals = [d * (k - 1) for k, d in zip(kernel, dilation)]  # PyTorch puts the odd pixel at the end
            pad = tuple((t // 2, t - t // 2) for t in totals)
        else:
            raise ValueError(f"{op}: padding must be an int, a tuple, 'valid' or 'same', got {padding!r}")
    else:
        p = _ints(padding, nd, "padding", op)
        if min(p) < 0:
            raise ValueError(f"{op}: padding must be non-negative, got {p}")
        pad = tuple((v, v) for v in p)
    size = tuple(x_shape[2:]) if in_size is None else in_size
    names = ("length",) if nd == 1 else ("height", "width")
    out = tuple(_out_len(op, n, lo, hi, k, s, d, nm)
                for n, (lo, hi), k, s, d, nm in zip(size, pad, kernel, stride, dilation, names))
    return _Geometry(kernel=_lift(kernel, nd, 1), stride=_lift(stride, nd, 1), dilation=_lift(dilation, nd, 1),
                     pad=_lift(pad, nd, (0, 0)), in_size=_lift(size, nd, 1), out_size=_lift(out, nd, 1),
                     groups=groups, one_d=nd == 1)


# ----------------------------------------------------------------------------- array kernels
def _as4d(a: np.ndarray) -> np.ndarray:
    """A 1-D op's (N, C, L) array (or (O, C, K) weight) as (N, C, 1, L), a view."""
    return a[:, :, None, :] if a.ndim == 3 else a


def _pad(x: np.ndarray, geom: _Geometry, value: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) padded on the four sides by ``geom.pad`` (x itself when there is no padding)."""
    (t, b), (left, r) = geom.pad
    if not (t or b or left or r):
        return x
    n, c, h, w = x.shape
    xp = np.empty((n, c, h + t + b, w + left + r), dtype=x.dtype)
    for border in (xp[:, :, :t], xp[:, :, t + h:], xp[:, :, :, :left], xp[:, :, :, left + w:]):  # (not the interior)
        border[...] = value
    xp[:, :, t:t + h, left:left + w] = x
    return xp


def _crop(xp: np.ndarray, geom: _Geometry) -> np.ndarray:
    """Undo ``_pad``: the (…, H, W) interior of a padded (…, Hp, Wp) array (a view)."""
    (t, _), (left, _) = geom.pad
    h, w = geom.in_size
    return xp[..., t:t + h, left:left + w]


# Two layouts. Channels first (columns (N, C*kh*kw, Ho*Wo), a batched gemm per group) works for any
# groups. Channels last (columns (N*Ho*Wo, kh*kw*C), one gemm) is used whenever groups == 1: its copies
# move runs of kw*C contiguous numbers, and its result comes out as (N, Ho, Wo, O) in memory. That
# result is returned as an (N, O, Ho, Wo) *view* (PyTorch's channels_last memory format): ReLU and
# pooling keep the layout (NumPy's ufuncs follow their input's memory order), so the next
# convolution reads its input without a transpose and backward needs none either.


def _channels_last(geom: _Geometry) -> bool:
    return geom.groups == 1


def _is_channels_last(a: np.ndarray) -> bool:
    """True if the (N, C, H, W) array ``a`` is stored with its channels innermost."""
    return a.shape[1] > 1 and a.strides[1] < a.strides[3]


def _empty_like_layout(shape: tuple, dtype, channels_last: bool) -> np.ndarray:
    """An uninitialised (N, C, ...) array, stored channels last when asked."""
    if not channels_last:
        return np.empty(shape, dtype=dtype)
    last = len(shape) - 1  # stored (N, ..., C), viewed (N, C, ...)
    return np.empty(shape[:1] + shape[2:] + shape[1:2], dtype=dtype).transpose(0, last, *range(1, last))


def _copy_in_layout(a: np.ndarray, channels_last: bool) -> np.ndarray:
    """A copy of the (N, C, H, W) array ``a`` stored channels last (or first)."""
    out = _empty_like_layout(a.shape, a.dtype, channels_last)
    np.copyto(out, a)
    return out


def _windows(xp: np.ndarray, geom: _Geometry, axes: tuple) -> np.ndarray:
    """Every window of the padded xp as a view, the spatial ``axes`` becoming (Ho, Wo) and (kh, kw) last.

    ``sliding_window_view`` gives every dilated window at every position; striding that view by
    ``stride`` (positions) and ``dilation`` (kernel taps) keeps the ones a convolution uses. No copy.
    """
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geom.kernel, geom.stride, geom.dilation, geom.out_size
    win = sliding_window_view(xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=axes)
    index = [slice(None)] * win.ndim
    index[axes[0]], index[axes[1]] = slice(0, (ho - 1) * sh + 1, sh), slice(0, (wo - 1) * sw + 1, sw)
    index[-2:] = slice(None, None, dh), slice(None, None, dw)
    return win[tuple(index)]


def _im2col(x: np.ndarray, geom: _Geometry) -> np.ndarray:
    """Channels-first columns: x (N, C, H, W) -> (N, groups, C/groups*kh*kw, Ho*Wo), one contiguous copy."""
    (kh, kw), (ho, wo), (n, c) = geom.kernel, geom.out_size, x.shape[:2]
    win = _windows(_pad(x, geom), geom, (2, 3))  # (N, C, Ho, Wo, kh, kw), a view
    cols = np.ascontiguousarray(win.transpose(0, 1, 4, 5, 2, 3))  # (N, C, kh, kw, Ho, Wo)
    return cols.reshape(n, geom.groups, c // geom.groups * kh * kw, ho * wo)


def _col2im(cols: np.ndarray, geom: _Geometry) -> np.ndarray:
    """The adjoint of ``_im2col``: add every column entry back onto the pixel it came from -> (N, C, H, W)."""
    (kh, kw), (ho, wo), (n, groups, rows) = geom.kernel, geom.out_size, cols.shape[:3]
    cols = cols.reshape(n, groups * rows // (kh * kw), kh, kw, ho, wo)  # (N, C, kh, kw, Ho, Wo)
    gxp = np.zeros(cols.shape[:2] + geom.padded_size, dtype=cols.dtype)  # (N, C, Hp, Wp)
    for i, j, (rows, cs) in geom.offsets:  # kh*kw strided adds, each over all pixels at once
        gxp[:, :, rows, cs] += cols[:, :, i, j]
    return np.ascontiguousarray(_crop(gxp, geom))


def _im2col_channels_last(x: np.ndarray, geom: _Geometry, ones: bool = False) -> np.ndarray:
    """Channels-last columns: x (N, C, H, W) -> (N*Ho*Wo, kh*kw*C), one row per window in (i, j, c) order;
    with ``ones``, a last column of ones (N*Ho*Wo, kh*kw*C + 1) that the bias multiplies in the gemm."""
    (kh, kw), (ho, wo), (n, c, h, w) = geom.kernel, geom.out_size, x.shape
    (t, b), (left, r) = geom.pad
    xh = x.transpose(0, 2, 3, 1)  # (N, H, W, C): a view, contiguous when x is stored channels last
    if t or b or left or r or not (xh.flags.c_contiguous or c == 1):  # pad, or gather the channels first
        xh, inner = np.zeros((n,) + geom.padded_size + (c,), dtype=x.dtype), xh
        xh[:, t:t + h, left:left + w] = inner
    win = _windows(xh, geom, (1, 2))  # (N, Ho, Wo, C, kh, kw), a view
    k = kh * kw * c
    cols = np.empty((n * ho * wo, k + ones), dtype=x.dtype)
    np.copyto(cols[:, :k].reshape(n, ho, wo, kh, kw, c), win.transpose(0, 1, 2, 4, 5, 3))  # the one copy
    if ones:
        cols[:, k] = 1
    return cols


def _col2im_channels_last(gh: np.ndarray, w: np.ndarray, geom: _Geometry, n: int) -> np.ndarray:
    """Input gradient from gh (N*Ho*Wo, O), channels last: (N, C, H, W), stored channels last.

    For each kernel offset (i, j), the block ``gh @ w[:, :, i, j]`` (N*Ho*Wo, C) goes back onto the
    pixels that offset read: kh*kw small gemms into one buffer (a batched matmul broadcasting gh was
    2-3x slower) and kh*kw slice-adds.
    """
    (o, c, kh, kw), (ho, wo) = w.shape, geom.out_size
    wk = np.ascontiguousarray(w.transpose(2, 3, 0, 1)).reshape(kh * kw, o, c)
    block = np.empty((gh.shape[0], c), dtype=np.result_type(gh, wk))
    gxp = np.zeros((n,) + geom.padded_size + (c,), dtype=block.dtype)  # (N, Hp, Wp, C)
    for wij, (_, _, (rows, cs)) in zip(wk, geom.offsets):
        gxp[:, rows, cs] += np.matmul(gh, wij, out=block).reshape(n, ho, wo, c)
    return _crop(gxp.transpose(0, 3, 1, 2), geom)


def _rows_channels_last(g: np.ndarray) -> np.ndarray:
    """g (N, O, Ho, Wo) -> (N*Ho*Wo, O), contiguous (no copy when g is stored channels last)."""
    return np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1, g.shape[1])


def _conv_forward(x, w, b, geom):
    """y = conv(x, w) + b for x (N, C, H, W), w (O, C/groups, kh, kw): (y, the columns for backward)."""
    (n, o), (ho, wo) = (x.shape[0], w.shape[0]), geom.out_size
    if _depthwise(geom, w.shape):
        return _dw_forward(x, w, b, geom)
    if _flat_ok(geom, x, w):
        y, cols = _flat_forward(x, w, b, geom.pad, geom.dilation, geom.out_size)
        return y, _FlatCols(cols, x)
    if _channels_last(geom):
        # the bias is the weight of a column of ones: adding it over (N*Ho*Wo, O) in a pass of its own, a
        # broadcast over short rows, took longer than the whole gemm for the workloads' small convolutions
        cols = _im2col_channels_last(x, geom, ones=b is not None)
        wm = w.transpose(2, 3, 1, 0).reshape(-1, o)  # (kh*kw*C, O)
        y = cols @ (wm if b is None else np.concatenate((wm, b[None])))  # one gemm: (N*Ho*Wo, O)
        return y.reshape(n, ho, wo, o).transpose(0, 3, 1, 2), cols  # (N, O, Ho, Wo), stored channels last
    cols = _im2col(x, geom)
    y = np.matmul(w.reshape(geom.groups, o // geom.groups, -1), cols)  # (N, G, O/G, Ho*Wo): a gemm per sample
    y = y.reshape(n, o, ho, wo)
    if b is not None:
        y += b.reshape(o, 1, 1)
    return y, cols


# Stride-1 convolutions with groups == 1 and kernels larger than 3x3 ("flat" columns; see ``_flat_ok``). The
# input is zero padded, stored channel major and flattened over (N, Hp, Wp): xf (C, N*Hp*Wp + spare). Computed
# at every padded position (the extra outputs, (kh-1)*dh rows and (kw-1)*dw columns per image, are cut off at
# the end), kernel tap (i, j) reads xf shifted by i*dh*Wp + j*dw: a plain slice. The columns hold the kw column
# shifts only, X (kw*C, rows), and kernel row i reads X shifted by i*dh*Wp. So the copies move kw times the
# input (im2col: kh*kw times, 25x for a 5x5 kernel), and the product is one gemm Z = (kh*O, kw*C) @ X followed
# by kh shifted adds (the channels-last gemm had O = 16 or 32 output columns, OpenBLAS's slow shape). Backward
# is its adjoint (``_flat_backward``). The input gradient alone (a transposed convolution, or the backward of
# a few-channel convolution computed channels last) has its own flat kernel for any stride
# (``_flat_input_grad``): taps grouped by the class of the pixels they reach modulo the stride.
@dataclass(frozen=True)
class _FlatCols:
    """What ``_flat_forward`` saves for backward: the columns X (kw*C, rows) and the input x."""

    cols: np.ndarray
    x: np.ndarray


def _flat_ok(geom: _Geometry, x: np.ndarray, w: np.ndarray, input_grad: bool = False) -> bool:
    """True when the flat kernels compute this convolution: groups 1, float32/float64, and a kernel larger than
    3x3; the forward and weight gradient also need stride 1, the input gradient (``input_grad``) also takes any
    kernel on fewer than 8 input channels.

    (Measured, forward + backward, one thread: a 5x5 kernel on 16 channels 1.4x faster; 3x3 kernels (1, 3 or
    16 channels) 1.1-1.4x slower, the extra padded positions and the small inner dimension costing more than
    the smaller copies save. The channels-last input gradient of few channels is a gemm per tap with C = 1 or
    3 output columns, 3-4x slower than the flat one.)
    """
    if not (geom.groups == 1 and x.dtype == w.dtype and x.dtype in (np.float32, np.float64)):
        return False
    big = geom.kernel[0] * geom.kernel[1] > 9
    return big or w.shape[1] < 8 if input_grad else big and geom.stride == (1, 1)


def _flat_columns(x: np.ndarray, pad: tuple, kernel: tuple, dilation: tuple) -> np.ndarray:
    """x (N, C, H, W) padded by pad ((t, b), (l, r)): columns X (kw*C, N*Hp*Wp + (kh-1)*dh*Wp) with
    ``X[j*C + c, r] = xf[c, r + j*dw]``, xf the padded input flattened channel major."""
    (kh, kw), (dh, dw), ((t, b), (left, r)) = kernel, dilation, pad
    n, c, h, w = x.shape
    hp, wp = h + t + b, w + left + r
    size = n * hp * wp
    rows = size + (kh - 1) * dh * wp
    xf = np.zeros((c, rows + (kw - 1) * dw), dtype=x.dtype)
    xf[:, :size].reshape(c, n, hp, wp)[:, :, t:t + h, left:left + w] = x.transpose(1, 0, 2, 3)
    if kw == 1:
        return xf
    cols = np.empty((kw, c, rows), dtype=x.dtype)
    for j in range(kw):  # kw contiguous copies
        cols[j] = xf[:, j * dw:j * dw + rows]
    return cols.reshape(kw * c, rows)


def _row_groups(w_shape: tuple) -> list:
    """Kernel rows in groups of kw*C // O (at least 1): a group's stacked product (rows*O, positions) is then no
    larger than the columns (kw*C, positions), so few input and many output channels cannot blow up memory."""
    o, c, kh, kw = w_shape
    step = max(1, kw * c // o)
    return [range(i, min(i + step, kh)) for i in range(0, kh, step)]


def _flat_product(cols: np.ndarray, w: np.ndarray, b, grid: tuple, dh: int) -> np.ndarray:
    """sum over kernel rows i of w's row i (O, kw*C) @ the columns shifted by i*dh*Wp, + b: (O, N*Hp*Wp).

    One gemm Z = (rows*O, kw*C) @ columns per group of kernel rows (``_row_groups``: usually all kh) gives their
    products at every position, then one shifted add per kernel row: faster than a gemm of O rows per kernel
    row (O = 16: (80, 80) @ (80, positions) is 1.3-1.4x faster than 5 x (16, 80) @ (80, positions)).
    """
    o, c, kh, kw = w.shape
    wp, size = grid[-1], int(np.prod(grid))
    wz = w.transpose(2, 0, 3, 1).reshape(kh * o, kw * c)  # row block i = kernel row i
    y = None
    for group in _row_groups(w.shape):
        z = wz[group[0] * o:(group[-1] + 1) * o] @ cols  # (len(group)*O, rows)
        for k, i in enumerate(group):
            part = z[k * o:(k + 1) * o, i * dh * wp:i * dh * wp + size]
            y = part.copy() if y is None else np.add(y, part, out=y)
    if b is not None:
        y += b[:, None]
    return y


@np.errstate(invalid="ignore", over="ignore")  # (inf * 0 is NaN silently, as in BLAS and PyTorch)
def _flat_forward(x, w, b, pad, dilation, out_size):
    """Stride-1 conv of x (N, C, H, W) padded by pad with w (O, C, kh, kw), + b: (y (N, O, Ho, Wo), a view of an
    (O, N, Hp, Wp) array, and the columns). (Ho, Wo) = out_size may stop short of the last windows (a transposed
    convolution's geometry with output_padding)."""
    (n, _, h, wd), (o, _, kh, kw), ((t, b_), (left, r)) = x.shape, w.shape, pad
    grid = (n, h + t + b_, wd + left + r)
    cols = _flat_columns(x, pad, (kh, kw), dilation)
    y = _flat_product(cols, w, b, grid, dilation[0]).reshape((o,) + grid)
    ho, wo = out_size
    return y[:, :, :ho, :wo].transpose(1, 0, 2, 3), cols


def _flat_grid(geom: _Geometry) -> tuple:
    """(Hq, Wq): the padded size divided by the stride, rounded up (the padded size itself for stride 1)."""
    (hp, wp), (sh, sw) = geom.padded_size, geom.stride
    return -(-hp // sh), -(-wp // sw)


def _flat_grad_out(g, geom):
    """g (N, O, Ho, Wo) on the (Hq, Wq) grid of ``_flat_grid`` (with stride 1 every padded position), flat like
    the columns: (O, N*Hq*Wq), zero at the extra positions."""
    (n, o, ho, wo), grid = g.shape, _flat_grid(geom)
    gf = np.zeros((o, n) + grid, dtype=g.dtype)
    gf[:, :, :ho, :wo] = g.transpose(1, 0, 2, 3)
    return gf.reshape(o, -1)


def _tap_classes(geom: _Geometry, wq: int) -> dict:
    """The kernel taps grouped by the padded pixels they reach: tap (i, j) of the output position (p, q) reads
    the padded pixel (p*sh + i*dh, q*sw + j*dw). With (a, r) = divmod(i*dh, sh) (and likewise b, s for the
    columns) that pixel is in the class (r, s) of pixels (sh*u + r, sw*v + s), at (u, v) = (p + a, q + b): a shift
    of a*wq + b on a flat (N, Hq, Wq) grid. Returns {(r, s): [(tap index i*kw + j, shift), ...]}."""
    (kh, kw), (sh, sw), (dh, dw) = geom.kernel, geom.stride, geom.dilation
    classes = {}
    for i in range(kh):
        a, r = divmod(i * dh, sh)
        for j in range(kw):
            b, s = divmod(j * dw, sw)
            classes.setdefault((r, s), []).append((i * kw + j, a * wq + b))
    return classes


@np.errstate(invalid="ignore", over="ignore")  # (inf * 0 is NaN silently, as in BLAS and PyTorch)
def _flat_input_grad(gf, w, geom):
    """The input gradient (N, C, H, W) of a groups=1 conv from gf (O, N*Hq*Wq) (``_flat_grad_out``).

    For each class of padded pixels (``_tap_classes``; one class for stride 1), D = the class's tap weights
    (taps*C, O) @ gf in gemms of about 64 rows, and D's rows added back at each tap's shift: contiguous adds on
    a flat (C, N*Hq*Wq) grid, then one strided copy of the class into the padded (C, N, Hp, Wp) result.
    """
    (o, c, kh, kw), ((t, _), (left, _)), (h, wd), (hp, wp) = w.shape, geom.pad, geom.in_size, geom.padded_size
    (sh, sw), (hq, wq), size = geom.stride, _flat_grid(geom), gf.shape[1]
    n = size // (hq * wq)
    wt = w.transpose(2, 3, 1, 0).reshape(kh * kw, c, o)  # (tap, C, O)
    classes = _tap_classes(geom, wq)
    spare = max(shift for taps in classes.values() for _, shift in taps)
    step = max(1, 64 // c)  # taps per gemm: (3 channels: one (27, O) @ gf beats nine (3, O) ones)
    gxp = None if (sh, sw) == (1, 1) else np.zeros((c, n, hp, wp), dtype=gf.dtype)
    for (r, s), taps in classes.items():
        sub = np.zeros((c, size + spare), dtype=gf.dtype)
        for start in range(0, len(taps), step):
            chunk = taps[start:start + step]
            d = wt[[k for k, _ in chunk]].reshape(-1, o) @ gf  # (len(chunk)*C, N*Hq*Wq)
            for m, (_, shift) in enumerate(chunk):
                sub[:, shift:shift + size] += d[m * c:(m + 1) * c]
        sub = sub[:, :size].reshape(c, n, hq, wq)
        if gxp is None:
            gxp = sub
        else:
            gxp[:, :, r::sh, s::sw] = sub[:, :, :len(range(r, hp, sh)), :len(range(s, wp, sw))]
    return gxp[:, :, t:t + h, left:left + wd].transpose(1, 0, 2, 3)


@np.errstate(invalid="ignore", over="ignore")  # (inf * 0 is NaN silently, as in BLAS and PyTorch)
def _flat_backward(g, w, saved, geom, need_x, need_w, need_b):
    """(gx, gw, gb) of ``_flat_forward`` from g (N, O, Ho, Wo) and its saved columns X (kw*C, rows).

    The adjoint of ``_flat_product``: g at every padded position, gf (O, N*Hp*Wp) (zero at the extra ones), is
    stacked shifted by each kernel row's offset, Gs (kh*O, rows) (the adjoint of the shifted adds; by groups of
    kernel rows as in ``_flat_product``); then gw = Gs @ X.T (kh*O, kw*C) and the columns' gradient
    Wz.T @ Gs (kw*C, rows), whose kw row blocks are added back at their column shift. The zeros of gf meet other pixels'
    values (gw) and every weight (gx): where an inf would make them NaN, the channels-last kernels run instead.
    """
    (o, c, kh, kw), (dh, dw), (hp, wp) = w.shape, geom.dilation, geom.padded_size
    gf = _flat_grad_out(g, geom)
    size, rows = gf.shape[1], saved.cols.shape[1]
    ok_x = need_x and np.isfinite(np.add.reduce(w, axis=None))
    ok_w = need_w and np.isfinite(np.add.reduce(saved.x, axis=None))
    gx = gw = None
    wz, gw_rows, dcols = w.transpose(2, 0, 3, 1).reshape(kh * o, kw * c), [], None
    for group in _row_groups(w.shape) if ok_x or ok_w else ():
        gs = np.zeros((len(group), o, rows), dtype=gf.dtype)
        for k, i in enumerate(group):
            gs[k, :, i * dh * wp:i * dh * wp + size] = gf
        gs = gs.reshape(-1, rows)  # (len(group)*O, rows)
        if ok_w:
            gw_rows.append(gs @ saved.cols.T)  # (len(group)*O, kw*C)
        if ok_x:  # X[j*C + c, r] read xf[c, r + j*dw]: the columns' gradient (kw*C, rows)
            d = wz[group[0] * o:(group[-1] + 1) * o].T @ gs
            dcols = d if dcols is None else np.add(dcols, d, out=dcols)
    if ok_w:
        gw = np.concatenate(gw_rows) if len(gw_rows) > 1 else gw_rows[0]
        gw = np.ascontiguousarray(gw.reshape(kh, o, kw, c).transpose(1, 3, 0, 2))
    elif need_w:
        gw = _weight_grad_channels_last(_rows_channels_last(g), _im2col_channels_last(saved.x, geom), w.shape)
    if ok_x:
        (t, _), (left, _), (h, wd) = *geom.pad, geom.in_size
        gxf = np.zeros((c, rows + (kw - 1) * dw), dtype=dcols.dtype)  # xf[c, r + j*dw]
        for j in range(kw):
            gxf[:, j * dw:j * dw + rows] += dcols[j * c:(j + 1) * c]
        gx = gxf[:, :size].reshape(c, -1, hp, wp)[:, :, t:t + h, left:left + wd].transpose(1, 0, 2, 3)
    elif need_x:
        gx = _conv_input_grad(g, w, geom)
    return gx, gw, (np.add.reduce(gf, axis=1) if need_b else None)


# Depthwise convolution (one input channel per group, m = O/C output channels per input channel): the
# per-group matmuls would be kh*kw-long dot products, far too small for BLAS. It is computed directly,
# as kh*kw whole-array passes: y = sum over the kernel taps (i, j) of w[:, :, i, j] times the padded input
# shifted by that tap. The arrays are stored channel major, (C, N*Hp*Wp), so that a channel's weight
# multiplies one long run of numbers. With stride 1 a shifted input is then a plain slice of those runs:
# the output is computed at every padded position (N*Hp*Wp instead of N*Ho*Wo; the extra ones are cut off
# at the end), in passes over long contiguous rows (several times faster than (N, C, Ho, Wo) views).
def _depthwise(geom: _Geometry, w_shape: tuple) -> bool:
    """True for a grouped convolution with one input channel per group (``_dw_forward`` computes it)."""
    return geom.groups > 1 and w_shape[1] == 1


def _dw_pad(a: np.ndarray, geom: _Geometry) -> np.ndarray:
    """a (N, C, H, W) zero padded and stored channel major: (C, N*Hp*Wp + the largest tap offset)."""
    (t, _), (left, _) = geom.pad
    (n, c, h, w), (hp, wp) = a.shape, geom.padded_size
    ap = np.zeros((c, n * hp * wp + _dw_offsets(geom, wp)[-1]), dtype=a.dtype)
    _dw_grid(ap, n, geom)[:, :, t:t + h, left:left + w] = a.transpose(1, 0, 2, 3)
    return ap


def _dw_offsets(geom: _Geometry, wp: int) -> list:
    """The flat offset of each kernel tap (row-major) in padded rows of width wp."""
    (dh, dw) = geom.dilation
    return [i * dh * wp + j * dw for i, j, _ in geom.offsets]


def _dw_grid(ap: np.ndarray, n: int, geom: _Geometry) -> np.ndarray:
    """The (C, N, Hp, Wp) view of a channel-major padded array (C, N*Hp*Wp + spare)."""
    return ap[:, :n * geom.padded_size[0] * geom.padded_size[1]].reshape((ap.shape[0], n) + geom.padded_size)


def _dw_taps(ap: np.ndarray, n: int, geom: _Geometry, flat: bool) -> list:
    """For each kernel tap (row-major), the view of ap (C, N*Hp*Wp + spare) that it reads: with ``flat`` (stride 1)
    a slice (C, N*Hp*Wp), read at every padded position, else (C, N, Ho, Wo)."""
    if flat:
        size = n * geom.padded_size[0] * geom.padded_size[1]
        return [ap[:, off:off + size] for off in _dw_offsets(geom, geom.padded_size[1])]
    grid = _dw_grid(ap, n, geom)
    return [grid[:, :, rows, cols] for _, _, (rows, cols) in geom.offsets]


def _dw_tap_weights(w: np.ndarray, c: int, ndim: int) -> np.ndarray:
    """w (C*m, 1, kh, kw) as (kh*kw, C, m, 1, ...): each tap's weights, to multiply (C, 1, ...) taps of ndim dims."""
    k = w.shape[2] * w.shape[3]
    return w.reshape(c, -1, k).transpose(2, 0, 1).reshape((k, c, -1) + (1,) * (ndim - 1))


def _dw_blocks(a: np.ndarray):
    """Blocks of the channels of a (C, ...) that fit a cache (about 1 MB each), with a scratch array of the
    block's shape: a block's kh*kw passes then read and write cached numbers (twice as fast for 32 channels
    of 32x32 planes)."""
    per_channel = a[:1].nbytes or 1
    step = max(1, (1 << 20) // per_channel)
    tmp = np.empty((min(step, len(a)),) + a.shape[1:], dtype=a.dtype)
    for start in range(0, len(a), step):
        ch = slice(start, start + step)
        yield ch, tmp[:len(a[ch])]


def _dw_result(y: np.ndarray, n: int, geom: _Geometry) -> np.ndarray:
    """A tap-layout array (C, m, N*Hp*Wp) or (C, m, N, Ho, Wo) as the (N, C*m, Ho, Wo) view of its outputs."""
    ho, wo = geom.out_size
    grid = y.reshape((-1, n) + (geom.padded_size if y.ndim == 3 else (ho, wo)))
    return grid[:, :, :ho, :wo].transpose(1, 0, 2, 3)


@np.errstate(invalid="ignore", over="ignore")  # (inf * 0 is NaN silently, as in BLAS and PyTorch)
def _dw_forward(x, w, b, geom):
    """Depthwise y (N, O, Ho, Wo) = sum over taps of the tap's weights times the input it reads, + b; and the
    padded input (for backward)."""
    n, c = x.shape[:2]
    xp = _dw_pad(x, geom)
    taps = _dw_taps(xp, n, geom, geom.stride == (1, 1))
    wt = _dw_tap_weights(w, c, taps[0].ndim)
    y = np.empty((c, wt.shape[2]) + taps[0].shape[1:], dtype=np.result_type(x, w))  # (C, m, ...)
    for ch, tmp in _dw_blocks(y):
        np.multiply(taps[0][ch, None], wt[0][ch], out=y[ch])
        for v, wk in zip(taps[1:], wt[1:]):
            y[ch] += np.multiply(v[ch, None], wk[ch], out=tmp)
    y = _dw_result(y, n, geom)
    if b is None:
        return np.ascontiguousarray(y), xp
    return np.add(y, b.reshape(-1, 1, 1), out=np.empty(y.shape, dtype=y.dtype)), xp  # (stored (N, O, Ho, Wo))


def _dw_grad_out(g, geom, flat):
    """g (N, O, Ho, Wo) in the taps' layout: (C, m, N*Hp*Wp) with ``flat``, zero at the extra positions;
    else (C, m, N, Ho, Wo)."""
    (n, o, ho, wo), c = g.shape, geom.groups
    gq = g.reshape(n, c, o // c, ho, wo).transpose(1, 2, 0, 3, 4)
    if not flat:
        return gq
    out = np.zeros((c, o // c, n) + geom.padded_size, dtype=g.dtype)
    out[..., :ho, :wo] = gq
    return out.reshape(c, o // c, -1)


@np.errstate(invalid="ignore", over="ignore")
def _dw_backward(g, w, xp, geom, need_x, need_w):
    """(gx, gw) of ``_dw_forward`` from g (N, O, Ho, Wo), w and the padded input xp (None where not needed).

    gx: each tap's weights times g, added back onto the pixels that tap read; gw: for each tap, the dot products
    of g and the input that tap read (one batched matmul). Flat taps add the zeros of g at the extra positions
    times w onto real pixels, and multiply them by whatever xp holds there: only where w and xp are finite.
    """
    n, c = g.shape[0], geom.groups
    flat = geom.stride == (1, 1) and all(np.isfinite(np.add.reduce(a, axis=None)) for a in (w, xp) if a is not None)
    gq = _dw_grad_out(g, geom, flat)
    gx = gw = None
    if need_x:
        (t, _), (left, _), (h, wd) = *geom.pad, geom.in_size
        gxp = np.zeros((c, n * geom.padded_size[0] * geom.padded_size[1] + _dw_offsets(geom, geom.padded_size[1])[-1]),
                       dtype=g.dtype)
        taps, wt = _dw_taps(gxp, n, geom, flat), _dw_tap_weights(w, c, gq.ndim - 1)
        for ch, tmp in _dw_blocks(gq):
            for v, wk in zip(taps, wt):
                np.multiply(gq[ch], wk[ch], out=tmp)
                v[ch] += tmp[:, 0] if tmp.shape[1] == 1 else tmp.sum(axis=1)
        gx = np.ascontiguousarray(_dw_grid(gxp, n, geom)[:, :, t:t + h, left:left + wd].transpose(1, 0, 2, 3))
    if need_w:
        rows = gq.reshape(c, gq.shape[1], -1)  # (C, m, positions)
        gw = [np.matmul(rows, v.reshape(c, -1, 1)) for v in _dw_taps(xp, n, geom, flat)]  # (C, m, 1) each
        gw = np.concatenate(gw, axis=-1).reshape((-1, 1) + geom.kernel)
    return gx, gw


def _per_group(g: np.ndarray, groups: int) -> np.ndarray:
    """g (N, O, Ho, Wo) as (N, groups, O/groups, Ho*Wo), the channels-first matmul layout."""
    n, o, ho, wo = g.shape
    return g.reshape(n, groups, o // groups, ho * wo)


def _weight_grad(g, cols, w_shape, groups):
    """gw (O, C/groups, kh, kw) from g (N, O, Ho, Wo) and channels-first columns: one gemm per sample, summed."""
    return np.matmul(_per_group(g, groups), cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w_shape)


def _weight_grad_channels_last(gh, cols, w_shape):
    """gw (O, C, kh, kw) from gh (N*Ho*Wo, O) and channels-last columns (N*Ho*Wo, kh*kw*C), which may end with
    the bias's column of ones (left out here): one gemm."""
    return _weight_from_rows(gh.T @ cols[:, :np.prod(w_shape[1:])], w_shape)


def _weight_from_rows(rows, w_shape):
    """The weight layout (O, C, kh, kw) of a gradient computed as rows (O, kh*kw*C) in channels-last order."""
    o, c, kh, kw = w_shape
    return np.ascontiguousarray(rows.reshape(o, kh, kw, c).transpose(0, 3, 1, 2))


def _conv_backward(g, w, cols, geom, need_x, need_w, need_b):
    """(gx, gw, gb) of ``_conv_forward`` from g (N, O, Ho, Wo) and its saved columns (None where not needed)."""
    gx = gw = gb = None
    if _depthwise(geom, w.shape):
        return *_dw_backward(g, w, cols, geom, need_x, need_w), (g.sum(axis=(0, 2, 3)) if need_b else None)
    if isinstance(cols, _FlatCols):
        return _flat_backward(g, w, cols, geom, need_x, need_w, need_b)
    if _channels_last(geom):
        gh = _rows_channels_last(g)  # (N*Ho*Wo, O)
        gx = _conv_input_grad(g, w, geom, gh) if need_x else None
        if need_w and need_b:  # cols end with the bias's column of ones: one gemm gives both gradients
            full = gh.T @ cols
            gw, gb = _weight_from_rows(full[:, :-1], w.shape), np.ascontiguousarray(full[:, -1])
        else:
            gw = _weight_grad_channels_last(gh, cols, w.shape) if need_w else None
            gb = ones_vector(gh.shape[0], gh.dtype) @ gh if need_b else None  # column sums
        return gx, gw, gb
    if need_x:
        groups, o = geom.groups, w.shape[0]
        w3 = w.reshape(groups, o // groups, -1)
        gx = _col2im(np.matmul(w3.transpose(0, 2, 1), _per_group(g, groups)), geom)
    gw = _weight_grad(g, cols, w.shape, geom.groups) if need_w else None
    gb = g.sum(axis=(0, 2, 3)) if need_b else None
    return gx, gw, gb


def _conv_input_grad(g, w, geom, gh=None):
    """The adjoint of conv in x (the transposed convolution): g (N, O, Ho, Wo) -> (N, C, H, W); ``gh`` is g as
    channels-last rows when the caller has them."""
    if _flat_ok(geom, g, w, input_grad=True) and np.isfinite(np.add.reduce(w, axis=None)):
        return _flat_input_grad(_flat_grad_out(g, geom), w, geom)  # (an inf weight times the zeros there: NaN)
    if _channels_last(geom):
        return _col2im_channels_last(_rows_channels_last(g) if gh is None else gh, w, geom, g.shape[0])
    return _conv_backward(g, w, None, geom, True, False, False)[0]


def _conv_weight_grad(x, g, geom):
    """The adjoint of conv in w: x (N, C, H, W), g (N, O, Ho, Wo) -> (O, C/groups, kh, kw)."""
    w_shape = (g.shape[1], x.shape[1] // geom.groups) + geom.kernel
    if _depthwise(geom, w_shape):
        return _dw_backward(g, None, _dw_pad(x, geom), geom, False, True)[1]
    if _channels_last(geom):
        return _weight_grad_channels_last(_rows_channels_last(g), _im2col_channels_last(x, geom), w_shape)
    return _weight_grad(g, _im2col(x, geom), w_shape, geom.groups)


def _bias_axes(ndim: int) -> tuple:
    return (0,) + tuple(range(2, ndim))


def _kernels(g):
    """The conv and weight-gradient ops for a backward rule: array kernels, or recorded Functions."""
    if isinstance(g, np.ndarray):
        return (lambda x, w, b, geom: Conv.compute(x, w, b, geom)[0]), ConvWeight.compute
    return Conv.apply, ConvWeight.apply


# ----------------------------------------------------------------------------- conv Functions
class Conv(Function):
    """y = conv(x, w) + b (PyTorch's convNd: cross-correlation), bias fused into the same node."""

    @staticmethod
    def compute(x, w, b, geom):
        y, cols = _conv_forward(_as4d(x), _as4d(w), b, geom)
        return _from4d(y, geom), cols

    def forward(ctx, x, w, b, geom):
        y, cols = Conv.compute(x, w, b, geom)
        ctx.saved, ctx.geom = (x, w, cols), geom
        return y

    def backward(ctx, g, F):
        (x, w, cols), geom = ctx.saved, ctx.geom
        nx, nw, nb = ctx.needs_input_grad[:3]
        if isinstance(g, np.ndarray):  # plain backward: reuse the saved columns
            gx, gw, gb = _conv_backward(_as4d(g), _as4d(w), cols, geom, nx, nw, nb)
            return (None if gx is None else gx.reshape(x.shape), None if gw is None else gw.reshape(w.shape),
                    gb, None)
        return (ConvTranspose.apply(g, w, None, geom) if nx else None,
                ConvWeight.apply(x, g, geom) if nw else None,
                F.sum(g, _bias_axes(g.ndim)) if nb else None, None)


class ConvTranspose(Function):
    """x = conv_transpose(g, w) + b: the adjoint of ``Conv`` in its input (and PyTorch's conv_transposeNd)."""

    @staticmethod
    def compute(g, w, b, geom):
        x = _conv_input_grad(_as4d(g), _as4d(w), geom)
        if b is not None:
            x += b.reshape(-1, 1, 1)
        return _from4d(x, geom)

    def forward(ctx, g, w, b, geom):
        ctx.saved, ctx.geom = (g, w), geom
        return ConvTranspose.compute(g, w, b, geom)

    def backward(ctx, gx, F):
        (g, w), geom = ctx.saved, ctx.geom
        ng, nw, nb = ctx.needs_input_grad[:3]
        if isinstance(gx, np.ndarray) and ng and nw:  # conv(gx, w) and the weight gradient share gx's columns
            g4, w4 = _as4d(g), _as4d(w)
            y, cols = _conv_forward(_as4d(gx), w4, None, geom)
            gw = _conv_backward(g4, w4, cols, geom, False, True, False)[1]
            return (_from4d(y, geom), _from4d(gw, geom),
                    F.sum(gx, _bias_axes(gx.ndim)) if nb else None, None)
        conv, weight = _kernels(gx)
        return (conv(gx, w, None, geom) if ng else None,
                weight(gx, g, geom) if nw else None,
                F.sum(gx, _bias_axes(gx.ndim)) if nb else None, None)


class ConvWeight(Function):
    """gw = the adjoint of ``Conv`` in its weight, given the input x and the output gradient g."""

    @staticmethod
    def compute(x, g, geom):
        return _from4d(_conv_weight_grad(_as4d(x), _as4d(g), geom), geom)

    def forward(ctx, x, g, geom):
        ctx.saved, ctx.geom = (x, g), geom
        return ConvWeight.compute(x, g, geom)

    def backward(ctx, gw, F):
        (x, g), geom = ctx.saved, ctx.geom
        nx, ng = ctx.needs_input_grad[:2]
        conv, _ = _kernels(gw)
        transpose = ConvTranspose.compute if isinstance(gw, np.ndarray) else ConvTranspose.apply
        return (transpose(g, gw, None, geom) if nx else None,
                conv(x, gw, None, geom) if ng else None, None)


# ----------------------------------------------------------------------------- pooling kernels
def _maxpool_forward(x, geom, want_choice):
    """Max over each window of x (N, C, H, W) -> (out, choice).

    ``choice`` is the row-major index in the window of the first maximum (PyTorch sends the gradient
    to that one element only; ties are common after a ReLU), or None when not wanted. A NaN counts as
    the maximum (the last NaN of a window wins), as in PyTorch.
    """
    low = np.iinfo(x.dtype).min if x.dtype.kind in "iu" else -np.inf
    views = [v for _, v in _pool_views(_pad(x, geom, low), geom)]
    out = views[0].copy() if len(views) == 1 else np.maximum(views[0], views[1])
    for v in views[2:]:
        np.maximum(out, v, out=out)
    if not want_choice:
        return out, None
    # choice = number of leading offsets that are not the maximum
    not_found = views[0] != out
    if len(views) == 2:
        choice = not_found.view(np.uint8)  # 0 or 1 already, no copy
    else:
        choice = not_found.astype(np.uint8 if len(views) < 256 else np.int32)  # (len(views) must fit too)
        for v in views[1:-1]:
            not_found &= v != out
            choice += not_found
    # with padding, one cheap test: a maximum equal to the fill may have been found in the padding
    if geom.pad != ((0, 0), (0, 0)) and out.size and np.fmin.reduce(out, axis=None) == low:
        _choose_real_cells(choice, views, out, geom)
    # one cheap test (the ufunc's reduce: no Python wrapper): a NaN anywhere makes the maximum NaN
    if x.dtype.kind == "f" and out.size and np.isnan(np.maximum.reduce(out, axis=None)):
        for k, v in enumerate(views):  # a window's NaN is its maximum: the last one wins, as in PyTorch
            np.copyto(choice, k, where=np.isnan(v))
    return out, choice


def _choose_real_cells(choice, views, out, geom):
    """Redo ``choice`` (in place) choosing among real cells only: the first one holding the maximum, as in
    PyTorch, which never picks padding. A window of padding only (possible with dilation) gets PyTorch's
    index, its first tap outside the leading padding; its gradient is then dropped like padding's."""
    (t, _), (left, _) = geom.pad
    (h, w), (hp, wp) = geom.in_size, geom.padded_size
    rows, cols = np.arange(hp)[:, None], np.arange(wp)
    after = (rows >= t) & (cols >= left)  # (Hp, Wp): not in the top or left padding
    real = after & (rows < t + h) & (cols < left + w)
    taps = [(k, rs, cs) for k, (_, _, (rs, cs)) in enumerate(geom.offsets)][::-1]  # last first: the first wins
    for k, rs, cs in taps:
        np.copyto(choice, k, where=after[rs, cs])
    for k, rs, cs in taps:
        np.copyto(choice, k, where=real[rs, cs] & (views[k] == out))


def _pool_views(xp, geom):
    """For each kernel offset k (row-major): k and the (N, C, Ho, Wo) view of the pixels it reads in xp."""
    for i, j, (rows, cs) in geom.offsets:
        yield i * geom.kernel[1] + j, xp[:, :, rows, cs]


def _pool_scatter(values, geom, shape, dtype, channels_last):
    """Zeros of ``shape`` (N, C, H, W) plus, for each kernel offset k, ``values(k)`` (N, C, Ho, Wo) added
    onto the pixels that offset read. ``values(k, out=...)`` may write straight into ``out``."""
    kh, kw = geom.kernel
    if geom.tiles:  # each pixel in exactly one window: write every offset's block once, no zero fill
        ho, wo = geom.out_size
        gx = _empty_like_layout(shape[:2] + (ho, kh, wo, kw), dtype, channels_last)
        for i, j, _ in geom.offsets:
            values(i * kw + j, out=gx[:, :, :, i, :, j])
        return gx.reshape(shape)
    gxp = np.zeros(shape[:2] + geom.padded_size, dtype=dtype)
    for i, j, (rows, cs) in geom.offsets:
        gxp[:, :, rows, cs] += values(i * kw + j)
    return np.ascontiguousarray(_crop(gxp, geom))


def _maxpool_scatter(g, choice, geom, shape):
    """Backward of max pooling: g (N, C, Ho, Wo) goes to the chosen element of each window."""
    channels_last = _is_channels_last(choice)
    if _is_channels_last(g) != channels_last:  # one copy into the input's layout beats kh*kw mixed-layout passes
        g = _copy_in_layout(g, channels_last)
    if np.isfinite(np.add.reduce(g, axis=None)):  # (one cheap test: inf * 0 would give the others NaN)
        return _pool_scatter(lambda k, out=None: np.multiply(g, choice == k, out=out), geom, shape, g.dtype,
                             channels_last)
    return _pool_scatter(lambda k, out=None: _copy_out(np.where(choice == k, g, 0), out), geom, shape, g.dtype,
                         channels_last)


def _copy_out(a: np.ndarray, out):
    """``a``, written into ``out`` if given (the ``out=`` of a ``_pool_scatter`` value function)."""
    if out is None:
        return a
    np.copyto(out, a)
    return out


def _maxpool_gather(gx, choice, geom):
    """The adjoint of ``_maxpool_scatter``: the chosen element of each window of gx."""
    out = None
    for k, v in _pool_views(_pad(gx, geom), geom):
        term = np.where(choice == k, v, 0)  # (not v * (choice == k): inf * 0 is NaN)
        out = term if out is None else out + term
    return out


def _avgpool_forward(x, geom, divisor):
    """Mean over each window of x (N, C, H, W): the sum of the kh*kw offset views, divided."""
    views = [v for _, v in _pool_views(_pad(x, geom), geom)]
    out = views[0] + views[1] if len(views) > 1 else views[0].copy()
    for v in views[2:]:
        out += v
    out /= divisor
    return out


def _avgpool_scatter(g, geom, divisor, shape):
    """Backward of average pooling: each window's gradient spread evenly (g / divisor) over it."""
    return _pool_scatter(lambda k, out=None: np.divide(g, divisor, out=out), geom, shape, g.dtype,
                         _is_channels_last(g))


def _avg_divisor(geom, p, count_include_pad, divisor_override, dtype):
    """The number each window sum is divided by: a scalar, or an (Ho, Wo) array where windows differ."""
    if divisor_override is not None:
        return dtype.type(divisor_override)
    counts = []
    for size, pad_lo, k, s, n in zip(geom.in_size, p, geom.kernel, geom.stride, geom.out_size):
        start = np.arange(n) * s - pad_lo
        end = np.minimum(start + k, size + pad_lo)  # ceil_mode windows stop at the padded edge
        counts.append(end - start if count_include_pad else np.minimum(end, size) - np.maximum(start, 0))
    div = np.multiply.outer(counts[0], counts[1]).astype(dtype)
    return div.flat[0] if (div == div.flat[0]).all() else div


# ----------------------------------------------------------------------------- pooling Functions
def _from4d(y: np.ndarray, geom: _Geometry) -> np.ndarray:
    """Undo ``_as4d`` on a result: (N, C, 1, L) -> (N, C, L) for 1-D ops."""
    return y[:, :, 0] if geom.one_d else y


def _maxpool_grad(g, choice, geom, shape):
    """Max pooling's input gradient in the caller's layout (1-D or 2-D)."""
    shape4 = shape[:2] + (1,) + shape[2:] if len(shape) == 3 else shape
    return _maxpool_scatter(_as4d(g), choice, geom, shape4).reshape(shape)


class MaxPool(Function):
    """Max over sliding windows; the gradient goes to the first maximum of each window (to its last NaN if any)."""

    def forward(ctx, x, geom, want_choice):
        out, choice = _maxpool_forward(_as4d(x), geom, want_choice)
        ctx.saved, ctx.geom, ctx.shape = (choice,), geom, x.shape  # not out: relu_(out) stays allowed
        return _from4d(out, geom)

    def backward(ctx, g, F):
        (choice,) = ctx.saved
        if isinstance(g, np.ndarray):
            return _maxpool_grad(g, choice, ctx.geom, ctx.shape), None, None
        choice = choice._data if isinstance(choice, Tensor) else choice
        return _MaxPoolRoute.apply(g, choice, ctx.geom, ctx.shape, True), None, None


class ReLUMaxPool(MaxPool):
    """``max_pool(relu(x))`` for pooling without padding, computed as ``relu(max_pool(x))``: ReLU is monotone,
    so it commutes with the max and runs on the pooled elements only. The gradient is max pooling's, except
    that a window whose maximum is not positive (ReLU's gradient there is 0) gets none: its choice is set to
    ``len(geom.offsets)``, which names no element."""

    def forward(ctx, x, geom, want_choice):
        out, choice = _maxpool_forward(_as4d(x), geom, want_choice)
        if want_choice:  # (arithmetic: np.copyto(..., where=) is far slower on these strided arrays)
            dead = out <= 0  # (not NaN: ReLU passes a NaN's gradient, as PyTorch)
            np.maximum(choice, dead.astype(choice.dtype) * len(geom.offsets), out=choice)
        ctx.saved, ctx.geom, ctx.shape = (choice,), geom, x.shape
        return _from4d(np.maximum(out, 0, out=out), geom)


class _MaxPoolRoute(Function):
    """Max pooling's backward as a recorded op (for double backward).

    With ``scatter`` it sends each window's gradient to the chosen element (a linear map of g); without,
    it is the adjoint of that map: it picks the chosen element of each window. Each is the other's backward.
    """

    def forward(ctx, a, choice, geom, shape, scatter):
        ctx.args = (choice, geom, shape, scatter)
        return _maxpool_grad(a, choice, geom, shape) if scatter else _from4d(_maxpool_gather(_as4d(a), choice, geom),
                                                                             geom)

    def backward(ctx, g, F):
        choice, geom, shape, scatter = ctx.args
        if not isinstance(g, np.ndarray):
            return _MaxPoolRoute.apply(g, choice, geom, shape, not scatter), None, None, None, None
        if scatter:
            return _from4d(_maxpool_gather(_as4d(g), choice, geom), geom), None, None, None, None
        return _maxpool_grad(g, choice, geom, shape), None, None, None, None


class AvgPool(Function):
    """Mean over sliding windows (sum divided by ``divisor``: a number or an (Ho, Wo) array)."""

    def forward(ctx, x, geom, divisor):
        ctx.args = (geom, divisor, x.shape)
        if x.dtype == np.float16:  # summed in float32, as PyTorch (the window sum may overflow float16)
            return _from4d(_avgpool_forward(_as4d(x.astype(np.float32)), geom, divisor).astype(np.float16), geom)
        return _from4d(_avgpool_forward(_as4d(x), geom, divisor), geom)

    def backward(ctx, g, F):
        geom, divisor, shape = ctx.args
        if isinstance(g, np.ndarray):
            return _AvgPoolScatter.compute(g, geom, divisor, shape), None, None
        return _AvgPoolScatter.apply(g, geom, divisor, shape), None, None


class _AvgPoolScatter(Function):
    """Average pooling's backward as a recorded op (for double backward); its adjoint is AvgPool."""

    @staticmethod
    def compute(g, geom, divisor, shape):
        shape4 = shape[:2] + (1,) + shape[2:] if len(shape) == 3 else shape
        return _avgpool_scatter(_as4d(g), geom, divisor, shape4).reshape(shape)

    def forward(ctx, g, geom, divisor, shape):
        ctx.args = (geom, divisor)
        return _AvgPoolScatter.compute(g, geom, divisor, shape)

    def backward(ctx, gg, F):
        geom, divisor = ctx.args
        if isinstance(gg, np.ndarray):
            return _from4d(_avgpool_forward(_as4d(gg), geom, divisor), geom), None, None, None
        return AvgPool.apply(gg, geom, divisor), None, None, None


# ----------------------------------------------------------------------------- argument checks
_SPATIAL = {1: "L", 2: "H, W"}


def _tensor(x, op: str, name: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")


def _batched(x: Tensor, nd: int, op: str):
    """x as a batched (N, C, *spatial) tensor, and whether it was unbatched (C, *spatial)."""
    if x.ndim == nd + 1:
        return x.reshape((1,) + x.shape), True
    if x.ndim != nd + 2:
        raise ValueError(f"{op}: expected a {nd + 2}-D input (N, C, {_SPATIAL[nd]}) or an unbatched "
                         f"{nd + 1}-D input (C, {_SPATIAL[nd]}), got shape {x.shape}")
    return x, False


def _check_float(op: str, *tensors) -> None:
    dtypes = [t.dtype for t in tensors if t is not None]
    if any(np.dtype(d).kind != "f" for d in dtypes):
        raise TypeError(f"{op}: expected floating point tensors, got dtypes {[str(np.dtype(d)) for d in dtypes]}; "
                        "convert with .float()")
    if len(set(map(np.dtype, dtypes))) > 1:
        raise TypeError(f"{op}: input, weight and bias must have the same dtype, got "
                        f"{[str(np.dtype(d)) for d in dtypes]}; convert with .float() or .double()")


def _conv_inputs(op, nd, x, weight, bias, groups, transposed):
    """Check and batch the arguments of a (transposed) convolution: (x, w, b, unbatched)."""
    x, w = _tensor(x, op, "input"), _tensor(weight, op, "weight")
    b = None if bias is None else _tensor(bias, op, "bias")
    x, unbatched = _batched(x, nd, op)
    kernel = "kL" if nd == 1 else "kH, kW"
    layout = f"(C_in, C_out/groups, {kernel})" if transposed else f"(C_out, C_in/groups, {kernel})"
    if w.ndim != nd + 2 or w.shape[0] == 0 or (transposed and w.shape[1] == 0):  # PyTorch allows C_in = 0
        raise ValueError(f"{op}: expected a {nd + 2}-D weight {layout} with at least one channel in and out, "
                         f"got shape {w.shape}")
    if not isinstance(groups, int | np.integer) or isinstance(groups, bool) or groups <= 0:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    in_ch, out_ch = (w.shape[0], w.shape[1] * groups) if transposed else (w.shape[1] * groups, w.shape[0])
    if x.shape[1] != in_ch:
        raise ValueError(f"{op}: input of shape {x.shape} has {x.shape[1]} channels, but weight of shape "
                         f"{w.shape} {layout} with groups={groups} expects {in_ch}")
    if in_ch % groups or out_ch % groups:
        raise ValueError(f"{op}: in_channels ({in_ch}) and out_channels ({out_ch}) must both be divisible by "
                         f"groups ({groups})")
    if b is not None and b.shape != (out_ch,):
        raise ValueError(f"{op}: bias of shape {b.shape} should have shape ({out_ch},), one per output channel")
    _check_float(op, x, w, b)
    return x, w, b, unbatched


def _conv(op, nd, x, weight, bias, stride, padding, dilation, groups):
    try:
        x, w, b, unbatched = _conv_inputs(op, nd, x, weight, bias, groups, transposed=False)
    except ValueError:  # a stride/padding/dilation of the wrong length may be why: that is the clearer message
        for name, value in (("stride", stride), ("dilation", dilation), ("padding", padding)):
            if not isinstance(value, int | str):
                _ints(value, nd, name, op)
        raise
    geom = _conv_geometry(op, nd, x.shape, w.shape, stride, padding, dilation, int(groups))
    if w.shape[1] == 0:
        y = _NoInputChannels.apply(x, w, b, x.shape[:2] + geom.out_size[2 - nd:])
    else:
        y = Conv.apply(x, w, b, geom)
    return y.reshape(y.shape[1:]) if unbatched else y


class _NoInputChannels(Function):
    """A convolution of zero input channels: PyTorch gives an empty (N, 0, *out) result; zero gradients."""

    def forward(ctx, x, w, b, shape):
        ctx.shapes = (x.shape, w.shape, None if b is None else b.shape[0])
        return np.zeros(shape, dtype=x.dtype)

    def backward(ctx, g, F):
        x_shape, w_shape, n_bias = ctx.shapes
        empty = F.reshape(g, (0,))
        return (F.reshape(empty, x_shape), F.reshape(empty, w_shape),
                None if n_bias is None else F.pad(empty, ((0, n_bias),)), None)


def _conv_transpose(op, nd, x, weight, bias, stride, padding, output_padding, groups, dilation):
    x, w, b, unbatched = _conv_inputs(op, nd, x, weight, bias, groups, transposed=True)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple of ints, got {padding!r}")
    s, p = _ints(stride, nd, "stride", op), _ints(padding, nd, "padding", op)
    d, op_ = _ints(dilation, nd, "dilation", op), _ints(output_padding, nd, "output_padding", op)
    if min(s) <= 0 or min(d) <= 0 or min(p) < 0 or min(op_) < 0:
        raise ValueError(f"{op}: stride and dilation must be positive and padding and output_padding "
                         f"non-negative, got stride={s}, dilation={d}, padding={p}, output_padding={op_}")
    if any(o >= max(si, di) for o, si, di in zip(op_, s, d)):
        raise ValueError(f"{op}: output_padding {op_} must be smaller than either stride {s} or dilation {d}")
    out = tuple((n - 1) * si - 2 * pi + di * (k - 1) + oi + 1
                for n, si, pi, di, k, oi in zip(x.shape[2:], s, p, d, w.shape[2:], op_))
    if min(out) < 0:
        raise ValueError(f"{op}: input of shape {x.shape} with kernel {w.shape[2:]}, stride {s}, padding {p} "
                         f"gives a negative output size {out}")
    # the geometry of the convolution that this one transposes: it maps `out`-sized inputs to x's size (an
    # output size of 0 is computed as 1 and cut to 0 below: PyTorch returns an empty result)
    geom = _conv_geometry(op, nd, None, (w.shape[1] * groups, w.shape[0]) + w.shape[2:], s, p, d, int(groups),
                          tuple(max(n, 1) for n in out))
    geom = replace(geom, out_size=_lift(tuple(x.shape[2:]), nd, 1))  # differs when output_padding >= stride
    y = ConvTranspose.apply(x, w, b, geom)
    if 0 in out:
        y = y[(Ellipsis,) + tuple(slice(0, n) for n in out)]
    return y.reshape(y.shape[1:]) if unbatched else y


@_memoised
def _pool_geometry(op, nd, x_shape, kernel_size, stride, padding, dilation, ceil_mode):
    k = _ints(kernel_size, nd, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, tuple | list) and not stride) else _ints(stride, nd, "stride", op)
    p, d = _ints(padding, nd, "padding", op), _ints(dilation, nd, "dilation", op)
    if min(k) <= 0 or min(s) <= 0 or min(d) <= 0:
        raise ValueError(f"{op}: kernel_size, stride and dilation must be positive, got kernel_size={k}, "
                         f"stride={s}, dilation={d}")
    if min(p) < 0 or any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{op}: padding {p} must be non-negative and at most half of the kernel size {k}")
    size, out, pad = x_shape[2:], [], []
    for n, ki, si, pi, di in zip(size, k, s, p, d):
        span = di * (ki - 1) + 1
        o = (n + 2 * pi - span + (si - 1 if ceil_mode else 0)) // si + 1
        if ceil_mode and (o - 1) * si >= n + pi:  # the last window must start inside the input or left padding
            o -= 1
        if o <= 0:
            raise ValueError(f"{op}: input of shape {tuple(x_shape)} is too small for kernel_size {k} with "
                             f"padding {p} and dilation {d} (output size would be {o})")
        out.append(o)
        pad.append((pi, pi + max(0, (o - 1) * si + span - n - 2 * pi)))  # ceil_mode needs extra at the end
    return _Geometry(kernel=_lift(k, nd, 1), stride=_lift(s, nd, 1), dilation=_lift(d, nd, 1),
                     pad=_lift(tuple(pad), nd, (0, 0)), in_size=_lift(tuple(size), nd, 1),
                     out_size=_lift(tuple(out), nd, 1), one_d=nd == 1), _lift(p, nd, 0)


def _pool_input(op, nd, x, integers=False):
    """x batched; a floating point dtype (or an integer one where ``integers``, as PyTorch's max pooling)."""
    x, unbatched = _batched(_tensor(x, op, "input"), nd, op)
    kind = np.dtype(x.dtype).kind
    if kind != "f" and not (integers and kind in "iu"):
        hint = " (or integers with return_indices=True, as PyTorch)" if op == "max_pool1d" and kind in "iu" else ""
        raise TypeError(f"{op}: expected a floating point input{hint}, got dtype {x.dtype}; convert with .float()")
    return x, unbatched


def _max_pool(op, nd, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, relu=False):
    """``max_pool{nd}d``; with ``relu`` (and no ``return_indices``) ``max_pool{nd}d(relu(x))`` (nn.Sequential)."""
    # PyTorch max-pools integers in 2-D, but in 1-D only with return_indices
    x, unbatched = _pool_input(op, nd, x, integers=nd == 2 or return_indices)
    geom, _ = _pool_geometry(op, nd, x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    node = MaxPool
    if relu:  # a window of padding only would pool the fill, not relu's 0: with padding, ReLU runs first
        if geom.pad == ((0, 0), (0, 0)):
            node = ReLUMaxPool
        else:
            x = x.relu()
    out = node.apply(x, geom, return_indices or (x.requires_grad and is_grad_enabled()))
    if return_indices:
        if out._ctx is not None:
            choice = out._ctx.saved[0]
        else:  # no graph was recorded: find the maxima again
            choice = _maxpool_forward(_as4d(x._data), geom, True)[1]
        indices = Tensor._wrap(_flat_indices(choice, geom))
    if unbatched:
        out = out.reshape(out.shape[1:])
        indices = indices.reshape(indices.shape[1:]) if return_indices else None
    return (out, indices) if return_indices else out


def _flat_indices(choice, geom):
    """PyTorch's max-pool indices: the position of each chosen element in the flattened (unpadded) H*W."""
    kw = geom.kernel[1]
    (sh, sw), (dh, dw), ((t, _), (left, _)), (ho, wo) = geom.stride, geom.dilation, geom.pad, geom.out_size
    i, j = np.divmod(choice.astype(np.int64), kw)
    rows = np.arange(ho).reshape(-1, 1) * sh - t + i * dh
    cols = np.arange(wo) * sw - left + j * dw
    idx = rows * geom.in_size[1] + cols
    return _from4d(idx, geom)


def _avg_pool(op, nd, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x, unbatched = _pool_input(op, nd, x)
    geom, p = _pool_geometry(op, nd, x.shape, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and (not isinstance(divisor_override, int | np.integer) or divisor_override <= 0):
        raise ValueError(f"{op}: divisor_override must be a positive int, got {divisor_override!r}")
    divisor = _avg_divisor(geom, p, count_include_pad, divisor_override, np.dtype(x.dtype))
    out = AvgPool.apply(x, geom, divisor)
    return out.reshape(out.shape[1:]) if unbatched else out


def _adaptive_bins(size: int, out: int, dtype) -> np.ndarray:
    """The (out, size) matrix that averages PyTorch's adaptive bins: row i is the mean over
    ``[floor(i * size / out), ceil((i + 1) * size / out))``."""
    m = np.zeros((out, size), dtype)
    for i in range(out):
        lo, hi = i * size // out, -(-(i + 1) * size // out)
        m[i, lo:hi] = 1.0 / (hi - lo)
    return m


def _adaptive_input(op, nd, input, output_size):
    """Check an adaptive pooling's arguments: (x batched as (N, C, H, W), the (oH, oW) size, unbatched);
    a 1-D input gets a height of 1 (and output height 1)."""
    x, unbatched = _pool_input(op, nd, input)
    if 0 in x.shape[2:]:
        raise ValueError(f"{op}: expected an input with non-zero {'length' if nd == 1 else 'height and width'} "
                         f"(non-zero size), got shape {tuple(x.shape)}")
    if nd == 1:
        size = output_size if isinstance(output_size, tuple | list) else (output_size,)
        if len(size) != 1 or not isinstance(size[0], int | np.integer) or isinstance(size[0], bool):
            raise TypeError(f"{op}: output_size should contain one int, got {output_size!r}")
        x, size = x.unsqueeze(2), (1, int(size[0]))
    else:
        size = output_size if isinstance(output_size, tuple | list) else (output_size, output_size)
        ok = all(s is None or (isinstance(s, int | np.integer) and not isinstance(s, bool)) for s in size)
        if output_size is None or len(size) != 2 or not ok:
            raise TypeError(f"{op}: output_size must be an int or a tuple of 2 ints (or None), got {output_size!r}")
        size = tuple(x.shape[2 + i] if s is None else int(s) for i, s in enumerate(size))
    if min(size) < 0:
        raise RuntimeError(f"{op}: output_size must be non-negative, got {size if nd == 2 else size[1]}")
    return x, size, unbatched


def _unbatch(y: Tensor, nd: int, unbatched: bool) -> Tensor:
    """Undo ``_adaptive_input``'s reshapes: drop the height of 1 of a 1-D op and the batch of an unbatched input."""
    drop = {0} if unbatched else set()
    if nd == 1:
        drop.add(2)
    return y.reshape(tuple(n for i, n in enumerate(y.shape) if i not in drop)) if drop else y


def _adaptive_avg_pool(op, nd, input, output_size) -> Tensor:
    """The bins are separable, so the result is ``Ph @ x @ Pw.T`` with two constant averaging matrices
    (forward and backward are matmuls); output size 1 is a plain mean. float16 is computed in float32."""
    x, size, unbatched = _adaptive_input(op, nd, input, output_size)
    half = x.dtype == np.float16  # as PyTorch, float16 sums in float32 and rounds once
    work = x.float() if half else x
    if size == (1, 1):
        out = work.mean(dim=(2, 3), keepdim=True)
    elif not np.isfinite(work._data).all():  # (a zero weight times inf is NaN: sum each bin's own cells)
        out = _bin_means(_bin_means(work, 2, size[0]), 3, size[1])
    else:
        dtype = work.dtype
        rows, cols = _adaptive_bins(x.shape[2], size[0], dtype), _adaptive_bins(x.shape[3], size[1], dtype).T
        out = (Tensor(rows) @ work) @ Tensor(np.ascontiguousarray(cols))
    out = out.half() if half else out
    return _unbatch(out, nd, unbatched)


def _bin_means(x: Tensor, axis: int, out: int) -> Tensor:
    """The mean of each adaptive bin along ``axis``, summing only the bin's own cells (the padding masked out)."""
    n, tail = x.shape[axis], (1,) * (x.ndim - 1 - axis)
    cells = _bin_cells(n, out)
    count = -(-(np.arange(out) + 1) * n // out) - np.arange(out) * n // out
    valid = np.arange(cells.shape[1]) < count[:, None]
    picked = x.index_select(axis, Tensor._wrap(cells.ravel()))
    picked = picked.reshape(x.shape[:axis] + cells.shape + x.shape[axis + 1:])
    total = picked.where(Tensor._wrap(valid.reshape(cells.shape + tail)), 0.0).sum(axis + 1)
    return total / Tensor._wrap(count.astype(x.dtype).reshape((out,) + tail))


def _bin_cells(size: int, out: int) -> np.ndarray:
    """(out, k) indices of the cells of each adaptive bin, the shorter bins padded by repeating their last cell
    (a repeat changes neither the maximum nor which cell is its first or last occurrence)."""
    lo = np.arange(out) * size // out
    hi = -(-(np.arange(out) + 1) * size // out)
    k = int((hi - lo).max()) if out else 1
    return np.minimum(lo[:, None] + np.arange(k), hi[:, None] - 1)


def _adaptive_max_indices(x: np.ndarray, size: tuple) -> np.ndarray:
    """(N, C, oH, oW) positions in the flattened H*W plane of each bin's maximum: its first maximum, or its
    last NaN if it holds one (PyTorch's choice)."""
    n, c, h, w = x.shape
    rows, cols = _bin_cells(h, size[0]), _bin_cells(w, size[1])
    (oh, kh), (ow, kw) = rows.shape, cols.shape
    win = x[:, :, rows[:, :, None, None], cols[None, None]]  # (N, C, oH, kH, oW, kW)
    win = win.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw)
    choice = np.argmax(win, axis=-1)
    nan = np.isnan(win)
    if nan.any():
        last_nan = kh * kw - 1 - np.argmax(nan[..., ::-1], axis=-1)
        choice = np.where(nan.any(axis=-1), last_nan, choice)
    i, j = np.divmod(choice, kw)
    return rows[np.arange(oh)[:, None], i] * w + cols[np.arange(ow), j]


def _adaptive_max_pool(op, nd, input, output_size, return_indices):
    """The maxima are found in NumPy, then gathered: the gather's backward (a scatter-add) sends each
    maximum's gradient once per bin it wins, and its own backward is a gather again."""
    x, size, unbatched = _adaptive_input(op, nd, input, output_size)
    n, c, h, w = x.shape
    idx = _adaptive_max_indices(x._data, size).astype(np.int64)
    flat = idx.reshape(n, c, size[0] * size[1])
    out = x.reshape(n, c, h * w).gather(2, Tensor._wrap(flat)).reshape(n, c, *size)
    out = _unbatch(out, nd, unbatched)
    return (out, _unbatch(Tensor._wrap(idx), nd, unbatched)) if return_indices else out


def adaptive_avg_pool1d(input, output_size) -> Tensor:
    """Mean over adaptive bins as ``torch.nn.functional.adaptive_avg_pool1d``: (N, C, L) or (C, L) -> (..., oL);
    bin i covers ``[floor(i * L / oL), ceil((i + 1) * L / oL))``."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Mean over adaptive bins as ``torch.nn.functional.adaptive_avg_pool2d``: (N, C, H, W) or (C, H, W) ->
    (..., oH, oW); ``output_size`` an int or an (oH, oW) pair, ``None`` keeping that input size."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over adaptive bins as ``torch.nn.functional.adaptive_max_pool1d``: (N, C, L) or (C, L) -> (..., oL);
    with ``return_indices`` also each maximum's position in L (int64)."""
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over adaptive bins as ``torch.nn.functional.adaptive_max_pool2d``: (N, C, H, W) or (C, H, W) ->
    (..., oH, oW) (``None`` keeps that input size); with ``return_indices`` also each maximum's position in the
    flattened H*W plane (int64). The gradient goes to each bin's first maximum, as in PyTorch."""
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size, return_indices)


# ----------------------------------------------------------------------------- public functions
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """1-D convolution (cross-correlation) as ``torch.nn.functional.conv1d``.

    input (N, C_in, L) or (C_in, L); weight (C_out, C_in/groups, kL); bias (C_out,) or None;
    padding an int, a 1-tuple, 'valid' or 'same'. Returns (N, C_out, L_out) with
    ``L_out = (L + 2*padding - dilation*(kL-1) - 1) // stride + 1``.
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution (cross-correlation) as ``torch.nn.functional.conv2d``.

    input (N, C_in, H, W) or (C_in, H, W); weight (C_out, C_in/groups, kH, kW); bias (C_out,) or None;
    stride, padding, dilation an int or (h, w) pair (padding also 'valid' or 'same').
    Returns (N, C_out, H_out, W_out), ``H_out = (H + 2*pad_h - dil_h*(kH-1) - 1) // stride_h + 1``.

    Examples:
        >>> conv2d(tg.randn(8, 3, 32, 32), tg.randn(16, 3, 3, 3), padding=1).shape
        (8, 16, 32, 32)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """1-D transposed convolution as ``torch.nn.functional.conv_transpose1d`` (the gradient of conv1d in x).

    input (N, C_in, L); weight (C_in, C_out/groups, kL). Returns (N, C_out, L_out) with
    ``L_out = (L-1)*stride - 2*padding + dilation*(kL-1) + output_padding + 1``.
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1) -> Tensor:
    """2-D transposed convolution as ``torch.nn.functional.conv_transpose2d`` (the gradient of conv2d in x).

    input (N, C_in, H, W); weight (C_in, C_out/groups, kH, kW). Returns (N, C_out, H_out, W_out) with
    ``H_out = (H-1)*stride - 2*padding + dilation*(kH-1) + output_padding + 1``.
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of length ``kernel_size`` (stride defaults to the kernel size), padding with -inf.

    input (N, C, L) or (C, L) -> (N, C, L_out). The gradient goes to the first maximum of each window,
    as in PyTorch. With ``return_indices`` also returns each maximum's position in L (int64).
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over kH x kW windows as ``torch.nn.functional.max_pool2d`` (stride defaults to the kernel size).

    input (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out). The gradient goes to the first maximum
    (row-major) of each window, as in PyTorch. With ``return_indices`` also returns each maximum's
    position in the flattened H*W plane (int64).
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True) -> Tensor:
    """Mean over windows of length ``kernel_size`` as ``torch.nn.functional.avg_pool1d``.

    input (N, C, L) or (C, L) -> (N, C, L_out). Zero padding counts in the mean unless
    ``count_include_pad=False``.
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None) -> Tensor:
    """Mean over kH x kW windows as ``torch.nn.functional.avg_pool2d``.

    input (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out). Zero padding counts in the mean unless
    ``count_include_pad=False``; ``divisor_override`` replaces the window size as the divisor.
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
           "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
           "adaptive_max_pool2d"]
