"""``Function``: one differentiable operation, its forward and its backward rule side by side.

A subclass writes two methods::

    class Tanh(Function):
        def forward(ctx, x):               # NumPy arrays in, one array out
            y = np.tanh(x)
            ctx.saved = (y,)               # what backward needs
            return y

        def backward(ctx, g, F):           # upstream gradient in, one gradient per input out
            (y,) = ctx.saved
            return g * (1 - y * y)

``backward`` is written once but runs in two modes, chosen by the engine:

* plain backward: ``g`` and ``ctx.saved`` are NumPy arrays and ``F`` is :mod:`ops.array_ns`,
  so the rule costs what a hand-written NumPy backward costs and records nothing;
* ``create_graph=True``: ``g`` is a Tensor, every saved array that *is* an input's or the
  output's data is replaced by that Tensor, and ``F`` is :mod:`ops.tensor_ns`. The rule then runs
  on Tensors, is itself recorded, and can be differentiated again.

So a rule uses only operators (``+ - * / ** @``, comparisons) and ``F.<helper>``.
Arguments of ``apply`` that are not Tensors (Python numbers, axes, shapes) are constants: they are
passed to ``forward`` unchanged and receive no gradient.
"""

from __future__ import annotations

from itertools import count

import numpy as np

from ..tensor import Tensor
from .grad_mode import _State

_new = object.__new__
_ndarray, _generic = np.ndarray, np.generic
_NEEDS: dict = {}  # one shared tuple per needs_input_grad pattern: one object per node fewer for the GC
next_seq = count().__next__  # numbers the recorded nodes: the engine runs the latest one first


class Function:
    """Base class of every differentiable op. Instances are the nodes of the graph."""

    __slots__ = ("inputs", "saved", "bumps", "needs_input_grad", "seq", "__dict__")
    # True where plain backward always returns, per input that needs one, a new array of its own (no view,
    # not g, none shared) of that input's shape and dtype: the engine then skips its checks, and a leaf keeps
    # the array as .grad
    fresh_grads = False

    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(ctx, g, F):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs) -> Tensor:
        """Run ``forward`` on the arrays of ``args``; record a node if any input requires grad."""
        ctx = _new(cls)
        ctx.saved = ()
        arrays, needs = [], []
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
                needs.append(a._requires_grad)
            else:
                arrays.append(a)
                needs.append(False)
        data = ctx.forward(*arrays, **kwargs) if kwargs else ctx.forward(*arrays)
        out = _new(Tensor)  # Tensor._wrap, inlined: this is the hottest line of the library
        # NumPy returns scalars (np.float64, ...) from ufuncs on 0-d arrays; keeping them is ~10x faster
        # than wrapping them back into 0-d arrays, which matters for graphs of scalars.
        out._data = data if type(data) is _ndarray or isinstance(data, _generic) else np.asarray(data)
        out._ctx = out.grad = out._hooks = None
        out._version = out._stamp = 0
        out._retains_grad = False
        if True in needs and _State.enabled:  # (requires_grad is always a bool)
            ctx.inputs = args
            needs = tuple(needs)
            ctx.needs_input_grad = _NEEDS.setdefault(needs, needs)
            ctx.bumps = _State.bumps  # in-place changes so far: a tensor stamped later changed after this node
            ctx.seq = next_seq()
            out._requires_grad = True
            out._ctx = ctx
        else:
            out._requires_grad = False
        if _State.anomaly:
            from .anomaly import check_forward

            check_forward(ctx, out._data)
        return out

    @property
    def _label(self) -> str:  # the op in error messages
        return type(self).__name__

    def name(self) -> str:
        """PyTorch's ``grad_fn.name()``: ``'MulBackward'`` (PyTorch: ``'MulBackward0'``)."""
        return f"{self._label}Backward"

    @property
    def next_functions(self) -> tuple:
        """PyTorch's ``grad_fn.next_functions``: ``(node, 0)`` per tensor input: its ``grad_fn``, an
        ``AccumulateGrad`` for a leaf that requires grad, else ``None``. Empty once backward freed the node."""
        return tuple((_next_node(a), 0) for a in getattr(self, "inputs", ()) if isinstance(a, Tensor))

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class AccumulateGrad:
    """The graph node that stands for a leaf in ``next_functions``: ``variable`` is the leaf."""

    __slots__ = ("variable",)
    next_functions = ()

    def __init__(self, variable: Tensor):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


def _next_node(t: Tensor):
    if t._ctx is not None:
        return t._ctx
    return AccumulateGrad(t) if t._requires_grad else None
