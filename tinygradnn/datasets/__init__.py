"""Datasets as NumPy arrays; this package needs only NumPy (scikit-learn for ``load_digits``).

Synthetic 2-D data, seeded (``synthetic.py``):
    linear_data, two_blobs, xor_data, four_gaussians, checkerboard

Real image data, cached on disk and downloaded on first use (``real.py``):
    load_usps, load_mnist, load_digits, cache_dir,
    DatasetNotAvailableError, ChecksumMismatchError
"""

from .real import (
    ChecksumMismatchError,
    DatasetNotAvailableError,
    cache_dir,
    load_digits,
    load_mnist,
    load_usps,
)
from .synthetic import checkerboard, four_gaussians, linear_data, two_blobs, xor_data

__all__ = [
    "linear_data",
    "two_blobs",
    "xor_data",
    "four_gaussians",
    "checkerboard",
    "load_usps",
    "load_mnist",
    "load_digits",
    "cache_dir",
    "DatasetNotAvailableError",
    "ChecksumMismatchError",
]
