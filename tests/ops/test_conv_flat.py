"""ops/conv.py: the stride-1 "flat" convolution path (``_flat_forward`` / ``_flat_backward``).

It computes stride-1, groups=1 float32/float64 convolutions with kernels larger than 3x3 (and the input
gradient of those with fewer than 8 input channels) at every padded position; these tests pin it to
PyTorch for the geometries it sees (padding, asymmetric 'same' padding, dilation, 1-D), the input layouts
(channels last, non-contiguous), batch sizes 0 and 1, non-finite values, transposed convolutions and
double backward.
"""

import numpy as np
import pytest

import tinygradnn as tg
from tinygradnn.ops import conv as C

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _both(x0, w0, b0, fn, tfn, dtype, layout=None, gy_seed=1):
    """Forward + backward in both libraries: (ours, torch) pairs for y, gx, gw, gb."""
    x0, w0 = x0.astype(dtype), w0.astype(dtype)
    b0 = None if b0 is None else b0.astype(dtype)
    xa = layout(x0) if layout else x0
    x, w = tg.tensor(xa, requires_grad=True), tg.tensor(w0, requires_grad=True)
    b = None if b0 is None else tg.tensor(b0, requires_grad=True)
    tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    tb = None if b0 is None else torch.tensor(b0, requires_grad=True)
    y, ty = fn(x, w, b), tfn(tx, tw, tb)
    gy = np.random.default_rng(gy_seed).standard_normal(ty.shape).astype(dtype)
    y.backward(tg.tensor(gy))
    ty.backward(torch.tensor(gy))
    pairs = [(y.detach().numpy(), ty.detach().numpy()), (x.grad.numpy(), tx.grad.numpy()),
             (w.grad.numpy(), tw.grad.numpy())]
    if b is not None:
        pairs.append((b.grad.numpy(), tb.grad.numpy()))
    return pairs


def _check(pairs, dtype):
    tol = dict(rtol=1e-9, atol=1e-10) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-4)
    for ours, ref in pairs:
        assert ours.shape == ref.shape and ours.dtype == ref.dtype
        np.testing.assert_allclose(ours, ref, **tol)


CASES_2D = [  # (C, O, kernel, keyword arguments)
    (16, 8, (5, 5), dict(padding=2)),
    (3, 8, (3, 3), dict(padding=1)),
    (1, 4, (3, 3), dict(padding=1)),
    (2, 3, (3, 3), dict(padding=0)),
    (3, 5, (5, 5), dict(padding=(1, 3), dilation=(2, 1))),
    (4, 3, (2, 4), dict(padding="same", dilation=(1, 2))),  # asymmetric padding
    (2, 3, (1, 1), dict(padding=2)),  # padding larger than the kernel
    (3, 2, (3, 3), dict(padding=4, dilation=1)),
    (9, 4, (5, 3), dict(padding=(0, 1))),
    (2, 40, (5, 5), dict(padding=1)),  # many output channels: a gemm per kernel row (``_row_groups``)
    (3, 5, (7, 5), dict(padding=(3, 2))),  # kernel rows in groups of 3
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("c,o,k,kw", CASES_2D)
def test_flat_conv2d_matches_torch(c, o, k, kw, bias, dtype):
    rng = np.random.default_rng(0)
    x0, w0, b0 = rng.standard_normal((3, c, 9, 10)), rng.standard_normal((o, c) + k), rng.standard_normal(o)
    geom = C._conv_geometry("conv2d", 2, x0.shape, w0.shape, 1, kw.get("padding", 0), kw.get("dilation", 1), 1)
    assert C._flat_ok(geom, x0.astype(dtype), w0.astype(dtype), input_grad=True)  # (the path under test)
    _check(_both(x0, w0, b0 if bias else None, lambda x, w, b: C.conv2d(x, w, b, **kw),
                 lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **kw), dtype), dtype)


@pytest.mark.parametrize("layout", ["channels_last", "strided", "transposed_hw"])
@pytest.mark.parametrize("n", [0, 1, 2])
def test_flat_conv2d_any_input_layout_and_batch(layout, n):
    rng = np.random.default_rng(1)
    make = {"channels_last": lambda a: np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2),
            "strided": lambda a: np.repeat(a, 2, axis=3)[..., ::2],
            "transposed_hw": lambda a: np.ascontiguousarray(a.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)}[layout]
    x0, w0, b0 = rng.standard_normal((n, 3, 7, 8)), rng.standard_normal((5, 3, 5, 5)), rng.standard_normal(5)
    _check(_both(x0, w0, b0, lambda x, w, b: C.conv2d(x, w, b, padding=2),
                 lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=2), np.float32, make), np.float32)


@pytest.mark.parametrize("kw", [dict(), dict(padding=3, dilation=2), dict(padding="same")])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flat_conv1d_matches_torch(kw, dtype):
    rng = np.random.default_rng(2)
    x0, w0, b0 = rng.standard_normal((4, 3, 30)), rng.standard_normal((6, 3, 5)), rng.standard_normal(6)
    _check(_both(x0, w0, b0, lambda x, w, b: C.conv1d(x, w, b, **kw),
                 lambda x, w, b: torch.nn.functional.conv1d(x, w, b, **kw), dtype), dtype)


@pytest.mark.parametrize("where", ["x", "w", "gy"])
def test_flat_conv2d_non_finite_values_match_torch(where):
    """The extra padded positions carry zeros of the output gradient: an inf must not turn them into NaN."""
    rng = np.random.default_rng(3)
    x0, w0, b0 = rng.standard_normal((2, 3, 6, 7)), rng.standard_normal((4, 3, 5, 5)), rng.standard_normal(4)
    if where == "x":
        x0[1, 2, 3, 6] = np.inf
    elif where == "w":
        w0[2, 1, 4, 0] = -np.inf
    pairs = _both(x0, w0, b0, lambda x, w, b: C.conv2d(x, w, b, padding=1),
                  lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=1), np.float64)
    for ours, ref in pairs:
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
        np.testing.assert_array_equal(np.isinf(ours), np.isinf(ref))
        fin = np.isfinite(ref)
        np.testing.assert_allclose(ours[fin], ref[fin], rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("kw", [dict(), dict(padding=1), dict(padding=2, output_padding=1, dilation=2),
                                dict(padding=(0, 3), dilation=(1, 2))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flat_conv_transpose2d_stride1_matches_torch(kw, dtype):
    rng = np.random.default_rng(4)
    x0, w0, b0 = rng.standard_normal((2, 4, 6, 7)), rng.standard_normal((4, 3, 5, 4)), rng.standard_normal(3)
    _check(_both(x0, w0, b0, lambda x, w, b: C.conv_transpose2d(x, w, b, **kw),
                 lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **kw), dtype), dtype)


def test_flat_conv2d_double_backward_matches_torch():
    rng = np.random.default_rng(5)
    x0, w0 = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 5, 5))
    x, w = tg.tensor(x0, requires_grad=True), tg.tensor(w0, requires_grad=True)
    tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    gx, gw = tg.autograd.grad((C.conv2d(x, w, padding=2) ** 2).sum(), [x, w], create_graph=True)
    tgx, tgw = torch.autograd.grad((torch.nn.functional.conv2d(tx, tw, padding=2) ** 2).sum(), [tx, tw],
                                   create_graph=True)
    ((gx ** 2).sum() + (gw * gw).sum()).backward()
    ((tgx ** 2).sum() + (tgw * tgw).sum()).backward()
    for ours, ref in ((gx, tgx), (gw, tgw), (x.grad, tx.grad), (w.grad, tw.grad)):
        np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1), dict(stride=3, padding=2),
                                dict(stride=(2, 3), dilation=(2, 1)), dict(stride=2, dilation=3, padding=(3, 1)),
                                dict(stride=(1, 2), padding="valid")])
@pytest.mark.parametrize("c", [3, 16])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flat_input_gradient_of_strided_convolutions_matches_torch(kw, c, dtype):
    """Strided convolutions take the flat input gradient for big kernels or few channels (pixels grouped by
    their offset modulo the stride; stride 3 with a 2-wide kernel leaves classes no tap reaches)."""
    rng = np.random.default_rng(6)
    k = (4, 4) if c == 16 else (2, 3)
    x0, w0, b0 = rng.standard_normal((2, c, 11, 12)), rng.standard_normal((5, c) + k), rng.standard_normal(5)
    _check(_both(x0, w0, b0, lambda x, w, b: C.conv2d(x, w, b, **kw),
                 lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **kw), dtype), dtype)


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1), dict(stride=2, padding=1, output_padding=1),
                                dict(stride=3, padding=0, dilation=2), dict(stride=(2, 1), padding=(1, 2))])
@pytest.mark.parametrize("n", [0, 1, 3])
def test_flat_strided_conv_transpose2d_matches_torch(kw, n):
    rng = np.random.default_rng(7)
    x0, w0, b0 = rng.standard_normal((n, 6, 5, 7)), rng.standard_normal((6, 4, 4, 4)), rng.standard_normal(4)
    make = lambda a: np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # noqa: E731
    _check(_both(x0, w0, b0, lambda x, w, b: C.conv_transpose2d(x, w, b, **kw),
                 lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **kw), np.float32, make), np.float32)
