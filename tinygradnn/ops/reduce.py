"""Reductions: sum, mean, var, std, max/min, prod, logsumexp, softmax, log_softmax, argmax.

``dim`` is an int, a tuple of ints or None (all dims); negative dims count from the end;
``keepdim`` keeps reduced dims as size 1, as in PyTorch.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..autograd.function import Function
from ..tensor import MaxMin, Tensor
from .elementwise import _floating
from .namespaces import in_rows, ones_vector


def normalize_dims(dim, ndim: int, op: str) -> tuple[int, ...]:
    """``dim`` as a sorted tuple of non-negative axes; a clear IndexError when out of range."""
    if dim is None:
        return tuple(range(ndim))
    if type(dim) is int and -ndim <= dim < ndim:  # the common case: one valid dim
        return (dim % ndim,)
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim) if isinstance(dim, tuple | list) else None
    if dims is None or not builtins.all(isinstance(d, int | np.integer) and not isinstance(d, bool | np.bool_)
                                        for d in dims):
        raise TypeError(f"{op}: dim must be an int, a tuple of ints or None, got {dim!r}")
    lo, hi = -builtins.max(ndim, 1), builtins.max(ndim, 1) - 1
    out = []
    for d in dims:
        if not lo <= d <= hi:
            raise IndexError(f"{op}: dimension out of range (expected to be in range of [{lo}, {hi}], "
                             f"but got {d}) for a {ndim}-d tensor")
        out.append(d % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim} names a dimension twice")
    return tuple(sorted(out)) if ndim else ()  # a 0-d tensor has no axes (dim 0 and -1 mean the element)


def one_dim(dim, ndim: int, op: str):
    """``dim`` as one non-negative axis, or None for a 0-d tensor (where dim 0 and -1 mean the element)."""
    if not isinstance(dim, int | np.integer) or isinstance(dim, bool | np.bool_):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    axes = normalize_dims(dim, ndim, op)
    return axes[0] if axes else None


def reduce_dims(dim, ndim: int, op: str) -> tuple[int, ...]:
    """The axes a reduction runs over: :func:`normalize_dims`, except that an empty ``dim`` (``()`` or
    ``[]``) means every dim, as in PyTorch's sum, mean, amax, var, ... (``all``/``any`` reduce nothing)."""
    if isinstance(dim, tuple | list) and not dim:
        dim = None
    return normalize_dims(dim, ndim, op)


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand_back(g, F, shape, axes):
    """Broadcast a reduced gradient back over the reduced axes."""
    return F.broadcast_to(F.reshape(g, _kept_shape(shape, axes)), shape)


class Sum(Function):
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        if x.dtype == np.float16:  # accumulated in float32, as PyTorch (along a strided dim float16 stalls at 256)
            return np.sum(x, axis=axes, keepdims=keepdim, dtype=np.float32).astype(np.float16)
        return np.sum(x, axis=axes, keepdims=keepdim)

    def backward(ctx, g, F):
        return _expand_back(g, F, ctx.shape, ctx.axes)


class Mean(Function):
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
        ctx.n = math.prod(x.shape[a] for a in axes)
        return np.mean(x, axis=axes, keepdims=keepdim)

    def backward(ctx, g, F):  # (n = 0: the input is empty, and so is its gradient)
        return _expand_back(g * (1.0 / builtins.max(ctx.n, 1)), F, ctx.shape, ctx.axes)


class Max(Function):
    """max/min over axes. Where several elements reach the extreme, the gradient goes:

    * ``index`` given (``max(x, dim)``): to the element at ``index`` only (the index returned with the values);
    * else shared equally between them (PyTorch's rule for ``amax``/``amin`` and for ``max()`` over all dims).
      A NaN is the extreme of its group: with ``nan_shares`` (``max()``) the NaNs share the gradient, and
      without it (``amax``) the whole group's gradient is NaN, as in PyTorch.
    """

    def forward(ctx, x, axes, keepdim, is_min, nan_shares=False, index=None):
        ctx.shape, ctx.axes = x.shape, axes
        if index is not None:  # one axis; index has keepdims shape
            (axis,) = axes
            out = np.take_along_axis(x, index, axis)
            positions = np.arange(x.shape[axis]).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
            ctx.weights = (positions == index).astype(x.dtype)
        else:
            out = (np.min if is_min else np.max)(x, axis=axes, keepdims=True)
            mask = x == out
            if nan_shares and x.dtype.kind == "f":
                mask |= np.isnan(x) & np.isnan(out)
            with np.errstate(invalid="ignore"):  # a group with a NaN and nan_shares=False: 0/0, as in PyTorch
                ctx.weights = mask / np.sum(mask, axis=axes, keepdims=True, dtype=x.dtype)
        return out if keepdim else np.squeeze(out, axis=axes)

    def backward(ctx, g, F):
        return _expand_back(g, F, ctx.shape, ctx.axes) * ctx.weights


class Prod(Function):
    def forward(ctx, x, axes, keepdim):
        out = np.asarray(np.prod(x, axis=axes, keepdims=keepdim))
        ctx.saved, ctx.axes = (x, out), axes
        return out

    def backward(ctx, g, F):
        x, out = ctx.saved
        if not ctx.axes:  # a 0-d input is its own product (no 0/0 or inf/inf), as in PyTorch
            return g
        gk = _expand_back(g, F, x.shape, ctx.axes)
        if not np.all(x._data if isinstance(x, Tensor) else x):  # zeros: product of all the *other* elements
            others = _prod_of_others_graph if isinstance(x, Tensor) else _prod_of_others
            return gk * others(x, ctx.axes)
        return gk * F.reshape(out, _kept_shape(x.shape, ctx.axes)) / x


def _prod_of_others(x, axes):
    """For each element, the product of the other elements of its reduction group (no division)."""
    k = len(axes)
    moved = np.moveaxis(x, axes, tuple(range(-k, 0)))
    flat = moved.reshape(moved.shape[: moved.ndim - k] + (-1,))
    ones = np.ones_like(flat[..., :1])
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], -1), -1)
    right = np.flip(np.cumprod(np.concatenate([ones, np.flip(flat, -1)[..., :-1]], -1), -1), -1)
    return np.moveaxis((left * right).reshape(moved.shape), tuple(range(-k, 0)), axes)


def _prod_of_others_graph(x: Tensor, axes):
    """:func:`_prod_of_others` for create_graph, differentiable: row i of an (n, n) stack is the group with
    its i-th element replaced by 1, so the product of row i is the product of the others."""
    from .elementwise import where

    rest = tuple(a for a in range(x.ndim) if a not in axes)
    moved = x.permute(rest + axes)  # the reduced axes last
    lead = moved.shape[: len(rest)]
    n = math.prod(moved.shape[len(rest):])
    rows = moved.reshape(lead + (1, n)).expand(lead + (n, n))
    others = prod(where(np.eye(n, dtype=bool), 1.0, rows), -1)
    return others.reshape(moved.shape).permute(tuple(int(a) for a in np.argsort(rest + axes)))


class LogSumExp(Function):
    def forward(ctx, x, axes, keepdim):
        m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)  # (initial: an empty sum gives -inf)
        m = np.where(np.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):  # all -inf: the sum is 0 and the result -inf, as in PyTorch
            out = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
        out = out if keepdim else np.asarray(np.squeeze(out, axis=axes))
        ctx.saved, ctx.axes = (x, out), axes
        return out

    def backward(ctx, g, F):
        x, out = ctx.saved
        kept = _kept_shape(x.shape, ctx.axes)
        return _expand_back(g, F, x.shape, ctx.axes) * F.exp(x - F.reshape(out, kept))


def _shifted(x, axis):
    """``x - max(x, axis)`` as a new array. ``fmax`` reduces about 1.5x faster than ``maximum`` (no NaN test per
    element); a NaN it skips still makes its whole softmax row NaN, through the sum of exps, as in PyTorch.
    ``inf - inf`` gives NaN silently, as in PyTorch."""
    with np.errstate(invalid="ignore"):
        return np.subtract(x, np.fmax.reduce(x, axis, keepdims=True))


# A bound on |x| under which exp(x) is a normal number (no overflow, no precision lost to subnormals) and a sum of
# up to 1e12 of them is finite: softmax then needs no shift by the maximum of each row (see _exp_unshifted)
_EXP_BOUND = {np.dtype(np.float32): 60.0, np.dtype(np.float64): 600.0}


def _exp_unshifted(x):
    """``(exp(x), masked)`` when every element lies within ``_EXP_BOUND`` or is -inf (``masked``: some is), else
    None.

    Softmax is ``exp(x - c) / sum(exp(x - c))`` for any ``c``; PyTorch's ``c = max(x, axis)`` only keeps the
    exps finite and normal. Within the bound they are so with ``c = 0``, and each exp carries the same relative
    error, so the result is within float rounding of PyTorch's; -inf (an attention mask) gives 0 either way. Two
    whole-array reductions cost far less than the maximum of each row (slow for short rows) and the subtraction.
    NaN and +inf fail the test."""
    bound = _EXP_BOUND.get(x.dtype)
    if bound is None or not np.maximum.reduce(x, None) <= bound:
        return None
    lo = np.minimum.reduce(x, None)
    masked = lo == -np.inf
    if not (lo >= -bound or masked and np.count_nonzero(x < -bound) == np.count_nonzero(x == -np.inf)):
        return None
    return np.exp(x), masked


def _sum_kept(a, axis):
    """``a.sum(axis, keepdims=True)`` of a new array; along a contiguous last axis a BLAS product with ones,
    several times faster than NumPy's reduction of short rows."""
    if axis == a.ndim - 1 and a.dtype != np.float16 and a.flags.c_contiguous:
        return (a @ ones_vector(a.shape[-1], a.dtype))[..., None]
    return np.add.reduce(a, axis, keepdims=True)


class Softmax(Function):
    """``exp(x - max) / sum(exp(x - max))`` along ``axis`` (without the shift where no exp can overflow or lose
    precision: :func:`_exp_unshifted`); the gradient ``y * (g - sum(g * y))`` from the saved output. float16
    in float32, rounded once (as PyTorch: the sum of exps may overflow float16)."""

    def forward(ctx, x, axis):
        if x.dtype == np.float16:
            y = Softmax.forward(ctx, x.astype(np.float32), axis).astype(np.float16)
            ctx.saved = (y,)
            return y
        ctx.axis = axis
        if x.ndim == 0 or x.size == 0:
            y = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf))
            y = y / np.sum(y, axis=axis, keepdims=True)
        else:
            y = _softmax(x, axis) if x.size < 4096 else in_rows(_run(x.shape, axis), _softmax, x, axis)
        ctx.saved = (y,)
        return y

    def backward(ctx, g, F):
        (y,) = ctx.saved
        if y.dtype == np.float16:
            y, g = F.cast(y, np.float32), F.cast(g, np.float32)
            gy = g * y
            return F.cast(gy - y * F.sum(gy, ctx.axis, True), np.float16)
        if type(g) is not np.ndarray or y.ndim == 0:  # (create_graph: on Tensors)
            gy = g * y
            return gy - y * F.sum(gy, ctx.axis, True)
        if y.size < 4096:  # (small: in_rows would cost more than it saves)
            return _softmax_backward(g, y, ctx.axis)
        return in_rows(_run(y.shape, ctx.axis), _softmax_backward, g, y, ctx.axis)


class LogSoftmax(Function):
    """``x - max - log(sum(exp(x - max)))`` along ``axis``; the gradient ``g - softmax * sum(g)``, with the
    exps and their sums saved from the forward pass (the softmax recomputed as ``exp(y)`` for create_graph).
    float16 in float32."""

    def forward(ctx, x, axis):
        if x.dtype == np.float16:  # in float32, as PyTorch (the sum of exps may overflow float16)
            y = LogSoftmax.forward(ctx, x.astype(np.float32), axis).astype(np.float16)
            ctx.saved = (y,)
            return y
        ctx.axis = axis
        if x.ndim == 0 or x.size == 0:
            shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
            y = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)) if x.size else shifted
            ctx.saved = (y,)
            return y
        y, exps, total = _log_softmax(x, axis) if x.size < 4096 else in_rows(_run(x.shape, axis), _log_softmax, x, axis)
        ctx.saved = (y, exps, total)
        return y

    def backward(ctx, g, F):
        y = ctx.saved[0]
        if y.dtype == np.float16:
            y, g = F.cast(y, np.float32), F.cast(g, np.float32)
            return F.cast(g - F.exp(y) * F.sum(g, ctx.axis, True), np.float16)
        if type(g) is not np.ndarray or len(ctx.saved) == 1:  # (create_graph: on Tensors; 0-d, empty)
            return g - F.exp(y) * F.sum(g, ctx.axis, True)
        if y.size < 4096:
            return _log_softmax_backward(g, *ctx.saved[1:], ctx.axis)
        return in_rows(_run(y.shape, ctx.axis), _log_softmax_backward, g, *ctx.saved[1:], ctx.axis)


def _run(shape: tuple, axis: int) -> int:
    """The contiguous rows that a softmax's per-row values broadcast along (see :func:`.namespaces.in_rows`)."""
    return shape[-1] if axis == len(shape) - 1 else math.prod(shape[axis + 1:])


def _softmax(x, axis):
    unshifted = _exp_unshifted(x)
    if unshifted is not None:
        y, masked = unshifted
        total = _sum_kept(y, axis)
        if not masked or total.all():  # (a row of -inf only: the shifted way gives its NaN, as PyTorch)
            y /= total
            return y
    y = _shifted(x, axis)
    np.exp(y, out=y)
    y /= _sum_kept(y, axis)
    return y


def _softmax_backward(g, y, axis):
    if axis == y.ndim - 1:  # the sums of g * y by einsum, without the product array: a pass fewer
        gx = np.subtract(g, np.einsum("...i,...i->...", g, y)[..., None])
    else:
        gx = np.multiply(g, y)
        np.subtract(g, _sum_kept(gx, axis), out=gx)
    gx *= y
    return gx


def _log_softmax(x, axis):
    """``(log_softmax(x), exp(x - max), sum(exp(x - max)))``: the softmax, for backward, left unnormalised (its
    division folds into backward's per-row factor, a pass fewer)."""
    y = _shifted(x, axis)
    exps = np.exp(y)
    total = _sum_kept(exps, axis)
    y -= np.log(total)
    return y, exps, total


def _log_softmax_backward(g, exps, total, axis):
    """``g - softmax * sum(g)`` with ``softmax = exps / total``."""
    gx = np.multiply(exps, _sum_kept(g, axis) / total)
    return np.subtract(g, gx, out=gx)


def _integer_result(data: np.ndarray, dtype) -> np.dtype | None:
    """The dtype of an integer sum/prod/cumsum when it is computed without autograd, else None: int64 for
    bool and every integer dtype (as PyTorch promotes), or ``dtype`` when one was asked for."""
    if data.dtype.kind not in "bui":
        return None
    return np.dtype(np.int64) if dtype is None else data.dtype


def sum(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Sum over ``dim`` (all dims when None or empty). Bool and integer tensors sum to int64, as in PyTorch."""
    return _sum_or_prod(x, dim, keepdim, dtype, "sum", np.sum, Sum)


def _sum_or_prod(x: Tensor, dim, keepdim: bool, dtype, op: str, array_fn, node) -> Tensor:
    """``sum``/``prod``: bool and integer tensors reduce in NumPy (to int64, or ``dtype``; no gradient),
    floating ones through the differentiable ``node``."""
    axes = reduce_dims(dim, x.ndim, op)
    if dtype is not None:
        x = x.astype(dtype)
    out_dtype = _integer_result(x._data, dtype)
    if out_dtype is not None:
        return Tensor._wrap(np.asarray(array_fn(x._data, axis=axes, keepdims=keepdim, dtype=out_dtype)))
    return node.apply(x, axes, keepdim)


def mean(x: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over ``dim`` (all dims when None or empty), of ``x`` cast to ``dtype`` first if given."""
    if dtype is not None:
        x = x.astype(dtype)
    _check_floating(x, "mean")
    return Mean.apply(x, reduce_dims(dim, x.ndim, "mean"), keepdim)


def _check_floating(x: Tensor, op: str) -> None:
    if x._data.dtype.kind != "f":
        raise TypeError(f"{op}: input dtype should be floating point, got {x.dtype}; use .float() first")


def _is_bool(v) -> bool:
    return isinstance(v, bool | np.bool_)


def _var_args(op, dim, unbiased, keepdim, correction):
    """PyTorch's three forms of var/std: ``(dim, unbiased=True, keepdim=False)``, ``(unbiased)`` (a bool first
    argument: over all dims) and ``(dim=None, *, correction=1, keepdim=False)``; as ``(dim, keepdim,
    correction)``."""
    if _is_bool(dim):  # var(False): the bool is `unbiased`, over all dims
        if unbiased is not None or keepdim or correction is not None:
            raise TypeError(f"{op}(unbiased) with a bool first argument takes no other argument; write "
                            f"{op}(dim, unbiased, keepdim) or {op}(dim, correction=..., keepdim=...)")
        dim, unbiased = None, dim
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{op}: give unbiased or correction, not both")
        if not _is_bool(unbiased):
            raise TypeError(f"{op}: unbiased must be a bool, got {unbiased!r} (the positional order is "
                            f"{op}(dim, unbiased, keepdim); for an integer correction write correction=...)")
        correction = int(unbiased)
    return dim, keepdim, 1 if correction is None else correction


def var(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over ``dim`` (all dims when None or empty) with Bessel's ``correction`` (1 by default).

    PyTorch's forms: ``var(dim, unbiased=True, keepdim=False)``, ``var(unbiased)`` with a bool (over all
    dims) and ``var(dim=None, *, correction=1, keepdim=False)``; ``unbiased=False`` is ``correction=0``.
    """
    dim, keepdim, correction = _var_args("var", dim, unbiased, keepdim, correction)
    return _var(x, reduce_dims(dim, x.ndim, "var"), keepdim, correction, "var")


def _var(x: Tensor, axes, keepdim, correction, op: str) -> Tensor:
    _check_floating(x, op)
    if x._data.dtype == np.float16:  # in float32, as PyTorch (a count beyond 65504 is inf in float16)
        return _var(x.float(), axes, keepdim, correction, op).half()
    n = math.prod(x.shape[a] for a in axes)
    d = x - mean(x, axes, keepdim=True)
    return sum(d * d, axes, keepdim) / builtins.max(n - correction, 0)


class _StdSqrt(Function):
    """``sqrt`` of a variance whose gradient is 0 where the variance is 0 (PyTorch's std rule: there the
    variance's own gradient is 0 too, and sqrt's would make it 0 * inf = nan)."""

    def forward(ctx, v):
        y = np.sqrt(v)
        zero = (y == 0).astype(y.dtype)
        ctx.saved, ctx.zero, ctx.keep = (y,), zero, 1 - zero
        return y

    def backward(ctx, g, F):
        (y,) = ctx.saved
        return g * ctx.keep / (y * 2 + ctx.zero)


def std(x: Tensor, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation ``sqrt(var(x))``, with :func:`var`'s arguments. Its gradient is 0 where it is 0."""
    dim, keepdim, correction = _var_args("std", dim, unbiased, keepdim, correction)
    if x._data.dtype == np.float16:  # the root in float32 too, as PyTorch (the float16 variance may be inf or 0)
        return std(x.float(), dim, keepdim=keepdim, correction=correction).half()
    return _StdSqrt.apply(_var(x, reduce_dims(dim, x.ndim, "std"), keepdim, correction, "std"))


def _check_reducible(x: Tensor, axes, name: str, dim) -> None:
    """max/min have no identity: reducing over a dim of size 0 is an error (as in PyTorch: a RuntimeError
    without ``dim``, an IndexError naming the dim of size 0 with one)."""
    if x._data.size:
        return
    if dim is None or not axes or (isinstance(dim, tuple | list) and not dim):
        raise RuntimeError(f"{name}: cannot reduce an empty tensor of shape {x.shape} over all its dims; "
                           f"give a dim of nonzero size")
    for a in axes:
        if x.shape[a] == 0:
            raise IndexError(f"{name}: cannot reduce the empty tensor of shape {x.shape} over dim {a} of size 0")


def _max_min(x, dim, keepdim, is_min, name):
    if dim is None:
        axes = normalize_dims(None, x.ndim, name)
        _check_reducible(x, axes, name, None)
        return Max.apply(x, axes, False, is_min, True)
    if not isinstance(dim, int | np.integer) or _is_bool(dim):  # the indices only make sense along one dim
        raise TypeError(f"{name}(dim=...) returns (values, indices) along one dim, got dim={dim!r}; use "
                        f"a{name}(x, dim) for the values over several dims")
    axes = normalize_dims(dim, x.ndim, name)
    _check_reducible(x, axes, name, dim)
    if not axes:  # a 0-d tensor: its element, at index 0 (nan_shares: a NaN gets the gradient too)
        return MaxMin(Max.apply(x, axes, keepdim, is_min, True), Tensor._wrap(np.zeros((), np.int64)))
    idx = (np.argmin if is_min else np.argmax)(x._data, axis=axes[0], keepdims=True).astype(np.int64, copy=False)
    values = Max.apply(x, axes, keepdim, is_min, False, idx)
    return MaxMin(values, Tensor._wrap(idx if keepdim else np.squeeze(idx, axis=axes[0])))


def max(x: Tensor, dim=None, keepdim: bool = False):
    """The maximum; with ``dim``, a ``(values, indices)`` pair as in PyTorch. ``max(a, b)`` of two tensors
    is :func:`maximum`. Gradient: with ``dim``, to the element at the returned index only; without, shared
    equally between the elements equal to the maximum (or between the NaNs, where there are any)."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum

        return maximum(x, dim)
    return _max_min(x, dim, keepdim, False, "max")


def min(x: Tensor, dim=None, keepdim: bool = False):
    """The minimum; with ``dim``, a ``(values, indices)`` pair as in PyTorch (gradients as in :func:`max`)."""
    if isinstance(dim, Tensor):
        from .elementwise import minimum

        return minimum(x, dim)
    return _max_min(x, dim, keepdim, True, "min")


def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (values only; all dims when None or empty). Ties share the gradient equally."""
    axes = reduce_dims(dim, x.ndim, "amax")
    _check_reducible(x, axes, "amax", dim)
    return Max.apply(x, axes, keepdim, False)


def amin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (values only; all dims when None or empty). Ties share the gradient equally."""
    axes = reduce_dims(dim, x.ndim, "amin")
    _check_reducible(x, axes, "amin", dim)
    return Max.apply(x, axes, keepdim, True)


def prod(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Product over ``dim`` (an int, a tuple, or all dims when None or empty). Bool and integer tensors
    multiply to int64, as in PyTorch."""
    return _sum_or_prod(x, dim, keepdim, dtype, "prod", np.prod, Prod)


def logsumexp(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim`` (all dims when None or empty), computed stably (no overflow)."""
    return LogSumExp.apply(_floating(x), reduce_dims(dim, x.ndim, "logsumexp"), keepdim)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, stable for large inputs."""
    return Softmax.apply(_floating(x), one_dim(dim, x.ndim, "softmax"))


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed without overflow or log(0)."""
    return LogSoftmax.apply(_floating(x), one_dim(dim, x.ndim, "log_softmax"))


def _check_not_empty(x: Tensor, dim, op: str) -> None:
    axis = None if dim is None else one_dim(dim, x.ndim, op)
    if x._data.size == 0 and (axis is None or x.shape[axis] == 0):
        raise IndexError(f"{op}: cannot take the {op} of an empty tensor of shape {x.shape}"
                         + ("" if dim is None else f" along dim {dim}"))


def _arg_extreme(x: Tensor, dim, keepdim, op: str, fn) -> Tensor:
    if x._data.dtype == np.bool_:
        raise RuntimeError(f"{op}: does not support bool input; convert it first (x.int())")
    _check_not_empty(x, dim, op)
    if dim is None:  # the index into the flattened tensor; keepdim keeps every dim as size 1
        out = np.asarray(fn(x._data), dtype=np.int64)
        return Tensor._wrap(out.reshape((1,) * x.ndim) if keepdim else out)
    axis = one_dim(dim, x.ndim, op)
    return Tensor._wrap(np.asarray(fn(x._data, axis=axis, keepdims=keepdim)).astype(np.int64, copy=False))


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the maximum (of the flattened tensor when ``dim`` is None); int64, not differentiable."""
    return _arg_extreme(x, dim, keepdim, "argmax", np.argmax)


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the minimum; int64, not differentiable."""
    return _arg_extreme(x, dim, keepdim, "argmin", np.argmin)


def all(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where every element is true (over ``dim``, or all dims when None)."""
    return _all_any(x, dim, keepdim, "all", np.all)


def any(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """True where some element is true (over ``dim``, or all dims when None)."""
    return _all_any(x, dim, keepdim, "any", np.any)


def _all_any(x: Tensor, dim, keepdim, op, fn) -> Tensor:
    """bool results, except uint8 for a uint8 input (PyTorch's legacy rule)."""
    axes = None if dim is None else normalize_dims(dim, x.ndim, op)
    out = np.asarray(fn(x._data, axis=axes, keepdims=keepdim))
    return Tensor._wrap(out.astype(np.uint8) if x._data.dtype == np.uint8 else out)


def cumsum(x: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Cumulative sum along ``dim``. Bool and integer tensors sum to int64, as in PyTorch."""
    axis = one_dim(dim, x.ndim, "cumsum")
    if dtype is not None:
        x = x.astype(dtype)
    out_dtype = _integer_result(x._data, dtype)
    if out_dtype is not None:
        return Tensor._wrap(np.cumsum(x._data.reshape(1) if axis is None else x._data, axis=axis or 0,
                                      dtype=out_dtype).reshape(x.shape))
    if axis is None:  # a 0-d tensor is its own cumulative sum
        return CumSum.apply(x.reshape(1), 0).reshape(())
    return CumSum.apply(x, axis)


def _cumsum_array(x: np.ndarray, axis: int) -> np.ndarray:
    """NumPy's cumsum; float16 accumulates in float32, as PyTorch (a float16 running sum of ones stops at 2048)."""
    if x.dtype == np.float16:
        return np.cumsum(x, axis=axis, dtype=np.float32).astype(np.float16)
    return np.cumsum(x, axis=axis)


class CumSum(Function):
    def forward(ctx, x, axis):
        ctx.axis = axis
        return _cumsum_array(x, axis)

    def backward(ctx, g, F):  # reversed cumulative sum of g
        from .shape import flip

        if isinstance(g, np.ndarray):
            return np.flip(_cumsum_array(np.flip(g, ctx.axis), ctx.axis), ctx.axis)
        return flip(cumsum(flip(g, ctx.axis), ctx.axis), ctx.axis)


def norm(x: Tensor, p="fro", dim=None, keepdim: bool = False) -> Tensor:
    """The ``p``-norm over ``dim`` (all elements when None): ``p`` is 2 or ``"fro"`` (or None), 1 or ``inf``.

    The gradient of the 2-norm is 0 where the norm is 0, as in PyTorch. Integer and bool tensors are refused.
    """
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"norm: expected a floating point tensor as input, got {x._data.dtype}")
    if p is None or p in (2, "fro"):
        if x._data.dtype == np.float16:  # squares in float32, as PyTorch: a float16 300 squared would be inf
            return norm(x.float(), p, dim, keepdim).half()
        return _StdSqrt.apply(sum(x * x, dim, keepdim))
    if p == 1:
        return sum(x.abs(), dim, keepdim)
    if p == math.inf:
        return amax(x.abs(), dim, keepdim)
    raise ValueError(f"norm: p must be 2, 'fro', 1 or inf, got {p!r}")
