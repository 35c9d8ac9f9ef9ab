"""Correlation clustering recovers planted groups and rejects degenerate features."""

from __future__ import annotations

import numpy as np
import pytest

from clvlib.errors import InputDataError
from clvlib.method.clustering import CorrelationClusterer, correlation_matrix


def _planted(seed: int = 0, n: int = 2000) -> tuple[np.ndarray, tuple[str, ...], list[int]]:
    """Three latent drivers, each shared by a group of noisy features."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 3))
    groups = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    x = np.stack([latent[:, g] * rng.uniform(0.8, 1.2) + 0.4 * rng.normal(size=n) for g in groups], axis=1)
    return x, tuple(f"f{i}" for i in range(len(groups))), groups


@pytest.mark.parametrize("method", ["kmeans", "ward"])
def test_planted_groups_are_recovered_and_k_chosen_by_silhouette(method):
    x, names, groups = _planted()
    model = CorrelationClusterer(method=method, random_state=0).fit(x, names)
    assert model.n_clusters_ == 3
    assert model.silhouette_.idxmax() == 3 and len(model.silhouette_) >= 3
    # same partition up to label names
    pairs_true = {(i, j) for i in range(9) for j in range(9) if groups[i] == groups[j]}
    pairs_found = {(i, j) for i in range(9) for j in range(9) if model.labels_[i] == model.labels_[j]}
    assert pairs_true == pairs_found


def test_given_number_of_clusters_is_used_and_is_deterministic():
    x, names, _ = _planted(1)
    a = CorrelationClusterer(n_clusters=2, random_state=4).fit(x, names)
    b = CorrelationClusterer(n_clusters=2, random_state=4).fit(x, names)
    assert a.n_clusters_ == 2 and a.silhouette_.empty
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert list(a.membership().columns) == ["feature", "cluster"]


def test_constant_and_all_nan_features_are_named():
    x, names, _ = _planted(2, 100)
    x[:, 4] = 3.0
    with pytest.raises(InputDataError, match=r"\['f4'\] are constant"):
        correlation_matrix(x, names)
    x[:, 4] = np.nan
    with pytest.raises(InputDataError, match=r"\['f4'\] are all NaN"):
        CorrelationClusterer().fit(x, names)
