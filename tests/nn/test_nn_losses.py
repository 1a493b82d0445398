"""Loss layers against PyTorch (values, gradients for input and float targets, every reduction and
option), and their error messages."""

import numpy as np
import pytest
from nn_oracle import assert_close, compare_with_torch

import tinygradnn as tg
from tinygradnn import nn
from tinygradnn.nn import functional as F

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)
REDUCTIONS = ["mean", "sum", "none"]


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def both(name, **kwargs):
    """The loss layer ``name`` in tinygradnn and in PyTorch, with array options turned into tensors."""
    ours = {k: tg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    theirs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return getattr(nn, name)(**ours), getattr(torch.nn, name)(**theirs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs", [("MSELoss", {}), ("L1Loss", {}), ("HuberLoss", {"delta": 0.5}),
                                         ("SmoothL1Loss", {"beta": 0.5}), ("SmoothL1Loss", {"beta": 0.0})])
def test_regression_losses(name, kwargs, reduction):
    ours, theirs = both(name, reduction=reduction, **kwargs)
    compare_with_torch(ours, theirs, randn(4, 3), randn(4, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight", [None, np.array([0.5, 1.0, 2.0], np.float32)])
def test_bce(reduction, weight):
    p = 1 / (1 + np.exp(-randn(4, 3)))
    t = rng.uniform(0, 1, (4, 3)).astype(np.float32)
    compare_with_torch(*both("BCELoss", reduction=reduction, weight=weight), p, t)


def test_bce_is_finite_at_0_and_1_like_pytorch():
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5], np.float32)
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0], np.float32)
    ours, _ = compare_with_torch(*both("BCELoss", reduction="none"), p, t, rtol=1e-5, atol=1e-4, constants=(1,))
    np.testing.assert_allclose(ours.detach().numpy(), [0, 0, 100, 100, np.log(2)], rtol=1e-5)
    # as PyTorch: the input gradient (p - y) / max(p (1 - p), 1e-12) is finite, the target gradient
    # log(1 - p) - log(p) is not clamped: +-inf at p = 0 and p = 1
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-50, 1 - 1e-8, 0.3])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.3, 0.2, 0.6])
    pt, tt = tg.tensor(p, requires_grad=True), tg.tensor(t, requires_grad=True)
    F.binary_cross_entropy(pt, tt, reduction="sum").backward()
    pr, tr = torch.tensor(p, requires_grad=True), torch.tensor(t, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(pr, tr, reduction="sum").backward()
    np.testing.assert_allclose(tt.grad.numpy(), tr.grad.numpy(), rtol=1e-12)
    assert tt.grad.numpy()[:4].tolist() == [np.inf, -np.inf, np.inf, -np.inf]
    np.testing.assert_allclose(pt.grad.numpy(), pr.grad.numpy(), rtol=1e-13)  # (torch: a float32 1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": np.array([1.0, 2.0, 0.5], np.float32)},
                                     {"pos_weight": np.array([3.0, 1.0, 0.2], np.float32)}])
def test_bce_with_logits(reduction, options):
    x = randn(4, 3) * 10  # large logits: the stable formula matters
    t = rng.uniform(0, 1, (4, 3)).astype(np.float32)
    compare_with_torch(*both("BCEWithLogitsLoss", reduction=reduction, **options), x, t, rtol=1e-5, atol=1e-5)


CE_OPTIONS = [{}, {"weight": np.array([1.0, 2.0, 0.5, 1.5, 3.0], np.float32)}, {"ignore_index": 2},
              {"label_smoothing": 0.1}, {"label_smoothing": 0.3, "ignore_index": 1},
              {"label_smoothing": 0.2, "weight": np.array([1.0, 2.0, 0.5, 1.5, 3.0], np.float32), "ignore_index": 0}]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", CE_OPTIONS)
@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 2, 2)], ids=["2d", "4d"])
def test_cross_entropy_with_labels(shape, options, reduction):
    labels = rng.integers(0, 5, (shape[0],) + shape[2:])
    compare_with_torch(*both("CrossEntropyLoss", reduction=reduction, **options), randn(*shape), labels)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.2},
                                     {"weight": np.array([1.0, 2.0, 0.5, 1.5], np.float32)}])
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3)], ids=["2d", "3d"])
def test_cross_entropy_with_probabilities(shape, options, reduction):
    probs = np.exp(randn(*shape))
    probs /= probs.sum(1, keepdims=True)
    compare_with_torch(*both("CrossEntropyLoss", reduction=reduction, **options), randn(*shape), probs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_unbatched(reduction):
    compare_with_torch(*both("CrossEntropyLoss", reduction=reduction), randn(5), np.array(3))
    probs = np.full(5, 0.2, np.float32)
    compare_with_torch(*both("CrossEntropyLoss", reduction=reduction), randn(5), probs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(8, 6), (4, 6, 3), (3, 6, 2, 5), (2, 6, 0), (0, 6, 3), (4, 6, 1), (3, 6, 1, 1),
                                   (0, 6, 1)])
def test_cross_entropy_fast_path_equals_general_path(shape, reduction):
    """(N, C, *) logits with plain labels take one fused node, with the composed path's numbers."""
    x = tg.tensor(randn(*shape), requires_grad=True)
    y = tg.tensor(rng.integers(0, 6, shape[:1] + shape[2:]))
    fast = F.cross_entropy(x, y, reduction=reduction)
    assert type(fast.grad_fn).__name__ == "CrossEntropyLabels"  # one fused node
    g = np.ones(fast.shape, np.float32) + rng.random(fast.shape, np.float32)
    fast.backward(tg.tensor(g))
    g_fast = x.grad.numpy().copy()
    x.grad = None
    general = F.cross_entropy(x, y, weight=tg.ones(6), reduction=reduction)
    assert type(general.grad_fn).__name__ != "CrossEntropyLabels"
    general.backward(tg.tensor(g))
    np.testing.assert_allclose(fast.detach().numpy(), general.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(g_fast, x.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_of_non_contiguous_logits_and_labels(reduction):
    """The fused node reads logits and labels in any memory layout (a channels-last batch, transposed labels)."""
    x = np.moveaxis(randn(2, 4, 5, 3), 3, 1)  # (N, C, H, W) in channels-last memory
    labels = rng.integers(0, 3, (2, 5, 4)).transpose(0, 2, 1)
    assert not x.flags.c_contiguous and not labels.flags.c_contiguous
    ours, theirs = tg.from_numpy(x).requires_grad_(), torch.from_numpy(x).requires_grad_()
    loss = F.cross_entropy(ours, tg.from_numpy(labels), reduction=reduction)
    tloss = torch.nn.functional.cross_entropy(theirs, torch.from_numpy(labels), reduction=reduction)
    assert type(loss.grad_fn).__name__ == "CrossEntropyLabels"
    np.testing.assert_allclose(loss.detach().numpy(), tloss.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = np.asarray(rng.random(tloss.shape, np.float32) + 0.5)
    loss.backward(tg.tensor(g))
    tloss.backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", [{}, {"weight": np.array([1.0, 2.0, 0.5, 4.0], np.float32)}, {"ignore_index": 3}])
def test_nll_loss(options, reduction):
    logp = np.log(np.exp(randn(6, 4)) / np.exp(randn(6, 4)).sum())  # any float input works for NLL
    compare_with_torch(*both("NLLLoss", reduction=reduction, **options), logp, rng.integers(0, 4, 6))
    compare_with_torch(*both("NLLLoss", reduction=reduction, **options), randn(2, 4, 3), rng.integers(0, 4, (2, 3)))


@pytest.mark.parametrize("options", [{}, {"weight": np.array([1.0, 2.0, 0.5, 4.0], np.float32)},
                                     {"label_smoothing": 0.2}])
@pytest.mark.parametrize("shape", [(3, 4), (2, 4, 3)])
def test_all_labels_ignored_gives_nan_with_a_zero_gradient_like_pytorch(options, shape):
    """A batch of nothing but padding: the mean is 0/0, but the logits get no gradient (not NaN)."""
    x, y = randn(*shape), np.full(shape[:1] + shape[2:], -100)
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss = F.cross_entropy(ours, tg.tensor(y), **options)
    toptions = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    tloss = torch.nn.functional.cross_entropy(theirs, torch.tensor(y), **toptions)
    assert np.isnan(loss.item()) and np.isnan(tloss.item())
    loss.backward()
    tloss.backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert not ours.grad.numpy().any()


@pytest.mark.parametrize("labels", [[0, 0, -100], [0, 0, 0]])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_counted_labels_of_weight_zero_give_nan_gradients_like_pytorch(labels, smoothing):
    """Total weight 0 without everything ignored: 0/0 as in PyTorch, NaN for counted rows, 0 for ignored ones."""
    x, w = randn(3, 3), np.array([0.0, 1.0, 1.0], np.float32)
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.cross_entropy(ours, tg.tensor(labels), weight=tg.tensor(w), label_smoothing=smoothing).backward()
    torch.nn.functional.cross_entropy(theirs, torch.tensor(labels), weight=torch.tensor(w),
                                      label_smoothing=smoothing).backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert np.isnan(ours.grad.numpy()[:2]).all()


def test_losses_accept_the_legacy_flags():
    x, t = randn(3, 2), randn(3, 2)
    for size_average, reduce in [(False, None), (None, False), (True, True)]:
        ours = nn.MSELoss(size_average, reduce)(tg.tensor(x), tg.tensor(t))
        with pytest.warns(UserWarning):
            theirs = torch.nn.MSELoss(size_average, reduce)(torch.tensor(x), torch.tensor(t))
        assert_close(ours, theirs)


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
                                  "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss"])
def test_legacy_elementwise_mean_warns_and_means_as_pytorch(loss):
    x = tg.rand(4, 3)
    t = tg.tensor([0, 2, 1, 1]) if loss in ("cross_entropy", "nll_loss") else tg.rand(4, 3)
    with pytest.warns(UserWarning, match="reduction='elementwise_mean' is deprecated. Please use reduction='mean'"):
        out = getattr(F, loss)(x, t, reduction="elementwise_mean")
    assert out.item() == getattr(F, loss)(x, t).item()
    with pytest.warns(UserWarning, match="elementwise_mean"):
        assert nn.MSELoss(reduction="elementwise_mean")(x, x).item() == 0.0


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("loss", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_bce_weight_must_not_enlarge_the_loss(loss):
    p, t = tg.rand(3, 4), tg.rand(3, 4)
    with pytest.raises(ValueError, match=rf"{loss}: weight of shape \(2, 3, 4\) does not broadcast to the "
                                         r"input's shape \(3, 4\)"):
        getattr(F, loss)(p, t, weight=tg.rand(2, 3, 4))
    assert getattr(F, loss)(p, t, weight=tg.rand(4), reduction="none").shape == (3, 4)  # broadcasting is fine
    if loss.endswith("logits"):
        with pytest.raises(ValueError, match=r"pos_weight of shape \(2, 4\) does not broadcast"):
            F.binary_cross_entropy_with_logits(p, t, pos_weight=tg.rand(2, 4))


def test_shape_and_dtype_errors():
    with pytest.raises(ValueError, match=r"mse_loss: target of shape \(4,\) does not match input of shape \(4, 1\)"):
        nn.MSELoss()(tg.ones(4, 1), tg.ones(4))
    with pytest.raises(TypeError, match="l1_loss: target has dtype int64"):
        nn.L1Loss()(tg.ones(3), tg.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="between 0 and 1.*BCEWithLogitsLoss"):
        nn.BCELoss()(tg.tensor([0.5, 2.0]), tg.tensor([0.0, 1.0]))


def test_classification_label_errors():
    x = tg.randn(4, 5)
    with pytest.raises(IndexError, match=r"target label 7 is out of range for 5 classes"):
        F.cross_entropy(x, tg.tensor([0, 1, 7, 2]))
    with pytest.raises(IndexError, match=r"target label -3 is out of range"):
        F.nll_loss(x, tg.tensor([0, 1, -3, 2]))
    with pytest.raises(ValueError, match=r"float target of shape \(4,\).*integers \(use target.long\(\)\)"):
        F.cross_entropy(x, tg.tensor([0.0, 1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"needs integer class labels of shape \(4,\), got a target of shape \(4, 5\)"):
        F.cross_entropy(x, tg.ones(4, 5).long())
    with pytest.raises(TypeError, match="nll_loss: target must hold int64 class labels"):
        F.nll_loss(x, tg.ones(4))
    with pytest.raises(ValueError, match=r"weight must hold one value per class, shape \(5,\)"):
        F.cross_entropy(x, tg.tensor([0, 1, 2, 3]), weight=tg.ones(4))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, tg.tensor([0, 1, 2, 3]), label_smoothing=1.5)
    assert F.cross_entropy(x, tg.tensor([0, -100, 2, 3])).item() > 0  # the default ignore_index is allowed


@pytest.mark.parametrize("dtype", [np.int64, np.uint8])
def test_cross_entropy_labels_of_int64_or_uint8(dtype):
    x = tg.randn(4, 5)
    expected = F.cross_entropy(x, tg.tensor([0, 4, 2, 3])).item()
    assert F.cross_entropy(x, tg.from_numpy(np.array([0, 4, 2, 3], dtype=dtype))).item() == pytest.approx(expected)
    picked = x.numpy()[[0, 1, 2, 3], [0, 4, 2, 3]]
    assert F.nll_loss(x, tg.from_numpy(np.array([0, 4, 2, 3], dtype=dtype))).item() == pytest.approx(-picked.mean())
    with pytest.raises(IndexError, match=r"target label 5 is out of range for 5 classes"):
        F.cross_entropy(x, tg.from_numpy(np.array([0, 5, 2, 3], dtype=dtype)))
    if np.dtype(dtype).kind == "i":  # negative labels (other than ignore_index) are errors, never wrapped
        with pytest.raises(IndexError, match=r"target label -1 is out of range"):
            F.cross_entropy(x, tg.from_numpy(np.array([0, -1, 2, 3], dtype=dtype)))


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_class_labels_of_other_int_dtypes_raise_as_pytorch(loss):
    x = tg.randn(4, 5)
    for dtype in (np.int8, np.int16, np.int32, np.uint16, np.uint64, np.bool_):  # torch 2.13: RuntimeError
        with pytest.raises(RuntimeError, match=rf"{loss}: expected target dtype to be int64 or uint8, but got "
                                               rf"{np.dtype(dtype)}"):
            getattr(F, loss)(x, tg.from_numpy(np.zeros(4, dtype)))
    with pytest.raises(RuntimeError, match="int64"):  # empty and unbatched too
        getattr(F, loss)(tg.randn(0, 5), tg.from_numpy(np.zeros(0, np.int32)))
    with pytest.raises(RuntimeError, match="int64"):
        getattr(F, loss)(tg.randn(5), tg.tensor(1, dtype=tg.int32))
    assert getattr(F, loss)(tg.randn(5), tg.from_numpy(np.array(1, np.uint8))).shape == ()
    with pytest.raises(RuntimeError, match=r"uint8 labels only for an \(N, C\) input"):  # as torch
        getattr(F, loss)(tg.randn(2, 5, 3), tg.from_numpy(np.zeros((2, 3), np.uint8)))


@pytest.mark.parametrize("loss,option", [("huber_loss", {"delta": 0.5}), ("smooth_l1_loss", {"beta": 0.5}),
                                         ("huber_loss", {}), ("smooth_l1_loss", {})])
def test_huber_and_smooth_l1_gradient_is_finite_for_an_infinite_difference(loss, option):
    # as PyTorch: the linear branch's gradient +-delta (+-1 for smooth L1), not NaN from the unused square
    x = np.array([np.inf, -np.inf, 1e300, 0.2, 3.0, np.nan])
    t = np.array([0.0, 1.0, -1e300, 0.0, 1.0, 0.0])  # (a NaN difference: NaN gradient, as PyTorch)
    xt, tt = tg.tensor(x, requires_grad=True), tg.tensor(t, requires_grad=True)
    getattr(F, loss)(xt, tt, reduction="sum", **option).backward()
    xr, tr = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    getattr(torch.nn.functional, loss)(xr, tr, reduction="sum", **option).backward()
    np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tt.grad.numpy(), tr.grad.numpy(), rtol=1e-12)
    assert np.isfinite(xt.grad.numpy()[:5]).all() and np.isnan(xt.grad.numpy()[5:]).all()


# ----------------------------------------------------------------------------- float16 accuracy
def _rel_error(a, exact):
    """Largest elementwise error relative to the exact value (floored at 1e-3 of the largest one), where
    that is within float16's range."""
    a, exact = np.asarray(a, np.float64), np.asarray(exact, np.float64)
    ok = np.abs(exact) <= 65504
    scale = np.maximum(np.abs(exact[ok]), np.abs(exact[ok]).max(initial=0) * 1e-3 + 6e-8)
    return float((np.abs(a[ok] - exact[ok]) / scale).max(initial=0))


def _half_losses(loss, arrays, **kwargs):
    """``loss`` run on float16 ``arrays`` in tinygradnn and in PyTorch, and in float64 (the exact answer):
    each gives (value, gradients) for an upstream gradient of float16 values in [0.5, 1.5]."""
    results = []
    for lib, dtype in ((tg, None), (torch, None), (torch, np.float64)):
        xs = [lib.tensor(a if dtype is None else a.astype(dtype), requires_grad=True) for a in arrays]
        opts = {k: lib.tensor(v if dtype is None or v.dtype.kind != "f" else v.astype(dtype))  # (labels stay)
                if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        out = getattr(F if lib is tg else torch.nn.functional, loss)(*xs, **opts)
        up = np.random.default_rng(1).uniform(0.5, 1.5, tuple(out.shape)).astype(np.float16)
        out.backward(lib.tensor(up if dtype is None else up.astype(dtype)))
        results.append((out.detach().numpy(), [x.grad.numpy() for x in xs], str(out.dtype)))
    return results


def _assert_half_as_accurate_as_torch(loss, arrays, skip=(), **kwargs):
    (ours, ours_g, ours_dtype), (theirs, theirs_g, theirs_dtype), (exact, exact_g, _) = \
        _half_losses(loss, arrays, **kwargs)
    assert ours_dtype.replace("tinygradnn.", "") == theirs_dtype.replace("torch.", "") == "float16"
    for what, a, b, e in [("value", ours, theirs, exact)] + [(f"grad{i}", *abe) for i, abe in
                                                             enumerate(zip(ours_g, theirs_g, exact_g))]:
        if what in skip:
            continue
        np.testing.assert_array_equal(np.isfinite(a), np.isfinite(b))  # (the same overflows to inf)
        mine, torch_err = _rel_error(a, e), _rel_error(b, e)
        assert mine <= max(1.5 * torch_err, 2e-3), f"{loss} {what}: error {mine:.3g}, torch's {torch_err:.3g}"


def _half(lo, hi, shape=(400, 200), seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float16)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p_range", [(0.01, 0.99), (1e-4, 0.01), (0.99, 0.9995)])
@pytest.mark.parametrize("weight", [False, True])
def test_bce_float16_is_as_accurate_as_pytorch(reduction, p_range, weight):
    # float16 in float32, rounded once: for 'mean' over 80000 elements, 1 / N times a small p - y is
    # far below float16's smallest normal number
    options = {"weight": _half(0, 2, (200,), 2)} if weight else {}
    _assert_half_as_accurate_as_torch("binary_cross_entropy", [_half(*p_range), _half(0, 1, seed=1)],
                                      reduction=reduction, **options)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("scale", [1e-6, 3, 30])
@pytest.mark.parametrize("options", ["", "weight", "pos_weight"])
def test_bce_with_logits_float16_is_as_accurate_as_pytorch(reduction, scale, options):
    kwargs = {name: _half(0.1, 2, (200,), 2 + i) for i, name in enumerate(["weight", "pos_weight"])
              if name == options}
    # (the target's gradient -x for logits x near float16's smallest numbers: PyTorch's -x is exact, ours
    # softplus(-x) - softplus(x) in float32 is not)
    _assert_half_as_accurate_as_torch("binary_cross_entropy_with_logits", [_half(-scale, scale), _half(0, 1, seed=1)],
                                      skip=("grad1",) if scale < 1e-3 else (), reduction=reduction, **kwargs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("scale", [1e-6, 3, 300])
@pytest.mark.parametrize("loss,options", [("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
                                          ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}),
                                          ("huber_loss", {"delta": 2.0}), ("l1_loss", {})])
def test_regression_losses_float16_are_as_accurate_as_pytorch(loss, options, reduction, scale):
    _assert_half_as_accurate_as_torch(loss, [_half(-scale, scale), _half(-scale, scale, seed=1)],
                                      reduction=reduction, **options)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape,scale", [((64, 10), 3), ((2000, 10), 3), ((256, 1000), 8), ((8, 5, 6), 3)])
@pytest.mark.parametrize("target", ["labels", "probabilities", "weight", "smoothing", "ignore_index"])
def test_cross_entropy_float16_is_as_accurate_as_pytorch(reduction, shape, scale, target):
    # float16 in float32, rounded once (PyTorch rounds its float16 log_softmax before nll_loss); the fused
    # path's float16 softmax - onehot lost up to twice PyTorch's error in the gradient
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(shape) * scale).astype(np.float16)
    labels = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    kwargs = {"target": labels}
    if target == "probabilities":
        kwargs["target"] = torch.softmax(torch.tensor(rng.standard_normal(shape)), 1).numpy().astype(np.float16)
    elif target == "weight":
        kwargs["weight"] = _half(0.5, 2, (shape[1],), 4)
    elif target == "smoothing":
        kwargs["label_smoothing"] = 0.1
    elif target == "ignore_index":
        kwargs["ignore_index"] = 1
    if target == "smoothing" and reduction != "none" and x.size > 1000:
        # PyTorch sums the smoothing term -log p over the batch in float16: beyond 65504 it is inf, ours is not
        (ours, _, _), (theirs, _, _), (exact, _, _) = _half_losses("cross_entropy", [x], reduction=reduction,
                                                                   **kwargs)
        assert np.isinf(theirs) and _rel_error(ours, exact) < 1e-3
        return
    _assert_half_as_accurate_as_torch("cross_entropy", [x], reduction=reduction, **kwargs)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (5,)])
def test_kl_div(reduction, log_target, shape):
    x = torch.log_softmax(torch.tensor(randn(*shape)), -1).numpy()
    t = torch.softmax(torch.tensor(randn(*shape)), -1).numpy()
    t[..., 0] = 0  # 0 log 0 = 0
    t = np.log(t + 1e-30) if log_target else t
    kwargs = dict(reduction=reduction, log_target=log_target)
    compare_with_torch(nn.KLDivLoss(**kwargs), torch.nn.KLDivLoss(**kwargs), x, t, rtol=1e-5, atol=1e-6,
                       constants=(1,))
    assert repr(nn.KLDivLoss(**kwargs)) == repr(torch.nn.KLDivLoss(**kwargs))


@pytest.mark.filterwarnings("ignore:size_average and reduce args will be deprecated")  # (PyTorch warns)
@pytest.mark.parametrize("legacy", [dict(size_average=False), dict(reduce=False), dict(size_average=True)])
def test_kl_div_batchmean_with_legacy_flags_divides_by_the_batch_as_pytorch(legacy):
    # PyTorch reduces as the legacy flags say, then still divides by input.size(0) for 'batchmean'
    x, t = randn(3, 4), np.abs(randn(3, 4))
    ours = F.kl_div(tg.tensor(x), tg.tensor(t), reduction="batchmean", **legacy)
    theirs = torch.nn.functional.kl_div(torch.tensor(x), torch.tensor(t), reduction="batchmean", **legacy)
    assert_close(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_kl_div_target_gradient_warning_and_errors():
    x, t = randn(3, 4), np.abs(randn(3, 4))
    compare_with_torch(nn.KLDivLoss(reduction="sum"), torch.nn.KLDivLoss(reduction="sum"), x, t + 0.1, rtol=1e-5)
    t[0, 0], t[1, 1] = 0, -0.5  # 0 log 0 = 0; a negative target gives nan, as PyTorch
    compare_with_torch(nn.KLDivLoss(reduction="none"), torch.nn.KLDivLoss(reduction="none"), x, t, rtol=1e-5,
                       constants=(1,))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F.kl_div(tg.tensor(x), tg.tensor(t))
    assert nn.KLDivLoss(size_average=False).reduction == "sum"
    with pytest.raises(ValueError, match="reduction"):
        F.kl_div(tg.tensor(x), tg.tensor(t), reduction="batch")
    with pytest.raises(ValueError, match=r"target of shape \(2, 4\) does not broadcast with input of shape \(3, 4\)"):
        F.kl_div(tg.tensor(x), tg.ones(2, 4), reduction="sum")
    with pytest.raises(TypeError, match="floating target"):
        F.kl_div(tg.tensor(x), tg.ones(3, 4, dtype=tg.int64), reduction="sum")
