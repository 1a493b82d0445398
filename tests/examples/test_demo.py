"""examples/demo.py, the README's first command: quick run, and the documented >= 0.97 test accuracy."""

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_demo_quick_run_prints_results_and_saves_its_figure(load_example, tmp_path, capsys):
    metrics = load_example("demo").main(["--quick", "--out", str(tmp_path)])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("demo:")]
    assert len(lines) == 1 and "test acc" in lines[0]
    assert 0.0 <= metrics["test_acc"] <= 1.0 and 0.0 <= metrics["train_acc"] <= 1.0
    assert (tmp_path / "demo.png").read_bytes()[:8] == PNG_MAGIC


def test_demo_reaches_the_documented_accuracy(load_example, tmp_path):
    metrics = load_example("demo").main(["--out", str(tmp_path)])
    assert metrics["test_acc"] >= 0.97, metrics
