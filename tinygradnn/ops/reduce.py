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


def normalize_dims(dim, ndim: int, op: str) -> tuple[int, ...]:
    """``dim`` as a sorted tuple of non-negative axes; a clear IndexError when out of range."""
    if dim is None:
        return tuple(range(ndim))
    if type(dim) is int and -ndim <= dim < ndim:  # the common case: one valid dim
        return (dim % ndim,)
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim) if isinstance(dim, tuple | list) else None
    if dims is None or not builtins.all(isinstance(d, int | np.integer) for d in dims):
        raise TypeError(f"{op}: dim must be an int, a tuple of ints or None, got {dim!r}")
    lo, hi = -builtins.max(ndim, 1), builtins.max(ndim, 1) - 1
    out = []
    for d in dims:
        if not lo <= d <= hi:
            raise IndexError(f"{op}: dimension out of range (expected to be in range of [{lo}, {hi}], "
                             f"but got {d}) for a {ndim}-d tensor")
        if ndim:
            out.append(d % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim} names a dimension twice")
    return tuple(sorted(out))


def one_dim(dim, ndim: int, op: str):
    """``dim`` as one non-negative axis, or None for a 0-d tensor (where dim 0 and -1 mean the element)."""
    axes = normalize_dims(dim, ndim, op)
    return axes[0] if axes else None


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand_back(g, F, shape, axes):
    """Broadcast a reduced gradient back over the reduced axes."""
    return F.broadcast_to(F.reshape(g, _kept_shape(shape, axes)), shape)


class Sum(Function):
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes = x.shape, axes
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
    """max/min over axes; ties share the gradient equally (PyTorch's amax/amin rule)."""

    def forward(ctx, x, axes, keepdim, is_min):
        out = (np.min if is_min else np.max)(x, axis=axes, keepdims=True)
        mask = x == out
        ctx.weights = mask / np.sum(mask, axis=axes, keepdims=True, dtype=x.dtype)
        ctx.shape, ctx.axes = x.shape, axes
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


class Softmax(Function):
    def forward(ctx, x, axis):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf))
        y = e / np.sum(e, axis=axis, keepdims=True)
        ctx.saved, ctx.axis = (y,), axis
        return y

    def backward(ctx, g, F):
        (y,) = ctx.saved
        gy = g * y
        return gy - y * F.sum(gy, ctx.axis, True)


class LogSoftmax(Function):
    def forward(ctx, x, axis):
        shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
        y = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True)) if x.size else shifted
        ctx.saved, ctx.axis = (y,), axis
        return y

    def backward(ctx, g, F):
        (y,) = ctx.saved
        return g - F.exp(y) * F.sum(g, ctx.axis, True)


def sum(x: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Sum over ``dim`` (all dims when None)."""
    if dtype is not None:
        x = x.astype(dtype)
    elif x._data.dtype.kind in "bui":
        return Tensor._wrap(np.sum(x._data, axis=normalize_dims(dim, x.ndim, "sum"), keepdims=keepdim))
    return Sum.apply(x, normalize_dims(dim, x.ndim, "sum"), keepdim)


def mean(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (all dims when None)."""
    if x._data.dtype.kind != "f":
        raise TypeError(f"mean: input dtype should be floating point, got {x.dtype}; use .float() first")
    return Mean.apply(x, normalize_dims(dim, x.ndim, "mean"), keepdim)


def var(x: Tensor, dim=None, keepdim: bool = False, correction: int = 1, unbiased=None) -> Tensor:
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default, like PyTorch)."""
    if unbiased is not None:
        correction = int(unbiased)
    axes = normalize_dims(dim, x.ndim, "var")
    n = math.prod(x.shape[a] for a in axes)
    d = x - mean(x, axes, keepdim=True)
    return sum(d * d, axes, keepdim) / builtins.max(n - correction, 0)


def std(x: Tensor, dim=None, keepdim: bool = False, correction: int = 1, unbiased=None) -> Tensor:
    """Standard deviation: ``sqrt(var(x))``."""
    from .elementwise import sqrt

    return sqrt(var(x, dim, keepdim, correction, unbiased))


def _check_reducible(x: Tensor, axes, name: str) -> None:
    """max/min have no identity: reducing over a dim of size 0 is an error (as in PyTorch)."""
    if x._data.size == 0 and (not axes or builtins.any(x.shape[a] == 0 for a in axes)):
        raise RuntimeError(f"{name}: cannot reduce an empty tensor of shape {x.shape}"
                           + (f" over dims {axes}" if axes else ""))


def _max_min(x, dim, keepdim, is_min, name):
    if x._data.size == 0:
        raise RuntimeError(f"{name}: cannot reduce an empty tensor of shape {x.shape}")
    if dim is None:
        return Max.apply(x, normalize_dims(None, x.ndim, name), False, is_min)
    if not isinstance(dim, int | np.integer):  # the indices only make sense along one dim
        raise TypeError(f"{name}(dim=...) returns (values, indices) along one dim, got dim={dim!r}; use "
                        f"a{name}(x, dim) for the values over several dims")
    axes = normalize_dims(dim, x.ndim, name)
    values = Max.apply(x, axes, keepdim, is_min)
    idx = (argmin if is_min else argmax)(x, dim, keepdim)
    return MaxMin(values, idx)


def max(x: Tensor, dim=None, keepdim: bool = False):
    """The maximum; with ``dim``, a ``(values, indices)`` pair as in PyTorch. ``max(a, b)`` of two tensors
    is :func:`maximum`."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum

        return maximum(x, dim)
    return _max_min(x, dim, keepdim, False, "max")


def min(x: Tensor, dim=None, keepdim: bool = False):
    """The minimum; with ``dim``, a ``(values, indices)`` pair as in PyTorch."""
    if isinstance(dim, Tensor):
        from .elementwise import minimum

        return minimum(x, dim)
    return _max_min(x, dim, keepdim, True, "min")


def amax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Maximum over ``dim`` (values only)."""
    axes = normalize_dims(dim, x.ndim, "amax")
    _check_reducible(x, axes, "amax")
    return Max.apply(x, axes, keepdim, False)


def amin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Minimum over ``dim`` (values only)."""
    axes = normalize_dims(dim, x.ndim, "amin")
    _check_reducible(x, axes, "amin")
    return Max.apply(x, axes, keepdim, True)


def prod(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Product over ``dim``."""
    return Prod.apply(x, normalize_dims(dim, x.ndim, "prod"), keepdim)


def logsumexp(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed stably (no overflow for large inputs)."""
    return LogSumExp.apply(_floating(x), normalize_dims(dim, x.ndim, "logsumexp"), keepdim)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, stable for large inputs."""
    return Softmax.apply(_floating(x), one_dim(dim, x.ndim, "softmax"))


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed without overflow or log(0)."""
    return LogSoftmax.apply(_floating(x), one_dim(dim, x.ndim, "log_softmax"))


def _check_not_empty(x: Tensor, dim, op: str) -> None:
    axis = None if dim is None else one_dim(dim, x.ndim, op)
    if x._data.size == 0 and (axis is None or x.shape[axis] == 0):
        raise ValueError(f"{op}: cannot take the {op} of an empty tensor of shape {x.shape}"
                         + ("" if dim is None else f" along dim {dim}"))


def argmax(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the maximum (of the flattened tensor when ``dim`` is None); int64, not differentiable."""
    _check_not_empty(x, dim, "argmax")
    if dim is None:
        return Tensor._wrap(np.asarray(np.argmax(x._data), dtype=np.int64))
    axis = one_dim(dim, x.ndim, "argmax")
    return Tensor._wrap(np.argmax(x._data, axis=axis, keepdims=keepdim).astype(np.int64, copy=False))


def argmin(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the minimum; int64, not differentiable."""
    _check_not_empty(x, dim, "argmin")
    if dim is None:
        return Tensor._wrap(np.asarray(np.argmin(x._data), dtype=np.int64))
    axis = one_dim(dim, x.ndim, "argmin")
    return Tensor._wrap(np.argmin(x._data, axis=axis, keepdims=keepdim).astype(np.int64, copy=False))


def all(x: Tensor, dim=None) -> Tensor:
    """True where every element is true."""
    return Tensor._wrap(np.all(x._data, axis=None if dim is None else normalize_dims(dim, x.ndim, "all")))


def any(x: Tensor, dim=None) -> Tensor:
    """True where some element is true."""
    return Tensor._wrap(np.any(x._data, axis=None if dim is None else normalize_dims(dim, x.ndim, "any")))


def cumsum(x: Tensor, dim: int) -> Tensor:
    """Cumulative sum along ``dim``."""
    axis = one_dim(dim, x.ndim, "cumsum")
    if axis is None:  # a 0-d tensor is its own cumulative sum
        return CumSum.apply(x.reshape(1), 0).reshape(())
    return CumSum.apply(x, axis)


class CumSum(Function):
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.cumsum(x, axis=axis)

    def backward(ctx, g, F):  # reversed cumulative sum of g
        from .shape import flip

        if isinstance(g, np.ndarray):
            return np.flip(np.cumsum(np.flip(g, ctx.axis), axis=ctx.axis), ctx.axis)
        return flip(cumsum(flip(g, ctx.axis), ctx.axis), ctx.axis)
