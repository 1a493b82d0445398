"""Hook handles, and the wiring behind ``Module.register_full_backward_hook``.

A backward hook is called as ``hook(module, grad_input, grad_output)`` once the gradients with respect
to the module's inputs are known. The simple scheme used here:

* every input Tensor that requires grad is passed through an identity node before ``forward``, so the
  gradient reaching that node is exactly the gradient with respect to the module's input;
* ``Tensor.register_hook`` on the outputs collects ``grad_output``;
* hooks on the identity nodes collect ``grad_input`` and, when the last one arrives, call the hook.

Limits (documented, checked): a replacement ``grad_input`` returned by the hook is applied only when
exactly one input requires grad; the hook fires only if every output that requires grad receives a
gradient.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor


class RemovableHandle:
    """Returned by every ``register_*_hook``; ``handle.remove()`` unregisters the hook.

    Also a context manager: ``with module.register_forward_hook(h): ...`` removes it on exit.
    """

    _ids = itertools.count()

    def __init__(self, hooks: dict):
        self._hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_hook(hooks: dict, hook) -> RemovableHandle:
    """Store ``hook`` in ``hooks`` under a fresh id and return its handle."""
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


class _Identity(Function):
    """``y = x`` as a separate graph node: its gradient is the gradient with respect to ``x``."""

    def forward(ctx, x):
        return x.view() if isinstance(x, np.ndarray) else x

    def backward(ctx, g, F):
        return g


class BackwardHookCall:
    """The state of one module call with backward hooks: collects grad_output, then grad_input."""

    def __init__(self, module, args: tuple):
        self.module = module
        self.hooks = list(module._backward_hooks.values())
        self.positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.grad_input = [None] * len(args)
        self.grad_output: list = []
        self.pending_in = len(self.positions)
        self.pending_out = 0

    def wrap_inputs(self, args: tuple) -> tuple:
        """The arguments with each input that requires grad replaced by an identity node on it."""
        args = list(args)
        for i in self.positions:
            args[i] = _Identity.apply(args[i])
            args[i].register_hook(self._input_hook(i))
        return tuple(args)

    def attach(self, out) -> None:
        """Register the grad_output collectors on the Tensors ``forward`` returned."""
        outs = out if isinstance(out, tuple | list) else (out,)
        self.grad_output = [None] * len(outs)
        for j, o in enumerate(outs):
            if isinstance(o, Tensor) and o.requires_grad:
                self.pending_out += 1
                o.register_hook(self._output_hook(j))

    def _output_hook(self, j):
        def hook(g):
            self.grad_output[j] = g
            self.pending_out -= 1
            if self.pending_out == 0 and not self.positions:
                self._fire()  # no input requires grad: grad_input is all None, fire now
        return hook

    def _input_hook(self, i):
        def hook(g):
            self.grad_input[i] = g
            self.pending_in -= 1
            if self.pending_in == 0:
                return self._fire()
            return None
        return hook

    def _fire(self):
        grad_input = tuple(self.grad_input)
        for hook in self.hooks:
            result = hook(self.module, grad_input, tuple(self.grad_output))
            if result is None:
                continue
            result = tuple(result) if isinstance(result, tuple | list) else (result,)
            if len(result) != len(grad_input):
                raise RuntimeError(f"backward hook of {type(self.module).__name__} returned {len(result)} "
                                   f"gradients but the module has {len(grad_input)} inputs")
            if len(self.positions) > 1:
                raise RuntimeError(f"backward hook of {type(self.module).__name__}: replacing grad_input is "
                                   "only supported when exactly one input requires grad")
            grad_input = result
        if self.positions:
            return grad_input[self.positions[0]] if len(self.positions) == 1 else None
        return None
