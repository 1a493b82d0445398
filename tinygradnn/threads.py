"""``set_num_threads`` / ``get_num_threads``: the BLAS thread pool NumPy's matrix products use.

NumPy's BLAS (OpenBLAS or MKL) decides its threads at start-up from ``OMP_NUM_THREADS``; changing
them later needs ``threadpoolctl`` (installed with scikit-learn, or ``pip install threadpoolctl``).
On a busy machine, or for small matrices, one thread is often faster than many.
"""

from __future__ import annotations

import os


def _controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads in BLAS calls from now on (like ``torch.set_num_threads``)."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    ctl = _controller()
    if ctl is None:
        raise RuntimeError("set_num_threads needs the threadpoolctl package (pip install threadpoolctl); "
                           f"or start Python with OMP_NUM_THREADS={n} set in the environment")
    ctl.limit(limits=n, user_api="blas")


def get_num_threads() -> int:
    """The number of threads BLAS calls use."""
    ctl = _controller()
    if ctl is None:
        return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))
    infos = [m.num_threads for m in ctl.lib_controllers if m.user_api == "blas"]
    return max(infos) if infos else 1
