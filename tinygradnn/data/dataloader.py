"""``DataLoader``: iterate over a dataset in (shuffled) mini-batches of Tensors."""

from __future__ import annotations

import numpy as np

from ..random import Generator
from ._overrides import int_index_array, shortcut
from .collate import default_collate, default_convert
from .dataset import IterableDataset, batch_getter
from .sampler import BatchSampler, RandomSampler, SequentialSampler


class DataLoader:
    """Batches of a dataset, in order or shuffled, as Tensors.

    Examples:
        >>> import numpy as np, tinygradnn as tg
        >>> ds = tg.data.TensorDataset(np.arange(10.0, dtype=np.float32).reshape(5, 2), np.arange(5))
        >>> loader = DataLoader(ds, batch_size=2, shuffle=True, generator=tg.Generator().manual_seed(0))
        >>> len(loader), [y.shape for x, y in loader]
        (3, [(2,), (2,), (1,)])

    Args:
        dataset: a :class:`Dataset` (``dataset[i]`` and ``len``) or an :class:`IterableDataset`.
        batch_size: samples per batch; ``None`` yields the samples one by one, unbatched.
        shuffle: a new random order every epoch (``iter(loader)``), drawn from ``generator``.
        sampler / batch_sampler: custom orders (exclusive with ``shuffle``; ``batch_sampler`` also with
            ``batch_size`` and ``drop_last``).
        collate_fn: turns a list of samples into a batch (default :func:`default_collate`).
        drop_last: drop the last, incomplete batch.
        generator: a :class:`tinygradnn.Generator` driving the shuffle; ``None`` uses the global one
            (``tinygradnn.manual_seed``).
        seed: shorthand for ``generator=tinygradnn.Generator().manual_seed(seed)``: the sequence of
            epochs is reproducible, each epoch with a different order.
        num_workers: accepted for PyTorch compatibility, like ``pin_memory``, ``timeout``,
            ``worker_init_fn``, ``multiprocessing_context``, ``prefetch_factor`` and
            ``persistent_workers``. Loading always runs in the main process (NumPy indexing is
            already fast), so they have no effect.

    A dataset with a ``get_batch(indices)`` method (like :class:`TensorDataset`) builds each batch with
    one fancy-index per array when ``collate_fn`` is the default: no per-sample Python work. Batches
    of tuples come out as lists, as in PyTorch: ``for x, y in loader`` works either way. Subclasses
    that override ``__getitem__`` (of a dataset) or ``__iter__`` (of a sampler or batch sampler)
    without the matching shortcut are served through their override, as in PyTorch. A dataset with
    ``__getitems__(indices)`` gets each batch's samples from it, as in PyTorch.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None, persistent_workers: bool = False,
                 seed: int | None = None):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers option should be a non-negative integer, got {num_workers!r}")
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative, got {timeout}")
        if seed is not None:
            if generator is not None:
                raise ValueError("pass either generator or seed to DataLoader, not both")
            generator = Generator().manual_seed(seed)
        shuffle = bool(shuffle)

        if isinstance(dataset, IterableDataset):
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: shuffle, sampler and batch_sampler are not "
                                 "supported (shuffle the stream inside the dataset)")
        elif not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader needs a dataset with __getitem__ and __len__ (or an IterableDataset), got "
                            f"{type(dataset).__name__}")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None:
            if drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                                 "drop_last")
        elif isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value or None, but got "
                             f"batch_size={batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if not isinstance(dataset, IterableDataset):
            if sampler is None:
                sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
            if batch_size is not None and batch_sampler is None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self._auto_collation = batch_sampler is not None or (isinstance(dataset, IterableDataset) and
                                                            batch_size is not None)
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __iter__(self):
        """One epoch of batches (a fresh shuffle each time it is called)."""
        if isinstance(self.dataset, IterableDataset):
            return self._iter_stream()
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        return self._iter_batches()

    def _iter_batches(self):
        dataset, collate_fn = self.dataset, self.collate_fn
        # The fast paths, each taken only where it gives what the general one would: the batch
        # sampler slices the epoch's index array, and the dataset builds whole batches itself when
        # the default collation is wanted and the indices are integers.
        index_batches = shortcut(self.batch_sampler, "index_batches", "__iter__")
        batches = index_batches() if index_batches is not None else iter(self.batch_sampler)
        get_batch = batch_getter(dataset) if collate_fn is default_collate else None
        getitems = shortcut(dataset, "__getitems__", "__getitem__")
        for indices in batches:
            if get_batch is not None:
                array = int_index_array(indices)
                if array is not None:
                    yield get_batch(array)
                    continue
            items = indices.tolist() if isinstance(indices, np.ndarray) else indices
            yield collate_fn(getitems(items) if getitems is not None else [dataset[i] for i in items])

    def _iter_stream(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        """The number of batches per epoch."""
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # TypeError if the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)
