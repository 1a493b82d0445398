"""tinygradnn: a small, readable, PyTorch-shaped deep-learning library on NumPy.

``import tinygradnn as tg`` gives tensors with reverse-mode autodiff (``tg.tensor``, ``tg.randn``,
``Tensor.backward``), and the packages ``tg.nn``, ``tg.optim``, ``tg.data`` and ``tg.datasets``.
"""

import numpy as _np

from . import _allocator  # noqa: F401  (glibc keeps freed array memory: see its docstring)
from . import ops as _ops_pkg
from .tensor import Tensor, _install_methods

_install_methods(_ops_pkg)

from . import autograd, random
from ._dtype import get_default_dtype, set_default_dtype
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .device import accelerator, cuda, device
from .ops import *  # noqa: F403  (every op as a function: tg.exp, tg.cat, tg.where, ...)
from .random import Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .threads import get_num_threads, set_num_threads

float32 = _np.float32
float64 = _np.float64
float16 = _np.float16
int32 = _np.int32
int64 = _np.int64
uint8 = _np.uint8
bool = _np.bool_
float = float32
double = float64
long = int64

__version__ = "0.1.0"


class _Backends:
    """``tinygradnn.backends.mps.is_available()`` and friends: no GPU backend exists yet."""

    mps = cudnn = cuda
    cudnn.benchmark = False


backends = _Backends()


def is_tensor(obj) -> bool:
    """True for tinygradnn Tensors."""
    return isinstance(obj, Tensor)


def is_floating_point(x: Tensor) -> bool:
    """True if ``x`` has a floating point dtype."""
    if not isinstance(x, Tensor):
        raise TypeError(f"is_floating_point(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x.is_floating_point()


def numel(x: Tensor) -> int:
    """Number of elements of ``x``."""
    return x.numel()


def __getattr__(name: str):
    # An unsupported PyTorch name gets an explanation (and an alternative) instead of a bare AttributeError.
    from ._unsupported import unsupported

    raise unsupported(__name__, name)

from . import data, nn, optim, utils  # noqa: E402  (after the ops are installed on Tensor)
from .serialization import load, save
