"""``default_collate``: turn a list of samples into one batch of Tensors."""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence

import numpy as np

from .._dtype import get_default_dtype, promote_types
from ..ops.shape import stack
from ..tensor import Tensor

_SUPPORTED = "tensors, numpy arrays, numbers, strings, dicts, tuples or lists"


def _same_shapes(arrays: list[np.ndarray]) -> None:
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != first:
            raise RuntimeError(f"default_collate: cannot stack samples of different shapes {first} (sample 0) and "
                               f"{a.shape} (sample {i}); pad them to one shape or pass a collate_fn")


def _stack(arrays: list[np.ndarray], dtype) -> Tensor:
    _same_shapes(arrays)
    return Tensor._wrap(np.stack(arrays, dtype=dtype))


def _numbers(batch: list) -> Tensor:
    """Python (or NumPy scalar) numbers: ints -> int64, floats -> the default float dtype, bools -> bool."""
    arr = np.array(batch)
    if arr.dtype == object and all(isinstance(b, int) for b in batch):
        big = [b for b in batch if not -2**63 <= b < 2**63]
        raise ValueError(f"default_collate: integers out of the int64 range: {big}")
    if arr.dtype.kind == "b":
        return Tensor._wrap(arr)
    if arr.dtype.kind in "iu":
        return Tensor._wrap(arr.astype(np.int64, copy=False))
    if arr.dtype.kind == "f":
        return Tensor._wrap(arr.astype(get_default_dtype(), copy=False))
    types = sorted({type(b).__name__ for b in batch})
    raise TypeError(f"default_collate: cannot batch numbers of mixed or unsupported types {types}")


def default_collate(batch: list):
    """Batch a list of samples, keeping the structure of one sample.

    * Tensors and NumPy arrays are stacked along a new first dimension (dtype kept);
    * Python ints become an int64 Tensor, floats the default float dtype (PyTorch: float64), bools bool;
    * NumPy scalars keep their dtype; a batch of strings (or bytes) is returned as it is, as in
      PyTorch (inside tuples and lists, so a tuple: ``[("a", 1), ("b", 2)]`` gives
      ``[("a", "b"), tensor([1, 2])]``);
    * dicts are collated key by key (the mapping's type is kept where it can be); tuples and lists
      position by position (both give a list, as in PyTorch; a namedtuple stays a namedtuple).

    Examples:
        >>> default_collate([(1.0, 0), (2.0, 1)])
        [tensor([1., 2.]), tensor([0, 1])]
    """
    if not isinstance(batch, Sequence) or isinstance(batch, str | bytes) or len(batch) == 0:
        raise ValueError(f"default_collate expects a non-empty list of samples, got a {type(batch).__name__}"
                         + (" of length 0" if isinstance(batch, Sequence) and not batch else ""))
    elem = batch[0]
    if isinstance(elem, str | bytes):  # NumPy's str_ and bytes_ too, before the NumPy scalars
        return batch
    if isinstance(elem, Tensor | np.ndarray):
        _check_all(batch, Tensor | np.ndarray)
        arrays = [b._data if isinstance(b, Tensor) else b for b in batch]
        dtypes = {a.dtype for a in arrays}
        for d in dtypes:
            if d.kind not in "biuf":
                raise TypeError(f"default_collate: batch must contain {_SUPPORTED}; found an array of dtype {d}")
        if any(isinstance(b, Tensor) and b._requires_grad for b in batch):  # keep the graph, as torch.stack
            _same_shapes(arrays)
            return stack([b if isinstance(b, Tensor) else Tensor._wrap(b) for b in batch])
        # mixed dtypes promote as torch.stack does: float32 with int64 is float32 (NumPy: float64)
        return _stack(arrays, promote_types(*dtypes) if len(dtypes) > 1 else None)
    if isinstance(elem, bool | int | float | np.generic):
        _check_all(batch, bool | int | float | np.generic)
        if all(isinstance(b, np.generic) for b in batch):
            arr = np.array(batch, dtype=promote_types(*{b.dtype for b in batch}))  # keep the dtype; mixed: as torch
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"default_collate: batch must contain {_SUPPORTED}; found {type(elem).__name__}")
            return Tensor._wrap(arr)
        return _numbers(batch)
    if isinstance(elem, Mapping):
        _check_all(batch, Mapping)
        for i, d in enumerate(batch):
            if d.keys() != elem.keys():
                raise RuntimeError(f"default_collate: sample 0 has keys {sorted(map(str, elem))} but sample {i} has "
                                   f"keys {sorted(map(str, d))}")
        return _same_mapping(elem, {key: default_collate([d[key] for d in batch]) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        _check_all(batch, type(elem))
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, Sequence):
        _check_all(batch, Sequence)
        size = len(elem)
        if any(len(b) != size for b in batch):
            raise RuntimeError(f"default_collate: each element in list of batch should be of equal size, got "
                               f"lengths {sorted({len(b) for b in batch})}")
        collated = [default_collate(samples) for samples in zip(*batch)]
        return collated if isinstance(elem, tuple) else _same_sequence(elem, collated)
    raise TypeError(f"default_collate: batch must contain {_SUPPORTED}; found {type(elem).__name__}")


def _check_all(batch: list, kind) -> None:
    for i, b in enumerate(batch):
        if not isinstance(b, kind):
            raise TypeError(f"default_collate: sample 0 is a {type(batch[0]).__name__} but sample {i} is a "
                            f"{type(b).__name__}; all samples must have the same structure")


def _same_mapping(like: Mapping, values: dict):
    """``values`` in a mapping of ``like``'s type, as PyTorch builds it (a plain dict where that fails)."""
    try:
        if isinstance(like, MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _same_sequence(like: Sequence, values: list):
    """``values`` in a sequence of ``like``'s type, as PyTorch builds it (a list where that fails)."""
    try:
        if isinstance(like, MutableSequence):
            clone = copy.copy(like)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return type(like)(values)
    except TypeError:
        return values


def default_convert(data):
    """Turn NumPy arrays and scalars (inside dicts, tuples and lists too) into Tensors, leaving the rest as is.

    Used when the DataLoader does not batch (``batch_size=None``). As in PyTorch, a NumPy scalar
    becomes a 0-d Tensor, a tuple becomes a list (a namedtuple stays one), and strings and arrays of
    strings or objects are kept.

    Examples:
        >>> default_convert((np.arange(2), np.float32(1.5), "a"))
        [tensor([0, 1]), tensor(1.5), 'a']
    """
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray | np.generic):
        if data.dtype.kind in "biuf":
            return Tensor._wrap(np.asarray(data))
        return data
    if isinstance(data, Mapping):
        return _same_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, str | bytes):
        return _same_sequence(data, [default_convert(d) for d in data])
    return data
