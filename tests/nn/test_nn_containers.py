"""Sequential, ModuleList and ModuleDict."""

from collections import OrderedDict

import numpy as np
import pytest

import tinygradnn as tg
from tinygradnn import nn


def test_sequential_runs_in_order_and_indexes():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    x = tg.randn(4, 2)
    np.testing.assert_allclose(seq(x).detach().numpy(), c(b(a(x))).detach().numpy())
    assert len(seq) == 3 and list(seq) == [a, b, c]
    assert seq[0] is a and seq[-1] is c
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b] and list(head._modules) == ["0", "1"]
    assert list(seq[1:]._modules) == ["1", "2"]  # slices keep their names, as in PyTorch
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        seq[3]  # noqa: B018


def test_sequential_mutation():
    seq = nn.Sequential(nn.Linear(2, 2))
    assert seq.append(nn.Tanh()) is seq and isinstance(seq[1], nn.Tanh)
    seq[1] = nn.ReLU()
    assert isinstance(seq[1], nn.ReLU)
    seq.insert(0, nn.Identity())
    assert [type(m).__name__ for m in seq] == ["Identity", "Linear", "ReLU"]
    del seq[0]
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU"] and list(seq._modules) == ["0", "1"]
    seq.extend([nn.Sigmoid()])
    assert len(seq) == 3 and "2.weight" not in seq.state_dict()


def test_sequential_from_ordered_dict():
    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"]
    assert seq.fc is seq[0]


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.Tanh())
    layers.extend([nn.ReLU()])
    layers.insert(0, nn.Identity())
    assert [type(m).__name__ for m in layers] == ["Identity", "Linear", "Linear", "Linear", "Tanh", "ReLU"]
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    assert layers[-1] is list(layers)[-1]
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2", "3", "4"]
    layers += [nn.Sigmoid()]
    assert len(layers) == 6
    with pytest.raises(NotImplementedError, match="forward"):
        layers(tg.ones(1))
    with pytest.raises(TypeError, match="iterable"):
        layers.extend(nn.Linear(1, 1))


def test_module_dict():
    d = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    d["c"] = nn.Tanh()
    assert list(d) == ["a", "b", "c"] and "a" in d and len(d) == 3
    assert list(d.keys()) == ["a", "b", "c"] and isinstance(d["b"], nn.ReLU)
    assert [k for k, _ in d.items()] == ["a", "b", "c"] and len(list(d.values())) == 3
    assert list(d.state_dict()) == ["a.weight", "a.bias"]
    assert isinstance(d.pop("b"), nn.ReLU) and "b" not in d
    d.update([("e", nn.Sigmoid())])
    assert list(d) == ["a", "c", "e"]
    with pytest.raises(KeyError, match="no key 'zz'"):
        d["zz"]  # noqa: B018
    d.clear()
    assert len(d) == 0


def test_module_dict_update_errors_as_pytorch():
    d = nn.ModuleDict()
    with pytest.raises(ValueError, match="element #0 has length 3; 2 is required"):
        d.update([("a", nn.ReLU(), 1)])
    with pytest.raises(ValueError, match="element #0 has length 1"):
        d.update("ab")  # strings are sequences of 1-character strings
    with pytest.raises(TypeError, match="element #0 should be an iterable"):
        d.update([3])
    assert len(d) == 0


def test_container_reprs_match_pytorch():
    torch = pytest.importorskip("torch")

    def build(m):
        return m.Sequential(m.ModuleList([m.Linear(2, 2), m.Linear(2, 2), m.ReLU(), m.ReLU(), m.ReLU()]),
                            m.ModuleDict({"x": m.Tanh()}), m.ModuleList(), m.Sequential(m.Linear(1, 1)))

    assert repr(build(nn)) == repr(build(torch.nn))


def test_replacing_a_child_or_parameter_keeps_its_place_as_pytorch():
    seq = nn.Sequential(nn.Linear(1, 1, bias=False), nn.ReLU(), nn.Linear(1, 1, bias=False))
    with tg.no_grad():
        seq[0].weight.fill_(1.0)
        seq[2].weight.fill_(-1.0)
    seq[1] = nn.Sigmoid()
    assert [type(m).__name__ for m in seq] == ["Linear", "Sigmoid", "Linear"]
    np.testing.assert_allclose(seq(tg.tensor([[1.0]])).detach().numpy(), [[-1 / (1 + np.exp(-1.0))]], rtol=1e-6)

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(1, 1)
            self.b = nn.Linear(1, 1)

    two = Two()
    two.a = nn.Linear(1, 1)
    two.a.weight = nn.Parameter(tg.zeros(1, 1))
    assert list(two.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]


def test_pop_add_and_mul_as_pytorch():
    a, b, c = nn.Linear(1, 1), nn.ReLU(), nn.Tanh()
    seq = nn.Sequential(a, b, c)
    assert seq.pop(1) is b and list(seq) == [a, c] and list(seq._modules) == ["0", "1"]
    popped = seq.pop(slice(0, 1))
    assert isinstance(popped, nn.Sequential) and list(popped) == [a] and list(seq) == [c]
    layers = nn.ModuleList([a, b, c])
    assert layers.pop(-1) is c and list(layers) == [a, b]
    assert list(layers.pop(slice(1, None))) == [b] and list(layers) == [a]

    s1, s2 = nn.Sequential(a), nn.Sequential(b, c)
    s3 = s1 + s2
    assert isinstance(s3, nn.Sequential) and list(s3) == [a, b, c] and list(s1) == [a]
    s1 += s2
    assert list(s1) == [a, b, c] and list(s1._modules) == ["0", "1", "2"]
    with pytest.raises(ValueError, match="only objects of Sequential"):
        s1 + [a]  # noqa: B018
    with pytest.raises(ValueError, match="only objects of Sequential"):
        s1 += [a]
    assert list(s2 * 2) == [b, c, b, c] and list(2 * s2) == [b, c, b, c]
    s2 *= 2
    assert list(s2) == [b, c, b, c] and list(s2._modules) == ["0", "1", "2", "3"]
    with pytest.raises(ValueError, match="Non-positive multiplication factor 0"):
        s2 * 0  # noqa: B018


def test_sequential_del_renames_every_child_as_pytorch():
    # PyTorch renumbers all children "0", "1", ... after a deletion, named ones too (the state_dict keys change)
    seq = nn.Sequential(OrderedDict([("a", nn.Linear(1, 1)), ("b", nn.ReLU()), ("c", nn.Linear(1, 2))]))
    del seq[1]
    assert list(seq._modules) == ["0", "1"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    seq = nn.Sequential(OrderedDict([("a", nn.Linear(1, 1)), ("b", nn.ReLU())]))
    assert isinstance(seq.pop(-1), nn.ReLU) and list(seq._modules) == ["0"]
