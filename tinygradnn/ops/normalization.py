"""Fused normalisation: ``(x - mean) / sqrt(var + eps) * weight + bias`` as one graph node.

The input is viewed as ``(N, G, C, S)`` and normalised over ``axes``: ``(2, 3)`` (each ``(n, g)``: layer_norm
with ``G = 1``, group_norm) or ``(0, 3)`` (each channel: batch_norm in training); ``weight`` and ``bias`` are
viewed as ``(1, G, C, 1)``. Forward saves the normalised x-hat and ``1/std``; backward is the textbook rule

    dx = (gxh - mean(gxh) - xhat * mean(gxh * xhat)) / std,   gxh = g * weight,
    dweight = sum(g * xhat),   dbias = sum(g),

with the sums as BLAS products with ones (:func:`.namespaces.ones_vector`), several times faster than NumPy's
reductions over these axes. float16 is computed in float32 and rounded once, as PyTorch. With
``create_graph=True`` the rule records x-hat again from the input and runs on Tensors, so the gradient can be
differentiated again.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .elementwise import cast
from .namespaces import ones_vector


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

    def forward(ctx, x, weight, bias, view, axes, eps, stats):
        half = x.dtype == np.float16
        xv = x.reshape(view)
        xv = xv.astype(np.float32) if half else np.ascontiguousarray(xv)
        count = math.prod(view[a] for a in axes)
        mean = _sums(xv, axes)
        mean /= count
        xhat = np.subtract(xv, mean)
        var = _dots(xhat, xhat, axes)
        var /= count
        if stats is not None:
            stats.extend((mean, var))
        inv_std = np.sqrt(var + eps)
        np.reciprocal(inv_std, out=inv_std)
        xhat *= inv_std
        ctx.saved, ctx.view, ctx.axes, ctx.count = (xhat, inv_std, weight), view, axes, count
        ctx.shapes = (None if weight is None else weight.shape, None if bias is None else bias.shape)
        affine = _affine(view)
        if weight is not None:
            out = np.multiply(xhat, weight.reshape(affine), dtype=xhat.dtype)
            if bias is not None:
                np.add(out, bias.reshape(affine), out=out, dtype=xhat.dtype)
        elif bias is not None:
            out = np.add(xhat, bias.reshape(affine), dtype=xhat.dtype)
        else:
            out = xhat if not half else xhat.copy()  # (saved: the engine sees an in-place change of the output)
        out = out.reshape(x.shape)
        return out.astype(np.float16) if half else out

    def backward(ctx, g, F):
        if type(g) is not np.ndarray:  # create_graph: record x-hat again and run the rule on Tensors
            return _backward_recorded(ctx, g)
        xhat, inv_std, weight = ctx.saved
        nx, nw, nb = ctx.needs_input_grad[:3]
        (n, groups, c, _), dtype = ctx.view, g.dtype
        gv = np.ascontiguousarray(g.reshape(ctx.view), dtype=xhat.dtype)
        per_channel = ctx.axes == (0, 3)  # (else the groups lie along (C, S))
        ones = ones_vector(n, xhat.dtype)
        sum_g = _per_channel(gv)  # (N, G * C): summed over S
        if per_channel:
            gw = _dots(gv, xhat, (0, 3)).reshape(-1) if nw or nx else None
        else:
            prod = np.multiply(gv, xhat)
            sum_gx = _per_channel(prod)
            gw = ones @ sum_gx if nw else None
        gb = ones @ sum_g if nb or (nx and per_channel) else None
        gx = None
        if nx:
            w = np.ones(groups * c, xhat.dtype) if weight is None else weight.reshape(-1).astype(xhat.dtype)
            k = 1.0 / ctx.count
            buf = np.empty(g.shape, xhat.dtype)  # (gx, returned as is: the engine keeps it as a leaf's .grad)
            if per_channel:  # gx = g * w / std - xhat * a - b with a and b per channel
                scale = (w * inv_std.reshape(-1)).reshape(_affine(ctx.view))
                gx = np.multiply(gv, scale, out=buf.reshape(ctx.view))
                gx -= np.multiply(xhat, scale * (gw.reshape(scale.shape) * k))
                gx -= scale * (gb.reshape(scale.shape) * k)
            else:  # the means of g * w and g * w * xhat per (n, g)
                if groups == 1:
                    mean_g, mean_gx = sum_g @ w, sum_gx @ w
                else:
                    w2 = w.reshape(groups, c)
                    mean_g = np.einsum("ngc,gc->ng", sum_g.reshape(n, groups, c), w2)
                    mean_gx = np.einsum("ngc,gc->ng", sum_gx.reshape(n, groups, c), w2)
                gx = buf.reshape(ctx.view)
                if weight is not None:
                    np.multiply(gv, w.reshape(_affine(ctx.view)), out=gx)
                else:
                    np.copyto(gx, gv)
                gx -= (mean_g * k).reshape(n, groups, 1, 1)
                gx -= np.multiply(xhat, (mean_gx * k).reshape(n, groups, 1, 1), out=prod)
                gx *= inv_std
            gx = buf
        gw = _own(gw, ctx.shapes[0]) if nw else None
        gb = _own(gb, ctx.shapes[1]) if nb else None
        if dtype == np.float16:
            gx, gw, gb = (None if a is None else a.astype(np.float16) for a in (gx, gw, gb))
        return gx, gw, gb, None, None, None, None


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
    return Normalize.apply(x, weight, bias, view, axes, eps, stats)
