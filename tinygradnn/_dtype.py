"""Default floating dtype and the one promotion rule.

Rule: NumPy's own promotion (NEP 50), with two adjustments that keep float32 models float32:

* Python scalars are "weak": ``float32_tensor * 2.5`` stays float32.
* An integer or bool tensor that meets a Python float, or a true division of integers, gives the
  *default* float dtype (float32 unless :func:`set_default_dtype` changed it), as in PyTorch.
"""

import numpy as np

_default = np.dtype(np.float32)


def set_default_dtype(dtype) -> None:
    """Set the dtype of new floating tensors (``float32`` or ``float64``)."""
    global _default
    d = np.dtype(getattr(dtype, "np", dtype))
    if d not in (np.float32, np.float64):
        raise TypeError(f"default dtype must be float32 or float64, got {d}")
    _default = d


def get_default_dtype() -> np.dtype:
    """The dtype of new floating tensors."""
    return _default


def is_floating(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def float_result(arr: np.ndarray) -> np.ndarray:
    """Cast an array that NumPy made float64 from integer inputs to the default float dtype."""
    return arr if arr.dtype == _default or arr.dtype.kind != "f" else arr.astype(_default)
