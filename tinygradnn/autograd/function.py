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

from ..tensor import Tensor
from .grad_mode import _State


class Function:
    """Base class of every differentiable op. Instances are the nodes of the graph."""

    __slots__ = ("inputs", "saved", "versions", "needs_input_grad", "__dict__")

    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(ctx, g, F):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs) -> Tensor:
        """Run ``forward`` on the arrays of ``args``; record a node if any input requires grad."""
        ctx = cls.__new__(cls)
        ctx.saved = ()
        out = Tensor._wrap(ctx.forward(*[a._data if isinstance(a, Tensor) else a for a in args], **kwargs))
        if _State.enabled:
            needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
            if any(needs):
                ctx.inputs = args
                ctx.needs_input_grad = needs
                ctx.versions = tuple(a._version if isinstance(a, Tensor) else 0 for a in args)
                out.requires_grad = True
                out._ctx = ctx
        if _State.anomaly:
            from .anomaly import check_forward

            check_forward(ctx, out._data)
        return out

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"
