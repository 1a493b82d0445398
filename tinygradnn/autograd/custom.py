"""PyTorch-style custom ops: subclass ``autograd.Function`` with static ``forward(ctx, ...)`` and
``backward(ctx, grad_output)``, then call ``MyOp.apply(...)``.

::

    class Square(tinygradnn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

Unlike the internal :class:`~tinygradnn.autograd.function.Function` (arrays in, arrays out), these
work on Tensors. ``forward`` must return one Tensor.
"""

from __future__ import annotations

from ..tensor import Tensor
from .function import Function as _Node
from .grad_mode import _State, no_grad


class FunctionCtx:
    """What ``forward`` and ``backward`` of a custom Function share."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors = ()

    def save_for_backward(self, *tensors) -> None:
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        pass


class _CustomNode(_Node):
    def backward(ctx, g, F):
        gt = g if isinstance(g, Tensor) else Tensor._wrap(g)
        grads = ctx.user_cls.backward(ctx.user_ctx, gt)
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) != len(ctx.inputs):
            raise RuntimeError(f"{ctx.user_cls.__name__}.backward returned {len(grads)} gradients but forward "
                               f"took {len(ctx.inputs)} inputs")
        out = []
        for gi, p in zip(grads, ctx.inputs):
            if gi is None or not isinstance(p, Tensor):
                out.append(None)
                continue
            gi = gi if isinstance(gi, Tensor) else Tensor(gi)
            if gi.shape != p.shape:
                raise RuntimeError(f"{ctx.user_cls.__name__}.backward returned a gradient of shape {gi.shape} "
                                   f"for an input of shape {p.shape}")
            out.append(gi if isinstance(g, Tensor) else gi._data)
        return tuple(out)


class Function:
    """Base class for custom differentiable operations written with Tensors."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a custom Function must define a static forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a custom Function must define a static backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *args, **kwargs):
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(needs)
        with no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a single Tensor, got {type(out).__name__}")
        if _State.enabled and any(needs):
            node = _CustomNode.__new__(_CustomNode)
            node.saved, node.inputs, node.needs_input_grad = (), args, needs
            node.versions = tuple(a._version if isinstance(a, Tensor) else 0 for a in args)
            node.user_cls, node.user_ctx = cls, ctx
            out = Tensor._wrap(out._data)
            out._requires_grad, out._ctx = True, node
        return out
