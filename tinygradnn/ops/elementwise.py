"""Elementwise ops: arithmetic, unary math, activations, comparisons.

Each op is a :class:`Function` whose ``backward`` sits right under its ``forward``; the lowercase
function after it is the public entry point (``tinygradnn.exp``, ``Tensor.exp``, ...). Binary ops
broadcast like NumPy and reduce each gradient back to its input's shape with ``F.sum_to``.
"""

from __future__ import annotations

import math

import numpy as np

from .._dtype import get_default_dtype, promote_types
from ..autograd.function import Function
from ..tensor import Tensor, tensor_arg
from .namespaces import erf_array, sigmoid_array


def _broadcast_error(op, a, b, err):
    try:
        np.broadcast_shapes(np.shape(a), np.shape(b))
    except ValueError:
        raise ValueError(f"{op}: shapes {np.shape(a)} and {np.shape(b)} cannot be broadcast together "
                         "(NumPy rules: trailing dimensions must be equal or 1)") from err
    raise ValueError(f"{op}: {err}") from None  # another problem, e.g. integers to negative integer powers


def _operands(a, b, op: str):
    """Check the operand types of ``op`` and apply the promotion rule (see tinygradnn._dtype)."""
    ta, tb = type(a), type(b)
    if ta is Tensor:  # fast paths first: Tensor with Tensor, Tensor with a Python number
        if tb is Tensor:
            da, db = a._data.dtype, b._data.dtype
            return (a, b) if da is db or da.kind == db.kind else _promoted(a, b)
        if tb is int or (tb is float and a._data.dtype.kind == "f"):
            return a, b
    elif tb is Tensor and (ta is int or (ta is float and b._data.dtype.kind == "f")):
        return a, b
    a, b = _operand(a, op), _operand(b, op)
    if type(b) is float and isinstance(a, Tensor) and a._data.dtype.kind != "f":
        return cast(a, get_default_dtype()), b
    if type(a) is float and isinstance(b, Tensor) and b._data.dtype.kind != "f":
        return a, cast(b, get_default_dtype())
    if isinstance(a, int | float) or isinstance(b, int | float):  # Python scalars are weak: NumPy's rule is right
        return a, b
    return _promoted(a, b)


def _operand(x, op: str):
    """``x`` if it can be an operand of ``op``; a NumPy scalar becomes the Python number it holds (weak)."""
    if isinstance(x, np.generic) and x.dtype.kind in "biuf":
        return x.item()
    if isinstance(x, Tensor | int | float) or (isinstance(x, np.ndarray) and x.dtype.kind in "biuf"):
        return x
    raise TypeError(f"{op}: unsupported operand type {type(x).__name__}; expected a Tensor, a number or a "
                    "numeric NumPy array")


def _promoted(a, b):
    """Two array operands (Tensors or ndarrays) of different dtype kinds, cast to their common dtype."""
    dtype = promote_types(a.dtype, b.dtype)
    return (a if a.dtype == dtype else _as_dtype(a, dtype)), (b if b.dtype == dtype else _as_dtype(b, dtype))


def _as_dtype(x, dtype):
    return cast(x, dtype) if isinstance(x, Tensor) else x.astype(dtype)


def _floating(x: Tensor) -> Tensor:
    """The input of a function of real numbers (exp, tanh, ...): integer and bool inputs become the default
    float dtype, as in PyTorch (NumPy would give float64, or float16 for bools)."""
    return x if x._data.dtype.kind == "f" else cast(x, get_default_dtype())


def _kind(x) -> str:
    return np.result_type(x._data if isinstance(x, Tensor) else x).kind


def _shape(x):
    return getattr(x, "shape", ())  # () for Python numbers


# ----------------------------------------------------------------------------- arithmetic
class Add(Function):
    __slots__ = ("shapes",)  # no per-node __dict__: cheaper for the garbage collector

    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        try:
            return a + b  # operators, not np.add: 10x faster on NumPy scalars
        except ValueError as e:
            _broadcast_error("add", a, b, e)

    def backward(ctx, g, F):
        (sa, sb), (na, nb) = ctx.shapes, ctx.needs_input_grad
        return F.sum_to(g, sa) if na else None, F.sum_to(g, sb) if nb else None


class Sub(Function):
    __slots__ = ("shapes",)  # no per-node __dict__: cheaper for the garbage collector

    def forward(ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        try:
            return a - b
        except ValueError as e:
            _broadcast_error("sub", a, b, e)
        except TypeError:
            raise TypeError("sub: subtracting bool tensors is not supported; use logical_xor (a ^ b) "
                            "instead") from None

    def backward(ctx, g, F):
        (sa, sb), (na, nb) = ctx.shapes, ctx.needs_input_grad
        return F.sum_to(g, sa) if na else None, F.sum_to(-g, sb) if nb else None


class Mul(Function):
    def forward(ctx, a, b):
        ctx.saved = (a, b)
        try:
            return a * b
        except ValueError as e:
            _broadcast_error("mul", a, b, e)

    def backward(ctx, g, F):
        (a, b), (na, nb) = ctx.saved, ctx.needs_input_grad
        return (F.sum_to(g * b, _shape(a)) if na else None,
                F.sum_to(g * a, _shape(b)) if nb else None)


class Div(Function):
    def forward(ctx, a, b):
        try:
            out = a / b
        except ValueError as e:
            _broadcast_error("div", a, b, e)
        ctx.saved = (a, b, out)
        return out

    def backward(ctx, g, F):
        (a, b, out), (na, nb) = ctx.saved, ctx.needs_input_grad
        return (F.sum_to(g / b, _shape(a)) if na else None,
                F.sum_to(-g * out / b, _shape(b)) if nb else None)


class Pow(Function):
    def forward(ctx, a, b):
        try:
            out = a ** b
        except ValueError as e:
            _broadcast_error("pow", a, b, e)
        ctx.saved = (a, b, out)
        return out

    def backward(ctx, g, F):
        (a, b, out), (na, nb) = ctx.saved, ctx.needs_input_grad
        ga = gb = None
        if na:
            ga = F.sum_to(g * b * a ** (b - 1), _shape(a))
        if nb:  # d(a^b)/db = a^b log a, taken as 0 where a <= 0
            log_a = math.log(a) if isinstance(a, int | float) else F.log(F.where(a > 0, a, 1))
            gb = F.sum_to(g * out * log_a, _shape(b))
        return ga, gb


class Neg(Function):
    def forward(ctx, x):
        if x.dtype == np.bool_:
            raise TypeError("neg: negation of a bool tensor is not supported; use ~x (logical_not) instead")
        return -x

    def backward(ctx, g, F):
        return -g


def add(a, b) -> Tensor:
    """``a + b`` with broadcasting."""
    return Add.apply(*_operands(a, b, "add"))


def sub(a, b) -> Tensor:
    """``a - b`` with broadcasting."""
    return Sub.apply(*_operands(a, b, "sub"))


def mul(a, b) -> Tensor:
    """``a * b`` with broadcasting."""
    return Mul.apply(*_operands(a, b, "mul"))


def div(a, b) -> Tensor:
    """``a / b`` (true division; integer inputs give the default float dtype)."""
    a, b = _operands(a, b, "div")
    if _kind(a) in "biu" and _kind(b) in "biu":  # both sides: NumPy makes int / float32 a float64
        a, b = _default_float(a), _default_float(b)
    return Div.apply(a, b)


def _default_float(x):
    """An integer or bool operand as the default float dtype (a Python number stays a weak scalar)."""
    if isinstance(x, Tensor):
        return cast(x, get_default_dtype())
    return float(x) if isinstance(x, int) else np.asarray(x, get_default_dtype())


def pow(a, b) -> Tensor:
    """``a ** b``; the exponent may be a number or a tensor."""
    return Pow.apply(*_operands(a, b, "pow"))


def neg(x: Tensor) -> Tensor:
    """``-x``."""
    return Neg.apply(x)


# ----------------------------------------------------------------------------- unary math
class Exp(Function):
    def forward(ctx, x):
        y = np.exp(x)
        ctx.saved = (y,)
        return y

    def backward(ctx, g, F):
        (y,) = ctx.saved
        return g * y


class Log(Function):
    def forward(ctx, x):
        ctx.saved = (x,)
        return np.log(x)

    def backward(ctx, g, F):
        (x,) = ctx.saved
        return g / x


class Log1p(Function):
    def forward(ctx, x):
        ctx.saved = (x,)
        return np.log1p(x)

    def backward(ctx, g, F):
        (x,) = ctx.saved
        return g / (x + 1)


class Sqrt(Function):
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.saved = (y,)
        return y

    def backward(ctx, g, F):
        (y,) = ctx.saved
        return g / (y * 2)


class Abs(Function):
    def forward(ctx, x):
        ctx.saved = (x,)
        return np.abs(x)

    def backward(ctx, g, F):
        (x,) = ctx.saved
        return g * F.sign(x)


class Sign(Function):  # derivative 0 almost everywhere
    def forward(ctx, x):
        ctx.shape = x.shape
        return x.copy() if x.dtype == np.bool_ else np.sign(x)  # NumPy has no sign for bools

    def backward(ctx, g, F):
        return g * 0


class Sin(Function):
    def forward(ctx, x):
        ctx.saved = (x,)
        return np.sin(x)

    def backward(ctx, g, F):
        (x,) = ctx.saved
        return g * F.cos(x)


class Cos(Function):
    def forward(ctx, x):
        ctx.saved = (x,)
        return np.cos(x)

    def backward(ctx, g, F):
        (x,) = ctx.saved
        return -g * F.sin(x)


class Erf(Function):
    def forward(ctx, x):
        ctx.saved = (x,)
        return erf_array(x)

    def backward(ctx, g, F):
        (x,) = ctx.saved
        return g * (2 / math.sqrt(math.pi)) * F.exp(-x * x)


def exp(x: Tensor) -> Tensor:
    """Elementwise ``e**x``."""
    return Exp.apply(_floating(x))


def log(x: Tensor) -> Tensor:
    """Natural logarithm."""
    return Log.apply(_floating(x))


def log1p(x: Tensor) -> Tensor:
    """``log(1 + x)``, accurate for small ``x``."""
    return Log1p.apply(_floating(x))


def sqrt(x: Tensor) -> Tensor:
    """Elementwise square root."""
    return Sqrt.apply(_floating(x))


def rsqrt(x: Tensor) -> Tensor:
    """``1 / sqrt(x)``."""
    return 1 / Sqrt.apply(_floating(x))


def square(x: Tensor) -> Tensor:
    """``x * x``."""
    return Mul.apply(x, x)


def abs(x: Tensor) -> Tensor:
    """Absolute value (gradient ``sign(x)``, 0 at 0)."""
    return Abs.apply(x)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 (gradient 0)."""
    return Sign.apply(x)


def sin(x: Tensor) -> Tensor:
    """Elementwise sine."""
    return Sin.apply(_floating(x))


def cos(x: Tensor) -> Tensor:
    """Elementwise cosine."""
    return Cos.apply(_floating(x))


def erf(x: Tensor) -> Tensor:
    """The error function."""
    return Erf.apply(_floating(x))


# ----------------------------------------------------------------------------- activations
class Tanh(Function):
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.saved = (y,)
        return y

    def backward(ctx, g, F):
        (y,) = ctx.saved
        return g * (1 - y * y)


class Sigmoid(Function):
    def forward(ctx, x):
        y = sigmoid_array(x)
        ctx.saved = (y,)
        return y

    def backward(ctx, g, F):
        (y,) = ctx.saved
        return g * y * (1 - y)


class ReLU(Function):
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.saved = (y,)
        return y

    def backward(ctx, g, F):
        (y,) = ctx.saved
        return g * (y > 0)


class LeakyReLU(Function):
    def forward(ctx, x, slope):
        ctx.saved, ctx.slope = (x,), slope
        return np.where(x > 0, x, x * slope)

    def backward(ctx, g, F):
        (x,) = ctx.saved
        return F.where(x > 0, g, g * ctx.slope)


class ELU(Function):
    def forward(ctx, x, alpha):
        y = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
        ctx.saved, ctx.alpha = (x, y), alpha
        return y

    def backward(ctx, g, F):
        x, y = ctx.saved
        return F.where(x > 0, g, g * (y + ctx.alpha))


class GELU(Function):
    """Exact GELU: ``x * Phi(x)`` with Phi the standard normal CDF."""

    def forward(ctx, x):
        ctx.saved = (x,)
        return 0.5 * x * (1 + erf_array(x / math.sqrt(2)))

    def backward(ctx, g, F):
        (x,) = ctx.saved
        cdf = 0.5 * (1 + F.erf(x * (1 / math.sqrt(2))))
        pdf = F.exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))
        return g * (cdf + x * pdf)


class Softplus(Function):
    """``log(1 + exp(beta x)) / beta``, linear above ``threshold`` as in PyTorch."""

    def forward(ctx, x, beta, threshold):
        ctx.saved, ctx.beta, ctx.threshold = (x,), beta, threshold
        bx = x * beta
        return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta).astype(x.dtype, copy=False)

    def backward(ctx, g, F):
        (x,) = ctx.saved
        bx = x * ctx.beta
        return F.where(bx > ctx.threshold, g, g * F.sigmoid(bx))


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return Tanh.apply(_floating(x))


def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, stable for large ``|x|``."""
    return Sigmoid.apply(_floating(x))


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)`` (gradient 0 at 0, as in PyTorch)."""
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise."""
    return LeakyReLU.apply(_floating(x), negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    return ELU.apply(_floating(x), alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit; ``approximate='tanh'`` gives the tanh approximation."""
    x = _floating(x)
    if approximate == "tanh":
        inner = (x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + tanh(inner))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Smooth ReLU ``log(1 + exp(beta x)) / beta``."""
    return Softplus.apply(_floating(x), beta, threshold)


# ----------------------------------------------------------------------------- clamping and selection
class Clamp(Function):
    def forward(ctx, x, lo, hi):
        ctx.mask = (True if lo is None else x >= lo) & (True if hi is None else x <= hi)
        # tensor bounds get the gradient where they clipped x (PyTorch's rule, lo > hi included)
        ctx.lo_mask = (x < lo) & (True if hi is None else lo < hi) if isinstance(lo, np.ndarray) else None
        ctx.hi_mask = (x > hi) | (False if lo is None else hi < lo) if isinstance(hi, np.ndarray) else None
        ctx.shapes = (x.shape, _shape(lo), _shape(hi))
        return np.clip(x, lo, hi)

    def backward(ctx, g, F):
        (sx, slo, shi), (_, nlo, nhi) = ctx.shapes, ctx.needs_input_grad
        return (F.sum_to(g * ctx.mask, sx), F.sum_to(g * ctx.lo_mask, slo) if nlo else None,
                F.sum_to(g * ctx.hi_mask, shi) if nhi else None)


class Maximum(Function):
    """Elementwise max; at ties the gradient is split in half between both inputs (as PyTorch)."""

    is_min = False

    def forward(ctx, a, b):
        try:
            out = np.minimum(a, b) if ctx.is_min else np.maximum(a, b)
        except ValueError as e:
            _broadcast_error("minimum" if ctx.is_min else "maximum", a, b, e)
        ctx.shapes = (_shape(a), _shape(b))
        ctx.wa = np.where((a < b) if ctx.is_min else (a > b), 1.0, np.where(a == b, 0.5, 0.0)).astype(out.dtype)
        return out

    def backward(ctx, g, F):
        (sa, sb), wa = ctx.shapes, ctx.wa
        return F.sum_to(g * wa, sa), F.sum_to(g * (1 - wa), sb)


class Minimum(Maximum):
    """Elementwise min, with the same rule at ties."""

    is_min = True


class Where(Function):
    def forward(ctx, cond, a, b):
        try:
            out = np.where(cond, a, b)
        except ValueError as e:
            raise ValueError(f"where: condition {np.shape(cond)}, input {np.shape(a)} and other "
                             f"{np.shape(b)} cannot be broadcast together") from e
        ctx.cond, ctx.shapes = cond, (_shape(a), _shape(b))
        return out

    def backward(ctx, g, F):
        (sa, sb), c = ctx.shapes, ctx.cond
        _, na, nb = ctx.needs_input_grad
        return (None, F.sum_to(F.where(c, g, 0), sa) if na else None,
                F.sum_to(F.where(c, 0, g), sb) if nb else None)


def clamp(x: Tensor, min=None, max=None) -> Tensor:
    """Limit values to ``[min, max]`` (either bound may be None); gradient 1 inside, 0 outside."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and not isinstance(bound, int | float | np.generic | np.ndarray | Tensor):
            raise TypeError(f"clamp: {name} must be a number or a tensor, got {type(bound).__name__}")
    if x._data.dtype.kind != "f" and (type(min) is float or type(max) is float):
        x = cast(x, get_default_dtype())  # an integer tensor with a Python float: the default float dtype
    return Clamp.apply(x, min, max)


clip = clamp


def maximum(a, b) -> Tensor:
    """Elementwise maximum of two tensors (broadcasting)."""
    return Maximum.apply(*_operands(a, b, "maximum"))


def minimum(a, b) -> Tensor:
    """Elementwise minimum of two tensors (broadcasting)."""
    return Minimum.apply(*_operands(a, b, "minimum"))


def where(condition, input, other) -> Tensor:
    """``input`` where ``condition`` is true, else ``other`` (broadcasting; condition not differentiated)."""
    cond = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    a, b = _operands(input, other, "where")
    if isinstance(a, Tensor) and isinstance(b, int | float):  # a weak scalar takes the tensor's dtype if it fits
        b = np.asarray(b, dtype=np.result_type(a._data.dtype, b))
    elif isinstance(b, Tensor) and isinstance(a, int | float):
        a = np.asarray(a, dtype=np.result_type(b._data.dtype, a))
    return Where.apply(cond, a, b)


# ----------------------------------------------------------------------------- comparisons (not differentiable)
def _compare(name, ufunc):
    def compare(a, b) -> Tensor:
        x = a._data if isinstance(a, Tensor) else _operand(a, name)
        y = b._data if isinstance(b, Tensor) else _operand(b, name)
        try:
            return Tensor._wrap(ufunc(x, y))
        except ValueError as e:
            _broadcast_error(name, x, y, e)

    compare.__name__ = name
    compare.__doc__ = f"Elementwise ``{name}`` comparison; returns a bool tensor (not differentiable)."
    return compare


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)
logical_and = _compare("logical_and", np.logical_and)
logical_or = _compare("logical_or", np.logical_or)
logical_xor = _compare("logical_xor", np.logical_xor)


def logical_not(x: Tensor) -> Tensor:
    """Elementwise not (bool tensor)."""
    return Tensor._wrap(np.logical_not(x._data))


def isnan(x: Tensor) -> Tensor:
    """Bool tensor: True where ``x`` is NaN."""
    return Tensor._wrap(np.isnan(x._data))


def isfinite(x: Tensor) -> Tensor:
    """Bool tensor: True where ``x`` is finite."""
    return Tensor._wrap(np.isfinite(x._data))


def equal(a: Tensor, b: Tensor) -> bool:
    """True when both tensors have the same shape and values."""
    a, b = tensor_arg(a, "equal"), tensor_arg(b, "equal")
    return a.shape == b.shape and bool(np.array_equal(a._data, b._data))


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    """``numpy.allclose`` on two tensors."""
    a, b = tensor_arg(a, "allclose"), tensor_arg(b, "allclose")
    return bool(np.allclose(a._data, b._data, rtol=rtol, atol=atol))


# ----------------------------------------------------------------------------- dtype cast
class Cast(Function):
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(ctx, g, F):
        return F.cast(g, ctx.in_dtype)


def cast(x: Tensor, dtype) -> Tensor:
    """A copy of ``x`` converted to ``dtype``; differentiable when both dtypes are floating."""
    try:
        dtype = np.dtype(getattr(dtype, "np", dtype))
    except TypeError:
        raise TypeError(f"cast: {dtype!r} is not a dtype (use e.g. tinygradnn.float32)") from None
    if dtype.kind != "f" or x._data.dtype.kind != "f":
        return Tensor._wrap(x._data.astype(dtype))
    return Cast.apply(x, dtype)
