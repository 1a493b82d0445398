"""The main demo: a small CNN on scikit-learn's bundled 8x8 digits, in under a minute on 2 cores.

    python examples/demo.py            # full run (about 20 epochs)
    python examples/demo.py --quick    # a few seconds, for the tests

Written exactly as a PyTorch script would be: swap the import for `torch` and it runs there too.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from tqdm import tqdm

import tinygradnn as torch
from tinygradnn import nn
from tinygradnn.data import DataLoader, TensorDataset
from tinygradnn.datasets import load_digits


def make_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 2 x 2
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10),
    )


@torch.no_grad()
def accuracy(model, x, y) -> float:
    model.eval()
    return (model(x).argmax(1) == y).float().mean().item()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="figures")
    p.add_argument("--quick", action="store_true", help="2 epochs, for a smoke test")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs = 2

    torch.manual_seed(args.seed)
    x_tr, y_tr, x_te, y_te = load_digits()
    x_tr, x_te = (torch.from_numpy(a.reshape(-1, 1, 8, 8)) for a in (x_tr, x_te))
    y_tr, y_te = torch.from_numpy(y_tr), torch.from_numpy(y_te)
    loader = DataLoader(TensorDataset(x_tr, y_tr), batch_size=args.batch_size, shuffle=True)

    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for _ in (bar := tqdm(range(args.epochs), desc="demo CNN", unit="epoch")):
        model.train()
        total = 0.0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        scheduler.step()
        history.append((total / len(x_tr), accuracy(model, x_te, y_te)))
        bar.set_postfix(loss=f"{history[-1][0]:.3f}", test_acc=f"{history[-1][1]:.3f}")

    train_acc, test_acc = accuracy(model, x_tr, y_tr), accuracy(model, x_te, y_te)
    print(f"demo: CNN on scikit-learn digits, train acc {train_acc:.3f} test acc {test_acc:.3f}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    losses, accs = zip(*history)
    axes[0].plot(range(1, len(losses) + 1), losses, label="train loss")
    axes[0].plot(range(1, len(accs) + 1), accs, label="test accuracy")
    axes[0].set_xlabel("epoch")
    axes[0].legend()
    with torch.no_grad():
        pred = model(x_te).argmax(1).numpy()
    cm = np.zeros((10, 10), int)
    np.add.at(cm, (y_te.numpy(), pred), 1)
    axes[1].imshow(cm, cmap="Blues")
    axes[1].set(title="confusion matrix (test)", xlabel="predicted", ylabel="true")
    fig.tight_layout()
    fig.savefig(out / "demo.png", dpi=90)
    print(f"saved {out / 'demo.png'}")
    return {"train_acc": train_acc, "test_acc": test_acc}


if __name__ == "__main__":
    main()
