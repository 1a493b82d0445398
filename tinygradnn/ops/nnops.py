"""Fused neural-network ops: one graph node where a composition would need several.

* :func:`linear`: ``x @ W.T + b`` (one matmul forward, two matmuls and a sum backward);
* :func:`cross_entropy_labels`: softmax cross-entropy from logits and integer labels, with the
  classic ``softmax - onehot`` gradient taken from the saved probabilities;
* :func:`mse_loss`: squared error with a BLAS dot, the difference recomputed in backward;
* :func:`binary_cross_entropy`: PyTorch's clamped-log BCE on probabilities;
* :func:`dropout`: ``x * mask`` with the scaled mask saved;
* :func:`hardtanh`: ``clip(x, lo, hi)`` with PyTorch's gradient (0 at the bounds, unlike ``clamp``'s);
* :func:`chain`: several one-input ops (``Linear``, activations) back to back as one node, running the
  ops' own rules: ``nn.Sequential``'s fast path.

Each backward rule also runs with ``create_graph=True`` (Tensors instead of arrays), so double
backward through these ops is correct; :mod:`tinygradnn.nn.functional` calls them and handles the
general cases (class weights, ignore_index, label smoothing, ...) by composing ordinary ops.
"""

from __future__ import annotations

import math
from itertools import repeat
from operator import is_

import numpy as np

from ..autograd.function import Function, _new
from ..tensor import Tensor
from .namespaces import ones_vector, softplus_neg_abs, where_array


# ----------------------------------------------------------------------------- linear
class Linear(Function):
    """``y = x @ w.T + b`` for ``x`` of shape ``(..., in)``, ``w`` ``(out, in)``, ``b`` ``(out,)`` or None."""

    fresh_grads = True  # (three matmuls)

    def forward(ctx, x, w, b):
        ctx.saved = (x, w)
        y = x @ w.T if x.ndim <= 2 else _rows_times(x, w.T)
        if b is not None:
            y += b
        return y

    def backward(ctx, g, F):
        (x, w), (nx, nw, nb) = ctx.saved, ctx.needs_input_grad
        out_f, in_f = w.shape
        gx = None
        if nx:  # (..., out) @ (out, in) -> (..., in)
            gx = _rows_times(g, w) if g.ndim > 2 and type(g) is np.ndarray else F.matmul(g, w)
        if g.ndim != 2:  # every leading dim is a batch dim for the weight grads
            rows = math.prod(g.shape[:-1])
            g, x = F.reshape(g, (rows, out_f)), F.reshape(x, (rows, in_f))
        gw = F.matmul(g.T, x) if nw else None  # (g is 2-D here: .T is a C attribute of an array)
        gb = F.matmul(ones_vector(g.shape[0], g.dtype), g) if nb else None  # column sums: BLAS beats sum(0)
        return gx, gw, gb


def _rows_times(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``x @ m`` for ``x`` of 3 or more dims and a matrix ``m``, as one 2-D product of ``x``'s rows: NumPy's
    stacked matmul of the same is several times slower. A new array of its own."""
    rows = math.prod(x.shape[:-1])
    out = np.empty(x.shape[:-1] + m.shape[1:], np.result_type(x, m))
    np.matmul(x.reshape(rows, x.shape[-1]), m, out=out.reshape(rows, m.shape[1]))
    return out


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` as one node: ``(..., in), (out, in), (out,) -> (..., out)``. No checks."""
    return Linear.apply(x, weight, bias)


# ----------------------------------------------------------------------------- cross-entropy
class CrossEntropyLabels(Function):
    """Mean/sum/per-sample ``-log softmax(x)[n, y_n]`` along the class dim 1, for logits ``(N, C, *)`` and labels
    ``(N, *)``."""

    fresh_grads = True  # (probs * g, written through the labels)

    def forward(ctx, x, labels, reduction):
        shifted = x - np.maximum.reduce(x, axis=1, keepdims=True)  # (the ufunc's reduce: no Python wrapper)
        exp = np.exp(shifted)
        total = np.add.reduce(exp, axis=1, keepdims=True)
        at = _label_offsets(x.shape, labels)  # where each label's logit lies in the flat logits
        losses = np.log(total[:, 0]) - np.take(shifted, at)
        exp /= total  # now the probabilities
        ctx.saved, ctx.at, ctx.reduction = (x, exp), at, reduction
        if reduction == "none":
            return losses
        summed = np.add.reduce(losses, axis=None)  # losses.sum() without its Python wrapper
        if reduction == "sum":
            return summed
        # sum / count: NumPy's float32 mean without its Python wrapper; no labels give nan (0 / 0), as in PyTorch
        return summed / losses.size if losses.size else np.array(np.nan, x.dtype)

    def backward(ctx, g, F):
        x, probs = ctx.saved
        count = ctx.at.size
        if ctx.reduction == "none":
            g = F.reshape(g, x.shape[:1] + (1,) + x.shape[2:])  # one factor per label, broadcast over the classes
        elif ctx.reduction == "mean":
            g = g * (1.0 / count) if count else g
        if isinstance(x, Tensor):  # create_graph: differentiable softmax so double backward is right
            onehot = np.zeros(x.shape, dtype=x.dtype)
            onehot.flat[ctx.at] = 1
            return F.softmax(x, 1) * g - onehot * g, None, None
        grad = np.multiply(probs, g, order="C")  # d loss_n / d x_nj = g_n (p_nj - [j == y_n])
        flat = grad.reshape(-1)  # (a view: grad is new and C-contiguous)
        flat[ctx.at] -= g.reshape(ctx.at.shape) if ctx.reduction == "none" else g
        return grad, None, None


def _label_offsets(shape: tuple, labels: np.ndarray) -> np.ndarray:
    """The flat index of ``x[n, labels[n, *s], *s]`` in C-contiguous logits ``x`` of ``shape (N, C, *)``, for each
    label: ``(N, *)``. Unique, so a gradient can be written through them without ``np.add.at``."""
    n, c = shape[:2]
    positions = math.prod(shape[2:])  # per sample and class
    if labels.ndim == 1:  # (N, C): the common case
        return np.arange(0, n * c, c) + labels
    if not labels.size:
        return np.zeros(labels.shape, np.intp)
    firsts = (np.arange(0, n * c * positions, c * positions)[:, None] + np.arange(positions)).reshape(labels.shape)
    return labels * positions + firsts


def cross_entropy_labels(logits: Tensor, labels: np.ndarray, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of ``logits (N, C, *)`` against valid int ``labels (N, *)`` in one node. No checks."""
    return CrossEntropyLabels.apply(logits, labels, reduction)


# ----------------------------------------------------------------------------- mean squared error
class MSELoss(Function):
    """``sum((x - t)^2)``, divided by its size for 'mean', for ``x`` and ``t`` of one non-empty shape."""

    def forward(ctx, x, t, reduction):
        ctx.saved, ctx.reduction, ctx.size = (x, t), reduction, x.size
        d = x - t
        if d.dtype == np.float16:  # float16 squares summed in float32, as PyTorch (the count may exceed 65504)
            total = np.add.reduce(d * d, axis=None, dtype=np.float32)
            return (total / d.size if reduction == "mean" else total).astype(np.float16)
        total = np.vdot(d, d)  # one BLAS dot instead of a square and a sum
        return total / d.size if reduction == "mean" else total

    def backward(ctx, g, F):
        (x, t), (nx, nt, _) = ctx.saved, ctx.needs_input_grad
        scale = 2.0 / ctx.size if ctx.reduction == "mean" else 2.0
        if x.dtype == np.float16:  # in float32 and rounded once, as PyTorch (2 / size may underflow float16)
            gx = F.cast((x - t) * (F.cast(g, np.float32) * scale), np.float16)
        elif isinstance(x, Tensor):  # create_graph
            gx = (x - t) * (g * scale)
        else:
            gx = x - t  # (not saved: recomputed)
            gx *= g * scale
        return gx if nx else None, -gx if nt else None, None


def mse_loss(x: Tensor, t: Tensor, reduction: str = "mean") -> Tensor:
    """'mean' or 'sum' squared error of two same-shape, same-dtype, non-empty tensors in one node. No checks."""
    return MSELoss.apply(x, t, reduction)


# ----------------------------------------------------------------------------- binary cross-entropy
_LOG_FLOOR = -100.0  # PyTorch clamps log(p) and log(1 - p) at -100, so p = 0 or 1 gives a finite loss
_TINY = math.exp(_LOG_FLOOR)
_BCE_EPS = float(np.float32(1e-12))  # PyTorch's floor of p (1 - p) in the gradient: a float32 constant


def _clamped_log(p, F):
    """``max(log p, -100)`` without ever evaluating ``log 0`` (works on arrays and on Tensors)."""
    ok = p > _TINY
    return F.where(ok, F.log(F.where(ok, p, 1.0)), _LOG_FLOOR)


class BinaryCrossEntropy(Function):
    """Elementwise ``-(y log p + (1 - y) log(1 - p))`` with both logs clamped at -100 (PyTorch's rule)."""

    def forward(ctx, p, y):
        ctx.saved = (p, y)
        return -(y * _clamped_log(p, np) + (1 - y) * _clamped_log(1 - p, np))

    def backward(ctx, g, F):
        (p, y), (need_p, need_y) = ctx.saved, ctx.needs_input_grad
        gp = gy = None
        if need_p:  # PyTorch's gradient: (p - y) / max(p (1 - p), 1e-12), finite at p = 0 and p = 1
            d = p * (1 - p)
            gp = g * (p - y) / F.where(d > _BCE_EPS, d, _BCE_EPS)
        if need_y:  # PyTorch's gradient: log(1 - p) - log(p), not clamped (+-inf at p = 0 and p = 1)
            with np.errstate(divide="ignore"):
                gy = g * (F.log(1 - p) - F.log(p))
        return gp, gy


def binary_cross_entropy(p: Tensor, target) -> Tensor:
    """Unreduced BCE of probabilities ``p`` against ``target`` (same shape). No checks."""
    return BinaryCrossEntropy.apply(p, target)


def _reduced(loss: np.ndarray, reduction: str):
    """An elementwise loss array summed, averaged or as it is."""
    if reduction == "none":
        return loss
    total = np.add.reduce(loss, axis=None)
    return total / loss.size if reduction == "mean" else total


def _scaled(g, reduction: str, size: int):
    """The upstream gradient of a reduced elementwise loss, per element: ``g / size`` for 'mean'."""
    return g * (1.0 / size) if reduction == "mean" else g


class BCEWithLogits(Function):
    """``t softplus(-x) + (1 - t) softplus(x)``, the binary cross-entropy of ``sigmoid(x)``, reduced; gradients
    ``sigmoid(x) - t`` and ``-x``. ``x`` and ``t`` of one non-empty shape and dtype.

    As the sum of ``softplus(-|x|)``, ``(1 - t) relu(x)`` and ``t relu(-x)``, non-negative terms: no digits are
    lost to cancellation when a confident answer is right."""

    def forward(ctx, x, t, reduction):
        ctx.saved, ctx.reduction = (x, t), reduction
        loss = softplus_neg_abs(x)
        relu = np.maximum(x, 0)
        loss += relu * (1 - t)
        relu -= x  # relu(-x), exactly
        relu *= t
        loss += relu
        return _reduced(loss, reduction)

    def backward(ctx, g, F):
        (x, t), (nx, nt, _) = ctx.saved, ctx.needs_input_grad
        g = _scaled(g, ctx.reduction, x.size)
        return (F.sigmoid(x) - t) * g if nx else None, -x * g if nt else None, None


def bce_with_logits(x: Tensor, t: Tensor, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy from logits of two same-shape, same-dtype, non-empty tensors in one node. No checks."""
    return BCEWithLogits.apply(x, t, reduction)


class SmoothL1(Function):
    """Smooth L1 loss of ``d = x - t``: ``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - beta / 2``, reduced;
    with ``huber`` the Huber loss (``beta`` times it: ``0.5 d^2``, else ``beta (|d| - beta / 2)``). ``beta > 0``;
    ``x`` and ``t`` of one non-empty shape and dtype. Gradient ``d / beta`` (Huber: ``d``) inside, the sign outside."""

    def forward(ctx, x, t, beta, huber, reduction):
        ctx.saved, ctx.beta, ctx.huber, ctx.reduction = (x, t), beta, huber, reduction
        d = x - t
        size = np.abs(d)
        inside = ~(size >= beta)  # (NaN too: a NaN loss)
        with np.errstate(over="ignore"):  # (the square of a huge d, outside: not used)
            square = d * d
        square *= 0.5
        if not huber:
            square /= beta
        size -= 0.5 * beta
        if huber:
            size *= beta
        return _reduced(where_array(inside, square, size), reduction)

    def backward(ctx, g, F):
        (x, t), (nx, nt, *_) = ctx.saved, ctx.needs_input_grad
        beta, d = ctx.beta, x - t
        inside = d if ctx.huber else d * (1 / beta)
        outside = F.sign(d) * beta if ctx.huber else F.sign(d)
        gx = F.where(~(abs(d) >= beta), inside, outside) * _scaled(g, ctx.reduction, x.size)
        return gx if nx else None, -gx if nt else None, None, None, None


def smooth_l1(x: Tensor, t: Tensor, beta: float, huber: bool, reduction: str = "mean") -> Tensor:
    """Smooth L1 (or Huber) loss of two same-shape, same-dtype, non-empty tensors in one node (see
    :class:`SmoothL1`). No checks."""
    return SmoothL1.apply(x, t, beta, huber, reduction)


# ----------------------------------------------------------------------------- dropout
class Dropout(Function):
    """``x * mask`` where ``mask`` is 0 with probability ``p`` and ``1 / (1 - p)`` otherwise."""

    def forward(ctx, x, p, rng):
        keep = rng.random(x.shape, dtype=np.float32) >= p
        mask = keep.astype(x.dtype)
        mask *= 1.0 / (1.0 - p)
        ctx.mask = mask
        return x * mask

    def backward(ctx, g, F):
        return g * ctx.mask, None, None


def dropout(x: Tensor, p: float, rng: np.random.Generator) -> Tensor:
    """Zero each element with probability ``0 <= p < 1`` and scale the rest by ``1 / (1 - p)``. No checks."""
    return Dropout.apply(x, p, rng)


# ----------------------------------------------------------------------------- hardtanh
class Hardtanh(Function):
    """``clip(x, lo, hi)``; the gradient passes where ``lo < x < hi`` (and at NaN), as PyTorch's."""

    def forward(ctx, x, lo, hi):
        ctx.mask = ~((x <= lo) | (x >= hi))
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    def backward(ctx, g, F):
        return g * ctx.mask, None, None


def hardtanh(x: Tensor, lo: float, hi: float) -> Tensor:
    """``x`` clipped to ``[lo, hi]`` (``lo <= hi``), gradient 0 at and beyond the bounds. No checks."""
    return Hardtanh.apply(x, lo, hi)


# ----------------------------------------------------------------------------- chains of layers
class Chain(Function):
    """Ops that each take the previous one's output, run back to back as one graph node.

    ``steps`` holds each op's Function class and the slice ``start:stop`` of ``params`` it takes after its
    input, e.g. ``((Linear, 0, 2), (Tanh, 2, 2), (Linear, 2, 4))``. Forward and backward run the ops' own
    rules, in order and in reverse, so the numbers are the unfused ops' numbers; the engine sees one node
    instead of several. An activation (an op without parameters, ``forward(x, out)``) writes its result into
    a Linear's output, which no one else holds.
    """

    fresh_grads = True  # (its steps' gradients: it starts with a Linear)

    def forward(ctx, steps, x, *params):
        nodes = []
        private = False  # whether x is a Linear's output: no op saved it, so an activation may overwrite it
        for cls, start, stop in steps:
            node = _new(cls)
            node.saved = ()
            if start != stop:
                x = node.forward(x, *params[start:stop])
                private = True
            else:  # an activation (it saves its output)
                x = node.forward(x, x) if private else node.forward(x)
                private = False
            nodes.append(node)
        ctx.steps = steps
        # the output too if the last op saved it, so that the engine sees an in-place change of it
        ctx.saved = (nodes, x) if any(map(is_, node.saved, repeat(x))) else (nodes,)
        return x

    @property
    def _label(self) -> str:  # (error messages: which layers)
        return f"Chain({', '.join(step[0].__name__ for step in self.steps)})"

    def name(self) -> str:
        return "ChainBackward"

    def backward(ctx, g, F):
        if not isinstance(g, np.ndarray):  # create_graph: record the ops again and run their rules on Tensors
            return _chain_backward_recorded(ctx, g, F)
        nodes, steps = ctx.saved[0], ctx.steps
        before, needs = ctx.needs_input_grad[1], ctx.needs_input_grad[2:]  # x's, and the params'
        for node, (_, start, stop) in zip(nodes, steps):
            node.needs_input_grad = (before,) + needs[start:stop]
            before = before or True in node.needs_input_grad  # whether the next op's input needs a gradient
        grads = [None] * len(needs)
        for node, (_, start, stop) in zip(reversed(nodes), reversed(steps)):
            g = node.backward(g, F)
            if type(g) is tuple:
                grads[start:stop] = g[1:]
                g = g[0]
            if g is None:  # nothing before this op needs a gradient
                break
        return (None, g, *grads)


def _chain_backward_recorded(ctx, g: Tensor, F) -> tuple:
    """:class:`Chain`'s backward for ``create_graph``: the ops recorded again from the inputs, then each
    op's rule on Tensors, latest first, so that the gradients can be differentiated again."""
    from ..autograd.engine import _as_tensors

    x, params = ctx.inputs[1], ctx.inputs[2:]
    outs = []
    for cls, start, stop in ctx.steps:
        x = cls.apply(x, *params[start:stop])
        outs.append(x)
    grads = [None] * len(params)
    for out, (_, start, stop) in zip(reversed(outs), reversed(ctx.steps)):
        node = out._ctx
        saved, node.saved = node.saved, _as_tensors(node, out)  # (as the engine does for create_graph)
        try:
            res = node.backward(g, F)
        finally:
            node.saved = saved
        res = res if type(res) is tuple else (res,)
        grads[start:stop] = res[1:]
        g = res[0]
        if g is None:
            break
    return (None, g, *grads)


def chain(steps: tuple, x: Tensor, *params) -> Tensor:
    """Run ``steps`` (``(FunctionClass, start, stop)``: the op and its slice of ``params``) on ``x`` as one node;
    see :class:`Chain`. No checks."""
    return Chain.apply(steps, x, *params)
