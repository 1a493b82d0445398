"""Switches for graph recording: ``no_grad``, ``enable_grad``, ``inference_mode``, ``set_grad_enabled``."""

import functools
import inspect

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

    def __enter__(self) -> None:  # ``with no_grad() as v``: v is None, as in PyTorch
        self._prev = _State.enabled
        _State.enabled = self.mode

    def __exit__(self, *exc):
        _State.enabled = self._prev
        return False

    def __call__(self, fn):
        """Decorate ``fn``: each call runs in this mode (for a generator function, each of its steps)."""
        mode = self.mode
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def generator(*args, **kwargs):
                return (yield from _steps_in_mode(mode, fn(*args, **kwargs)))

            return generator

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _Mode(mode):
                return fn(*args, **kwargs)

        return wrapper


class _Mode:
    """The plain switch behind the decorators: grad mode ``mode`` inside, the previous one restored after."""

    __slots__ = ("mode", "prev")

    def __init__(self, mode: bool):
        self.mode = mode

    def __enter__(self):
        self.prev, _State.enabled = _State.enabled, self.mode

    def __exit__(self, *exc):
        _State.enabled = self.prev


def _steps_in_mode(mode: bool, gen):
    """Drive ``gen``, running its own steps in grad ``mode`` and the caller's code between them in the caller's."""
    step, value = gen.send, None
    while True:
        with _Mode(mode):
            try:
                out = step(value)
            except StopIteration as stop:
                return stop.value
        try:
            step, value = gen.send, (yield out)
        except GeneratorExit:
            with _Mode(mode):
                gen.close()
            raise
        except BaseException as e:  # thrown into us: pass it on into gen
            step, value = gen.throw, e


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

    def __enter__(self) -> None:
        pass

    def __call__(self, fn):
        _State.enabled = self._prev  # used as a decorator: the call above must not have switched anything
        return super().__call__(fn)
