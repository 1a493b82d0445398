"""Shared test helpers: float64 gradient checks and the PyTorch oracle."""

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

import tinygradnn as tg

# CI runs on a shared 2-core machine: no per-example deadline, no "too slow" health checks, and the same
# examples on every run (derandomize), so a red CI always means a real, reproducible failure.
settings.register_profile("tinygradnn", deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.filter_too_much])
settings.load_profile("tinygradnn")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # the oracle tests skip themselves, visibly
    torch = None

try:  # pytest -n 2 runs two workers on two cores: one BLAS thread each avoids oversubscription
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
except ImportError:
    pass

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install torch==2.13.0)")


@pytest.fixture(autouse=True)
def _seed_and_default_dtype():
    tg.manual_seed(0)
    if torch is not None:  # layers built by torch (the oracle's weights) are the same on every run
        torch.manual_seed(0)
    yield
    tg.set_default_dtype(np.float32)


SHARED_DATA = __import__("pathlib").Path(__file__).resolve().parents[1].parent / "shared" / "data"
