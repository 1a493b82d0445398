"""The namespaces a backward rule's ``F`` can be (see :mod:`tinygradnn.autograd.function`).

``ArrayOps`` works on NumPy arrays (plain backward, nothing recorded); ``ops.TensorOps`` has the same
functions on Tensors (``create_graph=True``: the backward pass is recorded and can be
differentiated again). A rule that sticks to operators and these helpers serves both.
"""

import functools
import math

import numpy as np


def sum_to(g, shape, F):
    """Sum ``g`` over the axes that broadcasting added or stretched, so it gets ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = F.sum(g, axes, True)
    return F.reshape(g, shape) if g.shape != shape else g


@functools.lru_cache(maxsize=32)
def ones_vector(n: int, dtype) -> np.ndarray:
    """A read-only vector of ``n`` ones, cached: ``ones_vector(n, dtype) @ a`` sums the rows of ``a`` with
    BLAS (NumPy's ``a.sum(0)`` of a tall, narrow array is far slower), without building the ones each time."""
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


@functools.cache
def scipy_special():
    """``scipy.special``, imported on first use: importing it takes about as long as all of tinygradnn."""
    import scipy.special

    return scipy.special


def erf_array(x):
    """The error function of an array or number, in its floating dtype (scipy has no float16 loop)."""
    y = scipy_special().erf(x)
    dtype = getattr(x, "dtype", None)
    return y.astype(dtype) if dtype is not None and dtype.kind == "f" and y.dtype != dtype else y


def sigmoid_array(x, out=None):
    """``1 / (1 + exp(-x))``: within a few ulps of scipy's ``expit`` and about 2x faster on float32
    arrays (NumPy's exp is vectorized); ``exp(-x)`` overflowing to inf correctly gives 0. ``out``: a float
    array of ``x``'s shape to write into (``x`` itself included)."""
    if type(x) is not np.ndarray or x.ndim == 0 or x.dtype.kind != "f":
        y = scipy_special().expit(x)  # (a float16 NumPy scalar gives float64 there: keep its dtype)
        dtype = getattr(x, "dtype", None)
        y = y.astype(dtype) if dtype is not None and dtype.kind == "f" and y.dtype != dtype else y
        if out is not None:
            out[...] = y
            return out
        return y
    y = np.negative(x, out)
    with np.errstate(over="ignore"):
        np.exp(y, out=y)
    y += 1
    return np.reciprocal(y, out=y)


_MASK_BITS = {np.dtype(np.float32): np.dtype(np.int32), np.dtype(np.float64): np.dtype(np.int64)}


def _is_plus_zero(v) -> bool:
    return type(v) in (int, float) and v == 0 and math.copysign(1.0, v) > 0


def where_array(cond, a, b):
    """``np.where(cond, a, b)``, as a new array. For a float32/float64 array picked against one of its shape and
    dtype, or against 0, by bit masks: NumPy's where takes a branch per element, which on a mixed condition
    is about ten times slower. The bits are copied, so NaN, inf and -0.0 come through unchanged."""
    x = a if type(a) is np.ndarray else b
    bits = _MASK_BITS.get(getattr(x, "dtype", None))
    if (bits is None or type(cond) is not np.ndarray or cond.dtype != np.bool_ or x.shape != cond.shape
            or not (a is x or _is_plus_zero(a)) or not (b is x or _is_plus_zero(b)
                                                       or (type(b) is np.ndarray and b.dtype == x.dtype
                                                           and b.shape == x.shape))):
        return np.where(cond, a, b)
    out = np.empty(x.shape, x.dtype)
    res = out.view(bits)
    if b is x and a is not x:  # where(cond, 0, b): b's bits where cond is False
        np.subtract(cond, 1, out=res, dtype=bits)  # (all ones where cond is False, else 0)
        np.bitwise_and(res, b.view(bits), out=res)
        return out
    np.negative(cond, out=res, dtype=bits)  # all ones where cond is True, else 0
    if type(b) is np.ndarray:
        keep = np.bitwise_and(np.invert(res), b.view(bits))
        np.bitwise_and(res, a.view(bits), out=res)
        np.bitwise_or(res, keep, out=res)
    else:
        np.bitwise_and(res, a.view(bits), out=res)
    return out


def softplus_neg_abs(x, out=None):
    """``softplus(-|x|) = log1p(exp(-|x|))`` of a float array, with ``log1p(e)`` as ``log(u) - ((u - 1) - e) / u``
    (``u = 1 + e``): within 3 ulps, exact where ``u`` rounds to 1, and about 3x faster than NumPy's float32
    ``log1p``. ``out``: an array of ``x``'s shape to write into."""
    if type(x) is not np.ndarray or not x.ndim:  # (a number: NumPy's own)
        return np.log1p(np.exp(-np.abs(x)))
    e = np.abs(x)
    np.negative(e, out=e)
    np.exp(e, out=e)
    u = e + 1
    y = np.log(u, out=out)
    u -= 1  # (exact)
    u -= e
    e += 1
    u /= e
    y -= u
    return y


def softplus_array(x, out=None):
    """``log(1 + exp(x))`` of a float array as ``max(x, 0) + softplus(-|x|)``: no overflow, within 4 ulps."""
    y = softplus_neg_abs(x, out)
    y += np.maximum(x, 0)
    return y


def sign_array(x):
    """-1, 0 or 1, and 0 for nan (as PyTorch; NumPy's sign gives nan), for the gradient of ``abs``."""
    y = np.sign(x)
    if y.dtype.kind == "f":
        if type(y) is np.ndarray:
            np.copyto(y, 0, where=np.isnan(y))
        elif y != y:
            y = y.dtype.type(0)
    return y


class ArrayOps:
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    tanh = staticmethod(np.tanh)
    sigmoid = staticmethod(sigmoid_array)
    erf = staticmethod(erf_array)
    sign = staticmethod(sign_array)
    where = staticmethod(where_array)
    matmul = staticmethod(np.matmul)

    @staticmethod
    def reshape(x, shape):
        return x if x.shape == shape else np.reshape(x, shape)  # no view: the engine can keep x as a leaf's .grad
    broadcast_to = staticmethod(np.broadcast_to)

    @staticmethod
    def swapaxes(x, a, b):
        return x.swapaxes(a, b)  # the method: np.swapaxes adds two Python-level wrappers

    @staticmethod
    def permute(x, axes):
        return np.transpose(x, axes)

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return np.sum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def sum_to(g, shape):
        return g if g.shape == shape else sum_to(g, shape, ArrayOps)

    @staticmethod
    def index_add(g, shape, index):
        """Zeros of ``shape`` with ``g`` added at ``index`` (the adjoint of ``x[index]``)."""
        from .shape import _index_add

        return _index_add(g, shape, index)

    @staticmethod
    def pad(x, widths, value=0.0):
        return np.pad(x, widths, constant_values=value)

    @staticmethod
    def getitem(x, index):
        return x[index]

    @staticmethod
    def cat(xs, axis):
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def softmax(x, axis):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)

    @staticmethod
    def cast(x, dtype):
        with np.errstate(over="ignore"):  # (beyond the new dtype's range: inf, as PyTorch)
            return x.astype(dtype)
