"""autograd/custom.py: PyTorch-style ``tinygradnn.autograd.Function`` (forward/backward,
save_for_backward, needs_input_grad, apply, several outputs, setup_context, once_differentiable)."""

import numpy as np
import pytest
from helpers import requires_torch

import tinygradnn as tg
from tinygradnn.autograd import gradcheck, gradgradcheck


def _square_class(base):
    """The same custom op for tinygradnn and torch (their Function APIs match)."""

    class Square(base):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    return Square


def _scaled_mul_class(base):
    class ScaledMul(base):
        """``a * b * scale`` with a Python number ``scale`` (no gradient)."""

        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            ctx.seen_needs = ctx.needs_input_grad
            return a * b * scale

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            ga = g * b * ctx.scale if ctx.needs_input_grad[0] else None
            gb = g * a * ctx.scale if ctx.needs_input_grad[1] else None
            return ga, gb, None

    return ScaledMul


Square = _square_class(tg.autograd.Function)
ScaledMul = _scaled_mul_class(tg.autograd.Function)


def _x(*shape, seed=0):
    return tg.tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=True)


def test_forward_backward_and_saved_tensors():
    x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = Square.apply(x)
    assert y.requires_grad and not y.is_leaf
    np.testing.assert_array_equal(y.detach().numpy(), [1.0, 4.0, 9.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0, 6.0])


def test_custom_function_passes_gradcheck_and_gradgradcheck():
    assert gradcheck(Square.apply, _x(2, 3))
    assert gradgradcheck(Square.apply, _x(2, 3))  # backward written with Tensor ops: differentiable
    assert gradcheck(lambda a, b: ScaledMul.apply(a, b, 0.5), (_x(3), _x(3, seed=1)))


def test_needs_input_grad_and_non_tensor_arguments():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0])
    y = ScaledMul.apply(a, b, 2.0)
    assert y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [6.0, 8.0])
    assert b.grad is None


def test_needs_input_grad_is_seen_in_forward():
    seen = {}

    class Probe(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen["needs"] = ctx.needs_input_grad
            seen["recording"] = tg.is_grad_enabled()
            seen["inner_grad_fn"] = (a * 2).grad_fn
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g, None

    Probe.apply(tg.ones(2, requires_grad=True), tg.ones(2), 3)
    assert seen["needs"] == (True, False, False)
    assert seen["recording"] is False and seen["inner_grad_fn"] is None, "forward runs under no_grad"


def test_no_graph_without_grad():
    y = Square.apply(tg.ones(2))
    assert not y.requires_grad and y.grad_fn is None
    with tg.no_grad():
        y = Square.apply(tg.ones(2, requires_grad=True))
    assert not y.requires_grad and y.grad_fn is None


def test_grad_fn_is_named_after_the_class():
    y = Square.apply(tg.ones(2, requires_grad=True))
    assert "Square" in repr(y.grad_fn)


def test_wrong_number_or_shape_of_gradients_is_a_clear_error():
    class TooMany(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    class WrongShape(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match="TooMany.backward returned 2 gradients but forward took 1"):
        TooMany.apply(tg.ones(2, requires_grad=True)).sum().backward()
    with pytest.raises(RuntimeError, match=r"WrongShape.backward returned a gradient of shape \(\)"):
        WrongShape.apply(tg.ones(2, requires_grad=True)).backward()


def test_forward_must_return_tensors():
    class ReturnsArray(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.detach().numpy()

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="ReturnsArray.forward must return a Tensor"):
        ReturnsArray.apply(tg.ones(2, requires_grad=True))


def test_once_differentiable_backward_is_right_once_and_flagged_twice():
    """A once_differentiable backward records nothing; gradgradcheck must notice, not pass it."""

    class Cube(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        @tg.autograd.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    assert gradcheck(Cube.apply, _x(3))
    x = _x(3)
    (g,) = tg.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    assert not g.requires_grad
    assert gradgradcheck(Cube.apply, _x(3), raise_exception=False) is False


def test_several_outputs_and_non_differentiable_outputs():
    class SinCosArgmax(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            idx = x.argmax()
            ctx.mark_non_differentiable(idx)
            return x.sin(), x.cos(), idx

        @staticmethod
        def backward(ctx, g_sin, g_cos, g_idx):
            (x,) = ctx.saved_tensors
            return g_sin * x.cos() - g_cos * x.sin()

    x = _x(4)
    s, c, i = SinCosArgmax.apply(x)
    assert i.dtype == np.int64 and not i.requires_grad
    (s * 2 + c).sum().backward()
    xv = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos(xv) - np.sin(xv), rtol=1e-12)
    x.grad = None
    SinCosArgmax.apply(x)[1].sum().backward()  # an unused output gets a zero gradient
    np.testing.assert_allclose(x.grad.numpy(), -np.sin(xv), rtol=1e-12)


def test_setup_context_style():
    assert gradcheck(_saving_classes(tg.autograd.Function)["tanh"], _x(3))  # forward without ctx


@requires_torch
@pytest.mark.torch
def test_same_custom_functions_match_torch():
    import torch

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    results = []
    for lib, base in ((tg, tg.autograd.Function), (torch, torch.autograd.Function)):
        sq, mul = _square_class(base), _scaled_mul_class(base)
        ta, tb = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        y = mul.apply(sq.apply(ta), tb, 1.5)
        (ga, gb) = lib.autograd.grad((y * y).sum(), [ta, tb], create_graph=True)
        (hb,) = lib.autograd.grad((ga * ga).sum(), [tb])
        results.append([t.detach().numpy() for t in (y, ga, gb, hb)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def _saving_classes(base):
    """Custom ops whose backward reads saved inputs, saved outputs or both (double backward must see them)."""

    class Exp(base):  # saves its output
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    class Cube(base):  # saves its input and its output
        @staticmethod
        def forward(ctx, x):
            y = x**3
            ctx.save_for_backward(x, y)
            return y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * 3 * y / x

    class ExpSin(base):  # two outputs, saves the input and the first output
        @staticmethod
        def forward(ctx, x):
            e = x.exp()
            ctx.save_for_backward(x, e)
            return e, x.sin()

        @staticmethod
        def backward(ctx, ge, gs):
            x, e = ctx.saved_tensors
            return ge * e + gs * x.cos()

    class Tanh(base):  # setup_context style, saves the output
        @staticmethod
        def forward(x):
            return x.tanh()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * (1 - y * y)

    def exp_sin(x):
        e, s = ExpSin.apply(x)
        return e * s

    return {"exp": Exp.apply, "cube": Cube.apply, "exp_sin": exp_sin, "tanh": Tanh.apply}


@pytest.mark.parametrize("name", ["exp", "cube", "exp_sin", "tanh"])
def test_double_backward_through_saved_outputs_passes_gradgradcheck(name):
    f = _saving_classes(tg.autograd.Function)[name]
    assert gradgradcheck(f, _x(3, seed=2))


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("name", ["exp", "cube", "exp_sin", "tanh"])
@pytest.mark.parametrize("plus_square", [False, True])
def test_double_backward_through_saved_outputs_matches_torch(name, plus_square):
    """A saved output, read in a create_graph backward, carries the Function's own graph (as in PyTorch)."""
    import torch

    xv = np.array([0.5, 1.0, -0.7])
    results = []
    for lib in (tg, torch):
        f = _saving_classes(lib.autograd.Function)[name]
        x = lib.tensor(xv, dtype=lib.float64, requires_grad=True)
        loss = (f(x) ** 2).sum() + ((x**2).sum() if plus_square else 0)
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        results.append([g.detach().numpy(), h.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_double_backward_through_saved_output_exact_values():
    f = _saving_classes(tg.autograd.Function)["exp"]
    x = tg.tensor([0.5, 1.0], dtype=tg.float64, requires_grad=True)
    (g,) = tg.autograd.grad(f(x).sum() + (x**2).sum(), x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), np.exp([0.5, 1.0]) + 2, rtol=1e-12)


def test_backward_may_return_extra_trailing_nones():
    class Scale(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x, c=2.0):
            ctx.c = c
            return x * c

        @staticmethod
        def backward(ctx, g):
            return g * ctx.c, None, None

    class ExtraGrad(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, g

    x = tg.ones(2, requires_grad=True)
    Scale.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
    with pytest.raises(RuntimeError, match="ExtraGrad.backward returned 2 gradients but forward took 1"):
        ExtraGrad.apply(x).sum().backward()


def test_single_non_differentiable_output_does_not_require_grad():
    class Marked(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x * 2
            ctx.mark_non_differentiable(y)
            return y

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Argmax(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.argmax()

        @staticmethod
        def backward(ctx, g):
            return None

    x = tg.tensor([1.0, 3.0, 2.0], requires_grad=True)
    y = Marked.apply(x)
    assert not y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), [2.0, 6.0, 4.0])
    i = Argmax.apply(x)
    assert not i.requires_grad and i.grad_fn is None and i.item() == 1


def _returning(base, grad_rule):
    class Op(base):
        @staticmethod
        def forward(ctx, x, extra=None):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return grad_rule(g)

    return Op


@requires_torch
def test_a_gradient_that_broadcasts_to_the_input_is_summed_to_its_shape_as_torch():
    import torch

    def one_row(g):  # shape (1, 3) for an input of shape (3,): PyTorch sums it to (3,)
        return g.reshape(1, 3) * 3, None

    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        _returning(lib.autograd.Function, one_row).apply(x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])
        x.grad = None
        _returning(lib.autograd.Function, lambda g: (g.expand(2, 3), None)).apply(x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 2.0])
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = tg.autograd.grad(_returning(tg.autograd.Function, one_row).apply(x).sum(), x, create_graph=True)
    assert g.shape == (3,)
    with pytest.raises(RuntimeError, match=r"Op.backward returned a gradient of shape \(3, 1\)"):
        _returning(tg.autograd.Function, lambda g: (g.reshape(3, 1), None)).apply(x).sum().backward()


def test_a_gradient_for_a_non_tensor_argument_is_an_error_as_torch():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="returned a gradient different than None at position 2, but the "
                                           "corresponding forward input was not a Tensor"):
        _returning(tg.autograd.Function, lambda g: (g * 2, g)).apply(x, 3.0).sum().backward()


def test_save_for_backward_takes_only_tensors_or_none_as_torch():
    class SavesInt(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, None, 3)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(TypeError, match="save_for_backward can only save variables, but argument 2 is of type int"):
        SavesInt.apply(tg.ones(2, requires_grad=True))
