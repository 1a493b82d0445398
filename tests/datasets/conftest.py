"""Fixtures for the dataset tests: an isolated cache, tiny fake originals, a local HTTP server.

Helpers are handed out as fixtures, not imported, so this file never clashes with tests/conftest.py.
"""

import functools
import gzip
import http.server
import socket
import struct
import threading

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Every test gets an empty cache directory under tmp_path, so the real cache is never touched."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("TINYGRADNN_DATA", str(directory))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return directory


def fake_usps_arrays(seed=0):
    """A tiny USPS-like dataset: 7 training and 3 test images of 256 pixels in [0, 1]."""
    rng = np.random.default_rng(seed)
    # Multiples of 1/4 are exact in float32 and in the ESL text, so round trips compare equal.
    x_train = rng.integers(0, 5, (7, 256)) / 4
    x_test = rng.integers(0, 5, (3, 256)) / 4
    return x_train, np.arange(7) % 10, x_test, np.array([9, 0, 4])


def write_esl(path, x, y):
    """Write ``zip.train.gz``-style text: the label then the pixels mapped to [-1, 1], per row."""
    with gzip.open(path, "wt") as f:
        for label, row in zip(y, x):
            f.write(" ".join([f"{label:.4f}"] + [f"{2 * v - 1:.4f}" for v in row]) + " \n")


def write_idx(path, array):
    """Write a gzipped unsigned-byte IDX file, the MNIST format."""
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def esl_writer():
    """The ``write_esl(path, x, y)`` helper, for tests that need a malformed file."""
    return write_esl


@pytest.fixture
def usps_source(tmp_path):
    """A directory holding fake ``zip.train.gz``/``zip.test.gz``; returns (directory, arrays)."""
    directory = tmp_path / "usps_source"
    directory.mkdir()
    arrays = fake_usps_arrays()
    write_esl(directory / "zip.train.gz", arrays[0], arrays[1])
    write_esl(directory / "zip.test.gz", arrays[2], arrays[3])
    return directory, arrays


@pytest.fixture
def mnist_source(tmp_path):
    """A directory holding four fake MNIST IDX files (5 + 2 images of 3x4); returns (directory, arrays)."""
    directory = tmp_path / "mnist_source"
    directory.mkdir()
    rng = np.random.default_rng(1)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 3, 4)),
        "train-labels-idx1-ubyte.gz": np.array([5, 0, 4, 1, 9]),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (2, 3, 4)),
        "t10k-labels-idx1-ubyte.gz": np.array([7, 2]),
    }
    for name, array in arrays.items():
        write_idx(directory / name, array)
    return directory, arrays


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def serve():
    """``serve(directory)`` starts an HTTP server for that directory in a thread and returns its base URL."""
    servers = []

    def start(directory):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_port_url():
    """A URL on a local port with nothing listening, so connecting fails at once (like being offline)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"
