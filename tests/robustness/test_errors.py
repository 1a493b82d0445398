"""Clear errors, early: every user mistake is an ordinary Python exception whose message names the
operation and the shapes, dtypes or values involved (never a NumPy traceback from deep inside).

Each row of ``CASES`` is one mistake: what the user writes, the exception type expected *exactly*
(a NumPy subclass such as ``AxisError`` or ``UFuncTypeError`` leaking through fails), and fragments
that must all appear in the message.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygradnn as tg
import tinygradnn.nn as nn
import tinygradnn.nn.functional as F


def _linear_sd():
    m = nn.Linear(3, 4)
    return m, m.state_dict()


def _load(sd_change):
    m, sd = _linear_sd()
    m.load_state_dict(sd_change(sd))


X23, Y45 = tg.randn(2, 3), tg.randn(4, 5)

CASES = [
    # --------------------------------------------------------------- tensor creation
    ("ragged list", lambda: tg.tensor([[1, 2], [3]]), ValueError, ("tensor()", "ragged", "same length")),
    ("ragged with dtype", lambda: tg.tensor([[1.0], [2.0, 3.0]], dtype=tg.float32), ValueError, ("ragged",)),
    ("string data", lambda: tg.tensor("abc"), TypeError, ("tensor()", "str")),
    ("None data", lambda: tg.tensor(None), TypeError, ("tensor()", "NoneType")),
    ("complex data", lambda: tg.tensor(1 + 2j), TypeError, ("tensor()", "complex")),
    ("strings with dtype", lambda: tg.tensor(["a"], dtype=tg.float32), TypeError, ("tensor()",)),
    ("negative size", lambda: tg.zeros(2, -3), ValueError, ("(2, -3)", "non-negative")),
    ("float size", lambda: tg.randn(2.5), ValueError, ("2.5",)),
    # --------------------------------------------------------------- broadcasting
    ("add shapes", lambda: X23 + Y45, ValueError, ("add", "(2, 3)", "(4, 5)", "broadcast")),
    ("sub shapes", lambda: X23 - Y45, ValueError, ("sub", "(2, 3)", "(4, 5)")),
    ("mul shapes", lambda: X23 * Y45, ValueError, ("mul", "(2, 3)", "(4, 5)")),
    ("div shapes", lambda: X23 / Y45, ValueError, ("div", "(2, 3)", "(4, 5)")),
    ("pow shapes", lambda: X23 ** Y45, ValueError, ("pow", "(2, 3)", "(4, 5)")),
    ("maximum shapes", lambda: tg.maximum(X23, Y45), ValueError, ("maximum", "(2, 3)", "(4, 5)")),
    ("where shapes", lambda: tg.where(X23 > 0, X23, Y45), ValueError, ("where", "(2, 3)", "(4, 5)")),
    ("compare shapes", lambda: X23 < Y45, ValueError, ("lt", "(2, 3)", "(4, 5)")),
    # --------------------------------------------------------------- matmul, cat, stack, reshape, expand
    ("matmul inner dims", lambda: X23 @ X23, ValueError, ("matmul", "(2, 3)", "not aligned", "3", "2")),
    ("matmul batch dims", lambda: tg.randn(2, 2, 3) @ tg.randn(3, 3, 4), ValueError,
     ("matmul", "(2, 2, 3)", "(3, 3, 4)", "batch")),
    ("matmul 0-d", lambda: tg.tensor(2.0) @ X23, ValueError, ("matmul", "()", "at least 1 dim")),
    ("cat shapes", lambda: tg.cat([X23, Y45]), ValueError, ("cat", "(2, 3)", "(4, 5)")),
    ("cat dim", lambda: tg.cat([X23, X23], dim=5), IndexError, ("cat", "5", "[-2, 1]")),
    ("cat nothing", lambda: tg.cat([]), ValueError, ("cat", "non-empty")),
    ("stack shapes", lambda: tg.stack([X23, Y45]), ValueError, ("stack", "(2, 3)", "(4, 5)")),
    ("reshape size", lambda: X23.reshape(4, 2), ValueError, ("reshape", "(2, 3)", "6 elements", "(4, 2)")),
    ("view size", lambda: X23.view(7), ValueError, ("(2, 3)", "(7,)")),
    ("reshape two -1", lambda: X23.reshape(-1, -1), ValueError, ("reshape", "(-1, -1)")),
    ("reshape str", lambda: X23.reshape("a"), TypeError, ("reshape", "'a'")),
    ("expand size", lambda: X23.expand(4, 3, 3), ValueError, ("expand", "(2, 3)", "(4, 3, 3)")),
    ("expand fewer dims", lambda: X23.expand(3), ValueError, ("expand", "(3,)", "(2, 3)")),
    ("permute", lambda: X23.permute(0, 0), ValueError, ("permute", "(0, 0)", "(2, 3)")),
    ("transpose dim", lambda: X23.transpose(0, 5), IndexError, ("transpose", "5")),
    ("sum dim", lambda: X23.sum(5), IndexError, ("sum", "5", "2-d")),
    ("sum dim str", lambda: X23.sum("a"), TypeError, ("sum", "'a'")),
    ("softmax dim", lambda: X23.softmax(3), IndexError, ("softmax", "3")),
    ("chunk zero", lambda: X23.chunk(0), ValueError, ("chunk", "0")),
    ("split zero", lambda: X23.split(0), ValueError, ("split", "0")),
    ("topk too big", lambda: X23.topk(5), ValueError, ("topk", "k=5", "3")),
    ("argmax empty", lambda: tg.zeros(0).argmax(), IndexError, ("argmax", "empty", "(0,)")),
    ("max empty", lambda: tg.zeros(0).max(), RuntimeError, ("max", "empty", "(0,)")),
    ("mean of ints", lambda: tg.tensor([1, 2]).mean(), TypeError, ("mean", "int64", ".float()")),
    # --------------------------------------------------------------- indexing, gather
    ("index out of range", lambda: X23[5], IndexError, ("(2, 3)", "5", "axis 0", "size 2")),
    ("column out of range", lambda: X23[:, 7], IndexError, ("(2, 3)", "7")),
    ("float index", lambda: X23[1.5], IndexError, ("1.5", "(2, 3)")),
    ("float index tensor", lambda: X23[tg.tensor([0.0])], IndexError, ("integer or bool", "float32")),
    ("gather out of range", lambda: tg.gather(X23, 1, tg.tensor([[0, 5], [1, 1]])), IndexError,
     ("gather", "[0, 3)", "dim 1", "max 5")),
    ("gather ndim", lambda: tg.gather(X23, 1, tg.tensor([[[0]]])), ValueError, ("gather", "3 dims", "(2, 3)")),
    # --------------------------------------------------------------- wrong types
    ("add str", lambda: X23 + "a", TypeError, ("str",)),
    ("add None", lambda: X23 + None, TypeError, ("NoneType",)),
    ("exp of str", lambda: tg.exp("abc"), TypeError, ("exp", "str")),
    ("tanh of None", lambda: tg.tanh(None), TypeError, ("tanh", "NoneType")),
    ("sum of dict", lambda: tg.sum({}), TypeError, ("sum", "dict")),
    ("reshape of str", lambda: tg.reshape("ab", 2), TypeError, ("reshape", "str")),
    ("relu layer on str", lambda: nn.ReLU()("abc"), TypeError, ("relu", "str")),
    ("clamp with str bound", lambda: X23.clamp("a"), TypeError, ("clamp", "str")),
    ("matmul with str", lambda: X23 @ "a", TypeError, ("matmul", "str")),
    ("backward with str", lambda: (tg.randn(3, requires_grad=True) * 2).backward("a"), TypeError,
     ("backward", "gradient", "str")),
    # --------------------------------------------------------------- layers
    ("Linear in_features", lambda: nn.Linear(3, 4)(tg.randn(2, 5)), ValueError,
     ("Linear", "in_features", "3", "(2, 5)")),
    ("Linear 0-d input", lambda: nn.Linear(3, 4)(tg.tensor(1.0)), ValueError, ("Linear", "()")),
    ("Linear on str", lambda: nn.Linear(3, 4)("abc"), TypeError, ("Linear", "str")),
    ("Linear int input", lambda: nn.Linear(3, 4)(tg.tensor([[1, 2, 3]])), TypeError,
     ("linear", "int64", "float32")),
    ("Linear float size", lambda: nn.Linear(3.5, 4), TypeError, ("Linear", "in_features", "3.5")),
    ("Linear negative size", lambda: nn.Linear(3, -4), ValueError, ("Linear", "out_features", "-4")),
    ("F.linear weight", lambda: F.linear(tg.randn(2, 3), tg.randn(4, 5)), ValueError,
     ("linear", "(2, 3)", "(4, 5)")),
    ("Conv2d channels", lambda: nn.Conv2d(3, 4, 3)(tg.randn(1, 2, 8, 8)), ValueError,
     ("Conv2d", "3 channels", "(1, 2, 8, 8)")),
    ("Conv2d ndim", lambda: nn.Conv2d(3, 4, 3)(tg.randn(8, 8)), ValueError, ("Conv2d", "4-d", "(8, 8)")),
    ("Conv2d too small", lambda: nn.Conv2d(3, 4, 5)(tg.randn(1, 3, 3, 3)), ValueError,
     ("conv2d", "3", "kernel", "5")),
    ("Conv2d small after padding", lambda: nn.Conv2d(1, 1, 7, padding=1)(tg.randn(1, 1, 4, 4)), ValueError,
     ("conv2d", "padded to 6", "7")),
    ("Conv1d channels", lambda: nn.Conv1d(3, 4, 3)(tg.randn(1, 2, 8)), ValueError, ("Conv1d", "3 channels")),
    ("Conv1d too small", lambda: nn.Conv1d(3, 4, 5)(tg.randn(1, 3, 2)), ValueError, ("conv1d", "2", "5")),
    ("Conv1d ndim", lambda: nn.Conv1d(3, 4, 3)(tg.randn(1, 3, 2, 2)), ValueError, ("Conv1d", "3-d")),
    ("Conv2d kernel 0", lambda: nn.Conv2d(3, 4, 0), ValueError, ("Conv2d", "kernel_size", "0")),
    ("Conv2d stride 0", lambda: nn.Conv2d(3, 4, 3, stride=0), ValueError, ("Conv2d", "stride", "0")),
    ("Conv2d groups", lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, ("Conv2d", "groups", "divisible")),
    ("Conv2d on None", lambda: nn.Conv2d(1, 1, 1)(None), TypeError, ("Conv2d", "NoneType")),
    ("max_pool2d on str", lambda: F.max_pool2d("abc", 2), TypeError, ("max_pool2d", "str")),
    ("BatchNorm on str", lambda: nn.BatchNorm1d(2)("ab"), TypeError, ("BatchNorm1d", "str")),
    ("BatchNorm float size", lambda: nn.BatchNorm2d(2.0), TypeError, ("BatchNorm2d", "num_features", "2.0")),
    ("Embedding negative size", lambda: nn.Embedding(-1, 3), ValueError, ("Embedding", "num_embeddings", "-1")),
    ("Conv1d padding", lambda: nn.Conv1d(1, 1, 3, padding=-1), ValueError, ("Conv1d", "padding", "-1")),
    ("MaxPool2d too small", lambda: nn.MaxPool2d(5)(tg.randn(1, 1, 3, 3)), ValueError,
     ("max_pool2d", "(1, 1, 3, 3)", "(5, 5)")),
    ("AvgPool2d too small", lambda: nn.AvgPool2d(5)(tg.randn(1, 1, 3, 3)), ValueError, ("avg_pool2d",)),
    ("MaxPool1d too small", lambda: nn.MaxPool1d(5)(tg.randn(1, 1, 3)), ValueError, ("max_pool1d", "(1, 1, 3)")),
    ("MaxPool2d ndim", lambda: nn.MaxPool2d(2)(tg.randn(3)), ValueError, ("max_pool2d", "(3,)")),
    ("BatchNorm2d channels", lambda: nn.BatchNorm2d(3)(tg.randn(2, 4, 5, 5)), ValueError,
     ("BatchNorm2d", "3 channels", "(2, 4, 5, 5)")),
    ("BatchNorm1d channels", lambda: nn.BatchNorm1d(3)(tg.randn(2, 4)), ValueError, ("BatchNorm1d", "(2, 4)")),
    ("BatchNorm2d ndim", lambda: nn.BatchNorm2d(3)(tg.randn(2, 3)), ValueError, ("BatchNorm2d", "4-d", "(2, 3)")),
    ("BatchNorm one sample", lambda: nn.BatchNorm1d(3)(tg.randn(1, 3)), ValueError,
     ("batch_norm", "more than 1 value", "(1, 3)")),
    ("Embedding index", lambda: nn.Embedding(10, 3)(tg.tensor([1, 10])), IndexError,
     ("embedding", "index 10", "10 rows")),
    ("Embedding negative", lambda: nn.Embedding(10, 3)(tg.tensor([-1])), IndexError, ("embedding", "-1")),
    ("Embedding float index", lambda: nn.Embedding(10, 3)(tg.tensor([1.0])), TypeError,
     ("embedding", "float32", ".long()")),
    ("Sequential sizes", lambda: nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2))(tg.randn(2, 3)), ValueError,
     ("Linear", "5", "(2, 4)")),
    ("Dropout p", lambda: nn.Dropout(1.5), ValueError, ("dropout", "1.5")),
    # --------------------------------------------------------------- losses
    ("CE label count", lambda: F.cross_entropy(tg.randn(4, 3), tg.tensor([0, 1, 2])), ValueError,
     ("cross_entropy", "(4, 3)", "(4,)", "(3,)")),
    ("CE label too big", lambda: F.cross_entropy(tg.randn(3, 3), tg.tensor([0, 1, 3])), IndexError,
     ("cross_entropy", "label 3", "3 classes", "[0, 3)")),
    ("CE negative label", lambda: F.cross_entropy(tg.randn(3, 3), tg.tensor([0, -2, 1])), IndexError,
     ("cross_entropy", "label -2")),
    ("CrossEntropyLoss label", lambda: nn.CrossEntropyLoss()(tg.randn(3, 3), tg.tensor([0, 1, 7])), IndexError,
     ("label 7",)),
    ("CE float labels", lambda: F.cross_entropy(tg.randn(3, 3), tg.tensor([0.0, 1.0, 2.0])), ValueError,
     ("cross_entropy", "float target", "(3,)", ".long()")),
    ("CE bool labels", lambda: F.cross_entropy(tg.randn(3, 3), tg.tensor([True, False, True])), RuntimeError,
     ("cross_entropy", "bool")),
    ("CE integer logits", lambda: F.cross_entropy(tg.tensor([[1, 2], [3, 4]]), tg.tensor([0, 1])), TypeError,
     ("cross_entropy", "int64", "float")),
    ("NLL float labels", lambda: F.nll_loss(tg.randn(3, 3), tg.tensor([0.0, 1.0, 2.0])), TypeError,
     ("nll_loss", "float32", ".long()")),
    ("NLL label too big", lambda: F.nll_loss(tg.randn(3, 3), tg.tensor([0, 1, 7])), IndexError,
     ("nll_loss", "label 7")),
    ("MSE shapes", lambda: F.mse_loss(tg.randn(3, 3), tg.randn(3)), ValueError, ("mse_loss", "(3,)", "(3, 3)")),
    ("MSE int target", lambda: F.mse_loss(tg.randn(3), tg.tensor([1, 2, 3])), TypeError,
     ("mse_loss", "int64", ".float()")),
    ("MSE on dict", lambda: F.mse_loss({}, tg.tensor([1.0, 2.0])), TypeError, ("mse_loss", "dict")),
    ("MSE integer input", lambda: F.mse_loss(tg.tensor([1, 2]), tg.tensor([1.0, 2.0])), TypeError,
     ("mse_loss", "int64", ".float()")),
    ("L1Loss on str", lambda: nn.L1Loss()("ab", tg.tensor([1.0, 2.0])), TypeError, ("l1_loss", "str")),
    ("BCE input > 1", lambda: F.binary_cross_entropy(tg.tensor([1.5, 0.5]), tg.tensor([1.0, 0.0])), ValueError,
     ("binary_cross_entropy", "input", "between 0 and 1", "1.5", "with_logits")),
    ("BCE input NaN", lambda: F.binary_cross_entropy(tg.tensor([float("nan"), 0.5]), tg.tensor([1.0, 0.0])),
     ValueError, ("binary_cross_entropy", "input", "nan")),
    ("BCE target > 1", lambda: nn.BCELoss()(tg.tensor([0.5, 0.5]), tg.tensor([2.0, 0.0])), ValueError,
     ("binary_cross_entropy", "target", "between 0 and 1", "2")),
    ("BCEWithLogits target < 0", lambda: nn.BCEWithLogitsLoss()(tg.tensor([0.5, 0.5]), tg.tensor([-1.0, 0.0])),
     ValueError, ("binary_cross_entropy_with_logits", "target", "between 0 and 1", "-1")),
    ("BCE shapes", lambda: nn.BCELoss()(tg.tensor([0.5, 0.5]), tg.tensor([1.0])), ValueError,
     ("binary_cross_entropy", "(1,)", "(2,)")),
    ("loss reduction", lambda: F.mse_loss(tg.randn(2), tg.randn(2), reduction="avg"), ValueError,
     ("mse_loss", "'avg'")),
    # --------------------------------------------------------------- load_state_dict
    ("state_dict missing key", lambda: _load(lambda sd: {"weight": sd["weight"]}), RuntimeError,
     ("Linear", "Missing key", '"bias"')),
    ("state_dict extra key", lambda: _load(lambda sd: {**sd, "foo": sd["bias"]}), RuntimeError,
     ("Unexpected key", '"foo"')),
    ("state_dict shape", lambda: _load(lambda sd: {**sd, "weight": tg.randn(5, 3)}), RuntimeError,
     ("size mismatch for weight", "(5, 3)", "(4, 3)")),
    ("state_dict not a dict", lambda: _load(lambda sd: [1, 2]), TypeError, ("load_state_dict", "list")),
    ("state_dict bad value", lambda: _load(lambda sd: {**sd, "weight": "abc"}), TypeError,
     ("load_state_dict", "'weight'")),
]


@pytest.mark.parametrize("make, exc, fragments", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mistake_gives_a_clear_error(make, exc, fragments):
    with pytest.raises(Exception) as info:
        make()
    assert type(info.value) is exc, f"expected {exc.__name__}, got {type(info.value).__name__}: {info.value}"
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"


# ----------------------------------------------------------------------------- autograd misuse
def test_backward_of_a_non_scalar_needs_a_gradient():
    x = tg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(3,\).*gradient="):
        (x * 2).backward()


def test_second_backward_through_a_freed_graph_names_the_node_and_the_fix():
    x = tg.randn(3, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time \(through Sum\).*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_the_second_backward():
    x = tg.randn(3, requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("values", [[1, 2], [True, False]])
def test_integer_and_bool_tensors_cannot_require_grad(values):
    with pytest.raises(RuntimeError, match=r"only floating point tensors can require gradients.*\.float\(\)"):
        tg.tensor(values, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor(values).requires_grad_()


@pytest.mark.parametrize("grad_shape", [(4,), (1, 3), ()])
def test_gradient_of_the_wrong_shape(grad_shape):
    x = tg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=rf"grad_output has shape {re_tuple(grad_shape)} and output has shape "
                                           r"\(3,\)"):
        (x * 2).backward(tg.ones(grad_shape))


def re_tuple(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


def test_in_place_change_of_a_saved_tensor_is_detected():
    a = tg.randn(3, requires_grad=True)
    b = a * 1
    c = b.exp()  # Exp saves its output; Mul below saves b
    d = (b * b).sum()
    b.add_(1)
    with pytest.raises(RuntimeError, match=r"shape \(3,\) needed by Mul .* modified by an in-place operation"):
        d.backward()
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation.*clone\(\)"):
        c.sum().backward()


def test_in_place_on_a_leaf_that_requires_grad():
    x = tg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf tensor of shape \(3,\).*no_grad\(\)"):
        x.add_(1)
    with tg.no_grad():
        x.add_(1)  # what optimizers do


def test_numpy_on_a_tensor_that_requires_grad():
    x = tg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"numpy\(\).*requires grad.*\.detach\(\)\.numpy\(\)"):
        x.numpy()
    assert x.detach().numpy().shape == (3,)


def test_backward_of_a_tensor_without_graph():
    with pytest.raises(RuntimeError, match=r"does not require grad.*requires_grad=True"):
        tg.randn(3).sum().backward()


def test_autograd_grad_of_an_unused_input():
    x = tg.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"input 0, shape \(2,\).*allow_unused=True"):
        tg.autograd.grad((x * 2).sum(), tg.randn(2, requires_grad=True))


def test_layers_and_losses_accept_what_tensor_accepts():
    """Lists and NumPy arrays are converted like ``tensor()`` would; only other objects are errors."""
    lin = nn.Linear(3, 2)
    assert lin([[1.0, 2.0, 3.0]]).shape == (1, 2)
    assert lin(np.ones((4, 3), np.float32)).shape == (4, 2)
    assert nn.Conv2d(1, 1, 1)([[[1.0]]]).shape == (1, 1, 1)
    assert F.mse_loss([1.0, 2.0], tg.tensor([1.0, 3.0])).item() == 0.5
    assert tg.exp([0.0]).item() == 1.0


def test_item_and_bool_of_many_elements():
    with pytest.raises(RuntimeError, match=r"6 elements cannot be converted to Scalar.*\(2, 3\)"):
        X23.item()
    with pytest.raises(RuntimeError, match="6 elements is ambiguous"):
        bool(X23)
