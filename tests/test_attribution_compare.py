"""The comparison of attribution methods: every method explains the same anomalies, the paper's row is the
plain occlusion, a planted driver is named, and the truth table scores each method."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import five_day_time, two_cluster_series

from clvlib.method.attribution import attribute, baseline_values
from clvlib.method.attribution_compare import (
    ATTRIBUTIONS,
    PAPER_ATTRIBUTION,
    CompareConfig,
    attribution_truth,
    compare_attributions,
)
from clvlib.method.model import ClusterLSTMVAE, CLVConfig
from clvlib.method.rankings import tidy

N = 73 * 6
NAMES = ("t2m", "d2m", "strd", "u10", "skt")  # two clusters; u10 is a candidate driver, skt a response


def _time(n: int = N) -> pd.DatetimeIndex:
    return five_day_time(n)


def _series(seed: int = 0, n: int = N) -> np.ndarray:
    return two_cluster_series(seed, n)


@pytest.fixture(scope="module")
def setup():
    cfg = CLVConfig(epochs=20, batch_size=32, learning_rate=3e-3, patience=20)
    model = ClusterLSTMVAE([[0, 1, 2], [3, 4]], cfg, random_state=0, progress=False).fit(_series())
    x = _series(1)
    steps = np.array([200, 201, 300])
    x[200:202, 3] += 3.0  # event 1: u10 driven
    x[300, 3] += 3.0  # event 2: u10 driven
    time = _time()
    score = model.decision_function(x)
    threshold = np.full(N, 0.5 * score[steps].min())
    base = baseline_values(x, time, "median")
    tables = compare_attributions(
        model, x, steps, base, time, np.array([1, 1, 2]), NAMES, threshold, CompareConfig(n_permutations=4)
    )
    return model, x, steps, base, time, tables


def test_every_method_explains_the_same_steps_and_the_paper_row_is_plain_occlusion(setup):
    model, x, steps, base, time, tables = setup
    assert list(tables) == list(ATTRIBUTIONS)
    for name, table in tables.items():
        expected = {1, 2} if name == "counterfactual" else set(time[steps])
        column = "event_id" if name == "counterfactual" else "time"
        assert set(table[column]) == expected and len(table) % len(NAMES) == 0
    paper = tidy(attribute(model, x, steps, base), time[steps], np.array([1, 1, 2]), NAMES)
    pd.testing.assert_frame_equal(tables[PAPER_ATTRIBUTION], paper)
    assert len(tables["counterfactual"]) == 2 * len(NAMES)  # one peak step per event


def test_the_planted_driver_is_named_first_by_the_paper_and_the_counterfactual(setup):
    *_, tables = setup
    for name in (PAPER_ATTRIBUTION, "occlusion |delta|", "counterfactual"):
        top = tables[name][tables[name]["rank"] == 1]["feature"]
        assert set(top) == {"u10"}, name


def test_truth_table_scores_every_method_among_candidate_drivers(setup):
    *_, time, tables = setup
    events = pd.DataFrame(
        {"event_id": [1, 2], "start": time[[200, 300]], "end": time[[201, 300]], "reference_ids": ["7", "8"]}
    )
    truth = pd.DataFrame({"event_id": [7, 8], "type": ["foehn", "foehn"], "drivers": ["u10;sshf;t2m", "u10;sshf;t2m"]})
    table = attribution_truth(tables, events, truth, NAMES, "era5")
    overall = table[table["type"] == "all"].set_index("method")
    assert list(overall.index) == list(ATTRIBUTIONS)
    assert (overall["n_events"] == 2).all()
    assert overall.loc[PAPER_ATTRIBUTION, "top1_accuracy"] == 1.0
    assert overall.loc[PAPER_ATTRIBUTION, "response_first_share"] == 0.0  # skt never outranks u10


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown attribution methods"):
        CompareConfig(methods=("saliency",))


def test_cluster_methods_from_one_coalition_pass_equal_the_separate_functions(setup):
    from clvlib.method.attribution import attribute_groups
    from clvlib.method.attribution_alternatives import (
        attribute_hierarchical,
        attribute_shapley_groups,
        hierarchical_scores,
    )

    model, x, steps, base, time, tables = setup
    groups = model.clusters
    hier = attribute_hierarchical(model, x, steps, base, groups, by="abs")
    expected = tidy(hier, time[steps], np.array([1, 1, 2]), NAMES)
    pd.testing.assert_frame_equal(tables["cluster occlusion, then |delta|"], expected)
    shap = hierarchical_scores(
        attribute_shapley_groups(model, x, steps, base, groups), attribute(model, x, steps, base), groups, by="abs"
    )
    pd.testing.assert_frame_equal(
        tables["cluster Shapley, then |delta|"], tidy(shap, time[steps], np.array([1, 1, 2]), NAMES)
    )
    assert attribute_groups(model, x, steps, base, groups).shape == (3, 2)
