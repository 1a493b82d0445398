"""``autograd.Function`` the PyTorch way: static forward/backward, ctx, several outputs, setup_context."""

import numpy as np
import pytest
from helpers import requires_torch

import tinygradnn as tg

FRAMEWORKS = [pytest.param(tg, id="tinygradnn"), pytest.param("torch", id="torch", marks=requires_torch)]


def _framework(fw):
    if fw == "torch":
        import torch

        return torch
    return fw


def _scale_shift(fw):
    class ScaleShift(fw.autograd.Function):
        """Three outputs: x * w, the row sums of x ** 2 and the (non-differentiable) argmax of each row."""

        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            index = x.argmax(1)
            ctx.mark_non_differentiable(index)
            return x * w, (x * x).sum(1), index

        @staticmethod
        def backward(ctx, g_scaled, g_sq, g_index):
            x, w = ctx.saved_tensors
            gx = g_scaled * w + 2 * x * g_sq.unsqueeze(1) if ctx.needs_input_grad[0] else None
            gw = (g_scaled * x).sum(0) if ctx.needs_input_grad[1] else None
            return gx, gw

    return ScaleShift


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_several_outputs_get_their_own_gradients(fw):
    fw = _framework(fw)
    rng = np.random.default_rng(0)
    x = fw.tensor(rng.normal(size=(3, 4)), requires_grad=True)
    w = fw.tensor(rng.normal(size=4), requires_grad=True)
    scaled, sq, index = _scale_shift(fw).apply(x, w)
    assert index.dtype == fw.int64 and not index.requires_grad and scaled.requires_grad
    (scaled.sin().sum() + (sq ** 2).sum()).backward()
    xn, wn = x.detach().numpy(), w.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(xn * wn) * wn + 4 * xn * (xn ** 2).sum(1, keepdims=True))
    np.testing.assert_allclose(w.grad.numpy(), (np.cos(xn * wn) * xn).sum(0))


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_an_unused_output_passes_zeros_to_backward(fw):
    fw = _framework(fw)
    x = fw.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    w = fw.tensor([2.0, 3.0])  # no grad: needs_input_grad[1] is False, backward returns None for it
    _, sq, _ = _scale_shift(fw).apply(x, w)
    sq.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())
    assert w.grad is None


def test_several_outputs_support_double_backward():
    class Powers(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2, x ** 3

        @staticmethod
        def backward(ctx, g2, g3):
            (x,) = ctx.saved_tensors
            return g2 * 2 * x + g3 * 3 * x ** 2

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    square, cube = Powers.apply(x)
    (g,) = tg.autograd.grad((square + cube).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [5.0, 16.0])
    (gg,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [8.0, 14.0])  # 2 + 6x


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_setup_context_style_and_once_differentiable(fw):
    fw = _framework(fw)
    from_function = fw.autograd.function.once_differentiable if fw is not tg else tg.autograd.once_differentiable

    class Cube(fw.autograd.Function):
        @staticmethod
        def forward(x):
            return x ** 3

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        @from_function
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    x = fw.tensor([1.0, -2.0], dtype=fw.float64, requires_grad=True)
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])


def test_gradcheck_of_a_custom_function():
    class Softsign(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x / (1 + x.abs())

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g / (1 + x.abs()) ** 2

    assert tg.autograd.gradcheck(Softsign.apply, (tg.randn(4, 3, dtype=tg.float64, requires_grad=True),))


def test_no_graph_without_inputs_that_need_grad():
    out = _scale_shift(tg).apply(tg.ones(2, 3), tg.ones(3))
    assert all(o.grad_fn is None for o in out)
    with tg.no_grad():
        out = _scale_shift(tg).apply(tg.ones(2, 3, requires_grad=True), tg.ones(3))
    assert not out[0].requires_grad


def test_errors_name_the_function_and_the_problem():
    class WrongCount(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    class WrongShape(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return g  # should be expanded to x's shape

    class NotATensor(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return 3.0

    x = tg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="WrongCount.backward returned 1 gradients but forward took 2"):
        WrongCount.apply(x, x).sum().backward()
    with pytest.raises(RuntimeError, match=r"WrongShape.backward returned a gradient of shape \(\)"):
        WrongShape.apply(x).backward()
    with pytest.raises(TypeError, match="NotATensor.forward must return a Tensor or a tuple of Tensors"):
        NotATensor.apply(x)
    with pytest.raises(NotImplementedError, match="static forward"):
        tg.autograd.Function.apply(x)
