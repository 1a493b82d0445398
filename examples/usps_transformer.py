"""USPS digits read as a set of rows: a small transformer encoder lets every row attend to every other row.

    python examples/usps_transformer.py            # full run (6 epochs over the 5x augmented training set)
    python examples/usps_transformer.py --quick    # a few seconds, for the tests

Each image is a sequence of 16 tokens, its rows of 16 pixels. A linear layer embeds each row, a learned
positional embedding says which row it is, and self-attention mixes the rows: every row's new value is a
weighted average over all rows, with weights the model computes from the rows themselves. The mean over
the 16 tokens then goes to a linear classifier.
Swap the import for `torch` and it runs there too.
"""

import common
import numpy as np
import usps_common

import tinygradnn as torch
from tinygradnn import nn
from tinygradnn.utils.data import DataLoader, TensorDataset


class RowTransformer(nn.Module):
    """Row embedding + positional embedding, a transformer encoder, the mean over rows, a linear layer."""

    def __init__(self, d: int = 64, heads: int = 4, layers: int = 2, feedforward: int = 128, dropout: float = 0.1):
        super().__init__()
        self.embed = nn.Linear(16, d)  # one 16-pixel row -> one d-dimensional token
        self.position = nn.Parameter(torch.randn(16, d) * 0.02)  # learned: one vector per row index
        layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=feedforward, dropout=dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d))
        self.head = nn.Linear(d, 10)

    def tokens(self, x):  # x: (N, 16 rows, 16 pixels) -> (N, 16 tokens, d)
        return self.embed(x) + self.position

    def forward(self, x):
        return self.head(self.encoder(self.tokens(x)).mean(1))  # mean over the 16 tokens


def main(argv=None) -> dict:
    args = common.parser(__doc__, epochs=6, lr=2e-3).parse_args(argv)
    if args.quick:
        args.epochs = 2
    torch.manual_seed(args.seed)

    x_train, y_train, x_test, y_test = common.usps(quick=args.quick)
    x_aug, y_aug = usps_common.with_shifted_copies(x_train, y_train)  # + copies shifted by one pixel
    # (N, 256) -> (N, 16 tokens, 16 features): row r of the image is token r
    x_aug, x_train, x_test = (torch.from_numpy(x.reshape(-1, 16, 16)) for x in (x_aug, x_train, x_test))
    y_aug, y_train, y_test = (torch.from_numpy(y) for y in (y_aug, y_train, y_test))
    loader = DataLoader(TensorDataset(x_aug, y_aug), batch_size=args.batch_size, shuffle=True)

    model = RowTransformer()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    losses = common.train(model, loader, nn.CrossEntropyLoss(), optimizer, args.epochs, "usps_transformer",
                          scheduler=scheduler)

    train_acc, test_acc = common.accuracy(model, x_train, y_train), common.accuracy(model, x_test, y_test)
    print(f"usps_transformer: train acc {train_acc:.3f} test acc {test_acc:.3f}")

    # Where each row looks: the first layer's attention weights (averaged over heads), one test digit per class.
    labels = y_test.numpy()
    first = [int(np.flatnonzero(labels == c)[0]) for c in range(10)]
    with torch.no_grad():
        model.eval()
        layer = model.encoder.layers[0]
        h = layer.norm1(model.tokens(x_test[first]))  # norm_first: the attention sees the normalised tokens
        _, weights = layer.self_attn(h, h, h, need_weights=True)  # (10, 16 queries, 16 keys)
    usps_common.plot_attention(args.out, "usps_transformer_attention.png", x_test[first].numpy(),
                               weights.numpy(), labels[first])
    return {"train_acc": train_acc, "test_acc": test_acc, "final_loss": losses[-1]}


if __name__ == "__main__":
    main()
