"""ops/linalg.py: matmul for 1-D, 2-D, batched and broadcasting batch dims; mm, bmm, dot, outer, diag, trace."""

import numpy as np
import pytest
from helpers import (
    OpCase,
    Sample,
    assert_same_array_outcome,
    outcomes,
    requires_torch,
    rngs,
    shapes,
    table_tests,
    values,
)
from hypothesis import strategies as st

import tinygradnn as tg


@st.composite
def matmul_sample(draw, a_kind="any", b_kind="any"):
    """Shapes for ``a @ b``: each side 1-D, 2-D or batched; batch dims broadcast (1s and missing dims)."""
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))

    def side(core, kind):
        if kind == "1d":
            return core[:1] if len(core) == 2 and core[0] == k else core[-1:]
        if kind == "2d":
            return core
        b = batch[len(batch) - draw(st.integers(0, len(batch))):]
        return tuple(1 if draw(st.booleans()) else s for s in b) + core

    sa = side((n, k), draw(st.sampled_from(["1d", "2d", "batched"])) if a_kind == "any" else a_kind)
    sb = side((k, m), draw(st.sampled_from(["1d", "2d", "batched"])) if b_kind == "any" else b_kind)
    if len(sa) == 1:
        sa = (k,)
    if len(sb) == 1:
        sb = (k,)
    rng = draw(rngs())
    return Sample((values(rng, sa), values(rng, sb)))


@st.composite
def vectors(draw, same_length=True):
    """Two 1-D arrays (of one length for dot)."""
    n = draw(st.integers(0, 4))
    m = n if same_length else draw(st.integers(0, 4))
    rng = draw(rngs())
    return Sample((values(rng, (n,)), values(rng, (m,))))


@st.composite
def diag_sample(draw, ndim):
    """A 1-D or 2-D array and a diagonal offset (sometimes beyond the matrix)."""
    shape = draw(shapes(min_dims=ndim, max_dims=ndim, min_side=0))
    return Sample((values(draw(rngs()), shape),), {"diagonal": draw(st.integers(-4, 4))})


CASES = [
    OpCase("matmul", lambda m, a, b: a @ b, matmul_sample()),
    OpCase("matmul_fn", lambda m, a, b: m.matmul(a, b), matmul_sample()),
    OpCase("vec_vec", lambda m, a, b: a @ b, matmul_sample("1d", "1d")),
    OpCase("vec_mat", lambda m, a, b: a @ b, matmul_sample("1d", "2d")),
    OpCase("mat_vec", lambda m, a, b: a @ b, matmul_sample("2d", "1d")),
    OpCase("mat_mat", lambda m, a, b: a @ b, matmul_sample("2d", "2d")),
    OpCase("batched", lambda m, a, b: a @ b, matmul_sample("batched", "batched")),
    OpCase("vec_batched", lambda m, a, b: a @ b, matmul_sample("1d", "batched")),
    OpCase("batched_vec", lambda m, a, b: a @ b, matmul_sample("batched", "1d")),
    OpCase("matmul_then_tanh", lambda m, a, b: m.tanh(a @ b), matmul_sample()),
    OpCase("dot", lambda m, a, b: m.dot(a, b), vectors()),
    OpCase("dot_method", lambda m, a, b: a.dot(b) * a.sum(), vectors()),
    OpCase("outer", lambda m, a, b: m.outer(a, b), vectors(same_length=False)),
    OpCase("outer_method", lambda m, a, b: m.tanh(a.outer(b)), vectors(same_length=False)),
    OpCase("diag_of_vector", lambda m, x, diagonal: m.diag(x, diagonal), diag_sample(1)),
    OpCase("diag_of_matrix", lambda m, x, diagonal: m.diag(x, diagonal=diagonal), diag_sample(2)),
    OpCase("diag_method", lambda m, x, diagonal: m.tanh(x.diag(diagonal)), diag_sample(2)),
    OpCase("trace", lambda m, x, diagonal: m.trace(x * x), diag_sample(2)),
    OpCase("trace_method", lambda m, x, diagonal: x.trace() * x.sum(), diag_sample(2)),
]


test_gradients_match_finite_differences, test_matches_torch = table_tests(CASES)


def test_matmul_with_one_constant_side_and_arrays():
    w = tg.randn(3, 2, requires_grad=True)
    x = np.ones((4, 3), np.float32)
    y = tg.matmul(x, w)
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.full((3, 2), 4.0))
    assert y.dtype == np.float32 and w.grad.dtype == np.float32
    r = np.ones((4, 3), np.float32) @ w  # ndarray @ Tensor: the reflected operator, a Tensor with a graph
    assert isinstance(r, tg.Tensor) and r.requires_grad and r.shape == (4, 2)
    assert (tg.ones(2, 3) @ np.ones(3)).shape == (2,)


@pytest.mark.parametrize("a,b,error", [
    ((2, 3), (4, 2), "not aligned"),
    ((3,), (4,), "not aligned"),
    ((), (3,), "at least 1 dim"),
    ((2, 2, 3), (3, 3, 1), "cannot be broadcast"),
])
def test_matmul_shape_errors(a, b, error):
    with pytest.raises(ValueError, match=error):
        tg.ones(*a) @ tg.ones(*b)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:grad and param do not obey")  # PyTorch's, on the empty shapes
@pytest.mark.parametrize("name,shapes", [("mm", [(3, 4), (4, 2)]), ("mm", [(1, 0), (0, 5)]),
                                         ("bmm", [(2, 3, 4), (2, 4, 5)]), ("bmm", [(0, 2, 3), (0, 3, 1)])])
def test_mm_and_bmm_match_torch_with_gradients(name, shapes):
    """The "Learning PyTorch with Examples" warm-up: ``x.mm(w1)``, ``h_relu.t().mm(grad_y_pred)``."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    results = []
    for lib in (tg, torch):
        a, b = (lib.tensor(v, requires_grad=True) for v in arrays)
        for y in (getattr(lib, name)(a, b), getattr(a, name)(b)):
            y.backward(lib.ones_like(y))
        results.append([y.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call,match", [
    (lambda: tg.mm(tg.ones(2, 3), tg.ones(3)), r"mm: expected 2-D tensors, got shapes \(2, 3\) and \(3,\)"),
    (lambda: tg.ones(3).mm(tg.ones(3, 2)), r"mm: expected 2-D tensors"),
    (lambda: tg.mm(tg.ones(2, 3), tg.ones(2, 3)), "not aligned"),
    (lambda: tg.bmm(tg.ones(2, 3), tg.ones(2, 3, 1)), r"bmm: expected 3-D tensors, got shapes \(2, 3\)"),
    (lambda: tg.bmm(tg.ones(2, 3, 4), tg.ones(1, 4, 1)), r"bmm: batch sizes 2 and 1 differ"),
])
def test_mm_and_bmm_refuse_other_shapes_as_torch(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float64", "bool"])
@pytest.mark.parametrize("call", [
    lambda m, a, b: m.dot(a, b), lambda m, a, b: m.outer(a, b[:2]), lambda m, a, b: m.diag(a, 1),
    lambda m, a, b: m.diag(m.outer(a, b), -1), lambda m, a, b: m.trace(m.outer(a, b[:2])),
])
def test_dot_outer_diag_trace_keep_torch_dtypes(call, dtype):
    pytest.importorskip("torch")
    a, b = np.array([1, 0, 3]).astype(dtype), np.array([2, 1, 1]).astype(dtype)
    assert_same_array_outcome(*outcomes(lambda m: call(m, m.as_tensor(a), m.as_tensor(b)).numpy()))


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("call,match", [
    (lambda m: m.dot(m.ones(2, 2), m.ones(2, 2)), "1D tensors expected, but got 2D and 2D"),
    (lambda m: m.dot(m.ones(2), m.ones(3)), "inconsistent tensor size"),
    (lambda m: m.dot(m.ones(2), m.ones(2, dtype=m.float64)), "same dtype"),
    (lambda m: m.outer(m.ones(2, 2), m.ones(2)), "outer: Expected 1-D argument self, but got 2-D"),
    (lambda m: m.outer(m.ones(2), m.ones(())), "Expected 1-D argument vec2, but got 0-D"),
    (lambda m: m.diag(m.ones(2, 2, 2)), r"diag\(\): Supports 1D or 2D tensors. Got 3D"),
    (lambda m: m.diag(m.ones(())), "Got 0D"),
    (lambda m: m.trace(m.ones(3)), "trace: expected a matrix, but got tensor with dim 1"),
    (lambda m: m.trace(m.ones(2, 2, dtype=m.bool)), "not implemented for 'Bool'"),
])
def test_dot_outer_diag_trace_errors_as_torch(call, match):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception, match=match) as theirs:
        call(torch)
    with pytest.raises(theirs.type, match=match):
        call(tg)
