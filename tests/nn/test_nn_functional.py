"""nn.functional helpers not covered by the layer tests: one_hot, pad, flatten, linear, embedding."""

import numpy as np
import pytest

import tinygradnn as tg
from tinygradnn.nn import functional as F


def test_one_hot():
    out = F.one_hot(tg.tensor([[0, 2], [1, 0]]))
    assert out.dtype == np.int64 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy()[0], [[1, 0, 0], [0, 0, 1]])
    assert F.one_hot(tg.tensor([1]), num_classes=4).shape == (1, 4)
    with pytest.raises(RuntimeError, match="smaller than num_classes=2"):  # RuntimeErrors, as torch
        F.one_hot(tg.tensor([2]), 2)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(tg.tensor([-1]))
    empty = tg.tensor([], dtype=tg.int64)
    for n in (-1, 0):  # torch 2.13 raises for an empty input unless num_classes > 0
        with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor"):
            F.one_hot(empty, n)
    assert F.one_hot(empty, 3).shape == (0, 3)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(tg.tensor([1.0]))


def test_pad_and_flatten_against_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    np.testing.assert_array_equal(F.pad(tg.tensor(x), (1, 2, 0, 1), value=0.5).numpy(),
                                  torch.nn.functional.pad(torch.tensor(x), (1, 2, 0, 1), value=0.5).numpy())
    assert F.flatten(tg.tensor(x), 1).shape == (2, 12) and F.flatten(tg.tensor(x)).shape == (24,)


def test_linear_accepts_leading_dims_and_checks_shapes():
    x, w, b = tg.randn(2, 5, 3), tg.randn(4, 3), tg.randn(4)
    np.testing.assert_allclose(F.linear(x, w, b).detach().numpy(), x.numpy() @ w.numpy().T + b.numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match=r"linear: input of shape \(2, 5, 3\) does not match weight of shape \(4, 2\)"):
        F.linear(x, tg.randn(4, 2))


def test_embedding_function_and_padding_gradient():
    weight = tg.randn(5, 2, requires_grad=True)
    out = F.embedding(tg.tensor([[0, 1], [1, 4]]), weight, padding_idx=1)
    np.testing.assert_array_equal(out.detach().numpy()[0, 1], weight.detach().numpy()[1])
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy()[:, 0], [1, 0, 0, 0, 1])


def test_dropout_argument_checks():
    with pytest.raises(ValueError, match="but got -0.1"):
        F.dropout(tg.ones(2), -0.1)
    x = tg.ones(3)
    assert F.dropout(x, 0.5, training=False) is x


def test_dropout_inplace_changes_the_input_and_returns_it():
    x = tg.ones(1000)
    y = F.dropout(x, 0.5, True, True)
    assert y is x and set(np.unique(x.numpy())) == {0.0, 2.0}
    m = tg.nn.Dropout(0.5, inplace=True)
    z = tg.ones(1000)
    assert m(z) is z and set(np.unique(z.numpy())) == {0.0, 2.0}
    w = tg.ones(3)
    assert F.dropout(w, 1.0, True, True) is w and w.tolist() == [0.0, 0.0, 0.0]


def test_dropout_inplace_autograd_as_pytorch():
    leaf = tg.ones(5, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        F.dropout(leaf, 0.5, True, True)
    a = tg.ones(1000, requires_grad=True)
    x = a * 1
    y = F.dropout(x, 0.5, True, True)
    assert y is x
    x.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), x.detach().numpy())  # mask / (1 - p): 0 or 2, as the values
    with tg.no_grad():
        assert F.dropout(leaf, 0.5, True, True) is leaf


@pytest.mark.torch
@pytest.mark.parametrize("shape,kwargs", [((4, 3), {}), ((2, 3, 4), {"dim": -1}), ((5,), {"dim": 0}),
                                          ((2, 3), {"p": 1.0, "dim": 0}), ((3, 2), {"p": float("inf")}),
                                          ((2, 3), {"eps": 0.5})])
def test_normalize_matches_torch_with_gradients_and_zero_rows(shape, kwargs):
    pytest.importorskip("torch")
    from helpers import OpCase, Sample, check_against_torch, check_finite_differences

    a = np.random.default_rng(0).uniform(0.2, 2, shape) * np.random.default_rng(1).choice([-1.0, 1.0], shape)
    case = OpCase("normalize", lambda m, x: m.nn.functional.normalize(x, **kwargs), None)
    check_against_torch(case, Sample((a,)))
    check_finite_differences(case, Sample((a,)))
    a[0] = 0.0  # a zero row: divided by eps, with PyTorch's gradient
    check_against_torch(case, Sample((a,)), second_order=False)


def test_normalize_refuses_what_torch_refuses():
    with pytest.raises(IndexError, match="out of range"):
        F.normalize(tg.ones(3))  # dim=1 of a 1-D tensor
    with pytest.raises(RuntimeError, match="floating point"):
        F.normalize(tg.ones(2, 3, dtype=tg.int64))


@pytest.mark.parametrize("shapes,dim", [(((4, 5), (4, 5)), 1), (((2, 3, 4), (1, 3, 1)), 1), (((3, 4), (4,)), -1),
                                        (((5,), (5,)), 0)])
def test_cosine_similarity_against_torch(shapes, dim):
    torch = pytest.importorskip("torch")
    from nn_oracle import compare_with_torch

    from tinygradnn import nn

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    a[0] = 1e-10  # a norm below eps: clamped, and PyTorch's gradient still flows through it
    for eps in (1e-8, 1e-2):
        compare_with_torch(nn.CosineSimilarity(dim, eps), torch.nn.CosineSimilarity(dim, eps), a, b, rtol=1e-4,
                           atol=1e-5)
    assert repr(nn.CosineSimilarity()) == "CosineSimilarity()"
    out = F.cosine_similarity(tg.tensor([[1, 2]]), tg.tensor([[1.0, 0.0]]))  # an int input is promoted
    assert out.dtype == np.float32 and out.shape == (1,)
    with pytest.raises(TypeError, match="floating"):
        F.cosine_similarity(tg.tensor([[1, 2]]), tg.tensor([[1, 0]]))
    with pytest.raises(ValueError, match="do not broadcast"):
        F.cosine_similarity(tg.ones(2, 3), tg.ones(2, 4))
