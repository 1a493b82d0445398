"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import Optimizer, add_scaled_


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's update rule).

    With ``g = grad + weight_decay * p`` (negated first when ``maximize``)::

        buf = g                                    # first step
        buf = momentum * buf + (1 - dampening) * g # later steps
        g   = g + momentum * buf  if nesterov else buf
        p  -= lr * g

    Examples:
        >>> import tinygradnn as tg
        >>> w = tg.tensor([1.0], requires_grad=True)
        >>> opt = tg.optim.SGD([w], lr=0.5, momentum=0.9)
        >>> (w * w).sum().backward(); opt.step()
        >>> round(w.item(), 4)
        0.0
    """

    _load_defaults = {"nesterov": False, "maximize": False}

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False):
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"Nesterov momentum requires a momentum and zero dampening, got momentum={momentum}, "
                             f"dampening={dampening}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _step_group(self, group, plain):
        if group["momentum"]:
            return super()._step_group(group, plain)
        lr = float(group["lr"])  # without momentum SGD keeps no state (as PyTorch): p -= lr * grad, nothing else
        for p in group["params"]:
            if p.grad is not None:
                grad = p.grad._data
                if not plain or grad.shape != p._data.shape:
                    grad = self._gradient(p, group)
                add_scaled_(p._data, -lr, grad)

    def _update(self, p, grad, state, group):  # (groups with momentum: _step_group updates the others)
        momentum, dampening = float(group["momentum"]), float(group["dampening"])
        if "momentum_buffer" not in state:
            buf = np.array(grad, dtype=p.dtype)  # the first buffer is the gradient itself
            state["momentum_buffer"] = Tensor._wrap(buf)
        else:
            buf = state["momentum_buffer"]._data
            buf *= momentum
            add_scaled_(buf, 1 - dampening, grad)
        if group["nesterov"]:
            grad = np.array(grad, dtype=p.dtype)  # (grad may be p.grad's own array)
            add_scaled_(grad, momentum, buf)
        else:
            grad = buf
        add_scaled_(p._data, -float(group["lr"]), grad)  # (float: a NumPy float64 lr would round otherwise)
