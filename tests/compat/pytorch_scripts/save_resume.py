"""Save and resume: a checkpoint dict (epoch, model, optimizer and scheduler state) written with
``torch.save``, read back with ``torch.load(path, weights_only=True)`` into fresh objects; training goes on
exactly as if it had not stopped."""

import os
import tempfile

from ._common import digits, main, seeded_init_


def run(torch, steps=40, dtype=None):
    nn, F = torch.nn, torch.nn.functional
    dtype = dtype or torch.float32
    torch.manual_seed(0)
    x_train, y_train, x_test, y_test = digits()
    images, labels = torch.tensor(x_train, dtype=dtype).view(-1, 64), torch.tensor(y_train)

    def batches(start, stop):
        for step in range(start, stop):
            i = 32 * step % len(labels)
            yield images[i:i + 32], labels[i:i + 32]

    def build():
        model = seeded_init_(torch, nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))).to(dtype)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.9, 0.99))
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.7)
        return model, optimizer, scheduler

    def train(model, optimizer, scheduler, start, stop):
        losses = []
        model.train()
        for xb, yb in batches(start, stop):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
        return losses

    half = steps // 2
    model, optimizer, scheduler = build()
    first = train(model, optimizer, scheduler, 0, half)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "checkpoint.pt")
        torch.save({
            "epoch": half,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "scheduler_state_dict": scheduler.state_dict(),
            "loss": first[-1],
        }, path)
        uninterrupted = train(model, optimizer, scheduler, half, steps)

        model, optimizer, scheduler = build()
        seeded_init_(torch, model, seed=99)  # different weights, to show that loading replaces them
        checkpoint = torch.load(path, weights_only=True)
        model.load_state_dict(checkpoint["model_state_dict"])
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
        scheduler.load_state_dict(checkpoint["scheduler_state_dict"])
        resumed = train(model, optimizer, scheduler, checkpoint["epoch"], steps)

    model.eval()
    with torch.no_grad():
        pred = model(torch.tensor(x_test, dtype=dtype).view(len(x_test), -1)).argmax(dim=1)
        accuracy = 100.0 * pred.eq(torch.tensor(y_test)).sum().item() / len(y_test)
    return {"losses": first + resumed, "uninterrupted_losses": first + uninterrupted, "accuracy": accuracy,
            "checkpoint_loss": checkpoint["loss"], "lr": optimizer.param_groups[0]["lr"]}


if __name__ == "__main__":
    main(run)
