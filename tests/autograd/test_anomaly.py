"""autograd/anomaly.py: detect_anomaly names the op whose forward or backward produced NaN/Inf."""

import numpy as np
import pytest

import tinygradnn as tg
from tinygradnn.autograd.grad_mode import _State


@pytest.fixture(autouse=True)
def _quiet_numpy():
    """NaN and Inf are the point here; NumPy's RuntimeWarnings (errors under pyproject) are not."""
    with np.errstate(all="ignore"):
        yield


def test_forward_nan_names_the_op_and_the_call_site():
    x = tg.tensor([-1.0, 2.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"Function 'Log' returned nan or inf values in its forward") as e:
            tg.log(x)
    assert "test_anomaly.py" in str(e.value)


def test_backward_inf_names_the_backward_op_and_where_the_forward_was_created():
    x = tg.tensor([0.0, 4.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        y = tg.sqrt(x)  # finite forward, infinite derivative at 0
        with pytest.raises(RuntimeError, match=r"Function 'SqrtBackward' returned nan or inf .* input 0") as e:
            y.sum().backward()
    assert "test_anomaly.py" in str(e.value)


def test_custom_function_is_named_in_the_report():
    class BadGrad(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return tg.tensor(np.full(g.shape, np.nan))

    x = tg.ones(2, requires_grad=True)
    with tg.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="Function 'BadGradBackward' returned nan"):
            BadGrad.apply(x).sum().backward()


def test_without_detect_anomaly_nan_flows_silently_and_the_mode_is_restored():
    x = tg.tensor([-1.0], requires_grad=True)
    y = tg.log(x)
    assert np.isnan(y.item())
    with tg.autograd.detect_anomaly():
        assert _State.anomaly
        with tg.autograd.detect_anomaly(check_nan=False):
            tg.log(x)  # switched off inside
    assert not _State.anomaly


def test_detect_anomaly_leaves_finite_computations_alone():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        (x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])), rtol=1e-6)


def test_set_detect_anomaly_switches_at_once_or_for_a_block():
    assert not tg.autograd.is_anomaly_enabled()
    with tg.autograd.set_detect_anomaly(True):
        assert tg.autograd.is_anomaly_enabled()
        with pytest.raises(RuntimeError):
            tg.log(tg.tensor([0.0]))
    assert not tg.autograd.is_anomaly_enabled()
    try:
        tg.autograd.set_detect_anomaly(True)
        assert tg.autograd.is_anomaly_enabled()
    finally:
        tg.autograd.set_detect_anomaly(False)
    assert not tg.autograd.is_anomaly_enabled() and not _State.anomaly
