"""``gradcheck`` and ``gradgradcheck``: compare autograd with central finite differences (float64)."""

from __future__ import annotations

import warnings

import numpy as np

from ..tensor import Tensor
from .functional import grad


class GradcheckError(AssertionError):
    """Raised by :func:`gradcheck` when analytic and numerical gradients disagree."""


def _numerical_jacobian(fn, inputs, outputs_fn, eps):
    """J[i]: (out.size, inp.size) by central differences on each element of each input."""
    jac = []
    for x in inputs:
        data = x._data  # perturbed in place, element by element (reshape(-1) would copy a strided array)
        cols = []
        for k in range(data.size):
            idx = np.unravel_index(k, data.shape)
            old = data[idx]
            data[idx] = old + eps
            plus = outputs_fn()
            data[idx] = old - eps
            minus = outputs_fn()
            data[idx] = old
            cols.append((plus - minus) / (2 * eps))
        jac.append(np.stack(cols, axis=1) if cols else np.zeros((outputs_fn().size, 0)))
    return jac


def _flat_outputs(fn, inputs, constants=False):
    """The outputs of ``fn(*inputs)`` that require grad (and, with ``constants``, the floating ones that
    do not: their analytical derivative is 0, which the numerical one then has to confirm)."""
    out = fn(*inputs)
    outs = out if isinstance(out, tuple | list) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and (o.requires_grad or constants and o.dtype.kind == "f")]


def _differentiable(inputs, warn=False):
    """The inputs that require grad; with ``warn``, PyTorch's warning for each that is not float64."""
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    for i, x in enumerate(inputs):
        if warn and isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating "
                          "point or complex.", UserWarning, stacklevel=3)
    return diff


def _options(nondet_tol, check_grad_dtypes, forward_ad=False, backward_ad=True, **unsupported) -> dict:
    """The PyTorch gradcheck keywords that apply here; the ones needing forward AD or vmap raise."""
    for name, value in unsupported.items():
        if value:
            raise NotImplementedError(f"gradcheck: {name}=True is not supported (tinygradnn has no forward-mode "
                                      "AD and no vmap); only backward-mode gradients are checked")
    if not (forward_ad or backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    return {"nondet_tol": nondet_tol, "check_grad_dtypes": check_grad_dtypes}


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, *, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked=None) -> bool:
    """Check the gradients of ``fn(*inputs)`` against central differences.

    ``inputs`` is a Tensor or tuple of Tensors; those with ``requires_grad`` are checked and should be
    float64 (others run in their own precision after a UserWarning, as in PyTorch). Every element of every
    output is differentiated (a full Jacobian), so keep shapes small; ``fast_mode=True`` compares only
    ``v^T J u`` for random vectors ``u`` (per input) and ``v`` (per output), as PyTorch: one backward per
    output and two evaluations per input. ``nondet_tol`` bounds how much two backward passes may differ (a
    non-deterministic rule); ``check_grad_dtypes`` requires each gradient to have its input's dtype.
    ``check_undefined_grad`` and ``masked`` are accepted and have no effect (no undefined gradients, no
    sparse tensors here); the forward-AD and vmap checks are not supported and raise ``NotImplementedError``.
    """
    options = _options(nondet_tol, check_grad_dtypes, check_forward_ad, check_backward_ad,
                       check_batched_grad=check_batched_grad, check_forward_ad=check_forward_ad,
                       check_batched_forward_grad=check_batched_forward_grad)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = _differentiable(inputs, warn=True)
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")
    # floating outputs that do not require grad are kept: their numerical derivative must be 0, as in PyTorch
    return _compare(fn, inputs, diff, eps, atol, rtol, raise_exception, True, fast_mode, **options)


def _vjps(o, diff, seed, nondet_tol, check_grad_dtypes):
    """The gradients of ``o`` weighted by ``seed`` w.r.t. ``diff`` (zeros where unused), computed twice to
    check that backward is deterministic up to ``nondet_tol``."""
    runs = []
    for _ in range(2):
        gs = grad(o, diff, Tensor(seed), retain_graph=True, allow_unused=True)
        for x, gj in zip(diff, gs):
            if check_grad_dtypes and gj is not None and gj.dtype != x.dtype:
                raise GradcheckError(f"Gradient has dtype mismatch: input of shape {x.shape} is {x.dtype} but its "
                                     f"gradient is {gj.dtype}")
        runs.append([np.zeros(x.shape) if gj is None else gj._data.astype(np.float64) for x, gj in zip(diff, gs)])
    if any(np.abs(a - b).max(initial=0) > nondet_tol for a, b in zip(*runs)):
        raise GradcheckError(f"Backward is not reentrant, i.e., running backward with same input and grad_output "
                             f"multiple times gives different values, although analytical gradient matches "
                             f"numerical gradient. The tolerance for nondeterminism was {nondet_tol}.")
    return runs[0]


def _compare(fn, inputs, diff, eps, atol, rtol, raise_exception, constants, fast_mode=False, nondet_tol=0.0,
             check_grad_dtypes=False):
    """Analytical (one backward per output element) against numerical Jacobians of ``diff``; with
    ``fast_mode``, ``v^T J u`` by one backward per output against one directional difference per input."""
    outs = _flat_outputs(fn, inputs, constants)
    if not outs:
        return True

    def values():
        return np.concatenate([o._data.reshape(-1).astype(np.float64)
                               for o in _flat_outputs(fn, inputs, constants)])

    try:
        if fast_mode:
            _compare_fast(outs, diff, values, eps, atol, rtol, nondet_tol, check_grad_dtypes)
            return True
        numerical = _numerical_jacobian(fn, diff, values, eps)
        total = sum(o._data.size for o in outs)
        analytical = [np.zeros((total, x._data.size)) for x in diff]
        row = 0
        for o in outs:
            if not o.requires_grad:  # a constant: its rows stay 0
                row += o._data.size
                continue
            for k in range(o._data.size):
                seed = np.zeros(o.shape, dtype=o.dtype)
                seed.reshape(-1)[k] = 1
                for j, gj in enumerate(_vjps(o, diff, seed, nondet_tol, check_grad_dtypes)):
                    analytical[j][row] = gj.reshape(-1)
                row += 1
        for j, (a, n) in enumerate(zip(analytical, numerical)):
            if not np.allclose(a, n, atol=atol, rtol=rtol):
                worst = np.unravel_index(np.argmax(np.abs(a - n)), a.shape)
                raise GradcheckError(
                    f"Jacobian mismatch for input {j} (shape {diff[j].shape}), output element {worst[0]}, input "
                    f"element {worst[1]}:\nanalytical={a[worst]:.8g} numerical={n[worst]:.8g}\n"
                    f"analytical:\n{a}\nnumerical:\n{n}")
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _compare_fast(outs, diff, values, eps, atol, rtol, nondet_tol, check_grad_dtypes):
    """PyTorch's fast mode: for each input j and output i, ``v_i . (J_ij u_j)`` by a central difference along
    the unit vector ``u_j`` against ``(J_ij^T v_i) . u_j`` by backward; atol scaled by ``sum(u_j) sum(v_i)``."""
    rng = np.random.default_rng(0)  # its own generator: the user's random state is left alone
    us = [rng.random(x.shape) for x in diff]
    us = [u / (np.linalg.norm(u) or 1.0) for u in us]
    vs = [rng.random(o.shape) for o in outs]
    # analytical: J_i^T v_i for every output by backward (zeros for a constant), then dotted with each u_j
    vjps = [_vjps(o, diff, v.astype(o.dtype), nondet_tol, check_grad_dtypes) if o.requires_grad else None
            for o, v in zip(outs, vs)]
    splits = np.cumsum([o._data.size for o in outs])[:-1]
    for j, (x, u) in enumerate(zip(diff, us)):
        old = x._data.copy()
        x._data[...] = old + eps * u
        plus = values()
        x._data[...] = old - eps * u
        minus = values()
        x._data[...] = old
        ju = np.split((plus - minus) / (2 * eps), splits)
        for i, (o, v) in enumerate(zip(outs, vs)):
            numerical = float(v.reshape(-1) @ ju[i])
            analytical = 0.0 if vjps[i] is None else float((vjps[i][j] * u).sum())
            if not np.isclose(analytical, numerical, rtol=rtol, atol=atol * u.sum() * v.sum()):
                raise GradcheckError(
                    f"Jacobian mismatch for input {j} (shape {x.shape}) and output {i} (shape {o.shape}) in fast "
                    f"mode: v^T J u is {analytical:.8g} analytically but {numerical:.8g} numerically (u, v: fixed "
                    "random vectors); rerun with fast_mode=False to see the full Jacobians")


def gradgradcheck(fn, inputs, grad_outputs=None, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, seed: int = 0, *, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked: bool = False,
                  gen_non_contig_grad_outputs: bool = False) -> bool:
    """Check second derivatives: gradcheck of ``x -> grad(fn(x), x, v, create_graph=True)``.

    ``v`` (``grad_outputs``) is a fixed random vector when not given. The keywords are those of
    :func:`gradcheck` (``check_fwd_over_rev`` and ``gen_non_contig_grad_outputs`` are not supported).
    """
    options = _options(nondet_tol, check_grad_dtypes, check_fwd_over_rev, check_rev_over_rev,
                       check_batched_grad=check_batched_grad, check_fwd_over_rev=check_fwd_over_rev,
                       gen_non_contig_grad_outputs=gen_non_contig_grad_outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = _differentiable(inputs, warn=True)
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")
    outs = _flat_outputs(fn, inputs)
    rng = np.random.default_rng(seed)
    if grad_outputs is None:
        grad_outputs = [Tensor(rng.standard_normal(o.shape)) for o in outs]
    grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)

    def first_grads(*xs):
        os = _flat_outputs(fn, xs)
        gs = grad(os, _differentiable(xs), grad_outputs, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    # A first gradient that does not require grad claims not to depend on the inputs; it is kept, so the
    # numerical derivative must confirm that (a rule that forgets to record its own graph fails here).
    return _compare(first_grads, inputs, diff, eps, atol, rtol, raise_exception, True, fast_mode, **options)
