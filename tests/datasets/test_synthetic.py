"""Tests for the seeded toy datasets in tinygradnn.datasets.synthetic."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygradnn.datasets import checkerboard, four_gaussians, linear_data, two_blobs, xor_data

CLASSIFIERS = {two_blobs: 2, xor_data: 2, four_gaussians: 4, checkerboard: 2}
ALL = [linear_data, *CLASSIFIERS]


def logistic_accuracy(X, y):
    """Training accuracy of a nearly unregularised linear classifier (1.0: linearly separable)."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    return linear_model.LogisticRegression(C=1e4, max_iter=5000).fit(X, y).score(X, y)


@pytest.mark.parametrize("make", CLASSIFIERS, ids=lambda f: f.__name__)
def test_classification_shapes_dtypes_and_balanced_labels(make):
    k = CLASSIFIERS[make]
    X, y = make(n=101, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(k))
    counts = np.bincount(y)
    if make is checkerboard:  # uniform points: balanced only on average
        assert counts.min() > 30
    else:
        assert counts.max() - counts.min() <= 1


def test_linear_data_shapes_and_line():
    X, y = linear_data(n=50, noise=0.0, seed=1, slope=3.0, intercept=0.5)
    assert X.shape == (50, 1) and X.dtype == np.float32
    assert y.shape == (50,) and y.dtype == np.float32
    assert np.all(np.abs(X) <= 1)
    np.testing.assert_allclose(y, 3.0 * X[:, 0] + 0.5, rtol=1e-6, atol=1e-6)


def test_linear_data_noise_is_centred_and_scaled():
    X, y = linear_data(n=20000, noise=0.3, seed=0)
    (slope, intercept), *_ = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)
    assert slope == pytest.approx(2.0, abs=0.02) and intercept == pytest.approx(-1.0, abs=0.02)
    assert np.std(y - (2 * X[:, 0] - 1)) == pytest.approx(0.3, rel=0.03)


@pytest.mark.parametrize("make", ALL, ids=lambda f: f.__name__)
def test_same_seed_same_data_other_seed_other_data(make):
    X1, y1 = make(n=64, noise=0.2, seed=7)
    X2, y2 = make(n=64, noise=0.2, seed=7)
    X3, _ = make(n=64, noise=0.2, seed=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("make", ALL, ids=lambda f: f.__name__)
def test_rejects_bad_arguments(make):
    with pytest.raises(ValueError, match="n must be"):
        make(n=-1)
    with pytest.raises(ValueError, match="n must be"):
        make(n=2.5)
    with pytest.raises(ValueError, match="noise must be"):
        make(n=10, noise=-0.1)
    with pytest.raises(ValueError, match="noise must be"):
        make(n=10, noise=float("nan"))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 40), seed=st.integers(0, 2**32 - 1), noise=st.floats(0, 2))
def test_any_size_gives_consistent_arrays(n, seed, noise):
    for make in ALL:
        X, y = make(n=n, noise=noise, seed=seed)
        assert len(X) == len(y) == n
        assert np.all(np.isfinite(X))


def test_blob_centres_and_spread():
    X, y = two_blobs(n=4000, noise=0.5, seed=0)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [-1, -1], atol=0.05)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [1, 1], atol=0.05)
    np.testing.assert_allclose(X[y == 0].std(axis=0), [0.5, 0.5], rtol=0.05)


def test_four_gaussians_classes_sit_in_their_quadrants():
    X, y = four_gaussians(n=400, noise=0.1, seed=0)
    quadrant_signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]])
    np.testing.assert_array_equal(np.sign(X), quadrant_signs[y])


def test_xor_labels_follow_the_sign_rule_and_are_not_linearly_separable():
    X, y = xor_data(n=400, noise=0.2, seed=0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(np.int64))
    assert logistic_accuracy(X, y) < 0.75


def test_blobs_are_linearly_separable():
    X, y = two_blobs(n=400, noise=0.3, seed=0)
    assert logistic_accuracy(X, y) == 1.0


def test_checkerboard_without_noise_follows_the_grid_rule():
    X, y = checkerboard(n=2000, noise=0.0, seed=0)
    assert np.all((X >= -1) & (X <= 1))
    cells = np.floor((X.astype(np.float64) + 1) / 0.5).astype(int).clip(0, 3)
    np.testing.assert_array_equal(y, (cells[:, 0] + cells[:, 1]) % 2)
    # Anchors independent of the formula: the corner cell is 0, its right and upper neighbours are 1.
    corner = (X[:, 0] < -0.5) & (X[:, 1] < -0.5)
    right = (X[:, 0] > -0.5) & (X[:, 0] < 0) & (X[:, 1] < -0.5)
    above = (X[:, 0] < -0.5) & (X[:, 1] > -0.5) & (X[:, 1] < 0)
    assert np.all(y[corner] == 0) and np.all(y[right] == 1) and np.all(y[above] == 1)
    assert logistic_accuracy(X, y) < 0.65


def test_checkerboard_noise_jitters_points_not_labels():
    X0, y0 = checkerboard(n=500, noise=0.0, seed=4)
    X1, y1 = checkerboard(n=500, noise=0.1, seed=4)
    np.testing.assert_array_equal(y0, y1)
    offsets = X1 - X0
    assert np.std(offsets) == pytest.approx(0.1, rel=0.1)
    cells = np.floor((X1.astype(np.float64) + 1) / 0.5).astype(int).clip(0, 3)
    mismatch = np.mean(y1 != (cells[:, 0] + cells[:, 1]) % 2)
    assert 0.02 < mismatch < 0.4
