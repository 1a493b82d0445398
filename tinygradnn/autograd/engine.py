"""The backward pass: run each node's rule once, the latest recorded node first, and sum gradients.

The graph is made of Tensors; a non-leaf Tensor ``t`` holds ``t._ctx``, the :class:`Function` node
that produced it, whose ``inputs`` are the Tensors it was computed from. Every node gets a sequence
number when it is recorded (``ctx.seq``), and an op's inputs always exist before the op runs, so a
node's consumers all have larger numbers than the node. ``run_backward`` therefore

1. keeps the tensors waiting for their node to run in a heap ordered by that number, and always runs
   the latest one: all its consumers have run, so its gradient is complete (PyTorch's engine orders
   its ready queue the same way). One pass over the graph, no recursion, no separate topological sort;
2. calls that node's ``backward`` with the gradient and adds what it returns into the gradients of
   its inputs; an input that gets its first gradient joins the heap (a leaf joins the list of leaves);
3. stores the gradients of leaves in ``.grad`` at the end (or returns the ones asked for, for
   ``autograd.grad``);
4. frees each node's saved arrays unless ``retain_graph``, so memory goes back at once and a second
   backward through the same graph is a clear error instead of a wrong number.
"""

from __future__ import annotations

from heapq import heappop, heappush
from itertools import repeat
from operator import is_

import numpy as np

from .. import ops
from ..tensor import Tensor
from .grad_mode import _State

_ndarray = np.ndarray


def _check_versions(ctx, out: Tensor) -> None:
    """Raise if a tensor that ``ctx`` used was modified in place since (PyTorch's version counter).

    Every in-place change stamps its tensor with the global count of changes; a tensor stamped after
    ``ctx`` was recorded has changed since. Stricter than PyTorch in one case: a changed input that the
    node did not save also raises, because the graph links tensors (not nodes) and could otherwise
    follow the new history. A changed output only matters if the rule reads it.
    """
    changed = [p for p in ctx.inputs if isinstance(p, Tensor) and p._stamp > ctx.bumps]
    if out._stamp > ctx.bumps and any(s is out._data for s in ctx.saved):
        changed.insert(0, out)
    if changed:
        bad = changed[0]
        raise RuntimeError(
            f"A tensor of shape {bad.shape} needed by {ctx._label} for its gradient was modified by an "
            f"in-place operation after it was used (version {bad._version}). Use an out-of-place "
            "operation (x = x + 1 instead of x += 1) or clone() the tensor first.")


def _as_tensors(ctx, out: Tensor) -> tuple:
    """For create_graph: the saved arrays, with each input's or output's data replaced by its Tensor."""
    by_id = {id(p._data): p for p in ctx.inputs if isinstance(p, Tensor)}
    by_id[id(out._data)] = out
    return tuple(by_id.get(id(s), Tensor(s) if isinstance(s, np.ndarray) else s) for s in ctx.saved)


def run_backward(roots, grad_roots, *, retain_graph=False, create_graph=False, inputs=None,
                 allow_unused=False, before_hooks=False):
    """Backpropagate from ``roots`` (seeded with ``grad_roots``).

    With ``inputs=None`` gradients of leaves are accumulated into ``.grad``; otherwise the gradients
    of ``inputs`` are returned (``autograd.grad``) and no ``.grad`` is touched. ``before_hooks``: a
    non-leaf input's gradient is taken before its hooks run (``autograd.grad``, as PyTorch does; a
    leaf's after them).
    """
    F = ops.TensorOps if create_graph else ops.ArrayOps
    wanted = None
    if inputs is not None:
        wanted = {}
        for i, t in enumerate(inputs):
            wanted.setdefault(t, i)  # an input listed twice gets its first slot's result
    results = [None] * (len(inputs) if inputs is not None else 0)
    needed = None if wanted is None else _leading_to(roots, wanted)  # autograd.grad: only these nodes run
    grads = {}  # tensor -> the sum of the gradients it has received so far
    owned = set()  # tensors whose gradient buffer the engine allocated and may add into in place
    heap, leaves = [], []  # tensors waiting for their node to run, as (-ctx.seq, tensor); leaves in order
    for r, g in zip(roots, grad_roots):
        if r in grads:
            _accumulate(grads, owned, r, g, create_graph)
        else:
            grads[r] = g
            _enqueue(r, heap, leaves)

    # record the rules' ops only for create_graph (a plain assignment: cheaper than `with no_grad()`)
    was_enabled, _State.enabled = _State.enabled, create_graph
    try:
        while heap:
            t = heappop(heap)[1]
            g = grads.pop(t)
            if wanted is not None:
                if t not in needed:
                    continue  # no input asked for lies behind t: its hooks and its node do not run (as PyTorch)
                g = _through_wanted(t, g, wanted, results, create_graph, before_hooks, t in owned)
            elif t._hooks:
                g = _run_hooks(t, g, create_graph, t in owned)
            if t._retains_grad:
                _retain_grad(t, g, create_graph)
            ctx = t._ctx
            if ctx.bumps != _State.bumps:  # some tensor was changed in place since ctx was recorded
                _check_versions(ctx, t)
            if create_graph:
                saved, ctx.saved = ctx.saved, _as_tensors(ctx, t)
                try:
                    in_grads = ctx.backward(g, F)
                finally:
                    ctx.saved = saved
            else:
                in_grads = ctx.backward(g, F)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if _State.anomaly:
                from .anomaly import check_backward

                check_backward(ctx, in_grads)
            fresh = ctx.fresh_grads and not create_graph  # new arrays of the inputs' shapes and dtypes
            for p, need, gi in zip(ctx.inputs, ctx.needs_input_grad, in_grads):
                if need and gi is not None:
                    if not fresh:
                        data = p._data
                        if gi.shape != data.shape:
                            raise RuntimeError(
                                f"internal error: {ctx._label} returned a gradient of shape {gi.shape} "
                                f"for an input of shape {data.shape}")
                        if gi.dtype is not data.dtype and gi.dtype != data.dtype:
                            gi = F.cast(gi, data.dtype)
                    if p in grads:
                        _accumulate(grads, owned, p, gi, create_graph)
                        continue
                    grads[p] = gi
                    p_ctx = p._ctx
                    if p_ctx is None:
                        leaves.append(p)
                        if fresh or _fresh(gi, g, in_grads):
                            owned.add(p)  # the leaf can keep this array as .grad without a copy
                    elif p_ctx.saved is None and (needed is None or p in needed):
                        raise _freed_graph_error(p_ctx)
                    else:
                        heappush(heap, (-p_ctx.seq, p))
            if not retain_graph:
                ctx.saved = None
                if not create_graph:  # (the recorded rules read its inputs: the links let a pass through
                    ctx.inputs = ()  # them later find the freed node and raise, instead of skipping it)
        for t in leaves:
            g = grads.pop(t)
            if t._hooks and (needed is None or t in needed):
                g = _run_hooks(t, g, create_graph, t in owned)
                owned.discard(t)  # the hooks saw this array (and may keep it): .grad gets a copy
            if wanted is None:
                if t.grad is None and t in owned:  # the usual case: the leaf adopts the array
                    t.grad = Tensor._wrap(g)
                else:
                    _store_grad(t, g, create_graph, t in owned)
            elif t in wanted:
                results[wanted[t]] = g if create_graph else Tensor(g)
    finally:
        _State.enabled = was_enabled
    if inputs is not None:
        for i, r in enumerate(results):
            if r is None:
                r = results[i] = results[wanted[inputs[i]]]
            if r is None and not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {i}, shape {inputs[i].shape}) does not "
                    "appear in the graph of the outputs. Pass allow_unused=True to get None for it.")
        return tuple(results)
    return None


def _through_wanted(t: Tensor, g, wanted: dict, results: list, create_graph: bool, before_hooks: bool, owned: bool):
    """With ``inputs`` given: run ``t``'s hooks and take its gradient if it was asked for, before the hooks
    for ``autograd.grad`` (as PyTorch), after them for ``backward(inputs=...)``. Returns the gradient."""
    slot = wanted.get(t)
    if t._hooks:
        if before_hooks and slot is not None:
            if not create_graph:
                g = np.array(g)  # our own copy: in-place changes by the hooks show in the result
            results[slot] = g if create_graph else Tensor._wrap(g)
            owned = True
        g = _run_hooks(t, g, create_graph, owned)
    if slot is not None and results[slot] is None:
        results[slot] = g if create_graph else Tensor(g)
    return g


def _leading_to(roots, wanted: dict) -> set:
    """The tensors behind ``roots`` from which a ``wanted`` tensor can be reached (the wanted ones included):
    depth first without recursion, each tensor decided once its inputs are."""
    needed, seen, stack = set(), set(), [(r, False) for r in roots]
    while stack:
        t, inputs_done = stack.pop()
        ctx = t._ctx
        parents = () if ctx is None else [p for p in ctx.inputs if isinstance(p, Tensor) and p._requires_grad]
        if inputs_done:
            if t in wanted or any(p in needed for p in parents):
                needed.add(t)
        elif t not in seen:
            seen.add(t)
            stack.append((t, True))
            stack.extend((p, False) for p in parents if p not in seen)
    return needed


def _enqueue(t: Tensor, heap: list, leaves: list) -> None:
    """``t`` just got its first gradient: a leaf waits for the end, a non-leaf for its node's turn."""
    ctx = t._ctx
    if ctx is None:
        leaves.append(t)
    elif ctx.saved is None:
        raise _freed_graph_error(ctx)
    else:
        heappush(heap, (-ctx.seq, t))


def _freed_graph_error(ctx) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (through {ctx._label}): its saved values were "
        "freed by the first backward. Pass retain_graph=True to the first backward() if you need to "
        "differentiate twice.")


def _accumulate(grads, owned, t, g, create_graph):
    prev = grads[t]
    if create_graph:
        grads[t] = prev + g
    elif t in owned and type(prev) is np.ndarray:
        np.add(prev, g, out=prev)
    else:
        total = grads[t] = prev + g
        if type(total) is np.ndarray:  # (a sum of 0-d arrays is a NumPy scalar: no buffer to add into)
            owned.add(t)


def _fresh(gi, g, in_grads) -> bool:
    """True if a rule returned a new array of its own for one input only (not ``g``, a view, or shared)."""
    if type(gi) is not _ndarray or gi is g or gi.base is not None or not gi.flags.writeable:
        return False
    return sum(map(is_, in_grads, repeat(gi))) == 1  # how many inputs got this very array


def _store_grad(t: Tensor, g, create_graph: bool, owned: bool) -> None:
    """Add ``g`` into a leaf's ``t.grad`` (a fresh buffer the first time, so grads never alias each other)."""
    if create_graph:  # (a recorded copy: g may be shared with other inputs or the caller, or read-only)
        t.grad = ops.clone(g) if t.grad is None else t.grad + g
    elif t.grad is None:
        t.grad = Tensor._wrap(g if owned else np.array(g, dtype=t._data.dtype))
    else:
        total = t.grad._data + g
        t.grad._data = total if type(total) is np.ndarray else np.asarray(total)  # 0-d: stays an array


def _retain_grad(t: Tensor, g, create_graph: bool) -> None:
    """A non-leaf's retained gradient: a copy the first time, then a new sum (out of place, as PyTorch:
    a gradient taken before, maybe part of a graph, keeps its values)."""
    if create_graph:
        t.grad = ops.clone(g) if t.grad is None else t.grad + g
    elif t.grad is None:
        t.grad = Tensor._wrap(np.array(g, dtype=t._data.dtype))
    else:
        t.grad = Tensor._wrap(np.asarray(t.grad._data + g))


def _run_hooks(t: Tensor, g, create_graph: bool, owned: bool):
    """Run ``t``'s hooks in order. Each gets the gradient as a Tensor and may change it in place or
    return a replacement of the same shape and dtype. A gradient array the engine does not own (it
    may be shared with another tensor's gradient or be the caller's) is copied first."""
    if not create_graph:
        g = Tensor._wrap(g if owned else np.array(g))
    for hook in tuple(t._hooks):  # (a hook added by a hook waits for the next pass, as in PyTorch)
        res = hook(g)
        if res is not None:
            _check_hook_result(hook, g, res)
            g = res
    return g if create_graph else g._data


def _check_hook_result(hook, g: Tensor, res) -> None:
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(res, Tensor):
        raise TypeError(f"hook {name!r} returned {type(res).__name__}: a tensor hook must return a Tensor or None")
    if res.shape != g.shape:
        raise RuntimeError(f"hook {name!r} changed the gradient's shape from {g.shape} to {res.shape}: a hook "
                           "must return a gradient of the tensor's shape")
    if res.dtype != g.dtype:
        raise RuntimeError(f"hook {name!r} changed the gradient's dtype from {g.dtype} to {res.dtype}: a hook "
                           "must return a gradient of the tensor's dtype")
