"""Datasets: indexable collections of samples (``TensorDataset``, ``Subset``, ``ConcatDataset``, ``random_split``)
and streams (``IterableDataset``, ``ChainDataset``)."""

from __future__ import annotations

import bisect
import math
import numbers
import warnings

import numpy as np

from ..random import get_generator
from ..tensor import Tensor
from ._overrides import int_index_array, shortcut
from .collate import default_collate


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(i)`` (one sample) and ``__len__``.

    A subclass may also define ``get_batch(indices)`` returning a whole batch for an integer array
    of indices at once, already collated; the :class:`DataLoader` then uses it instead of calling
    ``__getitem__`` once per sample (this is how :class:`TensorDataset` is fast). A subclass that
    overrides ``__getitem__`` (or ``__getitems__``) but not ``get_batch`` goes through its override,
    sample by sample.

    Like PyTorch's DataLoader, tinygradnn's calls ``__getitems__(indices)`` (a list of samples for a
    list of indices) in place of ``__getitem__`` when the dataset defines it.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset given as a stream: subclasses define ``__iter__`` (no indexing, no shuffling)."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other: IterableDataset) -> ChainDataset:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several streams one after the other (what ``stream_a + stream_b`` gives)."""

    def __init__(self, datasets):
        self.datasets = datasets

    def _streams(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset only supports IterableDataset, got a {type(d).__name__}")
            yield d

    def __iter__(self):
        for d in self._streams():
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self._streams())


class TensorDataset(Dataset):
    """Samples are rows of Tensors (or NumPy arrays) with the same first dimension.

    ``dataset[i]`` is ``(x[i], y[i], ...)``. Arrays are wrapped without copying and keep their dtype
    (convert features to float32 yourself if they are float64). Tensors are kept as given: those that
    require grad give samples and batches that do too (gradients flow back to them), as in PyTorch.

    Examples:
        >>> import numpy as np
        >>> ds = TensorDataset(np.zeros((4, 2), np.float32), np.arange(4))
        >>> len(ds), ds[1][1].item()
        (4, 1)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor or array")
        wrapped = []
        for i, t in enumerate(tensors):
            if isinstance(t, Tensor):
                wrapped.append(t)
            elif isinstance(t, np.ndarray):
                if t.dtype.kind not in "biuf":
                    raise TypeError(f"TensorDataset: array {i} has unsupported dtype {t.dtype}")
                wrapped.append(Tensor._wrap(t))
            else:
                raise TypeError(f"TensorDataset expects Tensors or NumPy arrays, argument {i} is a "
                                f"{type(t).__name__}")
            if wrapped[-1].ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is a 0-d tensor; samples are taken along dimension 0")
        sizes = [len(t) for t in wrapped]
        if len(set(sizes)) != 1:
            raise ValueError(f"Size mismatch between tensors: first dimensions are {sizes}")
        self.tensors = tuple(wrapped)

    def __getitem__(self, index):
        return tuple(t[index] if t._requires_grad else Tensor._wrap(t._data[index]) for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])

    def get_batch(self, indices: np.ndarray) -> list[Tensor]:
        """The batch for an integer index array: one fancy-index per tensor, no per-sample copies."""
        return [t[indices] if t._requires_grad else Tensor._wrap(t._data[indices]) for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at positions ``indices`` (in that order).

    ``indices`` is read on every access, as in PyTorch: changing it (or assigning a new sequence)
    changes the subset. The indices may be any keys of ``dataset``, not only integers. Over a
    :class:`TensorDataset`, a batch costs one lookup per sample in ``indices`` and one fancy-index
    per tensor (a NumPy integer array as ``indices`` saves the lookups).
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices) -> list:
        """The samples at these positions, through the inner dataset's ``__getitems__`` when it has one."""
        keys = [self.indices[i] for i in indices]
        getitems = shortcut(self.dataset, "__getitems__", "__getitem__")
        if getitems is not None:
            return getitems(keys)
        return [self.dataset[k] for k in keys]

    def __len__(self) -> int:
        return len(self.indices)

    def get_batch(self, indices: np.ndarray):
        """A whole batch: through the inner dataset's ``get_batch`` when it may be used, else sample by sample."""
        if isinstance(self.indices, np.ndarray):
            keys = self.indices[indices]
        else:
            keys = list(map(self.indices.__getitem__, indices.tolist()))
        fetch = batch_getter(self.dataset)
        if fetch is not None:
            inner = int_index_array(keys)
            if inner is not None:
                return fetch(inner)
        getitems = shortcut(self.dataset, "__getitems__", "__getitem__")
        keys = keys.tolist() if isinstance(keys, np.ndarray) else keys
        return default_collate(getitems(keys) if getitems is not None else [self.dataset[k] for k in keys])


def batch_getter(dataset):
    """``dataset.get_batch`` when it may build a batch in place of ``__getitem__`` (and ``__getitems__``)
    followed by :func:`default_collate`; ``None`` when a subclass overrides those without it."""
    return shortcut(dataset, "get_batch", "__getitem__", "__getitems__")


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int):
        if index < 0:
            if -index > len(self):
                raise IndexError(f"index {index} out of range for ConcatDataset of length {len(self)}")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        if which == len(self.datasets):
            raise IndexError(f"index {index} out of range for ConcatDataset of length {len(self)}")
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


def random_split(dataset, lengths, generator=None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` are integer sizes summing to ``len(dataset)``, or floats (fractions) summing to 1: sizes
    are then ``floor(n * fraction)``, with the remainder handed out one by one from the first split.

    Examples:
        >>> import numpy as np, tinygradnn as tg
        >>> train, val = random_split(TensorDataset(np.arange(10)), [0.8, 0.2], generator=tg.Generator().manual_seed(0))
        >>> len(train), len(val)
        (8, 2)
    """
    n = len(dataset)
    lengths = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    if not lengths:
        raise ValueError("random_split needs at least one length")
    for i, length in enumerate(lengths):
        if isinstance(length, bool) or not isinstance(length, numbers.Real):
            raise TypeError(f"lengths must be integers or fractions, got {length!r} at index {i}")
    if any(not isinstance(x, numbers.Integral) for x in lengths):  # fractions
        if not math.isclose(sum(lengths), 1):
            raise ValueError(f"fractions given to random_split must sum to 1, got {lengths} (sum {sum(lengths)})")
        counts = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1: {frac}")
            counts.append(math.floor(n * frac))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0; this might result in an empty dataset",
                              stacklevel=2)
        lengths = counts
    for i, length in enumerate(lengths):
        if length < 0:
            raise ValueError(f"lengths must be non-negative, got {length} at index {i}")
    lengths = [int(x) for x in lengths]
    if sum(lengths) != n:
        raise ValueError(f"Sum of input lengths ({sum(lengths)}) does not equal the length of the input dataset ({n})")
    order = get_generator(generator).permutation(n)
    splits, offset = [], 0
    for length in lengths:
        splits.append(Subset(dataset, order[offset:offset + length].tolist()))
        offset += length
    return splits
