"""autograd/gradcheck.py: gradcheck and gradgradcheck pass on right rules and fail on wrong ones
(checking the checker)."""

import numpy as np
import pytest

import tinygradnn as tg
from tinygradnn.autograd import GradcheckError, gradcheck, gradgradcheck
from tinygradnn.autograd.function import Function


class _WrongSin(Function):
    """sin with the derivative's sign flipped."""

    def forward(ctx, x):
        ctx.saved = (x,)
        return np.sin(x)

    def backward(ctx, g, F):
        (x,) = ctx.saved
        return -g * F.cos(x)


class _SinWithConstantDerivative(Function):
    """sin whose backward is right to first order but treats cos(x) as a constant (wrong 2nd order)."""

    def forward(ctx, x):
        ctx.saved = (x,)
        ctx.cos = np.cos(x)
        return np.sin(x)

    def backward(ctx, g, F):
        return g * ctx.cos


class _WrongMulSecondInput(Function):
    def forward(ctx, a, b):
        ctx.saved = (a, b)
        return a * b

    def backward(ctx, g, F):
        a, b = ctx.saved
        return g * b, g * b  # the second should be g * a


def _x(*shape, seed=0):
    return tg.tensor(np.random.default_rng(seed).normal(size=shape), requires_grad=True)


def test_gradcheck_passes_on_correct_ops():
    assert gradcheck(lambda x: (x.sin() * x).sum(0), _x(3, 2))
    assert gradgradcheck(lambda x: (x.sin() * x).sum(0), _x(3, 2))
    assert gradcheck(lambda a, b: a @ b, (_x(2, 3), _x(3, 2, seed=1)))


def test_gradcheck_fails_on_a_wrong_first_derivative():
    with pytest.raises(GradcheckError, match="Jacobian mismatch for input 0"):
        gradcheck(_WrongSin.apply, _x(4))
    assert gradcheck(_WrongSin.apply, _x(4), raise_exception=False) is False


def test_gradcheck_names_the_wrong_input():
    with pytest.raises(GradcheckError, match=r"input 1 \(shape \(3,\)\)"):
        gradcheck(_WrongMulSecondInput.apply, (_x(3), _x(3, seed=1)))


def test_gradgradcheck_fails_on_a_wrong_second_derivative():
    assert gradcheck(_SinWithConstantDerivative.apply, _x(4))
    with pytest.raises(GradcheckError):
        gradgradcheck(_SinWithConstantDerivative.apply, _x(4))
    assert gradgradcheck(_SinWithConstantDerivative.apply, _x(4), raise_exception=False) is False


_NOT_DOUBLE = "Input #{} requires gradient and is not a double precision floating point"


def test_gradcheck_warns_on_float32_inputs_and_runs_as_torch():
    """PyTorch warns (UserWarning) and runs in the input's precision: results as PyTorch 2.13 gives them."""
    x = tg.ones(3, requires_grad=True)
    with pytest.warns(UserWarning, match=_NOT_DOUBLE.format(0)):
        assert gradcheck(lambda t: t * 2, x, raise_exception=False) is False  # eps=1e-6 is below float32's reach
    with pytest.warns(UserWarning, match=_NOT_DOUBLE.format(0)):
        assert gradcheck(lambda t: t.tanh(), x, eps=1e-3, atol=1e-2)
    with pytest.warns(UserWarning, match=_NOT_DOUBLE.format(1)):  # numbered among all the inputs
        assert gradcheck(lambda a, b: a * b, (_x(3), x), eps=1e-3, atol=1e-2)
    with pytest.warns(UserWarning, match=_NOT_DOUBLE.format(0)):
        assert gradcheck(lambda t: t.tanh(), x, eps=1e-3, atol=1e-2, fast_mode=True)
    with pytest.warns(UserWarning, match=_NOT_DOUBLE.format(0)), pytest.raises(GradcheckError):
        gradcheck(lambda t: _WrongSin.apply(t), x, eps=1e-3, atol=1e-2)


def test_gradcheck_handles_non_contiguous_and_0d_inputs():
    base = tg.tensor(np.random.default_rng(0).normal(size=(3, 4)))
    x = base.T.detach().requires_grad_()  # a transposed view: not C-contiguous
    assert not x.detach().numpy().flags.c_contiguous
    assert gradcheck(lambda t: t * t, x)
    assert gradcheck(lambda t: t.exp(), tg.tensor(0.5, dtype=tg.float64, requires_grad=True))


def test_gradcheck_leaves_the_inputs_unchanged():
    x = _x(3, 2)
    before = x.detach().numpy().copy()
    gradcheck(lambda t: t.tanh(), x)
    gradgradcheck(lambda t: t.tanh(), x)
    np.testing.assert_array_equal(x.detach().numpy(), before)


def test_gradcheck_checks_every_output_of_a_tuple():
    def two(x):
        return x.sin(), _WrongSin.apply(x)

    with pytest.raises(GradcheckError):
        gradcheck(two, _x(3))


def test_gradgradcheck_warns_on_float32_and_accepts_linear_functions():
    x = tg.ones(3, requires_grad=True)
    with pytest.warns(UserWarning, match=_NOT_DOUBLE.format(0)) as record:
        assert gradgradcheck(lambda t: t.tanh(), x, eps=1e-3, atol=1e-2)  # True in PyTorch too
        assert gradgradcheck(_SinWithConstantDerivative.apply, x, eps=1e-3, atol=1e-2, raise_exception=False) is False
    assert len(record) == 2  # once per call, not once per perturbed evaluation
    assert gradgradcheck(lambda x: x * 2 + 1, _x(3))  # constant first derivative: second is 0
    assert gradgradcheck(lambda x, y: x * 2, (_x(3), _x(3, seed=1)))  # y unused


def test_gradcheck_catches_a_wrong_public_custom_function():
    """The user-facing autograd.Function with a wrong rule (d/dx x**2 written as x): gradcheck must fail."""

    class BadSquare(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(BadSquare.apply, _x(3))
    # gradgradcheck differentiates the rule as written (g * x), so it is consistent with itself; catching a
    # wrong first derivative is gradcheck's job
    assert gradgradcheck(BadSquare.apply, _x(3))


class _NoisyBackward(Function):
    """2x whose backward adds a little noise (a non-deterministic rule)."""

    def forward(ctx, x):
        return 2 * x

    def backward(ctx, g, F):
        return g * (2 + 1e-9 * np.random.default_rng().random())


def test_fast_mode_checks_a_random_projection_of_the_jacobian():
    calls = []

    def fn(x, w):
        calls.append(1)
        return (x @ w).tanh()

    x, w = _x(6, 5), _x(5, 4, seed=1)
    assert gradcheck(fn, (x, w), fast_mode=True)
    fast_calls, calls[:] = len(calls), []
    assert gradcheck(fn, (x, w))
    assert fast_calls <= 8 < len(calls)  # two differences per input, not two per input element
    assert gradgradcheck(lambda x: (x.sin() * x).sum(0), _x(3, 2), fast_mode=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch for input 1"):
        gradcheck(_WrongMulSecondInput.apply, (_x(3), _x(3, seed=1)), fast_mode=True)
    assert gradcheck(_WrongSin.apply, _x(4), fast_mode=True, raise_exception=False) is False
    assert gradgradcheck(_SinWithConstantDerivative.apply, _x(3), fast_mode=True, raise_exception=False) is False


def test_gradcheck_keywords_of_torch():
    x = _x(3)
    assert gradcheck(lambda x: x * x, x, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=True,
                     check_batched_grad=False, check_forward_ad=False, check_backward_ad=True, masked=None)
    assert gradgradcheck(lambda x: x * x, x, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=True,
                         check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True)
    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(_NoisyBackward.apply, x)
    assert gradcheck(_NoisyBackward.apply, x, nondet_tol=1e-6)
    for unsupported in ("check_batched_grad", "check_forward_ad", "check_batched_forward_grad"):
        with pytest.raises(NotImplementedError, match=unsupported):
            gradcheck(lambda x: x * x, x, **{unsupported: True})
    with pytest.raises(NotImplementedError, match="check_fwd_over_rev"):
        gradgradcheck(lambda x: x * x, x, check_fwd_over_rev=True)
    with pytest.raises(AssertionError, match="check_backward_ad"):
        gradcheck(lambda x: x * x, x, check_backward_ad=False)


def test_an_output_that_does_not_require_grad_must_have_a_zero_numerical_derivative_as_torch():
    x = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    # detached but dependent on x: PyTorch fails ("Numerical gradient for function expected to be zero")
    assert gradcheck(lambda a: (a * 2).detach(), (x,), raise_exception=False) is False
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda a: (a * 2).detach(), (x,))
    assert gradcheck(lambda a: (a * 0).detach(), (x,))  # truly constant: passes
    assert gradcheck(lambda a: a.argmax(), (x,))  # integer outputs are not checked


def test_gradcheck_needs_an_input_that_requires_grad_as_torch():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64)
    for check in (gradcheck, gradgradcheck):
        with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
            check(lambda a: a * 2, (x,))
