"""When a fast path may stand in for the method a user subclass overrides.

The DataLoader builds batches through shortcuts (``get_batch``, ``index_array``, ``index_batches``)
that produce what the general methods (``__getitem__``, ``__iter__``) would, only faster. A subclass
that overrides a general method but not its shortcut must go through its override, as in PyTorch;
otherwise the inherited shortcut would silently return the parent's data.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def _owner(cls: type, name: str) -> type | None:
    """The class of ``cls``'s MRO that defines ``name`` (``None`` if none does)."""
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass
    return None


def shortcut(obj, fast: str, *general: str):
    """``obj``'s bound ``fast`` method if it may replace the ``general`` ones, else ``None``.

    It may when it is defined on the instance, or by a class at least as derived as each class
    that defines one of ``general``: a plain ``TensorDataset`` keeps its ``get_batch``; a subclass
    overriding ``__getitem__`` alone loses it; one overriding both keeps its own.
    """
    if fast in getattr(obj, "__dict__", ()):
        return getattr(obj, fast)
    cls = type(obj)
    fast_owner = _owner(cls, fast)
    if fast_owner is None:
        return None
    for name in general:
        owner = _owner(cls, name)
        if owner is not None and not issubclass(fast_owner, owner):
            return None
    return getattr(obj, fast)


def int_index_array(indices) -> np.ndarray | None:
    """``indices`` as a 1-d integer array when they are all integers (not bools), else ``None``.

    Only then may a batch go through ``get_batch``, which fancy-indexes arrays with them: keys of
    other types (strings, tuples, ...) go to ``__getitem__`` one by one, as in PyTorch.
    """
    if isinstance(indices, Tensor):
        indices = indices._data
    if isinstance(indices, np.ndarray):
        return indices if indices.ndim == 1 and indices.dtype.kind in "iu" else None
    if not indices:
        return None
    types = set(map(type, indices))
    if types == {int}:  # the common case: Python ints (bool is a subclass, not the same type)
        return np.array(indices, dtype=np.int64)
    if bool in types or np.bool_ in types:
        return None
    try:
        arr = np.asarray(indices)
    except (TypeError, ValueError):
        return None
    return arr if arr.ndim == 1 and arr.dtype.kind in "iu" else None


def key_array(keys) -> np.ndarray:
    """A 1-d array of ``keys``: integers as an int64 array, any other keys as an object array (kept as given)."""
    arr = int_index_array(keys if isinstance(keys, np.ndarray) else list(keys))
    if arr is not None:
        return arr.astype(np.int64, copy=False)
    return np.fromiter(keys, dtype=object, count=len(keys))
