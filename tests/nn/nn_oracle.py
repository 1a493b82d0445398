"""Helpers for the nn tests: move weights between tinygradnn and PyTorch, compare a layer with
its PyTorch twin, and run float64 gradient checks over a module's input and parameters.

Weights go through ``state_dict`` / ``load_state_dict`` as NumPy arrays, so every comparison also
checks that key names and layouts match PyTorch's.
"""

from __future__ import annotations

import numpy as np

import tinygradnn as tg
from tinygradnn.autograd import gradcheck

try:
    import torch
except ImportError:  # the torch tests skip themselves with importorskip
    torch = None


def torch_state(tmodule) -> dict:
    """A PyTorch module's state dict as NumPy arrays (copies)."""
    return {k: v.detach().numpy().copy() for k, v in tmodule.state_dict().items()}


def load_from_torch(module, tmodule) -> None:
    """Give ``module`` the weights and buffers of ``tmodule`` (strict: keys and shapes must match)."""
    module.load_state_dict(torch_state(tmodule))


def load_into_torch(tmodule, module) -> None:
    """Give ``tmodule`` the weights and buffers of ``module`` (strict)."""
    tmodule.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in module.state_dict().items()})


def assert_close(ours, theirs, rtol=1e-5, atol=1e-6, what="value"):
    a = ours.detach().numpy() if isinstance(ours, tg.Tensor) else np.asarray(ours)
    b = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != torch's {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def compare_with_torch(module, tmodule, *arrays, rtol=1e-5, atol=1e-6, seed=0, backward=True, constants=()):
    """Run both modules on the same inputs with the same weights (PyTorch's, loaded into ours) and
    compare outputs, input gradients, parameter gradients and buffers (e.g. running statistics).

    Float arrays are differentiated, except those at the positions in ``constants``; integer arrays
    (labels, ids) are constants.
    Returns ``(ours, torch's)`` outputs.
    """
    load_from_torch(module, tmodule)
    diff = [a.dtype.kind == "f" and i not in constants for i, a in enumerate(arrays)]
    xs = [tg.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    txs = [torch.tensor(a, requires_grad=d) for a, d in zip(arrays, diff)]
    out, tout = module(*xs), tmodule(*txs)
    assert_close(out, tout, rtol, atol, "forward")
    if backward and out.requires_grad:
        v = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
        out.backward(tg.tensor(v))
        tout.backward(torch.from_numpy(v))
        for i, (x, tx) in enumerate(zip(xs, txs)):
            if x.requires_grad:
                assert_close(x.grad, tx.grad, rtol, atol, f"gradient of input {i}")
        tparams = dict(tmodule.named_parameters())
        for name, p in module.named_parameters():
            if tparams[name].grad is None:
                assert p.grad is None, f"{name}: torch has no gradient but we do"
            else:
                assert_close(p.grad, tparams[name].grad, rtol, atol, f"gradient of {name}")
    theirs = torch_state(tmodule)
    for name, value in module.state_dict().items():
        assert_close(value, theirs[name], rtol, atol, f"state {name}")
    return out, tout


def gradcheck_module(module, *arrays, atol=1e-5, rtol=1e-3):
    """float64 finite-difference check of a module's output with respect to its float inputs and
    every parameter."""
    module.double()
    xs = [tg.tensor(a.astype(np.float64), requires_grad=True) if a.dtype.kind == "f" else tg.tensor(a)
          for a in arrays]
    params = list(module.parameters())
    n = len(xs)
    assert gradcheck(lambda *args: module(*args[:n]), (*xs, *params), atol=atol, rtol=rtol)
