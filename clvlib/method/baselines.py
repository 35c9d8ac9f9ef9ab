"""Baseline anomaly scores that the Cluster-LSTM-VAE must beat to mean anything.

* :func:`mean_square_z`: the trivial score, mean of the squared standardized inputs, i.e. the
  reconstruction error of a model that always predicts the climatology. A CLV whose score is no
  better than this has learned nothing.
* :func:`max_abs_z`: the largest per-feature |z| of a step.
* :class:`IsolationForestScore`: scikit-learn's Isolation Forest fitted on the training steps.

The unclustered LSTM-VAE and the author's settings are :class:`clvlib.method.model.ClusterLSTMVAE`
with one cluster and with :meth:`clvlib.method.model.CLVConfig.original`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import IsolationForest

__all__ = ["IsolationForestScore", "max_abs_z", "mean_square_z"]


def mean_square_z(values: np.ndarray) -> np.ndarray:
    """Mean over features of the squared standardized values, per step.

    Examples
    --------
    >>> mean_square_z(np.array([[1.0, -1.0], [0.0, 2.0]])).tolist()
    [1.0, 2.0]
    """
    return np.mean(np.asarray(values, dtype=float) ** 2, axis=1)


def max_abs_z(values: np.ndarray) -> np.ndarray:
    """Largest absolute standardized value over features, per step.

    Examples
    --------
    >>> max_abs_z(np.array([[1.0, -3.0], [0.5, 2.0]])).tolist()
    [3.0, 2.0]
    """
    return np.max(np.abs(np.asarray(values, dtype=float)), axis=1)


@dataclass
class IsolationForestScore:
    """Isolation Forest anomaly score (higher = more anomalous), scikit-learn style.

    Parameters
    ----------
    n_estimators : int
        Number of trees.
    random_state : int
        Seed.
    """

    n_estimators: int = 300
    random_state: int = 0

    def fit(self, values: np.ndarray) -> "IsolationForestScore":
        """Fit on training steps, shape (n_steps, n_features)."""
        self.forest_ = IsolationForest(n_estimators=self.n_estimators, random_state=self.random_state, n_jobs=1)
        self.forest_.fit(np.asarray(values, dtype=float))
        return self

    def decision_function(self, values: np.ndarray) -> np.ndarray:
        """Anomaly score per step: the negated ``score_samples`` (higher = more anomalous)."""
        return -self.forest_.score_samples(np.asarray(values, dtype=float))
