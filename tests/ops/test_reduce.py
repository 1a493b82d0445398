"""ops/reduce.py: sum, mean, var, std, max/min, amax/amin, prod, logsumexp, softmax, log_softmax,
cumsum (dim None / int / tuple, negative dims, keepdim), argmax/argmin."""

import numpy as np
import pytest
from helpers import (
    OpCase,
    Sample,
    all_dims,
    check_against_torch,
    check_finite_differences,
    requires_torch,
    table_tests,
    with_dim,
)
from hypothesis import assume
from hypothesis import strategies as st

import tinygradnn as tg


def _reduced_size(shape, dim):
    dims = range(len(shape)) if dim is None else (dim,) if isinstance(dim, int) else dim
    return int(np.prod([shape[d] for d in dims]))


@st.composite
def var_sample(draw):
    """An array, dims over at least two elements (so std > 0) and a correction of 0 or 1."""
    sample = draw(with_dim("distinct"))
    assume(_reduced_size(sample.arrays[0].shape, sample.params["dim"]) >= 2)
    correction = draw(st.sampled_from([0, 1]))
    return Sample(sample.arrays, {**sample.params, "correction": correction})


def _max(m, x, dim, keepdim):
    return m.max(x) if dim is None else m.max(x, dim=dim, keepdim=keepdim)


def _min(m, x, dim, keepdim):
    return m.min(x) if dim is None else m.min(x, dim=dim, keepdim=keepdim)


def _amax(m, x, dim, keepdim):
    return m.amax(x) if dim is None else m.amax(x, dim=dim, keepdim=keepdim)


def _amin(m, x, dim, keepdim):
    return m.amin(x) if dim is None else m.amin(x, dim=dim, keepdim=keepdim)


def _prod(m, x, dim, keepdim):
    return m.prod(x) if dim is None else m.prod(x, dim=dim, keepdim=keepdim)


CASES = [
    OpCase("sum", lambda m, x, dim, keepdim: m.sum(x, dim=dim, keepdim=keepdim), with_dim()),
    OpCase("sum_method", lambda m, x, dim, keepdim: x.sum(dim, keepdim), with_dim()),
    OpCase("mean", lambda m, x, dim, keepdim: m.mean(x, dim=dim, keepdim=keepdim), with_dim()),
    OpCase("var", lambda m, x, dim, keepdim, correction: m.var(x, dim=dim, keepdim=keepdim, correction=correction),
           var_sample()),
    OpCase("std", lambda m, x, dim, keepdim, correction: m.std(x, dim=dim, keepdim=keepdim, correction=correction),
           var_sample()),
    OpCase("max", _max, with_dim("distinct", tuple_dims=False)),
    OpCase("min", _min, with_dim("distinct", tuple_dims=False)),
    OpCase("amax", _amax, with_dim("distinct")),
    OpCase("amin", _amin, with_dim("distinct")),
    OpCase("prod", _prod, with_dim("away0", tuple_dims=False)),
    OpCase("prod_tuple_dims", lambda m, x, dim, keepdim: m.prod(x, dim=dim, keepdim=keepdim), with_dim("away0"),
           torch=False),
    OpCase("logsumexp", lambda m, x, dim, keepdim: m.logsumexp(x, dim=all_dims(dim, x.ndim), keepdim=keepdim),
           with_dim()),
    OpCase("logsumexp_none", lambda m, x, dim, keepdim: m.logsumexp(x, dim=dim, keepdim=keepdim), with_dim(),
           torch=False),
    OpCase("softmax", lambda m, x, dim: m.softmax(x, dim), with_dim(keepdim=False, tuple_dims=False,
                                                                  allow_none=False)),
    OpCase("log_softmax", lambda m, x, dim: m.log_softmax(x, dim), with_dim(keepdim=False, tuple_dims=False,
                                                                          allow_none=False)),
    OpCase("softmax_method", lambda m, x, dim: x.softmax(dim), with_dim(keepdim=False, tuple_dims=False,
                                                                       allow_none=False, min_dims=1)),
    OpCase("cumsum", lambda m, x, dim: m.cumsum(x, dim), with_dim(keepdim=False, tuple_dims=False,
                                                                allow_none=False)),
]


test_gradients_match_finite_differences, test_matches_torch = table_tests(CASES)


# ----------------------------------------------------------------------------- ties, zeros, indices
@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("name", ["amax", "amin", "max_all"])
def test_ties_share_the_gradient_like_torch(name):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    fns = {"amax": lambda m, x: m.amax(x, dim=1), "amin": lambda m, x: m.amin(x, dim=(0, 1)),
           "max_all": lambda m, x: m.max(x)}
    check_against_torch(OpCase(name, fns[name], None), Sample((x,)), second_order=False)


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, True), (1, False)])
def test_prod_with_zeros_matches_torch(dim, keepdim):
    """The gradient of a product with one or two zeros is the product of the other elements; that holds
    with create_graph=True too, and the double backward is finite."""
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.5, -2.0, 0.5]])
    check_against_torch(OpCase("prod", _prod, None), Sample((x,), {"dim": dim, "keepdim": keepdim}))


def test_prod_with_zeros_second_derivative_by_finite_differences():
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.5, -2.0, 0.5]])
    for dim in (None, 0, (0, 1)):
        check_finite_differences(OpCase("prod", lambda m, x, dim: m.prod(x, dim=dim), None), Sample((x,), {"dim": dim}))


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("fn", ["max", "min"])
@pytest.mark.parametrize("dim,keepdim", [(0, False), (-1, True), (1, False)])
def test_max_min_indices_match_torch(fn, dim, keepdim):
    import torch

    x = np.random.default_rng(0).permutation(12).reshape(3, 4).astype(np.float64)
    ours = getattr(tg.tensor(x), fn)(dim=dim, keepdim=keepdim)
    theirs = getattr(torch.tensor(x), fn)(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert ours.indices.dtype == np.int64 and not ours.indices.requires_grad


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), (-1, False)])
def test_argmax_argmin(dim, keepdim):
    x = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    t = tg.tensor(x, requires_grad=True)
    for ours, ref in ((t.argmax(dim, keepdim), np.argmax), (tg.argmin(t, dim, keepdim), np.argmin)):
        expected = ref(x) if dim is None else ref(x, axis=dim, keepdims=keepdim)
        assert ours.dtype == np.int64 and not ours.requires_grad and ours.grad_fn is None
        np.testing.assert_array_equal(ours.numpy(), expected)


@pytest.mark.parametrize("op", ["sum", "mean", "amax", "logsumexp", "var"])
def test_dim_out_of_range_is_an_index_error(op):
    with pytest.raises(IndexError, match="out of range"):
        getattr(tg, op)(tg.ones(2, 3), dim=2)
    with pytest.raises(IndexError, match="out of range"):
        getattr(tg, op)(tg.ones(2, 3), dim=(0, -3))


def test_repeated_dim_is_an_error():
    with pytest.raises(ValueError, match="twice"):
        tg.sum(tg.ones(2, 3), dim=(1, -1))


def test_mean_of_integers_is_refused_and_sum_of_integers_stays_integer():
    with pytest.raises(TypeError, match="floating point"):
        tg.arange(4).mean()
    s = tg.arange(4).sum()
    assert s.dtype == np.int64 and s.item() == 6


def test_max_of_empty_tensor_is_an_error():
    with pytest.raises(RuntimeError, match="empty"):
        tg.zeros(0).max()


def test_max_with_several_dims_is_refused_like_torch():
    """(values, indices) need one dim; before, the values were over all dims and the indices over the first."""
    with pytest.raises(TypeError, match=r"amax\(x, dim\)"):
        tg.ones(2, 3).max(dim=(0, 1))
    with pytest.raises(TypeError, match="amin"):
        tg.min(tg.ones(2, 3), dim=[1])


def test_max_with_a_tensor_is_maximum():
    a, b = tg.tensor([1.0, 4.0]), tg.tensor([3.0, 2.0])
    np.testing.assert_array_equal(tg.max(a, b).numpy(), [3.0, 4.0])
    np.testing.assert_array_equal(tg.min(a, b).numpy(), [1.0, 2.0])


@pytest.mark.parametrize("op", ["sum", "mean", "var", "std", "amax", "prod", "logsumexp", "softmax", "log_softmax",
                                "cumsum"])
def test_reductions_keep_float32(op):
    x = tg.randn(3, 4, requires_grad=True)
    y = getattr(tg, op)(x, 1) if op in ("softmax", "log_softmax", "cumsum") else getattr(tg, op)(x, dim=1)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("dim", [0, -1])
def test_single_dim_ops_accept_0d_tensors(dim):
    """softmax, log_softmax, cumsum, argmax and argmin of a 0-d tensor, as in PyTorch."""
    x = tg.tensor(2.5, requires_grad=True)
    assert tg.softmax(x, dim).item() == 1.0
    assert tg.log_softmax(x, dim).item() == 0.0
    c = tg.cumsum(x, dim)
    assert c.shape == () and c.item() == 2.5
    c.backward()
    assert x.grad.item() == 1.0
    assert tg.argmax(x, dim).item() == 0 and tg.argmin(x, dim, keepdim=True).item() == 0
    with pytest.raises(IndexError, match="out of range"):
        tg.softmax(x, 1)


def test_prod_of_a_computed_0d_zero_has_gradient_one():
    x = tg.tensor(0.0, requires_grad=True)
    (x * 1.0).prod().backward()
    assert x.grad.item() == 1.0
