"""A custom loss the PyTorch way: a multi-class hinge loss as a ``torch.autograd.Function`` with static
``forward(ctx, ...)`` / ``backward(ctx, grad_output)``, ``ctx.save_for_backward`` / ``ctx.saved_tensors`` and
``ctx.needs_input_grad``, checked with ``torch.autograd.gradcheck`` and used to train a linear classifier."""

from ._common import digits, main, seeded_init_


def run(torch, steps=40, dtype=None):
    nn, F = torch.nn, torch.nn.functional
    dtype = dtype or torch.float32
    torch.manual_seed(0)

    class MultiMarginHinge(torch.autograd.Function):
        """mean over samples of sum_{j != y} max(0, margin + s_j - s_y)."""

        @staticmethod
        def forward(ctx, scores, target, margin=1.0):
            correct = scores.gather(1, target.view(-1, 1))
            margins = (scores - correct + margin).clamp(min=0)
            margins = margins.masked_fill(F.one_hot(target, scores.size(1)).bool(), 0.0)
            ctx.save_for_backward(margins, target)
            return margins.sum() / scores.shape[0]

        @staticmethod
        def backward(ctx, grad_output):
            margins, target = ctx.saved_tensors
            grad_scores = None
            if ctx.needs_input_grad[0]:
                active = (margins > 0).to(margins.dtype)
                one_hot = F.one_hot(target, margins.size(1)).to(margins.dtype)
                grad_scores = (active - one_hot * active.sum(dim=1, keepdim=True)) / margins.shape[0]
                grad_scores = grad_scores * grad_output
            return grad_scores, None, None

    hinge = MultiMarginHinge.apply

    check_scores = torch.randn(5, 4, dtype=torch.float64, requires_grad=True)
    check_target = torch.tensor([0, 3, 1, 1, 2])
    gradcheck_ok = torch.autograd.gradcheck(lambda s: hinge(s, check_target, 1.0), (check_scores,))

    x_train, y_train, x_test, y_test = digits()
    x_train = torch.tensor(x_train, dtype=dtype).reshape(-1, 64)
    y_train = torch.tensor(y_train)
    model = seeded_init_(torch, nn.Linear(64, 10)).to(dtype)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=0.1)

    losses = []
    for step in range(steps):
        i = (64 * step) % len(y_train)
        loss = hinge(model(x_train[i:i + 64]), y_train[i:i + 64], 1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    with torch.no_grad():
        scores = model(torch.tensor(x_test, dtype=dtype).reshape(-1, 64))
        top2 = scores.topk(2, dim=1).indices
        target = torch.tensor(y_test)
        accuracy = 100.0 * (top2[:, 0] == target).float().mean().item()
        top2_accuracy = 100.0 * (top2 == target.unsqueeze(1)).any(dim=1).float().mean().item()
    return {"losses": losses, "accuracy": accuracy, "top2_accuracy": top2_accuracy, "gradcheck": gradcheck_ok}


if __name__ == "__main__":
    main(run)
