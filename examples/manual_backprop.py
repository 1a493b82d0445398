"""Backpropagation by hand: a small network trained on XOR with nothing but NumPy.

This is the design tinygradnn grew out of, kept as a lesson. There is no autograd here.
Every module knows three things about itself:

- ``forward(X)``: its output for a batch ``X`` of shape ``(batch, features)``;
- ``backward_update_gradient(input, delta)``: given ``delta = dLoss/d(output)``, *add*
  ``dLoss/dW`` and ``dLoss/db`` to its gradients ``dW`` and ``db``;
- ``backward_delta(input, delta)``: return ``dLoss/d(input)``, which is the ``delta`` of the
  module before it.

``Sequential`` runs the modules forward while remembering each one's input, then walks them
backwards passing ``delta`` along: that walk is the chain rule done by hand, and it is exactly
the bookkeeping that tinygradnn's autograd does for you.

Run it from the repository root::

    python examples/manual_backprop.py            # full run
    python examples/manual_backprop.py --quick    # less data, fewer epochs (smoke test)

(tinygradnn is only used for the XOR data and, in ``common``, for the shared plotting helpers.)
"""

import matplotlib.pyplot as plt
import numpy as np
from common import parser, plot_decision_boundary, save
from tqdm import tqdm

from tinygradnn.datasets import xor_data


class Module:
    """A building block of the network. Modules with parameters override the gradient methods."""

    def forward(self, X):
        raise NotImplementedError

    def backward_update_gradient(self, input, delta):
        """Add dLoss/dParameters to the gradients. Nothing to do for a module without parameters."""

    def backward_delta(self, input, delta):
        raise NotImplementedError

    def zero_grad(self):
        """Reset the gradients to zero: ``backward_update_gradient`` adds to them, it never overwrites."""

    def update_parameters(self, lr):
        """One step of gradient descent: ``W -= lr * dW`` for each parameter."""


class Linear(Module):
    """``X @ W + b`` with ``W`` of shape ``(in_features, out_features)`` and ``b`` ``(out_features,)``."""

    def __init__(self, in_features, out_features, rng, dtype=np.float32):
        # PyTorch's default initialisation: uniform on [-1/sqrt(in), 1/sqrt(in)].
        bound = 1.0 / np.sqrt(in_features)
        self.W = rng.uniform(-bound, bound, (in_features, out_features)).astype(dtype)
        self.b = rng.uniform(-bound, bound, out_features).astype(dtype)
        self.zero_grad()

    def forward(self, X):
        return X @ self.W + self.b

    def backward_update_gradient(self, input, delta):
        # out[n, j] = sum_i input[n, i] W[i, j] + b[j], so summing over the batch n:
        #   dLoss/dW[i, j] = sum_n input[n, i] delta[n, j]    and    dLoss/db[j] = sum_n delta[n, j]
        self.dW += input.T @ delta
        self.db += delta.sum(axis=0)

    def backward_delta(self, input, delta):
        # dLoss/dinput[n, i] = sum_j delta[n, j] W[i, j]
        return delta @ self.W.T

    def zero_grad(self):
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    def update_parameters(self, lr):
        self.W -= lr * self.dW
        self.b -= lr * self.db


class Tanh(Module):
    """Elementwise ``tanh``; its derivative is ``1 - tanh(x)**2``."""

    def forward(self, X):
        return np.tanh(X)

    def backward_delta(self, input, delta):
        # Elementwise functions: multiply delta by the derivative at the input (the chain rule).
        return delta * (1.0 - np.tanh(input) ** 2)


class Sigmoid(Module):
    """Elementwise ``1 / (1 + exp(-x))``; its derivative is ``s * (1 - s)``."""

    def forward(self, X):
        # The same function written with tanh, which never overflows for large negative x.
        return 0.5 * (1.0 + np.tanh(0.5 * X))

    def backward_delta(self, input, delta):
        s = self.forward(input)
        return delta * s * (1.0 - s)


class MSELoss:
    """Mean squared error over all elements, like ``torch.nn.MSELoss()`` (reduction='mean')."""

    def forward(self, y, yhat):
        return np.mean((yhat - y) ** 2)

    def backward(self, y, yhat):
        """``dLoss/dyhat``: the first ``delta`` of the backward pass."""
        return 2.0 * (yhat - y) / y.size


class Sequential:
    """Modules applied one after the other, with the backward pass chained by hand."""

    def __init__(self, *modules):
        self.modules = list(modules)
        self.inputs = []  # each module's input during the last forward pass

    def forward(self, X):
        self.inputs = []
        for module in self.modules:
            self.inputs.append(X)
            X = module.forward(X)
        return X

    def backward(self, delta):
        """Walk the modules from last to first; ``delta`` starts as dLoss/d(network output).

        Each module adds its parameter gradients, then turns ``delta`` into dLoss/d(its input),
        the ``delta`` of the module before it. Returns dLoss/d(network input).
        """
        for module, X in zip(reversed(self.modules), reversed(self.inputs)):
            module.backward_update_gradient(X, delta)
            delta = module.backward_delta(X, delta)
        return delta

    def zero_grad(self):
        for module in self.modules:
            module.zero_grad()

    def update_parameters(self, lr):
        for module in self.modules:
            module.update_parameters(lr)


def build_model(hidden=8, seed=0, dtype=np.float32):
    """2 inputs -> ``hidden`` tanh units -> 1 sigmoid output, the probability of class 1."""
    rng = np.random.default_rng(seed)
    return Sequential(Linear(2, hidden, rng, dtype), Tanh(), Linear(hidden, 1, rng, dtype), Sigmoid())


def train(model, X, y, *, epochs, lr, batch_size=32, seed=0):
    """Mini-batch gradient descent on the MSE between the output and ``y`` (shape ``(n, 1)``).

    Returns the mean training loss of each epoch.
    """
    loss_fn = MSELoss()
    rng = np.random.default_rng(seed)
    n_batches = max(1, len(X) // batch_size)
    history = []
    for _ in (bar := tqdm(range(epochs), desc="manual backprop", unit="epoch", leave=False)):
        losses = []
        for batch in np.array_split(rng.permutation(len(X)), n_batches):
            model.zero_grad()  # gradients accumulate, so clear the previous batch's first
            yhat = model.forward(X[batch])
            losses.append(loss_fn.forward(y[batch], yhat))
            model.backward(loss_fn.backward(y[batch], yhat))
            model.update_parameters(lr)
        history.append(float(np.mean(losses)))
        bar.set_postfix(loss=f"{history[-1]:.4f}")
    return history


def accuracy(model, X, labels):
    """Fraction of points whose predicted class (output > 0.5) is the label."""
    return float(np.mean((model.forward(X)[:, 0] > 0.5) == labels))


def load_data(n_train, n_test, seed=0, dtype=np.float32):
    """XOR train and test sets drawn with different seeds; targets shaped ``(n, 1)`` for the MSE."""
    X_train, labels_train = xor_data(n_train, seed=seed)
    X_test, labels_test = xor_data(n_test, seed=seed + 1)
    return X_train.astype(dtype), labels_train, X_test.astype(dtype), labels_test


def main(argv=None, dtype=np.float32) -> dict:
    p = parser(__doc__, epochs=200, lr=0.5, batch_size=32)
    p.add_argument("--hidden", type=int, default=8, help="tanh units")
    args = p.parse_args(argv)

    n_train, n_test, epochs = (200, 200, min(args.epochs, 60)) if args.quick else (800, 1000, args.epochs)
    X_train, labels_train, X_test, labels_test = load_data(n_train, n_test, seed=args.seed, dtype=dtype)
    model = build_model(hidden=args.hidden, seed=args.seed, dtype=dtype)
    targets = labels_train[:, None].astype(X_train.dtype)
    history = train(model, X_train, targets, epochs=epochs, lr=args.lr, batch_size=args.batch_size, seed=args.seed)

    train_acc, test_acc = accuracy(model, X_train, labels_train), accuracy(model, X_test, labels_test)
    print(f"manual_backprop: XOR train acc {train_acc:.3f} test acc {test_acc:.3f} "
          f"(MSE {history[0]:.4f} -> {history[-1]:.4f} in {epochs} epochs)")

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    axes[0].plot(range(1, len(history) + 1), history)
    axes[0].set(title="training loss (MSE), hand-written backward", xlabel="epoch")
    plot_decision_boundary(axes[1], lambda pts: model.forward(pts.astype(dtype))[:, 0] > 0.5, X_test, labels_test,
                           f"NumPy-only network: test acc {test_acc:.3f}")
    save(fig, args.out, "manual_backprop.png")
    return {"train_acc": train_acc, "test_acc": test_acc, "first_loss": history[0], "final_loss": history[-1]}


if __name__ == "__main__":
    main()
