"""Choosing the ``best`` CLV configuration on tuning seeds that are never reported.

The rule of the project: settings are selected on seeds of the embedded default whose numbers do
not go into the paper's tables (the tuning seeds, 1-3 by default), never on the reported seeds
(0, and 4 and 6, the other defaults of ``make seeds``) and never on the held-out year. For each synthetic
world (:data:`clvlib.synthetic.events.WORLDS`, both by default), tuning seed and data set, every
candidate configuration is trained on the training years and scored; the selection criterion is the
mean PR-AUC over worlds, tuning seeds and data sets on the melt-season steps of the training years
(the held-out year is excluded), with the same baselines computed on the same steps so the table
shows what each candidate gains over them, per world too.

Command line (what ``make select`` calls; about an hour on two cores for the detector, as long again
for the attribution stage)::

    python -m clvlib.pipeline.selection --seeds 1,2,3 --profile full --out paper/selection

writes ``selection_runs.csv`` (one row per world, seed, data set and candidate or baseline) and
``selection.csv`` (the mean and spread per candidate, ranked, with the chosen one marked). The
chosen candidate's settings are those of :meth:`clvlib.method.model.CLVConfig.best`; a test checks that
the two agree. A second stage compares the attribution methods
(:mod:`clvlib.method.attribution_compare`) on the chosen configuration's detections in the training years
2001-2020 of the same seeds and writes ``attribution_selection_runs.csv`` and
``attribution_selection.csv`` (the recommended attribution marked ``chosen``); ``--attribution-only``
reruns just that stage from the cached models, ``--skip-attribution`` skips it.
"""

from __future__ import annotations

import argparse
import ast
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from clvlib.config import REPORTED_SEEDS, TUNING_SEEDS, PreprocessConfig, get_profile
from clvlib.method.attribution import baseline_values
from clvlib.method.attribution_compare import CompareConfig, attribution_truth, compare_attributions
from clvlib.method.baselines import baseline_scores
from clvlib.method.clustering import CorrelationClusterer
from clvlib.method.detection import DetectConfig, comparison_table, detect, detected_events, match_events
from clvlib.method.evaluation import melt_season
from clvlib.method.model import ClusterLSTMVAE, CLVConfig
from clvlib.method.preprocess import preprocess
from clvlib.method.selected import SELECTION
from clvlib.synthetic.events import WORLDS
from clvlib.synthetic.generator import SyntheticConfig
from clvlib.synthetic.rawdata import load_daily, load_truth, write_synthetic
from clvlib.variables import dataset_variables

__all__ = [
    "Candidate",
    "MELT_MONTHS",
    "CANDIDATES",
    "evaluate_candidates",
    "summarise",
    "chosen",
    "candidate_configs",
    "evaluate_attributions",
    "summarise_attributions",
    "tuning_sets",
    "main",
]


MELT_MONTHS: tuple[int, ...] = (5, 6, 7, 8, 9)
_DEFAULT_COMPARE = CompareConfig()  # the default of evaluate_attributions (frozen, so one instance serves every call)


@dataclass(frozen=True)
class Candidate:
    """A named CLV configuration tried in the selection.

    Attributes
    ----------
    name : str
        Short label.
    config : CLVConfig
        Its hyper-parameters (``epochs`` is capped by the profile).
    """

    name: str
    config: CLVConfig = field(default_factory=CLVConfig)


CANDIDATES: tuple[Candidate, ...] = (
    Candidate("paper", CLVConfig()),
    Candidate("standardized", CLVConfig(score="standardized")),
    Candidate("gaussian", CLVConfig(score="gaussian")),
    Candidate("melt season", CLVConfig(train_months=MELT_MONTHS)),
    Candidate("standardized, melt season", CLVConfig(score="standardized", train_months=MELT_MONTHS)),
    Candidate("gaussian, melt season", CLVConfig(score="gaussian", train_months=MELT_MONTHS)),
    Candidate("standardized, latent 2", CLVConfig(score="standardized", latent_dim=2)),
    Candidate("gaussian, latent 2", CLVConfig(score="gaussian", latent_dim=2)),
    Candidate("gaussian, 10 epochs", CLVConfig(score="gaussian", epochs=10)),
)


def _features(raw: Path, dataset: str, first_year: int) -> xr.Dataset:
    """Preprocessed features of the synthetic default in ``raw`` (as notebook 01 makes them)."""
    config = PreprocessConfig(dataset=dataset, first_year=first_year)
    return preprocess(load_daily(raw, dataset), dataset_variables(dataset), config, source=str(raw)).features


def evaluate_candidates(
    features,
    truth: pd.DataFrame,
    candidates: tuple[Candidate, ...],
    seed: int,
    max_epochs: int,
    progress: bool = True,
    cache: Path | None = None,
    baselines: bool = True,
) -> pd.DataFrame:
    """PR-AUC and detection metrics of every candidate and baseline on one data set.

    Only training-year melt-season steps count (the held-out year is never looked at). With
    ``cache``, each fitted model is saved to (or, when present, loaded from) ``cache/<candidate>``
    so that a later attribution comparison can reuse it; ``baselines=False`` leaves the textbook
    baselines out (the search scores them once, not per trial).

    Returns
    -------
    pandas.DataFrame
        One row per candidate or baseline: method, kind (candidate/baseline), the metrics of
        :func:`clvlib.method.detection.comparison_table`, epochs run, best epoch and training MSE.
    """
    names = tuple(features["feature"].values.tolist())
    time = pd.DatetimeIndex(features["time"].values)
    za, is_train, n_days = features["za"].values, features["is_train"].values, features["n_days"].values
    clusters = CorrelationClusterer(random_state=seed).fit(za[is_train], names).groups()
    scores, extra, fitted = {}, {}, {}
    for cand in candidates:
        config = replace(cand.config, epochs=min(cand.config.epochs, max_epochs))
        key = replace(config, score="mse")  # the score does not change training: share the fit
        if key not in fitted:
            folder = None if cache is None else cache / _folder(cand.name)
            if folder is not None and (folder / "history.csv").is_file():
                model = ClusterLSTMVAE.load(folder)
                model.history_ = pd.read_csv(folder / "history.csv", index_col="epoch")
            else:
                model = ClusterLSTMVAE(clusters, key, random_state=seed, progress=False).fit(
                    za[is_train], time[is_train]
                )
                if folder is not None:
                    model.save(folder)
                    model.history_.to_csv(folder / "history.csv")
            hist = model.history_
            fitted[key] = (
                model,
                {
                    "epochs_run": len(hist),
                    "best_epoch": int(hist["val_loss"].idxmin()) + 1,
                    "train_mse_at_best": round(float(hist["train_mse"].min()), 4),
                },
            )
        model, info = fitted[key]
        scores[cand.name] = model.with_score(config.score, za[is_train], time[is_train]).decision_function(za)
        extra[cand.name] = {"kind": "candidate", **info}
        if progress:
            print(f"  {cand.name}: {extra[cand.name]}", flush=True)
    for name, s in (baseline_scores(za, is_train, random_state=seed) if baselines else {}).items():
        scores[name] = s
        extra[name] = {"kind": "baseline"}
    table = comparison_table(scores, time, n_days, truth, DetectConfig(), period=is_train & melt_season(time))
    return pd.concat([table, pd.DataFrame([extra[m] for m in table["method"]])], axis=1)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds and data sets per method, ranked by mean PR-AUC.

    The chosen configuration is the candidate with the highest mean PR-AUC. With a ``world`` column
    the mean PR-AUC of each world is shown too (``pr_auc_<world>``); the choice is on the mean over
    all runs, so a candidate that wins one world and loses the other is not chosen for that.

    Examples
    --------
    >>> runs = pd.DataFrame({"method": ["a", "a", "b", "b"], "kind": ["candidate"] * 4, "seed": [1, 2, 1, 2],
    ...                      "dataset": ["era5"] * 4, "pr_auc": [0.5, 0.7, 0.4, 0.5],
    ...                      "event_recall": [1.0] * 4, "event_precision": [0.5] * 4, "f1": [0.5] * 4})
    >>> summarise(runs)[["method", "pr_auc_mean", "chosen"]].values.tolist()
    [['a', 0.6, True], ['b', 0.45, False]]
    """
    metrics = ["pr_auc", "f1", "event_recall", "event_precision"]
    grouped = runs.groupby(["method", "kind"], sort=False)[metrics]
    out = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=1).add_suffix("_std")).reset_index()
    out["n_runs"] = grouped.size().to_numpy()
    if "world" in runs:  # the mean per world beside the mean over all runs (equal numbers of runs per world)
        per_world = runs.pivot_table(index=["method", "kind"], columns="world", values="pr_auc", aggfunc="mean")
        per_world.columns = [f"pr_auc_{w}" for w in per_world.columns]
        out = out.merge(per_world.reset_index(), on=["method", "kind"])
    out = out.sort_values("pr_auc_mean", ascending=False, kind="stable").reset_index(drop=True)
    best = out[out["kind"] == "candidate"]["pr_auc_mean"].idxmax()
    out["chosen"] = out.index == best
    return out.round(4)


def chosen(summary: pd.DataFrame) -> str:
    """Name of the chosen candidate in a :func:`summarise` table."""
    return str(summary.loc[summary["chosen"], "method"].iloc[0])


def candidate_configs(summary: pd.DataFrame) -> dict[str, CLVConfig]:
    """Configuration of every candidate of a :func:`summarise` table with its ``config`` column (the search's too).

    Examples
    --------
    >>> summary = pd.DataFrame({"method": ["search #3", "Mahalanobis"], "kind": ["candidate", "baseline"],
    ...                         "config": [str(asdict(CLVConfig(latent_dim=2))), None]})
    >>> candidate_configs(summary)["search #3"].latent_dim
    2
    """
    out = {c.name: c.config for c in CANDIDATES}
    for row in summary[summary["kind"] == "candidate"].itertuples(index=False):
        if row.method not in out:
            if not isinstance(row.config, str) or not row.config.startswith("{"):
                raise ValueError(f"candidate {row.method!r} has no settings in the selection table's config column")
            values = ast.literal_eval(row.config)
            out[row.method] = CLVConfig(**{**values, "train_months": tuple(values["train_months"])})
    return out


def _cached_model(cache: Path, config: CLVConfig, max_epochs: int, features, names: list[str]) -> ClusterLSTMVAE:
    """The fitted model of ``config`` from the cache of :func:`evaluate_candidates`, under its own score.

    ``names`` are the candidates whose folders may hold the fit, in order: any candidate trained with
    the same settings (the score does not change training) serves.
    """
    config = replace(config, epochs=min(config.epochs, max_epochs))
    folder = next((cache / _folder(n) for n in names if (cache / _folder(n) / "history.csv").is_file()), None)
    if folder is None:
        raise FileNotFoundError(f"{cache}: no cached model of {names}; rerun the selection without --attribution-only")
    model = ClusterLSTMVAE.load(folder)
    is_train = features["is_train"].values
    return model.with_score(
        config.score, features["za"].values[is_train], pd.DatetimeIndex(features["time"].values)[is_train]
    )


def _folder(name: str) -> str:
    """Cache folder of a candidate."""
    return name.replace(", ", "_").replace(" ", "-")


def evaluate_attributions(
    features,
    truth: pd.DataFrame,
    model: ClusterLSTMVAE,
    dataset: str,
    seed: int,
    config: CompareConfig = _DEFAULT_COMPARE,
    first_year: int = 2001,
) -> pd.DataFrame:
    """Accuracy among candidate drivers of every attribution method on one data set's training-year detections.

    The model's score is thresholded as in notebook 04; the anomalous melt-season steps of the
    training years from ``first_year`` on (the last 20 by default, to bound the cost; never the
    held-out year) are explained by every method of
    :func:`clvlib.method.attribution_compare.compare_attributions` with the paper's yearly-median baseline.

    Returns
    -------
    pandas.DataFrame
        :func:`clvlib.method.attribution_compare.attribution_truth` rows of event type ``all``.
    """
    names = tuple(features["feature"].values.tolist())
    time = pd.DatetimeIndex(features["time"].values)
    za, is_train = features["za"].values, features["is_train"].values
    detection = detect(model.decision_function(za), time, DetectConfig())
    detection.loc[~is_train | (time.year < first_year), "anomaly"] = False
    events = match_events(detected_events(detection, DetectConfig()), truth)
    event_id = np.zeros(len(time), dtype=int)
    for ev in events.itertuples():
        event_id[(time >= ev.start) & (time <= ev.end)] = ev.event_id
    steps = np.flatnonzero(detection["anomaly"].to_numpy())
    tables = compare_attributions(
        model,
        za,
        steps,
        baseline_values(za, time, "median"),
        time,
        event_id[steps],
        names,
        detection["threshold"].to_numpy(),
        replace(config, random_state=seed),
    )
    table = attribution_truth(tables, events, truth, names, dataset)
    return table[table["type"] == "all"].reset_index(drop=True)


def summarise_attributions(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation per attribution method, ranked by mean top-1 accuracy; ``chosen`` marks the first.

    Examples
    --------
    >>> runs = pd.DataFrame({"method": ["a", "a", "b", "b"], "top1_accuracy": [0.5, 0.7, 0.9, 0.8],
    ...                      "top3_accuracy": [1.0] * 4, "response_first_share": [0.1] * 4})
    >>> summarise_attributions(runs)[["method", "top1_accuracy_mean", "chosen"]].values.tolist()
    [['b', 0.85, True], ['a', 0.6, False]]
    """
    metrics = ["top1_accuracy", "top3_accuracy", "response_first_share"]
    grouped = runs.groupby("method", sort=False)[metrics]
    out = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=1).add_suffix("_std")).reset_index()
    out["n_runs"] = grouped.size().to_numpy()
    out = out.sort_values(["top1_accuracy_mean", "top3_accuracy_mean"], ascending=False, kind="stable").reset_index(
        drop=True
    )
    out["chosen"] = out.index == 0
    return out.round(4)


def main(argv: list[str] | None = None) -> None:
    """Command line: run the selection and write its two tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default=",".join(map(str, TUNING_SEEDS)))
    parser.add_argument("--datasets", default="era5,gemb")
    parser.add_argument("--worlds", default=",".join(WORLDS), help="synthetic worlds to tune on (all by default)")
    parser.add_argument("--profile", default="full")
    parser.add_argument("--out", type=Path, default=SELECTION)
    parser.add_argument("--skip-attribution", action="store_true", help="choose the configuration only")
    parser.add_argument(
        "--attribution-only",
        action="store_true",
        help="only the attribution stage, for the configuration chosen in OUT/selection.csv (needs the cache)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path("build/selection"),
        help="folder for the fitted candidate models (reused on a rerun and by the attribution comparison)",
    )
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if set(seeds) & set(REPORTED_SEEDS):
        parser.error(
            f"seeds {sorted(set(seeds) & set(REPORTED_SEEDS))} are reported (make paper, make seeds): tune on others"
        )
    prof = get_profile(args.profile)
    if args.attribution_only:
        _select_attribution(args, seeds, prof, chosen(pd.read_csv(args.out / "selection.csv")))
        return
    rows = []
    for world in args.worlds.split(","):
        for seed, dataset, features, truth in tuning_sets(
            seeds, args.datasets.split(","), prof.first_year, f"tuning seeds, {world} world", world
        ):
            cache = None if args.cache is None else args.cache / world / f"seed-{seed}" / dataset
            table = evaluate_candidates(features, truth, CANDIDATES, seed, prof.epochs, cache=cache)
            rows.append(table.assign(world=world, seed=seed, dataset=dataset, profile=args.profile))
    runs = pd.concat(rows, ignore_index=True)
    args.out.mkdir(parents=True, exist_ok=True)
    runs.round(4).to_csv(args.out / "selection_runs.csv", index=False)
    summary = summarise(runs)
    configs = {c.name: asdict(c.config) for c in CANDIDATES}
    summary["config"] = summary["method"].map(lambda m: str(configs.get(m, "")))
    summary.to_csv(args.out / "selection.csv", index=False)
    print(summary.drop(columns="config").to_string())
    best = chosen(summary)
    print(f"chosen: {best}")
    if not args.skip_attribution:
        _select_attribution(args, seeds, prof, best)


def tuning_sets(
    seeds: list[int], datasets: list[str], first_year: int, desc: str, world: str = "default"
) -> Iterator[tuple[int, str, xr.Dataset, pd.DataFrame]]:
    """For each tuning seed and data set: (seed, dataset, features, injected-event truth).

    The synthetic data of ``world`` (:data:`clvlib.synthetic.events.WORLDS`) for each seed are written
    to a temporary folder (removed after its data sets) and preprocessed as notebook 01 does; ``desc``
    labels the progress bar over seeds.
    """
    for seed in tqdm(seeds, desc=desc):
        with tempfile.TemporaryDirectory() as tmp:
            raw = write_synthetic(Path(tmp) / f"seed-{seed}", seed=seed, config=SyntheticConfig(world=world)).parent
            truth = load_truth(raw)
            for dataset in datasets:
                print(f"seed {seed}, {dataset}", flush=True)
                yield seed, dataset, _features(raw, dataset, first_year), truth


def _select_attribution(args: argparse.Namespace, seeds: list[int], prof, best: str) -> None:
    """Second stage: compare the attribution methods on the chosen configuration's cached models; write the tables."""
    configs = candidate_configs(pd.read_csv(args.out / "selection.csv"))
    key = replace(configs[best], epochs=min(configs[best].epochs, prof.epochs), score="mse")
    same_fit = [best] + [
        name
        for name, config in configs.items()
        if name != best and replace(config, epochs=min(config.epochs, prof.epochs), score="mse") == key
    ]
    attribution = []
    for world in args.worlds.split(","):
        for seed, dataset, features, truth in tuning_sets(
            seeds, args.datasets.split(","), prof.first_year, f"attribution, tuning seeds, {world} world", world
        ):
            cache = args.cache / world / f"seed-{seed}" / dataset
            model = _cached_model(cache, configs[best], prof.epochs, features, same_fit)
            table = evaluate_attributions(features, truth, model, dataset, seed)
            print(f"{world} world, seed {seed}, {dataset}:\n{table.to_string()}", flush=True)
            attribution.append(table.assign(world=world, seed=seed, dataset=dataset, configuration=best))
    attribution = pd.concat(attribution, ignore_index=True)
    attribution.round(4).to_csv(args.out / "attribution_selection_runs.csv", index=False)
    choice = summarise_attributions(attribution)
    choice.to_csv(args.out / "attribution_selection.csv", index=False)
    print(choice.to_string())


if __name__ == "__main__":
    main()
