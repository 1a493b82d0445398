"""Samplers: the order in which a DataLoader visits a dataset's indices, and how they are grouped in batches."""

from __future__ import annotations

import numpy as np

from ..random import get_generator
from ..tensor import Tensor
from ._overrides import key_array, shortcut


class Sampler:
    """Base class: ``__iter__`` yields dataset indices; ``__len__`` says how many.

    Samplers that can produce a whole epoch's order at once also define ``index_array()``; the
    :class:`BatchSampler` then slices that array instead of looping in Python. A subclass that
    overrides ``__iter__`` but not ``index_array`` is iterated, so its order is the one used.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """0, 1, 2, ... in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def index_array(self) -> np.ndarray:
        return np.arange(len(self.data_source))

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new random order every epoch, drawn from ``generator`` (or the global generator).

    With ``replacement=True``, ``num_samples`` indices are drawn independently; without, the epoch is
    a permutation (several concatenated if ``num_samples > len(data_source)``).
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement!r}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def index_array(self) -> np.ndarray:
        """This epoch's order (drawing it advances the generator)."""
        rng = get_generator(self.generator)
        n, k = len(self.data_source), self.num_samples
        if n == 0:
            raise RuntimeError(f"RandomSampler: cannot draw {k} samples from an empty data source")
        if self.replacement:
            return rng.integers(0, n, size=k)
        parts = [rng.permutation(n) for _ in range(k // n)]
        if k % n:
            parts.append(rng.permutation(n)[: k % n])
        return np.concatenate(parts)

    def __iter__(self):
        return iter(self.index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (which need not sum to 1).

    Without replacement each index comes at most once, so ``num_samples`` may not exceed the number
    of nonzero weights.
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples!r}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement!r}")
        w = np.asarray(weights._data if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {w.shape}")
        if not w.size or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise RuntimeError(f"weights must be finite, non-negative and not all zero, got {w.tolist()}")
        self.weights = w
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def index_array(self) -> np.ndarray:
        """This epoch's draw (advancing the generator)."""
        if not self.replacement and self.num_samples > np.count_nonzero(self.weights):
            raise RuntimeError(f"cannot draw {self.num_samples} samples without replacement from "
                               f"{np.count_nonzero(self.weights)} nonzero weights")
        return get_generator(self.generator).choice(len(self.weights), self.num_samples, self.replacement,
                                                    self.weights / self.weights.sum())

    def __iter__(self):
        return iter(self.index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a new random order every epoch.

    The indices may be any keys of the dataset (strings too): they are yielded as given.
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def index_array(self) -> np.ndarray:
        """This epoch's order: an int64 array for integer indices, else an object array of the keys."""
        order = get_generator(self.generator).permutation(len(self.indices))
        return key_array(self.indices)[order]

    def __iter__(self):
        return iter(self.index_array().tolist())

    def __len__(self) -> int:
        return len(self.indices)


def epoch_order(sampler) -> np.ndarray | None:
    """The sampler's whole epoch as an array, when its ``index_array`` may stand in for its ``__iter__``."""
    index_array = shortcut(sampler, "index_array", "__iter__")
    return None if index_array is None else index_array()


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless ``drop_last``).

    Examples:
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def index_batches(self):
        """Yield each batch's indices: slices of the epoch's order array when the sampler has one,
        else lists of what the sampler yields (keys of any type)."""
        order = epoch_order(self.sampler)
        if order is not None:
            stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
            for start in range(0, stop, self.batch_size):
                yield order[start:start + self.batch_size]
            return
        yield from self._python_batches()

    def _python_batches(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __iter__(self):
        for batch in self.index_batches():
            yield batch.tolist() if isinstance(batch, np.ndarray) else batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
