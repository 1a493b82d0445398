"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad``, ``step`` and ``state_dict``.

Every optimizer keeps

* ``param_groups``: a list of dicts, each with ``"params"`` (a list of Tensors) and its own options
  (``"lr"``, ``"weight_decay"``, ...); options a group leaves out come from ``defaults``;
* ``state``: a dict from parameter Tensor to that parameter's buffers (momentum, running averages,
  a ``"step"`` count), created on the first ``step()``.

A subclass only writes ``_update(p, grad, state, group)``: the rule for one parameter. ``step()``
calls it for every parameter that has a gradient (SGD without momentum, which keeps no state,
replaces that per-group loop, ``_step_group``, with its one-line update). Updates change ``p._data`` in place and
are never recorded by autograd. Gradients accumulate across ``backward()`` calls until ``zero_grad()``.
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict

import numpy as np

from ..autograd import enable_grad
from ..tensor import Tensor


class _RequiredParameter:
    """Marks a default that every parameter group must set itself."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs (``model.named_parameters()``), or
            of dicts ``{"params": [...], "lr": ...}`` giving each group its own options.
        defaults: the options used by groups that do not set them.

    Examples:
        >>> import tinygradnn as tg
        >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = tg.optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.8, 1.6], requires_grad=True)
    """

    # what load_state_dict gives a flag the saved groups lack; every other option is taken as saved
    _load_defaults: dict = {"maximize": False}

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._step_count = 0  # read by lr schedulers to warn when they step first

        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got a Tensor; wrap it in a list: [tensor]")
        if isinstance(params, dict | set):
            raise TypeError(f"params should be an ordered iterable (a list) of Tensors or of dicts, "
                            f"got a {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k not in ("params", "param_names")):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    # ----------------------------------------------------------------- parameter groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (for example a layer unfrozen mid-training)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("param_group must have a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets changes between runs; use a list instead")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with or without names; some names are missing")
            group["param_names"] = names
        group["params"] = params

        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but parameter {i} of the group is a "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (parameter {i} of the group was computed "
                                 "by an operation); optimize the leaf it came from or use .detach()")
            if p.dtype.kind != "f":
                raise TypeError(f"optimizer can only optimize floating point Tensors, parameter {i} has dtype "
                                f"{p.dtype}")

        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter "
                                 f"{name}")
            group.setdefault(name, default)

        if len({id(p) for p in params}) != len(params):  # kept: step() then updates it twice, as in PyTorch
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        if self.param_groups and ("param_names" in group) != ("param_names" in self.param_groups[0]):
            raise ValueError("all optimizer param groups should be with or without names")
        self.param_groups.append(group)

    # ----------------------------------------------------------------- the training-loop API
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to ``None`` (default) or to zeros in place."""
        for group in self.param_groups:
            if set_to_none:
                for p in group["params"]:
                    p.grad = None
                continue
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad._ctx is None and p.grad._data.flags.writeable:
                    p.grad._data.fill(0)
                else:  # a gradient with a graph (create_graph=True) or a read-only array: replace it
                    p.grad = Tensor._wrap(np.zeros_like(p.grad._data))

    def step(self, closure=None):
        """Update every parameter that has a gradient; return ``closure()``'s loss if given.

        ``closure`` re-evaluates the model and returns the loss (it runs with gradients enabled).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            # the gradient as stored, unless this group negates it or adds L2 decay (decided once per group)
            plain = not group.get("maximize") and not (group.get("weight_decay")
                                                       and not group.get("decoupled_weight_decay"))
            self._step_group(group, plain)
        self._step_count += 1
        return loss

    def _step_group(self, group: dict, plain: bool) -> None:
        """``_update`` every parameter of ``group`` that has a gradient (``plain``: use ``p.grad`` as it is)."""
        state = self.state
        for p in group["params"]:
            grad = p.grad
            if grad is not None:
                grad = grad._data
                if not plain or grad.shape != p._data.shape:
                    grad = self._gradient(p, group)
                self._update(p, grad, state[p], group)

    def _update(self, p: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        """Apply one step to ``p._data`` in place; ``grad`` may be ``p.grad``'s own array: never modify it."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update(p, grad, state, group)")

    @staticmethod
    def _gradient(p: Tensor, group: dict) -> np.ndarray:
        """``p.grad`` as an array, negated for ``maximize`` and with L2 ``weight_decay * p`` added.

        Optimizers with decoupled weight decay (AdamW) apply it to the parameter themselves.
        """
        grad = p.grad._data
        if grad.shape != p._data.shape:
            raise RuntimeError(f"gradient of shape {grad.shape} does not match its parameter of shape {p.shape}")
        maximize, weight_decay = group.get("maximize"), group.get("weight_decay")
        if weight_decay and not group.get("decoupled_weight_decay"):
            grad = np.array(grad)  # a new array to add the decay into (-grad of a 0-d array is a NumPy scalar)
            if maximize:
                np.negative(grad, out=grad)
            add_scaled_(grad, float(weight_decay), p._data)  # as PyTorch's grad.add(p, alpha=weight_decay)
        elif maximize:
            grad = -grad
        return grad

    @staticmethod
    def _zeros_like(p: Tensor, fill: float = 0.0) -> Tensor:
        """A state buffer shaped and typed like ``p``."""
        return Tensor._wrap(np.full_like(p._data, fill))

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """A snapshot of the optimizer: ``{"state": {index: {...}}, "param_groups": [{..., "params": [index]}]}``.

        Parameters are replaced by their position across all groups (0, 1, 2, ...), as in PyTorch.
        Unlike PyTorch the buffers are copies, so later steps do not change a saved state dict.
        """
        index = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            # as PyTorch: a parameter listed twice in a group gets the position of its last occurrence
            index.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in index})
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(group["params"])
            groups.append(packed)
        state = {}
        for p, p_state in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = {k: _copy_value(v) for k, v in p_state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict` (taken from an optimizer over parameters of the same shapes).

        As in PyTorch the groups' options become the saved ones, even those of another optimizer class.
        """
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with 'state' and 'param_groups' entries, got "
                             f"{type(state_dict).__name__}"
                             + (f" with keys {sorted(map(str, state_dict))}" if isinstance(state_dict, dict) else ""))
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, but the optimizer has "
                             f"{len(self.param_groups)}")
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"loaded state dict's parameter group {i} has {len(saved['params'])} parameters, "
                                 f"but the optimizer's group {i} has {len(group['params'])}")

        params_by_index = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for index, p in zip(saved["params"], group["params"]):
                params_by_index[int(index)] = p

        new_state: defaultdict = defaultdict(dict)
        for index, p_state in state_dict["state"].items():
            index = int(index)  # accept "0" as well as 0
            if index not in params_by_index:
                raise ValueError(f"loaded state dict has state for parameter {index}, which is in no parameter group")
            p = params_by_index[index]
            new_state[p] = {key: _restore_value(key, value, p, index) for key, value in p_state.items()}

        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            restored = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            if isinstance(restored.get("betas"), list):
                restored["betas"] = tuple(restored["betas"])
            for key, default in self._load_defaults.items():  # flags newer than the state dict, as PyTorch
                restored.setdefault(key, default)
            restored["params"] = group["params"]
            new_groups.append(restored)
        self.state = new_state
        self.param_groups = new_groups


def _copy_value(value):
    if isinstance(value, Tensor):
        return Tensor._wrap(value._data.copy())
    if isinstance(value, np.ndarray):
        return value.copy()
    return copy.deepcopy(value)


def _restore_value(key: str, value, p: Tensor, index: int):
    """A state entry as the optimizer keeps it: arrays become Tensors, floating ones cast to ``p``'s dtype."""
    if isinstance(value, Tensor | np.ndarray):
        arr = value._data if isinstance(value, Tensor) else value
        if key == "step" and arr.size == 1:  # PyTorch keeps the step count as a tensor; we keep a number
            step = arr.item()
            return int(step) if float(step).is_integer() else step
        if arr.shape != p.shape:  # every other buffer is updated in place, element by element, with p
            raise ValueError(f"loaded state '{key}' of parameter {index} has shape {arr.shape}, but the parameter "
                             f"has shape {p.shape}")
        if arr.dtype.kind == "f":
            return Tensor._wrap(arr.astype(p.dtype, copy=True))
        return Tensor._wrap(arr.copy())
    return copy.deepcopy(value)


_AXPY: dict = {}  # dtype -> BLAS axpy, filled on first use (importing scipy.linalg takes a third of a second)
# Elements per axpy call. OpenBLAS runs an axpy of up to 10,000 elements on the calling thread; a longer one would
# wake SciPy's own OpenBLAS threads, which then spin for a while against NumPy's and slow its next matmul 100-fold.
_AXPY_CHUNK = 8192


def add_scaled_(y: np.ndarray, alpha: float, x: np.ndarray) -> None:
    """``y += alpha * x`` in place, for ``x`` of ``y``'s shape.

    For a writable, C-contiguous float32 or float64 ``y`` and ``x`` of its dtype, a BLAS axpy (SciPy's) does it
    in one pass and without a temporary array, several times faster than NumPy's two. Its kernels use fused
    multiply-adds as PyTorch's ``y.add_(x, alpha=alpha)`` does, so the last bit may differ from NumPy's.
    """
    if not _AXPY:
        from scipy.linalg import blas

        _AXPY.update({np.dtype(np.float32): blas.saxpy, np.dtype(np.float64): blas.daxpy})
    axpy, n = _AXPY.get(y.dtype), y.size
    if axpy is None or not n or not alpha or x.dtype != y.dtype or not y.flags.carray:  # (BLAS skips alpha = 0,
        y += alpha * x  # where 0 * inf must give nan)
    elif n <= _AXPY_CHUNK:
        axpy(x.ravel(), y.ravel(), n, alpha)
    else:
        x, y = x.ravel(), y.ravel()  # (views of y; of x too unless x is not contiguous)
        for start in range(0, n, _AXPY_CHUNK):
            axpy(x, y, min(_AXPY_CHUNK, n - start), alpha, start, 1, start, 1)
