"""The benchmark suite in benchmarks/: its NumPy reference is right, and a quick run works end to end."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")
sys.path.insert(0, BENCH)

import bench_common  # noqa: E402
import reference_numpy as ref  # noqa: E402

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")


def test_maxpool_backward_sends_gradient_to_the_first_of_tied_maxima():
    x = np.zeros((1, 2, 2, 1), dtype=np.float32)
    x[0, 0, 1, 0] = x[0, 1, 0, 0] = 3.0  # two tied maxima, in row-major positions 1 and 2
    out = ref.maxpool2x2_nhwc(x)
    dx = ref.maxpool2x2_relu_backward(x, out, np.ones_like(out))
    assert out.ravel().tolist() == [3.0]
    assert dx.ravel().tolist() == [0.0, 1.0, 0.0, 0.0]


def test_maxpool_backward_passes_nothing_where_relu_output_is_zero():
    x = np.zeros((1, 4, 2), dtype=np.float32)  # (B, L, C) all zero: ReLU blocks every gradient
    out = ref.maxpool1d2_nlc(x)
    assert not ref.maxpool1d2_relu_backward(x, out, np.ones_like(out)).any()


@pytest.mark.torch
@needs_torch
@pytest.mark.parametrize("workload", ["mlp", "cnn", "conv1d", "autoencoder"])
def test_numpy_reference_gradients_match_torch(workload):
    import framework_workloads
    import torch

    cfg = bench_common.workload_config(workload, quick=True)
    inputs = bench_common.make_inputs(workload, cfg, bench_common.DEFAULT_DATA, seed=0)
    xb, yb = inputs["batches"][0]
    forward, backward, loss_fn = ref.MODELS[workload]
    params = {k: v.copy() for k, v in inputs["weights"].items()}
    out, cache = forward(params, xb)
    loss, dout = loss_fn(out, yb)
    grads = backward(params, cache, dout)

    model = framework_workloads.build_model(torch, workload, inputs["weights"])
    torch_loss = framework_workloads.make_loss_fn(torch, workload)(model(torch.from_numpy(xb)),
                                                                  torch.from_numpy(yb))
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-5)
    assert sorted(grads) == sorted(name for name, _ in model.named_parameters())
    for name, p in model.named_parameters():
        assert grads[name].dtype == np.float32, name
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.slow
def test_quick_run_writes_timings_and_matching_losses(tmp_path):
    """`run.py --quick` in a subprocess: well under a minute on two idle cores."""
    out = tmp_path / "results.json"
    # One thread per worker: the test shares the machine with the rest of the suite, and PyTorch's
    # multi-threaded reductions are not deterministic run to run.
    proc = subprocess.run([sys.executable, os.path.join(BENCH, "run.py"), "--quick", "--threads", "1",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "| workload | framework |" in proc.stdout and "CPU:" in proc.stdout
    report = json.loads(out.read_text())

    rows = {row["workload"]: row for row in report["results"]}
    assert list(rows) == list(bench_common.WORKLOADS)
    timed = ["numpy"] + (["torch"] if HAS_TORCH else [])
    for workload, row in rows.items():
        assert row["inputs_identical"], workload
        assert row["losses_match"] is not False, (workload, row["frameworks"])
        for fw in timed:
            res = row["frameworks"][fw]
            if fw == "numpy" and workload == "micrograd":
                assert res["status"].startswith("n/a") and "loss" in res
                continue
            assert res["status"] == "ok", (workload, fw, res["status"])
            assert all(isinstance(t, float) and t > 0 for t in res["times"]), (workload, fw)
            assert res["min"] <= res["median"] <= res["max"]
        if HAS_TORCH:
            assert row["losses_match"] is True, workload
        tg = row["frameworks"]["tinygradnn"]
        assert tg["status"] == "ok" or tg["status"].startswith(("unavailable", "timeout", "worker died"))


def test_minimal_tape_computes_the_reference_gradients():
    """benchmarks/minimal_tape.py measures the floor of the design only if it does the reference's work."""
    import minimal_tape as tape

    cfg = bench_common.workload_config("mlp", quick=True)
    inputs = bench_common.make_inputs("mlp", cfg, None, seed=0)
    xb, yb = inputs["batches"][0]
    forward, backward, loss_fn = ref.MODELS["mlp"]
    params = {k: v.copy() for k, v in inputs["weights"].items()}
    out, cache = forward(params, xb)
    loss, dout = loss_fn(out, yb)
    grads = backward(params, cache, dout)

    layers = [tape.LinearLayer(params[f"{i}.weight"].copy(), params[f"{i}.bias"].copy()) for i in (0, 2, 4)]
    model = tape.Sequential(layers[0], tape.TanhLayer(), layers[1], tape.TanhLayer(), layers[2])
    tape_loss = tape.CrossEntropy.apply(model(tape.tensor(xb)), tape.tensor(yb))
    tape.backward(tape_loss)
    assert float(tape_loss.data) == pytest.approx(loss, rel=1e-6)
    for i, layer in zip((0, 2, 4), layers):
        np.testing.assert_allclose(layer.weight.grad.data, grads[f"{i}.weight"], rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(layer.bias.grad.data, grads[f"{i}.bias"], rtol=1e-5, atol=1e-7)


def test_minimal_tape_script_runs_and_agrees_on_the_loss(capsys):
    import minimal_tape as tape

    assert tape.main(["--batches", "3", "--repeats", "1", "--threads", "1", "--data", ""]) == 0
    table = capsys.readouterr().out
    assert "| minimal tape |" in table and "| tinygradnn |" in table


def test_phases_script_times_both_and_agrees_on_the_loss(capsys):
    import phases

    assert phases.main(["--workload", "mlp", "--batches", "3", "--repeats", "1", "--threads", "1", "--data", ""]) == 0
    table = capsys.readouterr().out
    for phase in (*phases.PHASES, "total"):
        assert f"| {phase} |" in table


def test_layers_script_times_every_case(tmp_path, capsys):
    import layers

    out = tmp_path / "layers.json"
    assert layers.main(["--quick", "--threads", "1", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    for name, _, _ in layers.CASES:
        assert f"| `{name}` |" in table
    results = json.loads(out.read_text())["results"]
    assert [r["layer"] for r in results] == [name for name, _, _ in layers.CASES]
    assert all(r["tinygradnn_s"] > 0 for r in results)


@pytest.mark.torch
@needs_torch
def test_layers_script_checks_that_both_frameworks_computed_the_same():
    import layers
    import torch

    import tinygradnn

    different = lambda nn: nn.ReLU() if nn is torch.nn else nn.Tanh()  # noqa: E731
    with pytest.raises(AssertionError):
        layers.time_case(different, (2, 3), {"tinygradnn": tinygradnn, "torch": torch}, repeats=1, seed=0)
