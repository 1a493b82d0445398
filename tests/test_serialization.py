"""tinygradnn.save / tinygradnn.load: round trips, atomic writes, and hostile or damaged files."""

import io
import json
import math
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import time
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygradnn as tg
from tinygradnn import optim
from tinygradnn.serialization import STRUCTURE_ENTRY

REPO = Path(__file__).resolve().parents[1]


def roundtrip(obj):
    buf = io.BytesIO()
    tg.save(obj, buf)
    buf.seek(0)
    return tg.load(buf)


def assert_same(a, b):
    """Equal values *and* equal types, recursively (tuples stay tuples, Tensors stay Tensors, ...)."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, tg.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, np.ndarray | np.generic):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert type(k) is type(next(kb for kb in b if kb == k))
            assert_same(a[k], b[k])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


# ===================================================================== round trips
def test_round_trip_of_nested_values_keeps_types_dtypes_and_shapes():
    rng = np.random.default_rng(0)
    obj = {
        "f32": tg.tensor(rng.standard_normal((3, 4)).astype(np.float32)),
        "f64": tg.tensor(rng.standard_normal(5)),
        "i64": tg.arange(6).reshape(2, 3),
        "bool": tg.tensor([True, False]),
        "scalar_tensor": tg.tensor(2.5),
        "empty": tg.zeros(0, 3),
        "param": tg.ones(2, requires_grad=True),
        "arrays": [np.arange(4, dtype=np.uint8), np.ones((2, 2), dtype=np.float16), np.array([1 + 2j]),
                   np.arange(6.0).reshape(2, 3).T, np.asfortranarray(np.arange(6).reshape(2, 3)),
                   np.array(7, dtype=np.int32)],
        "np_scalars": (np.float32(1.5), np.int64(-3), np.bool_(True)),
        "numbers": (0, -1, 2**100, 1.0, 1e-300, float("inf"), -math.inf, float("nan"), True, None),
        "text": ["", "héllo ✓", "a\nb\"c"],
        3: "int key",
        (1, "a"): "tuple key",
        1.5: "float key",
        "nested": OrderedDict(b=[{"c": ()}], a=[[[]]]),
    }
    back = roundtrip(obj)
    assert_same(obj, back)
    assert isinstance(back["nested"], OrderedDict)
    assert back["arrays"][3].flags.c_contiguous or back["arrays"][3].flags.f_contiguous


def test_any_file_name_pathlib_and_numpy_can_read_it(tmp_path):
    obj = {"w": tg.ones(3), "epoch": 3}
    for name in ["model.pt", "ckpt", "weights.npz"]:
        tg.save(obj, tmp_path / name)
        assert_same(tg.load(tmp_path / name), obj)
        assert_same(tg.load(str(tmp_path / name)), obj)
        with open(tmp_path / name, "rb") as fh:
            assert_same(tg.load(fh), obj)
    with np.load(tmp_path / "model.pt", allow_pickle=False) as npz:  # a plain .npz underneath
        assert STRUCTURE_ENTRY[:-4] in npz.files
        np.testing.assert_array_equal(npz["a0"], np.ones(3, np.float32))


def test_shared_arrays_are_stored_once_and_stay_shared():
    w = tg.randn(100, 100)
    back = roundtrip({"a": w, "b": w, "c": w.detach()})
    assert np.shares_memory(back["a"].numpy(), back["b"].numpy())
    assert np.shares_memory(back["a"].numpy(), back["c"].numpy())
    buf = io.BytesIO()
    tg.save([w] * 10, buf)
    assert len(buf.getvalue()) < 2 * w.numpy().nbytes


def test_one_saved_tensor_loads_as_one_object_as_torch():
    t, p = tg.ones(3, requires_grad=True), tg.nn.Parameter(tg.zeros(2))
    q = tg.nn.Parameter(p)  # another Parameter over the same array
    back = roundtrip({"a": t, "b": t, "l": [t, t], "t": (p, p), "p": p, "q": q})
    assert back["a"] is back["b"] is back["l"][0] is back["l"][1] and back["a"].requires_grad
    assert back["t"][0] is back["t"][1] is back["p"] and type(back["p"]) is tg.nn.Parameter
    assert back["q"] is not back["p"] and back["q"].detach().numpy() is back["p"].detach().numpy()
    lone = roundtrip({"x": t, "y": tg.ones(3)})
    assert lone["x"] is not lone["y"]


def test_checkpoint_of_model_optimizer_scheduler_and_rng(tmp_path):
    params = [tg.randn(3, 2, requires_grad=True), tg.zeros(2, requires_grad=True)]
    opt = optim.Adam(params, lr=0.1, amsgrad=True)
    scheduler = optim.lr_scheduler.MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    for _ in range(3):
        for p in params:
            p.grad = tg.ones(*p.shape)
        opt.step()
        scheduler.step()
    model_state = OrderedDict([("layer.weight", params[0].detach()), ("layer.bias", params[1].detach())])
    ckpt = {"model": model_state, "optim": opt.state_dict(), "sched": scheduler.state_dict(), "epoch": 3,
            "rng": tg.get_rng_state()}
    tg.save(ckpt, tmp_path / "ckpt.pt")
    back = tg.load(tmp_path / "ckpt.pt", weights_only=True, map_location="cpu")
    assert_same(ckpt, back)
    assert list(back["optim"]["state"]) == [0, 1]  # int keys come back as ints
    assert back["sched"]["milestones"] == {1: 1, 3: 1}
    expected = tg.randn(4).numpy().copy()
    tg.set_rng_state(back["rng"])
    np.testing.assert_array_equal(tg.randn(4).numpy(), expected)


def test_big_endian_arrays_round_trip_and_load_in_native_byte_order():
    big = np.arange(6, dtype=">f4").reshape(2, 3)
    obj = {"t": tg.tensor(big), "a": np.arange(3, dtype=">i8")}
    obj["again"] = obj["a"]
    back = roundtrip(obj)
    assert back["t"].dtype == np.float32 and back["t"].numpy().dtype.isnative
    np.testing.assert_array_equal(back["t"].numpy(), big)
    assert back["a"].dtype == np.int64 and back["a"].dtype.isnative
    np.testing.assert_array_equal(back["a"], [0, 1, 2])
    assert back["again"] is back["a"]  # still shared after the conversion
    # the .npy header must still declare the byte order the structure does
    data = write_zip({STRUCTURE_ENTRY: structure({"a0": {"dtype": ">f8", "shape": [2]}},
                                                 {"$": "ndarray", "array": "a0"}),
                      "a0.npy": npy(np.zeros(2, "<f8"))})
    with pytest.raises(ValueError, match="structure declares"):
        load_bytes(data)


def test_several_saves_into_one_stream_load_in_order(tmp_path):
    objs = [{"i": i, "w": tg.arange(i + 1.0)} for i in range(3)]
    buf = io.BytesIO()
    buf.write(b"header")  # a save need not start the stream
    ends = []
    for obj in objs:
        tg.save(obj, buf)
        ends.append(buf.tell())
    buf.seek(len(b"header"))
    for obj, end in zip(objs, ends):
        assert_same(tg.load(buf), obj)  # the first save, not the last; then the next one
        assert buf.tell() == end
    with pytest.raises(ValueError, match="not a zip archive"):
        tg.load(buf)  # nothing left
    path = tmp_path / "many.pt"
    path.write_bytes(buf.getvalue()[len(b"header"):])
    assert_same(tg.load(path), objs[0])
    with open(path, "rb") as fh:
        assert [tg.load(fh)["i"] for _ in objs] == [0, 1, 2]


def test_parameters_come_back_as_parameters():
    p, frozen = tg.nn.Parameter(tg.ones(2)), tg.nn.Parameter(tg.arange(3), requires_grad=False)
    back = roundtrip({"p": p, "frozen": frozen, "plain": tg.ones(2, requires_grad=True), "data": p.detach()})
    assert type(back["p"]) is tg.nn.Parameter and back["p"].requires_grad
    assert type(back["frozen"]) is tg.nn.Parameter and not back["frozen"].requires_grad
    assert back["frozen"].dtype == np.int64
    assert type(back["plain"]) is tg.Tensor and back["plain"].requires_grad
    assert type(back["data"]) is tg.Tensor and not back["data"].requires_grad
    assert np.shares_memory(back["p"].detach().numpy(), back["data"].numpy())  # one array, as saved
    model = tg.nn.Linear(2, 3)
    back = roundtrip(model.state_dict(keep_vars=True))
    assert all(type(v) is tg.nn.Parameter for v in back.values())


def test_unsupported_values_raise_before_touching_the_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    tg.save({"ok": 1}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"cannot save obj\['bad'\]\[1\]: objects of type object"):
        tg.save({"bad": [1, object()]}, path)
    with pytest.raises(TypeError, match="dtype object"):
        tg.save({"bad": np.array([1, "a"], dtype=object)}, path)
    with pytest.raises(TypeError, match="dict key"):
        tg.save({frozenset(): 1}, path)
    cycle = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="contains itself"):
        tg.save(cycle, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        tg.load("/nonexistent/dir/ckpt.pt")


# ===================================================================== atomic writes
def test_a_crash_mid_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    tg.save({"w": tg.ones(1000)}, path)
    calls = []
    real_write = np.lib.format.write_array

    def write_then_crash(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the structure went out; crash half-way through the first tensor
            fp.write(b"\0" * 100)
            raise OSError("disk on fire")
        return real_write(fp, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", write_then_crash)
    with pytest.raises(OSError, match="disk on fire"):
        tg.save({"w": tg.zeros(1000)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(tg.load(path)["w"].numpy(), np.ones(1000))
    assert os.listdir(tmp_path) == ["ckpt.pt"]  # the temporary file was removed


def test_killing_a_process_mid_save_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "big.pt"
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        sys.path.insert(0, {str(REPO)!r})
        import tinygradnn as tg
        big = np.empty(4_000_000, dtype=np.float64)  # 32 MB
        for i in range(1000):
            big.fill(i)
            tg.save({{"w": big, "i": i}}, {str(path)!r})
            print(i, flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "0"  # one complete save exists
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # wait until the next save is writing its temporary file
            if any(name.endswith(".tmp") for name in os.listdir(tmp_path)):
                break
            time.sleep(0.001)
    finally:
        proc.kill()
        proc.wait()
    ckpt = tg.load(path)
    assert np.all(ckpt["w"] == ckpt["i"])


# ===================================================================== damaged and hostile files
def valid_bytes():
    buf = io.BytesIO()
    tg.save({"w": tg.arange(12).reshape(3, 4).float(), "opt": {0: {"step": 2}}, "name": "net", "t": (1.5, None)}, buf)
    return buf.getvalue()


def load_bytes(data: bytes):
    return tg.load(io.BytesIO(data))


def write_zip(entries: dict, compression=zipfile.ZIP_STORED) -> bytes:
    """A zip of raw entries: {name: bytes}."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def npy(arr, allow_pickle=False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def structure(arrays: dict, root) -> bytes:
    text = json.dumps({"format": "tinygradnn.save", "version": 1, "arrays": arrays, "root": root})
    return npy(np.frombuffer(text.encode(), dtype=np.uint8))


def test_the_crafting_helpers_make_loadable_files():
    data = write_zip({STRUCTURE_ENTRY: structure({"a0": {"dtype": "<f8", "shape": [2]}},
                                                 {"$": "ndarray", "array": "a0"}),
                      "a0.npy": npy(np.array([1.0, 2.0]))})
    np.testing.assert_array_equal(load_bytes(data), [1.0, 2.0])


def test_every_truncation_is_a_clean_error():
    data = valid_bytes()
    for n in range(0, len(data), 3):
        with pytest.raises(ValueError, match="cannot load <file object>: not a valid tinygradnn checkpoint"):
            load_bytes(data[:n])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_bytes_load_or_raise_a_clean_error(data):
    raw = bytearray(valid_bytes())
    for _ in range(data.draw(st.integers(1, 4), label="flips")):
        pos = data.draw(st.integers(0, len(raw) - 1), label="position")
        raw[pos] = data.draw(st.integers(0, 255), label="byte")
    if data.draw(st.booleans(), label="truncate"):
        raw = raw[:data.draw(st.integers(0, len(raw)), label="length")]
    try:
        load_bytes(bytes(raw))
    except (ValueError, RuntimeError) as e:
        assert "<file object>" in str(e)


def test_error_names_the_file(tmp_path):
    path = tmp_path / "broken.pt"
    path.write_bytes(valid_bytes()[:-10])
    with pytest.raises(ValueError, match="broken.pt"):
        tg.load(path)


class Evil:
    """Unpickling this runs code: it would create the marker file."""

    marker = None

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def test_pickles_are_never_loaded(tmp_path):
    marker = tmp_path / "executed"
    Evil.marker = str(marker)
    payload = np.empty(1, dtype=object)
    payload[0] = Evil()
    # 1. an object array inside an otherwise valid checkpoint
    data = write_zip({STRUCTURE_ENTRY: structure({"a0": {"dtype": "|O", "shape": [1]}},
                                                 {"$": "ndarray", "array": "a0"}),
                      "a0.npy": npy(payload, allow_pickle=True)})
    with pytest.raises(ValueError, match="object"):
        load_bytes(data)
    # 2. a plain pickle file, and a raw pickle stored as the array entry
    with pytest.raises(ValueError, match="not a zip archive"):
        load_bytes(pickle.dumps({"w": Evil()}))
    data = write_zip({STRUCTURE_ENTRY: structure({"a0": {"dtype": "<f8", "shape": [1]}},
                                                 {"$": "ndarray", "array": "a0"}),
                      "a0.npy": pickle.dumps(Evil())})
    with pytest.raises(ValueError):
        load_bytes(data)
    # 3. the structure itself as a pickled object array
    with pytest.raises(ValueError, match="object"):
        load_bytes(write_zip({STRUCTURE_ENTRY: npy(payload, allow_pickle=True)}))
    assert not marker.exists()


@pytest.mark.torch
def test_a_torch_save_file_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"w": torch.ones(2)}, tmp_path / "torch.pt")
    with pytest.raises(ValueError, match=f"no {STRUCTURE_ENTRY} entry"):
        tg.load(tmp_path / "torch.pt")


def patch_central_directory_sizes(data: bytes, compressed: int, uncompressed: int) -> bytes:
    """Overwrite the sizes the central directory declares for the first entry (a non-zip64 archive)."""
    raw = bytearray(data)
    at = raw.index(b"PK\x01\x02")
    struct.pack_into("<II", raw, at + 20, compressed, uncompressed)
    return bytes(raw)


def test_an_entry_declaring_a_huge_size_is_refused_before_reading():
    data = write_zip({STRUCTURE_ENTRY: structure({}, None)})
    assert load_bytes(data) is None
    with pytest.raises(ValueError, match="declares 4000000000 bytes"):
        load_bytes(patch_central_directory_sizes(data, 4_000_000_000, 4_000_000_000))
    with pytest.raises(ValueError, match="declares"):
        load_bytes(patch_central_directory_sizes(data, 100, 4_000_000_000))


def test_an_npy_header_declaring_a_huge_shape_is_refused():
    header = npy(np.zeros(2))  # rewrite the shape in the header to (10**12,) without the data
    huge = header.replace(b"(2,)", b"(1000000000000,)")
    arrays = {"a0": {"dtype": "<f8", "shape": [10**12]}}
    data = write_zip({STRUCTURE_ENTRY: structure(arrays, {"$": "ndarray", "array": "a0"}), "a0.npy": huge})
    with pytest.raises(ValueError, match=r"header declares shape \(1000000000000,\)"):
        load_bytes(data)


def test_shapes_and_dtypes_must_match_the_structure():
    entries = {"a0.npy": npy(np.zeros((2, 3)))}
    for meta in [{"dtype": "<f8", "shape": [3, 2]}, {"dtype": "<f4", "shape": [2, 3]}, "nonsense"]:
        data = write_zip({STRUCTURE_ENTRY: structure({"a0": meta}, {"$": "ndarray", "array": "a0"}), **entries})
        with pytest.raises(ValueError, match="structure declares"):
            load_bytes(data)


DEEP_LIST = []
for _ in range(300):
    DEEP_LIST = [DEEP_LIST]


@pytest.mark.parametrize("arrays,root,entries,message", [
    ({}, {"$": "ndarray", "array": "a7"}, {}, "missing array 'a7'"),
    ({}, {"$": "eval", "code": "1"}, {}, "unknown node kind 'eval'"),
    ({}, {"$": "dict", "items": [[[1], 2]]}, {}, "unsupported dict key"),
    ({}, {"$": "float", "value": "1e999"}, {}, "bad special float"),
    ({}, DEEP_LIST, {}, "nesting deeper"),
    ({"a0": {"dtype": "<i8", "shape": [1]}}, {"$": "tensor", "array": "a0", "requires_grad": True},
     {"a0.npy": npy(np.zeros(1, np.int64))}, "int64 cannot require gradients"),
    ({"a0": {"dtype": "<i8", "shape": [1]}}, {"$": "tensor", "array": "a0", "parameter": True, "requires_grad": True},
     {"a0.npy": npy(np.zeros(1, np.int64))}, "int64 cannot require gradients"),
    ({}, None, {"extra.npy": npy(np.zeros(1))}, "unexpected \\['extra.npy'\\]"),
    ({"a0": {"dtype": "<f8", "shape": [1]}, "a1": {"dtype": "<f8", "shape": [1]}},
     [{"$": "tensor", "array": "a0", "id": 0}, {"$": "tensor", "array": "a1", "id": 0}],
     {"a0.npy": npy(np.zeros(1)), "a1.npy": npy(np.zeros(1))}, "tensor id 0 names two different tensors"),
    ({"a0": {"dtype": "<f8", "shape": [1]}}, {"$": "tensor", "array": "a0", "id": True},
     {"a0.npy": npy(np.zeros(1))}, "bad tensor id True"),
])
def test_malformed_structures(arrays, root, entries, message):
    with pytest.raises(ValueError, match=message):
        load_bytes(write_zip({STRUCTURE_ENTRY: structure(arrays, root), **entries}))


def test_malformed_headers_and_archives():
    with pytest.raises(ValueError, match="not a tinygradnn.save header"):
        load_bytes(write_zip({STRUCTURE_ENTRY: npy(np.frombuffer(b'{"format": "other"}', np.uint8))}))
    with pytest.raises(ValueError, match="version 99"):
        text = json.dumps({"format": "tinygradnn.save", "version": 99, "arrays": {}, "root": None})
        load_bytes(write_zip({STRUCTURE_ENTRY: npy(np.frombuffer(text.encode(), np.uint8))}))
    with pytest.raises(ValueError, match="compressed"):
        load_bytes(write_zip({STRUCTURE_ENTRY: structure({}, None)}, compression=zipfile.ZIP_DEFLATED))
    with pytest.raises(ValueError, match="1-D uint8"):
        load_bytes(write_zip({STRUCTURE_ENTRY: npy(np.zeros(3))}))
    with pytest.raises(ValueError, match="not a zip archive"):
        load_bytes(npy(np.zeros(3)))
    with pytest.raises(ValueError, match="not a zip archive"):
        load_bytes(b"")
