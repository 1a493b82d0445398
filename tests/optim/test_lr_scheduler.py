"""Learning-rate schedulers: the same lr (and momentum) sequences as torch.optim.lr_scheduler, and exact resume."""

import io
import math
import warnings

import numpy as np
import pytest

import tinygradnn as tg
from tinygradnn import optim
from tinygradnn.optim import lr_scheduler as sched

STEPS = 30


def lambda_a(epoch):
    return 0.95**epoch


def lambda_b(epoch):
    return 1.0 / (1 + epoch)


# (scheduler name, keyword arguments, optimizer name, optimizer options)
CASES = [
    ("StepLR", dict(step_size=7, gamma=0.5), "SGD", {}),
    ("MultiStepLR", dict(milestones=[5, 12, 12, 20], gamma=0.3), "SGD", {}),
    ("ExponentialLR", dict(gamma=0.9), "SGD", {}),
    ("CosineAnnealingLR", dict(T_max=10), "SGD", {}),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001), "Adam", {}),
    ("LambdaLR", dict(lr_lambda=lambda_a), "SGD", {}),
    ("LambdaLR", dict(lr_lambda=[lambda_a, lambda_b]), "SGD", {}),
    ("LinearLR", dict(start_factor=0.2, total_iters=6), "SGD", {}),
    ("OneCycleLR", dict(max_lr=[1.0, 0.5], total_steps=STEPS), "SGD", dict(momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=STEPS + 5, pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
     "SGD", dict(momentum=0.9, nesterov=True)),
    ("OneCycleLR", dict(max_lr=0.3, epochs=3, steps_per_epoch=10, three_phase=True, anneal_strategy="linear"),
     "Adam", {}),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=STEPS, cycle_momentum=False), "SGD", {}),
]
IDS = [f"{name}-{i}" for i, (name, *_) in enumerate(CASES)]


def groups(params):
    return [{"params": params[:1], "lr": 0.1}, {"params": params[1:], "lr": 0.01}]


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


def drive(opt, scheduler, steps, metrics=None):
    """Run ``steps`` epochs; record (lrs, momenta) after each scheduler step."""
    history = []
    for epoch in range(steps):
        opt.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[epoch])
        history.append((scheduler.get_last_lr(), [momentum_of(g) for g in opt.param_groups]))
    return history


def make(lib_optim, lib_sched, params, name, kw, opt_name, opt_kw):
    opt = getattr(lib_optim, opt_name)(groups(params), **opt_kw)
    return opt, getattr(lib_sched, name)(opt, **kw)


@pytest.mark.torch
@pytest.mark.parametrize("name,kw,opt_name,opt_kw", CASES, ids=IDS)
def test_same_lr_sequence_as_torch(name, kw, opt_name, opt_kw):
    torch = pytest.importorskip("torch")
    ours = make(optim, sched, [tg.zeros(2, requires_grad=True), tg.zeros(2, requires_grad=True)],
                name, kw, opt_name, opt_kw)
    theirs = make(torch.optim, torch.optim.lr_scheduler,
                  [torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)], name, kw, opt_name, opt_kw)
    assert ours[1].get_last_lr() == pytest.approx(theirs[1].get_last_lr(), rel=1e-12)
    steps = STEPS
    for (lrs, moms), (tlrs, tmoms) in zip(drive(*ours, steps), drive(*theirs, steps)):
        np.testing.assert_allclose(lrs, tlrs, rtol=1e-12)
        np.testing.assert_allclose(moms, tmoms, rtol=1e-12)


REDUCE_CASES = [
    dict(),
    dict(mode="min", factor=0.5, patience=2, cooldown=1, min_lr=0.004),
    dict(mode="min", factor=0.5, patience=1, threshold=0.05, threshold_mode="abs", min_lr=[0.001, 0.0005]),
    dict(mode="max", factor=0.3, patience=0, threshold=0.01),
    dict(mode="max", factor=0.3, patience=1, threshold=0.05, threshold_mode="abs", cooldown=2),
]
METRIC = [1.0, 0.9, 0.9, 0.95, 0.91, 0.9, 0.89, 0.7, 0.71, 0.72, 0.72, 0.69, 0.69, 0.69, 0.7,
          0.8, 0.6, 0.61, 0.6, 0.6, 0.5, 0.5, 0.5, 0.51, 0.52, 0.49, 0.49, 0.49, 0.49, 0.2]


@pytest.mark.torch
@pytest.mark.parametrize("kw", REDUCE_CASES)
def test_reduce_on_plateau_matches_torch(kw):
    torch = pytest.importorskip("torch")
    opt = optim.SGD(groups([tg.zeros(2, requires_grad=True), tg.zeros(2, requires_grad=True)]))
    topt = torch.optim.SGD(groups([torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)]))
    ours, theirs = sched.ReduceLROnPlateau(opt, **kw), torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw)
    metric = METRIC if kw.get("mode", "min") == "min" else [-m for m in METRIC]
    history, thistory = drive(opt, ours, STEPS, metric), drive(topt, theirs, STEPS, metric)
    np.testing.assert_allclose([h[0] for h in history], [h[0] for h in thistory], rtol=1e-12)
    if kw:
        assert len({tuple(h[0]) for h in history}) > 2  # the script does trigger several reductions
    assert ours.best == theirs.best and ours.num_bad_epochs == theirs.num_bad_epochs


def roundtrip(state):
    buf = io.BytesIO()
    tg.save(state, buf)
    buf.seek(0)
    return tg.load(buf)


@pytest.mark.parametrize("name,kw,opt_name,opt_kw", CASES, ids=IDS)
def test_resume_from_state_dicts_gives_the_same_schedule(name, kw, opt_name, opt_kw):
    def fresh():
        return make(optim, sched, [tg.zeros(2, requires_grad=True), tg.zeros(2, requires_grad=True)],
                    name, kw, opt_name, opt_kw)

    total = STEPS
    full = drive(*fresh(), total)

    opt, scheduler = fresh()
    first = drive(opt, scheduler, 10)
    ckpt = roundtrip({"optim": opt.state_dict(), "sched": scheduler.state_dict()})
    opt2, scheduler2 = fresh()
    opt2.load_state_dict(ckpt["optim"])
    scheduler2.load_state_dict(ckpt["sched"])
    assert first + drive(opt2, scheduler2, total - 10) == full


def test_reduce_on_plateau_resume_including_the_initial_infinite_best():
    def fresh():
        opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
        return opt, sched.ReduceLROnPlateau(opt, patience=1, factor=0.5)

    full = drive(*fresh(), STEPS, METRIC)
    opt, scheduler = fresh()
    ckpt = roundtrip({"optim": opt.state_dict(), "sched": scheduler.state_dict()})
    assert ckpt["sched"]["best"] == math.inf
    part = drive(opt, scheduler, 12, METRIC)
    ckpt = roundtrip({"optim": opt.state_dict(), "sched": scheduler.state_dict()})
    opt2, scheduler2 = fresh()
    opt2.load_state_dict(ckpt["optim"])
    scheduler2.load_state_dict(ckpt["sched"])
    assert part + drive(opt2, scheduler2, STEPS - 12, METRIC[12:]) == full


class _Decay:
    """A callable object: its attributes are saved in LambdaLR's state_dict, as PyTorch does."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, epoch):
        return self.rate**epoch


def test_lambda_lr_state_dict_keeps_callable_objects_state_not_functions():
    w, v = tg.zeros(1, requires_grad=True), tg.zeros(1, requires_grad=True)
    opt = optim.SGD([{"params": [w]}, {"params": [v]}], lr=1.0)
    s = sched.LambdaLR(opt, [lambda e: 0.5**e, _Decay(0.9)])
    state = s.state_dict()
    assert state["lr_lambdas"] == [None, {"rate": 0.9}]  # as torch 2.13
    assert "lr_lambdas" in s.__dict__ and callable(s.lr_lambdas[0])
    tg.save(state, io.BytesIO())  # saveable
    s2 = sched.LambdaLR(opt, [lambda e: 0.1, _Decay(0.1)])
    s2.load_state_dict(state)
    assert s2.lr_lambdas[0](1) == 0.1 and s2.lr_lambdas[1].rate == 0.9 and "lr_lambdas" in state


def test_closed_form_step_with_epoch_warns():
    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    s = sched.StepLR(opt, step_size=2, gamma=0.1)
    opt.step()
    with pytest.warns(UserWarning, match="deprecated"):
        s.step(5)
    assert s.get_last_lr() == pytest.approx([0.01])


def test_warns_when_the_scheduler_steps_before_the_optimizer():
    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    s = sched.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="before `optimizer.step"):
        s.step()
    opt2 = optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    s2 = sched.ExponentialLR(opt2, gamma=0.5)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s2.step()


def test_a_param_group_added_after_a_per_group_schedule_raises():
    w, v = tg.zeros(1, requires_grad=True), tg.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=1.0)
    lam = sched.LambdaLR(opt, lambda e: 0.5**e)
    step = sched.StepLR(opt, step_size=1, gamma=0.5)  # computed from the groups' current lrs: no per-group list
    opt.step()
    lam.step()
    opt.add_param_group({"params": [v], "lr": 1.0})
    with pytest.raises(ValueError, match="LambdaLR computed 1 learning rates .* the optimizer now has 2 parameter "
                                         "groups"):
        lam.step()
    assert lam.last_epoch == 1 and lam._step_count == 2  # not advanced by the failed step
    assert [g["lr"] for g in opt.param_groups] == [0.5, 1.0]
    step.step()  # as in PyTorch, schedules that scale the current lrs go on over every group
    assert [g["lr"] for g in opt.param_groups] == [0.25, 0.5]
    with pytest.warns(UserWarning, match="deprecated"), pytest.raises(ValueError, match="StepLR computed 1"):
        step.step(3)  # the closed form needs the base lrs, one per group the scheduler was created with


def test_errors():
    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=1.0)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        sched.StepLR("opt", step_size=1)
    with pytest.raises(KeyError, match="initial_lr"):
        sched.StepLR(opt, step_size=1, last_epoch=3)
    with pytest.raises(ValueError, match="lr_lambda must have one value per parameter group"):
        sched.LambdaLR(opt, [lambda_a, lambda_b])
    with pytest.raises(ValueError, match="total_steps OR"):
        sched.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        sched.ReduceLROnPlateau(opt, factor=2.0)
    with pytest.raises(ValueError, match="mode 'up' is unknown"):
        sched.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ValueError, match="neither momentum nor betas"):
        sched.OneCycleLR(optim.Adagrad([tg.zeros(1, requires_grad=True)]), max_lr=1.0, total_steps=10)
    one_cycle = sched.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    opt.step()
    for _ in range(3):
        one_cycle.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        one_cycle.step()


@pytest.mark.torch
@pytest.mark.parametrize("name,kw", [("LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=7)),
                                     ("StepLR", dict(step_size=3, gamma=0.3)), ("ExponentialLR", dict(gamma=0.9)),
                                     ("MultiStepLR", dict(milestones=[2, 5, 5], gamma=0.3)),
                                     ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01))])
def test_step_with_epoch_gives_torchs_closed_form_to_the_last_bit(name, kw):
    torch = pytest.importorskip("torch")
    opt = optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.07)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.07)
    ours, theirs = getattr(sched, name)(opt, **kw), getattr(torch.optim.lr_scheduler, name)(topt, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in [3, 1, 4, 6, 9, 2]:
            opt.step(), topt.step()
            ours.step(epoch), theirs.step(epoch)
            assert ours.get_last_lr() == theirs.get_last_lr(), epoch


CHAINS = [
    (("ExponentialLR", dict(gamma=0.9)), ("StepLR", dict(step_size=4, gamma=0.5))),
    (("LinearLR", dict(start_factor=0.2, total_iters=6)), ("CosineAnnealingLR", dict(T_max=8, eta_min=0.001))),
    (("CosineAnnealingLR", dict(T_max=5)), ("MultiStepLR", dict(milestones=[3, 12, 12], gamma=0.3))),
    (("MultiStepLR", dict(milestones=[0, 7], gamma=0.5)),
     ("LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=9))),
    (("StepLR", dict(step_size=1, gamma=0.95)), ("LambdaLR", dict(lr_lambda=[lambda_a, lambda_b]))),
]


@pytest.mark.torch
@pytest.mark.parametrize("chain", CHAINS, ids=[f"{a[0]}+{b[0]}" for a, b in CHAINS])
def test_two_chained_schedulers_match_torch_and_resume_from_state_dicts(chain):
    # Both schedulers change the same groups' lr each epoch (the recursive forms compose); halfway through, a
    # fresh optimizer and schedulers are loaded from state dicts and continue. Torch runs uninterrupted.
    torch = pytest.importorskip("torch")

    def build(lib_optim, lib_sched, lib):
        opt = lib_optim.SGD(groups([lib.zeros(2, requires_grad=True), lib.zeros(2, requires_grad=True)]), momentum=0.9)
        return opt, [getattr(lib_sched, name)(opt, **kw) for name, kw in chain]

    def run(opt, schedulers, epochs):
        history = []
        for _ in range(epochs):
            opt.step()
            for s in schedulers:
                s.step()
            history.append([s.get_last_lr() for s in schedulers] + [[g["lr"] for g in opt.param_groups]])
        return history

    theirs = run(*build(torch.optim, torch.optim.lr_scheduler, torch), STEPS)
    opt, schedulers = build(optim, sched, tg)
    first = run(opt, schedulers, 10)
    ckpt = roundtrip({"optim": opt.state_dict(), "sched": [s.state_dict() for s in schedulers]})
    opt, schedulers = build(optim, sched, tg)
    opt.load_state_dict(ckpt["optim"])
    for s, saved in zip(schedulers, ckpt["sched"]):
        s.load_state_dict(saved)
    ours = first + run(opt, schedulers, STEPS - 10)
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-12)
