"""Creating tensors: ``tensor``, ``zeros``, ``ones``, ``arange``, ``randn``, ... (PyTorch signatures)."""

from __future__ import annotations

import functools

import numpy as np

from ._dtype import get_default_dtype
from .device import check_device
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


@_cpu_only
def full(size, fill_value, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A tensor filled with ``fill_value`` (dtype inferred from it when not given)."""
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int) else None
    return _make(np.full(_shape((size,) if isinstance(size, int) else (tuple(size),)), fill_value, _dt(dtype)),
                 requires_grad)


@_cpu_only
def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer arguments."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None and all(isinstance(v, int) for v in (start, end, step)):
        dtype = np.int64
    return _make(np.arange(start, end, step, dtype=_dt(dtype)), requires_grad)


@_cpu_only
def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _make(np.linspace(start, end, steps, dtype=_dt(dtype)), requires_grad)


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
def full_like(x: Tensor, fill_value, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """``fill_value`` with the shape (and dtype) of ``x``."""
    return _make(np.full(x.shape, fill_value, dtype or x.dtype), requires_grad)


@_cpu_only
def randn(*size, dtype=None, requires_grad: bool = False, generator=None, device=None) -> Tensor:
    """Samples from the standard normal distribution."""
    return _make(get_generator(generator).standard_normal(_shape(size)).astype(_dt(dtype)), requires_grad)


@_cpu_only
def rand(*size, dtype=None, requires_grad: bool = False, generator=None, device=None) -> Tensor:
    """Samples from ``U[0, 1)``."""
    return _make(get_generator(generator).random(_shape(size)).astype(_dt(dtype)), requires_grad)


@_cpu_only
def randint(low, high=None, size=(), dtype=None, generator=None, device=None) -> Tensor:
    """Random integers in ``[low, high)`` (int64)."""
    if high is None:
        low, high = 0, low
    return Tensor._wrap(get_generator(generator).integers(low, high, size=tuple(size)).astype(dtype or np.int64))


@_cpu_only
def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    """A random permutation of ``0..n-1`` (int64)."""
    return Tensor._wrap(get_generator(generator).permutation(n).astype(dtype or np.int64))


@_cpu_only
def randn_like(x: Tensor, dtype=None, device=None) -> Tensor:
    """Normal samples with the shape of ``x``."""
    return randn(*x.shape, dtype=dtype or x.dtype)


@_cpu_only
def rand_like(x: Tensor, dtype=None, device=None) -> Tensor:
    """Uniform samples with the shape of ``x``."""
    return rand(*x.shape, dtype=dtype or x.dtype)
