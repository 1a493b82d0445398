"""``Flatten`` and ``Unflatten``: reshape between layers (e.g. conv features to a Linear)."""

from __future__ import annotations

import math

from ...tensor import Tensor
from .. import functional as F
from ..module import Module


class Flatten(Module):
    """Merge dims ``start_dim..end_dim``: ``(N, C, H, W) -> (N, C*H*W)`` with the defaults."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: ``Unflatten(1, (2, 3))`` maps ``(N, 6) -> (N, 2, 3)``."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        d = self.dim % input.ndim if -input.ndim <= self.dim < input.ndim else None
        size = self.unflattened_size
        known = math.prod(s for s in size if s != -1)
        if d is None or (-1 not in size and known != input.shape[d]):
            raise ValueError(f"Unflatten: cannot split dim {self.dim} of an input of shape {input.shape} into "
                             f"{size}")
        return input.reshape(input.shape[:d] + size + input.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
