"""Hooks: ``register_forward_hook`` to extract features for a linear probe, ``register_forward_pre_hook`` to
standardise the input, ``register_full_backward_hook`` to log gradient norms, and ``Tensor.register_hook``
to clip each parameter's gradient."""

from ._common import digits, main, seeded_init_


def run(torch, steps=40, dtype=None):
    nn, F = torch.nn, torch.nn.functional
    dtype = dtype or torch.float32
    torch.manual_seed(0)

    x_train, y_train, x_test, y_test = digits()
    x_train, x_test = torch.tensor(x_train, dtype=dtype), torch.tensor(x_test, dtype=dtype)
    y_train, y_test = torch.tensor(y_train), torch.tensor(y_test)

    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 48), nn.ReLU(), nn.Linear(48, 24), nn.Tanh(), nn.Linear(24, 10))
    seeded_init_(torch, model).to(dtype)

    mean, std = x_train.mean(), x_train.std()
    model[0].register_forward_pre_hook(lambda module, args: ((args[0] - mean) / std,))
    grad_log = []
    model[3].register_full_backward_hook(
        lambda module, grad_input, grad_output: grad_log.append(grad_output[0].norm().item()))
    for p in model.parameters():
        p.register_hook(lambda grad: grad.clamp(-0.5, 0.5))

    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-2, alpha=0.9)
    losses = []
    for step in range(steps):
        batch = slice(64 * step % 1152, 64 * step % 1152 + 64)
        loss = F.cross_entropy(model(x_train[batch]), y_train[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    # feature extraction: keep the Tanh output of every forward
    features = {}

    def save_output(name):
        def hook(module, inputs, output):
            features[name] = output.detach()
        return hook

    handle = model[4].register_forward_hook(save_output("hidden"))
    model.eval()
    with torch.no_grad():  # not inference_mode: PyTorch refuses inference tensors in a later backward
        model(x_train)
        train_features = features["hidden"]
        model(x_test)
        test_features = features["hidden"]
    handle.remove()
    model(x_test[:2])
    assert features["hidden"].shape[0] == len(x_test), "the removed hook must not fire again"

    probe = seeded_init_(torch, nn.Linear(24, 10), seed=1).to(dtype)
    probe_optimizer = torch.optim.Adam(probe.parameters(), lr=0.05)
    probe_losses = []
    for _ in range(steps):
        loss = F.cross_entropy(probe(train_features), y_train)
        probe_optimizer.zero_grad()
        loss.backward()
        probe_optimizer.step()
        probe_losses.append(loss.item())
    with torch.inference_mode():
        accuracy = (probe(test_features).argmax(1) == y_test).double().mean().item() * 100
    return {"losses": losses, "grad_output_norms": grad_log, "probe_losses": probe_losses,
            "feature_sum": test_features.sum().item(), "accuracy": accuracy}


if __name__ == "__main__":
    main(run)
