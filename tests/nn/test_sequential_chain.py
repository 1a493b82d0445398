"""nn.Sequential records each run of Linear and activation layers as one graph node (nnops.chain), and a
ReLU followed by a max pooling as one node (ops.conv.ReLUMaxPool).

Every number must be exactly the unfused layers' number; hooks, anomaly mode, double backward, the version
counter and the errors must behave as without the fused nodes.
"""

import random
import re

import numpy as np
import pytest
from helpers import outcomes, requires_torch
from nn_oracle import compare_with_torch, gradcheck_module

import tinygradnn as tg
from tinygradnn import nn
from tinygradnn.autograd import gradgradcheck


def _mlp(seed=0, dtype=np.float32):
    tg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 4, bias=False), nn.ReLU(), nn.Linear(4, 4),
                          nn.Sigmoid(), nn.Linear(4, 3))
    return model.double() if dtype == np.float64 else model


def _torch_twin(model):
    """``_mlp(dtype=np.float64)`` in PyTorch, with the same weights."""
    import torch

    tmodel = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 4, bias=False),
                                 torch.nn.ReLU(), torch.nn.Linear(4, 4), torch.nn.Sigmoid(),
                                 torch.nn.Linear(4, 3)).double()
    tmodel.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    return tmodel


def _unfused(model, x):
    for module in model:
        x = module(x)
    return x


def _run(model, forward, x_array, x_grad, seed=1):
    x = tg.tensor(x_array, requires_grad=x_grad)
    model.zero_grad()
    out = forward(model, x)
    v = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    out.backward(tg.tensor(v))
    return out.detach().numpy(), (None if x.grad is None else x.grad.numpy()), \
        [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("x_grad", [True, False])
@pytest.mark.parametrize("frozen", [None, 0, 2])
@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 5), (5,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_chain_gives_exactly_the_numbers_of_the_layers_run_one_by_one(x_grad, frozen, shape, dtype):
    model = _mlp(dtype=dtype)
    if frozen is not None:
        model[frozen].requires_grad_(False)
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    assert type(model(tg.tensor(x, requires_grad=True)).grad_fn).__name__ == "Chain"
    chained = _run(model, lambda m, t: m(t), x, x_grad)
    unfused = _run(model, _unfused, x, x_grad)
    np.testing.assert_array_equal(chained[0], unfused[0])
    assert (chained[1] is None) == (unfused[1] is None) == (not x_grad)
    if x_grad:
        np.testing.assert_array_equal(chained[1], unfused[1])
    for ours, theirs in zip(chained[2], unfused[2]):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            np.testing.assert_array_equal(ours, theirs)


@requires_torch
def test_the_chain_against_torch():
    import torch

    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 4, bias=False),
                                 torch.nn.ReLU(), torch.nn.Linear(4, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 3))
    x = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
    compare_with_torch(_mlp(), tmodel, x)


def test_the_chain_passes_gradcheck_and_gradgradcheck():
    model = _mlp(dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((3, 5))
    gradcheck_module(model, x)
    xt = tg.tensor(x, requires_grad=True)
    params = list(model.parameters())
    assert gradgradcheck(lambda x, *ps: model(x), (xt, *params[:2]))


@requires_torch
def test_a_gradient_penalty_through_the_chain_as_torch():
    import torch

    model = _mlp(dtype=np.float64)
    tmodel = _torch_twin(model)
    x = np.random.default_rng(0).standard_normal((4, 5))
    xt, tx = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (gx,) = tg.autograd.grad(model(xt).sum(), xt, create_graph=True)
    (tgx,) = torch.autograd.grad(tmodel(tx).sum(), tx, create_graph=True)
    (gx * gx).sum().backward()
    (tgx * tgx).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), tp in zip(model.named_parameters(), tmodel.parameters()):
        assert (p.grad is None) == (tp.grad is None), name  # (the last bias does not reach the gradient)
        if p.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_hooked_layers_and_anomaly_mode_run_layer_by_layer():
    model = _mlp()
    x = tg.randn(2, 5, requires_grad=True)
    seen = []
    handle = model[1].register_forward_hook(lambda m, args, out: seen.append((args[0].shape, out.shape)))
    out = model(x)
    assert seen == [((2, 7), (2, 7))]
    assert type(out.grad_fn).__name__ == "Chain"  # the layers after the hooked one still chain
    handle.remove()
    with tg.autograd.detect_anomaly():
        assert type(model(x).grad_fn).__name__ != "Chain"
    grads = []
    model[0].register_full_backward_hook(lambda m, gin, gout: grads.append(gout[0].shape))
    model(x).sum().backward()
    assert grads == [(2, 7)]


def test_errors_are_the_layers_errors():
    model = _mlp()
    with pytest.raises(ValueError, match="Linear: expected input with last dim 5"):
        model(tg.randn(2, 4))
    with pytest.raises(TypeError, match="dtype float64 does not match weight dtype float32"):
        model(tg.tensor(np.zeros((2, 5))))
    model[2] = nn.Linear(6, 4)  # a layer that does not fit the one before it
    with pytest.raises(ValueError, match="expected input with last dim 6"):
        model(tg.randn(2, 5))


def test_in_place_changes_and_a_second_backward_are_caught():
    model = _mlp()
    out = model(tg.randn(2, 5))
    with tg.no_grad():
        model[4].weight.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()
    out = model(tg.randn(2, 5))
    out.sum().backward(retain_graph=True)
    first = model[0].weight.grad.numpy().copy()
    out.sum().backward()
    np.testing.assert_allclose(model[0].weight.grad.numpy(), 2 * first, rtol=1e-6)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.sum().backward()


def test_an_in_place_change_of_the_chains_output_is_caught_as_unfused():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    out = model(tg.ones(2, 3, requires_grad=True))
    with tg.no_grad():
        out.mul_(2)
    with pytest.raises(RuntimeError, match=r"needed by Chain\(Linear, Tanh\) for its gradient was modified"):
        out.sum().backward()
    out = nn.Sequential(nn.Tanh(), nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))(tg.ones(2, 3, requires_grad=True))
    with tg.no_grad():
        out.mul_(2)  # the last layer, a Linear, does not need its output: no error, as without the chain
    out.sum().backward()


def test_a_replaced_forward_is_called(monkeypatch):
    model = _mlp()
    x = tg.randn(2, 5)
    model[6].forward = lambda inp: tg.zeros(inp.shape[0], 3)
    assert not model(x).detach().numpy().any()
    monkeypatch.setattr(nn.Tanh, "forward", lambda self, inp: 2 * tg.tanh(inp))
    model = nn.Sequential(nn.Linear(5, 3), nn.Tanh())
    np.testing.assert_array_equal(model(x).detach().numpy(), 2 * np.tanh(model[0](x).detach().numpy()))


def test_a_layer_used_several_times_gives_exactly_the_unfused_sums():
    tg.manual_seed(0)
    lin = nn.Linear(4, 4).double()
    model = nn.Sequential(lin, nn.Tanh(), lin, nn.Tanh(), lin, nn.Tanh(), lin)
    x = np.random.default_rng(0).standard_normal((3, 4))
    chained, unfused = _run(model, lambda m, t: m(t), x, True), _run(model, _unfused, x, True)
    for ours, theirs in zip(chained[2], unfused[2]):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("tied", ["weight", "bias", "both"])
@pytest.mark.parametrize("seed", range(5))
def test_a_parameter_shared_by_several_layers_gives_exactly_the_unfused_sums(tied, seed):
    """Three uses of one parameter (two layers sharing it, one of them used twice): float32 sums in any
    order but the unfused one differ in the last bits."""
    tg.manual_seed(seed)
    layers = [nn.Linear(4, 4) for _ in range(3)]
    for name in ("weight", "bias") if tied == "both" else (tied,):
        setattr(layers[1], name, getattr(layers[0], name))
    model = nn.Sequential(layers[0], nn.Tanh(), layers[1], nn.ReLU(), layers[2], nn.Sigmoid(), layers[0])
    x = np.random.default_rng(seed).standard_normal((8, 4)).astype(np.float32)
    chained, unfused = _run(model, lambda m, t: m(t), x, True), _run(model, _unfused, x, True)
    for ours, theirs in zip(chained[2], unfused[2], strict=True):
        np.testing.assert_array_equal(ours, theirs)


def _set_data(p, value):
    p.data = value


def _replace_bias_through_registry(model):
    model[4]._parameters["bias"] = nn.Parameter(tg.ones(4))  # (bypasses __setattr__)


def _replace_child_through_registry(model):
    model._modules["1"] = nn.Sigmoid()


# each changes what the layers compute (or whether they may chain) after a first call made the plan
_CHANGES = {
    "child replaced": lambda model: model.__setitem__(1, nn.ReLU()),
    "child replaced in the registry": _replace_child_through_registry,
    "child deleted": lambda model: model.__delitem__(1),
    "child inserted": lambda model: model.insert(2, nn.Tanh()),
    "child appended": lambda model: model.append(nn.Linear(3, 2)),
    "parameter replaced": lambda model: setattr(model[2], "weight", nn.Parameter(tg.ones(4, 7))),
    "parameter replaced in the registry": _replace_bias_through_registry,
    "parameter data replaced": lambda model: _set_data(model[0].weight, tg.ones(7, 5)),
    "bias removed": lambda model: setattr(model[4], "bias", None),
    "forward hook added": lambda model: model[3].register_forward_hook(lambda m, a, out: out * 3),
    "pre-hook added": lambda model: model[2].register_forward_pre_hook(lambda m, a: (a[0] * 0,)),
    "instance forward replaced": lambda model: setattr(model[5], "forward", lambda inp: inp * 0 + 1),
    "in-place ReLU": lambda model: setattr(model[3], "inplace", True),
}


@pytest.mark.parametrize("change", list(_CHANGES))
def test_the_plan_of_a_first_call_follows_every_later_change(change):
    model = _mlp()
    x = tg.randn(3, 5, requires_grad=True)
    model(x)  # plans the chain
    _CHANGES[change](model)
    ours, unfused = _run(model, lambda m, t: m(t), x.detach().numpy(), True), \
        _run(model, _unfused, x.detach().numpy(), True)
    for a, b in zip(ours[:2] + tuple(ours[2]), unfused[:2] + tuple(unfused[2])):
        np.testing.assert_array_equal(a, b)


def _hook_on_the_first_layer(model):
    model[0].register_forward_hook(lambda m, a, out: out * 2)


def _new_weight_for_the_third_layer(model):
    model[2].weight = nn.Parameter(tg.ones(4, 7))


def _new_bias_in_the_registry(model):
    model[4]._parameters["bias"] = nn.Parameter(tg.ones(4))


def _new_weight_data_of_another_shape(model):
    model[0].weight.data = tg.ones(7, 6)


@pytest.mark.parametrize("change", [_hook_on_the_first_layer, _new_weight_for_the_third_layer,
                                    _new_bias_in_the_registry, _new_weight_data_of_another_shape])
def test_the_plan_follows_a_change_made_by_a_hook_during_the_call_that_made_it(change):
    """A hook of a later layer that changes an earlier, already chained one, once: the next calls see it."""
    model = _mlp()
    x = tg.randn(3, 5, requires_grad=True)

    def once(m, args):
        handle.remove()
        change(model)

    handle = model[6].register_forward_pre_hook(once)
    model(x)  # plans the chain, then the hook changes a chained layer
    try:
        expected = _run(model, _unfused, x.detach().numpy(), True)
    except ValueError as e:
        with pytest.raises(ValueError, match=re.escape(str(e))):
            model(x)
        return
    ours = _run(model, lambda m, t: m(t), x.detach().numpy(), True)
    for a, b in zip(ours[:2] + tuple(ours[2]), expected[:2] + tuple(expected[2])):
        np.testing.assert_array_equal(a, b)


_SEQUENTIAL_CHANGES = {"replace": lambda model, lib: model.__setitem__(4, lib.nn.Tanh()),
                       "append": lambda model, lib: model.append(lib.nn.Tanh()),
                       "delete": lambda model, lib: model.__delitem__(5)}


@requires_torch
@pytest.mark.parametrize("change", list(_SEQUENTIAL_CHANGES))
@pytest.mark.parametrize("on_call", [0, 1])
def test_a_hook_that_changes_the_sequentials_later_children_during_a_call_as_torch(change, on_call):
    """As PyTorch's loop over the children: a child replaced by a hook of an earlier one runs in that very call,
    and a child added or removed ends the call with the RuntimeError of a dict changed during iteration."""
    x = np.random.default_rng(0).standard_normal((3, 5))

    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(5, 7), lib.nn.Tanh(), lib.nn.Linear(7, 4), lib.nn.ReLU(),
                                  lib.nn.Linear(4, 4), lib.nn.Sigmoid(), lib.nn.Linear(4, 3)).double()
        with lib.no_grad():
            for i, p in enumerate(model.parameters()):
                p.copy_(lib.tensor(np.random.default_rng(i).standard_normal(tuple(p.shape))))
        calls = []

        def hook(module, args):
            calls.append(len(calls))
            if len(calls) == on_call + 1:
                _SEQUENTIAL_CHANGES[change](model, lib)

        model[3].register_forward_pre_hook(hook)
        outs = []
        for _ in range(3):
            try:
                outs.append(model(lib.tensor(x)).detach().numpy())
            except RuntimeError as e:
                outs.append(str(e))
        return outs

    ours, theirs = outcomes(run)
    for a, b in zip(ours, theirs, strict=True):
        assert type(a) is type(b) and (a == b if isinstance(a, str) else np.allclose(a, b, rtol=1e-12)), (a, b)


def test_the_plan_follows_a_dtype_change_of_the_model_and_of_the_input():
    model = _mlp()
    x = np.random.default_rng(0).standard_normal((3, 5))
    model(tg.tensor(x, dtype=tg.float32))
    model.double()  # new parameter arrays
    with pytest.raises(TypeError, match="dtype float32 does not match weight dtype float64"):
        model(tg.tensor(x, dtype=tg.float32))
    np.testing.assert_array_equal(model(tg.tensor(x)).detach().numpy(), _unfused(model, tg.tensor(x)).detach().numpy())
    model.load_state_dict({k: v.float() for k, v in model.state_dict().items()}, assign=True)
    with pytest.raises(TypeError, match="dtype float64 does not match weight dtype float32"):
        model(tg.tensor(x))
    with pytest.raises(ValueError, match="expected input with last dim 5"):
        model(tg.randn(3, 6))
    assert model(tg.tensor(x, dtype=tg.float32)).grad_fn.name() == "ChainBackward"
    model[0].weight.data = tg.ones(7, 6)
    with pytest.raises(ValueError, match="does not match weight of shape"):
        model(tg.randn(3, 5))


def test_the_plan_follows_a_layer_class_given_another_forward(monkeypatch):
    model = _mlp()
    x = tg.randn(3, 5)
    model(x)
    monkeypatch.setattr(nn.Sigmoid, "forward", lambda self, inp: inp * 0)
    np.testing.assert_array_equal(model(x).detach().numpy(), _unfused(model, x).detach().numpy())


def test_a_removed_hook_lets_the_layers_chain_again():
    model = _mlp()
    x = tg.randn(3, 5)
    handle = model[0].register_forward_hook(lambda m, a, out: None)
    assert model(x).grad_fn.name() == "ChainBackward"  # (the layers after the hooked one)
    assert model[0](x).grad_fn.name() == "LinearBackward"
    handle.remove()
    out = model(x)
    assert out.grad_fn.name() == "ChainBackward" and len(out.grad_fn.next_functions) == 1 + 7


# ----------------------------------------------------------------------------- ReLU + max pooling
def _pool_input(shape, seed=0, dtype=np.float64, special=True):
    """Whole numbers (ties, zeros, windows of negatives only), and with ``special`` a NaN and a -inf."""
    x = np.random.default_rng(seed).integers(-3, 3, size=shape).astype(dtype)
    if special:
        x.flat[1], x.flat[7] = np.nan, -np.inf
    return x


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("kernel, stride, dilation, ceil_mode", [(2, None, 1, False), (3, 1, 1, False),
                                                                 (2, 3, 2, False), (3, 2, 1, True), (1, 1, 1, False)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_then_max_pooling_is_one_node_with_exactly_the_unfused_numbers(nd, kernel, stride, dilation,
                                                                               ceil_mode, dtype):
    pool = (nn.MaxPool1d if nd == 1 else nn.MaxPool2d)(kernel, stride, dilation=dilation, ceil_mode=ceil_mode)
    tg.manual_seed(0)
    conv = (nn.Conv1d if nd == 1 else nn.Conv2d)(2, 3, 2).to(dtype)
    for model, special in ((nn.Sequential(nn.ReLU(), pool), True), (nn.Sequential(conv, nn.ReLU(), pool), False)):
        x = _pool_input((2, 2) + (8,) * nd, dtype=dtype, special=special)
        if not ceil_mode:  # (ceil_mode windows past the edge are padding: ReLU then runs first, as checked below)
            assert type(model(tg.tensor(x, requires_grad=True)).grad_fn).__name__ == "ReLUMaxPool"
        fused, unfused = _run(model, lambda m, t: m(t), x, True), _run(model, _unfused, x, True)
        np.testing.assert_array_equal(fused[0], unfused[0])
        for ours, theirs in zip([fused[1], *fused[2]], [unfused[1], *unfused[2]]):
            np.testing.assert_array_equal(ours, theirs)


def test_relu_then_a_padded_max_pooling_runs_relu_first():
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d(3, 1, padding=1, dilation=2))  # windows of padding only exist
    x = _pool_input((1, 2, 5, 5))
    out = model(tg.tensor(x, requires_grad=True))
    assert type(out.grad_fn).__name__ == "MaxPool"
    np.testing.assert_array_equal(out.detach().numpy(), _unfused(model, tg.tensor(x)).numpy())


def test_relu_and_max_pooling_with_hooks_indices_or_in_place_relu_run_on_their_own():
    x = tg.tensor(_pool_input((1, 2, 6, 6)), requires_grad=True)
    seen = []
    hooked = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))
    hooked[1].register_forward_pre_hook(lambda m, args: seen.append(type(args[0].grad_fn).__name__))
    hooked(x)
    assert seen == ["ReLU"]
    out, indices = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2, return_indices=True))(x)
    assert type(out.grad_fn).__name__ == "MaxPool" and indices.shape == out.shape
    assert type(nn.Sequential(nn.ReLU(inplace=True), nn.MaxPool2d(2))(x * 1).grad_fn).__name__ == "MaxPool"
    assert type(nn.Sequential(nn.ReLU(), nn.Tanh(), nn.MaxPool2d(2))(x).grad_fn).__name__ == "MaxPool"


@requires_torch
def test_a_small_cnn_with_fused_relu_and_pooling_against_torch():
    import torch

    def layers(m):
        return (m.Conv2d(1, 4, 3, padding=1), m.ReLU(), m.MaxPool2d(2), m.Flatten(),
                m.Linear(4 * 4 * 4, 5), m.ReLU(), m.Linear(5, 3))

    x = np.random.default_rng(0).standard_normal((3, 1, 8, 8)).astype(np.float32)
    compare_with_torch(nn.Sequential(*layers(nn)), torch.nn.Sequential(*layers(torch.nn)), x)


def test_fused_relu_and_pooling_passes_gradcheck_and_gradgradcheck():
    model = nn.Sequential(nn.Conv1d(1, 2, 2), nn.ReLU(), nn.MaxPool1d(2)).double()
    x = np.random.default_rng(1).standard_normal((2, 1, 9))
    gradcheck_module(model, x)
    xt = tg.tensor(x, requires_grad=True)
    assert type(model(xt).grad_fn).__name__ == "ReLUMaxPool"
    assert gradgradcheck(lambda t, *ps: model(t), (xt, model[0].weight))


def test_fused_relu_and_pooling_over_windows_of_256_elements():
    """A window of 256 elements needs 256 as its 'no element' choice: that must not wrap around to 0."""
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d(16))
    x = -np.random.default_rng(0).random((1, 2, 16, 16))  # channel 0: all negative, so no gradient
    x[0, 1] *= -1
    fused, unfused = _run(model, lambda m, t: m(t), x, True), _run(model, _unfused, x, True)
    assert type(model(tg.tensor(x, requires_grad=True)).grad_fn).__name__ == "ReLUMaxPool"
    np.testing.assert_array_equal(fused[1], unfused[1])
    assert not fused[1][0, 0].any() and fused[1][0, 1].any()


def test_relu_of_booleans_is_refused_fused_or_not_as_pytorch():
    x = tg.tensor(np.eye(4, dtype=bool).reshape(1, 1, 4, 4))
    for model in (nn.ReLU(), nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))):
        with pytest.raises(TypeError, match="relu|max_pool2d"):
            model(x)


@requires_torch
@pytest.mark.parametrize("nd", [1, 2])
def test_fused_relu_and_pooling_with_nan_and_inf_as_unfused_and_torch(nd):
    """ReLU passes the gradient to a NaN (x <= 0 is false there); pooling gives an inf gradient to one element."""
    import torch

    x = _pool_input((2, 2) + (6,) * nd)
    x.flat[11], x.flat[20] = np.nan, np.inf
    model = nn.Sequential(nn.ReLU(), (nn.MaxPool1d if nd == 1 else nn.MaxPool2d)(2))
    tmodel = torch.nn.Sequential(torch.nn.ReLU(), getattr(torch.nn, f"MaxPool{nd}d")(2))
    v = np.random.default_rng(1).standard_normal((2, 2) + (3,) * nd)
    v[np.isposinf(tmodel(torch.tensor(x)).numpy())] = np.inf  # an inf gradient for the inf's window
    results = []
    for forward in (lambda m, t: m(t), _unfused):
        t = tg.tensor(x, requires_grad=True)
        out = forward(model, t)
        out.backward(tg.tensor(v))
        results.append((out.detach().numpy(), t.grad.numpy()))
    tx = torch.tensor(x, requires_grad=True)
    tout = tmodel(tx)
    tout.backward(torch.tensor(v))
    for out, grad in results:
        np.testing.assert_array_equal(out, tout.detach().numpy())
        np.testing.assert_array_equal(grad, tx.grad.numpy())


@requires_torch
@pytest.mark.parametrize("chained", [True, False])
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True:UserWarning")  # (PyTorch's own)
def test_backward_with_create_graph_leaves_differentiable_grads_as_torch(chained):
    """A leaf's .grad after backward(create_graph=True) keeps its graph (the rules' fresh arrays are for plain
    backward only): here the squared gradient norm, differentiated again, against torch."""
    import torch

    model = _mlp(dtype=np.float64)
    tmodel = _torch_twin(model)
    x = np.random.default_rng(0).standard_normal((4, 5))
    out = model(tg.tensor(x)) if chained else _unfused(model, tg.tensor(x))
    (out ** 2).sum().backward(create_graph=True)
    (tmodel(torch.tensor(x)) ** 2).sum().backward(create_graph=True)
    ours, theirs = list(model.parameters()), list(tmodel.parameters())
    assert all(p.grad.requires_grad for p in ours)
    penalty = sum((p.grad * p.grad).sum() for p in ours)
    tpenalty = sum((p.grad * p.grad).sum() for p in theirs)
    (g,) = tg.autograd.grad(penalty, [ours[0]])
    (tg_,) = torch.autograd.grad(tpenalty, [theirs[0]])
    np.testing.assert_allclose(g.numpy(), tg_.numpy(), rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------------------------- randomized: plan vs the loop
def _random_layer(r):
    tg.manual_seed(r.randrange(10**6))
    kind = r.randrange(8)
    if kind <= 2:
        return nn.Linear(4, 4, bias=r.random() < 0.7)
    return [nn.Tanh, nn.Sigmoid, nn.ReLU, lambda: nn.MaxPool1d(3, stride=1, padding=1),
            lambda: nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4))][kind - 3]()


def _linears(model):
    return [m for m in model.modules() if type(m) is nn.Linear]


def _pick(r, items):
    return items[r.randrange(len(items))] if items else None


def _scale_weight(model, r, log):
    with tg.no_grad():
        lin = _pick(r, _linears(model))
        if lin is not None:
            lin.weight.mul_(0.5)


def _tie_weights(model, r, log):
    a, b = _pick(r, _linears(model)), _pick(r, _linears(model))
    if a is not None:
        a.weight = b.weight


# each action(model, r, log) changes the model the same way in both worlds (r is seeded alike)
_ACTIONS = [
    lambda model, r, log: _pick(r, list(model)).register_forward_hook(lambda m, a, out: log.append(type(m).__name__)),
    lambda model, r, log: _pick(r, list(model)).register_forward_pre_hook(lambda m, a: (a[0] * 0.5,)),
    lambda model, r, log: _pick(r, list(model)).register_full_backward_hook(lambda m, gi, go: log.append("b")),
    lambda model, r, log: model.__setitem__(r.randrange(len(model)), _random_layer(r)),
    lambda model, r, log: model.insert(r.randrange(len(model) + 1), _random_layer(r)),
    lambda model, r, log: model.append(_pick(r, list(model))),  # a module used twice
    lambda model, r, log: len(model) > 1 and model.__delitem__(r.randrange(len(model))),
    lambda model, r, log: setattr(_pick(r, _linears(model) or [nn.Linear(1, 1)]), "bias", None),
    lambda model, r, log: setattr(_pick(r, _linears(model) or [nn.Linear(1, 1)]), "weight",
                                  nn.Parameter(tg.ones(4, 4))),
    lambda model, r, log: _set_data(_pick(r, _linears(model) or [nn.Linear(1, 1)]).weight, tg.ones(4, 4)),
    _scale_weight,
    _tie_weights,
    lambda model, r, log: _pick(r, list(model.parameters()) or [tg.zeros(1)]).requires_grad_(r.random() < 0.5),
    lambda model, r, log: model.double() if r.random() < 0.5 else model.float(),
    lambda model, r, log: model.load_state_dict({k: v * 1.5 for k, v in model.state_dict().items()},
                                                assign=r.random() < 0.5),
]


def _act_during_the_next_call(model, r, log):
    """A one-shot hook of a random child that runs a random action when that child runs."""
    action, seed = _pick(r, _ACTIONS), r.randrange(10**6)

    def once(m, args):
        handle.remove()
        action(model, random.Random(seed), log)

    handle = _pick(r, list(model)).register_forward_pre_hook(once)


def _one_by_one(model, x):
    for m in model:  # (as the ground truth: a nested Sequential runs one by one too)
        hooked = m._forward_pre_hooks or m._forward_hooks or m._backward_hooks
        x = _one_by_one(m, x) if type(m) is nn.Sequential and not hooked else m(x)
    return x


def _outcome(model, forward, x_array, log):
    """The output, the input's and the parameters' gradients and the hook log, or the error's type."""
    x = tg.tensor(x_array, requires_grad=x_array.dtype != np.float16)
    model.zero_grad()
    try:
        out = forward(model, x)
        if out.requires_grad:
            out.backward(tg.tensor(np.random.default_rng(0).standard_normal(out.shape), dtype=out.dtype))
    except Exception as e:  # noqa: BLE001 (both must fail alike)
        return type(e), list(log)
    grads = [x.grad] + [p.grad for p in model.parameters()]
    return [out.detach().numpy()] + [None if g is None else g.numpy() for g in grads], list(log)


@pytest.mark.parametrize("seed", range(150))
def test_random_changes_between_and_during_calls_give_exactly_what_the_loop_over_the_layers_gives(seed):
    """Two copies of a random model go through the same random changes (between calls and, by a hook, during
    one); after each, ``model(x)`` on one gives bitwise what ``for m in model: x = m(x)`` gives on the other."""
    worlds = []
    for _ in range(2):
        r = random.Random(seed)
        worlds.append((nn.Sequential(*(_random_layer(r) for _ in range(r.randrange(2, 7)))), []))
    r = random.Random(seed + 1)
    for step in range(8):
        action, action_seed = _pick(r, _ACTIONS + [_act_during_the_next_call] * 3), r.randrange(10**6)
        if step:
            for model, log in worlds:
                action(model, random.Random(action_seed), log)
        x = np.random.default_rng(step).standard_normal(_pick(r, [(2, 3, 4), (5, 4), (4,), (0, 3, 4)]))
        x = x.astype(_pick(r, [np.float32, np.float32, np.float64, np.float16]))
        (fused, fused_log), (unfused, unfused_log) = (_outcome(worlds[0][0], lambda m, t: m(t), x, worlds[0][1]),
                                                      _outcome(worlds[1][0], _one_by_one, x, worlds[1][1]))
        assert fused_log == unfused_log
        if isinstance(fused, type) or isinstance(unfused, type):
            assert fused == unfused
            continue
        for a, b in zip(fused, unfused, strict=True):
            assert (a is None) == (b is None) and (a is None or (a.dtype == b.dtype and np.array_equal(a, b)))
