"""Loss layers: each wraps the function of the same name in :mod:`tinygradnn.nn.functional.loss`
and takes ``reduction='mean' | 'sum' | 'none'``. Call as ``loss_fn(input, target)``.

Class weights (``weight``) and ``pos_weight`` are buffers, as in PyTorch, so they follow ``to()`` and
appear in ``state_dict()``.
"""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..functional.loss import _reduction
from ..module import Module


def _as_tensor(value):
    return value if value is None or isinstance(value, Tensor) else Tensor(value)


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = _reduction(type(self).__name__, size_average, reduce, reduction)


class _WeightedLoss(_Loss):
    # forward reads ``self._buffers["weight"]``: ``self.weight`` of a buffer goes through
    # ``Module.__getattr__`` after Python has built an AttributeError (a few us a call)

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_tensor(weight))


class MSELoss(_Loss):
    """Mean squared error ``(input - target)^2``: ``(*), (*) -> ()`` (or ``(*)`` for 'none')."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error ``|input - target|``: ``(*), (*) -> ()`` (or ``(*)`` for 'none')."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Squared error for ``|d| < delta``, linear beyond: ``(*), (*) -> ()`` (or ``(*)`` for 'none')."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """``0.5 d^2 / beta`` for ``|d| < beta``, ``|d| - beta / 2`` beyond: ``(*), (*) -> ()``."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] (logs clamped at -100): ``(*), (*) -> ()``.

    For raw scores use :class:`BCEWithLogitsLoss` (more stable than ``Sigmoid`` + ``BCELoss``).
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self._buffers["weight"], reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """``BCELoss(sigmoid(input), target)`` computed stably from logits: ``(*), (*) -> ()``.

    ``pos_weight`` (e.g. shape ``(C,)``, broadcast over the last dim) weights the positive examples.
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_tensor(weight))
        self.register_buffer("pos_weight", _as_tensor(pos_weight))

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self._buffers["weight"], reduction=self.reduction,
                                                  pos_weight=self._buffers["pos_weight"])


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits ``(N, C)`` or ``(N, C, d1, ...)`` against int64 class labels
    ``(N,)`` / ``(N, d1, ...)`` or float class probabilities of the input's shape.

    ``weight (C,)`` rescales classes, ``ignore_index`` labels are skipped, ``label_smoothing`` mixes
    the targets with the uniform distribution.
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self._buffers["weight"], ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities ``(N, C, *)`` (e.g. from ``LogSoftmax(dim=1)``)
    against int64 labels ``(N, *)``."""

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self._buffers["weight"], ignore_index=self.ignore_index,
                          reduction=self.reduction)


class KLDivLoss(_Loss):
    """KL divergence of log-probabilities ``input`` from ``target`` (see ``F.kl_div``); ``reduction`` may
    also be 'batchmean' (the sum divided by the batch size: the true KL divergence per sample)."""

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
        batchmean = reduction == "batchmean" and size_average is None and reduce is None
        super().__init__(size_average, reduce, "mean" if batchmean else reduction)
        self.reduction = "batchmean" if batchmean else self.reduction
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
