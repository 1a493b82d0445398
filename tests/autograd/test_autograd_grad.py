"""autograd/functional.py: ``tinygradnn.autograd.grad`` (allow_unused, grad_outputs, create_graph:
Hessian-vector products against PyTorch)."""

import numpy as np
import pytest
from helpers import requires_torch

import tinygradnn as tg


def test_grad_returns_gradients_and_leaves_dot_grad_alone():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor([3.0, -1.0], requires_grad=True)
    gx, gw = tg.autograd.grad((x * w).sum(), [x, w])
    np.testing.assert_array_equal(gx.numpy(), [3.0, -1.0])
    np.testing.assert_array_equal(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None
    (g,) = tg.autograd.grad((x * x).sum(), x)
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])


def test_allow_unused():
    x = tg.ones(2, requires_grad=True)
    unused = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="does not appear in the graph.*allow_unused=True"):
        tg.autograd.grad((x * 2).sum(), [x, unused])
    gx, gu = tg.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_array_equal(gx.numpy(), [2.0, 2.0])


def test_grad_outputs_and_several_outputs():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a, b = x * 2, x * x
    (g,) = tg.autograd.grad([a, b], x, [tg.tensor([1.0, 0.0, 1.0]), tg.ones(3)])
    np.testing.assert_array_equal(g.numpy(), [4.0, 4.0, 8.0])
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        tg.autograd.grad(a, x)


def test_grad_with_respect_to_an_intermediate():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (gh,) = tg.autograd.grad((h * h).sum(), h)
    np.testing.assert_array_equal(gh.numpy(), [6.0, 12.0])


def test_grad_errors_for_inputs_that_do_not_require_grad():
    x = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.autograd.grad((x * 2).sum(), tg.ones(2))


def test_without_create_graph_the_graph_is_freed_and_results_are_constants():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x**3).sum()
    (g,) = tg.autograd.grad(y, x)
    assert not g.requires_grad and g.grad_fn is None
    with pytest.raises(RuntimeError, match="second time"):
        tg.autograd.grad(y, x)


def test_create_graph_gives_differentiable_gradients():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = tg.autograd.grad((x**3).sum(), x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [6.0, 12.0])
    (x**3).sum().backward(create_graph=True)  # backward(create_graph) puts a differentiable grad in .grad
    assert x.grad.requires_grad
    x.grad.sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), [3.0 + 6.0, 12.0 + 12.0])



def test_backward_with_create_graph_retains_the_graph_by_default():
    # retain_graph defaults to create_graph, as in PyTorch: tanh's saved output is needed again
    x = tg.tensor([0.5, 1.0], requires_grad=True)
    x.tanh().sum().backward(create_graph=True)
    x.grad.sum().backward()
    t = np.tanh([0.5, 1.0])
    np.testing.assert_allclose(x.grad.detach().numpy(), (1 - t * t) - 2 * t * (1 - t * t), rtol=1e-5)
    y = tg.tensor([0.5], requires_grad=True)
    out = y.tanh().sum()
    out.backward(create_graph=True, retain_graph=False)  # an explicit False still frees the graph
    with pytest.raises(RuntimeError, match="second time"):
        y.grad.sum().backward()


@requires_torch
@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")  # (PyTorch's own)
def test_backward_with_create_graph_gives_each_leaf_its_own_writable_grad():
    # PyTorch clones the gradient into .grad: a + b's one upstream gradient is not shared by a.grad and
    # b.grad, nor with the caller's gradient, and .grad can be changed in place (clipping, zero_grad)
    import torch

    out = []
    for lib in (tg, torch):
        a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([3.0, 4.0], dtype=lib.float64, requires_grad=True)
        u = lib.tensor([1.0, -1.0], dtype=lib.float64)
        (a * a + b).sum().backward(create_graph=True)
        (a + b).backward(u, create_graph=True)
        ga, gb = a.grad, b.grad
        assert ga is not gb and ga.requires_grad
        with lib.no_grad():
            b.grad.mul_(5)
        (ga * ga).sum().backward()  # ga still differentiates back to a
        out.append([ga.detach().numpy().copy(), b.grad.detach().numpy().copy(), u.numpy().copy()])
        c = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        (c + c.detach()).sum().backward(create_graph=True)  # the ones seed (read-only in NumPy) lands here
        c.grad.zero_()
        out[-1].append(c.grad.numpy().copy())
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@requires_torch
@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")  # (PyTorch's own)
@pytest.mark.parametrize("create_graph", [False, True])
def test_retained_grad_of_a_non_leaf_is_replaced_not_changed_in_place(create_graph):
    # a second backward adds into .grad out of place (as PyTorch): a gradient taken earlier, possibly
    # part of a graph, keeps its values
    import torch

    out = []
    for lib in (tg, torch):
        x = lib.tensor([0.3, -0.5], dtype=lib.float64, requires_grad=True)
        z = lib.sin(x)
        z.retain_grad()
        (z * z).sum().backward(create_graph=create_graph, retain_graph=True)
        first = z.grad
        (z * z * z).sum().backward()
        assert z.grad is not first
        out.append([first.detach().numpy().copy(), z.grad.numpy().copy(), x.grad.detach().numpy().copy()])
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_create_graph_without_retain_graph_frees_the_graph_so_the_gradient_cannot_be_differentiated_through_it():
    # (tanh(x) * x)': (1 - t**2) * x + t reads tanh's output t, whose node was freed: differentiating it again
    # must raise, as in PyTorch, not silently drop the terms through t (only the path through x is intact)
    x = tg.tensor([0.3, 0.6], dtype=tg.float64, requires_grad=True)
    for second in (lambda g: tg.autograd.grad(g.sum(), x), lambda g: g.sum().backward(inputs=[x])):
        (g,) = tg.autograd.grad((tg.tanh(x) * x).sum(), x, create_graph=True, retain_graph=False)
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            second(g)


@pytest.mark.xfail(strict=True, reason="known gap (docs/pytorch.md): a node freed by an earlier backward keeps no "
                   "links to its inputs, so autograd.grad and backward(inputs=) skip it instead of raising as PyTorch")
@pytest.mark.parametrize("ask", ["grad", "backward(inputs=)"])
def test_grad_through_a_node_freed_by_an_earlier_backward_raises_like_torch(ask):
    # y's node was freed by the first backward: asking again for x's gradient through it should raise, not
    # leave out the path through y (1 here instead of 2 (1 - tanh(x)**2) + 1)
    x = tg.tensor([0.3, 0.6], dtype=tg.float64, requires_grad=True)
    y = tg.tanh(x)
    y.sum().backward()
    z = (y * 2 + x).sum()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        tg.autograd.grad(z, x) if ask == "grad" else z.backward(inputs=[x])


def _loss(lib, x, w1, w2):
    h = lib.tanh(x @ w1)
    logits = h @ w2
    return (lib.logsumexp(logits, 1) - logits[:, 0]).mean() + (w1 * w1).sum() * 0.01 + lib.sigmoid(w2).sum()


@requires_torch
@pytest.mark.torch
def test_hessian_vector_product_matches_torch():
    import torch

    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=(5, 2))]
    vs = [rng.normal(size=a.shape) for a in arrays[1:]]
    results = []
    for lib, make in ((tg, lambda a: tg.tensor(a, requires_grad=True)),
                      (torch, lambda a: torch.tensor(a, requires_grad=True))):
        x, w1, w2 = (make(a) for a in arrays)
        grads = lib.autograd.grad(_loss(lib, x, w1, w2), [w1, w2], create_graph=True)
        dot = sum((g * lib.tensor(v)).sum() for g, v in zip(grads, vs))
        hvp = lib.autograd.grad(dot, [x, w1, w2])
        results.append([h.detach().numpy() for h in hvp] + [g.detach().numpy() for g in grads])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@requires_torch
@pytest.mark.torch
def test_third_derivative_matches_torch():
    import torch

    out = []
    for lib in (tg, torch):
        x = lib.tensor([0.3, -0.7, 1.1], dtype=lib.float64, requires_grad=True)
        y = (lib.sin(x) * lib.exp(x)).sum()
        (g1,) = lib.autograd.grad(y, x, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True)
        (g3,) = lib.autograd.grad(g2.sum(), x)
        out.append(g3.detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12)


def test_grad_with_an_input_repeated_returns_its_gradient_each_time():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    m = x * 2
    gm1, gm2, gx1, gx2 = tg.autograd.grad((m * 3).sum(), [m, m, x, x])
    for g, want in ((gm1, 3.0), (gm2, 3.0), (gx1, 6.0), (gx2, 6.0)):
        np.testing.assert_array_equal(g.numpy(), [want, want])


def test_grad_with_empty_inputs_raises():
    x = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="`inputs` argument to `grad\\(\\)` cannot be empty"):
        tg.autograd.grad((x * 3).sum(), [])


def test_grad_takes_a_non_leaf_gradient_before_its_hooks_and_a_leaf_one_after():
    # PyTorch 2.13: ([4, 8], [80, 160]) and [30, 30]
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    m = x * 2
    m.register_hook(lambda g: g * 10)
    gm, gx = tg.autograd.grad((m**2).sum(), [m, x])
    np.testing.assert_array_equal(gm.numpy(), [4.0, 8.0])
    np.testing.assert_array_equal(gx.numpy(), [80.0, 160.0])
    y = tg.tensor([1.0, 2.0], requires_grad=True)
    y.register_hook(lambda g: g * 10)
    (gy,) = tg.autograd.grad((y * 3).sum(), [y])
    np.testing.assert_array_equal(gy.numpy(), [30.0, 30.0])
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    m = x * 2
    m.register_hook(lambda g: [g.mul_(2), None][1])  # an in-place hook changes the returned gradient too (PyTorch)
    gm, gx = tg.autograd.grad((m * 3).sum(), [m, x])
    np.testing.assert_array_equal(gm.numpy(), [6.0, 6.0])
    np.testing.assert_array_equal(gx.numpy(), [12.0, 12.0])


def test_grad_runs_only_the_part_of_the_graph_behind_its_inputs():
    """As PyTorch: hooks on other branches stay silent, a freed other branch is no error, and a retained
    non-leaf on the way still gets its .grad."""
    calls = []
    a, b = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([1.0, 1.0], requires_grad=True)
    w = b * 2
    w.register_hook(lambda g: calls.append("w"))
    b.register_hook(lambda g: calls.append("b"))
    y = a * 3
    y.retain_grad()
    z = (y * y).sum() + w.sum()
    (ga,) = tg.autograd.grad(z, [a], retain_graph=True)
    np.testing.assert_array_equal(ga.numpy(), [18.0, 36.0])
    np.testing.assert_array_equal(y.grad.numpy(), [6.0, 12.0])
    z.backward(inputs=[a])
    assert calls == [] and b.grad is None
    freed = b.exp()
    freed.sum().backward()  # frees exp's graph
    (ga,) = tg.autograd.grad((a * a).sum() + freed.sum(), [a])
    np.testing.assert_array_equal(ga.numpy(), [2.0, 4.0])


@requires_torch
def test_materialize_grads_gives_zeros_for_unused_inputs_as_torch():
    import torch

    for create_graph in (False, True):
        x, u = tg.tensor([1.0, 2.0], requires_grad=True), tg.ones(3, 2, requires_grad=True, dtype=tg.float64)
        tx, tu = torch.tensor([1.0, 2.0], requires_grad=True), torch.ones(3, 2, requires_grad=True, dtype=torch.float64)
        gx, gu = tg.autograd.grad((x * x).sum(), [x, u], create_graph=create_graph, materialize_grads=True)
        tgx, tgu = torch.autograd.grad((tx * tx).sum(), [tx, tu], create_graph=create_graph, materialize_grads=True)
        np.testing.assert_array_equal(gx.detach().numpy(), tgx.detach().numpy())
        np.testing.assert_array_equal(gu.detach().numpy(), tgu.detach().numpy())
        assert gu.dtype == tg.float64 and gu.requires_grad == tgu.requires_grad == create_graph
    (g,) = tg.autograd.grad((x * 2).sum(), [u], allow_unused=True, materialize_grads=True)
    np.testing.assert_array_equal(g.numpy(), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="allow_unused"):
        tg.autograd.grad((x * 2).sum(), [u], allow_unused=False, materialize_grads=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):  # allow_unused=None alone: still an error
        tg.autograd.grad((x * 2).sum(), [u], allow_unused=None)


def test_grad_outputs_of_the_wrong_length_raise_as_torch():
    # zip() used to drop the outputs without a grad_output: a silently wrong (partial) gradient
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="got 2 tensors and 1 gradients"):
        tg.autograd.grad([y, y * 3], x, grad_outputs=[tg.ones(3)])
    (g,) = tg.autograd.grad(y, x, grad_outputs=[tg.ones(3), tg.ones(3)])  # extra ones are ignored, as in torch
    np.testing.assert_allclose(g.numpy(), [2.0, 2.0, 2.0])


def test_inputs_that_do_not_require_grad_raise_in_backward_as_torch():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    c = tg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        (x * c).sum().backward(inputs=[c])


def test_retain_grad_on_a_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        tg.tensor([1.0]).retain_grad()
    x = tg.tensor([1.0], requires_grad=True)
    x.retain_grad()  # a leaf: no-op, as in PyTorch
    assert not x.retains_grad


def test_grad_accepts_the_deprecated_only_inputs():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = tg.autograd.grad((x * 3).sum(), x, only_inputs=True)
    np.testing.assert_allclose(g.numpy(), [3.0, 3.0])


def test_is_grads_batched_stacks_one_vector_jacobian_product_per_row():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    (jac,) = tg.autograd.grad(y, x, grad_outputs=tg.eye(3), is_grads_batched=True)
    np.testing.assert_allclose(jac.numpy(), np.diag([2.0, 4.0, 6.0]))
    with pytest.raises(RuntimeError, match="shape"):  # each row must have the output's shape
        tg.autograd.grad(x * x, x, grad_outputs=tg.ones(3), is_grads_batched=True)



@requires_torch
def test_autograd_backward_of_several_outputs_as_torch():
    import torch

    a = np.random.default_rng(0).standard_normal((3,))
    x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    w, tw = tg.tensor(a[::-1].copy(), requires_grad=True), torch.tensor(a[::-1].copy(), requires_grad=True)
    g = np.array([1.0, -2.0, 0.5])
    tg.autograd.backward([(x * w).sum(), x * x], [None, tg.tensor(g)])
    torch.autograd.backward([(tx * tw).sum(), tx * tx], [None, torch.tensor(g)])
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
    tg.autograd.backward((x * w).sum(), inputs=[w])  # only w's gradient grows
    torch.autograd.backward((tx * tw).sum(), inputs=[tw])
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="got 2 tensors and 1 gradients"):
        tg.autograd.backward([x * 2, x * 3], [tg.ones(3)])
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.autograd.backward([tg.ones(2).sum()])
