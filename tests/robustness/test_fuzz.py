"""Fuzzing: random shapes (empty and 0-d included), dtypes (float32, float64, int64, bool) and values (NaN,
Inf, huge, tiny) thrown at every public op and at the layers and losses.

An op may either return a correct result (checked against NumPy where a reference is cheap: same shape,
same values, NaN where NumPy has NaN) or raise one of the documented exceptions, *exactly*:
ValueError, TypeError, RuntimeError, IndexError or NotImplementedError. Anything else fails: an
AttributeError, a NumPy ``AxisError`` or ``UFuncTypeError`` leaking through, a ZeroDivisionError, a wrong
shape. A floating input for which NumPy's reference succeeds must succeed here too. When the input
requires grad, ``backward()`` through the result must work and give a gradient of the input's shape.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special

import tinygradnn as tg
import tinygradnn.nn as nn
import tinygradnn.nn.functional as F
from tinygradnn import ops

try:
    import torch
except ImportError:  # the shape comparisons with PyTorch are then skipped (the error rules still run)
    torch = None

DOCUMENTED = (ValueError, TypeError, RuntimeError, IndexError, NotImplementedError)
# A few examples per op keep the file fast; FUZZ_EXAMPLES=500 pytest tests/robustness/test_fuzz.py searches harder.
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 12)), deadline=None,
                suppress_health_check=list(HealthCheck))

DTYPES = [np.float32, np.float64, np.int64, np.bool_]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, np.nan, np.inf, -np.inf, 1e30, -1e30, 1e-30, 3e38, -3e38]
BIG_INTS = [2**40, -(2**40), 2**62]


def elements(dtype):
    if dtype == np.bool_:
        return st.booleans()
    if np.dtype(dtype).kind == "i":
        return st.one_of(st.integers(-5, 5), st.sampled_from(BIG_INTS))
    finite = st.floats(-10, 10, width=32)
    return st.one_of(finite, finite, st.sampled_from(SPECIAL))


def arrays(draw, dtype=None, shape=None, max_dims=3):
    dtype = draw(st.sampled_from(DTYPES)) if dtype is None else dtype
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=3)) if shape is None else shape
    with warnings.catch_warnings():  # 3e38 does not fit float32 when cast from float64: it becomes inf
        warnings.simplefilter("ignore")
        return draw(hnp.arrays(dtype, shape, elements=elements(dtype)))


def broadcastable_shape(draw, shape):
    """A shape that broadcasts with ``shape`` most of the time, and sometimes does not."""
    if draw(st.integers(0, 4)) == 0:
        return draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    return draw(hnp.broadcastable_shapes(shape, min_dims=0, max_dims=3, min_side=0, max_side=3))


def a_dim(draw, ndim, allow_none=False):
    """A dim for a tensor of ``ndim`` dims, sometimes out of range."""
    dims = st.integers(-ndim - 1, max(ndim, 1))
    return draw(st.one_of(st.none(), dims) if allow_none else dims)


def second_operand(draw, a):
    """The other operand of a binary op: a tensor, a Python or a NumPy scalar."""
    kind = draw(st.sampled_from(["tensor", "tensor", "int", "float", "numpy", "bool"]))
    if kind == "tensor":
        b = arrays(draw, shape=broadcastable_shape(draw, a.shape))
        return tg.tensor(b), b
    if kind == "int":
        v = draw(st.integers(-3, 3))
    elif kind == "float":
        v = draw(st.sampled_from([0.5, -2.0, 0.0, np.inf, np.nan, 1e30]))
    elif kind == "numpy":
        v = draw(st.sampled_from([np.float64(1.5), np.float32(-2.0), np.int64(2), np.bool_(True)]))
    else:
        v = draw(st.booleans())
    return v, v


# ----------------------------------------------------------------------------- the op table
# Each entry: (draw, a, x) -> (call, reference). ``a`` is the NumPy input, ``x`` the tensor made from it;
# ``call()`` runs our op, ``reference()`` NumPy's answer (None: no cheap reference, only the error rule).
def unary(np_fn, **kwargs):
    def make(draw, a, x, name):
        return (lambda: getattr(ops, name)(x, **kwargs)), (None if np_fn is None else lambda: np_fn(a))

    return make


def promoted(a, b):
    """The operands NumPy must see to compute what tinygradnn promises (the rule of tinygradnn/_dtype.py,
    written again independently): NumPy scalars are weak, an int/bool array with a Python float is
    float32, a float array with an int/bool array keeps its float dtype."""
    if isinstance(b, np.generic):
        b = b.item()
    if isinstance(b, np.ndarray) and (a.ndim == 0) != (b.ndim == 0):  # (both are tensors in the fuzz)
        # a 0-d tensor with one of at least one dimension counts only when of a higher category, as PyTorch
        category = {"b": 0, "u": 1, "i": 1, "f": 2}
        dim, zero = (a, b) if b.ndim == 0 else (b, a)
        if category[zero.dtype.kind] <= category[dim.dtype.kind]:
            zero = zero.astype(dim.dtype)
            return (dim, zero) if b.ndim == 0 else (zero, dim)
    if isinstance(b, float) and a.dtype.kind in "biu":
        a = a.astype(np.float32)
    if isinstance(b, np.ndarray) and a.dtype.kind != b.dtype.kind:
        floats = [d for d in (a.dtype, b.dtype) if d.kind == "f"]
        if floats:
            a, b = a.astype(np.result_type(*floats)), b.astype(np.result_type(*floats))
    return a, b


def _subtract(a, b):
    """NumPy's subtraction, refusing bools on either side as PyTorch (and tinygradnn) do."""
    if a.dtype == np.bool_ or isinstance(b, bool | np.bool_) or getattr(b, "dtype", None) == np.bool_:
        raise TypeError("subtraction with a bool")
    return np.subtract(a, b)


def _sign(a):
    """sign, 0 for nan (as PyTorch)."""
    return np.where(np.isnan(a), 0, np.sign(a)).astype(a.dtype) if a.dtype.kind == "f" else np.sign(a)


def binary(np_fn, promote=True):
    def make(draw, a, x, name):
        y, b = second_operand(draw, a)
        if np_fn is _subtract:  # (the bool check needs the operands before promotion)
            ref = lambda: (_subtract(a, b), np.subtract(*promoted(a, b)))[1]  # noqa: E731
        else:
            ref = None if np_fn is None else (lambda: np_fn(*promoted(a, b))) if promote else (lambda: np_fn(a, b))
        return (lambda: getattr(ops, name)(x, y)), ref

    return make


def reduction(np_fn, keepdim=True, dims=True):
    def make(draw, a, x, name):
        dim = a_dim(draw, a.ndim, allow_none=True) if dims else None
        kd = draw(st.booleans()) if keepdim else False
        args = (dim, kd) if keepdim else (dim,)
        ref = None if np_fn is None else (lambda: np_fn(a, axis=dim, keepdims=kd) if keepdim else np_fn(a, axis=dim))
        return (lambda: getattr(ops, name)(x, *args)), ref

    return make


def along_dim(np_fn=None):
    def make(draw, a, x, name):
        dim = a_dim(draw, a.ndim)
        return (lambda: getattr(ops, name)(x, dim)), (None if np_fn is None else lambda: np_fn(a, dim))

    return make


def _reshape(draw, a, x, name):
    shape = draw(st.one_of(st.just((-1,)), st.permutations(a.shape).map(tuple),
                           st.lists(st.integers(-1, 4), max_size=3).map(tuple)))
    return (lambda: getattr(ops, name)(x, shape)), lambda: np.reshape(a, shape)


def _like(np_fn):
    def make(draw, a, x, name):
        other = tg.tensor(arrays(draw, shape=broadcastable_shape(draw, a.shape)))
        return (lambda: getattr(ops, name)(x, other)), lambda: np_fn(a, other.numpy())

    return make


def _permute(draw, a, x, name):
    dims = draw(st.one_of(st.permutations(range(a.ndim)).map(tuple),
                          st.lists(st.integers(-4, 4), max_size=3).map(tuple)))
    return (lambda: ops.permute(x, *dims)), lambda: np.transpose(a, dims) if sorted(dims) == list(range(a.ndim)) \
        else np.transpose(a, [d % max(a.ndim, 1) for d in dims])


def _two_dims(draw, a, x, name):
    d0, d1 = a_dim(draw, a.ndim), a_dim(draw, a.ndim)
    return (lambda: getattr(ops, name)(x, d0, d1)), lambda: np.swapaxes(a, d0, d1)


def _squeeze(draw, a, x, name):
    dim = a_dim(draw, a.ndim, allow_none=True)
    ref = (lambda: np.squeeze(a)) if dim is None else (lambda: np.squeeze(a, dim) if a.shape[dim] == 1 else a)
    return (lambda: ops.squeeze(x, dim)), ref


def _unsqueeze(draw, a, x, name):
    dim = draw(st.integers(-a.ndim - 2, a.ndim + 1))
    return (lambda: ops.unsqueeze(x, dim)), lambda: np.expand_dims(a, dim)


def _expand(draw, a, x, name):
    shape = draw(hnp.broadcastable_shapes(a.shape, min_dims=a.ndim, max_dims=4, min_side=0, max_side=3))
    return (lambda: ops.expand(x, shape)), lambda: np.broadcast_to(a, shape)


def _flatten(draw, a, x, name):
    s, e = a_dim(draw, a.ndim), a_dim(draw, a.ndim)
    return (lambda: ops.flatten(x, s, e)), None


def _unflatten(draw, a, x, name):
    dim, sizes = a_dim(draw, a.ndim), tuple(draw(st.lists(st.integers(-1, 3), min_size=1, max_size=3)))
    return (lambda: ops.unflatten(x, dim, sizes)), None


def _repeat(draw, a, x, name):
    reps = tuple(draw(st.lists(st.integers(0, 3), min_size=a.ndim, max_size=a.ndim + 1)))
    return (lambda: getattr(ops, name)(x, reps)), lambda: np.tile(a, reps)


def _flip(draw, a, x, name):
    dims = tuple(draw(st.lists(st.integers(-a.ndim - 1, max(a.ndim, 1)), max_size=2, unique=True)))
    return (lambda: ops.flip(x, dims)), lambda: np.flip(a, dims)


def _roll(draw, a, x, name):
    shift, dim = draw(st.integers(-4, 4)), a_dim(draw, a.ndim, allow_none=True)
    return (lambda: ops.roll(x, shift, dim)), lambda: np.roll(a, shift, dim)


def _split(draw, a, x, name):
    dim = a_dim(draw, a.ndim)
    if name == "split":
        size = draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), max_size=3)))
        call = lambda: ops.split(x, size, dim)  # noqa: E731
    elif name == "chunk":
        n = draw(st.integers(0, 4))
        call = lambda: ops.chunk(x, n, dim)  # noqa: E731
    else:
        call = lambda: ops.unbind(x, dim)  # noqa: E731
    return call, None


def _join(draw, a, x, name):
    others = [tg.tensor(arrays(draw, shape=draw(st.sampled_from([a.shape, a.shape[::-1]])))) for _ in range(2)]
    dim = a_dim(draw, a.ndim + (name == "stack"))
    np_fn = np.stack if name == "stack" else np.concatenate
    return (lambda: getattr(ops, name)([x, *others], dim)), lambda: np_fn([a] + [o.numpy() for o in others], dim)


def _stack_2(draw, a, x, name):
    others = [tg.tensor(arrays(draw, shape=draw(st.sampled_from([a.shape, a.shape[::-1]])))) for _ in range(2)]
    np_fn = getattr(np, name)
    return (lambda: getattr(ops, name)([x, *others])), lambda: np_fn([a] + [o.numpy() for o in others])


def _triangle(draw, a, x, name):
    k = draw(st.integers(-2, 2))
    return (lambda: getattr(ops, name)(x, k)), (lambda: getattr(np, name)(a, k)) if a.ndim >= 2 else None


def _select(draw, a, x, name):
    if name == "masked_select":
        mask = arrays(draw, np.bool_, broadcastable_shape(draw, a.shape))
        return (lambda: ops.masked_select(x, tg.tensor(mask))), lambda: np.broadcast_arrays(a, mask)[0][
            np.broadcast_arrays(a, mask)[1]]
    dim = a_dim(draw, a.ndim)
    if name == "index_select":
        index = draw(st.lists(st.integers(-1, 3), max_size=3))
        return (lambda: ops.index_select(x, dim, tg.tensor(index, dtype=tg.int64))), None
    if name == "narrow":
        start, length = draw(st.integers(-3, 3)), draw(st.integers(-1, 3))
        return (lambda: ops.narrow(x, dim, start, length)), None
    if name == "repeat_interleave":
        reps, dim = draw(st.integers(0, 3)), a_dim(draw, a.ndim, allow_none=True)
        return (lambda: ops.repeat_interleave(x, reps, dim)), lambda: np.repeat(a, reps, axis=dim)
    if name in ("movedim", "moveaxis"):
        dst = a_dim(draw, a.ndim)
        return (lambda: getattr(ops, name)(x, dim, dst)), lambda: np.moveaxis(a, dim, dst)
    return (lambda: getattr(ops, name)(x)), lambda: np.argwhere(a)  # nonzero, argwhere


def _getitem(draw, a, x, name):
    def one(n):
        return draw(st.one_of(st.integers(-n - 1, n), st.slices(max(n, 1)), st.just(None), st.just(Ellipsis),
                              st.lists(st.integers(-n, max(n - 1, 0)), max_size=3).map(np.array)))

    index = tuple(one(n) for n in a.shape[: draw(st.integers(0, a.ndim))])
    if draw(st.booleans()):
        index = (a > 0) if a.dtype != np.bool_ else a
    return (lambda: ops.getitem(x, index)), lambda: a[index]


def _gather(draw, a, x, name):
    dim = a_dim(draw, a.ndim)
    shape = draw(hnp.array_shapes(min_dims=a.ndim, max_dims=a.ndim, min_side=0, max_side=3)) if a.ndim else ()
    index = draw(hnp.arrays(np.int64, shape, elements=st.integers(-1, 3)))
    return (lambda: ops.gather(x, dim, tg.tensor(index))), None


def _scatter(draw, a, x, name):
    dim = a_dim(draw, a.ndim)
    shape = draw(hnp.array_shapes(min_dims=a.ndim, max_dims=a.ndim, min_side=0, max_side=3)) if a.ndim else ()
    index = draw(hnp.arrays(np.int64, shape, elements=st.integers(-1, 3)))
    src = draw(st.sampled_from([1.5, 0, "same"]))
    src = x.detach().clone() if src == "same" else src  # (a src of x's shape and dtype, or a number)
    target = x.clone() if name == "scatter" else x.detach().clone()
    return (lambda: getattr(ops, name)(target, dim, tg.tensor(index), src)), None


def _mm(draw, a, x, name):
    nd = 2 if name == "mm" else 3
    shape = (a.shape[:-2] if a.ndim >= nd else (2,) * (nd - 2)) + (a.shape[-1] if a.ndim else 1, 2)
    other = tg.tensor(arrays(draw, shape=shape[-nd:]))
    return (lambda: getattr(ops, name)(x, other)), None


def _vectors(draw, a, x, name):
    """dot, outer: a second 1-D operand of x's length (a wrong length or ndim when x is not 1-D)."""
    other = tg.tensor(arrays(draw, a.dtype, shape=(a.shape[0] if a.ndim == 1 else 2,)))
    ref = None if a.ndim != 1 or a.dtype.kind != "f" else lambda: getattr(np, name)(a, other.numpy())
    return (lambda: getattr(ops, name)(x, other)), ref


def _diagonals(draw, a, x, name):
    if name == "trace":
        return (lambda: ops.trace(x)), (lambda: np.trace(a)) if a.ndim == 2 and a.dtype.kind == "f" else None
    k = draw(st.integers(-3, 3))
    return (lambda: ops.diag(x, k)), (lambda: np.diag(a, k)) if a.ndim in (1, 2) else None


def _sort_topk(draw, a, x, name):
    dim = a_dim(draw, a.ndim)
    if name in ("sort", "argsort"):
        desc = draw(st.booleans())
        return (lambda: getattr(ops, name)(x, dim, desc)), None
    k = draw(st.integers(-1, 4))
    return (lambda: ops.topk(x, k, dim)[0]), None


def _pad(draw, a, x, name):
    widths = tuple(draw(st.lists(st.integers(-1, 2), max_size=2 * a.ndim + 1)))
    return (lambda: ops.pad(x, widths)), None


def _clamp(draw, a, x, name):
    lo = draw(st.one_of(st.none(), st.sampled_from([-1.0, 0, 0.5, np.nan])))
    hi = draw(st.one_of(st.none(), st.sampled_from([1.0, 2, -1.0])))
    return (lambda: getattr(ops, name)(x, lo, hi)), None


def _where(draw, a, x, name):
    y, b = second_operand(draw, a)
    cond = a > 0 if a.dtype != np.bool_ else a
    return (lambda: ops.where(cond, x, y)), lambda: np.where(cond, *promoted(a, b))


def _masked_fill(draw, a, x, name):
    mask = arrays(draw, np.bool_, broadcastable_shape(draw, a.shape))
    value = draw(st.sampled_from([0.0, -np.inf, 1, True]))
    return (lambda: getattr(ops, name)(x.clone(), tg.tensor(mask), value)), None


def _cast(draw, a, x, name):
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int64, np.bool_]))
    return (lambda: ops.cast(x, dtype)), lambda: a.astype(dtype)


def _inplace_binary(draw, a, x, name):
    y, _ = second_operand(draw, a)
    return (lambda: getattr(ops, name)(x.detach().clone(), y)), None


def _no_grad(make):
    """An op whose backward raises, as PyTorch's (floor_divide): run on the detached input."""
    return lambda draw, a, x, name: make(draw, a, x.detach(), name)


def _inplace_unary(draw, a, x, name):
    return (lambda: getattr(ops, name)(x.detach().clone())), None


def _fill(draw, a, x, name):
    value = draw(st.sampled_from([0, 1.5, np.nan, True]))
    return (lambda: ops.fill_(x.detach().clone(), value)), None


def _random_fill(draw, a, x, name):
    return (lambda: getattr(ops, name)(x.detach().clone())), None


def _copy(draw, a, x, name):
    src = tg.tensor(arrays(draw, shape=broadcastable_shape(draw, a.shape)))
    return (lambda: ops.copy_(x.detach().clone(), src)), None


def _setitem(draw, a, x, name):
    index = draw(st.integers(-len(a) - 1, len(a))) if a.ndim else ()
    value = draw(st.sampled_from([0.0, 7, np.nan]))
    return (lambda: ops.setitem_(x.detach().clone(), index, value)), None


def _matmul(draw, a, x, name):
    other = tg.tensor(arrays(draw, shape=draw(st.one_of(st.just(a.shape[::-1]), hnp.array_shapes(
        min_dims=0, max_dims=3, min_side=0, max_side=3)))))
    return (lambda: ops.matmul(x, other)), lambda: np.matmul(*promoted(a, other.numpy()))


def _compare_all(draw, a, x, name):
    other = tg.tensor(arrays(draw, shape=broadcastable_shape(draw, a.shape)))
    return (lambda: getattr(ops, name)(x, other)), None


def _float_fn(np_fn):
    """A function of reals: NumPy's answer computed in the dtype we promise (int/bool -> default float)."""
    def ref(a):
        return np_fn(a if a.dtype.kind == "f" else a.astype(np.float32))

    return unary(ref)


OPS = {
    # elementwise math
    "abs": unary(np.abs), "neg": unary(np.negative), "sign": unary(_sign), "square": unary(np.square),
    "exp": _float_fn(np.exp), "log": _float_fn(np.log), "log1p": _float_fn(np.log1p), "sqrt": _float_fn(np.sqrt),
    "rsqrt": _float_fn(lambda a: 1 / np.sqrt(a)), "sin": _float_fn(np.sin), "cos": _float_fn(np.cos),
    "erf": _float_fn(special.erf), "tanh": _float_fn(np.tanh), "sigmoid": _float_fn(special.expit),
    "relu": unary(lambda a: np.maximum(a, 0) if a.dtype != np.bool_ else a), "elu": unary(None),
    "gelu": unary(None), "leaky_relu": unary(None), "softplus": unary(None),
    "isnan": unary(np.isnan), "isfinite": unary(np.isfinite), "logical_not": unary(np.logical_not),
    "clone": unary(lambda a: a), "contiguous": unary(lambda a: a),
    "floor": unary(np.floor), "ceil": unary(np.ceil), "trunc": unary(np.trunc), "round": unary(np.round),
    # binary
    "add": binary(np.add), "sub": binary(_subtract), "mul": binary(np.multiply), "div": binary(np.true_divide),
    "pow": binary(None), "maximum": binary(np.maximum), "minimum": binary(np.minimum),
    "eq": binary(np.equal, False), "ne": binary(np.not_equal, False), "lt": binary(np.less, False),
    "le": binary(np.less_equal, False), "gt": binary(np.greater, False), "ge": binary(np.greater_equal, False),
    "logical_and": binary(np.logical_and, False), "logical_or": binary(np.logical_or, False),
    "logical_xor": binary(np.logical_xor, False),
    "bitwise_and": binary(np.bitwise_and, False), "bitwise_or": binary(np.bitwise_or, False),
    "bitwise_xor": binary(np.bitwise_xor, False), "bitwise_not": unary(np.invert),
    "allclose": _compare_all, "isclose": _compare_all, "equal": _compare_all, "where": _where, "matmul": _matmul,
    "mm": _mm, "bmm": _mm, "dot": _vectors, "outer": _vectors, "diag": _diagonals, "trace": _diagonals,
    "clamp": _clamp, "clip": _clamp, "cast": _cast,
    # reductions
    "sum": reduction(np.sum), "mean": reduction(np.mean), "prod": reduction(np.prod),
    "amax": reduction(np.amax), "amin": reduction(np.amin), "max": reduction(None), "min": reduction(None),
    "var": reduction(None), "std": reduction(None), "logsumexp": reduction(None),
    "argmax": reduction(None), "argmin": reduction(None),
    "norm": reduction(None), "all": reduction(np.all, keepdim=False), "any": reduction(np.any, keepdim=False),
    "softmax": along_dim(), "log_softmax": along_dim(),
    "cumsum": along_dim(lambda a, d: np.cumsum(a, d).reshape(a.shape)),  # (0-d stays 0-d, as in PyTorch)
    # shapes
    "reshape": _reshape, "view": _reshape, "view_as": _like(None), "reshape_as": _like(None),
    "expand_as": _like(lambda a, o: np.broadcast_to(a, o.shape)), "expand": _expand, "flatten": _flatten,
    "unflatten": _unflatten,
    "permute": _permute, "transpose": _two_dims, "swapaxes": _two_dims, "squeeze": _squeeze,
    "unsqueeze": _unsqueeze, "repeat": _repeat, "tile": _repeat, "flip": _flip, "roll": _roll,
    "split": _split, "chunk": _split, "unbind": _split, "cat": _join, "concatenate": _join, "stack": _join,
    "getitem": _getitem, "gather": _gather, "sort": _sort_topk, "argsort": _sort_topk, "topk": _sort_topk, "pad": _pad,
    "masked_fill": _masked_fill, "hstack": _stack_2, "vstack": _stack_2, "tril": _triangle, "triu": _triangle,
    "index_select": _select, "masked_select": _select, "narrow": _select, "repeat_interleave": _select,
    "movedim": _select, "moveaxis": _select, "nonzero": _select, "argwhere": _select, "scatter": _scatter,
    "unique": unary(lambda a: np.unique(a, equal_nan=False)), "bincount": unary(lambda a: np.bincount(a)),
    # in place
    "add_": _inplace_binary, "sub_": _inplace_binary, "mul_": _inplace_binary, "div_": _inplace_binary,
    "pow_": _inplace_binary, "abs_": _inplace_unary, "exp_": _inplace_unary, "relu_": _inplace_unary,
    "sigmoid_": _inplace_unary,
    "tanh_": _inplace_unary, "zero_": _inplace_unary, "clamp_": _clamp, "fill_": _fill, "copy_": _copy,
    "masked_fill_": _masked_fill, "uniform_": _random_fill, "normal_": _random_fill, "setitem_": _setitem,
    "bitwise_and_": _inplace_binary, "bitwise_or_": _inplace_binary, "bitwise_xor_": _inplace_binary,
    "bitwise_not_": _inplace_unary, "scatter_": _scatter,
    # integer-style division
    "floor_divide": _no_grad(binary(np.floor_divide)), "remainder": binary(np.remainder), "fmod": binary(np.fmod),
    "floor_divide_": _inplace_binary, "remainder_": _inplace_binary, "fmod_": _inplace_binary,
}


def test_the_table_covers_every_public_op():
    assert sorted(OPS) == sorted(ops.__all__), "add the new op to OPS (with a NumPy reference if cheap)"


def run(call):
    """``call()`` with NumPy's floating-point warnings silenced (NaN in, NaN out is the point here)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def check_outcome(name, call, reference, a, x):
    try:
        out = run(call)
    except DOCUMENTED as e:
        assert type(e) in DOCUMENTED, f"{name}: {type(e).__module__}.{type(e).__name__} leaked: {e}"
        assert str(e), f"{name}: {type(e).__name__} without a message"
        if a.dtype.kind == "f" and reference is not None:
            try:
                run(reference)
            except Exception:
                return
            pytest.fail(f"{name} raised {type(e).__name__} ({e}) on a {a.dtype} input of shape {a.shape} that "
                        "NumPy handles")
        return
    except Exception as e:  # anything else is a bug
        pytest.fail(f"{name}: {type(e).__module__}.{type(e).__name__} is not a documented error: {e}")
    if reference is not None:
        try:
            expected = run(reference)
        except Exception:
            expected = None
        if expected is not None:
            compare(name, out, expected)
    if isinstance(out, tg.Tensor) and out.requires_grad and out.is_floating_point() and x.requires_grad:
        run(lambda: out.sum().backward())
        assert x.grad is not None and x.grad.shape == x.shape, f"{name}: gradient of shape " \
                                                              f"{None if x.grad is None else x.grad.shape}"


def compare(name, out, expected):
    if isinstance(out, bool):
        assert out == bool(expected)
        return
    assert isinstance(out, tg.Tensor), f"{name} returned {type(out).__name__}"
    got = out.detach().numpy()
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"{name}: shape {got.shape}, NumPy says {expected.shape}"
    if got.dtype.kind in "biu" and expected.dtype.kind in "biu":
        np.testing.assert_array_equal(got, expected, err_msg=name)
    else:
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(got.astype(np.float64), expected.astype(np.float64), rtol=1e-5, atol=1e-30,
                                       equal_nan=True, err_msg=name)


@pytest.mark.parametrize("name", sorted(OPS))
@FUZZ
@given(data=st.data())
def test_every_op_gives_a_correct_result_or_a_documented_error(name, data):
    a = arrays(data.draw)
    x = tg.tensor(a)
    if a.dtype.kind == "f" and not name.endswith("_") and data.draw(st.booleans()):
        x.requires_grad_()
    call, reference = OPS[name](data.draw, a, x, name)
    check_outcome(name, call, reference, a, x)


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("bad", ["abc", None, object(), {"a": 1}])
def test_every_op_names_itself_when_given_a_wrong_type(name, bad):
    """The first argument of every op (the tensor, or the list of tensors for cat/stack) is not a tensor."""
    first = [bad] if name in ("cat", "concatenate", "stack", "hstack", "vstack") else bad
    args = {"where": (tg.ones(2) > 0, bad, 1.0)}.get(name, (first,) + _EXTRA_ARGS.get(name, ()))
    with pytest.raises(DOCUMENTED) as info:
        run(lambda: getattr(ops, name)(*args))
    assert type(info.value) in (TypeError, ValueError), f"{name}: {type(info.value).__name__}: {info.value}"
    op_name = getattr(ops, name).__name__  # aliases (clip, view, concatenate, ...) name the op they are
    assert str(info.value).startswith(f"{op_name}:"), f"{name}: the message does not name the op: {info.value}"


_EXTRA_ARGS = {
    "mm": (tg.ones(2, 2),), "bmm": (tg.ones(1, 2, 2),), "dot": (tg.ones(2),), "outer": (tg.ones(2),),
    "add": (1.0,), "sub": (1.0,), "mul": (1.0,), "div": (1.0,), "pow": (1.0,), "maximum": (1.0,),
    "minimum": (1.0,), "matmul": (tg.ones(2),), "eq": (1.0,), "ne": (1.0,), "lt": (1.0,), "le": (1.0,),
    "gt": (1.0,), "ge": (1.0,), "logical_and": (1.0,), "logical_or": (1.0,), "logical_xor": (1.0,),
    "bitwise_and": (1,), "bitwise_or": (1,), "bitwise_xor": (1,),
    "allclose": (tg.ones(2),), "isclose": (tg.ones(2),), "equal": (tg.ones(2),), "unflatten": (0, (1,)),
    "gather": (0, tg.tensor([0])), "scatter": (0, tg.tensor([0]), 1.0), "scatter_": (0, tg.tensor([0]), 1.0),
    "getitem": (0,),
    "cast": (np.float32,), "chunk": (2,), "split": (1,), "expand": ((2,),), "expand_as": (tg.ones(2),),
    "reshape": ((1,),), "view": ((1,),), "view_as": (tg.ones(1),), "reshape_as": (tg.ones(1),),
    "permute": ((0,),), "repeat": ((1,),), "tile": ((1,),), "roll": (1,), "flip": ((0,),),
    "unsqueeze": (0,), "cumsum": (0,), "topk": (1,), "pad": ((1, 1),), "masked_fill": (tg.ones(1) > 0, 0.0),
    "masked_fill_": (tg.ones(1) > 0, 0.0), "add_": (1.0,), "sub_": (1.0,), "mul_": (1.0,), "div_": (1.0,),
    "pow_": (1.0,), "fill_": (1.0,), "copy_": (tg.ones(1),), "setitem_": (0, 1.0), "clamp": (0.0,),
    "index_select": (0, tg.tensor([0])), "masked_select": (tg.ones(1) > 0,), "narrow": (0, 0, 1),
    "movedim": (0, 0), "moveaxis": (0, 0), "repeat_interleave": (1,),
    "clip": (0.0,), "clamp_": (0.0,), "bitwise_and_": (1,), "bitwise_or_": (1,), "bitwise_xor_": (1,),
    "floor_divide": (1.0,), "remainder": (1.0,), "fmod": (1.0,), "floor_divide_": (1.0,), "remainder_": (1.0,),
    "fmod_": (1.0,),
}


# ----------------------------------------------------------------------------- layers and losses
def _float_or_not(draw, shape):
    return tg.tensor(arrays(draw, draw(st.sampled_from([np.float32, np.float32, np.float64, np.int64])), shape))


class _First(nn.Module):
    """The first output of a layer that returns a tuple (a recurrent layer's output sequence, an LSTMCell's h)."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x)[0]


class _SelfAttention(nn.Module):
    """``F.scaled_dot_product_attention(x, x, x)``, or a ``MultiheadAttention``'s output for ``(x, x, x)``."""

    def __init__(self, mha=None):
        super().__init__()
        self.mha = mha

    def forward(self, x):
        return F.scaled_dot_product_attention(x, x, x) if self.mha is None else self.mha(x, x, x)[0]


def _recurrent(d, name):
    return _First(getattr(nn, name)(2, 3, batch_first=d(st.booleans()), bidirectional=d(st.booleans())))


LAYERS = {
    "Linear": lambda d: (nn.Linear(3, 2), d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))),
    "Conv1d": lambda d: (nn.Conv1d(2, 3, 3, padding=d(st.integers(0, 1))),
                         d(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5))),
    "Conv2d": lambda d: (nn.Conv2d(2, 3, 2, stride=d(st.integers(1, 2))),
                         d(hnp.array_shapes(min_dims=2, max_dims=5, min_side=0, max_side=4))),
    "ConvTranspose1d": lambda d: (nn.ConvTranspose1d(2, 3, 3, stride=d(st.integers(1, 2)),
                                                     padding=d(st.integers(0, 2))),
                                  d(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4))),
    "ConvTranspose2d": lambda d: (nn.ConvTranspose2d(2, 4, 2, stride=2, groups=2,
                                                     output_padding=d(st.integers(0, 1))),
                                  d(hnp.array_shapes(min_dims=2, max_dims=5, min_side=0, max_side=4))),
    "MaxPool1d": lambda d: (nn.MaxPool1d(2), d(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5))),
    "MaxPool2d": lambda d: (nn.MaxPool2d(2, padding=d(st.integers(0, 1))),
                            d(hnp.array_shapes(min_dims=2, max_dims=5, min_side=0, max_side=4))),
    "AvgPool2d": lambda d: (nn.AvgPool2d(2), d(hnp.array_shapes(min_dims=2, max_dims=5, min_side=0, max_side=4))),
    "AdaptiveAvgPool2d": lambda d: (nn.AdaptiveAvgPool2d(d(st.sampled_from([1, 2, (3, None)]))),
                                    d(hnp.array_shapes(min_dims=2, max_dims=5, min_side=0, max_side=4))),
    "BatchNorm1d": lambda d: (nn.BatchNorm1d(2), d(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=3))),
    "BatchNorm2d": lambda d: (nn.BatchNorm2d(2).train(d(st.booleans())),
                              d(hnp.array_shapes(min_dims=2, max_dims=5, min_side=0, max_side=3))),
    "ReLU": lambda d: (nn.ReLU(), d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))),
    "Tanh": lambda d: (nn.Tanh(), d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))),
    "Softmax": lambda d: (nn.Softmax(dim=-1), d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))),
    "GELU": lambda d: (nn.GELU(), d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))),
    "Dropout": lambda d: (nn.Dropout(0.5), d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))),
    "Flatten": lambda d: (nn.Flatten(), d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))),
    "Embedding": lambda d: (nn.Embedding(4, 2), d(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))),
    "SiLU": lambda d: (nn.SiLU(), d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))),
    "Mish": lambda d: (nn.Mish(), d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))),
    "Hardtanh": lambda d: (nn.Hardtanh(), d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))),
    "ReLU6": lambda d: (nn.ReLU6(), d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))),
    "LayerNorm": lambda d: (nn.LayerNorm(d(st.sampled_from([2, (2, 3)]))),
                            d(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))),
    "GroupNorm": lambda d: (nn.GroupNorm(2, 4), d(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))),
    "Dropout1d": lambda d: (nn.Dropout1d(0.5), d(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))),
    "Dropout2d": lambda d: (nn.Dropout2d(0.5), d(hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=3))),
    "AdaptiveAvgPool1d": lambda d: (nn.AdaptiveAvgPool1d(d(st.sampled_from([0, 1, 2, 4]))),
                                    d(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4))),
    "AdaptiveMaxPool1d": lambda d: (nn.AdaptiveMaxPool1d(d(st.sampled_from([1, 2, 4]))),
                                    d(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4))),
    "AdaptiveMaxPool2d": lambda d: (nn.AdaptiveMaxPool2d(d(st.sampled_from([1, 2, (3, None), (0, 2)]))),
                                    d(hnp.array_shapes(min_dims=2, max_dims=5, min_side=0, max_side=4))),
    "Upsample": lambda d: (nn.Upsample(**d(st.sampled_from([dict(scale_factor=2), dict(size=3), dict(scale_factor=0.5),
                                                            dict(size=2, mode="bilinear"),
                                                            dict(scale_factor=1.5, mode="linear")]))),
                           d(hnp.array_shapes(min_dims=2, max_dims=5, min_side=0, max_side=3))),
    "PReLU": lambda d: (nn.PReLU(d(st.sampled_from([1, 2]))),
                        d(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))),
    **{name: lambda d, name=name: (_recurrent(d, name),
                                   d(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3)))
       for name in ("RNN", "LSTM", "GRU")},
    "RNNCell": lambda d: (nn.RNNCell(2, 3), d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))),
    "GRUCell": lambda d: (nn.GRUCell(2, 3), d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))),
    "LSTMCell": lambda d: (_First(nn.LSTMCell(2, 3)),
                           d(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))),
    "scaled_dot_product_attention": lambda d: (_SelfAttention(),
                                               d(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=3))),
    "MultiheadAttention": lambda d: (_SelfAttention(nn.MultiheadAttention(4, 2, batch_first=d(st.booleans()))),
                                     d(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))),
    "TransformerEncoderLayer": lambda d: (nn.TransformerEncoderLayer(4, 2, 8, batch_first=d(st.booleans())),
                                          d(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))),
}


def _first(module):
    """PyTorch's side of ``_First``."""
    return lambda x: module(x)[0]


def _torch_twin(name, layer):
    """The same layer in PyTorch, to get the output shape it would give (None when not cheap)."""
    if torch is None:
        return None
    tnn = torch.nn
    twins = {
        "Linear": lambda: tnn.Linear(3, 2), "ReLU": tnn.ReLU, "Tanh": tnn.Tanh, "GELU": tnn.GELU,
        "Softmax": lambda: tnn.Softmax(dim=-1), "Flatten": tnn.Flatten, "Embedding": lambda: tnn.Embedding(4, 2),
        "Conv1d": lambda: tnn.Conv1d(2, 3, 3, padding=layer.padding), "MaxPool1d": lambda: tnn.MaxPool1d(2),
        "Conv2d": lambda: tnn.Conv2d(2, 3, 2, stride=layer.stride), "AvgPool2d": lambda: tnn.AvgPool2d(2),
        "MaxPool2d": lambda: tnn.MaxPool2d(2, padding=layer.padding),
        "ConvTranspose1d": lambda: tnn.ConvTranspose1d(2, 3, 3, stride=layer.stride, padding=layer.padding),
        "ConvTranspose2d": lambda: tnn.ConvTranspose2d(2, 4, 2, stride=2, groups=2,
                                                       output_padding=layer.output_padding),
        "BatchNorm1d": lambda: tnn.BatchNorm1d(2), "BatchNorm2d": lambda: tnn.BatchNorm2d(2).train(layer.training),
        "SiLU": tnn.SiLU, "Mish": tnn.Mish, "Hardtanh": tnn.Hardtanh, "ReLU6": tnn.ReLU6,
        "LayerNorm": lambda: tnn.LayerNorm(layer.normalized_shape),
        "GroupNorm": lambda: tnn.GroupNorm(2, 4), "PReLU": lambda: tnn.PReLU(layer.num_parameters),
        "AdaptiveAvgPool1d": lambda: tnn.AdaptiveAvgPool1d(layer.output_size),
        "AdaptiveMaxPool1d": lambda: tnn.AdaptiveMaxPool1d(layer.output_size),
        "AdaptiveMaxPool2d": lambda: tnn.AdaptiveMaxPool2d(layer.output_size),
        "Upsample": lambda: tnn.Upsample(layer.size, layer.scale_factor, layer.mode),
        "Dropout1d": lambda: tnn.Dropout1d(0.5), "Dropout2d": lambda: tnn.Dropout2d(0.5),
        "RNNCell": lambda: tnn.RNNCell(2, 3), "GRUCell": lambda: tnn.GRUCell(2, 3),
        "LSTMCell": lambda: _first(tnn.LSTMCell(2, 3)),
        **{name: lambda name=name: _first(getattr(tnn, name)(2, 3, batch_first=layer.layer.batch_first,
                                                             bidirectional=layer.layer.bidirectional))
           for name in ("RNN", "LSTM", "GRU")},
        "scaled_dot_product_attention": lambda: lambda x: torch.nn.functional.scaled_dot_product_attention(x, x, x),
        "MultiheadAttention": lambda: (lambda m: lambda x: m(x, x, x)[0])(
            tnn.MultiheadAttention(4, 2, batch_first=layer.mha.batch_first)),
        "TransformerEncoderLayer": lambda: tnn.TransformerEncoderLayer(4, 2, 8,
                                                                       batch_first=layer.self_attn.batch_first),
    }
    return twins[name]() if name in twins else None


def _torch_shape(twin, x):
    data = torch.zeros(x.shape, dtype=torch.int64 if x.dtype == np.int64 else torch.float32)
    try:
        with torch.no_grad():
            return tuple(twin(data).shape)
    except Exception:
        return None


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.filterwarnings("ignore:dropout2d:UserWarning")  # (PyTorch's warning for ranks other than 4, also ours)
@FUZZ
@given(data=st.data())
def test_layers_give_a_result_or_a_documented_error(name, data):
    """A float32 input that PyTorch's twin accepts must work and give PyTorch's output shape."""
    layer, shape = LAYERS[name](data.draw)
    if name == "Embedding":
        x = tg.tensor(data.draw(hnp.arrays(np.int64, shape, elements=st.integers(-1, 4))))
    else:
        x = _float_or_not(data.draw, shape)
        if x.is_floating_point():
            x.requires_grad_()
    twin = _torch_twin(name, layer)
    expected = _torch_shape(twin, x) if twin is not None and (x.dtype == np.float32 or name == "Embedding") else None
    if name == "Embedding" and x.numel() and (x.numpy().min() < 0 or x.numpy().max() >= 4):
        expected = None  # torch raises (as we do) for indices out of range
    if expected is None or x.numel() == 0:  # (we check empty inputs more strictly than PyTorch does)
        check_outcome(name, lambda: layer(x), None, x.detach().numpy(), x)
    if expected is not None:
        try:
            out = run(lambda: layer(x))
        except DOCUMENTED:
            assert x.numel() == 0, f"{name} refused a {x.shape} input that PyTorch accepts"
            return
        assert out.shape == expected, f"{name}: output shape {out.shape}, PyTorch gives {expected} for {x.shape}"


LOSSES = {
    "mse_loss": F.mse_loss, "l1_loss": F.l1_loss, "huber_loss": F.huber_loss, "smooth_l1_loss": F.smooth_l1_loss,
    "binary_cross_entropy": F.binary_cross_entropy,
    "binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
    "cross_entropy": F.cross_entropy, "nll_loss": F.nll_loss,
    "kl_div": F.kl_div,
}


@pytest.mark.parametrize("name", sorted(LOSSES))
@FUZZ
@given(data=st.data())
def test_losses_give_a_result_or_a_documented_error(name, data):
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))
    x = _float_or_not(data.draw, shape)
    if name in ("cross_entropy", "nll_loss") and data.draw(st.booleans()):
        target_shape = data.draw(st.sampled_from([shape[:1] + shape[2:], shape, (2,)]))
        target = tg.tensor(data.draw(hnp.arrays(np.int64, target_shape, elements=st.integers(-1, 3))))
    else:
        target = _float_or_not(data.draw, data.draw(st.sampled_from([shape, shape[::-1], (2,)])))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none", "avg"]))
    if x.is_floating_point():
        x.requires_grad_()
    check_outcome(name, lambda: LOSSES[name](x, target, reduction=reduction), None, x.detach().numpy(), x)
    try:
        out = run(lambda: LOSSES[name](x.detach(), target, reduction=reduction))
    except DOCUMENTED:
        return
    if reduction != "none":
        assert out.shape == (), f"{name}: reduction={reduction!r} gave shape {out.shape}"
    elif name == "kl_div":  # (broadcasts, as PyTorch)
        assert out.shape == np.broadcast_shapes(x.shape, target.shape), f"{name}: shape {out.shape}"
    elif name in ("cross_entropy", "nll_loss"):
        assert out.shape == (x.shape[:1] + x.shape[2:] if x.ndim > 1 else ()), f"{name}: shape {out.shape}"
    else:
        assert out.shape == x.shape, f"{name}: shape {out.shape} for input {x.shape}"


@FUZZ
@given(data=st.data())
def test_layer_output_shapes_match_pytorchs_formulas(data):
    """Successful calls return the documented shapes (pooling and convolution arithmetic)."""
    n, c, h, w = (data.draw(st.integers(1, 3)), 2, data.draw(st.integers(2, 6)), data.draw(st.integers(2, 6)))
    k, s, p = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2)), data.draw(st.integers(0, 1))
    x = tg.randn(n, c, h, w)
    conv = nn.Conv2d(c, 3, k, stride=s, padding=p)
    assert conv(x).shape == (n, 3, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
    if 2 * p <= k:
        assert nn.MaxPool2d(k, s, p)(x).shape == (n, c, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1)
    assert nn.Linear(w, 4)(x).shape == (n, c, h, 4)
    assert nn.BatchNorm2d(c)(x).shape == x.shape
