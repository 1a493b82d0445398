"""DataLoader, samplers and default_collate."""

from collections import deque, namedtuple

import numpy as np
import pytest

import tinygradnn as tg
from tinygradnn.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)

N = 10


def xy(n=N):
    X = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    y = np.arange(n) % 3
    return X, y


@pytest.fixture
def getitem_calls(monkeypatch):
    """Counts TensorDataset's per-sample accesses, to prove the fast path does not use them.

    The method is patched on TensorDataset itself: a subclass overriding it would (rightly) lose
    the fast path, see test_overrides.py.
    """
    calls = []
    original = TensorDataset.__getitem__

    def counting(self, index):
        calls.append(index)
        return original(self, index)

    monkeypatch.setattr(TensorDataset, "__getitem__", counting)
    return calls


class DictDataset(Dataset):
    """A per-sample dataset in the PyTorch style: dicts of an array, a Python int and a Python float."""

    def __init__(self, n=N):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": np.full(3, i, dtype=np.float32), "label": i % 2, "weight": 0.5 * i, "name": f"s{i}"}


def rows(batch):
    return batch[0].numpy()[:, 0].astype(int) // 2  # the sample index, recovered from X


def test_sequential_batches_of_tensors():
    X, y = xy()
    loader = DataLoader(TensorDataset(X, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [b[0].shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    assert all(isinstance(t, tg.Tensor) for b in batches for t in b)
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), X)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y)
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_drop_last_and_len():
    ds = TensorDataset(*xy())
    assert len(DataLoader(ds, batch_size=3)) == 4
    assert len(DataLoader(ds, batch_size=3, drop_last=True)) == 3
    assert [len(b[1]) for b in DataLoader(ds, batch_size=3, drop_last=True)] == [3, 3, 3]
    assert [len(b[1]) for b in DataLoader(ds, batch_size=3, shuffle=True, drop_last=True)] == [3, 3, 3]
    assert len(DataLoader(ds, batch_size=5, drop_last=True)) == 2


def test_shuffle_is_a_permutation_and_reproducible_with_a_generator():
    ds = TensorDataset(*xy())

    def epochs(loader, k=3):
        return [np.concatenate([rows(b) for b in loader]).tolist() for _ in range(k)]

    a = epochs(DataLoader(ds, batch_size=3, shuffle=True, generator=tg.Generator().manual_seed(7)))
    b = epochs(DataLoader(ds, batch_size=3, shuffle=True, generator=tg.Generator().manual_seed(7)))
    c = epochs(DataLoader(ds, batch_size=3, shuffle=True, generator=tg.Generator().manual_seed(8)))
    assert a == b and a != c
    assert all(sorted(epoch) == list(range(N)) for epoch in a)
    assert a[0] != a[1]  # a new order every epoch
    assert epochs(DataLoader(ds, batch_size=3, shuffle=True, seed=7)) == a


def test_shuffle_uses_the_global_generator():
    ds = TensorDataset(*xy())
    loader = DataLoader(ds, batch_size=N, shuffle=True)
    tg.manual_seed(3)
    first = rows(next(iter(loader))).tolist()
    tg.manual_seed(3)
    assert rows(next(iter(loader))).tolist() == first
    assert first != list(range(N))


def test_fast_path_fancy_indexes_once_per_array_and_equals_the_slow_path(getitem_calls):
    X, y = xy()
    ds = TensorDataset(X, y)
    fast = list(DataLoader(ds, batch_size=4, shuffle=True, seed=0))
    assert len(getitem_calls) == 0
    slow = list(DataLoader(ds, batch_size=4, shuffle=True, seed=0, collate_fn=lambda b: default_collate(b)))
    assert len(getitem_calls) == N
    for f, s in zip(fast, slow):
        assert isinstance(f, list) and isinstance(s, list)
        for a, b in zip(f, s):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_subsets_from_random_split_keep_the_fast_path(getitem_calls):
    X, y = xy(100)
    ds = TensorDataset(X, y)
    train, _ = random_split(ds, [0.8, 0.2], generator=tg.Generator().manual_seed(0))
    seen = np.concatenate([rows(b) for b in DataLoader(train, batch_size=16)])
    assert len(getitem_calls) == 0
    assert seen.tolist() == list(train.indices)


def test_per_sample_dataset_collates_dicts_numbers_and_strings():
    loader = DataLoader(DictDataset(), batch_size=4, shuffle=False)
    batch = next(iter(loader))
    assert set(batch) == {"x", "label", "weight", "name"}
    assert batch["x"].shape == (4, 3) and batch["x"].dtype == np.float32
    assert batch["label"].dtype == np.int64 and batch["label"].tolist() == [0, 1, 0, 1]
    assert batch["weight"].dtype == np.float32 and batch["weight"].tolist() == [0.0, 0.5, 1.0, 1.5]
    assert batch["name"] == ["s0", "s1", "s2", "s3"]  # a list, as PyTorch: [d[key] for d in batch]


def test_default_collate_structures():
    out = default_collate([(1.0, 0, True), (2.0, 1, False)])
    assert isinstance(out, list)
    assert out[0].dtype == np.float32 and out[1].dtype == np.int64 and out[2].dtype == np.bool_
    tg.set_default_dtype(tg.float64)
    assert default_collate([1.0, 2.5]).dtype == np.float64
    assert default_collate([1, 2.5]).tolist() == [1.0, 2.5]  # mixed ints and floats: floats, not truncated
    Point = namedtuple("Point", "x y")
    p = default_collate([Point(np.zeros(2), 1), Point(np.ones(2), 2)])
    assert isinstance(p, Point) and p.x.shape == (2, 2) and p.y.tolist() == [1, 2]
    assert default_collate([np.float16(1), np.float16(2)]).dtype == np.float16
    assert default_collate([np.float32(0.1), np.float64(0.123456789012345)]).dtype == np.float64  # no rounding
    nested = default_collate([{"a": [tg.ones(2), 3]}, {"a": [tg.zeros(2), 4]}])
    assert nested["a"][0].shape == (2, 2) and nested["a"][1].tolist() == [3, 4]
    queued = default_collate([deque([1, 2.0]), deque([3, 4.0])])  # any sequence, in its own type (PyTorch)
    assert isinstance(queued, deque) and queued[0].tolist() == [1, 3] and queued[1].tolist() == [2.0, 4.0]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match=r"different shapes \(2,\) .* \(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1, 2, 3)])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="same structure"):
        default_collate([np.zeros(2), 1.0])
    with pytest.raises(RuntimeError, match="keys"):
        default_collate([{"a": 1}, {"b": 1}])
    with pytest.raises(ValueError, match="non-empty"):
        default_collate([])
    with pytest.raises(ValueError, match="got a str$"):  # not "of length 0"
        default_collate("ab")
    with pytest.raises(ValueError, match="int64 range"):  # as PyTorch (ValueError: Overflow)
        default_collate([2**70, 1])


def test_default_collate_promotes_mixed_dtypes_as_pytorch():
    # torch.stack / torch.as_tensor promotion: a floating dtype wins over integers unchanged (NumPy: float64)
    assert default_collate([tg.ones(2), tg.tensor(np.zeros(2, np.int64))]).dtype == np.float32
    assert default_collate([np.zeros(2, np.int64), np.ones(2, np.float32)]).dtype == np.float32
    assert default_collate([np.zeros(2, np.int64), np.ones(2, np.float16)]).dtype == np.float16
    assert default_collate([np.zeros(2, np.uint8), np.ones(2, np.int8)]).dtype == np.int16
    assert default_collate([np.int64(1), np.float32(2)]).dtype == np.float32
    assert default_collate([np.float16(1), np.int64(2)]).tolist() == [1.0, 2.0]
    graph = default_collate([tg.ones(2, requires_grad=True), tg.tensor(np.zeros(2, np.int64))])
    assert graph.dtype == np.float32 and graph.requires_grad


def test_batch_size_none_yields_unbatched_samples_as_tensors():
    X, y = xy()
    samples = list(DataLoader(TensorDataset(X, y), batch_size=None))
    assert len(samples) == N and samples[3][0].shape == (2,)
    dicts = list(DataLoader(DictDataset(3), batch_size=None))
    assert isinstance(dicts[1]["x"], tg.Tensor) and dicts[1]["label"] == 1


def test_custom_sampler_and_batch_sampler():
    ds = TensorDataset(*xy())
    sampler = SubsetRandomSampler([1, 3, 5], generator=tg.Generator().manual_seed(0))
    loader = DataLoader(ds, batch_size=2, sampler=sampler)
    assert sorted(np.concatenate([rows(b) for b in loader]).tolist()) == [1, 3, 5]
    assert len(loader) == 2

    class Pairs:
        def __iter__(self):
            return iter([[0, 9], [4, 5, 6]])

        def __len__(self):
            return 2

    batches = list(DataLoader(ds, batch_sampler=Pairs()))
    assert [rows(b).tolist() for b in batches] == [[0, 9], [4, 5, 6]]
    assert list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=True)) == [[0, 1], [2, 3]]
    assert sorted(RandomSampler(range(5), generator=tg.Generator().manual_seed(0))) == [0, 1, 2, 3, 4]
    with_replacement = list(RandomSampler(range(5), replacement=True, num_samples=20))
    assert len(with_replacement) == 20 and set(with_replacement) <= set(range(5))
    longer = list(RandomSampler(range(5), num_samples=12))
    assert sorted(longer[:10]) == sorted(list(range(5)) * 2)


def test_random_sampler_of_an_empty_dataset_says_so():
    with pytest.raises(RuntimeError, match="empty"):
        list(RandomSampler([], replacement=True, num_samples=3))
    with pytest.raises(RuntimeError, match="empty"):
        list(RandomSampler([], num_samples=3))


def test_weighted_random_sampler():
    gen = tg.Generator().manual_seed(0)
    draws = list(WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=gen))
    assert len(draws) == 4000 and all(type(i) is int for i in draws) and 0 not in draws
    assert 0.7 < draws.count(2) / 4000 < 0.8  # weights need not sum to 1
    once = list(WeightedRandomSampler(np.array([1.0, 2.0, 3.0]), 3, replacement=False, generator=gen))
    assert sorted(once) == [0, 1, 2]
    assert len(WeightedRandomSampler(tg.tensor([1.0, 2.0]), 7)) == 7
    again = [list(WeightedRandomSampler([1, 2, 3], 5, generator=tg.Generator().manual_seed(1))) for _ in range(2)]
    assert again[0] == again[1]
    loader = DataLoader(TensorDataset(*xy()), batch_size=4, sampler=WeightedRandomSampler([1.0] * N, 6))
    assert [len(y) for _, y in loader] == [4, 2]
    with pytest.raises(RuntimeError, match="without replacement"):
        list(WeightedRandomSampler([1.0, 0.0, 2.0], 3, replacement=False))
    with pytest.raises(ValueError, match="num_samples"):
        WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError, match="replacement"):
        WeightedRandomSampler([1.0], 1, replacement=1)
    with pytest.raises(ValueError, match="1d"):
        WeightedRandomSampler([[1.0, 2.0]], 1)
    for bad in ([-1.0, 2.0], [1.0, float("nan")], [0.0, 0.0], []):
        with pytest.raises(RuntimeError):
            WeightedRandomSampler(bad, 1)


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)


def test_adding_iterable_datasets_chains_them():
    class Stream(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    chained = Stream(3) + Stream(2)
    assert isinstance(chained, tg.data.ChainDataset) and list(chained) == [0, 1, 2, 0, 1] and len(chained) == 5
    assert [b.tolist() for b in DataLoader(chained, batch_size=2)] == [[0, 1], [2, 0], [1]]
    with pytest.raises(TypeError, match="IterableDataset"):
        list(tg.data.ChainDataset([Stream(1), [5]]))


def test_num_workers_and_friends_are_accepted():
    ds = TensorDataset(*xy())
    loader = DataLoader(ds, batch_size=5, num_workers=4, pin_memory=True, persistent_workers=True, prefetch_factor=2)
    assert len(list(loader)) == 2 and loader.num_workers == 4


def test_argument_errors():
    ds = TensorDataset(*xy())
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=4, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="either generator or seed"):
        DataLoader(ds, generator=tg.Generator(), seed=1)
    with pytest.raises(TypeError, match="__getitem__ and __len__"):
        DataLoader(42)


def test_torch_style_import_path():
    from tinygradnn.utils.data import DataLoader as DL
    from tinygradnn.utils.data import TensorDataset as TD

    assert DL is DataLoader and TD is TensorDataset
    assert tg.utils.data.random_split is random_split
