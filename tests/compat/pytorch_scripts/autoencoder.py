"""A dense autoencoder on digits (the classic tutorial): encoder/decoder ``nn.Sequential``s, ``nn.BCELoss``
on a Sigmoid output, AdamW, and the codes it learns classified by the nearest class mean."""

from ._common import digits, main, seeded_init_


def run(torch, steps=60, dtype=None):
    nn = torch.nn
    dtype = dtype or torch.float32
    torch.manual_seed(0)

    class AutoEncoder(nn.Module):
        def __init__(self, code_size=8):
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, code_size))
            self.decoder = nn.Sequential(nn.Linear(code_size, 32), nn.ReLU(), nn.Linear(32, 64), nn.Sigmoid())

        def forward(self, x):
            code = self.encoder(x.view(x.size(0), -1))
            return self.decoder(code).view_as(x)

    x_train, y_train, x_test, y_test = digits()
    train_images = torch.from_numpy(x_train).to(dtype)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(train_images), batch_size=64,
                                         drop_last=True)

    model = seeded_init_(torch, AutoEncoder()).to(dtype)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-2)
    criterion = nn.BCELoss()

    losses = []
    while len(losses) < steps:
        for (images,) in loader:
            reconstruction = model(images)
            loss = criterion(reconstruction, images)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break

    model.eval()
    with torch.no_grad():
        train_codes = model.encoder(train_images.flatten(1))
        test_images = torch.from_numpy(x_test).to(dtype)
        test_codes = model.encoder(test_images.flatten(1))
        test_loss = criterion(model(test_images), test_images).item()
        labels = torch.from_numpy(y_train)
        centroids = torch.stack([train_codes[labels == c].mean(dim=0) for c in range(10)])
        distances = ((test_codes.unsqueeze(1) - centroids.unsqueeze(0)) ** 2).sum(-1)
        pred = distances.argmin(dim=1)
        accuracy = (pred == torch.from_numpy(y_test)).float().mean().item() * 100
    return {"losses": losses, "test_loss": test_loss, "accuracy": accuracy,
            "code_mean": test_codes.mean().item()}


if __name__ == "__main__":
    main(run)
