"""``tinygradnn.nn``: layers, losses and the ``Module`` base class, shaped like ``torch.nn``.

Examples:
    >>> import tinygradnn as tg
    >>> from tinygradnn import nn
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> loss = nn.CrossEntropyLoss()(model(tg.randn(5, 4)), tg.tensor([0, 2, 1, 1, 0]))
    >>> loss.backward()

* :mod:`.module` / :mod:`.parameter`: ``Module`` and ``Parameter``
* :mod:`.modules`: the layers, activations, losses and containers
* :mod:`.functional` (``import tinygradnn.nn.functional as F``): the same operations as functions
* :mod:`.init`: weight initialisation; :mod:`.utils`: gradient clipping
"""

from . import functional, init, utils
from .module import Module
from .modules import *  # noqa: F403
from .modules import __all__ as _modules_all
from .parameter import Parameter

__all__ = ["Module", "Parameter", "functional", "init", "utils", *_modules_all]


def __getattr__(name: str):
    # An unsupported PyTorch name says so and what to use instead (tinygradnn/_unsupported.py).
    from .._unsupported import unsupported

    raise unsupported(__name__, name)
