"""examples/manual_backprop.py: the hand-written backward pass gives exactly autograd's gradients.

Same weights, same batch, float64: dW and db of every Linear, and the delta returned for the network
input, must equal tinygradnn's ``.grad`` after ``loss.backward()`` to 1e-8.
"""

import numpy as np
import pytest

import tinygradnn as tg
from tinygradnn import nn

TOL = dict(rtol=1e-8, atol=1e-10)


@pytest.fixture
def mb(load_example):
    return load_example("manual_backprop")


def autograd_twin(manual):
    """The same network in tinygradnn, float64, with the manual weights (nn.Linear stores W transposed)."""
    layers = []
    for module in manual.modules:
        if hasattr(module, "W"):
            layers.append(nn.Linear(*module.W.shape))
        else:
            layers.append({"Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid}[type(module).__name__]())
    model = nn.Sequential(*layers).double()
    state = {}
    for i, module in enumerate(manual.modules):
        if hasattr(module, "W"):
            state[f"{i}.weight"] = tg.from_numpy(module.W.T.copy())
            state[f"{i}.bias"] = tg.from_numpy(module.b.copy())
    model.load_state_dict(state)
    return model


def both_backwards(mb, hidden, batch, seed):
    rng = np.random.default_rng(seed)
    manual = mb.build_model(hidden=hidden, seed=seed, dtype=np.float64)
    X = rng.standard_normal((batch, 2))
    y = rng.integers(0, 2, (batch, 1)).astype(np.float64)

    manual.zero_grad()
    loss_fn = mb.MSELoss()
    yhat = manual.forward(X)
    delta_in = manual.backward(loss_fn.backward(y, yhat))

    model = autograd_twin(manual)
    x = tg.from_numpy(X.copy()).requires_grad_()
    out = model(x)
    loss = nn.MSELoss()(out, tg.from_numpy(y))
    loss.backward()
    return manual, model, (X, y, yhat, loss_fn.forward(y, yhat), delta_in), (x, out, loss)


@pytest.mark.parametrize("hidden,batch,seed", [(8, 32, 0), (3, 1, 1), (16, 7, 2), (5, 100, 3)])
def test_hand_written_gradients_equal_autograd(mb, hidden, batch, seed):
    manual, model, (X, y, yhat, manual_loss, delta_in), (x, out, loss) = both_backwards(mb, hidden, batch, seed)
    assert out.dtype == tg.float64 and yhat.dtype == np.float64
    np.testing.assert_allclose(yhat, out.detach().numpy(), **TOL)
    np.testing.assert_allclose(manual_loss, loss.item(), **TOL)
    linears = [(m, i) for i, m in enumerate(manual.modules) if isinstance(m, mb.Linear)]
    assert len(linears) == 2
    for module, i in linears:
        np.testing.assert_allclose(module.dW, model[i].weight.grad.numpy().T, **TOL)
        np.testing.assert_allclose(module.db, model[i].bias.grad.numpy(), **TOL)
    np.testing.assert_allclose(delta_in, x.grad.numpy(), **TOL)
    assert np.abs(delta_in).max() > 0  # not trivially zero


def test_gradients_accumulate_like_autograd(mb):
    """backward_update_gradient adds to dW; .grad adds across backward() calls; both until zero_grad."""
    manual, model, (X, y, _, _, _), _ = both_backwards(mb, 4, 10, 5)
    yhat = manual.forward(X)
    manual.backward(mb.MSELoss().backward(y, yhat))  # second pass without zero_grad
    nn.MSELoss()(model(tg.from_numpy(X)), tg.from_numpy(y)).backward()
    first = manual.modules[0]
    np.testing.assert_allclose(first.dW, model[0].weight.grad.numpy().T, **TOL)
    manual.zero_grad()
    assert not first.dW.any() and not first.db.any()


def test_update_parameters_is_one_sgd_step(mb):
    manual, model, *_ = both_backwards(mb, 6, 20, 7)
    manual.update_parameters(0.3)
    tg.optim.SGD(model.parameters(), lr=0.3).step()
    for i, module in enumerate(manual.modules):
        if isinstance(module, mb.Linear):
            np.testing.assert_allclose(module.W, model[i].weight.detach().numpy().T, **TOL)
            np.testing.assert_allclose(module.b, model[i].bias.detach().numpy(), **TOL)


def test_elementwise_backward_rules(mb):
    """Tanh and Sigmoid deltas against autograd, including large inputs where a naive sigmoid overflows."""
    z = np.array([-800.0, -30.0, -1.5, 0.0, 0.7, 30.0, 800.0])
    delta = np.linspace(-1, 1, z.size)
    for manual, fn in [(mb.Tanh(), tg.tanh), (mb.Sigmoid(), tg.sigmoid)]:
        t = tg.from_numpy(z.copy()).requires_grad_()
        y = fn(t)
        y.backward(tg.from_numpy(delta))
        np.testing.assert_allclose(manual.forward(z), y.detach().numpy(), **TOL)
        np.testing.assert_allclose(manual.backward_delta(z, delta), t.grad.numpy(), **TOL)


def test_training_drives_the_loss_down(mb):
    X, labels, _, _ = mb.load_data(200, 10, seed=0, dtype=np.float64)
    model = mb.build_model(seed=0, dtype=np.float64)
    history = mb.train(model, X, labels[:, None].astype(np.float64), epochs=40, lr=0.5)
    assert history[-1] < history[0] / 5
    assert mb.accuracy(model, X, labels) >= 0.95
