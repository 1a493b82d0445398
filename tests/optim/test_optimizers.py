"""Optimizers: the same trajectories as torch.optim, the Optimizer API, and exact resume from a state dict."""

import io

import numpy as np
import pytest

import tinygradnn as tg
from tinygradnn import optim

SHAPES = [(3, 4), (5,), ()]

# (our class, torch class name, options): every option combination the optimizers support
CASES = [
    (optim.SGD, "SGD", dict(lr=0.1)),
    (optim.SGD, "SGD", dict(lr=0.1, momentum=0.9)),
    (optim.SGD, "SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    (optim.SGD, "SGD", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=0.01)),
    (optim.SGD, "SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.1, maximize=True)),
    (optim.Adam, "Adam", dict(lr=0.01)),
    (optim.Adam, "Adam", dict(lr=0.02, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    (optim.Adam, "Adam", dict(lr=0.01, amsgrad=True)),
    (optim.Adam, "Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True)),
    (optim.Adam, "Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    (optim.AdamW, "AdamW", dict(lr=0.01)),
    (optim.AdamW, "AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True)),
    (optim.RMSprop, "RMSprop", dict(lr=0.01)),
    (optim.RMSprop, "RMSprop", dict(lr=0.01, momentum=0.9)),
    (optim.RMSprop, "RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    (optim.RMSprop, "RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, eps=1e-4)),
    (optim.RMSprop, "RMSprop", dict(lr=0.01, maximize=True)),
    (optim.Adagrad, "Adagrad", dict(lr=0.1)),
    (optim.Adagrad, "Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    (optim.Adagrad, "Adagrad", dict(lr=0.1, eps=1e-4, maximize=True)),
    (optim.Adadelta, "Adadelta", dict()),
    (optim.Adadelta, "Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    (optim.Adadelta, "Adadelta", dict(lr=0.5, maximize=True)),
]
IDS = [f"{cls.__name__}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for cls, _, kw in CASES]


def make_params(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def fake_grad(step, i, value):
    """A gradient that depends on the step, the parameter index and the current value (a 'loss' landscape)."""
    rng = np.random.default_rng(1000 * step + i)
    return (rng.standard_normal(value.shape) + 0.5 * value).astype(value.dtype)


def run_ours(cls, kw, arrays, steps, start=0, opt=None, params=None):
    if params is None:
        params = [tg.tensor(a, requires_grad=True) for a in arrays]
    if opt is None:
        opt = cls(params, **kw)
    for step in range(start, start + steps):
        for i, p in enumerate(params):
            p.grad = tg.tensor(fake_grad(step, i, p.detach().numpy()))
        opt.step()
    return params, opt


def run_both(cls, torch_name, kw, arrays, steps):
    """``steps`` steps of our optimizer and torch's on copies of ``arrays`` with the same fake gradients:
    (our parameters, torch's, our optimizer). Skips the test without torch."""
    torch = pytest.importorskip("torch")

    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    opt, topt = cls(ours, **kw), getattr(torch.optim, torch_name)(theirs, foreach=False, **kw)
    for step in range(steps):
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            g = fake_grad(step, i, tp.detach().numpy())
            p.grad, tp.grad = tg.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    return ours, theirs, opt


@pytest.mark.torch
@pytest.mark.parametrize("cls,torch_name,kw", CASES, ids=IDS)
def test_matches_torch_float64(cls, torch_name, kw):
    torch = pytest.importorskip("torch")
    arrays = make_params()
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    opt = cls(ours, **kw)
    topt = getattr(torch.optim, torch_name)(theirs, foreach=False, **kw)
    for step in range(10):
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            g = fake_grad(step, i, tp.detach().numpy())
            p.grad = tg.tensor(g)
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-6, atol=1e-12)
    # the state has PyTorch's names and values
    for p, tp in zip(ours, theirs):
        state, tstate = opt.state[p], topt.state[tp]
        assert set(state) == set(tstate)
        for key, value in state.items():
            expected = tstate[key]
            if key == "step":
                assert value == int(expected)
            else:
                np.testing.assert_allclose(value.numpy(), expected.numpy(), rtol=1e-6, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("cls,torch_name,kw", CASES[::3], ids=IDS[::3])
def test_matches_torch_float32_and_stays_float32(cls, torch_name, kw):
    ours, theirs, opt = run_both(cls, torch_name, kw, make_params(np.float32), steps=10)
    for p, tp in zip(ours, theirs):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=2e-5, atol=1e-6)
        for key, value in opt.state[p].items():
            if key != "step":
                assert value.dtype == np.float32, key


SGD_CASES = [case for case in CASES if case[0] is optim.SGD]


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls,torch_name,kw", SGD_CASES, ids=IDS[:len(SGD_CASES)])
def test_sgd_on_parameters_longer_than_a_blas_chunk_matches_torch(cls, torch_name, kw, dtype):
    shapes = [(150, 70), (5,), ()]  # 10,500 elements: two axpy calls (tinygradnn.optim.optimizer._AXPY_CHUNK)
    arrays = [np.random.default_rng(i).standard_normal(s).astype(dtype) for i, s in enumerate(shapes)]
    ours, theirs, _ = run_both(cls, torch_name, kw, arrays, steps=5)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (0,), (1,), (7,), (33, 3), (8192,), (8193,), (150, 130)])
def test_add_scaled_is_y_plus_alpha_x_rounded_at_most_once_more(shape, dtype):
    from tinygradnn.optim.optimizer import add_scaled_

    rng = np.random.default_rng(len(shape) + sum(shape))
    y, x = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
    exact = y.astype(np.longdouble) + np.longdouble(dtype(-0.37)) * x.astype(np.longdouble)
    two_roundings = y - dtype(0.37) * x  # NumPy's result: the product rounded, then the sum
    add_scaled_(y, -0.37, x)
    assert y.dtype == dtype
    # no worse than NumPy's two roundings: within one unit in the last place of the exact result
    assert np.all(np.abs(y - exact) <= np.maximum(np.abs(two_roundings - exact), np.spacing(np.abs(y))))


def test_add_scaled_of_the_arrays_blas_cannot_take_is_numpys():
    from tinygradnn.optim.optimizer import add_scaled_

    base = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    for y, x in [(np.asfortranarray(base), base), (base.copy(), base.T.copy().T), (base.astype(np.float16), base),
                 (base.copy(), base.astype(np.float64)), (np.arange(6), np.arange(6))]:
        expected = y + 2 * x
        add_scaled_(y, 2, x)
        np.testing.assert_array_equal(y, expected.astype(y.dtype))
    y, x = np.ones(3, np.float32), np.array([1.0, np.inf, np.nan], np.float32)
    with np.errstate(invalid="ignore"):
        add_scaled_(y, 0.0, x)  # (BLAS would skip alpha = 0; PyTorch and NumPy give 0 * inf = nan)
    np.testing.assert_array_equal(y, [1.0, np.nan, np.nan])
    read_only = np.ones(3, np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        add_scaled_(read_only, 1.0, np.ones(3, np.float32))


@pytest.mark.torch
def test_param_groups_with_their_own_options_match_torch():
    torch = pytest.importorskip("torch")
    arrays = make_params()
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]

    def groups(ps):
        return [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.001, "weight_decay": 0.1}]

    opt = optim.Adam(groups(ours), lr=0.01, amsgrad=True)
    topt = torch.optim.Adam(groups(theirs), lr=0.01, amsgrad=True, foreach=False)
    assert opt.param_groups[1]["lr"] == 0.001 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    for step in range(10):
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            g = fake_grad(step, i, tp.detach().numpy())
            p.grad, tp.grad = tg.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("cls,torch_name,kw", CASES, ids=IDS)
def test_resume_from_saved_state_dict_is_bit_for_bit(cls, torch_name, kw):
    arrays = make_params()
    full, _ = run_ours(cls, kw, arrays, 10)

    half, opt = run_ours(cls, kw, arrays, 5)
    buf = io.BytesIO()
    tg.save({"params": [p.detach() for p in half], "optim": opt.state_dict()}, buf)
    buf.seek(0)
    ckpt = tg.load(buf)
    resumed = [tg.tensor(t, requires_grad=True) for t in ckpt["params"]]
    opt2 = cls(resumed, **kw)
    opt2.load_state_dict(ckpt["optim"])
    run_ours(cls, kw, None, 5, start=5, opt=opt2, params=resumed)
    for a, b in zip(full, resumed):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_state_dict_layout_is_pytorchs():
    a, b = tg.zeros(2, requires_grad=True), tg.zeros(3, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    b.grad = tg.ones(3)
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert list(sd["state"]) == [1]  # only b has a gradient, hence state
    np.testing.assert_array_equal(sd["state"][1]["momentum_buffer"].numpy(), np.ones(3, np.float32))
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["momentum"] == 0.9


@pytest.mark.torch
@pytest.mark.parametrize("kw", [{}, {"weight_decay": 0.5}, {"maximize": True}], ids=["plain", "decay", "maximize"])
def test_sgd_without_momentum_keeps_no_state_as_pytorch(kw):
    torch = pytest.importorskip("torch")
    ours, theirs = tg.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    opt, topt = optim.SGD([ours], lr=0.1, **kw), torch.optim.SGD([theirs], lr=0.1, **kw)
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    opt.step()
    topt.step()
    assert opt.state_dict()["state"] == topt.state_dict()["state"] == {}
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy())


def test_state_dict_is_a_snapshot():
    w = tg.ones(3, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    w.grad = tg.ones(3)
    opt.step()
    sd = opt.state_dict()
    before = sd["state"][0]["exp_avg"].numpy().copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].numpy(), before)
    assert sd["state"][0]["step"] == 1


def test_load_state_dict_restores_group_options_and_casts_state():
    w = tg.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.grad = tg.ones(3)
    opt.step()
    sd = opt.state_dict()
    sd["param_groups"][0]["lr"] = 0.01
    sd["state"][0]["momentum_buffer"] = np.ones(3, dtype=np.float64)  # an array from elsewhere

    w2 = tg.ones(3, requires_grad=True)
    opt2 = optim.SGD([w2], lr=0.1, momentum=0.9)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.01
    assert opt2.param_groups[0]["params"][0] is w2
    buf = opt2.state[w2]["momentum_buffer"]
    assert isinstance(buf, tg.Tensor) and buf.dtype == np.float32


def test_load_state_dict_rejects_mismatches():
    a, b = tg.zeros(2, requires_grad=True), tg.zeros(3, requires_grad=True)
    opt = optim.Adam([a, b])
    a.grad, b.grad = tg.ones(2), tg.ones(3)
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="has 2 parameters"):
        optim.Adam([a]).load_state_dict(sd)
    with pytest.raises(ValueError, match="shape"):
        optim.Adam([tg.zeros(3, requires_grad=True), tg.zeros(2, requires_grad=True)]).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        optim.Adam([a, b]).load_state_dict({"model": 1})


def test_load_state_dict_checks_the_shape_of_every_state_array_but_the_step():
    w = tg.ones(3, requires_grad=True)
    opt = optim.Adam([w])
    w.grad = tg.ones(3)
    opt.step()
    good = opt.state_dict()
    for bad_value in (np.array(0.0), tg.tensor(0.0), np.zeros(1), np.zeros((3, 1))):
        sd = opt.state_dict()
        sd["state"][0]["exp_avg"] = bad_value
        w2 = tg.ones(3, requires_grad=True)
        opt2 = optim.Adam([w2])
        with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 0 has shape .* but the parameter has "
                                             r"shape \(3,\)"):
            opt2.load_state_dict(sd)
        assert not opt2.state  # nothing loaded
    # the step count may be a 0-d (PyTorch) or one-element array: it becomes a number
    for step in (np.array(1.0), tg.tensor(1.0), np.ones(1, np.int64)):
        sd = opt.state_dict()
        sd["state"][0]["step"] = step
        opt2 = optim.Adam([w])
        opt2.load_state_dict(sd)
        assert opt2.state[w]["step"] == 1 and type(opt2.state[w]["step"]) is int
    # a 0-d parameter takes 0-d buffers
    s = tg.tensor(1.0, requires_grad=True)
    opt = optim.Adam([s])
    s.grad = tg.tensor(1.0)
    opt.step()
    optim.Adam([tg.tensor(2.0, requires_grad=True)]).load_state_dict(opt.state_dict())
    assert good["state"][0]["exp_avg"].shape == (3,)


def test_updates_in_place_without_recording_a_graph():
    w = tg.ones(4, requires_grad=True)
    data = w._data
    for cls in (optim.SGD, optim.Adam, optim.RMSprop, optim.Adagrad, optim.Adadelta):
        opt = cls([w], lr=0.1)
        w.grad = tg.ones(4)
        opt.step()
        assert w._data is data and w.is_leaf and w.requires_grad
    assert not np.allclose(w.detach().numpy(), 1.0)


def test_params_without_grad_are_skipped():
    a, b = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = tg.ones(2)
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), np.ones(2))
    assert b not in opt.state and a in opt.state


def test_zero_grad():
    w = tg.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), np.zeros(3))
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * np.ones(3))  # gradients accumulate until zeroed
    opt.zero_grad()
    assert w.grad is None


def test_training_a_quadratic_with_backward_and_closure():
    w = tg.tensor([3.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.5)
    calls = []

    def closure():
        opt.zero_grad()
        loss = ((w - 1.0) ** 2).sum()
        loss.backward()
        calls.append(loss.item())
        return loss

    for _ in range(100):
        loss = opt.step(closure)
    assert len(calls) == 100 and loss.item() == calls[-1]
    np.testing.assert_allclose(w.detach().numpy(), [1.0, 1.0], atol=1e-4)


def test_named_parameters_and_add_param_group():
    a, b = tg.ones(2, requires_grad=True), tg.ones(3, requires_grad=True)
    opt = optim.SGD([("a", a)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["a"]
    with pytest.raises(ValueError, match="with or without names"):
        opt.add_param_group({"params": [b]})
    opt.add_param_group({"params": [("b", b)], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0
    assert "Parameter Group 1" in repr(opt)


def test_constructor_errors():
    w = tg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="wrap it in a list"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        optim.SGD({w}, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.Adam([w], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="rho"):
        optim.Adadelta([w], rho=1.5)


def test_gradient_shape_mismatch_is_reported():
    w = tg.ones(3, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.grad = tg.ones(2)
    with pytest.raises(RuntimeError, match=r"gradient of shape \(2,\) does not match .* \(3,\)"):
        opt.step()


def test_a_duplicated_parameter_warns_and_is_updated_twice_as_pytorch():
    p = tg.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt = optim.Adam([p, p], lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 2
    p.sum().backward()
    opt.step()  # torch 2.13: two updates through one state
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 0.8], rtol=1e-6)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [1, 1] and list(sd["state"]) == [1]  # as torch
    assert sd["state"][1]["step"] == 2
    np.testing.assert_allclose(sd["state"][1]["exp_avg"].numpy(), [0.19, 0.19], rtol=1e-6)
    q = tg.ones(1, requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt.add_param_group({"params": [q, q]})
    assert opt.state_dict()["param_groups"][1]["params"] == [3, 3]
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt2 = optim.Adam([tg.ones(2, requires_grad=True)] * 2)
    opt2.load_state_dict(sd)
    assert next(iter(opt2.state.values()))["step"] == 2
    with pytest.warns(UserWarning, match="duplicate parameters"):
        sgd = optim.SGD([p, p], lr=0.1)
    p.grad = tg.tensor([1.0, 2.0])
    sgd.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.6, 0.4], rtol=1e-6)


def test_load_state_dict_takes_the_saved_group_options_as_they_are():
    p = tg.ones(2, requires_grad=True)
    adam = optim.Adam([p], lr=0.1)
    p.sum().backward()
    adam.step()
    sgd = optim.SGD([p], lr=0.3, momentum=0.5)
    sgd.load_state_dict(adam.state_dict())
    group = sgd.param_groups[0]
    assert "momentum" not in group and "dampening" not in group  # as torch: the saved options, nothing more
    assert group["lr"] == 0.1 and group["betas"] == (0.9, 0.999) and group["nesterov"] is False
    with pytest.raises(KeyError, match="momentum"):
        sgd.step()
    # a flag newer than the state dict gets its default, as torch's __setstate__ does; an unknown key stays
    sd = adam.state_dict()
    del sd["param_groups"][0]["amsgrad"]
    sd["param_groups"][0]["extra"] = 1
    adam2 = optim.Adam([p], lr=0.3, amsgrad=True)
    adam2.load_state_dict(sd)
    assert adam2.param_groups[0]["amsgrad"] is False and adam2.param_groups[0]["extra"] == 1


@pytest.mark.torch
def test_adagrad_state_is_created_up_front_from_the_constructors_accumulator_value_as_pytorch():
    # PyTorch's Adagrad fills every parameter's "sum" when it is built (so the state dict lists parameters
    # that never had a gradient), and always from the constructor's initial_accumulator_value: a group's
    # own value, or a group added later, does not change it.
    torch = pytest.importorskip("torch")
    arrays = make_params()
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]

    def build(lib, ps):
        opt = lib.optim.Adagrad([{"params": ps[:1], "initial_accumulator_value": 2.0}, {"params": ps[1:2]}],
                                lr=0.1, initial_accumulator_value=0.5)
        opt.add_param_group({"params": ps[2:], "initial_accumulator_value": 3.0})
        return opt

    opt, topt = build(tg, ours), build(torch, theirs)
    assert sorted(opt.state_dict()["state"]) == sorted(topt.state_dict()["state"]) == [0, 1]
    for step in range(4):
        for i, (p, tp) in enumerate(zip(ours, theirs)):
            if (step + i) % 2:  # some parameters without a gradient on some steps
                p.grad = tp.grad = None
                continue
            g = fake_grad(step, i, tp.detach().numpy())
            p.grad, tp.grad = tg.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(ours, theirs):
            np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-12)
            np.testing.assert_allclose(opt.state[p]["sum"].numpy(), topt.state[tp]["sum"].numpy(), rtol=1e-12)
            assert opt.state[p]["step"] == int(topt.state[tp]["step"])


# options for a second group and for a group added mid-training, per optimizer (each differs from CASES' options)
_GROUP2 = {"SGD": dict(lr=0.03, momentum=0.5), "Adam": dict(lr=0.003, betas=(0.5, 0.6)),
           "AdamW": dict(weight_decay=0.0), "RMSprop": dict(alpha=0.5, momentum=0.3),
           "Adagrad": dict(lr_decay=0.5), "Adadelta": dict(rho=0.5)}
_ADDED = {"SGD": dict(lr=0.2, momentum=0.0), "Adam": dict(amsgrad=False), "AdamW": dict(lr=0.02),
          "RMSprop": dict(centered=False), "Adagrad": dict(eps=1e-3), "Adadelta": dict(lr=0.1)}


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls,torch_name,kw", CASES, ids=IDS)
def test_random_training_with_groups_frozen_and_missing_grads_and_a_mid_run_resume_matches_torch(
        cls, torch_name, kw, dtype):
    # Two groups with their own options, a frozen parameter, random gradients that skip some parameters on some
    # steps, zero_grad in both styles (or not at all: gradients accumulate), a group added at step 4, and at step 6
    # our optimizer is replaced by a fresh one loaded from its state dict. Torch trains uninterrupted.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2 * CASES.index((cls, torch_name, kw)) + (dtype == np.float32))
    arrays = [rng.standard_normal(s).astype(dtype) for s in [(3, 4), (5,), (), (2, 1, 3), (4,)]]
    ours = [tg.tensor(a, requires_grad=i != 1) for i, a in enumerate(arrays)]  # parameter 1 is frozen
    theirs = [torch.tensor(a, requires_grad=i != 1) for i, a in enumerate(arrays)]

    def build(lib, ps):
        groups = [{"params": ps[:2]}, {"params": ps[2:4], **_GROUP2[torch_name]}]
        return getattr(lib.optim, torch_name)(groups, **kw, **({} if lib is tg else {"foreach": False}))

    opt, topt = build(tg, ours), build(torch, theirs)
    tol = dict(rtol=1e-6, atol=1e-12) if dtype == np.float64 else dict(rtol=3e-5, atol=3e-6)
    for step in range(12):
        if step == 4:
            opt.add_param_group({"params": [ours[4]], **_ADDED[torch_name]})
            topt.add_param_group({"params": [theirs[4]], **_ADDED[torch_name]})
        if step == 6:
            saved = opt.state_dict()
            opt = build(tg, ours)
            opt.add_param_group({"params": [ours[4]], **_ADDED[torch_name]})
            opt.load_state_dict(saved)
        live = len(ours) if step >= 4 else 4
        if step % 3 == 0:
            opt.zero_grad()
            topt.zero_grad()
        elif step % 3 == 1:
            opt.zero_grad(set_to_none=False)  # a zero gradient still takes a step (and moves momentum)
            topt.zero_grad(set_to_none=False)
        for i, (p, tp) in enumerate(zip(ours[:live], theirs[:live])):
            if i == 1 or rng.random() < 0.25:  # frozen, or no gradient this step
                continue
            g = (rng.standard_normal(tp.shape) + 0.5 * tp.detach().numpy()).astype(dtype)
            if tp.grad is None:
                p.grad, tp.grad = tg.tensor(g), torch.tensor(g)
            else:
                p.grad, tp.grad = tg.tensor(p.grad.numpy() + g), tp.grad + torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(ours[:live], theirs[:live]):
            assert p.dtype == dtype
            np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), **tol, err_msg=f"step {step}")
            assert set(opt.state.get(p, {})) == set(topt.state.get(tp, {}))
    np.testing.assert_array_equal(ours[1].detach().numpy(), arrays[1])
