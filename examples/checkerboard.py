"""A hyper-parameter grid for an MLP on a 4x4 checkerboard: iterations x batch sizes x learning rates.

    python examples/checkerboard.py            # full 3 x 3 x 3 grid (about a minute on 2 cores)
    python examples/checkerboard.py --quick    # a 2 x 2 x 1 grid of a few hundred steps, for the tests

Each (batch size, learning rate) pair trains one MLP with Adam; the "iterations" axis is read off
that same run at checkpoints. Every cell is scored on a validation set; the best cell's model is
then scored once on a separate test set, so the reported test accuracy is not picked by the test set.
"""

import copy

import matplotlib.pyplot as plt
import numpy as np
from common import accuracy, parser, plot_decision_boundary, predict, save
from tqdm import tqdm

import tinygradnn as torch
from tinygradnn import nn
from tinygradnn.data import DataLoader, TensorDataset
from tinygradnn.datasets import checkerboard


def make_model(hidden: int) -> nn.Module:
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def batches(loader):
    """Endless minibatches: a new shuffled epoch each time the loader runs out."""
    while True:
        yield from loader


def main(argv=None) -> dict:
    p = parser(__doc__, epochs=0, lr=0.0)  # the grid below replaces --epochs, --lr and --batch-size
    p.add_argument("--iterations", type=int, nargs="+", default=[250, 1000, 2000])
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 128, 512])
    p.add_argument("--lrs", type=float, nargs="+", default=[0.003, 0.01, 0.03])
    p.add_argument("--hidden", type=int, default=64)
    args = p.parse_args(argv)
    if args.quick:
        args.iterations, args.batch_sizes, args.lrs = [100, 300], [64, 256], [0.01]

    torch.manual_seed(args.seed)
    x_train, y_train = checkerboard(2000, seed=args.seed)
    x_val, y_val = checkerboard(1000, seed=args.seed + 1)
    x_test, y_test = checkerboard(1000, seed=args.seed + 2)
    dataset = TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))

    iterations, batch_sizes, lrs = sorted(args.iterations), args.batch_sizes, args.lrs
    grid = np.zeros((len(iterations), len(batch_sizes), len(lrs)))  # validation accuracy of every cell
    best_acc, best_model, best_cell = -1.0, None, None
    runs = [(b, l) for b in range(len(batch_sizes)) for l in range(len(lrs))]
    for b, l in (bar := tqdm(runs, desc="checkerboard grid", unit="run", leave=False)):
        torch.manual_seed(args.seed)  # every run starts from the same weights
        model = make_model(args.hidden)
        opt = torch.optim.Adam(model.parameters(), lr=lrs[l])
        loss_fn = nn.CrossEntropyLoss()
        loader = DataLoader(dataset, batch_size=batch_sizes[b], shuffle=True, drop_last=True)
        for step, (xb, yb) in zip(range(1, iterations[-1] + 1), batches(loader)):
            model.train()
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step in iterations:
                i = iterations.index(step)
                grid[i, b, l] = accuracy(model, torch.from_numpy(x_val), y_val)
                if grid[i, b, l] > best_acc:
                    best_acc, best_model, best_cell = grid[i, b, l], copy.deepcopy(model), (i, b, l)
        bar.set_postfix(batch=batch_sizes[b], lr=lrs[l], val_acc=f"{grid[-1, b, l]:.3f}")

    print("| iterations | batch size | " + " | ".join(f"lr {lr:g}" for lr in lrs) + " |")
    print("|---:|---:|" + "---:|" * len(lrs))
    for i, it in enumerate(iterations):
        for b, bs in enumerate(batch_sizes):
            print(f"| {it} | {bs} | " + " | ".join(f"{a:.3f}" for a in grid[i, b]) + " |")

    i, b, l = best_cell
    train_acc = accuracy(best_model, torch.from_numpy(x_train), y_train)
    test_acc = accuracy(best_model, torch.from_numpy(x_test), y_test)
    print(f"checkerboard: best {iterations[i]} iterations, batch size {batch_sizes[b]}, lr {lrs[l]:g}: "
          f"train acc {train_acc:.3f} val acc {best_acc:.3f} test acc {test_acc:.3f}")

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    best_over_lr = grid.max(axis=2)
    im = axes[0].imshow(best_over_lr, cmap="viridis", vmin=0.5, vmax=1.0)
    for (r, c), acc in np.ndenumerate(best_over_lr):
        axes[0].text(c, r, f"{acc:.3f}", ha="center", va="center", color="w" if acc < 0.85 else "k")
    axes[0].set(xticks=range(len(batch_sizes)), xticklabels=batch_sizes, xlabel="batch size",
                yticks=range(len(iterations)), yticklabels=iterations, ylabel="iterations",
                title="validation accuracy (best over learning rates)")
    fig.colorbar(im, ax=axes[0])
    plot_decision_boundary(axes[1], lambda pts: predict(best_model, torch.from_numpy(pts)).argmax(1), x_test, y_test,
                           f"best model: test acc {test_acc:.3f}")
    save(fig, args.out, "checkerboard.png")
    return {"train_acc": train_acc, "val_acc": float(best_acc), "test_acc": test_acc, "grid": grid.tolist(),
            "best": {"iterations": iterations[i], "batch_size": batch_sizes[b], "lr": lrs[l]}}


if __name__ == "__main__":
    main()
