"""Hook handles, and the wiring behind ``Module.register_full_backward_hook``.

A backward hook is called as ``hook(module, grad_input, grad_output)`` once the gradients with respect
to the module's inputs are known. As in PyTorch, the inputs that require grad go through one node:

* a ``_Gather`` node takes them all and gives a dummy 0-d output;
* each input is handed to ``forward`` as a ``_Select`` node on that output: its gradient is exactly the
  gradient with respect to the module's input; ``_Select``'s backward stores it and passes zero on;
* ``_Gather`` was recorded before every node of ``forward``, so the engine runs it after all of them:
  its backward calls the hooks with every input's gradient (zeros where none arrived) and returns them,
  or the hooks' replacements, to the inputs;
* ``Tensor.register_hook`` on the outputs collects ``grad_output`` (None for an output without one).

When no input requires grad, the hooks fire once every output that requires grad has its gradient.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..autograd.function import Function
from ..ops import ArrayOps
from ..tensor import Tensor


class RemovableHandle:
    """Returned by every ``register_*_hook``; ``handle.remove()`` unregisters the hook.

    Also a context manager: ``with module.register_forward_hook(h): ...`` removes it on exit.
    """

    _ids = itertools.count()

    def __init__(self, hooks: dict, changed=None):
        self._hooks, self._changed = hooks, changed
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)
        if self._changed is not None:
            self._changed()

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def add_hook(hooks: dict, hook, changed=None) -> RemovableHandle:
    """Store ``hook`` in ``hooks`` under a fresh id and return its handle; call ``changed()`` now and when
    the hook is removed."""
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks, changed)
    hooks[handle.id] = hook
    if changed is not None:
        changed()
    return handle


class _Gather(Function):
    """The node of the module's inputs that require grad; its backward fires the hooks."""

    def forward(ctx, *xs, call):
        ctx.call = call
        return np.zeros(())

    def backward(ctx, g, F):
        return ctx.call.fire(F is not ArrayOps)


class _Select(Function):
    """``y = x`` hanging off the ``_Gather`` output: stores the gradient of input ``i`` for the hook."""

    def forward(ctx, gathered, x, call, i):
        ctx.call, ctx.i = call, i
        return x.view()

    def backward(ctx, g, F):
        ctx.call.grad_input[ctx.i] = g
        return np.zeros(())


class BackwardHookCall:
    """The state of one module call with backward hooks: collects grad_output and grad_input."""

    def __init__(self, module, args: tuple):
        self.module = module
        self.hooks = list(module._backward_hooks.values())
        self.args = args
        self.positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.grad_input = [None] * len(args)
        self.grad_output: list = []
        self.n_out = self.got_out = 0

    def wrap_inputs(self, args: tuple) -> tuple:
        """The arguments with each input that requires grad replaced by a ``_Select`` node on it."""
        if not self.positions:
            return args
        gathered = _Gather.apply(*(args[i] for i in self.positions), call=self)
        args = list(args)
        for i in self.positions:
            args[i] = _Select.apply(gathered, args[i]._data, self, i)
        return tuple(args)

    def attach(self, out) -> None:
        """Register the grad_output collectors on the Tensors ``forward`` returned."""
        outs = out if isinstance(out, tuple | list) else (out,)
        self.grad_output = [None] * len(outs)
        for j, o in enumerate(outs):
            if isinstance(o, Tensor) and o.requires_grad:
                self.n_out += 1
                o.register_hook(self._output_hook(j))

    def _output_hook(self, j):
        def hook(g):
            self.grad_output[j] = g
            self.got_out += 1
            if self.got_out == self.n_out and not self.positions:
                self.fire(False)  # no input requires grad: grad_input is all None, fire now
        return hook

    def fire(self, create_graph: bool):
        """Call the hooks; return the gradients (maybe replaced) of the inputs that require grad."""
        name = type(self.module).__name__
        grad_input = (tuple(_as_grad(g, a) for g, a in zip(self.grad_input, self.args)) if self.positions
                      else (None,) * len(self.args))  # (PyTorch: None, not zeros, when no input requires grad)
        grad_output = tuple(self.grad_output)
        # no output gradient since the last call (a second-order pass that reaches only the inputs): the
        # gradients pass unchanged, without a hook call, as in PyTorch
        hooks = self.hooks if self.got_out or not self.n_out else ()
        self.grad_input = [None] * len(self.args)  # ready for another backward through the same graph
        self.grad_output = [None] * len(grad_output)
        self.got_out = 0
        for hook in hooks:
            result = hook(self.module, grad_input, grad_output)
            if result is None:
                continue
            result = tuple(result) if isinstance(result, tuple | list) else (result,)
            if len(result) != len(grad_input):
                raise RuntimeError(f"backward hook of {name} returned {len(result)} gradients but the module has "
                                   f"{len(grad_input)} inputs")
            for i, (r, a) in enumerate(zip(result, self.args)):
                if r is not None and not (isinstance(r, Tensor) and r.shape == a.shape):
                    got = f"shape {r.shape}" if isinstance(r, Tensor) else type(r).__name__
                    raise RuntimeError(f"backward hook of {name} returned a gradient of {got} for input {i} of "
                                       f"shape {a.shape}")
            grad_input = result
        if create_graph:
            return tuple(grad_input[i] for i in self.positions)
        return tuple(None if grad_input[i] is None else grad_input[i]._data for i in self.positions)


def _as_grad(g, arg):
    """The grad_input entry of one argument: its gradient, zeros for a tensor that got none, else None."""
    if g is not None:
        return g if isinstance(g, Tensor) else Tensor._wrap(g)
    return Tensor._wrap(np.zeros_like(arg._data)) if isinstance(arg, Tensor) else None
