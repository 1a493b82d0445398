"""``Module``: the base class of every layer and model.

A Module keeps three ordered registries, filled automatically by attribute assignment:

* ``_parameters``: ``self.weight = Parameter(...)`` (trainable tensors);
* ``_buffers``: ``self.register_buffer("running_mean", t)`` (state that is saved but not trained);
* ``_modules``: ``self.fc = Linear(...)`` (sub-modules, which have their own registries).

Everything else walks that tree: ``parameters()``, ``state_dict()`` (dotted keys such as
``"fc.weight"``, the same as PyTorch's), ``train()``/``eval()``, ``to(dtype)``, ``apply(fn)`` and the
``repr``. Calling a module runs its hooks around ``forward``.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..device import check_device, device
from ..tensor import Tensor
from . import hooks as _hooks
from .parameter import Parameter

# Counts changes to any module's attributes, registries and hooks (not to parameter values): a cache that
# depends on how modules are put together (``Sequential``'s plan of fused layers) is valid while it stays.
structure_version = 0


def _structure_changed() -> None:
    global structure_version
    structure_version += 1


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict(..., strict=False)`` returns."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


def _addindent(text: str, spaces: int) -> str:
    """Indent every line of ``text`` but the first (PyTorch's repr layout)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _as_array(value, key: str) -> np.ndarray:
    """A state-dict value (Tensor, ndarray, number or anything with ``__array__``) as an ndarray."""
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a PyTorch tensor
        value = value.detach().numpy()
    try:
        arr = np.asarray(value)
    except Exception as e:
        raise TypeError(f"load_state_dict: the value for '{key}' is a {type(value).__name__}, expected a "
                        "Tensor or a NumPy array") from e
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"load_state_dict: the value for '{key}' has dtype {arr.dtype}, expected a numeric "
                        "Tensor or array")
    return arr


def _parse_to(args, kwargs):
    """``(device, dtype)`` from the arguments of ``Module.to`` (a device, a dtype and/or a Tensor)."""
    dev, dtype = kwargs.get("device"), kwargs.get("dtype")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, device) or (isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda", "mps", "meta")):
            dev = a
        else:
            dtype = a
    if dtype is not None:
        try:
            dtype = np.dtype(getattr(dtype, "np", dtype))
        except TypeError:
            raise TypeError(f"Module.to: expected a device or a dtype, got {dtype!r}") from None
        if dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
    return dev, dtype


class Module:
    """Base class for all layers and models: subclass it, assign layers and parameters in
    ``__init__``, and write ``forward``.

    Examples:
        >>> class Net(tinygradnn.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = tinygradnn.nn.Linear(4, 2)
        ...     def forward(self, x):
        ...         return self.fc(x).relu()
        >>> [name for name, _ in Net().named_parameters()]
        ['fc.weight', 'fc.bias']
    """

    training: bool
    _optional_state: tuple = ()  # state_dict entries a checkpoint may lack (the module keeps its own)

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"Module.__init__() got unexpected arguments {args} {kwargs}")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers"] = set()
        d["_modules"] = {}
        d["_forward_pre_hooks"] = {}
        d["_forward_hooks"] = {}
        d["_backward_hooks"] = {}

    # ----------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        backward_call = None
        if self._backward_hooks and is_grad_enabled():
            backward_call = _hooks.BackwardHookCall(self, args)
            args = backward_call.wrap_inputs(args)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        if backward_call is not None:
            backward_call.attach(out)
        return out

    def register_forward_pre_hook(self, hook) -> _hooks.RemovableHandle:
        """Call ``hook(module, args)`` before ``forward``; a non-None result replaces ``args``."""
        return _hooks.add_hook(self._forward_pre_hooks, hook, _structure_changed)

    def register_forward_hook(self, hook) -> _hooks.RemovableHandle:
        """Call ``hook(module, args, output)`` after ``forward``; a non-None result replaces the output."""
        return _hooks.add_hook(self._forward_hooks, hook, _structure_changed)

    def register_full_backward_hook(self, hook) -> _hooks.RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` during backward (tuples of Tensors or None).

        A non-None result replaces ``grad_input``. An input without a gradient gets zeros, a non-Tensor None.
        """
        return _hooks.add_hook(self._backward_hooks, hook, _structure_changed)

    # ----------------------------------------------------------------- registration
    def _check_name(self, name, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot register a {kind} before Module.__init__() is called; call "
                                 "super().__init__() first in your module's __init__")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain \".\", got {name!r}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` (a Parameter, or None for an optional one that is absent) under ``name``."""
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"cannot assign non-leaf Tensor to parameter '{name}'; wrap a detached tensor: "
                             "Parameter(t.detach())")
        self._parameters[name] = param
        _structure_changed()

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: module state that is not trained (e.g. BatchNorm's ``running_mean``).

        Persistent buffers are part of ``state_dict()``.
        """
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(Tensor or None required)")
        self._buffers[name] = tensor
        _structure_changed()
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (same as ``setattr(self, name, module)``)."""
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module
        _structure_changed()

    register_module = add_module

    def _forget(self, name: str, keep: dict) -> None:
        """Drop ``name`` from everywhere but the registry ``keep`` (a replacement there keeps its place)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __setattr__(self, name: str, value) -> None:
        _structure_changed()
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call; call "
                                     "super().__init__() first in your module's __init__")
            self._forget(name, params)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call; call "
                                     "super().__init__() first in your module's __init__")
            self._forget(name, self._modules)
            self._modules[name] = value
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(nn.Module or None expected)")
            d["_modules"][name] = None
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # only called when normal lookup fails: look in the registries
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            reg = d.get(registry)
            if reg is not None and name in reg:
                return reg[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        _structure_changed()
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    # ----------------------------------------------------------------- walking the tree
    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True):
        """Yield ``(dotted_name, module)`` for this module (name ``prefix``) and every descendant, depth first."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:  # an explicit stack: deep models need no recursion
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            yield name, module
            children = [(f"{name}.{key}" if name else key, child) for key, child in module._modules.items()
                        if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        """Yield this module and every descendant (each once), depth first."""
        seen, stack = set(), [self]
        while stack:  # like named_modules, without building the names
            module = stack.pop()
            if id(module) not in seen:
                seen.add(id(module))
                yield module
                stack.extend(reversed([c for c in module._modules.values() if c is not None]))

    def named_children(self):
        """Yield ``(name, module)`` for the direct children."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        """Yield the direct children."""
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool = True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in mod.__dict__[registry].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """Yield ``(dotted_name, parameter)``; a parameter shared by two layers is yielded once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        """Yield every parameter once (what an optimizer needs: ``SGD(model.parameters(), lr=0.1)``)."""
        seen = set()
        for module in self.modules() if recurse else [self]:
            for p in module._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """Yield ``(dotted_name, buffer)``."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        """Yield every buffer."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The descendant at dotted path ``target`` (``""`` is self)."""
        mod = self
        for part in target.split(".") if target else []:
            if not isinstance(mod._modules.get(part), Module):
                raise AttributeError(f"{type(mod).__name__} has no submodule '{part}' (looking up '{target}')")
            mod = mod._modules[part]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target`` (e.g. ``"0.weight"``)."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if name not in mod._parameters or mod._parameters[name] is None:
            raise AttributeError(f"{type(mod).__name__} has no parameter '{name}' (looking up '{target}')")
        return mod._parameters[name]

    def get_buffer(self, target: str):
        """The buffer at dotted path ``target`` (e.g. ``"0.running_mean"``)."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(f"{type(mod).__name__} has no attribute '{name}' (looking up '{target}')")
        if name not in mod._buffers:
            raise AttributeError(f"'{name}' is not a buffer (looking up '{target}')")
        return getattr(mod, name)

    def apply(self, fn) -> Module:
        """Call ``fn(m)`` on every descendant, then on self (e.g. custom initialisation); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------- modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) here and below; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be a bool, got {mode!r}")
        self.training = mode
        for child in self.children():
            child.train(mode)  # a child may override train() (e.g. to keep a frozen part in eval mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` of every parameter (freeze with ``False``); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (default), or to zeros in place.

        Gradients accumulate across ``backward()`` calls until you zero them.
        """
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.detach_()
                p.grad._data[...] = 0

    # ----------------------------------------------------------------- state dict
    def _state_entries(self, prefix: str = "", keep_vars: bool = True, out=None) -> OrderedDict:
        """Every parameter and persistent buffer, keyed by dotted name, in PyTorch's order."""
        out = OrderedDict() if out is None else out
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, child in self._modules.items():
            if child is not None:
                child._state_entries(prefix + name + ".", keep_vars, out)
        return out

    def state_dict(self, *, destination=None, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """An ordered dict ``{dotted_name: tensor}`` of parameters and persistent buffers.

        The tensors are detached but share memory with the module (as in PyTorch): copy them if you
        want a snapshot. Keys and layouts match PyTorch's, so weights can move between the two.
        """
        out = self._state_entries(prefix, keep_vars)
        if destination is not None:
            destination.update(out)
            return destination
        return out

    def load_state_dict(self, state_dict: Mapping, strict: bool = True, assign: bool = False) -> _IncompatibleKeys:
        """Copy parameters and buffers from ``state_dict`` (values: Tensors or arrays) into this module.

        Everything is checked before anything is copied. Shape mismatches always raise; missing or
        unexpected keys raise when ``strict`` (default), and are returned otherwise as
        ``(missing_keys, unexpected_keys)``. Values are copied in place (cast to the module's dtypes),
        so optimizers keep working; ``assign=True`` makes the module use the given arrays instead, with
        the checkpoint's dtypes (as PyTorch: a float64 checkpoint gives float64 parameters). Parameters
        stay the same ``Parameter`` objects with their ``requires_grad``; a gradient whose dtype no longer
        matches is dropped.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict-like state_dict, got {type(state_dict).__name__}")
        own = self._state_entries()
        optional = {f"{prefix}.{name}" if prefix else name
                    for prefix, module in self.named_modules() for name in module._optional_state}
        missing = [k for k in own if k not in state_dict and k not in optional]
        unexpected = [k for k in state_dict if k not in own]
        errors, arrays = [], {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            arr = _as_array(state_dict[key], key)
            if arr.shape == (1,) and target.ndim == 0:  # a 0-d entry from a PyTorch 0.3 checkpoint, as PyTorch
                arr = arr.reshape(())
            if arr.shape != target.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape {arr.shape} from checkpoint, "
                              f"the shape in current model is {target.shape}.")
            elif assign and target.requires_grad and arr.dtype.kind != "f":
                errors.append(f"cannot assign {key}: the checkpoint's value has dtype {arr.dtype}, and only floating "
                              "point tensors can require gradients (load without assign=True to cast it).")
            arrays[key] = arr
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        with no_grad():
            for key, arr in arrays.items():
                target = own[key]
                if assign:  # the checkpoint's array itself, dtype included (as PyTorch); target stays the object
                    arr = np.asarray(arr)  # (a NumPy scalar becomes a 0-d array)
                    if target.grad is not None and target.grad.dtype != arr.dtype:
                        target.grad = None  # a gradient of the old dtype no longer fits the parameter
                    target._data = arr
                elif type(target._data) is not np.ndarray:  # (a NumPy scalar cannot be written into)
                    target._data = np.array(arr, dtype=target.dtype)
                else:
                    np.copyto(target._data, arr, casting="unsafe")
                target._bump_version()
        return _IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- dtype and device
    def to(self, *args, **kwargs) -> Module:
        """Convert floating parameters and buffers to a dtype, in place (``to(tinygradnn.float64)``).

        Devices other than the CPU raise a clear error; ``to("cpu")`` does nothing. Returns self.
        """
        dev, dtype = _parse_to(args, kwargs)
        check_device(dev)
        if dtype is not None:
            for t in list(self.parameters()) + list(self.buffers()):
                if t._data.dtype.kind == "f" and t._data.dtype != dtype:
                    t._data = t._data.astype(dtype)
                    if t.grad is not None:
                        t.grad._data = t.grad._data.astype(dtype)
        return self

    def cpu(self) -> Module:
        """Nothing to move: everything lives on the CPU. Returns self."""
        return self

    def cuda(self, device=None) -> Module:
        check_device("cuda")
        return self  # pragma: no cover - check_device raises

    def float(self) -> Module:
        """Floating parameters and buffers to float32; returns self."""
        return self.to(np.float32)

    def double(self) -> Module:
        """Floating parameters and buffers to float64; returns self."""
        return self.to(np.float64)

    def half(self) -> Module:
        """Floating parameters and buffers to float16; returns self."""
        return self.to(np.float16)

    # ----------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """The text inside ``Name(...)`` in the repr; layers override it (e.g. ``in_features=4, ...``)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(child), 2) for name, child in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"

    def __dir__(self):
        keys = list(super().__dir__()) + list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(k for k in set(keys) if not k[0].isdigit())
