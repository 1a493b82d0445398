"""nn.init: formulas against PyTorch's, sample statistics, in-place semantics, seeding; default layer init."""

import math

import numpy as np
import pytest

import tinygradnn as tg
from tinygradnn import nn
from tinygradnn.nn import init


def test_calculate_gain_matches_pytorch():
    torch = pytest.importorskip("torch")
    for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                        ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (6, 2, 3, 3)])
def test_fan_in_fan_out_matches_pytorch(shape):
    torch = pytest.importorskip("torch")
    ours = init._calculate_fan_in_and_fan_out(tg.empty(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fan_needs_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(tg.empty(3))


def _bound_and_std(fill, shape, **kwargs):
    t = tg.empty(*shape)
    assert fill(t, **kwargs) is t  # in place, returns the tensor
    values = t.numpy()
    return np.abs(values).max(), values.std(), values.mean()


def test_kaiming_uniform_bound_follows_the_formula():
    shape = (200, 50, 3)  # fan_in = 150
    for a, mode, nonlinearity in [(0, "fan_in", "leaky_relu"), (math.sqrt(5), "fan_in", "leaky_relu"),
                                  (0, "fan_out", "relu")]:
        fan = 150 if mode == "fan_in" else 600
        bound = init.calculate_gain(nonlinearity, a) * math.sqrt(3 / fan)
        top, std, mean = _bound_and_std(init.kaiming_uniform_, shape, a=a, mode=mode, nonlinearity=nonlinearity)
        assert bound * 0.99 < top <= bound
        assert std == pytest.approx(bound / math.sqrt(3), rel=0.02) and abs(mean) < 0.02 * bound


def test_other_initialisers_statistics():
    top, std, _ = _bound_and_std(init.xavier_uniform_, (300, 200))
    assert top <= math.sqrt(6 / 500) and std == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    _, std, _ = _bound_and_std(init.xavier_normal_, (300, 200), gain=2.0)
    assert std == pytest.approx(2 * math.sqrt(2 / 500), rel=0.02)
    _, std, _ = _bound_and_std(init.kaiming_normal_, (300, 200), nonlinearity="relu")
    assert std == pytest.approx(math.sqrt(2 / 200), rel=0.02)
    _, std, mean = _bound_and_std(init.normal_, (300, 200), mean=1.0, std=0.5)
    assert std == pytest.approx(0.5, rel=0.02) and mean == pytest.approx(1.0, abs=0.01)
    top, _, mean = _bound_and_std(init.uniform_, (300, 200), a=-2.0, b=2.0)
    assert top <= 2 and abs(mean) < 0.02
    t = tg.empty(2, 3)
    assert (init.zeros_(t).numpy() == 0).all() and (init.ones_(t).numpy() == 1).all()
    assert (init.constant_(t, 0.3).numpy() == np.float32(0.3)).all() and t.dtype == np.float32


def test_init_works_on_parameters_without_recording_and_respects_the_seed():
    lin = nn.Linear(3, 4)
    init.kaiming_uniform_(lin.weight)
    assert lin.weight.is_leaf and lin.weight.requires_grad and lin.weight.grad_fn is None
    tg.manual_seed(7)
    a = nn.Linear(5, 5).weight.detach().numpy().copy()
    tg.manual_seed(7)
    np.testing.assert_array_equal(a, nn.Linear(5, 5).weight.detach().numpy())
    gen = tg.Generator().manual_seed(3)
    b = init.normal_(tg.empty(4), generator=gen).numpy().copy()
    np.testing.assert_array_equal(b, init.normal_(tg.empty(4), generator=tg.Generator().manual_seed(3)).numpy())


@pytest.mark.parametrize("layer,fan_in", [(lambda: nn.Linear(300, 200), 300), (lambda: nn.Conv2d(20, 40, 3), 180),
                                          (lambda: nn.Conv1d(30, 200, 5), 150)])
def test_default_layer_init_matches_pytorch_bounds(layer, fan_in):
    m = layer()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert bound * 0.98 < np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert w.dtype == np.float32 and b.dtype == np.float32


def test_batchnorm_and_embedding_defaults():
    bn = nn.BatchNorm2d(4)
    assert (bn.weight.detach().numpy() == 1).all() and (bn.bias.detach().numpy() == 0).all()
    assert (bn.running_mean.numpy() == 0).all() and (bn.running_var.numpy() == 1).all()
    assert nn.Linear(2, 3, dtype=tg.float64).weight.dtype == np.float64


def test_trunc_normal_stays_in_bounds_with_the_truncated_statistics():
    t = init.trunc_normal_(tg.empty(300, 200), mean=0.5, std=1.0, a=-1.0, b=2.0)
    v = t.numpy()
    assert t.dtype == np.float32 and v.min() >= -1.0 and v.max() <= 2.0
    # N(0.5, 1) truncated to [-1.5, 1.5] sigma: mean 0.5, std sqrt(1 - 3 phi(1.5) / (Phi(1.5) - Phi(-1.5)))
    phi, cdf = math.exp(-1.125) / math.sqrt(2 * math.pi), 0.5 * (1 + math.erf(1.5 / math.sqrt(2)))
    assert v.mean() == pytest.approx(0.5, abs=0.01)
    assert v.std() == pytest.approx(math.sqrt(1 - 3 * phi / (2 * cdf - 1)), rel=0.02)
    a = init.trunc_normal_(tg.empty(5), generator=tg.Generator().manual_seed(1)).numpy().copy()
    np.testing.assert_array_equal(a, init.trunc_normal_(tg.empty(5), generator=tg.Generator().manual_seed(1)).numpy())
    with pytest.warns(UserWarning, match="more than 2 std"):  # deep in the tail: PyTorch's warning, right values
        far = init.trunc_normal_(tg.empty(20000, dtype=tg.float64), a=5.0, b=6.0).numpy()
    assert far.min() >= 5.0 and far.max() <= 6.0 and (far == 5.0).mean() < 0.001
    # N(0, 1) truncated to [5, 6]: mean (phi(5) - phi(6)) / (Phi(6) - Phi(5))
    pdf = [math.exp(-z * z / 2) / math.sqrt(2 * math.pi) for z in (5.0, 6.0)]
    mass = 0.5 * (math.erfc(5 / math.sqrt(2)) - math.erfc(6 / math.sqrt(2)))
    assert far.mean() == pytest.approx((pdf[0] - pdf[1]) / mass, abs=0.01)
    for fill in (init.trunc_normal_, init.orthogonal_):
        with pytest.raises(TypeError, match="floating point tensor"):
            fill(tg.zeros(3, 3, dtype=tg.int64))


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3, 3), (4, 4)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    w = init.orthogonal_(tg.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1).astype(np.float64)
    small = min(w.shape)
    gram = w @ w.T if w.shape[0] == small else w.T @ w
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)
    with pytest.raises(ValueError):
        init.orthogonal_(tg.empty(3))
    lin = nn.Linear(3, 4)
    init.orthogonal_(lin.weight)
    assert lin.weight.is_leaf and lin.weight.grad_fn is None


def test_eye_matches_pytorch():
    assert init.eye_(tg.empty(2, 3)).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert init.eye_(tg.empty(3, 2)).tolist() == [[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]
    with pytest.raises(ValueError):
        init.eye_(tg.empty(2, 2, 2))
