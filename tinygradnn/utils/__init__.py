"""``tinygradnn.utils.data`` mirrors ``torch.utils.data``: ``from tinygradnn.utils.data import DataLoader``."""

from . import data
