"""One helper to check an op: finite differences in float64 and, when torch is importable, PyTorch.

A test of an op is a row in a table::

    OpCase("tanh", lambda m, x: m.tanh(x), unary())

``fn(m, *tensors, **params)`` is written once against a namespace ``m``: :data:`TG` (tinygradnn)
or :data:`TORCH` (torch, then ``torch.nn.functional``). Both have ``m.idx(array)`` to turn a NumPy
index or mask into the library's own tensor. The strategy draws a :class:`Sample`: the float64
arrays the op is differentiated in, plus constant keyword parameters (dims, index arrays, ...).

* :func:`check_finite_differences` runs ``gradcheck`` and (for ``smooth`` ops) ``gradgradcheck``;
* :func:`check_against_torch` compares forward values, the gradients for a random upstream
  gradient ``v``, and the double-backward results ``d(grad . w)/d(inputs)`` with PyTorch.

Outputs may be one tensor or a tuple/list of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import tinygradnn as tg
from tinygradnn.autograd import gradcheck, gradgradcheck

try:
    import torch
    import torch.nn.functional as torch_functional
except ImportError:  # oracle tests skip themselves, visibly
    torch = None
    torch_functional = None

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed (pip install torch==2.13.0)")

# Modest example counts: the whole op table must run in well under a minute on two cores.
PROPERTY_SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                     HealthCheck.data_too_large])


# ----------------------------------------------------------------------------- the two namespaces
class _Namespace:
    """``m.name`` looks ``name`` up in each module in turn; ``m.idx`` makes an index tensor."""

    def __init__(self, label, modules, idx):
        self.label, self._modules, self.idx = label, modules, idx

    def __getattr__(self, name):
        for mod in self._modules:
            if hasattr(mod, name):
                return getattr(mod, name)
        raise AttributeError(f"{self.label} has no {name!r}")

    def __repr__(self):
        return self.label


TG = _Namespace("tinygradnn", [tg], lambda a: tg.tensor(np.asarray(a)))
TORCH = _Namespace("torch", [torch, torch_functional], lambda a: torch.as_tensor(np.asarray(a))) if torch else None


@dataclasses.dataclass
class Sample:
    """What a strategy draws: differentiable float64 arrays and constant parameters."""

    arrays: tuple
    params: dict = dataclasses.field(default_factory=dict)

    def __repr__(self):
        shapes = ", ".join(str(a.shape) for a in self.arrays)
        return f"Sample(shapes=[{shapes}], params={self.params}, arrays={[a.tolist() for a in self.arrays]})"


@dataclasses.dataclass
class OpCase:
    """One row of an op table."""

    name: str
    fn: Callable[..., Any]
    strategy: st.SearchStrategy
    smooth: bool = True  # also check second derivatives with finite differences
    torch: bool = True  # has a PyTorch twin written by the same fn
    atol: float = 1e-5
    rtol: float = 1e-3

    def __repr__(self):
        return self.name


def case_ids(cases):
    return [c.name for c in cases]


# ----------------------------------------------------------------------------- running an op
def _as_list(out):
    return list(out) if isinstance(out, tuple | list) else [out]


def _numpy(t) -> np.ndarray:
    """A tinygradnn or torch tensor as a fresh NumPy array."""
    if torch is not None and isinstance(t, torch.Tensor):
        return np.array(t.detach().numpy(force=True))
    return np.array(t.detach().numpy())


def _tg_inputs(arrays):
    return [tg.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]


def check_finite_differences(case: OpCase, sample: Sample) -> None:
    """gradcheck (and gradgradcheck for smooth ops) of ``case`` in float64 on ``sample``."""
    xs = _tg_inputs(sample.arrays)

    def fn(*ts):
        return case.fn(TG, *ts, **sample.params)

    out = _as_list(fn(*xs))
    for o in out:
        if o.requires_grad:
            assert o.dtype == np.float64, f"{case.name}: float64 inputs gave a {o.dtype} output"
    assert any(o.requires_grad for o in out), f"{case.name}: no output requires grad"
    gradcheck(fn, xs, atol=case.atol, rtol=case.rtol)
    if case.smooth:
        gradgradcheck(fn, xs, atol=case.atol, rtol=case.rtol)


def _random_like(rng, shapes):
    return [rng.standard_normal(s) for s in shapes]


def _run(m, case, sample, v_out=None, w_in=None, second_order=True):
    """Forward values; gradients for the upstream ``v_out`` (plain backward, and again with
    ``create_graph=True``); and ``d(sum(grads * w_in))/d(inputs)``. All as lists of arrays."""
    if m is TG:
        xs = _tg_inputs(sample.arrays)
        wrap, grad = tg.tensor, tg.autograd.grad
    else:
        xs = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in sample.arrays]
        wrap, grad = torch.as_tensor, torch.autograd.grad
    outs = _as_list(case.fn(m, *xs, **sample.params))
    result = {"forward": [_numpy(o) for o in outs]}
    if v_out is None:
        return result
    zeros = [np.zeros(a.shape) for a in sample.arrays]
    diff = [(o, wrap(v)) for o, v in zip(outs, v_out) if o.requires_grad]
    outs, vs = [o for o, _ in diff], [v for _, v in diff]
    grads = grad(outs, xs, vs, retain_graph=True, allow_unused=True)
    result["gradient"] = [z if g is None else _numpy(g) for g, z in zip(grads, zeros)]
    if not second_order:
        return result
    grads = grad(outs, xs, vs, create_graph=True, allow_unused=True)
    result["gradient (create_graph=True)"] = [z if g is None else _numpy(g) for g, z in zip(grads, zeros)]
    terms = [(g * wrap(w)).sum() for g, w in zip(grads, w_in) if g is not None and g.requires_grad]
    second = [None] * len(xs)
    if terms:
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        second = grad(total, xs, allow_unused=True)
    result["double backward"] = [z if g is None else _numpy(g) for g, z in zip(second, zeros)]
    return result


def check_against_torch(case: OpCase, sample: Sample, seed: int = 0, rtol: float = 1e-6,
                        atol: float = 1e-8, second_order: bool = True) -> None:
    """Same inputs through tinygradnn and PyTorch (float64): values, gradients and double backward."""
    if torch is None:  # pragma: no cover - the callers are marked with requires_torch
        pytest.skip("PyTorch is not installed")
    rng = np.random.default_rng(seed)
    forward = _run(TG, case, sample)["forward"]
    v_out = _random_like(rng, [f.shape for f in forward])
    w_in = _random_like(rng, [a.shape for a in sample.arrays])
    ours = _run(TG, case, sample, v_out, w_in, second_order)
    theirs = _run(TORCH, case, sample, v_out, w_in, second_order)
    for what, b_list in theirs.items():
        a_list = ours[what]
        assert len(a_list) == len(b_list), f"{case.name}: {what} has {len(a_list)} vs {len(b_list)} parts"
        for i, (a, b) in enumerate(zip(a_list, b_list)):
            assert a.shape == b.shape, f"{case.name} {what} [{i}]: shape {a.shape} vs torch {b.shape}"
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol,
                                       err_msg=f"{case.name}: {what} [{i}] differs from PyTorch on {sample}")


# ----------------------------------------------------------------------------- strategies
def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4, max_size=24):
    """Array shapes (0-d included by default) with at most ``max_size`` elements."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(tuple).filter(
        lambda s: int(np.prod(s)) <= max_size)


def values(rng: np.random.Generator, shape, kind: str = "any") -> np.ndarray:
    """Float64 values of ``shape`` that keep clear of the kinks and poles of the op under test.

    ``any``: [-2, 2]; ``pos``: [0.3, 3]; ``away0``: |x| in [0.1, 2]; ``unit``: (-0.9, 0.9);
    ``distinct``: a shuffled grid with gaps of at least 0.1 (for max, sort, topk);
    ``grid0`` / ``grid1``: two interleaved grids, so that a ``grid0`` and a ``grid1`` value are always at
    least 0.1 apart (for maximum / minimum of two arrays).
    """
    n = int(np.prod(shape))
    if kind == "any":
        return rng.uniform(-2, 2, shape)
    if kind == "pos":
        return rng.uniform(0.3, 3, shape)
    if kind == "away0":
        return rng.uniform(0.1, 2, shape) * rng.choice([-1.0, 1.0], shape)
    if kind == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if kind == "distinct":
        grid = (np.arange(n) - n / 2) * 0.3 + rng.uniform(-0.1, 0.1, n)
        return rng.permutation(grid).reshape(shape)
    if kind in ("grid0", "grid1"):
        return rng.integers(-5, 5, shape) * 0.4 + (0.2 if kind == "grid1" else 0.0) + rng.uniform(-0.05, 0.05, shape)
    raise ValueError(kind)


@st.composite
def rngs(draw):
    return np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


@st.composite
def unary(draw, kind="any", shape=None, **shape_kw):
    """One array of a random shape (or ``shape``)."""
    shape = draw(shapes(**shape_kw)) if shape is None else shape
    return Sample((values(draw(rngs()), shape, kind),))


@st.composite
def broadcast_shapes(draw, max_dims=3, max_side=3):
    """Two shapes that broadcast together: the second drops leading dims and sets some dims to 1."""
    a = draw(shapes(max_dims=max_dims, max_side=max_side))
    keep = draw(st.integers(0, len(a)))
    b = tuple(1 if draw(st.booleans()) else n for n in a[len(a) - keep:])
    return (a, b) if draw(st.booleans()) else (b, a)


@st.composite
def binary(draw, kinds=("any", "any")):
    """Two arrays with broadcasting shapes."""
    sa, sb = draw(broadcast_shapes())
    rng = draw(rngs())
    return Sample((values(rng, sa, kinds[0]), values(rng, sb, kinds[1])))


@st.composite
def with_dim(draw, kind="any", keepdim=True, tuple_dims=True, allow_none=True, min_dims=0):
    """One array plus ``dim`` (None, an int or a tuple, negative allowed) and ``keepdim``."""
    shape = draw(shapes(min_dims=min_dims))
    nd = len(shape)
    options = [st.none()] if allow_none else []
    if nd:
        options.append(st.integers(-nd, nd - 1))
        if tuple_dims:
            options.append(st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(
                lambda ds: tuple(d - nd if i % 2 else d for i, d in enumerate(ds))))
    elif not allow_none:
        options.append(st.sampled_from([0, -1]))
    params = {"dim": draw(st.one_of(options))}
    if keepdim:
        params["keepdim"] = draw(st.booleans())
    return Sample((values(draw(rngs()), shape, kind),), params)


def all_dims(dim, ndim):
    """``dim`` with None spelled as every dim (for torch functions that require ``dim``)."""
    return tuple(range(ndim)) if dim is None else dim


def table_tests(cases):
    """The two property tests of an op table: finite differences for every case, PyTorch for those with
    a ``torch`` expression. A test module writes
    ``test_gradients_match_finite_differences, test_matches_torch = table_tests(CASES)``."""
    import pytest
    from hypothesis import given
    from hypothesis import strategies as st

    @pytest.mark.parametrize("case", cases, ids=case_ids(cases))
    @PROPERTY_SETTINGS
    @given(data=st.data())
    def test_gradients_match_finite_differences(case, data):
        check_finite_differences(case, data.draw(case.strategy, label="sample"))

    with_torch = [c for c in cases if c.torch]

    @requires_torch
    @pytest.mark.torch
    @pytest.mark.parametrize("case", with_torch, ids=case_ids(with_torch))
    @PROPERTY_SETTINGS
    @given(data=st.data())
    def test_matches_torch(case, data):
        check_against_torch(case, data.draw(case.strategy, label="sample"))

    return test_gradients_match_finite_differences, test_matches_torch


def outcomes(run: Callable) -> list:
    """``[run(tinygradnn), run(torch)]``, each the result or the type of the exception it raised (for tests that
    check both libraries give the same values, or fail alike)."""
    import torch

    out = []
    for m in (tg, torch):
        try:
            out.append(run(m))
        except Exception as e:  # noqa: BLE001 (both must fail alike)
            out.append(type(e))
    return out


def assert_same_array_outcome(ours, theirs) -> None:
    """Two :func:`outcomes` of arrays: the same exception type, or equal arrays of one dtype and shape."""
    if isinstance(theirs, type):
        assert ours is theirs
    else:
        assert not isinstance(ours, type), f"raised {ours.__name__}, PyTorch gives {theirs}"
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)
