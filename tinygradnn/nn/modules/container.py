"""Containers: ``Sequential`` (a chain of layers), ``ModuleList`` and ``ModuleDict`` (registered collections)."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from itertools import islice, repeat
from operator import getitem, is_
from typing import NamedTuple

import numpy as np

from ...autograd.grad_mode import _State
from ...ops import conv as _conv
from ...ops import elementwise as _ew
from ...ops import nnops
from ...tensor import Tensor
from .. import module as _module
from ..module import Module, _addindent
from .activation import ReLU, Sigmoid, Tanh
from .linear import Linear
from .pooling import MaxPool1d, MaxPool2d


def _index(idx, n: int, name: str) -> int:
    """A non-negative position from a possibly negative int index, or an IndexError."""
    i = operator.index(idx)
    if not -n <= i < n:
        raise IndexError(f"{name}: index {idx} is out of range for {n} modules")
    return i % n


# the layers a chain can hold: their op and the forward that op stands for
_CHAINABLE = {Linear: (nnops.Linear, Linear.forward), Tanh: (_ew.Tanh, Tanh.forward),
              Sigmoid: (_ew.Sigmoid, Sigmoid.forward), ReLU: (_ew.ReLU, ReLU.forward)}
_NOT_CHAINABLE = (None, None)
_POOLS = {MaxPool1d: (1, MaxPool1d.forward), MaxPool2d: (2, MaxPool2d.forward)}  # a held ReLU runs inside these
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# what a segment of a plan does (see _run_plan): call a plain built-in layer, call any other module (which may
# change modules: the plan is checked again after it), run a chain, run a ReLU and a max pooling as one node
_CALL, _ANY, _CHAIN, _RELU_POOL = "call", "any", "chain", "relu_pool"


class _ChainSegment(NamedTuple):
    """A plan's chain: ``nnops.chain(steps, x, *params)`` if ``x`` has ``features`` and ``dtype``, else ``modules``
    one by one; ``arrays``: the parameters' arrays when the chain was planned."""

    op: str  # (_CHAIN)
    steps: tuple
    params: tuple
    features: int
    dtype: np.dtype
    modules: tuple
    arrays: list
_data_of = operator.attrgetter("_data")


def _class_forwards() -> tuple:
    return Linear.forward, Tanh.forward, Sigmoid.forward, ReLU.forward, MaxPool1d.forward, MaxPool2d.forward


_FORWARDS = _class_forwards()  # a layer class given another forward makes a plan stale


def _forward_chained(modules, x: Tensor, segments: list) -> Tensor:
    """``Sequential.forward`` with each run of chainable layers recorded as one node (:func:`nnops.chain`).

    A chain starts at a ``Linear`` whose input passes ``F.linear``'s checks (else the layer runs on its own
    and raises its usual error) and goes on through ``Linear`` layers that fit and plain activations. A layer
    with hooks or another ``forward`` runs on its own, and so does a ``Linear`` with a parameter already in the
    chain (the layer itself used again, or a shared weight: the engine then adds the gradients in the unfused
    order). A plain ``ReLU`` outside a chain followed by a plain max pooling runs inside it, as one node
    (``ops.conv.ReLUMaxPool``). What ran is appended to ``segments`` (see :func:`_run_plan`). ``modules`` is
    read as the layers run, as PyTorch's loop over the children: a child replaced by a hook of an earlier one
    runs, one added or removed raises.
    """
    pending, steps, params = [], [], []  # the chain so far: its modules, (op, start, stop) steps, parameters
    features = dtype = in_features = None  # the chain's current output (last dim, dtype), its input's last dim
    relu = None  # a ReLU outside a chain, held back in case a max pooling follows: they then run as one node
    for i, m in enumerate(modules, 1):
        kind = type(m)
        op, forward = _CHAINABLE.get(kind, _NOT_CHAINABLE)
        plain = (forward is kind.forward and "forward" not in m.__dict__  # a chainable layer, no hooks
                 and not (m._forward_pre_hooks or m._forward_hooks or m._backward_hooks))
        if relu is not None:  # a plain max pooling takes the held ReLU in; anything else runs after it
            if _takes_relu(m):
                x, relu = _relu_max_pool(m, x), None
                segments.append((_RELU_POOL, m))
                continue
            segments.append((_CALL, relu))
            x, relu = relu(x), None
        if plain and kind is Linear:
            w, b = m._parameters["weight"], m._parameters["bias"]
            if not pending:
                data = x._data
                features, dtype = data.shape[-1] if data.ndim else None, data.dtype
                in_features = features
            wd = getattr(w, "_data", None)  # (None: a weight set to None, which Linear.forward reports)
            if (wd is not None and wd.ndim == 2 and wd.shape[1] == features and wd.dtype is dtype and dtype in _FLOATS
                    and (b is None or (b._data.shape == wd.shape[:1] and b._data.dtype is dtype))
                    and not any(map(is_, params, repeat(w))) and (b is None or not any(map(is_, params, repeat(b))))):
                pending.append(m)
                steps.append((op, len(params), len(params) + 2))
                params += (w, b)
                features = wd.shape[0]
                continue
        elif plain and kind is not Linear and not (kind is ReLU and m.inplace):
            if pending:
                pending.append(m)
                steps.append((op, len(params), len(params)))
                continue
            if kind is ReLU:
                relu = m
                continue
        if pending:
            x = _run_pending(pending, steps, params, x, in_features, dtype, segments)
            pending, steps, params = [], [], []
        x = m(x)
        segments.append((_ANY, m, i))  # (i: the position of the next child)
    if relu is not None:
        segments.append((_CALL, relu))
        return relu(x)
    return _run_pending(pending, steps, params, x, in_features, dtype, segments) if pending else x


def _takes_relu(m: Module) -> bool:
    """Whether ``m`` is a max pooling without hooks, another ``forward`` or ``return_indices``."""
    forward = _POOLS.get(type(m), _NOT_CHAINABLE)[1]
    return (forward is type(m).forward and "forward" not in m.__dict__ and not m.return_indices
            and not (m._forward_pre_hooks or m._forward_hooks or m._backward_hooks))


def _relu_max_pool(m: Module, x: Tensor) -> Tensor:
    """``m(relu(x))`` for a max pooling ``m`` as one node (:class:`ops.conv.ReLUMaxPool`)."""
    nd = _POOLS[type(m)][0]
    return _conv._max_pool(f"max_pool{nd}d", nd, x, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode,
                           False, relu=True)


def _run_pending(pending: list, steps: list, params: list, x, features: int, dtype, segments: list):
    if len(pending) == 1:  # one layer: no chain to gain from
        segments.append((_CALL, pending[0]))
        return pending[0](x)
    # (with the arrays the layers were checked with: a later hook may change them before the plan is kept)
    segments.append(_ChainSegment(_CHAIN, tuple(steps), tuple(params), features, dtype, tuple(pending),
                                  [p._data for p in params if p is not None]))
    return nnops.chain(tuple(steps), x, *params)


def _run_plan(plan: _Plan, x: Tensor, seq: Sequential) -> Tensor:
    """Run what :func:`_forward_chained` decided before; a chain whose input no longer fits (another input
    size or dtype) runs layer by layer, which gives the layers' own errors. A module that changed a module
    (a hook, say) makes the rest run as planned anew, from ``seq``'s children as they are then."""
    for segment in plan.segments:
        op = segment[0]
        if op is _CHAIN:
            _, steps, params, features, dtype, modules, _ = segment
            data = x._data
            if data.ndim and data.shape[-1] == features and data.dtype is dtype:
                x = nnops.chain(steps, x, *params)
            else:
                for m in modules:
                    x = m(x)
        elif op is _ANY:
            x = segment[1](x)
            if _module.structure_version != plan.version:
                if len(seq._modules) != len(plan.modules):  # (as PyTorch's loop over the children)
                    raise RuntimeError("dictionary changed size during iteration")
                return _forward_chained(islice(seq._modules.values(), segment[2], None), x, [])
        elif op is _CALL:
            x = segment[1](x)
        else:
            x = _relu_max_pool(segment[1], x)
    return x


class _Plan:
    """What :func:`_forward_chained` decided for one ``Sequential``, kept while nothing it depends on changed.

    Planning tests every layer (its type, hooks, ``forward``, parameter shapes): a seventh of the Python of an
    MLP's training step when it ran on every call. The plan instead checks, all in C, that no module changed
    (``module.structure_version``: any attribute, registry or hook), that the children are the same objects,
    that each chained parameter is still the registered one and holds the same array (so the same shape and
    dtype), and that no layer class got another ``forward``. It holds those arrays until the next call.
    What it checks against is what the planning call saw when it decided (``version`` from before that call,
    the chained parameters and arrays as they were chained), so a hook that changes a layer later in that
    call makes the next call plan again.
    """

    __slots__ = ("version", "modules", "registries", "names", "params", "tensors", "arrays", "segments")

    def __init__(self, version: int, modules: list, segments: list):
        self.version, self.modules, self.segments = version, modules, segments
        chains = [seg for seg in segments if seg[0] is _CHAIN]
        chained = [(m, name) for seg in chains for m in seg.modules if type(m) is Linear for name in ("weight", "bias")]
        self.registries = [m._parameters for m, _ in chained]
        self.names = [name for _, name in chained]
        self.params = [p for seg in chains for p in seg.params]  # (in the order of ``chained``)
        self.tensors = [p for p in self.params if p is not None]
        self.arrays = [a for seg in chains for a in seg.arrays]

    def fits(self, modules: list) -> bool:
        return (self.version == _module.structure_version and self.modules == modules
                and _class_forwards() == _FORWARDS
                and all(map(is_, map(getitem, self.registries, self.names), self.params))
                and all(map(is_, map(_data_of, self.tensors), self.arrays)))


def _sequential(other):
    if not isinstance(other, Sequential):
        raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
    return other


def _factor(n) -> int:
    if not isinstance(n, int):
        raise TypeError(f"unsupported operand type(s) for *: 'Sequential' and '{type(n).__name__}'")
    if n <= 0:
        raise ValueError(f"Non-positive multiplication factor {n} for Sequential")
    return n


class Sequential(Module):
    """Apply modules one after the other: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 2))``.

    Children are named ``"0"``, ``"1"``, ...; pass an ``OrderedDict`` to name them yourself. Supports
    ``len``, iteration, indexing (a slice gives a new Sequential of the same modules) and ``append``.

    A run of ``Linear`` layers and ``Tanh``/``Sigmoid``/``ReLU`` activations that starts with a ``Linear``
    is recorded as one graph node (``ChainBackward``) that runs the layers' own forward and backward
    rules: the same numbers, with less Python per layer. A ``ReLU`` followed by ``MaxPool1d``/``MaxPool2d``
    is one node too (``ReLUMaxPoolBackward``): without padding it pools first and applies ReLU to the pooled
    values only, the same numbers again. A layer with hooks or a replaced ``forward``, a subclass,
    ``ReLU(inplace=True)``, pooling with ``return_indices`` and anything else runs on its own, and under
    ``detect_anomaly()`` every layer does. The first call decides, later calls reuse the decision until a
    module, parameter or hook changes.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        if type(input) is Tensor and not _State.anomaly:
            modules, plan = list(self._modules.values()), self.__dict__.get("_plan")
            if plan is not None and plan.fits(modules):
                return _run_plan(plan, input, self)
            segments, version = [], _module.structure_version
            out = _forward_chained(self._modules.values(), input, segments)
            self.__dict__["_plan"] = _Plan(version, modules, segments)  # (not __setattr__: no module changed)
            return out
        for module in self._modules.values():
            input = module(input)
        return input

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index(idx, len(self), "Sequential")]

    def __setitem__(self, idx, module: Module) -> None:
        key = list(self._modules)[_index(idx, len(self), "Sequential")]
        setattr(self, key, module)

    def __delitem__(self, idx) -> None:
        keys = list(self._modules)
        for key in keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(self), "Sequential")]]:
            delattr(self, key)
        # renumber the children 0, 1, 2, ..., named ones too, as PyTorch does
        modules = list(self._modules.values())
        self._modules.clear()
        for i, module in enumerate(modules):
            self._modules[str(i)] = module

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for module in modules:
            self.append(module)
        return self

    def pop(self, key):
        """Remove and return the module at ``key`` (a slice gives a Sequential)."""
        v = self[key]
        del self[key]
        return v

    def __add__(self, other) -> Sequential:
        return Sequential(*self, *_sequential(other))

    def __iadd__(self, other) -> Sequential:
        return self.extend(_sequential(other))

    def __mul__(self, n: int) -> Sequential:
        """``seq * n``: a Sequential of the same modules repeated ``n`` times (shared, not copied)."""
        return Sequential(*(list(self) * _factor(n)))

    __rmul__ = __mul__

    def __imul__(self, n: int) -> Sequential:
        return self.extend(list(self) * (_factor(n) - 1))

    def insert(self, index: int, module: Module) -> Sequential:
        """Insert ``module`` before position ``index``."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.insert: expected a Module, got {type(module).__name__}")
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for {n} modules")
        modules = list(self._modules.values())
        modules.insert(index if index >= 0 else index + n, module)
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain Python list would hide them).

    Supports indexing, slicing (a new ModuleList), ``len``, iteration, ``append``, ``extend``, ``insert``.
    It has no ``forward``: iterate over it in your own.
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self), "ModuleList"))]

    def __setitem__(self, idx, module: Module) -> None:
        self.add_module(str(_index(idx, len(self), "ModuleList")), module)

    def __delitem__(self, idx) -> None:
        modules = list(self._modules.values())
        if isinstance(idx, slice):
            del modules[idx]
        else:
            del modules[_index(idx, len(self), "ModuleList")]
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m

    def pop(self, key):
        """Remove and return the module at ``key`` (a slice gives a ModuleList)."""
        v = self[key]
        del self[key]
        return v

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList(list(self) + list(other))

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if not isinstance(modules, Iterable) or isinstance(modules, Module) and not isinstance(modules, ModuleList):
            raise TypeError(f"ModuleList.extend should be called with an iterable of modules, got "
                            f"{type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before position ``index``."""
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def __repr__(self) -> str:
        """Like PyTorch: runs of identical modules are shown once, as ``(0-2): 3 x Linear(...)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return "ModuleList()"
        blocks = []  # [start, end, repr]
        for i, r in enumerate(reprs):
            if blocks and blocks[-1][2] == r:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, r])
        lines = []
        for start, end, r in blocks:
            label = f"({start}): {r}" if start == end else f"({start}-{end}): {end - start + 1} x {r}"
            lines.append(_addindent(label, 2))
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules whose parameters are registered; keeps insertion order.

    Supports ``d[key]``, ``d[key] = m``, ``del d[key]``, ``in``, ``len``, iteration over keys, ``keys()``,
    ``values()``, ``items()``, ``update``, ``pop`` and ``clear``.
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        if key not in self._modules:
            raise KeyError(f"ModuleDict has no key {key!r}; keys: {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        module = self[key]
        del self[key]
        return module

    def update(self, modules) -> None:
        """Add the modules of a mapping, or of an iterable of ``(key, module)`` pairs."""
        pairs = modules.items() if isinstance(modules, Mapping | ModuleDict) else modules
        for i, item in enumerate(pairs):
            if not isinstance(item, Iterable):
                raise TypeError(f"ModuleDict update sequence element #{i} should be an iterable (key, module) pair, "
                                f"got {type(item).__name__}")
            item = tuple(item)
            if len(item) != 2:
                raise ValueError(f"ModuleDict update sequence element #{i} has length {len(item)}; 2 is required")
            self[item[0]] = item[1]
