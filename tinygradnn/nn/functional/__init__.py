"""``tinygradnn.nn.functional`` (import as ``F``): the operations behind the layers, as functions.

Modules hold parameters and call these; these call :mod:`tinygradnn.ops`.

* activations: relu, leaky_relu, gelu, elu, softplus, tanh, sigmoid, silu, mish, hardtanh, relu6, prelu,
  softmax, log_softmax
* layers: linear, conv1d, conv2d, conv_transpose1d/2d, max_pool1d/2d, avg_pool1d/2d,
  adaptive_avg/max_pool1d/2d, dropout, dropout1d/2d, batch_norm, layer_norm, group_norm, embedding
* attention: scaled_dot_product_attention
* utilities: one_hot, pad, flatten, normalize, cosine_similarity, interpolate
* losses: mse_loss, l1_loss, huber_loss, smooth_l1_loss, binary_cross_entropy,
  binary_cross_entropy_with_logits, cross_entropy, nll_loss, kl_div
"""

from .activation import (
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    log_softmax,
    mish,
    prelu,
    relu,
    relu6,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from .attention import scaled_dot_product_attention
from .conv import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    max_pool1d,
    max_pool2d,
)
from .layers import dropout, dropout1d, dropout2d, embedding, flatten, linear, one_hot, pad
from .loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .normalization import batch_norm, cosine_similarity, group_norm, layer_norm, normalize
from .upsampling import interpolate

__all__ = [
    "relu", "leaky_relu", "gelu", "elu", "softplus", "tanh", "sigmoid", "softmax", "log_softmax",
    "linear", "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "dropout", "batch_norm",
    "normalize",
    "adaptive_avg_pool2d", "embedding", "one_hot", "pad", "flatten",
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss",
    "layer_norm", "silu", "mish", "hardtanh", "relu6", "kl_div", "cosine_similarity",
    "group_norm", "prelu", "dropout1d", "dropout2d",
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d", "interpolate",
    "conv_transpose1d", "conv_transpose2d", "scaled_dot_product_attention",
]


def __getattr__(name: str):
    # An unsupported PyTorch name says so and what to use instead (tinygradnn/_unsupported.py).
    from ..._unsupported import unsupported

    raise unsupported(__name__, name)
