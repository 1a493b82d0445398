"""ops/namespaces.py: in_rows and per_column, the broadcasts over rows that NumPy's ufunc buffer makes slow."""

import numpy as np
import pytest


def test_in_rows_sizes_the_ufunc_buffer_to_a_row_and_puts_it_back():
    """Rows of 512 to 8191 elements: a buffer of one row (rounded up to 16) while ``fn`` runs, the default
    again after, also when ``fn`` raises; shorter and longer rows leave the buffer alone. Results are equal."""
    from tinygradnn.ops.namespaces import in_rows

    default = np.getbufsize()
    assert in_rows(1000, np.getbufsize) == 1008
    assert in_rows(100, np.getbufsize) == default and in_rows(8192, np.getbufsize) == default

    def fails():
        raise KeyError("x")

    with pytest.raises(KeyError):
        in_rows(600, fails)
    assert np.getbufsize() == default
    x, col = np.random.default_rng(0).standard_normal((300, 1000)), np.arange(300.0).reshape(300, 1)
    np.testing.assert_array_equal(in_rows(1000, np.subtract, x, col), x - col)


@pytest.mark.parametrize("shape", [(320, 256), (2112, 40), (100, 1000), (3, 8)])
def test_per_column_equals_numpys_broadcast(shape):
    """per_column (several short rows at a time against a repeated vector, the rows left over alone) gives
    exactly NumPy's broadcast result, in place too."""
    from tinygradnn.ops.namespaces import per_column

    r = np.random.default_rng(0)
    a, v = r.standard_normal(shape).astype(np.float32), r.standard_normal(shape[1]).astype(np.float32)
    out = per_column(np.multiply, a, v, np.empty_like(a))
    np.testing.assert_array_equal(out, a * v)
    expected = a + v
    assert per_column(np.add, a, v, a) is a
    np.testing.assert_array_equal(a, expected)
