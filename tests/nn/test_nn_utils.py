"""nn.utils: gradient clipping (against PyTorch) and parameters <-> vector."""

import numpy as np
import pytest

import tinygradnn as tg
from tinygradnn import nn
from tinygradnn.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters


def _grads(seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) * 3 for s in [(3, 4), (4,), (2, 2, 2)]]


@pytest.mark.parametrize("max_norm,norm_type", [(1.0, 2.0), (100.0, 2.0), (0.5, 1.0), (2.0, float("inf")),
                                               (1.0, 0.0), (0.1, float("-inf")), (0.1, -1.0), (0.1, -2.0)])
@pytest.mark.parametrize("zeros", [False, True])
def test_clip_grad_norm_matches_pytorch(max_norm, norm_type, zeros):
    torch = pytest.importorskip("torch")
    grads = _grads(0)
    if zeros:  # a zero element: |0| ** p is inf for p < 0, which makes a negative norm 0 without a warning
        grads[0][1, 2] = 0
    ours = [nn.Parameter(tg.zeros(*g.shape)) for g in grads]
    theirs = [torch.nn.Parameter(torch.zeros(*g.shape)) for g in grads]
    for p, tp, g in zip(ours, theirs, grads):
        p.grad, tp.grad = tg.tensor(g), torch.tensor(g)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total.item() == pytest.approx(ttotal.item(), rel=1e-5)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_skips_missing_grads_and_can_raise_on_nan():
    p, q = nn.Parameter(tg.zeros(2)), nn.Parameter(tg.zeros(2))
    p.grad = tg.tensor([3.0, 4.0])
    assert clip_grad_norm_([p, q], 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    p.grad = tg.tensor([np.nan, 1.0])
    with pytest.raises(RuntimeError, match="nan"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    for norm_type in (2.0, float("inf")):  # a NaN anywhere, even after larger values: NaN norm, NaN gradients
        p.grad, q.grad = tg.tensor([1.0, 2.0]), tg.tensor([np.nan, 1.0])
        assert np.isnan(clip_grad_norm_([p, q], 1.0, norm_type).item())
        assert np.isnan(p.grad.numpy()).all()
        with pytest.raises(RuntimeError, match="nan"):
            clip_grad_norm_([p, q], 1.0, norm_type, error_if_nonfinite=True)


@pytest.mark.parametrize("norm_type,expected", [(2.0, 0.0), (float("inf"), 0.0), (-1.0, np.inf),
                                                (float("-inf"), np.inf)])
def test_clip_grad_norm_of_only_empty_gradients(norm_type, expected):
    # PyTorch raises for inf and negative norms; we take the norm over no elements (docs/pytorch.md)
    p = nn.Parameter(tg.zeros(0))
    p.grad = tg.zeros(0)
    assert clip_grad_norm_([p], 1.0, norm_type).item() == expected


def test_clip_grad_value():
    p = nn.Parameter(tg.zeros(3))
    p.grad = tg.tensor([-5.0, 0.5, 3.0])
    clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), [-1, 0.5, 1])


def test_parameters_to_vector_and_back():
    model = nn.Linear(3, 2)
    vec = parameters_to_vector(model.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.detach().numpy()[:6], model.weight.detach().numpy().ravel())
    weight = model.weight
    vector_to_parameters(tg.arange(8).float(), model.parameters())
    assert model.weight is weight
    np.testing.assert_array_equal(model.bias.detach().numpy(), [6, 7])
    with pytest.raises(ValueError, match="1-D vector of 8 elements"):
        vector_to_parameters(tg.zeros(7), model.parameters())
    with pytest.raises(TypeError, match="expected a Tensor, got list"):
        vector_to_parameters([0.0] * 8, model.parameters())
    with pytest.raises(TypeError, match="expected Tensors, got ndarray"):
        parameters_to_vector([np.zeros(2)])


def test_clip_grad_norm_returns_the_norm_in_the_widest_gradient_dtype():
    p, q = nn.Parameter(tg.zeros(2)), nn.Parameter(tg.zeros(1, dtype=tg.float64))
    p.grad, q.grad = tg.tensor([3.0, 4.0]), tg.tensor([0.0], dtype=tg.float64)
    assert clip_grad_norm_([p, q], 10.0).dtype == np.float64


@pytest.mark.parametrize("scale,norm_type", [(300.0, 2.0), (300.0, 3.0), (1e-4, 2.0)])
def test_clip_grad_norm_of_float16_gradients_neither_overflows_nor_underflows(scale, norm_type):
    # squares of float16 gradients overflow (or underflow) in float16: PyTorch accumulates in float32
    g = np.full(50, scale, np.float16)
    p = nn.Parameter(tg.zeros(50, dtype=tg.float16))
    p.grad = tg.tensor(g.copy())
    total = clip_grad_norm_([p], 1.0, norm_type)
    expected = float(np.linalg.norm(g.astype(np.float64), norm_type))
    assert total.dtype == tg.float16 and total.item() == pytest.approx(expected, rel=1e-3)
    np.testing.assert_allclose(p.grad.numpy().astype(np.float64), g / (expected + 1e-6) if expected > 1 else g,
                               rtol=2e-3)


def test_clip_values_may_be_tensors():
    p = nn.Parameter(tg.zeros(3))
    p.grad = tg.tensor([-5.0, 0.25, 7.0])
    clip_grad_value_([p], tg.tensor(0.5))
    np.testing.assert_array_equal(p.grad.numpy(), [-0.5, 0.25, 0.5])
    assert clip_grad_norm_([p], tg.tensor(0.1)).item() == pytest.approx(0.75)
    np.testing.assert_allclose(np.linalg.norm(p.grad.numpy()), 0.1, rtol=1e-5)
