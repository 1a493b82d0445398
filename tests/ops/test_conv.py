"""ops/conv.py: convolution, transposed convolution and pooling.

Checked against PyTorch (forward values and the gradients of every input, over hypothesis-drawn
shapes, strides, paddings, dilations, kernel sizes and groups), against finite differences
(first and second order), and for the error messages, dtypes and the autograd corner cases.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinygradnn as tg
from tinygradnn.autograd import gradcheck, gradgradcheck
from tinygradnn.ops import conv as C

SETTINGS = settings(max_examples=25, deadline=None)


def _t(a, grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _torch():
    return pytest.importorskip("torch")


def _close(ours, ref, atol=1e-9):
    ref = ref.detach().numpy() if hasattr(ref, "detach") else ref
    ours = ours.detach().numpy() if isinstance(ours, tg.Tensor) else ours
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    np.testing.assert_allclose(ours, ref, rtol=1e-7, atol=atol)


def _run_both(ours_fn, torch_fn, arrays, rng):
    """Forward and backward (with a random output gradient) in tinygradnn and PyTorch, float64.

    Returns (ours output, torch output, [(our grad, torch grad) per array]).
    """
    torch = _torch()
    ins = [_t(a) for a in arrays]
    tins = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = ours_fn(*ins), torch_fn(*tins)
    gy = rng.standard_normal(ty.shape)
    y.backward(tg.tensor(gy))
    ty.backward(torch.tensor(gy))
    return y, ty, [(a.grad, b.grad) for a, b in zip(ins, tins)]


# ----------------------------------------------------------------------------- strategies
@st.composite
def conv_case(draw, nd):
    """A valid convolution: arrays (x, w, b or None) and its keyword arguments."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin = groups * draw(st.integers(1, 3))
    cout = groups * draw(st.integers(1, 3))
    if groups == 1 and draw(st.booleans()):
        cin = draw(st.integers(8, 10))  # the channels-last input-gradient path
    k = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    p = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    # input at least as large as the dilated kernel after padding, plus a few extra pixels
    size = tuple(max(1, di * (ki - 1) + 1 - 2 * pi) + draw(st.integers(0, 4)) for ki, di, pi in zip(k, d, p))
    n = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    x = rng.standard_normal((n, cin) + size)
    w = rng.standard_normal((cout, cin // groups) + k)
    b = rng.standard_normal(cout) if draw(st.booleans()) else None
    kwargs = dict(stride=s, padding=p, dilation=d, groups=groups)
    if nd == 2 and draw(st.booleans()) and s[0] == s[1] and p[0] == p[1] and d[0] == d[1]:
        kwargs.update(stride=s[0], padding=p[0], dilation=d[0])  # plain ints too
    return x, w, b, kwargs, rng


@st.composite
def conv_transpose_case(draw, nd):
    groups = draw(st.sampled_from([1, 1, 2]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    if groups == 1 and draw(st.booleans()):
        cout = draw(st.integers(8, 9))  # the channels-last path (the transposed conv's output channels)
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    op = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
    size = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    # keep the output size positive: (L-1)*s - 2p + d*(k-1) + op + 1 > 0
    p = tuple(draw(st.integers(0, max(0, ((n - 1) * si + di * (ki - 1) + oi) // 2)))
              for n, si, di, ki, oi in zip(size, s, d, k, op))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    x = rng.standard_normal((draw(st.integers(1, 2)), cin) + size)
    w = rng.standard_normal((cin, cout // groups) + k)
    b = rng.standard_normal(cout) if draw(st.booleans()) else None
    return x, w, b, dict(stride=s, padding=p, output_padding=op, groups=groups, dilation=d), rng


@st.composite
def pool_case(draw, nd, kind):
    k = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd)) if kind == "max" else (1,) * nd
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    size = tuple(max(1, di * (ki - 1) + 1 - 2 * pi) + draw(st.integers(0, 5)) for ki, di, pi in zip(k, d, p))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + size
    if draw(st.booleans()):  # many ties: small integers (and ReLU zeros) as after a ReLU'd conv
        x = np.maximum(rng.integers(-2, 3, shape), 0).astype(np.float64)
    else:
        x = rng.standard_normal(shape)
    kwargs = dict(kernel_size=k, stride=s if draw(st.booleans()) else None, padding=p,
                  ceil_mode=draw(st.booleans()))
    if kind == "max":
        kwargs["dilation"] = d
    else:
        kwargs["count_include_pad"] = draw(st.booleans())
    return x, kwargs, rng


# ----------------------------------------------------------------------------- conv vs PyTorch
@pytest.mark.torch
@SETTINGS
@given(conv_case(2))
def test_conv2d_matches_torch(case):
    F = _torch().nn.functional
    x, w, b, kw, rng = case
    arrays = [x, w] + ([b] if b is not None else [])
    y, ty, grads = _run_both(lambda *a: C.conv2d(*a, **kw), lambda *a: F.conv2d(*a, **kw), arrays, rng)
    _close(y, ty)
    for ours, ref in grads:
        _close(ours, ref)


@pytest.mark.torch
@SETTINGS
@given(conv_case(1))
def test_conv1d_matches_torch(case):
    F = _torch().nn.functional
    x, w, b, kw, rng = case
    arrays = [x, w] + ([b] if b is not None else [])
    y, ty, grads = _run_both(lambda *a: C.conv1d(*a, **kw), lambda *a: F.conv1d(*a, **kw), arrays, rng)
    _close(y, ty)
    for ours, ref in grads:
        _close(ours, ref)


@pytest.mark.torch
@SETTINGS
@given(conv_transpose_case(2))
def test_conv_transpose2d_matches_torch(case):
    F = _torch().nn.functional
    x, w, b, kw, rng = case
    arrays = [x, w] + ([b] if b is not None else [])
    y, ty, grads = _run_both(lambda *a: C.conv_transpose2d(*a, **kw), lambda *a: F.conv_transpose2d(*a, **kw),
                             arrays, rng)
    _close(y, ty)
    for ours, ref in grads:
        _close(ours, ref)


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(conv_transpose_case(1))
def test_conv_transpose1d_matches_torch(case):
    F = _torch().nn.functional
    x, w, b, kw, rng = case
    arrays = [x, w] + ([b] if b is not None else [])
    y, ty, grads = _run_both(lambda *a: C.conv_transpose1d(*a, **kw), lambda *a: F.conv_transpose1d(*a, **kw),
                             arrays, rng)
    _close(y, ty)
    for ours, ref in grads:
        _close(ours, ref)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note about its own extra copy
@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("k,d", [((3, 3), 1), ((2, 4), (1, 2)), ((4, 1), 2)])
def test_conv2d_string_padding_matches_torch(padding, k, d):
    F = _torch().nn.functional
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3) + k)
    y, ty, grads = _run_both(lambda a, b: C.conv2d(a, b, padding=padding, dilation=d),
                             lambda a, b: F.conv2d(a, b, padding=padding, dilation=d), [x, w], rng)
    _close(y, ty)
    if padding == "same":
        assert y.shape[2:] == x.shape[2:]
    for ours, ref in grads:
        _close(ours, ref)


@pytest.mark.torch
def test_conv1d_same_padding_even_kernel_matches_torch():
    F = _torch().nn.functional
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 2, 7)), rng.standard_normal((3, 2, 4))
    y, ty, grads = _run_both(lambda a, b: C.conv1d(a, b, padding="same"),
                             lambda a, b: F.conv1d(a, b, padding="same"), [x, w], rng)
    _close(y, ty)
    for ours, ref in grads:
        _close(ours, ref)


@pytest.mark.torch
@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("m", [1, 2])
@pytest.mark.parametrize("kw", [dict(padding=1), dict(padding=(0, 2), dilation=(2, 1)), dict(stride=2, padding=1),
                                dict(stride=(1, 2))])
@pytest.mark.parametrize("special", [None, "x", "w"])
def test_depthwise_conv_matches_torch(nd, m, kw, special):
    """Depthwise convolution (one input channel per group, m outputs each) has a direct path: values and the
    three gradients as PyTorch's, also with an inf or NaN in the input or the weight (stride 1 reads padded
    positions that stride 2 does not)."""
    F = _torch().nn.functional
    rng = np.random.default_rng(3)
    kw = {k: v[-nd:] if isinstance(v, tuple) else v for k, v in kw.items()}
    x, w, b = rng.standard_normal((2, 3) + (6, 7)[-nd:]), rng.standard_normal((3 * m, 1) + (3, 2)[-nd:]), \
        rng.standard_normal(3 * m)
    if special:  # an inf and a NaN (the input: in its last column, which the wrap-around of a flat tap reads)
        a = x if special == "x" else w
        a[(0, a.shape[1] - 1) + (1,) * (a.ndim - 3) + (-1,)], a.flat[4] = np.inf, np.nan
    conv = C.conv1d if nd == 1 else C.conv2d
    y, ty, grads = _run_both(lambda *a: conv(*a, groups=3, **kw), lambda *a: getattr(F, f"conv{nd}d")(
        *a, groups=3, **kw), [x, w, b], rng)
    _close(y, ty)
    for ours, ref in grads:
        _close(ours, ref)


@pytest.mark.torch
def test_benchmark_cnn_shapes_float32_match_torch():
    """The benchmark's layers in float32: values and gradients stay float32 and match PyTorch."""
    torch = _torch()
    F = torch.nn.functional
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 1, 16, 16)).astype(np.float32)
    w1, b1 = (rng.standard_normal((16, 1, 3, 3)) * 0.3).astype(np.float32), np.zeros(16, np.float32)
    w2, b2 = (rng.standard_normal((32, 16, 3, 3)) * 0.1).astype(np.float32), np.ones(32, np.float32) * 0.1
    ps = [tg.tensor(a, requires_grad=True) for a in (w1, b1, w2, b2)]
    tps = [torch.tensor(a, requires_grad=True) for a in (w1, b1, w2, b2)]
    h = C.max_pool2d(tg.relu(C.conv2d(tg.tensor(x), ps[0], ps[1], padding=1)), 2)
    h = C.max_pool2d(tg.relu(C.conv2d(h, ps[2], ps[3], padding=1)), 2)
    th = F.max_pool2d(F.relu(F.conv2d(torch.tensor(x), tps[0], tps[1], padding=1)), 2)
    th = F.max_pool2d(F.relu(F.conv2d(th, tps[2], tps[3], padding=1)), 2)
    assert h.dtype == np.float32 and h.shape == (8, 32, 4, 4)
    np.testing.assert_allclose(h.detach().numpy(), th.detach().numpy(), rtol=1e-4, atol=1e-5)
    (h * h).sum().backward()
    (th * th).sum().backward()
    for p, tp in zip(ps, tps):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-3, atol=1e-4)


# ----------------------------------------------------------------------------- finite differences
GRADCHECK_CASES = [
    ("conv2d groups/stride/dilation", lambda x, w, b: C.conv2d(x, w, b, stride=(2, 1), padding=(1, 2),
                                                               dilation=(1, 2), groups=2),
     [(2, 4, 5, 6), (4, 2, 2, 3), (4,)]),
    ("conv2d channels-last input grad", lambda x, w, b: C.conv2d(x, w, b, stride=2, padding=1),
     [(1, 8, 4, 5), (2, 8, 3, 3), (2,)]),
    ("conv1d", lambda x, w, b: C.conv1d(x, w, b, stride=2, padding=2, dilation=2), [(2, 2, 7), (3, 2, 3), (3,)]),
    ("conv2d depthwise x2", lambda x, w, b: C.conv2d(x, w, b, padding=(1, 2), dilation=(1, 2), groups=2),
     [(2, 2, 4, 5), (4, 1, 2, 3), (4,)]),
    ("conv2d depthwise strided", lambda x, w, b: C.conv2d(x, w, b, stride=2, padding=1, groups=3),
     [(1, 3, 5, 4), (3, 1, 3, 3), (3,)]),
    ("conv_transpose2d", lambda x, w, b: C.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1,
                                                            groups=2), [(1, 4, 3, 3), (4, 1, 3, 2), (2,)]),
    ("conv_transpose2d channels-last", lambda x, w, b: C.conv_transpose2d(x, w, b, stride=2, padding=(1, 0)),
     [(1, 2, 3, 2), (2, 8, 2, 3), (8,)]),
    ("conv_transpose1d", lambda x, w, b: C.conv_transpose1d(x, w, b, stride=3, dilation=2),
     [(2, 2, 3), (2, 3, 2), (3,)]),
]


@pytest.mark.parametrize("name,fn,shapes", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_conv_gradcheck_and_gradgradcheck(name, fn, shapes):
    rng = np.random.default_rng(3)
    inputs = [_t(rng.standard_normal(s)) for s in shapes]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


POOL_GRADCHECK = [
    ("max_pool2d overlapping padded", lambda x: C.max_pool2d(x, 3, 2, 1)),
    ("max_pool2d tiles", lambda x: C.max_pool2d(x, 2)),
    ("max_pool2d dilated ceil", lambda x: C.max_pool2d(x, (2, 3), (1, 2), (1, 1), dilation=(2, 1), ceil_mode=True)),
    ("avg_pool2d tiles", lambda x: C.avg_pool2d(x, 2)),
    ("avg_pool2d padded exclude", lambda x: C.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)),
    ("avg_pool2d divisor_override", lambda x: C.avg_pool2d(x, (2, 3), 1, (1, 0), divisor_override=5)),
    ("adaptive_avg_pool2d uneven bins", lambda x: C.adaptive_avg_pool2d(x, (4, 3))),
    ("adaptive_avg_pool2d to 1", lambda x: C.adaptive_avg_pool2d(x, 1)),
]


@pytest.mark.parametrize("name,fn", POOL_GRADCHECK, ids=[c[0] for c in POOL_GRADCHECK])
def test_pool_gradcheck(name, fn):
    x = _t(np.random.default_rng(4).standard_normal((2, 2, 6, 8)))  # distinct values: no ties
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.parametrize("fn", [lambda x: C.max_pool1d(x, 3, 2, 1), lambda x: C.avg_pool1d(x, 4, 3, 2, True, False)])
def test_pool1d_gradcheck(fn):
    x = _t(np.random.default_rng(5).standard_normal((2, 3, 9)))
    assert gradcheck(fn, (x,))


# ----------------------------------------------------------------------------- higher order vs PyTorch
@pytest.mark.torch
@pytest.mark.parametrize("transpose", [False, True])
def test_conv_double_and_triple_backward_match_torch(transpose):
    """A gradient penalty through conv: d/dw of |dL/dx|^2, then one more order, as in PyTorch."""
    torch = _torch()
    F = torch.nn.functional
    rng = np.random.default_rng(6)
    shapes = [(2, 4, 5, 5), (4, 3, 3, 2)] if transpose else [(2, 4, 6, 5), (6, 2, 3, 2)]
    # (no output_padding: PyTorch itself cannot differentiate conv_transpose2d three times with it)
    kw = dict(stride=2, padding=1) if transpose else dict(stride=2, padding=1, groups=2)
    ours_op = C.conv_transpose2d if transpose else C.conv2d
    torch_op = F.conv_transpose2d if transpose else F.conv2d
    xs, ws = (rng.standard_normal(s) for s in shapes)
    results = []
    for lib, op, mk in ((tg, ours_op, _t), (torch, torch_op, lambda a: torch.tensor(a, requires_grad=True))):
        x, w = mk(xs), mk(ws)
        y = op(x, w, **kw)
        (gx,) = lib.autograd.grad((y * y * y).sum(), [x], create_graph=True)
        (gw,) = lib.autograd.grad((gx * gx).sum(), [w], create_graph=True)
        (gx2,) = lib.autograd.grad((gw * gw * gw).sum(), [x])
        results.append((gx, gw, gx2))
    for ours, ref in zip(*results):
        _close(ours, ref, atol=1e-8)


@pytest.mark.torch
@pytest.mark.parametrize("pool", ["max", "avg"])
def test_pool_double_backward_in_grad_output_matches_torch(pool):
    """The pooling backward is linear in the output gradient v; differentiate through it in v."""
    torch = _torch()
    rng = np.random.default_rng(7)
    xs, vs = rng.standard_normal((2, 2, 7, 7)), rng.standard_normal((2, 2, 4, 4))
    kw = dict(kernel_size=3, stride=2, padding=1)
    results = []
    for lib, F in ((tg, C), (torch, torch.nn.functional)):
        mk = _t if lib is tg else (lambda a: torch.tensor(a, requires_grad=True))
        x, v = mk(xs), mk(vs)
        y = F.max_pool2d(x, **kw) if pool == "max" else F.avg_pool2d(x, **kw)
        (gx,) = lib.autograd.grad(y, [x], v, create_graph=True)
        (gv,) = lib.autograd.grad((gx * gx * x).sum(), [v])
        results.append((gx, gv))
    for ours, ref in zip(*results):
        _close(ours, ref)


# ----------------------------------------------------------------------------- pooling vs PyTorch
@pytest.mark.torch
@SETTINGS
@given(pool_case(2, "max"))
def test_max_pool2d_matches_torch_including_ties_and_indices(case):
    F = _torch().nn.functional
    x, kw, rng = case
    # a dilated window can lie wholly in the padding: it gives -inf, and PyTorch's index (and so its
    # backward, which writes through that index) is then undefined: skip those cases before touching torch
    assume(np.isfinite(C.max_pool2d(_t(x, grad=False), **kw).numpy()).all())
    y, ty, grads = _run_both(lambda a: C.max_pool2d(a, **kw), lambda a: F.max_pool2d(a, **kw), [x], rng)
    _close(y, ty)
    _close(grads[0][0], grads[0][1])  # ties: the gradient goes to the first maximum, as in PyTorch
    torch = _torch()
    idx = C.max_pool2d(_t(x), return_indices=True, **kw)[1]
    tidx = F.max_pool2d(torch.tensor(x), return_indices=True, **kw)[1]
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


@pytest.mark.torch
@SETTINGS
@given(st.integers(0, 2), st.integers(1, 3), st.integers(1, 9), st.integers(1, 9),
       st.sampled_from([1, 2, 3, 4, 5, (2, 3), (None, 2), (3, None), (1, 7), (0, 2)]), st.booleans())
def test_adaptive_avg_pool2d_matches_torch(n, c, h, w, output_size, batched):
    F = _torch().nn.functional
    rng = np.random.default_rng(n * 1000 + c * 100 + h * 10 + w)
    x = rng.standard_normal((n, c, h, w) if batched else (c, h, w))
    y, ty, grads = _run_both(lambda a: C.adaptive_avg_pool2d(a, output_size),
                             lambda a: F.adaptive_avg_pool2d(a, output_size), [x], rng)
    _close(y, ty)
    _close(grads[0][0], grads[0][1])


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_adaptive_avg_pool2d_keeps_the_dtype_and_module_matches_torch(dtype):
    torch = _torch()
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 5)).astype(dtype)
    for size in [1, (3, 2), (None, 4)]:
        ours, theirs = tg.nn.AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size)
        y, ty = ours(tg.tensor(x)), theirs(torch.tensor(x))
        assert y.dtype == np.dtype(dtype) and repr(ours) == repr(theirs)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-3 if dtype == "float16" else 1e-6, atol=1e-6)


@pytest.mark.torch
@SETTINGS
@given(pool_case(2, "avg"), st.sampled_from([None, None, 1, 4]))
def test_avg_pool2d_matches_torch(case, divisor_override):
    F = _torch().nn.functional
    x, kw, rng = case
    kw = dict(kw, divisor_override=divisor_override)
    y, ty, grads = _run_both(lambda a: C.avg_pool2d(a, **kw), lambda a: F.avg_pool2d(a, **kw), [x], rng)
    _close(y, ty)
    _close(grads[0][0], grads[0][1])


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(pool_case(1, "max"), pool_case(1, "avg"))
def test_pool1d_matches_torch(max_case, avg_case):
    F = _torch().nn.functional
    x, kw, rng = max_case
    assume(np.isfinite(C.max_pool1d(_t(x, grad=False), **kw).numpy()).all())  # see the max_pool2d test
    y, ty, grads = _run_both(lambda a: C.max_pool1d(a, **kw), lambda a: F.max_pool1d(a, **kw), [x], rng)
    _close(y, ty)
    _close(grads[0][0], grads[0][1])
    x, kw, rng = avg_case
    y, ty, grads = _run_both(lambda a: C.avg_pool1d(a, **kw), lambda a: F.avg_pool1d(a, **kw), [x], rng)
    _close(y, ty)
    _close(grads[0][0], grads[0][1])


@pytest.mark.torch
def test_max_pool2d_many_offsets_and_all_ties():
    """More than 256 kernel offsets (a wider index dtype) and windows that are entirely ties."""
    torch = _torch()
    F = torch.nn.functional
    rng = np.random.default_rng(8)
    for x, kw in ((rng.standard_normal((1, 2, 18, 17)), dict(kernel_size=17, stride=1)),
                  (np.zeros((2, 3, 4, 6)), dict(kernel_size=2)),
                  (np.ones((1, 1, 5, 5)), dict(kernel_size=3, stride=1, padding=1))):
        y, ty, grads = _run_both(lambda a, kw=kw: C.max_pool2d(a, **kw), lambda a, kw=kw: F.max_pool2d(a, **kw),
                                 [x], rng)
        _close(y, ty)
        _close(grads[0][0], grads[0][1])


# ----------------------------------------------------------------------------- layouts, dtypes, autograd
@pytest.mark.torch
def test_unbatched_inputs_match_torch():
    torch = _torch()
    F = torch.nn.functional
    rng = np.random.default_rng(9)
    x2, w2 = rng.standard_normal((3, 6, 5)), rng.standard_normal((4, 3, 2, 2))
    x1, w1 = rng.standard_normal((3, 6)), rng.standard_normal((4, 3, 2))
    pairs = [
        (C.conv2d(_t(x2), _t(w2), padding=1), F.conv2d(torch.tensor(x2), torch.tensor(w2), padding=1)),
        (C.conv1d(_t(x1), _t(w1), stride=2), F.conv1d(torch.tensor(x1), torch.tensor(w1), stride=2)),
        (C.max_pool2d(_t(x2), 2), F.max_pool2d(torch.tensor(x2), 2)),
        (C.avg_pool1d(_t(x1), 3), F.avg_pool1d(torch.tensor(x1), 3)),
        (C.conv_transpose2d(_t(x2), _t(rng.standard_normal((3, 2, 2, 2))), stride=2),
         None),
    ]
    for ours, ref in pairs[:-1]:
        _close(ours, ref)
    assert pairs[-1][0].shape == (2, 12, 10)
    out, idx = C.max_pool2d(_t(x2), 2, return_indices=True)
    tout, tidx = F.max_pool2d(torch.tensor(x2), 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def test_float32_in_float32_out():
    x = tg.randn(2, 3, 8, 8, requires_grad=True)
    w, b = tg.randn(4, 3, 3, 3, requires_grad=True), tg.randn(4, requires_grad=True)
    outs = [C.conv2d(x, w, b, padding=1), C.conv_transpose2d(x, tg.randn(3, 2, 2, 2), stride=2),
            C.max_pool2d(x, 2), C.avg_pool2d(x, 3, 1, 1), C.conv1d(x[:, :, 0], w[:, :, 0], b)]
    for y in outs:
        assert y.dtype == np.float32
        y.sum().backward()
    for t in (x, w, b):
        assert t.grad.dtype == np.float32


def test_non_contiguous_input():
    rng = np.random.default_rng(10)
    base = rng.standard_normal((6, 2, 3, 5)).astype(np.float32)
    x = tg.tensor(base).permute(1, 0, 3, 2)  # (2, 6, 5, 3), a strided view
    w = tg.tensor(rng.standard_normal((4, 6, 2, 2)).astype(np.float32))
    ref = C.conv2d(tg.tensor(np.ascontiguousarray(x.numpy())), w, padding=1)
    np.testing.assert_allclose(C.conv2d(x, w, padding=1).numpy(), ref.numpy(), rtol=1e-6)


def test_list_arguments_give_the_results_of_tuples():
    """The geometry cache takes lists (unhashable) by converting them; results and gradients agree."""
    rng = np.random.default_rng(11)
    x = _t(rng.standard_normal((2, 3, 7, 6)))
    w = _t(rng.standard_normal((4, 3, 3, 2)))
    grads = []
    for seq in (list, tuple):
        x.grad = w.grad = None
        y = C.conv2d(x, w, stride=seq([2, 1]), padding=seq([1, 0]), dilation=seq([1, 2]))
        z = C.max_pool2d(y, seq([2, 2]), stride=seq([1, 1]))
        z.sum().backward()
        grads.append((z.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    for ours, ref in zip(*grads):
        np.testing.assert_array_equal(ours, ref)


def test_one_element_tuples_stand_for_every_dim():
    """PyTorch expands ``stride=(2,)`` to ``(2, 2)`` for a 2-D op, as it does an int."""
    x, w = tg.randn(1, 2, 8, 8), tg.randn(3, 2, 3, 3)
    np.testing.assert_array_equal(C.conv2d(x, w, stride=(2,), padding=[1], dilation=(1,)).numpy(),
                                  C.conv2d(x, w, stride=2, padding=1, dilation=1).numpy())
    np.testing.assert_array_equal(C.max_pool2d(x, (2,)).numpy(), C.max_pool2d(x, 2).numpy())


@pytest.mark.parametrize("channels", [(2, 5), (8, 9)])  # the flat (few channels) and channels-last paths
@pytest.mark.parametrize("one_d", [False, True])
def test_channels_last_results_flow_through_relu_pool_and_flatten(one_d, channels):
    """Conv outputs are views of other layouts; every later op and every gradient must match C order."""
    rng = np.random.default_rng(12)
    conv, pool = (C.conv1d, C.max_pool1d) if one_d else (C.conv2d, C.max_pool2d)
    spatial = (8,) if one_d else (8, 8)
    (cin, hidden), k = channels, (3,) * len(spatial)
    x0 = rng.standard_normal((3, cin) + spatial)
    w10, w20 = rng.standard_normal((hidden, cin) + k), rng.standard_normal((4, hidden) + k)
    b0, up = rng.standard_normal(hidden), rng.standard_normal((3, 4 * 2 ** len(spatial)))

    def run(contiguous):
        x, w1, w2, b = (tg.tensor(a, requires_grad=True) for a in (x0, w10, w20, b0))
        h = conv(x, w1, b, padding=1)
        if contiguous:
            h = h.contiguous()
        h = pool(tg.relu(h), 2)
        h = conv(h, w2, padding=1)
        if contiguous:
            h = h.contiguous()
        (pool(h, 2).flatten(1) * tg.tensor(up)).sum().backward()
        return h, [t.grad.numpy() for t in (x, w1, w2, b)]

    h, grads = run(contiguous=False)
    h_ref, grads_ref = run(contiguous=True)
    h = h.detach().numpy()
    assert not h.flags.c_contiguous  # (a view: of an (O, N, Hp, Wp) array, or stored channels last)
    if hidden >= 8:
        assert h.strides[1] == 8  # channels innermost
    np.testing.assert_allclose(h, h_ref.detach().numpy(), rtol=1e-12)
    for g, g_ref in zip(grads, grads_ref):
        np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-12)


def test_in_place_change_of_pooled_output_keeps_backward_correct():
    """Max pooling saves the argmax choice, not its output: relu_ on the output is allowed (as in PyTorch)."""
    x = _t(np.random.default_rng(11).standard_normal((1, 1, 4, 4)))
    y = C.max_pool2d(x, 2)
    tg.ops.relu_(y)
    y.sum().backward()
    chosen = x.detach().numpy().reshape(2, 2, 2, 2).max(axis=(1, 3)) > 0
    assert x.grad.numpy().sum() == chosen.sum()


def test_no_graph_under_no_grad_and_indices_still_returned():
    x = tg.randn(1, 2, 4, 4, requires_grad=True)
    with tg.no_grad():
        y, idx = C.max_pool2d(x, 2, return_indices=True)
        z = C.conv2d(x, tg.randn(3, 2, 3, 3, requires_grad=True))
    assert not y.requires_grad and not z.requires_grad
    flat = x.detach().numpy().reshape(1, 2, 16)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(1, 2, 4), 2).reshape(y.shape),
                                  y.numpy())


@pytest.mark.parametrize("channels", [3, 8])  # both column layouts
def test_empty_batch(channels):
    x = tg.randn(0, channels, 5, 5, requires_grad=True)
    w, b = tg.randn(4, channels, 3, 3, requires_grad=True), tg.randn(4, requires_grad=True)
    y = C.conv2d(x, w, b, padding=1)
    assert y.shape == (0, 4, 5, 5)
    (y.sum() + C.max_pool2d(x, 2).sum() + C.avg_pool2d(x, 3, 1, 1).sum()).backward()
    assert x.grad.shape == x.shape
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros(w.shape))
    np.testing.assert_array_equal(b.grad.numpy(), np.zeros(4))
    assert C.conv_transpose2d(tg.randn(0, 4, 3, 3), tg.randn(4, channels, 2, 2), stride=2).shape == (0, channels, 6, 6)


@pytest.mark.torch
@pytest.mark.parametrize("batch", [2, 0])
@pytest.mark.parametrize("nd,padding", [(1, 2), (2, (2, 0)), (2, (1, 2))])
def test_conv_transpose_with_an_output_size_of_zero_is_empty(nd, padding, batch):
    """An output length of exactly 0 gives an empty result and zero gradients, as PyTorch in float32 (its float64
    kernel raises instead); a negative one raises."""
    torch = _torch()
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal((batch, 3) + (2, 3)[:nd]), rng.standard_normal((3, 2) + (3, 2)[:nd]),
              rng.standard_normal(2)]
    ours = getattr(C, f"conv_transpose{nd}d")
    y = ours(*[_t(a) for a in arrays], padding=padding)
    if batch:
        y_t = getattr(torch.nn.functional, f"conv_transpose{nd}d")(
            *(torch.tensor(a, dtype=torch.float32) for a in arrays), padding=padding)
        assert y.shape == tuple(y_t.shape)
    assert 0 in y.shape[2:]
    ins = [_t(a) for a in arrays]
    ours(*ins, padding=padding).sum().backward()
    for a, t in zip(arrays, ins):
        np.testing.assert_array_equal(t.grad.numpy(), np.zeros(a.shape))
    with pytest.raises(ValueError, match=r"gives a negative output size \(-2"):
        ours(_t(arrays[0]), _t(arrays[1]), padding=3)


def test_only_weight_requires_grad():
    x = tg.randn(2, 3, 6, 6)
    w = tg.randn(5, 3, 3, 3, requires_grad=True)
    C.conv2d(x, w, stride=2).sum().backward()
    expected = np.lib.stride_tricks.sliding_window_view(x.numpy(), (3, 3), axis=(2, 3))[:, :, ::2, ::2]
    np.testing.assert_allclose(w.grad.numpy(), np.broadcast_to(expected.sum(axis=(0, 2, 3)), w.shape),
                               rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- errors
ERRORS = [
    (lambda: C.conv2d(tg.randn(3, 8, 8, 1, 1), tg.randn(4, 3, 3, 3)), ValueError,
     r"conv2d: expected a 4-D input \(N, C, H, W\) .* got shape \(3, 8, 8, 1, 1\)"),
    (lambda: C.conv1d(tg.randn(8), tg.randn(4, 1, 3)), ValueError, r"conv1d: expected a 3-D input \(N, C, L\)"),
    (lambda: C.conv2d(tg.randn(1, 3, 8, 8), tg.randn(4, 2, 3, 3)), ValueError,
     r"conv2d: input of shape \(1, 3, 8, 8\) has 3 channels, but weight of shape \(4, 2, 3, 3\) .* expects 2"),
    (lambda: C.conv2d(tg.randn(1, 4, 8, 8), tg.randn(3, 2, 3, 3), groups=2), ValueError,
     r"out_channels \(3\) must both be divisible by groups \(2\)"),
    (lambda: C.conv2d(tg.randn(1, 3, 2, 8), tg.randn(4, 3, 3, 3)), ValueError,
     r"conv2d: input height 2 \(padded to 2\) is smaller than the kernel size 3"),
    (lambda: C.conv2d(tg.randn(1, 3, 8, 8), tg.randn(4, 3, 3, 3), dilation=4), ValueError,
     r"input height 8 \(padded to 8\) is smaller than the dilated kernel size 9"),
    (lambda: C.conv2d(tg.randn(1, 3, 8, 8), tg.randn(4, 3, 3, 3), stride=0), ValueError,
     r"conv2d: stride must be positive, got \(0, 0\)"),
    (lambda: C.conv2d(tg.randn(1, 3, 8, 8), tg.randn(4, 3, 3, 3), padding=-1), ValueError,
     "padding must be non-negative"),
    (lambda: C.conv2d(tg.randn(1, 3, 8, 8), tg.randn(4, 3, 3, 3), stride=(1, 2, 3)), TypeError,
     r"conv2d: stride must be an int or a tuple of 2 ints"),
    (lambda: C.conv2d(tg.randn(1, 3, 8, 8), tg.randn(4, 3, 3, 3), stride=2, padding="same"), ValueError,
     "padding='same' is not supported for strided convolutions"),
    (lambda: C.conv2d(tg.randn(1, 3, 8, 8), tg.randn(4, 3, 3)), ValueError, r"conv2d: expected a 4-D weight"),
    (lambda: C.conv2d(tg.randn(1, 3, 8, 8), tg.ones(0, 3, 3, 3)), ValueError,
     r"at least one channel in and out, got shape \(0, 3, 3, 3\)"),
    (lambda: C.conv2d(tg.randn(1, 3, 8, 8), tg.randn(4, 3, 3, 3), tg.randn(3)), ValueError,
     r"bias of shape \(3,\) should have shape \(4,\)"),
    (lambda: C.conv2d(tg.randn(1, 3, 8, 8).double(), tg.randn(4, 3, 3, 3)), TypeError, "must have the same dtype"),
    (lambda: C.conv2d(tg.ones(1, 3, 8, 8).long(), tg.randn(4, 3, 3, 3)), TypeError, "floating point"),
    (lambda: C.conv2d([[1.0]], tg.randn(4, 3, 3, 3)), TypeError, "conv2d: input must be a Tensor, got list"),
    (lambda: C.conv2d(tg.randn(1, 4, 8, 8), tg.randn(4, 2, 3, 3), groups=0), ValueError,
     "groups must be a positive int"),
    (lambda: C.conv_transpose2d(tg.randn(1, 3, 4, 4), tg.randn(3, 2, 3, 3), stride=2, output_padding=2),
     ValueError, r"output_padding \(2, 2\) must be smaller than either stride \(2, 2\) or dilation"),
    (lambda: C.conv_transpose2d(tg.randn(1, 4, 4, 4), tg.randn(3, 2, 3, 3)), ValueError,
     r"has 4 channels, but weight of shape \(3, 2, 3, 3\) \(C_in, C_out/groups, kH, kW\)"),
    (lambda: C.max_pool2d(tg.randn(1, 1, 8, 8), 2, padding=2), ValueError,
     r"max_pool2d: padding \(2, 2\) must be non-negative and at most half"),
    (lambda: C.max_pool2d(tg.randn(1, 1, 2, 8), 3), ValueError, "max_pool2d: input of shape .* is too small"),
    (lambda: C.max_pool2d(tg.randn(8, 8), 2), ValueError, r"max_pool2d: expected a 4-D input .* got shape \(8, 8\)"),
    (lambda: C.avg_pool2d(tg.randn(1, 1, 8, 8), 0), ValueError, "kernel_size, stride and dilation must be positive"),
    (lambda: C.avg_pool2d(tg.randn(1, 1, 8, 8), 2.5), TypeError, "kernel_size must be an int or a tuple"),
    (lambda: C.avg_pool2d(tg.ones(1, 1, 8, 8).long(), 2), TypeError, "avg_pool2d: expected a floating point input"),
    (lambda: C.avg_pool2d(tg.randn(1, 1, 8, 8), 2, divisor_override=0), ValueError, "divisor_override"),
    (lambda: C.adaptive_avg_pool2d(tg.randn(8, 8), 1), ValueError,
     r"adaptive_avg_pool2d: expected a 4-D input .* got shape \(8, 8\)"),
    (lambda: C.adaptive_avg_pool2d(tg.randn(1, 1, 0, 8), 1), ValueError,
     r"adaptive_avg_pool2d: .*non-zero size.* got shape \(1, 1, 0, 8\)"),
    (lambda: C.adaptive_avg_pool2d(tg.randn(1, 1, 8, 8), (1, 2, 3)), TypeError,
     "adaptive_avg_pool2d: output_size must be an int or a tuple of 2"),
    (lambda: C.adaptive_avg_pool2d(tg.randn(1, 1, 8, 8), True), TypeError,
     "adaptive_avg_pool2d: output_size must be an int or a tuple of 2"),
    (lambda: C.adaptive_avg_pool2d(tg.randn(1, 1, 8, 8), (2, False)), TypeError,
     "adaptive_avg_pool2d: output_size must be an int or a tuple of 2"),
    (lambda: C.adaptive_avg_pool2d(tg.randn(1, 1, 8, 8), -1), RuntimeError,
     r"adaptive_avg_pool2d: output_size must be non-negative, got \(-1, -1\)"),
    (lambda: C.adaptive_avg_pool2d(tg.ones(1, 1, 8, 8).long(), 2), TypeError,
     "adaptive_avg_pool2d: expected a floating point input"),
]


@pytest.mark.parametrize("call,exc,match", ERRORS, ids=[f"error{i}" for i in range(len(ERRORS))])
def test_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ----------------------------------------------------------------------------- NaN, integers, zero channels
_NAN_CASES = [[np.nan, 1.0, 0.0, 3.0], [1.0, np.nan, 0.0, 3.0], [1.0, 0.0, 3.0, np.nan],
              [np.nan, 1.0, np.nan, 3.0], [np.nan, np.nan, np.nan, np.nan]]


@pytest.mark.torch
@pytest.mark.parametrize("values", _NAN_CASES)
@pytest.mark.parametrize("nd,kw", [(1, dict(kernel_size=4)), (1, dict(kernel_size=2, stride=1, padding=1)),
                                   (2, dict(kernel_size=2)), (2, dict(kernel_size=2, stride=1, padding=1)),
                                   (2, dict(kernel_size=(1, 2), stride=1, dilation=(1, 1)))])
def test_max_pool_nan_is_the_maximum_as_in_torch(values, nd, kw):
    """A NaN in a window wins (the last NaN where there are several): the index and the gradient point at it."""
    torch = _torch()
    shape = (1, 1, 4) if nd == 1 else (1, 1, 2, 2)
    ours, theirs = (C.max_pool1d, torch.nn.functional.max_pool1d) if nd == 1 else \
        (C.max_pool2d, torch.nn.functional.max_pool2d)
    x = np.array(values).reshape(shape)
    y, ty, grads = _run_both(lambda a: ours(a, **kw), lambda a: theirs(a, **kw), [x], np.random.default_rng(0))
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    _close(grads[0][0], grads[0][1])
    idx = ours(_t(x, grad=False), return_indices=True, **kw)[1]
    np.testing.assert_array_equal(idx.numpy(), theirs(torch.tensor(x), return_indices=True, **kw)[1].numpy())


def test_max_pool_with_nan_double_backward_routes_through_the_nan():
    x = _t([[[[1.0, 0.0], [3.0, np.nan]]]])
    (g,) = tg.autograd.grad(C.max_pool2d(x, 2, stride=1, padding=1).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy().ravel(), [2, 1, 2, 4])  # PyTorch's; every window's gradient arrives


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "int64"])
def test_max_pool_integer_inputs_as_torch(dtype):
    """PyTorch max-pools integer tensors (2-D always, 1-D with return_indices): same values, dtype and indices."""
    torch = _torch()
    F = torch.nn.functional
    x = np.random.default_rng(1).integers(0, 100, (2, 3, 5, 6)).astype(dtype)
    for kw in [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=2, ceil_mode=True)]:
        y, idx = C.max_pool2d(tg.tensor(x), return_indices=True, **kw)
        ty, tidx = F.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        assert y.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(y.numpy(), ty.numpy())
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        np.testing.assert_array_equal(C.max_pool2d(tg.tensor(x), **kw).numpy(), ty.numpy())
        y1, idx1 = C.max_pool1d(tg.tensor(x[0]), return_indices=True, **kw)
        ty1, tidx1 = F.max_pool1d(torch.tensor(x[0]), return_indices=True, **kw)
        np.testing.assert_array_equal(y1.numpy(), ty1.numpy())
        np.testing.assert_array_equal(idx1.numpy(), tidx1.numpy())
    with pytest.raises(TypeError, match="max_pool1d: .*return_indices=True"):  # PyTorch refuses this one too
        C.max_pool1d(tg.tensor(x[0]), 2)
    with pytest.raises(TypeError, match="max_pool2d: expected"):
        C.max_pool2d(tg.tensor(x > 50), 2)


@pytest.mark.torch
@pytest.mark.parametrize("nd", [1, 2])
def test_conv_with_zero_input_channels_as_torch(nd):
    """PyTorch returns an empty (N, 0, *out) result for zero input channels; the gradients are zeros."""
    torch = _torch()
    fn, tfn = (C.conv1d, torch.nn.functional.conv1d) if nd == 1 else (C.conv2d, torch.nn.functional.conv2d)
    x, w, b = _t(np.ones((2, 0) + (5,) * nd)), _t(np.ones((3, 0) + (2,) * nd)), _t(np.ones(3))
    y = fn(x, w, b)
    ty = tfn(torch.ones((2, 0) + (5,) * nd), torch.ones((3, 0) + (2,) * nd), torch.ones(3))
    assert y.shape == tuple(ty.shape) == (2, 0) + (4,) * nd
    y.sum().backward()
    assert x.grad.shape == x.shape and w.grad.shape == w.shape
    np.testing.assert_array_equal(b.grad.numpy(), np.zeros(3))
    assert fn(_t(np.ones((0,) + (5,) * nd)), w).shape == (0,) + (4,) * nd  # unbatched
    with pytest.raises(ValueError, match="smaller than the kernel"):
        fn(_t(np.ones((2, 0) + (1,) * nd)), w)


def test_conv_padding_of_the_wrong_length_is_named_before_the_channels():
    with pytest.raises(TypeError, match=r"conv2d: padding must be an int or a tuple of 2 ints, got \(1, 0, 1\)"):
        C.conv2d(tg.ones(1, 2, 4, 4), tg.ones(2, 1, 2, 2), padding=(1, 0, 1))
    with pytest.raises(TypeError, match=r"conv1d: stride must be an int or a tuple of 1 ints, got \(1, 1\)"):
        C.conv1d(tg.ones(1, 2, 4), tg.ones(2, 1, 2), stride=(1, 1))


# ----------------------------------------------------------------------------- max pooling: ties with the padding
_PAD_TIES = [  # (nd, input, dtype, keywords, PyTorch's indices)
    (1, [[[0, 0, 3]]], "uint8", dict(kernel_size=2, padding=1), [[[0, 2]]]),
    (2, [[[[0, 0], [0, 0]]]], "uint8", dict(kernel_size=2, padding=1), [[[[0, 1], [2, 3]]]]),
    (1, [[[-np.inf, 1.0]]], "float64", dict(kernel_size=2, stride=1, padding=1), [[[0, 1, 1]]]),
    (2, [[[[0.0, 5.0], [-np.inf, 7.0]]]], "float64", dict(kernel_size=(1, 2), stride=1, padding=(0, 1)),
     [[[[0, 1, 1], [2, 3, 3]]]]),
    (1, [[[-np.inf, np.nan, -np.inf]]], "float64", dict(kernel_size=2, stride=1, padding=1), [[[0, 1, 1, 2]]]),
    (1, [[[-128, -128, 5, -128]]], "int8", dict(kernel_size=3, stride=1, padding=1, dilation=2), [[[1, 2]]]),
    (1, [[[-128, -128, 5, -128, -128]]], "int8", dict(kernel_size=2, stride=1, padding=1, dilation=2),
     [[[1, 2, 1, 2, 3]]]),
    (2, [[[[0, 0, 0], [0, 0, 0]]]], "int16", dict(kernel_size=(2, 3), stride=(1, 2), padding=1, ceil_mode=True),
     [[[[0, 1], [0, 1], [3, 4]]]]),
    (2, [[[[-np.inf, 2.0, -np.inf], [-np.inf, -np.inf, np.nan]]]], "float32",
     dict(kernel_size=(2, 3), stride=(1, 2), padding=1, ceil_mode=True), [[[[1, 1], [1, 5], [3, 5]]]]),
]


@pytest.mark.parametrize("nd,values,dtype,kw,expected", _PAD_TIES)
def test_max_pool_never_chooses_padding_when_a_real_element_ties_with_the_fill(nd, values, dtype, kw, expected):
    """A real element equal to the padding fill (-inf, or the integer dtype's minimum: 0 for uint8) is chosen
    over the padding, as in PyTorch (indices from PyTorch 2.13): the index points at it and, for floats, the
    gradient reaches it; a NaN still wins its window."""
    fn = C.max_pool1d if nd == 1 else C.max_pool2d
    x, expected = np.array(values, dtype=dtype), np.array(expected)
    out, idx = fn(tg.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(idx.numpy(), expected)
    np.testing.assert_array_equal(out.numpy(), x.reshape(-1)[expected])
    if x.dtype.kind == "f":
        xt = tg.tensor(x, requires_grad=True)
        fn(xt, **kw).sum().backward()
        counts = np.bincount(expected.ravel(), minlength=x.size).reshape(x.shape)
        np.testing.assert_array_equal(xt.grad.numpy(), counts)  # each window's 1 at its chosen element


def test_max_pool_window_entirely_in_padding():
    """A dilated window may hold padding only: its value is the fill, its index PyTorch's (the first tap
    not in the leading padding, here past the end) and its gradient is dropped (PyTorch's 2-D kernel may
    send it to an unrelated cell whose flat index aliases that position)."""
    x = tg.tensor(np.array([[[5.0, 6.0]]]), requires_grad=True)
    out, idx = C.max_pool1d(x, 2, stride=2, padding=1, dilation=3, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(out.detach().numpy(), [[[-np.inf]]])
    np.testing.assert_array_equal(idx.numpy(), [[[2]]])  # taps -1 and 2, both padding
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[[0.0, 0.0]]])
    u8 = tg.tensor(np.array([[[[5, 6], [7, 8]]]], dtype=np.uint8))
    out, idx = C.max_pool2d(u8, 2, stride=2, padding=1, dilation=3, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), [[[[0]]]])
    np.testing.assert_array_equal(idx.numpy(), [[[[6]]]])  # PyTorch's: row 2 * width 2 + column 2


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["uint8", "int8", "float64"])
def test_max_pool_padding_ties_match_torch_on_random_inputs(dtype):
    """Inputs made mostly of the fill value, random geometries with padding (dilation, ceil_mode, NaN)."""
    torch = _torch()
    F = torch.nn.functional
    rng = np.random.default_rng(5)
    fill = -np.inf if dtype == "float64" else np.iinfo(dtype).min
    for _ in range(60):
        nd, k = int(rng.integers(1, 3)), int(rng.integers(2, 5))
        kw = dict(kernel_size=k, stride=int(rng.integers(1, 4)), padding=int(rng.integers(1, k // 2 + 1)),
                  dilation=int(rng.integers(1, 3)), ceil_mode=bool(rng.integers(2)))
        x = np.where(rng.random((2, 2) + (6,) * nd) < 0.7, fill, rng.integers(0, 3, (2, 2) + (6,) * nd)).astype(dtype)
        if dtype == "float64":
            x[rng.random(x.shape) < 0.1] = np.nan
        ours, theirs = (C.max_pool1d, F.max_pool1d) if nd == 1 else (C.max_pool2d, F.max_pool2d)
        out, idx = ours(tg.tensor(x), return_indices=True, **kw)
        tout, tidx = theirs(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(out.numpy(), tout.numpy(), err_msg=str(kw))
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy(), err_msg=str(kw))
        if dtype == "float64":
            xt, tx = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            g = rng.standard_normal(out.shape)
            ours(xt, **kw).backward(tg.tensor(g))
            theirs(tx, **kw).backward(torch.tensor(g))
            np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), err_msg=str(kw))


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("trained", ["weight", "bias", "neither"])
def test_a_frozen_weight_or_bias_gets_no_gradient_and_the_others_torchs(nd, trained):
    """The bias is folded into the forward gemm; each of the backward's three cases must still be right."""
    torch = _torch()
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((3, 2) + (7,) * nd), rng.standard_normal((4, 2) + (3,) * nd), rng.standard_normal(4)]
    needs = [True, trained == "weight", trained == "bias"]
    ours = [tg.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    theirs = [torch.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
    op, torch_op = (C.conv1d, torch.nn.functional.conv1d) if nd == 1 else (C.conv2d, torch.nn.functional.conv2d)
    out, tout = op(*ours, padding=1), torch_op(*theirs, padding=1)
    g = rng.standard_normal(out.shape)
    out.backward(tg.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    for t, tt in zip(ours, theirs):
        assert (t.grad is None) == (tt.grad is None)
        if t.grad is not None:
            np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_max_pool_backward_and_double_backward_with_an_inf_gradient_as_torch():
    """Only each window's chosen element gets the gradient: an inf there must not make the others NaN (inf * 0)."""
    torch = _torch()
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    v = np.ones((1, 2, 4, 4))
    v[0, 0, 0, 0] = np.inf
    u = np.ones(x.shape)
    u[0, 1, 2, 2] = np.inf
    t, tt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g = tg.tensor(v, requires_grad=True)
    tgv = torch.tensor(v, requires_grad=True)
    (gx,) = tg.autograd.grad(C.max_pool2d(t, 2, 1), t, g, create_graph=True)
    (tgx,) = torch.autograd.grad(torch.nn.functional.max_pool2d(tt, 2, 1), tt, tgv, create_graph=True)
    np.testing.assert_array_equal(gx.detach().numpy(), tgx.detach().numpy())
    (gg,) = tg.autograd.grad(gx, g, tg.tensor(u))
    (tgg,) = torch.autograd.grad(tgx, tgv, torch.tensor(u))
    np.testing.assert_array_equal(gg.numpy(), tgg.numpy())
