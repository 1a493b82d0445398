"""Numbers at the edges: stable functions stay finite and accurate for inputs up to +-1e4 in float32 and
float64; BCE clamps its logs like PyTorch; detect_anomaly names the first op that makes NaN/Inf and the
user's line; one promotion rule across ops and layers; float64 works end to end."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special

import tinygradnn as tg
import tinygradnn.nn as nn
import tinygradnn.nn.functional as F

try:
    import torch
except ImportError:  # the oracle comparisons skip themselves, visibly
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install torch==2.13.0)")

EXTREMES = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DTYPES = [np.float32, np.float64]
# Relative accuracy expected of a float32 / float64 result against the float64 (or exact) reference.
RTOL = {np.float32: 2e-5, np.float64: 1e-11}


def extreme_values(dtype):
    """Arrays (rows, classes) mixing ordinary values with +-1e4 and the edges of exp's range."""
    edges = [1e4, -1e4, 0.0, 88.0, -88.0, 104.0, -104.0, 709.0, -745.0, 1e-30, -1e-30]
    elements = st.one_of(st.sampled_from(edges), st.floats(-1e4, 1e4, width=32))
    shape = st.tuples(st.integers(1, 4), st.integers(1, 5))
    return hnp.arrays(dtype, shape, elements=elements)


def assert_close(actual, expected, dtype, atol_scale=1.0):
    """``actual`` finite and within the dtype's relative accuracy of ``expected`` (absolute near zero)."""
    actual = np.asarray(actual)
    assert np.all(np.isfinite(actual)), f"non-finite values: {actual}"
    atol = atol_scale * np.finfo(dtype).eps * 8
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype], atol=atol)


def _log_softmax_ref(x):
    return special.log_softmax(x.astype(np.float64), axis=1)


# ----------------------------------------------------------------------------- stable functions
@pytest.mark.parametrize("dtype", DTYPES)
@EXTREMES
@given(data=st.data())
def test_softmax_family_is_finite_and_accurate_at_extremes(dtype, data):
    v = data.draw(extreme_values(dtype))
    x = tg.tensor(v, requires_grad=True)
    ref = _log_softmax_ref(v)
    scale = 1 + np.abs(v).max()  # log_softmax is a difference of numbers as large as the input
    assert_close(F.log_softmax(x, 1).detach().numpy(), ref, dtype, atol_scale=scale)
    assert_close(F.softmax(x, 1).detach().numpy(), np.exp(ref), dtype)
    assert_close(tg.logsumexp(x, 1).detach().numpy(), special.logsumexp(v.astype(np.float64), axis=1), dtype,
                 atol_scale=scale)
    F.log_softmax(x, 1).sum().backward()  # d/dx sum(log_softmax) = 1 - C softmax
    assert x.grad.dtype == dtype
    assert_close(x.grad.numpy(), 1 - v.shape[1] * np.exp(ref), dtype, atol_scale=v.shape[1])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("path", ["fused", "weighted", "smoothed", "ignore_index", "module"])
@EXTREMES
@given(data=st.data())
def test_cross_entropy_is_finite_and_accurate_at_extremes(dtype, path, data):
    """Every code path of cross_entropy: the fused node, and the composed ones (weights, smoothing, ...)."""
    v = data.draw(extreme_values(dtype))
    n, c = v.shape
    labels = np.asarray(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    x = tg.tensor(v, requires_grad=True)
    y = tg.tensor(labels)
    logp = _log_softmax_ref(v)
    picked = -logp[np.arange(n), labels]
    if path == "fused":
        loss, expected = F.cross_entropy(x, y), picked.mean()
    elif path == "weighted":
        w = np.linspace(0.5, 2.0, c).astype(dtype)
        loss = F.cross_entropy(x, y, weight=tg.tensor(w))
        expected = (picked * w[labels]).sum() / w[labels].sum()
    elif path == "smoothed":
        loss = F.cross_entropy(x, y, label_smoothing=0.1)
        expected = (0.9 * picked - 0.1 / c * logp.sum(1)).mean()
    elif path == "ignore_index":
        loss, expected = F.cross_entropy(x, y, ignore_index=c), picked.mean()  # nothing ignored, other path
    else:
        loss, expected = nn.CrossEntropyLoss(reduction="sum")(x, y), picked.sum()
    assert loss.dtype == dtype
    assert_close(loss.item(), expected, dtype, atol_scale=1 + np.abs(v).max())
    loss.backward()
    assert x.grad.dtype == dtype and np.all(np.isfinite(x.grad.numpy()))
    if path == "fused":
        onehot = np.eye(c)[labels]
        assert_close(x.grad.numpy(), (np.exp(logp) - onehot) / n, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@EXTREMES
@given(data=st.data())
def test_sigmoid_softplus_log1p_and_bce_with_logits_at_extremes(dtype, data):
    v = data.draw(extreme_values(dtype))
    t = data.draw(hnp.arrays(dtype, v.shape, elements=st.sampled_from([0.0, 1.0, 0.25])))
    v64 = v.astype(np.float64)
    x = tg.tensor(v, requires_grad=True)
    assert_close(tg.sigmoid(x).detach().numpy(), special.expit(v64), dtype)
    # softplus is x itself above threshold=20, as in PyTorch (off by exp(-x) < 2.1e-9 there)
    softplus = np.where(v64 > 20, v64, np.logaddexp(0, v64))
    assert_close(F.softplus(x).detach().numpy(), softplus, dtype, atol_scale=1 + np.abs(v).max())
    pos = np.abs(v)  # log1p is defined for x > -1
    assert_close(tg.log1p(tg.tensor(pos)).numpy(), np.log1p(pos.astype(np.float64)), dtype)
    loss = F.binary_cross_entropy_with_logits(x, tg.tensor(t), reduction="none")
    expected = (1 - t) * np.logaddexp(0, v64) + t * np.logaddexp(0, -v64)  # (no cancellation in the reference)
    assert_close(loss.detach().numpy(), expected, dtype, atol_scale=1 + np.abs(v).max())
    loss.sum().backward()
    assert_close(x.grad.numpy(), special.expit(v64) - t, dtype)
    module_loss = nn.BCEWithLogitsLoss(pos_weight=tg.tensor(np.full(v.shape[1], 2.0, dtype)))(x, tg.tensor(t))
    assert np.isfinite(module_loss.item()) and module_loss.dtype == dtype


def test_bce_with_logits_keeps_full_float64_accuracy_for_confident_predictions():
    """Above softplus's threshold (20) the loss of a right, confident prediction is exp(-x), not 0."""
    x = np.array([21.0, 30.0, 35.0, -25.0, 700.0])
    t = np.array([1.0, 1.0, 1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy_with_logits(tg.tensor(x), tg.tensor(t), reduction="none").numpy()
    np.testing.assert_allclose(loss, np.log1p(np.exp(-np.abs(x))), rtol=1e-12)
    weighted = F.binary_cross_entropy_with_logits(tg.tensor(x), tg.tensor(t), reduction="none",
                                                  pos_weight=tg.tensor([3.0] * 5)).numpy()
    np.testing.assert_allclose(weighted, np.where(t == 1, 3.0, 1.0) * np.log1p(np.exp(-np.abs(x))), rtol=1e-12)


@requires_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_clamps_its_logs_like_pytorch(dtype):
    """p = 0 or 1 with the wrong target gives the finite loss 100 (log clamped at -100), as torch."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-45, 1 - 1e-7], dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0], dtype)
    ours = tg.tensor(p, requires_grad=True)
    theirs = torch.tensor(p, requires_grad=True)
    loss = F.binary_cross_entropy(ours, tg.tensor(y), reduction="none")
    expected = torch.nn.functional.binary_cross_entropy(theirs, torch.tensor(y), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    assert loss.detach().numpy()[0] == 100.0
    loss.sum().backward()
    expected.sum().backward()
    assert np.all(np.isfinite(ours.grad.numpy()))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)
    mean = nn.BCELoss()(tg.tensor(p), tg.tensor(y)).item()
    np.testing.assert_allclose(mean, torch.nn.BCELoss()(torch.tensor(p), torch.tensor(y)).item(), rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_large_logits_against_torch(dtype):
    v = np.array([[1e4, -1e4, 0.0, 5.0], [-1e4, -1e4, -1e4, -1e4], [1e4, 1e4, 1e4, -3e3]], dtype)
    labels = np.array([1, 0, 3])
    for reduction in ("mean", "none"):
        x, xt = tg.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        ours = F.cross_entropy(x, tg.tensor(labels), reduction=reduction)
        theirs = torch.nn.functional.cross_entropy(xt, torch.tensor(labels), reduction=reduction)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
        ours.sum().backward()
        theirs.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-7)


# ----------------------------------------------------------------------------- detect_anomaly
@pytest.fixture
def quiet_numpy():
    """NaN and Inf are the point of these tests; NumPy's RuntimeWarnings (errors under pyproject) are not."""
    with np.errstate(all="ignore"):
        yield


def test_anomaly_in_forward_names_the_op_and_the_users_line(quiet_numpy):
    x = tg.tensor([-1.0, 2.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        y = x * 2.0
        with pytest.raises(RuntimeError) as info:
            y.log()  # ANOMALY-FORWARD
    message = str(info.value)
    assert "Function 'Log' returned nan or inf values in its forward output (shape (2,))" in message
    assert "test_numerics.py" in message and "ANOMALY-FORWARD" in message
    assert "tinygradnn/ops" not in message  # only the user's frames


@pytest.mark.parametrize("shape", [(2,), ()])
def test_anomaly_in_backward_names_the_op_and_where_it_was_created(quiet_numpy, shape):
    """sqrt is finite at 0 but its derivative is not: the backward of the first bad node is reported."""
    x = tg.tensor(np.zeros(shape, np.float32), requires_grad=True)
    with tg.autograd.detect_anomaly():
        y = (x * 2.0).sqrt()  # ANOMALY-BACKWARD
        loss = (y * 3.0).sum()
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    message = str(info.value)
    assert "Function 'SqrtBackward' returned nan or inf values in its gradient for input 0" in message
    assert "ANOMALY-BACKWARD" in message


def test_anomaly_through_a_layer_names_the_layer_op(quiet_numpy):
    lin = nn.Linear(2, 1)
    with tg.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"(?s)Function 'Linear' returned nan or inf.*ANOMALY-LAYER"):
            lin(tg.tensor([[float("inf"), 1.0]]))  # ANOMALY-LAYER


def test_without_anomaly_mode_nan_flows_and_with_it_finite_runs_are_unchanged(quiet_numpy):
    x = tg.tensor([-1.0], requires_grad=True)
    assert np.isnan(x.log().item())
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    data = tg.randn(5, 3)
    with tg.autograd.detect_anomaly():
        loss = F.cross_entropy(model(data), tg.tensor([0, 1, 0, 1, 1]))
        loss.backward()
    assert np.isfinite(loss.item())


# ----------------------------------------------------------------------------- the promotion rule
F32, F64, I64, BOOL = np.float32, np.float64, np.int64, np.bool_


def _f32(*shape):
    return tg.randn(*shape)


def _f64(*shape):
    return tg.randn(*shape).double()


def _i64(*shape):
    return tg.ones(*shape, dtype=tg.int64)


PROMOTION = [
    ("f32 * Python float", lambda: _f32(3) * 2.5, F32),
    ("f32 * Python int", lambda: _f32(3) * 2, F32),
    ("f32 * NumPy float64 scalar", lambda: _f32(3) * np.float64(2.5), F32),
    ("f32 / np.sqrt(2.0)", lambda: _f32(3) / np.sqrt(2.0), F32),
    ("f32 + NumPy int scalar", lambda: _f32(3) + np.int64(1), F32),
    ("f32 + f64 tensor", lambda: _f32(3) + _f64(3), F64),
    ("f64 * f32 tensor", lambda: _f64(3) * _f32(3), F64),
    ("f32 + f64 array", lambda: _f32(3) + np.ones(3), F64),
    ("f32 + int64 tensor", lambda: _f32(3) + _i64(3), F32),
    ("int64 tensor * f32", lambda: _i64(3) * _f32(3), F32),
    ("f32 * bool mask", lambda: _f32(3) * (_f32(3) > 0), F32),
    ("f64 - int64 tensor", lambda: _f64(3) - _i64(3), F64),
    ("int64 + Python float", lambda: _i64(3) + 0.5, F32),
    ("int64 + NumPy float64 scalar", lambda: _i64(3) + np.float64(0.5), F32),
    ("int64 + Python int", lambda: _i64(3) + 1, I64),
    ("int64 / int64", lambda: _i64(3) / _i64(3), F32),
    ("int64 / Python int", lambda: _i64(3) / 2, F32),
    ("bool + bool", lambda: (_f32(3) > 0) + (_f32(3) > 0), BOOL),
    ("int64 ** 2", lambda: _i64(3) ** 2, I64),
    ("int64 ** 0.5", lambda: _i64(3) ** 0.5, F32),
    ("maximum(f32, int64)", lambda: tg.maximum(_f32(3), _i64(3)), F32),
    ("where(c, f32, f64)", lambda: tg.where(_f32(3) > 0, _f32(3), _f64(3)), F64),
    ("where(c, f32, Python float)", lambda: tg.where(_f32(3) > 0, _f32(3), 0.0), F32),
    ("matmul f32 @ int64", lambda: _f32(2, 3) @ _i64(3, 2), F32),
    ("matmul f32 @ f64", lambda: _f32(2, 3) @ _f64(3, 2), F64),
    ("cat f32 with int64", lambda: tg.cat([_f32(2), _i64(2)]), F32),
    ("stack f32 with f64", lambda: tg.stack([_f32(2), _f64(2)]), F64),
    ("exp of int64", lambda: _i64(3).exp(), F32),
    ("sigmoid of bool", lambda: (_f32(3) > 0).sigmoid(), F32),
    ("softmax of int64", lambda: _i64(3).softmax(0), F32),
    ("logsumexp of int64", lambda: _i64(3).logsumexp(0), F32),
    ("sum of bool", lambda: (_f32(3) > 0).sum(), I64),
    ("relu of int64", lambda: _i64(3).relu(), I64),
    ("clamp(int64, 0.5)", lambda: _i64(3).clamp(0.5), F32),
    ("mse_loss f32 vs f64 target", lambda: F.mse_loss(_f32(3), _f64(3)), F64),
    ("cross_entropy f64 logits", lambda: F.cross_entropy(_f64(2, 3), tg.tensor([0, 2])), F64),
    ("Sigmoid layer on int64", lambda: nn.Sigmoid()(_i64(3)), F32),
    ("Dropout keeps f64", lambda: nn.Dropout(0.5)(_f64(4)), F64),
    ("Linear float64 model, float64 input", lambda: nn.Linear(3, 2).double()(_f64(4, 3)), F64),
]


@pytest.mark.parametrize("expr, dtype", [p[1:] for p in PROMOTION], ids=[p[0] for p in PROMOTION])
def test_one_promotion_rule_across_ops_and_layers(expr, dtype):
    assert expr().dtype == dtype


def test_the_default_dtype_is_what_integers_become():
    tg.set_default_dtype(tg.float64)
    assert (_i64(3) / _i64(3)).dtype == F64
    assert _i64(3).exp().dtype == F64
    assert (_i64(3) + 0.5).dtype == F64


@pytest.mark.parametrize("layer, x", [
    (lambda: nn.Linear(3, 2), lambda: _f64(4, 3)),
    (lambda: nn.Conv2d(1, 2, 3), lambda: _f64(1, 1, 5, 5)),
    (lambda: nn.Linear(3, 2), lambda: _i64(4, 3)),
])
def test_layers_with_parameters_do_not_silently_convert_their_input(layer, x):
    """A float32 layer given float64 or int64 input raises (as PyTorch) instead of computing in another dtype."""
    with pytest.raises(TypeError, match=r"(?s)dtype.*(float64|int64).*float32.*\.float\(\)"):
        layer()(x())


def test_gradients_of_mixed_dtype_expressions_have_their_inputs_dtypes():
    a = tg.randn(3, requires_grad=True)
    b = tg.randn(3, dtype=tg.float64, requires_grad=True)
    (a * b + a * np.float64(2.0) + tg.arange(3) * a).sum().backward()
    assert a.grad.dtype == F32 and b.grad.dtype == F64


# ----------------------------------------------------------------------------- float64 end to end
def test_a_float64_model_trains_end_to_end():
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Dropout(0.2), nn.Linear(3 * 3 * 3, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    opt = tg.optim.Adam(model.parameters(), lr=0.02)
    x = tg.randn(12, 1, 6, 6, dtype=tg.float64)
    y = tg.tensor(np.arange(12) % 3)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out, y)
        assert out.dtype == F64 and loss.dtype == F64
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    for p in model.parameters():
        assert p.dtype == F64 and p.grad.dtype == F64
    for state in opt.state.values():
        for value in state.values():
            if isinstance(value, tg.Tensor) and value.is_floating_point():
                assert value.dtype == F64
    for buf in model.buffers():
        if buf.is_floating_point():
            assert buf.dtype == F64
    for opt_class in (tg.optim.SGD, tg.optim.RMSprop, tg.optim.Adagrad, tg.optim.AdamW):
        w = tg.randn(3, dtype=tg.float64, requires_grad=True)
        o = opt_class([w], lr=0.1, **({"momentum": 0.9} if opt_class is tg.optim.SGD else {}))
        for _ in range(2):
            o.zero_grad()
            (w * w).sum().backward()
            o.step()
        assert w.dtype == F64
        assert all(v.dtype == F64 for s in o.state.values() for v in s.values()
                   if isinstance(v, tg.Tensor) and v.is_floating_point())
