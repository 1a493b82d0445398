"""Hand-written NumPy reference of every workload: explicit forward and backward, no framework.

This is the yardstick for the framework-free cost of each workload, so it tries to be a good
NumPy program rather than a naive one:

- float32 throughout (NumPy >= 2 keeps float32 when a Python float scales a float32 array);
- convolution by im2col: ``sliding_window_view`` plus one contiguous copy, then one BLAS matmul;
  the backward col2im loops only over the kernel offsets;
- the convolutional models keep activations channels-last (NHWC / NLC) so that im2col, the
  bias add and 2x2 pooling need no transposes; only ``Flatten`` reorders to PyTorch's (C, H, W)
  order, so the weights are the very ones PyTorch uses;
- non-overlapping max pooling by reshape-and-compare; in backward the gradient goes to the first
  maximum of each window in row-major order, as PyTorch does (ties are common: a ReLU'd conv of
  blank background is constant);
- SGD and Adam update the parameters in place.

Each ``run_*`` function returns the same ``{"seconds", "units", "check"}`` record as
``framework_workloads.run``.
"""

from __future__ import annotations

import gc
import math
import time

import numpy as np
from bench_common import WARMUP_BATCHES
from numpy.lib.stride_tricks import sliding_window_view

# ---------------------------------------------------------------------------------------------
# Layers: forward returns what backward needs; backward returns gradients
# ---------------------------------------------------------------------------------------------


def linear(x, w, b):
    out = x @ w.T
    out += b
    return out


def column_sums(a):
    """``a.sum(axis=0)`` as a BLAS product: NumPy's own reduction of a tall, narrow array is ~20x slower."""
    return np.ones(len(a), dtype=a.dtype) @ a


def linear_backward(x, w, dy, need_dx=True):
    """Gradients of ``x @ w.T + b``: (dx, dw, db)."""
    dx = dy @ w if need_dx else None
    return dx, dy.T @ x, column_sums(dy)


def conv2d_nhwc(x, w, b, padding):
    """Stride-1 conv of channels-last x (B, H, W, C) with PyTorch weight w (O, C, k, k).

    The im2col columns are ordered (kh, kw, C), so that the copy moves whole runs of channels
    (for 16 channels several times faster than PyTorch's (C, kh, kw) order); the weight is
    permuted to match.
    """
    batch, height, width, channels = x.shape
    out_ch, _, k, _ = w.shape
    if padding:
        xp = np.zeros((batch, height + 2 * padding, width + 2 * padding, channels), dtype=x.dtype)
        xp[:, padding:padding + height, padding:padding + width] = x
    else:
        xp = x
    windows = sliding_window_view(xp, (k, k), axis=(1, 2))  # (B, Ho, Wo, C, k, k), a view
    ho, wo = windows.shape[1:3]
    cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(batch * ho * wo, k * k * channels)  # the one copy
    out = cols @ w.transpose(0, 2, 3, 1).reshape(out_ch, -1).T
    out += b
    return out.reshape(batch, ho, wo, out_ch), cols


def conv2d_nhwc_backward(cols, x_shape, w, dy, padding, need_dx=True):
    """Gradients of :func:`conv2d_nhwc` from dy (B, Ho, Wo, O): (dx, dw, db)."""
    out_ch, channels, k, _ = w.shape
    dy2 = dy.reshape(-1, out_ch)
    dw = np.ascontiguousarray((dy2.T @ cols).reshape(out_ch, k, k, channels).transpose(0, 3, 1, 2))
    db = column_sums(dy2)
    if not need_dx:
        return None, dw, db
    batch, height, width, _ = x_shape
    ho, wo = dy.shape[1:3]
    # (C, kh, kw) order here: the strided adds below run faster this way round
    dcols = (dy2 @ w.reshape(out_ch, -1)).reshape(batch, ho, wo, channels, k, k)
    dxp = np.zeros((batch, height + 2 * padding, width + 2 * padding, channels), dtype=dy.dtype)
    for i in range(k):  # col2im: one strided add per kernel offset
        for j in range(k):
            dxp[:, i:i + ho, j:j + wo] += dcols[..., i, j]
    return dxp[:, padding:padding + height, padding:padding + width], dw, db


def conv1d_nlc(x, w, b):
    """Stride-1, unpadded conv of channels-last x (B, L, C) with PyTorch weight w (O, C, k)."""
    batch, _, channels = x.shape
    out_ch, _, k = w.shape
    windows = sliding_window_view(x, k, axis=1)  # (B, Lo, C, k), a view
    lo = windows.shape[1]
    cols = windows.reshape(batch * lo, channels * k)
    out = cols @ w.reshape(out_ch, -1).T
    out += b
    return out.reshape(batch, lo, out_ch), cols


def conv1d_nlc_weight_grads(cols, w, dy):
    """(dw, db) of :func:`conv1d_nlc` (the input gradient is never needed here)."""
    dy2 = dy.reshape(-1, w.shape[0])
    return (dy2.T @ cols).reshape(w.shape), column_sums(dy2)


def relu_(x):
    return np.maximum(x, 0, out=x)


def maxpool2x2_nhwc(x):
    """Non-overlapping 2x2 max pool of (B, H, W, C); returns the pooled (B, H/2, W/2, C)."""
    batch, height, width, channels = x.shape
    xr = x.reshape(batch, height // 2, 2, width // 2, 2, channels)
    return np.maximum(np.maximum(xr[:, :, 0, :, 0], xr[:, :, 0, :, 1]),
                      np.maximum(xr[:, :, 1, :, 0], xr[:, :, 1, :, 1]))


def maxpool2x2_relu_backward(x, out, dout):
    """Backward of maxpool2x2(relu(.)) given the ReLU output x and the pooled out.

    The gradient goes to the first maximum of each window; ReLU passes it where out > 0.
    """
    batch, height, width, channels = x.shape
    xr = x.reshape(batch, height // 2, 2, width // 2, 2, channels)
    dout = dout * (out > 0)
    dx = np.empty_like(xr)
    taken = np.zeros(out.shape, dtype=bool)
    for i, j in ((0, 0), (0, 1), (1, 0), (1, 1)):
        hit = xr[:, :, i, :, j] == out
        hit &= ~taken
        taken |= hit
        np.multiply(dout, hit, out=dx[:, :, i, :, j])
    return dx.reshape(x.shape)


def maxpool1d2_nlc(x):
    batch, length, channels = x.shape
    xr = x.reshape(batch, length // 2, 2, channels)
    return np.maximum(xr[:, :, 0], xr[:, :, 1])


def maxpool1d2_relu_backward(x, out, dout):
    batch, length, channels = x.shape
    xr = x.reshape(batch, length // 2, 2, channels)
    dout = dout * (out > 0)
    first = xr[:, :, 0] == out
    dx = np.empty_like(xr)
    np.multiply(dout, first, out=dx[:, :, 0])
    np.multiply(dout, ~first, out=dx[:, :, 1])  # not the first max -> the second one is
    return dx.reshape(x.shape)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free form


def cross_entropy(logits, y):
    """Mean cross-entropy of integer labels y and its gradient with respect to the logits."""
    z = logits - logits.max(axis=1, keepdims=True)
    ez = np.exp(z)
    total = ez.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = np.log(total[:, 0]).mean() - z[rows, y].mean()
    dlogits = ez / total
    dlogits[rows, y] -= 1.0
    dlogits /= len(y)
    return float(loss), dlogits


def mse(out, target):
    diff = out - target
    loss = float(np.mean(diff * diff))
    diff *= 2.0 / diff.size
    return loss, diff


# ---------------------------------------------------------------------------------------------
# Models: forward(p, x) -> (output, cache) and backward(p, cache, dout) -> grads, keyed like
# PyTorch's state_dict of the same nn.Sequential
# ---------------------------------------------------------------------------------------------


def mlp_forward(p, x):
    h1 = np.tanh(linear(x, p["0.weight"], p["0.bias"]))
    h2 = np.tanh(linear(h1, p["2.weight"], p["2.bias"]))
    return linear(h2, p["4.weight"], p["4.bias"]), (x, h1, h2)


def mlp_backward(p, cache, d):
    x, h1, h2 = cache
    g = {}
    d, g["4.weight"], g["4.bias"] = linear_backward(h2, p["4.weight"], d)
    d *= 1.0 - h2 * h2
    d, g["2.weight"], g["2.bias"] = linear_backward(h1, p["2.weight"], d)
    d *= 1.0 - h1 * h1
    _, g["0.weight"], g["0.bias"] = linear_backward(x, p["0.weight"], d, need_dx=False)
    return g


def cnn_forward(p, x):
    x = x.reshape(len(x), 16, 16, 1)  # NCHW with C = 1 is already NHWC
    c1, cols1 = conv2d_nhwc(x, p["0.weight"], p["0.bias"], padding=1)
    r1 = relu_(c1)
    m1 = maxpool2x2_nhwc(r1)
    c2, cols2 = conv2d_nhwc(m1, p["3.weight"], p["3.bias"], padding=1)
    r2 = relu_(c2)
    m2 = maxpool2x2_nhwc(r2)
    flat = m2.transpose(0, 3, 1, 2).reshape(len(x), -1)  # PyTorch's (C, H, W) flatten order
    h = relu_(linear(flat, p["7.weight"], p["7.bias"]))
    return linear(h, p["9.weight"], p["9.bias"]), (cols1, r1, m1, cols2, r2, m2, flat, h)


def cnn_backward(p, cache, d):
    cols1, r1, m1, cols2, r2, m2, flat, h = cache
    g = {}
    d, g["9.weight"], g["9.bias"] = linear_backward(h, p["9.weight"], d)
    d *= h > 0
    d, g["7.weight"], g["7.bias"] = linear_backward(flat, p["7.weight"], d)
    d = d.reshape(m2.shape[0], m2.shape[3], m2.shape[1], m2.shape[2]).transpose(0, 2, 3, 1)
    d = maxpool2x2_relu_backward(r2, m2, d)
    d, g["3.weight"], g["3.bias"] = conv2d_nhwc_backward(cols2, m1.shape, p["3.weight"], d, padding=1)
    d = maxpool2x2_relu_backward(r1, m1, d)
    _, g["0.weight"], g["0.bias"] = conv2d_nhwc_backward(cols1, None, p["0.weight"], d, padding=1,
                                                         need_dx=False)
    return g


def conv1d_forward(p, x):
    x = x.reshape(len(x), 256, 1)  # NCL with C = 1 is already NLC
    c, cols = conv1d_nlc(x, p["0.weight"], p["0.bias"])
    r = relu_(c)
    m = maxpool1d2_nlc(r)
    flat = m.transpose(0, 2, 1).reshape(len(x), -1)  # PyTorch's (C, L) flatten order
    h = relu_(linear(flat, p["4.weight"], p["4.bias"]))
    return linear(h, p["6.weight"], p["6.bias"]), (cols, r, m, flat, h)


def conv1d_backward(p, cache, d):
    cols, r, m, flat, h = cache
    g = {}
    d, g["6.weight"], g["6.bias"] = linear_backward(h, p["6.weight"], d)
    d *= h > 0
    d, g["4.weight"], g["4.bias"] = linear_backward(flat, p["4.weight"], d)
    d = d.reshape(m.shape[0], m.shape[2], m.shape[1]).transpose(0, 2, 1)
    d = maxpool1d2_relu_backward(r, m, d)
    g["0.weight"], g["0.bias"] = conv1d_nlc_weight_grads(cols, p["0.weight"], d)
    return g


def autoencoder_forward(p, x):
    acts = [x]
    for key in ("0", "2", "4"):
        acts.append(np.tanh(linear(acts[-1], p[key + ".weight"], p[key + ".bias"])))
    out = sigmoid(linear(acts[-1], p["6.weight"], p["6.bias"]))
    return out, (acts, out)


def autoencoder_backward(p, cache, d):
    acts, out = cache
    d = d * out * (1.0 - out)
    g = {}
    for key, a in zip(("6", "4", "2", "0"), reversed(acts)):
        d, g[key + ".weight"], g[key + ".bias"] = linear_backward(a, p[key + ".weight"], d,
                                                                  need_dx=key != "0")
        if d is not None:
            d *= 1.0 - a * a
    return g


MODELS = {
    "mlp": (mlp_forward, mlp_backward, cross_entropy),
    "cnn": (cnn_forward, cnn_backward, cross_entropy),
    "conv1d": (conv1d_forward, conv1d_backward, cross_entropy),
    "autoencoder": (autoencoder_forward, autoencoder_backward, mse),
}

# ---------------------------------------------------------------------------------------------
# Optimizers, updating parameters in place
# ---------------------------------------------------------------------------------------------


class SGD:
    def __init__(self, params, lr):
        self.params, self.lr = params, lr

    def step(self, grads):
        for key, grad in grads.items():
            grad *= self.lr  # the gradients are fresh arrays, free to overwrite
            self.params[key] -= grad


class Adam:
    """PyTorch's Adam (no weight decay, no amsgrad), the same formula order."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, grads):
        self.t += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1 ** self.t)
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** self.t)
        for key, grad in grads.items():
            m, v = self.m[key], self.v[key]
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            denom = np.sqrt(v)
            denom /= bias_correction2_sqrt
            denom += self.eps
            np.divide(m, denom, out=denom)
            denom *= step_size
            self.params[key] -= denom


# ---------------------------------------------------------------------------------------------
# Workloads
# ---------------------------------------------------------------------------------------------


def run_training(workload, inputs, cfg, warmup):
    forward, backward, loss_fn = MODELS[workload]
    params = {k: v.copy() for k, v in inputs["weights"].items()}
    optimizer = {"SGD": SGD, "Adam": Adam}[cfg["optimizer"]](params, cfg["lr"])
    batches = inputs["batches"][:WARMUP_BATCHES] if warmup else inputs["batches"]

    gc.collect()
    start = time.perf_counter()
    running_loss = 0.0
    for xb, yb in batches:
        out, cache = forward(params, xb)
        loss, dout = loss_fn(out, yb)
        optimizer.step(backward(params, cache, dout))
        running_loss += loss
    seconds = time.perf_counter() - start

    x_eval, y_eval = inputs["eval"]
    check, _ = loss_fn(forward(params, x_eval)[0], y_eval)
    return {"seconds": seconds, "units": 1, "check": check, "train_loss": running_loss / len(batches)}


def run_overhead(inputs, cfg, warmup):
    n_ops = cfg["n_ops"]
    iters = 1 if warmup else cfg["iters"]
    x0 = inputs["x"]

    gc.collect()
    start = time.perf_counter()
    for _ in range(iters):
        y = x0.copy()
        saved = []  # tanh outputs, the only values backward needs
        for k in range(n_ops):
            if k % 3 == 0:
                y = y * 1.0001
            elif k % 3 == 1:
                y = y + 0.001
            else:
                y = np.tanh(y)
                saved.append(y)
        y.sum()
        grad = np.ones_like(y)
        for k in reversed(range(n_ops)):
            if k % 3 == 0:
                grad = grad * 1.0001
            elif k % 3 == 2:
                t = saved.pop()
                grad = grad * (1.0 - t * t)
    seconds = time.perf_counter() - start

    return {"seconds": seconds, "units": iters * n_ops,
            "check": float(np.abs(grad).mean() + np.abs(y).mean())}


def run_matmul(inputs, cfg, warmup):
    a, b, g = inputs["a"], inputs["b"], inputs["g"]
    iters = 1 if warmup else cfg["iters"]

    gc.collect()
    start = time.perf_counter()
    for _ in range(iters):
        c = a @ b
        (c * g).sum()
        da = g @ b.T
        db = a.T @ g
    seconds = time.perf_counter() - start

    return {"seconds": seconds, "units": iters, "check": float(np.abs(da).mean() + np.abs(db).mean())}


def micrograd_vectorized(weights, points, targets, lr, steps):
    """The micrograd workload's math, vectorized: its final loss, used only to check the others."""
    w = {k: v.copy() for k, v in weights.items()}
    n_layers = len(w) // 2

    def forward():
        acts = [points]
        for k in range(n_layers):
            z = linear(acts[-1], w[f"w{k}"], w[f"b{k}"])
            acts.append(np.tanh(z) if k < n_layers - 1 else z)
        err = acts[-1][:, 0] - targets
        return float((err * err).sum()), acts, err

    for _ in range(steps):
        _, acts, err = forward()
        d = 2.0 * err[:, None]
        for k in reversed(range(n_layers)):
            dx, dw, db = linear_backward(acts[k], w[f"w{k}"], d, need_dx=k > 0)
            w[f"w{k}"] -= lr * dw
            w[f"b{k}"] -= lr * db
            if k > 0:
                d = dx * (1.0 - acts[k] * acts[k])
    return forward()[0]


def run_micrograd(inputs, cfg, warmup):
    """Not timed: a scalar graph has no NumPy counterpart. The vectorized loss checks the others."""
    check = micrograd_vectorized(inputs["weights"], inputs["points"], inputs["targets"], cfg["lr"],
                                 cfg["steps"])
    return {"seconds": None, "units": cfg["steps"], "check": check,
            "status": "n/a (no scalar-graph NumPy reference; vectorized loss used for the check)"}


def run(workload, inputs, cfg, warmup=False):
    if workload in MODELS:
        return run_training(workload, inputs, cfg, warmup)
    return {"overhead": run_overhead, "matmul": run_matmul, "micrograd": run_micrograd}[workload](
        inputs, cfg, warmup)
