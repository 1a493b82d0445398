"""Shared by the layer constructors: an uninitialised Parameter of the requested dtype (CPU only)."""

from __future__ import annotations

import numpy as np

from ..._dtype import get_default_dtype
from ...device import check_device
from ..parameter import Parameter


def float_dtype(device=None, dtype=None) -> np.dtype:
    """The dtype a layer's parameters get: ``dtype``, or the default float dtype; the device must be the CPU."""
    check_device(device)
    dt = get_default_dtype() if dtype is None else np.dtype(getattr(dtype, "np", dtype))
    if dt.kind != "f":
        raise TypeError(f"layer parameters must have a floating dtype, got {dt}")
    return dt


def check_size(layer: str, what: str, value) -> None:
    """A layer's size argument (``in_features``, ``num_features``, ...) must be a non-negative int."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{layer}: {what} must be an int, got {value!r} ({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{layer}: {what} must be non-negative, got {value}")


def empty_parameter(shape, device=None, dtype=None) -> Parameter:
    """A Parameter of ``shape`` (values to be set by ``reset_parameters``), default dtype unless given."""
    return Parameter(np.empty(shape, dtype=float_dtype(device, dtype)))
