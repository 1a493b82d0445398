"""Creating tensors: ``tensor``, ``zeros``, ``ones``, ``arange``, ``randn``, ... (PyTorch signatures)."""

from __future__ import annotations

import functools
import math

import numpy as np

from ._dtype import get_default_dtype
from .device import check_device
from .ops.elementwise import _fill_value
from .random import get_generator
from .tensor import Tensor, _np_dtype


def _shape(size):
    if len(size) == 1 and isinstance(size[0], tuple | list):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, int | np.integer) or s < 0:
            raise ValueError(f"sizes must be non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _dt(dtype):
    return get_default_dtype() if dtype is None else _np_dtype(dtype)


def _make(arr, requires_grad):
    t = Tensor._wrap(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def _cpu_only(fn):
    """PyTorch's ``device=`` argument: ``"cpu"`` (or None) is accepted, any other device is a clear error."""

    @functools.wraps(fn)
    def create(*args, device=None, **kwargs):
        check_device(device)
        return fn(*args, **kwargs)

    return create


@_cpu_only
def tensor(data, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A new tensor copied from ``data`` (nested lists, numbers, arrays or a Tensor).

    Python floats become the default float dtype, Python ints int64, bools bool; a NumPy array keeps
    its dtype.
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)  # Tensor() always copies


@_cpu_only
def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor` but shares memory with a NumPy array or Tensor when it can."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == _np_dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == _np_dtype(dtype)):
        return Tensor._wrap(data)
    return Tensor(data, dtype=dtype)


def from_numpy(arr: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``arr`` (no copy)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(arr).__name__}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: unsupported dtype {arr.dtype}")
    return Tensor._wrap(arr)


@_cpu_only
def zeros(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of zeros."""
    return _make(np.zeros(_shape(size), _dt(dtype)), requires_grad)


@_cpu_only
def ones(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor of ones."""
    return _make(np.ones(_shape(size), _dt(dtype)), requires_grad)


@_cpu_only
def empty(*size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """An uninitialised tensor (zeros here)."""
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def _number(v):
    """A 0-d Tensor as its Python number (PyTorch accepts those where it takes a number)."""
    return v.item() if isinstance(v, Tensor) else v


def _number_dtype(v):
    """The dtype PyTorch gives a number: bool for a bool, int64 for any integer, else None (default float)."""
    if isinstance(v, bool | np.bool_) or getattr(v, "dtype", None) == np.bool_:
        return np.bool_ if isinstance(v, bool | Tensor) else None  # torch reads np.bool_ as a float
    if isinstance(v, int | np.integer) or (isinstance(v, Tensor) and v.dtype.kind in "iu"):
        return np.int64
    return None


@_cpu_only
def full(size, fill_value, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor filled with ``fill_value`` (dtype inferred from it when not given)."""
    dt = _dt(_number_dtype(fill_value) if dtype is None else dtype)
    shape = _shape((size,) if isinstance(size, int) else (tuple(size),))
    return _make(np.full(shape, _fill_value(_number(fill_value), dt, "full"), dt), requires_grad)


@_cpu_only
def arange(start=0, end=None, step=1, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer arguments.

    As PyTorch: for int64 the arguments are truncated to integers first (``arange(0, 2.5, dtype=int64)`` is
    ``[0, 1]``); for other dtypes the length is ``ceil((end - start) / step)``, the values are ``start + i * step``
    computed in float64 (integer dtypes: truncated ``start`` and ``step``, wrapping as PyTorch does).
    """
    if end is None:
        start, end = 0, start
    start, end, step = _number(start), _number(end), _number(step)
    if dtype is None and all(_number_dtype(v) in (np.int64, np.bool_) for v in (start, end, step)):
        dtype = np.int64
    dt = _dt(dtype)
    if dt == np.int64:
        if not all(map(math.isfinite, (start, end, step))):
            raise RuntimeError(f"arange: unsupported range: {start} -> {end} (step {step})")
        start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise ValueError(f"arange: step must be nonzero (start={start}, end={end}, step={step})")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    n = -((start - end) // step) if dt == np.int64 else math.ceil((end - start) / step)
    if dt.kind in "iu":
        return _make((int(start) + np.arange(n, dtype=np.int64) * int(step)).astype(dt), requires_grad)
    return _make((start + np.arange(n, dtype=np.float64) * step).astype(dt), requires_grad)


def _linspace(start, end, steps: int, dt: np.dtype) -> np.ndarray:
    """PyTorch's linspace values in its compute dtype (float64 for integer dtypes, else ``dt``)."""
    start, end = _number(start), _number(end)
    if dt.kind in "iu":
        start, end = int(start), int(end)
    ct = np.dtype(np.float64) if dt.kind in "iub" else dt  # PyTorch steps integers in double, floats in their own dtype
    if steps <= 1:
        return np.full(max(steps, 0), start, ct)
    step = (ct.type(end) - ct.type(start)) / ct.type(steps - 1)
    i = np.arange(steps)
    return np.where(i < steps // 2, ct.type(start) + step * i.astype(ct),
                    ct.type(end) - step * (steps - 1 - i).astype(ct))


@_cpu_only
def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive.

    Computed as PyTorch: the first half as ``start + i * step``, the second as ``end - (steps - 1 - i) * step``;
    integer dtypes truncate ``start``, ``end`` and the values toward zero.
    """
    dt = _dt(dtype)
    return _make(_linspace(start, end, steps, dt).astype(dt), requires_grad)


@_cpu_only
def logspace(start, end, steps: int, base: float = 10.0, dtype=None, requires_grad: bool = False,
             device=None) -> Tensor:
    """``base ** linspace(start, end, steps)``."""
    dt = _dt(dtype)
    e = _linspace(start, end, steps, dt)
    return _make(np.power(e.dtype.type(base), e).astype(dt), requires_grad)


@_cpu_only
def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """The identity matrix (``n x m``)."""
    return _make(np.eye(n, m, dtype=_dt(dtype)), requires_grad)


@_cpu_only
def zeros_like(x: Tensor, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Zeros with the shape (and dtype) of ``x``."""
    return _make(np.zeros(x.shape, dtype or x.dtype), requires_grad)


@_cpu_only
def ones_like(x: Tensor, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Ones with the shape (and dtype) of ``x``."""
    return _make(np.ones(x.shape, dtype or x.dtype), requires_grad)


@_cpu_only
def empty_like(x: Tensor, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """An uninitialised tensor (zeros here) with the shape (and dtype) of ``x``."""
    return zeros_like(x, dtype=dtype, requires_grad=requires_grad)


@_cpu_only
def full_like(x: Tensor, fill_value, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """``fill_value`` with the shape (and dtype) of ``x``."""
    dt = _np_dtype(dtype or x.dtype)
    return _make(np.full(x.shape, _fill_value(_number(fill_value), dt, "full"), dt), requires_grad)


def _float_dt(dtype, op: str) -> np.dtype:
    dt = _dt(dtype)
    if dt.kind != "f":
        raise NotImplementedError(f"{op}: only floating dtypes are supported, got dtype {dt}")
    return dt


@_cpu_only
def randn(*size, dtype=None, requires_grad: bool = False, generator=None, device=None) -> Tensor:
    """Samples from the standard normal distribution (floating dtypes only)."""
    dt = _float_dt(dtype, "randn")
    return _make(get_generator(generator).standard_normal(_shape(size)).astype(dt), requires_grad)


@_cpu_only
def rand(*size, dtype=None, requires_grad: bool = False, generator=None, device=None) -> Tensor:
    """Samples from ``U[0, 1)`` (floating dtypes only)."""
    dt = _float_dt(dtype, "rand")
    return _make(get_generator(generator).random(_shape(size)).astype(dt), requires_grad)


@_cpu_only
def randint(low, high=None, size=(), dtype=None, generator=None, device=None) -> Tensor:
    """Random integers in ``[low, high)`` (int64); ``randint(high, size)`` means ``low = 0`` as in PyTorch."""
    if isinstance(high, tuple | list):
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"randint: low must be less than high, got low={low} >= high={high}")
    return Tensor._wrap(get_generator(generator).integers(low, high, size=_shape((tuple(size),)))
                        .astype(dtype or np.int64))


@_cpu_only
def randint_like(x: Tensor, low, high=None, dtype=None, device=None) -> Tensor:
    """Random integers in ``[low, high)`` (``randint_like(x, high)``: from 0) with the shape (and dtype) of ``x``."""
    return randint(low, high, x.shape, dtype=dtype or x.dtype)


@_cpu_only
def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of ``0..n-1`` (int64)."""
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    return Tensor._wrap(get_generator(generator).permutation(n).astype(dtype or np.int64))


@_cpu_only
def randn_like(x: Tensor, dtype=None, device=None) -> Tensor:
    """Normal samples with the shape of ``x``."""
    return randn(*x.shape, dtype=dtype or x.dtype)


@_cpu_only
def rand_like(x: Tensor, dtype=None, device=None) -> Tensor:
    """Uniform samples with the shape of ``x``."""
    return rand(*x.shape, dtype=dtype or x.dtype)
