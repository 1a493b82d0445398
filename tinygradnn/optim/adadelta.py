"""Adadelta: step sizes from running averages of squared gradients and of squared updates."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), computed as PyTorch does.

    With ``g`` the gradient (plus ``weight_decay * p``)::

        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p -= lr * delta
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0, *,
                 maximize: bool = False):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if eps < 0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        if not state:
            state["step"] = 0
            state["square_avg"] = self._zeros_like(p)
            state["acc_delta"] = self._zeros_like(p)
        state["step"] += 1
        square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data

        tmp = np.multiply(grad, grad, out=np.empty_like(p._data))  # scratch arrays: tmp, then delta
        tmp *= 1 - rho
        square_avg *= rho
        square_avg += tmp

        std = np.add(square_avg, eps, out=tmp)
        np.sqrt(std, out=std)
        delta = np.add(acc_delta, eps, out=np.empty_like(p._data))
        np.sqrt(delta, out=delta)
        delta /= std
        delta *= grad

        np.multiply(delta, delta, out=tmp)
        tmp *= 1 - rho
        acc_delta *= rho
        acc_delta += tmp
        delta *= lr
        p._data -= delta
