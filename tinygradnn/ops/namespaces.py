"""The namespaces a backward rule's ``F`` can be (see :mod:`tinygradnn.autograd.function`).

``ArrayOps`` works on NumPy arrays (plain backward, nothing recorded); ``ops.TensorOps`` has the same
functions on Tensors (``create_graph=True``: the backward pass is recorded and can be
differentiated again). A rule that sticks to operators and these helpers serves both.
"""

import functools

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
    where = staticmethod(np.where)
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
