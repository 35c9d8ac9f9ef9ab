"""Baseline anomaly scores that the Cluster-LSTM-VAE must beat to mean anything.

* :func:`mean_square_z`: the trivial score, mean of the squared standardized inputs, i.e. the
  reconstruction error of a model that always predicts the climatology. A CLV whose score is no
  better than this has learned nothing.
* :func:`max_abs_z`: the largest per-feature |z| of a step.
* :class:`IsolationForestScore`: scikit-learn's Isolation Forest fitted on the training steps.
* :class:`MahalanobisScore`: the squared Mahalanobis distance of a step under the covariance of the
  training steps (scikit-learn's Ledoit-Wolf shrinkage estimator), per feature. It knows the
  structure of the data: a step whose variables are each moderate but impossible together
  (a broken coupling) scores high, one that is large along the usual pattern scores less.
* :class:`PCAResidualScore`: the residual of a PCA reconstruction (scikit-learn ``PCA`` fitted on the
  training steps), each feature's residual divided by its training standard deviation, squared and
  averaged over features.
* :func:`baseline_scores`: every baseline above on one input, in the order the tables show them.

The unclustered LSTM-VAE and the author's settings are :class:`clvlib.method.model.ClusterLSTMVAE`
with one cluster and with :meth:`clvlib.method.model.CLVConfig.original`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.covariance import LedoitWolf
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest

__all__ = [
    "BASELINES",
    "IsolationForestScore",
    "MahalanobisScore",
    "PCAResidualScore",
    "PCA_COMPONENTS",
    "baseline_scores",
    "max_abs_z",
    "mean_square_z",
    "pca_components",
]

#: Components of the PCA baseline, chosen on the tuning seeds for 13-15 features (``bench/baselines.py``).
PCA_COMPONENTS = 7

#: Names of the baselines of :func:`baseline_scores`, in table order.
BASELINES: tuple[str, ...] = (
    "Mahalanobis",
    "PCA residual",
    "Isolation Forest",
    "max abs z",
    "mean z^2 (trivial)",
)


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


@dataclass
class MahalanobisScore:
    """Squared Mahalanobis distance per feature, under a shrunk covariance of the training steps.

    The covariance is scikit-learn's :class:`~sklearn.covariance.LedoitWolf` estimate (shrinkage
    towards a scaled identity keeps the inverse stable when features are nearly collinear). The
    score is ``d^2 / n_features`` so that it is on the scale of :func:`mean_square_z` (both are 1 on
    average for standardized, uncorrelated training data).

    Parameters
    ----------
    assume_centered : bool
        True takes the training mean as zero (the model input is a standardized anomaly).

    Examples
    --------
    Two features that always move together: a step where they disagree is far more anomalous
    than a larger step along the usual pattern, although its mean z² is smaller.

    >>> rng = np.random.default_rng(0)
    >>> common = rng.standard_normal(2000)
    >>> train = np.column_stack([common, common + 0.1 * rng.standard_normal(2000)])
    >>> steps = np.array([[2.0, 2.0], [1.0, -1.0]])
    >>> maha = MahalanobisScore().fit(train).decision_function(steps)
    >>> bool(maha[1] > 10 * maha[0]), mean_square_z(steps).tolist()
    (True, [4.0, 1.0])
    """

    assume_centered: bool = False

    def fit(self, values: np.ndarray) -> "MahalanobisScore":
        """Fit the covariance on training steps, shape (n_steps, n_features)."""
        self.covariance_estimator_ = LedoitWolf(assume_centered=self.assume_centered).fit(
            np.asarray(values, dtype=float)
        )
        self.n_features_in_ = self.covariance_estimator_.covariance_.shape[0]
        return self

    def decision_function(self, values: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distance divided by the number of features (higher = more anomalous)."""
        return self.covariance_estimator_.mahalanobis(np.asarray(values, dtype=float)) / self.n_features_in_

    def feature_contributions(self, values: np.ndarray) -> np.ndarray:
        """Exact split of :meth:`decision_function` over features, shape (n_steps, n_features).

        Feature f's share is ``(x - mu)_f * (P (x - mu))_f / n_features`` with ``P`` the precision
        matrix; the shares sum to the score (a share can be negative when a feature moves with its
        usual partners and so makes the step *less* surprising).

        Examples
        --------
        >>> rng = np.random.default_rng(1)
        >>> model = MahalanobisScore().fit(rng.standard_normal((500, 3)))
        >>> x = rng.standard_normal((4, 3))
        >>> bool(np.allclose(model.feature_contributions(x).sum(axis=1), model.decision_function(x)))
        True
        """
        centred = np.asarray(values, dtype=float) - self.covariance_estimator_.location_
        return centred * (centred @ self.covariance_estimator_.precision_) / self.n_features_in_


@dataclass
class PCAResidualScore:
    """PCA reconstruction residual, standardized per feature (higher = more anomalous).

    A step is projected on the first ``n_components`` principal components of the training steps
    and reconstructed; each feature's residual is divided by its standard deviation over the
    training steps, and the score is the mean over features of the squared standardized residual.

    Parameters
    ----------
    n_components : int
        Number of principal components kept: 7, the highest mean PR-AUC over the tuning seeds 1-3 of
        both synthetic worlds and both data sets among 1-10 (``bench/baselines.py``, whose table
        ``bench/baselines_runs.csv`` is committed).
    random_state : int
        Seed of the PCA solver (the full SVD is used; kept for the estimator convention).

    Examples
    --------
    Data on a line through the origin: a step off the line is anomalous, one far along it is not.

    >>> rng = np.random.default_rng(0)
    >>> t = rng.standard_normal(1000)
    >>> train = np.column_stack([t, 2 * t]) + 0.05 * rng.standard_normal((1000, 2))
    >>> score = PCAResidualScore(n_components=1).fit(train).decision_function(np.array([[3.0, 6.0], [1.0, -1.0]]))
    >>> bool(score[1] > 100 * score[0])
    True
    """

    n_components: int = PCA_COMPONENTS
    random_state: int = 0

    def fit(self, values: np.ndarray) -> "PCAResidualScore":
        """Fit the components and the residual scale on training steps, shape (n_steps, n_features)."""
        values = np.asarray(values, dtype=float)
        if not 1 <= self.n_components < values.shape[1]:
            raise ValueError(
                f"n_components={self.n_components}: expected 1 to {values.shape[1] - 1} for {values.shape[1]} features"
            )
        self.pca_ = PCA(n_components=self.n_components, svd_solver="full", random_state=self.random_state).fit(values)
        residual = values - self.pca_.inverse_transform(self.pca_.transform(values))
        self.residual_scale_ = np.maximum(residual.std(axis=0), 1e-12)
        return self

    def feature_contributions(self, values: np.ndarray) -> np.ndarray:
        """Squared standardized residual per feature, divided by the number of features; sums to the score."""
        values = np.asarray(values, dtype=float)
        residual = values - self.pca_.inverse_transform(self.pca_.transform(values))
        return (residual / self.residual_scale_) ** 2 / values.shape[1]

    def decision_function(self, values: np.ndarray) -> np.ndarray:
        """Mean over features of the squared standardized residual."""
        return self.feature_contributions(values).sum(axis=1)


def pca_components(n_features: int) -> int:
    """Components of the PCA baseline for ``n_features`` features.

    :data:`PCA_COMPONENTS` was chosen on records of 13 and 15 features; a user's record may hold
    fewer (a point download of 7 variables, say), so at most half of the features are kept, and at
    least one: the residual must keep room for the structure the components miss.

    Examples
    --------
    >>> pca_components(15), pca_components(13), pca_components(7), pca_components(2)
    (7, 6, 3, 1)
    """
    return max(1, min(PCA_COMPONENTS, n_features // 2))


def baseline_scores(values: np.ndarray, is_train: np.ndarray, random_state: int = 0) -> dict[str, np.ndarray]:
    """Every baseline's score per step, fitted on the training steps, in the order of :data:`BASELINES`.

    Parameters
    ----------
    values : ndarray, shape (n_steps, n_features)
        The model input (standardized seasonal anomalies).
    is_train : ndarray of bool
        Steps the fitted baselines learn from.
    random_state : int
        Seed of the Isolation Forest.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((300, 8))
    >>> out = baseline_scores(x, np.arange(300) < 200)
    >>> list(out) == list(BASELINES), {len(v) for v in out.values()}
    (True, {300})
    """
    values = np.asarray(values, dtype=float)
    train = values[np.asarray(is_train, bool)]
    components = pca_components(values.shape[1])
    return {
        "Mahalanobis": MahalanobisScore().fit(train).decision_function(values),
        "PCA residual": PCAResidualScore(components).fit(train).decision_function(values),
        "Isolation Forest": IsolationForestScore(random_state=random_state).fit(train).decision_function(values),
        "max abs z": max_abs_z(values),
        "mean z^2 (trivial)": mean_square_z(values),
    }
