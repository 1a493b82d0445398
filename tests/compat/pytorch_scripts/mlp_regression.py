"""An MLP regression on synthetic data: ``TensorDataset`` + ``DataLoader``, ``nn.Sequential``, ``nn.MSELoss``,
Adam with per-parameter-group options (no weight decay on biases) and a MultiStepLR schedule."""

import numpy as np

from ._common import main, seeded_init_


def make_data(n=600, n_features=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features))
    w = rng.normal(size=n_features)
    y = np.sin(x @ w / 2) + 0.1 * x[:, 0] ** 2 + 0.05 * rng.normal(size=n)
    return x, y


def run(torch, steps=60, dtype=None):
    nn = torch.nn
    dtype = dtype or torch.float32
    torch.manual_seed(0)

    x, y = make_data()
    x_train, y_train = torch.tensor(x[:500], dtype=dtype), torch.tensor(y[:500], dtype=dtype).unsqueeze(1)
    x_val, y_val = torch.tensor(x[500:], dtype=dtype), torch.tensor(y[500:], dtype=dtype).view(-1, 1)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_train, y_train), batch_size=50)

    model = nn.Sequential(
        nn.Linear(8, 64),
        nn.Tanh(),
        nn.Linear(64, 64),
        nn.ReLU(),
        nn.Linear(64, 1),
    )
    seeded_init_(torch, model)
    model.to(dtype)
    decay = [p for name, p in model.named_parameters() if name.endswith("weight")]
    no_decay = [p for name, p in model.named_parameters() if name.endswith("bias")]
    optimizer = torch.optim.Adam([
        {"params": decay, "weight_decay": 1e-3},
        {"params": no_decay, "weight_decay": 0.0, "lr": 5e-3},
    ], lr=1e-2)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[3, 5], gamma=0.5)
    criterion = nn.MSELoss()

    losses, lrs = [], []
    while len(losses) < steps:
        model.train()
        for xb, yb in loader:
            pred = model(xb)
            loss = criterion(pred, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
        scheduler.step()
        lrs.append([group["lr"] for group in optimizer.param_groups])

    model.eval()
    with torch.no_grad():
        pred = model(x_val)
        val_mse = criterion(pred, y_val).item()
        r2 = 1 - ((pred - y_val) ** 2).sum() / ((y_val - y_val.mean()) ** 2).sum()
    return {"losses": losses, "val_mse": val_mse, "r2": r2.item(), "lrs": lrs}


if __name__ == "__main__":
    main(run)
