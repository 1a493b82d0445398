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
from ..autograd.grad_mode import _State
from ..tensor import Tensor, tensor_arg
from .namespaces import (
    elu_array,
    elu_grad_array,
    erf_array,
    gelu_f32,
    sigmoid_array,
    sign_array,
    softplus_array,
    where_array,
)


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
            return (a, b) if a._data.dtype is b._data.dtype else _promoted(a, b)
        if (tb is float or tb is int) and a._data.dtype.kind == "f":
            return a, b
    elif tb is Tensor and (ta is float or ta is int) and b._data.dtype.kind == "f":
        return a, b
    a, b = _operand(a, op), _operand(b, op)
    if op in _WRAPPING:
        if type(b) is int and isinstance(a, Tensor):
            b = _wrap_int(b, a._data.dtype, op)
        elif type(a) is int and isinstance(b, Tensor):
            a = _wrap_int(a, b._data.dtype, op)
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


_WRAPPING = frozenset({"add", "sub", "mul", "bitwise_and", "bitwise_or", "bitwise_xor", "floor_divide", "remainder",
                       "fmod", "div"})


def _wrap_int(v: int, dtype: np.dtype, op: str) -> int:
    """A Python int as PyTorch applies it to an integer tensor of ``dtype`` in arithmetic, bitwise ops and comparisons:
    wrapped modulo 2**bits into the dtype (for uint8, 300 acts as 44 and -1 as 255). Beyond [-2**63, 2**64) it is an
    OverflowError; with a bool tensor it must fit int64. (Floating tensors take any int as it is.)"""
    if dtype.kind == "f":  # (the common case)
        return v
    return _wrapped(v, dtype, op)


def _wrapped(v: int, dtype: np.dtype, op: str) -> int:
    """:func:`_wrap_int` for an integer or bool ``dtype``."""
    if not -(1 << 63) <= v < (1 << 64):
        raise OverflowError(f"{op}: Python integer {v} is out of range for an op with a {dtype} tensor (integers "
                            "must lie in [-2**63, 2**64), as in PyTorch)")
    if dtype.kind == "b":
        if v >= 1 << 63:
            raise RuntimeError(f"{op}: Python integer {v} with a bool tensor would need uint64, which is not "
                               "supported (as in PyTorch)")
        return v
    return _mod(v, dtype)


def _mod(v: int, dtype: np.dtype) -> int:
    """``v`` modulo 2**bits, as a value of the integer ``dtype`` (int8: 200 is -56)."""
    bits = 8 * dtype.itemsize
    v &= (1 << bits) - 1
    return v - (1 << bits) if dtype.kind == "i" and v >> (bits - 1) else v


def _promoted(a, b):
    """Two array operands (Tensors or ndarrays) of different dtypes, cast to their common dtype."""
    dtype = _result_type(a, b)
    return (a if a.dtype == dtype else _as_dtype(a, dtype)), (b if b.dtype == dtype else _as_dtype(b, dtype))


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < integer < floating, PyTorch's categories


def _result_type(a, b) -> np.dtype:
    """The dtype of an op on two array operands (Tensors or ndarrays), as PyTorch: :func:`promote_types`, except
    that a 0-d tensor with an operand of at least one dimension counts only when its category (bool, integer,
    floating) is higher: ``int32 + 0-d int64`` is int32 and ``float32 + 0-d float64`` float32, but
    ``int32 + 0-d float64`` is float64."""
    da, db = a.dtype, b.dtype
    za, zb = type(a) is Tensor and a.ndim == 0, type(b) is Tensor and b.ndim == 0  # (NumPy arrays: as PyTorch)
    if za is not zb:
        dim, zero = (db, da) if za else (da, db)
        if _CATEGORY[zero.kind] <= _CATEGORY[dim.kind]:
            return dim
    return promote_types(da, db)


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
        if b.__class__ is float or b.__class__ is int:  # x * 2.5, the common case: g has x's shape
            return g * b, None
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
        # PyTorch's rules: d/da = b a^(b-1), but 0 where b == 0 (even at a == 0, where a^-1 is inf);
        # d/db = a^b log a, but 0 where a == 0 and b >= 0 (so -inf for b < 0) and nan where a < 0.
        (a, b, out), (na, nb) = ctx.saved, ctx.needs_input_grad
        ga = gb = None
        if na:
            if type(b) is int or type(b) is float or type(b) is bool:  # a constant exponent
                ga = g * 0 if b == 0 else g * b * a ** (b - 1)
            else:
                zero = b == 0
                ga = F.where(zero, 0, g * b * a ** F.where(zero, 1, b - 1))  # no inf from a^-1 where b == 0
            ga = F.sum_to(ga, _shape(a))
        if nb:
            if isinstance(a, int | float):  # a Python number base
                log_a = math.log(a) if a > 0 else -math.inf if a == 0 else math.nan
                with np.errstate(invalid="ignore"):  # 0 * -inf where a == 0 and out == 0: replaced below
                    gb = g * out * log_a
                if a == 0:
                    gb = F.where(b >= 0, 0, gb)
            else:  # (b is a tensor here)
                with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = -inf and log(-1) = nan, as wanted
                    log_a = F.log(a)
                gb = g * out * F.where((a == 0) & (b >= 0), 0, log_a)
            gb = F.sum_to(gb, _shape(b))
        return ga, gb


class Neg(Function):
    def forward(ctx, x):
        if x.dtype == np.bool_:
            raise TypeError("neg: negation of a bool tensor is not supported; use ~x (logical_not) instead")
        return -x

    def backward(ctx, g, F):
        return -g


def add(a, b, *, alpha=1) -> Tensor:
    """``a + alpha * b`` with broadcasting."""
    if alpha.__class__ is not int or alpha != 1:
        a, b = _operands(a, b, "add")
        b = _scaled(b, alpha, _dtype_of(a, b), "add")
    return Add.apply(*_operands(a, b, "add"))


def sub(a, b, *, alpha=1) -> Tensor:
    """``a - alpha * b`` with broadcasting (not defined for bool operands, as in PyTorch)."""
    if alpha.__class__ is not int or alpha != 1:
        if not _is_bool(a) and not _is_bool(b):
            a, b = _operands(a, b, "sub")
            b = _scaled(b, alpha, _dtype_of(a, b), "sub", negated=True)
    if type(a) is Tensor and type(b) is Tensor:  # (the common case first: one dtype check each)
        if a._data.dtype.kind != "b" and b._data.dtype.kind != "b":
            return Sub.apply(*_operands(a, b, "sub"))
    elif not _is_bool(a) and not _is_bool(b):
        return Sub.apply(*_operands(a, b, "sub"))
    raise _bool_subtraction_error(a, b, "sub")


def _dtype_of(a, b) -> np.dtype:
    """The dtype of ``a op b`` for operands as :func:`_operands` returns them (a bool tensor with an int: int64)."""
    t, other = (a, b) if isinstance(a, Tensor | np.ndarray) else (b, a)
    return np.dtype(np.int64) if t.dtype.kind == "b" and type(other) is int else t.dtype


def _check_alpha(alpha, dtype: np.dtype, op: str, negated: bool = False):
    """``alpha`` as a Python number, checked as PyTorch does against the ``dtype`` of the result: it must fit
    that dtype (``-alpha`` for ``sub``, which adds ``-alpha * b``; uint8 takes -255..255)."""
    if isinstance(alpha, Tensor | np.generic) and np.ndim(alpha) == 0:
        alpha = alpha.item()
    if not isinstance(alpha, int | float | complex):
        raise TypeError(f"{op}: alpha must be a number, got {type(alpha).__name__}")
    if isinstance(alpha, bool) and dtype.kind != "b":
        raise RuntimeError(f"{op}: a bool alpha is only supported for bool results, got alpha={alpha} for {dtype}")
    if isinstance(alpha, complex):
        raise RuntimeError(f"{op}: for non-complex input tensors, argument alpha must not be a complex number, got "
                           f"alpha={alpha}")
    if isinstance(alpha, float) and dtype.kind in "biu":
        raise RuntimeError(f"{op}: for integral input tensors, argument alpha must not be a floating point number, "
                           f"got alpha={alpha} for {dtype}")
    # (float64 takes any Python float; a smaller float dtype needs the check only for a large alpha)
    if type(alpha) is not bool and (dtype.kind in "iu" or (dtype.itemsize < 8 and not -65504 <= alpha <= 65504)):
        try:  # (PyTorch negates alpha as an int64, where -(-2**63) wraps to itself)
            _fill_value(-alpha if negated and alpha != -(1 << 63) else alpha, dtype, op)
        except (RuntimeError, OverflowError):
            raise RuntimeError(f"{op}: alpha={alpha} cannot be converted to the result dtype {dtype} without "
                               f"overflow{' (sub adds -alpha * other)' if negated else ''}") from None
    return alpha


def _scaled(b, alpha, dtype: np.dtype, op: str, negated: bool = False):
    """``alpha * b`` in the result ``dtype`` (for a bool result ``b`` itself, or False where ``alpha`` is 0); an
    integer product wraps into ``dtype``, as in PyTorch."""
    alpha = _check_alpha(alpha, dtype, op, negated)
    if dtype.kind == "b":
        return b if alpha else b & False
    if dtype.kind in "iu":
        alpha = _mod(int(alpha), dtype)
        if isinstance(b, int):  # a Python int (or bool) operand: the product wraps too
            return _mod(b * alpha, dtype)
    elif isinstance(b, int | float):  # a Python number is converted to the result dtype first, as in PyTorch
        with np.errstate(over="ignore", invalid="ignore"):
            return np.asarray(b, dtype) * np.asarray(alpha, dtype)
    return b * alpha


def _bool_subtraction_error(a, b, op: str) -> TypeError:
    if _is_bool(a) and _is_bool(b):
        return TypeError(f"{op}: subtracting bool tensors is not supported; use logical_xor (a ^ b) instead")
    return TypeError(f"{op}: subtraction with a bool tensor or a Python bool is not supported (as in PyTorch); "
                     "convert it first (mask.float(), mask.long()), or use ~mask (logical_not) to invert a mask")


def _is_bool(x) -> bool:
    """True for a bool tensor, array or scalar (Python's True and False included)."""
    t = type(x)
    if t is Tensor:
        return x._data.dtype.kind == "b"
    if t is float or t is int:
        return False
    return t is bool or (isinstance(x, np.ndarray | np.generic) and x.dtype.kind == "b")


def mul(a, b) -> Tensor:
    """``a * b`` with broadcasting."""
    return Mul.apply(*_operands(a, b, "mul"))


def div(a, b, *, rounding_mode=None) -> Tensor:
    """``a / b`` (true division; integer inputs give the default float dtype). ``rounding_mode='trunc'`` rounds
    toward zero and ``'floor'`` toward -inf, in the promoted dtype of ``a`` and ``b`` (integers stay integers),
    with gradient zero, as in PyTorch."""
    if rounding_mode is not None:
        return _div_rounded(a, b, rounding_mode)
    if not (type(a) is Tensor and a._data.dtype.kind == "f"):  # (the common case skips this)
        a, b = _operand(a, "div"), _operand(b, "div")
        if _kind(a) in "biu" and _kind(b) in "biu":  # each side straight to float, as PyTorch: not through the
            a, b = _default_float(a), _default_float(b)  # promoted integer dtype (uint8 / 0-d int64 -3 is not / 253)
    return Div.apply(*_operands(a, b, "div"))


def _default_float(x):
    """An integer or bool operand as the default float dtype (a Python number stays a weak scalar)."""
    if isinstance(x, Tensor):
        return cast(x, get_default_dtype())
    return float(x) if isinstance(x, int) else np.asarray(x, get_default_dtype())


# ----------------------------------------------------------------------------- integer-style division
# floor_divide (``//``), remainder (``%``), fmod and div(rounding_mode=) work in the promoted dtype of their
# operands, as in PyTorch: integers stay integers (a zero divisor is an error), floats give inf/nan at zero.
class FloorDivide(Function):
    """``a // b``: recorded, but with no derivative, as in PyTorch (whose backward raises too)."""

    def forward(ctx, a, b, fn):
        return fn(a, b)

    def backward(ctx, g, F):
        raise RuntimeError("derivative for floor_divide is not implemented (as in PyTorch); "
                           "div(a, b, rounding_mode='floor') gives the same values with gradient zero")


class DivRounded(Function):
    """div with ``rounding_mode``: piecewise constant, so the gradient is zero (as in PyTorch)."""

    _label = "Div"

    def forward(ctx, a, b, fn):
        ctx.shapes = (_shape(a), _shape(b))
        return fn(a, b)

    def backward(ctx, g, F):
        (sa, sb), (na, nb, _), zero = ctx.shapes, ctx.needs_input_grad, g * 0
        return F.sum_to(zero, sa) if na else None, F.sum_to(zero, sb) if nb else None


class Remainder(Function):
    """remainder and fmod: ``a - q * b`` with ``q`` the rounded quotient (floor: the divisor's sign, trunc: the
    dividend's), so d/da = 1 and d/db = -q."""

    def forward(ctx, a, b, fn, quotient):
        ctx.saved = (a, b, quotient)
        return fn(a, b)

    def backward(ctx, g, F):
        (a, b, quotient), (na, nb, *_) = ctx.saved, ctx.needs_input_grad
        gb = None
        if nb:
            if isinstance(a, int | float):
                raise RuntimeError("derivative for remainder with a Python number dividend is not implemented (as "
                                   "in PyTorch); make the dividend a tensor")
            with np.errstate(all="ignore"):  # q is a constant: computed on the arrays, also under create_graph
                q = quotient(getattr(a, "_data", a), getattr(b, "_data", b))
            gb = F.sum_to(-g * q, _shape(b))
        return F.sum_to(g, _shape(a)) if na else None, gb


def _trunc_divide(a, b):
    return (a - np.fmod(a, b)) // b  # integers: exact, C's division (int8 -128 // -1 wraps to -128, as PyTorch)


def _trunc_divide_float(a, b):
    return np.trunc(a / b)


def _remainder_float(a, b):
    """PyTorch's float remainder: fmod moved to the divisor's sign (a zero result keeps fmod's sign, where
    NumPy's remainder takes the divisor's)."""
    mod = np.fmod(a, b)
    return np.where((mod != 0) & ((mod < 0) != (b < 0)), mod + b, mod)


def _division(fn, a, b, op: str, for_ints: tuple, for_floats: tuple):
    """``fn.apply(a, b, *for_ints)`` or ``*for_floats`` (by the result's dtype): PyTorch's promotion (Python ints
    wrap into an integer dtype), bools only with a non-bool, an integer zero divisor a RuntimeError."""
    a, b = _operands(a, b, op)
    ka, kb = _kind(a), _kind(b)
    if ka == "b" and kb == "b":
        raise NotImplementedError(f"{op}: not implemented for bool operands (as in PyTorch); convert with .long() "
                                  "or .float() first")
    floating = ka == "f" or kb == "f"
    if not floating and np.any(np.equal(b._data if type(b) is Tensor else b, 0)):
        raise RuntimeError(f"{op}: ZeroDivisionError (integer division by zero, as in PyTorch)")
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        try:
            return fn.apply(a, b, *(for_floats if floating else for_ints))
        except ValueError as e:
            _broadcast_error(op, a, b, e)


def floor_divide(a, b) -> Tensor:
    """``a // b``: the quotient rounded toward -inf, in the promoted dtype (not differentiable: its backward
    raises, as in PyTorch; ``div(a, b, rounding_mode='floor')`` has gradient zero)."""
    return _division(FloorDivide, a, b, "floor_divide", (np.floor_divide,), (np.floor_divide,))


def remainder(a, b) -> Tensor:
    """``a % b``: Python's remainder, with the sign of the divisor ``b`` (``-7 % 2`` is 1)."""
    return _division(Remainder, a, b, "remainder", (np.remainder, np.floor_divide),
                     (_remainder_float, np.floor_divide))


def fmod(a, b) -> Tensor:
    """C's remainder, with the sign of the dividend ``a`` (``fmod(-7, 2)`` is -1); ``a`` must be a tensor."""
    if not isinstance(a, Tensor | np.ndarray):
        raise TypeError(f"fmod: the dividend must be a tensor, got {type(a).__name__} (as in PyTorch)")
    return _division(Remainder, a, b, "fmod", (np.fmod, _trunc_divide), (np.fmod, _trunc_divide_float))


def _div_rounded(a, b, rounding_mode) -> Tensor:
    if rounding_mode == "floor":
        return _division(DivRounded, a, b, "div", (np.floor_divide,), (np.floor_divide,))
    if rounding_mode == "trunc":
        return _division(DivRounded, a, b, "div", (_trunc_divide,), (_trunc_divide_float,))
    raise RuntimeError(f"div: expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                       f"{rounding_mode!r}")


def pow(a, b) -> Tensor:
    """``a ** b``; the exponent may be a number or a tensor.

    Integer powers follow PyTorch: an integer tensor to a negative integer *tensor* exponent gives 0 (1 for
    a base of 1, and +-1 for -1), while a negative Python integer exponent is an error.
    """
    floating = type(a) is Tensor and a._data.dtype.kind == "f"
    a, b = _operands(a, b, "pow")
    if floating and type(b) is not np.ndarray:  # the common case
        return Pow.apply(a, b)
    a = Tensor._wrap(a) if type(a) is np.ndarray else a  # (a Tensor: the backward may take its log)
    b = Tensor._wrap(b) if type(b) is np.ndarray else b
    ka = a._data.dtype.kind if type(a) is Tensor else "b" if type(a) is bool else "i" if type(a) is int else "f"
    kb = b._data.dtype.kind if type(b) is Tensor else "b" if type(b) is bool else "i" if type(b) is int else "f"
    if ka == "f" or kb == "f":
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1.0 is inf, (-2) ** 2.5 nan: no warning
            return Pow.apply(a, b)
    return _integer_pow(a, b, ka, kb)


def _integer_pow(a, b, ka: str, kb: str) -> Tensor:
    """``a ** b`` for integer and bool operands (not differentiable), with PyTorch's dtypes and rules."""
    if ka == "b" and kb == "b" and type(b) is Tensor:
        raise TypeError("pow: not defined for a bool base with a bool tensor exponent; convert one first (x.long())")
    if type(b) is not Tensor and kb == "i" and b < 0:
        raise RuntimeError(f"pow: integers to negative integer powers are not allowed (exponent {b}); use a "
                         f"float exponent ({float(b)}) or convert the tensor with .float()")
    if type(b) is int and type(a) is Tensor and ka in "iu":
        _fill_value(b, a._data.dtype, "pow")  # an exponent that does not fit the dtype is an error, as in PyTorch
    elif type(b) is int and ka == "b":
        _wrapped(b, a._data.dtype, "pow")  # (a bool base: the exponent must fit int64)
    elif type(a) is int and type(b) is Tensor:
        a = _wrapped(a, b._data.dtype, "pow")  # a Python int base wraps into the exponent's dtype (uint8: 300 is 44)
    x = a._data if type(a) is Tensor else a
    y = b._data if type(b) is Tensor else b
    if ka == "b" and kb == "b":  # a bool tensor to a Python bool stays bool (NumPy would say int8)
        return Tensor._wrap(np.logical_or(x, not y))
    if ka == "b" and type(b) is not Tensor:
        x = x.astype(np.int64)  # bool ** 2 is int64, as in PyTorch (NumPy's ** says int8)
    try:
        if type(b) is Tensor and kb == "i" and np.any(y < 0):
            neg = y < 0
            out = np.power(x, np.where(neg, 0, y))
            # 1 ** -n is 1, (-1) ** -n is +-1, any other integer to a negative power truncates to 0
            at_neg = np.where(x == 1, 1, np.where(x == -1, np.where(y % 2 == 0, 1, -1), 0))
            out = np.where(neg, at_neg, out).astype(out.dtype, copy=False)
        else:
            out = np.power(x, y)
    except ValueError as e:
        _broadcast_error("pow", x, y, e)
    return Tensor._wrap(out)


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
        # NumPy has no sign for bools; sign(nan) is 0, as in PyTorch (NumPy: nan)
        return x.copy() if x.dtype == np.bool_ else sign_array(x)

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
    """``x * x`` (int64 for a bool tensor, as PyTorch)."""
    if x._data.dtype.kind == "b":
        x = cast(x, np.int64)
    return Mul.apply(x, x)


def abs(x: Tensor) -> Tensor:
    """Absolute value (gradient ``sign(x)``, 0 at 0)."""
    return Abs.apply(x)


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 (0 for nan, as in PyTorch; gradient 0)."""
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


class _Rounding(Function):
    """floor, ceil, trunc and round: piecewise constant, so the gradient is zero (as in PyTorch)."""

    def forward(ctx, x, fn, *args):
        return fn(x, *args)

    def backward(ctx, g, F):
        return g * 0


def _rounding(name: str, fn):
    def op(x: Tensor) -> Tensor:
        return _rounded(x, name, fn)

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` (gradient zero); integer tensors are returned unchanged (as a copy)."
    return op


def _rounded(x: Tensor, name: str, fn, *args) -> Tensor:
    kind = x._data.dtype.kind
    if kind == "b":
        raise NotImplementedError(f"{name}: not implemented for bool tensors (as in PyTorch); convert with .float()")
    if kind != "f":
        return Tensor._wrap(x._data.copy())
    return _Rounding.apply(x, fn, *args)


floor = _rounding("floor", np.floor)
ceil = _rounding("ceil", np.ceil)
trunc = _rounding("trunc", np.trunc)


def round(x: Tensor, *, decimals: int = 0) -> Tensor:
    """Round half to even (``round(2.5)`` is 2), to ``decimals`` decimal places (negative: tens, hundreds, ...);
    gradient zero. Integer tensors are returned unchanged, and only with ``decimals=0``, as in PyTorch."""
    if not isinstance(decimals, int | np.integer) or isinstance(decimals, bool):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    if decimals == 0:
        return _rounded(x, "round", np.rint)
    if x._data.dtype.kind != "f":
        raise NotImplementedError(f"round: decimals={decimals} is not implemented for {x.dtype} tensors (as in "
                                  "PyTorch); convert with .float()")
    with np.errstate(over="ignore", invalid="ignore"):
        return _Rounding.apply(x, _round_decimals, int(decimals))


def _round_decimals(x: np.ndarray, decimals: int) -> np.ndarray:
    """PyTorch's rounding to ``decimals`` places: ``rint(x * 10**d) / 10**d``, or ``rint(x / 10**-d) * 10**-d``
    for negative ``d``, in ``x``'s dtype (float16 in float32, as PyTorch)."""
    if x.dtype == np.float16:
        return _round_decimals(x.astype(np.float32), decimals).astype(np.float16)
    scale = np.asarray(10.0 ** abs(decimals), x.dtype)
    return np.rint(x * scale) / scale if decimals > 0 else np.rint(x / scale) * scale


# ----------------------------------------------------------------------------- activations
# 1 as a read-only 0-d array: a ufunc takes it in half the time of the Python number 1 (0.3 us a call). In ``out=``
# of any float dtype the result is the same: 1 is exact in all of them.
_ONE = np.ones((), np.float32)
_ONE.flags.writeable = False


class Tanh(Function):
    def forward(ctx, x, out=None):  # (out: an array to write into, as a chain does with a Linear's output)
        y = np.tanh(x, out)
        ctx.saved = (y,)
        return y

    def backward(ctx, g, F):
        (y,) = ctx.saved
        if type(g) is np.ndarray and g.ndim:  # plain backward: the same numbers, one temporary array instead of three
            d = y * y
            np.subtract(_ONE, d, out=d)
            d *= g
            return d
        return g * (1 - y * y)


class Sigmoid(Function):
    def forward(ctx, x, out=None):
        y = sigmoid_array(x, out)
        ctx.saved = (y,)
        return y

    def backward(ctx, g, F):
        (y,) = ctx.saved
        if type(g) is np.ndarray and g.ndim:  # plain backward: the same numbers, one temporary array instead of three
            d = 1 - y
            d *= g
            d *= y
            return d
        return g * (1 - y) * y  # (PyTorch's order of the products)


class SiLU(Function):
    """``x * sigmoid(x)`` as PyTorch computes it, ``x / (1 + exp(-x))``; gradient
    ``sigmoid(x) (1 + x (1 - sigmoid(x)))`` from the saved ``1 + exp(-x)``."""

    def forward(ctx, x):
        with np.errstate(over="ignore", invalid="ignore"):  # (exp(-x) overflows below x = -88 in float32: y = -0)
            e = np.exp(-x)
            e += 1
            y = x / e
        ctx.saved = (x, e)
        return y

    def backward(ctx, g, F):
        x, e = ctx.saved
        with np.errstate(invalid="ignore"):  # (0 * inf at x = +-inf: NaN, as PyTorch)
            if type(g) is np.ndarray and g.ndim:  # plain backward: two temporary arrays
                s = np.reciprocal(e)
                d = _ONE - s
                d *= x
                d += _ONE
                d *= s
                d *= g
                return d
            s = F.sigmoid(x) if isinstance(g, Tensor) else 1 / e  # (create_graph: differentiable, from x)
            return g * s * (1 + x * (1 - s))


class ReLU(Function):
    def forward(ctx, x, out=None):
        y = np.maximum(x, 0) if out is None else np.maximum(x, 0, out=out)  # (NumPy 2.4: out by keyword)
        ctx.saved = (y,)
        return y

    def backward(ctx, g, F):
        (y,) = ctx.saved
        return g * (y != 0)  # y >= 0 or NaN: a NaN x passes g, as PyTorch (x <= 0 then is false)


class LeakyReLU(Function):
    def forward(ctx, x, slope):
        ctx.saved, ctx.slope = (x,), slope
        y = x * slope
        if 0 < slope <= 1 and type(y) is np.ndarray and y.ndim:  # then x > 0 exactly where x > slope x: max is it
            return np.maximum(x, y, out=y)
        return where_array(x > 0, x, y)

    def backward(ctx, g, F):
        (x,) = ctx.saved
        if type(g) is np.ndarray and g.ndim and g.dtype == x.dtype:  # g times 1 or the slope, looked up by x > 0
            d = np.take(np.array([ctx.slope, 1], g.dtype), (x > 0).view(np.uint8))
            d *= g
            return d
        return F.where(x > 0, g, g * ctx.slope)


class ELU(Function):
    """``x`` for ``x > 0``, ``alpha * expm1(x)`` otherwise; gradient ``alpha * exp(x)`` for ``x <= 0``. Plain backward
    takes it from ``x``, as PyTorch (``y + alpha`` loses the small ``exp(x)`` of a very negative ``x`` to cancellation:
    0 from ``x = -17`` on in float32); the recorded one (create_graph) from the output, as before."""

    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        if type(x) is np.ndarray and x.ndim and x.dtype in _FAST_FLOATS:
            y = elu_array(x, alpha)
        else:
            y = where_array(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
        ctx.saved = (x, y)
        return y

    def backward(ctx, g, F):
        x, y = ctx.saved
        if type(g) is np.ndarray and g.dtype == x.dtype and g.shape == x.shape and x.dtype in _FAST_FLOATS:
            return elu_grad_array(x, g, ctx.alpha)
        return F.where(x <= 0, g * (y + ctx.alpha), g)  # (a NaN x passes g, as PyTorch)


class GELU(Function):
    """Exact GELU: ``x * Phi(x)`` with Phi the standard normal CDF; gradient ``Phi(x) + x phi(x)``.

    float32 arrays: :func:`gelu_f32` gives both in one pass (no error function), and forward keeps the gradient
    (``grad``: whether it will be needed). Else forward keeps ``Phi(x)`` for backward (scipy's error function costs
    ten times an ``exp``)."""

    def forward(ctx, x, grad=True):
        if type(x) is np.ndarray and x.dtype == _F32 and x.ndim:
            y, slope = gelu_f32(x, grad)
            ctx.saved = (x, None, slope)  # (in saved: the engine frees it after backward)
            return y
        cdf = erf_array(x / math.sqrt(2))
        cdf += 1
        cdf *= 0.5
        ctx.saved = (x, cdf, None)
        return x * cdf

    def backward(ctx, g, F):
        x, cdf, slope = ctx.saved
        if type(g) is np.ndarray and g.ndim and slope is not None:
            return g * slope
        if type(g) is np.ndarray and g.ndim and cdf is not None:
            d = x * x  # plain backward: x phi(x) + Phi(x) in one temporary array
            d *= -0.5
            np.exp(d, out=d)
            d *= x
            d *= 1 / math.sqrt(2 * math.pi)
            d += cdf
            d *= g
            return d
        if cdf is None or isinstance(g, Tensor):  # create_graph: Phi again from x, so that it can be differentiated
            cdf = 0.5 * (1 + F.erf(x * (1 / math.sqrt(2))))
        pdf = F.exp(x * x * -0.5) * (1 / math.sqrt(2 * math.pi))
        return g * (cdf + x * pdf)


class GELUTanh(Function):
    """GELU's tanh approximation, PyTorch's formulas: ``y = 0.5 x (1 + t)`` with ``t = tanh(b (x + k x^3))``,
    ``b = sqrt(2 / pi)``, ``k = 0.044715``; gradient ``0.5 (1 + t) + 0.5 x (1 - t^2) b (1 + 3 k x^2)``, from the
    saved ``t``."""

    _b, _k = math.sqrt(2 / math.pi), 0.044715

    @np.errstate(over="ignore", invalid="ignore")  # (x^3 overflows for |x| > 7e12 in float32: inf, NaN as PyTorch)
    def forward(ctx, x):
        t = x * x
        t *= x
        t *= GELUTanh._k
        t += x
        t *= GELUTanh._b
        t = np.tanh(t, out=t) if type(t) is np.ndarray else np.tanh(t)
        y = t + 1
        y *= x
        y *= 0.5
        ctx.saved = (x, t)
        return y

    @np.errstate(over="ignore", invalid="ignore")
    def backward(ctx, g, F):
        x, t = ctx.saved
        b, k = GELUTanh._b, GELUTanh._k
        if isinstance(g, Tensor):  # create_graph: t again from x, so that it can be differentiated
            t = F.tanh((x + k * x * x * x) * b)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * b * (1 + 3 * k * x * x))


class Softplus(Function):
    """``log(1 + exp(beta x)) / beta``, linear above ``threshold`` as in PyTorch."""

    def forward(ctx, x, beta, threshold):
        ctx.saved, ctx.beta, ctx.threshold = (x,), beta, threshold
        if _defaults32(ctx, x):  # (above 20, x + log1p(exp(-x)) rounds to x in float32: PyTorch's linear part)
            return softplus_array(x)
        bx = x * beta
        return where_array(bx > threshold, x, softplus_array(bx) / beta).astype(x.dtype, copy=False)

    def backward(ctx, g, F):
        (x,) = ctx.saved
        if type(g) is np.ndarray and g.dtype == x.dtype and _defaults32(ctx, x):  # (sigmoid(x) rounds to 1 above 20)
            d = sigmoid_array(x)
            d *= g
            return d
        bx = x * ctx.beta
        return F.where(bx > ctx.threshold, g, g * F.sigmoid(bx))


def _defaults32(ctx, x) -> bool:
    """Whether softplus has PyTorch's defaults (beta 1, threshold 20) on a float32 array: no select needed."""
    return ctx.beta == 1 and ctx.threshold == 20 and type(x) is np.ndarray and x.dtype == _F32


# float16: PyTorch computes these in float32 and rounds once; in float16 steps sigmoid(-11.1) is 0 (exp(11.1)
# overflows) and elu's gradient y + alpha at -8.4 is 0. The wrappers pick these for float16 inputs (the float32
# rules, which also run in nn.Sequential's chains, stay as they are); each saves only its float16 input or output.
_F16, _F32 = np.dtype(np.float16), np.dtype(np.float32)
_FAST_FLOATS = (_F32, np.dtype(np.float64))  # (the dtypes of the bit-mask kernels)


class _Tanh16(Tanh):
    _label = "Tanh"

    def backward(ctx, g, F):
        y = F.cast(ctx.saved[0], _F32)
        return F.cast(F.cast(g, _F32) * (1 - y * y), _F16)


class _Sigmoid16(Sigmoid):
    _label = "Sigmoid"

    def forward(ctx, x):
        y = sigmoid_array(x.astype(_F32)).astype(_F16)
        ctx.saved = (y,)
        return y

    def backward(ctx, g, F):
        y = F.cast(ctx.saved[0], _F32)
        return F.cast(F.cast(g, _F32) * (1 - y) * y, _F16)


class _ELU16(ELU):
    """With PyTorch's gradient from ``x``: ``alpha exp(x)``, not ``y + alpha`` (which rounds to 0 in float16)."""

    _label = "ELU"

    def forward(ctx, x, alpha):
        ctx.saved, ctx.alpha = (x,), alpha
        x = x.astype(_F32)
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(_F16)

    def backward(ctx, g, F):
        (x,) = ctx.saved
        neg = F.cast(F.where(x <= 0, x, 0), _F32)  # (exp of the positive side may overflow)
        return F.where(x <= 0, F.cast(F.cast(g, _F32) * (ctx.alpha * F.exp(neg)), _F16), g)


class _Softplus16(Softplus):
    _label = "Softplus"

    def forward(ctx, x, beta, threshold):
        y = Softplus.forward(ctx, x.astype(_F32), beta, threshold).astype(_F16)
        ctx.saved = (x,)
        return y

    def backward(ctx, g, F):
        (x,) = ctx.saved
        bx = F.cast(x, _F32) * ctx.beta
        return F.where(bx > ctx.threshold, g, F.cast(F.cast(g, _F32) * F.sigmoid(bx), _F16))


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent (float16: its gradient in float32, rounded once, as PyTorch)."""
    x = _floating(x)
    return (_Tanh16 if x._data.dtype is _F16 else Tanh).apply(x)


def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, stable for large ``|x|`` (float16 in float32, rounded once)."""
    x = _floating(x)
    return (_Sigmoid16 if x._data.dtype is _F16 else Sigmoid).apply(x)


def silu(x: Tensor) -> Tensor:
    """``x * sigmoid(x)`` (swish) as one node; float inputs (float16: see ``F.silu``)."""
    return SiLU.apply(_floating(x))


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)`` (gradient 0 at 0, as in PyTorch)."""
    if isinstance(x, Tensor) and x._data.dtype.kind == "b":
        raise TypeError("relu: boolean inputs are not supported, as in PyTorch; convert with .float() or .long()")
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise."""
    return LeakyReLU.apply(_floating(x), negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise (float16 in float32, rounded once)."""
    x = _floating(x)
    return (_ELU16 if x._data.dtype is _F16 else ELU).apply(x, alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit; ``approximate='tanh'`` gives the tanh approximation."""
    x = _floating(x)
    if x._data.dtype == np.float16 and approximate in ("none", "tanh"):  # in float32, as PyTorch (x * x overflows)
        return gelu(x.float(), approximate).half()
    if approximate == "tanh":
        return GELUTanh.apply(x)
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(x, x._requires_grad and _State.enabled)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Smooth ReLU ``log(1 + exp(beta x)) / beta`` (float16 in float32, rounded once)."""
    x = _floating(x)
    return (_Softplus16 if x._data.dtype is _F16 else Softplus).apply(x, beta, threshold)


# ----------------------------------------------------------------------------- clamping and selection
class Clamp(Function):
    def forward(ctx, x, lo, hi):
        ctx.mask = (True if lo is None else x >= lo) & (True if hi is None else x <= hi)
        # tensor bounds get the gradient where they clipped x (PyTorch's rule, lo > hi included)
        # (a tensor bound is an array, or a NumPy scalar when it is the result of an op on 0-d tensors)
        bound = np.ndarray | np.generic
        ctx.lo_mask = (x < lo) & (True if hi is None else lo < hi) if isinstance(lo, bound) else None
        ctx.hi_mask = (x > hi) | (False if lo is None else hi < lo) if isinstance(hi, bound) else None
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
            out = where_array(cond, a, b)
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
    bounds = [v for v in (min, max) if type(v) is Tensor]
    if bounds:  # the result dtype is that of x and the tensor bounds together, as PyTorch
        dtype = _promoted_dtype(x, *bounds)
        x, min, max = (cast(v, dtype) if type(v) is Tensor and v._data.dtype != dtype else v for v in (x, min, max))
    min, max = _int_bounds(x, min, max, "clamp")
    return Clamp.apply(x, min, max)


def _promoted_dtype(*xs: Tensor) -> np.dtype:
    """PyTorch's result dtype of several tensors: :func:`_result_type`'s rule for 0-d tensors, over many."""
    dims, zeros = [x._data.dtype for x in xs if x.ndim], [x._data.dtype for x in xs if not x.ndim]
    if not dims or not zeros:
        return promote_types(*(dims or zeros))
    d, z = promote_types(*dims), promote_types(*zeros)
    return d if _CATEGORY[z.kind] <= _CATEGORY[d.kind] else promote_types(d, z)


def _int_bounds(x: Tensor, lo, hi, op: str):
    """Python int bounds of an integer tensor, which must fit its dtype, as in PyTorch (uint8: -1 is 255). A bool
    tensor takes int bounds that fit int64 (the result is int64), but not only Python bool bounds."""
    if x._data.dtype.kind == "b":
        if all(type(v) is bool for v in (lo, hi) if v is not None):
            raise TypeError(f"{op}: not implemented for a bool tensor with a bool bound (as in PyTorch); convert the "
                            "tensor first (x.long())")
        for v in (lo, hi):
            if type(v) is int:
                _wrapped(v, x._data.dtype, op)
    if x._data.dtype.kind not in "iu":
        return lo, hi
    return tuple(_fill_value(v, x._data.dtype, op).item() if type(v) is int else v for v in (lo, hi))


clip = clamp


def maximum(a, b) -> Tensor:
    """Elementwise maximum of two tensors (broadcasting)."""
    return Maximum.apply(*_operands(a, b, "maximum"))


def minimum(a, b) -> Tensor:
    """Elementwise minimum of two tensors (broadcasting)."""
    return Minimum.apply(*_operands(a, b, "minimum"))


def _bool_mask(mask, op: str, what: str, uint8_too: bool = False) -> np.ndarray:
    """The array of a bool ``mask`` (a Tensor, an array or nested lists); any other dtype is a TypeError, as in
    PyTorch (a mask of numbers is ambiguous: compare first). ``where`` still takes uint8, as PyTorch does."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype == np.bool_:
        return m
    if uint8_too and m.dtype == np.uint8:
        return m.astype(bool)
    raise TypeError(f"{op}: {what} must be a bool tensor, got dtype {m.dtype}; compare first (e.g. x > 0, "
                    "x != 0) or convert with .bool()")


def where(condition, input=None, other=None) -> Tensor:
    """``input`` where ``condition`` (a bool tensor) is true, else ``other`` (broadcasting; the condition is not
    differentiated). Two Python numbers give the default float dtype when one is a float, else int64 (or bool).
    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:  # (any dtype: the nonzero elements, as PyTorch)
        data = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(data)))
    cond = _bool_mask(condition, "where", "the condition", uint8_too=True)
    a, b = _operands(input, other, "where")
    if isinstance(a, Tensor) and isinstance(b, int | float):  # a weak scalar takes the tensor's dtype if it fits
        b = _weak_array(b, a._data.dtype)
    elif isinstance(b, Tensor) and isinstance(a, int | float):
        a = _weak_array(a, b._data.dtype)
    elif isinstance(a, int | float) and isinstance(b, int | float):  # two Python numbers, as PyTorch
        dtype = (get_default_dtype() if float in (type(a), type(b))
                 else np.bool_ if type(a) is bool and type(b) is bool else np.int64)
        for v in (a, b):
            if dtype is np.int64 and not -(1 << 63) <= v < (1 << 63):
                raise RuntimeError(f"where: the Python int {v} does not fit int64 (2**63 and more would need uint64, "
                                   "which is not supported, as in PyTorch)")
        a, b = np.asarray(a, dtype), np.asarray(b, dtype)
    return Where.apply(cond, a, b)


def _weak_array(v, dtype: np.dtype) -> np.ndarray:
    """A Python number meeting a tensor of ``dtype`` in ``where``: an int must fit an integer dtype (as in PyTorch)."""
    if type(v) is int and dtype.kind in "iu":
        return _fill_value(v, dtype, "where")
    if type(v) is int and dtype.kind == "b":
        _wrapped(v, dtype, "where")  # an int with a bool tensor must fit int64
    return np.asarray(v, dtype=np.result_type(dtype, v))


def masked_fill(x: Tensor, mask, value) -> Tensor:
    """``value`` where the bool ``mask`` is true, ``x`` elsewhere (``mask`` and ``x`` broadcast together).

    As in PyTorch, the result has ``x``'s dtype: ``value`` (a number or a 0-d tensor) is converted to it, so an
    integer tensor filled with 2.5 holds 2 there. The gradient flows to ``x`` and to a tensor ``value``.
    """
    m = _bool_mask(mask, "masked_fill", "the mask")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got a tensor of shape "
                             f"{value.shape}; use where(mask, value, x) to take values from a tensor")
        if value._data.dtype != x._data.dtype:
            value = cast(value, x._data.dtype)
    else:
        value = _fill_value(value, x._data.dtype, "masked_fill")
    return Where.apply(m, value, x)


def _fill_value(value, dtype: np.dtype, op: str) -> np.ndarray:
    """A Python or NumPy number as a 0-d array of ``dtype``: floats are truncated toward zero for integer dtypes,
    and a value that does not fit is an error (PyTorch's rule), instead of wrapping around silently."""
    v = _operand(value, op)
    if isinstance(v, np.ndarray):
        if v.ndim != 0:
            raise ValueError(f"{op}: value must be a number or a 0-d tensor, got an array of shape {v.shape}")
        v = v.item()
    if dtype.kind == "b":
        return np.asarray(bool(v))
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        # a float must lie in the dtype's range (then it is truncated toward zero); an unsigned dtype takes
        # small negative integers modulo 2**bits (uint8: -1 is 255), as in PyTorch
        fits = (info.min <= v <= info.max if type(v) is float
                else info.min <= v <= info.max or (info.min == 0 and -info.max <= v < 0))
        if not fits:  # (nan fits nowhere)
            raise RuntimeError(f"{op}: value {value!r} cannot be converted to {dtype} without overflow")
        v = int(v)
        return np.asarray(v % (info.max + 1) if v < 0 and info.min == 0 else v, dtype)
    with np.errstate(over="ignore"):  # checked here
        out = np.asarray(v, dtype)
    if np.isinf(out) and not math.isinf(v):
        raise RuntimeError(f"{op}: value {value!r} cannot be converted to {dtype} without overflow")
    return out


# ----------------------------------------------------------------------------- comparisons (not differentiable)
def _compare(name, ufunc, wraps: bool = True):
    def compare(a, b) -> Tensor:
        x = a._data if isinstance(a, Tensor) else _operand(a, name)
        y = b._data if isinstance(b, Tensor) else _operand(b, name)
        if wraps and type(y) is int and type(a) is Tensor and x.dtype.kind != "f":  # the int wraps into the dtype
            y = _wrapped(y, x.dtype, name)
        elif wraps and type(x) is int and type(b) is Tensor and y.dtype.kind != "f":
            x = _wrapped(x, y.dtype, name)
        # compare in the promoted dtype, as PyTorch (NumPy would compare int32 with float32 in float64)
        if type(a) is Tensor and type(b) is Tensor:
            if x.dtype != y.dtype:
                dtype = _result_type(a, b)
                x, y = x.astype(dtype, copy=False), y.astype(dtype, copy=False)
        elif type(y) is float and type(a) is Tensor and x.dtype.kind != "f":
            x = x.astype(get_default_dtype())
        elif type(x) is float and type(b) is Tensor and y.dtype.kind != "f":
            y = y.astype(get_default_dtype())
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
logical_and = _compare("logical_and", np.logical_and, wraps=False)
logical_or = _compare("logical_or", np.logical_or, wraps=False)
logical_xor = _compare("logical_xor", np.logical_xor, wraps=False)


def _bitwise(name: str, ufunc, symbol: str):
    def bitwise(a, b) -> Tensor:
        for v in (a, b):
            if type(v) is float or (isinstance(v, Tensor | np.ndarray | np.generic) and v.dtype.kind == "f"):
                raise TypeError(f"{name}: {symbol} is only defined for integer and bool tensors, got a floating "
                                f"operand ({getattr(v, 'dtype', 'float')}); use logical_{name[8:]} for truth "
                                "values, or convert with .long()")
        a, b = _operands(a, b, name)
        x = a._data if isinstance(a, Tensor) else a
        y = b._data if isinstance(b, Tensor) else b
        try:
            return Tensor._wrap(ufunc(x, y))
        except ValueError as e:
            _broadcast_error(name, x, y, e)

    bitwise.__name__ = name
    bitwise.__doc__ = (f"Elementwise bitwise ``a {symbol} b`` of integer or bool tensors (logical for bools); "
                       "not differentiable. Floating operands are a TypeError, as in PyTorch.")
    return bitwise


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, "&")
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, "|")
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, "^")


def bitwise_not(x: Tensor) -> Tensor:
    """Elementwise bitwise not, ``~x``, of an integer or bool tensor (logical not for bools: ``~(x > 0)``)."""
    if x._data.dtype.kind == "f":
        raise TypeError(f"bitwise_not: ~ is only defined for integer and bool tensors, got {x._data.dtype}; "
                        "use logical_not for truth values")
    return Tensor._wrap(np.invert(x._data))


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


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """True where ``isclose`` holds for every element."""
    a, b = tensor_arg(a, "allclose"), tensor_arg(b, "allclose")
    return bool(np.all(isclose(a, b, rtol, atol, equal_nan)._data))


def isclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """Bool tensor: ``|a - b| <= atol + rtol * |b|`` elementwise (broadcast). Both must have one dtype, as in
    PyTorch."""
    a, b = tensor_arg(a, "isclose"), tensor_arg(b, "isclose")
    if a.dtype != b.dtype:
        raise RuntimeError(f"isclose: both tensors must have the same dtype, got {a.dtype} and {b.dtype}")
    try:
        return Tensor._wrap(np.asarray(np.isclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan)))
    except ValueError as e:
        _broadcast_error("isclose", a, b, e)


# ----------------------------------------------------------------------------- dtype cast
class Cast(Function):
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        with np.errstate(over="ignore"):  # a value beyond the new dtype's range becomes inf silently, as PyTorch
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
