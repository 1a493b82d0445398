"""``CosineSimilarity``: the cosine of the angle between two tensors along a dim."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..module import Module


class CosineSimilarity(Module):
    """``sum(x1 * x2, dim) / (max(|x1|, eps) * max(|x2|, eps))``: ``(*1, D, *2), (*1, D, *2) -> (*1, *2)``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
