"""Correlation clustering of features (the "Cluster" of the Cluster-LSTM-VAE).

Each feature is described by its profile of Pearson correlations with all features over the
training period; features whose profiles are alike are grouped by k-means (the paper) or Ward
agglomerative clustering (an option in the original code). When the number of clusters is not
given, it is chosen in a range by the silhouette score.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import silhouette_score

from clvlib.errors import InputDataError
from clvlib.files import atomic_write, verify_checksum

__all__ = ["CorrelationClusterer", "correlation_matrix", "load_clusters", "save_clusters"]


def correlation_matrix(values: np.ndarray, names: tuple[str, ...]) -> pd.DataFrame:
    """Pearson correlation of the columns of ``values``.

    Raises
    ------
    InputDataError
        When a column is constant or has no finite value (its correlation is undefined); the
        message names it.

    Examples
    --------
    >>> x = np.arange(10.0)
    >>> correlation_matrix(np.c_[x, 2 * x, -x], ("a", "b", "c")).round(6).to_numpy().tolist()
    [[1.0, 1.0, -1.0], [1.0, 1.0, -1.0], [-1.0, -1.0, 1.0]]
    """
    values = np.asarray(values, dtype=float)
    finite = np.isfinite(values)
    empty = [n for n, ok in zip(names, finite.any(axis=0), strict=True) if not ok]
    if empty:
        raise InputDataError(
            f"features {empty} are all NaN; their correlation is undefined. Drop them before clustering."
        )
    std = np.nanstd(values, axis=0)
    constant = [n for n, s in zip(names, std, strict=True) if not s > 0.0]
    if constant:
        raise InputDataError(
            f"features {constant} are constant over the training period; their correlation is undefined. "
            "Drop them before clustering."
        )
    corr = pd.DataFrame(values, columns=list(names)).corr(method="pearson")
    return corr


@dataclass
class CorrelationClusterer:
    """Cluster features by their correlation profiles (scikit-learn style).

    Parameters
    ----------
    n_clusters : int or None
        Number of clusters; None chooses it in ``k_range`` by the silhouette score.
    method : {"kmeans", "ward"}
        k-means (the paper) or Ward agglomerative clustering (the original code's option).
    k_range : tuple of int
        Smallest and largest number of clusters tried when ``n_clusters`` is None.
    random_state : int
        Seed of k-means.

    Attributes
    ----------
    correlation_ : pandas.DataFrame
        Feature correlation matrix.
    labels_ : ndarray of int
        Cluster of each feature, numbered 0.. in order of first appearance.
    silhouette_ : pandas.Series
        Silhouette score for each number of clusters tried (empty when ``n_clusters`` is given).
    n_clusters_ : int
        Number of clusters used.
    """

    n_clusters: int | None = None
    method: str = "kmeans"
    k_range: tuple[int, int] = (2, 8)
    random_state: int = 0

    def _labels(self, profiles: np.ndarray, k: int) -> np.ndarray:
        if self.method == "kmeans":
            return KMeans(n_clusters=k, n_init=20, random_state=self.random_state).fit_predict(profiles)
        if self.method == "ward":
            return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(profiles)
        raise ValueError(f"unknown clustering method {self.method!r}: expected 'kmeans' or 'ward'")

    def fit(self, values: np.ndarray, names: tuple[str, ...]) -> "CorrelationClusterer":
        """Fit on training values of shape (n_time, n_features)."""
        self.correlation_ = correlation_matrix(values, names)
        profiles = self.correlation_.to_numpy()
        n = len(names)
        if self.n_clusters is None:
            lo, hi = self.k_range[0], min(self.k_range[1], n - 1)
            if lo > hi:
                raise ValueError(f"cannot choose among {self.k_range} clusters with {n} features")
            scores = {k: silhouette_score(profiles, self._labels(profiles, k)) for k in range(lo, hi + 1)}
            self.silhouette_ = pd.Series(scores, name="silhouette").rename_axis("n_clusters")
            k = int(self.silhouette_.idxmax())
        else:
            if not 1 <= self.n_clusters <= n:
                raise ValueError(f"n_clusters must be between 1 and {n}, got {self.n_clusters}")
            self.silhouette_ = pd.Series(dtype=float, name="silhouette")
            k = self.n_clusters
        raw = self._labels(profiles, k) if k > 1 else np.zeros(n, dtype=int)
        order = {c: i for i, c in enumerate(dict.fromkeys(raw.tolist()))}
        self.labels_ = np.array([order[c] for c in raw])
        self.n_clusters_ = k
        self.names_ = tuple(names)
        return self

    def membership(self) -> pd.DataFrame:
        """Table of feature and cluster, ordered by cluster."""
        table = pd.DataFrame({"feature": self.names_, "cluster": self.labels_})
        return table.sort_values(["cluster", "feature"], kind="stable").reset_index(drop=True)

    def groups(self) -> list[list[int]]:
        """Feature indices of each cluster, the input of :class:`clvlib.method.model.ClusterLSTMVAE`."""
        return [np.flatnonzero(self.labels_ == c).tolist() for c in range(self.n_clusters_)]


def save_clusters(clusterer: CorrelationClusterer, path: Path) -> Path:
    """Write the fitted clustering as JSON: features, method, labels, groups and silhouette curve."""
    meta = {
        "features": list(clusterer.names_),
        "method": clusterer.method,
        "n_clusters": clusterer.n_clusters_,
        "labels": clusterer.labels_.tolist(),
        "groups": clusterer.groups(),
        "silhouette": {str(k): float(v) for k, v in clusterer.silhouette_.items()},
    }
    return atomic_write(Path(path), lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"), checksum=True)


def load_clusters(path: Path, features: tuple[str, ...]) -> list[list[int]]:
    """Read the groups written by :func:`save_clusters`, checking they index ``features``.

    Raises
    ------
    InputDataError
        When the clusters were fitted on other features (rerun notebook 02).
    """
    meta = json.loads(verify_checksum(Path(path)).read_text())
    if tuple(meta["features"]) != tuple(features):
        raise InputDataError(
            f"{path} was fitted on features {meta['features']}, but the data have {list(features)}; "
            "rerun notebook 02_cluster."
        )
    return [list(map(int, g)) for g in meta["groups"]]
