"""tensor.py, _dtype.py, creation.py, random.py: dtypes and promotion, creation functions, seeding,
conversions, repr, comparisons, and the small Tensor API (T, len, item, tolist, numpy, astype)."""

import numpy as np
import pytest
from helpers import requires_torch, torch

import tinygradnn as tg

# ----------------------------------------------------------------------------- promotion
F32, F64, I64 = np.float32, np.float64, np.int64


@pytest.mark.parametrize("expr,dtype", [
    (lambda: tg.ones(2) * 2.5, F32),  # Python scalars are weak
    (lambda: 2.5 * tg.ones(2), F32),
    (lambda: tg.ones(2) + 1, F32),
    (lambda: tg.ones(2) / 3, F32),
    (lambda: 3 / tg.ones(2), F32),
    (lambda: tg.ones(2) ** 2, F32),
    (lambda: 2.0 ** tg.ones(2), F32),
    (lambda: tg.ones(2) + True, F32),
    (lambda: tg.ones(2, dtype=F64) * 2.5, F64),
    (lambda: tg.ones(2) * tg.ones(2, dtype=F64), F64),
    (lambda: tg.arange(3) + 1, I64),
    (lambda: tg.arange(3) * 2, I64),
    (lambda: tg.arange(3) * 2.5, F32),  # int tensor with a Python float: the default float
    (lambda: 2.5 + tg.arange(3), F32),
    (lambda: tg.arange(3) / 2, F32),  # true division of integers: the default float
    (lambda: tg.arange(1, 4) / tg.arange(1, 4), F32),
    (lambda: 2 / tg.arange(1, 4), F32),
    (lambda: tg.tensor([True, False]) / tg.tensor([1, 2]), F32),
    (lambda: tg.tensor([1, 2], dtype=tg.int32) / tg.tensor([1, 2], dtype=tg.int32), F32),
])
def test_promotion_rule(expr, dtype):
    assert expr().dtype == dtype


def test_integer_division_follows_the_default_dtype():
    tg.set_default_dtype(tg.float64)
    assert (tg.arange(1, 4) / tg.arange(1, 4)).dtype == F64
    assert (tg.arange(3) / 2).dtype == F64
    assert (tg.arange(3) * 0.5).dtype == F64


def test_integer_division_values():
    np.testing.assert_allclose((tg.tensor([1, 2, 3]) / tg.tensor([2, 4, 4])).numpy(), [0.5, 0.5, 0.75])
    np.testing.assert_allclose((1 / tg.tensor([2, 4])).numpy(), [0.5, 0.25])


def test_float32_model_stays_float32_through_forward_and_backward():
    x = tg.randn(4, 3)
    w = tg.randn(3, 2, requires_grad=True)
    loss = ((tg.tanh(x @ w) * 0.5 - 1.0) ** 2).mean() + 1e-3 * (w * w).sum()
    assert loss.dtype == F32
    loss.backward()
    assert w.grad.dtype == F32


def test_float64_stays_float64():
    x = tg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    y = (tg.sigmoid(x) * 3.0 + x.exp() / 2).softmax(-1).logsumexp(0)
    assert y.dtype == F64
    y.sum().backward()
    assert x.grad.dtype == F64


def test_set_default_dtype():
    assert tg.get_default_dtype() == F32
    tg.set_default_dtype(tg.float64)
    assert tg.get_default_dtype() == F64
    assert tg.tensor([1.0]).dtype == F64 and tg.zeros(2).dtype == F64 and tg.randn(2).dtype == F64
    assert tg.arange(3).dtype == I64 and tg.arange(0.0, 1.0, 0.5).dtype == F64
    with pytest.raises(TypeError, match="float32 or float64"):
        tg.set_default_dtype(tg.int64)
    tg.set_default_dtype(tg.float32)
    assert tg.tensor([1.0]).dtype == F32


# ----------------------------------------------------------------------------- creation
@pytest.mark.parametrize("make,shape,dtype", [
    (lambda: tg.tensor(1.5), (), F32),
    (lambda: tg.tensor([1, 2]), (2,), I64),
    (lambda: tg.tensor([[1.0, 2.0]]), (1, 2), F32),
    (lambda: tg.tensor([True]), (1,), np.bool_),
    (lambda: tg.tensor(np.zeros(3)), (3,), F64),  # a NumPy array keeps its dtype
    (lambda: tg.tensor(np.zeros(3, np.int32)), (3,), np.int32),
    (lambda: tg.tensor([1, 2], dtype=tg.float64), (2,), F64),
    (lambda: tg.zeros(2, 3), (2, 3), F32),
    (lambda: tg.zeros((2, 3)), (2, 3), F32),
    (lambda: tg.zeros([2, 3], dtype=tg.int64), (2, 3), I64),
    (lambda: tg.zeros(()), (), F32),
    (lambda: tg.zeros(0, 3), (0, 3), F32),
    (lambda: tg.ones(4), (4,), F32),
    (lambda: tg.empty(2), (2,), F32),
    (lambda: tg.full((2, 2), 1.5), (2, 2), F32),
    (lambda: tg.full((2,), 7), (2,), I64),
    (lambda: tg.full(3, True), (3,), np.bool_),
    (lambda: tg.arange(5), (5,), I64),
    (lambda: tg.arange(1, 7, 2), (3,), I64),
    (lambda: tg.arange(0, 1, 0.25), (4,), F32),
    (lambda: tg.linspace(0, 1, 5), (5,), F32),
    (lambda: tg.eye(3), (3, 3), F32),
    (lambda: tg.eye(2, 3), (2, 3), F32),
    (lambda: tg.zeros_like(tg.arange(3)), (3,), I64),
    (lambda: tg.ones_like(tg.zeros(2, dtype=tg.float64)), (2,), F64),
    (lambda: tg.full_like(tg.zeros(2), 3.0), (2,), F32),
    (lambda: tg.randn(2, 3), (2, 3), F32),
    (lambda: tg.rand(4), (4,), F32),
    (lambda: tg.randn(2, dtype=tg.float64), (2,), F64),
    (lambda: tg.randint(0, 5, (3, 2)), (3, 2), I64),
    (lambda: tg.randint(5, size=(2,)), (2,), I64),
    (lambda: tg.randperm(6), (6,), I64),
    (lambda: tg.randn_like(tg.zeros(2, 2, dtype=tg.float64)), (2, 2), F64),
    (lambda: tg.rand_like(tg.zeros(3)), (3,), F32),
    (lambda: tg.from_numpy(np.zeros((2, 2), np.float64)), (2, 2), F64),
    (lambda: tg.as_tensor([1.0, 2.0]), (2,), F32),
])
def test_creation_dtypes_and_shapes(make, shape, dtype):
    t = make()
    assert t.shape == shape and t.dtype == dtype
    assert not t.requires_grad and t.is_leaf


def test_creation_values():
    np.testing.assert_array_equal(tg.arange(1, 7, 2).numpy(), [1, 3, 5])
    np.testing.assert_allclose(tg.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(tg.eye(2).numpy(), np.eye(2))
    np.testing.assert_array_equal(tg.full((2,), 1.5).numpy(), [1.5, 1.5])
    assert sorted(tg.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    r = tg.randint(2, 4, (100,)).numpy()
    assert r.min() >= 2 and r.max() < 4
    u = tg.rand(1000).numpy()
    assert u.min() >= 0 and u.max() < 1


def test_creation_with_requires_grad():
    for t in (tg.zeros(2, requires_grad=True), tg.randn(2, requires_grad=True), tg.tensor([1.0], requires_grad=True),
              tg.ones(2, dtype=tg.float64, requires_grad=True), tg.full((2,), 1.0, requires_grad=True)):
        assert t.requires_grad and t.is_leaf and t.grad is None


def test_bad_sizes_are_clear():
    with pytest.raises(ValueError, match="non-negative integers"):
        tg.zeros(-1)
    with pytest.raises(ValueError, match="non-negative integers"):
        tg.ones(2.5)
    with pytest.raises(ValueError, match="step"):
        tg.arange(0, 3, 0)


def test_tensor_copies_and_from_numpy_shares():
    a = np.zeros(3)
    t, shared = tg.tensor(a), tg.from_numpy(a)
    a[0] = 5.0
    assert t.numpy()[0] == 0.0 and shared.numpy()[0] == 5.0
    with pytest.raises(TypeError, match="numpy.ndarray"):
        tg.from_numpy([1.0])


def test_unsupported_data_is_a_type_error():
    with pytest.raises(TypeError, match="cannot hold"):
        tg.tensor(["a", "b"])


# ----------------------------------------------------------------------------- randomness
def test_manual_seed_reproducibility():
    tg.manual_seed(123)
    a = (tg.randn(3).numpy().copy(), tg.rand(2).numpy().copy(), tg.randint(0, 100, (4,)).numpy().copy(),
         tg.randperm(5).numpy().copy(), tg.zeros(3).normal_().numpy().copy())
    tg.manual_seed(123)
    b = (tg.randn(3).numpy(), tg.rand(2).numpy(), tg.randint(0, 100, (4,)).numpy(), tg.randperm(5).numpy(),
         tg.zeros(3).normal_().numpy())
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    tg.manual_seed(124)
    assert not np.array_equal(tg.randn(3).numpy(), a[0])


def test_rng_state_round_trip_and_generators():
    state = tg.get_rng_state()
    first = tg.randn(4).numpy().copy()
    tg.set_rng_state(state)
    np.testing.assert_array_equal(tg.randn(4).numpy(), first)
    g1, g2 = tg.Generator().manual_seed(7), tg.Generator().manual_seed(7)
    np.testing.assert_array_equal(tg.randn(3, generator=g1).numpy(), tg.randn(3, generator=g2).numpy())


# ----------------------------------------------------------------------------- conversions and access
def test_item_tolist_numpy():
    x = tg.tensor([[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]]
    assert tg.tensor([3.5]).item() == 3.5 and isinstance(tg.tensor(2).item(), int)
    with pytest.raises(RuntimeError, match=r"2 elements cannot be converted to Scalar"):  # as PyTorch's item()
        x.item()
    with pytest.raises(ValueError, match="one element"):  # int() and float() raise ValueError, as PyTorch
        int(x)
    with pytest.raises(ValueError, match="one element"):
        float(tg.tensor([]))
    assert x.numpy() is x.numpy(), "numpy() shares memory"
    w = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        w.numpy()
    assert w.detach().numpy().tolist() == [1.0, 1.0]
    assert float(tg.tensor(2.5)) == 2.5 and int(tg.tensor(3)) == 3
    assert np.asarray(x).shape == (1, 2)


def test_item_of_a_computed_scalar():
    x = tg.tensor(2.0, requires_grad=True)
    y = x * 3 + 1
    assert y.item() == 7.0 and isinstance(y.item(), float)
    assert y.detach().numpy().shape == ()


def test_T_len_shape_helpers():
    x = tg.arange(6).reshape(2, 3)
    assert x.T.shape == (3, 2) and x.T.tolist() == [[0, 3], [1, 4], [2, 5]]
    assert tg.zeros(2, 3, 4).T.shape == (4, 3, 2)
    assert tg.zeros(2, 3, 4).mT.shape == (2, 4, 3)
    assert len(x) == 2 and x.size() == (2, 3) and x.size(1) == 3 and x.dim() == 2 and x.numel() == 6
    with pytest.raises(TypeError, match="0-d"):
        len(tg.tensor(1.0))
    assert [t.tolist() for t in x] == [[0, 1, 2], [3, 4, 5]]


def test_size_of_a_dim_out_of_range_names_the_range():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        tg.zeros(2, 3).size(2)
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got -3"):
        tg.zeros(2, 3).size(-3)
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        tg.zeros(()).size(0)
    assert tg.zeros(2, 3).size(-1) == 3


def test_mT_needs_a_matrix():
    with pytest.raises(RuntimeError, match="mT is only supported on matrices or batches of matrices. Got 1-D"):
        tg.zeros(3).mT  # noqa: B018
    x = tg.tensor(2.0)
    assert x.mT is x  # PyTorch: the identity on 0-d tensors (with a deprecation warning)


def test_in_looks_for_an_element_anywhere():
    x = tg.tensor([[1, 2], [3, 4]])
    assert 3 in x and 5 not in x and 2.0 in x and tg.tensor(4) in x and tg.tensor([3, 4]) in x
    assert tg.tensor([2, 5]) not in x and 2.5 in tg.tensor(2.5) and 1 not in tg.zeros(0)
    with pytest.raises(RuntimeError, match="only supports Tensor or scalar, but you passed in a <class 'str'>"):
        "a" in x  # noqa: B015


@requires_torch
def test_in_matches_torch():
    for data, el in [([[0.0, 1.0], [2.0, 3.0]], 0), ([[0.0, 1.0], [2.0, 3.0]], 1.5), (7, 7), ([True, False], True),
                     ([[1, 2], [3, 4]], [1, 4]), ([[1, 2], [3, 4]], [[1], [5]])]:
        ours = (tg.tensor(el) if isinstance(el, list) else el) in tg.tensor(data)
        theirs = (torch.tensor(el) if isinstance(el, list) else el) in torch.tensor(data)
        assert ours is theirs, (data, el)


@requires_torch
@pytest.mark.parametrize("default", [np.float32, np.float64])
def test_tensor_of_a_list_holding_numpy_scalars_or_0d_tensors_promotes_their_dtypes_as_torch(default):
    items = [np.float16(1.5), np.float32(2.5), np.int16(3), np.uint8(200), np.int8(-4), np.bool_(True), 2, 2.5, True]
    for i, a in enumerate(items):
        for b in items[i:]:
            for as_tensor in (False, True):
                if isinstance(a, int | float) and isinstance(b, int | float):
                    continue
                def data(lib, a=a, b=b, as_tensor=as_tensor):  # (torch takes np.bool_ items as floats: skip those)
                    return [lib.tensor(np.array(v)) if as_tensor and isinstance(v, np.generic) else v for v in (a, b)]
                if not as_tensor and np.bool_ in (type(a), type(b)):
                    continue
                tg.set_default_dtype(default)
                torch.set_default_dtype(torch.float64 if default is np.float64 else torch.float32)
                try:
                    ours, theirs = tg.tensor(data(tg)), torch.tensor(data(torch))
                finally:
                    tg.set_default_dtype(np.float32)
                    torch.set_default_dtype(torch.float32)
                assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (a, b, as_tensor)
                np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_astype_and_shortcuts():
    x = tg.tensor([1.7, -2.2])
    assert x.astype(tg.float64).dtype == F64 and x.double().dtype == F64
    assert x.long().dtype == I64 and x.long().tolist() == [1, -2]
    assert x.int().dtype == np.int32 and x.bool().dtype == np.bool_
    assert tg.arange(2).float().dtype == F32
    assert x.type_as(tg.zeros(1, dtype=tg.float64)).dtype == F64


def test_float_casts_are_differentiable_and_integer_casts_are_not():
    x = tg.tensor([1.5, 2.5], requires_grad=True)
    y = x.double()
    assert y.requires_grad and y.dtype == F64
    (y * y).sum().backward()
    assert x.grad.dtype == F32
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 5.0])
    i = x.long()
    assert not i.requires_grad and i.grad_fn is None


def test_comparisons_return_bool_tensors_without_grad():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2, tg.eq(x, 2.0), x > tg.tensor([0.0, 5.0, 3.0])):
        assert r.dtype == np.bool_ and not r.requires_grad and r.grad_fn is None
    assert (x > 1.5).tolist() == [False, True, True]
    assert ((x > 1) & (x < 3)).tolist() == [False, True, False]
    assert ((x < 2) | (x > 2)).tolist() == [True, False, True]
    assert (~(x > 2)).tolist() == [True, True, False]
    assert tg.isnan(tg.tensor([np.nan, 1.0])).tolist() == [True, False]
    assert tg.equal(tg.ones(2), tg.ones(2)) and not tg.equal(tg.ones(2), tg.ones(3))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x > 1)


def test_argmax_argmin_are_integer_and_not_differentiable():
    x = tg.tensor([[1.0, 9.0], [7.0, 3.0]], requires_grad=True)
    assert x.argmax().item() == 1 and x.argmin().item() == 0
    assert x.argmax(0).tolist() == [1, 0] and x.argmin(dim=1, keepdim=True).tolist() == [[0], [1]]
    assert x.argmax(1).dtype == I64 and not x.argmax(1).requires_grad


# ----------------------------------------------------------------------------- repr and leaves
def test_repr():
    assert repr(tg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(tg.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(tg.tensor([1.0], dtype=tg.float64)) == "tensor([1.], dtype=float64)"
    assert repr(tg.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr(tg.tensor(True)) == "tensor(True)"
    assert repr(tg.tensor(2.5)) == "tensor(2.5)"



@requires_torch
def test_format_spec_of_a_0d_tensor_formats_its_value_as_torch():
    """``f"loss {loss:.4f}"``: a 0-d tensor formats as its Python value (``f"{t}"`` too); other tensors
    refuse a spec."""
    cases = [(1.23456, "float32", ".3f"), (2.5, "float64", ">8.2e"), (7, "int64", "d"), (7, "int64", "05d"),
             (-3.0, "float32", "+.1%"), (True, "bool", ""), (0.5, "float32", "")]
    for value, dtype, spec in cases:
        ours, theirs = tg.tensor(value, dtype=getattr(tg, dtype)), torch.tensor(value, dtype=getattr(torch, dtype))
        assert format(ours, spec) == format(theirs, spec), (value, dtype, spec)
        assert f"{ours * 1:{spec}}" == f"{theirs * 1:{spec}}"
    for bad in (tg.ones(1), tg.ones(2, 2)):
        with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
            format(bad, ".2f")
    with pytest.raises(TypeError, match="unsupported format string passed to Tensor.__format__"):
        format(torch.ones(1), ".2f")
    p = tg.nn.Parameter(tg.tensor(0.5))
    assert f"{tg.ones(2)}" == str(tg.ones(2)) and f"{p}" == str(p)  # a Parameter prints as one


def test_leaves_detach_and_requires_grad():
    x = tg.ones(2, requires_grad=True)
    y = x * 2
    assert x.is_leaf and not y.is_leaf and y.grad_fn is not None
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and np.shares_memory(d.numpy(), y.detach().numpy())
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    z = tg.ones(2).requires_grad_()
    assert z.requires_grad and z.is_leaf
    assert x.data.requires_grad is False and np.shares_memory(x.data.numpy(), x.detach().numpy())


# ----------------------------------------------------------------------------- creation against PyTorch
def _outcome(m, expr):
    """``expr`` run with ``T`` = ``m``: ("T", shape, dtype name, values) or ("ERR", exception class name)."""
    try:
        r = eval(expr, {"T": m, "np": np, "nan": float("nan")})
    except Exception as e:  # noqa: BLE001
        return ("ERR", type(e).__name__)
    if not hasattr(r, "numpy"):
        return r
    return ("T", tuple(r.shape), str(r.dtype).replace("torch.", ""), r.detach().numpy().tolist())


@requires_torch
@pytest.mark.parametrize("expr", [
    # integer arange: int64 truncates start/end/step first; other integer dtypes count in double
    "T.arange(0, 2.5, dtype=T.int64)", "T.arange(-2.5, 2.5, dtype=T.int64)", "T.arange(-1.3, 0.9, 1.5, dtype=T.int64)",
    "T.arange(0, 5, 0.5, dtype=T.int64)", "T.arange(0, 5, 1.7, dtype=T.int64)", "T.arange(0, 5.9, 2.5, dtype=T.int64)",
    "T.arange(0, 2.5, dtype=T.int32)", "T.arange(0, 5, 0.5, dtype=T.int32)", "T.arange(-1.3, 0.9, 1.5, dtype=T.uint8)",
    "T.arange(-3, 3, dtype=T.uint8)", "T.arange(250, 260, dtype=T.uint8)", "T.arange(10, 0, -3)",
    "T.arange(0, 1, 0.1)", "T.arange(0, 1, 0.1, dtype=T.float64)", "T.arange(1.0, 5.0)", "T.arange(3, dtype=T.float32)",
    "T.arange(end=5)", "T.arange(np.int64(4))", "T.arange(T.tensor(4))", "T.arange(np.float64(3))",
    "T.arange(1, 5, -1)", "T.arange(5, 1)", "T.arange(5, 5)", "T.arange(0, float('inf'))",
    # integer linspace truncates toward zero
    "T.linspace(-5, 5, 4, dtype=T.int64)", "T.linspace(-5.7, 5, 4, dtype=T.int64)",
    "T.linspace(0, 10, 4, dtype=T.int32)",
    "T.linspace(0, 1, 5)", "T.linspace(-1, 1, 1)", "T.linspace(2, 3, 0)",
    # fill values: range-checked as torch, negative ints wrap into unsigned dtypes
    "T.full((2,), nan, dtype=T.int64)", "T.full((2,), -1, dtype=T.uint8)", "T.full((2,), 256, dtype=T.uint8)",
    "T.full((2,), -1.5, dtype=T.uint8)", "T.full((2,), 2**63, dtype=T.int64)", "T.full((2,), 2**40, dtype=T.int32)",
    "T.full((2,), 1e40, dtype=T.float32)", "T.full((2,), float('inf'), dtype=T.float32)",
    "T.full((2,), 3.7, dtype=T.int64)",
    "T.full((2,), np.int32(3))", "T.full((2,), T.tensor(3))", "T.full((2,), np.float64(3))", "T.full((2,), True)",
    "T.full_like(T.zeros(2, dtype=T.uint8), -2)", "T.full_like(T.zeros(2, dtype=T.int64), nan)",
    # tensor(): overflow and NumPy-scalar dtypes
    "T.tensor(2**63)", "T.tensor([1, 2**63])", "T.tensor(-2**63 - 1)", "T.tensor(2**63 - 1)",
    "T.tensor([np.float64(1.5), 2])", "T.tensor([[np.float64(1)], [2]])", "T.tensor([1.5, np.float32(2)])",
    "T.tensor([np.int32(1), 2])", "T.tensor([1.5, 2.5])",
    # random with integer dtypes, randint(high, size), randperm of a negative n
    "T.rand(2, dtype=T.int64)", "T.randn(2, dtype=T.int64)", "T.randn_like(T.tensor([1, 2]))",
    "T.rand_like(T.tensor([1, 2]))", "T.randn(2, dtype=T.bool)",
    "T.randint(10, (3,)).shape", "T.randint(10, (3,)).dtype == T.int64",
    "T.randint(5, 5, (3,))", "T.randint(5, 3, (2,))",
    "T.randperm(-1)", "T.randperm(0)",
])
def test_creation_matches_torch(expr):
    assert _outcome(tg, expr) == _outcome(torch, expr)


@requires_torch
@pytest.mark.parametrize("expr", [
    "T.zeros(2, dtype=T.int32).new_zeros((2, 3))", "T.zeros(2, dtype=T.float64).new_zeros(2, 3)",
    "T.zeros(2, dtype=T.int64).new_ones(3, dtype=T.float64)", "T.zeros(2, dtype=T.int32).new_full((2,), 7.9)",
    "T.zeros(2).new_tensor([1, 2])", "T.zeros(2, dtype=T.float64).new_empty((2,)).shape",
    "T.zeros(2, dtype=T.float64).new_empty(2).dtype == T.float64", "T.empty_like(T.ones(2, 3, dtype=T.int32)).shape",
    "T.empty_like(T.ones(2, dtype=T.int32)).dtype == T.int32",
    "T.logspace(0, 3, 4, dtype=T.int64)", "T.logspace(0, 10, 11, dtype=T.float64)", "T.logspace(0, 1, 3, base=2)",
    "T.logspace(0, 1, 0)",
    "T.randint_like(T.zeros(3, dtype=T.float64), 5).dtype == T.float64", "T.randint_like(T.zeros(3), 2, 5).shape",
])
def test_new_and_like_creation_matches_torch(expr):
    assert _outcome(tg, expr) == _outcome(torch, expr)


@requires_torch
def test_logspace_values_match_torch():
    for args in [(-2, 2, 5), (0, 1, 7), (-3.5, 4.25, 9)]:
        np.testing.assert_allclose(tg.logspace(*args).numpy(), torch.logspace(*args).numpy(), rtol=1e-6)
    r = tg.randint_like(tg.zeros(1000, dtype=tg.int32), 2, 5)
    assert r.dtype == np.int32 and set(r.tolist()) == {2, 3, 4}
    assert set(tg.randint_like(tg.zeros(1000), 3).tolist()) == {0.0, 1.0, 2.0}


@requires_torch
def test_size_conversion_and_comparison_helpers_as_pytorch():
    a = np.random.default_rng(0).standard_normal((2, 6)).astype(np.float32)
    x, tx = tg.tensor(a), torch.tensor(a)
    assert (x.itemsize, x.nbytes) == (tx.itemsize, tx.nbytes)
    for name in ("short", "byte", "char"):
        assert str(getattr(x, name)().dtype) == str(getattr(tx, name)().dtype).removeprefix("torch.")
        np.testing.assert_array_equal(getattr(x, name)().numpy(), getattr(tx, name)().numpy())
    assert x.is_contiguous() and not x.t().is_contiguous() and tg.tensor(1.0).is_contiguous()
    assert x.unflatten(1, (2, -1)).shape == tuple(tx.unflatten(1, (2, -1)).shape) == (2, 2, 3)
    with pytest.raises(ValueError, match="unflatten"):
        x.unflatten(1, (4, -1))
    b = a.copy()
    b[0, 0] += 1e-6
    b[1, 1] = np.nan
    a[1, 1] = np.nan
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.0, "atol": 1e-9}):
        np.testing.assert_array_equal(tg.isclose(tg.tensor(a), tg.tensor(b), **kw).numpy(),
                                      torch.isclose(torch.tensor(a), torch.tensor(b), **kw).numpy())
        assert tg.tensor(a).allclose(tg.tensor(b), **kw) == torch.tensor(a).allclose(torch.tensor(b), **kw)
    with pytest.raises(RuntimeError, match="same dtype"):
        tg.allclose(x, x.double())
    assert x.equal(x.clone()) and not x.equal(x + 1)
    v = tg.tensor([[3, 1, 3], [2, 5, 2]])
    tv = torch.tensor([[3, 1, 3], [2, 5, 2]])
    for kw in ({}, {"dim": 0}, {"descending": True}, {"dim": 0, "descending": True}):
        np.testing.assert_array_equal(v.argsort(**kw).numpy(), tv.argsort(**kw, stable=True).numpy())


@requires_torch
def test_casting_beyond_the_new_dtype_range_gives_inf_silently_like_torch():
    x = tg.tensor([1e6, -1e6, 3.0], requires_grad=True)
    y = x.half()  # RuntimeWarnings from tinygradnn are errors in this suite
    np.testing.assert_array_equal(y.detach().numpy(), torch.tensor([1e6, -1e6, 3.0]).half().numpy())
    y.float().backward(tg.tensor([1e6, 1.0, 2.0]))  # the gradient goes back through a cast to float16 and back
    np.testing.assert_array_equal(x.grad.numpy(), [np.inf, 1.0, 2.0])
