""""What is torch.nn really?" in miniature: logistic regression from raw tensors (hand-written
``log_softmax`` and ``nll``, updates under ``no_grad`` then ``grad.zero_()``), then a CNN built with
``nn.Sequential`` around ``Lambda`` modules, ``nn.AdaptiveAvgPool2d(1)``, ``TensorDataset``/``DataLoader``
and ``SGD(momentum=0.9)``, validated with ``model.eval()`` under ``no_grad``."""

import math

import numpy as np

from ._common import digits, main, seeded_init_


def run(torch, steps=40, dtype=None):
    nn, F = torch.nn, torch.nn.functional
    dtype = dtype or torch.float32
    torch.manual_seed(0)
    x_train, y_train, x_valid, y_valid = digits(n_train=1024, n_test=256)
    x_train, y_train, x_valid, y_valid = (torch.tensor(x_train.reshape(len(x_train), -1), dtype=dtype),
                                          torch.tensor(y_train), torch.tensor(x_valid.reshape(len(x_valid), -1),
                                                                              dtype=dtype), torch.tensor(y_valid))
    n, c = x_train.shape

    # 1. from scratch: raw tensors and hand-written log_softmax / negative log-likelihood
    rng = np.random.default_rng(0)
    weights = torch.tensor(rng.standard_normal((c, 10)), dtype=dtype) / math.sqrt(c)
    weights.requires_grad_()
    bias = torch.zeros(10, dtype=dtype, requires_grad=True)

    def log_softmax(x):
        return x - x.exp().sum(-1).log().unsqueeze(-1)

    def model(xb):
        return log_softmax(xb @ weights + bias)

    def nll(input, target):
        return -input[range(target.shape[0]), target].mean()

    bs, lr = 64, 0.5
    scratch_losses = []
    for i in range((n - 1) // bs + 1):
        xb, yb = x_train[i * bs:i * bs + bs], y_train[i * bs:i * bs + bs]
        loss = nll(model(xb), yb)
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
        scratch_losses.append(loss.item())
    scratch_accuracy = (torch.argmax(model(x_valid), dim=1) == y_valid).float().mean().item()

    # 2. the same data through nn.Sequential, DataLoader and an optimizer
    class Lambda(nn.Module):
        def __init__(self, func):
            super().__init__()
            self.func = func

        def forward(self, x):
            return self.func(x)

    def preprocess(x):
        return x.view(-1, 1, 8, 8)

    model = nn.Sequential(
        Lambda(preprocess),
        nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, stride=1, padding=1), nn.ReLU(),
        nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        Lambda(lambda x: x.view(x.size(0), -1)),
    )
    seeded_init_(torch, model).to(dtype)
    opt = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
    train_dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_train, y_train), batch_size=bs)
    valid_dl = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_valid, y_valid), batch_size=bs * 2)

    def loss_batch(model, loss_func, xb, yb, opt=None):
        loss = loss_func(model(xb), yb)
        if opt is not None:
            loss.backward()
            opt.step()
            opt.zero_grad()
        return loss.item(), len(xb)

    losses = []
    while len(losses) < steps:
        model.train()
        for xb, yb in train_dl:
            losses.append(loss_batch(model, F.cross_entropy, xb, yb, opt)[0])
            if len(losses) == steps:
                break
    model.eval()
    with torch.no_grad():
        batch_losses, nums = zip(*[loss_batch(model, F.cross_entropy, xb, yb) for xb, yb in valid_dl])
        accuracy = sum((model(xb).argmax(dim=1) == yb).float().sum().item() for xb, yb in valid_dl)
    valid_loss = np.sum(np.multiply(batch_losses, nums)) / np.sum(nums)
    return {"losses": losses, "scratch_losses": scratch_losses, "scratch_accuracy": 100.0 * scratch_accuracy,
            "valid_loss": float(valid_loss), "accuracy": 100.0 * accuracy / len(y_valid)}


if __name__ == "__main__":
    main(run)
