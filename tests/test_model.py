"""The Cluster-LSTM-VAE: every step scored, deterministic, save/load, a planted anomaly stands out."""

from __future__ import annotations

import numpy as np
import pytest

from clvlib.model import CLVConfig, ClusterLSTMVAE

FAST = CLVConfig(window=15, epochs=25, batch_size=32, learning_rate=3e-3, patience=25)


def _series(seed: int = 0, n: int = 600) -> np.ndarray:
    """Two groups of correlated features with smooth seasonal-like signals and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    a, b = np.sin(2 * np.pi * t / 73), np.cos(2 * np.pi * t / 37)
    x = np.stack([a, 0.8 * a, -a, b, 0.5 * b], axis=1) + 0.1 * rng.normal(size=(n, 5))
    return x.astype(np.float32)


@pytest.fixture(scope="module")
def fitted():
    return ClusterLSTMVAE([[0, 1, 2], [3, 4]], FAST, random_state=0, progress=False).fit(_series())


def test_training_reduces_the_loss(fitted):
    h = fitted.history_
    assert len(h) >= 5 and h["val_loss"].min() < 0.5 * h["val_loss"].iloc[0]


def test_every_step_scored_including_the_last_window(fitted):
    x = _series(1, 200)
    errors = fitted.feature_errors(x)
    assert errors.shape == x.shape and np.isfinite(errors).all()
    assert fitted.score(x).shape == (200,)


def test_same_input_scores_identically(fitted):
    x = _series(2, 200)
    np.testing.assert_array_equal(fitted.score(x), fitted.score(x))


def test_save_and_load_give_identical_scores(fitted, tmp_path):
    fitted.save(tmp_path)
    loaded = ClusterLSTMVAE.load(tmp_path)
    x = _series(3, 200)
    np.testing.assert_array_equal(fitted.score(x), loaded.score(x))


def test_planted_anomaly_scores_highest_in_its_feature(fitted):
    x = _series(4, 300)
    x[150:153, 3] += 4.0
    errors = fitted.feature_errors(x)
    score = errors.mean(axis=1)
    assert score[150:153].min() > np.quantile(np.delete(score, range(140, 165)), 0.99)
    assert errors[150:153].mean(axis=0).argmax() == 3


def test_same_seed_same_model():
    x = _series(5, 200)
    cfg = CLVConfig(epochs=2, batch_size=32)
    a = ClusterLSTMVAE([[0, 1, 2], [3, 4]], cfg, random_state=7, progress=False).fit(x)
    b = ClusterLSTMVAE([[0, 1, 2], [3, 4]], cfg, random_state=7, progress=False).fit(x)
    np.testing.assert_array_equal(a.score(x), b.score(x))
