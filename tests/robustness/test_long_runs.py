"""Long runs: memory stays flat over thousands of training steps, the graph and its saved activations
are freed as soon as the loss is done with (by reference counting alone, no garbage collector needed),
and ``manual_seed`` makes a whole training run bit-for-bit reproducible."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import tinygradnn as tg
import tinygradnn.nn as nn
import tinygradnn.nn.functional as F
from tinygradnn.data import DataLoader, TensorDataset


@pytest.fixture
def no_gc():
    """Turn the cycle collector off: what is freed here is freed by reference counting, at once."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def small_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Dropout(0.1), nn.Linear(2 * 3 * 3, 3))


# ----------------------------------------------------------------------------- the graph is freed
def _hidden_and_loss():
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh())
    head = nn.Linear(8, 2)
    hidden = model(tg.randn(5, 4))
    loss = F.cross_entropy(head(hidden), tg.tensor([0, 1, 0, 1, 1]))
    return weakref.ref(hidden), weakref.ref(hidden._data), loss, model


def test_activations_die_right_after_backward(no_gc):
    hidden, hidden_array, loss, model = _hidden_and_loss()
    assert hidden() is not None and hidden_array() is not None  # the graph holds them until backward
    loss.backward()
    assert hidden() is None and hidden_array() is None  # freed although `loss` is still alive
    assert all(p.grad is not None for p in model.parameters())


def test_activations_die_when_the_loss_is_dropped_without_backward(no_gc):
    hidden, hidden_array, loss, _ = _hidden_and_loss()
    assert hidden() is not None
    del loss
    assert hidden() is None and hidden_array() is None


def test_retain_graph_keeps_activations_until_the_loss_goes(no_gc):
    hidden, _, loss, _ = _hidden_and_loss()
    loss.backward(retain_graph=True)
    assert hidden() is not None
    del loss
    assert hidden() is None


def test_a_training_step_creates_no_reference_cycles():
    tg.manual_seed(0)
    model, x, y = small_cnn(), tg.randn(4, 1, 6, 6), tg.tensor([0, 1, 2, 0])
    opt = tg.optim.Adam(model.parameters(), lr=1e-3)
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
        assert gc.collect() == 0  # nothing was left for the cycle collector
    finally:
        gc.enable()


# ----------------------------------------------------------------------------- memory stays flat
def test_memory_stays_flat_over_two_thousand_training_steps():
    """2000 Adam steps of a small CNN (conv, batch norm, pool, dropout, linear): the number of live objects
    does not grow, and over the last steps memory traced by tracemalloc does not grow either."""
    tg.manual_seed(0)
    model, x, y = small_cnn(), tg.randn(4, 1, 6, 6), tg.tensor([0, 1, 2, 0])
    opt = tg.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    def live_objects():
        gc.collect()
        return len(gc.get_objects())

    for _ in range(200):  # warm-up: optimizer state, caches
        step()
    objects_before = live_objects()
    for _ in range(1500):
        step()
    objects_after = live_objects()
    assert objects_after - objects_before < 50, f"{objects_after - objects_before} objects leaked in 1500 steps"

    tracemalloc.start()
    try:
        for _ in range(100):  # tracemalloc's own warm-up (NumPy's small caches fill here)
            step()
        gc.collect()
        traced_before = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            step()
        gc.collect()
        traced_after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    growth = traced_after - traced_before
    assert growth < 16 * 1024, f"traced memory grew by {growth} bytes over 200 steps"
    assert np.isfinite(step())


def test_the_memory_check_catches_a_leak():
    """The check above can fail: keeping each step's loss (and so its graph) is caught."""
    tg.manual_seed(0)
    model = nn.Linear(3, 2)
    kept = []
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(200):
            kept.append(F.mse_loss(model(tg.randn(4, 3)), tg.zeros(4, 2)))
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert growth > 16 * 1024


# ----------------------------------------------------------------------------- reproducibility
def _training_run(seed: int) -> tuple[list[float], dict]:
    """Init, DataLoader shuffling and dropout all draw from the global generator seeded here."""
    tg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))
    data = TensorDataset(tg.tensor(np.linspace(-1, 1, 64 * 4).reshape(64, 4)).float(), tg.tensor(np.arange(64) % 3))
    loader = DataLoader(data, batch_size=8, shuffle=True)
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(3):
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses, {k: v.numpy().copy() for k, v in model.state_dict().items()}


def test_manual_seed_makes_a_training_run_bit_for_bit_reproducible():
    losses_a, state_a = _training_run(7)
    tg.randn(10)  # disturb the global generator in between
    losses_b, state_b = _training_run(7)
    assert losses_a == losses_b  # exact equality, not allclose
    for key in state_a:
        assert np.array_equal(state_a[key], state_b[key]), key
    losses_c, _ = _training_run(8)
    assert losses_c != losses_a  # the seed matters (so the check above can fail)
