"""Keep freed array memory in the process instead of handing it back to the OS at every step.

A training step allocates and frees the same large arrays (activations, gradients, im2col
columns) again and again. With glibc's defaults, freed memory at the top of the heap is given
back to the OS whenever more than a few MB are free, and arrays above a (dynamic) threshold get
their own ``mmap``; the next step then page-faults every page of its fresh arrays in again. On
a 512x512 matmul step that doubled the time. NumPy reference code suffers less only because it
keeps fewer arrays alive at once.

At import, tinygradnn asks glibc (``mallopt``) to serve arrays below 32 MB from the heap and to
keep up to 128 MB of freed heap. This is process-wide, like ``torch.set_num_threads``; set
``TINYGRADNN_MALLOC_TUNING=0`` in the environment to leave the allocator alone. Elsewhere than
Linux with glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's <malloc.h>
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 128 << 20


def tune_malloc() -> bool:
    """Apply the settings above; True if glibc accepted them."""
    if not sys.platform.startswith("linux") or os.environ.get("TINYGRADNN_MALLOC_TUNING", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other C libraries have no mallopt
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


MALLOC_TUNED = tune_malloc()
