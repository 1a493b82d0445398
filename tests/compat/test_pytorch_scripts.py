"""The scripts in ``pytorch_scripts`` run unchanged under tinygradnn and under PyTorch.

* under tinygradnn in float32 (the everyday setting) each script trains: losses fall, accuracy is reached;
* in float64, with the same weights and data order, tinygradnn and PyTorch give the same per-step losses
  (to 1e-5) and the same final accuracy (within one point).
"""

import importlib

import numpy as np
import pytest
from helpers import requires_torch
from pytorch_scripts import SCRIPTS

import tinygradnn

_cache = {}


def _run(name, framework, dtype=None):
    """``pytorch_scripts.<name>.run(framework)``, once per (script, framework, dtype) for the whole session."""
    key = (name, framework.__name__, str(dtype))
    if key not in _cache:
        module = importlib.import_module(f"pytorch_scripts.{name}")
        if framework is tinygradnn:
            _cache[key] = module.run(framework, dtype=dtype)
        else:
            with framework.random.fork_rng():  # the scripts seed PyTorch's global RNG: leave it as it was
                _cache[key] = module.run(framework, dtype=dtype)
    return _cache[key]


def _falls(losses, factor):
    first, last = np.mean(losses[:3]), np.mean(losses[-5:])
    assert np.all(np.isfinite(losses))
    assert last < factor * first, f"loss did not fall enough: {first:.4f} -> {last:.4f}"


def check_cnn_classifier(r):
    _falls(r["losses"], 0.6)
    assert r["accuracy"] > 70 and r["test_loss"] < 1.2
    assert r["lr"] == pytest.approx(1.0 * 0.7 ** 2)  # StepLR after two epochs of Adadelta(lr=1.0)


def check_mlp_regression(r):
    _falls(r["losses"], 0.5)
    assert r["val_mse"] < 0.15 and r["r2"] > 0.7
    assert r["lrs"][:4] == [[0.01, 0.005], [0.01, 0.005], [0.005, 0.0025], [0.005, 0.0025]]  # per group


def check_autoencoder(r):
    _falls(r["losses"], 0.8)
    assert r["test_loss"] < r["losses"][0]
    assert r["accuracy"] > 40  # nearest class mean on 8-d codes; chance is 10


def check_clip_and_schedule(r):
    _falls(r["losses"], 0.5)
    assert r["accuracy"] > 90
    assert max(r["lrs"]) == pytest.approx(0.5, rel=1e-3) and r["lrs"][-1] < 2e-3  # one cycle up and down
    assert max(r["grad_norms"]) > 1.0  # the norm was clipped at least once


def check_feature_hooks(r):
    _falls(r["losses"], 0.3)
    assert len(r["grad_output_norms"]) == len(r["losses"])  # the backward hook fired once per step
    _falls(r["probe_losses"], 0.2)
    assert r["accuracy"] > 90


def check_save_resume(r):
    _falls(r["losses"], 0.8)
    assert r["losses"] == r["uninterrupted_losses"]  # resuming from the checkpoint changes nothing
    assert r["accuracy"] > 60


def check_custom_autograd_loss(r):
    _falls(r["losses"], 0.2)
    assert r["gradcheck"] is True
    assert r["accuracy"] > 85 and r["top2_accuracy"] >= r["accuracy"]


def check_collate_fn(r):
    _falls(r["losses"], 0.6)
    assert r["accuracy"] > 85
    assert r["default_collate_shape"] == [8, 3] and r["labels_int64"]
    assert r["padding_row_grad"] == 0  # padding_idx gets no gradient


def check_quickstart(r):
    _falls(r["losses"], 0.5)
    assert r["accuracy"] > 70 and r["test_loss"] < 1.0
    assert r["batch_shape"] == [[64, 1, 8, 8], [64]]
    assert r["printed"].startswith("[   64/ 1024] | [  576/ 1024]")  # size = len(dataloader.dataset)
    assert r["reloaded_matches"] is True  # the saved state_dict gives the same model


def check_nn_from_scratch(r):
    _falls(r["scratch_losses"], 0.7)
    assert r["scratch_accuracy"] > 70
    _falls(r["losses"], 0.5)
    assert r["accuracy"] > 70 and r["valid_loss"] < 1.0


CHECKS = {name[len("check_"):]: fn for name, fn in globals().items() if name.startswith("check_")}


def test_every_script_has_checks():
    assert sorted(CHECKS) == sorted(SCRIPTS)
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_trains_under_tinygradnn(name):
    CHECKS[name](_run(name, tinygradnn))


@requires_torch
@pytest.mark.torch
@pytest.mark.parametrize("name", SCRIPTS)
def test_script_matches_pytorch(name):
    import torch

    ours, theirs = _run(name, tinygradnn, tinygradnn.float64), _run(name, torch, torch.float64)
    CHECKS[name](ours)
    assert ours.keys() == theirs.keys()
    for key, value in ours.items():
        expected = theirs[key]
        if key == "accuracy" or key.endswith("_accuracy"):
            assert abs(value - expected) <= 1.0, f"{key}: {value} vs PyTorch {expected}"
        elif isinstance(value, bool | str) or key.endswith("shape"):
            assert value == expected, f"{key}: {value!r} vs PyTorch {expected!r}"
        else:
            np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-5, err_msg=f"{name}: {key}")
