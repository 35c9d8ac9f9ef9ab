"""The selection of the best configuration: the committed table and CLVConfig.best() agree, and the
selection never uses the reported seed."""

from __future__ import annotations

import ast

import pytest

from clvlib.config import REPORTED_SEEDS, TUNING_SEEDS
from clvlib.method.model import CLVConfig
from clvlib.method.selected import read_selection
from clvlib.pipeline.selection import candidate_configs, chosen, main, tuning_sets


def test_best_is_the_candidate_the_committed_selection_chose():
    summary = read_selection()
    name = chosen(summary)
    config = candidate_configs(summary)[name]
    assert CLVConfig.best() == config
    recorded = ast.literal_eval(summary.loc[summary["chosen"], "config"].iloc[0])
    assert (
        recorded == {k: (list(v) if isinstance(v, tuple) else v) for k, v in config.__dict__.items()}
        or CLVConfig(**{**recorded, "train_months": tuple(recorded["train_months"])}) == config
    )


def test_selection_compares_candidates_with_baselines_on_the_tuning_seeds_only():
    summary = read_selection()
    assert set(summary["kind"]) == {"candidate", "baseline"}
    assert {"mean z^2 (trivial)", "max abs z", "Isolation Forest"} <= set(summary["method"])
    assert not set(TUNING_SEEDS) & set(REPORTED_SEEDS)


def test_the_reported_seed_cannot_be_used_for_tuning():
    with pytest.raises(SystemExit):
        main(["--seeds", "0,1"])


def test_tuning_sets_give_each_seed_and_data_set_its_preprocessed_features_and_truth():
    sets = [
        (seed, ds, f["za"].shape, f["is_train"].values.any(), len(truth))
        for seed, ds, f, truth in tuning_sets([1], ["era5", "gemb"], 2011, "test")
    ]
    assert [(s[0], s[1]) for s in sets] == [(1, "era5"), (1, "gemb")]
    assert all(shape[0] == 11 * 73 and ok and n_events > 0 for _, _, shape, ok, n_events in sets)
