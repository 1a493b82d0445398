"""Numerics at the edges: softmax, log_softmax, logsumexp, sigmoid, softplus and log1p stay finite and
accurate for inputs up to +-1e4, in float32 and float64 (exact formulas, and PyTorch when installed).

pyproject turns RuntimeWarnings raised inside tinygradnn into errors, so an overflow on the way
(``exp(1e4)`` even in a branch that is then discarded) fails these tests too.
"""

import numpy as np
import pytest
from helpers import requires_torch
from scipy import special

import tinygradnn as tg

BIG = np.array([-1e4, -1e3, -100.0, -30.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 30.0, 100.0, 1e3, 1e4])
LOG1P = np.array([-0.999, -0.5, -1e-8, 0.0, 1e-10, 1e-3, 1.0, 100.0, 1e4])
ROWS = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4], [-1e4, -1e4 + 1, -1e4], [3.0, 1.0, 2.0]])

DTYPES = [np.float32, np.float64]


def _exact(name, x):
    """Reference values computed stably in float64."""
    x = x.astype(np.float64)
    if name == "sigmoid":
        return special.expit(x)
    if name == "softplus":
        return np.logaddexp(0.0, x)
    if name == "log1p":
        return np.log1p(x)
    shifted = x - x.max(-1, keepdims=True)  # exact: the differences that matter are small
    total = np.exp(shifted).sum(-1, keepdims=True)
    if name == "logsumexp":
        return (x.max(-1, keepdims=True) + np.log(total))[..., 0]
    if name == "softmax":
        return np.exp(shifted) / total
    if name == "log_softmax":
        return shifted - np.log(total)
    raise ValueError(name)


def _exact_grad(name, x):
    """d(sum(f(x)))/dx in float64 (for the row ops, with upstream weights 1, 2, 3 per column)."""
    x = x.astype(np.float64)
    if name == "sigmoid":
        s = special.expit(x)
        return s * (1 - s)
    if name == "softplus":
        return special.expit(x)
    if name == "log1p":
        return 1 / (1 + x)
    s = _exact("softmax", x)
    if name == "logsumexp":
        return s
    w = np.array([1.0, 2.0, 3.0])
    if name == "softmax":
        return s * (w - (s * w).sum(-1, keepdims=True))
    if name == "log_softmax":
        return w - s * w.sum()
    raise ValueError(name)


def _run(name, x):
    t = tg.tensor(x, requires_grad=True)
    if name in ("softmax", "log_softmax"):
        y = getattr(tg, name)(t, -1)
        (y * tg.tensor(np.array([1.0, 2.0, 3.0], dtype=x.dtype))).sum().backward()
    elif name == "logsumexp":
        y = tg.logsumexp(t, -1)
        y.sum().backward()
    else:
        y = getattr(tg, name)(t)
        y.sum().backward()
    return y, t.grad


CASES = [("sigmoid", BIG), ("softplus", BIG), ("log1p", LOG1P), ("logsumexp", ROWS), ("softmax", ROWS),
         ("log_softmax", ROWS)]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name,inputs", CASES, ids=[c[0] for c in CASES])
def test_stable_and_accurate_at_large_inputs(name, inputs, dtype):
    x = inputs.astype(dtype)
    y, g = _run(name, x)
    assert y.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(y.detach().numpy())), f"{name} forward is not finite: {y}"
    assert np.all(np.isfinite(g.numpy())), f"{name} gradient is not finite: {g}"
    tol = {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}
    if name == "log1p":  # relative accuracy near 0 is the point of log1p
        tol["atol"] = 0.0
    np.testing.assert_allclose(y.detach().numpy(), _exact(name, x), **tol)
    grad_tol = dict(tol, atol=max(tol["atol"], 1e-30))
    if name == "logsumexp" and dtype == np.float32:
        # exp(x - logsumexp(x)) as in PyTorch: logsumexp near 1e4 is rounded to float32's spacing there
        # (~1e-3), which the exponent turns into a relative error of up to ~5e-4 (PyTorch's too).
        grad_tol["rtol"] = 1e-3
    np.testing.assert_allclose(g.numpy(), _exact_grad(name, x), **grad_tol)


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name,inputs", CASES, ids=[c[0] for c in CASES])
def test_large_inputs_match_torch(name, inputs, dtype):
    import torch

    x = inputs.astype(dtype)
    y, g = _run(name, x)
    t = torch.tensor(x, requires_grad=True)
    fn = {"sigmoid": torch.sigmoid, "softplus": torch.nn.functional.softplus, "log1p": torch.log1p,
          "logsumexp": lambda u: torch.logsumexp(u, -1), "softmax": lambda u: torch.softmax(u, -1),
          "log_softmax": lambda u: torch.log_softmax(u, -1)}[name]
    ty = fn(t)
    w = torch.tensor([1.0, 2.0, 3.0], dtype=t.dtype) if name in ("softmax", "log_softmax") else 1.0
    (ty * w).sum().backward()
    tol = {"rtol": 2e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **tol)
    np.testing.assert_allclose(g.numpy(), t.grad.numpy(), **tol)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_exact_values_at_the_extremes(dtype):
    x = tg.tensor(np.array([-1e4, 1e4], dtype=dtype))
    np.testing.assert_array_equal(tg.sigmoid(x).numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(tg.softplus(x).numpy(), [0.0, 1e4])
    np.testing.assert_array_equal(tg.log_softmax(x, 0).numpy(), [-2e4, 0.0])
    np.testing.assert_array_equal(tg.softmax(x, 0).numpy(), [0.0, 1.0])
    assert tg.logsumexp(x, 0).item() == 1e4
    same = tg.tensor(np.array([1e4, 1e4], dtype=dtype))
    np.testing.assert_allclose(tg.logsumexp(same, 0).item(), 1e4 + np.log(2), rtol=1e-7)


def test_logsumexp_of_all_minus_infinity_is_minus_infinity():
    x = tg.tensor(np.array([-np.inf, -np.inf]))
    assert tg.logsumexp(x, 0).item() == -np.inf


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_softplus_beta_and_threshold_follow_torch_semantics(dtype):
    """Above ``threshold`` (in units of beta * x) softplus is the identity, with gradient 1."""
    x = tg.tensor(np.array([-50.0, 0.0, 5.0, 11.0, 500.0], dtype=dtype), requires_grad=True)
    y = tg.softplus(x, beta=2.0, threshold=20.0)
    y.sum().backward()
    expected = np.where(2 * x.detach().numpy() > 20, x.detach().numpy(),
                        np.logaddexp(0, 2.0 * x.detach().numpy().astype(np.float64)) / 2)
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-6, atol=1e-40)  # denormals in float32
    np.testing.assert_allclose(x.grad.numpy(), [special.expit(-100.0), 0.5, special.expit(10.0), 1.0, 1.0],
                               rtol=1e-6, atol=1e-40)  # sigmoid(-100) is a float32 denormal


@pytest.mark.parametrize("op", ["softplus", "mish"])
def test_softplus_and_mish_of_nan_are_nan_without_a_warning(op):
    # (RuntimeWarnings from tinygradnn are errors in this suite; PyTorch gives nan silently)
    f = getattr(tg.nn.functional, op)
    x = tg.tensor([np.nan, 1.0], requires_grad=True)
    y = f(x)
    y.sum().backward()
    assert np.isnan(y.detach().numpy()[0]) and np.isnan(x.grad.numpy()[0]) and np.isfinite(x.grad.numpy()[1])
