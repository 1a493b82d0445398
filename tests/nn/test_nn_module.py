"""Module and Parameter behaviour: registration, walking the tree, state_dict, modes, hooks, repr, dtype."""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
from nn_oracle import load_from_torch, load_into_torch

import tinygradnn as tg
from tinygradnn import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(8, 3)
        self.scale = nn.Parameter(tg.ones(3))
        self.register_buffer("steps", tg.zeros(1))
        self.register_buffer("cache", tg.zeros(2), persistent=False)
        self.note = "plain attribute"

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


# ----------------------------------------------------------------------------- registration
def test_parameters_buffers_and_modules_register_by_assignment():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_buffers()] == ["steps", "cache"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert list(net.children())[0] is net.fc1 and next(net.modules()) is net
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert net.note == "plain attribute" and "note" not in net._parameters
    assert len(list(net.parameters(recurse=False))) == 1


def test_shared_parameters_are_listed_once():
    a = nn.Linear(3, 3)
    seq = nn.Sequential(a, nn.Tanh(), a)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_modules())) == 3  # seq, a, tanh
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as PyTorch: by path


def test_reassigning_and_deleting_attributes():
    net = Net()
    net.fc1 = nn.Linear(4, 8, bias=False)
    assert net.fc1.bias is None and "fc1.bias" not in dict(net.named_parameters())
    net.scale = None
    assert "scale" not in dict(net.named_parameters())
    del net.fc2
    assert "fc2" not in dict(net.named_children())
    with pytest.raises(AttributeError, match="has no attribute 'fc2'"):
        net.fc2  # noqa: B018


def test_assignment_errors_are_clear():
    net = Net()
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'scale'"):
        net.scale = tg.ones(3)
    with pytest.raises(TypeError, match="as child module 'fc1'"):
        net.fc1 = 3
    with pytest.raises(TypeError, match="as buffer 'steps'"):
        net.steps = [1, 2]
    with pytest.raises(KeyError, match="attribute 'note' already exists"):
        net.register_buffer("note", tg.ones(1))
    with pytest.raises(KeyError, match="contain"):
        net.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="not a Module subclass"):
        net.add_module("x", 3)
    with pytest.raises(ValueError, match="non-leaf"):
        net.register_parameter("w", _non_leaf_parameter())

    class Forgot(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Forgot()


def _non_leaf_parameter():
    p = nn.Parameter(tg.ones(2))
    p._ctx = (p * 2)._ctx  # a Parameter with history, as produced by an op
    return p


def test_missing_forward_and_unknown_attribute():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(tg.ones(1))
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'wieght'"):
        nn.Linear(2, 2).wieght  # noqa: B018


def test_get_submodule_and_get_parameter():
    net = nn.Sequential(OrderedDict(block=nn.Sequential(nn.Linear(2, 3))))
    assert net.get_submodule("block.0") is net.block[0]
    assert net.get_parameter("block.0.bias") is net.block[0].bias
    with pytest.raises(AttributeError, match="no submodule 'nope'"):
        net.get_submodule("block.nope")


def test_get_buffer():
    net = nn.Sequential(OrderedDict(block=nn.Sequential(nn.BatchNorm1d(2))))
    assert net.get_buffer("block.0.running_mean") is net.block[0].running_mean
    with pytest.raises(AttributeError, match="'weight' is not a buffer"):
        net.get_buffer("block.0.weight")
    with pytest.raises(AttributeError, match="BatchNorm1d has no attribute 'nope'"):
        net.get_buffer("block.0.nope")


def test_parameter_shares_memory_and_repr():
    t = tg.zeros(2)
    p = nn.Parameter(t)
    assert p._data is t._data and p.requires_grad
    assert repr(p) == "Parameter containing:\ntensor([0., 0.], requires_grad=True)"
    assert not nn.Parameter(tg.ones(1), requires_grad=False).requires_grad
    assert type(p * 2) is tg.Tensor
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q._data is not p._data and q.requires_grad


# ----------------------------------------------------------------------------- modes, grads, apply
def test_train_eval_recursive():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert net.eval() is net
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="bool"):
        net.train("yes")

    class FrozenNorm(nn.BatchNorm1d):
        def train(self, mode=True):  # children's overrides are honoured, as in PyTorch
            return super().train(False)

    net = nn.Sequential(nn.Linear(2, 2), FrozenNorm(2)).train()
    assert net.training and net[0].training and not net[1].training


def test_zero_grad_to_none_or_zeros():
    net = Net()
    net(tg.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    grad = net.fc1.weight.grad
    net.zero_grad(set_to_none=False)
    assert net.fc1.weight.grad is grad and not grad.numpy().any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_freezes():
    net = Net()
    net.fc1.requires_grad_(False)
    net(tg.randn(2, 4)).sum().backward()
    assert net.fc1.weight.grad is None and net.fc2.weight.grad is not None


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Linear", "Net"]

    def init_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    net.apply(init_linear)
    assert not net.fc1.weight.detach().numpy().any()


# ----------------------------------------------------------------------------- state dict
def test_state_dict_keys_order_and_sharing():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["scale", "steps", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]  # no 'cache'
    assert not sd["fc1.weight"].requires_grad and sd["fc1.weight"].grad_fn is None
    assert sd["fc1.weight"]._data is net.fc1.weight._data  # references, as in PyTorch
    assert net.state_dict(keep_vars=True)["fc1.weight"] is net.fc1.weight


def test_load_state_dict_copies_in_place_and_casts():
    a, b = Net(), Net()
    w = b.fc1.weight
    b.load_state_dict({k: v.numpy().astype(np.float64) for k, v in a.state_dict().items()})
    assert b.fc1.weight is w and w.dtype == np.float32
    np.testing.assert_array_equal(w.detach().numpy(), a.fc1.weight.detach().numpy())
    x = tg.randn(3, 4)
    np.testing.assert_allclose(a(x).detach().numpy(), b(x).detach().numpy())


def test_load_state_dict_assign_keeps_the_checkpoint_arrays_and_dtypes():
    a, b = Net(), Net()
    w = b.fc1.weight
    b.fc1.weight.grad = tg.ones(8, 4)
    b.fc2.weight.grad = tg.ones(3, 8)
    sd = {k: v.numpy().astype(np.float64) for k, v in a.state_dict().items()}
    sd["fc2.weight"] = a.state_dict()["fc2.weight"]  # float32: same dtype
    b.load_state_dict(sd, assign=True)
    assert b.fc1.weight is w and type(w) is nn.Parameter and w.requires_grad
    assert w.dtype == np.float64 and w.detach().numpy() is sd["fc1.weight"]  # PyTorch keeps the checkpoint's dtype
    assert w.grad is None  # a float32 gradient no longer fits
    assert b.fc2.weight.dtype == np.float32 and b.fc2.weight.grad is not None
    assert b.steps.dtype == np.float64 and not b.steps.requires_grad  # buffers too
    frozen = Net()
    frozen.scale.requires_grad = False
    frozen.load_state_dict(sd, assign=True)
    assert type(frozen.scale) is nn.Parameter and not frozen.scale.requires_grad
    bad = dict(sd, scale=np.ones(3, np.int64))
    with pytest.raises(RuntimeError, match="cannot assign scale: .* dtype int64"):
        b.load_state_dict(bad, assign=True)
    assert b.scale.dtype == np.float64  # nothing assigned on error
    b.load_state_dict(bad)  # without assign the values are cast
    assert b.scale.dtype == np.float64 and b.scale.requires_grad
    frozen.load_state_dict(bad, assign=True)  # a parameter that does not require grad takes any dtype
    assert frozen.scale.dtype == np.int64


def test_load_state_dict_errors_name_keys_and_shapes():
    net = Net()
    sd = dict(net.state_dict())
    sd.pop("fc2.bias")
    sd["extra.weight"] = tg.ones(1)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert 'Missing key(s) in state_dict: "fc2.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc2.bias"] and result.unexpected_keys == ["extra.weight"]
    assert repr(net.load_state_dict(net.state_dict())) == "<All keys matched successfully>"

    bad = dict(net.state_dict())
    bad["fc1.weight"] = tg.ones(8, 5)
    before = net.fc1.bias.detach().numpy().copy()
    bad["fc1.bias"] = tg.zeros(8)
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: copying a param with shape \(8, 5\) from "
                                           r"checkpoint, the shape in current model is \(8, 4\)"):
        net.load_state_dict(bad, strict=False)
    np.testing.assert_array_equal(net.fc1.bias.detach().numpy(), before)  # nothing copied on error
    with pytest.raises(TypeError, match="expected a dict-like"):
        net.load_state_dict([1, 2])
    with pytest.raises(TypeError, match="'fc1.bias'"):
        net.load_state_dict({**net.state_dict(), "fc1.bias": "abc"})


def test_state_dict_round_trip_with_torch():
    torch = pytest.importorskip("torch")
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    assert list(net.state_dict()) == list(tnet.state_dict())
    load_from_torch(net, tnet)
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    np.testing.assert_allclose(net(tg.tensor(x)).detach().numpy(), tnet(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    other = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    load_into_torch(other, net)  # and back: PyTorch accepts our keys, shapes and dtypes (incl. the int64 counter)
    for k, v in tnet.state_dict().items():  # both updated their running statistics in the forward above
        assert v.dtype == other.state_dict()[k].dtype
        np.testing.assert_allclose(v.numpy(), other.state_dict()[k].numpy(), rtol=1e-5, atol=1e-7)


# ----------------------------------------------------------------------------- dtype and device
def test_to_double_float_and_devices():
    net = Net()
    w = net.fc1.weight
    assert net.double() is net and w.dtype == np.float64 and net.fc1.weight is w
    assert net.steps.dtype == np.float64
    assert net(tg.randn(2, 4).double()).dtype == np.float64
    net.to(tg.float32)
    assert w.dtype == np.float32
    assert net.to("cpu") is net and net.cpu() is net and net.to(tg.device("cpu"), dtype=tg.float64) is net
    assert w.dtype == np.float64
    with pytest.raises(RuntimeError, match="CPU only"):
        net.to("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        net.cuda()
    with pytest.raises(TypeError, match="floating point dtypes"):
        net.to(tg.int64)
    bn = nn.BatchNorm1d(2).double()
    assert bn.num_batches_tracked.dtype == np.int64  # only floating tensors change


def test_deepcopy_and_pickle_are_independent_copies():
    net = Net()
    x = tg.randn(2, 4)
    for twin in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert isinstance(twin.fc1.weight, nn.Parameter) and twin.fc1.weight is not net.fc1.weight
        np.testing.assert_array_equal(twin(x).detach().numpy(), net(x).detach().numpy())
        with tg.no_grad():
            twin.fc1.weight.data.mul_(0)
        assert net.fc1.weight.detach().numpy().any()


# ----------------------------------------------------------------------------- hooks
def test_forward_pre_hook_and_forward_hook_can_replace_values():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(tg.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy() + 1, (3, 2)))
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    h2.remove()  # removing twice is harmless
    np.testing.assert_allclose(lin(tg.ones(3, 2)).detach().numpy(),
                               (tg.ones(3, 2) @ lin.weight.T + lin.bias).detach().numpy())
    with lin.register_forward_hook(lambda m, a, o: calls.append("ctx")):
        lin(tg.ones(1, 2))
    lin(tg.ones(1, 2))
    assert calls.count("ctx") == 1


def test_full_backward_hook_sees_grad_input_and_grad_output():
    lin = nn.Linear(3, 2)
    seen = {}

    def hook(module, grad_input, grad_output):
        seen["in"], seen["out"] = grad_input, grad_output

    handle = lin.register_full_backward_hook(hook)
    x = tg.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    np.testing.assert_allclose(seen["out"][0].numpy(), np.ones((4, 2)))
    np.testing.assert_allclose(seen["in"][0].numpy(), np.ones((4, 2)) @ lin.weight.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), seen["in"][0].numpy())

    handle.remove()
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))  # replace grad_input
    x.grad = None
    lin(x).sum().backward()
    assert not x.grad.numpy().any()
    assert lin.weight.grad is not None


def test_full_backward_hook_when_input_needs_no_grad():
    lin = nn.Linear(3, 2)
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go[0].shape)))
    lin(tg.randn(4, 3)).sum().backward()
    assert seen == [((None,), (4, 2))]


class _TwoInputs(nn.Module):
    def forward(self, a, b):
        return a * 2


def test_full_backward_hook_fires_when_an_input_is_unused():
    # PyTorch 2.13: grad_input ([2, 2], [0, 0]): zeros for an input without gradient
    seen = []
    m = _TwoInputs()
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, go)))
    a, b = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([3.0, 4.0], requires_grad=True)
    m(a, b).sum().backward()
    ((ga, gb), (go,)) = seen[0]
    np.testing.assert_array_equal(ga.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(gb.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(go.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 0.0])  # PyTorch 2.13: the zeros reach b


def test_full_backward_hook_grad_input_of_inputs_without_grad():
    # PyTorch 2.13: zeros (of the input's dtype) for a tensor that does not require grad, None for a non-tensor
    seen = []
    m = _TwoInputs()
    m.register_full_backward_hook(lambda mod, gi, go: seen.append(gi))
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    m(a, tg.tensor([3, 4])).sum().backward()
    m(a, 3).sum().backward()
    np.testing.assert_array_equal(seen[0][0].numpy(), [2.0, 2.0])
    assert seen[0][1].dtype == tg.int64 and seen[0][1].tolist() == [0, 0]
    assert seen[1][1] is None


def test_full_backward_hook_may_replace_the_gradients_of_several_inputs():
    m = _TwoInputs()
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 10, gi[1] + 1))
    a, b = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([3.0, 4.0], requires_grad=True)
    m(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [20.0, 20.0])  # PyTorch 2.13: the same
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    m = _TwoInputs()
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0][:1], None))
    with pytest.raises(RuntimeError, match=r"_TwoInputs.*shape \(1,\).*input 0 of shape \(2,\)"):
        m(a, b).sum().backward()


def test_full_backward_hook_fires_once_per_backward():
    calls = []
    m = _TwoInputs()
    m.register_full_backward_hook(lambda mod, gi, go: calls.append(gi[0].tolist()))
    a, b = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([3.0, 4.0], requires_grad=True)
    y = m(a, b).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert calls == [[2.0, 2.0], [2.0, 2.0]]


def test_full_backward_hook_is_not_called_again_by_a_second_order_pass():
    """As PyTorch: the second pass reaches the inputs but no output, so it neither calls the hook nor
    applies its replacement again (the second derivative of 10 * x**2 is 20)."""
    calls = []

    class Square(nn.Module):
        def forward(self, x):
            return x * x

    m = Square()
    m.register_full_backward_hook(lambda mod, gi, go: calls.append(1) or (gi[0] * 10,))
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = tg.autograd.grad(m(x).sum(), x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(g.detach().numpy(), [20.0, 40.0])
    np.testing.assert_array_equal(h.numpy(), [20.0, 20.0])
    assert calls == [1]


def test_full_backward_hook_against_torch():
    torch = pytest.importorskip("torch")
    lin, tlin = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    load_from_torch(lin, tlin)
    ours, theirs = {}, {}
    lin.register_full_backward_hook(lambda m, gi, go: ours.update(gi=gi[0].numpy(), go=go[0].numpy()))
    tlin.register_full_backward_hook(lambda m, gi, go: theirs.update(gi=gi[0].numpy(), go=go[0].numpy()))
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    (lin(tg.tensor(x, requires_grad=True)) ** 2).sum().backward()
    (tlin(torch.tensor(x, requires_grad=True)) ** 2).sum().backward()
    np.testing.assert_allclose(ours["go"], theirs["go"], rtol=1e-5, atol=1e-6)  # float32: entries can be ~0
    np.testing.assert_allclose(ours["gi"], theirs["gi"], rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- repr
def test_repr_matches_pytorch():
    torch = pytest.importorskip("torch")

    def build(m):
        class Block(m.Module):
            def __init__(self):
                super().__init__()
                self.conv = m.Conv2d(1, 4, 3, padding=1, bias=False)
                self.bn = m.BatchNorm2d(4)
                self.heads = m.ModuleList([m.Linear(4, 2), m.Linear(4, 2), m.Linear(4, 3)])
                self.acts = m.ModuleDict({"relu": m.ReLU(), "soft": m.Softmax(dim=1)})

        return m.Sequential(Block(), m.MaxPool2d(2), m.AvgPool2d(2), m.AvgPool1d(3), m.Conv1d(2, 3, 5, stride=2),
                            m.Flatten(), m.Unflatten(1, (2, 3)), m.Dropout(0.25), m.Embedding(10, 3, padding_idx=0),
                            m.LeakyReLU(0.2), m.GELU(approximate="tanh"), m.ELU(), m.Softplus(), m.Tanh(),
                            m.Sigmoid(), m.LogSoftmax(dim=-1), m.Identity(), m.BatchNorm1d(3, affine=False),
                            m.CrossEntropyLoss(), m.MSELoss(), m.Linear(3, 1, bias=False), m.Sequential())

    assert repr(build(nn)) == repr(build(torch.nn))


def test_load_state_dict_reads_a_one_element_vector_into_a_0d_entry_as_pytorch():
    # PyTorch's backward compatibility with 0.3 checkpoints: shape (1,) loads into a 0-d tensor, (2,) does not
    m = nn.Module()
    m.register_buffer("count", tg.tensor(0.0))
    m.load_state_dict({"count": tg.tensor([5.0])})
    assert m.count.shape == () and m.count.item() == 5.0
    m.load_state_dict({"count": np.array([6.0])}, assign=True)
    assert m.count.shape == () and m.count.item() == 6.0
    with pytest.raises(RuntimeError, match=r"size mismatch for count: copying a param with shape \(2,\)"):
        m.load_state_dict({"count": tg.tensor([1.0, 2.0])})
