"""Four classes: softmax regression (one Linear layer, CrossEntropyLoss on the logits) on four Gaussians.

    python examples/four_gaussians.py            # full run
    python examples/four_gaussians.py --quick    # a few seconds, for the tests

One Gaussian per quadrant, one class each. The model outputs 4 logits; ``nn.CrossEntropyLoss``
applies the softmax itself (log-softmax + negative log-likelihood), so the model has no Softmax
layer, exactly as in PyTorch. The predicted class is the argmax of the logits.
"""

import matplotlib.pyplot as plt
from common import accuracy, parser, plot_decision_boundary, predict, save, train

import tinygradnn as torch
from tinygradnn import nn
from tinygradnn.data import DataLoader, TensorDataset
from tinygradnn.datasets import four_gaussians


def main(argv=None) -> dict:
    args = parser(__doc__, epochs=30, lr=0.1, batch_size=32).parse_args(argv)
    if args.quick:
        args.epochs = 5

    torch.manual_seed(args.seed)
    x_train, y_train = four_gaussians(800, seed=args.seed)
    x_test, y_test = four_gaussians(1000, seed=args.seed + 1)
    # CrossEntropyLoss takes integer class labels (int64), not one-hot vectors.
    loader = DataLoader(TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train)),
                        batch_size=args.batch_size, shuffle=True)

    model = nn.Linear(2, 4)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    history = train(model, loader, nn.CrossEntropyLoss(), opt, args.epochs, "four Gaussians")

    train_acc = accuracy(model, torch.from_numpy(x_train), y_train)
    test_acc = accuracy(model, torch.from_numpy(x_test), y_test)
    print(f"four_gaussians: train acc {train_acc:.3f} test acc {test_acc:.3f}")

    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    plot_decision_boundary(axes[0], lambda pts: predict(model, torch.from_numpy(pts)).argmax(1), x_test, y_test,
                           f"softmax regression: test acc {test_acc:.3f}")
    axes[1].plot(range(1, len(history) + 1), history)
    axes[1].set(title="training loss (cross-entropy)", xlabel="epoch")
    save(fig, args.out, "four_gaussians.png")
    return {"train_acc": train_acc, "test_acc": test_acc, "final_loss": history[-1]}


if __name__ == "__main__":
    main()
