"""PyTorch-style custom ops: subclass ``autograd.Function`` with static ``forward(ctx, ...)`` and
``backward(ctx, *grad_outputs)``, then call ``MyOp.apply(...)``.

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
work on Tensors. ``forward`` returns one Tensor or a tuple of them; ``backward`` then receives one
gradient per output (zeros for an output that was not used, as PyTorch does by default) and returns
one gradient (or ``None``) per argument of ``forward`` (extra trailing Nones are allowed). A saved output,
read in a ``create_graph`` backward, is that output with its graph, so double backward works as in
PyTorch. Integer outputs and those passed to ``ctx.mark_non_differentiable`` do not require grad. The
PyTorch 2 style, a ``forward`` without ``ctx`` plus a static ``setup_context(ctx, inputs, output)``, works too.
"""

from __future__ import annotations

import functools

import numpy as np

from ..tensor import Tensor
from .function import Function as _Node
from .function import next_seq
from .grad_mode import _State, no_grad


class FunctionCtx:
    """What ``forward`` and ``backward`` of a custom Function share."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors = ()
        self._non_differentiable = ()

    def save_for_backward(self, *tensors) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Outputs that get no gradient (integer outputs such as indices never do)."""
        self._non_differentiable = tuple(tensors)

    def mark_dirty(self, *tensors) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch compatibility; unused outputs always get zero gradients here."""


class _CustomNode(_Node):
    # ``layout``: None for a single output; else one entry per output of forward: None (no gradient:
    # zeros of ``like`` go to backward) or (start, stop, shape, dtype), its slice of the packed outputs.
    # ``saved_outputs``: (position in saved_tensors, output index) of each saved differentiable output;
    # then ``saved`` holds the output's (or packed outputs') array, which the engine turns into the output
    # Tensor under create_graph, so a double backward flows through this node as in PyTorch.
    @property
    def _label(self) -> str:
        return self.user_cls.__name__  # in grad_fn's repr and in error messages, as in PyTorch

    def backward(ctx, g, F):
        gt = g if isinstance(g, Tensor) else Tensor._wrap(g)
        if ctx.layout is None:
            grad_outputs = (gt,)
        else:
            grad_outputs = tuple(
                _zeros(like) if part is None else gt[part[0]:part[1]].reshape(part[2]).to(part[3])
                for part, like in zip(ctx.layout, ctx.like))
        user_ctx = ctx.user_ctx
        if ctx.saved_outputs and isinstance(g, Tensor):
            saved = user_ctx.saved_tensors
            user_ctx.saved_tensors = _with_graph(ctx, saved)
            try:
                grads = ctx.user_cls.backward(user_ctx, *grad_outputs)
            finally:
                user_ctx.saved_tensors = saved
        else:
            grads = ctx.user_cls.backward(user_ctx, *grad_outputs)
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) > len(ctx.inputs) and all(gi is None for gi in grads[len(ctx.inputs):]):
            grads = grads[:len(ctx.inputs)]  # extra trailing Nones are allowed, as in PyTorch
        if len(grads) != len(ctx.inputs):
            raise RuntimeError(f"{ctx.user_cls.__name__}.backward returned {len(grads)} gradients but forward "
                               f"took {len(ctx.inputs)} inputs")
        out = []
        for i, (gi, p) in enumerate(zip(grads, ctx.inputs)):
            if gi is None:
                out.append(None)
                continue
            if not isinstance(p, Tensor):
                raise RuntimeError(f"function {ctx.user_cls.__name__}Backward returned a gradient different than "
                                   f"None at position {i + 1}, but the corresponding forward input was not a Tensor")
            gi = gi if isinstance(gi, Tensor) else Tensor(gi)
            gi = gi if isinstance(g, Tensor) else gi._data  # Tensors under create_graph, else arrays
            if gi.shape != p.shape:  # a gradient the input broadcasts to is summed back to it, as in PyTorch
                if _broadcast_shape(p.shape, gi.shape) != gi.shape:
                    raise RuntimeError(f"{ctx.user_cls.__name__}.backward returned a gradient of shape "
                                       f"{gi.shape} for an input of shape {p.shape}")
                gi = F.sum_to(gi, p.shape)
            out.append(gi)
        return tuple(out)


def _broadcast_shape(a: tuple, b: tuple):
    """The shape ``a`` and ``b`` broadcast to, or None if they do not."""
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


def _with_graph(node, saved: tuple) -> tuple:
    """``saved`` with each saved output replaced by that output as a Tensor recorded by ``node``."""
    (out,) = node.saved  # the output Tensor (packed outputs if several), as the engine gives it
    saved = list(saved)
    for i, k in node.saved_outputs:
        part = None if node.layout is None else node.layout[k]
        saved[i] = out if part is None else out[part[0]:part[1]].reshape(part[2]).to(part[3])
    return tuple(saved)


def _zeros(like):
    return None if like is None else Tensor._wrap(np.zeros(*like))


class Function:
    """Base class for custom differentiable operations written with Tensors."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a custom Function must define a static forward(ctx, *args)")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError  # optional: PyTorch 2 style, forward(*args) without ctx

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a custom Function must define a static backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *args, **kwargs):
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(needs)
        with no_grad():
            if cls.setup_context is not Function.setup_context:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, out)
            else:
                out = cls.forward(ctx, *args, **kwargs)
        multi = isinstance(out, tuple)
        outs = out if multi else (out,)
        if not multi and not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a Tensor or a tuple of Tensors, "
                            f"got {type(out).__name__}")
        if not (_State.enabled and any(needs)):
            return out
        if not multi and (out.dtype.kind != "f" or any(t is out for t in ctx._non_differentiable)):
            return out.detach()  # integer or marked outputs get no gradient
        node = _CustomNode.__new__(_CustomNode)
        node.saved, node.inputs, node.needs_input_grad = (), args, needs
        node.bumps, node.seq = _State.bumps, next_seq()
        node.user_cls, node.user_ctx, node.layout = cls, ctx, None
        if not multi:
            packed = Tensor._wrap(out._data)
        else:
            packed = _pack_outputs(node, outs, ctx._non_differentiable)
            if packed is None:
                return outs
        packed._requires_grad, packed._ctx = True, node
        node.saved_outputs = tuple((i, k) for i, s in enumerate(ctx.saved_tensors) for k, o in enumerate(outs)
                                   if s is o and (not multi or node.layout[k] is not None))
        if node.saved_outputs:
            node.saved = (packed._data,)
        if not multi:
            return packed
        return tuple(packed[part[0]:part[1]].reshape(part[2]).to(part[3]) if part else
                     (o.detach() if isinstance(o, Tensor) else o) for o, part in zip(outs, node.layout))


def _pack_outputs(node, outs: tuple, non_differentiable: tuple):
    """Several outputs, one graph node: the differentiable outputs are flattened into one packed Tensor that
    ``node`` produces (returned; None if there are none), and each output is recorded as a slice of it (so the
    engine, which gives every node one output, sends each output's gradient back into the right slice)."""
    skip = {id(t) for t in non_differentiable}
    diff = [isinstance(o, Tensor) and o.dtype.kind == "f" and id(o) not in skip for o in outs]
    if not any(diff):
        return None
    common = np.result_type(*(o.dtype for o, d in zip(outs, diff) if d))
    layout, start = [], 0
    for o, d in zip(outs, diff):
        layout.append((start, start + o.numel(), o.shape, o.dtype) if d else None)
        start += o.numel() if d else 0
    node.layout = layout
    node.like = [(o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outs]
    return Tensor._wrap(np.concatenate([np.ravel(o._data).astype(common) for o, d in zip(outs, diff) if d]))


def once_differentiable(backward):
    """Decorator for a ``backward`` that cannot itself be differentiated: it runs without recording."""

    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        with no_grad():
            return backward(ctx, *grad_outputs)

    return wrapper
