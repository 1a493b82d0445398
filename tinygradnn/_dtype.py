"""Default floating dtype and the one promotion rule.

Rule: NumPy's own promotion (NEP 50), with adjustments that keep float32 models float32, as in PyTorch:

* Python scalars and NumPy scalars (``np.float64(2.5)``) are "weak": ``float32_tensor * 2.5`` stays
  float32; so does ``float32_tensor * np.sqrt(2.0)``.
* Two tensors (or a tensor and a NumPy array) of the same kind take the wider dtype:
  float32 with float64 gives float64, int32 with int64 gives int64.
* A floating tensor with an integer or bool tensor keeps the floating dtype (float32 with int64 is
  float32; NumPy would say float64): :func:`promote_types`.
* A 0-d tensor with a tensor of at least one dimension counts only when it is of a higher category (bool <
  integer < floating): ``float32 + 0-d float64`` is float32 and ``int32 + 0-d int64`` int32, but
  ``int32 + 0-d float64`` is float64 (``ops.elementwise._result_type``).
* An integer or bool tensor that meets a Python float, a true division of integers, and functions of
  real numbers (``exp``, ``log``, ``sigmoid``, ``softmax``, ...) applied to integer or bool tensors give
  the *default* float dtype (float32 unless :func:`set_default_dtype` changed it).
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


def promote_types(*dtypes) -> np.dtype:
    """The dtype of a result computed from tensors of ``dtypes``: floating dtypes win over integer and
    bool ones unchanged (float32 with int64 is float32); otherwise NumPy's promotion."""
    floats = [d for d in dtypes if np.dtype(d).kind == "f"]
    return np.result_type(*(floats or dtypes))


def is_floating(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def float_result(arr: np.ndarray) -> np.ndarray:
    """Cast an array that NumPy made float64 from integer inputs to the default float dtype."""
    return arr if arr.dtype == _default or arr.dtype.kind != "f" else arr.astype(_default)
