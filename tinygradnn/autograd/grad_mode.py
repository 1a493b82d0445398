"""Switches for graph recording: ``no_grad``, ``enable_grad``, ``inference_mode``, ``set_grad_enabled``."""

import functools

from .._state import _State


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad are recorded."""
    return _State.enabled


class _GradMode:
    """Context manager *and* decorator that sets grad mode to ``self.mode``."""

    mode = True

    def __new__(cls, fn=None, *args, **kwargs):
        self = super().__new__(cls)
        return self(fn) if callable(fn) else self  # ``@no_grad`` without parentheses, as in PyTorch

    def __enter__(self):
        self._prev = _State.enabled
        _State.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _State.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Record nothing inside: ``with no_grad(): ...``, or ``@no_grad()`` (or ``@no_grad``) on a function."""

    mode = False


class enable_grad(_GradMode):
    """Record again inside a ``no_grad`` block."""

    mode = True


class inference_mode(no_grad):
    """Same as :class:`no_grad` here (PyTorch's extra inference optimisations have no meaning on NumPy)."""

    def __init__(self, mode: bool = True):
        self.mode = not mode


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(False)`` works like :class:`no_grad`; also usable as a plain call."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = _State.enabled
        _State.enabled = self.mode

    def __enter__(self):
        return self

    def __call__(self, fn):
        _State.enabled = self._prev
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper
