"""Variable-length sequences through a ``DataLoader`` with a padding ``collate_fn``: a Dataset of dicts
(NumPy token arrays, int labels), ``nn.Embedding`` with ``padding_idx``, a masked mean over time
(``masked_fill``), a fixed sample order passed as ``sampler``, and ``default_collate`` on the same dicts."""

import numpy as np

from ._common import main, seeded_init_

VOCAB, PAD = 12, 0


def make_sequences(n=400, seed=0):
    """Token sequences of length 3-12; the label says whether token 1 occurs more often than token 2."""
    rng = np.random.default_rng(seed)
    sequences, labels = [], []
    for _ in range(n):
        seq = rng.integers(1, VOCAB, size=rng.integers(3, 13))
        sequences.append(seq)
        labels.append(int((seq == 1).sum() > (seq == 2).sum()))
    return sequences, labels


def run(torch, steps=40, dtype=None):
    nn = torch.nn
    dtype = dtype or torch.float32
    torch.manual_seed(0)

    class SequenceDataset(torch.utils.data.Dataset):
        def __init__(self, sequences, labels):
            self.sequences, self.labels = sequences, labels

        def __len__(self):
            return len(self.sequences)

        def __getitem__(self, idx):
            return {"tokens": self.sequences[idx], "label": self.labels[idx]}

    def pad_collate(batch):
        lengths = [len(sample["tokens"]) for sample in batch]
        tokens = torch.full((len(batch), max(lengths)), PAD, dtype=torch.long)
        for i, sample in enumerate(batch):
            tokens[i, :lengths[i]] = torch.from_numpy(sample["tokens"])
        labels = torch.tensor([sample["label"] for sample in batch])
        return tokens, tokens != PAD, labels

    class BagOfEmbeddings(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, 16, padding_idx=PAD)
            self.classifier = nn.Sequential(nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))

        def forward(self, tokens, mask):
            embedded = self.embedding(tokens).masked_fill(~mask.unsqueeze(-1), 0.0)
            mean = embedded.sum(dim=1) / mask.sum(dim=1, keepdim=True).to(embedded.dtype)
            return self.classifier(mean)

    sequences, labels = make_sequences()
    train_set = SequenceDataset(sequences[:300], labels[:300])
    test_set = SequenceDataset(sequences[300:], labels[300:])
    order = np.random.default_rng(1).permutation(len(train_set)).tolist()  # a fixed "shuffle"
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=20, sampler=order, collate_fn=pad_collate)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=50, collate_fn=pad_collate)

    model = BagOfEmbeddings()
    seeded_init_(torch, model)
    with torch.no_grad():
        model.embedding.weight[PAD].fill_(0.0)
    model.to(dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    criterion = nn.CrossEntropyLoss()

    losses = []
    while len(losses) < steps:
        for tokens, mask, target in train_loader:
            loss = criterion(model(tokens, mask), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break

    correct = 0
    with torch.no_grad():
        for tokens, mask, target in test_loader:
            correct += (model(tokens, mask).argmax(1) == target).sum().item()

    # the default collation of the same dicts, for equal-length samples: a dict of batched tensors
    fixed = SequenceDataset([s[:3] for s in sequences[:8]], labels[:8])
    batch = next(iter(torch.utils.data.DataLoader(fixed, batch_size=8)))
    return {"losses": losses, "accuracy": 100.0 * correct / len(test_set),
            "default_collate_shape": list(batch["tokens"].shape), "labels_int64": batch["label"].dtype == torch.int64,
            "padding_row_grad": model.embedding.weight.grad[PAD].abs().sum().item()}


if __name__ == "__main__":
    main(run)
