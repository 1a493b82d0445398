"""The USPS example scripts and reproduce.py: each runs in --quick mode (1000 training images), prints its
results line(s), returns finite metrics, writes its figures and learns something (loose accuracy bounds).

Skipped when usps.npz is not available offline (../shared/data/usps.npz, $TINYGRADNN_USPS or the cache).
"""

import math
import os

import pytest

from tinygradnn.datasets import DatasetNotAvailableError, load_usps

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# script -> (figures it writes, {metric: lower bound after a --quick run})
EXPECTED = {
    "usps_mlp": (["usps_mlp_curves.png", "usps_mlp_confusion.png"], {"test_acc": 0.8, "train_acc": 0.85}),
    "usps_conv1d": (["usps_conv1d_filters.png"], {"test_acc": 0.8, "train_acc": 0.85}),
    "usps_cnn": (["usps_cnn_filters.png", "usps_cnn_errors.png"], {"test_acc": 0.75, "train_acc": 0.8}),
    "usps_lstm": (["usps_lstm_rows.png"], {"test_acc": 0.7, "train_acc": 0.75}),
    "usps_transformer": (["usps_transformer_attention.png"], {"test_acc": 0.7, "train_acc": 0.75}),
    "usps_autoencoder": (["usps_autoencoder_reconstructions.png", "usps_autoencoder_tsne.png"],
                         {"clf_test_acc": 0.6, "kmeans_raw_purity": 0.5, "kmeans_latent_purity": 0.45}),
}


@pytest.fixture(autouse=True)
def _usps_offline(load_example):
    """Skip unless USPS loads without a download, from where examples/common.py looks for it."""
    common = load_example("common")
    path = os.environ.get("TINYGRADNN_USPS") or (common.SHARED_USPS if common.SHARED_USPS.exists() else None)
    try:
        load_usps(path, download=False)
    except (DatasetNotAvailableError, OSError):
        pytest.skip("usps.npz is not available offline (put it in ../shared/data/ or set TINYGRADNN_USPS)")


@pytest.mark.parametrize("name", list(EXPECTED))
def test_quick_run(load_example, name, tmp_path, capsys):
    metrics = load_example(name).main(["--quick", "--out", str(tmp_path)])
    out = capsys.readouterr().out

    results = [line for line in out.splitlines() if line.startswith(f"{name}:")]
    if name == "usps_autoencoder":  # MSE, the k-means table (header + 2 rows), the classifier
        assert len(results) == 5, out
        assert "raw pixels" in out and "latent code" in out
    else:
        assert len(results) == 1, out
        assert f"test acc {metrics['test_acc']:.3f}" in results[0]

    assert isinstance(metrics, dict) and metrics
    for key, value in metrics.items():
        assert math.isfinite(value), f"{name}: {key} = {value}"
        if key.endswith(("acc", "purity", "nmi")):
            assert 0.0 <= value <= 1.0, f"{name}: {key} = {value}"
    figures, bounds = EXPECTED[name]
    for figure in figures:
        assert (tmp_path / figure).read_bytes()[:8] == PNG_MAGIC, f"{name} did not write {figure}"
    # Loose bounds: even 1000 images and a few epochs are far above chance (0.1).
    for key, bound in bounds.items():
        assert metrics[key] >= bound, f"{name}: {key} = {metrics[key]:.3f} < {bound}"
    if name == "usps_autoencoder":
        assert 0.0 < metrics["test_mse"] < 0.07  # predicting the mean training image gives about 0.12
        assert -1.0 <= metrics["kmeans_latent_silhouette"] <= 1.0


def test_reproduce_writes_results(load_example, tmp_path, capsys):
    reproduce = load_example("reproduce")
    results = tmp_path / "results.md"
    runs = reproduce.main(["--quick", "--only", "usps_mlp", "--out", str(tmp_path), "--results", str(results)])
    assert runs["usps_mlp"]["status"] == "ok"
    assert runs["usps_mlp"]["lines"][0].startswith("usps_mlp: train acc")
    text = results.read_text()
    test_acc = runs["usps_mlp"]["metrics"]["test_acc"]
    assert "| USPS MLP | train 0.919 / test 0.892 | test >= 0.94 | train" in text
    assert f"test {test_acc:.3f}" in text and "NOT the full settings" in text
    assert "| usps_mlp |" in text and "## Machine" in text
    assert (tmp_path / "usps_mlp_curves.png").exists()
    # A script that does not exist is reported, not fatal.
    assert reproduce.run_one("no_such_example", str(tmp_path), quick=True)["status"] == "missing"
