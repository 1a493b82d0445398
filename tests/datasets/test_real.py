"""Tests for the real-data loaders: download, convert, cache, checksums and the offline errors.

Downloads are served from tiny fake files through ``file://`` URLs and a local HTTP server;
the cache is a temporary directory (see the autouse ``cache`` fixture in conftest.py).
"""

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from tinygradnn.datasets import (
    ChecksumMismatchError,
    DatasetNotAvailableError,
    cache_dir,
    load_digits,
    load_mnist,
    load_usps,
)
from tinygradnn.datasets.real import KNOWN_SHA256

REAL_USPS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "usps.npz"
needs_real_usps = pytest.mark.skipif(not REAL_USPS.is_file(), reason=f"{REAL_USPS} not present")

MNIST_FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def files_in(directory):
    """Names of all files under ``directory`` (empty if it does not exist), temporary ones included."""
    return sorted(str(p.relative_to(directory)) for p in Path(directory).rglob("*") if p.is_file())


def assert_same_dataset(loaded, expected):
    x_train, y_train, x_test, y_test = loaded
    assert x_train.dtype == x_test.dtype == np.float32
    assert y_train.dtype == y_test.dtype == np.int64
    for got, want in zip(loaded, expected):
        np.testing.assert_array_equal(got, want)


def tiny_npz(path, **overrides):
    arrays = dict(x_train=np.ones((3, 4)), y_train=np.arange(3), x_test=np.zeros((2, 4)), y_test=np.arange(2))
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


# --------------------------------------------------------------------------------------------
# The cache directory
# --------------------------------------------------------------------------------------------


def test_cache_dir_prefers_env_then_xdg_then_home(tmp_path, monkeypatch, cache):
    assert cache_dir() == cache
    monkeypatch.delenv("TINYGRADNN_DATA")
    assert cache_dir() == tmp_path / "xdg" / "tinygradnn"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == tmp_path / "home" / ".cache" / "tinygradnn"


# --------------------------------------------------------------------------------------------
# USPS from the ESL text files
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["file", "http"])
def test_usps_download_converts_caches_and_reloads_offline(
    transport, usps_source, serve, cache, closed_port_url
):
    source, arrays = usps_source
    url = source.as_uri() if transport == "file" else serve(source)

    assert_same_dataset(load_usps(url=url), arrays)
    assert files_in(cache) == ["usps.npz", "usps/zip.test.gz", "usps/zip.train.gz"]
    with np.load(cache / "usps.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["x_test", "x_train", "y_test", "y_train"]

    # The second load reads the archive: no network needed, whatever the URL says.
    assert_same_dataset(load_usps(url=closed_port_url), arrays)
    assert_same_dataset(load_usps(download=False), arrays)


def test_root_overrides_the_cache_dir(tmp_path, usps_source, cache):
    source, arrays = usps_source
    root = tmp_path / "elsewhere"
    assert_same_dataset(load_usps(root=root, url=source.as_uri()), arrays)
    assert (root / "usps.npz").is_file()
    assert not cache.exists()


def test_usps_checksum_mismatch_names_both_digests_and_keeps_nothing(usps_source, cache):
    source, _ = usps_source
    wrong = "0" * 64
    with pytest.raises(ChecksumMismatchError) as info:
        load_usps(url=source.as_uri(), sha256={"zip.train.gz": wrong})
    message = str(info.value)
    assert wrong in message and sha256(source / "zip.train.gz") in message
    assert "zip.train.gz" in message
    assert files_in(cache) == []


def test_usps_checksum_override_accepts_the_right_digest(usps_source):
    source, arrays = usps_source
    digests = {name: sha256(source / name) for name in ("zip.train.gz", "zip.test.gz")}
    assert_same_dataset(load_usps(url=source.as_uri(), sha256=digests), arrays)


def test_sha256_string_needs_a_single_npz_url(usps_source):
    source, _ = usps_source
    with pytest.raises(ValueError, match="dict"):
        load_usps(url=source.as_uri(), sha256="0" * 64)


def test_offline_error_names_the_url_and_the_cache_paths(closed_port_url, cache):
    with pytest.raises(DatasetNotAvailableError) as info:
        load_usps(url=closed_port_url)
    message = str(info.value)
    assert closed_port_url + "zip.train.gz" in message
    assert str(cache / "usps.npz") in message
    assert str(cache / "usps") in message
    assert "TINYGRADNN_DATA" in message
    assert isinstance(info.value, RuntimeError)
    assert files_in(cache) == []


def test_download_false_raises_with_instructions_for_the_default_source(cache):
    with pytest.raises(DatasetNotAvailableError, match="download=False") as info:
        load_usps(download=False)
    message = str(info.value)
    assert "https://hastie.su.domains/ElemStatLearn/datasets/zip.train.gz" in message
    assert str(cache / "usps.npz") in message


def test_originals_copied_by_hand_are_converted_without_download(usps_source, cache):
    source, arrays = usps_source
    shutil.copytree(source, cache / "usps")
    assert_same_dataset(load_usps(download=False), arrays)
    assert (cache / "usps.npz").is_file()


def test_cached_original_with_a_bad_checksum_is_deleted(usps_source, cache):
    source, _ = usps_source
    shutil.copytree(source, cache / "usps")
    with pytest.raises(ChecksumMismatchError, match="from the cache"):
        load_usps(download=False, sha256={"zip.test.gz": "f" * 64})
    assert not (cache / "usps" / "zip.test.gz").exists()
    assert not (cache / "usps.npz").exists()


def test_malformed_esl_file_is_reported(tmp_path, esl_writer):
    source = tmp_path / "bad"
    source.mkdir()
    esl_writer(source / "zip.train.gz", np.zeros((2, 10)), [1, 2])
    esl_writer(source / "zip.test.gz", np.zeros((2, 10)), [1, 2])
    with pytest.raises(ValueError, match="257 columns"):
        load_usps(url=source.as_uri())


# --------------------------------------------------------------------------------------------
# A ready-made archive: by path, or downloaded as one .npz
# --------------------------------------------------------------------------------------------


def test_explicit_path_loads_and_casts(tmp_path):
    path = tiny_npz(tmp_path / "mine.npz", y_train=np.arange(3, dtype=np.int32))
    x_train, y_train, x_test, y_test = load_usps(tmp_path / "mine.npz")
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.shape == (3, 4) and y_test.tolist() == [0, 1]
    assert load_mnist(str(path))[0].shape == (3, 4)


def test_explicit_path_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load_usps(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="y_test"):
        load_usps(tiny_npz(tmp_path / "partial.npz", y_test=None))
    with pytest.raises(ValueError, match="x_train"):
        load_usps(tiny_npz(tmp_path / "ragged.npz", y_train=np.arange(5)))


def test_npz_url_downloads_the_archive_itself(tmp_path, serve, cache):
    (tmp_path / "served").mkdir()
    path = tiny_npz(tmp_path / "served" / "usps.npz")
    x_train, *_ = load_usps(url=serve(path.parent) + "usps.npz", sha256=sha256(path))
    assert x_train.shape == (3, 4)
    assert files_in(cache) == ["usps.npz"]


def test_npz_url_is_checked_against_the_known_digest(tmp_path, cache):
    path = tiny_npz(tmp_path / "usps.npz")
    with pytest.raises(ChecksumMismatchError) as info:
        load_usps(url=path.as_uri())
    assert KNOWN_SHA256["usps.npz"] in str(info.value)
    assert files_in(cache) == []


# --------------------------------------------------------------------------------------------
# MNIST from the IDX files
# --------------------------------------------------------------------------------------------


def test_mnist_download_over_http(mnist_source, serve, cache):
    source, arrays = mnist_source
    digests = {name: sha256(source / name) for name in MNIST_FILES}
    loaded = load_mnist(url=serve(source), sha256=digests)
    images, labels = arrays["train-images-idx3-ubyte.gz"], arrays["train-labels-idx1-ubyte.gz"]
    expected = (
        (images.reshape(5, 12) / 255).astype(np.float32),
        labels,
        (arrays["t10k-images-idx3-ubyte.gz"].reshape(2, 12) / 255).astype(np.float32),
        arrays["t10k-labels-idx1-ubyte.gz"],
    )
    assert_same_dataset(loaded, expected)
    assert "mnist.npz" in files_in(cache)
    assert_same_dataset(load_mnist(download=False), expected)


def test_mnist_known_checksums_reject_fake_files(mnist_source, cache):
    source, _ = mnist_source
    with pytest.raises(ChecksumMismatchError) as info:
        load_mnist(url=source.as_uri())
    message = str(info.value)
    assert KNOWN_SHA256["train-images-idx3-ubyte.gz"] in message
    assert sha256(source / "train-images-idx3-ubyte.gz") in message
    assert files_in(cache) == []


def test_mnist_offline_error_names_the_cache_path(closed_port_url, cache):
    with pytest.raises(DatasetNotAvailableError) as info:
        load_mnist(url=closed_port_url)
    assert str(cache / "mnist.npz") in str(info.value)
    assert closed_port_url + "train-images-idx3-ubyte.gz" in str(info.value)


def test_mnist_rejects_a_file_that_is_not_idx(mnist_source):
    source, _ = mnist_source
    (source / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x0d\x01 floats, not bytes"))
    with pytest.raises(ValueError, match="not an unsigned-byte IDX file"):
        load_mnist(url=source.as_uri(), sha256=dict.fromkeys(MNIST_FILES))


# --------------------------------------------------------------------------------------------
# The real USPS archive (fast: it is a 2.4 MB file already on disk)
# --------------------------------------------------------------------------------------------


@needs_real_usps
def test_real_usps_shapes_labels_and_range():
    x_train, y_train, x_test, y_test = load_usps(REAL_USPS)
    assert x_train.shape == (7291, 256) and x_test.shape == (2007, 256)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))
    assert x_train.min() >= 0 and x_train.max() <= 1
    assert np.bincount(y_test).tolist() == [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]


@needs_real_usps
def test_real_usps_matches_its_known_checksum_and_loads_from_the_cache(cache):
    # Downloading the ready-made archive verifies KNOWN_SHA256["usps.npz"] against the real file.
    x_train, *_ = load_usps(url=REAL_USPS.as_uri())
    assert x_train.shape == (7291, 256)
    assert sha256(cache / "usps.npz") == KNOWN_SHA256["usps.npz"]
    assert load_usps(download=False)[2].shape == (2007, 256)


# --------------------------------------------------------------------------------------------
# scikit-learn's digits
# --------------------------------------------------------------------------------------------


def test_load_digits_split():
    pytest.importorskip("sklearn")
    x_train, y_train, x_test, y_test = load_digits()
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0 and x_train.max() == 1
    # Stratified: every class keeps about 20% of its images in the test set.
    fraction = np.bincount(y_test) / (np.bincount(y_test) + np.bincount(y_train))
    np.testing.assert_allclose(fraction, 0.2, atol=0.02)
    np.testing.assert_array_equal(load_digits()[3], y_test)
