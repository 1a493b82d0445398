"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture notes), computed as PyTorch does.

    With ``g`` the gradient (plus ``weight_decay * p``)::

        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - gbar**2) + eps   with gbar = running mean of g   if centered
        avg = sqrt(v) + eps                                             otherwise
        buf = momentum * buf + g / avg;  p -= lr * buf                  if momentum > 0
        p -= lr * g / avg                                               otherwise
    """

    _load_defaults = {"momentum": 0, "centered": False, "maximize": False}

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, *, maximize: bool = False):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if momentum < 0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if alpha < 0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        momentum = float(group["momentum"])
        if not state:
            state["step"] = 0
            state["square_avg"] = self._zeros_like(p)
            if momentum > 0:
                state["momentum_buffer"] = self._zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = self._zeros_like(p)
        state["step"] += 1
        square_avg = state["square_avg"]._data

        tmp = np.multiply(grad, grad, out=np.empty_like(p._data))  # one scratch array, reused below
        tmp *= 1 - alpha
        square_avg *= alpha
        square_avg += tmp

        if group["centered"]:
            grad_avg = state["grad_avg"]._data
            np.multiply(grad, 1 - alpha, out=tmp)
            grad_avg *= alpha
            grad_avg += tmp
            np.multiply(grad_avg, grad_avg, out=tmp)
            np.subtract(square_avg, tmp, out=tmp)
            avg = np.sqrt(tmp, out=tmp)
        else:
            avg = np.sqrt(square_avg, out=tmp)
        avg += eps

        np.divide(grad, avg, out=tmp)  # tmp = g / avg
        if momentum > 0:
            buf = state["momentum_buffer"]._data
            buf *= momentum
            buf += tmp
            tmp = np.multiply(buf, lr, out=tmp)
        else:
            tmp *= lr
        p._data -= tmp
