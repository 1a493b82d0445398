"""In-place ops (``add_``, ``mul_``, ``zero_``, ``x[i] = v``, ...) and the version counter.

Outside the graph (``no_grad``, or no tensor involved requires grad) they write into the array
directly. Inside the graph, the result is computed out of place and the tensor is *rebased* onto it,
as in PyTorch: ``x`` becomes the output of the new op. Every in-place change bumps ``x._version``;
a node that saved ``x`` (or consumed it) raises at backward time instead of using stale values.
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import _State
from ..tensor import Tensor
from . import elementwise as ew


def _rebase(x: Tensor, fn, *args) -> Tensor:
    """Record ``fn(x, *args)`` and make ``x`` its result (the tensor object stays, its history moves on)."""
    if x._ctx is None and x._requires_grad:
        raise RuntimeError(f"a leaf tensor of shape {x.shape} that requires grad is being used in an "
                           "in-place operation; do it under no_grad() (as optimizers do) or use an out-of-place op")
    old = Tensor._wrap(x._data)  # takes over x's place in the graph as the op's input
    old._requires_grad, old._ctx, old._version, old._stamp = x._requires_grad, x._ctx, x._version, x._stamp
    new = fn(old, *args)
    x._data, x._ctx, x._requires_grad = new._data, new._ctx, new._requires_grad
    x._bump_version()
    if x._ctx is not None:
        x._ctx.bumps = _State.bumps  # the new node was recorded for the changed tensor
    return x


def _writable(x: Tensor) -> np.ndarray:
    """``x``'s array, made a real array first if it is a NumPy scalar (results of 0-d ops can be)."""
    if type(x._data) is not np.ndarray:
        x._data = np.array(x._data)
    return x._data


def _records(x, other=None) -> bool:
    return _State.enabled and (x._requires_grad or (isinstance(other, Tensor) and other._requires_grad))


def _apply(x: Tensor, other, op, ufunc, name):
    if _records(x, other):
        return _rebase(x, op, other)
    y = other._data if isinstance(other, Tensor) else other
    _writable(x)
    try:
        ufunc(x._data, y, out=x._data, casting="same_kind")
    except ValueError as e:
        raise ValueError(f"{name}: cannot apply a value of shape {np.shape(y)} in place to a tensor of "
                         f"shape {x.shape}") from e
    except TypeError as e:
        raise TypeError(f"{name}: {e}") from None
    x._bump_version()
    return x


def add_(x: Tensor, other, alpha: float = 1) -> Tensor:
    """``x += alpha * other`` in place."""
    return _apply(x, other if alpha == 1 else other * alpha, ew.add, np.add, "add_")


def sub_(x: Tensor, other, alpha: float = 1) -> Tensor:
    """``x -= alpha * other`` in place."""
    return _apply(x, other if alpha == 1 else other * alpha, ew.sub, np.subtract, "sub_")


def mul_(x: Tensor, other) -> Tensor:
    """``x *= other`` in place."""
    return _apply(x, other, ew.mul, np.multiply, "mul_")


def div_(x: Tensor, other) -> Tensor:
    """``x /= other`` in place."""
    return _apply(x, other, ew.div, np.true_divide, "div_")


def pow_(x: Tensor, other) -> Tensor:
    """``x **= other`` in place."""
    return _apply(x, other, ew.pow, np.power, "pow_")


def _unary_(fn, name):
    def method(x: Tensor) -> Tensor:
        if _records(x):
            return _rebase(x, fn)
        result = fn(Tensor._wrap(x._data))._data
        if not np.can_cast(result.dtype, x._data.dtype, "same_kind"):  # exp_ of an int tensor would truncate
            raise TypeError(f"{name}: the result has dtype {result.dtype}, which cannot be stored in place in a "
                            f"tensor of dtype {x.dtype}; use {fn.__name__}(x) or convert x with .float() first")
        _writable(x)[...] = result
        x._bump_version()
        return x

    method.__name__ = name
    method.__doc__ = f"In-place ``{fn.__name__}``."
    return method


exp_ = _unary_(ew.exp, "exp_")
relu_ = _unary_(ew.relu, "relu_")
sigmoid_ = _unary_(ew.sigmoid, "sigmoid_")
tanh_ = _unary_(ew.tanh, "tanh_")


def clamp_(x: Tensor, min=None, max=None) -> Tensor:
    """In-place :func:`clamp`."""
    if _records(x):
        return _rebase(x, ew.clamp, min, max)
    try:
        np.clip(_writable(x), min, max, out=x._data)
    except TypeError as e:  # e.g. a float bound for an int or bool tensor
        raise TypeError(f"clamp_: {e}") from None
    x._bump_version()
    return x


def _fill(x: Tensor, values) -> Tensor:
    """Overwrite every element (no gradient flows to the old values)."""
    if _records(x, values):
        if not isinstance(values, Tensor):
            values = Tensor._wrap(np.asarray(values, x.dtype))
        return _rebase(x, lambda old: ew.where(np.ones(x.shape, bool), values, old))
    try:
        _writable(x)[...] = values._data if isinstance(values, Tensor) else values
    except ValueError as e:
        raise ValueError(f"cannot write a value of shape {np.shape(values)} into a tensor of shape "
                         f"{x.shape}") from e
    x._bump_version()
    return x


def zero_(x: Tensor) -> Tensor:
    """Set every element to 0 in place."""
    return _fill(x, 0)


def fill_(x: Tensor, value) -> Tensor:
    """Set every element to ``value`` in place."""
    return _fill(x, value.item() if isinstance(value, Tensor) else value)


def copy_(x: Tensor, src) -> Tensor:
    """Copy ``src`` (broadcast to ``x``'s shape) into ``x`` in place; differentiable in ``src``."""
    if isinstance(src, Tensor) and np.broadcast_shapes(src.shape, x.shape) != x.shape:
        raise ValueError(f"copy_: source of shape {src.shape} cannot be broadcast to {x.shape}")
    if isinstance(src, Tensor) and src.dtype != x.dtype:
        src = src.astype(x.dtype)
    return _fill(x, src)


def _random_fill_check(x: Tensor, name: str) -> None:
    if x._data.dtype.kind != "f":
        raise TypeError(f"{name}: random values need a floating point tensor, got dtype {x.dtype} (they would be "
                        "truncated); convert with .float() first")


def uniform_(x: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from ``U(a, b)``."""
    from ..random import get_generator

    _random_fill_check(x, "uniform_")
    return _fill(x, get_generator(generator).uniform(a, b, x.shape))


def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from ``N(mean, std**2)``."""
    from ..random import get_generator

    _random_fill_check(x, "normal_")
    return _fill(x, get_generator(generator).normal(mean, std, x.shape))


def masked_fill(x: Tensor, mask, value) -> Tensor:
    """``value`` where ``mask`` is true, ``x`` elsewhere (mask broadcasts)."""
    return ew.where(mask, value, x)


def masked_fill_(x: Tensor, mask, value) -> Tensor:
    """In-place :func:`masked_fill`."""
    if _records(x, value):
        return _rebase(x, masked_fill, mask, value)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    np.copyto(_writable(x), value._data if isinstance(value, Tensor) else value, where=np.broadcast_to(m, x.shape))
    x._bump_version()
    return x


def setitem_(x: Tensor, index, value) -> None:
    """``x[index] = value``; differentiable in ``value`` (and in the rest of ``x``) inside the graph."""
    from .shape import _normalize_index

    index = _normalize_index(index)
    if _records(x, value):
        v = value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=x.dtype))
        mask = np.zeros(x.shape, bool)
        mask[index] = True
        placed = _scatter(v, x.shape, index)
        _rebase(x, lambda old: ew.where(mask, placed, old))
        return
    try:
        _writable(x)[index] = value._data if isinstance(value, Tensor) else value
    except (ValueError, IndexError) as e:
        raise type(e)(f"setitem: cannot assign a value of shape {np.shape(value)} to index "
                      f"{index!r} of a tensor of shape {x.shape}: {e}") from None
    x._bump_version()


def _scatter(v: Tensor, shape, index) -> Tensor:
    """A tensor of ``shape`` holding ``v`` (broadcast) at ``index`` and 0 elsewhere (differentiable in v)."""
    from .shape import _IndexAdd, expand

    target = np.empty(shape, bool)[index].shape
    return _IndexAdd.apply(expand(v, target) if v.shape != target else v, shape, index)


def clone(x: Tensor) -> Tensor:
    """A copy with its own memory; gradients flow back to ``x``."""
    return ew.add(x, 0) if x._requires_grad and _State.enabled else Tensor._wrap(x._data.copy())


def contiguous(x: Tensor) -> Tensor:
    """``x`` with C-contiguous memory (a copy only when needed)."""
    if x._data.flags.c_contiguous:
        return x
    y = clone(x)  # keeps x's memory layout (as PyTorch's clone does) ...
    y._data = np.ascontiguousarray(y._data)  # ... so make it C order; the clone's node saved nothing
    return y
