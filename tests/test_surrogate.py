"""Surrogates: a known driver ranks first under every importance; SHAP values add up to the model output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.method.surrogate import SurrogateConfig, fit_surrogates, shap_values

SMALL = SurrogateConfig(n_estimators=60, n_repeats=3)


def _data(seed: int = 0, n: int = 600) -> pd.DataFrame:
    return pd.DataFrame(np.random.default_rng(seed).normal(size=(n, 5)), columns=["a", "b", "c", "d", "e"])


def test_known_driver_of_a_label_ranks_first_everywhere():
    X = _data()
    label = (X["c"] + 0.3 * np.random.default_rng(1).normal(size=len(X)) > 1.0).astype(int).to_numpy()
    importance, skill, explanations = fit_surrogates(X, label, "anomaly", SMALL)
    top = importance[importance["rank"] == 1]
    assert len(top) == 6 and (top["feature"] == "c").all()
    assert (skill["held_out_skill"] > 0.7).all() and set(explanations) == {"XGBoost", "Random Forest"}


def test_known_driver_of_a_regression_ranks_first():
    X = _data(2)
    y = 3 * X["a"].to_numpy() + 0.5 * X["d"].to_numpy()
    importance, skill, _ = fit_surrogates(X, y, "melt", SMALL)
    assert (importance[importance["rank"] == 1]["feature"] == "a").all()
    assert (importance[importance["rank"] == 2]["feature"] == "d").all()
    assert (skill["held_out_skill"] > 0.8).all()


@pytest.mark.parametrize("task", ["anomaly", "melt"])
def test_shap_values_add_up_to_the_model_output(task):
    from xgboost import XGBClassifier, XGBRegressor

    X = _data(3)
    if task == "anomaly":
        y = (X["b"] > 0.5).astype(int)
        model = XGBClassifier(n_estimators=40, max_depth=3, random_state=0, n_jobs=1).fit(X, y)
        output = model.predict(X, output_margin=True)
    else:
        y = X["b"] ** 2 + X["e"]
        model = XGBRegressor(n_estimators=40, max_depth=3, random_state=0, n_jobs=1).fit(X, y)
        output = model.predict(X)
    explanation = shap_values(model, X)
    np.testing.assert_allclose(explanation.values.sum(axis=1) + explanation.base_values, output, atol=1e-4)


def test_a_label_with_one_class_is_refused():
    with pytest.raises(ValueError, match="both classes"):
        fit_surrogates(_data(), np.zeros(600, int), "anomaly", SMALL)
    with pytest.raises(ValueError, match="unknown task"):
        fit_surrogates(_data(), np.zeros(600), "runoff", SMALL)


def test_agreement_table_drops_the_excluded_feature_and_reranks():
    from clvlib.method.surrogate import agreement_table

    importance = pd.DataFrame(
        {
            "task": ["anomaly"] * 3 + ["melt"] * 2,
            "model": "XGBoost",
            "method": "shap",
            "feature": ["a", "b", "c", "a", "b"],
            "rank": [1, 2, 3, 1, 2],
        }
    )
    clv = pd.Series({"c": 1, "a": 2, "b": 3})
    table = agreement_table(importance, clv, excluded={"melt": "c"}).set_index("task")
    assert table.loc["anomaly", "clv_top3"] == "c;a;b" and table.loc["anomaly", "kendall_tau"] < 0
    assert table.loc["melt", "clv_top3"] == "a;b" and table.loc["melt", "kendall_tau"] == 1.0


def test_shap_beeswarm_is_the_same_figure_twice_and_leaves_the_global_random_state_alone():
    import io

    import matplotlib.pyplot as plt

    from clvlib.publish.attribution_plots import plot_shap_beeswarm

    X = _data()
    label = (X["c"] > 1.0).astype(int).to_numpy()
    _, _, explanations = fit_surrogates(X, label, "anomaly", SMALL)
    images = []
    for global_seed in (1, 2):  # whatever the global state, the same figure
        np.random.seed(global_seed)
        fig = plot_shap_beeswarm(explanations["XGBoost"], "test", seed=0)
        assert np.random.random() == np.random.RandomState(global_seed).random()  # global state restored
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", metadata={"Software": None})
        plt.close(fig)
        images.append(buffer.getvalue())
    assert images[0] == images[1]


@pytest.mark.parametrize("task", ["anomaly", "melt"])
def test_batched_permutation_importance_equals_scikit_learn(task):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.inspection import permutation_importance as sklearn_permutation_importance
    from xgboost import XGBClassifier, XGBRegressor

    from clvlib.method.surrogate import permutation_importance

    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(240, 4)), columns=list("abcd"))
    signal = X["a"] + 0.5 * X["c"] + 0.3 * rng.normal(size=240)
    y = (signal > 1.0).astype(int).to_numpy() if task == "anomaly" else signal.to_numpy()
    models = (XGBClassifier, RandomForestClassifier) if task == "anomaly" else (XGBRegressor, RandomForestRegressor)
    for model in (cls(n_estimators=20, max_depth=4, random_state=1, n_jobs=1) for cls in models):
        model.fit(X[:160], y[:160])
        ours = permutation_importance(model, X[160:], y[160:], task, n_repeats=10, random_state=2)
        scoring = "average_precision" if task == "anomaly" else "r2"
        theirs = sklearn_permutation_importance(
            model, X[160:], y[160:], scoring=scoring, n_repeats=10, random_state=2, n_jobs=1
        ).importances_mean
        np.testing.assert_array_equal(ours, theirs)
        assert ours.argmax() == 0
