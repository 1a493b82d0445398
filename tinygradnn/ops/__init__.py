"""Every differentiable operation, as functions (also bound as Tensor methods).

* :mod:`.elementwise` arithmetic, unary math, activations, comparisons
* :mod:`.reduce`      sum, mean, var, max, logsumexp, softmax, ...
* :mod:`.shape`       reshape, permute, indexing, cat, pad, ...
* :mod:`.linalg`      matmul, mm, dot, outer, diag, trace
* :mod:`.inplace`     in-place variants and the version counter
"""

import functools as _functools
import inspect as _inspect

from ..tensor import Tensor as _Tensor
from ..tensor import tensor_arg as _tensor_arg
from . import elementwise, inplace, linalg, reduce, shape
from .elementwise import (
    abs,
    add,
    allclose,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    cast,
    ceil,
    clamp,
    clip,
    cos,
    div,
    elu,
    eq,
    equal,
    erf,
    exp,
    floor,
    floor_divide,
    fmod,
    ge,
    gelu,
    gt,
    isclose,
    isfinite,
    isnan,
    le,
    leaky_relu,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    masked_fill,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    softplus,
    sqrt,
    square,
    sub,
    tanh,
    trunc,
    where,
)
from .inplace import (
    abs_,
    add_,
    bitwise_and_,
    bitwise_not_,
    bitwise_or_,
    bitwise_xor_,
    clamp_,
    clone,
    contiguous,
    copy_,
    div_,
    exp_,
    fill_,
    floor_divide_,
    fmod_,
    masked_fill_,
    mul_,
    normal_,
    pow_,
    relu_,
    remainder_,
    scatter,
    scatter_,
    setitem_,
    sigmoid_,
    sub_,
    tanh_,
    uniform_,
    zero_,
)
from .linalg import bmm, diag, dot, matmul, mm, outer, trace
from .namespaces import ArrayOps, sum_to
from .reduce import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    cumsum,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    softmax,
    std,
    sum,
    var,
)
from .shape import (
    argsort,
    argwhere,
    bincount,
    cat,
    chunk,
    concatenate,
    expand,
    expand_as,
    flatten,
    flip,
    gather,
    getitem,
    hstack,
    index_select,
    masked_select,
    moveaxis,
    movedim,
    narrow,
    nonzero,
    pad,
    permute,
    repeat,
    repeat_interleave,
    reshape,
    reshape_as,
    roll,
    sort,
    split,
    squeeze,
    stack,
    swapaxes,
    tile,
    topk,
    transpose,
    tril,
    triu,
    unbind,
    unflatten,
    unique,
    unsqueeze,
    view,
    view_as,
    vstack,
)


class TensorOps:
    """The backward-rule helpers of :class:`.namespaces.ArrayOps` on Tensors (used by ``create_graph``)."""

    exp, log, sqrt, sin, cos, tanh, sigmoid, erf, sign = map(staticmethod, (exp, log, sqrt, sin, cos, tanh,
                                                                          sigmoid, erf, sign))
    where, matmul, reshape, permute = map(staticmethod, (where, matmul, reshape, permute))
    getitem = staticmethod(shape._getitem)  # an index already in NumPy's form (flip's negative steps too)
    broadcast_to, swapaxes, cast, softmax = map(staticmethod, (expand, transpose, cast, softmax))

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return sum(x, axis, keepdims)

    @staticmethod
    def sum_to(g, shape):
        return sum_to(g, shape, TensorOps)

    @staticmethod
    def index_add(g, shape, index):
        return shape_mod._IndexAdd.apply(g, shape, index)

    @staticmethod
    def cat(xs, axis):
        return cat(xs, axis)

    @staticmethod
    def pad(x, widths, value=0.0):
        return shape_mod._Pad.apply(x, widths, value)


shape_mod = shape

__all__ = sorted(n for n, v in list(globals().items())
                 if callable(v) and not n.startswith("_") and n not in ("ArrayOps", "TensorOps", "sum_to"))


# ----------------------------------------------------------------------------- the input's type
def _checks_its_input(fn):
    """``fn(x, ...)`` that also takes an array-like ``x`` (converted with ``tensor()``) and raises a TypeError
    naming the op for anything else (``tinygradnn.exp("abc")``), instead of failing deep inside NumPy."""
    name = fn.__name__

    @_functools.wraps(fn)
    def op(x, *args, **kwargs):
        if type(x) is not _Tensor:
            x = _tensor_arg(x, name)
        return fn(x, *args, **kwargs)

    return op


# Every public op whose first parameter is the input tensor ``x`` gets the check. Tensor methods bind the
# unwrapped functions (``fn.__wrapped__``): their ``self`` is always a Tensor.
for _name in __all__:
    if next(iter(_inspect.signature(globals()[_name]).parameters), None) == "x":
        globals()[_name] = _checks_its_input(globals()[_name])
