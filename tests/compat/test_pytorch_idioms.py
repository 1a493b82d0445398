"""The small idioms of real PyTorch training scripts, each with PyTorch's meaning (``torch`` is tinygradnn)."""

import contextlib
import importlib
import os

import numpy as np
import pytest
from helpers import requires_torch

import tinygradnn as torch

nn, F = torch.nn, torch.nn.functional


# ----------------------------------------------------------------------------- devices
def test_the_cpu_is_the_only_device():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert device == torch.device("cpu") == "cpu" and str(device) == "cpu"
    assert torch.cuda.is_available() is False and torch.backends.mps.is_available() is False
    assert torch.cuda.device_count() == 0
    x = torch.randn(2, 3)
    assert x.to(device) is x and x.cpu() is x and x.to("cpu") is x
    assert x.device == device



@requires_torch
@pytest.mark.parametrize("lib", ["tinygradnn", "torch"])
def test_the_quickstart_device_line_picks_the_cpu(lib):
    """The first line of PyTorch's current quickstart, through ``torch.accelerator``."""
    lib = importlib.import_module(lib)
    device = lib.accelerator.current_accelerator().type if lib.accelerator.is_available() else "cpu"
    assert device == "cpu" and lib.accelerator.current_accelerator() is None
    assert lib.accelerator.device_count() == 0 and lib.accelerator.is_available() is False
    assert lib.ones(2).to(device).device == lib.device("cpu")



@requires_torch
@pytest.mark.parametrize("lib", ["tinygradnn", "torch"])
def test_is_floating_point_and_is_tensor_as_functions(lib):
    lib = importlib.import_module(lib)
    assert lib.is_floating_point(lib.ones(2)) is True and lib.is_floating_point(lib.ones(2).half()) is True
    assert lib.is_floating_point(lib.tensor([1, 2])) is False and lib.is_floating_point(lib.tensor([True])) is False
    assert lib.is_tensor(lib.ones(1)) is True and lib.is_tensor([1.0]) is False
    with pytest.raises(TypeError):
        lib.is_floating_point([1.0])


def test_to_converts_dtypes_like_pytorch():
    x = torch.randn(2, 3)
    assert x.to(torch.float64).dtype == torch.float64
    assert x.to("cpu", torch.float64).dtype == torch.float64
    assert x.to(device="cpu", dtype=torch.float64).dtype == torch.float64
    assert x.to(torch.zeros(1, dtype=torch.int64)).dtype == torch.int64  # to(other): other's dtype
    model = nn.Linear(3, 2)
    assert model.to(torch.device("cpu")) is model
    model.to(torch.float64)
    assert all(p.dtype == torch.float64 for p in model.parameters())
    model.float()
    assert model.weight.dtype == torch.float32


def test_gpu_devices_are_a_clear_error():
    x = torch.randn(2)
    for call in (lambda: x.to("cuda"), lambda: x.to(torch.device("cuda:0")), x.cuda,
                 lambda: nn.Linear(2, 2).to("cuda"), lambda: torch.zeros(2, device="mps")):
        with pytest.raises(RuntimeError, match="CPU only"):
            call()


# ----------------------------------------------------------------------------- import paths
@pytest.mark.parametrize("path", [
    "tinygradnn.utils.data", "tinygradnn.utils.data.dataloader", "tinygradnn.utils.data.dataset",
    "tinygradnn.utils.data.sampler", "tinygradnn.nn.functional", "tinygradnn.nn.init", "tinygradnn.nn.utils",
    "tinygradnn.optim.lr_scheduler", "tinygradnn.autograd",
])
def test_pytorch_module_paths_are_real_modules(path):
    module = importlib.import_module(path)
    assert module.__name__.startswith("tinygradnn.")


def test_names_at_their_pytorch_paths():
    from tinygradnn.autograd import Function, grad  # noqa: F401
    from tinygradnn.nn.utils import clip_grad_norm_, clip_grad_value_  # noqa: F401
    from tinygradnn.optim.lr_scheduler import LambdaLR, MultiStepLR, OneCycleLR  # noqa: F401
    from tinygradnn.utils.data import (  # noqa: F401
        DataLoader,
        Dataset,
        Subset,
        TensorDataset,
        default_collate,
        random_split,
    )
    from tinygradnn.utils.data.dataloader import default_collate as collate_from_submodule

    assert collate_from_submodule is default_collate


# ----------------------------------------------------------------------------- DataLoader
class Samples(torch.utils.data.Dataset):
    """Ten samples of one kind: what __getitem__ of real datasets returns."""

    def __init__(self, kind):
        self.kind = kind

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return {
            "tensor": lambda: (torch.full((3,), float(i)), i),
            "numpy": lambda: (np.full((2, 2), i, dtype=np.float32), np.int64(i)),
            "number": lambda: (float(i), i),
            "dict": lambda: {"x": np.full(2, float(i)), "y": i, "name": f"s{i}"},
        }[self.kind]()


@pytest.mark.parametrize("kind, x_shape, x_dtype", [
    ("tensor", (4, 3), np.float32), ("numpy", (4, 2, 2), np.float32), ("number", (4,), np.float32),
    ("dict", (4, 2), np.float64)])
def test_default_collation_batches_each_kind_of_sample(kind, x_shape, x_dtype):
    batches = list(torch.utils.data.DataLoader(Samples(kind), batch_size=4, num_workers=2, pin_memory=True))
    assert len(batches) == 3  # 4 + 4 + 2
    first = batches[0]
    x, y = (first["x"], first["y"]) if kind == "dict" else first
    assert isinstance(x, torch.Tensor) and x.shape == x_shape and x.dtype == x_dtype
    assert y.dtype == torch.int64 and y.tolist() == [0, 1, 2, 3]  # labels: int64
    if kind == "dict":
        assert first["name"] == ["s0", "s1", "s2", "s3"]
    assert batches[-1][0].shape[0] == 2 if kind != "dict" else batches[-1]["x"].shape[0] == 2


def test_python_floats_collate_to_the_default_dtype():
    torch.set_default_dtype(torch.float64)
    (x, _), *_ = torch.utils.data.DataLoader(Samples("number"), batch_size=5)
    assert x.dtype == torch.float64  # PyTorch: always float64


def test_dataloader_options():
    ds = Samples("number")
    loader = torch.utils.data.DataLoader(ds, batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(y) for _, y in loader] == [4, 4]
    order = [9, 3, 5, 1, 0, 2, 4, 6, 7, 8]
    loader = torch.utils.data.DataLoader(ds, batch_size=5, sampler=order)
    assert [y.tolist() for _, y in loader] == [order[:5], order[5:]]
    loader = torch.utils.data.DataLoader(ds, batch_size=3, collate_fn=lambda samples: samples)
    assert next(iter(loader)) == [(0.0, 0), (1.0, 1), (2.0, 2)]

    def epoch(seed):
        loader = torch.utils.data.DataLoader(ds, batch_size=10, shuffle=True,
                                             generator=torch.Generator().manual_seed(seed))
        return next(iter(loader))[1].tolist()

    assert epoch(0) == epoch(0) and sorted(epoch(0)) == list(range(10)) and epoch(0) != epoch(1)


def test_subset_and_random_split():
    ds = torch.utils.data.TensorDataset(torch.arange(10.0), torch.arange(10))
    train, val = torch.utils.data.random_split(ds, [8, 2], generator=torch.Generator().manual_seed(0))
    assert len(train) == 8 and len(val) == 2
    assert sorted(train.indices + val.indices) == list(range(10))
    sub = torch.utils.data.Subset(ds, [3, 1])
    assert sub[0][1].item() == 3 and len(sub) == 2


# ----------------------------------------------------------------------------- Tensor methods
def test_accuracy_idioms():
    output = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5]])
    target = torch.tensor([1, 2, 2])
    pred = output.argmax(dim=1, keepdim=True)
    assert pred.shape == (3, 1)
    assert pred.eq(target.view_as(pred)).sum().item() == 2
    _, predicted = torch.max(output, 1)
    assert (predicted == target).sum().item() == 2 and isinstance((predicted == target).sum().item(), int)
    values, indices = output.max(dim=1)
    np.testing.assert_allclose(values.numpy(), [0.9, 0.8, 0.5])
    assert output.max(1).indices.tolist() == [1, 0, 2] and output.min(1)[1].tolist() == [2, 1, 0]
    assert output.argmin(1).tolist() == [2, 1, 0]


@requires_torch
def test_selection_ops_match_pytorch():
    import torch as pt

    x = np.random.default_rng(0).normal(size=(4, 5))
    ours, theirs = torch.tensor(x), pt.tensor(x)
    for f in (lambda t: t.topk(2, dim=1).values, lambda t: t.topk(2)[1], lambda t: t.sort(dim=0).values,
              lambda t: t.sort(1, descending=True)[1], lambda t: t.gather(1, t.argmax(1, keepdim=True)),
              lambda t: t.masked_fill(t > 0, -1.0), lambda t: t.max(0, keepdim=True)[0],
              lambda t: t.clamp(min=-0.5), lambda t: t.view(-1), lambda t: t.reshape_as(t.t()),
              lambda t: t.t(), lambda t: t.norm(dim=1), lambda t: t.std(0), lambda t: t.var(1)):
        np.testing.assert_allclose(f(ours).numpy(), f(theirs).numpy())


def test_shape_and_dtype_helpers():
    x = torch.randn(2, 1, 3)
    assert x.shape[0] == 2 and x.size() == (2, 1, 3) and x.size(2) == 3 and x.size(-1) == 3
    assert x.dim() == 3 and x.ndim == 3 and x.nelement() == x.numel() == 6
    assert x.squeeze(1).shape == (2, 3) and x.view(-1).shape == (6,) and x.view(x.size(0), -1).shape == (2, 3)
    assert torch.flatten(x, 1).shape == (2, 3) and x.flatten().shape == (6,)
    assert x.clone() is not x and np.array_equal(x.clone().numpy(), x.numpy()) and x.contiguous().shape == x.shape
    assert x.float().dtype == torch.float32 and x.double().dtype == torch.float64
    assert x.long().dtype == torch.int64 and x.int().dtype == torch.int32 and x.bool().dtype == torch.bool
    assert torch.arange(3).type_as(x).dtype == torch.float32 and x.type(torch.float64).dtype == torch.float64
    assert x.dtype == torch.float32 and torch.float == torch.float32 and torch.long == torch.int64


def test_creation_and_numpy_round_trip():
    assert torch.tensor([1, 2, 3]).dtype == torch.int64 and torch.tensor([1.0, 2.0]).dtype == torch.float32
    assert torch.arange(0, 10, 2).tolist() == [0, 2, 4, 6, 8]
    np.testing.assert_allclose(torch.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    assert torch.full((2, 3), 1.5).sum().item() == 9.0
    a = np.arange(4.0)
    t = torch.from_numpy(a)
    assert t.dtype == torch.float64 and t.numpy() is a  # shares memory, like PyTorch
    assert torch.tensor(3.5).item() == 3.5 and isinstance(torch.tensor(3).item(), int)
    x = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
    assert torch.cat([x, x], dim=0).shape == (4, 2) and torch.stack([x, x]).shape == (2, 2, 2)
    np.testing.assert_allclose(torch.where(x > 0, x, torch.zeros_like(x)).numpy(), [[1, 0], [3, 4]])
    np.testing.assert_allclose(torch.clamp(x, min=0, max=3).numpy(), [[1, 0], [3, 3]])
    np.testing.assert_allclose(torch.log(torch.exp(x)).numpy(), x.numpy(), rtol=1e-6)
    assert torch.sum(x).item() == 6.0 and torch.mean(x, dim=0).tolist() == [2.0, 1.0]
    assert torch.max(x).item() == 4.0
    one_hot = F.one_hot(torch.tensor([0, 2]), num_classes=3)
    assert one_hot.dtype == torch.int64 and one_hot.tolist() == [[1, 0, 0], [0, 0, 1]]


def test_in_place_methods():
    x = torch.zeros(3)
    x.add_(1).sub_(0.5).mul_(4).div_(2)
    assert x.tolist() == [1.0, 1.0, 1.0]
    x.add_(torch.ones(3), alpha=2)
    assert x.tolist() == [3.0, 3.0, 3.0]
    assert x.clamp_(max=2).tolist() == [2.0] * 3 and x.fill_(5).tolist() == [5.0] * 3
    assert x.copy_(torch.arange(3.0)).tolist() == [0.0, 1.0, 2.0] and x.zero_().tolist() == [0.0] * 3
    torch.manual_seed(0)
    u = torch.empty(1000).uniform_(-1, 1)
    assert -1 <= u.min().item() and u.max().item() <= 1
    n = torch.empty(1000).normal_(2.0, 0.5)
    assert abs(n.mean().item() - 2.0) < 0.1 and abs(n.std().item() - 0.5) < 0.1


def test_in_place_after_use_is_caught_by_the_version_counter():
    w = torch.randn(3, requires_grad=True)
    y = w * 2
    z = y * y  # saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_parameter_update_under_no_grad():
    w = torch.ones(3, requires_grad=True)
    (w * 2).sum().backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
    w.grad.zero_()
    assert w.tolist() == pytest.approx([0.8] * 3) and w.requires_grad and w.is_leaf


# ----------------------------------------------------------------------------- grad modes, seeds
def test_no_grad_and_inference_mode_as_context_and_decorator():
    w = torch.ones(2, requires_grad=True)

    @torch.no_grad()
    def evaluate():
        return w * 2

    @torch.inference_mode()
    def predict():
        return w * 3

    @torch.no_grad
    def bare():
        return w * 4

    assert not any(f().requires_grad for f in (evaluate, predict, bare))
    with torch.no_grad():
        assert not (w * 2).requires_grad
        with torch.enable_grad():
            assert (w * 2).requires_grad
    with torch.inference_mode():
        assert not (w * 2).requires_grad
    assert (w * 2).requires_grad


def test_seeds_make_runs_repeatable():
    torch.manual_seed(0)
    a = torch.randn(3)
    torch.manual_seed(0)
    assert torch.randn(3).tolist() == a.tolist()
    first = torch.randperm(5, generator=torch.Generator().manual_seed(0))
    assert first.tolist() == torch.randperm(5, generator=torch.Generator().manual_seed(0)).tolist()


@requires_torch
@pytest.mark.parametrize("lib", ["tinygradnn", "torch"])
def test_manual_seed_returns_the_default_generator_and_seed_picks_one(lib):
    """``g = torch.manual_seed(0)`` is the global generator (passing it as ``generator=`` draws from the global
    stream); ``torch.seed()`` takes no argument, seeds at random and returns the seed; ``initial_seed()``
    gives the last seed."""
    lib = importlib.import_module(lib)
    if lib is torch:
        _check_seeding(lib)
    else:
        with lib.random.fork_rng():  # leave PyTorch's global generator as it was
            _check_seeding(lib)


def _check_seeding(lib):
    g = lib.manual_seed(7)
    assert isinstance(g, lib.Generator) and g is lib.default_generator
    assert lib.initial_seed() == g.initial_seed() == 7
    a = lib.randperm(6, generator=g).tolist()
    lib.manual_seed(7)
    assert lib.randperm(6).tolist() == a
    s = lib.seed()
    assert isinstance(s, int) and 0 <= s < 2 ** 64 and lib.initial_seed() == s
    b = lib.randn(3).tolist()
    lib.manual_seed(s)
    assert lib.randn(3).tolist() == b
    assert lib.Generator().manual_seed(3).initial_seed() == 3


# ----------------------------------------------------------------------------- save / load
def test_save_and_load_a_checkpoint(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    path = os.path.join(tmp_path, "x.pt")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}, path)
    checkpoint = torch.load(path, weights_only=True)
    assert torch.load(path, map_location="cpu")["epoch"] == 3
    fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    fresh.load_state_dict(checkpoint["model"])
    x = torch.randn(2, 3)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())
    fresh_optimizer = torch.optim.Adam(fresh.parameters())
    fresh_optimizer.load_state_dict(checkpoint["optimizer"])
    assert fresh_optimizer.param_groups[0]["lr"] == 1e-2


# ----------------------------------------------------------------------------- optimizers, schedulers
def test_per_parameter_group_options():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    optimizer = torch.optim.SGD([{"params": model[0].parameters()},
                                 {"params": model[1].parameters(), "lr": 1e-3}], lr=1e-2, momentum=0.9)
    assert [g["lr"] for g in optimizer.param_groups] == [1e-2, 1e-3]
    assert [g["momentum"] for g in optimizer.param_groups] == [0.9, 0.9]
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=lambda epoch: 0.5 ** epoch)
    optimizer.step()
    scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([5e-3, 5e-4])


@requires_torch
@pytest.mark.parametrize("make_scheduler", [
    lambda m, opt: m.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (1 + epoch)),
    lambda m, opt: m.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 5], gamma=0.1),
    lambda m, opt: m.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=8),
], ids=["LambdaLR", "MultiStepLR", "OneCycleLR"])
def test_schedules_match_pytorch(make_scheduler):
    import torch as pt

    def lrs(m):
        optimizer = m.optim.SGD([m.nn.Parameter(m.zeros(1))], lr=0.05, momentum=0.9)
        scheduler = make_scheduler(m, optimizer)
        out = []
        for _ in range(8):
            optimizer.step()
            scheduler.step()
            out.append(optimizer.param_groups[0]["lr"])
        return out

    np.testing.assert_allclose(lrs(torch), lrs(pt), rtol=1e-12)


@requires_torch
def test_adadelta_matches_pytorch():
    import torch as pt

    def trajectory(m):
        w = m.nn.Parameter(m.tensor([1.0, -2.0, 3.0], dtype=m.float64))
        optimizer = m.optim.Adadelta([w], lr=1.0, rho=0.9, weight_decay=0.01)
        for _ in range(5):
            optimizer.zero_grad()
            (w ** 2).sum().backward()
            optimizer.step()
        return w.detach().numpy().copy()

    np.testing.assert_allclose(trajectory(torch), trajectory(pt), rtol=1e-12)


# ----------------------------------------------------------------------------- hooks, clipping
def test_hooks_for_features_inputs_and_gradients():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    features, grads = {}, []
    handles = [
        model[1].register_forward_hook(lambda m, inputs, output: features.__setitem__("relu", output.detach())),
        model[0].register_forward_pre_hook(lambda m, inputs: (inputs[0] * 0,)),
        model[2].register_full_backward_hook(lambda m, grad_input, grad_output: grads.append(grad_output[0])),
    ]
    x = torch.randn(5, 3, requires_grad=True)
    out = model(x)
    assert features["relu"].shape == (5, 4)
    np.testing.assert_allclose(features["relu"].numpy(), np.maximum(model[0].bias.detach().numpy(), 0)[None]
                               .repeat(5, 0))  # the pre-hook zeroed the input
    out.sum().backward()
    assert len(grads) == 1 and grads[0].shape == (5, 2)
    for h in handles:
        h.remove()
    model(x)
    assert len(grads) == 1


def test_tensor_hook_replaces_the_gradient():
    w = torch.ones(3, requires_grad=True)
    w.register_hook(lambda grad: grad.clamp(-1, 1))
    (w * 10).sum().backward()
    assert w.grad.tolist() == [1.0, 1.0, 1.0]


def test_gradient_clipping():
    model = nn.Linear(4, 1)
    (model(torch.ones(2, 4)) * 100).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    assert total.item() > 1.0
    clipped = np.sqrt(sum((p.grad.numpy() ** 2).sum() for p in model.parameters()))
    assert clipped == pytest.approx(1.0, rel=1e-5)
    nn.utils.clip_grad_value_(model.parameters(), clip_value=0.1)
    assert max(np.abs(p.grad.numpy()).max() for p in model.parameters()) <= 0.1


@requires_torch
@pytest.mark.parametrize("seed", [-1, -2 ** 63, 2 ** 64 - 1, 1.5, "3", 2 ** 64, -2 ** 63 - 1, 3.0, True])
def test_manual_seed_takes_the_seeds_pytorch_takes(seed):
    """PyTorch converts the seed with ``int()`` and keeps it as an unsigned 64-bit number (-1 is 2**64 - 1);
    one outside [-2**63, 2**64) is a ValueError."""
    outcome = []
    for lib in (torch, importlib.import_module("torch")):  # (torch is tinygradnn here)
        with contextlib.nullcontext() if lib is torch else lib.random.fork_rng():
            try:
                lib.manual_seed(seed)
                g = lib.Generator().manual_seed(seed)
                outcome.append((lib.initial_seed(), g.initial_seed()))
            except Exception as e:  # noqa: BLE001 (both must fail alike)
                outcome.append(type(e))
    assert outcome[0] == outcome[1]
