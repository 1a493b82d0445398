"""The same names as :mod:`tinygradnn.data`, at the path PyTorch code expects (``torch.utils.data``)."""

import sys

from ..data import *  # noqa: F403
from ..data import (
    __all__,  # noqa: F401
    dataloader,
    dataset,
    sampler,
)

# PyTorch scripts also import from the submodules (``from torch.utils.data.dataloader import default_collate``):
# register tinygradnn.data's modules under those names too.
for _module in (dataloader, dataset, sampler):
    sys.modules[f"{__name__}.{_module.__name__.rsplit('.', 1)[1]}"] = _module


def __getattr__(name: str):
    # An unsupported PyTorch name says so and what to use instead (tinygradnn/_unsupported.py).
    from .._unsupported import unsupported

    raise unsupported(__name__, name)
