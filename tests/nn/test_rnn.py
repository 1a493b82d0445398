"""The recurrent layers (RNN, LSTM, GRU and their cells) against PyTorch with copied weights (outputs, final
states, gradients of the input, the initial states and every parameter), float64 gradient checks, the
state_dict layout, dropout between layers, the errors, and a small sequence task that trains."""

import warnings

import numpy as np
import pytest
from helpers import requires_torch
from nn_oracle import assert_close, torch_state

import tinygradnn as tg
from tinygradnn import nn
from tinygradnn.autograd import gradcheck, gradgradcheck
from tinygradnn.autograd.function import Function
from tinygradnn.ops import rnn as ops_rnn

try:
    import torch
except ImportError:
    torch = None

TOL = {np.float32: {"rtol": 1e-4, "atol": 1e-5}, np.float64: {"rtol": 1e-9, "atol": 1e-11}}

LAYERS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {}), ("LSTM", {"proj_size": 2})]
CONFIGS = [
    {},
    {"num_layers": 2},
    {"bias": False},
    {"batch_first": True},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "batch_first": True, "bias": False},
    {"unbatched": True},
    {"unbatched": True, "batch_first": True, "bidirectional": True},
    {"hx": True},
    {"hx": True, "num_layers": 2, "bidirectional": True},
    {"hx": True, "unbatched": True, "num_layers": 2},
]


def _ids(cases):
    return ["-".join(f"{k}={v}" for k, v in c.items()) or "default" for c in cases]


def _flat(out):
    """``(output, h_n)`` or ``(output, (h_n, c_n))`` as a flat list of tensors."""
    output, state = out
    return [output, *state] if isinstance(state, tuple) else [output, state]


def _twins(name, kwargs, dtype, seed=0):
    """Our layer and PyTorch's, with PyTorch's (seeded) weights copied into ours."""
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, name)(**kwargs).to(getattr(torch, np.dtype(dtype).name))
    ours = getattr(nn, name)(**kwargs, dtype=dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(torch_state(theirs))
    return ours, theirs


def _compare(ours, theirs, run, arrays, dtype):
    """``run(layer, tensors)`` (a list of output tensors) on both with the same float inputs: compare every
    output, then every gradient for random upstream gradients: inputs (``arrays``) and parameters."""
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    txs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = run(ours, xs), run(theirs, txs)
    assert len(out) == len(tout)
    for i, (o, t) in enumerate(zip(out, tout)):
        assert_close(o, t, **TOL[dtype], what=f"output {i}")
    rng = np.random.default_rng(1)
    vs = [rng.standard_normal(o.shape).astype(dtype) for o in out]
    sum((o * tg.tensor(v)).sum() for o, v in zip(out, vs)).backward()
    sum((t * torch.from_numpy(v)).sum() for t, v in zip(tout, vs)).backward()
    for i, (x, tx) in enumerate(zip(xs, txs)):
        assert_close(x.grad, tx.grad, **TOL[dtype], what=f"gradient of input {i}")
    tparams = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, tparams[name].grad, **TOL[dtype], what=f"gradient of {name}")


def _call(layer, xs, lstm):
    """``layer(x)``, ``layer(x, h)`` or (LSTM) ``layer(x, (h, c))`` for ``xs = [x, (h, (c))]``."""
    return layer(*xs) if len(xs) == 1 or not lstm else layer(xs[0], tuple(xs[1:]))


# ----------------------------------------------------------------------------- against PyTorch
@requires_torch
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")  # (PyTorch's)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CONFIGS, ids=_ids(CONFIGS))
@pytest.mark.parametrize("name, extra", LAYERS, ids=["RNN", "RNN-relu", "LSTM", "GRU", "LSTM-proj"])
def test_layer_matches_torch(name, extra, config, dtype):
    config = dict(config)
    unbatched, with_hx = config.pop("unbatched", False), config.pop("hx", False)
    kwargs = {"input_size": 3, "hidden_size": 4, **extra, **config}
    ours, theirs = _twins(name, kwargs, dtype)
    steps, batch = 5, 2
    rng = np.random.default_rng(0)
    shape = (steps, 3) if unbatched else (batch, steps, 3) if kwargs.get("batch_first") else (steps, batch, 3)
    arrays = [rng.standard_normal(shape).astype(dtype)]
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    lead = (layers,) if unbatched else (layers, batch)
    if with_hx:
        arrays.append(rng.standard_normal((*lead, kwargs.get("proj_size") or 4)).astype(dtype))
        if name == "LSTM":
            arrays.append(rng.standard_normal((*lead, 4)).astype(dtype))
    _compare(ours, theirs, lambda layer, xs: _flat(_call(layer, xs, name == "LSTM")), arrays, dtype)


CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {})]
CELL_CONFIGS = [{}, {"bias": False}, {"unbatched": True}, {"hx": True}, {"hx": True, "unbatched": True},
                {"hx": True, "bias": False}]


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", CELL_CONFIGS, ids=_ids(CELL_CONFIGS))
@pytest.mark.parametrize("name, extra", CELLS, ids=["RNNCell", "RNNCell-relu", "LSTMCell", "GRUCell"])
def test_cell_matches_torch(name, extra, config, dtype):
    config = dict(config)
    unbatched, with_hx = config.pop("unbatched", False), config.pop("hx", False)
    ours, theirs = _twins(name, {"input_size": 3, "hidden_size": 4, **extra, **config}, dtype)
    rng = np.random.default_rng(0)
    lead = () if unbatched else (2,)
    arrays = [rng.standard_normal((*lead, 3)).astype(dtype)]
    lstm = name == "LSTMCell"
    if with_hx:
        arrays += [rng.standard_normal((*lead, 4)).astype(dtype) for _ in range(2 if lstm else 1)]
    _compare(ours, theirs, lambda cell, xs: list(_call(cell, xs, True)) if lstm else [_call(cell, xs, False)],
             arrays, dtype)


@requires_torch
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_state_dict_keys_and_shapes_are_torchs(name):
    configs = [{}, {"bias": False}] if name.endswith("Cell") else [
        {}, {"bias": False}, {"num_layers": 3, "bidirectional": True}, {"num_layers": 2, "bias": False}]
    if name == "LSTM":
        configs.append({"num_layers": 2, "bidirectional": True, "proj_size": 2})
    for config in configs:
        ours, theirs = nn.__dict__[name](5, 3, **config), getattr(torch.nn, name)(5, 3, **config)
        assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
        assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
        assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_init_is_uniform_in_plus_minus_one_over_sqrt_hidden(name):
    tg.manual_seed(0)
    layer = getattr(nn, name)(3, 16)
    values = np.concatenate([p.detach().numpy().ravel() for p in layer.parameters()])
    assert np.abs(values).max() <= 0.25 and np.abs(values).max() > 0.24 and abs(values.mean()) < 0.02
    assert layer.weight_ih_l0.dtype == np.float32 if not name.endswith("Cell") else layer.weight_ih.dtype == np.float32


# ----------------------------------------------------------------------------- gradients in float64
def _t64(shape, seed):
    return tg.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("name, kwargs", [
    ("RNN", {"num_layers": 2, "bidirectional": True}), ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}), ("LSTM", {"proj_size": 1}),
    ("GRU", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
], ids=["RNN", "RNN-relu", "LSTM", "LSTM-proj", "GRU"])
def test_layer_gradcheck(name, kwargs):
    layer = getattr(nn, name)(2, 2, **kwargs, dtype=tg.float64)
    x, params = _t64((2, 3, 2) if layer.batch_first else (3, 2, 2), 0), list(layer.parameters())
    layers = layer.num_layers * (2 if layer.bidirectional else 1)
    h0 = _t64((layers, 2, layer.proj_size or 2), 1)
    if name == "LSTM":
        c0 = _t64((layers, 2, 2), 2)
        assert gradcheck(lambda x, h, c, *p: _flat(layer(x, (h, c))), (x, h0, c0, *params))
    else:
        assert gradcheck(lambda x, h, *p: _flat(layer(x, h)), (x, h0, *params))


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_layer_double_backward(name):
    layer = getattr(nn, name)(2, 2, dtype=tg.float64)
    x = _t64((3, 1, 2), 0)
    params = list(layer.parameters())
    assert gradgradcheck(lambda x, *p: layer(x)[0], (x, *params))


@requires_torch
@pytest.mark.parametrize("name, extra", LAYERS, ids=["RNN", "RNN-relu", "LSTM", "GRU", "LSTM-proj"])
def test_layer_double_backward_matches_torch(name, extra):
    """The gradient of a function of the input's gradient, with respect to every parameter (2 layers)."""
    ours, theirs = _twins(name, {"input_size": 3, "hidden_size": 4, "num_layers": 2, **extra}, np.float64)
    x = np.random.default_rng(0).standard_normal((6, 2, 3))
    results = []
    for lib, layer in ((tg, ours), (torch, theirs)):
        xt = lib.tensor(x, requires_grad=True)
        (gx,) = lib.autograd.grad((layer(xt)[0] ** 2).sum(), xt, create_graph=True)
        results.append(lib.autograd.grad((gx ** 2).sum(), list(layer.parameters())))
    for (name, _), a, b in zip(ours.named_parameters(), *results):
        assert_close(a, b, rtol=1e-9, atol=1e-12, what=name)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_gradcheck(name):
    cell = getattr(nn, name)(2, 3, dtype=tg.float64)
    x, h, c, params = _t64((2, 2), 0), _t64((2, 3), 1), _t64((2, 3), 2), list(cell.parameters())
    if name == "LSTMCell":
        assert gradcheck(lambda x, h, c, *p: cell(x, (h, c)), (x, h, c, *params))
        assert gradgradcheck(lambda x, h, c, *p: cell(x, (h, c))[1], (x, h, c, *params))
    else:
        assert gradcheck(lambda x, h, *p: cell(x, h), (x, h, *params))
        assert gradgradcheck(lambda x, h, *p: cell(x, h), (x, h, *params))


def test_a_layer_matches_a_loop_of_its_cell():
    """A layer (one node for all 20 steps) gives the same values and input gradient as a step-by-step run of
    the cell with the same weights."""
    tg.manual_seed(0)
    layer, cell = nn.LSTM(2, 3, dtype=tg.float64), nn.LSTMCell(2, 3, dtype=tg.float64)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = _t64((20, 1, 2), 0)
    out, (h, c) = layer(x)
    state = None
    for t in range(20):
        state = cell(x[t], state)
        np.testing.assert_allclose(out[t].detach().numpy(), state[0].detach().numpy(), rtol=1e-12)
    (gx,) = tg.autograd.grad(out.sum(), x)
    x2 = tg.tensor(x.detach().numpy(), requires_grad=True)
    state, total = None, 0
    for t in range(20):
        state = cell(x2[t], state)
        total = total + state[0].sum()
    total.backward()
    np.testing.assert_allclose(gx.numpy(), x2.grad.numpy(), rtol=1e-10)


# ----------------------------------------------------------------------------- fused steps vs composed ops
def _composed_rnn(gi, h, w_hh, b_hh, relu):
    pre = gi + tg.nn.functional.linear(h, w_hh, b_hh)
    return pre.relu() if relu else pre.tanh()


def _composed_lstm(gi, hc, w_hh, b_hh, w_hr):
    hidden = w_hh.shape[0] // 4
    h, c = hc[:, :-hidden], hc[:, -hidden:]
    i, f, g, o = tg.chunk(gi + tg.nn.functional.linear(h, w_hh, b_hh), 4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    h = o.sigmoid() * c.tanh()
    return tg.cat([h if w_hr is None else tg.nn.functional.linear(h, w_hr), c], 1)


def _composed_gru(gi, h, w_hh, b_hh):
    i_r, i_z, i_n = tg.chunk(gi, 3, 1)
    h_r, h_z, h_n = tg.chunk(tg.nn.functional.linear(h, w_hh, b_hh), 3, 1)
    r, z = (i_r + h_r).sigmoid(), (i_z + h_z).sigmoid()
    n = (i_n + r * h_n).tanh()
    return n + z * (h - n)


_H, _P, _N = 4, 3, 5  # hidden size, LSTM projection size, batch
STEPS = {  # the fused op, its composed twin, the shapes of its tensor inputs (None: absent), its constants
    "rnn-tanh": (ops_rnn.rnn_step, _composed_rnn, [(_N, _H), (_N, _H), (_H, _H), (_H,)], [False]),
    "rnn-relu": (ops_rnn.rnn_step, _composed_rnn, [(_N, _H), (_N, _H), (_H, _H), (_H,)], [True]),
    "lstm": (ops_rnn.lstm_step, _composed_lstm, [(_N, 4 * _H), (_N, 2 * _H), (4 * _H, _H), (4 * _H,), None], []),
    "lstm-proj": (ops_rnn.lstm_step, _composed_lstm,
                  [(_N, 4 * _H), (_N, _P + _H), (4 * _H, _P), (4 * _H,), (_P, _H)], []),
    "gru": (ops_rnn.gru_step, _composed_gru, [(_N, 3 * _H), (_N, _H), (3 * _H, _H), (3 * _H,)], []),
}


def _loop_of(step):
    """A whole-sequence op's twin: ``step`` once per time step (from the last one if ``reverse``), the states
    stacked in time order."""
    def loop(gi, state, *rest):
        *rest, reverse = rest
        states = [None] * len(gi)
        for t in range(len(gi) - 1, -1, -1) if reverse else range(len(gi)):
            state = states[t] = step(gi[t], state, *rest)
        return tg.stack(states)
    return loop


def _layer_case(kind, steps, reverse):
    """A ``LAYER_OPS`` entry: the whole-sequence op of ``kind`` (a ``STEPS`` key) over ``steps`` steps."""
    step, _, shapes, consts = STEPS[kind]
    layer = {"rnn": ops_rnn.rnn_layer, "lstm": ops_rnn.lstm_layer, "gru": ops_rnn.gru_layer}[kind.split("-")[0]]
    return layer, _loop_of(step), [(steps, *shapes[0]), *shapes[1:]], [*consts, reverse]


LAYER_OPS = {  # the whole-sequence ops against a loop of their step op (the last constant: reverse)
    "rnn-tanh-layer": _layer_case("rnn-tanh", 6, False),
    "rnn-relu-layer-reverse": _layer_case("rnn-relu", 6, True),
    "lstm-layer": _layer_case("lstm", 6, False),
    "lstm-layer-reverse": _layer_case("lstm", 6, True),
    "lstm-proj-layer-reverse": _layer_case("lstm-proj", 6, True),
    "lstm-layer-17-steps": _layer_case("lstm", 17, False),  # (create_graph slices the steps in blocks)
    "gru-layer": _layer_case("gru", 6, False),
    "gru-layer-reverse": _layer_case("gru", 6, True),
}
FUSED = {**STEPS, **LAYER_OPS}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("name", list(FUSED))
def test_fused_op_matches_the_composed_ops(name, bias):
    """Each fused step op against the same step composed of ordinary ops, and each whole-sequence op against a
    loop of its step op, in float64: the output, every input's gradient (plain, and with create_graph), and
    the gradient of those gradients, to float rounding."""
    fused, composed, shapes, consts = FUSED[name]
    rng = np.random.default_rng(0)
    arrays = [None if s is None or (i == 3 and not bias) else rng.standard_normal(s) for i, s in enumerate(shapes)]
    v = rng.standard_normal(composed(*[None if a is None else tg.tensor(a) for a in arrays], *consts).shape)
    results = []
    for op in (fused, composed):
        xs = [None if a is None else tg.tensor(a, requires_grad=True) for a in arrays]
        wrt = [x for x in xs if x is not None]
        out = op(*xs, *consts)
        plain = tg.autograd.grad((out * tg.tensor(v)).sum(), wrt, retain_graph=True)
        grads = tg.autograd.grad((out * tg.tensor(v)).sum(), wrt, create_graph=True)
        second = tg.autograd.grad(sum((g * g).sum() for g in grads), wrt, allow_unused=True)
        results.append([out, *plain, *grads, *second])
    for i, (a, b) in enumerate(zip(*results)):  # (None: unused, the same as zeros)
        a, b = (0.0 if t is None else t.detach().numpy() for t in (a, b))
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13, err_msg=f"result {i}")


@pytest.mark.parametrize("name", list(FUSED))
def test_fused_op_gives_only_the_gradients_asked_for(name):
    """With one input frozen (no requires_grad) it gets no gradient; the others still match."""
    fused, composed, shapes, consts = FUSED[name]
    rng = np.random.default_rng(1)
    arrays = [None if s is None else rng.standard_normal(s) for s in shapes]
    for frozen in [i for i, s in enumerate(shapes) if s is not None]:
        grads = []
        for op in (fused, composed):
            xs = [None if a is None else tg.tensor(a, requires_grad=i != frozen) for i, a in enumerate(arrays)]
            op(*xs, *consts).sum().backward()
            grads.append([None if x is None else x.grad for x in xs])
        for i, (a, b) in enumerate(zip(*grads)):
            assert (a is None) == (b is None) == (i == frozen or arrays[i] is None)
            if a is not None:
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-13)


def _graph(out: tg.Tensor) -> set:
    """The nodes that ``out`` was computed by."""
    seen, stack = set(), [out._ctx]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack.extend(n for n, _ in node.next_functions if isinstance(n, Function))
    return seen


@pytest.mark.parametrize("name, op", [("RNN", ops_rnn.RNNLayer), ("LSTM", ops_rnn.LSTMLayer),
                                      ("GRU", ops_rnn.GRULayer)])
def test_a_layer_records_one_node_per_layer_and_direction(name, op):
    """The time steps of a layer and direction are one node: the graph does not grow with the sequence."""
    layer = getattr(nn, name)(2, 3, num_layers=2, bidirectional=True)
    graphs = [_graph(layer(tg.randn(steps, 1, 2))[0]) for steps in (1, 9, 40)]
    assert len({len(g) for g in graphs}) == 1, [len(g) for g in graphs]
    assert sum(type(node) is op for node in graphs[-1]) == 4


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_changing_a_weight_in_place_after_forward_makes_backward_raise(name):
    """The one node of a layer still has its inputs' versions checked (PyTorch raises too)."""
    layer = getattr(nn, name)(2, 3)
    out = layer(tg.randn(5, 1, 2))[0]
    with tg.no_grad():
        layer.weight_hh_l0.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


# ----------------------------------------------------------------------------- dropout between layers
@requires_torch
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_dropout_only_between_layers_in_training(name):
    kwargs = {"input_size": 3, "hidden_size": 4, "num_layers": 2, "dropout": 0.5}
    ours, theirs = _twins(name, kwargs, np.float64)
    x = np.random.default_rng(0).standard_normal((4, 2, 3))
    ours.eval(), theirs.eval()
    for o, t in zip(_flat(ours(tg.tensor(x))), _flat(theirs(torch.tensor(x)))):
        assert_close(o, t, rtol=1e-9, atol=1e-11)
    ours.train()
    a, b = ours(tg.tensor(x))[0], ours(tg.tensor(x))[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())  # random masks in training
    # p = 1 drops every input of layer 2: deterministic, and the same as PyTorch's
    ours.dropout = theirs.dropout = 1.0
    theirs.train()
    for o, t in zip(_flat(ours(tg.tensor(x))), _flat(theirs(torch.tensor(x)))):
        assert_close(o, t, rtol=1e-9, atol=1e-11)


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("make, error, match", [
    (lambda: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError, "Unknown nonlinearity 'sigmoid'"),
    (lambda: nn.GRU(3, 4, proj_size=2), ValueError, "proj_size argument is only supported for LSTM"),
    (lambda: nn.RNN(3, 4, proj_size=2), ValueError, "proj_size argument is only supported for LSTM"),
    (lambda: nn.LSTM(3, 4, proj_size=4), ValueError, "proj_size has to be smaller than hidden_size"),
    (lambda: nn.LSTM(3, 4, proj_size=-1), ValueError, "proj_size should be a positive integer or zero"),
    (lambda: nn.LSTM(3, 4, num_layers=0), ValueError, "num_layers must be greater than zero"),
    (lambda: nn.LSTM(0, 4), ValueError, "input_size must be greater than zero"),
    (lambda: nn.LSTM(3, 0), ValueError, "hidden_size must be greater than zero"),
    (lambda: nn.LSTM(3.0, 4), TypeError, "input_size should be of type int, got: float"),
    (lambda: nn.LSTM(3, 4, bias=1), TypeError, "bias should be of type bool, got: int"),
    (lambda: nn.LSTM(3, 4, batch_first="yes"), TypeError, "batch_first should be of type bool"),
    (lambda: nn.GRU(3, 4, num_layers=2, dropout=1.5), ValueError, "dropout should be a number in range"),
    (lambda: nn.GRU(3, 4, num_layers=2, dropout=True), ValueError, "dropout should be a number in range"),
])
def test_constructor_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


def _lstm():
    return nn.LSTM(3, 4)


@pytest.mark.parametrize("call, error, match", [
    (lambda: nn.RNN(3, 4)(tg.zeros(5)), ValueError, r"RNN: Expected input to be 2D or 3D, got 1D"),
    (lambda: _lstm()(tg.zeros(5, 2, 3, 1)), ValueError, r"LSTM: Expected input to be 2D or 3D, got 4D"),
    (lambda: nn.GRU(3, 4)(tg.zeros(5, 2, 6)),
     RuntimeError, r"input.size\(-1\) must be equal to input_size. Expected 3, got 6"),
    (lambda: nn.GRU(3, 4)(tg.zeros(5, 2, 3, dtype=tg.float64)),
     ValueError, r"GRU input dtype \(float64\) does not match weight dtype \(float32\)"),
    (lambda: nn.GRU(3, 4)(tg.zeros(0, 2, 3)), RuntimeError, "Expected sequence length to be larger than 0"),
    (lambda: nn.GRU(3, 4)(tg.zeros(5, 2, 3), tg.zeros(2, 2, 4)),
     RuntimeError, r"Expected hidden size \(1, 2, 4\), got \[2, 2, 4\]"),
    (lambda: nn.RNN(3, 4, batch_first=True)(tg.zeros(2, 5, 3), tg.zeros(1, 5, 4)),
     RuntimeError, r"Expected hidden size \(1, 2, 4\), got \[1, 5, 4\]"),
    (lambda: nn.GRU(3, 4)(tg.zeros(5, 2, 3), tg.zeros(2, 4)),
     RuntimeError, "For batched 3-D input, hx should also be 3-D but got 2-D tensor"),
    (lambda: nn.GRU(3, 4)(tg.zeros(5, 3), tg.zeros(1, 1, 4)),
     RuntimeError, "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"),
    (lambda: nn.GRU(3, 4)(tg.zeros(5, 2, 3), tg.zeros(1, 2, 4, dtype=tg.float64)),
     RuntimeError, "hx dtype float64 does not match the input dtype float32"),
    (lambda: _lstm()(tg.zeros(5, 2, 3), (tg.zeros(1, 3, 4), tg.zeros(1, 2, 4))),
     RuntimeError, r"Expected hidden\[0\] size \(1, 2, 4\), got \[1, 3, 4\]"),
    (lambda: _lstm()(tg.zeros(5, 2, 3), (tg.zeros(1, 2, 4), tg.zeros(1, 2, 5))),
     RuntimeError, r"Expected hidden\[1\] size \(1, 2, 4\), got \[1, 2, 5\]"),
    (lambda: _lstm()(tg.zeros(5, 3), (tg.zeros(1, 2, 4), tg.zeros(1, 2, 4))),
     RuntimeError, r"For unbatched 2-D input, hx and cx should also be 2-D but got \(3-D, 3-D\) tensors"),
    (lambda: _lstm()(tg.zeros(5, 2, 3), tg.zeros(1, 2, 4)), TypeError, r"LSTM: hx must be a tuple \(h_0, c_0\)"),
    (lambda: nn.RNNCell(3, 4)(tg.zeros(2, 2, 3)), ValueError, "RNNCell: Expected input to be 1D or 2D, got 3D"),
    (lambda: nn.GRUCell(3, 4)(tg.zeros(2, 3), tg.zeros(1, 2, 4)),
     ValueError, "GRUCell: Expected hidden to be 1D or 2D, got 3D"),
    (lambda: nn.LSTMCell(3, 4)(tg.zeros(2, 3), (tg.zeros(2, 4), tg.zeros(1, 2, 4))),
     ValueError, r"LSTMCell: Expected hx\[1\] to be 1D or 2D, got 3D"),
    (lambda: nn.RNNCell(3, 4)(tg.zeros(2, 5)), RuntimeError, "input has inconsistent input_size: got 5 expected 3"),
    (lambda: nn.RNNCell(3, 4)(tg.zeros(2, 3), tg.zeros(3, 4)),
     RuntimeError, "Input batch size 2 doesn't match hidden0 batch size 3"),
    (lambda: nn.GRUCell(3, 4)(tg.zeros(2, 3), tg.zeros(2, 5)),
     RuntimeError, "hidden0 has inconsistent hidden_size: got 5, expected 4"),
    (lambda: nn.LSTMCell(3, 4)(tg.zeros(2, 3), (tg.zeros(2, 4), tg.zeros(2, 5))),
     RuntimeError, "hidden1 has inconsistent hidden_size: got 5, expected 4"),
    (lambda: nn.GRUCell(3, 4)(tg.zeros(3), tg.zeros(2, 4)),
     RuntimeError, r"hidden0 of shape \(2, 4\) does not match the unbatched input of shape \(3,\)"),
    (lambda: nn.GRUCell(3, 4)(tg.zeros(2, 3, dtype=tg.float64)), RuntimeError, "dtype float64 does not match"),
    (lambda: nn.RNNCell(3, 4, nonlinearity="sigmoid")(tg.zeros(3)), RuntimeError, "Unknown nonlinearity: sigmoid"),
])
def test_forward_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


@requires_torch
def test_forward_errors_are_torchs_types():
    """The same mistakes raise the same exception types in PyTorch (where PyTorch's own message is clear)."""
    cases = [
        (lambda m: m.GRU(3, 4)(m.zeros(5, 2, 6)), RuntimeError),
        (lambda m: m.GRU(3, 4)(m.zeros(5, 2, 3, dtype=m.float64)), ValueError),
        (lambda m: m.GRU(3, 4)(m.zeros(5, 2, 3), m.zeros(2, 2, 4)), RuntimeError),
        (lambda m: m.LSTM(3, 4)(m.zeros(5, 2, 3), (m.zeros(1, 3, 4), m.zeros(1, 2, 4))), RuntimeError),
        (lambda m: m.RNN(3, 4)(m.zeros(5)), ValueError),
        (lambda m: m.RNNCell(3, 4)(m.zeros(2, 5)), RuntimeError),
        (lambda m: m.RNNCell(3, 4)(m.zeros(2, 3), m.zeros(3, 4)), RuntimeError),
        (lambda m: m.GRU(3, 4)(m.zeros(0, 2, 3)), RuntimeError),
    ]

    class TorchNS:
        def __getattr__(self, name):
            return getattr(torch.nn, name, None) or getattr(torch, name)

    class OurNS:
        def __getattr__(self, name):
            return getattr(nn, name) if name[0].isupper() else getattr(tg, name)

    for case, error in cases:
        for ns in (TorchNS(), OurNS()):
            with pytest.raises(error):
                case(ns)


def test_empty_batch_works_as_torch():
    out, (h, c) = nn.LSTM(3, 4, bidirectional=True)(tg.zeros(5, 0, 3))
    assert out.shape == (5, 0, 8) and h.shape == c.shape == (2, 0, 4)


# ----------------------------------------------------------------------------- training
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_a_small_sequence_task_trains(name):
    """Remember the sign of the first element of a noisy sequence until the end."""
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8, 1)).astype(np.float32)
    y = (x[:, 0, 0] > 0).astype(np.int64)
    rnn, head = getattr(nn, name)(1, 8, batch_first=True), nn.Linear(8, 2)
    opt = tg.optim.Adam([*rnn.parameters(), *head.parameters()], lr=0.03)
    losses = []
    for _ in range(60):
        out, _ = rnn(tg.tensor(x))
        loss = nn.functional.cross_entropy(head(out[:, -1]), tg.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses[::10]


def test_flatten_parameters_and_all_weights():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    lstm.flatten_parameters()
    assert [len(w) for w in lstm.all_weights] == [4, 4, 4, 4]
    assert lstm.all_weights[1][0] is lstm.weight_ih_l0_reverse


def test_base_classes_are_exported_as_torchs():
    assert all(isinstance(getattr(nn, n)(2, 3), nn.RNNBase) for n in ("RNN", "LSTM", "GRU"))
    assert all(isinstance(getattr(nn, n)(2, 3), nn.RNNCellBase) for n in ("RNNCell", "LSTMCell", "GRUCell"))
