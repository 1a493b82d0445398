"""Loss functions. Each takes ``reduction='mean' | 'sum' | 'none'`` ('none' keeps one loss per element).

Regression (``input`` and ``target`` of the same shape): ``mse_loss``, ``l1_loss``, ``huber_loss``,
``smooth_l1_loss``. Binary: ``binary_cross_entropy`` (probabilities), ``binary_cross_entropy_with_logits``.
Classification: ``cross_entropy`` (logits), ``nll_loss`` (log-probabilities), with ``input`` of shape
``(N, C)`` or ``(N, C, d1, ...)`` and ``target`` either int64 class labels ``(N, d1, ...)`` or, for
``cross_entropy``, float class probabilities of the input's shape. Distributions: ``kl_div``.

The common case of ``cross_entropy`` (2-D logits, labels, no weights, smoothing or ignored labels)
is one fused graph node; the rest are compositions of differentiable ops.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ... import ops
from ...ops import nnops
from ...tensor import Tensor, tensor_arg

_REDUCTIONS = ("mean", "sum", "none")
_INT64 = np.dtype(np.int64)
_LABEL_DTYPES = (_INT64, np.dtype(np.uint8))  # class labels, as PyTorch


# ----------------------------------------------------------------------------- argument checks
def _reduction(name: str, size_average, reduce, reduction: str) -> str:
    """The reduction, including PyTorch's deprecated ``size_average`` / ``reduce`` flags."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    if reduction == "elementwise_mean":  # the old name of 'mean', as PyTorch: a warning
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      stacklevel=3)
        reduction = "mean"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))


def _same_shape(name: str, input: Tensor, target) -> Tensor:
    """``target`` as a float Tensor of ``input``'s shape, or a clear error."""
    target = _tensor(target)
    if target.shape != input.shape:
        raise ValueError(f"{name}: target of shape {target.shape} does not match input of shape {input.shape}; "
                         "they must be equal (reshape one of them, e.g. target.reshape(input.shape))")
    if target.dtype.kind != "f":
        raise TypeError(f"{name}: target has dtype {target.dtype} but a floating target is needed (use target.float())")
    return target


def _input(name: str, input) -> Tensor:
    """The loss's ``input`` as a floating Tensor (array-likes are converted), or a clear error."""
    input = tensor_arg(input, name)
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point (scores, probabilities or predictions), got dtype "
                        f"{input.dtype}; convert it with .float()")
    return input


def _probabilities(name: str, what: str, t: Tensor) -> None:
    """Check that every value of ``t`` lies in [0, 1] (NaN does not)."""
    values = t._data
    bad = ~((values >= 0) & (values <= 1))
    if bad.any():
        hint = "; for raw scores (logits) use binary_cross_entropy_with_logits / BCEWithLogitsLoss" \
            if what == "input" else ""
        raise ValueError(f"{name}: all elements of {what} should be between 0 and 1, got {values[bad].flat[0]}"
                         f"{hint}")


def _in_float32(input: Tensor, target: Tensor) -> tuple:
    """A float16 ``input`` and ``target`` in float32 (differentiably), and whether they were float16.

    As PyTorch, a float16 loss is computed in float32 and rounded once (``_rounded``): in float16,
    ``1 / N`` times a small gradient or the square of a tiny difference loses every digit.
    """
    if input.dtype == np.float16 and target.dtype == np.float16:
        return ops.cast(input, np.float32), ops.cast(target, np.float32), True
    return input, target, False


def _rounded(loss: Tensor, half: bool) -> Tensor:
    """The float32 ``loss`` of float16 inputs (see ``_in_float32``) rounded to float16 once."""
    return ops.cast(loss, np.float16) if half else loss


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ----------------------------------------------------------------------------- regression
def mse_loss(input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Squared error ``(input - target)^2``; ``(*), (*) -> ()`` or ``(*)`` for 'none'."""
    reduction = _reduction("mse_loss", size_average, reduce, reduction)
    input = _input("mse_loss", input)
    target = _same_shape("mse_loss", input, target)
    if reduction != "none" and input.numel() and input.dtype == target.dtype:
        return nnops.mse_loss(input, target, reduction)  # one node
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """Absolute error ``|input - target|``; ``(*), (*) -> ()`` or ``(*)`` for 'none'."""
    reduction = _reduction("l1_loss", size_average, reduce, reduction)
    input = _input("l1_loss", input)
    input, target, half = _in_float32(input, _same_shape("l1_loss", input, target))
    return _rounded(_reduce(ops.abs(input - target), reduction), half)


def huber_loss(input: Tensor, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, ``delta (|d| - delta / 2)`` elsewhere (``d = input - target``)."""
    reduction = _reduction("huber_loss", None, None, reduction)
    input = _input("huber_loss", input)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input, target, half = _in_float32(input, _same_shape("huber_loss", input, target))
    if input.numel() and input.dtype == target.dtype:
        return _rounded(nnops.smooth_l1(input, target, float(delta), True, reduction), half)  # one node
    diff = input - target
    size = ops.abs(diff)
    small = ~(size >= delta)  # (NaN diffs too: a NaN gradient, as PyTorch)
    inner = ops.where(small, diff, 0.0)  # squared only where used: an inf diff gets gradient +-delta, not NaN
    loss = ops.where(small, 0.5 * inner * inner, delta * (size - 0.5 * delta))
    return _rounded(_reduce(loss, reduction), half)


def smooth_l1_loss(input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, ``|d| - beta / 2`` elsewhere (``beta=0``: L1)."""
    reduction = _reduction("smooth_l1_loss", size_average, reduce, reduction)
    input = _input("smooth_l1_loss", input)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    input, target, half = _in_float32(input, _same_shape("smooth_l1_loss", input, target))
    if beta and input.numel() and input.dtype == target.dtype:
        return _rounded(nnops.smooth_l1(input, target, float(beta), False, reduction), half)  # one node
    diff = input - target
    size = ops.abs(diff)
    if beta == 0:
        return _rounded(_reduce(size, reduction), half)
    small = ~(size >= beta)
    inner = ops.where(small, diff, 0.0)  # (as in huber_loss: no NaN gradient from an inf diff)
    return _rounded(_reduce(ops.where(small, (0.5 / beta) * inner * inner, size - 0.5 * beta), reduction), half)


# ----------------------------------------------------------------------------- binary
def binary_cross_entropy(input: Tensor, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """``-(t log p + (1 - t) log(1 - p))`` for probabilities ``p`` in [0, 1] (logs clamped at -100).

    ``weight`` broadcasts against the elementwise loss. ``(*), (*) -> ()`` or ``(*)`` for 'none'.
    """
    reduction = _reduction("binary_cross_entropy", size_average, reduce, reduction)
    input = _input("binary_cross_entropy", input)
    target = _same_shape("binary_cross_entropy", input, target)
    _probabilities("binary_cross_entropy", "input", input)
    _probabilities("binary_cross_entropy", "target", target)
    input, target, half = _in_float32(input, target)
    loss = nnops.binary_cross_entropy(input, target)
    if weight is not None:
        loss = loss * _elementwise_weight("binary_cross_entropy", weight, input.shape)
    return _rounded(_reduce(loss, reduction), half)


def _elementwise_weight(name: str, weight, shape: tuple, what: str = "weight"):
    """``weight``, checked to broadcast to the loss's ``shape`` without enlarging it (as in PyTorch)."""
    w_shape = weight.shape if isinstance(weight, Tensor) else np.shape(weight)
    try:
        fits = np.broadcast_shapes(w_shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name}: {what} of shape {w_shape} does not broadcast to the input's shape {shape}")
    return weight


def binary_cross_entropy_with_logits(input: Tensor, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None) -> Tensor:
    """``binary_cross_entropy(sigmoid(input), target)`` computed stably from logits.

    ``pos_weight`` (broadcast over the last dim, e.g. ``(C,)``) weights the positive term.
    """
    reduction = _reduction("binary_cross_entropy_with_logits", size_average, reduce, reduction)
    input = _input("binary_cross_entropy_with_logits", input)
    target = _same_shape("binary_cross_entropy_with_logits", input, target)
    _probabilities("binary_cross_entropy_with_logits", "target", target)
    input, target, half = _in_float32(input, target)
    if pos_weight is None and weight is None and input.numel() and input.dtype == target.dtype:
        return _rounded(nnops.bce_with_logits(input, target, reduction), half)  # one node
    # -(t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))) = t softplus(-x) + (1 - t) softplus(x): a sum of two
    # non-negative terms, so no cancellation (softplus(x) - t x loses all digits of a confident right answer).
    # threshold=inf: softplus(x) is not rounded to x for x > 20, which would cost float64 ~1e-9 absolute.
    positive = target * ops.softplus(-input, 1.0, math.inf)
    if pos_weight is not None:
        positive = positive * _elementwise_weight("binary_cross_entropy_with_logits", pos_weight, input.shape,
                                                  "pos_weight")
    loss = positive + (1 - target) * ops.softplus(input, 1.0, math.inf)
    if weight is not None:
        loss = loss * _elementwise_weight("binary_cross_entropy_with_logits", weight, input.shape)
    return _rounded(_reduce(loss, reduction), half)


# ----------------------------------------------------------------------------- classification
def _class_labels(name: str, input: Tensor, target: Tensor, ignore_index: int) -> tuple:
    """Check int labels against ``input (N, C, *)``; return ``(labels, ignored mask or None)``."""
    expected = (input.shape[0],) + input.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{name}: input of shape {input.shape} (N, C, ...) needs integer class labels of shape "
                         f"{expected}, got a target of shape {target.shape}")
    labels, c = target._data, input.shape[1]
    if not 0 <= ignore_index < c and _valid_labels(labels, c):
        return labels, None  # the common case: every label valid, none ignored
    ignored = labels == ignore_index
    bad = ~ignored & ((labels < 0) | (labels >= c))
    if bad.any():
        raise IndexError(f"{name}: target label {labels[bad].flat[0]} is out of range for {c} classes (labels "
                         f"must be in [0, {c}) or equal ignore_index={ignore_index})")
    return labels, (ignored if ignored.any() else None)


def _check_label_dtype(name: str, x: Tensor, t: Tensor) -> None:
    """As PyTorch: class labels are int64, or uint8 for an ``(N, C)`` input."""
    if t.dtype != np.int64 and not (t.dtype == np.uint8 and x.ndim == 2):
        if t.dtype == np.uint8:
            raise RuntimeError(f"{name}: uint8 labels only for an (N, C) input, got input of shape {x.shape}; "
                               "use target.long()")
        raise RuntimeError(f"{name}: expected target dtype to be int64 or uint8, but got {t.dtype} (use "
                           "target.long())")


def _valid_labels(labels: np.ndarray, c: int) -> bool:
    """True if every int label is in ``[0, c)`` (and there is one): one reduction, as the largest label
    read unsigned (a negative label reads as a huge number)."""
    if not labels.size:
        return False
    if labels.dtype is _INT64:  # (the usual labels: no dtype string to parse)
        labels = labels.view(np.uint64)
    elif labels.dtype.kind == "i":
        labels = labels.view(labels.dtype.str.replace("i", "u"))
    return int(np.maximum.reduce(labels, None)) < c


def _check_weight(name: str, weight, c: int):
    if weight is None:
        return None
    w = weight._data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (c,):
        raise ValueError(f"{name}: weight must hold one value per class, shape ({c},), got {w.shape}")
    return w


def _nll(logp: Tensor, labels: np.ndarray, ignored, w, reduction: str) -> Tensor:
    """``-logp[n, label[n], ...]`` weighted by ``w[label]``, 0 for ignored labels; mean divides by total weight."""
    safe = labels if ignored is None else np.where(ignored, 0, labels)
    picked = ops.gather(logp, 1, safe[:, None])[:, 0]  # (N, *)
    if w is None and ignored is None:
        return _reduce(-picked, reduction)
    weights = np.ones(labels.shape, logp.dtype) if w is None else w[safe].astype(logp.dtype)
    if ignored is not None:
        weights[ignored] = 0
    loss = picked * -weights
    if reduction != "mean":
        return _reduce(loss, reduction)
    total = weights.sum()
    if total == 0:
        return _zero_weight_mean(picked, ignored)
    return loss.sum() / total


def _zero_weight_mean(values: Tensor, ignored) -> Tensor:
    """A 'mean' whose total weight is 0, as PyTorch's 0/0: NaN, with a NaN gradient for the counted
    entries and 0 for the ignored ones (so a batch of nothing but padding leaves the parameters finite)."""
    counted = np.nan if ignored is None else np.where(ignored, 0, np.nan).astype(values.dtype)
    return (values * counted).sum() + np.nan


def _as_batched(name: str, input: Tensor, target: Tensor):
    """Unbatched ``(C,)`` input becomes ``(1, C)`` (and its target gets a batch dim)."""
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dim: (C,), (N, C) or (N, C, d1, ...), got a scalar")
    if input.ndim == 1:
        return input.reshape(1, -1), target.reshape((1,) + target.shape), True
    return input, target, False


def nll_loss(input: Tensor, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input (N, C, *)`` for int64 labels ``target (N, *)``.

    ``weight (C,)`` rescales each class; labels equal to ``ignore_index`` contribute nothing; 'mean'
    divides by the total weight of the counted labels.
    """
    reduction = _reduction("nll_loss", size_average, reduce, reduction)
    input = _input("nll_loss", input)
    target = _tensor(target)
    if target.dtype.kind not in "iub":
        raise TypeError(f"nll_loss: target must hold int64 class labels, got dtype {target.dtype} (use .long())")
    x, t, unbatched = _as_batched("nll_loss", input, target)
    _check_label_dtype("nll_loss", x, t)
    labels, ignored = _class_labels("nll_loss", x, t, ignore_index)
    out = _nll(x, labels, ignored, _check_weight("nll_loss", weight, x.shape[1]), reduction)
    return out.reshape(()) if unbatched and reduction == "none" else out


def cross_entropy(input: Tensor, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy of logits ``input (N, C, *)`` (or unbatched ``(C,)``).

    ``target`` is either int64 class labels ``(N, *)`` or float class probabilities of the input's
    shape. ``weight (C,)`` rescales classes, labels equal to ``ignore_index`` are skipped,
    ``label_smoothing`` mixes the target with the uniform distribution. Returns ``()``, or ``(N, *)``
    for ``reduction='none'``.
    """
    if (type(input) is Tensor and type(target) is Tensor and weight is None and not label_smoothing
            and size_average is None and reduce is None and reduction in _REDUCTIONS):
        x, labels = input._data, target._data
        if x.ndim >= 2 and x.dtype.char in "fd" and labels.shape == x.shape[:1] + x.shape[2:] \
                and (labels.dtype is _INT64 or (labels.dtype in _LABEL_DTYPES and x.ndim == 2)) \
                and not 0 <= ignore_index < x.shape[1] and _valid_labels(labels, x.shape[1]):
            return nnops.cross_entropy_labels(input, labels, reduction)  # the common case, checked in full
    reduction = _reduction("cross_entropy", size_average, reduce, reduction)
    input = _input("cross_entropy", input)
    if input.dtype == np.float16:  # in float32, rounded once (see _in_float32; float16 sums of -log p overflow)
        target = _tensor(target)
        if target.dtype == np.float16:
            target = ops.cast(target, np.float32)
        weight = weight.float() if isinstance(weight, Tensor) and weight.dtype == np.float16 else weight
        return _rounded(cross_entropy(ops.cast(input, np.float32), target, weight, None, ignore_index, None,
                                      reduction, label_smoothing), True)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    target = _tensor(target)
    x, t, unbatched = _as_batched("cross_entropy", input, target)
    c = x.shape[1]
    w = _check_weight("cross_entropy", weight, c)
    if t.dtype.kind == "f":
        if t.shape != x.shape:
            raise ValueError(f"cross_entropy: got a float target of shape {target.shape} for input of shape "
                             f"{input.shape}; class labels must be integers (use target.long()) and class "
                             "probabilities must have the input's shape")
        if ignore_index >= 0:
            raise ValueError("cross_entropy: ignore_index is not supported for class-probability targets")
        out = _soft_targets(x, t, w, reduction, label_smoothing)
    elif t.dtype.kind in "iub":
        _check_label_dtype("cross_entropy", x, t)
        labels, ignored = _class_labels("cross_entropy", x, t, ignore_index)
        if w is None and ignored is None and label_smoothing == 0.0:
            out = nnops.cross_entropy_labels(x, labels, reduction)
        else:
            out = _smoothed_labels(x, labels, ignored, w, reduction, label_smoothing)
    else:
        raise TypeError(f"cross_entropy: target must be int64 labels or float probabilities, got dtype {t.dtype}")
    return out.reshape(()) if unbatched and reduction == "none" else out


def _soft_targets(x: Tensor, t: Tensor, w, reduction: str, smoothing: float) -> Tensor:
    c = x.shape[1]
    if smoothing:
        t = t * (1 - smoothing) + smoothing / c
    prod = ops.log_softmax(x, 1) * t
    if w is not None:
        prod = prod * w.astype(x.dtype).reshape((1, c) + (1,) * (x.ndim - 2))
    return _reduce(-prod.sum(1), reduction)


def _smoothed_labels(x: Tensor, labels, ignored, w, reduction: str, smoothing: float) -> Tensor:
    logp = ops.log_softmax(x, 1)
    nll = _nll(logp, labels, ignored, w, reduction)
    if not smoothing:
        return nll
    c = x.shape[1]
    if w is None:
        smooth = -logp.sum(1)  # (N, *)
    else:
        smooth = -(logp * w.astype(x.dtype).reshape((1, c) + (1,) * (x.ndim - 2))).sum(1)
    keep = None if ignored is None else (~ignored).astype(x.dtype)
    if keep is not None:
        smooth = smooth * keep
    if reduction == "mean":
        if w is not None:
            safe = labels if ignored is None else np.where(ignored, 0, labels)
            total = (w[safe] if keep is None else w[safe] * keep).sum()
        else:
            total = labels.size if keep is None else keep.sum()
        smooth = smooth.sum() / float(total) if total else _zero_weight_mean(smooth, ignored)
    else:
        smooth = _reduce(smooth, reduction)
    return nll * (1 - smoothing) + smooth * (smoothing / c)


# ----------------------------------------------------------------------------- distributions
def kl_div(input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Pointwise KL divergence ``target * (log(target) - input)`` (0 where target is 0) of log-probabilities
    ``input`` and probabilities ``target`` (log-probabilities with ``log_target=True``): ``(*), (*) -> ()``
    or ``(*)`` for 'none'. 'batchmean' divides the sum by ``input.shape[0]`` (the KL divergence per sample);
    'mean' divides by the number of elements, with PyTorch's warning. As PyTorch, the deprecated
    ``size_average``/``reduce`` flags override ``reduction``, but 'batchmean' still divides by ``input.shape[0]``.
    """
    legacy = size_average is not None or reduce is not None
    batchmean = reduction == "batchmean"
    if batchmean and not legacy:
        reduction = "sum"
    else:
        if reduction == "mean" and not legacy:
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                          "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
        reduction = _reduction("kl_div", size_average, reduce, reduction)
    input, target = _input("kl_div", input), _tensor(target)
    if target.dtype.kind != "f":
        raise TypeError(f"kl_div: target has dtype {target.dtype} but a floating target is needed (use target.float())")
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise ValueError(f"kl_div: target of shape {target.shape} does not broadcast with input of shape "
                         f"{input.shape}") from None
    if log_target:
        loss = ops.exp(target) * (target - input)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):  # (0 log 0 is 0; log of a negative target is nan)
            loss = ops.where(target == 0, 0.0, target * ops.log(target)) - target * input
    loss = _reduce(loss, reduction)
    return loss / input.shape[0] if batchmean and input.ndim else loss
