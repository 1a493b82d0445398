"""Fixtures for the example-script tests.

The scripts in ``examples/`` import their shared helpers as a sibling module (``from common import ...``),
so ``examples/`` goes on ``sys.path``; each script is then loaded from its file with importlib.
Helpers are handed out as fixtures, not imported, so this file never clashes with tests/conftest.py.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


def _load(name: str):
    module_name = f"_example_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


@pytest.fixture
def load_example():
    """``load_example("xor")`` returns the module ``examples/xor.py`` (loaded once per process)."""
    return _load


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small matmuls only: one BLAS thread is faster, and much faster on a loaded shared machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
