"""Attention: ``F.scaled_dot_product_attention``, ``nn.MultiheadAttention``, ``nn.TransformerEncoderLayer`` and
``nn.TransformerEncoder`` against PyTorch with copied weights and the same inputs (outputs, attention weights,
gradients of the inputs, masks and every parameter), float64 gradient checks, the state_dict layout and
initialisation, the errors, and a small task that trains."""

import math
import warnings

import numpy as np
import pytest
from helpers import requires_torch
from nn_oracle import assert_close, torch_state

import tinygradnn as tg
import tinygradnn.nn.functional as F
from tinygradnn import nn
from tinygradnn.autograd import gradcheck, gradgradcheck

try:
    import torch
    import torch.nn.functional as TF
except ImportError:
    torch = TF = None

TOL = {np.float32: {"rtol": 1e-4, "atol": 1e-5}, np.float64: {"rtol": 1e-9, "atol": 1e-11}}


def _ids(cases):
    return ["-".join(f"{k}={v}" for k, v in c.items()) or "default" for c in cases]


def _both(a, grad=True):
    """``a`` (an array, or None) as our tensor and as PyTorch's; float arrays require grad when ``grad``."""
    if a is None:
        return None, None
    g = grad and a.dtype.kind == "f"
    return tg.tensor(a, requires_grad=g), torch.tensor(a, requires_grad=g)


def _compare(out, tout, ours, theirs, dtype, ours_module=None, theirs_module=None):
    """Compare the outputs (None allowed), then every gradient for random upstream gradients: the tensors in
    ``ours``/``theirs`` that require grad and, with modules, every parameter."""
    pairs = [(o, t) for o, t in zip(out, tout) if not (o is None and t is None)]
    for i, (o, t) in enumerate(pairs):
        assert o is not None and t is not None, f"output {i}: one side is None"
        a, b = o.detach().numpy(), t.detach().numpy()
        assert a.shape == b.shape, f"output {i}: shape {a.shape} != torch's {b.shape}"
        np.testing.assert_allclose(a, b, **TOL[dtype], equal_nan=True, err_msg=f"output {i}")
    rng = np.random.default_rng(1)
    vs = [rng.standard_normal(o.shape).astype(dtype) for o, _ in pairs]
    finite = [np.isfinite(t.detach().numpy()) for _, t in pairs]  # (NaN rows, as PyTorch's, get no gradient)
    sum((o * tg.tensor(np.where(f, v, 0))).sum() for (o, _), v, f in zip(pairs, vs, finite)).backward()
    sum((t.nan_to_num(0.0) * torch.from_numpy(np.where(f, v, 0))).sum()
        for (_, t), v, f in zip(pairs, vs, finite)).backward()
    for i, (x, tx) in enumerate(zip(ours, theirs)):
        if x is not None and x.requires_grad:
            assert_close(x.grad, tx.grad, **TOL[dtype], what=f"gradient of input {i}")
    if ours_module is not None:
        tparams = dict(theirs_module.named_parameters())
        for name, p in ours_module.named_parameters():
            if tparams[name].grad is None:
                assert p.grad is None or not p.grad.numpy().any(), f"{name}: torch has no gradient"
            else:
                assert_close(p.grad, tparams[name].grad, **TOL[dtype], what=f"gradient of {name}")


# ----------------------------------------------------------------------------- scaled_dot_product_attention
SDPA_CASES = [
    {"q": (3, 4), "k": (5, 4), "v": (5, 6)},
    {"q": (2, 3, 4), "k": (2, 5, 4), "v": (2, 5, 6)},
    {"q": (2, 2, 3, 4), "k": (2, 2, 5, 4), "v": (2, 2, 5, 6)},
    {"q": (2, 1, 3, 4), "k": (1, 2, 5, 4), "v": (1, 2, 5, 6)},  # batch dims broadcast
    {"q": (3, 4), "k": (2, 5, 4), "v": (2, 5, 6)},
    {"q": (2, 3, 4), "k": (2, 5, 4), "v": (2, 5, 6), "mask": "bool"},
    {"q": (2, 3, 4), "k": (2, 5, 4), "v": (2, 5, 6), "mask": "bool-dead"},  # a query that sees no key
    {"q": (2, 3, 4), "k": (2, 5, 4), "v": (2, 5, 6), "mask": "float"},
    {"q": (2, 3, 4), "k": (2, 5, 4), "v": (2, 5, 6), "mask": "float-dead"},
    {"q": (2, 2, 3, 4), "k": (2, 2, 5, 4), "v": (2, 2, 5, 6), "mask": "bool-batched"},
    {"q": (2, 3, 4), "k": (2, 5, 4), "v": (2, 5, 6), "is_causal": True},
    {"q": (2, 5, 4), "k": (2, 3, 4), "v": (2, 3, 6), "is_causal": True},  # L > S
    {"q": (2, 3, 4), "k": (2, 5, 4), "v": (2, 5, 6), "scale": 0.7},
    {"q": (2, 3, 4), "k": (2, 5, 4), "v": (2, 5, 6), "scale": 0.0, "mask": "bool"},
    {"q": (1, 4, 3, 4), "k": (1, 2, 5, 4), "v": (1, 2, 5, 6), "enable_gqa": True},
    {"q": (2, 3, 4), "k": (2, 0, 4), "v": (2, 0, 6)},  # no keys: zeros
    {"q": (2, 3, 0), "k": (2, 5, 0), "v": (2, 5, 6)},  # E = 0: uniform weights
]


def _mask(kind, shape_ls, rng, dtype):
    lead = (2, 2) if kind.endswith("batched") else ()
    keep = rng.random(lead + shape_ls) > 0.4
    keep[..., 0] = True
    if "dead" in kind:
        keep[..., 1, :] = False
    if kind.startswith("bool"):
        return keep
    return np.where(keep, rng.standard_normal(keep.shape), -np.inf).astype(dtype)


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", SDPA_CASES, ids=[str(i) for i in range(len(SDPA_CASES))])
def test_sdpa_matches_torch(case, dtype):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(case[n]).astype(dtype) for n in "qkv"]
    mask = None if "mask" not in case else _mask(case["mask"], (case["q"][-2], case["k"][-2]), rng, dtype)
    kw = {k: case[k] for k in ("is_causal", "scale", "enable_gqa") if k in case}
    xs, txs = zip(*(_both(a) for a in [*arrays, mask]))
    out = F.scaled_dot_product_attention(*xs[:3], attn_mask=xs[3], **kw)
    tout = TF.scaled_dot_product_attention(*txs[:3], attn_mask=txs[3], **kw)
    _compare([out], [tout], xs, txs, dtype)


def test_sdpa_fully_masked_rows_give_zeros_and_zero_gradients():
    q, k, v = (tg.randn(2, 3, 4, requires_grad=True) for _ in range(3))
    keep = np.ones((3, 3), dtype=bool)
    keep[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=tg.tensor(keep))
    assert not out[:, 1].detach().numpy().any() and np.isfinite(out.detach().numpy()).all()
    out.sum().backward()
    assert not q.grad.numpy()[:, 1].any() and all(np.isfinite(t.grad.numpy()).all() for t in (q, k, v))
    xs = [tg.tensor(np.random.default_rng(0).standard_normal((2, 3, 3)), requires_grad=True) for _ in range(3)]
    assert gradgradcheck(lambda *t: F.scaled_dot_product_attention(*t, attn_mask=tg.tensor(keep)), xs)


def test_sdpa_default_scale_is_one_over_sqrt_e():
    q, k, v = tg.randn(3, 16), tg.randn(5, 16), tg.randn(5, 2)
    expected = ((q @ k.T) / 4.0).softmax(-1) @ v
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v).numpy(), expected.numpy(), rtol=1e-5)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, scale=0.25).numpy(), expected.numpy(),
                               rtol=1e-5)


def test_sdpa_dropout_uses_the_global_generator():
    q, k, v = tg.randn(2, 6, 4), tg.randn(2, 6, 4), tg.randn(2, 6, 3)
    plain = F.scaled_dot_product_attention(q, k, v).numpy()
    tg.manual_seed(3)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    tg.manual_seed(3)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, plain)
    assert not F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy().any()


@pytest.mark.parametrize("kw", [{}, {"is_causal": True}, {"mask": "bool"}, {"mask": "float"}, {"scale": 0.3}],
                         ids=_ids([{}, {"is_causal": True}, {"mask": "bool"}, {"mask": "float"}, {"scale": 0.3}]))
def test_sdpa_gradcheck(kw):
    rng = np.random.default_rng(2)
    kw = dict(kw)
    arrays = [rng.standard_normal(s) for s in [(2, 3, 2), (2, 4, 2), (2, 4, 3)]]
    mask = kw.pop("mask", None)
    if mask == "bool":
        kw["attn_mask"] = tg.tensor(_mask("bool", (3, 4), rng, np.float64))
    elif mask == "float":
        arrays.append(_mask("float", (3, 4), rng, np.float64).clip(-5, None))
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]

    def fn(*t):
        return F.scaled_dot_product_attention(*t[:3], attn_mask=t[3] if len(t) > 3 else kw.get("attn_mask"),
                                              **{k: v for k, v in kw.items() if k != "attn_mask"})

    assert gradcheck(fn, xs)
    assert gradgradcheck(fn, xs)


SDPA_ERRORS = [
    ((3, 4), (5, 3), (5, 6), {}),  # E differs
    ((3, 4), (5, 4), (4, 6), {}),  # S differs
    ((4,), (5, 4), (5, 6), {}),  # 1-D query
    ((2, 3, 4), (3, 5, 4), (3, 5, 6), {}),  # batch dims do not broadcast
    ((3, 4), (5, 4), (5, 6), {"attn_mask": "int"}),
    ((3, 4), (5, 4), (5, 6), {"attn_mask": "bool", "is_causal": True}),
    ((3, 4), (5, 4), (5, 6), {"dropout_p": 1.5}),
    ((1, 4, 3, 4), (1, 3, 5, 4), (1, 3, 5, 6), {"enable_gqa": True}),
    ((1, 4, 3, 4), (1, 2, 5, 4), (1, 2, 5, 6), {}),  # more query heads without enable_gqa
]


@requires_torch
@pytest.mark.parametrize("shapes_kw", SDPA_ERRORS, ids=[str(i) for i in range(len(SDPA_ERRORS))])
def test_sdpa_errors_are_torchs(shapes_kw):
    *shapes, kw = shapes_kw
    kw = dict(kw)
    mask = kw.pop("attn_mask", None)
    m = None if mask is None else (np.ones((shapes[0][-2], shapes[1][-2]), dtype=bool if mask == "bool" else int))
    with pytest.raises(RuntimeError) as theirs:
        TF.scaled_dot_product_attention(*(torch.zeros(s) for s in shapes),
                                        attn_mask=None if m is None else torch.tensor(m), **kw)
    with pytest.raises(RuntimeError) as ours:
        F.scaled_dot_product_attention(*(tg.zeros(*s) for s in shapes),
                                       attn_mask=None if m is None else tg.tensor(m), **kw)
    assert theirs.type is ours.type
    message = str(ours.value)
    assert "shape" in message or "dtype" in message or "is_causal" in message or "probability" in message \
        or "heads" in message or "broadcast" in message, message


def test_sdpa_error_messages_name_the_shapes_and_dtypes():
    with pytest.raises(RuntimeError, match=r"query of shape \(3, 4\) and key of shape \(5, 3\)"):
        F.scaled_dot_product_attention(tg.zeros(3, 4), tg.zeros(5, 3), tg.zeros(5, 6))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(tg.zeros(3, 4, dtype=tg.float64), tg.zeros(5, 4), tg.zeros(5, 6))
    with pytest.raises(RuntimeError, match="floating point"):
        F.scaled_dot_product_attention(*(tg.zeros(3, 4, dtype=tg.int64) for _ in range(3)))
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        F.scaled_dot_product_attention(tg.zeros(3, 4), tg.zeros(5, 4), tg.zeros(5, 6),
                                       attn_mask=tg.zeros(3, 5, dtype=tg.float64))


# ----------------------------------------------------------------------------- MultiheadAttention
MHA_CONFIGS = [
    {},
    {"batch_first": True},
    {"bias": False},
    {"kdim": 3, "vdim": 5},
    {"kdim": 3, "vdim": 5, "batch_first": True, "bias": False},
    {"add_bias_kv": True},
    {"add_zero_attn": True},
    {"add_bias_kv": True, "add_zero_attn": True, "batch_first": True},
    {"num_heads": 1},
    {"num_heads": 4},
]
MASKS = [
    {},
    {"kpm": "bool"},
    {"kpm": "float"},
    {"am": "bool"},
    {"am": "float3d"},
    {"kpm": "bool", "am": "bool"},
    {"kpm": "float", "am": "float"},
    {"am": "causal", "is_causal": True},
    {"am": "causal", "is_causal": True, "kpm": "bool"},  # (the hint is dropped: the merged mask is used)
    {"kpm": "bool-dead"},  # a sequence with every key padded: NaN with weights, zeros without (as PyTorch)
]
CALLS = [{}, {"need_weights": False}, {"average_attn_weights": False}]


def _mha_twins(kwargs, dtype, seed=0):
    torch.manual_seed(seed)
    theirs = torch.nn.MultiheadAttention(**kwargs).to(getattr(torch, np.dtype(dtype).name))
    ours = nn.MultiheadAttention(**kwargs, dtype=dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(torch_state(theirs))
    return ours, theirs


def _mha_inputs(kwargs, masks, dtype, unbatched=False, self_attention=False, rng=None):
    rng = rng or np.random.default_rng(0)
    e, heads = kwargs["embed_dim"], kwargs["num_heads"]
    L, S, N = 4, (4 if self_attention else 5), 3
    bf = kwargs.get("batch_first", False)

    def shape(length, dim):
        return (length, dim) if unbatched else (N, length, dim) if bf else (length, N, dim)

    q = rng.standard_normal(shape(L, e)).astype(dtype)
    k = q if self_attention else rng.standard_normal(shape(S, kwargs.get("kdim") or e)).astype(dtype)
    v = q if self_attention else rng.standard_normal(shape(S, kwargs.get("vdim") or e)).astype(dtype)
    kpm = am = None
    kind = masks.get("kpm")
    if kind:
        pad = rng.random((N, S)) > 0.6
        pad[:, 0] = False
        if kind == "bool-dead":
            pad[1] = True
        kpm = pad if kind.startswith("bool") else np.where(pad, -np.inf, rng.standard_normal((N, S))).astype(dtype)
        kpm = kpm[0] if unbatched else kpm
    kind = masks.get("am")
    if kind == "causal":
        am = np.triu(np.ones((L, S), dtype=bool), 1)
    elif kind:
        lead = ((heads,) if unbatched else (N * heads,)) if kind == "float3d" else ()
        blocked = rng.random(lead + (L, S)) > 0.7
        blocked[..., 0] = False
        am = blocked if kind == "bool" else np.where(blocked, -np.inf, rng.standard_normal(blocked.shape)).astype(dtype)
    return [q, k, v], kpm, am


@requires_torch
@pytest.mark.filterwarnings("ignore:Support for mismatched:UserWarning")  # (PyTorch's warning, and ours)
@pytest.mark.parametrize("call, dtype", [({}, np.float32)] + [(c, np.float64) for c in CALLS],
                         ids=["float32"] + [f"{i}-float64" for i in _ids(CALLS)])
@pytest.mark.parametrize("masks", MASKS, ids=_ids(MASKS))
@pytest.mark.parametrize("config", MHA_CONFIGS, ids=_ids(MHA_CONFIGS))
def test_mha_matches_torch(config, masks, call, dtype):
    kwargs = {"embed_dim": 8, "num_heads": 2, **config}
    ours, theirs = _mha_twins(kwargs, dtype)
    (q, k, v), kpm, am = _mha_inputs(kwargs, masks, dtype)
    xs, txs = zip(*(_both(a) for a in (q, k, v)))
    (m1, tm1), (m2, tm2) = _both(kpm, grad=False), _both(am, grad=False)
    extra = {**call, "is_causal": masks.get("is_causal", False)}
    out = ours(*xs, key_padding_mask=m1, attn_mask=m2, **extra)
    tout = theirs(*txs, key_padding_mask=tm1, attn_mask=tm2, **extra)
    _compare(out, tout, xs, txs, dtype, ours, theirs)


@requires_torch
@pytest.mark.filterwarnings("ignore:Support for mismatched:UserWarning")  # (PyTorch's warning, and ours)
@pytest.mark.parametrize("call", CALLS, ids=_ids(CALLS))
@pytest.mark.parametrize("masks", [{}, {"kpm": "bool"}, {"am": "float3d"}, {"am": "bool", "kpm": "float"}],
                         ids=_ids([{}, {"kpm": "bool"}, {"am": "float3d"}, {"am": "bool", "kpm": "float"}]))
@pytest.mark.parametrize("config", [{}, {"batch_first": True}, {"kdim": 3, "vdim": 5}, {"add_bias_kv": True}],
                         ids=_ids([{}, {"batch_first": True}, {"kdim": 3, "vdim": 5}, {"add_bias_kv": True}]))
def test_mha_unbatched_matches_torch(config, masks, call):
    kwargs = {"embed_dim": 8, "num_heads": 2, **config}
    ours, theirs = _mha_twins(kwargs, np.float64)
    (q, k, v), kpm, am = _mha_inputs(kwargs, masks, np.float64, unbatched=True)
    xs, txs = zip(*(_both(a) for a in (q, k, v)))
    (m1, tm1), (m2, tm2) = _both(kpm, grad=False), _both(am, grad=False)
    out = ours(*xs, key_padding_mask=m1, attn_mask=m2, **call)
    tout = theirs(*txs, key_padding_mask=tm1, attn_mask=tm2, **call)
    _compare(out, tout, xs, txs, np.float64, ours, theirs)


@requires_torch
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_self_attention_and_a_float_mask_that_requires_grad(need_weights):
    kwargs = {"embed_dim": 8, "num_heads": 2, "batch_first": True}
    ours, theirs = _mha_twins(kwargs, np.float64)
    (q, _, _), _, am = _mha_inputs(kwargs, {"am": "float"}, np.float64, self_attention=True)
    am = np.where(np.isfinite(am), am, -30.0)
    (x, tx), (m, tm) = _both(q), _both(am)
    out = ours(x, x, x, attn_mask=m, need_weights=need_weights)
    tout = theirs(tx, tx, tx, attn_mask=tm, need_weights=need_weights)
    _compare(out, tout, [x, m], [tx, tm], np.float64, ours, theirs)


@requires_torch
def test_mha_dropout_is_off_in_eval_and_on_in_training():
    ours, theirs = _mha_twins({"embed_dim": 8, "num_heads": 2, "dropout": 0.5}, np.float64)
    x = np.random.default_rng(0).standard_normal((4, 2, 8))
    ours.eval(), theirs.eval()
    with torch.no_grad():  # (PyTorch's fast path needs batch_first: not taken here)
        expected = theirs(*(torch.tensor(x),) * 3)
    assert_close(ours(*(tg.tensor(x),) * 3)[0], expected[0], rtol=1e-9, atol=1e-11)
    ours.train()
    tg.manual_seed(0)
    a = ours(*(tg.tensor(x),) * 3)[1].detach().numpy()
    assert not np.allclose(a, expected[1].numpy()) and (a == 0).any()


@requires_torch
@pytest.mark.parametrize("config", [{}, {"bias": False}, {"kdim": 3}, {"vdim": 5, "add_bias_kv": True}],
                         ids=_ids([{}, {"bias": False}, {"kdim": 3}, {"vdim": 5, "add_bias_kv": True}]))
def test_mha_state_dict_keys_and_shapes_are_torchs(config):
    ours, theirs = nn.MultiheadAttention(8, 2, **config), torch.nn.MultiheadAttention(8, 2, **config)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert isinstance(ours.out_proj, nn.Linear)


def test_mha_init_is_torchs():
    mha = nn.MultiheadAttention(64, 4)
    mha.requires_grad_(False)
    bound = math.sqrt(6.0 / (64 + 3 * 64))  # xavier uniform on (3E, E)
    w = mha.in_proj_weight.numpy()
    assert w.shape == (192, 64) and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not mha.in_proj_bias.numpy().any() and not mha.out_proj.bias.numpy().any()
    out_bound = 1 / math.sqrt(64)  # out_proj keeps Linear's weight init
    assert np.abs(mha.out_proj.weight.numpy()).max() <= out_bound
    separate = nn.MultiheadAttention(8, 2, kdim=3, add_bias_kv=True).requires_grad_(False)
    assert separate.in_proj_weight is None and separate.k_proj_weight.shape == (8, 3)
    assert separate.bias_k.shape == (1, 1, 8) and separate.bias_k.numpy().any()
    assert nn.MultiheadAttention(8, 2).bias_k is None


@pytest.mark.parametrize("config", [{}, {"kdim": 3, "vdim": 2}, {"add_bias_kv": True, "add_zero_attn": True}],
                         ids=_ids([{}, {"kdim": 3, "vdim": 2}, {"add_bias_kv": True, "add_zero_attn": True}]))
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_gradcheck(config, need_weights):
    mha = nn.MultiheadAttention(4, 2, dtype=np.float64, **config)
    rng = np.random.default_rng(0)
    for p in mha.parameters():
        p.data = tg.tensor(rng.standard_normal(p.shape) * 0.5)
    q = tg.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    k = tg.tensor(rng.standard_normal((2, 2, config.get("kdim", 4))), requires_grad=True)
    v = tg.tensor(rng.standard_normal((2, 2, config.get("vdim", 4))), requires_grad=True)
    kpm = tg.tensor(np.array([[False, True], [False, False]]))
    params = list(mha.parameters())

    def fn(q, k, v, *ps):
        out, w = mha(q, k, v, key_padding_mask=kpm, need_weights=need_weights)
        return out if w is None else (out, w)

    assert gradcheck(fn, [q, k, v, *params])
    assert gradgradcheck(lambda q, k, v: fn(q, k, v), [q, k, v])


def test_mha_constructor_errors():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.MultiheadAttention(0, 1)
    with pytest.raises(TypeError, match="embed_dim must be an int"):
        nn.MultiheadAttention(8.0, 2)


def _mha_call(mha, q, k=None, v=None, **kw):
    return lambda: mha(q, q if k is None else k, q if v is None else v, **kw)


MHA_ERRORS = [
    (lambda m: _mha_call(m, tg.zeros(4)), ValueError, r"received 1-D query tensor \(shape \(4,\)\)"),
    (lambda m: _mha_call(m, tg.zeros(4, 2, 8), tg.zeros(5, 8), tg.zeros(5, 8)), ValueError,
     r"expected `key` and `value` to be 3-D but found 2-D"),
    (lambda m: _mha_call(m, tg.zeros(4, 2, 6)), ValueError, r"embedding dimension of 8, but got 6"),
    (lambda m: _mha_call(m, tg.zeros(4, 2, 8), tg.zeros(5, 2, 8), tg.zeros(6, 2, 8)), ValueError,
     r"key of shape \(5, 2, 8\) does not match value of shape \(6, 2, 8\)"),
    (lambda m: _mha_call(m, tg.zeros(4, 2, 8), attn_mask=tg.zeros(4, 5)), RuntimeError,
     r"The shape of the 2D attn_mask is \(4, 5\), but should be \(4, 4\)"),
    (lambda m: _mha_call(m, tg.zeros(4, 2, 8), attn_mask=tg.zeros(3, 4, 4)), RuntimeError,
     r"The shape of the 3D attn_mask is \(3, 4, 4\), but should be \(4, 4, 4\)"),
    (lambda m: _mha_call(m, tg.zeros(4, 2, 8), key_padding_mask=tg.zeros(2, 5, dtype=tg.bool)), ValueError,
     r"key_padding_mask of shape \(2, 4\) \(batch, source length\), got \(2, 5\)"),
    (lambda m: _mha_call(m, tg.zeros(4, 2, 8), key_padding_mask=tg.zeros(2, dtype=tg.bool)), ValueError,
     r"expected `key_padding_mask` to be `None` or 2-D"),
    (lambda m: _mha_call(m, tg.zeros(4, 2, 8), attn_mask=tg.zeros(4, 4, dtype=tg.int64)), TypeError,
     r"only bool and floating types of attn_mask"),
    (lambda m: _mha_call(m, tg.zeros(4, 2, 8), is_causal=True), RuntimeError, r"Need attn_mask"),
    (lambda m: _mha_call(m, tg.zeros(4, 2, 8), tg.zeros(5, 3, 8), tg.zeros(5, 3, 8)), RuntimeError,
     r"same batch size, got shapes \(4, 2, 8\) and \(5, 3, 8\)"),
    (lambda m: _mha_call(m, tg.zeros(4, 2, 8, dtype=tg.float64)), RuntimeError,
     r"query dtype float64 does not match the weights' dtype float32"),
]


@pytest.mark.parametrize("make, error, match", MHA_ERRORS, ids=[str(i) for i in range(len(MHA_ERRORS))])
def test_mha_forward_errors(make, error, match):
    with pytest.raises(error, match=match):
        make(nn.MultiheadAttention(8, 2))()


@requires_torch
def test_mha_error_types_match_torch_where_torch_raises_runtime_error():
    q = torch.zeros(4, 2, 8)
    for i, args, kw in ((4, (q, q, q), {"attn_mask": torch.zeros(4, 5)}),
                        (5, (q, q, q), {"attn_mask": torch.zeros(3, 4, 4)}),
                        (9, (q, q, q), {"is_causal": True}),
                        (10, (q, torch.zeros(5, 3, 8), torch.zeros(5, 3, 8)), {})):
        assert MHA_ERRORS[i][1] is RuntimeError
        with pytest.raises(RuntimeError):
            torch.nn.MultiheadAttention(8, 2)(*args, **kw)


def test_mha_mismatched_mask_types_warn_as_torch():
    mha = nn.MultiheadAttention(8, 2)
    q = tg.zeros(4, 2, 8)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask is deprecated"):
        mha(q, q, q, key_padding_mask=tg.zeros(2, 4, dtype=tg.bool), attn_mask=tg.zeros(4, 4))


# ----------------------------------------------------------------------------- TransformerEncoder
ENCODER_CONFIGS = [
    {},
    {"batch_first": True},
    {"norm_first": True},
    {"activation": "gelu"},
    {"activation": "callable"},
    {"bias": False, "layer_norm_eps": 1e-3},
    {"norm_first": True, "batch_first": True, "activation": "gelu"},
]
ENCODER_MASKS = [{}, {"kpm": "bool"}, {"am": "float"}, {"am": "causal"}, {"am": "bool", "kpm": "bool"}]


def _encoder_twins(config, dtype, num_layers=None, norm=False):
    config = dict(config)
    act = config.pop("activation", "relu")
    kwargs = {"d_model": 8, "nhead": 2, "dim_feedforward": 16, "dropout": 0.0, **config}
    torch.manual_seed(0)
    tact = TF.tanh if act == "callable" else act
    theirs = torch.nn.TransformerEncoderLayer(**kwargs, activation=tact)
    ours = nn.TransformerEncoderLayer(**kwargs, activation=tg.tanh if act == "callable" else act)
    if num_layers:
        theirs = torch.nn.TransformerEncoder(theirs, num_layers, norm=torch.nn.LayerNorm(8) if norm else None,
                                             enable_nested_tensor=False)
        ours = nn.TransformerEncoder(ours, num_layers, norm=nn.LayerNorm(8) if norm else None)
    theirs = theirs.to(getattr(torch, np.dtype(dtype).name))
    ours.to(dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    state = torch_state(theirs)
    rng = np.random.default_rng(5)  # (non-trivial LayerNorm weights and biases)
    state = {k: v + 0.1 * rng.standard_normal(v.shape).astype(v.dtype) if "norm" in k else v
             for k, v in state.items()}
    ours.load_state_dict(state)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    return ours, theirs, kwargs


def _run_encoder(ours, theirs, kwargs, masks, dtype, encoder, unbatched=False):
    mha_kwargs = {"embed_dim": 8, "num_heads": 2, "batch_first": kwargs.get("batch_first", False)}
    (x, _, _), kpm, am = _mha_inputs(mha_kwargs, masks, dtype, unbatched=unbatched, self_attention=True)
    (t, tt) = _both(x)
    (m1, tm1), (m2, tm2) = _both(kpm, grad=False), _both(am, grad=False)
    if masks.get("am") == "causal":  # the float mask of generate_square_subsequent_mask
        m2, tm2 = _both(np.triu(np.full((4, 4), -np.inf, dtype=dtype), 1), grad=False)
    names = ("mask", "src_key_padding_mask") if encoder else ("src_mask", "src_key_padding_mask")
    out = ours(t, **{names[0]: m2, names[1]: m1})
    tout = theirs(tt, **{names[0]: tm2, names[1]: tm1})
    _compare([out], [tout], [t], [tt], dtype, ours, theirs)


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("masks", ENCODER_MASKS, ids=_ids(ENCODER_MASKS))
@pytest.mark.parametrize("config", ENCODER_CONFIGS, ids=_ids(ENCODER_CONFIGS))
def test_encoder_layer_matches_torch(config, masks, dtype):
    ours, theirs, kwargs = _encoder_twins(config, dtype)
    _run_encoder(ours, theirs, kwargs, masks, dtype, encoder=False)


@requires_torch
@pytest.mark.parametrize("norm", [False, True])
@pytest.mark.parametrize("masks", ENCODER_MASKS, ids=_ids(ENCODER_MASKS))
@pytest.mark.parametrize("config", ENCODER_CONFIGS[:3], ids=_ids(ENCODER_CONFIGS[:3]))
def test_encoder_matches_torch(config, masks, norm):
    ours, theirs, kwargs = _encoder_twins(config, np.float64, num_layers=2, norm=norm)
    _run_encoder(ours, theirs, kwargs, masks, np.float64, encoder=True)


@requires_torch
@pytest.mark.parametrize("encoder", [False, True])
@pytest.mark.parametrize("masks", ENCODER_MASKS, ids=_ids(ENCODER_MASKS))
def test_encoder_unbatched_matches_torch(masks, encoder):
    ours, theirs, kwargs = _encoder_twins({"batch_first": True}, np.float64, num_layers=2 if encoder else None)
    _run_encoder(ours, theirs, kwargs, masks, np.float64, encoder=encoder, unbatched=True)


@requires_torch
def test_encoder_layers_are_independent_copies_and_state_dict_is_torchs():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    enc = nn.TransformerEncoder(layer, 3)
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    np.testing.assert_array_equal(enc.layers[0].linear1.weight.detach().numpy(),
                                  enc.layers[2].linear1.weight.detach().numpy())
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16), 3,
                                         enable_nested_tensor=False)
    assert [(k, v.shape) for k, v in enc.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = enc(tg.randn(5, 2, 8))
    assert out.shape == (5, 2, 8)


def test_encoder_layer_gradcheck():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, activation="gelu", dtype=np.float64)
    x = tg.tensor(np.random.default_rng(0).standard_normal((3, 2, 4)), requires_grad=True)
    kpm = tg.tensor(np.array([[False, False, True], [False, False, False]]))
    assert gradcheck(lambda x, *ps: layer(x, src_key_padding_mask=kpm), [x, *layer.parameters()])
    assert gradgradcheck(lambda x: layer(x, src_key_padding_mask=kpm), [x])


def test_encoder_layer_activation_errors():
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(TypeError, match="activation"):
        nn.TransformerEncoderLayer(8, 2, activation=3)


def test_a_small_transformer_trains():
    """Predict, for each token, the mean of the whole sequence: needs attention across positions."""
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((32, 6, 8)).astype(np.float32))
    y = x.mean(1, keepdim=True).expand(32, 6, 8)
    model = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=32, dropout=0.0,
                                                             batch_first=True), 1)
    head = nn.Linear(8, 8)
    opt = tg.optim.Adam([*model.parameters(), *head.parameters()], lr=1e-2)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = ((head(model(x)) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses[::10]


def test_a_multihead_attention_layer_trains():
    tg.manual_seed(1)
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((16, 5, 8)).astype(np.float32))
    y = x.flip(1)  # reverse the sequence: each output position must attend to another position
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    pos = nn.Parameter(tg.tensor(rng.standard_normal((5, 8)).astype(np.float32)))
    opt = tg.optim.Adam([*mha.parameters(), pos], lr=2e-2)
    losses = []
    for _ in range(80):
        opt.zero_grad()
        h = x + pos
        loss = ((mha(h, h, x, need_weights=False)[0] - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses[::10]
