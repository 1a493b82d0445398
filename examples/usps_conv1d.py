"""USPS digits with a 1-D convolutional network: each image is a 16-channel signal of length 16.

    python examples/usps_conv1d.py            # full run (6 epochs over the 5x augmented training set)
    python examples/usps_conv1d.py --quick    # a few seconds, for the tests

Conv1d slides along one axis. We read an image from left to right: the 16 pixel rows are the 16
input channels and the 16 columns are the positions, so one filter of width 3 covers a 16x3
vertical strip (the whole height) and slides horizontally. Flattening the image into one 256-long
channel also works, but a width-3 filter then sees only 3 neighbours within a row (the pixels above
and below are 16 samples away); it gets about the same accuracy, 4x slower.
Swap the import for `torch` and it runs there too.
"""

import common
import usps_common

import tinygradnn as torch
from tinygradnn import nn
from tinygradnn.utils.data import DataLoader, TensorDataset


def main(argv=None) -> dict:
    args = common.parser(__doc__, epochs=6, lr=2e-3).parse_args(argv)
    if args.quick:
        args.epochs = 2
    torch.manual_seed(args.seed)

    x_train, y_train, x_test, y_test = common.usps(quick=args.quick)
    x_aug, y_aug = usps_common.with_shifted_copies(x_train, y_train)  # + copies shifted by one pixel
    # (N, 256) -> (N, channels=16 rows, length=16 columns)
    x_aug, x_train, x_test = (torch.from_numpy(x.reshape(-1, 16, 16)) for x in (x_aug, x_train, x_test))
    y_aug, y_train, y_test = (torch.from_numpy(y) for y in (y_aug, y_train, y_test))
    loader = DataLoader(TensorDataset(x_aug, y_aug), batch_size=args.batch_size, shuffle=True)

    model = nn.Sequential(
        nn.Conv1d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool1d(2),  # 32 x 8
        nn.Conv1d(32, 64, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool1d(2),  # 64 x 4
        nn.Flatten(), nn.Linear(64 * 4, 64), nn.ReLU(), nn.Linear(64, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    losses = common.train(model, loader, nn.CrossEntropyLoss(), optimizer, args.epochs, "usps_conv1d",
                          scheduler=scheduler)

    train_acc, test_acc = common.accuracy(model, x_train, y_train), common.accuracy(model, x_test, y_test)
    print(f"usps_conv1d: train acc {train_acc:.3f} test acc {test_acc:.3f}")

    # The 32 first-layer filters, each a (16 rows x 3 columns) strip: red is positive, blue negative.
    filters = model[0].weight.detach().numpy()  # (out=32, in=16, width=3)
    usps_common.plot_images(args.out, "usps_conv1d_filters.png", filters, cols=16, cmap="RdBu_r", symmetric=True,
                            title="first-layer Conv1d filters (16 rows x 3 columns each)")
    return {"train_acc": train_acc, "test_acc": test_acc, "final_loss": losses[-1]}


if __name__ == "__main__":
    main()
