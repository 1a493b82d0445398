"""autograd/engine.py: backward order, accumulation, retain_graph, graph freeing, seeds and hooks."""

import gc
import time
import weakref

import numpy as np
import pytest
from helpers import requires_torch
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygradnn as tg
from tinygradnn.autograd import gradcheck
from tinygradnn.autograd.function import Function


# ----------------------------------------------------------------------------- memory
def _graph(x):
    h = x * 2.0
    refs = (weakref.ref(h), weakref.ref(h.grad_fn), weakref.ref(h._data))
    return (h.exp() * h).sum(), refs


def test_dropping_the_loss_frees_the_graph_without_the_cycle_collector():
    x = tg.randn(5, requires_grad=True)
    gc.disable()
    try:
        loss, refs = _graph(x)
        assert all(r() is not None for r in refs), "the loss keeps its graph alive"
        del loss
        assert all(r() is None for r in refs), "tensor <-> node references must not form cycles"
    finally:
        gc.enable()


def test_backward_frees_intermediates_while_the_loss_is_still_alive():
    x = tg.randn(5, requires_grad=True)
    loss, refs = _graph(x)
    loss.backward()
    gc.collect()
    assert all(r() is None for r in refs), "backward without retain_graph frees saved tensors and nodes"
    assert loss.grad_fn is not None and x.grad is not None


def test_retain_graph_keeps_the_graph_until_the_last_backward():
    x = tg.randn(5, requires_grad=True)
    loss, refs = _graph(x)
    loss.backward(retain_graph=True)
    assert all(r() is not None for r in refs)
    loss.backward()
    gc.collect()
    assert all(r() is None for r in refs)


# ----------------------------------------------------------------------------- accumulation and retain_graph
def test_gradients_accumulate_across_backward_calls():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])
    y = (x**3).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0 + 6.0, 7.0 + 24.0])


@requires_torch
@pytest.mark.torch
def test_accumulation_matches_torch():
    import torch

    a = np.array([[0.3, -1.2], [2.0, 0.5]])
    ours, theirs = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for lib, x in ((tg, ours), (torch, theirs)):
        y = lib.tanh(x @ x)
        y.sum().backward(retain_graph=True)
        (y * y).sum().backward()
        lib.exp(x).mean().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_a_tensor_used_twice_gets_both_contributions():
    x = tg.tensor([2.0], requires_grad=True)
    y = x * x + x * 3 + x
    y.backward()
    assert x.grad.item() == 8.0


def test_second_backward_without_retain_graph_is_a_clear_error():
    x = tg.randn(3, requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*retain_graph=True"):
        y.backward()


def test_grad_is_a_fresh_tensor_not_an_alias():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = tg.tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()
    x.grad.numpy()[0] = 100.0
    assert y.grad.numpy()[0] == 1.0
    assert x.grad.requires_grad is False and x.grad.grad_fn is None


# ----------------------------------------------------------------------------- seeds
def test_implicit_gradient_only_for_one_element_outputs():
    x = tg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs.*shape \\(3,\\)"):
        (x * 2).backward()
    (x * 2).sum().reshape(1, 1).backward()  # one element in any shape is fine, as in PyTorch
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 2.0))


def test_explicit_gradient_is_used_and_checked():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(gradient=tg.tensor([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, -6.0])
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output has shape \(2,\).*\(3,\)"):
        (x * x).backward(gradient=tg.ones(2))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * x).backward(gradient=tg.ones(3, 1))


def test_backward_of_a_tensor_that_does_not_require_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.ones(2).sum().backward()


@pytest.mark.parametrize("make", [
    lambda: tg.tensor([1, 2], requires_grad=True),
    lambda: tg.arange(3).requires_grad_(),
    lambda: tg.zeros(2, dtype=tg.int64, requires_grad=True),
    lambda: tg.tensor([True], requires_grad=True),
])
def test_integer_tensors_cannot_require_grad(make):
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients"):
        make()


# ----------------------------------------------------------------------------- dtypes of gradients
def test_gradients_have_the_dtype_of_their_tensor():
    x = tg.ones(3, requires_grad=True)  # float32
    y = x * tg.tensor([2.0], dtype=tg.float64)
    assert y.dtype == np.float64
    (y.sum() + (x * tg.tensor(3.0, dtype=tg.float64)).sum()).backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 5.0))


def test_float64_end_to_end():
    x = tg.tensor(np.random.default_rng(0).normal(size=(3, 4)), requires_grad=True)
    w = tg.tensor(np.random.default_rng(1).normal(size=(4, 2)), requires_grad=True)
    loss = tg.log_softmax(tg.tanh(x @ w) * 0.5 + 1, -1).mean() + (w**2).sum() * 1e-3
    assert loss.dtype == np.float64
    loss.backward()
    assert x.grad.dtype == np.float64 and w.grad.dtype == np.float64


# ----------------------------------------------------------------------------- scale
def _chain_backward_seconds(n):
    x = tg.tensor(1.0, dtype=tg.float64, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.00001
    start = time.perf_counter()
    y.backward(retain_graph=True)  # keeps the chain whole, so dropping it below frees 100k linked nodes
    seconds = time.perf_counter() - start
    np.testing.assert_allclose(x.grad.item(), 1.00001**n, rtol=1e-9)
    del y  # deallocating a deep chain must not overflow the C stack either
    gc.collect()
    return seconds


def test_a_chain_of_100k_ops_backprops_in_linear_time():
    """No recursion (the default limit is 1000) and no quadratic step: 8x the ops costs ~8x the time."""
    small = _chain_backward_seconds(12_500)
    large = _chain_backward_seconds(100_000)
    assert large < 25 * small + 0.2, f"100k ops took {large:.3f}s, 12.5k ops {small:.3f}s: not linear"


def test_wide_graph_sums_many_contributions():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    total = sum((x * float(i) for i in range(1, 201)), tg.zeros(2))
    total.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(2, 200 * 201 / 2))


# ----------------------------------------------------------------------------- hooks, retain_grad, inputs=
def test_hooks_see_and_may_replace_the_gradient():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.numpy().copy()))
    x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])
    handle.remove()
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tg.ones(2).register_hook(print)


@pytest.mark.parametrize("leaf", [True, False])
@pytest.mark.parametrize("hook, match", [
    (lambda g: g[:2], r"hook '<lambda>' changed the gradient's shape from \(3,\) to \(2,\)"),
    (lambda g: g.sum(), r"shape from \(3,\) to \(\)"),
    (lambda g: g.float(), r"dtype from float64 to float32"),
])
def test_a_hook_may_not_change_the_gradient_shape_or_dtype(leaf, hook, match):
    x = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    t = x if leaf else x * 2
    t.register_hook(hook)
    with pytest.raises(RuntimeError, match=match):
        (t * 3).sum().backward()
    y = tg.tensor([1.0], requires_grad=True)
    y.register_hook(lambda g: 5)
    with pytest.raises(TypeError, match="hook '<lambda>' returned int"):
        (y * 3).sum().backward()


def _double_in_place(g):
    g.mul_(2)


def test_a_hook_may_change_the_gradient_in_place():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(_double_in_place)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    (x * 3).sum().backward()  # accumulates as in PyTorch: 6 + 6
    np.testing.assert_array_equal(x.grad.numpy(), [12.0, 12.0])
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    m = x * 2
    m.retain_grad()
    m.register_hook(_double_in_place)
    m.register_hook(lambda g: g + 1)  # the next hook sees the changed gradient
    (m * 3).sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), [7.0, 7.0])
    np.testing.assert_array_equal(x.grad.numpy(), [14.0, 14.0])


def test_an_in_place_hook_changes_no_other_gradient():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([1.0, 2.0], requires_grad=True)
    a.register_hook(_double_in_place)
    (a + b).sum().backward()  # add's rule hands the same array to a and b
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    m = x * 1
    m.register_hook(_double_in_place)
    seed = tg.ones(2)
    m.backward(seed)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(seed.numpy(), [1.0, 1.0])  # the caller's gradient is left alone
    kept = []
    c = tg.tensor([1.0, 2.0], requires_grad=True)
    c.register_hook(kept.append)
    (c * 3).sum().backward()
    c.grad.zero_()
    np.testing.assert_array_equal(kept[0].numpy(), [3.0, 3.0])  # .grad does not alias what the hook kept


def test_retains_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    m = x * 2
    assert not x.retains_grad and not m.retains_grad
    m.retain_grad()
    x.retain_grad()
    assert m.retains_grad and not x.retains_grad


def test_backward_with_empty_inputs_raises():
    x = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="`inputs` argument to `backward\\(\\)` cannot be empty"):
        (x * 3).sum().backward(inputs=[])


def test_backward_with_inputs_takes_a_non_leaf_gradient_after_its_hooks():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    m = x * 2
    m.register_hook(lambda g: g * 10)
    (m * 1).sum().backward(inputs=[m])
    np.testing.assert_array_equal(m.grad.numpy(), [10.0, 10.0])  # PyTorch 2.13: the same


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    other = x * 3
    (h * h + other).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [4.0, 8.0])
    assert other.grad is None


def test_backward_with_inputs_only_fills_those():
    a = tg.tensor([1.0], requires_grad=True)
    b = tg.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None


# ----------------------------------------------------------------------------- the shape invariant
class _WrongShape(Function):
    def forward(ctx, x):
        return x * 2

    def backward(ctx, g, F):
        return F.sum(g, 0, True)  # drops the other dims


def test_engine_names_the_op_that_returns_a_gradient_of_the_wrong_shape():
    x = tg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"_WrongShape returned a gradient of shape \(1, 3\).*\(2, 3\)"):
        _WrongShape.apply(x).sum().backward()


# ----------------------------------------------------------------------------- order on random graphs
_OPS = (
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("tanh", lambda a, b: a.tanh()), ("sin", lambda a, b: a.sin()), ("scale", lambda a, b: a * 0.5),
)


def _random_dag(leaves, recipe):
    """Apply ``recipe`` [(op index, operand index, operand index)] to ``leaves``; each step may read any
    earlier node, so nodes are shared, diamonds form and the order of recording differs from the order
    of use. Returns two outputs: the last node and one from the middle (a root that feeds the other)."""
    nodes = list(leaves)
    for op, i, j in recipe:
        nodes.append(_OPS[op][1](nodes[i % len(nodes)], nodes[j % len(nodes)]))
    return nodes[-1].sum(), nodes[len(nodes) // 2].sum()


_RECIPES = st.lists(st.tuples(st.integers(0, len(_OPS) - 1), st.integers(0, 10**6), st.integers(0, 10**6)),
                    min_size=1, max_size=25)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(recipe=_RECIPES)
def test_random_graphs_match_finite_differences(recipe):
    rng = np.random.default_rng(len(recipe))
    leaves = [tg.tensor(rng.uniform(-1, 1, 3), requires_grad=True) for _ in range(3)]
    assert gradcheck(lambda *ls: sum(_random_dag(ls, recipe)), tuple(leaves))


@requires_torch
@settings(max_examples=30, deadline=None, derandomize=True)
@given(recipe=_RECIPES)
def test_random_graphs_with_two_roots_match_torch(recipe):
    """``autograd.grad`` of two outputs, one of which feeds the other, and ``.grad`` after backward."""
    import torch

    rng = np.random.default_rng(len(recipe))
    values = [rng.uniform(-1, 1, 3) for _ in range(3)]
    ours = [tg.tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    got = tg.autograd.grad(_random_dag(ours, recipe), ours, allow_unused=True)
    want = torch.autograd.grad(_random_dag(theirs, recipe), theirs, allow_unused=True)
    for g, w in zip(got, want):
        if w is None:
            assert g is None or not np.any(g.numpy())
        else:
            np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("twice", ["two backward calls", "used twice in one graph"])
def test_accumulated_gradient_of_a_0d_leaf_stays_an_array(twice):
    """NumPy adds 0-d arrays into scalars; a leaf's .grad must stay an array that can change in place."""
    w = tg.nn.Parameter(tg.tensor([1.0, 2.0]))
    s = tg.nn.Parameter(tg.tensor(2.0))
    if twice == "two backward calls":
        for _ in range(2):
            (w * s).sum().backward()
    else:
        (w * s + w * s).sum().backward()
    assert type(s.grad._data) is np.ndarray and s.grad.shape == ()
    np.testing.assert_allclose(s.grad.item(), 6.0)
    tg.nn.utils.clip_grad_value_([w, s], 1.0)  # writes into each .grad in place
    assert s.grad.item() == 1.0
    model = tg.nn.Module()
    model.s = s
    model.zero_grad(set_to_none=False)
    assert s.grad.item() == 0.0


def test_a_hook_added_by_a_hook_waits_for_the_next_pass():
    calls = []
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: calls.append("h1") or y.register_hook(lambda g: calls.append("h2")) and None)
    y.sum().backward()
    assert calls == ["h1"]


def _node_tree(grad_fn, depth=3):
    """grad_fn's ``name()`` and its ``next_functions`` down to ``depth``, PyTorch's trailing digits dropped."""
    if grad_fn is None:
        return None
    name = grad_fn.name().rstrip("0123456789")
    if name.endswith("AccumulateGrad"):
        return ("AccumulateGrad", grad_fn.variable.shape[0])
    kids = [(_node_tree(fn, depth - 1), i) for fn, i in grad_fn.next_functions] if depth else []
    return (name, kids)


@requires_torch
def test_grad_fn_name_and_next_functions_walk_the_graph_as_in_torch():
    """The 60-minute blitz idioms: ``loss.grad_fn.next_functions[0][0]``, ``grad_fn.name()``, and the
    ``AccumulateGrad`` nodes (``.variable``) of leaves that require grad; ``None`` for constants."""
    import torch

    def build(lib):
        x = lib.ones(3)
        w = lib.ones(4, 3).requires_grad_()
        b = lib.ones(3).requires_grad_()
        z = x * w + b
        return z, (z * z).mean(), w

    for lib in (tg, torch):
        z, loss, w = build(lib)
        assert loss.grad_fn.next_functions[0][0] is loss.grad_fn.next_functions[0][0]
    ours, theirs = build(tg), build(torch)
    assert _node_tree(ours[0].grad_fn) == _node_tree(theirs[0].grad_fn)
    assert ours[0].grad_fn.name() == "AddBackward" and repr(ours[0].grad_fn) == "<AddBackward>"
    acc = ours[0].grad_fn.next_functions[1][0]
    assert acc.variable is ours[0].grad_fn.next_functions[1][0].variable
    assert tuple(acc.variable.shape) == (3,) and acc.next_functions == ()
    assert _node_tree(ours[1].grad_fn) == _node_tree(theirs[1].grad_fn)


# ----------------------------------------------------------------------------- rules that skip the checks
def _fresh_cases(dtype):
    """(Function class, apply arguments) for every rule that declares ``fresh_grads``."""
    from tinygradnn.ops import elementwise, nnops, normalization, rnn

    def t(*shape):
        return tg.tensor(np.random.default_rng(len(shape)).standard_normal(shape).astype(dtype), requires_grad=True)

    chain = ((nnops.Linear, 0, 2), (elementwise.Tanh, 2, 2), (nnops.Linear, 2, 4), (elementwise.ReLU, 4, 4),
             (nnops.Linear, 4, 6), (elementwise.Sigmoid, 6, 6))
    labels = np.array([0, 2, 1, 2])
    yield from ((nnops.Linear, (t(*shape), t(4, 5), bias)) for shape in [(5,), (3, 5), (2, 3, 5), (0, 5)]
                for bias in (None, t(4)))
    yield nnops.Chain, (chain, t(3, 5), t(4, 5), t(4), t(2, 4), None, t(3, 2), t(3))
    yield from ((nnops.CrossEntropyLabels, (t(4, 3), labels, reduction)) for reduction in ("mean", "sum", "none"))
    for bias in (None, t(8)):  # the recurrent ops (hidden size 2, batch 3, LSTM projection 1)
        yield rnn.RNNStep, (t(3, 2), t(3, 2), t(2, 2), None if bias is None else t(2), bias is None)
        yield rnn.LSTMStep, (t(3, 8), t(3, 4), t(8, 2), bias, None)
        yield rnn.LSTMStep, (t(3, 8), t(3, 3), t(8, 1), bias, t(1, 2))
        yield rnn.GRUStep, (t(3, 6), t(3, 2), t(6, 2), None if bias is None else t(6))
        for reverse in (False, True):  # the whole-sequence ops (4 steps)
            yield rnn.RNNLayer, (t(4, 3, 2), t(3, 2), t(2, 2), None if bias is None else t(2), reverse, reverse)
            yield rnn.LSTMLayer, (t(4, 3, 8), t(3, 4), t(8, 2), bias, None, reverse)
            yield rnn.LSTMLayer, (t(4, 3, 8), t(3, 3), t(8, 1), bias, t(1, 2), reverse)
            yield rnn.GRULayer, (t(4, 3, 6), t(3, 2), t(6, 2), None if bias is None else t(6), reverse)
    for view, axes in (((6, 1, 2, 2), (2, 3)), ((2, 2, 2, 3), (2, 3)), ((2, 1, 4, 3), (0, 3))):  # the normalisations
        affine = (t(2, view[1] * view[2] // 2), t(2, view[1] * view[2] // 2))  # (of several dims, as LayerNorm's)
        for weight, bias in ((None, None), affine, (affine[0], None), (None, affine[1])):
            yield normalization.Normalize, (t(2, 3, 4), weight, bias, view, axes, 1e-5, None)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_rules_that_promise_fresh_gradients_keep_the_promise(dtype):
    """The engine does not check these rules' gradients (shape, dtype) and lets leaves keep them as .grad."""
    from tinygradnn.autograd.function import Function
    from tinygradnn.ops import ArrayOps

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    covered = set()
    for cls, args in _fresh_cases(dtype):
        covered.add(cls)
        out = cls.apply(*args)
        g = np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype)
        grads = out.grad_fn.backward(g, ArrayOps)
        returned = []
        for a, need, gi in zip(args, out.grad_fn.needs_input_grad, grads):
            if need:
                assert type(gi) is np.ndarray and gi.base is None and gi is not g, cls
                assert gi.shape == a.shape and gi.dtype == a.dtype, (cls, gi.shape, gi.dtype, a.shape)
                assert not any(np.shares_memory(gi, other) for other in returned), cls
                returned.append(gi)
    assert covered == {cls for cls in subclasses(Function) if cls.fresh_grads}
