"""``gradcheck`` and ``gradgradcheck``: compare autograd with central finite differences (float64)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .functional import grad


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when analytic and numerical gradients disagree."""


def _numerical_jacobian(fn, inputs, outputs_fn, eps):
    """J[i]: (out.size, inp.size) by central differences on each element of each input."""
    jac = []
    for x in inputs:
        data = x._data  # perturbed in place, element by element (reshape(-1) would copy a strided array)
        cols = []
        for k in range(data.size):
            idx = np.unravel_index(k, data.shape)
            old = data[idx]
            data[idx] = old + eps
            plus = outputs_fn()
            data[idx] = old - eps
            minus = outputs_fn()
            data[idx] = old
            cols.append((plus - minus) / (2 * eps))
        jac.append(np.stack(cols, axis=1) if cols else np.zeros((outputs_fn().size, 0)))
    return jac


def _flat_outputs(fn, inputs, constants=False):
    """The outputs of ``fn(*inputs)`` that require grad (and, with ``constants``, the floating ones that
    do not: their analytical derivative is 0, which the numerical one then has to confirm)."""
    out = fn(*inputs)
    outs = out if isinstance(out, tuple | list) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and (o.requires_grad or constants and o.dtype.kind == "f")]


def _differentiable(inputs):
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    for x in diff:
        if x.dtype != np.float64:
            raise TypeError(f"gradcheck needs float64 inputs for accurate differences, got {x.dtype}")
    return diff


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True) -> bool:
    """Check the gradients of ``fn(*inputs)`` against central differences.

    ``inputs`` is a Tensor or tuple of Tensors; those with ``requires_grad`` are checked and should be
    float64. Every element of every output is differentiated (a full Jacobian), so keep shapes small.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = _differentiable(inputs)
    if not _flat_outputs(fn, inputs):
        raise ValueError("gradcheck: fn returned no output that requires grad")
    return _compare(fn, inputs, diff, eps, atol, rtol, raise_exception, constants=False)


def _compare(fn, inputs, diff, eps, atol, rtol, raise_exception, constants):
    """Analytical (one backward per output element) against numerical Jacobians of ``diff``."""
    outs = _flat_outputs(fn, inputs, constants)
    if not outs:
        return True

    def values():
        return np.concatenate([o._data.reshape(-1).astype(np.float64)
                               for o in _flat_outputs(fn, inputs, constants)])

    numerical = _numerical_jacobian(fn, diff, values, eps)
    total = sum(o._data.size for o in outs)
    analytical = [np.zeros((total, x._data.size)) for x in diff]
    row = 0
    for o in outs:
        if not o.requires_grad:  # a constant: its rows stay 0
            row += o._data.size
            continue
        for k in range(o._data.size):
            seed = np.zeros(o.shape, dtype=o.dtype)
            seed.reshape(-1)[k] = 1
            gs = grad(o, diff, Tensor(seed), retain_graph=True, allow_unused=True)
            for j, gj in enumerate(gs):
                if gj is not None:
                    analytical[j][row] = gj._data.reshape(-1)
            row += 1
    for j, (a, n) in enumerate(zip(analytical, numerical)):
        if not np.allclose(a, n, atol=atol, rtol=rtol):
            if not raise_exception:
                return False
            worst = np.unravel_index(np.argmax(np.abs(a - n)), a.shape)
            raise GradcheckError(
                f"Jacobian mismatch for input {j} (shape {diff[j].shape}), output element {worst[0]}, input "
                f"element {worst[1]}:\nanalytical={a[worst]:.8g} numerical={n[worst]:.8g}\n"
                f"analytical:\n{a}\nnumerical:\n{n}")
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of ``x -> grad(fn(x), x, v, create_graph=True)``.

    ``v`` (``grad_outputs``) is a fixed random vector when not given.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = _differentiable(inputs)
    outs = _flat_outputs(fn, inputs)
    rng = np.random.default_rng(seed)
    if grad_outputs is None:
        grad_outputs = [Tensor(rng.standard_normal(o.shape)) for o in outs]
    grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)

    def first_grads(*xs):
        os = _flat_outputs(fn, xs)
        gs = grad(os, _differentiable(xs), grad_outputs, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    # A first gradient that does not require grad claims not to depend on the inputs; it is kept, so the
    # numerical derivative must confirm that (a rule that forgets to record its own graph fails here).
    return _compare(first_grads, inputs, diff, eps, atol, rtol, raise_exception, constants=True)
