"""In-place ops (``add_``, ``mul_``, ``zero_``, ``x[i] = v``, ...) and the version counter.

Outside the graph (``no_grad``, or no tensor involved requires grad) they write into the array
directly. Inside the graph, the result is computed out of place and the tensor is *rebased* onto it,
as in PyTorch: ``x`` becomes the output of the new op. Every in-place change bumps ``x._version``;
a node that saved ``x`` (or consumed it) raises at backward time instead of using stale values.

Both ways keep ``x``'s shape and dtype, as PyTorch does: a result that would broadcast to a larger shape
is refused (``ValueError``), and a result of another dtype is cast back to ``x``'s when NumPy's
``same_kind`` rule allows it (float64 into float32: yes, with the gradient flowing back through the
cast; float into an integer tensor: ``TypeError``). Writes (``fill_``, ``copy_``, ``masked_fill_``,
``x[i] = v``) convert the value to ``x``'s dtype like an assignment (a float written into an integer
tensor is truncated); an integer tensor cannot take part in the graph, so writes into one are plain.
"""

from __future__ import annotations

import numpy as np

from .._dtype import get_default_dtype, promote_types
from ..autograd.function import Function
from ..autograd.grad_mode import _State
from ..tensor import Tensor
from . import elementwise as ew


def _rebase(x: Tensor, fn, *args, name: str = "in-place op") -> Tensor:
    """Record ``fn(x, *args)`` and make ``x`` its result (the tensor object stays, its history moves on).

    The result must have ``x``'s shape; a result of another dtype is cast to ``x``'s (``same_kind``)."""
    if x._ctx is None and x._requires_grad:
        raise RuntimeError(f"a leaf tensor of shape {x.shape} that requires grad is being used in an "
                           "in-place operation; do it under no_grad() (as optimizers do) or use an out-of-place op")
    old = Tensor._wrap(x._data)  # takes over x's place in the graph as the op's input
    old._requires_grad, old._ctx, old._version, old._stamp = x._requires_grad, x._ctx, x._version, x._stamp
    new = fn(old, *args)
    if new._data.shape != x._data.shape:  # checked before x changes: the node just made is dropped
        raise _shape_error(name, x.shape, new.shape)
    if new._data.dtype != x._data.dtype:
        if not np.can_cast(new._data.dtype, x._data.dtype, "same_kind"):
            raise _dtype_error(name, new._data.dtype, x._data.dtype)
        new = ew.cast(new, x._data.dtype)  # differentiable between floats: the gradient goes back as float64
    x._data, x._ctx, x._requires_grad = new._data, new._ctx, new._requires_grad
    x._bump_version()
    if x._ctx is not None:
        x._ctx.bumps = _State.bumps  # the new node was recorded for the changed tensor
    return x


def _shape_error(name: str, shape, full) -> ValueError:
    return ValueError(f"{name}: output with shape {tuple(shape)} doesn't match the broadcast shape {tuple(full)}: "
                      "an in-place op keeps the tensor's shape (use the out-of-place op to get the broadcast result)")


def _dtype_error(name: str, result, dtype) -> TypeError:
    return TypeError(f"{name}: result type {np.dtype(result)} can't be cast to the desired output type "
                     f"{np.dtype(dtype)}: an in-place op keeps the tensor's dtype (convert the tensor first, "
                     "e.g. with .float(), or use the out-of-place op)")


def _check_broadcasts_to(name: str, x: Tensor, shape, what: str = "a value") -> None:
    """Refuse, clearly, an operand of ``shape`` that does not broadcast to ``x``'s shape."""
    shape = tuple(shape)
    if shape == x.shape:
        return
    try:
        full = np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ValueError(f"{name}: cannot apply {what} of shape {shape} in place to a tensor of shape {x.shape} "
                         "(the shapes do not broadcast: trailing dimensions must be equal or 1)") from None
    if full != x.shape:
        raise _shape_error(name, x.shape, full)


def _result_dtype(x: Tensor, y, numpy_dtype):
    """The dtype of ``x op y`` under tinygradnn's promotion (NumPy's ufunc loop may differ: int64 with
    float32 runs in float64 there)."""
    if isinstance(y, np.ndarray):
        return promote_types(x._data.dtype, y.dtype)
    if isinstance(y, float) and x._data.dtype.kind != "f":
        return get_default_dtype()
    return numpy_dtype


def _writable(x: Tensor) -> np.ndarray:
    """``x``'s array, made a real array first if it is a NumPy scalar (results of 0-d ops can be)."""
    if type(x._data) is not np.ndarray:
        x._data = np.array(x._data)
    return x._data


def _records(x, other=None) -> bool:
    return _State.enabled and (x._requires_grad or (isinstance(other, Tensor) and other._requires_grad))


def _writes_in_graph(x: Tensor, value) -> bool:
    """Whether a write of ``value`` into ``x`` is recorded: an integer or bool ``x`` cannot carry a gradient,
    so a write into one is a plain assignment (PyTorch records nothing for ``x[i] = v`` or ``copy_``; its
    ``fill_`` and ``masked_fill_`` give the integer result a grad_fn that cannot be backpropagated)."""
    return _records(x, value) and x._data.dtype.kind == "f"


def _apply(x: Tensor, other, op, ufunc, name):
    if _records(x, other):
        if isinstance(other, Tensor):
            _check_broadcasts_to(name, x, other.shape)
        return _rebase(x, op, other, name=name)
    y = other._data if isinstance(other, Tensor) else other
    if type(y) is int and ufunc is not np.power:  # wraps into an integer dtype (uint8: 300 is 44), as out of place
        y = ew._wrap_int(y, x._data.dtype, name)
    # an integer result goes into an integer tensor of any width or signedness, wrapping (as PyTorch); else same_kind
    casting = "unsafe" if x._data.dtype.kind in "iu" and np.result_type(y).kind in "iub" else "same_kind"
    _writable(x)
    try:
        ufunc(x._data, y, out=x._data, casting=casting)
    except ValueError as e:
        _check_broadcasts_to(name, x, np.shape(y))
        raise ValueError(f"{name}: {e}") from None
    except TypeError as e:
        if hasattr(e, "to"):  # NumPy's output casting error: name the dtype the graph path would compute in
            raise _dtype_error(name, _result_dtype(x, y, e.from_), e.to) from None
        raise TypeError(f"{name}: {e}") from None
    x._bump_version()
    return x


def add_(x: Tensor, other, alpha: float = 1) -> Tensor:
    """``x += alpha * other`` in place."""
    if alpha.__class__ is not int or alpha != 1:
        other = _scaled(x, other, alpha, "add_")
    return _apply(x, other, ew.add, np.add, "add_")


def sub_(x: Tensor, other, alpha: float = 1) -> Tensor:
    """``x -= alpha * other`` in place (not for bools, as :func:`~.elementwise.sub`)."""
    if ew._is_bool(x) or ew._is_bool(other):
        raise ew._bool_subtraction_error(x, other, "sub_")
    if alpha.__class__ is not int or alpha != 1:
        other = _scaled(x, other, alpha, "sub_", negated=True)
    return _apply(x, other, ew.sub, np.subtract, "sub_")


def _scaled(x: Tensor, other, alpha, name: str, negated: bool = False):
    """``alpha * other``, computed (and alpha checked) in the dtype of the out-of-place result, as PyTorch does:
    ``int8_x.add_(int32_y, alpha=200)`` scales in int32, then wraps into int8."""
    promoted, other = ew._operands(x, other, name)
    return ew._scaled(other, alpha, ew._dtype_of(promoted, other), name, negated)


def _bitwise_(name: str, op, ufunc, symbol: str):
    def inplace(x: Tensor, other) -> Tensor:
        for v in (x, other):
            if type(v) is float or (isinstance(v, Tensor | np.ndarray | np.generic) and v.dtype.kind == "f"):
                raise TypeError(f"{name}: {symbol} is only defined for integer and bool tensors, got a floating "
                                f"operand ({getattr(v, 'dtype', 'float')})")
        return _apply(x, other, op, ufunc, name)

    inplace.__name__ = inplace.__qualname__ = name
    inplace.__doc__ = f"``x {symbol}= other`` in place, for integer and bool tensors (logical for bools)."
    return inplace


bitwise_and_ = _bitwise_("bitwise_and_", ew.bitwise_and, np.bitwise_and, "&")
bitwise_or_ = _bitwise_("bitwise_or_", ew.bitwise_or, np.bitwise_or, "|")
bitwise_xor_ = _bitwise_("bitwise_xor_", ew.bitwise_xor, np.bitwise_xor, "^")


def bitwise_not_(x: Tensor) -> Tensor:
    """``x = ~x`` in place, for an integer or bool tensor."""
    if x._data.dtype.kind == "f":
        raise TypeError(f"bitwise_not_: ~ is only defined for integer and bool tensors, got {x._data.dtype}")
    _writable(x)
    np.invert(x._data, out=x._data)
    x._bump_version()
    return x


def mul_(x: Tensor, other) -> Tensor:
    """``x *= other`` in place."""
    return _apply(x, other, ew.mul, np.multiply, "mul_")


def div_(x: Tensor, other, *, rounding_mode=None) -> Tensor:
    """``x /= other`` in place (a float result: an integer or bool ``x`` is refused, as in PyTorch); with
    ``rounding_mode`` ('trunc' or 'floor') as :func:`~.elementwise.div`, integers staying integers."""
    if rounding_mode is not None:
        return _division_(x, other, lambda a, b: ew.div(a, b, rounding_mode=rounding_mode), "div_")
    if x._data.dtype.kind != "f":
        d = getattr(other, "dtype", None)
        raise _dtype_error("div_", d if d is not None and np.dtype(d).kind == "f" else get_default_dtype(),
                           x._data.dtype)
    return _apply(x, other, ew.div, np.true_divide, "div_")


def _division_(x: Tensor, other, op, name: str) -> Tensor:
    """``x = op(x, other)`` in place, for the integer-style divisions (rules: :func:`~.elementwise.floor_divide`)."""
    if _records(x, other):
        if isinstance(other, Tensor):
            _check_broadcasts_to(name, x, other.shape)
        return _rebase(x, op, other, name=name)
    result = op(Tensor._wrap(x._data), other)._data
    _check_broadcasts_to(name, x, result.shape)
    if (result.dtype.kind not in "iu" or x._data.dtype.kind == "b") and not np.can_cast(result.dtype, x._data.dtype,
                                                                                          "same_kind"):
        raise _dtype_error(name, result.dtype, x._data.dtype)  # a float result into an integer tensor (an integer
        # result wraps into an integer tensor of any width or signedness, as PyTorch)
    _writable(x)[...] = np.asarray(result)
    x._bump_version()
    return x


def floor_divide_(x: Tensor, other) -> Tensor:
    """``x //= other`` in place."""
    return _division_(x, other, ew.floor_divide, "floor_divide_")


def remainder_(x: Tensor, other) -> Tensor:
    """``x %= other`` in place (the sign of ``other``, as :func:`~.elementwise.remainder`)."""
    return _division_(x, other, ew.remainder, "remainder_")


def fmod_(x: Tensor, other) -> Tensor:
    """In-place :func:`~.elementwise.fmod` (the sign of ``x``)."""
    return _division_(x, other, ew.fmod, "fmod_")


def pow_(x: Tensor, other) -> Tensor:
    """``x **= other`` in place (integer tensors follow :func:`~.elementwise.pow`'s rules for negative exponents)."""
    if x._data.dtype.kind == "f" or _records(x, other):
        return _apply(x, other, ew.pow, np.power, "pow_")
    result = ew.pow(Tensor._wrap(x._data), other)._data
    _check_broadcasts_to("pow_", x, result.shape)
    if (result.dtype.kind not in "iu" or x._data.dtype.kind == "b") and not np.can_cast(result.dtype, x._data.dtype,
                                                                                          "same_kind"):
        raise _dtype_error("pow_", result.dtype, x._data.dtype)  # (an integer result wraps into an integer x)
    _writable(x)[...] = np.asarray(result)  # (a NumPy scalar would not wrap: 0-d int16 4096 into int8 is 0)
    x._bump_version()
    return x


def _unary_(fn, name):
    def method(x: Tensor) -> Tensor:
        if _records(x):
            return _rebase(x, fn, name=name)
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


abs_ = _unary_(ew.abs, "abs_")
exp_ = _unary_(ew.exp, "exp_")
relu_ = _unary_(ew.relu, "relu_")
sigmoid_ = _unary_(ew.sigmoid, "sigmoid_")
tanh_ = _unary_(ew.tanh, "tanh_")


def clamp_(x: Tensor, min=None, max=None) -> Tensor:
    """In-place :func:`clamp`."""
    if _records(x, min) or _records(x, max):
        return _rebase(x, ew.clamp, min, max, name="clamp_")
    lo, hi = (b._data if isinstance(b, Tensor) else b for b in ew._int_bounds(x, min, max, "clamp_"))
    try:
        np.clip(_writable(x), lo, hi, out=x._data)
    except TypeError:  # e.g. a float bound for an int or bool tensor: name the dtype of the out-of-place result
        result = ew.clamp(Tensor._wrap(x._data), min, max)._data
        if x._data.dtype.kind not in "iu" or result.dtype.kind not in "iu":
            raise _dtype_error("clamp_", result.dtype, x._data.dtype) from None
        _check_broadcasts_to("clamp_", x, result.shape)
        x._data[...] = result  # an integer result wraps into an integer x of any signedness (as PyTorch)
    x._bump_version()
    return x


def _as_value(x: Tensor, value) -> Tensor:
    """``value`` as a tensor of ``x``'s dtype (a differentiable cast between floats)."""
    if not isinstance(value, Tensor):
        return Tensor._wrap(np.asarray(value, x._data.dtype))
    return value if value._data.dtype == x._data.dtype else ew.cast(value, x._data.dtype)


def _fill(x: Tensor, values, name: str = "fill_") -> Tensor:
    """Overwrite every element (no gradient flows to the old values)."""
    _check_broadcasts_to(name, x, np.shape(values._data if isinstance(values, Tensor) else values))
    if _writes_in_graph(x, values):
        values = _as_value(x, values)
        return _rebase(x, lambda old: ew.where(np.ones(x.shape, bool), values, old), name=name)
    _writable(x)[...] = values._data if isinstance(values, Tensor) else values
    x._bump_version()
    return x


def zero_(x: Tensor) -> Tensor:
    """Set every element to 0 in place."""
    return _fill(x, 0, "zero_")


def fill_(x: Tensor, value) -> Tensor:
    """Set every element to ``value`` (a number or a 0-d tensor, differentiable in it) in place."""
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ValueError(f"fill_: only a 0-d value tensor can fill a tensor, got one of shape {value.shape} "
                         "(use copy_ to copy a tensor that broadcasts)")
    if x._data.dtype.kind in "iu" and (type(value) in (int, float) or isinstance(value, np.generic)):
        value = ew._fill_value(value, x._data.dtype, "fill_").item()  # uint8 takes -1 as 255 (PyTorch), or must fit
    elif (type(value) is float or type(value) is int) and x._data.dtype.kind == "f":
        ew._fill_value(value, x._data.dtype, "fill_")  # a finite number beyond the dtype's range is an error
    return _fill(x, value)


def copy_(x: Tensor, src) -> Tensor:
    """Copy ``src`` (broadcast to ``x``'s shape) into ``x`` in place; differentiable in ``src``."""
    if isinstance(src, Tensor):
        _check_broadcasts_to("copy_", x, src.shape, "a source")
        if src.dtype != x.dtype:
            src = src.astype(x.dtype)
    return _fill(x, src, "copy_")


def _random_fill_check(x: Tensor, name: str) -> None:
    if x._data.dtype.kind != "f":
        raise TypeError(f"{name}: random values need a floating point tensor, got dtype {x.dtype} (they would be "
                        "truncated); convert with .float() first")


def uniform_(x: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from ``U(a, b)``."""
    from ..random import get_generator

    _random_fill_check(x, "uniform_")
    return _fill(x, get_generator(generator).uniform(a, b, x.shape), "uniform_")


def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with samples from ``N(mean, std**2)``."""
    from ..random import get_generator

    _random_fill_check(x, "normal_")
    return _fill(x, get_generator(generator).normal(mean, std, x.shape), "normal_")


def masked_fill_(x: Tensor, mask, value) -> Tensor:
    """In-place ``masked_fill``: ``value`` (a number or a 0-d tensor) where the bool ``mask`` is true. The value
    is converted to ``x``'s dtype (a float into an integer tensor is truncated, as in PyTorch; one that does
    not fit, such as nan, is an error)."""
    m = ew._bool_mask(mask, "masked_fill_", "the mask")
    _check_broadcasts_to("masked_fill_", x, m.shape, "a mask")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ValueError(f"masked_fill_: value must be a number or a 0-d tensor, got a tensor of shape {value.shape}")
    if _writes_in_graph(x, value):
        return _rebase(x, ew.masked_fill, mask, _as_value(x, value), name="masked_fill_")
    v = ew._fill_value(value.item() if isinstance(value, Tensor) else value, x._data.dtype, "masked_fill_")
    np.copyto(_writable(x), v, where=m)
    x._bump_version()
    return x


def setitem_(x: Tensor, index, value) -> None:
    """``x[index] = value``; differentiable in ``value`` (and in the rest of ``x``) inside the graph.

    A position written more than once (repeated or aliased indices) keeps the last write, as NumPy and
    PyTorch (whose ``index_put_`` leaves the order unspecified, and keeps the last one on the CPU). The
    gradient is PyTorch's ``grad[index]`` for ``value``: every write of a position gets that position's
    gradient, the overwritten ones included."""
    from .shape import _normalize_index

    if value is None or isinstance(value, str):  # (NumPy would write None as nan)
        raise TypeError(f"setitem: can't assign a {type(value).__name__} to a tensor; assign a number or a tensor")
    index = _normalize_index(index, x.shape)  # (in PyTorch's dim order)
    if _writes_in_graph(x, value):
        v = _as_value(x, value)
        mask = np.zeros(x.shape, bool)
        try:
            mask[index] = True
            target = x._data[index].shape
            v = _to_target(v, target)
        except (ValueError, IndexError) as e:
            raise type(e)(f"setitem: cannot assign a value of shape {np.shape(v._data)} to index "
                          f"{index!r} of a tensor of shape {x.shape}: {e}") from None
        placed = _Place.apply(v, x.shape, index)
        _rebase(x, lambda old: ew.where(mask, placed, old), name="setitem")
        return
    if x._data.dtype.kind in "iu" and (type(value) in (int, float) or isinstance(value, np.generic)):
        value = ew._fill_value(value, x._data.dtype, "setitem")  # as fill_: uint8 takes -1 as 255, or must fit
    data = value._data if isinstance(value, Tensor) else value
    try:
        _writable(x)[index] = data
    except (ValueError, IndexError, TypeError) as e:
        shape = np.shape(data)  # PyTorch drops the value's leading size-1 dims, where NumPy may refuse them
        extra = len(shape) - np.ndim(x._data[index]) if not isinstance(e, IndexError) else 0
        if extra <= 0 or any(d != 1 for d in shape[:extra]):
            raise (ValueError if isinstance(e, TypeError) and shape else type(e))(  # a shape, not a type
                f"setitem: cannot assign a value of shape {shape} to index {index!r} of a tensor of shape "
                f"{x.shape}: {e}") from None
        _writable(x)[index] = np.reshape(data, shape[extra:])
    x._bump_version()


def _to_target(v: Tensor, target: tuple) -> Tensor:
    """``v`` broadcast to ``target`` (leading dims of size 1 beyond ``target``'s are dropped, as NumPy
    assignment does); ValueError if it does not broadcast."""
    from .shape import expand, reshape

    if v.shape == target:
        return v
    extra = v.ndim - len(target)
    if extra > 0:
        if any(d != 1 for d in v.shape[:extra]):
            raise ValueError(f"the value cannot be broadcast to the indexed shape {target}")
        v = reshape(v, v.shape[extra:])
    if np.broadcast_shapes(v.shape, target) != target:
        raise ValueError(f"the value cannot be broadcast to the indexed shape {target}")
    return expand(v, target) if v.shape != target else v


class _Place(Function):
    """A tensor of ``shape`` holding ``v`` at ``index`` and 0 elsewhere; a position that ``index`` names
    more than once keeps the last write. The gradient of ``v`` is ``g[index]`` (PyTorch's rule for
    ``index_put_``: every write, the overwritten ones too, gets its position's gradient)."""

    def forward(ctx, v, shape, index):
        ctx.index = index
        out = np.zeros(shape, dtype=v.dtype)
        out[index] = v
        return out

    def backward(ctx, g, F):
        return F.getitem(g, ctx.index)


def _scatter_writes(name: str, x: Tensor, dim: int, index, src, value):
    """PyTorch's checks of ``scatter``; returns the positions written (an index of ``x``) and what goes there."""
    from .shape import _axis, getitem, reshape

    if (src is None) == (value is None):
        raise TypeError(f"{name}: pass either src or value (src a tensor or a number, value a number)")
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be an integer tensor, got dtype {idx.dtype}")
    # 0-d input, index and src count as 1-d of one element, as in PyTorch
    idx = idx.reshape(1) if idx.ndim == 0 else idx
    xshape = x.shape or (1,)
    d = _axis(dim, x.ndim, name)
    if idx.ndim != len(xshape):
        raise ValueError(f"{name}: index has {idx.ndim} dims but the input of shape {x.shape} has {x.ndim}")
    limits = [(xshape, "the input", d)]
    if isinstance(src, Tensor):
        src = reshape(src, (1,)) if src.ndim == 0 else src
        if src.ndim != idx.ndim:
            raise ValueError(f"{name}: index has {idx.ndim} dims but src of shape {src.shape} has {src.ndim}")
        if src._data.dtype != x._data.dtype:
            raise TypeError(f"{name}: src must have the same dtype as the input, got {src._data.dtype} and "
                            f"{x._data.dtype}")
        limits.append((src.shape, "src", None))
    for shape, what, skip in limits:
        if idx.size and any(i > n for a, (i, n) in enumerate(zip(idx.shape, shape)) if a != skip):
            raise ValueError(f"{name}: index of shape {idx.shape} must be no larger than {what} of shape {shape}"
                             + (f" in every dim but {dim}" if skip is not None else ""))
    if idx.size and (idx.min() < 0 or idx.max() >= xshape[d]):
        raise IndexError(f"{name}: index values must be in [0, {xshape[d]}) along dim {dim}; got min {idx.min()}, "
                         f"max {idx.max()}")
    if x.ndim == 0:  # the one element, written by the last entry of the index (if any)
        where = () if idx.size else np.zeros((), bool)
        return where, getitem(src, idx.size - 1) if isinstance(src, Tensor) and idx.size else (
            value if src is None else src)
    where = tuple(idx if a == d else np.arange(n).reshape([-1 if b == a else 1 for b in range(idx.ndim)])
                  for a, n in enumerate(idx.shape))
    if isinstance(src, Tensor):
        return where, getitem(src, tuple(slice(0, n) for n in idx.shape))
    return where, value if src is None else src


def scatter_(x: Tensor, dim: int, index, src=None, *, value=None) -> Tensor:
    """In-place ``scatter``: ``x[index[i][j]][j] = src[i][j]`` for ``dim=0`` (or ``value`` everywhere indexed)."""
    where, values = _scatter_writes("scatter_", x, dim, index, src, value)
    setitem_(x, where, values)
    return x


def scatter(x: Tensor, dim: int, index, src=None, *, value=None) -> Tensor:
    """A copy of ``x`` with ``src`` (or ``value``) written at ``index`` along ``dim`` (PyTorch's scatter, the
    inverse of ``gather``); differentiable in ``x`` and ``src``. A position indexed twice keeps the last write."""
    where, values = _scatter_writes("scatter", x, dim, index, src, value)
    out = clone(x)
    setitem_(out, where, values)
    return out


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
