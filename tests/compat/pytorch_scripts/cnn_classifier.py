"""A small CNN on 8x8 digits in the style of PyTorch's MNIST example (pytorch/examples mnist/main.py):
a per-sample ``Dataset`` subclass, device handling, Adadelta with StepLR, ``F.nll_loss`` on ``log_softmax``,
and a test loop that sums ``pred.eq(target.view_as(pred))``."""

from ._common import digits, main, seeded_init_


def run(torch, steps=40, dtype=None):
    nn, F = torch.nn, torch.nn.functional
    dtype = dtype or torch.float32
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(1)

    class DigitsDataset(torch.utils.data.Dataset):
        """One (1, 8, 8) image tensor and an int label per item."""

        def __init__(self, images, labels):
            self.images, self.labels = images, labels

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, idx):
            image = torch.tensor(self.images[idx], dtype=dtype).unsqueeze(0)
            return image, int(self.labels[idx])

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(8)
            self.conv2 = nn.Conv2d(8, 16, 3, 1)
            self.fc1 = nn.Linear(64, 32)
            self.fc2 = nn.Linear(32, 10)

        def forward(self, x):
            x = F.relu(self.bn1(self.conv1(x)))
            x = F.max_pool2d(x, 2)
            x = F.relu(self.conv2(x))
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = self.fc2(x)
            return F.log_softmax(x, dim=1)

    x_train, y_train, x_test, y_test = digits()
    train_loader = torch.utils.data.DataLoader(DigitsDataset(x_train, y_train), batch_size=32, shuffle=False,
                                               num_workers=0, pin_memory=torch.cuda.is_available())
    test_loader = torch.utils.data.DataLoader(DigitsDataset(x_test, y_test), batch_size=100)

    model = seeded_init_(torch, Net()).to(device=device, dtype=dtype)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)

    losses = []
    while len(losses) < steps:  # epochs
        model.train()
        for data, target in train_loader:
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
        scheduler.step()

    model.eval()
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    return {"losses": losses, "test_loss": test_loss / len(test_loader.dataset),
            "accuracy": 100.0 * correct / len(test_loader.dataset), "lr": scheduler.get_last_lr()[0]}


if __name__ == "__main__":
    main(run)
