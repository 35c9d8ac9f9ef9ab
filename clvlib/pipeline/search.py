"""The selection as a search: Optuna's TPE sampler over a declared space of CLV settings, on the tuning seeds.

:mod:`clvlib.pipeline.selection` compares a short hand-written list of candidates on the full record.
This module searches the declared :data:`SPACE` instead, on a shorter record (the quick profile's,
1991-2021) of the same tuning seeds of both worlds: each trial trains one configuration on every
(world, seed, data set) and is scored by its mean PR-AUC over them, on the melt-season steps of the
training years (the held-out year is never looked at), as the selection scores its candidates. The
paper's settings, the author's original ones and the current ``best`` are enqueued as the first
trials, so the best trial is at least as good as each of them on the search's own sets by
construction. The top few trials are then confirmed on the full record by the selection
(``python -m clvlib.pipeline.selection --only ...``).

The study lives in SQLite (``search.db`` beside the selection tables): an interrupted search resumes
where it stopped. Each trial loads the study with a sampler seeded by ``seed + trial number``, so the
sequence of trials is the same whether the search ran at once or in several sittings. The trials
table (``search_trials.csv``) holds every trial, its settings, its mean PR-AUC per world and its
duration, with the textbook baselines computed on the same sets below them.

Command line (``make search``; 24 trials took 67 minutes on one core, 45-450 s a trial)::

    python -m clvlib.pipeline.search --trials 24 --seeds 1,2,3 --out paper/selection

Optuna is used rather than a hand-written grid: its TPE sampler, SQLite storage and enqueued trials
are exactly what the search needs.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from clvlib.config import REPORTED_SEEDS, TUNING_SEEDS, get_profile
from clvlib.method.model import CLVConfig
from clvlib.method.selected import SELECTION
from clvlib.pipeline.selection import (
    CANDIDATES,
    MELT_MONTHS,
    Candidate,
    candidate_configs,
    chosen,
    evaluate_candidates,
    summarise,
    tuning_sets,
)
from clvlib.synthetic.events import WORLDS

__all__ = [
    "SPACE",
    "ENQUEUED",
    "SearchSet",
    "config_from_params",
    "objective",
    "params_from_config",
    "search_sets",
    "run_search",
    "trials_table",
    "top_candidates",
    "confirm",
    "main",
]

#: The declared search space: CLVConfig field -> Optuna distribution. ``train_months`` is a label
#: ("all" or "melt season"); everything not named here keeps :class:`CLVConfig`'s default.
SPACE: dict[str, BaseDistribution] = {
    "score": CategoricalDistribution(("mse", "standardized", "gaussian")),
    "latent_dim": IntDistribution(1, 8),
    "epochs": IntDistribution(2, 40, log=True),
    "learning_rate": FloatDistribution(1e-4, 3e-3, log=True),
    "batch_size": CategoricalDistribution((64, 128, 256, 512)),
    "kl_weight": FloatDistribution(1e-4, 1.0, log=True),
    "dropout": FloatDistribution(0.0, 0.5),
    "window": CategoricalDistribution((7, 15, 30)),
    "train_months": CategoricalDistribution(("all", "melt season")),
}

#: The named configurations enqueued as the first trials (name -> configuration).
ENQUEUED: dict[str, CLVConfig] = {
    "paper": CLVConfig.paper(),
    "original": CLVConfig.original(),
    "best": CLVConfig.best(),
}

_MONTHS = {"all": (), "melt season": MELT_MONTHS}
STUDY = "clv-best"


@dataclass(frozen=True)
class SearchSet:
    """One (world, seed, data set) a trial is scored on: its features and the injected events' truth."""

    world: str
    seed: int
    dataset: str
    features: Any
    truth: pd.DataFrame


def config_from_params(params: dict[str, Any]) -> CLVConfig:
    """The :class:`CLVConfig` of a trial's parameters (names of :data:`SPACE`).

    Examples
    --------
    >>> config_from_params({"score": "gaussian", "epochs": 10, "train_months": "all"}) == CLVConfig.best()
    True
    """
    values = dict(params)
    if "train_months" in values:
        values["train_months"] = _MONTHS[values["train_months"]]
    return CLVConfig(**values)


def params_from_config(config: CLVConfig, space: dict[str, BaseDistribution] = SPACE) -> dict[str, Any]:
    """The parameters of ``space`` that give ``config`` (the inverse of :func:`config_from_params`).

    Examples
    --------
    >>> params_from_config(CLVConfig.original())["batch_size"], params_from_config(CLVConfig())["train_months"]
    (512, 'all')
    """
    values = asdict(config)
    labels = {months: label for label, months in _MONTHS.items()}
    if values["train_months"] not in labels:
        raise ValueError(f"train_months {values['train_months']} is not in the search space: one of {_MONTHS}")
    values["train_months"] = labels[values["train_months"]]
    return {name: values[name] for name in space}


def _suggest(trial: optuna.Trial, space: dict[str, BaseDistribution]) -> dict[str, Any]:
    """Ask ``trial`` for a value of every parameter of ``space``, through its public ``suggest_*`` methods."""
    params = {}
    for name, dist in space.items():
        if isinstance(dist, CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, dist.choices)
        elif isinstance(dist, IntDistribution):
            params[name] = trial.suggest_int(name, dist.low, dist.high, log=dist.log)
        elif isinstance(dist, FloatDistribution):
            params[name] = trial.suggest_float(name, dist.low, dist.high, log=dist.log)
        else:
            raise TypeError(f"parameter {name!r}: unsupported distribution {dist!r}")
    return params


def search_sets(
    seeds: Sequence[int], datasets: Sequence[str], worlds: Sequence[str], first_year: int
) -> list[SearchSet]:
    """Every (world, seed, data set) of the tuning seeds, preprocessed once and kept in memory."""
    sets = []
    for world in worlds:
        for seed, dataset, features, truth in tuning_sets(
            list(seeds), list(datasets), first_year, f"search sets, {world} world", world
        ):
            sets.append(SearchSet(world, seed, dataset, features.load(), truth))
    return sets


def _set_metrics(config: CLVConfig, sets: Sequence[SearchSet]) -> pd.DataFrame:
    """PR-AUC and event metrics of ``config`` on every set (one row per set)."""
    rows = []
    for s in sets:
        table = evaluate_candidates(
            s.features, s.truth, (Candidate("trial", config),), s.seed, config.epochs, progress=False, baselines=False
        )
        rows.append({"world": s.world, "seed": s.seed, "dataset": s.dataset, **table.iloc[0].to_dict()})
    return pd.DataFrame(rows)


def objective(sets: Sequence[SearchSet], space: dict[str, BaseDistribution]) -> Callable[[optuna.Trial], float]:
    """The function Optuna maximises: mean PR-AUC of the trial's configuration over ``sets``.

    The mean PR-AUC of each world, the mean event recall and precision and the seconds taken are kept
    as the trial's user attributes.
    """

    def score(trial: optuna.Trial) -> float:
        start = time.perf_counter()
        config = config_from_params(_suggest(trial, space))
        metrics = _set_metrics(config, sets)
        for world, value in metrics.groupby("world")["pr_auc"].mean().items():
            trial.set_user_attr(f"pr_auc_{world}", round(float(value), 4))
        for column in ("event_recall", "event_precision"):
            trial.set_user_attr(column, round(float(metrics[column].mean()), 4))
        trial.set_user_attr("seconds", round(time.perf_counter() - start, 1))
        return float(metrics["pr_auc"].mean())

    return score


def run_search(
    sets: Sequence[SearchSet],
    n_trials: int,
    storage: str,
    seed: int = 0,
    space: dict[str, BaseDistribution] = SPACE,
    enqueued: dict[str, CLVConfig] = ENQUEUED,
    study_objective: Callable[[optuna.Trial], float] | None = None,
    n_startup_trials: int = 8,
) -> optuna.Study:
    """Run (or resume) the study in ``storage`` until it holds ``n_trials`` finished trials.

    Parameters
    ----------
    sets : sequence of SearchSet
        What each trial is scored on (ignored when ``study_objective`` is given).
    n_trials : int
        Finished trials (complete or failed) the study should hold; a resumed study runs only the rest.
    storage : str
        An Optuna storage URL, e.g. ``sqlite:///paper/selection/search.db``.
    seed : int
        Trial ``n`` is sampled by a TPE sampler seeded ``seed + n``: the same seed gives the same
        trials, in one sitting or several.
    space, enqueued
        The declared space and the named configurations tried first (in their order).
    study_objective : callable, optional
        Replaces the objective (tests use a cheap one).
    n_startup_trials : int
        Trials sampled at random (after the enqueued ones count) before TPE models the results.

    Returns
    -------
    optuna.Study
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=STUDY, storage=storage, direction="maximize", load_if_exists=True)
    _enqueue_missing(study, enqueued, space)
    func = study_objective or objective(sets, space)
    while (done := len(_finished(study))) < n_trials:
        # constant_liar off: a trial left running by an interrupted sitting does not steer the sampler
        sampler = optuna.samplers.TPESampler(seed=seed + done, n_startup_trials=n_startup_trials, constant_liar=False)
        study = optuna.load_study(study_name=STUDY, storage=storage, sampler=sampler)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.optimize(func, n_trials=1, catch=(RuntimeError, ValueError, FloatingPointError))
        last = _finished(study)[-1]
        value = "failed" if last.value is None else f"mean PR-AUC {last.value:.4f}"
        print(f"trial {last.number} ({done + 1} of {n_trials}): {value}, {last.params}", flush=True)
    return study


def _finished(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The study's complete and failed trials, in order."""
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
    return [t for t in study.trials if t.state in states]


def _enqueue_missing(study: optuna.Study, enqueued: dict[str, CLVConfig], space: dict[str, BaseDistribution]) -> None:
    """Enqueue every named configuration not yet complete nor waiting (one cut short by an interruption again)."""
    present = {
        t.user_attrs.get("name")
        for t in study.trials
        if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.WAITING)
    }
    for name, config in enqueued.items():
        if name not in present:
            study.enqueue_trial(params_from_config(config, space), user_attrs={"name": name})


def trials_table(study: optuna.Study, baselines: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per trial, best first: its name (enqueued ones), mean PR-AUC overall and per world, settings, seconds.

    ``baselines`` (rows with ``method`` and ``pr_auc_*`` columns, from the same sets) are appended
    below the trials, marked ``kind = baseline``, so the table shows what the textbook statistics
    give on the search's own record.
    """
    rows = []
    for t in study.trials:
        if t.state == optuna.trial.TrialState.WAITING:
            continue
        attrs = dict(t.user_attrs)
        rows.append(
            {"trial": t.number, "name": attrs.pop("name", ""), "kind": "trial", "state": t.state.name.lower()}
            | {"pr_auc": t.value, **attrs, **t.params}
        )
    table = pd.DataFrame(rows).sort_values("pr_auc", ascending=False, kind="stable", na_position="last")
    if baselines is not None:
        table = pd.concat([table, baselines.assign(kind="baseline")], ignore_index=True)
    first = ["trial", "name", "kind", "state", "pr_auc"]
    worlds = sorted(c for c in table.columns if c.startswith("pr_auc_"))
    order = first + worlds + ["event_recall", "event_precision", *SPACE, "seconds"]
    table = table.reindex(columns=[c for c in order if c in table.columns])
    table = table.reset_index(drop=True).convert_dtypes()
    metrics = [c for c in table.columns if c.startswith(("pr_auc", "event_")) or c == "seconds"]
    return table.round({c: 4 for c in metrics})  # the settings stay exact: top_candidates reads them back


def top_candidates(trials: pd.DataFrame, k: int) -> tuple[Candidate, ...]:
    """The ``k`` best finished trials of a :func:`trials_table` as selection candidates named ``search #n``.

    A trial whose configuration is already one of :data:`ENQUEUED` is skipped (the selection has it).

    Examples
    --------
    >>> trials = pd.DataFrame({"trial": [3, 0], "kind": "trial", "state": "complete", "pr_auc": [0.7, 0.6],
    ...     **{k: [v, v] for k, v in params_from_config(CLVConfig(score="gaussian", latent_dim=2)).items()}})
    >>> [(c.name, c.config.latent_dim) for c in top_candidates(trials, 1)]
    [('search #3', 2)]
    """
    done = trials[(trials["kind"] == "trial") & (trials["state"] == "complete")].sort_values(
        "pr_auc", ascending=False, kind="stable"
    )
    known = set(ENQUEUED.values())
    out = []
    for row in done.itertuples(index=False):
        params = {name: _typed(getattr(row, name), dist) for name, dist in SPACE.items()}
        config = config_from_params(params)
        if config not in known:
            out.append(Candidate(f"search #{int(row.trial)}", config))
        if len(out) == k:
            break
    return tuple(out)


def _typed(value: Any, dist: BaseDistribution) -> Any:
    """A value read back from a table (a float where a column has gaps) as its distribution gives it."""
    if isinstance(dist, CategoricalDistribution):
        return next(c for c in dist.choices if c == value)
    if isinstance(dist, IntDistribution):
        return int(value)
    return float(value)


def _baseline_rows(sets: Sequence[SearchSet]) -> pd.DataFrame:
    """Mean PR-AUC of the textbook baselines over ``sets``, overall and per world."""
    rows = []
    for s in sets:
        table = evaluate_candidates(s.features, s.truth, (), s.seed, 1, progress=False)
        rows.append(table.assign(world=s.world))
    runs = pd.concat(rows, ignore_index=True)
    out = runs.groupby("method")["pr_auc"].mean().rename("pr_auc").to_frame()
    out = out.join(runs.pivot_table(index="method", columns="world", values="pr_auc").add_prefix("pr_auc_"))
    for column in ("event_recall", "event_precision"):
        out[column] = runs.groupby("method")[column].mean()
    return out.reset_index().rename(columns={"method": "name"}).sort_values("pr_auc", ascending=False)


def confirm(
    candidates: tuple[Candidate, ...],
    seeds: Sequence[int],
    datasets: Sequence[str],
    worlds: Sequence[str],
    profile: str,
    folder: Path,
    cache: Path | None = None,
) -> pd.DataFrame:
    """Score ``candidates`` on the selection's full record and add them to its tables in ``folder``.

    Each candidate is trained and scored on every (world, tuning seed, data set) exactly as
    :func:`clvlib.pipeline.selection.evaluate_candidates` scores the hand-written ones; its rows
    replace any earlier rows of the same name in ``selection_runs.csv``, and ``selection.csv`` is
    summarised again (so a confirmed trial can become the chosen configuration, which
    :meth:`clvlib.method.model.CLVConfig.best` must then name). With ``cache``, the fitted models are
    kept where the selection's attribution stage finds them (``--attribution-only``). Returns the new summary.
    """
    prof = get_profile(profile)
    runs_path = folder / "selection_runs.csv"
    if not runs_path.is_file():
        raise FileNotFoundError(f"{runs_path}: run the selection first (`make select`), then confirm the search")
    runs = pd.read_csv(runs_path)
    summary_path = folder / "selection.csv"
    known = (
        candidate_configs(pd.read_csv(summary_path))
        if summary_path.is_file()
        else {c.name: c.config for c in CANDIDATES}
    )
    names = [c.name for c in candidates]
    rows = [runs[~runs["method"].isin(names)]]
    for world in worlds:
        for seed, dataset, features, truth in tuning_sets(
            list(seeds), list(datasets), prof.first_year, f"confirming, {world} world", world
        ):
            where = None if cache is None else cache / world / f"seed-{seed}" / dataset
            table = evaluate_candidates(features, truth, candidates, seed, prof.epochs, cache=where, baselines=False)
            rows.append(table.assign(world=world, seed=seed, dataset=dataset, profile=profile))
    runs = pd.concat(rows, ignore_index=True)
    runs.round(4).to_csv(runs_path, index=False)
    summary = summarise(runs)
    # every candidate keeps its settings: the hand-written ones, those confirmed before, these
    configs = {name: asdict(config) for name, config in known.items()} | {c.name: asdict(c.config) for c in candidates}
    summary["config"] = summary["method"].map(lambda m: str(configs.get(m, "")))
    summary.to_csv(folder / "selection.csv", index=False)
    print(summary.drop(columns="config").to_string())
    print(f"chosen: {chosen(summary)}")
    return summary


def main(argv: list[str] | None = None) -> None:
    """Command line: run or resume the search and write its trials table; or confirm its top trials."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=24, help="finished trials the study should hold")
    parser.add_argument("--seeds", default=",".join(map(str, TUNING_SEEDS)))
    parser.add_argument("--datasets", default="era5,gemb")
    parser.add_argument("--worlds", default=",".join(WORLDS))
    parser.add_argument("--profile", default="quick", help="the record searched on (quick: 1991-2021)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the TPE sampler")
    parser.add_argument("--out", type=Path, default=SELECTION)
    parser.add_argument(
        "--confirm",
        type=int,
        metavar="K",
        help="score the K best trials of OUT/search_trials.csv on the full record and add them to the selection",
    )
    parser.add_argument(
        "--cache", type=Path, default=Path("build/selection"), help="with --confirm: where the fitted models are kept"
    )
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if set(seeds) & set(REPORTED_SEEDS):
        parser.error(
            f"seeds {sorted(set(seeds) & set(REPORTED_SEEDS))} are reported (make paper, make seeds): tune on others"
        )
    if args.confirm:
        candidates = top_candidates(pd.read_csv(args.out / "search_trials.csv"), args.confirm)
        confirm(candidates, seeds, args.datasets.split(","), args.worlds.split(","), "full", args.out, args.cache)
        return
    first_year = get_profile(args.profile).first_year
    sets = search_sets(seeds, args.datasets.split(","), args.worlds.split(","), first_year)
    args.out.mkdir(parents=True, exist_ok=True)
    study = run_search(sets, args.trials, f"sqlite:///{args.out / 'search.db'}", seed=args.seed)
    table = trials_table(study, _baseline_rows(sets))
    table.to_csv(args.out / "search_trials.csv", index=False)
    print(table.to_string())


if __name__ == "__main__":
    main()
