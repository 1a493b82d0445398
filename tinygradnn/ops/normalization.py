"""Fused normalisation: ``(x - mean) / sqrt(var + eps) * weight + bias`` as one graph node.

The input is viewed as ``(N, G, C, S)`` and normalised over ``axes``: ``(2, 3)`` (each ``(n, g)``: layer_norm
with ``G = 1``, group_norm) or ``(0, 3)`` (each channel: batch_norm in training); ``weight`` and ``bias`` are
viewed as ``(1, G, C, 1)``. Forward saves ``1/std`` and ``x - mean`` (or x-hat for layer_norm's weight, see
``Normalize.forward``); backward is the textbook rule

    dx = (gxh - mean(gxh) - xhat * mean(gxh * xhat)) / std,   gxh = g * weight,
    dweight = sum(g * xhat),   dbias = sum(g),

with the sums as BLAS products with ones (:func:`.namespaces.ones_vector`) or einsum, several times faster than
NumPy's reductions over these axes, and ``1/std`` folded into per-row or per-channel factors. Each pass over x
is a NumPy ufunc; the broadcasts along rows of 512+ elements run under :func:`.namespaces.in_rows` and
layer_norm's weight and bias under :func:`.namespaces.per_column` (both about 1.6x faster per pass).
float16 is computed in float32 and rounded once, as PyTorch. With
``create_graph=True`` the rule records x-hat again from the input and runs on Tensors, so the gradient can be
differentiated again.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .elementwise import cast
from .namespaces import in_rows, ones_vector, per_column


def _per_channel(a: np.ndarray) -> np.ndarray:
    """``a (N, G, C, S)`` summed over S: ``(N, G * C)`` (a view of ``a`` when ``S == 1``)."""
    n, g, c, s = a.shape
    return (a.reshape(n * g * c, s) @ ones_vector(s, a.dtype)).reshape(n, g * c) if s > 1 else a.reshape(n, g * c)


def _sums(a: np.ndarray, axes: tuple) -> np.ndarray:
    """``a.sum(axes, keepdims=True)`` of a contiguous ``(N, G, C, S)`` array over ``(2, 3)`` or ``(0, 3)``."""
    n, g, c, s = a.shape
    if axes == (2, 3):
        return (a.reshape(n * g, c * s) @ ones_vector(c * s, a.dtype)).reshape(n, g, 1, 1)
    return (ones_vector(n, a.dtype) @ _per_channel(a)).reshape(1, g, c, 1)


def _dots(a: np.ndarray, b: np.ndarray, axes: tuple) -> np.ndarray:
    """``(a * b).sum(axes, keepdims=True)`` as :func:`_sums`, without the product array (einsum)."""
    n, g, c, s = a.shape
    if axes == (2, 3):
        return np.einsum("ij,ij->i", a.reshape(n * g, c * s), b.reshape(n * g, c * s)).reshape(n, g, 1, 1)
    return np.einsum("ncs,ncs->c", a.reshape(n, g * c, s), b.reshape(n, g * c, s)).reshape(1, g, c, 1)


def _own(a: np.ndarray, shape: tuple) -> np.ndarray:
    """``a`` as an array of ``shape`` that is no view (a copy if need be)."""
    return a if a.base is None and a.shape == shape else a.reshape(shape).copy()


class Normalize(Function):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` over ``axes`` of ``x`` viewed as ``view`` (see the
    module docstring); ``weight`` and ``bias`` (or None) of ``G * C`` elements and of ``x``'s dtype.
    ``stats``: a list that receives the mean and the biased variance (float32 for float16), or None."""

    fresh_grads = True

    def forward(ctx, x, weight, bias, view, axes, eps, stats):  # (run under in_rows by `normalized`)
        half = x.dtype == np.float16
        xv = x.reshape(view)
        xv = xv.astype(np.float32) if half else np.ascontiguousarray(xv)
        count = math.prod(view[a] for a in axes)
        mean = _sums(xv, axes)
        mean /= count
        centered = np.subtract(xv, mean)
        var = _dots(centered, centered, axes)
        var /= count
        if stats is not None:
            stats.extend((mean, var))
        inv_std = np.sqrt(var + eps)
        np.reciprocal(inv_std, out=inv_std)
        affine = _affine(view)
        w = None if weight is None else weight.reshape(affine)
        # Saved: x - mean where 1/std * weight is small beside x (batch_norm, or 4+ elements S per channel): one
        # multiply for the output and none to make x-hat; else x-hat (layer_norm's weight: 1/std per row and weight
        # per column would make a product as large as x, two multiplies anyway)
        saves_xhat = w is not None and axes != (0, 3) and view[3] < 4
        columns = view[3] == 1 and x.size >= 65536  # (weight and bias per column of (N, G * C): per_column)
        if saves_xhat:
            centered *= inv_std
            if columns:
                out = per_column(np.multiply, centered.reshape(view[0], -1), weight.reshape(-1),
                                 np.empty(centered.shape, centered.dtype).reshape(view[0], -1)).reshape(view)
            else:
                out = np.multiply(centered, w, dtype=centered.dtype)
        else:
            out = np.multiply(centered, inv_std if w is None else inv_std * w, dtype=centered.dtype)
        if bias is not None:
            if columns:
                per_column(np.add, out.reshape(view[0], -1), bias.reshape(-1), out.reshape(view[0], -1))
            else:
                np.add(out, bias.reshape(affine), out=out, dtype=out.dtype)
        ctx.saved, ctx.view, ctx.axes, ctx.count, ctx.xhat = (centered, inv_std, weight), view, axes, count, saves_xhat
        ctx.shapes = (None if weight is None else weight.shape, None if bias is None else bias.shape)
        out = out.reshape(x.shape)
        return out.astype(np.float16) if half else out

    def backward(ctx, g, F):
        if type(g) is not np.ndarray:  # create_graph: record x-hat again and run the rule on Tensors
            return _backward_recorded(ctx, g)
        if g.size < 4096:
            return ctx._backward(g)
        return in_rows(_run(ctx.view, ctx.axes), ctx._backward, g)

    def _backward(ctx, g):
        """The rule ``gx = (g * w - mean(g * w) - xhat * mean(g * w * xhat)) / std``, ``gw = sum(g * xhat)``,
        ``gb = sum(g)``, with ``x - mean`` or x-hat saved (``ctx.xhat``): 4 to 5 passes over x."""
        saved, inv_std, weight = ctx.saved  # (saved: x - mean, or x-hat)
        nx, nw, nb = ctx.needs_input_grad[:3]
        view, dtype, ftype = ctx.view, g.dtype, saved.dtype
        n, groups, c, s = view
        gv = np.ascontiguousarray(g.reshape(view), dtype=ftype)
        sum_g = _per_channel(gv)  # (N, G * C): g summed over S
        if s > 1:  # the sums over S of g * saved, read without their product array
            sum_gs = np.einsum("ij,ij->i", gv.reshape(-1, s), saved.reshape(-1, s)).reshape(n, groups * c)
            prod = None
        else:
            prod = np.multiply(gv, saved)
            sum_gs = prod.reshape(n, groups * c)
        k = 1.0 / ctx.count
        w = None if weight is None else weight.reshape(-1)
        w = w if w is None or w.dtype == ftype else w.astype(ftype)
        affine = _affine(view)
        ones = ones_vector(n, ftype)
        gw = gb = gx = None
        buf = np.empty(g.shape, ftype) if nx else None  # (gx, returned as is: the engine keeps it as a leaf's .grad)
        if ctx.axes == (0, 3):  # batch_norm: statistics per channel, inv_std (1, G, C, 1), x - mean saved
            inv = inv_std.reshape(-1)
            gb = ones @ sum_g
            gw = inv * (ones @ sum_gs)  # sum(g * x-hat)
            if nx:  # gx = g * scale - (x - mean) * a - b per channel, scale = weight / std
                scale = inv if w is None else w * inv
                a, b = (scale * inv * gw * k), (scale * gb * k)
                gx = np.multiply(gv, scale.reshape(affine), out=buf.reshape(view))
                gx -= np.multiply(saved, a.reshape(affine))
                gx -= b.reshape(affine)
        else:  # layer_norm, group_norm: statistics per (n, g), inv_std (N, G, 1, 1)
            if nw:  # the sum over n of sum(g * x-hat)
                if ctx.xhat:
                    gw = ones @ sum_gs
                elif groups == 1:
                    gw = inv_std.reshape(n) @ sum_gs
                else:
                    gw = np.einsum("ng,ngc->gc", inv_std.reshape(n, groups), sum_gs.reshape(n, groups, c)).reshape(-1)
            if nb:
                gb = ones @ sum_g
            if nx:  # the sums over each (n, g) of g * w and g * w * saved
                if w is None:
                    sum_gw, sum_gws = sum_g.reshape(n, groups, c).sum(2), sum_gs.reshape(n, groups, c).sum(2)
                elif groups == 1:
                    sum_gw, sum_gws = sum_g @ w, sum_gs @ w
                else:
                    w2 = w.reshape(groups, c)
                    sum_gw = np.einsum("ngc,gc->ng", sum_g.reshape(n, groups, c), w2)
                    sum_gws = np.einsum("ngc,gc->ng", sum_gs.reshape(n, groups, c), w2)
                shape = inv_std.shape
                gx = buf.reshape(view)
                if ctx.xhat:  # (g * w - mean(g * w) - x-hat * mean(g * w * x-hat)) / std
                    if s == 1 and g.size >= 65536:
                        per_column(np.multiply, gv.reshape(n, -1), w, gx.reshape(n, -1))
                    else:
                        np.multiply(gv, w.reshape(affine), out=gx)
                    gx -= (sum_gw * k).reshape(shape)
                    gx -= np.multiply(saved, (sum_gws * k).reshape(shape), out=prod)
                    gx *= inv_std
                else:  # g * (w / std) - (x - mean) * a - b, with a and b per (n, g): one multiply for g
                    np.multiply(gv, inv_std if w is None else inv_std * w.reshape(affine), out=gx)
                    ik = inv_std * k
                    a = sum_gws.reshape(shape) * ik
                    a *= inv_std
                    a *= inv_std
                    gx -= np.multiply(saved, a, out=prod)
                    gx -= sum_gw.reshape(shape) * ik
        gx = buf
        gw = _own(gw, ctx.shapes[0]) if nw else None
        gb = _own(gb, ctx.shapes[1]) if nb else None
        if dtype == np.float16:
            gx, gw, gb = (None if a is None else a.astype(np.float16) for a in (gx, gw, gb))
        return gx, gw, gb, None, None, None, None


def _run(view: tuple, axes: tuple) -> int:
    """The rows for :func:`.namespaces.in_rows`: the broadcasts of per-channel values (weight; batch_norm's
    statistics) run along S, those of per-(n, g) statistics along C * S; S when long enough for both."""
    s = view[3]
    return s if axes == (0, 3) or s >= 512 else view[2] * s


def _backward_recorded(ctx, g: Tensor) -> tuple:
    """:class:`Normalize`'s backward for ``create_graph``: x-hat and ``1/std`` recorded again from the input,
    then the same rule on Tensors, so that the gradients can be differentiated again."""
    x, weight, bias, view, axes, eps, _ = ctx.inputs
    nx, nw, nb = ctx.needs_input_grad[:3]
    half = x.dtype == np.float16
    xv, gv = ((cast(t, np.float32) if half else t).reshape(view) for t in (x, g))
    centered = xv - xv.mean(axes, keepdim=True)
    inv_std = ((centered * centered).mean(axes, keepdim=True) + eps).rsqrt()
    xhat = centered * inv_std
    gx = gw = gb = None
    if nw:
        gw = (gv * xhat).sum((0, 3)).reshape(weight.shape)
    if nb:
        gb = gv.sum((0, 3)).reshape(bias.shape)
    if nx:
        gxh = gv if weight is None else gv * (cast(weight, np.float32) if half else weight).reshape(_affine(view))
        gx = ((gxh - gxh.mean(axes, keepdim=True) - xhat * (gxh * xhat).mean(axes, keepdim=True)) * inv_std)
        gx = gx.reshape(x.shape)
    if half:
        gx, gw, gb = (None if t is None else cast(t, np.float16) for t in (gx, gw, gb))
    return gx, gw, gb, None, None, None, None


def _affine(view: tuple) -> tuple:
    """The shape ``(1, G, C, 1)`` of ``weight`` and ``bias`` in the view ``(N, G, C, S)``."""
    return (1, view[1], view[2], 1)


def normalized_composed(x: Tensor, weight, bias, view: tuple, axes: tuple, eps: float) -> Tensor:
    """:class:`Normalize` composed of recorded ops (mean, subtract, multiply, rsqrt, ...)."""
    half = x.dtype == np.float16
    xv = (cast(x, np.float32) if half else x).reshape(view)
    if x.numel() == 0:  # (no statistics to take)
        out = xv * 1.0
    else:
        centered = xv - xv.mean(axes, keepdim=True)
        out = centered * ((centered * centered).mean(axes, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * (cast(weight, np.float32) if half else weight).reshape(_affine(view))
    if bias is not None:
        out = out + (cast(bias, np.float32) if half else bias).reshape(_affine(view))
    out = out.reshape(x.shape)
    return cast(out, np.float16) if half else out


def normalized(x: Tensor, weight: Tensor | None, bias: Tensor | None, view: tuple, axes: tuple, eps: float,
               stats: list | None = None) -> Tensor:
    """``x`` normalised over ``axes`` of ``view`` ``(N, G, C, S)``, then ``* weight + bias`` (shape ``(G * C,)``,
    or None) as one node; see the module docstring. ``stats``: a list that receives the mean and the biased
    variance (keepdims arrays of the view). No checks; an empty ``x`` takes the composed ops."""
    if x._data.size == 0:
        return normalized_composed(x, weight, bias, view, axes, eps)
    if x._data.size < 4096:  # (small: in_rows would cost more than it saves)
        return Normalize.apply(x, weight, bias, view, axes, eps, stats)
    return in_rows(_run(view, axes), Normalize.apply, x, weight, bias, view, axes, eps, stats)
