"""The DataLoader's shortcuts never bypass a user's overrides, keys need not be integers, Subset reads
its indices live, and default_convert / default_collate build PyTorch's containers.

Each scenario is written once against a namespace (tinygradnn or torch, with its ``utils.data``) and
returns plain Python values: the test checks tinygradnn's result against the literal expected one
and, when PyTorch is installed, that PyTorch gives the same.
"""

from __future__ import annotations

import collections
from collections import namedtuple

import numpy as np
import pytest

import tinygradnn as tg
import tinygradnn.utils.data as tg_data
from tinygradnn.data import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    default_collate,
    random_split,
)

try:
    import torch
    import torch.utils.data as torch_data
except ImportError:  # the comparisons with PyTorch skip themselves, visibly
    torch = torch_data = None

Point = namedtuple("Point", "a b")


def plain(value):
    """Tensors as ('T', dtype, values); containers keep their type name, so list vs tuple is checked."""
    if isinstance(value, tg.Tensor) or (torch is not None and isinstance(value, torch.Tensor)):
        return "T", str(value.dtype).replace("torch.", ""), value.tolist()
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value).__name__, [plain(v) for v in value]
    if isinstance(value, list | tuple):
        return type(value).__name__, [plain(v) for v in value]
    if isinstance(value, dict):
        return type(value).__name__, {k: plain(v) for k, v in value.items()}
    return type(value).__name__, value


def f32(m, values):
    return m.tensor(np.asarray(values, dtype=np.float32))


def i64(m, values):
    return m.tensor(np.asarray(values, dtype=np.int64))


def tensor_dataset_subclass(m, D):
    class Aug(D.TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 100, y

    return Aug(f32(m, np.arange(4)), i64(m, np.arange(4)))


# ---- 1. subclass overrides win over the shortcuts --------------------------------------------------

def s_tensor_dataset_subclass(m, D):
    return [b[0].tolist() for b in D.DataLoader(tensor_dataset_subclass(m, D), batch_size=3)]


def s_tensor_dataset_subclass_shuffled(m, D):  # the order is each library's own; the values are not
    batches = D.DataLoader(tensor_dataset_subclass(m, D), batch_size=4, shuffle=True)
    return sorted(v for b in batches for v in b[0].tolist())


def s_subclass_through_subset(m, D):
    return [b[0].tolist() for b in D.DataLoader(D.Subset(tensor_dataset_subclass(m, D), [3, 1]), batch_size=2)]


def s_subclass_through_random_split(m, D):
    parts = D.random_split(tensor_dataset_subclass(m, D), [2, 2])
    return sorted(v for p in parts for b in D.DataLoader(p, batch_size=2) for v in b[0].tolist())


def s_subclass_with_its_own_get_batch_and_getitems(m, D):
    class Batched(D.TensorDataset):  # torch calls __getitems__; tinygradnn too, or this class's get_batch
        def __getitem__(self, i):
            return (self.tensors[0][i] * -1,)

        def __getitems__(self, indices):
            return [self[i] for i in indices]

        def get_batch(self, indices):
            return [self.tensors[0][m.tensor(indices)] * -1]

    return [b[0].tolist() for b in D.DataLoader(Batched(f32(m, [1, 2, 3])), batch_size=2)]


def s_getitems_is_used(m, D):
    class Fetched(D.TensorDataset):
        def __getitems__(self, indices):
            return [(self.tensors[0][i] + 10,) for i in indices]

    ds = Fetched(f32(m, [1, 2, 3]))
    return ([b[0].tolist() for b in D.DataLoader(ds, batch_size=2)],
            [b[0].tolist() for b in D.DataLoader(D.Subset(ds, [2, 0]), batch_size=2)])


def s_subset_subclass_with_getitems(m, D):
    class Shifted(D.Subset):
        def __getitem__(self, i):
            return super().__getitem__(i)[0] + 1000

        def __getitems__(self, indices):
            return [self[i] for i in indices]

    return [b.tolist() for b in D.DataLoader(Shifted(D.TensorDataset(f32(m, np.arange(4))), [0, 2]), batch_size=4)]


class _Reversed:
    def __iter__(self):
        return iter(range(len(self.data_source) - 1, -1, -1))


def s_sequential_sampler_subclass(m, D):
    class Rev(D.SequentialSampler):
        __iter__ = _Reversed.__iter__

    return ([b.tolist() for b in D.DataLoader(list(range(6)), batch_size=4, sampler=Rev(range(6)))],
            [b[0].tolist() for b in D.DataLoader(D.TensorDataset(i64(m, np.arange(5))), batch_size=2,
                                                 sampler=Rev(range(5)))])


def s_random_sampler_subclass(m, D):
    class Fixed(D.RandomSampler):
        def __iter__(self):
            return iter([0, 0, 3, 1])

    ds = D.TensorDataset(i64(m, [10, 11, 12, 13]))
    return ([b[0].tolist() for b in D.DataLoader(ds, batch_size=3, sampler=Fixed(ds))],
            list(D.BatchSampler(Fixed(ds), 3, drop_last=True)))


def s_subset_random_sampler_subclass(m, D):
    class Fixed(D.SubsetRandomSampler):
        def __iter__(self):
            return iter(self.indices)

    ds = D.TensorDataset(i64(m, [10, 11, 12, 13]))
    return [b[0].tolist() for b in D.DataLoader(ds, batch_size=2, sampler=Fixed([3, 0, 2]))]


def s_batch_sampler_subclass(m, D):
    class Backwards(D.BatchSampler):
        def __iter__(self):
            for batch in super().__iter__():
                yield batch[::-1]

    ds = D.TensorDataset(i64(m, [10, 11, 12, 13]))
    return ([b[0].tolist() for b in D.DataLoader(ds, batch_sampler=Backwards(D.SequentialSampler(ds), 3, False))],
            list(Backwards(D.SequentialSampler(ds), 3, False)))


# ---- 2. keys that are not integers ----------------------------------------------------------------

class _Letters:
    """A map-style dataset keyed by strings."""

    d = {"a": 1, "b": 2, "c": 3}

    def __len__(self):
        return 3

    def __getitem__(self, k):
        return self.d[k]


def s_string_keys_from_a_sampler(m, D):
    return [b.tolist() for b in D.DataLoader(_Letters(), batch_size=2, sampler=["a", "c", "b"])]


def s_string_keys_in_a_subset(m, D):
    sub = D.Subset(_Letters(), ["c", "a"])
    return sub[0], len(sub), [b.tolist() for b in D.DataLoader(sub, batch_size=2)]


def s_string_keys_from_batch_sampler_and_subset_random_sampler(m, D):
    shuffled = D.DataLoader(_Letters(), batch_size=1, sampler=D.SubsetRandomSampler(["a", "b"]))
    return ([b.tolist() for b in D.DataLoader(_Letters(), batch_sampler=[["a", "b"], ["c"]])],
            sorted(b.tolist() for b in shuffled),
            [b.tolist() for b in D.DataLoader(_Letters(), batch_sampler=D.BatchSampler(["c", "b", "a"], 2, False))])


def s_string_keys_unbatched(m, D):
    return list(D.DataLoader(_Letters(), batch_size=None, sampler=["b", "a"]))


# ---- 3. Subset reads its indices live --------------------------------------------------------------

def s_subset_indices_changed_in_place(m, D):
    sub = D.Subset(D.TensorDataset(i64(m, np.arange(10))), [0, 1, 2])
    sub.indices[0] = 9
    first = [b[0].tolist() for b in D.DataLoader(sub, batch_size=3)]
    sub.indices.append(5)
    appended = [b[0].tolist() for b in D.DataLoader(sub, batch_size=3)]
    sub.indices = np.array([4, 3])
    return sub[0][0].item(), first, appended, [b[0].tolist() for b in D.DataLoader(sub, batch_size=3)]


# ---- 4. default_convert and default_collate --------------------------------------------------------

def s_default_convert(m, D):
    convert = D.default_convert
    return [convert((1, 2)), convert((np.arange(2), 3)), convert(np.float32(1.5)), convert(np.int64(3)),
            convert(np.bool_(True)), convert(np.uint8(4)), convert(np.str_("a")), convert(np.array(2.0)),
            convert({"a": np.float64(1)}), convert(Point(np.int32(1), (2,))), convert("s"),
            convert(collections.OrderedDict(a=np.int8(1))), convert(range(3)), convert([[np.int16(1)], ("x",)]),
            list(D.DataLoader([(1, "a"), (2, "b")], batch_size=None)),
            list(D.DataLoader([np.float32(1), np.int64(2)], batch_size=None))]


def s_default_convert_keeps_string_arrays(m, D):
    out = D.default_convert([np.array(["a"]), collections.defaultdict(int, a=np.int8(1))])
    return type(out[0]).__name__, out[0].tolist(), type(out[1]).__name__, plain(out[1]["a"])


def s_default_collate_strings(m, D):
    collate = D.default_collate
    return [collate(["a", "b"]), collate(("a", "b")), collate([b"a", b"b"]), collate([np.str_("a"), np.str_("b")]),
            collate([("a", 1), ("b", 2)]), collate([Point("a", 1), Point("b", 2)]), collate([{"k": "a"}, {"k": "b"}]),
            collate([["a"], ["b"]]), collate([collections.OrderedDict(a=1)]),
            list(D.DataLoader([(1, "a"), (2, "b")], batch_size=2))]


SCENARIOS = {
    s_tensor_dataset_subclass: [[0.0, 100.0, 200.0], [300.0]],
    s_tensor_dataset_subclass_shuffled: [0.0, 100.0, 200.0, 300.0],
    s_subclass_through_subset: [[300.0, 100.0]],
    s_subclass_through_random_split: [0.0, 100.0, 200.0, 300.0],
    s_subclass_with_its_own_get_batch_and_getitems: [[-1.0, -2.0], [-3.0]],
    s_getitems_is_used: ([[11.0, 12.0], [13.0]], [[13.0, 11.0]]),
    s_subset_subclass_with_getitems: [[1000.0, 1002.0]],
    s_sequential_sampler_subclass: ([[5, 4, 3, 2], [1, 0]], [[4, 3], [2, 1], [0]]),
    s_random_sampler_subclass: ([[10, 10, 13], [11]], [[0, 0, 3]]),
    s_subset_random_sampler_subclass: [[13, 10], [12]],
    s_batch_sampler_subclass: ([[12, 11, 10], [13]], [[2, 1, 0], [3]]),
    s_string_keys_from_a_sampler: [[1, 3], [2]],
    s_string_keys_in_a_subset: (3, 2, [[3, 1]]),
    s_string_keys_from_batch_sampler_and_subset_random_sampler: ([[1, 2], [3]], [[1], [2]], [[3, 2], [1]]),
    s_string_keys_unbatched: [2, 1],
    s_subset_indices_changed_in_place: (4, [[9, 1, 2]], [[9, 1, 2], [5]], [[4, 3]]),
}

CONTAINER_SCENARIOS = {  # compared through plain(), so container types and dtypes count
    s_default_convert: [
        ("list", [("int", 1), ("int", 2)]), ("list", [("T", "int64", [0, 1]), ("int", 3)]), ("T", "float32", 1.5),
        ("T", "int64", 3), ("T", "bool", True), ("T", "uint8", 4), ("str_", "a"), ("T", "float64", 2.0),
        ("dict", {"a": ("T", "float64", 1.0)}), ("Point", [("T", "int32", 1), ("list", [("int", 2)])]),
        ("str", "s"), ("OrderedDict", {"a": ("T", "int8", 1)}), ("list", [("int", 0), ("int", 1), ("int", 2)]),
        ("list", [("list", [("T", "int16", 1)]), ("list", [("str", "x")])]),
        ("list", [("list", [("int", 1), ("str", "a")]), ("list", [("int", 2), ("str", "b")])]),
        ("list", [("T", "float32", 1.0), ("T", "int64", 2)])],
    s_default_collate_strings: [
        ("list", [("str", "a"), ("str", "b")]), ("tuple", [("str", "a"), ("str", "b")]),
        ("list", [("bytes", b"a"), ("bytes", b"b")]), ("list", [("str_", "a"), ("str_", "b")]),
        ("list", [("tuple", [("str", "a"), ("str", "b")]), ("T", "int64", [1, 2])]),
        ("Point", [("tuple", [("str", "a"), ("str", "b")]), ("T", "int64", [1, 2])]),
        ("dict", {"k": ("list", [("str", "a"), ("str", "b")])}), ("list", [("tuple", [("str", "a"), ("str", "b")])]),
        ("OrderedDict", {"a": ("T", "int64", [1])}),
        ("list", [("list", [("T", "int64", [1, 2]), ("tuple", [("str", "a"), ("str", "b")])])])],
}


@pytest.mark.parametrize("scenario", list(SCENARIOS), ids=lambda f: f.__name__[2:])
def test_scenario(scenario):
    assert scenario(tg, tg_data) == SCENARIOS[scenario]


@pytest.mark.parametrize("scenario", list(CONTAINER_SCENARIOS), ids=lambda f: f.__name__[2:])
def test_container_scenario(scenario):
    assert plain(scenario(tg, tg_data))[1] == CONTAINER_SCENARIOS[scenario]


def test_default_convert_keeps_string_arrays():
    assert s_default_convert_keeps_string_arrays(tg, tg_data) == ("ndarray", ["a"], "defaultdict", ("T", "int8", 1))


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install torch==2.13.0)")
@pytest.mark.parametrize("scenario", [*SCENARIOS, *CONTAINER_SCENARIOS, s_default_convert_keeps_string_arrays],
                         ids=lambda f: f.__name__[2:])
def test_pytorch_agrees(scenario):
    expected = scenario(tg, tg_data)
    got = scenario(torch, torch_data)
    if scenario in CONTAINER_SCENARIOS:
        expected, got = plain(expected), plain(got)
    assert got == expected


# ---- the shortcuts are still taken for the library's own classes -----------------------------------

def spy(monkeypatch, cls, name):
    """Count the calls of ``cls.name`` (patched on the library's class itself, so it stays its own)."""
    calls = []
    original = cls.__dict__[name]

    def wrapper(*args, **kwargs):
        calls.append(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(cls, name, wrapper)
    return calls


def test_plain_classes_take_the_shortcuts(monkeypatch):
    getitem = spy(monkeypatch, TensorDataset, "__getitem__")
    get_batch = spy(monkeypatch, TensorDataset, "get_batch")
    seq_iter = spy(monkeypatch, SequentialSampler, "__iter__")
    rand_iter = spy(monkeypatch, RandomSampler, "__iter__")
    subset_rand_iter = spy(monkeypatch, SubsetRandomSampler, "__iter__")
    batch_iter = spy(monkeypatch, BatchSampler, "__iter__")
    subset_getitem = spy(monkeypatch, Subset, "__getitem__")
    ds = TensorDataset(np.arange(20, dtype=np.float32).reshape(10, 2), np.arange(10))
    assert [b[1].tolist() for b in DataLoader(ds, batch_size=4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert sorted(i for b in DataLoader(ds, batch_size=4, shuffle=True) for i in b[1].tolist()) == list(range(10))
    train, _ = random_split(ds, [0.5, 0.5], generator=tg.Generator().manual_seed(0))
    assert [i for b in DataLoader(train, batch_size=2) for i in b[1].tolist()] == train.indices
    sampler = SubsetRandomSampler([1, 3, 5])
    assert sorted(i for b in DataLoader(ds, batch_size=2, sampler=sampler) for i in b[1].tolist()) == [1, 3, 5]
    assert len(get_batch) == 3 + 3 + 3 + 2
    assert getitem == seq_iter == rand_iter == subset_rand_iter == batch_iter == subset_getitem == []


def test_a_subclass_override_is_called_once_per_sample():
    calls = []

    class Logged(TensorDataset):
        def __getitem__(self, i):
            calls.append(i)
            return super().__getitem__(i)

    ds = Logged(np.arange(5))
    assert [b[0].tolist() for b in DataLoader(Subset(ds, [4, 2, 0]), batch_size=2)] == [[4, 2], [0]]
    assert calls == [4, 2, 0]


def test_a_subset_subclass_overriding_only_getitem_is_honoured():
    # PyTorch 2.13 refuses such a subclass (NotImplementedError: its DataLoader would call the
    # inherited __getitems__ and bypass the override); tinygradnn serves it through the override.
    class Shifted(Subset):
        def __getitem__(self, i):
            return super().__getitem__(i)[0] + 1000

    sub = Shifted(TensorDataset(np.arange(4.0, dtype=np.float32)), [0, 2])
    assert [b.tolist() for b in DataLoader(sub, batch_size=4)] == [[1000.0, 1002.0]]


def test_integer_keys_of_every_kind_keep_the_fast_path(monkeypatch):
    get_batch = spy(monkeypatch, TensorDataset, "get_batch")
    ds = TensorDataset(np.arange(10, 20))
    assert [b[0].tolist() for b in DataLoader(ds, batch_sampler=[[1, np.int64(2)], np.array([3, 0])])] == [
        [11, 12], [13, 10]]
    assert [b[0].tolist() for b in DataLoader(Subset(ds, np.array([9, 8, 7])), batch_size=2)] == [[19, 18], [17]]
    assert [b[0].tolist() for b in DataLoader(Subset(ds, tg.tensor(np.array([5, 6]))), batch_size=2)] == [[15, 16]]
    assert len(get_batch) == 5
    # bools are not positions: they go to __getitem__ (as in PyTorch, where t[True] adds a dimension)
    assert [b[0].shape for b in DataLoader(ds, batch_sampler=[[True]])] == [(1, 1, 10)]
    assert len(get_batch) == 5


def test_default_collate_of_strings_returns_the_batch_itself():
    batch = ["a", "b"]
    assert default_collate(batch) is batch
