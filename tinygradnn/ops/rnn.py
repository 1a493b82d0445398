"""Fused recurrent steps: one graph node per time step of an RNN, LSTM or GRU layer (or cell).

Each op takes the step's input projection ``gi = x W_ih^T + b_ih`` (computed for all steps at once by the
caller), the previous state and the hidden-state weights, and does the rest of the step in NumPy:
the matmul ``h W_hh^T + b_hh``, the gates and the new state. Backward is the hand-written chain rule
of the same formulas, from the gate activations saved in forward.

* :func:`rnn_step`: ``h' = tanh(gi + h W_hh^T + b_hh)`` (or relu);
* :func:`lstm_step`: PyTorch's gates ``i, f, g, o``; the state travels as one tensor ``[h | c]`` of shape
  ``(N, P + H)`` (``P`` is ``H``, or ``proj_size`` with ``W_hr``), so a step reads and writes one tensor;
* :func:`gru_step`: PyTorch's gates ``r, z, n`` (``r`` multiplies ``h W_hn^T + b_hn``).

With ``create_graph=True`` the LSTM and GRU rules first record the step again from its inputs, so the
gate activations they use are Tensors and the gradient can be differentiated again; the RNN rule only
needs the step's output, which the engine hands over as a Tensor.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..tensor import Tensor
from .namespaces import ArrayOps, ones_vector


def _hidden_grads(dpre, h, w_hh, needs, F) -> tuple:
    """The gradients of ``h``, ``W_hh`` and ``b_hh`` through ``h @ W_hh.T + b_hh``, given its gradient
    ``dpre`` (``needs``: which of the three are wanted)."""
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
class RNNStep(Function):
    """``h' = act(gi + h @ W_hh.T + b_hh)``, act tanh or relu."""

    fresh_grads = True

    def forward(ctx, gi, h, w_hh, b_hh, relu):
        y = gi + _hidden(h, w_hh, b_hh, ArrayOps)
        y = np.maximum(y, 0, out=y) if relu else np.tanh(y, out=y)
        ctx.saved, ctx.relu = (h, w_hh, y), relu
        return y

    def backward(ctx, g, F):
        h, w_hh, y = ctx.saved
        dpre = g * (y != 0) if ctx.relu else g * (1 - y * y)
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
        n_gi, n_hc, n_whh, n_bhh, n_whr = ctx.needs_input_grad
        g_h, g_c = g[:, :h.shape[1]], g[:, h.shape[1]:]
        g_whr = F.matmul(g_h.T, m) if n_whr else None
        g_m = g_h if w_hr is None else F.matmul(g_h, w_hr)
        g_c = g_c + g_m * o * (1 - tc * tc)  # (through h' = o tanh(c'))
        dpre = F.cat([g_c * gg * i * (1 - i), g_c * c * f * (1 - f), g_c * i * (1 - gg * gg),
                      g_m * tc * o * (1 - o)], 1)
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
        n_gi, n_h, n_whh, n_bhh = ctx.needs_input_grad
        dn = g * (1 - z) * (1 - n * n)
        dr = dn * gh_n * r * (1 - r)
        dz = g * (h - n) * z * (1 - z)
        dgh = F.cat([dr, dz, dn * r], 1)
        g_h, g_whh, g_bhh = _hidden_grads(dgh, h, w_hh, (n_h, n_whh, n_bhh), F)
        return F.cat([dr, dz, dn], 1) if n_gi else None, g_h + g * z if n_h else None, g_whh, g_bhh


def gru_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """One GRU step as one node: ``gi (N, 3H)``, ``h (N, H)``, ``W_hh (3H, H)``, ``b_hh (3H,)`` or None ->
    ``(N, H)``. No checks."""
    return GRUStep.apply(gi, h, w_hh, b_hh)
