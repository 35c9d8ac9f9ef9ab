"""Surrogate models that check the CLV attribution: XGBoost and Random Forest, with three importances.

A surrogate learns a target from the features of the same steps: (a) the CLV's anomaly label of
the melt-season steps, or (b) the melt variable (from the other features). Its feature importances
are then compared with the CLV attribution ranking:

* ``gain`` (XGBoost, total gain of the splits on a feature) or ``impurity`` (Random Forest,
  mean decrease in impurity);
* ``permutation``: the drop of the held-out score when a feature is shuffled
  (:func:`permutation_importance`: the permutations and numbers of
  ``sklearn.inspection.permutation_importance``, seeded, with one prediction over all of them);
* ``shap``: mean |SHAP value| over the held-out steps from ``shap.TreeExplainer`` (exact for trees;
  for the classifier, in log-odds).

The held-out steps are the last ``test_fraction`` of the record in time (no shuffling across time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shap
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.metrics import average_precision_score, r2_score
from sklearn.utils import check_random_state
from xgboost import XGBClassifier, XGBRegressor

__all__ = ["SurrogateConfig", "TASKS", "agreement_table", "fit_surrogates", "permutation_importance", "shap_values"]

TASKS: tuple[str, ...] = ("anomaly", "melt")


@dataclass(frozen=True)
class SurrogateConfig:
    """Settings of the surrogates (small models: a few thousand steps, a few dozen features)."""

    n_estimators: int = 300
    max_depth: int = 4
    learning_rate: float = 0.05
    rf_max_depth: int = 8
    test_fraction: float = 0.25
    n_repeats: int = 10


def _models(task: str, config: SurrogateConfig, random_state: int) -> dict:
    if task == "anomaly":
        return {
            "XGBoost": XGBClassifier(
                n_estimators=config.n_estimators,
                max_depth=config.max_depth,
                learning_rate=config.learning_rate,
                random_state=random_state,
                n_jobs=1,
                eval_metric="logloss",
            ),
            "Random Forest": RandomForestClassifier(
                n_estimators=config.n_estimators,
                max_depth=config.rf_max_depth,
                random_state=random_state,
                n_jobs=1,
                class_weight="balanced",
            ),
        }
    if task == "melt":
        return {
            "XGBoost": XGBRegressor(
                n_estimators=config.n_estimators,
                max_depth=config.max_depth,
                learning_rate=config.learning_rate,
                random_state=random_state,
                n_jobs=1,
            ),
            "Random Forest": RandomForestRegressor(
                n_estimators=config.n_estimators, max_depth=config.rf_max_depth, random_state=random_state, n_jobs=1
            ),
        }
    raise ValueError(f"unknown task {task!r}: expected one of {TASKS}")


def shap_values(model, X: pd.DataFrame) -> shap.Explanation:
    """Exact tree SHAP values of ``model`` on ``X`` (positive class of a classifier, log-odds for XGBoost)."""
    explanation = shap.TreeExplainer(model)(X)
    if explanation.values.ndim == 3:  # a classifier with one column per class
        explanation = explanation[:, :, 1]
    return explanation


def _skill(model, X: pd.DataFrame, y: np.ndarray, task: str) -> float:
    """Held-out skill: average precision of the positive class (anomaly) or R^2 (melt)."""
    if task == "anomaly":
        return float(average_precision_score(y, model.predict_proba(X)[:, 1]))
    return float(r2_score(y, model.predict(X)))


def permutation_importance(
    model, X: pd.DataFrame, y: np.ndarray, task: str, n_repeats: int, random_state: int
) -> np.ndarray:
    """Mean drop of the skill when one feature is shuffled, over ``n_repeats`` shuffles, per feature.

    The same shuffles and numbers as ``sklearn.inspection.permutation_importance(model, X, y,
    scoring=..., n_repeats=n_repeats, random_state=random_state).importances_mean`` (average
    precision for ``anomaly``, R^2 for ``melt``), but the model predicts the ``n_repeats``
    shuffled copies of ``X`` for a feature in one call instead of one call each: a forest's trees
    are walked once per feature (scikit-learn's loop over trees costs ~0.1 s per call for 300
    trees), while memory stays ``n_repeats`` times that of ``X``. A tree ensemble predicts every
    row on its own, so the predictions, and the result, are identical (tests/test_surrogate.py).
    """
    values, y = X.to_numpy(), np.asarray(y)
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max + 1)  # as scikit-learn draws it
    metric = average_precision_score if task == "anomaly" else r2_score
    baseline = _skill(model, X, y, task)
    importance = np.empty(values.shape[1])
    for col in range(values.shape[1]):
        rng, order, shuffled, copies = check_random_state(seed), np.arange(len(values)), values.copy(), []
        for _ in range(n_repeats):
            rng.shuffle(order)
            shuffled[:, col] = shuffled[order, col]  # shuffles compound, as in scikit-learn
            copies.append(shuffled.copy())
        stacked = pd.DataFrame(np.concatenate(copies), columns=X.columns).astype(X.dtypes.to_dict())
        predicted = model.predict_proba(stacked)[:, 1] if task == "anomaly" else model.predict(stacked)
        importance[col] = np.mean([baseline - metric(y, part) for part in np.split(predicted, n_repeats)])
    return importance


def fit_surrogates(
    X: pd.DataFrame, y: np.ndarray, task: str, config: SurrogateConfig = SurrogateConfig(), random_state: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Fit both surrogates for ``task`` and compute every importance.

    Parameters
    ----------
    X : pandas.DataFrame
        Features of the steps used, in time order (columns = feature names).
    y : ndarray
        Target: 0/1 anomaly label or the melt variable.
    task : {"anomaly", "melt"}
        Classification or regression.

    Returns
    -------
    importance : pandas.DataFrame
        Long table: task, model, method, feature, importance, rank (1 = most important).
    skill : pandas.DataFrame
        Held-out skill of each model (average precision or R^2) and the sizes.
    explanations : dict
        ``model name -> shap.Explanation`` on the held-out steps (for the beeswarm figure).
    """
    y = np.asarray(y)
    n_test = max(1, int(round(config.test_fraction * len(X))))
    X_train, X_test, y_train, y_test = X.iloc[:-n_test], X.iloc[-n_test:], y[:-n_test], y[-n_test:]
    if task == "anomaly" and (len(np.unique(y_train)) < 2 or len(np.unique(y_test)) < 2):
        raise ValueError("the anomaly label needs both classes in the training and the held-out steps")
    rows, skill, explanations = [], [], {}
    for name, model in _models(task, config, random_state).items():
        model.fit(X_train, y_train)
        score = _skill(model, X_test, y_test, task)
        scoring = "average_precision" if task == "anomaly" else "r2"
        skill.append(
            {
                "task": task,
                "model": name,
                "metric": scoring,
                "held_out_skill": float(score),
                "n_train": len(X_train),
                "n_test": len(X_test),
                "positive_share": float(np.mean(y)) if task == "anomaly" else np.nan,
            }
        )
        if name == "XGBoost":
            gain = model.get_booster().get_score(importance_type="total_gain")
            native = np.array([gain.get(f, 0.0) for f in X.columns])
            native_name = "gain"
        else:
            native, native_name = model.feature_importances_, "impurity"
        perm = permutation_importance(model, X_test, y_test, task, config.n_repeats, random_state)
        explanation = shap_values(model, X_test)
        explanations[name] = explanation
        mean_abs = np.abs(explanation.values).mean(axis=0)
        for method, values in ((native_name, native), ("permutation", perm), ("shap", mean_abs)):
            part = pd.DataFrame(
                {"task": task, "model": name, "method": method, "feature": X.columns, "importance": values}
            )
            part["rank"] = part["importance"].rank(ascending=False, method="first").astype(int)
            rows.append(part)
    return pd.concat(rows, ignore_index=True), pd.DataFrame(skill), explanations


def agreement_table(
    importance: pd.DataFrame, clv_rank: pd.Series, excluded: dict[str, str] | None = None
) -> pd.DataFrame:
    """Agreement of every (task, model, method) importance ranking with the CLV ranking.

    Parameters
    ----------
    importance : pandas.DataFrame
        Output of :func:`fit_surrogates` (several tasks concatenated).
    clv_rank : pandas.Series
        Feature -> CLV attribution rank (1 = top).
    excluded : dict, optional
        Task -> feature that is not a candidate for that task (the melt variable of the melt
        task); it is dropped from the CLV ranking, which is then reranked.
    """
    from clvlib.method.rankings import ranking_agreement

    rows = []
    for (task, model, method), group in importance.groupby(["task", "model", "method"], sort=False):
        drop = (excluded or {}).get(task)
        ref = (clv_rank.drop(index=drop) if drop else clv_rank).rank(method="first").astype(int)
        rows.append(
            {
                "task": task,
                "model": model,
                "method": method,
                **ranking_agreement(ref, group.set_index("feature")["rank"]),
                "surrogate_top3": ";".join(group.nsmallest(3, "rank")["feature"]),
                "clv_top3": ";".join(ref.nsmallest(3).index),
            }
        )
    return pd.DataFrame(rows)
