"""The toy example scripts: every one runs in --quick mode, reports sane metrics, prints one results line
and writes its figure; the cheap ones also reach their documented accuracy at their default settings."""

import math

import numpy as np

FIGURES = {
    "linear_regression": ["linear_regression.png"],
    "linear_classifier": ["linear_classifier.png"],
    "xor": ["xor.png"],
    "four_gaussians": ["four_gaussians.png"],
    "checkerboard": ["checkerboard.png"],
    "manual_backprop": ["manual_backprop.png"],
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _numbers(metrics):
    for key, value in metrics.items():
        if isinstance(value, dict):
            yield from _numbers(value)
        elif isinstance(value, (int, float)):
            yield key, value


def _run(load_example, name, tmp_path, capsys, *argv):
    metrics = load_example(name).main(["--out", str(tmp_path), *argv])
    out = capsys.readouterr().out
    results = [line for line in out.splitlines() if line.startswith(f"{name}:")]
    assert len(results) == 1, f"{name} should print exactly one results line, got:\n{out}"
    assert isinstance(metrics, dict) and metrics
    for key, value in _numbers(metrics):
        assert math.isfinite(value), f"{name}: {key} = {value}"
        if key.endswith("acc"):
            assert 0.0 <= value <= 1.0, f"{name}: {key} = {value}"
    for figure in FIGURES[name]:
        path = tmp_path / figure
        assert path.read_bytes()[:8] == PNG_MAGIC, f"{name} did not write {figure}"
    return metrics, results[0]


# ----------------------------------------------------------------------------- --quick smoke runs
def test_linear_regression_quick(load_example, tmp_path, capsys):
    m, line = _run(load_example, "linear_regression", tmp_path, capsys, "--quick")
    assert abs(m["sgd_r2"] - m["sklearn_r2"]) < 1e-2
    assert abs(m["slope"] - 2.0) < 0.2 and abs(m["intercept"] + 1.0) < 0.2  # the data is y = 2x - 1 + noise
    assert f"{m['sgd_r2']:.4f}" in line and f"{m['sklearn_r2']:.4f}" in line


def test_linear_classifier_quick(load_example, tmp_path, capsys):
    m, _ = _run(load_example, "linear_classifier", tmp_path, capsys, "--quick")
    assert m["test_acc"] >= 0.98


def test_xor_quick(load_example, tmp_path, capsys):
    m, _ = _run(load_example, "xor", tmp_path, capsys, "--quick")
    assert m["two_layer_test_acc"] >= 0.9
    assert m["linear_test_acc"] <= 0.75


def test_four_gaussians_quick_is_seeded(load_example, tmp_path, capsys):
    m, line = _run(load_example, "four_gaussians", tmp_path, capsys, "--quick")
    assert m["test_acc"] >= 0.95
    again, line_again = _run(load_example, "four_gaussians", tmp_path, capsys, "--quick")
    assert again == m and line_again == line  # torch.manual_seed(args.seed) makes the run repeatable
    other, _ = _run(load_example, "four_gaussians", tmp_path, capsys, "--quick", "--seed", "1")
    assert other["final_loss"] != m["final_loss"]


def test_checkerboard_quick_grid(load_example, tmp_path, capsys):
    m, _ = _run(load_example, "checkerboard", tmp_path, capsys, "--quick")
    grid = np.array(m["grid"])
    assert grid.shape == (2, 2, 1)  # iterations x batch sizes x learning rates
    assert ((grid > 0.5) & (grid <= 1.0)).all()
    assert m["val_acc"] == grid.max()  # the reported cell is the best validation cell
    assert m["best"]["iterations"] in (100, 300) and m["best"]["batch_size"] in (64, 256)
    assert m["test_acc"] >= 0.85


def test_checkerboard_prints_markdown_table(load_example, tmp_path, capsys):
    load_example("checkerboard").main(["--out", str(tmp_path), "--iterations", "50", "100",
                                       "--batch-sizes", "256", "--lrs", "0.01", "0.03"])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    assert lines[0] == "| iterations | batch size | lr 0.01 | lr 0.03 |"
    assert lines[1] == "|---:|---:|---:|---:|"
    assert [line.split("|")[1:3] for line in lines[2:]] == [[" 50 ", " 256 "], [" 100 ", " 256 "]]


def test_manual_backprop_quick(load_example, tmp_path, capsys):
    m, _ = _run(load_example, "manual_backprop", tmp_path, capsys, "--quick")
    assert m["final_loss"] < m["first_loss"] / 5
    assert m["test_acc"] >= 0.9


# ----------------------------------------------------------------------------- default settings
def test_linear_regression_matches_closed_form(load_example, tmp_path, capsys):
    m, _ = _run(load_example, "linear_regression", tmp_path, capsys)
    assert abs(m["sgd_r2"] - m["sklearn_r2"]) < 2e-3
    assert 0.4 < m["sklearn_r2"] < 0.7  # noise about as large as the signal, as in the original project


def test_linear_classifier_separates_blobs(load_example, tmp_path, capsys):
    m, _ = _run(load_example, "linear_classifier", tmp_path, capsys)
    assert m["train_acc"] == 1.0 and m["test_acc"] == 1.0


def test_xor_needs_two_layers(load_example, tmp_path, capsys):
    m, _ = _run(load_example, "xor", tmp_path, capsys)
    assert m["two_layer_test_acc"] >= 0.95
    assert m["linear_test_acc"] <= 0.7


def test_four_gaussians_accuracy(load_example, tmp_path, capsys):
    m, _ = _run(load_example, "four_gaussians", tmp_path, capsys)
    assert m["test_acc"] >= 0.98


def test_checkerboard_best_cell_reaches_target(load_example, tmp_path, capsys):
    """The full grid is too slow for the suite; its best row (1000 iterations, batch 512) alone is not."""
    m, _ = _run(load_example, "checkerboard", tmp_path, capsys,
                "--iterations", "1000", "--batch-sizes", "512", "--lrs", "0.01")
    assert m["test_acc"] >= 0.95
