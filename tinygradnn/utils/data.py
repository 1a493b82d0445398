"""The same names as :mod:`tinygradnn.data`, at the path PyTorch code expects (``torch.utils.data``)."""

from ..data import *  # noqa: F403
from ..data import __all__  # noqa: F401


def __getattr__(name: str):
    # An unsupported PyTorch name says so and what to use instead (tinygradnn/_unsupported.py).
    from .._unsupported import unsupported

    raise unsupported(__name__, name)
