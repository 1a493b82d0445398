"""ops/shape.py: reshape/view, flatten, transpose, permute, squeeze, unsqueeze, expand, indexing
(basic and advanced; repeated indices accumulate), cat, stack, split/chunk, pad, repeat, tile, gather,
flip, roll, sort/topk."""

import numpy as np
import pytest
from helpers import (
    PROPERTY_SETTINGS,
    OpCase,
    Sample,
    check_against_torch,
    check_finite_differences,
    outcomes,
    requires_torch,
    rngs,
    shapes,
    table_tests,
    torch,
    values,
)
from hypothesis import given
from hypothesis import strategies as st

import tinygradnn as tg


@st.composite
def array(draw, kind="any", **shape_kw):
    shape = draw(shapes(**shape_kw))
    return shape, values(draw(rngs()), shape, kind)


@st.composite
def reshape_sample(draw):
    shape, x = draw(array())
    n = x.size
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    d = draw(st.sampled_from(divisors))
    target = draw(st.sampled_from([(n,), (d, n // d), (n // d, 1, d), tuple(reversed(shape)), shape + (1,), ()
                                   if n == 1 else (n,)]))
    if target and draw(st.booleans()):  # one dim given as -1
        i = draw(st.integers(0, len(target) - 1))
        target = target[:i] + (-1,) + target[i + 1:]
    return Sample((x,), {"shape": target})


@st.composite
def two_dims(draw, min_dims=1):
    shape, x = draw(array(min_dims=min_dims))
    nd = len(shape)
    d0, d1 = draw(st.integers(-nd, nd - 1)), draw(st.integers(-nd, nd - 1))
    return Sample((x,), {"d0": d0, "d1": d1})


@st.composite
def flatten_sample(draw):
    shape, x = draw(array(min_dims=1))
    nd = len(shape)
    start = draw(st.integers(0, nd - 1))
    end = draw(st.integers(start, nd - 1))
    return Sample((x,), {"start": start - nd if draw(st.booleans()) else start, "end": end - nd if draw(
        st.booleans()) else end})


@st.composite
def permute_sample(draw):
    shape, x = draw(array())
    perm = draw(st.permutations(range(len(shape))))
    return Sample((x,), {"dims": tuple(p - len(shape) if draw(st.booleans()) else p for p in perm)})


@st.composite
def squeeze_sample(draw):
    shape = tuple(draw(st.lists(st.sampled_from([1, 1, 2, 3]), max_size=4)))
    nd = len(shape)
    options = [st.none()]
    if nd:
        options += [st.integers(-nd, nd - 1), st.lists(st.integers(0, nd - 1), min_size=1, unique=True).map(tuple)]
    return Sample((values(draw(rngs()), shape),), {"dim": draw(st.one_of(options))})


@st.composite
def unsqueeze_sample(draw):
    shape, x = draw(array())
    nd = len(shape)
    return Sample((x,), {"dim": draw(st.integers(-nd - 1, nd))})


@st.composite
def expand_sample(draw):
    shape = tuple(draw(st.lists(st.sampled_from([1, 1, 2, 3]), max_size=3)))
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    target = lead + tuple(draw(st.integers(1, 3)) if n == 1 else n for n in shape)
    target = tuple(-1 if i >= len(lead) and draw(st.booleans()) and n == shape[i - len(lead)] else n
                   for i, n in enumerate(target))
    return Sample((values(draw(rngs()), shape),), {"shape": target})


@st.composite
def basic_index(draw):
    """An index of ints, slices (positive steps, as PyTorch requires), None and at most one Ellipsis."""
    shape, x = draw(array(min_dims=1))
    items, nd = [], len(shape)
    dims = list(range(nd))
    ellipsis_at = draw(st.one_of(st.none(), st.integers(0, nd)))
    i = 0
    while i < nd:
        if ellipsis_at == i:
            items.append(Ellipsis)
            skip = draw(st.integers(0, nd - i))
            i += skip
            ellipsis_at = None
            continue
        n = shape[dims[i]]
        kind = draw(st.sampled_from(["int", "slice", "slice", "none"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            step = draw(st.sampled_from([1, 1, 2]))
            start = draw(st.one_of(st.none(), st.integers(-n, n)))
            stop = draw(st.one_of(st.none(), st.integers(-n, n)))
            items.append(slice(start, stop, step))
        else:
            items.append(None)
            continue
        i += 1
    if ellipsis_at is not None:
        items.append(Ellipsis)
    index = tuple(items) if len(items) != 1 or draw(st.booleans()) else items[0]
    return Sample((x,), {"index": index})


@st.composite
def advanced_index(draw):
    """Integer arrays (with repeats, negative) on one or two dims, mixed with slices, or a bool mask."""
    shape, x = draw(array(min_dims=1))
    rng = draw(rngs())
    kind = draw(st.sampled_from(["int", "int2", "mask", "mask_first"] if len(shape) >= 2 else ["int", "mask"]))
    if kind == "int":
        d = draw(st.integers(0, len(shape) - 1))
        idx = rng.integers(-shape[d], shape[d], size=draw(st.sampled_from([(3,), (2, 2), (5,)])))
        parts = (slice(None),) * d + (idx,)
    elif kind == "int2":
        i0 = rng.integers(0, shape[0], size=4)
        i1 = rng.integers(-shape[1], shape[1], size=(4,))
        parts = (i0, i1)
    elif kind == "mask":
        parts = (rng.random(shape) < 0.5,)
    else:
        parts = (rng.random(shape[0]) < 0.6, slice(None, None, 1))
    return Sample((x,), {"parts": parts})


def _advanced(m, x, parts):
    return x[tuple(m.idx(p) if isinstance(p, np.ndarray) else p for p in parts)]


@st.composite
def cat_sample(draw, same_shape=False):
    shape, _ = draw(array(min_dims=0 if same_shape else 1, max_size=12))
    nd = len(shape)
    rng = draw(rngs())
    count = draw(st.integers(1, 3))
    if same_shape:
        xs = [values(rng, shape) for _ in range(count)]
        return Sample(tuple(xs), {"dim": draw(st.integers(-nd - 1, nd))})
    d = draw(st.integers(-nd, nd - 1))
    xs = []
    for _ in range(count):
        s = list(shape)
        s[d] = draw(st.integers(1, 3))
        xs.append(values(rng, tuple(s)))
    return Sample(tuple(xs), {"dim": d})


@st.composite
def split_sample(draw):
    shape, x = draw(array(min_dims=1))
    nd = len(shape)
    d = draw(st.integers(-nd, nd - 1))
    n = shape[d]
    if draw(st.booleans()):
        size = draw(st.integers(1, n + 1))
    else:
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
        size = [b - a for a, b in zip([0] + cuts, cuts + [n])]
    return Sample((x,), {"size": size, "dim": d})


@st.composite
def chunk_sample(draw):
    shape, x = draw(array(min_dims=1))
    nd = len(shape)
    return Sample((x,), {"chunks": draw(st.integers(1, 5)), "dim": draw(st.integers(-nd, nd - 1))})


@st.composite
def pad_sample(draw):
    shape, x = draw(array(min_dims=1, max_size=12))
    k = draw(st.integers(1, len(shape)))
    pad = tuple(draw(st.lists(st.integers(0, 2), min_size=2 * k, max_size=2 * k)))
    return Sample((x,), {"pad": pad, "value": draw(st.sampled_from([0.0, -1.5]))})


@st.composite
def repeat_sample(draw):
    shape, x = draw(array(max_size=8))
    extra = draw(st.integers(0, 2))
    sizes = tuple(draw(st.lists(st.integers(1, 3), min_size=len(shape) + extra, max_size=len(shape) + extra)))
    return Sample((x,), {"sizes": sizes})


@st.composite
def tile_sample(draw):
    shape, x = draw(array(max_size=8))
    dims = tuple(draw(st.lists(st.integers(1, 3), min_size=0 if shape else 1, max_size=len(shape) + 1)))
    return Sample((x,), {"dims": dims})


@st.composite
def gather_sample(draw):
    shape, x = draw(array(min_dims=1))
    nd = len(shape)
    d = draw(st.integers(-nd, nd - 1))
    idx_shape = tuple(draw(st.integers(1, 4)) if a == d % nd else draw(st.integers(1, n)) for a, n in
                      enumerate(shape))
    idx = draw(rngs()).integers(0, shape[d], size=idx_shape)  # repeats included
    return Sample((x,), {"dim": d, "index": idx})


@st.composite
def flip_sample(draw):
    shape, x = draw(array(min_dims=1))
    nd = len(shape)
    dims = tuple(draw(st.lists(st.integers(0, nd - 1), min_size=1, unique=True)))
    return Sample((x,), {"dims": tuple(d - nd if draw(st.booleans()) else d for d in dims)})


@st.composite
def roll_sample(draw):
    shape, x = draw(array(min_dims=1))
    nd = len(shape)
    if draw(st.booleans()):
        return Sample((x,), {"shifts": draw(st.integers(-5, 5)), "dims": None})
    dims = tuple(draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd, unique_by=lambda d: d % nd)))
    shifts = tuple(draw(st.integers(-5, 5)) for _ in dims)
    if len(dims) == 1 and draw(st.booleans()):
        return Sample((x,), {"shifts": shifts[0], "dims": dims[0]})
    return Sample((x,), {"shifts": shifts, "dims": dims})


@st.composite
def sort_sample(draw):
    shape, x = draw(array("distinct", min_dims=1))
    nd = len(shape)
    return Sample((x,), {"dim": draw(st.integers(-nd, nd - 1)), "descending": draw(st.booleans())})


@st.composite
def topk_sample(draw):
    shape, x = draw(array("distinct", min_dims=1))
    nd = len(shape)
    d = draw(st.integers(-nd, nd - 1))
    return Sample((x,), {"k": draw(st.integers(1, shape[d])), "dim": d, "largest": draw(st.booleans())})


def _varargs(x, method, args):
    """``x.method(*args)``, or ``x.method(())`` when ``args`` is empty (torch needs one argument)."""
    return getattr(x, method)(*args) if args else getattr(x, method)(args)


def _squeeze(m, x, dim):
    return m.squeeze(x) if dim is None else m.squeeze(x, dim)


def _roll(m, x, shifts, dims):
    return m.roll(x, shifts) if dims is None else m.roll(x, shifts, dims)


CASES = [
    OpCase("reshape", lambda m, x, shape: x.reshape(shape), reshape_sample()),
    OpCase("reshape_varargs", lambda m, x, shape: _varargs(x, "reshape", shape), reshape_sample()),
    OpCase("view", lambda m, x, shape: x.view(shape), reshape_sample()),
    OpCase("flatten", lambda m, x, start, end: m.flatten(x, start, end), flatten_sample()),
    OpCase("flatten_all", lambda m, x: m.flatten(x), array().map(lambda sx: Sample((sx[1],)))),
    OpCase("transpose", lambda m, x, d0, d1: m.transpose(x, d0, d1), two_dims()),
    OpCase("T", lambda m, x: x.T, array(min_dims=2, max_dims=2).map(lambda sx: Sample((sx[1],)))),
    OpCase("T_any_ndim", lambda m, x: x.T, array().map(lambda sx: Sample((sx[1],))), torch=False),
    OpCase("mT", lambda m, x: x.mT, array(min_dims=2).map(lambda sx: Sample((sx[1],)))),
    OpCase("permute", lambda m, x, dims: _varargs(x, "permute", dims), permute_sample()),
    OpCase("permute_fn", lambda m, x, dims: m.permute(x, dims), permute_sample()),
    OpCase("squeeze", _squeeze, squeeze_sample()),
    OpCase("unsqueeze", lambda m, x, dim: m.unsqueeze(x, dim), unsqueeze_sample()),
    OpCase("expand", lambda m, x, shape: _varargs(x, "expand", shape), expand_sample()),
    OpCase("getitem_basic", lambda m, x, index: x[index], basic_index()),
    OpCase("getitem_advanced", _advanced, advanced_index()),
    OpCase("cat", lambda m, *xs, dim: m.cat(list(xs), dim), cat_sample()),
    OpCase("stack", lambda m, *xs, dim: m.stack(list(xs), dim), cat_sample(same_shape=True)),
    OpCase("split", lambda m, x, size, dim: m.split(x, size, dim), split_sample()),
    OpCase("chunk", lambda m, x, chunks, dim: m.chunk(x, chunks, dim), chunk_sample()),
    OpCase("unbind", lambda m, x, dim: m.unbind(x, dim), two_dims().map(
        lambda s: Sample(s.arrays, {"dim": s.params["d0"]}))),
    OpCase("pad", lambda m, x, pad, value: m.pad(x, pad, value=value), pad_sample()),
    OpCase("repeat", lambda m, x, sizes: _varargs(x, "repeat", sizes), repeat_sample()),
    OpCase("tile", lambda m, x, dims: m.tile(x, dims), tile_sample()),
    OpCase("gather", lambda m, x, dim, index: m.gather(x, dim, m.idx(index)), gather_sample()),
    OpCase("flip", lambda m, x, dims: m.flip(x, dims), flip_sample()),
    OpCase("roll", _roll, roll_sample()),
    OpCase("sort", lambda m, x, dim, descending: m.sort(x, dim=dim, descending=descending), sort_sample()),
    OpCase("topk", lambda m, x, k, dim, largest: m.topk(x, k, dim=dim, largest=largest), topk_sample()),
]


test_gradients_match_finite_differences, test_matches_torch = table_tests(CASES)


# ----------------------------------------------------------------------------- specific behaviour
def test_repeated_indices_accumulate():
    x = tg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    x[tg.tensor([0, 0, 3, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 0.0, 1.0])


def test_bool_mask_and_list_indices():
    x = tg.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    y = x[x > 0]
    np.testing.assert_array_equal(y.numpy() if not y.requires_grad else y.detach().numpy(), [1.0, 4.0])
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0.0], [0.0, 2.0]])
    np.testing.assert_array_equal(x[[1, 0]].detach().numpy(), [[-3.0, 4.0], [1.0, -2.0]])


def test_float_index_is_refused_and_out_of_range_index_names_the_shape():
    x = tg.ones(2, 3)
    with pytest.raises(IndexError, match="integer or bool"):
        x[tg.tensor([0.0])]
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        x[5]


@pytest.mark.parametrize("call,error", [
    (lambda: tg.ones(2, 3).reshape(4, 2), "cannot reshape"),
    (lambda: tg.ones(2, 3).expand(3, 3), "cannot be expanded"),
    (lambda: tg.cat([tg.ones(2, 3), tg.ones(3, 2)]), "same shape except"),
    (lambda: tg.stack([tg.ones(2), tg.ones(3)]), "equal size"),
    (lambda: tg.ones(2, 3).permute(0, 0), "not a permutation"),
    (lambda: tg.split(tg.ones(5), [2, 2]), "sum to"),
    (lambda: tg.pad(tg.ones(2), (1,)), "even length"),
    (lambda: tg.ones(2, 3).repeat(2), "can not be smaller"),
    (lambda: tg.topk(tg.ones(3), 4), "out of range"),
    (lambda: tg.cat([]), "non-empty"),
])
def test_shape_errors_are_clear(call, error):
    with pytest.raises((ValueError, IndexError), match=error):
        call()


def test_stack_is_one_node_and_promotes_dtypes_as_cat():
    xs = [tg.tensor([float(i), 2.0], requires_grad=True) for i in range(5)]
    y = tg.stack(xs, 1)
    assert y.grad_fn.name() == "StackBackward" and len(y.grad_fn.next_functions) == 5
    (y * tg.arange(10.0).reshape(2, 5)).sum().backward()
    assert [x.grad.numpy().tolist() for x in xs] == [[i, 5.0 + i] for i in range(5)]
    assert tg.stack([tg.tensor([1, 2]), tg.tensor([0.5, 1.0])]).dtype == tg.float32
    with pytest.raises(IndexError, match=r"stack: dimension out of range \(expected to be in range of \[-3, 2\]"):
        tg.stack([tg.ones(2, 2)], 3)


def test_gather_checks_index_range():
    with pytest.raises(IndexError, match="gather"):
        tg.gather(tg.ones(2, 3), 1, tg.tensor([[0, 3]]))


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_topk_indices_match_torch(descending):
    import torch

    x = np.random.default_rng(1).permutation(20).reshape(4, 5).astype(np.float64)
    ours, theirs = tg.sort(tg.tensor(x), 1, descending), torch.sort(torch.tensor(x), 1, descending=descending)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert ours.indices.dtype == np.int64
    ours, theirs = tg.topk(tg.tensor(x), 3, 0, largest=not descending), torch.topk(torch.tensor(x), 3, 0,
                                                                                      largest=not descending)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())


def test_views_share_memory_like_torch():
    """reshape/transpose/getitem with basic indices return views of the same data (as NumPy and PyTorch)."""
    x = tg.arange(6.0).reshape(2, 3)
    assert np.shares_memory(x.T.numpy(), x.numpy())
    assert np.shares_memory(x[0].numpy(), x.numpy())


_X3 = np.random.default_rng(0).normal(size=(3, 4, 5))
_MIXED_INDEX = {
    "arrays_split_by_a_slice": lambda m, x: x[m.idx([0, 2, 2, 1]), :, m.idx([4, 0, 4, 1])],
    "ellipsis_then_array": lambda m, x: x[..., m.idx([4, 0, 4, 1])],
    "mask_then_int": lambda m, x: x[m.idx(np.array([True, False, True])), 1],
    "slice_then_2d_array": lambda m, x: x[1:, m.idx([[0, 3], [3, 3]])],
    "none_then_array": lambda m, x: x[None, m.idx([0, 2, 2, 1])],
    "int_array_int": lambda m, x: x[2, m.idx([0, 2, 2, 1]), 3],
    "negative_array": lambda m, x: x[m.idx([-1, -3, 0])],
    # PyTorch selects with integers first, so they never separate the index arrays (NumPy: (4, 4) here)
    "int_slice_array": lambda m, x: x[1, :, m.idx([0, 2, 2, 1])],
    "int_slice_2d_array": lambda m, x: x[-1, 1:, m.idx([[0, 3], [3, 3]])],
    "int_slice_mask": lambda m, x: x[0, :, m.idx(np.array([True, False, True, True, False]))],
    "int_ellipsis_array": lambda m, x: x[2, ..., m.idx([4, 0])],
    "zero_d_tensor_slice_array": lambda m, x: x[m.idx(np.array(1)), ::2, m.idx([4, 0])],
    "none_int_array": lambda m, x: x[None, 0, m.idx([1, 1, 3])],
    "array_int_slice_array": lambda m, x: x[m.idx([0, 2]), 1:3, 2] + x[m.idx([0, 2]), 1, 1:3],
    "ellipsis_for_no_dim": lambda m, x: x[:, m.idx([0, 2]), ..., m.idx([1, 4])],
    # a 0-d bool tensor is an index array of a new dim of size 1 (NumPy: (1, 2, 1) and (1, 4, 5) here)
    "int_slice_0d_mask_slice": lambda m, x: x[1, :-2, m.idx(np.array(True)), -1:],
    "int_slice_0d_mask": lambda m, x: x[0, :, m.idx(np.array(True))],
    "0d_mask_int_slice_array": lambda m, x: x[m.idx(np.array(True)), 0, :, m.idx([[0], [2]])],
}


@pytest.mark.parametrize("name", list(_MIXED_INDEX))
def test_mixed_advanced_indexing_by_finite_differences(name):
    check_finite_differences(OpCase(name, _MIXED_INDEX[name], None), Sample((_X3,)))


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("name", list(_MIXED_INDEX))
def test_mixed_advanced_indexing_matches_torch(name):
    """Where the advanced-index dims go (front when split by a slice, integers selecting first) as PyTorch."""
    check_against_torch(OpCase(name, _MIXED_INDEX[name], None), Sample((_X3,)))


def test_integers_select_before_index_arrays():
    """``x[0, :, idx]`` is ``x[0][:, idx]`` (PyTorch), not NumPy's ``(len(idx), 3)``; the gradient follows."""
    x = tg.tensor(np.arange(12.0).reshape(1, 3, 4), requires_grad=True)
    y = x[0, :, [0, 1]]
    assert y.shape == (3, 2)
    np.testing.assert_array_equal(y.detach().numpy(), [[0.0, 1.0], [4.0, 5.0], [8.0, 9.0]])
    y.backward(tg.tensor(np.arange(6.0).reshape(3, 2)))
    np.testing.assert_array_equal(x.grad.numpy()[0], [[0, 1, 0, 0], [2, 3, 0, 0], [4, 5, 0, 0]])
    assert x[tg.tensor(0), :, [0, 1]].shape == (3, 2)  # a 0-d integer tensor selects too
    assert x[0, ..., [0, 1]].shape == (3, 2)
    assert x[:, 0, [1, 2, 3]].shape == (1, 3)  # adjacent: the same as NumPy


@pytest.mark.parametrize("grad", [False, True])
def test_assignment_through_integers_and_index_arrays_uses_the_same_order(grad):
    """``x[0, :, idx] = v`` writes v of shape (3, len(idx)), as the read ``x[0, :, idx]`` returns."""
    x = tg.zeros(1, 3, 4)
    v = tg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=grad)
    if grad:
        x = x * 1.0  # a non-leaf, so the write is recorded
    x[0, :, [0, 2]] = v
    np.testing.assert_array_equal(x.detach().numpy()[0], [[0, 0, 1, 0], [2, 0, 3, 0], [4, 0, 5, 0]])
    if grad:
        (x * tg.tensor(np.arange(12.0).reshape(1, 3, 4))).sum().backward()
        np.testing.assert_array_equal(v.grad.numpy(), [[0, 2], [4, 6], [8, 10]])


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
@pytest.mark.parametrize("shape,index,vshape", [
    ((3,), 1, (1,)),  # a single element takes a value of shape (1,) or (1, 1)
    ((3, 4), (2, -1), (1, 1)),
    ((1, 3), np.array([[False, False, True]]), (1, 1)),  # a 2-D mask: leading size-1 dims of the value dropped
    ((2, 3), np.array([[True, False, True], [False, True, False]]), (1, 3)),
])
def test_setitem_drops_a_values_leading_size_1_dims_as_torch(dtype, shape, index, vshape):
    """Outside the graph too, ``x[i] = v`` accepts a ``v`` with extra leading dims of size 1 (NumPy refused
    it for one element and for a mask of 2 or more dims)."""
    def run(m):
        x = m.zeros(shape, dtype=getattr(m, dtype))
        x[m.tensor(index) if isinstance(index, np.ndarray) else index] = m.ones(vshape, dtype=getattr(m, dtype))
        return x.numpy()

    ours, theirs = outcomes(run)
    assert not isinstance(ours, type), f"raised {ours.__name__}"
    np.testing.assert_array_equal(ours, theirs)


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("mask", [True, False])
def test_a_0d_bool_tensor_among_integers_and_slices_places_its_dim_as_torch(mask):
    """Read and write: ``x[0, :, tensor(mask)]`` is ``x[0][:, None][:, [0] or []]`` in PyTorch."""
    def run(m):
        x = m.tensor(np.arange(24.0).reshape(2, 4, 3))
        index = (0, slice(None), m.tensor(mask))
        got = x[index].numpy().copy()
        x[index] = m.tensor(np.arange(got.size, dtype=np.float64).reshape(got.shape) + 100)
        return got, x.numpy()

    ours, theirs = outcomes(run)
    assert not isinstance(ours, type), f"raised {ours.__name__}"
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("shape,index", [
    ((0,), lambda m: (0, None, m.tensor(False))),
    ((0, 2), lambda m: (m.tensor(0), ..., m.tensor(False))),
    ((3, 2, 0), lambda m: (5, slice(None), m.tensor(True))),
])
def test_an_out_of_range_integer_raises_even_where_the_result_is_empty(shape, index):
    """PyTorch's integers select first, so are always checked (NumPy skips the check for an empty result)."""
    with pytest.raises(IndexError, match="out of range"):
        tg.zeros(shape)[index(tg)]
    if torch is not None:
        with pytest.raises(IndexError):
            torch.zeros(shape)[index(torch)]


@pytest.mark.parametrize("value", [None, "1"])
@pytest.mark.parametrize("graph", [False, True])
def test_setitem_of_none_or_a_string_is_a_type_error_as_torch(value, graph):
    """NumPy wrote None as nan into a float tensor."""
    x = tg.zeros(3, requires_grad=graph) * 1 if graph else tg.zeros(3)
    with pytest.raises(TypeError, match="can't assign"):
        x[0:2] = value
    assert x.tolist() == [0.0, 0.0, 0.0]
    if torch is not None:
        with pytest.raises(TypeError):
            torch.zeros(3)[0:2] = value


def _random_index(rng, shape):
    """A random index of ``x`` of ``shape`` (as ``m -> index``, so that each library makes its own tensors):
    ints (some out of range), slices, None, an Ellipsis, integer lists and tensors (broadcasting), bool masks
    of 0 to 2 dims and 0-d integer tensors, in any order."""
    items, d, ellipsis = [], 0, False
    for _ in range(rng.integers(1, 5)):
        n, r = (min(shape, default=3) if ellipsis else shape[d] if d < len(shape) else 3), rng.random()
        if r < 0.1:
            items.append(lambda m: None)
            d -= 1  # (indexes no dim)
        elif r < 0.2 and not ellipsis:
            items.append(lambda m: ...)
            d, ellipsis = len(shape), True
        elif r < 0.35:  # out of range now and then
            i = int(rng.integers(-n - 1, n + 1) if rng.random() < 0.2 else rng.integers(-n, n) if n else 0)
            items.append(lambda m, i=i: i)
        elif r < 0.55:
            start, stop = (None if rng.random() < 0.3 else int(rng.integers(-n - 2, n + 3)) for _ in range(2))
            step = int(rng.integers(1, 4))
            items.append(lambda m, s=slice(start, stop, step): s)
        elif r < 0.75:  # in range: PyTorch checks index arrays only where the result is not empty
            a = rng.integers(-n, n, size=rng.integers(0, 3, size=rng.integers(0, 3))) if n else np.zeros(0, int)
            items.append(lambda m, a=a: a.tolist() if a.ndim == 1 and rng.random() < 0.5 else m.tensor(a))
        elif r < 0.9:
            k = int(rng.integers(0, 3))
            mask = rng.random(shape[d:d + k]) < 0.5
            items.append(lambda m, mask=mask: m.tensor(mask))
            d += k - 1
        else:
            i = int(rng.integers(-n, n)) if n else 0
            items.append(lambda m, i=i: m.tensor(i))
        d += 1
    return lambda m: tuple(f(m) for f in items) if len(items) > 1 or rng.random() < 0.5 else items[0](m)


@requires_torch
@pytest.mark.torch
def test_random_indices_read_write_and_differentiate_as_torch():
    """Seeded random indices: ``x[index]`` (values, shape, gradient) and ``x[index] = v`` (a number or a
    tensor that broadcasts to the indexed shape) inside the graph (the result, the gradients of x and v) and
    outside it, as PyTorch, or the same error."""
    for seed in range(600):
        rng = np.random.default_rng(seed)
        shape = tuple(int(n) for n in rng.integers(0, 5, size=rng.integers(0, 4)))
        x, index, state = rng.normal(size=shape), _random_index(rng, shape), rng.bit_generator.state
        res = []
        for m in (tg, torch):
            rng.bit_generator.state = state  # the same draws (list or tensor, g, v) for both
            leaf = m.tensor(x, requires_grad=True)
            try:
                y = leaf[index(m)]
            except Exception as e:  # noqa: BLE001 (both must fail alike)
                res.append(type(e))
                continue
            g = rng.normal(size=tuple(y.shape))
            y.backward(m.tensor(g))
            out = [y.detach().numpy(), leaf.grad.numpy().copy()]
            k = int(rng.integers(0, y.ndim + 2))  # v: a trailing part of y's shape, some dims 1 (one more in
            vshape = [1] * (k > y.ndim) + [1 if rng.random() < 0.3 else n for n in y.shape[y.ndim - k:]]  # front)
            v = m.tensor(rng.normal(size=vshape), requires_grad=True) if rng.random() < 0.7 else 2.5
            leaf.grad = None
            z = leaf * 1.0
            z[index(m)] = v
            (z * m.tensor(rng.normal(size=shape))).sum().backward()
            out += [z.detach().numpy(), leaf.grad.numpy()] + ([v.grad.numpy()] if isinstance(v, m.Tensor) else [])
            w = m.tensor(x)  # and outside the graph
            w[index(m)] = v.detach() if isinstance(v, m.Tensor) else v
            res.append(out + [w.numpy()])
        ours, theirs = res
        assert isinstance(ours, type) == isinstance(theirs, type), f"seed {seed}: {ours} vs {theirs}"
        if isinstance(ours, type):
            assert issubclass(ours, theirs), f"seed {seed}: {ours.__name__} vs {theirs.__name__}"
            continue
        for a, b in zip(ours, theirs):
            assert a.shape == b.shape and a.dtype == b.dtype, f"seed {seed}"
            np.testing.assert_allclose(a, b, err_msg=f"seed {seed}")


@pytest.mark.parametrize("shape,index", [
    ((3, 3), (slice(None), np.zeros(0, bool))),
    ((3, 3, 0), (slice(3, None), None, np.zeros(0, bool))),
    ((2, 3), (np.zeros((2, 0), bool),)),
    ((3, 2), (..., np.zeros(0, bool))),
])
def test_an_empty_mask_must_match_its_dims_too(shape, index):
    """NumPy takes an empty bool array for any dim; PyTorch refuses it where the dim is not empty."""
    def run(m):
        return tuple(m.zeros(shape)[tuple(m.tensor(i) if isinstance(i, np.ndarray) else i for i in index)].shape)

    with pytest.raises(IndexError, match="does not match"):
        run(tg)
    with pytest.raises(IndexError, match="does not match"):
        tg.zeros(shape)[tuple(tg.tensor(i) if isinstance(i, np.ndarray) else i for i in index)] = 1.0
    if torch is not None:
        with pytest.raises(IndexError):
            run(torch)


def test_nested_list_index_is_one_index_array():
    """A list of lists is one index array (NumPy, and PyTorch's announced meaning; PyTorch 2.13 still reads
    it as a tuple, with a deprecation warning)."""
    x = tg.arange(6).reshape(2, 3)
    assert x[[[0, 1], [1, 0]]].shape == (2, 2, 3)
    assert x[[]].shape == (0, 3)  # an empty list is an empty integer index


@pytest.mark.parametrize("index", [slice(None, None, -1), (0, slice(None, None, -2)), slice(None, None, 0)])
def test_slice_steps_must_be_positive(index):
    x = tg.arange(6.0).reshape(2, 3)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[index]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[index] = 1.0


def test_flip_keeps_its_double_backward():
    """flip reverses with negative steps inside, which the user-facing index refuses."""
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = tg.autograd.grad((tg.flip(x, 0) ** 2 * tg.tensor([1.0, 2.0, 3.0])).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [6.0, 8.0, 6.0])
    (gg,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [6.0, 4.0, 2.0])


_NAN = float("nan")


@pytest.mark.parametrize("data,dtype,descending,values,indices", [
    # PyTorch's order: NaN is the largest value; equal values keep their index order in both directions
    ([1.0, _NAN, 3.0, -0.0, 0.0, _NAN, 1.0], np.float64, True, [_NAN, _NAN, 3.0, 1.0, 1.0, -0.0, 0.0],
     [1, 5, 2, 0, 6, 3, 4]),
    ([1.0, _NAN, 3.0, -0.0, 0.0, _NAN, 1.0], np.float32, False, [-0.0, 0.0, 1.0, 1.0, 3.0, _NAN, _NAN],
     [3, 4, 0, 6, 2, 1, 5]),
    ([1, 0, 200, 0, 1], np.uint8, True, [200, 1, 1, 0, 0], [2, 0, 4, 1, 3]),
    ([0, -2**63, 2**63 - 1, -2**63, 0], np.int64, True, [2**63 - 1, 0, 0, -2**63, -2**63], [2, 0, 4, 1, 3]),
    ([0, -2**31], np.int32, True, [0, -2**31], [0, 1]),
    ([True, False, True, False], np.bool_, True, [True, True, False, False], [0, 2, 1, 3]),
    ([1, 2, 1, 2, 1, 3], np.int64, True, [3, 2, 2, 1, 1, 1], [5, 1, 3, 0, 2, 4]),
])
def test_sort_order_of_nan_unsigned_and_extreme_values(data, dtype, descending, values, indices):
    out = tg.tensor(np.array(data, dtype=dtype)).sort(descending=descending, stable=True)
    np.testing.assert_array_equal(out.values.numpy(), np.array(values, dtype=dtype))
    np.testing.assert_array_equal(out.indices.numpy(), indices)
    k = min(3, len(data))
    top = tg.tensor(np.array(data, dtype=dtype)).topk(k, largest=descending)
    np.testing.assert_array_equal(top.values.numpy(), np.array(values[:k], dtype=dtype))
    np.testing.assert_array_equal(top.indices.numpy(), indices[:k])


def test_topk_counts_nan_as_largest():
    top = tg.tensor([1.0, _NAN, 3.0]).topk(1)
    assert np.isnan(top.values.item()) and top.indices.tolist() == [1]
    assert tg.tensor([1.0, _NAN, 3.0]).topk(1, largest=False).values.tolist() == [1.0]


def test_sort_and_topk_of_a_zero_d_tensor():
    x = tg.tensor(3.0, requires_grad=True)
    values, indices = x.sort()
    assert values.shape == () and indices.shape == () and indices.item() == 0 and values.item() == 3.0
    for k in (0, 1):  # PyTorch gives the element for both
        values, indices = x.topk(k)
        assert values.shape == () and indices.shape == () and values.item() == 3.0
    values.backward()
    assert x.grad.item() == 1.0
    with pytest.raises(ValueError, match="out of range"):
        x.topk(2)
    with pytest.raises(IndexError, match="out of range"):
        x.sort(dim=1)


@pytest.mark.parametrize("call,error,match", [
    (lambda: tg.zeros(1, 1, 4).flatten(1, 0), ValueError, "start_dim .* cannot come after end_dim"),
    (lambda: tg.zeros(2, 3, 4).flatten(-1, 0), ValueError, "cannot come after"),
    (lambda: tg.tensor(1.0).flatten(1), IndexError, "out of range"),
    (lambda: tg.gather(tg.arange(3), 0, tg.tensor([-1])), IndexError, r"in \[0, 3\)"),
    (lambda: tg.gather(tg.arange(6).reshape(2, 3), 1, tg.tensor([[0], [2], [1]])), ValueError, "no larger"),
    (lambda: tg.gather(tg.arange(3), 0, tg.tensor([0.0])), TypeError, "integer"),
    (lambda: tg.unbind(tg.tensor(1.0)), IndexError, "no dimensions"),
    (lambda: tg.tensor(1.0).chunk(2), ValueError, "at least a 1-dimensional"),
    (lambda: tg.tensor(1.0).split(1), ValueError, "at least a 1-dimensional"),
    (lambda: tg.zeros(3).split(0), ValueError, "split_size must be positive"),
    (lambda: tg.zeros(4).split([5, -1]), ValueError, "non-negative"),
])
def test_pytorch_refusals(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_edge_shapes_of_flatten_chunk_split_gather():
    assert tg.tensor(1.0).flatten(0, -1).shape == (1,)
    assert tg.zeros(2, 3, 4).flatten(1, 1).shape == (2, 3, 4)
    assert [t.shape for t in tg.zeros(0).chunk(3)] == [(0,), (0,), (0,)]
    assert [t.shape for t in tg.zeros(2, 0).chunk(3, 1)] == [(2, 0)] * 3
    assert [t.shape for t in tg.zeros(5).chunk(4)] == [(2,), (2,), (1,)]
    assert [t.shape for t in tg.zeros(0).split(0)] == [(0,)]
    assert tg.gather(tg.tensor(5), 0, tg.tensor(0)).shape == ()
    assert tg.gather(tg.arange(6).reshape(2, 3), 1, tg.tensor([[0], [2]])).tolist() == [[0], [5]]


@requires_torch
@pytest.mark.torch
def test_sort_topk_edge_values_match_torch():
    import torch

    rng = np.random.default_rng(3)
    for dtype in (np.float64, np.float32, np.int64, np.int32, np.uint8, np.bool_):
        for _ in range(20):
            x = rng.integers(0, 4, size=(3, 6)).astype(dtype)
            if dtype in (np.float64, np.float32):
                x[rng.random(x.shape) < 0.2] = np.nan
                x[rng.random(x.shape) < 0.1] = -0.0
            elif dtype == np.int64:
                x[rng.random(x.shape) < 0.2] = np.iinfo(np.int64).min
            elif dtype == np.uint8:
                x[rng.random(x.shape) < 0.3] = 255
            for dim in (0, 1, -1):
                for descending in (False, True):
                    ours = tg.sort(tg.tensor(x), dim, descending, stable=True)
                    theirs = torch.sort(torch.from_numpy(x), dim=dim, descending=descending, stable=True)
                    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
                    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
                    if dtype == np.bool_:
                        continue  # PyTorch's topk refuses bool on the CPU
                    k = int(rng.integers(0, x.shape[dim] + 1))
                    ours = tg.topk(tg.tensor(x), k, dim, largest=descending)
                    theirs = torch.topk(torch.from_numpy(x), k, dim, largest=descending)
                    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())  # ties: any index


def test_a_uint8_index_tensor_is_a_mask_as_in_pytorch():
    """PyTorch reads a uint8 index tensor as a mask (deprecated there, but not an integer index)."""
    mask = tg.tensor([1, 0, 1, 1], dtype=tg.uint8)
    np.testing.assert_array_equal(tg.arange(4.0)[mask].numpy(), [0.0, 2.0, 3.0])
    x = tg.arange(4.0)
    x[mask] = 9.0
    np.testing.assert_array_equal(x.numpy(), [9.0, 1.0, 9.0, 9.0])


def test_gather_with_an_empty_index_is_empty():
    out = tg.gather(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), 1, tg.zeros(3, 0, dtype=tg.int64))
    assert out.shape == (3, 0)


# ----------------------------------------------------------------------------- pad modes
_PAD_CASES = [
    ("reflect", (1, 3), (1, 2)), ("reflect", (2, 1, 4), (3, 0)), ("reflect", (1, 3), (-1, 2)),
    ("reflect", (2, 3, 4), (1, 2, 2, 1)), ("reflect", (1, 2, 3, 4), (2, 1, 0, 2)),
    ("reflect", (2, 3, 4, 3), (1, 1, 2, 0, 0, 2)), ("reflect", (1, 1, 3, 2, 3), (1, 1, 1, 1, 1, 1)),
    ("replicate", (1, 3), (4, 0)), ("replicate", (2, 1, 3), (2, -1)), ("replicate", (1, 2, 3, 4), (3, 1, 0, 5)),
    ("replicate", (2, 2, 3, 3), (1, 2, 1, 0, 2, 1)),
    ("circular", (1, 3), (3, 0)), ("circular", (2, 1, 4), (2, -1)), ("circular", (2, 1, 4), (-1, 2)),
    ("circular", (1, 3, 4), (1, 2, 3, 1)), ("circular", (1, 2, 3, 4), (4, 0, -1, 2)),
    ("circular", (2, 3, 4, 2), (1, 1, 2, 1, 0, 3)), ("circular", (1, 1, 2, 2), (-2, 0, 0, 0)),
    ("constant", (2, 3, 4), (-1, 2)), ("constant", (2, 3, 4), (1, -2, -1, 0)), ("constant", (1, 3), (-2, -1)),
    ("constant", (2, 3, 4), (0, 0, 0, 0, -1, 1)),
]


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("mode,shape,pad", _PAD_CASES)
def test_pad_modes_and_negative_padding_match_torch(mode, shape, pad):
    import torch

    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = tg.nn.functional.pad(ours, pad, mode=mode)
    ty = torch.nn.functional.pad(theirs, pad, mode=mode)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    gy = rng.standard_normal(ty.shape)
    y.backward(tg.tensor(gy))
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert tg.autograd.gradgradcheck(lambda a: tg.nn.functional.pad(a, pad, mode=mode) ** 2,
                                     (tg.tensor(x, requires_grad=True),))


def test_pad_modes_keep_integer_dtypes():
    x = tg.tensor([[[1, 2, 3]]], dtype=tg.int32)
    y = tg.nn.functional.pad(x, (2, 1), mode="reflect")
    assert y.dtype == np.int32 and y.tolist() == [[[3, 2, 1, 2, 3, 2]]]


@pytest.mark.parametrize("call,exc,match", [
    (lambda: tg.pad(tg.ones(1, 1, 3), (3, 0), mode="reflect"), RuntimeError,
     r"reflect.*padding \(3, 0\) .* dimension 2 of input \(1, 1, 3\)"),
    (lambda: tg.pad(tg.ones(1, 1, 3), (4, 0), mode="circular"), RuntimeError, "wrapping around more than once"),
    (lambda: tg.pad(tg.ones(3), (1, 1), mode="replicate"), NotImplementedError,
     "padding of length 2 is not supported for a 1-D input"),
    (lambda: tg.pad(tg.ones(1, 1, 1, 3), (1, 1), mode="reflect"), NotImplementedError, "2-D or 3-D, 3-D or 4-D"),
    (lambda: tg.pad(tg.ones(1, 1, 3), (1, 1), mode="reflect", value=2.0), RuntimeError, "doesn't take in value"),
    (lambda: tg.pad(tg.ones(1, 1, 3), (-2, -1), mode="replicate"), RuntimeError, "output size 0"),
    (lambda: tg.pad(tg.ones(1, 0, 3), (1, 1), mode="reflect"), RuntimeError, "non-zero dimensions"),
    (lambda: tg.pad(tg.ones(1, 1, 3), (-2, -2)), RuntimeError, "negative output size"),
    (lambda: tg.pad(tg.ones(1, 1, 3), (1, 1), mode="foo"), NotImplementedError, "foo"),
])
def test_pad_errors_as_torch(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ----------------------------------------------------------------------------- PyTorch forms and more ops
_A = np.arange(1.0, 13.0).reshape(3, 4) / 7
_B = np.arange(1.0, 25.0).reshape(2, 3, 4) / 11 - 1
_PYTORCH_FORMS = {
    "cat_skips_empty_1d": (lambda m, x, e: m.cat([x, e, x]), (_A, np.zeros(0))),
    "cat_skips_empty_1d_dim1": (lambda m, x, e: m.cat([e, x, x], 1), (_A, np.zeros(0))),
    "cat_axis": (lambda m, x: m.cat([x, x], axis=1), (_A,)),
    "concatenate_axis": (lambda m, x: m.concatenate([x, x], axis=-1), (_A,)),
    "stack_axis": (lambda m, x: m.stack([x, x], axis=1), (_A,)),
    "flip_varargs": (lambda m, x: x.flip(0, 1), (_A,)),
    "tile_varargs": (lambda m, x: x.tile(2, 2), (_A,)),
    "tril": (lambda m, x: m.tril(x), (_B,)),
    "tril_diagonal": (lambda m, x: m.tril(x, -1) + x.tril(2), (_A,)),
    "triu": (lambda m, x: m.triu(x, 1) + x.triu(-2), (_B,)),
    "index_select": (lambda m, x: m.index_select(x, 2, m.tensor([3, 0, 3])), (_B,)),
    "index_select_method": (lambda m, x: x.index_select(-1, m.tensor([2, 2])), (_A,)),
    "masked_select": (lambda m, x: m.masked_select(x, m.tensor(_A > 0.9)), (_B,)),
    "masked_select_method": (lambda m, x: x.masked_select(m.tensor([True, False, True, True])), (_A,)),
    "narrow": (lambda m, x: m.narrow(x, 1, 1, 2) * 2 + x.narrow(1, -2, 2), (_B,)),
    "movedim": (lambda m, x: m.movedim(x, 0, -1), (_B,)),
    "movedim_tuple": (lambda m, x: x.movedim((0, 1), (2, 0)), (_B,)),
    "moveaxis": (lambda m, x: m.moveaxis(x, -1, 0), (_B,)),
    "repeat_interleave": (lambda m, x: m.repeat_interleave(x, 2), (_A,)),
    "repeat_interleave_dim": (lambda m, x: x.repeat_interleave(3, dim=1), (_B,)),
    "repeat_interleave_tensor": (lambda m, x: m.repeat_interleave(x, m.tensor([1, 0, 2]), dim=0), (_A,)),
    "hstack": (lambda m, x: m.hstack([x, x[:, :1]]), (_A,)),
    "vstack": (lambda m, x: m.vstack([x, x[0]]), (_A,)),
    "where_method": (lambda m, x: x.where(x > 0.5, -x), (_A,)),
}


@pytest.mark.parametrize("name", list(_PYTORCH_FORMS))
def test_pytorch_forms_by_finite_differences(name):
    fn, arrays = _PYTORCH_FORMS[name]
    rest = [tg.tensor(a) for a in arrays[1:]]  # constants
    check_finite_differences(OpCase(name, lambda m, x: fn(m, x, *rest), None), Sample(arrays[:1]))


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("name", list(_PYTORCH_FORMS))
def test_pytorch_forms_match_torch(name):
    fn, arrays = _PYTORCH_FORMS[name]
    check_against_torch(OpCase(name, fn, None), Sample(arrays))


@requires_torch
@pytest.mark.torch
def test_nonzero_argwhere_and_one_argument_where_match_torch():
    import torch
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    pairs = [(tg.nonzero(tg.tensor(a)), torch.nonzero(torch.tensor(a))),
             (tg.tensor(a).nonzero(), torch.tensor(a).nonzero()),
             (tg.argwhere(tg.tensor(a)), torch.argwhere(torch.tensor(a))),
             (tg.nonzero(tg.tensor(5.0)), torch.nonzero(torch.tensor(5.0))),
             (tg.nonzero(tg.zeros(0, 2)), torch.nonzero(torch.zeros(0, 2)))]
    pairs += list(zip(tg.nonzero(tg.tensor(a), as_tuple=True), torch.nonzero(torch.tensor(a), as_tuple=True)))
    pairs += list(zip(tg.where(tg.tensor(a) > 0), torch.where(torch.tensor(a) > 0)))
    for ours, theirs in pairs:
        assert ours.shape == tuple(theirs.shape) and ours.dtype == np.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_cat_with_empty_1d_keeps_checking_the_others():
    with pytest.raises(ValueError, match="same shape"):
        tg.cat([tg.zeros(2, 3), tg.zeros(0), tg.zeros(2, 2)])
    assert tg.cat([tg.zeros(0), tg.zeros(0)]).shape == (0,)
    with pytest.raises(IndexError):
        tg.index_select(tg.zeros(2, 3), 1, tg.tensor([3]))
    with pytest.raises(IndexError):
        tg.index_select(tg.zeros(2, 3), 1, tg.tensor([-1]))  # negative indices are refused, as in PyTorch
    with pytest.raises(ValueError):
        tg.narrow(tg.zeros(2, 3), 1, 2, 2)


def test_one_argument_where_takes_any_dtype_and_narrow_a_tensor_start_as_pytorch():
    (idx,) = tg.where(tg.tensor([0.0, 1.5, float("nan")]))  # nonzero: NaN counts
    np.testing.assert_array_equal(idx.numpy(), [1, 2])
    (idx,) = tg.where(tg.tensor([0, 3, 0, -1]))
    np.testing.assert_array_equal(idx.numpy(), [1, 3])
    x = tg.arange(20.0).reshape(4, 5)
    np.testing.assert_array_equal(x.narrow(1, tg.tensor(1), 2).numpy(), x.numpy()[:, 1:3])
    np.testing.assert_array_equal(x.narrow(1, tg.tensor(-2), 2).numpy(), x.numpy()[:, 3:5])


def test_edge_forms_of_index_select_cat_and_repeat_interleave_as_pytorch():
    assert tg.index_select(tg.tensor(5.0), 0, tg.tensor([0])).shape == ()  # a 0-d input stays 0-d
    assert tg.cat([tg.zeros(0), tg.zeros(0)], 1).shape == (0,)  # only empty 1-D tensors: any dim
    np.testing.assert_array_equal(tg.repeat_interleave(tg.tensor([1, 2, 3])).numpy(), [0, 1, 1, 2, 2, 2])
    with pytest.raises(ValueError, match="repeat_interleave"):
        tg.repeat_interleave(tg.tensor([[1, 2]]))


def test_a_skipped_empty_1d_input_of_cat_gets_an_empty_gradient_as_pytorch():
    empty, x = tg.zeros(0, requires_grad=True), tg.ones(2, 3, requires_grad=True)
    (tg.cat([x, empty], 1) * 2).sum().backward()
    assert empty.grad is not None and empty.grad.shape == (0,) and empty.grad.dtype == empty.dtype
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))
    y = tg.zeros(1, 2, requires_grad=True)
    (g,) = tg.autograd.grad(tg.cat([empty, y, empty]).sum(), (empty,), create_graph=True)
    assert g.shape == (0,)


SCATTER_CASES = [  # (x shape, dim, index, src shape or a number)
    ((3, 4), 1, [[0, 1], [2, 3]], 5.0),
    ((3, 4), 0, [[0, 1, 2, 0]], (1, 4)),
    ((3, 4), -1, [[3], [0], [1]], (3, 1)),
    ((2, 3, 2), 1, [[[2, 0]], [[1, 1]]], (2, 1, 2)),
    ((5,), 0, 2, 1.0),  # a 0-d index into a 1-d tensor (the one-hot of the Transforms tutorial)
    ((5,), 0, [4, 0], (2,)),
    ((3, 4), 1, np.zeros((3, 0), np.int64), (3, 0)),
    ((5,), 0, 3, ()),  # 0-d tensors count as 1-d of one element: a 0-d index and src, or a 0-d input
    ((5,), -1, [1], ()),
    ((), 0, 0, ()),
    ((), -1, [0], (1,)),
    ((), 0, 0, 2.5),
]


@requires_torch
@pytest.mark.torch
def test_scatter_from_a_larger_src_takes_its_leading_part_as_torch():
    # (PyTorch's backward refuses a src larger than the index, so this compares the forward only)
    x0, s0, index = np.zeros((3, 4)), np.arange(12.0).reshape(3, 4), [[0, 1, 2, 0]]
    ours = tg.tensor(x0).scatter(0, tg.tensor(index), tg.tensor(s0))
    theirs = torch.tensor(x0).scatter(0, torch.tensor(index), torch.tensor(s0))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("case", SCATTER_CASES)
def test_scatter_and_scatter_matches_torch_with_gradients(case):
    shape, dim, index, src = case
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(shape)
    s0 = rng.standard_normal(src) if isinstance(src, tuple) else src
    results = []
    for lib in (tg, torch):
        x = lib.tensor(x0, requires_grad=True)
        s = lib.tensor(s0, requires_grad=True) if isinstance(src, tuple) else s0
        idx = lib.tensor(index, dtype=lib.int64)
        y = x.scatter(dim, idx, s) if isinstance(src, tuple) else lib.scatter(x, dim, idx, value=s)
        y.backward(lib.tensor(np.arange(y.numel(), dtype=np.float64).reshape(y.shape)))
        with lib.no_grad():
            z = lib.tensor(x0).scatter_(dim, idx, lib.tensor(s0) if isinstance(src, tuple) else s0)
        results.append([y.detach().numpy(), x.grad.numpy(), z.numpy()]
                       + ([s.grad.numpy()] if isinstance(src, tuple) else []))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


@requires_torch
@pytest.mark.torch
def test_scatter_in_place_in_the_graph_matches_torch():
    grads = []
    for lib in (tg, torch):
        w = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64, requires_grad=True)
        src = lib.tensor([[10.0, 20.0]], dtype=lib.float64, requires_grad=True)
        y = w * 2
        y.scatter_(1, lib.tensor([[2, 0]]), src)
        (y * y).sum().backward()
        grads.append((y.detach().numpy(), w.grad.numpy(), src.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("call,exc,match", [
    (lambda: tg.zeros(5).scatter(0, tg.tensor([7]), 1.0), IndexError, r"scatter: index values must be in \[0, 5\)"),
    (lambda: tg.zeros(5).scatter(0, tg.tensor([1.0]), 1.0), TypeError, "scatter: index must be an integer tensor"),
    (lambda: tg.zeros(5).scatter(0, tg.tensor([1]), tg.ones(1, 1)), ValueError, "scatter: index has 1 dims"),
    (lambda: tg.zeros(5).scatter(0, tg.tensor([1]), tg.ones(1).double()), TypeError, "same dtype"),
    (lambda: tg.zeros(2, 2).scatter(0, tg.tensor([[1, 1, 1]]), 1.0), ValueError, "no larger than"),
    (lambda: tg.zeros(2).scatter(0, tg.tensor([1])), TypeError, "src or value"),
])
def test_scatter_errors_are_clear(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ----------------------------------------------------------------------------- unique, bincount
@requires_torch
@pytest.mark.torch
@given(data=st.data())
@PROPERTY_SETTINGS
def test_unique_matches_torch(data):
    torch = pytest.importorskip("torch")
    shape = data.draw(shapes(min_side=0), label="shape")
    dtype = data.draw(st.sampled_from([np.int64, np.int32, np.float32, np.float64, np.bool_]), label="dtype")
    a = np.random.default_rng(data.draw(st.integers(0, 99))).integers(-2, 3, shape).astype(dtype)
    if dtype == np.float64 and a.size:
        a.flat[0] = np.nan  # NaNs are each their own value, as in PyTorch
    dims = [None] + (list(range(-a.ndim, a.ndim)) if a.size else [])
    kwargs = {"return_inverse": data.draw(st.booleans()), "return_counts": data.draw(st.booleans()),
              "dim": data.draw(st.sampled_from(dims)), "sorted": data.draw(st.booleans())}
    ours, theirs = (lib.unique(lib.tensor(a), **kwargs) for lib in (tg, torch))
    if isinstance(theirs, torch.Tensor):
        ours, theirs = (ours,), (theirs,)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o.dtype == t.numpy().dtype and o.shape == tuple(t.shape)
        np.testing.assert_array_equal(o.numpy(), t.numpy())
    assert tg.tensor(a).unique().shape == tuple(torch.tensor(a).unique().shape)


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("x,weights,minlength", [
    ([0, 3, 3, 1], None, 0), ([0, 3, 3, 1], None, 7), ([], None, 0), ([], None, 3), ([2], None, 1),
    ([0, 3, 3], np.array([1.0, 2.0, 3.0], np.float32), 6), ([0, 3, 3], np.array([1, 2, 3]), 0),
    ([0, 3, 3], np.array([0.5, 2.0, 3.0]), 2), ([1, 1], np.array([True, False]), 0),
    ([], np.zeros(0, np.float32), 3), ([], np.zeros(0), 0),  # (PyTorch: int64 zeros for an empty input)
])
def test_bincount_matches_torch(x, weights, minlength):
    torch = pytest.importorskip("torch")
    outs = []
    for lib in (tg, torch):
        w = None if weights is None else lib.tensor(weights)
        outs.append(lib.bincount(lib.tensor(np.array(x, np.int64)), w, minlength).numpy())
        assert lib.tensor(np.array(x, np.int64)).bincount(w, minlength).shape == outs[-1].shape
    assert outs[0].dtype == outs[1].dtype
    np.testing.assert_array_equal(*outs)


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("call", [
    lambda m: m.bincount(m.tensor([0, -1])), lambda m: m.bincount(m.tensor([[0, 1]])),
    lambda m: m.bincount(m.tensor([0.0, 1.0])), lambda m: m.bincount(m.tensor([True])),
    lambda m: m.bincount(m.tensor([0, 1]), m.tensor([1.0])), lambda m: m.bincount(m.tensor([0]), minlength=-1),
])
def test_bincount_refuses_what_torch_refuses(call):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(theirs.type, match="bincount"):
        call(tg)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("shape,axis,index", [((50, 7), 0, (3, 40)), ((50,), 0, (200,)), ((6, 2, 3), 0, (0,)),
                                              ((9, 4), 0, (5, 5)), ((4, 3), 0, ()), ((6, 5, 4), 1, (9,)),
                                              ((6, 5, 4), 2, (3, 7)), ((4, 3), 1, (0,))])
def test_the_gradient_of_entries_picked_by_an_int_array_is_np_add_at_bit_for_bit(dtype, shape, axis, index):
    """x[rows] and x[:, rows] (an embedding lookup, index_select): the gradients summed in np.add.at's order (the
    sparse-matrix path of float32/float64, the NumPy one of float16), negative and repeated rows included."""
    rng = np.random.default_rng(0)
    rows = rng.integers(-shape[axis], shape[axis], index)
    x = tg.tensor(np.zeros(shape), dtype=dtype, requires_grad=True)
    picked = x[(slice(None),) * axis + (tg.from_numpy(rows),)]
    g = (rng.standard_normal(picked.shape) * 10.0 ** rng.uniform(-3, 3, picked.shape)).astype(dtype)
    (picked * tg.from_numpy(g)).sum().backward()
    expected = np.zeros(shape, dtype)
    np.add.at(expected, (slice(None),) * axis + (rows,), g)
    assert x.grad.dtype == dtype and x.grad.numpy().tobytes() == expected.tobytes()
