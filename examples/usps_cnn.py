"""USPS digits with a 2-D convolutional network (two Conv2d + MaxPool2d blocks, then an MLP).

    python examples/usps_cnn.py            # full run (4 epochs over the 5x augmented training set)
    python examples/usps_cnn.py --quick    # a few seconds, for the tests

The images stay 16x16 with one channel: 16 filters of 5x5, pooling to 8x8, 32 filters of 3x3,
pooling to 4x4, then dropout and two Linear layers. The training set is augmented with copies of
each image shifted by one pixel. Swap the import for `torch` and it runs there too.
"""

import common
import numpy as np
import usps_common

import tinygradnn as torch
from tinygradnn import nn
from tinygradnn.utils.data import DataLoader, TensorDataset


def main(argv=None) -> dict:
    args = common.parser(__doc__, epochs=4, lr=2e-3).parse_args(argv)
    if args.quick:
        args.epochs = 1
    torch.manual_seed(args.seed)

    x_train, y_train, x_test, y_test = common.usps(quick=args.quick)
    x_aug, y_aug = usps_common.with_shifted_copies(x_train, y_train)  # + copies shifted by one pixel
    # (N, 256) -> (N, channels=1, height=16, width=16)
    x_aug, x_train, x_test = (torch.from_numpy(x.reshape(-1, 1, 16, 16)) for x in (x_aug, x_train, x_test))
    y_aug, y_train, y_test = (torch.from_numpy(y) for y in (y_aug, y_train, y_test))
    loader = DataLoader(TensorDataset(x_aug, y_aug), batch_size=args.batch_size, shuffle=True)

    model = nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 8 x 8
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 4 x 4
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    losses = common.train(model, loader, nn.CrossEntropyLoss(), optimizer, args.epochs, "usps_cnn",
                          scheduler=scheduler)

    train_acc, test_acc = common.accuracy(model, x_train, y_train), common.accuracy(model, x_test, y_test)
    print(f"usps_cnn: train acc {train_acc:.3f} test acc {test_acc:.3f}")

    # The 16 first-layer 5x5 filters (red positive, blue negative) ...
    filters = model[0].weight.detach().numpy()[:, 0]  # (16, 5, 5)
    usps_common.plot_images(args.out, "usps_cnn_filters.png", filters, cols=8, cmap="RdBu_r", symmetric=True,
                            title="first-layer Conv2d filters (5x5)")
    # ... and the test digits it gets wrong, captioned "true -> predicted".
    predicted = common.predict(model, x_test).argmax(1)
    wrong = np.flatnonzero(predicted != y_test.numpy())
    usps_common.plot_images(args.out, "usps_cnn_errors.png", x_test.numpy()[wrong[:40], 0],
                            [f"{t} -> {p}" for t, p in zip(y_test.numpy()[wrong], predicted[wrong])],
                            title=f"{len(wrong)} of {len(predicted)} test digits wrong (first 40, true -> predicted)")
    return {"train_acc": train_acc, "test_acc": test_acc, "final_loss": losses[-1], "test_errors": len(wrong)}


if __name__ == "__main__":
    main()
