"""The textbook baselines against direct computations."""

from __future__ import annotations

import numpy as np
import pytest

from clvlib.method.baselines import BASELINES, MahalanobisScore, PCAResidualScore, baseline_scores


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    factors = rng.standard_normal((3000, 2))
    loadings = rng.standard_normal((2, 6))
    x = factors @ loadings + 0.3 * rng.standard_normal((3000, 6)) + 0.5
    return x[:2500], x[2500:]


def test_mahalanobis_matches_the_formula_with_the_ledoit_wolf_covariance(data):
    train, test = data
    model = MahalanobisScore().fit(train)
    cov = model.covariance_estimator_.covariance_
    centred = test - train.mean(axis=0)
    direct = np.einsum("ij,jk,ik->i", centred, np.linalg.inv(cov), centred) / train.shape[1]
    np.testing.assert_allclose(model.decision_function(test), direct, rtol=1e-8)
    np.testing.assert_allclose(model.feature_contributions(test).sum(axis=1), direct, rtol=1e-8)


def test_mahalanobis_with_little_shrinkage_matches_the_empirical_covariance(data):
    train, test = data
    centred = test - train.mean(axis=0)
    empirical = np.cov(train.T, bias=True)
    direct = np.einsum("ij,jk,ik->i", centred, np.linalg.inv(empirical), centred) / train.shape[1]
    model = MahalanobisScore().fit(train)
    assert model.covariance_estimator_.shrinkage_ < 0.05
    assert np.corrcoef(model.decision_function(test), direct)[0, 1] > 0.99


def test_pca_residual_matches_a_direct_svd(data):
    train, test = data
    k = 2
    mean = train.mean(axis=0)
    _, _, vt = np.linalg.svd(train - mean, full_matrices=False)
    basis = vt[:k]

    def residual(x):
        c = x - mean
        return c - c @ basis.T @ basis

    scale = residual(train).std(axis=0)
    direct = np.mean((residual(test) / scale) ** 2, axis=1)
    model = PCAResidualScore(n_components=k).fit(train)
    np.testing.assert_allclose(model.decision_function(test), direct, rtol=1e-6)
    assert np.isclose(model.decision_function(train).mean(), 1.0)  # standardized on the training steps


def test_pca_residual_refuses_as_many_components_as_features(data):
    with pytest.raises(ValueError, match="n_components=6"):
        PCAResidualScore(n_components=6).fit(data[0])


def test_baseline_scores_fit_on_the_training_steps_only(data):
    train, test = data
    x = np.vstack([train, test])
    is_train = np.arange(len(x)) < len(train)
    a = baseline_scores(x, is_train)
    x_changed = x.copy()
    x_changed[~is_train] *= 3.0  # held-out steps change: the fitted baselines must not
    b = baseline_scores(x_changed, is_train)
    assert list(a) == list(BASELINES)
    for name in ("Mahalanobis", "PCA residual", "Isolation Forest"):
        np.testing.assert_allclose(a[name][is_train], b[name][is_train])


def test_baselines_work_on_a_record_of_few_features(data):
    """A user's point download may hold 2-7 variables: every baseline still scores every step."""
    train, test = data
    for n in (2, 3, 7):
        x = np.hstack([train, train[:, :1] ** 2])[:, :n] if n == 7 else train[:, :n]
        out = baseline_scores(x, np.arange(len(x)) < 2000)
        assert all(np.isfinite(v).all() and len(v) == len(x) for v in out.values())
