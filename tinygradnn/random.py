"""One NumPy ``Generator`` drives all randomness; ``manual_seed`` resets it."""

from __future__ import annotations

import numpy as np

_rng = np.random.default_rng()


class Generator:
    """A seedable random source to pass as ``generator=`` (DataLoader, random_split, init)."""

    def __init__(self, device=None):
        self.rng = np.random.default_rng()

    def manual_seed(self, seed: int) -> Generator:
        self.rng = np.random.default_rng(seed)
        return self

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


def manual_seed(seed: int) -> None:
    """Seed the global generator: runs become bit-for-bit reproducible."""
    global _rng
    _rng = np.random.default_rng(seed)


seed = manual_seed


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
