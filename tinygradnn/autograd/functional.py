"""``autograd.grad``: gradients of outputs with respect to chosen inputs, returned instead of stored."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .engine import run_backward


def _seed(out: Tensor, gradient, create_graph: bool):
    """The starting gradient: ``gradient`` checked against ``out``, or ones for a one-element output."""
    if gradient is None:
        if out._data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs, but the output has "
                               f"shape {out.shape}; pass gradient= (a tensor of that shape) or reduce it first "
                               "(e.g. .sum())")
        g = np.array(1, dtype=out._data.dtype).reshape(out._data.shape)  # (np.ones_like is slower Python)
        return Tensor._wrap(g) if create_graph else g
    if not isinstance(gradient, Tensor):
        try:
            gradient = Tensor(np.asarray(gradient, dtype=out.dtype))
        except (TypeError, ValueError):
            raise TypeError(f"backward: gradient must be a Tensor of shape {out.shape} (the output's), got "
                            f"{type(gradient).__name__}") from None
    if gradient.shape != out.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output has shape {gradient.shape} and output has shape "
                           f"{out.shape}")
    return gradient if create_graph else gradient._data.astype(out.dtype, copy=False)


def _grad_outputs(outputs: list, grad_outputs) -> list:
    """One grad_output (or None) per output; extra trailing ones are ignored, as in PyTorch."""
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) < len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
    return grad_outputs[:len(outputs)]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False):
    """Return ``d(outputs)/d(inputs)`` as a tuple of Tensors, one per input (``.grad`` is not touched).

    With ``create_graph=True`` the returned gradients are themselves differentiable (Hessian-vector
    products, gradient penalties). An input the outputs do not depend on is an error, or gets ``None``
    with ``allow_unused=True``, or zeros with ``materialize_grads=True`` (which implies ``allow_unused``).
    ``is_grads_batched=True``: the first dimension of each grad_output is a batch; the result is the stack of one
    ``grad`` per row (a loop here, PyTorch uses vmap). ``only_inputs`` is deprecated and ignored, as in PyTorch.
    """
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
                         "allow_unused=False.")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    grad_outputs = _grad_outputs(outputs, grad_outputs)
    if is_grads_batched:
        return _batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"input {i} (shape {t.shape}) does not require grad")
    for o in outputs:
        if not o.requires_grad:
            raise RuntimeError("an output does not require grad and does not have a grad_fn")
    seeds = [_seed(o, g, create_graph) for o, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(outputs, seeds, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs,
                          allow_unused=bool(allow_unused or materialize_grads), before_hooks=True)
    if materialize_grads:
        result = tuple(Tensor(np.zeros_like(t._data), requires_grad=create_graph) if r is None else r
                       for r, t in zip(result, inputs))
    return result


def _batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads):
    """``grad`` with ``is_grads_batched=True``: one ``grad`` per row of the grad_outputs, stacked."""
    sizes = set()
    for i, (o, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(g, Tensor) or g.shape[1:] != o.shape or g.ndim == 0:
            shape = g.shape if isinstance(g, Tensor) else None
            raise RuntimeError(f"If `is_grads_batched=True`, we interpret the first dimension of each grad_output as "
                               f"the batch dimension: grad_output[{i}] has shape {shape} and output[{i}] has shape "
                               f"{o.shape}, expected (batch, *{o.shape})")
        sizes.add(g.shape[0])
    if len(sizes) != 1:
        raise RuntimeError(f"is_grads_batched=True: the grad_outputs have different batch sizes {sorted(sizes)}")
    (n,) = sizes
    retain = create_graph if retain_graph is None else retain_graph
    rows = [grad(outputs, inputs, [g[k] for g in grad_outputs], retain_graph=retain or k < n - 1,
                 create_graph=create_graph, allow_unused=allow_unused, materialize_grads=materialize_grads)
            for k in range(n)]
    from ..ops.shape import stack

    return tuple(None if col[0] is None else stack(list(col)) for col in zip(*rows))


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
    """Accumulate the gradients of several outputs into the leaves' ``.grad`` in one pass: ``tensors`` with
    ``grad_tensors`` (one per tensor, None for a one-element output), as ``sum(t * g)`` would, but without it."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    grads = _grad_outputs(tensors, grad_tensors)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    if retain_graph is None:
        retain_graph = create_graph
    seeds = [_seed(t, g, create_graph) for t, g in zip(tensors, grads)]
    if inputs is not None:
        return _backward_into(tensors, seeds, retain_graph, create_graph, inputs)
    run_backward(tensors, seeds, retain_graph=retain_graph, create_graph=create_graph)


def _backward_into(roots, seeds, retain_graph, create_graph, inputs) -> None:
    """``backward(inputs=...)``: only the gradients of ``inputs``, added into their ``.grad``."""
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"backward: inputs[{i}] (shape {t.shape}) has requires_grad=False; every "
                               "tensor in inputs= must require grad")
    grads = run_backward(roots, seeds, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs,
                         allow_unused=True)
    for t, gi in zip(inputs, grads):
        if gi is not None:
            t.grad = gi if t.grad is None else t.grad + gi
