"""float64 finite-difference checks of every layer and loss (inputs and parameters), over shapes drawn
by hypothesis; second derivatives of the fused ops in ops/nnops.py."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nn_oracle import gradcheck_module

import tinygradnn as tg
from tinygradnn import nn
from tinygradnn.autograd import gradcheck, gradgradcheck
from tinygradnn.nn import functional as F

FEW = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
size = st.integers(1, 3)
seed = st.integers(0, 2**16)


def normal(s, *shape):
    return np.random.default_rng(s).standard_normal(shape)


def t64(array, requires_grad=True):
    return tg.tensor(np.asarray(array, np.float64), requires_grad=requires_grad)


# ----------------------------------------------------------------------------- layers
@FEW
@given(n=size, fin=size, fout=size, lead=st.sampled_from([(), (2,)]), bias=st.booleans(), s=seed)
def test_linear(n, fin, fout, lead, bias, s):
    gradcheck_module(nn.Linear(fin, fout, bias=bias), normal(s, *lead, n, fin))


@FEW
@given(cin=st.integers(1, 2), cout=st.integers(1, 2), length=st.integers(3, 6), k=size, stride=st.integers(1, 2),
       padding=st.integers(0, 1), s=seed)
def test_conv1d(cin, cout, length, k, stride, padding, s):
    gradcheck_module(nn.Conv1d(cin, cout, k, stride=stride, padding=padding), normal(s, 2, cin, length))


@FEW
@given(cin=st.integers(1, 2), cout=st.integers(1, 2), hw=st.integers(3, 4), k=st.integers(1, 2),
       stride=st.integers(1, 2), dilation=st.integers(1, 2), s=seed)
def test_conv2d(cin, cout, hw, k, stride, dilation, s):
    gradcheck_module(nn.Conv2d(cin, cout, k, stride=stride, padding=1, dilation=dilation), normal(s, 1, cin, hw, hw))


def test_conv2d_groups():
    gradcheck_module(nn.Conv2d(4, 2, 2, groups=2, bias=False), normal(0, 1, 4, 3, 3))


@FEW
@given(layer=st.sampled_from(["MaxPool1d", "AvgPool1d"]), k=st.integers(1, 3), length=st.integers(3, 7), s=seed)
def test_pool1d(layer, k, length, s):
    gradcheck_module(getattr(nn, layer)(k, stride=1, padding=k // 2), normal(s, 2, 2, length))


@FEW
@given(layer=st.sampled_from(["MaxPool2d", "AvgPool2d"]), k=st.integers(1, 2), hw=st.integers(2, 5), s=seed)
def test_pool2d(layer, k, hw, s):
    gradcheck_module(getattr(nn, layer)(k), normal(s, 1, 2, hw, hw))


@FEW
@given(n=st.integers(2, 4), c=size, extra=st.sampled_from([(), (3,)]), affine=st.booleans(), training=st.booleans(),
       s=seed)
def test_batchnorm1d(n, c, extra, affine, training, s):
    bn = nn.BatchNorm1d(c, affine=affine)
    bn.running_mean._data[...] = normal(s, c)
    bn.running_var._data[...] = 1 + np.abs(normal(s + 1, c))
    if affine:
        bn.weight._data[...], bn.bias._data[...] = normal(s + 2, c), normal(s + 3, c)
    gradcheck_module(bn.train(training), normal(s, n, c, *extra))


@FEW
@given(n=st.integers(1, 2), c=size, hw=st.integers(1, 3), s=seed)
def test_batchnorm2d(n, c, hw, s):
    if n * hw * hw == 1:
        hw = 2
    gradcheck_module(nn.BatchNorm2d(c), normal(s, n, c, hw, hw))


@FEW
@given(lead=st.sampled_from([(), (2,), (2, 1)]), norm=st.sampled_from([(1,), (3,), (2, 3)]), affine=st.booleans(),
       bias=st.booleans(), s=seed)
def test_layernorm(lead, norm, affine, bias, s):
    ln = nn.LayerNorm(norm, elementwise_affine=affine, bias=bias)
    for i, p in enumerate(ln.parameters()):
        p._data[...] = normal(s + i, *norm)
    gradcheck_module(ln, normal(s, *lead, *norm))


@FEW
@given(n=st.integers(1, 2), groups=st.sampled_from([1, 2]), per=st.integers(1, 2), extra=st.sampled_from([(), (3,)]),
       affine=st.booleans(), s=seed)
def test_groupnorm(n, groups, per, extra, affine, s):
    gn = nn.GroupNorm(groups, groups * per, affine=affine)
    for i, p in enumerate(gn.parameters()):
        p._data[...] = normal(s + i, groups * per)
    gradcheck_module(gn, normal(s, n + 1, groups * per, *extra))


@FEW
@given(shapes=st.sampled_from([((3, 4), (3, 4)), ((2, 3), (1, 3)), ((4,), (4,))]), s=seed)
def test_cosine_similarity(shapes, s):
    a, b = t64(normal(s, *shapes[0])), t64(normal(s + 1, *shapes[1]))
    assert gradcheck(lambda a, b: F.cosine_similarity(a, b, -1), (a, b))


@FEW
@given(num=st.integers(2, 5), dim=size, s=seed)
def test_embedding(num, dim, s):  # (padding_idx withholds a gradient on purpose: see test_nn_layers)
    ids = np.random.default_rng(s).integers(0, num, (2, 3))
    gradcheck_module(nn.Embedding(num, dim), ids)


def test_dropout_with_a_fixed_mask():
    x = t64(normal(0, 4, 5))

    def fn(x):
        tg.manual_seed(1)  # the same mask on every call
        return F.dropout(x, 0.4)

    assert gradcheck(fn, (x,))
    assert gradgradcheck(lambda x: fn(x) * x, (x,))


def test_channel_dropout_with_a_fixed_mask():
    for fn, shape in ((F.dropout1d, (3, 4, 2)), (F.dropout2d, (2, 3, 2, 2))):
        def seeded(x, fn=fn):
            tg.manual_seed(2)  # the same mask on every call
            return fn(x, 0.4)

        x = t64(normal(0, *shape))
        assert gradcheck(seeded, (x,))
        assert gradgradcheck(lambda x, seeded=seeded: seeded(x) * x, (x,))


@FEW
@given(layer=st.sampled_from(["ReLU", "LeakyReLU", "Tanh", "Sigmoid", "GELU", "ELU", "Softplus", "SiLU", "Mish",
                              "Hardtanh", "ReLU6"]), s=seed)
def test_elementwise_activations(layer, s):
    gradcheck_module(getattr(nn, layer)(), normal(s, 3, 4))


@FEW
@given(layer=st.sampled_from(["Softmax", "LogSoftmax"]), dim=st.sampled_from([0, 1, -1]), s=seed)
def test_softmax_layers(layer, dim, s):
    gradcheck_module(getattr(nn, layer)(dim=dim), normal(s, 3, 4))


def test_module_chain():
    model = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3), nn.Tanh())
    gradcheck_module(model, normal(0, 2, 1, 3, 3))


# ----------------------------------------------------------------------------- losses
@FEW
@given(reduction=st.sampled_from(["mean", "sum", "none", "batchmean"]), log_target=st.booleans(), s=seed)
def test_kl_div(reduction, log_target, s):
    x = t64(normal(s, 3, 4))
    t = normal(s + 1, 3, 4) if log_target else np.abs(normal(s + 1, 3, 4)) + 0.1
    fn = F.kl_div if reduction != "mean" else lambda *a, **k: F.kl_div(*a, size_average=True, **k)
    kwargs = {"log_target": log_target} | ({"reduction": reduction} if reduction != "mean" else {})
    _check_loss(fn, x, t64(t), **kwargs)


def _check_loss(fn, x, target, **kwargs):
    """gradcheck in the input, and in the target too when it is a float tensor."""
    inputs = (x, target) if isinstance(target, tg.Tensor) and target.requires_grad else (x,)
    assert gradcheck(lambda *a: fn(a[0], target if len(a) == 1 else a[1], **kwargs), inputs)


@FEW
@given(name=st.sampled_from(["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"]),
       reduction=st.sampled_from(["mean", "sum", "none"]), shape=st.sampled_from([(3,), (2, 3)]), s=seed)
def test_regression_losses(name, reduction, shape, s):
    _check_loss(getattr(F, name), t64(normal(s, *shape)), t64(normal(s + 1, *shape)), reduction=reduction)


@FEW
@given(reduction=st.sampled_from(["mean", "sum", "none"]), weighted=st.booleans(), s=seed)
def test_bce(reduction, weighted, s):
    rng = np.random.default_rng(s)
    p, t = t64(rng.uniform(0.05, 0.95, (2, 3))), t64(rng.uniform(0, 1, (2, 3)))
    weight = tg.tensor(rng.uniform(0.5, 2, 3)) if weighted else None
    _check_loss(F.binary_cross_entropy, p, t, weight=weight, reduction=reduction)


@FEW
@given(reduction=st.sampled_from(["mean", "sum", "none"]), pos=st.booleans(), s=seed)
def test_bce_with_logits(reduction, pos, s):
    rng = np.random.default_rng(s)
    pos_weight = tg.tensor(rng.uniform(0.5, 2, 3)) if pos else None
    _check_loss(F.binary_cross_entropy_with_logits, t64(3 * normal(s, 2, 3)), t64(rng.uniform(0, 1, (2, 3))),
                pos_weight=pos_weight, reduction=reduction)


@FEW
@given(n=size, c=st.integers(2, 4), extra=st.sampled_from([(), (2,)]),
       reduction=st.sampled_from(["mean", "sum", "none"]), weighted=st.booleans(),
       smoothing=st.sampled_from([0.0, 0.2]), ignore=st.booleans(), s=seed)
def test_cross_entropy_labels(n, c, extra, reduction, weighted, smoothing, ignore, s):
    rng = np.random.default_rng(s)
    labels = rng.integers(0, c, (n, *extra))
    if ignore:
        labels.flat[0] = -100
        labels.flat[-1] = 0  # at least one label counts
    weight = tg.tensor(rng.uniform(0.5, 2, c)) if weighted else None
    _check_loss(F.cross_entropy, t64(normal(s, n, c, *extra)), tg.tensor(labels), weight=weight,
                label_smoothing=smoothing, reduction=reduction)


@FEW
@given(n=size, c=st.integers(2, 4), reduction=st.sampled_from(["mean", "sum", "none"]),
       smoothing=st.sampled_from([0.0, 0.2]), s=seed)
def test_cross_entropy_probabilities(n, c, reduction, smoothing, s):
    probs = np.random.default_rng(s).dirichlet(np.ones(c), n)
    _check_loss(F.cross_entropy, t64(normal(s, n, c)), t64(probs), label_smoothing=smoothing, reduction=reduction)


@FEW
@given(n=size, c=st.integers(2, 4), reduction=st.sampled_from(["mean", "sum", "none"]), weighted=st.booleans(), s=seed)
def test_nll_loss(n, c, reduction, weighted, s):
    rng = np.random.default_rng(s)
    weight = tg.tensor(rng.uniform(0.5, 2, c)) if weighted else None
    _check_loss(F.nll_loss, t64(normal(s, n, c)), tg.tensor(rng.integers(0, c, n)), weight=weight,
                reduction=reduction)


# ----------------------------------------------------------------------------- second derivatives of fused ops
def test_linear_double_backward():
    x, w, b = t64(normal(0, 3, 4)), t64(normal(1, 2, 4)), t64(normal(2, 2))
    assert gradgradcheck(lambda x, w, b: F.linear(x, w, b).tanh(), (x, w, b))
    x3 = t64(normal(3, 2, 3, 4))
    assert gradgradcheck(lambda x, w: F.linear(x, w).tanh(), (x3, w))


def test_cross_entropy_double_backward():
    x, y = t64(normal(0, 4, 3)), tg.tensor([0, 2, 1, 2])
    x3, y3 = t64(normal(1, 2, 3, 2)), tg.tensor([[0, 2], [1, 1]])  # (N, C, L): the fused node too
    for reduction in ("mean", "sum", "none"):
        assert gradgradcheck(lambda x, r=reduction: F.cross_entropy(x, y, reduction=r), (x,))
        assert gradgradcheck(lambda x, r=reduction: F.cross_entropy(x, y3, reduction=r), (x3,))


def test_mse_double_backward():
    x, t = t64(normal(0, 2, 3)), t64(normal(1, 2, 3))
    for reduction in ("mean", "sum"):  # the fused node; 'none' is composed of ordinary ops
        assert gradgradcheck(lambda x, t, r=reduction: F.mse_loss(x.tanh(), t, reduction=r), (x, t))


def test_bce_double_backward():
    rng = np.random.default_rng(0)
    p, t = t64(rng.uniform(0.1, 0.9, 5)), t64(rng.uniform(0, 1, 5))
    assert gradgradcheck(lambda p, t: F.binary_cross_entropy(p, t, reduction="none"), (p, t))


def test_batch_norm_double_backward():
    x, w, b = t64(normal(0, 4, 2)), t64(normal(1, 2)), t64(normal(2, 2))
    assert gradgradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    x4 = t64(normal(3, 2, 2, 3, 2))  # (statistics over N, H and W)
    assert gradgradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x4, w, b))
    assert gradgradcheck(lambda x, w: F.batch_norm(x, None, None, w, None, training=True), (x4, w))


def _double_backward_ok(fn, inputs):
    """gradgradcheck, and the recorded first gradients (create_graph) equal the plain ones."""
    out = fn(*inputs)
    v = tg.tensor(normal(9, *out.shape))
    plain = tg.autograd.grad(fn(*inputs), inputs, v)
    recorded = tg.autograd.grad(fn(*inputs), inputs, v, create_graph=True)
    for p, r in zip(plain, recorded):
        np.testing.assert_allclose(r.detach().numpy(), p.numpy(), rtol=1e-10, atol=1e-12)
    return gradgradcheck(fn, inputs)


def test_normalization_double_backward():
    """The fused normalisation node differentiates its own backward (weight and bias each optional)."""
    x, w, b = t64(normal(0, 3, 2, 3)), t64(normal(1, 2, 3)), t64(normal(2, 2, 3))
    assert _double_backward_ok(lambda x, w, b: F.layer_norm(x, (2, 3), w, b), (x, w, b))
    assert _double_backward_ok(lambda x, b: F.layer_norm(x, (3,), None, b[0]) ** 2, (x, b))
    assert _double_backward_ok(lambda x: F.layer_norm(x, (3,)) ** 2, (x,))
    x4, w4, b4 = t64(normal(3, 2, 4, 3)), t64(normal(4, 4)), t64(normal(5, 4))
    assert _double_backward_ok(lambda x, w, b: F.group_norm(x, 2, w, b), (x4, w4, b4))
    assert _double_backward_ok(lambda x, w: F.group_norm(x, 4, w) ** 2, (x4, w4))
    assert _double_backward_ok(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True) ** 2, (x4, w4, b4))
    assert _double_backward_ok(lambda x, b: F.batch_norm(x, None, None, None, b, training=True) ** 2, (x4, b4))


@given(fn=st.sampled_from([F.softmax, F.log_softmax]), dim=st.sampled_from([0, 1, -1]), s=seed)
@FEW
def test_softmax_double_backward(fn, dim, s):
    x = t64(normal(s, 3, 4, 2))
    assert gradgradcheck(lambda x: fn(x, dim) * x, (x,))


@FEW
@given(num=st.sampled_from([1, 3]), extra=st.sampled_from([(), (2,), (2, 2)]), s=seed)
def test_prelu(num, extra, s):
    layer = nn.PReLU(num)
    layer.weight.data = tg.tensor(normal(s + 1, num).astype(np.float32))
    gradcheck_module(layer, normal(s, 2, 3 if num == 3 else 2, *extra))
    x, w = t64(normal(s, 2, 3)), t64(normal(s + 1, 3))
    assert gradgradcheck(lambda x, w: F.prelu(x, w) * x, (x, w))


@FEW
@given(layer=st.sampled_from(["AdaptiveMaxPool1d", "AdaptiveAvgPool1d"]), out=st.integers(1, 5),
       length=st.integers(1, 7), s=seed)
def test_adaptive_pool1d(layer, out, length, s):
    gradcheck_module(getattr(nn, layer)(out), normal(s, 2, 2, length))


@FEW
@given(out=st.sampled_from([1, 2, 3, (2, None), (4, 1)]), h=st.integers(1, 5), w=st.integers(1, 5), s=seed)
def test_adaptive_max_pool2d(out, h, w, s):
    gradcheck_module(nn.AdaptiveMaxPool2d(out), normal(s, 1, 2, h, w))
    x = t64(normal(s, 1, 2, h, w))
    assert gradgradcheck(lambda x: F.adaptive_max_pool2d(x, out) ** 2, (x,))


@FEW
@given(mode=st.sampled_from(["nearest", "nearest-exact", "bilinear"]), size=st.sampled_from([(1, 4), (3, 2), (5, 7)]),
       align=st.booleans(), s=seed)
def test_upsample(mode, size, align, s):
    align = align if mode == "bilinear" else None
    gradcheck_module(nn.Upsample(size=size, mode=mode, align_corners=align), normal(s, 1, 2, 3, 4))
    x = t64(normal(s, 1, 2, 3))
    assert gradgradcheck(lambda x: F.interpolate(x, scale_factor=1.7, mode="linear") ** 2, (x,))
