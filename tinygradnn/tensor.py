"""``Tensor``: a NumPy array that remembers how it was computed.

A Tensor holds

* ``_data``: the NumPy array (``.numpy()`` returns it, sharing memory); results of ops on 0-d
  tensors may hold a NumPy scalar instead, which behaves the same and is much faster;
* ``requires_grad``: whether gradients should flow to it;
* ``_ctx``: the :class:`~tinygradnn.autograd.function.Function` node that produced it (``None`` for
  leaves: tensors created by the user);
* ``grad``: after ``backward()``, the accumulated gradient of a leaf (a Tensor of the same shape).

Every operation lives in :mod:`tinygradnn.ops` with its forward and backward side by side; the
methods here only forward to it, so ``x.exp()`` and ``tinygradnn.exp(x)`` are the same call.
"""

from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np

from . import _dtype
from ._state import _State

# bound by _install_methods at the end of tinygradnn/__init__ (these modules import Tensor):
_ops = None  # tinygradnn.ops
_seed = run_backward = _backward_into = None  # tinygradnn.autograd: Tensor.backward's helpers and the engine
_new, _ndarray, _generic = object.__new__, np.ndarray, np.generic  # (globals: cheaper in Tensor._wrap)

MaxMin = namedtuple("MaxMin", ["values", "indices"])


def _to_array(data, dtype=None) -> np.ndarray:
    """Turn Python data or an array into an ndarray with the library's dtype conventions."""
    if isinstance(data, Tensor):
        data = data._data
    dtype = None if dtype is None else _np_dtype(dtype)
    try:
        arr = np.array(data, dtype=dtype)
    except OverflowError:  # Python ints that do not fit an integer dtype
        arr = _out_of_range_ints(data, dtype)
    except (TypeError, ValueError) as e:
        if "inhomogeneous" in str(e) or "with a sequence" in str(e):
            raise ValueError("tensor(): the nested lists are ragged: every list at one level must have the same "
                             "length, e.g. [[1, 2], [3, 4]], not [[1, 2], [3]]") from None
        raise TypeError(f"tensor() cannot convert {type(data).__name__} data to dtype {dtype}: {e}") from None
    if dtype is not None:
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"tensor() supports bool, integer and floating dtypes, got dtype {arr.dtype}")
        return arr
    if arr.dtype.kind == "f" and not isinstance(data, np.ndarray | np.generic):
        leaves = _leaf_types(data) if isinstance(data, list | tuple) else (type(data),)
        if float not in leaves and leaves and all(t is int or t is bool for t in leaves):
            raise ValueError("tensor(): an integer overflows int64 (PyTorch's range is -2**63 .. 2**63 - 1)")
        if not (np.float64 in leaves or ((np.ndarray in leaves or Tensor in leaves) and _holds_float64(data))):
            # Python floats -> the default dtype; with float16/float32 items, PyTorch promotes them all
            floats = _item_float_dtypes(data, set()) if set(leaves) - {int, float, bool} else set()
            if float in leaves or not floats:
                floats.add(_dtype.get_default_dtype())
            arr = arr.astype(_dtype.promote_types(*floats))
    elif arr.dtype == np.uint64 and not isinstance(data, np.ndarray | np.generic):
        if arr.size and arr.max() > np.iinfo(np.int64).max:
            raise ValueError(f"tensor(): integer {int(arr.max())} overflows int64")
        arr = arr.astype(np.int64)  # (other integer dtypes come from items of that dtype: kept, as PyTorch)
    elif arr.dtype == object and not isinstance(data, np.ndarray) and _holds_big_int(data):
        raise ValueError("tensor(): an integer overflows int64 (PyTorch's range is -2**63 .. 2**63 - 1)")
    elif arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor() cannot hold data of dtype {arr.dtype} (got {type(data).__name__}); "
                        "use numbers, bools, nested lists of them or a numeric NumPy array")
    return arr


def _out_of_range_ints(data, dtype: np.dtype) -> np.ndarray:
    """PyTorch's conversion of Python numbers that NumPy refuses for an integer ``dtype``: an unsigned dtype takes
    small negative integers modulo 2**bits (uint8: -1 is 255, -255 is 1); any other value out of range is an error."""
    info = np.iinfo(dtype)
    try:
        arr = np.array(data)
    except OverflowError:
        arr = np.array(data, dtype=object)
    if arr.dtype.kind in "biu" and info.min == 0 and arr.size and -info.max <= arr.min() and arr.max() <= info.max:
        return (arr % (info.max + 1)).astype(dtype)
    raise RuntimeError(f"tensor(): a value cannot be converted to {dtype} without overflow (the range is "
                       f"{info.min} .. {info.max}" + (f", and -{info.max} .. -1 wrap)" if info.min == 0 else ")"))


def _leaf_types(data) -> set:
    """The types of the leaves of nested lists (one C-level pass per list)."""
    types = set(map(type, data))
    if list in types or tuple in types:
        types -= {list, tuple}
        for x in data:
            if type(x) is list or type(x) is tuple:
                types |= _leaf_types(x)
    return types


def _item_float_dtypes(data, found: set) -> set:
    """The floating dtypes of the NumPy scalars, arrays and tensors in nested lists."""
    for x in data:
        if isinstance(x, list | tuple):
            _item_float_dtypes(x, found)
        elif getattr(x, "dtype", None) is not None and np.dtype(x.dtype).kind == "f":
            found.add(np.dtype(x.dtype))
    return found


def _holds_float64(data) -> bool:
    """Whether nested lists hold a float64 array or Tensor (PyTorch then makes float64)."""
    return any(_holds_float64(x) if isinstance(x, list | tuple) else getattr(x, "dtype", None) == np.float64
               for x in data)


def _holds_big_int(data) -> bool:
    """Whether ``data`` (a number or nested lists) holds a Python int beyond int64."""
    if isinstance(data, list | tuple):
        return any(map(_holds_big_int, data))
    return isinstance(data, int) and not -(1 << 63) <= data < 1 << 63


def tensor_arg(x, op: str) -> Tensor:
    """``x`` as the Tensor input of ``op``: array-likes are converted, any other object is a TypeError naming ``op``."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray | np.generic | int | float | list | tuple):
        try:
            return Tensor(x)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{op}: {e}") from None
    raise TypeError(f"{op}: expected a Tensor as input, got {type(x).__name__}")


def _np_dtype(dtype) -> np.dtype:
    return np.dtype(getattr(dtype, "np", dtype))


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Examples:
        >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4., 6.])
    """

    __slots__ = ("_data", "_requires_grad", "_ctx", "grad", "_version", "_stamp", "_hooks", "_retains_grad",
                 "__weakref__")
    __array_ufunc__ = None  # make `ndarray * Tensor` call Tensor.__rmul__ instead of looping in NumPy

    def __init__(self, data, dtype=None, requires_grad: bool = False):
        self._data = _to_array(data, dtype)
        self._ctx = None
        self.grad = None
        self._version = self._stamp = 0
        self._hooks = None
        self._retains_grad = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, arr) -> Tensor:
        """A new leaf Tensor around ``arr`` without copying (the fast path used by every op)."""
        t = _new(Tensor)
        t._data = arr if type(arr) is _ndarray or isinstance(arr, _generic) else np.asarray(arr)
        t._requires_grad = False
        t._ctx = None
        t.grad = None
        t._version = t._stamp = 0
        t._hooks = None
        t._retains_grad = False
        return t

    # ----------------------------------------------------------------- autograd attributes
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self._data.dtype.kind != "f":
            raise RuntimeError(f"only floating point tensors can require gradients, got dtype "
                               f"{self._data.dtype}; convert with .float() first")
        if not value and self._ctx is not None:
            raise RuntimeError("you can only change requires_grad of leaf tensors; use .detach() instead")
        if value and type(self._data) is not np.ndarray:
            self._data = np.array(self._data)  # leaves that learn hold real arrays (optimizers update in place)
        self._requires_grad = bool(value)

    def _bump_version(self) -> None:
        """Record an in-place change (the version counter checked by backward)."""
        self._version += 1
        _State.bumps += 1
        self._stamp = _State.bumps  # when: nodes recorded before this stamp saw the old values

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The node that produced this tensor (``None`` for leaves)."""
        return self._ctx

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (a no-op on a leaf)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._ctx is not None:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor after ``retain_grad()``."""
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a replacement."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        hooks = self._hooks

        class _Handle:
            def remove(self_inner):
                if hook in hooks:
                    hooks.remove(hook)

        return _Handle()

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` (same shape as self) is required unless self has exactly one element. ``retain_graph``
        defaults to ``create_graph``, as in PyTorch.
        """
        if retain_graph is None:
            retain_graph = create_graph
        if not self._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn: "
                               "nothing to differentiate (did you forget requires_grad=True, or run it "
                               "under no_grad()?)")
        g = _seed(self, gradient, create_graph)
        if inputs is not None:
            return _backward_into([self], [g], retain_graph, create_graph, inputs)
        run_backward([self], [g], retain_graph=retain_graph, create_graph=create_graph)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor._wrap(self._data)

    def detach_(self) -> Tensor:
        self._ctx = None
        self._requires_grad = False
        return self

    # ----------------------------------------------------------------- data access
    @property
    def data(self) -> Tensor:
        """A detached tensor sharing storage (``p.data`` as in PyTorch); assignment replaces the array."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied). Raises if the tensor requires grad, like PyTorch."""
        if self._requires_grad:
            raise RuntimeError("can't call numpy() on a tensor that requires grad; use .detach().numpy()")
        return self._data if type(self._data) is np.ndarray else np.asarray(self._data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar (shape "
                               f"{self.shape})")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._data, dtype=dtype)

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        from .device import device

        return device("cpu")

    def size(self, dim: int | None = None):
        """The shape, or its length along ``dim``."""
        if dim is None:
            return self._data.shape
        n = self._data.ndim
        if not -n <= dim < n:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions" if n == 0 else
                             f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
        return self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def is_contiguous(self) -> bool:
        """Whether the elements lie in row-major order without gaps (convolution outputs are channels last)."""
        return bool(self._data.flags.c_contiguous) if type(self._data) is np.ndarray else True

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} elements is ambiguous")
        return bool(self._data)

    def __float__(self) -> float:
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def _scalar(self):
        if self._data.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars, got shape {self.shape}")
        return self._data.item()

    def __contains__(self, element) -> bool:
        """``element in x``: whether ``element`` (a number, or a tensor broadcast against x) equals some element."""
        if not isinstance(element, Tensor | numbers.Number):
            raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                               f"{type(element)}.")
        return bool((self == element).any())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"``: a 0-d tensor formats as its Python value, as PyTorch; others as ``str``."""
        if self._data.ndim == 0 and type(self) is Tensor:  # (a Parameter prints as one, as in PyTorch)
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    __hash__ = object.__hash__  # identity, as in PyTorch (== is elementwise); the C slot keeps dict lookups fast

    def __repr__(self) -> str:
        body = np.array2string(np.asarray(self._data), separator=", ", prefix="tensor(", precision=4)
        extra = ""
        if self._data.dtype.kind != "f" or self._data.dtype != _dtype.get_default_dtype():
            if not (self._data.dtype == np.int64 and self._data.size) and self._data.dtype != np.bool_:
                extra += f", dtype={self._data.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn={self._ctx!r}"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ----------------------------------------------------------------- dtype conversions
    def astype(self, dtype) -> Tensor:
        """A copy converted to ``dtype`` (differentiable between float dtypes)."""
        return _ops.cast(self, _np_dtype(dtype))

    to_dtype = astype

    # .float(), .to(dtype), ... return self itself when the dtype is already right, as in PyTorch (so
    # `w = tensor(..., requires_grad=True).float()` is still a leaf, and changing the result in place changes
    # self); astype, to_dtype and to(..., copy=True) always copy.
    def _converted(self, dtype) -> Tensor:
        dtype = _np_dtype(dtype)
        return self if self._data.dtype == dtype else _ops.cast(self, dtype)

    def float(self) -> Tensor:
        return self._converted(np.float32)

    def double(self) -> Tensor:
        return self._converted(np.float64)

    def half(self) -> Tensor:
        return self._converted(np.float16)

    def long(self) -> Tensor:
        return self._converted(np.int64)

    def int(self) -> Tensor:
        return self._converted(np.int32)

    def bool(self) -> Tensor:
        return self._converted(np.bool_)

    def short(self) -> Tensor:
        return self._converted(np.int16)

    def byte(self) -> Tensor:
        return self._converted(np.uint8)

    def char(self) -> Tensor:
        return self._converted(np.int8)

    def type_as(self, other: Tensor) -> Tensor:
        return self._converted(other.dtype)

    def new_tensor(self, data, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
        """A new tensor from ``data``, with ``self``'s dtype unless ``dtype`` is given (as the other ``new_*``)."""
        from .creation import tensor
        return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad, device=device)

    def new_full(self, size, fill_value, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
        from .creation import full
        return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad, device=device)

    def new_zeros(self, *size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
        from .creation import zeros
        return zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad, device=device)

    def new_ones(self, *size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
        from .creation import ones
        return ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad, device=device)

    def new_empty(self, *size, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
        """Uninitialised in PyTorch; zeros here."""
        return self.new_zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)

    def type(self, dtype=None):
        """``x.type(dtype)`` converts like ``to(dtype)``; ``x.type()`` names the dtype (``'float32'``: NumPy's name,
        where PyTorch says ``'torch.FloatTensor'``)."""
        return str(self.dtype) if dtype is None else self._converted(dtype)

    def to(self, *args, dtype=None, device=None, non_blocking: bool = False, copy: bool = False,
           memory_format=None) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(other)`` or ``to(device, dtype)``, then optionally ``non_blocking``
        and ``copy``; only the CPU exists here. Returns self when nothing changes, unless ``copy=True``."""
        from .device import check_device
        from .device import device as _device

        check_device(device)
        flags = []  # positional non_blocking, copy
        for a in args:
            if isinstance(a, bool):
                flags.append(a)
            elif flags:
                raise TypeError(f"to(): unexpected argument {a!r} after non_blocking/copy")
            elif isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str | _device):
                check_device(a)
            elif a is not None:
                dtype = a
        if len(flags) > 2:
            raise TypeError(f"to() takes at most two positional flags (non_blocking, copy), got {len(flags)}")
        if len(flags) == 2:
            copy = flags[1]
        if dtype is not None and _np_dtype(dtype) != self.dtype:
            return _ops.cast(self, _np_dtype(dtype))
        return _ops.clone(self) if copy else self

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args, **kwargs) -> Tensor:
        from .device import check_device

        check_device("cuda")

    # ----------------------------------------------------------------- arithmetic operators
    # x + y, x * y, -x, ... are the ops themselves (bound in _install_methods, see _OPERATORS);
    # the reflected forms swap the operands.
    def __radd__(self, o):
        return _ops.add(o, self)

    def __rsub__(self, o):
        return _ops.sub(o, self)

    def __rmul__(self, o):
        return _ops.mul(o, self)

    def __rtruediv__(self, o):
        return _ops.div(o, self)

    def __rfloordiv__(self, o):
        return _ops.floor_divide(o, self)

    def __rmod__(self, o):
        return _ops.remainder(o, self)

    def __rpow__(self, o):
        return _ops.pow(o, self)

    def __rmatmul__(self, o):
        return _ops.matmul(o, self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __getitem__(self, index):
        return _ops.getitem(self, index)

    def __setitem__(self, index, value):
        _ops.setitem_(self, index, value)

    # comparisons: not differentiable, return bool tensors
    def __eq__(self, o):
        return _ops.eq(self, o)

    def __ne__(self, o):
        return _ops.ne(self, o)

    def __lt__(self, o):
        return _ops.lt(self, o)

    def __le__(self, o):
        return _ops.le(self, o)

    def __gt__(self, o):
        return _ops.gt(self, o)

    def __ge__(self, o):
        return _ops.ge(self, o)

    # bitwise, as in PyTorch (logical for bool tensors): ~x, x & y, x | y, x ^ y
    def __invert__(self):
        return _ops.bitwise_not(self)

    def __and__(self, o):
        return _ops.bitwise_and(self, o)

    def __rand__(self, o):
        return _ops.bitwise_and(o, self)

    def __or__(self, o):
        return _ops.bitwise_or(self, o)

    def __ror__(self, o):
        return _ops.bitwise_or(o, self)

    def __xor__(self, o):
        return _ops.bitwise_xor(self, o)

    def __rxor__(self, o):
        return _ops.bitwise_xor(o, self)

    # in-place operators: x += y is x.add_(y)
    def __iadd__(self, o):
        return self.add_(o)

    def __isub__(self, o):
        return self.sub_(o)

    def __imul__(self, o):
        return self.mul_(o)

    def __itruediv__(self, o):
        return self.div_(o)

    def __ifloordiv__(self, o):
        return self.floor_divide_(o)

    def __imod__(self, o):
        return self.remainder_(o)

    def __ipow__(self, o):
        return self.pow_(o)

    def __iand__(self, o):
        return self.bitwise_and_(o)

    def __ior__(self, o):
        return self.bitwise_or_(o)

    def __ixor__(self, o):
        return self.bitwise_xor_(o)

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the matrix transpose for 2-D)."""
        return _ops.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped (0-d tensors are returned as they are, as in PyTorch)."""
        if self.ndim < 2:
            if self.ndim == 0:
                return self
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
        return _ops.transpose(self, -2, -1)

    def t(self) -> Tensor:
        """The transpose of a matrix (0-d and 1-D tensors are returned as they are), as ``torch.Tensor.t``."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but got {self.ndim}; "
                               "use transpose(dim0, dim1) or permute")
        return self if self.ndim < 2 else _ops.transpose(self, 0, 1)

    def where(self, condition, other) -> Tensor:
        """``self`` where ``condition`` is true, else ``other`` (``tinygradnn.where(condition, self, other)``)."""
        return _ops.where(condition, self, other)


_NAMED_METHODS = """
add sub mul div pow matmul mm bmm dot outer diag trace
neg exp log log1p sqrt rsqrt abs sin cos tanh sigmoid relu leaky_relu elu gelu
softplus erf clamp clip maximum minimum sign square floor ceil trunc round floor_divide remainder fmod
sum mean var std norm max min amax amin prod logsumexp softmax log_softmax argmax argmin all any cumsum
reshape view flatten transpose permute squeeze unsqueeze expand expand_as view_as reshape_as repeat tile
split chunk unbind swapaxes roll flip gather scatter masked_fill topk sort eq ne lt le gt ge logical_not isnan isfinite
logical_and logical_or logical_xor
bitwise_and bitwise_or bitwise_xor bitwise_not clone contiguous equal allclose isclose argsort unflatten
tril triu index_select masked_select nonzero argwhere unique bincount narrow movedim moveaxis repeat_interleave
bitwise_and_ bitwise_or_ bitwise_xor_ bitwise_not_ floor_divide_ remainder_ fmod_
abs_ add_ sub_ mul_ div_ zero_ fill_ copy_ clamp_ uniform_ normal_ masked_fill_ scatter_ pow_ exp_ relu_ sigmoid_ tanh_
""".split()


_OPERATORS = {"__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "div", "__pow__": "pow",
              "__floordiv__": "floor_divide", "__mod__": "remainder",
              "__matmul__": "matmul", "__neg__": "neg"}


def _install_methods(ops) -> None:
    """Bind ``tinygradnn.ops`` and add each name above as a Tensor method sharing its docstring."""
    global _ops, _seed, run_backward, _backward_into
    from .autograd.engine import run_backward
    from .autograd.functional import _backward_into, _seed

    _ops = ops
    for attr, name in [*zip(_NAMED_METHODS, _NAMED_METHODS), *_OPERATORS.items()]:
        fn = getattr(ops, name)
        # self is always a Tensor: bind the op itself, without ops' check of the input's type
        setattr(Tensor, attr, getattr(fn, "__wrapped__", fn))
