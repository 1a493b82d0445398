"""``Dropout``: randomly zero activations while training."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..module import Module


class Dropout(Module):
    """In training mode zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``;
    in eval mode return the input unchanged. ``(*) -> (*)``."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
