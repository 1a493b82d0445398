import pytest

import tinygradnn as tg


def test_set_num_threads_limits_blas():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=None):  # restores every pool's own limit afterwards
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1
        tg.set_num_threads(2)
        assert tg.get_num_threads() == 2


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2"])
def test_set_num_threads_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match="positive int"):
        tg.set_num_threads(bad)
