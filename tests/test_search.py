"""The Optuna search of the CLV settings: reproducible from its seed, resumable, the named settings tried first,
the trials table honest about every trial, the reported seeds refused."""

from __future__ import annotations

import math
from dataclasses import fields

import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, IntDistribution

from clvlib.method.model import CLVConfig
from clvlib.method.selected import read_search
from clvlib.pipeline.search import (
    ENQUEUED,
    SPACE,
    config_from_params,
    confirm,
    main,
    params_from_config,
    run_search,
    search_sets,
    top_candidates,
    trials_table,
)
from clvlib.pipeline.selection import Candidate, candidate_configs, chosen


def cheap(trial: optuna.Trial) -> float:
    """A stand-in objective of the declared space: best near latent 3, learning rate 1e-3, gaussian score."""
    p = {name: trial.suggest_categorical(name, d.choices) for name, d in SPACE.items() if hasattr(d, "choices")}
    latent = trial.suggest_int("latent_dim", 1, 8)
    epochs = trial.suggest_int("epochs", 2, 40, log=True)
    lr = trial.suggest_float("learning_rate", 1e-4, 3e-3, log=True)
    kl = trial.suggest_float("kl_weight", 1e-4, 1.0, log=True)
    dropout = trial.suggest_float("dropout", 0.0, 0.5)
    bonus = {"gaussian": 1.0, "standardized": 0.5, "mse": 0.0}[p["score"]]
    return bonus - (latent - 3) ** 2 / 10 - math.log10(lr / 1e-3) ** 2 - 0.01 * epochs - 0.1 * kl - dropout / 10


def params(study: optuna.Study) -> list[dict]:
    return [t.params for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]


def test_the_named_settings_round_trip_through_the_space_and_are_tried_first(tmp_path):
    for name, config in ENQUEUED.items():
        assert config_from_params(params_from_config(config)) == config, name
    study = run_search([], 5, f"sqlite:///{tmp_path / 's.db'}", seed=3, study_objective=cheap)
    names = [t.user_attrs.get("name", "") for t in study.trials]
    assert names == ["paper", "original", "best", "", ""]
    assert [config_from_params(p) for p in params(study)[:3]] == list(ENQUEUED.values())
    best = max(t.value for t in study.trials)
    assert best >= max(t.value for t in study.trials[:3])  # at least as good as every named setting


def test_the_same_seed_gives_the_same_trials_in_one_sitting_or_two(tmp_path):
    once = run_search([], 14, f"sqlite:///{tmp_path / 'a.db'}", seed=7, study_objective=cheap, n_startup_trials=4)
    run_search([], 9, f"sqlite:///{tmp_path / 'b.db'}", seed=7, study_objective=cheap, n_startup_trials=4)
    twice = run_search([], 14, f"sqlite:///{tmp_path / 'b.db'}", seed=7, study_objective=cheap, n_startup_trials=4)
    other = run_search([], 14, f"sqlite:///{tmp_path / 'c.db'}", seed=8, study_objective=cheap, n_startup_trials=4)
    assert len(params(once)) == 14
    assert params(once) == params(twice)
    assert params(once)[:3] == params(other)[:3]  # the enqueued ones
    assert params(once)[3:] != params(other)[3:]
    # after the random start-up trials, TPE models the results: it does better than the random ones on average
    values = [t.value for t in once.trials]
    assert sum(values[9:]) / 5 > sum(values[3:7]) / 4


def test_an_enqueued_trial_cut_short_is_tried_again_on_resume(tmp_path):
    storage = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(study_name="clv-best", storage=storage, direction="maximize")
    study.enqueue_trial(params_from_config(CLVConfig.paper()), user_attrs={"name": "paper"})
    study.ask()  # a sitting killed during the paper's trial leaves it running
    resumed = run_search([], 3, storage, seed=0, study_objective=cheap)
    states = [(t.user_attrs.get("name"), t.state.name) for t in resumed.trials]
    assert states[0] == ("paper", "RUNNING")
    assert ("paper", "COMPLETE") in states and ("original", "COMPLETE") in states and ("best", "COMPLETE") in states
    table = trials_table(resumed)
    assert list(table["state"]).count("running") == 1 and len(table) == 4


def test_a_failing_trial_is_recorded_and_the_search_goes_on(tmp_path):
    def fails_on_paper(trial: optuna.Trial) -> float:
        if trial.suggest_categorical("score", ("mse", "standardized", "gaussian")) == "mse":
            raise RuntimeError("loss is NaN")
        return 1.0

    study = run_search([], 4, f"sqlite:///{tmp_path / 's.db'}", seed=0, study_objective=fails_on_paper)
    table = trials_table(study)
    assert len(table) == 4
    assert set(table.loc[table["name"] == "paper", "state"]) == {"fail"}
    assert table["state"].iloc[0] == "complete"  # best first, the failed ones last


def test_top_candidates_skip_the_named_settings_and_rank_by_pr_auc():
    rows = [
        {"trial": 0, "kind": "trial", "state": "complete", "pr_auc": 0.9, **params_from_config(CLVConfig.best())},
        {"trial": 5, "kind": "trial", "state": "fail", "pr_auc": None, **params_from_config(CLVConfig(latent_dim=1))},
        {
            "trial": 7,
            "kind": "trial",
            "state": "complete",
            "pr_auc": 0.8,
            **params_from_config(CLVConfig(latent_dim=2)),
        },
        {
            "trial": 4,
            "kind": "trial",
            "state": "complete",
            "pr_auc": 0.7,
            **params_from_config(CLVConfig(latent_dim=3)),
        },
        {"trial": None, "kind": "baseline", "state": None, "pr_auc": 0.95},
    ]
    chosen = top_candidates(pd.DataFrame(rows), 2)
    assert [(c.name, c.config.latent_dim) for c in chosen] == [("search #7", 2), ("search #4", 3)]


def test_the_real_objective_is_reproducible_on_a_short_record(tmp_path):
    sets = search_sets([1], ["era5"], ["synoptic"], 2012)
    space = {
        "score": CategoricalDistribution(("mse", "gaussian")),
        "latent_dim": IntDistribution(1, 5),
        "epochs": IntDistribution(1, 2),
    }
    named = {"two epochs": CLVConfig(score="gaussian", epochs=2)}
    runs = [
        run_search(
            sets, 2, f"sqlite:///{tmp_path / f'{i}.db'}", seed=1, space=space, enqueued=named, n_startup_trials=1
        )
        for i in range(2)
    ]
    tables = [trials_table(r) for r in runs]
    pd.testing.assert_frame_equal(tables[0].drop(columns="seconds"), tables[1].drop(columns="seconds"))
    assert tables[0]["pr_auc"].between(0, 1).all() and (tables[0]["pr_auc_synoptic"] == tables[0]["pr_auc"]).all()


def test_the_reported_seeds_cannot_be_searched_on():
    with pytest.raises(SystemExit):
        main(["--seeds", "1,4"])


def test_the_space_names_only_fields_of_the_configuration():
    assert set(SPACE) <= {f.name for f in fields(CLVConfig)}


def test_confirmed_trials_join_the_selection_tables_once(tmp_path):
    runs = pd.DataFrame(
        [
            {"method": name, "kind": kind, "world": "default", "seed": 1, "dataset": "era5", "pr_auc": value}
            | {"f1": 0.5, "event_recall": 0.8, "event_precision": 0.7}
            for name, kind, value in [("paper", "candidate", 0.01), ("Mahalanobis", "baseline", 0.02)]
        ]
    )
    runs.to_csv(tmp_path / "selection_runs.csv", index=False)
    trial = Candidate("search #9", CLVConfig(score="gaussian", epochs=2, latent_dim=2))
    for _ in range(2):  # a second confirmation replaces the first's rows
        summary = confirm((trial,), [1], ["era5"], ["default"], "quick", tmp_path)
    written = pd.read_csv(tmp_path / "selection_runs.csv")
    assert sorted(written["method"]) == ["Mahalanobis", "paper", "search #9"]
    assert chosen(summary) == "search #9"  # the planted paper row scores 0.01
    assert "'latent_dim': 2" in summary.set_index("method").loc["search #9", "config"]
    assert (tmp_path / "selection.csv").is_file()
    later = Candidate("search #11", CLVConfig(score="gaussian", epochs=1))
    summary = confirm((later,), [1], ["era5"], ["default"], "quick", tmp_path)  # a later confirmation
    configs = candidate_configs(summary)  # keeps the settings of the trial confirmed before
    assert configs["search #9"] == trial.config and configs["search #11"] == later.config


def test_confirming_without_a_selection_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="make select"):
        confirm((), [1], ["era5"], ["default"], "quick", tmp_path)


def test_the_committed_search_tried_the_named_settings_first_and_shows_the_baselines():
    trials = read_search()
    done = trials[trials["kind"] == "trial"]
    named = done[done["name"].isin(list(ENQUEUED))]
    assert sorted(named["name"]) == sorted(ENQUEUED) and sorted(named["trial"]) == [0, 1, 2]
    assert set(done["state"]) <= {"complete", "fail"} and len(done) >= 20
    assert done["pr_auc"].max() >= named["pr_auc"].max()  # at least as good as every named setting
    assert {"Mahalanobis", "PCA residual", "mean z^2 (trivial)"} <= set(
        trials.loc[trials["kind"] == "baseline", "name"]
    )
    assert trials.loc[trials["kind"] == "trial", "pr_auc"].dropna().is_monotonic_decreasing  # best first


def test_the_trials_table_keeps_the_exact_settings_so_a_confirmed_trial_is_the_trial(tmp_path):
    study = run_search([], 5, f"sqlite:///{tmp_path / 's.db'}", seed=3, study_objective=cheap)
    path = tmp_path / "trials.csv"
    trials_table(study).to_csv(path, index=False)
    (confirmed,) = top_candidates(pd.read_csv(path), 1)
    trial = study.trials[int(confirmed.name.removeprefix("search #"))]
    assert confirmed.config == config_from_params(trial.params)
