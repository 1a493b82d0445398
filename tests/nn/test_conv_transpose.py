"""nn.ConvTranspose1d/2d and F.conv_transpose1d/2d against PyTorch (copied weights; outputs and every gradient,
float32 and float64, batched and unbatched), finite differences of first and second order, the adjoint
property, ``output_size``, the default initialisation, repr/state_dict, the errors, and a small conv
autoencoder that trains."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nn_oracle import compare_with_torch, gradcheck_module

import tinygradnn as tg
from tinygradnn import nn
from tinygradnn.autograd import gradcheck, gradgradcheck
from tinygradnn.nn import functional as F

rng = np.random.default_rng(0)


def _torch():
    return pytest.importorskip("torch")


def _modules(nd):
    torch = _torch()
    return (nn.ConvTranspose1d, torch.nn.ConvTranspose1d) if nd == 1 else (nn.ConvTranspose2d, torch.nn.ConvTranspose2d)


# (in, out, kernel, keyword arguments): strides, paddings, output paddings (below the stride, or only below the
# dilation), dilations, groups, no bias, and per-dimension tuples
CONFIGS = [
    (3, 4, 3, {}),
    (3, 4, 3, dict(stride=2)),
    (3, 4, 3, dict(stride=2, padding=1, output_padding=1)),
    (2, 3, 2, dict(stride=3, padding=1, output_padding=2, bias=False)),
    (3, 2, 3, dict(dilation=2, padding=2)),
    (2, 2, 2, dict(stride=1, dilation=3, output_padding=2)),  # output_padding below the dilation only
    (4, 6, 3, dict(groups=2, stride=2, padding=1, output_padding=1)),
    (6, 3, 2, dict(groups=3, dilation=2, bias=False)),
    (2, 9, 3, dict(stride=2, padding=2)),  # more output channels (the channels-last layout)
]
CONFIGS_2D = [
    (3, 4, (3, 2), dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0), dilation=(1, 2))),
    (4, 4, (2, 3), dict(groups=4, stride=(1, 3), padding=(0, 1), output_padding=(0, 2))),
]


def _cases():
    for nd in (1, 2):
        for cin, cout, k, kw in CONFIGS + (CONFIGS_2D if nd == 2 else []):
            yield pytest.param(nd, cin, cout, k, kw, id=f"{nd}d-{cin}-{cout}-{k}-{kw}")


# ----------------------------------------------------------------------------- against PyTorch
@pytest.mark.torch
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nd,cin,cout,k,kw", list(_cases()))
def test_module_matches_torch(nd, cin, cout, k, kw, dtype, batched):
    torch = _torch()
    ours_cls, torch_cls = _modules(nd)
    ours, theirs = ours_cls(cin, cout, k, **kw), torch_cls(cin, cout, k, **kw)
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    shape = ((2,) if batched else ()) + (cin,) + (5, 4)[:nd]
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-10)
    out, tout = compare_with_torch(ours, theirs, rng.standard_normal(shape).astype(dtype), **tol)
    assert out.dtype == dtype and tout.dtype == getattr(torch, np.dtype(dtype).name)
    assert ours.weight.shape == (cin, cout // kw.get("groups", 1)) + ((k,) * nd if isinstance(k, int) else k)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nd,cin,cout,k,kw", list(_cases()))
def test_functional_matches_torch(nd, cin, cout, k, kw, dtype):
    """F.conv_transpose*d with PyTorch's positional argument order: outputs and the gradients of x, w and b."""
    torch = _torch()
    kw = dict(kw)
    has_bias = kw.pop("bias", True)
    groups, k = kw.get("groups", 1), (k,) * nd if isinstance(k, int) else k
    arrays = [rng.standard_normal((2, cin) + (4, 3)[:nd]), rng.standard_normal((cin, cout // groups) + k)]
    arrays = [a.astype(dtype) for a in arrays + ([rng.standard_normal(cout)] if has_bias else [])]
    args = (kw.get("stride", 1), kw.get("padding", 0), kw.get("output_padding", 0), groups, kw.get("dilation", 1))
    ours_fn, torch_fn = getattr(F, f"conv_transpose{nd}d"), getattr(torch.nn.functional, f"conv_transpose{nd}d")
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    txs = [torch.tensor(a, requires_grad=True) for a in arrays]
    bias, tbias = (xs[2], txs[2]) if has_bias else (None, None)
    y, ty = ours_fn(xs[0], xs[1], bias, *args), torch_fn(txs[0], txs[1], tbias, *args)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-10)
    assert y.shape == tuple(ty.shape) and y.dtype == dtype
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **tol)
    v = rng.standard_normal(y.shape).astype(dtype)
    y.backward(tg.tensor(v))
    ty.backward(torch.tensor(v))
    for i, (a, ta) in enumerate(zip(xs, txs)):
        assert a.grad.dtype == dtype
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), err_msg=f"gradient of argument {i}", **tol)


@pytest.mark.torch
@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("batched", [True, False])
def test_output_size_matches_torch(nd, batched):
    """Every valid output_size (spatial sizes only, or with the leading batch/channel sizes, as a list, tuple or
    torch.Size-like tuple) picks PyTorch's output padding: same result and gradients."""
    torch = _torch()
    ours_cls, torch_cls = _modules(nd)
    stride = (3, 2)[:nd]
    ours, theirs = ours_cls(2, 3, 3, stride=stride, padding=1), torch_cls(2, 3, 3, stride=stride, padding=1)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    lead = ((2,) if batched else ()) + (2,)
    x = rng.standard_normal(lead + (4, 5)[:nd]).astype(np.float32)
    smallest = [(n - 1) * s - 2 * 1 + (3 - 1) + 1 for n, s in zip(x.shape[len(lead):], stride)]
    for extra in ((0, 0), (2, 1), (1, 0)):
        size = [lo + e for lo, e in zip(smallest, extra)]
        for output_size in (size, tuple(size), list(lead[:-1]) + [3] + size):
            xt, txt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            out, tout = ours(xt, output_size=output_size), theirs(txt, output_size=output_size)
            assert list(out.shape[-nd:]) == size and out.shape == tuple(tout.shape)
            np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
            v = rng.standard_normal(out.shape).astype(np.float32)
            ours.zero_grad()
            theirs.zero_grad()
            out.backward(tg.tensor(v))
            tout.backward(torch.tensor(v))
            np.testing.assert_allclose(xt.grad.numpy(), txt.grad.numpy(), rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.torch
def test_double_backward_matches_torch():
    """A gradient penalty through ConvTranspose2d (groups, stride, padding, output_padding, dilation): the
    gradients of |d(sum y^2)/dx|^2 in x, w and b, as PyTorch."""
    torch = _torch()
    xs, ws, bs = rng.standard_normal((2, 4, 3, 4)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(6)
    kw = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=(1, 2))
    results = []
    for lib, fn in ((tg, F.conv_transpose2d), (torch, torch.nn.functional.conv_transpose2d)):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in (xs, ws, bs))
        y = fn(x, w, b, **kw)
        (gx,) = lib.autograd.grad((y * y).sum(), [x], create_graph=True)
        results.append(lib.autograd.grad((gx * gx * x).sum(), [x, w, b]))
    for ours, ref in zip(*results):
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-9, atol=1e-10)


# ----------------------------------------------------------------------------- finite differences and properties
@pytest.mark.parametrize("nd,cin,cout,k,kw", [
    (1, 2, 3, 3, dict(stride=2, padding=1, output_padding=1)),
    (1, 4, 2, 2, dict(groups=2, dilation=2, bias=False)),
    (2, 2, 3, (2, 3), dict(stride=(2, 1), padding=(0, 1), output_padding=(1, 0))),
    (2, 2, 4, 2, dict(groups=2, stride=2, dilation=2, output_padding=1)),
])
def test_gradcheck_module(nd, cin, cout, k, kw):
    layer = (nn.ConvTranspose1d if nd == 1 else nn.ConvTranspose2d)(cin, cout, k, **kw)
    gradcheck_module(layer, rng.standard_normal((2, cin) + (3, 2)[:nd]))
    gradcheck_module(layer, rng.standard_normal((cin,) + (3, 2)[:nd]))  # unbatched


@pytest.mark.parametrize("nd", [1, 2])
def test_gradgradcheck_functional(nd):
    fn = getattr(F, f"conv_transpose{nd}d")
    shapes = [(1, 4) + (3, 2)[:nd], (4, 1) + (2, 3)[:nd], (2,)]
    inputs = [tg.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]

    def call(x, w, b):
        return fn(x, w, b, 2, 1, 1, 2, (1, 2)[:nd])  # stride, padding, output_padding, groups, dilation

    assert gradcheck(call, inputs)
    assert gradgradcheck(call, inputs)


@st.composite
def _adjoint_case(draw):
    nd, groups = draw(st.sampled_from([1, 2])), draw(st.sampled_from([1, 2]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    k, s, d = (tuple(draw(st.integers(1, hi)) for _ in range(nd)) for hi in (3, 3, 2))
    op = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
    size = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    p = tuple(draw(st.integers(0, ((n - 1) * si + di * (ki - 1) + oi) // 2))
              for n, si, di, ki, oi in zip(size, s, d, k, op))
    n = draw(st.integers(1, 2))
    gen = np.random.default_rng(draw(st.integers(0, 2**31)))
    return nd, gen.standard_normal((n, cin) + size), gen.standard_normal((cin, cout // groups) + k), \
        dict(stride=s, padding=p, output_padding=op, groups=groups, dilation=d), gen


@settings(max_examples=30, deadline=None)
@given(_adjoint_case())
def test_conv_transpose_is_the_adjoint_of_conv(case):
    """<conv_transpose(g, w), x> == <g, conv(x, w)> for the conv with the same weight, stride, padding,
    dilation and groups: the defining property of the transposed convolution (no PyTorch needed). An
    output_padding of at least the stride (allowed below the dilation) makes the conv's output longer than g:
    the transposed conv is then the adjoint of its first positions."""
    nd, g, w, kw, gen = case
    y = getattr(F, f"conv_transpose{nd}d")(tg.tensor(g), tg.tensor(w), **kw)
    x = gen.standard_normal(y.shape)
    conv_kw = {k: v for k, v in kw.items() if k != "output_padding"}
    back = getattr(F, f"conv{nd}d")(tg.tensor(x), tg.tensor(w), **conv_kw).numpy()
    assert back.shape[2:] == tuple(n + o // s for n, o, s in zip(g.shape[2:], kw["output_padding"], kw["stride"]))
    back = back[(Ellipsis,) + tuple(slice(0, n) for n in g.shape[2:])]
    np.testing.assert_allclose((y.numpy() * x).sum(), (back * g).sum(), rtol=1e-9, atol=1e-9)


# ----------------------------------------------------------------------------- layer structure
@pytest.mark.torch
@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("kw", [{}, dict(stride=2, padding=1, output_padding=1), dict(dilation=2, groups=2, bias=False),
                                dict(stride=(2, 3), output_padding=(1, 2)), dict(padding=(1, 0), dilation=(1, 3))])
def test_repr_state_dict_and_attributes_as_torch(nd, kw):
    kw = {k: (v[-1] if isinstance(v, tuple) and nd == 1 else v) for k, v in kw.items()}
    ours_cls, torch_cls = _modules(nd)
    ours, theirs = ours_cls(4, 6, 3, **kw), torch_cls(4, 6, 3, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: tuple(v.shape) for k, v in
                                                                 theirs.state_dict().items()}
    for name in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "dilation",
                 "groups", "padding_mode"):
        assert getattr(ours, name) == getattr(theirs, name), name


@pytest.mark.parametrize("layer,fan_in", [(lambda: nn.ConvTranspose2d(40, 20, 3), 180),
                                          (lambda: nn.ConvTranspose1d(200, 30, 5), 150),
                                          (lambda: nn.ConvTranspose2d(6, 120, (2, 3), groups=3), 240)])
def test_default_init_uses_pytorchs_transposed_fan_in(layer, fan_in):
    """PyTorch's fan-in for ConvTranspose is computed from its (in, out/groups, *kernel) weight: out/groups * k."""
    m = layer()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert bound * 0.98 < np.abs(w).max() <= bound and 0 < np.abs(b).max() <= bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert nn.ConvTranspose2d(2, 3, 2, dtype=tg.float64).weight.dtype == np.float64


# ----------------------------------------------------------------------------- errors
ERRORS = [
    (lambda: nn.ConvTranspose2d(3, 2, 3)(tg.ones(4, 4)), ValueError,
     r"ConvTranspose2d: expected a 4-d input \(N, C, ...\) or a 3-d unbatched one \(C, ...\), got shape \(4, 4\)"),
    (lambda: nn.ConvTranspose1d(3, 2, 3)(tg.ones(1, 1, 3, 4)), ValueError, r"ConvTranspose1d: expected a 3-d input"),
    (lambda: nn.ConvTranspose2d(3, 2, 3)(tg.ones(1, 2, 4, 4)), ValueError,
     r"ConvTranspose2d: expected input with 3 channels \(in_channels\) at dim 1, got shape \(1, 2, 4, 4\)"),
    (lambda: nn.ConvTranspose2d(3, 2, 3, groups=2), ValueError,
     r"in_channels \(3\) and out_channels \(2\) must both be divisible by groups \(2\)"),
    (lambda: nn.ConvTranspose2d(4, 3, 3, groups=2), ValueError, r"out_channels \(3\) must both be divisible"),
    (lambda: nn.ConvTranspose2d(3, 2, 3, padding_mode="reflect"), ValueError,
     r'Only "zeros" padding mode is supported for ConvTranspose2d'),
    (lambda: nn.ConvTranspose1d(3, 2, 3, padding_mode="circular"), ValueError,
     r'Only "zeros" padding mode is supported for ConvTranspose1d'),
    (lambda: nn.ConvTranspose2d(3, 2, 3, padding="same"), ValueError, "ConvTranspose2d: padding must be an int"),
    (lambda: nn.ConvTranspose2d(3, 2, 3, output_padding=-1), ValueError, "output_padding must be non-negative"),
    (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, output_padding=2)(tg.ones(1, 3, 4, 4)), ValueError,
     r"output_padding \(2, 2\) must be smaller than either stride \(2, 2\) or dilation \(1, 1\)"),
    (lambda: F.conv_transpose1d(tg.ones(1, 3, 4), tg.ones(3, 2, 3), stride=2, output_padding=2, dilation=2),
     ValueError, r"output_padding \(2,\) must be smaller than either stride \(2,\) or dilation \(2,\)"),
    (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2)(tg.ones(1, 3, 4, 4), output_size=(20, 20)), ValueError,
     r"requested an output size of \(20, 20\), but valid sizes range from \(9, 9\) to \(10, 10\)"),
    (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2)(tg.ones(1, 3, 4, 4), output_size=(8, 9)), ValueError,
     r"requested an output size of \(8, 9\)"),
    (lambda: nn.ConvTranspose2d(3, 2, 3)(tg.ones(1, 3, 4, 4), output_size=(6,)), ValueError,
     r"for a 4-d input, output_size must have 2 or 4 elements \(got 1"),
    (lambda: nn.ConvTranspose2d(3, 2, 3)(tg.ones(3, 4, 4), output_size=(1, 2, 6, 6)), ValueError,
     r"for a 3-d input, output_size must have 2 or 3 elements \(got 4"),
    (lambda: nn.ConvTranspose1d(3, 2, 3)(tg.ones(1, 3, 4), output_size=6), TypeError,
     "output_size must be a list or tuple of ints, got 6"),
    (lambda: F.conv_transpose2d(tg.ones(4, 4), tg.ones(3, 2, 3, 3)), ValueError,
     r"conv_transpose2d: expected a 4-D input \(N, C, H, W\) or an unbatched 3-D input \(C, H, W\), got shape"),
    (lambda: F.conv_transpose2d(tg.ones(1, 4, 4, 4), tg.ones(3, 2, 3, 3)), ValueError,
     r"input of shape \(1, 4, 4, 4\) has 4 channels, but weight of shape \(3, 2, 3, 3\) "
     r"\(C_in, C_out/groups, kH, kW\) with groups=1 expects 3"),
    (lambda: F.conv_transpose2d(tg.ones(1, 3, 4, 4), tg.ones(3, 2, 3, 3), groups=2), ValueError,
     r"in_channels \(3\) and out_channels \(4\) must both be divisible by groups \(2\)"),
    (lambda: F.conv_transpose1d(tg.ones(1, 3, 4), tg.ones(3, 2, 3), tg.ones(3)), ValueError,
     r"bias of shape \(3,\) should have shape \(2,\)"),
    (lambda: F.conv_transpose1d(tg.ones(2, 3, 1), tg.ones(3, 2, 1), padding=1), ValueError,
     r"gives a negative output size \(-1,\)"),
    (lambda: F.conv_transpose1d(tg.ones(1, 3, 4), tg.ones(3, 2, 3), padding="same"), ValueError,
     "padding must be an int or a tuple of ints"),
    (lambda: F.conv_transpose1d(tg.ones(1, 3, 4).double(), tg.ones(3, 2, 3)), TypeError, "must have the same dtype"),
    (lambda: F.conv_transpose2d("abc", tg.ones(3, 2, 3, 3)), TypeError, "conv_transpose2d: expected a Tensor"),
    (lambda: F.conv_transpose2d(tg.ones(1, 3, 4, 4), "abc"), TypeError, "conv_transpose2d: weight must be a Tensor"),
]


@pytest.mark.parametrize("call,exc,match", ERRORS, ids=[f"error{i}" for i in range(len(ERRORS))])
def test_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ----------------------------------------------------------------------------- training
def test_conv_autoencoder_trains():
    """Conv2d stride 2 down, ConvTranspose2d stride 2 up, on 1x16x16 images of blobs: the loss drops."""
    tg.manual_seed(0)
    gen = np.random.default_rng(1)
    yy, xx = np.mgrid[:16, :16]
    centres, widths = gen.uniform(3, 13, (64, 2, 1, 1)), gen.uniform(1.5, 4, (64, 1, 1))
    images = np.exp(-((yy - centres[:, 0]) ** 2 + (xx - centres[:, 1]) ** 2) / (2 * widths ** 2))
    data = tg.tensor(images[:, None].astype(np.float32))
    model = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),  # 16x16 -> 8x8
                          nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),  # -> 4x4
                          nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # -> 8x8
                          nn.ConvTranspose2d(8, 1, 2, stride=2))  # -> 16x16
    opt = tg.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for step in range(150):
        batch = data[(step * 16) % 64:(step * 16) % 64 + 16]
        out = model(batch)
        assert out.shape == batch.shape
        loss = F.mse_loss(out, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.isfinite(losses).all()
    assert np.mean(losses[-10:]) < 0.2 * np.mean(losses[:10]), (losses[:10], losses[-10:])
