"""ops/reduce.py: sum, mean, var, std, max/min, amax/amin, prod, logsumexp, softmax, log_softmax,
cumsum (dim None / int / tuple, negative dims, keepdim), argmax/argmin."""

import numpy as np
import pytest
from helpers import (
    TG,
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
    OpCase("norm", lambda m, x, dim, keepdim: m.norm(x, dim=dim, keepdim=keepdim), with_dim("away0")),
    OpCase("norm_2_method", lambda m, x, dim, keepdim: x.norm(2, dim, keepdim), with_dim("away0")),
    OpCase("norm_1", lambda m, x, dim, keepdim: m.norm(x, 1, dim, keepdim), with_dim("away0")),
    OpCase("norm_inf", lambda m, x, dim, keepdim: m.norm(x, float("inf"), dim, keepdim), with_dim("distinct")),
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


# ----------------------------------------------------------------------------- PyTorch's argument forms
X22 = [[1.0, 2.0], [3.0, 5.0]]

# var/std: (dim, unbiased, keepdim) positionally, a bool first argument (unbiased, over all dims), and the
# keyword-only correction; method and function forms.
VAR_CALLS = {
    "dim, unbiased": lambda m, x, op: getattr(x, op)(0, False),
    "dim, unbiased, keepdim": lambda m, x, op: getattr(x, op)(1, False, True),
    "dim, True, keepdim": lambda m, x, op: getattr(x, op)(-1, True, True),
    "unbiased only": lambda m, x, op: getattr(x, op)(False),
    "True only": lambda m, x, op: getattr(x, op)(True),
    "unbiased=False keyword": lambda m, x, op: getattr(x, op)(unbiased=False),
    "dim=, unbiased=, keepdim=": lambda m, x, op: getattr(x, op)(dim=0, unbiased=False, keepdim=True),
    "None, unbiased": lambda m, x, op: getattr(x, op)(None, False),
    "tuple dim, unbiased": lambda m, x, op: getattr(x, op)((0, 1), False),
    "correction keyword": lambda m, x, op: getattr(x, op)(1, correction=0, keepdim=True),
    "fractional correction": lambda m, x, op: getattr(x, op)(correction=0.5),
    "function: dim, unbiased": lambda m, x, op: getattr(m, op)(x, 0, False),
    "function: unbiased only": lambda m, x, op: getattr(m, op)(x, False),
    "function: dim, unbiased, keepdim": lambda m, x, op: getattr(m, op)(x, 0, True, True),
}


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("call", list(VAR_CALLS), ids=list(VAR_CALLS))
def test_var_std_argument_forms_match_torch(op, call):
    """Before, a positional second argument was keepdim: x.var(0, False) was the unbiased variance and
    x.var(False) the variance over dim 0."""
    fn = VAR_CALLS[call]
    check_against_torch(OpCase(f"{op} {call}", lambda m, x: fn(m, x, op), None), Sample((np.array(X22),)))


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("call", [lambda x, op: getattr(x, op)(0, 1), lambda x, op: getattr(x, op)(False, 0),
                                  lambda x, op: getattr(x, op)(False, keepdim=True),
                                  lambda x, op: getattr(x, op)(0, True, correction=1),
                                  lambda x, op: getattr(x, op)(0, unbiased=False, correction=0)],
                         ids=["int unbiased", "bool then dim", "bool with keepdim", "unbiased and correction",
                              "both keywords"])
def test_var_std_ambiguous_arguments_are_refused_like_torch(op, call):
    import torch

    with pytest.raises(TypeError):
        call(torch.tensor(X22), op)
    with pytest.raises(TypeError, match=op):
        call(tg.tensor(X22), op)


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_of_integers_are_refused_naming_the_op(op):
    with pytest.raises(TypeError, match=rf"^{op}: input dtype should be floating point, got int64"):
        getattr(tg.tensor([1, 2]), op)()


# ----------------------------------------------------------------------------- dim=() means every dim
@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("op", ["sum", "mean", "amax", "amin", "var", "std", "logsumexp"])
@pytest.mark.parametrize("dim", [(), []], ids=["tuple", "list"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_empty_dim_reduces_every_dim_like_torch(op, dim, keepdim):
    """PyTorch's sum, mean, amax, amin, var and std read dim=() as every dim (its logsumexp too, where it
    does not fail: keepdim=True). Before, nothing was reduced, and var gave nan. The gradients are compared
    with torch's over dim=(0, 1): torch 2.13's var/std backward for dim=() divides by n - 1 = 0 (inf)."""
    import torch

    x = np.array([[1.0, 2.0, 7.0], [3.0, 5.0, -1.0]])
    fn = lambda m, x: getattr(m, op)(x, dim=dim if m is TG else (0, 1), keepdim=keepdim)  # noqa: E731
    check_against_torch(OpCase(op, fn, None), Sample((x,)), second_order=op not in ("amax", "amin"))
    ours = getattr(tg.tensor(x), op)(dim=dim, keepdim=keepdim)
    assert ours.shape == ((1, 1) if keepdim else ())
    if op != "logsumexp" or keepdim:  # torch 2.13 raises for logsumexp(dim=()) without keepdim
        np.testing.assert_allclose(ours.numpy(), getattr(torch.tensor(x), op)(dim=dim, keepdim=keepdim).numpy())


def test_empty_dim_of_prod_is_every_dim_and_all_any_reduce_nothing():
    """torch.prod takes one int dim; our prod's tuple dims read () like sum. all/any(dim=()) reduce nothing
    in PyTorch, and here."""
    x = tg.tensor([[1.0, 2.0], [3.0, 5.0]])
    assert tg.prod(x, dim=()).item() == 30.0 and tg.prod(x, dim=[], keepdim=True).shape == (1, 1)
    b = tg.tensor([[True, False], [True, True]])
    np.testing.assert_array_equal(tg.all(b, dim=()).numpy(), b.numpy())
    np.testing.assert_array_equal(tg.any(b, dim=[]).numpy(), b.numpy())


def test_bool_dims_and_tuple_dims_of_one_dim_ops_are_refused():
    """PyTorch refuses a bool as a dim (x.sum(True) is not dim 1), and a tuple where one int dim is needed."""
    x = tg.ones(2, 3)
    for call in (lambda: x.sum(True), lambda: x.amax(False), lambda: x.mean((0, True)), lambda: x.max(True),
                 lambda: x.argmax(True), lambda: x.softmax((1,)), lambda: x.cumsum((0, 1)),
                 lambda: x.log_softmax([0])):
        with pytest.raises(TypeError, match="dim"):
            call()


# ----------------------------------------------------------------------------- gradients at ties and zeros
@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("dim,correction", [(1, 1), (None, 1), (0, 0), ((0, 1), 1)])
def test_std_gradient_where_std_is_zero_is_zero_like_torch(dim, correction):
    """Constant groups: std = 0, and the gradient (and the double backward) is 0 there, not nan."""
    x = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]) if dim == 1 else np.full((2, 3), 1.5)  # row 0 / all constant
    fn = lambda m, x: m.std(x, dim=dim, correction=correction)  # noqa: E731
    check_against_torch(OpCase("std", fn, None), Sample((x,)))


@requires_torch
@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")  # 0/0 (torch warns too)
def test_std_of_one_element_with_correction_1_is_nan_like_torch():
    """The std's zero-gradient rule leaves a nan std (one element, correction 1) a nan gradient."""
    import torch

    for m in (torch, tg):
        x = m.tensor([5.0], requires_grad=True)
        s = x.std()
        s.backward()
        assert np.isnan(s.item()) and np.isnan(x.grad.numpy()).all()
        x = m.tensor([5.0], requires_grad=True)
        x.std(correction=0).backward()
        assert x.grad.item() == 0.0


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("fn", ["max", "min"])
@pytest.mark.parametrize("dim,keepdim", [(1, False), (-1, True), (0, False)])
def test_max_min_along_a_dim_send_the_gradient_to_the_returned_index_like_torch(fn, dim, keepdim):
    """Ties: values and indices are the first extreme element, and so is where the gradient goes (also with
    create_graph=True and in the double backward). max() and amax share it; see the test above."""
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [3.0, 0.0, 0.0]])

    def op(m, x):
        r = getattr(m, fn)(x, dim=dim, keepdim=keepdim)
        return r.values, r.indices

    check_against_torch(OpCase(fn, op, None), Sample((x,)))
    r = getattr(tg.tensor([[1.0, 3.0, 3.0]], requires_grad=True), fn)(1)
    assert r.indices.item() == (0 if fn == "min" else 1)


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("case", ["max()", "min()", "max(dim)", "amax(dim)", "amin over all"])
def test_gradient_with_nan_matches_torch(case):
    """A NaN is the extreme: max() shares the gradient between the NaNs, max(dim) sends it to the returned
    (first NaN's) index, and amax/amin give nan over a group holding a NaN, as PyTorch does."""
    import torch

    fns = {"max()": lambda x: x.max(), "min()": lambda x: x.min(), "max(dim)": lambda x: x.max(1).values,
           "amax(dim)": lambda x: x.amax(1), "amin over all": lambda x: x.amin((0, 1))}
    data = [[1.0, float("nan"), 3.0, float("nan")], [0.0, 2.0, 2.0, -1.0]]
    grads = []
    for m in (torch, tg):
        x = m.tensor(data, requires_grad=True)
        fns[case](x).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


# ----------------------------------------------------------------------------- shapes and dtypes
@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 1, 3)])
@pytest.mark.parametrize("fn", ["argmax", "argmin"])
def test_argmax_keepdim_without_dim_keeps_every_dim_like_torch(shape, fn):
    import torch

    x = np.random.default_rng(1).permutation(int(np.prod(shape))).reshape(shape).astype(np.float64)
    ours = getattr(tg.tensor(x), fn)(keepdim=True)
    theirs = getattr(torch.tensor(x), fn)(keepdim=True)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == np.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@requires_torch
@pytest.mark.torch
def test_max_min_along_a_nonempty_dim_of_an_empty_tensor_like_torch():
    import torch

    for fn in ("max", "min"):
        for keepdim in (False, True):
            ours = getattr(tg.zeros(0, 3), fn)(1, keepdim=keepdim)
            theirs = getattr(torch.zeros(0, 3), fn)(1, keepdim=keepdim)
            assert ours.values.shape == tuple(theirs.values.shape) == ours.indices.shape
            assert ours.indices.dtype == np.int64
        with pytest.raises(IndexError, match="dim 0"):
            getattr(tg.zeros(0, 3), fn)(0)
        with pytest.raises(IndexError, match="dim 0"):
            getattr(tg.zeros(0, 3), "a" + fn)((0, 1))
    assert tg.zeros(0, 3).amax(1).shape == (0,) and tg.zeros(0, 3).argmin(1).shape == (0,)


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["uint8", "int32", "int64", "bool"])
@pytest.mark.parametrize("op", ["sum", "sum dim", "cumsum", "prod"])
def test_integer_sums_and_products_are_int64_like_torch(dtype, op):
    """Before, uint8 summed to uint64."""
    import torch

    fns = {"sum": lambda x: x.sum(), "sum dim": lambda x: x.sum(0, keepdim=True), "cumsum": lambda x: x.cumsum(1),
           "prod": lambda x: x.prod()}
    data = [[1, 0, 1], [1, 1, 1]]
    ours = fns[op](tg.tensor(data, dtype=getattr(tg, dtype)))
    theirs = fns[op](torch.tensor(data, dtype=getattr(torch, dtype)))
    assert ours.dtype == np.int64 and str(theirs.dtype) == "torch.int64"
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert tg.tensor(data, dtype=tg.uint8).sum(dtype=tg.int32).dtype == np.int32
    assert tg.tensor(data, dtype=tg.uint8).cumsum(0, dtype=tg.uint8).dtype == np.uint8


def test_all_and_any_keep_dims_when_asked():
    x = tg.tensor([[True, False, True], [True, True, True]])
    np.testing.assert_array_equal(x.all(1, keepdim=True).numpy(), [[False], [True]])
    np.testing.assert_array_equal(tg.any(x, 0, keepdim=True).numpy(), [[True, True, True]])
    assert x.all(1).shape == (2,)


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("fn", ["all", "any"])
def test_all_any_of_uint8_stay_uint8_like_torch(fn):
    """PyTorch keeps uint8 for all/any (every other dtype gives bool); before, uint8 gave bool."""
    import torch

    data = [[1, 0, 2], [3, 4, 5]]
    for args in [(), (1,), (0, True)]:
        ours = getattr(tg.tensor(data, dtype=tg.uint8), fn)(*args)
        theirs = getattr(torch.tensor(data, dtype=torch.uint8), fn)(*args)
        assert ours.dtype == np.uint8 and str(theirs.dtype) == "torch.uint8"
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert getattr(tg.tensor(data, dtype=tg.int32), fn)().dtype == np.bool_


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("op", ["prod", "prod dim", "max dim", "min dim"])
def test_gradient_of_a_0d_non_finite_passes_through_like_torch(op, value):
    """A 0-d input is its own product/max: the gradient is the upstream one (before: nan from inf/inf or nan==nan)."""
    import torch

    fns = {"prod": lambda x: x.prod(), "prod dim": lambda x: x.prod(0), "max dim": lambda x: x.max(0)[0],
           "min dim": lambda x: x.min(-1)[0]}
    ours, theirs = tg.tensor(value, requires_grad=True), torch.tensor(value, requires_grad=True)
    fns[op](ours).backward(tg.tensor(3.0))
    fns[op](theirs).backward(torch.tensor(3.0))
    assert theirs.grad.item() == 3.0 and ours.grad.item() == 3.0


def test_repeated_dim_of_a_0d_tensor_is_an_error():
    """Before, (0, 0) on a 0-d tensor was silently accepted."""
    for op in ["sum", "amax", "logsumexp", "all"]:
        with pytest.raises(ValueError, match="twice"):
            getattr(tg, op)(tg.tensor(1.0), (0, -1))
    assert tg.sum(tg.tensor(2.0), (0,)).item() == 2.0


@pytest.mark.parametrize("fn", ["amax", "amin"])
def test_amax_of_an_empty_tensor_over_every_dim_is_a_runtime_error_like_torch(fn):
    for dim in [(), []]:
        with pytest.raises(RuntimeError, match="every dim|all its dims"):
            getattr(tg, fn)(tg.zeros(0, 3), dim)


@pytest.mark.parametrize("fn", ["argmax", "argmin"])
def test_argmax_of_bool_is_refused_like_torch(fn):
    with pytest.raises(RuntimeError, match="bool"):
        getattr(tg, fn)(tg.tensor([True, False]))
    with pytest.raises(RuntimeError, match="bool"):
        getattr(tg.tensor([[True, False]]), fn)(1)


@requires_torch
@pytest.mark.torch
def test_mean_with_dtype_like_torch():
    """``mean(..., dtype=)`` casts first (so integer inputs can be averaged), as in PyTorch; before, a TypeError."""
    import torch

    data = [[1, 2], [4, 4]]
    ours = tg.tensor(data).mean(1, dtype=tg.float64)
    theirs = torch.tensor(data).mean(1, dtype=torch.float64)
    assert ours.dtype == np.float64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    tg.mean(x, dtype=tg.float64).backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [0.5, 0.5]


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("p", ["fro", 2, 1, float("inf")])
def test_norm_of_zeros_has_torch_gradient(p):
    """The gradient of the 2-norm where it is 0 is 0, as in PyTorch (sqrt alone would give nan)."""
    torch = pytest.importorskip("torch")
    a = np.zeros((2, 3))
    a[1] = [3.0, -4.0, 0.0]
    check_against_torch(OpCase("norm_at_zero", lambda m, x: m.norm(x, p, 1), None), Sample((a,)), second_order=False)
    assert torch.norm(torch.ones(3)).item() == pytest.approx(tg.norm(tg.ones(3)).item())


@pytest.mark.parametrize("dtype", [np.int64, np.bool_])
def test_norm_of_integers_is_refused_as_torch(dtype):
    with pytest.raises(RuntimeError, match="norm: expected a floating point tensor"):
        tg.norm(tg.tensor(np.ones(3, dtype)))
    with pytest.raises(ValueError, match="p must be 2, 'fro', 1 or inf"):
        tg.norm(tg.ones(3), p=3)


def test_norm_with_p_none_is_the_2_norm_as_torch():
    x = np.array([[3.0, -4.0], [1.0, 2.0]])
    assert tg.norm(tg.tensor(x), p=None).item() == pytest.approx(np.sqrt((x * x).sum()))
    np.testing.assert_allclose(tg.tensor(x).norm(None, 1).numpy(), np.sqrt((x * x).sum(1)))


# softmax takes exp(x) unshifted when |x| <= 60 (float32) or 600 (float64), -inf (masks) allowed, else shifts each
# row by its maximum; these inputs cover both ways, rows of very different maxima, masks of -inf (whole rows too,
# which give NaN), -inf beside very negative values, a NaN and an infinity
_SOFTMAX_INPUTS = {
    "small": lambda r: r.standard_normal((6, 5, 7)) * 4,
    "at_the_bound": lambda r: np.clip(r.standard_normal((6, 5, 7)) * 40, -60, 60),
    "large": lambda r: r.standard_normal((6, 5, 7)) * 300 + 100,
    "rows_far_apart": lambda r: r.standard_normal((6, 5, 7)) + np.arange(30).reshape(6, 5, 1) * 5.0 - 80,
    "masked": lambda r: np.where(r.random((6, 5, 7)) < 0.3, -np.inf, r.standard_normal((6, 5, 7))),
    "masked_rows": lambda r: np.where((r.random((6, 5, 7)) < 0.3) | (np.arange(30).reshape(6, 5, 1) % 7 == 0),
                                      -np.inf, r.standard_normal((6, 5, 7))),
    "masked_and_very_negative": lambda r: np.where(r.random((6, 5, 7)) < 0.3, -np.inf,
                                                   r.standard_normal((6, 5, 7)) - np.arange(7) * 15.0),
    "nan": lambda r: np.where(np.arange(210).reshape(6, 5, 7) == 17, np.nan, r.standard_normal((6, 5, 7))),
    "inf": lambda r: np.where(np.arange(210).reshape(6, 5, 7) == 17, np.inf, r.standard_normal((6, 5, 7))),
}


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("kind", list(_SOFTMAX_INPUTS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("dim", [-1, 1])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_matches_torch_within_rounding_on_both_paths(op, dim, dtype, kind):
    """Values and gradients (a random upstream gradient) within a few ulps of PyTorch's, NaN where it has NaN."""
    import torch

    r = np.random.default_rng(0)
    v = _SOFTMAX_INPUTS[kind](r).astype(dtype)
    g = r.standard_normal(v.shape).astype(dtype)
    x, xt = tg.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    y, yt = getattr(tg, op)(x, dim), getattr(torch, op)(xt, dim)
    y.backward(tg.tensor(g))
    yt.backward(torch.tensor(g))
    eps = np.finfo(dtype).eps
    # (log_softmax: a difference of numbers as large as the input; its gradient: of the exps' size)
    atol = 8 * eps * (1 + np.abs(v[np.isfinite(v)]).max()) if op == "log_softmax" else 8 * eps * 1e-3
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=16 * eps, atol=atol)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=64 * eps, atol=64 * eps)


@pytest.mark.parametrize("dim", [-1, 0])
def test_softmax_of_equal_values_and_of_one_element_is_exact(dim):
    """exp(x) / sum(exp(x)) without a shift still gives exactly 1 for one element and 1/n for equal ones."""
    for v in (np.full((1, 1), 3.7, np.float32), np.zeros((4, 4), np.float32), np.full((8, 8), 1.5, np.float32)):
        y = tg.softmax(tg.tensor(v), dim).numpy()
        n = v.shape[dim]
        np.testing.assert_allclose(y, np.full(v.shape, 1 / n), rtol=2 * np.finfo(np.float32).eps)
        if n == 1:
            assert (y == 1.0).all()
