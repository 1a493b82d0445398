"""Adagrad: per-coordinate learning rates that shrink with the sum of squared gradients."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), computed as PyTorch does.

    With ``g`` the gradient (plus ``weight_decay * p``) and ``t`` the step count::

        clr = lr / (1 + (t - 1) * lr_decay)
        sum += g * g                     # starts at initial_accumulator_value
        p -= clr * g / (sqrt(sum) + eps)

    As in PyTorch, every parameter given to the constructor gets its state at once (so ``state_dict()``
    lists it even before it has a gradient), and ``sum`` always starts at the constructor's
    ``initial_accumulator_value``: a parameter group's own value is ignored.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *, maximize: bool = False):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if lr_decay < 0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if initial_accumulator_value < 0:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if eps < 0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p])

    def _init_state(self, p, state):
        state["step"] = 0
        state["sum"] = self._zeros_like(p, float(self.defaults["initial_accumulator_value"]))

    def _update(self, p, grad, state, group):
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        if not state:  # a parameter of a group added later
            self._init_state(p, state)
        state["step"] += 1
        clr = lr / (1 + (state["step"] - 1) * lr_decay)
        accumulated = state["sum"]._data

        tmp = np.multiply(grad, grad, out=np.empty_like(p._data))  # one scratch array, reused below
        accumulated += tmp
        std = np.sqrt(accumulated, out=tmp)
        std += eps
        np.divide(grad, std, out=tmp)
        tmp *= clr
        p._data -= tmp
