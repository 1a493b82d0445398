"""``save`` and ``load``: checkpoints as a plain ``.npz`` zip, never a pickle.

A checkpoint is any nesting of dicts, lists and tuples whose leaves are Tensors, NumPy arrays, NumPy
scalars, Python numbers, strings, bools or None, for example::

    tg.save({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3,
             "rng": tg.get_rng_state()}, "checkpoint.pt")
    ckpt = tg.load("checkpoint.pt")

The file is a zip (any name works) holding one ``.npy`` entry per array (``a0.npy``, ``a1.npy``, ...)
and one entry ``__structure__.npy``: a uint8 array of UTF-8 JSON describing the nesting, the types and
each array's dtype and shape. ``np.load(path)`` can open it too. Arrays are stored in their own byte
order and loaded in the machine's native order (a big-endian ``>f4`` array comes back as ``float32``).
An ``nn.Parameter`` comes back as a ``Parameter``, as in PyTorch. A Tensor saved more than once in one
checkpoint comes back as one object: its nodes carry the same ``"id"`` (readers that ignore the key
still get the right values, as separate Tensors sharing one array).

Several saves written one after another into one file object load in order: each ``load`` returns the
first checkpoint from the current position and leaves the file just after it (when it can seek).

Safety: loading never unpickles and never runs code. Every entry is checked before it is read
(stored uncompressed, sizes consistent with the real file size, a numeric dtype, a shape that matches
both the entry's size and the JSON); anything else raises a ``ValueError`` naming the file.

Writing is atomic: the data goes to a temporary file in the same directory, is flushed and fsync'ed,
then renamed over the target, so a crash mid-save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import secrets
import struct
import zipfile
from collections import OrderedDict

import numpy as np

from .nn.parameter import Parameter
from .tensor import Tensor

__all__ = ["save", "load"]

FORMAT_NAME = "tinygradnn.save"
FORMAT_VERSION = 1
STRUCTURE_ENTRY = "__structure__.npy"
MAX_DEPTH = 200  # nesting deeper than this is refused on save and load
_ARRAY_KINDS = "biufc"  # bool, signed/unsigned int, float, complex: no objects, no pickles
_ATOMS = (type(None), bool, int, float, str)


# ===================================================================== saving
def save(obj, f) -> None:
    """Save ``obj`` (nested dicts/lists/tuples of Tensors, arrays and plain values) to the path or file ``f``.

    Writing to a path is atomic; a file object (``io.BytesIO``, an open binary file) is written as is.
    Arrays and Tensors that share one NumPy array are stored once and share it again after ``load``;
    one Tensor saved twice (``{"a": t, "b": t}``) comes back as one object, as in PyTorch.

    Examples:
        >>> import io, numpy as np, tinygradnn as tg
        >>> buf = io.BytesIO()
        >>> tg.save({"w": tg.ones(2), "step": 3}, buf)
        >>> _ = buf.seek(0)
        >>> tg.load(buf)
        {'w': tensor([1., 1.]), 'step': 3}
    """
    arrays: dict[str, np.ndarray] = {}
    root = _Encoder(arrays).encode(obj, "obj", 0)
    structure = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "arrays": {name: {"dtype": a.dtype.str, "shape": list(a.shape)} for name, a in arrays.items()},
        "root": root,
    }
    text = json.dumps(structure, allow_nan=False, separators=(",", ":"))
    payload = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)

    if hasattr(f, "write"):
        _write_zip(f, payload, arrays)
        return
    path = os.fspath(f)
    if os.path.islink(path):  # replace the file the link points to, not the link itself
        path = os.path.realpath(path)
    _atomic_write(path, lambda fh: _write_zip(fh, payload, arrays))


class _Encoder:
    """Turns Python objects into JSON nodes; arrays go to ``arrays`` and are referenced by name.

    Nodes: JSON null/bool/int/str/finite float for those values, a JSON list for a list, and an object
    ``{"$": kind, ...}`` for everything else (dict, odict, tuple, tensor, ndarray, npscalar, float).
    """

    def __init__(self, arrays: dict):
        self.arrays = arrays
        self.names_by_id: dict[int, str] = {}
        self.tensor_nodes: dict[int, dict] = {}  # a Tensor met again reuses its node, given an "id"
        self.next_id = 0
        self.active: set[int] = set()  # containers being encoded: a second visit is a cycle

    def array_name(self, arr: np.ndarray, where: str) -> str:
        if arr.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(f"cannot save {where}: arrays of dtype {arr.dtype} are not supported (only bool, "
                            "integer, float and complex arrays can be saved without pickle)")
        if id(arr) not in self.names_by_id:
            name = f"a{len(self.arrays)}"
            self.names_by_id[id(arr)] = name
            self.arrays[name] = arr
        return self.names_by_id[id(arr)]

    def encode(self, obj, where: str, depth: int):
        if depth > MAX_DEPTH:
            raise ValueError(f"cannot save {where}: nesting deeper than {MAX_DEPTH} levels")
        if obj is None or isinstance(obj, bool | str):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"$": "float", "value": repr(float(obj))}
        if isinstance(obj, Tensor):
            node = self.tensor_nodes.get(id(obj))
            if node is not None:
                if "id" not in node:
                    node["id"], self.next_id = self.next_id, self.next_id + 1
                return node  # (the same dict twice in the JSON tree: written out twice)
            node = self.tensor_nodes[id(obj)] = {"$": "tensor", "array": self.array_name(obj._data, where)}
            if obj.requires_grad:
                node["requires_grad"] = True
            if isinstance(obj, Parameter):
                node["parameter"] = True
            return node
        if isinstance(obj, np.ndarray):
            return {"$": "ndarray", "array": self.array_name(obj, where)}
        if isinstance(obj, np.generic):
            return {"$": "npscalar", "array": self.array_name(np.asarray(obj), where)}
        if isinstance(obj, dict | list | tuple):
            if id(obj) in self.active:
                raise ValueError(f"cannot save {where}: it contains itself (a reference cycle)")
            self.active.add(id(obj))
            try:
                if isinstance(obj, list):
                    return [self.encode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(obj)]
                if isinstance(obj, tuple):
                    return {"$": "tuple", "items": [self.encode(v, f"{where}[{i}]", depth + 1)
                                                    for i, v in enumerate(obj)]}
                items = [[self.encode_key(k, where), self.encode(v, f"{where}[{k!r}]", depth + 1)]
                         for k, v in obj.items()]
                return {"$": "odict" if isinstance(obj, OrderedDict) else "dict", "items": items}
            finally:
                self.active.discard(id(obj))
        raise TypeError(f"cannot save {where}: objects of type {type(obj).__name__} are not supported; save "
                        "Tensors, NumPy arrays, numbers, strings, bools, None, and dicts/lists/tuples of them "
                        "(a module or optimizer: save its .state_dict())")

    def encode_key(self, key, where: str):
        if isinstance(key, _ATOMS) or isinstance(key, np.integer | np.floating | np.bool_):
            return self.encode(key, where, 0)
        if isinstance(key, tuple) and all(isinstance(k, _ATOMS) for k in key):
            return self.encode(key, where, 0)
        raise TypeError(f"cannot save {where}: dict key {key!r} of type {type(key).__name__} is not supported "
                        "(use str, int, float, bool, None or tuples of them)")


def _write_zip(fh, payload: np.ndarray, arrays: dict) -> None:
    with zipfile.ZipFile(fh, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in [(STRUCTURE_ENTRY, payload), *((f"{n}.npy", a) for n, a in arrays.items())]:
            with zf.open(name, mode="w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, arr, allow_pickle=False)


def _atomic_write(path: str, write) -> None:
    """Call ``write(file)`` on a temporary file next to ``path``, fsync it, then rename it over ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies, as for a normal file
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ===================================================================== loading
class _BadCheckpoint(Exception):
    """Raised inside ``load``; reported to the caller as a ValueError naming the file."""


# Everything a malformed zip, npy header or JSON can raise while being parsed.
_PARSE_ERRORS = (_BadCheckpoint, zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, KeyError, IndexError,
                 TypeError, EOFError, OSError, UnicodeDecodeError, RecursionError, OverflowError, MemoryError,
                 NotImplementedError, struct.error)


def load(f, weights_only: bool = True, map_location=None):
    """Load what :func:`save` wrote to the path or binary file object ``f``.

    Tensors come back as Tensors (Parameters as Parameters), arrays as arrays (in native byte order),
    tuples as tuples, and integer dict keys (optimizer state) as integers. A file object is read from its
    current position; if more than one checkpoint follows, the first is returned and the file is left
    just after it, so the next ``load`` reads the next one. The format can hold no code, so
    ``weights_only`` is always effectively True; ``map_location`` is accepted for PyTorch compatibility
    and ignored (everything lives on the CPU).

    Raises ``ValueError`` naming the file if it is not a valid checkpoint (truncated, corrupted, written
    by ``torch.save`` or pickle, or crafted), and ``FileNotFoundError`` if it does not exist.
    """
    if hasattr(f, "read"):
        name = str(getattr(f, "name", "<file object>"))
        source = f.read()
        if not isinstance(source, bytes | bytearray):
            raise TypeError(f"load: {name} must be opened in binary mode ('rb')")
    else:
        source = name = os.fsdecode(f)  # (a str path from str, bytes or pathlib paths)
        os.stat(name)  # FileNotFoundError for a missing file
    try:
        obj, end = _load(source)
    except _PARSE_ERRORS as e:
        if isinstance(e, FileNotFoundError | PermissionError | IsADirectoryError):
            raise
        reason = str(e) or type(e).__name__
        raise ValueError(f"cannot load {name!s}: not a valid tinygradnn checkpoint ({reason})") from e
    if not isinstance(source, str) and end < len(source):  # several saves in one stream: leave f after this one
        with contextlib.suppress(AttributeError, OSError, ValueError):
            f.seek(end - len(source), os.SEEK_CUR)
    return obj


def _load(source) -> tuple:
    """``(object, end)``: the first checkpoint in ``source`` (a path or bytes) and the offset just past it."""
    size = os.path.getsize(source) if isinstance(source, str) else len(source)
    while True:
        with open(source, "rb") if isinstance(source, str) else io.BytesIO(source) as fh:
            if fh.read(4) != b"PK\x03\x04":
                raise _BadCheckpoint("it is not a zip archive; tinygradnn.load reads only files written by "
                                     "tinygradnn.save")
            with zipfile.ZipFile(fh) as zf:
                infos = zf.infolist()
                start = min((info.header_offset for info in infos), default=0)
                if start <= 0:
                    return _read_archive(zf, _check_entries(infos, size)), size
        # A zip is found from its end (the central directory): after several saves into one stream this
        # is the last one, and the earlier saves fill the bytes before its entries. Look again in those.
        if start >= size:
            raise _BadCheckpoint(f"the zip entries start at byte {start}, past the end of the archive ({size})")
        if isinstance(source, str):
            with open(source, "rb") as fh:
                source = fh.read(start)
        source, size = source[:start], start


def _read_archive(zf: zipfile.ZipFile, infos: dict):
    if STRUCTURE_ENTRY not in infos:
        raise _BadCheckpoint(f"no {STRUCTURE_ENTRY} entry (a torch.save file or other zip cannot be read: "
                             "PyTorch checkpoints are pickles)")
    raw = _read_entry(zf, infos[STRUCTURE_ENTRY])
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise _BadCheckpoint(f"{STRUCTURE_ENTRY} must be a 1-D uint8 array, got {raw.dtype} {raw.shape}")
    structure = json.loads(raw.tobytes().decode("utf-8"))
    if not isinstance(structure, dict) or structure.get("format") != FORMAT_NAME:
        raise _BadCheckpoint("the structure entry is not a tinygradnn.save header")
    if structure.get("version") != FORMAT_VERSION:
        raise _BadCheckpoint(f"format version {structure.get('version')!r} is not supported (expected "
                             f"{FORMAT_VERSION}); upgrade tinygradnn")
    metas = structure.get("arrays")
    if not isinstance(metas, dict):
        raise _BadCheckpoint("the structure entry has no 'arrays' table")
    expected = {f"{n}.npy" for n in metas} | {STRUCTURE_ENTRY}
    if set(infos) != expected:
        extra, missing = sorted(set(infos) - expected), sorted(expected - set(infos))
        raise _BadCheckpoint(f"zip entries do not match the structure (unexpected {extra}, missing {missing})")
    arrays = {}
    for array_name, meta in metas.items():
        arr = _read_entry(zf, infos[f"{array_name}.npy"])
        # the .npy header must declare exactly what the structure does, byte order included ('>f4' is
        # saved as it is); only then is the array converted to native byte order
        if not isinstance(meta, dict) or meta.get("dtype") != arr.dtype.str or \
                meta.get("shape") != list(arr.shape):
            raise _BadCheckpoint(f"array {array_name} is {arr.dtype.str} {list(arr.shape)} but the structure "
                                 f"declares {meta!r}")
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        arrays[array_name] = arr
    return _Decoder(arrays).decode(structure.get("root"), 0)


def _check_entries(infos: list, size: int) -> dict:
    """Validate the zip directory before reading anything: no compression, sizes that fit in the file."""
    by_name = {}
    total = 0
    for info in infos:
        if info.filename in by_name:
            raise _BadCheckpoint(f"duplicate zip entry {info.filename!r}")
        if info.flag_bits & 0x1:
            raise _BadCheckpoint(f"zip entry {info.filename!r} is encrypted")
        if info.compress_type != zipfile.ZIP_STORED:
            raise _BadCheckpoint(f"zip entry {info.filename!r} is compressed (method {info.compress_type}); "
                                 "tinygradnn.save stores entries uncompressed")
        if info.file_size != info.compress_size or info.file_size > size or \
                info.header_offset + info.compress_size > size:
            raise _BadCheckpoint(f"zip entry {info.filename!r} declares {info.file_size} bytes, more than the "
                                 f"{size}-byte file can hold")
        total += info.file_size
        by_name[info.filename] = info
    if total > size:
        raise _BadCheckpoint(f"zip entries declare {total} bytes in total, more than the {size}-byte file")
    return by_name


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """Read one ``.npy`` entry after checking that its header describes exactly the bytes it holds."""
    with zf.open(info) as fp:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise _BadCheckpoint(f"entry {info.filename!r}: unsupported .npy version {version}")
        header_size = fp.tell()
    if dtype.hasobject or dtype.kind not in _ARRAY_KINDS or dtype.fields is not None:
        raise _BadCheckpoint(f"entry {info.filename!r} holds dtype {dtype}; only numeric arrays are loaded (object "
                             "arrays would need pickle)")
    data_size = math.prod(shape) * dtype.itemsize
    if header_size + data_size != info.file_size:
        raise _BadCheckpoint(f"entry {info.filename!r}: header declares shape {shape} of {dtype} ({data_size} bytes) "
                             f"but the entry holds {info.file_size - header_size} bytes of data")
    with zf.open(info) as fp:  # read_array also checks the CRC once the last byte is read
        return np.lib.format.read_array(fp, allow_pickle=False)


class _Decoder:
    """Rebuilds Python objects from JSON nodes, refusing anything that :class:`_Encoder` cannot produce."""

    def __init__(self, arrays: dict):
        self.arrays = arrays
        self.tensors: dict[int, tuple[dict, Tensor]] = {}  # by node "id": one object per saved Tensor

    def array(self, node: dict) -> np.ndarray:
        name = node.get("array")
        if not isinstance(name, str) or name not in self.arrays:
            raise _BadCheckpoint(f"the structure refers to a missing array {name!r}")
        return self.arrays[name]

    def decode(self, node, depth: int):
        if depth > MAX_DEPTH:
            raise _BadCheckpoint(f"nesting deeper than {MAX_DEPTH} levels")
        if node is None or isinstance(node, bool | int | str):
            return node
        if isinstance(node, float):
            return node
        if isinstance(node, list):
            return [self.decode(v, depth + 1) for v in node]
        if not isinstance(node, dict):
            raise _BadCheckpoint(f"unexpected JSON value of type {type(node).__name__}")
        kind = node.get("$")
        if kind == "tensor":
            ref = node.get("id")
            if ref is not None:
                if type(ref) is not int:
                    raise _BadCheckpoint(f"bad tensor id {ref!r}")
                if ref in self.tensors:
                    if self.tensors[ref][0] != node:
                        raise _BadCheckpoint(f"tensor id {ref} names two different tensors")
                    return self.tensors[ref][1]
                self.tensors[ref] = (node, self.tensor(node))
                return self.tensors[ref][1]
            return self.tensor(node)
        if kind == "ndarray":
            return self.array(node)
        if kind == "npscalar":
            arr = self.array(node)
            if arr.ndim != 0:
                raise _BadCheckpoint(f"a NumPy scalar must be a 0-d array, got shape {arr.shape}")
            return arr[()]
        if kind == "float":
            value = node.get("value")
            if value not in ("inf", "-inf", "nan"):
                raise _BadCheckpoint(f"bad special float {value!r}")
            return float(value)
        if kind == "tuple":
            return tuple(self.decode(v, depth + 1) for v in self.items(node))
        if kind in ("dict", "odict"):
            out = OrderedDict() if kind == "odict" else {}
            for pair in self.items(node):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise _BadCheckpoint("a dict item must be a [key, value] pair")
                key = self.decode(pair[0], depth + 1)
                if isinstance(key, list | dict | np.ndarray | Tensor) or \
                        (isinstance(key, tuple) and not all(isinstance(k, _ATOMS) for k in key)):
                    raise _BadCheckpoint(f"unsupported dict key of type {type(key).__name__}")
                out[key] = self.decode(pair[1], depth + 1)
            return out
        raise _BadCheckpoint(f"unknown node kind {kind!r}")

    def tensor(self, node: dict) -> Tensor:
        arr = self.array(node)
        requires_grad = node.get("requires_grad") is True
        if requires_grad and arr.dtype.kind != "f":
            raise _BadCheckpoint(f"a tensor of dtype {arr.dtype} cannot require gradients")
        if node.get("parameter") is True:  # saved as an nn.Parameter: comes back as one, as in PyTorch
            return Parameter(Tensor._wrap(arr), requires_grad=requires_grad)  # (shares arr)
        t = Tensor._wrap(arr)
        if requires_grad:
            t.requires_grad = True
        return t

    @staticmethod
    def items(node: dict) -> list:
        items = node.get("items")
        if not isinstance(items, list):
            raise _BadCheckpoint(f"a {node.get('$')} node needs a list of items")
        return items
