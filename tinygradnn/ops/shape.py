"""Shape ops: reshape, permute, expand, indexing, cat, pad, and what is built from them.

Most PyTorch shape functions are compositions of the five primitives here (Reshape, Permute,
Expand, GetItem, Cat, plus Pad): ``view``, ``flatten``, ``squeeze``, ``unsqueeze``, ``transpose``,
``stack``, ``split``, ``chunk``, ``repeat``, ``tile``, ``flip``, ``roll``, ``gather`` need no gradient rule
of their own.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from .._dtype import promote_types
from ..autograd.function import Function
from ..tensor import MaxMin, Tensor, tensor_arg
from .elementwise import where
from .reduce import normalize_dims


def _axis(dim, ndim, op):
    """``dim`` as one non-negative axis; 0 for a 0-d tensor, where only dims 0 and -1 are accepted."""
    axes = normalize_dims(dim, ndim, op)
    return axes[0] if ndim else 0


# ----------------------------------------------------------------------------- reshape / permute / expand
class Reshape(Function):
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    def backward(ctx, g, F):
        return F.reshape(g, ctx.in_shape)


class Permute(Function):
    def forward(ctx, x, axes):
        ctx.inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))
        return np.transpose(x, axes)

    def backward(ctx, g, F):
        return F.permute(g, ctx.inverse)


class Expand(Function):
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    def backward(ctx, g, F):
        return F.sum_to(g, ctx.in_shape)


def _shape_arg(shape, op: str):
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    try:
        return tuple(int(s) if isinstance(s, float) and s.is_integer() else operator.index(s) for s in shape)
    except TypeError:
        raise TypeError(f"{op}: sizes must be integers, got {shape!r}") from None


def reshape(x: Tensor, *shape) -> Tensor:
    """The same data with a new shape (one dim may be -1). Accepts ``reshape(2, 3)`` or ``reshape((2, 3))``."""
    shape = _shape_arg(shape, "reshape")
    if shape == x.shape:
        return x
    known = math.prod(s for s in shape if s != -1)
    if shape.count(-1) > 1 or (-1 not in shape and known != x._data.size) or (
            -1 in shape and (known == 0 or x._data.size % known)):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x._data.size} elements) "
                         f"into shape {shape}")
    return Reshape.apply(x, shape)


view = reshape


def view_as(x: Tensor, other: Tensor) -> Tensor:
    """``x.reshape(other.shape)``."""
    return reshape(x, other.shape)


reshape_as = view_as


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    s, e = _axis(start_dim, x.ndim, "flatten"), _axis(end_dim, x.ndim, "flatten")
    if x.ndim == 0:
        return reshape(x, (1,))
    if s > e:
        raise ValueError(f"flatten: start_dim ({start_dim}) cannot come after end_dim ({end_dim}) for a "
                         f"{x.ndim}-d tensor")
    return reshape(x, x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:])


def unflatten(x: Tensor, dim: int, sizes) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one of them may be -1): the inverse of ``flatten``."""
    axis, sizes = _axis(dim, x.ndim, "unflatten"), tuple(sizes)
    known = math.prod(n for n in sizes if n != -1)
    if sizes.count(-1) > 1 or (sizes.count(-1) == 0 and known != x.shape[axis]) or (
            sizes.count(-1) == 1 and (known == 0 or x.shape[axis] % known)):
        raise ValueError(f"unflatten: sizes {sizes} do not multiply to the size {x.shape[axis]} of dim {dim}")
    return reshape(x, x.shape[:axis] + sizes + x.shape[axis + 1:])


def permute(x: Tensor, *dims) -> Tensor:
    """Reorder dims: ``x.permute(2, 0, 1)``."""
    dims = _shape_arg(dims, "permute")
    if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {x.ndim} dims of shape {x.shape}")
    return Permute.apply(x, tuple(d % x.ndim for d in dims)) if x.ndim else x


def transpose(x: Tensor, dim0: int = -2, dim1: int = -1) -> Tensor:
    """Swap two dims."""
    if x.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return x
    a, b = _axis(dim0, x.ndim, "transpose"), _axis(dim1, x.ndim, "transpose")
    axes = list(range(x.ndim))
    axes[a], axes[b] = b, a
    return Permute.apply(x, tuple(axes))


swapaxes = transpose


def squeeze(x: Tensor, dim=None) -> Tensor:
    """Remove size-1 dims (only ``dim`` when given, if it has size 1)."""
    axes = normalize_dims(dim, x.ndim, "squeeze") if dim is not None else range(x.ndim)
    drop = {a for a in axes if x.shape[a] == 1}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in drop))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` (negative counts from the end of the result)."""
    d = _new_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def _new_dim(dim, n: int, op: str) -> int:
    """A new dim's index in a result of ``n`` dims (negative counts from the end), checked."""
    if isinstance(dim, bool) or not isinstance(dim, int | np.integer):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return int(dim % n)


def expand(x: Tensor, *shape) -> Tensor:
    """Broadcast to ``shape`` without copying (-1 keeps a dim)."""
    shape = _shape_arg(shape, "expand")
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: target shape {shape} has fewer dims than the tensor's {x.shape}")
    full = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(shape))
    try:
        np.broadcast_shapes(x.shape, full)
        if np.broadcast_shapes(x.shape, full) != full:
            raise ValueError
    except ValueError:
        raise ValueError(f"expand: the tensor of shape {x.shape} cannot be expanded to {shape} "
                         "(only size-1 dims can grow)") from None
    return x if full == x.shape else Expand.apply(x, full)


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """``x.expand(other.shape)``."""
    return expand(x, other.shape)


# ----------------------------------------------------------------------------- indexing
def _index_add(g, shape, index):
    axis, rows = _one_int_array(index)
    if rows is not None and g.dtype in _SPARSE_DTYPES:
        return _rows_added(g, shape, rows, axis)
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)  # repeated integer indices accumulate
    return out


_SPARSE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _one_int_array(index) -> tuple:
    """``(axis, rows)`` for an index that picks along one axis with an int array ``rows``: ``rows`` itself or
    ``(:, ..., :, rows)`` (``x[rows]``, ``index_select``); else ``(None, None)``."""
    items = index if type(index) is tuple else (index,)
    rows = items[-1] if items else None
    if (type(rows) is not np.ndarray or rows.dtype.kind not in "iu"
            or not all(type(i) is slice and i == _ALL for i in items[:-1])):
        return None, None
    return len(items) - 1, rows


_ALL = slice(None)


def _rows_added(g, shape, rows, axis):
    """``np.add.at(zeros(shape), (:,) * axis + (rows,), g)`` for integer ``rows`` (the adjoint of ``x[rows]`` or
    of ``index_select``: an embedding lookup's backward, nearest-neighbour upsampling's): a sparse 0/1 matrix
    ``(shape[axis], rows.size)`` times ``g``'s slices along ``axis``, which sums every row's gradients in the
    same order as ``np.add.at`` (the same bits) and about 20x faster."""
    from scipy import sparse

    n, flat = shape[axis], rows.ravel()
    if flat.size and flat.min() < 0:
        flat = flat + n * (flat < 0)
    m, rest = flat.size, shape[:axis] + shape[axis + 1:]
    slices = np.moveaxis(g.reshape(shape[:axis] + (m,) + shape[axis + 1:]), axis, 0).reshape(m, math.prod(rest))
    picks = sparse.csr_matrix((np.ones(m, g.dtype), (flat, np.arange(m))), shape=(n, m))
    return np.moveaxis((picks @ slices).reshape((n,) + rest), 0, axis)


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, int | slice | np.integer) for i in items)


class GetItem(Function):
    def forward(ctx, x, index):
        ctx.in_shape, ctx.index = x.shape, index
        try:
            return x[index]
        except IndexError as e:
            raise IndexError(f"index {_show(index)} is invalid for a tensor of shape {x.shape}: {e}") from None

    def backward(ctx, g, F):
        return F.index_add(g, ctx.in_shape, ctx.index)


class _IndexAdd(Function):
    """The adjoint of GetItem (used for its double backward)."""

    def forward(ctx, g, shape, index):
        ctx.index = index
        return _index_add(g, shape, index)

    def backward(ctx, gg, F):
        return F.getitem(gg, ctx.index)


def _show(index):
    items = index if isinstance(index, tuple) else (index,)
    return "[" + ", ".join(f"array(shape={i.shape})" if isinstance(i, np.ndarray) else repr(i) for i in items) + "]"


def _arrays(index):
    """Tensors and lists inside an index become arrays (an empty list an empty integer array, and a uint8
    tensor a mask, as in PyTorch)."""
    if isinstance(index, tuple):
        return tuple(_arrays(i) for i in index)
    if isinstance(index, Tensor):
        d = index._data
        return d.astype(bool) if d.dtype == np.uint8 else np.asarray(d) if d.dtype == np.bool_ else d
    if isinstance(index, list):
        a = np.asarray(index)
        return a.astype(np.int64) if a.size == 0 and a.dtype.kind == "f" else a
    return index


def _normalize_index(index, shape=None):
    """``index`` in NumPy's form: tensors and lists become arrays. Float index arrays and slice steps below 1
    are refused, as in PyTorch. With ``shape`` (the indexed tensor's), an index for which NumPy and PyTorch
    lay out the result differently becomes one that NumPy lays out as PyTorch (see :func:`_torch_layout`):
    one broadcast integer array per dim, whose result (and assignment) is PyTorch's."""
    index = _arrays(index)
    items = index if isinstance(index, tuple) else (index,)
    for i in items:
        if isinstance(i, np.ndarray):
            if i.dtype.kind not in "biu":
                raise IndexError(f"tensors used as indices must be integer or bool, got dtype {i.dtype}")
            if i.size == 0 and i.dtype == np.bool_ and i.ndim and shape is not None:
                _check_masks(items, shape)  # NumPy takes an empty mask for any dim
        if isinstance(i, slice) and i.step is not None and i.step <= 0:
            raise ValueError(f"index {_show(index)}: step must be greater than zero (got {i.step}), as in "
                             "PyTorch; use flip() to reverse a dim")
    if shape is not None:
        layout = _torch_layout(index, shape)
        if layout is not None:
            return _mesh(index, shape, layout)
    return index


def _check_masks(items, shape) -> None:
    """PyTorch's check that each bool mask has the shape of the dims it indexes."""
    masks = [isinstance(i, np.ndarray) and i.dtype == np.bool_ for i in items]
    ndims = [i.ndim if m else 0 if i is None or i is Ellipsis or isinstance(i, bool) else 1
             for i, m in zip(items, masks)]
    d = 0
    for i, m, n in zip(items, masks, ndims):
        if i is Ellipsis:
            d += max(len(shape) - sum(ndims), 0)
        elif m and i.shape != tuple(shape[d:d + n]):
            raise IndexError(f"the boolean index of shape {i.shape} does not match the indexed tensor's "
                             f"shape {shape} at dim {d}")
        d += n


def _is_int_index(i) -> bool:
    """A Python or NumPy integer, or a 0-d integer array (from a 0-d tensor): PyTorch selects with these."""
    if isinstance(i, bool | np.bool_):
        return False
    return isinstance(i, int | np.integer) or (isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu")


def _index_kind(i) -> str | None:
    if i is None:
        return "none"
    if i is Ellipsis:
        return "ellipsis"
    if isinstance(i, slice):
        return "slice"
    if _is_int_index(i):
        return "int"
    if isinstance(i, np.ndarray) and (i.ndim or i.dtype == np.bool_):
        return "array"  # a 0-d bool tensor too: a new dim of size 1 or 0, an index array in PyTorch
    return None  # a Python bool (NumPy's rules), or something NumPy will refuse


def _torch_layout(index, shape: tuple):
    """Where NumPy and PyTorch put the dims of an index's arrays, for an index (in NumPy's form) on which
    they differ; None where they agree (almost always: no index arrays, or the index arrays and integers all
    next to each other with no Ellipsis).

    PyTorch applies integer indices first, as selects, so they never separate the index arrays, and an
    Ellipsis that stands for no dim separates nothing; NumPy counts integers among the index arrays, and an
    Ellipsis always separates. Both put the arrays' dims first when the arrays are separated, else where the
    arrays are. So for ``x`` of shape (1, 3, 4), ``x[0, :, [0, 1]]`` has shape (3, 2) in PyTorch but (2, 3)
    in NumPy. Returns ``(numpy_at, torch_at, kinds, rest)``: the first dim of the block of the arrays' dims
    in NumPy's and in PyTorch's result, the kind of each item and the number of dims the Ellipsis (or the
    end) stands for."""
    if not isinstance(index, tuple) or len(index) < 2:
        return None
    adv, arrays, ints, ellipsis = [], False, False, False  # a quick look first: most indices stop here
    for j, i in enumerate(index):
        if isinstance(i, np.ndarray):
            adv.append(j)
            mask0 = i.ndim == 0 and i.dtype == np.bool_
            arrays, ints = arrays or i.ndim > 0 or mask0, ints or (i.ndim == 0 and not mask0)
        elif isinstance(i, int | np.integer):
            adv.append(j)
            ints = True
        elif i is Ellipsis:
            ellipsis = True
    if not arrays or not (ints or ellipsis) or (not ellipsis and adv[-1] - adv[0] == len(adv) - 1):
        return None
    kinds = [_index_kind(i) for i in index]
    if None in kinds or kinds.count("ellipsis") > 1:
        return None  # NumPy's rules (a bool scalar) or NumPy's error
    dims = [i.ndim if k == "array" and i.dtype == np.bool_ else int(k in ("int", "slice", "array"))
            for k, i in zip(kinds, index)]
    rest = len(shape) - sum(dims)
    if rest < 0:
        return None  # too many indices: NumPy's error

    def first_dim(kinds, sizes):  # where the arrays' dims go: first unless the arrays are all adjacent
        adv = [j for j, k in enumerate(kinds) if k in ("int", "array")]
        return sum(sizes[:adv[0]]) if adv == list(range(adv[0], adv[-1] + 1)) else 0

    size = {"none": 1, "slice": 1, "ellipsis": rest, "int": 0, "array": 0}
    numpy_at = first_dim(kinds, [size[k] for k in kinds])
    kept = []  # PyTorch's view, one kind per dim: the integers have selected already, masks are nonzero()
    for k, n in zip(kinds, dims):
        kept += ["slice"] * rest if k == "ellipsis" else [k] * max(n, 1) if k == "array" else [] if k == "int" else [k]
    if "ellipsis" not in kinds:
        kept += ["slice"] * rest
    torch_at = first_dim(kept, [size[k] for k in kept])
    return None if torch_at == numpy_at else (numpy_at, torch_at, kinds, rest)


def _mesh(index, shape, layout) -> tuple:
    """The index of one broadcast integer array per dim that gives PyTorch's result under NumPy's rules
    (all of its items are arrays, so NumPy's result is their broadcast shape, laid out here as PyTorch's)."""
    _, at, kinds, rest = layout
    entries = []  # (kind, item): one per dim of x, plus the Nones
    for k, i in zip(kinds, index):
        if k == "ellipsis":
            entries += [("slice", slice(None))] * rest
        elif k == "array" and i.ndim == 0:  # a 0-d mask: PyTorch's index [0] or [] of a new dim of size 1
            entries.append(("new", np.zeros(int(i), np.intp)))
        elif k == "array" and i.dtype == np.bool_:
            d = sum(kind not in ("none", "new") for kind, _ in entries)
            if i.shape != tuple(shape[d:d + i.ndim]):
                raise IndexError(f"the boolean index of shape {i.shape} does not match the indexed tensor's "
                                 f"shape {shape} at dim {d}")
            entries += [("array", nz) for nz in np.nonzero(i)]
        else:
            entries.append((k, i))
    if "ellipsis" not in kinds:
        entries += [("slice", slice(None))] * rest
    block = np.broadcast_shapes(*(i.shape for k, i in entries if k in ("array", "new")))
    out_ndim = sum(k in ("none", "slice") for k, _ in entries) + len(block)
    out, new, d, ax, placed = [], [], 0, 0, False
    for k, i in entries:
        if k == "none":
            ax += 1
            continue
        if k == "slice":
            r = np.arange(*i.indices(shape[d]))
            out.append(r.reshape((1,) * ax + (r.size,) + (1,) * (out_ndim - ax - 1)))
            ax += 1
        elif k == "int":
            if not -shape[d] <= i < shape[d]:  # (NumPy checks none where the result is empty)
                raise IndexError(f"index {int(i)} is out of range for dim {d} of size {shape[d]} of a tensor of "
                                 f"shape {shape}")
            out.append(np.asarray(i))
        else:
            if not placed:  # the first index array: the block of the arrays' dims starts here
                ax, placed = ax + len(block), True
            i = i.reshape((1,) * (at + len(block) - i.ndim) + i.shape + (1,) * (out_ndim - at - len(block)))
            if k == "new":  # it indexes no dim of x: only its size joins the block
                new.append(i)
                continue
            out.append(i)
        d += 1
    return tuple(np.broadcast_arrays(*out, *new)[:len(out)]) if new else tuple(out)


def getitem(x: Tensor, index) -> Tensor:
    """``x[index]``: ints, slices (positive steps), None, Ellipsis, integer arrays and bool masks, with
    PyTorch's semantics: NumPy's, except that integers select before index arrays apply (see
    :func:`_torch_layout`). Repeated integer indices accumulate their gradients."""
    return GetItem.apply(x, _normalize_index(index, x.shape))


def _getitem(x: Tensor, index) -> Tensor:
    """``x[index]`` for an index already in NumPy's form (the backward rules': negative steps allowed)."""
    return GetItem.apply(x, index)


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """``out[i][j] = x[index[i][j]][j]`` for ``dim=0`` (PyTorch's gather), differentiable in ``x``."""
    d = _axis(dim, x.ndim, "gather")
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"gather: index must be an integer tensor, got dtype {idx.dtype}")
    if idx.ndim != x.ndim and not (idx.ndim <= 1 and x.ndim <= 1):
        raise ValueError(f"gather: index has {idx.ndim} dims but the input of shape {x.shape} has {x.ndim}")
    if x.ndim == 0 or idx.ndim == 0:  # a 0-d input or index: one element
        return reshape(gather(reshape(x, (-1,)), 0, idx.reshape(-1)), idx.shape)
    if idx.size and any(i > n for a, (i, n) in enumerate(zip(idx.shape, x.shape)) if a != d):
        raise ValueError(f"gather: index of shape {idx.shape} must be no larger than the input of shape "
                         f"{x.shape} in every dim but {dim}")
    if idx.size and (idx.min() < 0 or idx.max() >= x.shape[d]):
        raise IndexError(f"gather: index values must be in [0, {x.shape[d]}) along dim {dim}; got "
                         f"min {idx.min()}, max {idx.max()}")
    full = tuple(idx if a == d else np.arange(n).reshape([-1 if b == a else 1 for b in range(idx.ndim)])
                 for a, n in enumerate(idx.shape))
    return GetItem.apply(x, full)


def flip(x: Tensor, dims, *more) -> Tensor:
    """Reverse the order of elements along ``dims`` (``x.flip(0, 1)`` or ``x.flip((0, 1))``)."""
    dims = (dims, *more) if more else dims
    axes = normalize_dims(dims, x.ndim, "flip")
    return GetItem.apply(x, tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(x.ndim)))


def roll(x: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements cyclically along ``dims`` (the flattened tensor when None)."""
    if dims is None:
        return reshape(roll(flatten(x), shifts, 0), x.shape)
    shifts = (shifts,) if isinstance(shifts, int | np.integer) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int | np.integer) else tuple(dims)
    if len(shifts) != len(dims) or not all(isinstance(s, int | np.integer) for s in shifts):
        raise TypeError(f"roll: shifts must be an int or a tuple of ints, one per dim in {dims}, got {shifts!r}")
    for s, d in zip(shifts, dims):
        d = _axis(d, x.ndim, "roll")
        n = x.shape[d]
        idx = (np.arange(n) - s) % n
        x = GetItem.apply(x, (slice(None),) * d + (idx,))
    return x


# ----------------------------------------------------------------------------- joining and splitting
class Cat(Function):
    """Join along ``axis``; the inputs marked in ``skip`` (empty 1-D tensors, which PyTorch skips) take no
    part but get an empty gradient."""

    def forward(ctx, *xs, axis, skip):
        ctx.axis, ctx.skip, ctx.sizes = axis, skip, [x.shape[axis] for x, s in zip(xs, skip) if not s]
        return np.concatenate([x for x, s in zip(xs, skip) if not s] if True in skip else xs, axis=axis)

    def backward(ctx, g, F):
        bounds = np.cumsum([0] + ctx.sizes)
        lead = (slice(None),) * ctx.axis
        parts = iter([F.getitem(g, lead + (slice(int(a), int(b)),)) for a, b in zip(bounds[:-1], bounds[1:])])
        empty = F.reshape(F.getitem(g, (slice(0, 0),) * g.ndim), (0,)) if True in ctx.skip else None
        return tuple(empty if s else next(parts) for s in ctx.skip)


def _tensor_list(tensors, op: str) -> list:
    if not isinstance(tensors, list | tuple):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    return [tensor_arg(t, op) for t in tensors]


def cat(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors along an existing dim (``axis`` is an alias); all other dims must match. Empty 1-D
    tensors (shape ``(0,)``) are skipped, as in PyTorch, but still take part in the result's dtype."""
    dim = dim if axis is None else axis
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    dtype = promote_types(*(t.dtype for t in tensors))  # float32 with int64 is float32 (see tinygradnn._dtype)
    tensors = [t if t.dtype == dtype else t.astype(dtype) for t in tensors]
    skip = tuple(t.shape == (0,) for t in tensors)
    if False not in skip:  # only empty 1-D tensors: an empty result, whatever dim
        skip = (False,) * len(tensors)
    kept = [t for t, s in zip(tensors, skip) if not s]
    ndim = kept[0].ndim
    if ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    axis = _axis(dim, ndim, "cat") if kept[0].shape != (0,) else 0
    ref = kept[0].shape
    for t in kept[1:]:
        if t.ndim != ndim or t.shape[:axis] + t.shape[axis + 1:] != ref[:axis] + ref[axis + 1:]:
            shapes = ", ".join(str(u.shape) for u in kept)
            raise ValueError(f"cat: tensors must have the same shape except in dim {dim}; got {shapes}")
    return Cat.apply(*tensors, axis=axis, skip=skip)


concatenate = cat


class Stack(Function):
    """Join equal-shape arrays along a new ``axis``: one node, however many inputs."""

    def forward(ctx, *xs, axis):
        ctx.axis, ctx.n = axis, len(xs)
        return np.stack(xs, axis)

    def backward(ctx, g, F):
        lead = (slice(None),) * ctx.axis
        return tuple(F.getitem(g, lead + (i, ...)) for i in range(ctx.n))  # (the ellipsis: 0-d arrays stay arrays)


def stack(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Join tensors of equal shape along a new dim (``axis`` is an alias)."""
    dim = dim if axis is None else axis
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError("stack: expects each tensor to be equal size, got "
                         + ", ".join(str(t.shape) for t in tensors))
    dtype = promote_types(*(t.dtype for t in tensors))
    tensors = [t if t.dtype == dtype else t.astype(dtype) for t in tensors]
    return Stack.apply(*tensors, axis=_new_dim(dim, tensors[0].ndim + 1, "stack"))


def _dim_of(x: Tensor, dim, op: str) -> int:
    if x.ndim == 0:
        raise ValueError(f"{op}: expects at least a 1-dimensional tensor, got a 0-d tensor")
    return _axis(dim, x.ndim, op)


def split(x: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into pieces of ``split_size`` (the last may be smaller) or of the given list of sizes."""
    axis = _dim_of(x, dim, "split")
    n = x.shape[axis]
    if isinstance(split_size_or_sections, int | np.integer):
        step = int(split_size_or_sections)
        if step < 0 or (step == 0 and n):
            raise ValueError(f"split: split_size must be positive (0 only for a dim of size 0), got {step} "
                             f"for dim {dim} of size {n}")
        sizes = [min(step, n - i) for i in range(0, n, step)] if n else [0]
    else:
        sizes = [operator.index(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise ValueError(f"split: sizes must be non-negative, got {sizes}")
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} sum to {sum(sizes)} but dim {dim} has size {n}")
    bounds = np.cumsum([0] + sizes)
    lead = (slice(None),) * axis
    return tuple(GetItem.apply(x, lead + (slice(int(a), int(b)),)) for a, b in zip(bounds[:-1], bounds[1:]))


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into pieces of ``ceil(n / chunks)`` (so possibly fewer than ``chunks`` of them); a dim of size 0
    gives ``chunks`` empty pieces, as in PyTorch."""
    if isinstance(chunks, bool) or not isinstance(chunks, int | np.integer) or chunks <= 0:
        raise ValueError(f"chunk: the number of chunks must be a positive int, got {chunks!r}")
    n = x.shape[_dim_of(x, dim, "chunk")]
    return split(x, [0] * int(chunks), dim) if n == 0 else split(x, -(-n // int(chunks)), dim)


def unbind(x: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, as a tuple."""
    if x.ndim == 0:
        raise IndexError(f"unbind: dimension specified as {dim} but the tensor has no dimensions")
    axis = _axis(dim, x.ndim, "unbind")
    return tuple(GetItem.apply(x, (slice(None),) * axis + (i,)) for i in range(x.shape[axis]))


# ----------------------------------------------------------------------------- pad / repeat / tile
class _Pad(Function):
    def forward(ctx, x, widths, value):
        ctx.crop = tuple(slice(a, a + n) for (a, _), n in zip(widths, x.shape))
        return np.pad(x, widths, constant_values=value)

    def backward(ctx, g, F):
        return F.getitem(g, ctx.crop)


def pad(x: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad PyTorch style: ``pad=(left, right, top, bottom, ...)`` starts at the last dim; negative widths crop.

    ``'constant'`` fills with ``value`` (any number of dims). ``'reflect'`` mirrors without repeating the
    edge, ``'replicate'`` repeats the edge, ``'circular'`` wraps around: as in PyTorch these pad the last
    1, 2 or 3 dims (``len(pad)`` 2, 4 or 6) of an input with 1 or 2 more dims. Gradients add the copies up.
    """
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}; use 'constant', 'reflect', "
                                  "'replicate' or 'circular'")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: padding {tuple(pad)} must have an even length of at most 2 * {x.ndim}")
    pairs = [(operator.index(pad[2 * i]), operator.index(pad[2 * i + 1])) for i in range(len(pad) // 2)]
    pairs = dict((x.ndim - 1 - i, p) for i, p in enumerate(pairs))  # dim -> (lo, hi)
    if mode == "constant":
        return _constant_pad(x, pairs, 0.0 if value is None else value)
    return _index_pad(x, pairs, mode, value)


def _constant_pad(x, pairs, value):
    widths, crop = [(0, 0)] * x.ndim, [slice(None)] * x.ndim
    for d, (lo, hi) in pairs.items():
        n = x.shape[d]
        if n + min(lo, 0) + min(hi, 0) < 0:
            raise RuntimeError(f"pad: the input size {n} at dim {d}, cropped by negative padding ({lo}, {hi}), "
                               "gives a negative output size")
        crop[d], widths[d] = slice(max(-lo, 0), n - max(-hi, 0)), (max(lo, 0), max(hi, 0))
    if any(lo < 0 or hi < 0 for lo, hi in pairs.values()):
        x = GetItem.apply(x, tuple(crop))
    return _Pad.apply(x, tuple(widths), value)


def _index_pad(x, pairs, mode, value):
    """'reflect', 'replicate', 'circular': one gather ``x[..., rows, cols]`` whose gradient adds up the copies."""
    k, shape = len(pairs), x.shape
    if not 1 <= k <= 3 or x.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"pad: mode={mode!r}: a padding of length {2 * k} is not supported for a "
                                  f"{x.ndim}-D input (lengths 2, 4, 6 pad the last 1, 2, 3 dims of a 2-D or 3-D, "
                                  "3-D or 4-D, 4-D or 5-D input)")
    if value not in (None, 0):
        raise RuntimeError(f'pad: padding mode "{mode}" doesn\'t take in value argument, got value={value!r}')
    if mode != "circular" and 0 in shape[x.ndim - k - 1:]:
        raise RuntimeError(f"pad: mode={mode!r} expects an input with non-zero dimensions (but for a batch of 0), "
                           f"got shape {shape}")
    index = []
    for d in range(x.ndim - k, x.ndim):
        (lo, hi), n = pairs[d], shape[d]
        j = np.arange(-lo, n + hi)
        if mode == "circular":
            start, m = max(-lo, 0), n + min(lo, 0) + min(hi, 0)  # crop first, then wrap around what is left
            if m < 0 or lo > m or hi > m:
                raise RuntimeError(f"pad: mode='circular' padding ({lo}, {hi}) at dimension {d} of input {shape} "
                                   "causes wrapping around more than once")
            j = start + (np.arange(-max(lo, 0), m + max(hi, 0)) % m if m else np.arange(0))
        else:
            if j.size <= 0:
                raise RuntimeError(f"pad: input size {n} at dimension {d} is too small for padding ({lo}, {hi}): "
                                   f"output size {j.size}")
            if mode == "reflect" and max(lo, hi) >= n:
                raise RuntimeError(f"pad: mode='reflect' needs padding smaller than the dim it pads, got padding "
                                   f"({lo}, {hi}) at dimension {d} of input {shape}")
            j = np.clip(j, 0, n - 1) if mode == "replicate" else (n - 1) - np.abs((n - 1) - np.abs(j))
        index.append(j)
    return GetItem.apply(x, (slice(None),) * (x.ndim - k) + np.ix_(*index))


def repeat(x: Tensor, *sizes) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along dim ``i`` (PyTorch's ``repeat``, NumPy's ``tile``)."""
    reps = _shape_arg(sizes, "repeat")
    if any(r < 0 for r in reps):
        raise ValueError(f"repeat: repeat counts must be non-negative, got {reps}")
    if len(reps) < x.ndim:
        raise ValueError(f"repeat: number of repeat dims {len(reps)} can not be smaller than the number of "
                         f"tensor dims {x.ndim}")
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    inter = tuple(v for s in shape for v in (1, s))
    big = tuple(v for r, s in zip(reps, shape) for v in (r, s))
    return reshape(expand(reshape(x, inter), big), tuple(r * s for r, s in zip(reps, shape)))


def tile(x: Tensor, dims, *more) -> Tensor:
    """Like :func:`repeat`, with missing leading entries of ``dims`` taken as 1 (``x.tile(2, 2)`` too)."""
    dims = (dims, *more) if more else dims
    dims = _shape_arg((dims,) if isinstance(dims, int) else dims, "tile")
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def hstack(tensors) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    tensors = [t if t.ndim else reshape(t, (1,)) for t in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors and tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """Join along dim 0, 0-d and 1-D tensors taken as rows ``(1, n)``."""
    return cat([t if t.ndim >= 2 else reshape(t, (1, -1)) for t in _tensor_list(tensors, "vstack")], 0)


def repeat_interleave(x: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times (an int, or one count per element) along ``dim``; the
    flattened tensor when ``dim`` is None. The gradient adds up the copies. With ``x`` alone, ``x`` holds
    the counts and the result repeats their positions: ``repeat_interleave(tensor([1, 2]))`` is ``[0, 1, 1]``."""
    if repeats is None:
        counts = x._data if isinstance(x, Tensor) else np.asarray(x)
        if counts.ndim != 1 or counts.dtype.kind not in "iu" or (counts.size and counts.min() < 0):
            raise ValueError(f"repeat_interleave: the repeats must be a 1-D tensor of non-negative ints, got shape "
                             f"{counts.shape}, dtype {counts.dtype}")
        return Tensor._wrap(np.repeat(np.arange(counts.size), counts))
    if dim is None:
        x, dim = reshape(x, (-1,)), 0
    d = _axis(dim, x.ndim, "repeat_interleave")
    n = x.shape[d] if x.ndim else 1
    reps = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if reps.dtype.kind not in "iu" or reps.ndim > 1 or reps.size not in (1, n) or (reps.size and reps.min() < 0):
        raise ValueError(f"repeat_interleave: repeats must be a non-negative int or one int per element "
                         f"({n} along dim {dim}), got {repeats!r}")
    idx = np.repeat(np.arange(n), reps.reshape(-1) if reps.size == n else int(reps.reshape(-1)[0]))
    if output_size is not None and output_size != idx.size:
        raise ValueError(f"repeat_interleave: output_size={output_size} but the repeats give {idx.size}")
    return GetItem.apply(x, (slice(None),) * d + (idx,)) if x.ndim else GetItem.apply(x, (idx * 0,))


def index_select(x: Tensor, dim: int, index) -> Tensor:
    """The entries at the integer ``index`` (0-d or 1-D) along ``dim``; repeated indices add up gradients."""
    d = _axis(dim, x.ndim, "index_select")
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu" or idx.ndim > 1:
        raise TypeError(f"index_select: index must be a 0-d or 1-D integer tensor, got dtype {idx.dtype}, "
                        f"shape {idx.shape}")
    n = x.shape[d] if x.ndim else 1
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"index_select: index out of range in dim {dim} of size {n}: got {idx.tolist()}")
    if x.ndim == 0:
        if idx.size != 1:
            raise ValueError(f"index_select: the index into a 0-d tensor must have one value, got {idx.size}")
        return reshape(x, ())  # (PyTorch: a 0-d input gives a 0-d result, whatever the index's shape)
    return GetItem.apply(x, (slice(None),) * d + (idx.reshape(-1),))


def masked_select(x: Tensor, mask) -> Tensor:
    """The elements of ``x`` where the bool ``mask`` (broadcast with ``x``) is true, as a 1-D tensor."""
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_select: mask must be a bool tensor, got dtype {m.dtype}")
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        raise ValueError(f"masked_select: the mask of shape {m.shape} does not broadcast with the input of "
                         f"shape {x.shape}") from None
    return GetItem.apply(expand(x, shape), np.broadcast_to(m, shape))


def nonzero(x: Tensor, *, as_tuple: bool = False):
    """The indices of the non-zero elements: int64 ``(count, ndim)``, or one 1-D tensor per dim."""
    a = x._data if isinstance(x, Tensor) else np.asarray(x)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(a)))
    return Tensor._wrap(np.argwhere(a).astype(np.int64))


def argwhere(x: Tensor) -> Tensor:
    """``nonzero(x)``."""
    return nonzero(x)


def unique(x: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """The distinct elements of ``x`` (1-D, in ascending order; NaNs are not merged), or with ``dim`` the distinct
    slices along it; with ``return_inverse`` also where each element (slice) went, with ``return_counts`` also how
    often each occurs, both int64. Not differentiable. The result is sorted even with ``sorted=False``."""
    a = x._data if isinstance(x, Tensor) else np.asarray(x)
    if dim is None:
        values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, equal_nan=False)
        inverse = inverse.reshape(a.shape)
    else:
        axis = _dim_of(x, dim, "unique")
        values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=axis)
        inverse = inverse.reshape(-1)
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(x: Tensor, weights=None, minlength: int = 0) -> Tensor:
    """How often each value ``0..max(x)`` occurs in the 1-D non-negative integer ``x`` (int64), or the sum of the
    ``weights`` at its positions (float32 for float32 weights, else float64; int64 zeros for an empty ``x``, as
    PyTorch); at least ``minlength`` long. Not differentiable."""
    a = x._data if isinstance(x, Tensor) else np.asarray(x)
    if a.dtype.kind not in "iu":
        raise NotImplementedError(f"bincount: not implemented for {a.dtype} tensors; it counts integers")
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got shape {a.shape}"
                           + ("" if a.ndim != 1 else f" with minimum {a.min()}"))
    if not isinstance(minlength, int | np.integer) or isinstance(minlength, bool) or minlength < 0:
        raise RuntimeError(f"bincount: minlength should be an int >= 0, got {minlength!r}")
    if weights is None or (a.size == 0 and np.shape(getattr(weights, "_data", weights)) == (0,)):
        return Tensor._wrap(np.bincount(a, minlength=minlength).astype(np.int64))  # (PyTorch: int64 when empty)
    w = weights._data if isinstance(weights, Tensor) else np.asarray(weights)
    if w.shape != a.shape:
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as input, got shapes "
                           f"{w.shape} and {a.shape}")
    out = np.bincount(a, weights=w.astype(np.float64), minlength=minlength)
    return Tensor._wrap(out.astype(np.float32 if w.dtype == np.float32 else np.float64))


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``length`` entries from ``start`` along ``dim`` (``start`` may be negative)."""
    d = _dim_of(x, dim, "narrow")
    n = x.shape[d]
    if isinstance(start, Tensor):  # a 0-d integer tensor, as PyTorch allows
        start = operator.index(start.item())
    if not -n <= start <= n:
        raise IndexError(f"narrow: start ({start}) is out of range for dim {dim} of size {n}")
    start %= n if n and start < 0 else n + 1
    if length < 0 or start + length > n:
        raise ValueError(f"narrow: start ({start}) + length ({length}) exceeds dimension size ({n}) of dim {dim}")
    return GetItem.apply(x, (slice(None),) * d + (slice(start, start + length),))


def movedim(x: Tensor, source, destination) -> Tensor:
    """Move the dims ``source`` to the positions ``destination`` (ints or tuples); the others keep their order."""
    src = (source,) if isinstance(source, int | np.integer) else tuple(source)
    dst = (destination,) if isinstance(destination, int | np.integer) else tuple(destination)
    src = [_axis(s, x.ndim, "movedim") for s in src]
    dst = [_axis(s, x.ndim, "movedim") for s in dst]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"movedim: source {source} and destination {destination} must be distinct dims, "
                         "as many of each")
    rest = iter(a for a in range(x.ndim) if a not in src)
    moved = dict(zip(dst, src))
    return permute(x, tuple(moved[i] if i in moved else next(rest) for i in range(x.ndim)))


moveaxis = movedim


def _triangle(x: Tensor, diagonal: int, lower: bool, op: str) -> Tensor:
    if x.ndim < 2:
        raise ValueError(f"{op}: input tensor must have at least 2 dimensions, got shape {x.shape}")
    keep = (np.tril if lower else np.triu)(np.ones(x.shape[-2:], dtype=bool), int(diagonal))
    return where(Tensor._wrap(keep), x, Tensor._wrap(np.zeros((), x._data.dtype)))


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (on and below ``diagonal``), zeros elsewhere."""
    return _triangle(x, diagonal, True, "tril")


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (on and above ``diagonal``), zeros elsewhere."""
    return _triangle(x, diagonal, False, "triu")


# ----------------------------------------------------------------------------- sorting
def _argsort(x: Tensor, axis: int, descending: bool) -> np.ndarray:
    """Stable argsort along ``axis``. NaN counts as the largest value (last ascending, first descending), and
    equal values keep their order in both directions, as PyTorch's stable sort. Descending sorts the reversed
    data ascending and reverses the result, so unsigned ints, bools and the int64 minimum need no negation."""
    data = x._data.astype(np.int8) if x._data.dtype == np.bool_ else x._data
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    idx = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
    return (data.shape[axis] - 1) - np.flip(idx, axis)


def argsort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
    """The indices that sort ``x`` along ``dim`` (``sort(...).indices``); always stable."""
    return sort(x, dim, descending).indices


def sort(x: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """``(values, indices)`` sorted along ``dim``; always stable (``stable`` is accepted for PyTorch's sake)."""
    axis = _axis(dim, x.ndim, "sort")
    if x.ndim == 0:
        values, indices = sort(reshape(x, (1,)), 0, descending)
        return MaxMin(reshape(values, ()), reshape(indices, ()))
    idx = _argsort(x, axis, descending)
    return MaxMin(gather(x, axis, idx), Tensor._wrap(idx.astype(np.int64, copy=False)))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices; NaN counts as the largest
    value. Always sorted; equal values come in index order."""
    axis = _axis(dim, x.ndim, "topk")
    n = x.shape[axis] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k <= n:
        raise ValueError(f"topk: k={k!r} is out of range for dim {dim} of size {n}")
    if x.ndim == 0:  # PyTorch gives the element for k = 0 as for k = 1
        values, indices = topk(reshape(x, (1,)), 1, 0, largest)
        return MaxMin(reshape(values, ()), reshape(indices, ()))
    idx = _argsort(x, axis, largest)[(slice(None),) * axis + (slice(0, int(k)),)]
    return MaxMin(gather(x, axis, idx), Tensor._wrap(idx.astype(np.int64)))
