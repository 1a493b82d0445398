"""``Dropout``, ``Dropout1d``, ``Dropout2d``: randomly zero activations (or whole channels) while training."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..module import Module


class _DropoutNd(Module):
    """The arguments shared by the dropout layers: the probability ``p`` and ``inplace``."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training mode zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``;
    in eval mode return the input unchanged. ``(*) -> (*)``."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """In training mode zero each channel of ``(N, C, L)`` or ``(C, L)`` with probability ``p`` and scale the
    rest by ``1 / (1 - p)``; in eval mode return the input unchanged."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """In training mode zero each channel (``H x W`` map) of ``(N, C, H, W)`` with probability ``p`` and scale
    the rest by ``1 / (1 - p)``; in eval mode return the input unchanged (3-D inputs: see ``F.dropout2d``)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)
