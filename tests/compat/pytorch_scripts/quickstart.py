"""The "Learn the Basics" quickstart: a custom ``Dataset`` class, ``DataLoader``s, a ``NeuralNetwork(nn.Module)``
with ``nn.Flatten`` and ``nn.Sequential``, ``train``/``test`` functions written as the tutorial writes them
(``size = len(dataloader.dataset)``, ``enumerate(dataloader)``, ``(pred.argmax(1) == y).type(torch.float)``),
then ``torch.save(model.state_dict())`` and ``load_state_dict(torch.load(path, weights_only=True))``."""

import os
import tempfile

from ._common import digits, main, seeded_init_


def run(torch, steps=40, dtype=None):
    nn = torch.nn
    dtype = dtype or torch.float32
    torch.manual_seed(0)
    x_train, y_train, x_test, y_test = digits(n_train=1024, n_test=256)

    class DigitImages(torch.utils.data.Dataset):
        def __init__(self, images, labels, transform=None, target_transform=None):
            self.images, self.labels = images, labels
            self.transform, self.target_transform = transform, target_transform

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, idx):
            image = torch.tensor(self.images[idx], dtype=dtype).unsqueeze(0)  # (1, 8, 8), as ToTensor() gives
            label = int(self.labels[idx])
            if self.transform:
                image = self.transform(image)
            if self.target_transform:
                label = self.target_transform(label)
            return image, label

    training_data = DigitImages(x_train, y_train, transform=lambda img: img * 2 - 1)
    test_data = DigitImages(x_test, y_test, transform=lambda img: img * 2 - 1)
    train_dataloader = torch.utils.data.DataLoader(training_data, batch_size=64)
    test_dataloader = torch.utils.data.DataLoader(test_data, batch_size=64)
    X, y = next(iter(test_dataloader))
    batch_shape = [list(X.shape), list(y.shape)]

    device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(8 * 8, 64), nn.ReLU(),
                nn.Linear(64, 64), nn.ReLU(),
                nn.Linear(64, 10),
            )

        def forward(self, x):
            x = self.flatten(x)
            logits = self.linear_relu_stack(x)
            return logits

    model = seeded_init_(torch, NeuralNetwork()).to(dtype).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.3)
    losses, printed = [], []

    def train(dataloader, model, loss_fn, optimizer):
        size = len(dataloader.dataset)
        model.train()
        for batch, (X, y) in enumerate(dataloader):
            X, y = X.to(device), y.to(device)
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
            if batch % 8 == 0:
                loss, current = loss.item(), (batch + 1) * len(X)
                printed.append(f"[{current:>5d}/{size:>5d}]")  # (the tutorial prints the loss too)
            if len(losses) == steps:
                return

    def test(dataloader, model, loss_fn):
        size = len(dataloader.dataset)
        num_batches = len(dataloader)
        model.eval()
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in dataloader:
                X, y = X.to(device), y.to(device)
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        test_loss /= num_batches
        correct /= size
        return 100 * correct, test_loss

    while len(losses) < steps:
        train(train_dataloader, model, loss_fn, optimizer)
    accuracy, test_loss = test(test_dataloader, model, loss_fn)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.pth")
        torch.save(model.state_dict(), path)
        reloaded = NeuralNetwork().to(dtype).to(device)
        reloaded.load_state_dict(torch.load(path, weights_only=True))
    reloaded.eval()
    x, y = test_data[0][0], test_data[0][1]
    with torch.no_grad():
        pred = reloaded(x.to(device))
        predicted = pred[0].argmax(0).item()
        same = torch.equal(reloaded(X), model(X))
    return {"losses": losses, "accuracy": accuracy, "test_loss": test_loss, "batch_shape": batch_shape,
            "printed": " | ".join(printed), "reloaded_matches": bool(same), "first_prediction": predicted,
            "first_label": y}


if __name__ == "__main__":
    main(run)
