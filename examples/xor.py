"""XOR: a single Linear layer cannot separate it, two layers with a tanh in between can.

    python examples/xor.py            # full run
    python examples/xor.py --quick    # a few seconds, for the tests

Both models end in a Sigmoid and are trained with BCELoss on the same data. Points of class 0
sit around (1, 1) and (-1, -1), points of class 1 around (1, -1) and (-1, 1): no straight line
splits them, so the linear model stays near chance (0.5) whatever it does.
"""

import matplotlib.pyplot as plt
from common import parser, plot_decision_boundary, predict, save, train

import tinygradnn as torch
from tinygradnn import nn
from tinygradnn.data import DataLoader, TensorDataset
from tinygradnn.datasets import xor_data


def accuracy(model, x, y) -> float:
    """The models output a probability: class 1 when it is above 0.5."""
    return float(((predict(model, torch.from_numpy(x))[:, 0] > 0.5) == y).mean())


def main(argv=None) -> dict:
    p = parser(__doc__, epochs=50, lr=0.5, batch_size=32)
    p.add_argument("--hidden", type=int, default=8, help="tanh units of the two-layer model")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs = 10

    torch.manual_seed(args.seed)
    x_train, y_train = xor_data(800, seed=args.seed)
    x_test, y_test = xor_data(1000, seed=args.seed + 1)
    targets = torch.from_numpy(y_train[:, None].astype("float32"))  # BCELoss: float targets shaped like the output
    loader = DataLoader(TensorDataset(torch.from_numpy(x_train), targets), batch_size=args.batch_size, shuffle=True)

    models = {
        "linear": nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()),
        "two layers": nn.Sequential(nn.Linear(2, args.hidden), nn.Tanh(), nn.Linear(args.hidden, 1), nn.Sigmoid()),
    }
    results = {}
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, (name, model) in zip(axes, models.items()):
        opt = torch.optim.SGD(model.parameters(), lr=args.lr)
        history = train(model, loader, nn.BCELoss(), opt, args.epochs, f"XOR, {name}")
        results[name] = (accuracy(model, x_train, y_train), accuracy(model, x_test, y_test), history[-1])
        plot_decision_boundary(ax, lambda pts, m=model: predict(m, torch.from_numpy(pts))[:, 0] > 0.5,
                               x_test, y_test, f"{name}: test acc {results[name][1]:.3f}")

    (lin_train, lin_test, _), (mlp_train, mlp_test, _) = results.values()
    print(f"xor: linear train acc {lin_train:.3f} test acc {lin_test:.3f} | "
          f"two layers train acc {mlp_train:.3f} test acc {mlp_test:.3f}")
    save(fig, args.out, "xor.png")
    return {"linear_train_acc": lin_train, "linear_test_acc": lin_test,
            "two_layer_train_acc": mlp_train, "two_layer_test_acc": mlp_test}


if __name__ == "__main__":
    main()
