"""``detect_anomaly``: stop at the first op whose forward or backward produces NaN or Inf."""

from __future__ import annotations

import os
import traceback

import numpy as np

from .grad_mode import _State

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # .../tinygradnn/


class detect_anomaly:
    """Context manager: each op checks its result; the error names the op and where it was created.

    Slows every op down; use it to debug, not to train.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = _State.anomaly
        _State.anomaly = self.check_nan
        return self

    def __exit__(self, *exc):
        _State.anomaly = self._prev
        return False


class set_detect_anomaly(detect_anomaly):
    """Turn anomaly detection on or off: at once (``set_detect_anomaly(True)``), or for a ``with`` block."""

    def __init__(self, mode: bool, check_nan: bool = True):
        super().__init__(check_nan)
        self._prev = _State.anomaly
        _State.anomaly = bool(mode) and check_nan

    def __enter__(self):
        return self


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return bool(_State.anomaly)


def _where(ctx) -> str:
    stack = getattr(ctx, "trace", None)
    if not stack:
        return "(creation site unknown: the op was recorded outside detect_anomaly())"
    return "".join(traceback.format_list(stack))


def _user_frames() -> list:
    """The current call stack without the frames inside tinygradnn: where the user's code created the op."""
    stack = traceback.extract_stack()[:-3]
    return [f for f in stack if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR)] or stack


def _not_finite(arr) -> bool:
    """True if ``arr`` (an array or a NumPy scalar: ops on 0-d tensors return those) holds nan or inf."""
    return isinstance(arr, np.ndarray | np.generic) and arr.dtype.kind == "f" and not np.all(np.isfinite(arr))


def check_forward(ctx, out: np.ndarray) -> None:
    ctx.trace = _user_frames()
    if _not_finite(out):
        raise RuntimeError(f"Function '{ctx._label}' returned nan or inf values in its forward output "
                           f"(shape {out.shape}). It was called at:\n{_where(ctx)}")


def check_backward(ctx, grads) -> None:
    for i, g in enumerate(grads):
        arr = getattr(g, "_data", g)
        if _not_finite(arr):
            raise RuntimeError(f"Function '{ctx._label}Backward' returned nan or inf values in its gradient for "
                               f"input {i} (shape {arr.shape}). The forward op was created at:\n{_where(ctx)}")
