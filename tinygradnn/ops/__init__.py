"""Every differentiable operation, as functions (also bound as Tensor methods).

* :mod:`.elementwise` arithmetic, unary math, activations, comparisons
* :mod:`.reduce`      sum, mean, var, max, logsumexp, softmax, ...
* :mod:`.shape`       reshape, permute, indexing, cat, pad, ...
* :mod:`.linalg`      matmul
* :mod:`.inplace`     in-place variants and the version counter
"""

from . import elementwise, inplace, linalg, reduce, shape
from .elementwise import (
    abs,
    add,
    allclose,
    cast,
    clamp,
    clip,
    cos,
    div,
    elu,
    eq,
    equal,
    erf,
    exp,
    ge,
    gelu,
    gt,
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
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    relu,
    rsqrt,
    sigmoid,
    sign,
    sin,
    softplus,
    sqrt,
    square,
    sub,
    tanh,
    where,
)
from .inplace import (
    add_,
    clamp_,
    clone,
    contiguous,
    copy_,
    div_,
    exp_,
    fill_,
    masked_fill,
    masked_fill_,
    mul_,
    normal_,
    pow_,
    relu_,
    setitem_,
    sigmoid_,
    sub_,
    tanh_,
    uniform_,
    zero_,
)
from .linalg import matmul
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
    prod,
    softmax,
    std,
    sum,
    var,
)
from .shape import (
    cat,
    chunk,
    concatenate,
    expand,
    expand_as,
    flatten,
    flip,
    gather,
    getitem,
    pad,
    permute,
    repeat,
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
    unbind,
    unsqueeze,
    view,
    view_as,
)


class TensorOps:
    """The backward-rule helpers of :class:`.namespaces.ArrayOps` on Tensors (used by ``create_graph``)."""

    exp, log, sqrt, sin, cos, tanh, sigmoid, erf, sign = map(staticmethod, (exp, log, sqrt, sin, cos, tanh,
                                                                          sigmoid, erf, sign))
    where, matmul, reshape, permute, getitem = map(staticmethod, (where, matmul, reshape, permute, getitem))
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
