import pytest

import tinygradnn as tg


def test_set_num_threads_limits_blas():
    pytest.importorskip("threadpoolctl")
    before = tg.get_num_threads()
    try:
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1
    finally:
        tg.set_num_threads(before)
    assert tg.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -2, 1.5, "2"])
def test_set_num_threads_rejects_bad_counts(bad):
    with pytest.raises(ValueError, match="positive int"):
        tg.set_num_threads(bad)
