"""Each layer against PyTorch on the same weights and inputs (forward, input and parameter gradients,
buffers), plus the layers' own error messages."""

import functools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from nn_oracle import compare_with_torch

import tinygradnn as tg
from tinygradnn import nn
from tinygradnn.nn import functional as F

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------- Linear, Identity, Flatten
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias):
    compare_with_torch(nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias), randn(*shape))


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")  # (torch's, for in_features 0)
@pytest.mark.parametrize("shape,in_features", [((5, 3, 4), 4), ((2, 0, 4), 4), ((2, 3, 0), 0), ((1, 2, 3, 4), 4),
                                                 ((3, 0), 0)])
def test_linear_of_leading_dims_and_empty_shapes(shape, in_features):
    """x @ W.T + b over 3 or more dims is one 2-D product of the rows; zero-size dims included (a zero in_features
    raised in backward)."""
    compare_with_torch(nn.Linear(in_features, 3), torch.nn.Linear(in_features, 3), randn(*shape))


def test_linear_errors():
    with pytest.raises(ValueError, match=r"Linear: expected input with last dim 4 \(in_features\), got shape \(2, 3\)"):
        nn.Linear(4, 2)(tg.ones(2, 3))
    with pytest.raises(TypeError, match="dtype float64 does not match weight dtype float32"):
        nn.Linear(3, 2)(tg.ones(2, 3).double())
    with pytest.raises(ValueError, match="bias of shape"):
        nn.functional.linear(tg.ones(2, 3), tg.ones(2, 3), tg.ones(3))


@pytest.mark.parametrize("name", ["weight", "bias"])
def test_linear_with_a_parameter_set_to_none_or_an_array_raises_pytorchs_type_error(name):
    import numpy as np

    x = tg.ones(2, 3)
    args = (tg.ones(2, 3), np.ones(2)) if name == "bias" else (np.ones((2, 3)),)
    with pytest.raises(TypeError, match=f"linear: {name} must be a Tensor, got ndarray"):
        nn.functional.linear(x, *args)
    layer, model = nn.Linear(3, 2), nn.Sequential(nn.Linear(3, 2), nn.Tanh())
    for m in (layer, model[0]):
        setattr(m, name, None)  # (a registered parameter may be set to None, as in PyTorch)
    if name == "bias":  # PyTorch: a Linear without a bias
        assert layer(x).shape == (2, 2) and model(x).shape == (2, 2)
        return
    for m in (layer, model):
        with pytest.raises(TypeError, match="linear: weight must be a Tensor, got NoneType"):
            m(x)


def test_identity_flatten_unflatten():
    x = randn(2, 3, 4, 5)
    compare_with_torch(nn.Identity(7, key="ignored"), torch.nn.Identity(), x)
    compare_with_torch(nn.Flatten(), torch.nn.Flatten(), x)
    compare_with_torch(nn.Flatten(0, 2), torch.nn.Flatten(0, 2), x)
    compare_with_torch(nn.Unflatten(1, (2, 6)), torch.nn.Unflatten(1, (2, 6)), randn(3, 12))
    compare_with_torch(nn.Unflatten(-1, (2, -1)), torch.nn.Unflatten(-1, (2, -1)), randn(3, 12))
    with pytest.raises(ValueError, match=r"Unflatten: cannot split dim 1 of an input of shape \(3, 12\) into \(5, 2\)"):
        nn.Unflatten(1, (5, 2))(tg.ones(3, 12))


# ----------------------------------------------------------------------------- convolution and pooling
@pytest.mark.parametrize("kwargs", [
    {}, {"stride": 2, "padding": 1}, {"dilation": 2, "padding": 2}, {"groups": 2, "bias": False},
    {"padding": "same"}, {"padding": "valid", "kernel_size": 2},
])
def test_conv2d(kwargs):
    kwargs = {"kernel_size": 3, **kwargs}
    compare_with_torch(nn.Conv2d(4, 6, **kwargs), torch.nn.Conv2d(4, 6, **kwargs), randn(2, 4, 7, 6),
                       rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs", [{}, {"stride": 2, "padding": 2}, {"dilation": 2}, {"groups": 3},
                                    {"padding": "same"}])
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")  # (PyTorch's own)
def test_conv1d(kwargs):
    compare_with_torch(nn.Conv1d(3, 6, 4, **kwargs), torch.nn.Conv1d(3, 6, 4, **kwargs), randn(2, 3, 11),
                       rtol=1e-4, atol=1e-5)


def test_conv_unbatched_and_errors():
    compare_with_torch(nn.Conv2d(2, 3, 3), torch.nn.Conv2d(2, 3, 3), randn(2, 5, 5), rtol=1e-4, atol=1e-5)
    compare_with_torch(nn.Conv1d(2, 3, 3), torch.nn.Conv1d(2, 3, 3), randn(2, 5), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"Conv2d: expected input with 3 channels \(in_channels\) at dim 1, got shape"):
        nn.Conv2d(3, 4, 3)(tg.ones(1, 2, 5, 5))
    with pytest.raises(ValueError, match="Conv1d: expected a 3-d input"):
        nn.Conv1d(3, 4, 3)(tg.ones(5))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("kwargs", [dict(padding=1), dict(padding=(2, 1), stride=2), dict(padding="same", dilation=2),
                                    dict(padding="valid"), dict(padding=(0, 2), groups=3)])
def test_conv_padding_modes(mode, kwargs):
    """padding_mode pads with F.pad(mode) and then convolves without padding, as PyTorch; repr and state_dict too."""
    ours = nn.Conv2d(3, 6, 3, padding_mode=mode, **kwargs)
    theirs = torch.nn.Conv2d(3, 6, 3, padding_mode=mode, **kwargs)
    compare_with_torch(ours, theirs, randn(2, 3, 7, 6), rtol=1e-4, atol=1e-5)
    compare_with_torch(ours, theirs, randn(3, 7, 6), rtol=1e-4, atol=1e-5)  # unbatched
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    p = kwargs["padding"]
    k1 = dict(kwargs, padding=p if isinstance(p, int | str) else p[-1])
    ours1, theirs1 = nn.Conv1d(3, 3, 4, padding_mode=mode, **k1), torch.nn.Conv1d(3, 3, 4, padding_mode=mode, **k1)
    compare_with_torch(ours1, theirs1, randn(2, 3, 9), rtol=1e-4, atol=1e-5)
    assert repr(ours1) == repr(theirs1)


@pytest.mark.parametrize("make", [
    lambda m: m.MaxPool2d(2), lambda m: m.MaxPool2d(3, stride=2, padding=1), lambda m: m.AvgPool2d(2),
    lambda m: m.AvgPool2d(3, stride=1, padding=1), lambda m: m.AvgPool2d(3, padding=1, count_include_pad=False),
    lambda m: m.MaxPool2d(2, ceil_mode=True),
])
def test_pool2d(make):
    compare_with_torch(make(nn), make(torch.nn), randn(2, 3, 7, 6))


@pytest.mark.parametrize("make", [lambda m: m.MaxPool1d(2), lambda m: m.MaxPool1d(3, 2, 1), lambda m: m.AvgPool1d(2),
                                  lambda m: m.AvgPool1d(3, 1, 1)])
def test_pool1d(make):
    compare_with_torch(make(nn), make(torch.nn), randn(2, 3, 9))
    compare_with_torch(make(nn), make(torch.nn), randn(3, 9))  # unbatched


@pytest.mark.parametrize("name,size,shape", [
    ("AdaptiveMaxPool2d", 3, (2, 3, 7, 5)), ("AdaptiveMaxPool2d", (2, None), (2, 3, 5, 4)),
    ("AdaptiveMaxPool2d", (4, 3), (3, 5, 6)), ("AdaptiveMaxPool2d", 1, (2, 2, 3, 3)),
    ("AdaptiveMaxPool2d", (5, 7), (1, 2, 3, 4)),  # (outputs larger than the input: repeated maxima)
    ("AdaptiveMaxPool1d", 3, (2, 3, 5)), ("AdaptiveMaxPool1d", 4, (3, 9)), ("AdaptiveMaxPool1d", 6, (2, 2, 4)),
    ("AdaptiveMaxPool1d", (1,), (2, 2, 4)),
    ("AdaptiveAvgPool1d", 3, (2, 3, 5)), ("AdaptiveAvgPool1d", 1, (3, 9)), ("AdaptiveAvgPool1d", 6, (2, 2, 4)),
])
def test_adaptive_pools_match_torch(name, size, shape):
    """Overlapping bins (sizes that do not divide) send each maximum's gradient once per bin it wins."""
    ours, theirs = getattr(nn, name)(size), getattr(torch.nn, name)(size)
    assert repr(ours) == repr(theirs)
    x = randn(*shape)
    x.flat[::3] = x.flat[0]  # ties: the first maximum wins, as PyTorch
    compare_with_torch(ours, theirs, x)
    compare_with_torch(ours, theirs, x.astype(np.float64))
    if "Max" in name:
        fn = getattr(F, name.replace("AdaptiveMaxPool", "adaptive_max_pool"))
        tfn = getattr(torch.nn.functional, name.replace("AdaptiveMaxPool", "adaptive_max_pool"))
        out, idx = fn(tg.tensor(x), size, return_indices=True)
        tout, tidx = tfn(torch.tensor(x), size, return_indices=True)
        assert idx.dtype == np.int64
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        layer = getattr(nn, name)(size, return_indices=True)
        assert repr(layer) == repr(getattr(torch.nn, name)(size, return_indices=True))
        np.testing.assert_array_equal(layer(tg.tensor(x))[1].numpy(), tidx.numpy())


def test_adaptive_max_pool_nan_and_errors():
    x = np.array([[[1.0, np.nan, 3.0, np.nan, 2.0, 0.0]]], np.float32)  # NaN wins; its last one, as PyTorch
    for size in (1, 2, 4):
        out, idx = F.adaptive_max_pool1d(tg.tensor(x), size, return_indices=True)
        tout, tidx = torch.nn.functional.adaptive_max_pool1d(torch.tensor(x), size, return_indices=True)
        np.testing.assert_array_equal(out.numpy(), tout.numpy())
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    assert F.adaptive_max_pool2d(tg.ones(2, 3, 4, 4), 0).shape == (2, 3, 0, 0)
    assert F.adaptive_max_pool2d(tg.ones(0, 3, 4, 4), 2).shape == (0, 3, 2, 2)
    assert F.adaptive_avg_pool1d(tg.ones(2, 3, 4), 0).shape == (2, 3, 0)
    bad = [(F.adaptive_max_pool2d, tg.ones(2, 3, 0, 3), 2, ValueError, "non-zero"),
           (F.adaptive_max_pool1d, tg.ones(2, 3, 0), 2, ValueError, "non-zero"),
           (F.adaptive_avg_pool1d, tg.ones(2, 3, 0), 2, ValueError, "non-zero"),
           (F.adaptive_max_pool2d, tg.ones(3, 4), 2, ValueError, "expected a 4-D input"),
           (F.adaptive_max_pool1d, tg.ones(3), 2, ValueError, "expected a 3-D input"),
           (F.adaptive_max_pool2d, tg.ones(2, 3, 4, 4).long(), 2, TypeError, "floating point"),
           (F.adaptive_max_pool1d, tg.ones(2, 3, 4), (2, 2), TypeError, "one int"),
           (F.adaptive_avg_pool1d, tg.ones(2, 3, 4), None, TypeError, "one int"),
           (F.adaptive_max_pool2d, tg.ones(2, 3, 4, 4), (2, 2, 2), TypeError, "2 ints"),
           (F.adaptive_max_pool1d, tg.ones(2, 3, 4), -1, RuntimeError, "non-negative"),  # (PyTorch's types)
           (F.adaptive_avg_pool1d, tg.ones(2, 3, 4), -1, RuntimeError, "non-negative"),
           (F.adaptive_max_pool2d, tg.ones(2, 3, 4, 4), (None, -1), RuntimeError, "non-negative"),
           (F.adaptive_avg_pool2d, tg.ones(2, 3, 4, 4), (2, -1), RuntimeError, "non-negative"),
           (F.adaptive_max_pool2d, tg.ones(2, 3, 4, 4), None, TypeError, "2 ints"),
           (F.adaptive_avg_pool2d, tg.ones(2, 3, 4, 4), None, TypeError, "2 ints")]
    for fn, x, size, error, message in bad:
        with pytest.raises(error, match=message):
            fn(x, size)
        if message == "non-negative" or size is None:
            with pytest.raises(error):
                getattr(torch.nn.functional, fn.__name__)(torch.tensor(x.numpy()), size)


@pytest.mark.parametrize("name,size,shape", [("adaptive_avg_pool1d", 3, (2, 3, 7)), ("adaptive_avg_pool1d", 4, (3, 4)),
                                               ("adaptive_avg_pool2d", (2, 3), (2, 2, 5, 4)),
                                               ("adaptive_avg_pool2d", (1, 2), (1, 4, 4)),
                                               ("adaptive_avg_pool2d", (5, 7), (1, 2, 3, 4))])
def test_adaptive_avg_pool_keeps_inf_and_nan_in_their_bins(name, size, shape):
    """A bin's mean reads only its own cells: an inf or NaN elsewhere leaves it finite, as in PyTorch."""
    x = randn(*shape).astype(np.float64)
    x.flat[1], x.flat[-2], x.flat[len(x.flat) // 2] = np.inf, -np.inf, np.nan
    for dtype in (np.float32, np.float64, np.float16):
        ours, theirs = tg.tensor(x.astype(dtype), requires_grad=True), torch.tensor(x.astype(dtype), requires_grad=True)
        y, ty = getattr(F, name)(ours, size), getattr(torch.nn.functional, name)(theirs, size)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-3)  # (equal NaN and inf)
        v = randn(*ty.shape).astype(dtype)
        y.backward(tg.tensor(v))
        ty.backward(torch.tensor(v))
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-3, atol=1e-3)


# ----------------------------------------------------------------------------- upsampling
@pytest.mark.parametrize("shape,kwargs", [
    ((2, 3, 4, 5), dict(scale_factor=2)), ((2, 3, 4, 5), dict(size=(7, 3))), ((2, 3, 5), dict(size=12)),
    ((1, 2, 3, 4), dict(scale_factor=(1.5, 0.7))), ((1, 2, 3, 3), dict(scale_factor=1.3)),
    ((1, 2, 5), dict(scale_factor=2.6)), ((1, 2, 3, 4), dict(scale_factor=1.7, recompute_scale_factor=True)),
    ((1, 2, 2, 3, 4), dict(size=(3, 5, 2))),
    ((1, 2, 3, 4), dict(size=(5, 7), mode="nearest-exact")), ((1, 2, 7), dict(scale_factor=0.6, mode="nearest-exact")),
    ((2, 3, 4, 5), dict(scale_factor=2, mode="bilinear")), ((2, 3, 4, 5), dict(size=(7, 3), mode="bilinear")),
    ((2, 3, 4, 5), dict(size=(7, 3), mode="bilinear", align_corners=True)),
    ((1, 2, 3, 4), dict(scale_factor=(1.5, 0.7), mode="bilinear")),
    ((1, 2, 3, 4), dict(size=(1, 6), mode="bilinear", align_corners=True)),
    ((2, 3, 6), dict(size=4, mode="linear")), ((2, 3, 5), dict(scale_factor=2.5, mode="linear", align_corners=True)),
    ((1, 2, 2, 3, 4), dict(size=(3, 5, 2), mode="trilinear")),
    # a kept or doubled size with another scale: PyTorch's kernels take shortcuts in some modes and ranks only
    ((1, 2, 4), dict(scale_factor=1.1)), ((1, 2, 4), dict(scale_factor=2.06)), ((1, 2, 3, 2), dict(scale_factor=1.3)),
    ((1, 2, 2, 3), dict(scale_factor=(2.1, 1.1))), ((1, 2, 3, 3), dict(scale_factor=1.3, mode="nearest-exact")),
    ((1, 2, 2, 3, 4), dict(scale_factor=1.1)), ((1, 2, 4), dict(scale_factor=1.1, mode="linear")),
    ((1, 2, 2, 3), dict(scale_factor=(1.1, 1.5), mode="bilinear")),
    ((1, 1, 2, 3, 4), dict(scale_factor=1.2, mode="trilinear", align_corners=True)),
])
def test_upsample_matches_torch(shape, kwargs):
    ours, theirs = nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs)
    assert repr(ours) == repr(theirs)
    # PyTorch 2.13's 1-D/3-D 'nearest' backward copies or halves indices for a kept or doubled size although its
    # forward does not: its gradient is then not the forward's (gradcheck fails); ours is
    size = ours(tg.ones(*shape)).shape[2:]
    torch_wrong = (kwargs.get("mode", "nearest") == "nearest" and len(shape) in (3, 5) and "scale_factor" in kwargs
                   and any(o in (n, 2 * n) for o, n in zip(size, shape[2:])))
    compare_with_torch(ours, theirs, randn(*shape), rtol=1e-5, atol=1e-5, backward=not torch_wrong)
    compare_with_torch(ours, theirs, randn(*shape).astype(np.float64), backward=not torch_wrong)
    if torch_wrong:
        x = np.random.default_rng(1).standard_normal(shape)
        assert not torch.autograd.gradcheck(theirs, (torch.tensor(x, requires_grad=True),), raise_exception=False)
        assert tg.autograd.gradcheck(ours, (tg.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("name,kwargs", [("UpsamplingNearest2d", dict(scale_factor=2)),
                                         ("UpsamplingNearest2d", dict(size=(5, 3))),
                                         ("UpsamplingBilinear2d", dict(scale_factor=1.5)),
                                         ("UpsamplingBilinear2d", dict(size=7))])
def test_fixed_mode_upsampling_layers_match_torch(name, kwargs):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs) and isinstance(ours, nn.Upsample)
    compare_with_torch(ours, theirs, randn(2, 3, 4, 5), rtol=1e-5, atol=1e-5)


def _both_ways(fn, tfn, x, transpose):
    """``fn`` and ``tfn`` on ``x`` (its first two dims swapped, a non-contiguous view, when ``transpose``):
    (ours, theirs, our input, their input) or the pair of exception types."""
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    results = []
    for f, t in ((fn, ours), (tfn, theirs)):
        try:
            results.append(f(t.transpose(0, 1) if transpose else t))
        except Exception as error:  # (compared by type below)
            results.append(type(error))
    return (*results, ours, theirs)


def _compare_random_case(rng, fn, tfn, x, transpose, backward=True):
    y, ty, ours, theirs = _both_ways(fn, tfn, x, transpose)
    if isinstance(ty, type) or isinstance(y, type):
        assert y == ty, f"{y} != torch's {ty}"
        return
    y, ty = (y, ty) if isinstance(ty, torch.Tensor) else (y[0], ty[0])
    assert y.dtype == x.dtype and y.shape == tuple(ty.shape)
    tol = 1e-2 if x.dtype == np.float16 else 1e-5
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=tol, atol=tol)
    if backward and y.numel() and not np.isnan(x).any():
        v = rng.standard_normal(y.shape).astype(x.dtype)
        y.backward(tg.tensor(v))
        ty.backward(torch.tensor(v))
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=10 * tol, atol=10 * tol)


def test_interpolate_random_against_torch():
    """Seeded random cases: every mode, rank, dtype, size or scale (recomputed or not), align_corners,
    non-contiguous and empty-batch inputs; values, gradients, dtypes, shapes and error types."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        mode = ["nearest", "nearest-exact", "linear", "bilinear", "trilinear"][rng.integers(5)]
        nd = {"linear": 1, "bilinear": 2, "trilinear": 3}.get(mode, int(rng.integers(1, 4)))
        shape = (int(rng.integers(0, 3)), int(rng.integers(1, 3))) + tuple(int(n) for n in rng.integers(1, 6, nd))
        kwargs = {}
        if rng.random() < 0.5:
            sizes = tuple(int(n) for n in rng.integers(1, 9, nd))
            kwargs["size"] = sizes if rng.random() < 0.5 else sizes[0]
        else:
            scales = tuple(float(np.round(rng.uniform(0.3, 3.5), 2)) for _ in range(nd))
            kwargs["scale_factor"] = scales if rng.random() < 0.5 else float(rng.choice([0.5, 1.0, 2.0, 2.3, 1.1]))
            if rng.random() < 0.4:
                kwargs["recompute_scale_factor"] = bool(rng.integers(2))
        if mode in ("linear", "bilinear", "trilinear") and rng.random() < 0.6:
            kwargs["align_corners"] = bool(rng.integers(2))
        x = rng.standard_normal(shape).astype([np.float32, np.float64, np.float16][rng.integers(3)])
        out = [math.floor(n * s) for n, s in zip(shape[2:], np.broadcast_to(kwargs.get("scale_factor", 0), nd))]
        # (PyTorch's 1-D/3-D 'nearest' backward for a kept or doubled size is not its forward's: docs/pytorch.md)
        torch_wrong = mode == "nearest" and nd != 2 and any(o in (n, 2 * n) for o, n in zip(out, shape[2:]))
        _compare_random_case(rng, functools.partial(F.interpolate, mode=mode, **kwargs),
                             functools.partial(torch.nn.functional.interpolate, mode=mode, **kwargs), x,
                             transpose=shape[0] > 0 and rng.random() < 0.3, backward=not torch_wrong)


@pytest.mark.parametrize("mode, shape", [("linear", (2, 3, 5)), ("bilinear", (2, 3, 4, 5)),
                                         ("trilinear", (1, 2, 3, 4, 3))])
@pytest.mark.parametrize("kwargs", [dict(scale_factor=2), dict(size=2), dict(scale_factor=1.7, align_corners=True)])
def test_interpolate_linear_keeps_inf_and_nan_local_as_torch(mode, shape, kwargs):
    """An inf or NaN in the input (or in the output gradient) reaches only the outputs (input gradients) that mix
    it, with the values and gradients of PyTorch."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal(shape).astype(np.float32)
    x.flat[3], x.flat[-4] = np.inf, np.nan
    y, ty, ours, theirs = _both_ways(lambda t: F.interpolate(t, mode=mode, **kwargs),
                                     lambda t: torch.nn.functional.interpolate(t, mode=mode, **kwargs), x, False)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-6)
    v = rng.standard_normal(y.shape).astype(np.float32)
    v.flat[1], v.flat[-2] = -np.inf, np.nan
    y.backward(tg.tensor(v))
    ty.backward(torch.tensor(v))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_adaptive_pools_random_against_torch():
    """Seeded random cases with ties, NaN and +-inf, batched or not, non-contiguous, every dtype; values, indices,
    gradients (each maximum's once per bin it wins)."""
    rng = np.random.default_rng(8)
    for _ in range(300):
        name = ["adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_avg_pool1d",
                "adaptive_avg_pool2d"][rng.integers(4)]
        nd = int(name[-2])
        shape = tuple(int(n) for n in rng.integers(1, 4, 2 - int(rng.random() < 0.3))) + tuple(
            int(n) for n in rng.integers(1, 9, nd))
        size = int(rng.integers(1, 10)) if nd == 1 or rng.random() < 0.3 else tuple(
            int(n) if rng.random() > 0.15 else None for n in rng.integers(1, 10, 2))
        x = rng.standard_normal(shape).astype([np.float32, np.float64, np.float16][rng.integers(3)])
        if rng.random() < 0.3:
            x = np.round(x)  # ties
        for value in (np.nan, np.inf, -np.inf):
            if rng.random() < 0.1:
                x.flat[rng.integers(x.size)] = value
        kwargs = {"return_indices": True} if "max" in name else {}
        transpose = rng.random() < 0.3
        _compare_random_case(rng, functools.partial(getattr(F, name), output_size=size, **kwargs),
                             functools.partial(getattr(torch.nn.functional, name), output_size=size, **kwargs), x,
                             transpose)
        if kwargs:
            out, idx = getattr(F, name)(tg.tensor(x).transpose(0, 1) if transpose else tg.tensor(x), size, True)
            tout, tidx = getattr(torch.nn.functional, name)(torch.tensor(x).transpose(0, 1) if transpose
                                                             else torch.tensor(x), size, True)
            assert idx.dtype == np.int64
            np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def test_interpolate_errors():
    x = tg.ones(1, 2, 3, 4)
    bad = [(dict(), ValueError, "either size or scale_factor"),
           (dict(size=3, scale_factor=2), ValueError, "only one of size or scale_factor"),
           (dict(size=(2, 2, 2)), ValueError, "same number of spatial dimensions"),
           (dict(scale_factor=(2, 2, 2)), ValueError, "same number of spatial dimensions"),
           (dict(size=3, align_corners=True), ValueError, "align_corners option can only be set"),
           (dict(size=3, mode="foo"), NotImplementedError, "foo"),
           (dict(size=3, mode="linear"), NotImplementedError, "Got 4D input, but linear mode needs 3D input"),
           (dict(size=0), RuntimeError, "sizes should be greater than 0"),
           (dict(scale_factor=0.1), RuntimeError, "sizes should be greater than 0"),
           (dict(size=(2.5, 3)), TypeError, "expected size"),
           (dict(size=3, recompute_scale_factor=True), ValueError, "recompute_scale_factor is not meaningful")]
    for kwargs, error, message in bad:
        with pytest.raises(error, match=message):
            F.interpolate(x, **kwargs)
        with pytest.raises(error):
            torch.nn.functional.interpolate(torch.ones(1, 2, 3, 4), **kwargs)
    with pytest.raises(NotImplementedError, match="Only 3D, 4D and 5D"):
        F.interpolate(tg.ones(2, 3), size=4)
    with pytest.raises(NotImplementedError, match="Long"):
        F.interpolate(tg.ones(1, 2, 3).long(), size=4)
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(x, size=3, mode="bicubic")
    assert F.interpolate(tg.ones(0, 2, 3, 4), size=5).shape == (0, 2, 5, 5)


@pytest.mark.parametrize("shape,kwargs", [
    ((1, 2, 3), dict(scale_factor=float("nan"))), ((1, 2, 3, 3), dict(scale_factor=(2.0, float("inf")))),
    ((1, 2, 3, 3), dict(scale_factor=float("inf"), recompute_scale_factor=True)),  # (Python's error, in both)
    ((1, 2, 3, 3), dict(size=4, antialias=True)), ((1, 2, 3), dict(size=4, mode="linear", antialias=True)),
    ((2, 3), dict(size=4, antialias=True)),
    ((1, 0, 3, 3), dict(size=4)), ((0, 0, 3), dict(size=4, mode="linear")), ((2, 0, 2, 2, 2), dict(scale_factor=2)),
])
def test_interpolate_argument_errors_match_torch(shape, kwargs):
    with pytest.raises(Exception) as theirs:
        torch.nn.functional.interpolate(torch.ones(shape), **kwargs)
    with pytest.raises(theirs.type):
        F.interpolate(tg.ones(*shape), **kwargs)


@pytest.mark.parametrize("shape,kwargs", [((1, 2, 300), dict(size=701, mode="linear")),
                                          ((1, 2, 397), dict(size=879, mode="linear", align_corners=True)),
                                          ((1, 1, 90, 300), dict(scale_factor=(1.3, 0.7), mode="bilinear")),
                                          ((1, 1, 4, 5, 260), dict(size=(3, 7, 333), mode="trilinear"))])
def test_interpolate_linear_float16_computes_in_float32(shape, kwargs):
    """As PyTorch, float16 source positions and blends are computed in float32 and rounded once (float16 positions
    beyond 256 are 0.25 apart or more)."""
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float16)
    ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = F.interpolate(ours, **kwargs), torch.nn.functional.interpolate(theirs, **kwargs)
    assert y.dtype == np.float16
    np.testing.assert_allclose(y.detach().numpy().astype(np.float64), ty.detach().numpy(), rtol=2e-3, atol=2e-3)
    v = np.random.default_rng(1).standard_normal(y.shape).astype(np.float16)
    y.backward(tg.tensor(v))
    ty.backward(torch.tensor(v))
    np.testing.assert_allclose(ours.grad.numpy().astype(np.float64), theirs.grad.numpy(), rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("shape,kwargs", [((1, 2, 5), dict(size=7)), ((2, 1, 3, 4), dict(scale_factor=1.7)),
                                          ((1, 2, 2, 3, 2), dict(size=(3, 1, 4)))])
def test_interpolate_nearest_takes_uint8(mode, shape, kwargs):
    """As PyTorch, the nearest modes pick uint8 values (the linear ones refuse them, as integer inputs)."""
    x = np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)
    y = F.interpolate(tg.tensor(x), mode=mode, **kwargs)
    expected = torch.nn.functional.interpolate(torch.tensor(x), mode=mode, **kwargs)
    assert y.dtype == np.uint8
    np.testing.assert_array_equal(y.numpy(), expected.numpy())


# ----------------------------------------------------------------------------- dropout
def test_dropout_train_and_eval():
    drop = nn.Dropout(0.3)
    x = tg.ones(200, 50, requires_grad=True)
    y = drop(x)
    kept = y.detach().numpy() != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.7, rtol=1e-6)
    drop.eval()
    assert drop(x) is x
    assert not nn.Dropout(1.0)(x).detach().numpy().any()
    assert nn.Dropout(0.0)(x) is x
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


@pytest.mark.parametrize("name,shape,channels", [("Dropout1d", (40, 30, 5), 2), ("Dropout1d", (300, 4), 1),
                                                   ("Dropout2d", (40, 30, 3, 2), 2), ("Dropout2d", (40, 30, 4), 2),
                                                   ("Dropout2d", (40, 30), 2), ("Dropout2d", (40, 30, 2, 2, 2), 2)])
@pytest.mark.filterwarnings("ignore:dropout2d:UserWarning")  # (PyTorch's, also raised here: checked below)
def test_channel_dropout_zeroes_whole_channels(name, shape, channels):
    """Each of the first ``channels`` dims' entries is kept (scaled) or zeroed as a whole; gradient = the mask."""
    ours, theirs = getattr(nn, name)(0.3), getattr(torch.nn, name)(0.3)
    assert repr(ours) == repr(theirs) == f"{name}(p=0.3, inplace=False)"
    x, tx = tg.ones(*shape, requires_grad=True), torch.ones(*shape)
    with warnings.catch_warnings(record=True) as w_ours:
        warnings.simplefilter("always")
        y = ours(x)
    with warnings.catch_warnings(record=True) as w_theirs:
        warnings.simplefilter("always")
        theirs(tx)
    assert [str(w.message) for w in w_ours] == [str(w.message) for w in w_theirs]
    assert y.shape == x.shape and y.dtype == x.dtype
    out = y.detach().numpy()
    per_channel = out.reshape(shape[:channels] + (-1,))
    assert (per_channel == per_channel[..., :1]).all()  # one decision per channel
    np.testing.assert_allclose(np.unique(out), [0, 1 / 0.7], rtol=1e-6)
    assert 0.6 < (per_channel[..., 0] != 0).mean() < 0.8
    y.backward(tg.ones(*shape) * 2)
    np.testing.assert_allclose(x.grad.numpy(), out * 2, rtol=1e-6)
    ours.eval()
    assert ours(x) is x
    assert getattr(nn, name)(0.0)(x) is x
    assert not getattr(nn, name)(1.0)(x).detach().numpy().any()


def test_channel_dropout_inplace_and_errors():
    x = tg.ones(50, 4, 3)
    assert F.dropout1d(x, 0.5, True, True) is x and set(np.unique(x.numpy())) == {0.0, 2.0}
    z = tg.ones(20, 4, 3, 3)
    assert nn.Dropout2d(0.5, inplace=True)(z) is z and set(np.unique(z.numpy())) == {0.0, 2.0}
    a = tg.ones(30, 5, 2, 2, requires_grad=True)
    b = a * 1
    assert F.dropout2d(b, 0.5, True, True) is b
    b.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), b.detach().numpy())
    for shape in [(3,), (2, 3, 4, 5), ()]:
        with pytest.raises(RuntimeError, match=f"dropout1d: Expected 2D or 3D input, but received a {len(shape)}D"):
            F.dropout1d(tg.ones(*shape))
        with pytest.raises(RuntimeError):
            torch.nn.functional.dropout1d(torch.ones(shape))
    for shape in [(3,), ()]:
        with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="at least 2 dimensions"):
            F.dropout2d(tg.ones(*shape))
        with pytest.warns(UserWarning), pytest.raises(RuntimeError):
            torch.nn.functional.dropout2d(torch.ones(shape))
    for make in (nn.Dropout1d, nn.Dropout2d, F.dropout1d, F.dropout2d):
        with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
            make(tg.ones(2, 3), 1.5) if make in (F.dropout1d, F.dropout2d) else make(1.5)
    with pytest.raises(TypeError, match="floating point"):
        F.dropout2d(tg.ones(2, 3, 4, 4).long())


@pytest.mark.filterwarnings("ignore:dropout2d:UserWarning")
@pytest.mark.parametrize("shape", [(5,), (), (0, 3, 4), (2, 0, 3, 3)])
def test_channel_dropout_checks_the_rank_only_when_it_draws(shape):
    """As PyTorch: no draw (eval mode, p = 0, an empty input) returns the input and p = 1 zeroes it, at any rank,
    also in place on a leaf that requires grad; only a real draw needs the (N, C) dims."""
    for fn, tfn in ((F.dropout2d, torch.nn.functional.dropout2d), (F.dropout1d, torch.nn.functional.dropout1d)):
        for p, training, inplace in [(0.5, False, False), (0.0, True, False), (1.0, True, False), (0.5, False, True),
                                     (0.5, True, True), (0.5, True, False), (1.0, False, True)]:
            x, tx = tg.ones(*shape, requires_grad=True), torch.ones(shape, requires_grad=True)
            try:
                expected = tfn(tx, p, training, inplace)
            except RuntimeError:
                with pytest.raises(RuntimeError):
                    fn(x, p, training, inplace)
                continue
            y = fn(x, p, training, inplace)
            assert y.shape == tuple(expected.shape) and (y is x) == (expected is tx)
            np.testing.assert_array_equal(y.detach().numpy(), expected.detach().numpy())


def test_dropout_is_seeded_by_the_global_generator():
    tg.manual_seed(3)
    a = nn.Dropout()(tg.ones(100)).numpy().copy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(a, nn.Dropout()(tg.ones(100)).numpy())


# ----------------------------------------------------------------------------- batch norm
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False},
                                    {"momentum": 0.5, "eps": 1e-3}, {"bias": False}])
@pytest.mark.parametrize("layer,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)),
                                         ("BatchNorm2d", (4, 3, 5, 2))])
def test_batchnorm_train_then_eval(layer, shape, kwargs):
    bn, tbn = getattr(nn, layer)(3, **kwargs), getattr(torch.nn, layer)(3, **kwargs)
    if bn.affine:  # non-trivial affine parameters
        with torch.no_grad():
            tbn.weight.uniform_(0.5, 1.5)
            if tbn.bias is not None:
                tbn.bias.uniform_(-1, 1)
    for step in range(3):  # running statistics must follow PyTorch's over several steps
        compare_with_torch(bn, tbn, randn(*shape) * 2 + 1, rtol=1e-4, atol=1e-5, seed=step)
    bn.eval()
    tbn.eval()
    compare_with_torch(bn, tbn, randn(*shape), rtol=1e-4, atol=1e-5)


def test_batchnorm_float16_is_computed_in_float32():
    """As PyTorch: float16 statistics and normalisation in float32, rounded once."""
    x = (np.random.default_rng(0).standard_normal((8, 3, 4, 4)) * 3 + 1).astype(np.float16)
    g = np.random.default_rng(1).standard_normal(x.shape).astype(np.float16)
    bn, tbn = nn.BatchNorm2d(3).half(), torch.nn.BatchNorm2d(3).half()
    xs, txs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    bn(xs).backward(tg.tensor(g))
    tbn(txs).backward(torch.tensor(g))
    for ours, theirs in ((bn(xs), tbn(txs)), (xs.grad, txs.grad), (bn.weight.grad, tbn.weight.grad),
                         (bn.bias.grad, tbn.bias.grad), (bn.running_mean, tbn.running_mean),
                         (bn.running_var, tbn.running_var)):
        assert ours.dtype == tg.float16
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_eval_with_frozen_parameters(affine):
    """Inference (no_grad, or parameters that need no gradient) as PyTorch's ``x * scale + shift``."""
    bn, tbn = nn.BatchNorm2d(3, affine=affine), torch.nn.BatchNorm2d(3, affine=affine)
    stats = (np.array([0.5, -1.0, 2.0], np.float32), np.array([0.25, 2.0, 1.0], np.float32))
    bn.running_mean.data, bn.running_var.data = (tg.tensor(s) for s in stats)
    tbn.running_mean.copy_(torch.tensor(stats[0]))
    tbn.running_var.copy_(torch.tensor(stats[1]))
    if affine:
        with torch.no_grad():
            tbn.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
            tbn.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
        bn.weight.data, bn.bias.data = tg.tensor([1.5, -0.5, 2.0]), tg.tensor([0.1, 0.2, -0.3])
        for p in (*bn.parameters(), *tbn.parameters()):
            p.requires_grad_(False)
    bn.eval()
    tbn.eval()
    x = randn(4, 3, 5, 2) * 2 + 1
    with tg.no_grad():
        ours = bn(tg.tensor(x)).numpy()
    np.testing.assert_allclose(ours, tbn(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6)
    xs, txs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = bn(xs), tbn(txs)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-6)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), txs.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_normalization_saves_its_weight():
    """Changing the weight in place between forward and backward is an error, as in PyTorch."""
    for layer in (nn.LayerNorm(3), nn.GroupNorm(1, 2), nn.BatchNorm1d(2)):
        y = layer(tg.randn(4, 2, 3)) if not isinstance(layer, nn.LayerNorm) else layer(tg.randn(4, 3))
        with tg.no_grad():
            layer.weight.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            y.sum().backward()


def test_batchnorm_buffers_and_errors():
    bn = nn.BatchNorm1d(3)
    assert [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var", "num_batches_tracked"]
    bn(tg.randn(4, 3))
    assert int(bn.num_batches_tracked.item()) == 1
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected input with 3 channels \(num_features\) at dim 1, "
                                         r"got shape \(4, 5\)"):
        bn(tg.ones(4, 5))
    with pytest.raises(ValueError, match="BatchNorm2d: expected a 4-d input"):
        nn.BatchNorm2d(3)(tg.ones(4, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(tg.ones(1, 3))
    bn.eval()
    assert bn(tg.ones(1, 3)).shape == (1, 3)  # eval mode works with a single sample
    for mode in (bn.train, bn.eval):  # never a silent float64 result from a float32 layer (PyTorch raises)
        mode()
        with pytest.raises(TypeError, match="batch_norm: input dtype float64 does not match running_mean dtype "
                                            "float32"):
            bn(tg.ones(4, 3, dtype=tg.float64))
    with pytest.raises(ValueError, match="both running_mean and running_var"):
        nn.functional.batch_norm(tg.randn(4, 3), tg.zeros(3), None, training=True)


def test_batchnorm_loads_a_checkpoint_without_its_batch_counter():
    """Older PyTorch checkpoints have no num_batches_tracked: PyTorch loads them and keeps its own count."""
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    model(tg.randn(4, 3))
    old = {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    old["1.running_mean"] = tg.tensor([1.0, 2.0, 3.0])
    fresh = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    assert fresh.load_state_dict(old).missing_keys == []
    np.testing.assert_array_equal(fresh[1].running_mean.numpy(), [1.0, 2.0, 3.0])
    assert fresh[1].num_batches_tracked.item() == 0
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3))
    assert tmodel.load_state_dict({k: torch.tensor(v.numpy()) for k, v in old.items()}).missing_keys == []
    del old["1.running_var"]  # any other missing entry is still missing
    with pytest.raises(RuntimeError, match='Missing key.*"1.running_var"'):
        fresh.load_state_dict(old)


# ----------------------------------------------------------------------------- embedding
def test_embedding_against_torch():
    ids = rng.integers(0, 10, (4, 5))
    compare_with_torch(nn.Embedding(10, 3), torch.nn.Embedding(10, 3), ids)
    ids[0, :3] = 0  # repeated ids accumulate; padding rows get no gradient
    compare_with_torch(nn.Embedding(10, 3, padding_idx=0), torch.nn.Embedding(10, 3, padding_idx=0), ids)
    compare_with_torch(nn.Embedding(10, 3, padding_idx=-1), torch.nn.Embedding(10, 3, padding_idx=-1), ids)


def test_embedding_init_and_errors():
    emb = nn.Embedding(1000, 20, padding_idx=3)
    w = emb.weight.detach().numpy()
    assert not w[3].any()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02
    with pytest.raises(IndexError, match=r"embedding: index 10 is out of range for an embedding table of 10 rows"):
        nn.Embedding(10, 2)(tg.tensor([1, 10]))
    with pytest.raises(TypeError, match="integer indices"):
        nn.Embedding(10, 2)(tg.tensor([1.0]))
    with pytest.raises(ValueError, match="padding_idx 5 is out of range for an embedding table of 3 rows"):
        F.embedding(tg.tensor([0, 1]), tg.randn(3, 2, requires_grad=True), padding_idx=5)
    with pytest.raises(ValueError, match=r"weight must be 2-D \(num_embeddings, embedding_dim\), got shape \(3,\)"):
        F.embedding(tg.tensor([0, 1]), tg.randn(3))
    pre = nn.Embedding.from_pretrained(tg.eye(3))
    assert not pre.weight.requires_grad
    np.testing.assert_array_equal(pre(tg.tensor([2])).numpy(), [[0, 0, 1]])


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "uint32"])
def test_embedding_takes_only_int32_and_int64_indices_like_torch(dtype):
    """Before, any integer dtype was accepted (PyTorch refuses all but Long and Int)."""
    with pytest.raises(TypeError, match=f"int64 or int32.*{dtype}"):
        nn.Embedding(10, 2)(tg.tensor(np.array([1, 2], dtype=dtype)))
    assert nn.Embedding(10, 2)(tg.tensor(np.array([1, 2], dtype="int32"))).shape == (2, 2)


# ----------------------------------------------------------------------------- LayerNorm
@settings(max_examples=15, deadline=None)
@given(lead=hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3),
       norm=hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4), affine=st.booleans(),
       bias=st.booleans(), eps=st.sampled_from([1e-5, 1e-2]))
def test_layernorm_matches_torch(lead, norm, affine, bias, eps):
    if int(np.prod(norm)) < 3:  # (1 or 2 values per sample: a zero gradient, up to float32 rounding)
        norm = (*norm, 3)
    kwargs = dict(eps=eps, elementwise_affine=affine, bias=bias)
    ln, tln = nn.LayerNorm(norm, **kwargs), torch.nn.LayerNorm(norm, **kwargs)
    assert repr(ln) == repr(tln) and list(ln.state_dict()) == list(tln.state_dict())
    if affine:  # non-trivial affine parameters
        with torch.no_grad():
            for p in tln.parameters():
                p.uniform_(-1.5, 1.5)
    compare_with_torch(ln, tln, randn(*lead, *norm) * 3 + 1, rtol=1e-4, atol=1e-5)
    assert ln.normalized_shape == tln.normalized_shape


def test_layernorm_functional_half_empty_and_errors():
    x = randn(2, 3, 4)
    w, b = randn(3, 4), randn(3, 4)
    ours = F.layer_norm(tg.tensor(x).half(), [3, 4], tg.tensor(w).half(), tg.tensor(b).half())
    theirs = torch.nn.functional.layer_norm(torch.tensor(x).half(), [3, 4], torch.tensor(w).half(),
                                            torch.tensor(b).half())
    assert ours.dtype == np.float16
    np.testing.assert_allclose(ours.numpy().astype(np.float32), theirs.float().numpy(), atol=2e-3, rtol=2e-3)
    for shape, norm in (((0, 3), (3,)), ((2, 0), (0,))):
        assert F.layer_norm(tg.zeros(*shape), norm).shape == shape
    with pytest.raises(ValueError, match=r"normalized_shape=\(4,\) expects an input of shape \(\*, 4\), got \(2, 3\)"):
        F.layer_norm(tg.ones(2, 3), (4,))
    with pytest.raises(ValueError, match=r"normalized_shape=\(\)"):
        F.layer_norm(tg.ones(2, 3), ())
    with pytest.raises(TypeError, match="tuple or list"):
        F.layer_norm(tg.ones(2, 3), 3)
    with pytest.raises(ValueError, match=r"weight of shape \(4,\) does not match the expected \(3,\)"):
        F.layer_norm(tg.ones(2, 3), (3,), tg.ones(4))
    with pytest.raises(TypeError, match="input dtype float64 does not match weight dtype float32"):
        nn.LayerNorm(3)(tg.ones(2, 3, dtype=tg.float64))
    with pytest.raises(TypeError, match="floating input"):
        nn.LayerNorm(3)(tg.ones(2, 3, dtype=tg.int64))
    with pytest.raises(ValueError, match="non-negative"):
        nn.LayerNorm(-1)
    assert nn.LayerNorm(4).train()(tg.ones(2, 4)).shape == (2, 4)


# ----------------------------------------------------------------------------- GroupNorm
@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 3), groups=st.sampled_from([1, 2, 3]), per=st.integers(1, 2),
       spatial=hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3), affine=st.booleans(),
       bias=st.booleans())
def test_groupnorm_matches_torch(n, groups, per, spatial, affine, bias):
    if per * int(np.prod(spatial)) < 3:  # (1 or 2 values per group: a zero gradient, up to float32 rounding)
        spatial = (*spatial, 3)
    c = groups * per
    gn, tgn = nn.GroupNorm(groups, c, affine=affine, bias=bias), torch.nn.GroupNorm(groups, c, affine=affine, bias=bias)
    assert repr(gn) == repr(tgn) and list(gn.state_dict()) == list(tgn.state_dict())
    if affine:
        with torch.no_grad():
            for p in tgn.parameters():
                p.uniform_(-1.5, 1.5)
    compare_with_torch(gn, tgn, randn(n, c, *spatial) * 3 + 1, rtol=1e-4, atol=1e-5)


# The fused normalisation node's ways (ops/normalization.py): x - mean saved and 1/std folded into one scale
# (batch_norm, group_norm with 4+ values per channel, no weight), x-hat saved (layer_norm's weight, group_norm with
# fewer), rows of 512+ elements (a smaller ufunc buffer), large layer_norms (weight and bias applied to several rows
# at a time), non-contiguous inputs, weight or bias alone
_NORM_CASES = {
    "layer_norm": ("layer", (6, 5, 16), True, True),
    "layer_norm_plain": ("layer", (6, 5, 16), False, False),
    "layer_norm_weight_only": ("layer", (6, 5, 16), True, False),
    "layer_norm_bias_only": ("layer", (6, 5, 16), False, True),
    "layer_norm_long_rows": ("layer", (3, 600), True, True),
    "layer_norm_transposed": ("layer_t", (16, 12), True, True),
    "layer_norm_large": ("layer", (8, 40, 256), True, True),  # (per_column: 8 rows at a time)
    "layer_norm_large_ragged": ("layer", (64, 33, 40), True, True),  # (51 rows at a time, 21 left over)
    "group_norm": ("group", (4, 6, 8, 8), True, True),
    "group_norm_plain": ("group", (4, 6, 8, 8), False, False),
    "group_norm_short": ("group", (4, 6, 2), True, True),
    "group_norm_long_rows": ("group", (2, 4, 32, 32), True, True),
    "batch_norm": ("batch", (8, 5, 6, 7), True, True),
    "batch_norm_plain": ("batch", (8, 5, 6, 7), False, False),
    "batch_norm_1d": ("batch", (16, 10), True, True),
    "batch_norm_long_rows": ("batch", (4, 3, 32, 32), True, False),
    "batch_norm_permuted": ("batch_t", (6, 7, 4, 5), True, True),
}


def _norm_call(m, kind, x, w, b):
    if kind == "layer":
        return m.layer_norm(x, x.shape[-1:], w, b, 1e-5)
    if kind == "layer_t":  # (a transposed, non-contiguous input)
        return m.layer_norm(x.transpose(0, 1), x.shape[:1], w, b, 1e-5)
    if kind == "group":
        return m.group_norm(x, 2, w, b, 1e-5)
    if kind == "batch":
        return m.batch_norm(x, None, None, w, b, True, 0.1, 1e-5)
    return m.batch_norm(x.permute(0, 3, 1, 2), None, None, w, b, True, 0.1, 1e-5)  # (permuted: channels last)


@pytest.mark.parametrize("case", list(_NORM_CASES))
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_fused_normalization_ways_match_torch_and_float64(case, dtype):
    """Output and the gradients of x, weight and bias (random upstream gradient) against PyTorch in the same
    dtype, and, for float32, no farther from the float64 result than PyTorch's float32 is (plus a few ulps).
    float16 is computed in float32 and rounded once: within 2 float16 ulps of the float64 result (PyTorch's CPU
    float16 sums weight gradients less exactly, so it is no reference there)."""
    kind, shape, has_w, has_b = _NORM_CASES[case]
    bufsize = np.getbufsize()
    r = np.random.default_rng(1)
    v = r.standard_normal(shape) * 3 + 2
    c = shape[{"layer": -1, "layer_t": 0, "group": 1, "batch": 1, "batch_t": -1}[kind]]
    params = [r.uniform(-1.5, 1.5, c) if has else None for has in (has_w, has_b)]
    out_shape = tuple(_norm_call(torch.nn.functional, kind, torch.tensor(v), *(
        None if p is None else torch.tensor(p) for p in params)).shape)
    g = r.standard_normal(out_shape)

    def run(m, make, dt):  # (inputs rounded to `dtype` first, then given in `dt`)
        x = make(v.astype(dtype).astype(dt))
        ps = [None if p is None else make(p.astype(dtype).astype(dt)) for p in params]
        y = _norm_call(m, kind, x, *ps)
        y.backward(make(g.astype(dtype).astype(dt)) if m is F else torch.tensor(g.astype(dtype).astype(dt)))
        return [np.asarray(a.detach().numpy(), np.float64) for a in [y, x.grad] + [p.grad for p in ps if p is not None]]

    ours = run(F, lambda a: tg.tensor(a, requires_grad=True), dtype)
    exact = run(torch.nn.functional, lambda a: torch.tensor(a, requires_grad=True), np.float64)
    eps = np.finfo(dtype).eps
    whats = ["output", "x.grad", "weight.grad", "bias.grad"]
    if dtype == np.float16:
        for a, e, what in zip(ours, exact, whats):
            np.testing.assert_allclose(a, e, rtol=2 * eps, atol=2 * eps * np.abs(e).max(), err_msg=what)
    else:
        theirs = run(torch.nn.functional, lambda a: torch.tensor(a, requires_grad=True), dtype)
        for a, b, e, what in zip(ours, theirs, exact, whats):
            np.testing.assert_allclose(a, b, rtol=256 * eps, atol=256 * eps * np.abs(b).max(), err_msg=what)
            ours_err, torch_err = np.abs(a - e).max(), np.abs(b - e).max()
            if dtype == np.float32:
                assert ours_err <= 2 * torch_err + 8 * eps * np.abs(e).max(), (what, ours_err, torch_err)
    assert np.getbufsize() == bufsize  # (the long rows' smaller ufunc buffer is put back)


def test_groupnorm_errors():
    with pytest.raises(ValueError, match=r"num_channels \(4\) must be divisible by num_groups \(3\)"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"divisible by num_groups=2, got input of shape \(2, 3\)"):
        F.group_norm(tg.ones(2, 3), 2)
    with pytest.raises(ValueError, match=r"shape \(N, C, \*\)"):
        F.group_norm(tg.ones(3), 1)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.GroupNorm(4, 4)(tg.ones(1, 4))
    with pytest.raises(ValueError, match=r"weight of shape \(4,\) does not match the expected \(6,\)"):
        F.group_norm(tg.ones(2, 6), 2, tg.ones(4))
    with pytest.raises(TypeError, match="input dtype float64 does not match weight dtype float32"):
        nn.GroupNorm(2, 4)(tg.ones(2, 4, dtype=tg.float64))
    assert F.group_norm(tg.zeros(2, 4, 0), 2).shape == (2, 4, 0)
    with pytest.raises(TypeError, match="num_groups must be an int, got 2.0"):  # (PyTorch: TypeError)
        F.group_norm(tg.ones(2, 4), 2.0)


@pytest.mark.parametrize("layer", ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"])
def test_conv_layers_take_numpy_integers_as_pytorch(layer):
    """Sizes read from a NumPy array or config (np.int64) work as in PyTorch; they are kept as Python ints."""
    i = np.int64
    m = getattr(nn, layer)(i(2), i(4), i(3), stride=i(1), padding=i(1), dilation=i(1), groups=i(2))
    assert m.kernel_size == (3,) * m._nd and m.groups == 2 and type(m.groups) is int
    assert all(type(v) is int for v in m.kernel_size + m.stride + m.padding + m.dilation)
    x = tg.ones(1, 2, *(5,) * m._nd)
    assert m(x).shape == getattr(torch.nn, layer)(2, 4, 3, padding=1, groups=2)(torch.ones(1, 2, *(5,) * m._nd)).shape
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        getattr(nn, layer)(2, 4, 3, groups=np.float64(2.0))
