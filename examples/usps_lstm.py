"""USPS digits read as a sequence: an LSTM sees one 16-pixel row at a time, top to bottom.

    python examples/usps_lstm.py            # full run (8 epochs over the 5x augmented training set)
    python examples/usps_lstm.py --quick    # a few seconds, for the tests

A recurrent network keeps a state that it updates once per step; here the steps are the 16 rows of an
image, so after the last row the state has seen the whole digit and a linear layer reads the class
from it. Unlike a convolution, nothing in the model says that neighbouring pixels belong together:
the LSTM has to learn what to remember from row to row.
Swap the import for `torch` and it runs there too.
"""

import common
import numpy as np
import usps_common

import tinygradnn as torch
from tinygradnn import nn
from tinygradnn.utils.data import DataLoader, TensorDataset


class RowReader(nn.Module):
    """An LSTM over the rows of an image, then a linear layer on its last hidden state."""

    def __init__(self, hidden: int = 128):
        super().__init__()
        self.lstm = nn.LSTM(input_size=16, hidden_size=hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):  # x: (N, 16 rows, 16 pixels)
        outputs, (h_n, c_n) = self.lstm(x)  # outputs: (N, 16, hidden), the state after each row
        return self.head(h_n[-1])  # h_n: (layers, N, hidden); the last layer's state after the last row


def main(argv=None) -> dict:
    args = common.parser(__doc__, epochs=8, lr=3e-3).parse_args(argv)
    if args.quick:
        args.epochs = 2
    torch.manual_seed(args.seed)

    x_train, y_train, x_test, y_test = common.usps(quick=args.quick)
    x_aug, y_aug = usps_common.with_shifted_copies(x_train, y_train)  # + copies shifted by one pixel
    # (N, 256) -> (N, 16 steps, 16 features): row r of the image is step r of the sequence
    x_aug, x_train, x_test = (torch.from_numpy(x.reshape(-1, 16, 16)) for x in (x_aug, x_train, x_test))
    y_aug, y_train, y_test = (torch.from_numpy(y) for y in (y_aug, y_train, y_test))
    loader = DataLoader(TensorDataset(x_aug, y_aug), batch_size=args.batch_size, shuffle=True)

    model = RowReader()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    losses = common.train(model, loader, nn.CrossEntropyLoss(), optimizer, args.epochs, "usps_lstm",
                          scheduler=scheduler)

    train_acc, test_acc = common.accuracy(model, x_train, y_train), common.accuracy(model, x_test, y_test)
    print(f"usps_lstm: train acc {train_acc:.3f} test acc {test_acc:.3f}")

    # How the prediction forms row by row: the head applied to the state after each row, one test digit per class.
    labels = y_test.numpy()
    first = [int(np.flatnonzero(labels == c)[0]) for c in range(10)]
    with torch.no_grad():
        model.eval()
        states, _ = model.lstm(x_test[first])  # (10, 16 rows, hidden)
        probs = model.head(states).softmax(-1).numpy()  # (10, 16 rows, 10 classes)
    usps_common.plot_row_by_row(args.out, "usps_lstm_rows.png", x_test[first].numpy(), probs, labels[first])
    return {"train_acc": train_acc, "test_acc": test_acc, "final_loss": losses[-1]}


if __name__ == "__main__":
    main()
