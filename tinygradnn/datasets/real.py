"""Loaders for small real image datasets: USPS, MNIST and scikit-learn's digits.

Each loader returns ``(x_train, y_train, x_test, y_test)``: float32 images flattened to rows,
with values in [0, 1], and int64 labels 0..9.

USPS and MNIST are cached as ``<cache>/usps.npz`` and ``<cache>/mnist.npz`` (arrays
``x_train, y_train, x_test, y_test``). The cache directory is ``$TINYGRADNN_DATA`` if set,
else ``$XDG_CACHE_HOME/tinygradnn``, else ``~/.cache/tinygradnn``; see :func:`cache_dir`.
When the archive is missing, the loader downloads the original files into
``<cache>/<name>/``, checks their SHA-256 where it is known, converts them and writes the
archive. Without a network, copy the archive (or the original files) there by hand; the
error message gives the exact paths.
"""

import gzip
import hashlib
import http.client
import os
import struct
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DatasetNotAvailableError",
    "ChecksumMismatchError",
    "cache_dir",
    "load_usps",
    "load_mnist",
    "load_digits",
]

KEYS = ("x_train", "y_train", "x_test", "y_test")

#: SHA-256 of files the loaders download, by the name they are saved under. ``None``: not known.
KNOWN_SHA256 = {
    # The ready-made archive (see shared/data/README.md); used when ``url`` points at a .npz.
    "usps.npz": "635315ea080c19adb1e6f0811ee540c2da4745623c45ed49bd5db8dd9192a7ed",
    # The ESL text files could not be fetched when this was written, so they are not verified.
    "zip.train.gz": None,
    "zip.test.gz": None,
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

_TIMEOUT_S = 30
# What urlopen and reading its response raise for a bad URL, a refused connection, a timeout or a cut.
_NETWORK_ERRORS = (
    urllib.error.URLError,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
    ValueError,
)


class DatasetNotAvailableError(RuntimeError):
    """A dataset is not in the cache and could not be downloaded; the message says what to fetch by hand."""


class ChecksumMismatchError(DatasetNotAvailableError):
    """A downloaded (or cached original) file does not have the expected SHA-256; it has been deleted."""


def cache_dir():
    """Directory where datasets are cached: ``$TINYGRADNN_DATA``, else the user cache directory.

    The user cache directory is ``$XDG_CACHE_HOME/tinygradnn``, or ``~/.cache/tinygradnn``
    when ``XDG_CACHE_HOME`` is unset. The directory is not created here.
    """
    if os.environ.get("TINYGRADNN_DATA"):
        return Path(os.environ["TINYGRADNN_DATA"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "tinygradnn"


# --------------------------------------------------------------------------------------------
# Reading the original formats
# --------------------------------------------------------------------------------------------


def _read_esl(path):
    """ESL ``zip.train.gz``/``zip.test.gz``: one row per image, label then 256 pixels in [-1, 1]."""
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, dtype=np.float64, ndmin=2)
    if table.shape[1] != 257:
        raise ValueError(f"{path}: expected 257 columns (label + 16x16 pixels), got {table.shape[1]}")
    return ((table[:, 1:] + 1.0) / 2.0).astype(np.float32), table[:, 0].astype(np.int64)


def _read_idx(path):
    """An unsigned-byte IDX file (the MNIST format), gzipped: magic 0 0 8 ndim, big-endian sizes, data."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:3] != b"\x00\x00\x08":
        raise ValueError(f"{path} is not an unsigned-byte IDX file (magic {data[:4].hex()})")
    ndim = data[3]
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != np.prod(shape):
        raise ValueError(f"{path}: header says shape {shape} but holds {array.size} values")
    return array.reshape(shape)


def _convert_usps(raw):
    x_train, y_train = _read_esl(raw / "zip.train.gz")
    x_test, y_test = _read_esl(raw / "zip.test.gz")
    return dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def _convert_mnist(raw):
    def images(name):
        x = _read_idx(raw / name)
        return (x.reshape(len(x), -1) / np.float32(255)).astype(np.float32)

    return dict(
        x_train=images("train-images-idx3-ubyte.gz"),
        y_train=_read_idx(raw / "train-labels-idx1-ubyte.gz").astype(np.int64),
        x_test=images("t10k-images-idx3-ubyte.gz"),
        y_test=_read_idx(raw / "t10k-labels-idx1-ubyte.gz").astype(np.int64),
    )


@dataclass(frozen=True)
class _Source:
    name: str  # the archive is <cache>/<name>.npz, the original files go to <cache>/<name>/
    title: str
    base_url: str
    files: tuple[str, ...]
    convert: Callable[[Path], dict]  # raw-file directory -> the four arrays


_USPS = _Source(
    "usps",
    "USPS",
    "https://hastie.su.domains/ElemStatLearn/datasets/",
    ("zip.train.gz", "zip.test.gz"),
    _convert_usps,
)
_MNIST = _Source(
    "mnist",
    "MNIST",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    (
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ),
    _convert_mnist,
)


# --------------------------------------------------------------------------------------------
# Files: hashing, downloading, atomic writes
# --------------------------------------------------------------------------------------------


def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path, expected, origin):
    """Delete ``path`` and raise if its SHA-256 is not ``expected`` (``None`` skips the check)."""
    if expected is None:
        return
    got = _sha256_of(path)
    if got != expected.lower():
        Path(path).unlink(missing_ok=True)
        raise ChecksumMismatchError(
            f"SHA-256 mismatch for {origin}:\n  expected {expected}\n  got      {got}\n"
            "The file was deleted. Retry the download; if you trust this file, pass its checksum "
            "with sha256=... (or None to skip the check)."
        )


def _download(url, dest, expected, instructions):
    """Download ``url`` to ``dest`` through a temporary file, verifying its SHA-256."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as response:
                    for chunk in iter(lambda: response.read(1 << 20), b""):
                        out.write(chunk)
            except _NETWORK_ERRORS as err:
                raise DatasetNotAvailableError(f"Could not download {url} ({err}).\n{instructions}") from err
        _verify(tmp, expected, f"{dest.name} downloaded from {url}")
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _save_npz(path, arrays):
    """Write a compressed .npz atomically: a temporary file in the same directory, then ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _load_npz(path):
    """The four arrays of a cached archive, checked and cast to float32 images / int64 labels."""
    with np.load(path, allow_pickle=False) as data:
        missing = [key for key in KEYS if key not in data.files]
        if missing:
            raise ValueError(f"{path} lacks the arrays {missing}; a dataset archive holds {', '.join(KEYS)}")
        x_train, y_train, x_test, y_test = (data[key] for key in KEYS)
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{path}: x_{split} {x.shape} and y_{split} {y.shape} should be (n, d) and (n,)")
    f32, i64 = np.float32, np.int64
    return x_train.astype(f32), y_train.astype(i64), x_test.astype(f32), y_test.astype(i64)


# --------------------------------------------------------------------------------------------
# The loaders
# --------------------------------------------------------------------------------------------


def _expected_sha256(name, sha256):
    if isinstance(sha256, str):
        return sha256
    if sha256 is not None and name in sha256:
        return sha256[name]
    return KNOWN_SHA256.get(name)


def _load(source, path, root, download, url, sha256):
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"No {source.title} archive at {path}")
        return _load_npz(path)

    cache = Path(root).expanduser() if root is not None else cache_dir()
    archive = cache / f"{source.name}.npz"
    if archive.is_file():
        return _load_npz(archive)

    single_npz = url is not None and url.endswith(".npz")
    if isinstance(sha256, str) and not single_npz:
        raise ValueError(
            f"{source.title} is made of several files; pass sha256 as a dict {{file name: sha256}}, "
            f"e.g. {{{source.files[0]!r}: '...'}}, or a single string only with a .npz url"
        )
    if single_npz:
        urls = {archive: url}
        how = f"download\n  {url}\nand save it as\n  {archive}"
    else:
        base = (url or source.base_url).rstrip("/") + "/"
        urls = {cache / source.name / name: base + name for name in source.files}
        how = (
            f"either copy a ready-made archive (arrays {', '.join(KEYS)}) to\n  {archive}\nor download\n"
            + "".join(f"  {file_url}\n" for file_url in urls.values())
            + f"into\n  {cache / source.name}{os.sep}"
        )
    instructions = (
        f"To install {source.title} by hand, {how}\n(Set TINYGRADNN_DATA to use another cache directory.)"
    )

    for dest, file_url in urls.items():
        expected = _expected_sha256(dest.name, sha256)
        if dest.is_file():  # an original file already fetched or copied by hand
            _verify(dest, expected, f"{dest} (from the cache)")
        elif not download:
            raise DatasetNotAvailableError(
                f"{source.title} is not in the cache and download=False.\n{instructions}"
            )
        else:
            _download(file_url, dest, expected, instructions)

    if not single_npz:
        _save_npz(archive, source.convert(cache / source.name))
    return _load_npz(archive)


def load_usps(path=None, *, root=None, download=True, url=None, sha256=None):
    """USPS handwritten digits: 7291 training and 2007 test images of 16x16 pixels.

    Returns ``(x_train, y_train, x_test, y_test)`` with images of shape ``(n, 256)`` in [0, 1]
    (1 is ink; ``reshape(16, 16)`` gives upright digits) and labels 0..9.

    Args:
        path: a ready-made ``.npz`` archive to load (no cache, no download).
        root: cache directory to use instead of :func:`cache_dir`.
        download: fetch the data when it is not cached; ``False`` raises instead.
        url: where to download from: the directory holding ``zip.train.gz`` and ``zip.test.gz``
            (default: the Elements of Statistical Learning site; pixels there are in [-1, 1] and
            are mapped to ``(v + 1) / 2``), or the URL of a ready-made ``.npz`` archive.
        sha256: expected checksums overriding :data:`KNOWN_SHA256`: a dict
            ``{file name: hex digest or None}``, or one string when ``url`` is a ``.npz``.
            The ESL files have no known checksum; the ready-made ``usps.npz`` has one.

    Raises:
        DatasetNotAvailableError: the data is missing and could not be downloaded.
        ChecksumMismatchError: a downloaded file had the wrong SHA-256 (it is not kept).
    """
    return _load(_USPS, path, root, download, url, sha256)


def load_mnist(path=None, *, root=None, download=True, url=None, sha256=None):
    """MNIST handwritten digits: 60000 training and 10000 test images of 28x28 pixels.

    Returns ``(x_train, y_train, x_test, y_test)`` with images of shape ``(n, 784)``, the
    bytes divided by 255, and labels 0..9. Arguments are those of :func:`load_usps`; ``url``
    is a directory holding the four gzipped IDX files (default: PyTorch's public mirror)
    or a ready-made ``.npz``. The four IDX files have known checksums.
    """
    return _load(_MNIST, path, root, download, url, sha256)


def load_digits():
    """scikit-learn's bundled 8x8 digits (1797 images), as a fixed stratified 80/20 split.

    Returns ``(x_train, y_train, x_test, y_test)`` with 1437 training and 360 test images of
    shape ``(n, 64)``, the 0..16 pixel values divided by 16, and labels 0..9. Needs
    scikit-learn, but no download.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
        from sklearn.model_selection import train_test_split
    except ImportError as err:
        raise ImportError(
            "load_digits needs scikit-learn: pip install scikit-learn (or tinygradnn[examples])"
        ) from err
    digits = sklearn_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=0)
    return x_train, y_train, x_test, y_test
