"""Devices: everything runs on the CPU; GPU names are accepted where harmless and refused clearly otherwise."""

from __future__ import annotations


class device:
    """``tinygradnn.device("cpu")``; the only supported device type is ``cpu``."""

    def __init__(self, type="cpu", index=None):
        if isinstance(type, device):
            type = type.type
        name = str(type).split(":")[0]
        if name not in ("cpu", "cuda", "mps", "meta"):
            raise RuntimeError(f"Expected one of cpu, cuda, mps device type at start of device string: {type}")
        self.type, self.index = name, index

    def __eq__(self, other):
        return isinstance(other, device | str) and self.type == device(other).type

    def __hash__(self):
        return hash(self.type)

    def __repr__(self):
        return f"device(type='{self.type}')"

    def __str__(self):
        return self.type


def check_device(dev) -> None:
    """Raise a clear error for any device other than the CPU."""
    if dev is None:
        return
    d = device(dev)
    if d.type != "cpu":
        raise RuntimeError(f"tinygradnn runs on the CPU only; device '{d.type}' is not available "
                           "(torch.cuda.is_available() returns False here). Use device('cpu').")


class _Unavailable:
    """``cuda`` / ``backends.mps``: report that no GPU backend exists."""

    @staticmethod
    def is_available() -> bool:
        return False

    @staticmethod
    def device_count() -> int:
        return 0

    @staticmethod
    def manual_seed(seed: int) -> None:
        pass

    manual_seed_all = manual_seed


cuda = _Unavailable()


class _Accelerator(_Unavailable):
    """``accelerator``: PyTorch's device-agnostic API, with no accelerator present."""

    @staticmethod
    def current_accelerator(check_available: bool = False) -> None:
        return None

    @staticmethod
    def synchronize(device=None) -> None:
        pass


accelerator = _Accelerator()
