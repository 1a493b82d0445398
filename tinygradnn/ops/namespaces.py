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


class row_buffer:
    """Context: NumPy's ufunc buffer sized to rows of ``run`` contiguous elements, for ufuncs that broadcast an
    operand along such rows (``x - mean`` with ``mean`` per row, ``x * weight`` with ``weight`` per column).

    Measured on NumPy 2.4: with rows of 512 to 8192 elements these run about 1.7x faster when the buffer (8192
    elements by default) holds at most one row; with a larger one the iterator gathers several rows per inner
    call. Shorter rows gain nothing (the per-row calls cost more), so the context does nothing for them.
    ``np.setbufsize`` is per thread (a context variable) and restored on exit; results are unchanged.
    """

    __slots__ = ("size", "old")
    MIN_RUN, MAX_RUN = 512, 8192

    def __init__(self, run: int):
        self.size = -(-run // 16) * 16 if row_buffer.MIN_RUN <= run < row_buffer.MAX_RUN else 0  # (16k: NumPy)
        self.old = 0

    def __enter__(self):
        if self.size:
            self.old = np.setbufsize(self.size)
        return self

    def __exit__(self, *exc):
        if self.size:
            np.setbufsize(self.old)


def per_column(ufunc, a: np.ndarray, v: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``ufunc(a, v, out=out)`` for C-contiguous ``(R, C)`` arrays ``a`` and ``out`` and ``v`` of shape ``(C,)``
    (a value per column: layer_norm's weight and bias).

    Rows of fewer than 1024 elements are taken ``t`` at a time, against ``v`` repeated ``t`` times, as rows of
    about 2048 elements under :class:`row_buffer`: about 1.6x faster than NumPy's broadcast over short rows.
    """
    r, c = a.shape
    t = 2048 // max(c, 1)
    if t < 2 or a.size < 65536:
        return ufunc(a, v, out=out)
    m = r - r % t  # (the remaining rows, fewer than t, as they are)
    with row_buffer(t * c):
        ufunc(a[:m].reshape(m // t, t * c), np.tile(v, t), out=out[:m].reshape(m // t, t * c))
    if m < r:
        ufunc(a[m:], v, out=out[m:])
    return out


def in_rows(run: int, fn, *args):
    """``fn(*args)``, under :class:`row_buffer` for rows of ``run`` elements where that helps (no cost else)."""
    if run < row_buffer.MIN_RUN or run >= row_buffer.MAX_RUN:
        return fn(*args)
    with row_buffer(run):
        return fn(*args)


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


# Phi(-a) = phi(a) / (a + S(a)) for a >= 0, S = P / Q a rational function of degrees 3 and 4 (Q monic), fitted by
# benchmarks/fit_normal_tail.py (within 5e-8 of the Mills ratio 1 / (a + S)); constant terms first; P(0) one float32
# step up from the fit, so that Phi(0) comes out 0.5 exactly
_MILLS_P = tuple(map(np.float32, (68.32205200195312, 34.26594543457031, 8.855884552001953, 0.9992475509643555)))
_MILLS_Q = tuple(map(np.float32, (85.62899017333984, 81.94371795654297, 36.72246170043945, 8.82701587677002)))
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_ONE_BITS = np.int32(0x3F800000)  # (1.0 as float32)
_CHUNK = 1 << 15  # elements per step: the float64 and float32 temporaries stay in cache and are reused
_SMALL = 4096  # up to this many elements, whole-array float64 expressions: fewer NumPy calls than a chunked kernel


def _flat(a):
    return np.ascontiguousarray(a).reshape(-1)


def gelu_f32(x, grad=True, chunk=_CHUNK):
    """``x * Phi(x)`` and its derivative ``Phi(x) + x phi(x)`` (None unless ``grad``) of a float32 array (ndim >= 1):
    float32 arrays of ``x``'s shape. ``Phi``/``phi``: the standard normal CDF/density.

    ``0.5 * (1 + erf(x / sqrt 2))`` with scipy's float32 erf costs about four times this (scipy runs float64 scalar
    code) and loses the left tail to cancellation (PyTorch's float32 GELU too). Here
    ``Phi(-|x|) = phi(x) / (|x| + S(|x|))``, ``S`` a rational function in float32 arithmetic, and
    ``phi(x) = exp(-x**2 / 2 - log sqrt(2 pi))`` in float64 (``x**2`` exact: no error that grows with ``|x|``),
    rounded once: ``Phi`` is within 5 ulps everywhere, the tail included, ``x * Phi``
    within 6 (mean 0.2) where ``Phi`` is not subnormal (``x > -13``), checked on every 97th float32 of [-13, 10].
    Runs ``chunk`` elements at a time, reusing the temporaries: fresh 8 MB temporaries cost as much as the
    arithmetic (first touch of new memory)."""
    if x.size <= _SMALL:  # (scipy's float64 normal CDF: exact, and cheaper than the kernel's calls here)
        with np.errstate(over="ignore", invalid="ignore"):  # (as the kernel: -inf * 0 is NaN, quietly)
            x64 = x.astype(np.float64)
            cdf = scipy_special().ndtr(x64)
            y = (x64 * cdf).astype(np.float32)
            if not grad:
                return y, None
            d = x64 * x64
            d *= -0.5
            d -= _LOG_SQRT_2PI
            np.exp(d, out=d)
            d *= x64
            d += cdf
            return y, d.astype(np.float32)
    flat = _flat(x)
    y, dy = np.empty(flat.shape, np.float32), np.empty(flat.shape, np.float32) if grad else None
    k = min(flat.size, chunk)
    e_buf = np.empty(k)
    pdf_buf, a_buf, num_buf, den_buf = (np.empty(k, np.float32) for _ in range(4))
    sign_buf = np.empty(k, np.int32)
    p0, p1, p2, p3 = _MILLS_P
    q0, q1, q2, q3 = _MILLS_Q
    with np.errstate(over="ignore", invalid="ignore"):  # (|x| > 4e9: inf / inf, made 0 below)
        for i in range(0, flat.size, k):
            xs = flat[i:i + k]
            m = xs.size
            e, pdf, a, num, den, sign = (e_buf, pdf_buf, a_buf, num_buf, den_buf, sign_buf) if m == k else (
                e_buf[:m], pdf_buf[:m], a_buf[:m], num_buf[:m], den_buf[:m], sign_buf[:m])
            e[...] = xs
            e *= e
            e *= -0.5
            e -= _LOG_SQRT_2PI
            np.exp(e, out=e)
            pdf[...] = e
            np.abs(xs, out=a)
            np.multiply(a, p3, out=num)  # S = P / Q, by Horner
            num += p2
            num *= a
            num += p1
            num *= a
            num += p0
            np.add(a, q3, out=den)
            for c in (q2, q1, q0):
                den *= a
                den += c
            num /= den
            num += a
            tail = np.divide(pdf, num, out=num)  # Phi(-|x|)
            if not np.isfinite(tail).all():  # where |x| is huge or inf (phi is 0) the tail is 0; NaN stays NaN
                tail[a > 16] = 0
            # Phi: the tail for x < 0 (-0 too), else 1 - tail: |step - tail| with step 0 where x's sign bit is set,
            # else 1, made from the bits (a select by a mask is 10x slower)
            np.invert(xs.view(np.int32), out=sign)
            np.right_shift(sign, 31, out=sign)  # (arithmetic: all ones where the sign bit of x is clear)
            np.bitwise_and(sign, _ONE_BITS, out=sign)
            cdf = sign.view(np.float32)
            cdf -= tail
            np.abs(cdf, out=cdf)
            np.multiply(xs, cdf, out=y[i:i + m])
            if grad:
                dys = np.multiply(xs, pdf, out=dy[i:i + m])
                dys += cdf
    return y.reshape(x.shape), dy.reshape(x.shape) if grad else None


def elu_array(x, alpha, chunk=_CHUNK):
    """ELU of a float32/float64 array (ndim >= 1): ``x`` where its sign bit is clear, else ``alpha * expm1(x)``,
    selected by bit masks (no comparison, no branch per element), ``chunk`` elements at a time with reused
    temporaries (fresh 8 MB temporaries cost as much as the arithmetic). ``+0.0`` gives ``x``, as ``x > 0`` would
    give ``alpha * expm1(+0.0) = +0.0``; a NaN stays NaN either way."""
    flat = _flat(x)
    y = np.empty(flat.shape, flat.dtype)
    bits = _MASK_BITS[flat.dtype]
    k = min(flat.size, chunk)
    e_buf, m_buf = np.empty(k, flat.dtype), np.empty(k, bits)
    with np.errstate(over="ignore", invalid="ignore"):  # (expm1 of the positive side may overflow: unused)
        for i in range(0, flat.size, k):
            xs = flat[i:i + k]
            e, mask = (e_buf, m_buf) if xs.size == k else (e_buf[:xs.size], m_buf[:xs.size])
            np.expm1(xs, out=e)
            e *= alpha
            xb, eb = xs.view(bits), e.view(bits)
            np.right_shift(xb, bits.itemsize * 8 - 1, out=mask)  # (arithmetic: all ones where the sign bit is set)
            eb &= mask
            np.invert(mask, out=mask)
            mask &= xb
            np.bitwise_or(eb, mask, out=y[i:i + k].view(bits))
    return y.reshape(x.shape)


def elu_grad_array(x, g, alpha, chunk=_CHUNK):
    """ELU's gradient for float32/float64 ``x`` and ``g`` of one shape and dtype: ``g * alpha * exp(x)`` where
    ``x <= 0`` (PyTorch's order of the products), else ``g`` (a NaN ``x`` passes ``g``, as PyTorch); chunked, bit
    masks, as :func:`elu_array`. float32: ``exp`` in float64, rounded once, as PyTorch's is within 1 ulp (NumPy's
    float32 exp is up to 2.5 ulps off; with it this function is a third faster)."""
    if x.size <= _SMALL:  # (as one expression: fewer NumPy calls)
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(x.astype(np.float64)).astype(np.float32) if x.dtype == np.float32 else np.exp(x)
            return np.where(x <= 0, g * alpha * e, g)
    fx, fg = _flat(x), _flat(g)
    d = np.empty(fx.shape, fx.dtype)
    bits = _MASK_BITS[fx.dtype]
    k = min(fx.size, chunk)
    e_buf, c_buf, m_buf = np.empty(k, fx.dtype), np.empty(k, np.bool_), np.empty(k, bits)
    e64_buf = np.empty(k) if fx.dtype == np.float32 else None
    with np.errstate(over="ignore", invalid="ignore"):  # (exp of the positive side may overflow: unused)
        for i in range(0, fx.size, k):
            xs, gs, ds = fx[i:i + k], fg[i:i + k], d[i:i + k]
            e, c, mask = (e_buf, c_buf, m_buf) if xs.size == k else (
                e_buf[:xs.size], c_buf[:xs.size], m_buf[:xs.size])
            np.multiply(gs, alpha, out=ds)
            if e64_buf is None:
                np.exp(xs, out=e)
            else:
                e64 = e64_buf[:xs.size]
                e64[...] = xs
                np.exp(e64, out=e64)
                e[...] = e64
            ds *= e
            np.less_equal(xs, 0, out=c)
            np.negative(c, out=mask, dtype=bits)  # all ones where x <= 0
            db = ds.view(bits)
            db &= mask
            np.invert(mask, out=mask)
            mask &= gs.view(bits)
            db |= mask
    return d.reshape(x.shape)


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
