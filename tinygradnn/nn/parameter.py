"""``Parameter``: a Tensor that a :class:`~tinygradnn.nn.Module` registers as one of its weights."""

from __future__ import annotations

import numpy as np

from .._dtype import get_default_dtype
from ..tensor import Tensor, _to_array


class Parameter(Tensor):
    """A Tensor that is a module weight: assigning it to a Module attribute registers it.

    ``Parameter(t)`` shares ``t``'s memory (no copy) and requires grad by default.

    Examples:
        >>> p = Parameter(tinygradnn.zeros(2))
        >>> p
        Parameter containing:
        tensor([0., 0.], requires_grad=True)
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            arr = np.empty((0,), dtype=get_default_dtype())
        elif isinstance(data, Tensor):
            arr = data._data if type(data._data) is np.ndarray else np.array(data._data)
        else:
            arr = _to_array(data)
        Tensor.__init__(self, arr)
        self._data = arr  # Tensor.__init__ copies lists; keep the caller's array itself (shared, like PyTorch)
        if requires_grad:
            self.requires_grad = True

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        new = Parameter(self._data.copy(), self._requires_grad)
        if self.grad is not None:
            new.grad = Tensor._wrap(self.grad._data.copy())
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol):
        return Parameter, (self._data, self._requires_grad)
