"""A training loop with gradient clipping and a per-batch schedule: SGD with Nesterov momentum, OneCycleLR,
``nn.utils.clip_grad_norm_`` (its returned total norm logged) and ``clip_grad_value_``, label smoothing."""

from ._common import digits, main, seeded_init_


def run(torch, steps=50, dtype=None):
    nn = torch.nn
    dtype = dtype or torch.float32
    torch.manual_seed(0)

    x_train, y_train, x_test, y_test = digits()
    train_set = torch.utils.data.TensorDataset(torch.tensor(x_train, dtype=dtype).flatten(1),
                                               torch.from_numpy(y_train))
    loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=False, drop_last=True)

    model = nn.Sequential(nn.Linear(64, 64), nn.GELU(), nn.Linear(64, 10))
    seeded_init_(torch, model)
    model.to(dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.5, total_steps=steps)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)

    losses, grad_norms, lrs = [], [], []
    while len(losses) < steps:
        for inputs, targets in loader:
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(inputs), targets)
            loss.backward()
            total_norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            nn.utils.clip_grad_value_(model.parameters(), clip_value=0.05)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            grad_norms.append(total_norm.item())
            lrs.append(scheduler.get_last_lr()[0])
            if len(losses) == steps:
                break

    with torch.no_grad():
        logits = model(torch.tensor(x_test, dtype=dtype).reshape(len(x_test), -1))
        _, predicted = torch.max(logits, 1)
        accuracy = 100.0 * (predicted == torch.tensor(y_test)).sum().item() / len(y_test)
    return {"losses": losses, "grad_norms": grad_norms, "lrs": lrs, "accuracy": accuracy,
            "momentum": optimizer.param_groups[0]["momentum"]}


if __name__ == "__main__":
    main(run)
