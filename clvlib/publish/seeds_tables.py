"""The tables of ``make seeds``: pure functions from the per-seed tables to the summaries over seeds.

:mod:`clvlib.pipeline.seeds` builds every (world, seed, method) root and collects its
``tab_detection_truth_<dataset>``, ``tab_attribution_truth_<dataset>``, ``tab_detection_by_kind_<dataset>``
and claim verdicts; these functions turn them into ``tab_seeds_runs``, ``tab_seeds_detection``,
``tab_seeds_attribution``, ``tab_seeds_kinds`` and ``tab_seeds_claims`` (tables in, tables out), and
:func:`save_tables` registers them (notebook ``seeds`` in ``paper/manifest.json``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from clvlib.publish.claims import FAILS, HOLDS, UNTESTABLE
from clvlib.publish.claims import METHODS as CLV_METHODS
from clvlib.publish.registry import Registry

__all__ = [
    "METRICS",
    "attribution_by_kind",
    "attribution_summary",
    "claims_summary",
    "detection_summary",
    "kind_summary",
    "runs_table",
    "save_tables",
    "support_text",
]

METRICS: tuple[str, ...] = ("precision", "recall", "f1", "event_recall", "event_precision", "pr_auc")


def _stack(tables: Mapping[tuple[int, str, str], pd.DataFrame]) -> pd.DataFrame:
    """One long table from ``{(seed, build, dataset): table}`` with those three columns first."""
    parts = [t.assign(seed=seed, build=build, dataset=dataset) for (seed, build, dataset), t in tables.items()]
    if not parts:
        return pd.DataFrame(columns=["seed", "build", "dataset"])
    long = pd.concat(parts, ignore_index=True)
    return long[["seed", "build", "dataset"] + [c for c in long.columns if c not in ("seed", "build", "dataset")]]


def _build_rank(builds: pd.Series) -> pd.Series:
    order = {m: i for i, m in enumerate(CLV_METHODS)}
    return builds.map(lambda b: order.get(b, len(order)))


def runs_table(detection: Mapping[tuple[int, str, str], pd.DataFrame]) -> pd.DataFrame:
    """Every seed's ``tab_detection_truth`` rows in one table, marking the rows the summary uses.

    Parameters
    ----------
    detection : mapping of (seed, build, dataset) to DataFrame
        ``tab_detection_truth_<dataset>`` of the build with ``method=build`` for that seed.

    Returns
    -------
    pandas.DataFrame
        seed, build, dataset, method, threshold, the metrics, in_summary. Both builds of a seed
        score every CLV configuration and baseline, so each (seed, dataset, method, threshold) is
        counted once: ``in_summary`` is 1 for the row of the build that reports that CLV
        configuration (``CLV (best)`` from the ``best`` build), else for the first build in the
        order paper, best, original.

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["CLV (paper)", "CLV (best)"], "threshold": "pot", "f1": [0.5, 0.6]})
    >>> runs = runs_table({(0, "paper", "era5"): t, (0, "best", "era5"): t})
    >>> runs[["build", "method", "in_summary"]].values.tolist()
    [['paper', 'CLV (paper)', 1], ['paper', 'CLV (best)', 0], ['best', 'CLV (paper)', 0], ['best', 'CLV (best)', 1]]
    """
    runs = _stack(detection)
    if runs.empty:
        return pd.DataFrame(columns=["seed", "build", "dataset", "method", "threshold", *METRICS, "in_summary"])
    metrics = [m for m in METRICS if m in runs.columns]
    runs = runs[["seed", "build", "dataset", "method", "threshold"] + metrics].reset_index(drop=True)
    own = runs["method"] == "CLV (" + runs["build"] + ")"
    preference = (~own).astype(int) * 100 + _build_rank(runs["build"])
    chosen = preference.groupby([runs["seed"], runs["dataset"], runs["method"], runs["threshold"]]).idxmin()
    return runs.assign(in_summary=runs.index.isin(chosen.to_numpy()).astype(int))


def _mean_std(long: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    grouped = long.groupby(keys, sort=False)
    out = grouped["seed"].nunique().rename("n_seeds").to_frame()
    for c in columns:
        out[f"{c}_mean"] = grouped[c].mean()
        out[f"{c}_std"] = grouped[c].std(ddof=1)
    return out.reset_index()


def detection_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds (``ddof=1``) per detection method, threshold rule and data set.

    Parameters
    ----------
    runs : pandas.DataFrame
        :func:`runs_table`; only rows with ``in_summary == 1`` are used.

    Returns
    -------
    pandas.DataFrame
        method, threshold, dataset, n_seeds, then ``<metric>_mean`` and ``<metric>_std`` for each
        metric; rows by data set, then in the order the methods and threshold rules first appear in ``runs``.

    Examples
    --------
    >>> runs = pd.DataFrame({"seed": [0, 1], "build": "paper", "dataset": "era5", "method": "CLV (paper)",
    ...                      "threshold": "pot", "f1": [0.4, 0.6], "in_summary": 1})
    >>> detection_summary(runs)[["method", "n_seeds", "f1_mean", "f1_std"]].round(4).values.tolist()
    [['CLV (paper)', 2, 0.5, 0.1414]]
    """
    used = runs[runs["in_summary"] == 1]
    metrics = [m for m in METRICS if m in used.columns]
    out = _mean_std(used, ["dataset", "method", "threshold"], metrics)
    first = {c: {v: i for i, v in enumerate(pd.unique(runs[c]))} for c in ("method", "threshold")}
    out = out.sort_values(
        ["dataset", "method", "threshold"],
        kind="stable",
        key=lambda col: col.map(first[col.name]) if col.name in first else col,
    )
    out = out[
        ["method", "threshold", "dataset"] + [c for c in out.columns if c not in ("method", "threshold", "dataset")]
    ]
    return out.reset_index(drop=True)


def attribution_summary(
    attribution: Mapping[tuple[int, str, str], pd.DataFrame], event_type: str = "all"
) -> pd.DataFrame:
    """Mean and standard deviation over seeds of the attribution accuracies, per build, method and data set.

    Parameters
    ----------
    attribution : mapping of (seed, build, dataset) to DataFrame
        ``tab_attribution_truth_<dataset>`` (method, type, n_events, top1_accuracy, ...).
    event_type : str
        Rows of this ``type`` (``all``: every event type together).

    Returns
    -------
    pandas.DataFrame
        build, method, dataset, n_seeds, then ``<column>_mean`` and ``<column>_std`` for
        n_events and every other numeric column (the accuracies).

    Examples
    --------
    >>> t = lambda a: pd.DataFrame({"method": ["occlusion"], "type": ["all"], "n_events": [10], "top1_accuracy": [a]})
    >>> s = attribution_summary({(0, "paper", "era5"): t(0.5), (1, "paper", "era5"): t(0.7)})
    >>> s[["build", "method", "n_seeds", "top1_accuracy_mean"]].values.tolist()
    [['paper', 'occlusion', 2, 0.6]]
    """
    long = _stack(attribution)
    if long.empty:
        return pd.DataFrame(columns=["build", "method", "dataset", "n_seeds"])
    long = long[long["type"] == event_type].drop(columns="type")
    long = long.sort_values(
        ["build", "dataset"], key=lambda c: _build_rank(c) if c.name == "build" else c, kind="stable"
    )
    columns = [c for c in long.select_dtypes("number").columns if c != "seed"]
    out = _mean_std(long, ["build", "method", "dataset"], columns)
    return out[["build", "method", "dataset"] + [c for c in out.columns if c not in ("build", "method", "dataset")]]


def attribution_by_kind(attribution: Mapping[tuple[int, str, str], pd.DataFrame]) -> pd.DataFrame:
    """:func:`attribution_summary` over every event type (``all``) and per kind of event (rows ``kind: <kind>``).

    Examples
    --------
    >>> t = pd.DataFrame({"method": ["occlusion"] * 2, "type": ["all", "kind: coupling"], "n_events": [10, 4],
    ...                   "top1_accuracy": [0.5, 0.25]})
    >>> attribution_by_kind({(0, "paper", "era5"): t})[["type", "top1_accuracy_mean"]].values.tolist()
    [['all', 0.5], ['kind: coupling', 0.25]]
    """
    kinds = sorted({t for table in attribution.values() for t in table["type"] if str(t).startswith("kind: ")})
    parts = [attribution_summary(attribution, t).assign(type=t) for t in ["all", *kinds]]
    out = pd.concat(parts, ignore_index=True)
    return out[
        [
            "build",
            "method",
            "dataset",
            "type",
            *[c for c in out.columns if c not in ("build", "method", "dataset", "type")],
        ]
    ]


def kind_summary(by_kind: Mapping[tuple[int, str, str], pd.DataFrame]) -> pd.DataFrame:
    """Mean and standard deviation over seeds of detection per kind of event, per method and data set.

    Parameters
    ----------
    by_kind : mapping of (seed, build, dataset) to DataFrame
        ``tab_detection_by_kind_<dataset>`` (method, kind, n_reference_events, event_recall, pr_auc, ...).

    Returns
    -------
    pandas.DataFrame
        method, kind, dataset, n_seeds, then mean and standard deviation of n_reference_events,
        event_recall and pr_auc. Every build scores every method: a CLV configuration's rows come from
        the build that reports it, the others' from the first build (order paper, best, original).

    Examples
    --------
    >>> t = lambda a: pd.DataFrame({"method": ["CLV (paper)", "CLV (best)", "Mahalanobis"], "kind": "coupling",
    ...                             "n_reference_events": 10, "event_recall": [a, a + 0.1, 0.9], "pr_auc": 0.5})
    >>> s = kind_summary({(0, "paper", "era5"): t(0.2), (0, "best", "era5"): t(0.4), (1, "paper", "era5"): t(0.4),
    ...                   (1, "best", "era5"): t(0.6)})
    >>> s[["method", "n_seeds", "event_recall_mean"]].round(4).values.tolist()
    [['CLV (paper)', 2, 0.3], ['Mahalanobis', 2, 0.9], ['CLV (best)', 2, 0.6]]
    """
    long = _stack(by_kind)
    if long.empty:
        return pd.DataFrame(columns=["method", "kind", "dataset", "n_seeds"])
    builds = sorted(pd.unique(long["build"]), key=lambda b: _build_rank(pd.Series([b])).iloc[0])
    own = long["method"] == "CLV (" + long["build"] + ")"
    reported = long["method"].isin([f"CLV ({b})" for b in builds])
    long = long[own | (~reported & (long["build"] == builds[0]))]
    columns = [c for c in ("n_reference_events", "event_recall", "pr_auc") if c in long.columns]
    out = _mean_std(long, ["method", "kind", "dataset"], columns)
    return out.sort_values(["dataset"], kind="stable").reset_index(drop=True)


def support_text(n_holds: int, n_seeds: int, n_untestable: int = 0) -> str:
    """``"holds for 4 of 5 seeds"`` (and how many were not testable).

    Examples
    --------
    >>> support_text(4, 5), support_text(1, 1), support_text(2, 5, 1)
    ('holds for 4 of 5 seeds', 'holds for 1 of 1 seed', 'holds for 2 of 5 seeds (not testable for 1)')
    """
    text = f"holds for {n_holds} of {n_seeds} seed{'' if n_seeds == 1 else 's'}"
    return text + (f" (not testable for {n_untestable})" if n_untestable else "")


def claims_summary(verdicts: pd.DataFrame) -> pd.DataFrame:
    """For how many seeds each claim holds, per method.

    Parameters
    ----------
    verdicts : pandas.DataFrame
        One row per seed, method and claim: seed, method, id, claim, verdict (as
        :func:`clvlib.publish.claims.evaluate`).

    Returns
    -------
    pandas.DataFrame
        id, method, claim, n_holds, n_fails, n_untestable, n_seeds, support (:func:`support_text`);
        by claim, then method in the order paper, best, original.

    Examples
    --------
    >>> v = pd.DataFrame({"seed": [0, 1, 0, 1], "method": ["paper", "paper", "best", "best"], "id": 7, "claim": "c",
    ...                   "verdict": ["holds", "does not hold", "holds", "holds"]})
    >>> claims_summary(v)[["method", "n_holds", "support"]].values.tolist()
    [['paper', 1, 'holds for 1 of 2 seeds'], ['best', 2, 'holds for 2 of 2 seeds']]
    """
    rows = []
    for (claim_id, method), g in verdicts.groupby(["id", "method"], sort=False):
        counts = {v: int((g["verdict"] == v).sum()) for v in (HOLDS, FAILS, UNTESTABLE)}
        n = int(g["seed"].nunique())
        rows.append(
            {
                "id": claim_id,
                "method": method,
                "claim": g["claim"].iloc[0],
                "n_holds": counts[HOLDS],
                "n_fails": counts[FAILS],
                "n_untestable": counts[UNTESTABLE],
                "n_seeds": n,
                "support": support_text(counts[HOLDS], n, counts[UNTESTABLE]),
            }
        )
    out = pd.DataFrame(
        rows, columns=["id", "method", "claim", "n_holds", "n_fails", "n_untestable", "n_seeds", "support"]
    )
    out = out.assign(_rank=_build_rank(out["method"])).sort_values(["id", "_rank", "method"], kind="stable")
    return out.drop(columns="_rank").reset_index(drop=True)


def save_tables(paper: Path, tables: Mapping[str, pd.DataFrame], parameters: dict, inputs: list[Path]) -> list[Path]:
    """Save the aggregated tables through the registry (notebook ``seeds`` in ``paper/manifest.json``)."""
    registry = Registry(Path(paper).resolve().parent, "seeds", None, parameters, inputs)
    n = parameters["seeds"]
    captions = {
        "seeds_runs": f"Detection against the injected events for each seed ({n}), build (the CLV configuration "
        "the build reports), data set, detection method and threshold rule: the rows of "
        "tab_detection_truth that tab_seeds_detection averages (in_summary = 1).",
        "seeds_detection": f"Detection against the injected events over seeds ({n}): mean and standard deviation "
        "(ddof 1) per synthetic world, detection method, threshold rule and data set.",
        "seeds_attribution": f"Ground truth of the attributions over seeds ({n}), all event types and per kind of "
        "event (synoptic world): mean and standard deviation (ddof 1) per build, attribution method and data set.",
        "seeds_claims": f"The paper's claims over seeds ({n}): for how many seeds each claim holds, "
        "per CLV configuration.",
        "seeds_kinds": f"Detection per kind of injected event over seeds ({n}): mean and standard deviation (ddof 1) "
        "of event recall and PR-AUC per synthetic world, detection method, kind of event and data set.",
    }
    formats = {
        "seeds_runs": ("csv", "md"),
        "seeds_detection": ("csv", "md"),
        "seeds_attribution": ("csv", "md", "tex"),
        "seeds_claims": ("csv", "md", "tex"),
        "seeds_kinds": ("csv", "md"),
    }
    paths = []
    for key, table in tables.items():
        paths += registry.table(table, key, captions[key], formats=formats[key])
    return paths
