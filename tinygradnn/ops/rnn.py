"""Fused recurrent ops: one graph node per layer and direction of an RNN, LSTM or GRU (whole sequence), or
per step of a cell.

Each op takes the input projection ``gi = x W_ih^T + b_ih`` (computed by the caller: for all steps at once
with one matmul), the (initial) state and the hidden-state weights, and does the rest in NumPy: per step
the matmul ``h W_hh^T + b_hh``, the gates and the new state. Backward is the hand-written chain rule of
the same formulas.

* :func:`rnn_step`: ``h' = tanh(gi + h W_hh^T + b_hh)`` (or relu);
* :func:`lstm_step`: PyTorch's gates ``i, f, g, o``; the state travels as one tensor ``[h | c]`` of shape
  ``(N, P + H)`` (``P`` is ``H``, or ``proj_size`` with ``W_hr``), so a step reads and writes one tensor;
* :func:`gru_step`: PyTorch's gates ``r, z, n`` (``r`` multiplies ``h W_hn^T + b_hn``);
* :func:`rnn_layer`, :func:`lstm_layer`, :func:`gru_layer`: the same step over a whole sequence ``gi``
  ``(L, N, G*H)`` (``G`` gates) as one node, whose output is the state after every step ``(L, N, ...)``
  (index ``t`` is step ``t`` also when ``reverse`` runs the steps from ``L - 1`` down to 0). Forward runs
  the time loop, writing each new state and the step's gate activations into preallocated ``(L, ...)``
  arrays. Backward takes the local derivatives of all steps at once, runs the time loop backwards with a
  few NumPy calls per step, then gets ``W_hh``'s and ``b_hh``'s gradients with one matmul each over all
  steps, and returns ``gi``'s gradient for all steps as one array.

The formulas live once: ``_*_forward`` (a step, on arrays or Tensors) and ``_*_local`` (its local
derivatives, elementwise, so for one step or all steps at once). With ``create_graph=True`` the LSTM and
GRU step rules first record the step again from its inputs, so the gate activations they use are Tensors
and the gradient can be differentiated again (the RNN rule only needs the step's output, which the engine
hands over as a Tensor); the layer ops record their steps again with the step ops and run those rules.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .namespaces import ArrayOps, ones_vector
from .shape import split, stack, unbind


def _hidden_grads(dpre, h, w_hh, needs, F) -> tuple:
    """The gradients of ``h``, ``W_hh`` and ``b_hh`` through ``h @ W_hh.T + b_hh``, given its gradient
    ``dpre`` (``needs``: which of the three are wanted). Also for all steps at once: ``dpre (L*N, G*H)``,
    ``h (L*N, P)``."""
    need_h, need_w, need_b = needs
    gh = F.matmul(dpre, w_hh) if need_h else None
    gw = F.matmul(dpre.T, h) if need_w else None
    gb = F.matmul(ones_vector(dpre.shape[0], dpre.dtype), dpre) if need_b else None  # column sums (BLAS)
    return gh, gw, gb


def _hidden(h, w_hh, b_hh, F):
    """``h @ W_hh.T + b_hh`` (arrays or Tensors)."""
    gh = F.matmul(h, w_hh.T)
    return gh if b_hh is None else gh + b_hh


# ----------------------------------------------------------------------------- Elman RNN
def _rnn_forward(gi, h, w_hh, b_hh, relu):
    """The step on arrays: ``act(gi + h @ W_hh.T + b_hh)``."""
    y = gi + _hidden(h, w_hh, b_hh, ArrayOps)
    return np.maximum(y, 0, out=y) if relu else np.tanh(y, out=y)


def _rnn_local(y, relu):
    """The derivative of the activation, from its output ``y``."""
    return y != 0 if relu else 1 - y * y


class RNNStep(Function):
    """``h' = act(gi + h @ W_hh.T + b_hh)``, act tanh or relu."""

    fresh_grads = True

    def forward(ctx, gi, h, w_hh, b_hh, relu):
        y = _rnn_forward(gi, h, w_hh, b_hh, relu)
        ctx.saved, ctx.relu = (h, w_hh, y), relu
        return y

    def backward(ctx, g, F):
        h, w_hh, y = ctx.saved
        dpre = g * _rnn_local(y, ctx.relu)
        n_gi, *needs = ctx.needs_input_grad[:4]
        return (dpre if n_gi else None, *_hidden_grads(dpre, h, w_hh, needs, F), None)


def rnn_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, relu: bool) -> Tensor:
    """One Elman step as one node: ``(N, H), (N, H), (H, H), (H,) or None -> (N, H)``. No checks."""
    return RNNStep.apply(gi, h, w_hh, b_hh, relu)


# ----------------------------------------------------------------------------- LSTM
def _lstm_forward(gi, hc, w_hh, b_hh, w_hr, F) -> tuple:
    """The step on arrays or Tensors: ``(h, c, i, f, g, o, tanh(c'), m = o tanh(c'), out = [h' | c'])``."""
    hidden = w_hh.shape[0] // 4
    h, c = hc[:, :-hidden], hc[:, -hidden:]
    pre = gi + _hidden(h, w_hh, b_hh, F)
    sig = F.sigmoid(pre)  # (one call for three gates; g's columns go unused)
    i, f, g, o = sig[:, :hidden], sig[:, hidden:2 * hidden], F.tanh(pre[:, 2 * hidden:3 * hidden]), sig[:, 3 * hidden:]
    c_new = f * c + i * g
    tc = F.tanh(c_new)
    m = o * tc
    return h, c, i, f, g, o, tc, m, F.cat([m if w_hr is None else F.matmul(m, w_hr.T), c_new], 1)


def _lstm_local(c, i, f, g, o, tc) -> tuple:
    """The local derivatives: of ``m = o tanh(c')`` by ``c'``, and of ``c'`` (for ``i, f, g``) or ``m`` (for
    ``o``) by the gates' pre-activations."""
    return o * (1 - tc * tc), g * i * (1 - i), c * f * (1 - f), i * (1 - g * g), tc * o * (1 - o)


class LSTMStep(Function):
    """PyTorch's LSTM step on the state ``[h | c]``: ``gi + h @ W_hh.T + b_hh`` split into the gates ``i, f, g, o``
    (``g`` through tanh, the others through sigmoid); ``c' = f c + i g``, ``h' = o tanh(c')`` (times ``W_hr.T``
    with a projection); returns ``[h' | c']``. Backward uses the saved gates and ``tanh(c')``."""

    fresh_grads = True

    def forward(ctx, gi, hc, w_hh, b_hh, w_hr):
        *acts, out = _lstm_forward(gi, hc, w_hh, b_hh, w_hr, ArrayOps)
        ctx.saved = (w_hh, w_hr, *acts)
        return out

    def backward(ctx, g, F):
        if isinstance(g, np.ndarray):
            w_hh, w_hr, *acts = ctx.saved
        else:  # create_graph: the activations recorded again from the inputs, so they can be differentiated
            gi, hc, w_hh, b_hh, w_hr = ctx.inputs
            acts = _lstm_forward(gi, hc, w_hh, b_hh, w_hr, F)[:-1]
        h, c, i, f, gg, o, tc, m = acts
        d_tc, k_i, k_f, k_g, k_o = _lstm_local(c, i, f, gg, o, tc)
        n_gi, n_hc, n_whh, n_bhh, n_whr = ctx.needs_input_grad
        g_h, g_c = g[:, :h.shape[1]], g[:, h.shape[1]:]
        g_whr = F.matmul(g_h.T, m) if n_whr else None
        g_m = g_h if w_hr is None else F.matmul(g_h, w_hr)
        g_c = g_c + g_m * d_tc  # (through h' = o tanh(c'))
        dpre = F.cat([g_c * k_i, g_c * k_f, g_c * k_g, g_m * k_o], 1)
        g_h, g_whh, g_bhh = _hidden_grads(dpre, h, w_hh, (n_hc, n_whh, n_bhh), F)
        return dpre if n_gi else None, F.cat([g_h, g_c * f], 1) if n_hc else None, g_whh, g_bhh, g_whr


def lstm_step(gi: Tensor, hc: Tensor, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None) -> Tensor:
    """One LSTM step as one node: ``gi (N, 4H)``, state ``[h | c]`` ``(N, P + H)``, ``W_hh (4H, P)``,
    ``b_hh (4H,)`` or None, ``W_hr (P, H)`` or None (then ``P = H``) -> the new state ``(N, P + H)``. No checks."""
    return LSTMStep.apply(gi, hc, w_hh, b_hh, w_hr)


# ----------------------------------------------------------------------------- GRU
def _gru_forward(gi, h, w_hh, b_hh, F) -> tuple:
    """The step on arrays or Tensors: ``(r, z, n, W_hn h + b_hn, h')``."""
    hidden = h.shape[1]
    gh = _hidden(h, w_hh, b_hh, F)
    rz = F.sigmoid(gi[:, :2 * hidden] + gh[:, :2 * hidden])
    r, z = rz[:, :hidden], rz[:, hidden:]
    gh_n = gh[:, 2 * hidden:]
    n = F.tanh(gi[:, 2 * hidden:] + r * gh_n)
    return r, z, n, gh_n, n + z * (h - n)


def _gru_local(h, r, z, n, gh_n) -> tuple:
    """The local derivatives of ``h'`` by the pre-activations of ``n``, ``r`` and ``z``."""
    k_n = (1 - z) * (1 - n * n)
    return k_n, k_n * gh_n * r * (1 - r), (h - n) * z * (1 - z)


class GRUStep(Function):
    """PyTorch's GRU step: ``gh = h @ W_hh.T + b_hh`` and ``gi`` split into ``r, z, n``;
    ``r = sigmoid(gi_r + gh_r)``, ``z = sigmoid(gi_z + gh_z)``, ``n = tanh(gi_n + r gh_n)``,
    ``h' = (1 - z) n + z h``."""

    fresh_grads = True

    def forward(ctx, gi, h, w_hh, b_hh):
        *acts, out = _gru_forward(gi, h, w_hh, b_hh, ArrayOps)
        ctx.saved = (h, w_hh, *acts)
        return out

    def backward(ctx, g, F):
        if isinstance(g, np.ndarray):
            h, w_hh, *acts = ctx.saved
        else:  # create_graph: the activations recorded again from the inputs, so they can be differentiated
            gi, h, w_hh, b_hh = ctx.inputs
            acts = _gru_forward(gi, h, w_hh, b_hh, F)[:-1]
        r, z, n, gh_n = acts
        k_n, k_r, k_z = _gru_local(h, r, z, n, gh_n)
        n_gi, n_h, n_whh, n_bhh = ctx.needs_input_grad
        dn, dr, dz = g * k_n, g * k_r, g * k_z
        g_h, g_whh, g_bhh = _hidden_grads(F.cat([dr, dz, dn * r], 1), h, w_hh, (n_h, n_whh, n_bhh), F)
        return F.cat([dr, dz, dn], 1) if n_gi else None, g_h + g * z if n_h else None, g_whh, g_bhh


def gru_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """One GRU step as one node: ``gi (N, 3H)``, ``h (N, H)``, ``W_hh (3H, H)``, ``b_hh (3H,)`` or None ->
    ``(N, H)``. No checks."""
    return GRUStep.apply(gi, h, w_hh, b_hh)


# ----------------------------------------------------------------------------- whole sequences
def _order(steps: int, reverse: bool) -> range:
    return range(steps - 1, -1, -1) if reverse else range(steps)


def _previous(states, state0, reverse: bool):
    """The state each step starts from, ``(L, ...)``: ``state0`` for the first step processed."""
    if reverse:
        return np.concatenate([states[1:], state0[None]])
    return np.concatenate([state0[None], states[:-1]])


def _time_steps(x: Tensor) -> list[Tensor]:
    """``[x[0], ..., x[L-1]]``. The gradient of one slice is a zero-padded array of ``x``'s full size, so ``L``
    slices of ``x`` would cost ``O(L^2)`` in backward; slicing blocks of ``sqrt(L)`` steps first costs
    ``O(L^1.5)``."""
    block = math.isqrt(x.shape[0])
    if block < 4:
        return list(unbind(x, 0))
    return [step for chunk in split(x, block, 0) for step in unbind(chunk, 0)]


class _Layer(Function):
    """What the whole-sequence ops share: ``apply(gi, state, *rest, reverse)``, where ``step.apply(gi[t],
    state, *rest)`` is one step; backward on arrays is the subclass's ``_backward``."""

    step: type[Function]

    def backward(ctx, g, F):
        if isinstance(g, np.ndarray):
            return ctx._backward(g)
        return _layer_backward_recorded(ctx, g, F)


def _layer_backward_recorded(ctx, g: Tensor, F) -> tuple:
    """A layer op's backward for ``create_graph``: the steps recorded again from the inputs with the step op,
    then each step's rule on Tensors, latest first (as :class:`ops.nnops.Chain` does), so that the
    gradients can be differentiated again."""
    from ..autograd.engine import _as_tensors

    gi, state, *rest, reverse = ctx.inputs
    order = _order(len(gi), reverse)
    gis, gs, outs = _time_steps(gi), _time_steps(g), []
    for t in order:
        state = ctx.step.apply(gis[t], state, *rest)
        outs.append(state)
    g_gi, g_rest, carry = [None] * len(gi), [None] * len(rest), None
    for t, out in zip(reversed(order), reversed(outs)):
        node = out._ctx
        saved, node.saved = node.saved, _as_tensors(node, out)  # (as the engine does for create_graph)
        try:
            g_gi[t], carry, *grads = node.backward(gs[t] if carry is None else gs[t] + carry, F)
        finally:
            node.saved = saved
        g_rest = [a if b is None else b if a is None else a + b for a, b in zip(g_rest, grads)]
    return (stack(g_gi) if ctx.needs_input_grad[0] else None, carry, *g_rest, None)


class RNNLayer(_Layer):
    """:class:`RNNStep` over a sequence: ``gi (L, N, H)``, ``h_0 (N, H)`` -> ``h`` after every step
    ``(L, N, H)``."""

    fresh_grads = True
    step = RNNStep

    def forward(ctx, gi, h0, w_hh, b_hh, relu, reverse):
        hs = np.empty(gi.shape, np.result_type(gi, h0, w_hh))
        h = h0
        for t in _order(len(gi), reverse):
            h = hs[t] = _rnn_forward(gi[t], h, w_hh, b_hh, relu)
        ctx.saved, ctx.relu, ctx.reverse = (h0, w_hh, hs), relu, reverse
        return hs

    def _backward(ctx, g):
        h0, w_hh, hs = ctx.saved
        local = _rnn_local(hs, ctx.relu)
        dpre = np.empty(hs.shape, hs.dtype)
        g_h = np.zeros_like(h0)
        for t in _order(len(hs), not ctx.reverse):  # (the state's gradient, through the steps backwards)
            g_h = np.matmul(np.multiply(g[t] + g_h, local[t], out=dpre[t]), w_hh)
        n_gi, n_h, n_whh, n_bhh = ctx.needs_input_grad[:4]
        h_prev = _previous(hs, h0, ctx.reverse).reshape(-1, h0.shape[1]) if n_whh else None
        _, g_whh, g_bhh = _hidden_grads(dpre.reshape(-1, hs.shape[2]), h_prev, w_hh, (False, n_whh, n_bhh), ArrayOps)
        return dpre if n_gi else None, g_h if n_h else None, g_whh, g_bhh, None, None


def rnn_layer(gi: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor | None, relu: bool, reverse: bool) -> Tensor:
    """:func:`rnn_step` over ``gi (L, N, H)`` from ``h0 (N, H)`` (from step ``L - 1`` down to 0 if ``reverse``)
    as one node -> the state after every step ``(L, N, H)``. No checks."""
    return RNNLayer.apply(gi, h0, w_hh, b_hh, relu, reverse)


class LSTMLayer(_Layer):
    """:class:`LSTMStep` over a sequence: ``gi (L, N, 4H)``, ``[h_0 | c_0] (N, P + H)`` -> ``[h | c]`` after
    every step ``(L, N, P + H)``."""

    fresh_grads = True
    step = LSTMStep

    def forward(ctx, gi, hc0, w_hh, b_hh, w_hr, reverse):
        dtype, (steps, batch), hidden = np.result_type(gi, hc0, w_hh), gi.shape[:2], w_hh.shape[0] // 4
        states = np.empty((steps, *hc0.shape), dtype)
        acts = np.empty((steps, 5, batch, hidden), dtype)  # i, f, g, o, tanh(c') of every step
        hc = hc0
        for t in _order(steps, reverse):
            step = _lstm_forward(gi[t], hc, w_hh, b_hh, w_hr, ArrayOps)
            acts[t] = step[2:7]
            hc = states[t] = step[-1]
        ctx.saved, ctx.reverse = (hc0, w_hh, w_hr, states, acts), reverse
        return states

    def _backward(ctx, g):
        hc0, w_hh, w_hr, states, acts = ctx.saved
        steps, _, batch, hidden = acts.shape
        size = hc0.shape[1] - hidden  # (P)
        i, f, gg, o, tc = acts.transpose(1, 0, 2, 3)
        prev = _previous(states, hc0, ctx.reverse)  # the state each step started from
        d_tc, *k = _lstm_local(prev[..., size:], i, f, gg, o, tc)
        k_ifg, k_o = np.stack(k[:3], 2), k[3]  # (L, N, 3, H): the gates that c' goes through; o's
        dpre = np.empty((steps, batch, 4 * hidden), acts.dtype)
        g_hs = np.empty((steps, batch, size), acts.dtype)  # the gradient of every h' (for W_hr's)
        g_h, g_c = np.zeros((batch, size), acts.dtype), np.zeros((batch, hidden), acts.dtype)
        for t in _order(steps, not ctx.reverse):  # (the state's gradient, through the steps backwards)
            g_h = np.add(g_h, g[t, :, :size], out=g_hs[t])
            g_m = g_h if w_hr is None else np.matmul(g_h, w_hr)
            g_c = g_c + g[t, :, size:] + g_m * d_tc[t]  # (through h' = o tanh(c'))
            np.multiply(g_c[:, None], k_ifg[t], out=dpre[t, :, :3 * hidden].reshape(batch, 3, hidden))
            np.multiply(g_m, k_o[t], out=dpre[t, :, 3 * hidden:])
            g_h, g_c = np.matmul(dpre[t], w_hh), g_c * f[t]
        n_gi, n_hc, n_whh, n_bhh, n_whr = ctx.needs_input_grad[:5]
        h_prev = prev[..., :size].reshape(-1, size)
        _, g_whh, g_bhh = _hidden_grads(dpre.reshape(-1, 4 * hidden), h_prev, w_hh, (False, n_whh, n_bhh), ArrayOps)
        g_whr = np.matmul(g_hs.reshape(-1, size).T, (o * tc).reshape(-1, hidden)) if n_whr else None
        return (dpre if n_gi else None, np.concatenate([g_h, g_c], 1) if n_hc else None, g_whh, g_bhh, g_whr,
                None)


def lstm_layer(gi: Tensor, hc0: Tensor, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None,
               reverse: bool) -> Tensor:
    """:func:`lstm_step` over ``gi (L, N, 4H)`` from ``[h_0 | c_0] (N, P + H)`` (from step ``L - 1`` down to 0
    if ``reverse``) as one node -> the state ``[h | c]`` after every step ``(L, N, P + H)``. No checks."""
    return LSTMLayer.apply(gi, hc0, w_hh, b_hh, w_hr, reverse)


class GRULayer(_Layer):
    """:class:`GRUStep` over a sequence: ``gi (L, N, 3H)``, ``h_0 (N, H)`` -> ``h`` after every step
    ``(L, N, H)``."""

    fresh_grads = True
    step = GRUStep

    def forward(ctx, gi, h0, w_hh, b_hh, reverse):
        hs = np.empty((len(gi), *h0.shape), np.result_type(gi, h0, w_hh))
        acts = np.empty((len(gi), 4, *h0.shape), hs.dtype)  # r, z, n, W_hn h + b_hn of every step
        h = h0
        for t in _order(len(gi), reverse):
            step = _gru_forward(gi[t], h, w_hh, b_hh, ArrayOps)
            acts[t] = step[:4]
            h = hs[t] = step[4]
        ctx.saved, ctx.reverse = (h0, w_hh, hs, acts), reverse
        return hs

    def _backward(ctx, g):
        h0, w_hh, hs, acts = ctx.saved
        steps, batch, hidden = hs.shape
        r, z, n, gh_n = acts.transpose(1, 0, 2, 3)
        prev = _previous(hs, h0, ctx.reverse)  # the state each step started from
        k_n, k_r, k_z = _gru_local(prev, r, z, n, gh_n)
        k = np.stack([k_r, k_z, k_n * r], 2)  # (L, N, 3, H): h' by W_hh h + b_hh, per gate
        dgh = np.empty((steps, batch, 3, hidden), hs.dtype)
        g_hs = np.empty_like(hs)  # the gradient of every h'
        g_h = np.zeros_like(h0)
        for t in _order(steps, not ctx.reverse):  # (the state's gradient, through the steps backwards)
            g_t = np.add(g[t], g_h, out=g_hs[t])
            np.multiply(g_t[:, None], k[t], out=dgh[t])
            g_h = np.matmul(dgh[t].reshape(batch, 3 * hidden), w_hh)
            g_h += g_t * z[t]
        dgh = dgh.reshape(steps, batch, 3 * hidden)
        n_gi, n_h, n_whh, n_bhh = ctx.needs_input_grad[:4]
        g_gi = None
        if n_gi:  # (gi's gradient is W_hh h's, but for n: without the factor r)
            g_gi = dgh.copy()
            np.multiply(g_hs, k_n, out=g_gi[..., 2 * hidden:])
        _, g_whh, g_bhh = _hidden_grads(dgh.reshape(-1, 3 * hidden), prev.reshape(-1, hidden), w_hh,
                                        (False, n_whh, n_bhh), ArrayOps)
        return g_gi, g_h if n_h else None, g_whh, g_bhh, None


def gru_layer(gi: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor | None, reverse: bool) -> Tensor:
    """:func:`gru_step` over ``gi (L, N, 3H)`` from ``h0 (N, H)`` (from step ``L - 1`` down to 0 if ``reverse``)
    as one node -> the state after every step ``(L, N, H)``. No checks."""
    return GRULayer.apply(gi, h0, w_hh, b_hh, reverse)
