"""USPS handwritten digits with a multi-layer perceptron and softmax cross-entropy.

    python examples/usps_mlp.py            # full run (10 epochs over the 5x augmented training set)
    python examples/usps_mlp.py --quick    # a few seconds, for the tests

The 16x16 images are flattened to 256 inputs; two ReLU hidden layers (256, 128) with dropout feed
10 logits, trained with SGD + momentum on the cross-entropy loss. The training set is augmented with
copies of each image shifted by one pixel, which an MLP (no built-in translation invariance) needs.
Swap the import for `torch` and it runs there too.
"""

import common
import usps_common

import tinygradnn as torch
from tinygradnn import nn
from tinygradnn.utils.data import DataLoader, TensorDataset


def main(argv=None) -> dict:
    args = common.parser(__doc__, epochs=10, lr=0.05).parse_args(argv)
    if args.quick:
        args.epochs = 2
    torch.manual_seed(args.seed)

    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in common.usps(quick=args.quick))
    x_aug, y_aug = (torch.from_numpy(a) for a in usps_common.with_shifted_copies(x_train, y_train))
    loader = DataLoader(TensorDataset(x_aug, y_aug), batch_size=args.batch_size, shuffle=True)

    model = nn.Sequential(
        nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(128, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    train_acc, test_acc = [], []

    def evaluate(epoch):  # after each epoch: accuracy on the original (not augmented) images
        train_acc.append(common.accuracy(model, x_train, y_train))
        test_acc.append(common.accuracy(model, x_test, y_test))

    losses = common.train(model, loader, nn.CrossEntropyLoss(), optimizer, args.epochs, "usps_mlp",
                          scheduler=scheduler, on_epoch=evaluate)
    print(f"usps_mlp: train acc {train_acc[-1]:.3f} test acc {test_acc[-1]:.3f}")

    predicted = common.predict(model, x_test).argmax(1)
    usps_common.plot_curves(args.out, "usps_mlp_curves.png", losses, train_acc, test_acc, "USPS MLP")
    usps_common.plot_confusion(args.out, "usps_mlp_confusion.png", y_test.numpy(), predicted,
                               f"USPS MLP, test set (accuracy {test_acc[-1]:.3f})")
    return {"train_acc": train_acc[-1], "test_acc": test_acc[-1], "final_loss": losses[-1]}


if __name__ == "__main__":
    main()
