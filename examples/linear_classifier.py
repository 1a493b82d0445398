"""A linear classifier: one Linear layer and BCEWithLogitsLoss on two separable Gaussian blobs.

    python examples/linear_classifier.py            # full run
    python examples/linear_classifier.py --quick    # a few seconds, for the tests

The model outputs one logit per point; class 1 when the logit is positive. Its decision boundary,
where ``w . x + b = 0``, is a straight line, which is all two well-separated blobs need.
"""

import matplotlib.pyplot as plt
from common import accuracy, parser, plot_decision_boundary, predict, save, train

import tinygradnn as torch
from tinygradnn import nn
from tinygradnn.data import DataLoader, TensorDataset
from tinygradnn.datasets import two_blobs


def main(argv=None) -> dict:
    p = parser(__doc__, epochs=20, lr=0.1, batch_size=32)
    p.add_argument("--noise", type=float, default=0.3, help="std of each blob (about 0.5 and up, they touch)")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs = 5

    torch.manual_seed(args.seed)
    x_train, y_train = two_blobs(400, noise=args.noise, seed=args.seed)
    x_test, y_test = two_blobs(400, noise=args.noise, seed=args.seed + 1)
    # BCEWithLogitsLoss wants float targets with the same shape as the logits: (n, 1).
    targets = torch.from_numpy(y_train[:, None].astype("float32"))
    loader = DataLoader(TensorDataset(torch.from_numpy(x_train), targets), batch_size=args.batch_size, shuffle=True)

    model = nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    history = train(model, loader, nn.BCEWithLogitsLoss(), opt, args.epochs, "linear classifier")

    train_acc = accuracy(model, torch.from_numpy(x_train), y_train)
    test_acc = accuracy(model, torch.from_numpy(x_test), y_test)
    print(f"linear_classifier: train acc {train_acc:.3f} test acc {test_acc:.3f}")

    fig, ax = plt.subplots(figsize=(4.5, 4))
    plot_decision_boundary(ax, lambda pts: predict(model, torch.from_numpy(pts))[:, 0] > 0, x_test, y_test,
                           f"one Linear layer: test acc {test_acc:.3f}")
    save(fig, args.out, "linear_classifier.png")
    return {"train_acc": train_acc, "test_acc": test_acc, "final_loss": history[-1]}


if __name__ == "__main__":
    main()
