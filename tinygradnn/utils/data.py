"""The same names as :mod:`tinygradnn.data`, at the path PyTorch code expects (``torch.utils.data``)."""

from ..data import *  # noqa: F403
from ..data import __all__  # noqa: F401
