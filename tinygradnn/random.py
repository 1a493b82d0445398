"""One NumPy ``Generator`` drives all randomness; ``manual_seed`` resets it."""

from __future__ import annotations

import numpy as np


def _fresh_seed() -> int:
    """A random 64-bit seed from the OS entropy source."""
    return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])


def _seed_value(seed, strict: bool = False) -> int:
    """``seed`` as PyTorch keeps it: an unsigned 64-bit number (-1 is 2**64 - 1). ``manual_seed`` converts with
    ``int()``; ``Generator.manual_seed`` (``strict``) takes integers only."""
    if strict and (type(seed) is bool or not isinstance(seed, int | np.integer)):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    s = int(seed)
    if not -2 ** 63 <= s < 2 ** 64:
        raise ValueError(f"manual_seed: seed {s} is outside [-2**63, 2**64)")
    return s % 2 ** 64


_initial_seed = _fresh_seed()
_rng = np.random.default_rng(_initial_seed)


class Generator:
    """A seedable random source to pass as ``generator=`` (DataLoader, random_split, init)."""

    def __init__(self, device=None):
        self.manual_seed(_fresh_seed())

    def manual_seed(self, seed: int) -> Generator:
        self._seed = _seed_value(seed, strict=True)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with (a random one until :meth:`manual_seed`)."""
        return self._seed

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


class _DefaultGenerator(Generator):
    """``default_generator``: the global stream as a :class:`Generator` (what ``manual_seed`` returns)."""

    def __init__(self):
        pass

    rng = property(lambda self: _rng)

    def manual_seed(self, seed: int) -> Generator:
        return manual_seed(seed)

    def initial_seed(self) -> int:
        return _initial_seed


default_generator = _DefaultGenerator()


def manual_seed(seed: int) -> Generator:
    """Seed the global generator: runs become bit-for-bit reproducible. Returns ``default_generator``."""
    global _rng, _initial_seed
    _initial_seed = _seed_value(seed)
    _rng = np.random.default_rng(_initial_seed)
    return default_generator


def seed() -> int:
    """Seed the global generator with a fresh random 64-bit seed, and return that seed."""
    s = _fresh_seed()
    manual_seed(s)
    return s


def initial_seed() -> int:
    """The seed the global generator was last seeded with (by :func:`manual_seed`, :func:`seed` or at import)."""
    return _initial_seed


def get_generator(generator=None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (a :class:`Generator`, a NumPy one or None for global)."""
    if generator is None:
        return _rng
    return generator.rng if isinstance(generator, Generator) else generator


def get_rng_state() -> dict:
    """The global generator's state (a dict of ints, saveable without pickle)."""
    return _rng.bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a state from :func:`get_rng_state`."""
    _rng.bit_generator.state = state
