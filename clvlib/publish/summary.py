"""What a run found, in plain sentences at the top of its report, computed from the run's own tables.

:func:`run_summary` reads a ``make run`` output folder (``scores.csv``, ``events.csv``, the event-driver
and trend tables under ``paper/tables``) and says: the record and its held-out year, the detector,
how many anomalous steps and events it found, the strongest events with their top forcing drivers
and their top response, the trend, and how far the CLV's score agrees with the textbook statistics
of the same input. Nothing in it is typed: every number comes from those files.

Forcing and response are told apart by name: the surface's temperature, fluxes, albedo, melt and
firn (:data:`clvlib.variables.RESPONSES`) are responses, the other variables of the catalogue
(temperature, humidity, radiation, cloud, precipitation, pressure, wind) forcing, and a variable the
catalogue does not know is ranked with the forcing and marked as the user's own
(:func:`clvlib.variables.variable_role`).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr

from clvlib.variables import variable_role

__all__ = ["paper_summary", "run_summary", "summary_html"]


def _event_drivers(drivers: pd.DataFrame, event_id: int, k: int = 3) -> tuple[list[str], str | None]:
    """The event's top ``k`` forcing (or own) drivers and its top response, by rank."""
    rows = drivers[drivers["event_id"] == event_id].sort_values("rank")
    roles = rows["feature"].map(variable_role)
    forcing = [f if r == "forcing" else f"{f} (own variable)" for f, r in zip(rows["feature"], roles, strict=True)]
    forcing = [f for f, r in zip(forcing, roles, strict=True) if r != "response"][:k]
    responses = rows.loc[roles == "response", "feature"]
    return forcing, (responses.iloc[0] if len(responses) else None)


def _agreement(scores: pd.DataFrame, detector: str) -> str | None:
    """Spearman correlation of the reported score with each baseline's over the steps with a decision."""
    decided = scores["threshold"].notna()
    baselines = [
        c for c in scores.columns if c.startswith("score: ") and not c.startswith(("score: CLV", "score: uncl"))
    ]
    if not baselines or decided.sum() < 10:
        return None
    parts = []
    for column in baselines:
        rho = spearmanr(scores.loc[decided, "score"], scores.loc[decided, column]).statistic
        parts.append(f"{column.removeprefix('score: ')} {rho:.2f}")
    return (
        f"Rank correlation of the {detector} score with the textbook statistics of the same input over the "
        f"melt-season steps: {', '.join(parts)} (near 1: they see the same steps as anomalous; the detection "
        "tables compare them against known events where there are any)."
    )


def run_summary(out: Path, dataset: str, method: str, n_events: int = 3) -> list[str]:
    """Plain sentences on what the ``make run`` output in ``out`` found (data set ``dataset``, ``method``).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "paper" / "tables").mkdir(parents=True)
    >>> time = pd.date_range("2001-01-01", periods=8, freq="5D")
    >>> pd.DataFrame({"time": time, "score": np.arange(8.0), "threshold": [np.nan] + [5.5] * 7,
    ...               "anomaly": [0] * 6 + [1, 1]}).to_csv(folder / "scores.csv", index=False)
    >>> pd.DataFrame({"event_id": [1], "start": [time[6]], "end": [time[7]], "peak_time": [time[7]],
    ...               "peak_score": [7.0], "extreme": [False]}).to_csv(folder / "events.csv", index=False)
    >>> pd.DataFrame({"event_id": [1, 1, 1], "feature": ["skt", "t2m", "tcc"], "delta": [3.0, 2.0, 1.0],
    ...               "rank": [1, 2, 3]}).to_csv(folder / "paper" / "tables" / "tab_event_drivers_x.csv", index=False)
    >>> summary = run_summary(folder, "x", "paper")
    >>> summary[2]
    'It flags 2 anomalous steps in 1 events (0 extreme).'
    >>> for part in summary[3].split(": ", 1):
    ...     print(part)
    Strongest events (drivers by the paper's occlusion)
    2001-01-31 to 2001-02-05 (peak score 7.00): forcing t2m, tcc; response skt.
    """
    out = Path(out)
    tables = out / "paper" / "tables"
    scores = pd.read_csv(out / "scores.csv", parse_dates=["time"])
    events = pd.read_csv(out / "events.csv", parse_dates=["start", "end", "peak_time"])
    time = pd.DatetimeIndex(scores["time"])
    decided = int(scores["threshold"].notna().sum())
    sentences = [
        f"The record runs from {time[0]:%Y-%m-%d} to {time[-1]:%Y-%m-%d} ({len(time)} five-day steps); {decided} "
        f"steps have a threshold decision, {len(time) - decided} {'has' if len(time) - decided == 1 else 'have'} "
        f"none (outside the scope or before the threshold has history), and {time[-1].year} is the held-out year.",
        f"The detector is the CLV's `{method}` configuration (`METHOD={method}`); every configuration and the "
        "baselines are compared in the tables below.",
        f"It flags {int(scores['anomaly'].sum())} anomalous steps in {len(events)} events "
        f"({int(events['extreme'].sum())} extreme).",
    ]
    recommended = tables / f"tab_event_drivers_recommended_{dataset}.csv"
    drivers_file = recommended if recommended.is_file() else tables / f"tab_event_drivers_{dataset}.csv"
    if len(events) and drivers_file.is_file():
        drivers = pd.read_csv(drivers_file)
        parts = []
        for ev in events.nlargest(n_events, "peak_score").itertuples():
            forcing, response = _event_drivers(drivers, ev.event_id)
            text = f"{ev.start:%Y-%m-%d} to {ev.end:%Y-%m-%d} (peak score {ev.peak_score:.2f}): forcing "
            text += ", ".join(forcing) or "none ranked"
            parts.append(text + (f"; response {response}" if response else ""))
        by = "the recommended attribution" if drivers_file == recommended else "the paper's occlusion"
        sentences.append(f"Strongest events (drivers by {by}): " + "; ".join(parts) + ".")
    trend_file = tables / f"tab_trend_{dataset}.csv"
    if trend_file.is_file():
        trend = pd.read_csv(trend_file).set_index("series").loc["anomalous steps"]
        first, last, n_years = (int(trend[c]) for c in ("first_year", "last_year", "n_years"))
        sentences.append(
            f"Trend of anomalous steps per year, {first}-{last} ({n_years} years with a decision): "
            f"Mann-Kendall p = {trend.p_value:.2g}, Theil-Sen slope {trend.slope_per_decade:+.3g} per decade "
            f"(95 % interval {trend.slope_low_per_decade:+.3g} to {trend.slope_high_per_decade:+.3g})."
        )
    held_out = scores[time.year == time[-1].year]
    sentences.append(
        f"In the held-out year {time[-1].year}: {int(held_out['anomaly'].sum())} anomalous steps of "
        f"{int(held_out['threshold'].notna().sum())} with a decision."
    )
    agreement = _agreement(scores, f"CLV ({method})")
    if agreement:
        sentences.append(agreement)
    return sentences


def paper_summary(paper: Path, datasets: tuple[str, ...] = ("era5", "gemb")) -> list[str]:
    """Plain sentences on what a ``make paper`` build shows, from its detection tables and manifest.

    Per data set: the reported CLV configuration's event recall, precision and PR-AUC against the
    injected events, and the best of the textbook baselines on the same steps; the build's profile,
    seed and data; and the caveat that synthetic data test the method, not Greenland.

    Examples
    --------
    >>> import json, tempfile
    >>> paper = Path(tempfile.mkdtemp())
    >>> (paper / "tables").mkdir()
    >>> pd.DataFrame({"method": ["CLV (paper)", "Mahalanobis", "mean z^2 (trivial)"], "threshold": ["pot"] * 3,
    ...               "event_recall": [0.8, 0.7, 0.6], "event_precision": [0.9, 0.8, 0.7], "pr_auc": [0.6, 0.7, 0.5]}
    ...              ).to_csv(paper / "tables" / "tab_detection_truth_era5.csv", index=False)
    >>> params = {"method": "paper", "profile": "quick", "seed": 0, "source_kind": "synthetic"}
    >>> _ = (paper / "manifest.json").write_text(json.dumps(
    ...     {"artefacts": {"tab_detection_truth_era5": {"parameters": params}}}))
    >>> era5 = paper_summary(paper, ("era5",))[1]
    >>> era5[:80]
    'era5: CLV (paper) finds 80 % of the injected events at an event precision of 90 '
    >>> era5[-42:]
    'Mahalanobis, scores PR-AUC 0.700 (-0.100).'
    """
    paper = Path(paper)
    artefacts = (
        json.loads((paper / "manifest.json").read_text())["artefacts"] if (paper / "manifest.json").is_file() else {}
    )
    sentences = []
    for dataset in datasets:
        path = paper / "tables" / f"tab_detection_truth_{dataset}.csv"
        entry = artefacts.get(f"tab_detection_truth_{dataset}")
        if not path.is_file() or entry is None:
            continue
        params = entry["parameters"]
        if not sentences:
            sentences.append(
                f"Built in the `{params['profile']}` profile, seed {params['seed']}, on {params['source_kind']} data; "
                f"the tables report the CLV's `{params['method']}` configuration (`METHOD`) beside the others."
                + (
                    " Synthetic data with known truth test the method, not Greenland: no number here is a finding "
                    "about ERA5 or GEMB physics."
                    if params["source_kind"] == "synthetic"
                    else ""
                )
            )
        table = pd.read_csv(path)
        pot = table[table["threshold"] == "pot"]
        clv = pot[pot["method"] == f"CLV ({params['method']})"].iloc[0]
        others = pot[~pot["method"].str.startswith(("CLV", "unclustered"))]
        best = others.loc[others["pr_auc"].idxmax()]
        sentences.append(
            f"{dataset}: {clv.method} finds {clv.event_recall * 100:.0f} % of the injected events at an event "
            f"precision of {clv.event_precision * 100:.0f} % (PR-AUC {clv.pr_auc:.3f}); the best textbook statistic "
            f"of the same input, {best.method}, scores PR-AUC {best.pr_auc:.3f} ({clv.pr_auc - best.pr_auc:+.3f})."
        )
    return sentences


def summary_html(sentences: list[str]) -> str:
    """The sentences as the report's summary section (``id='summary'``), backticks shown as code."""
    code = re.compile(r"`([^`]*)`")
    items = "".join("<li>" + code.sub(r"<code>\1</code>", html.escape(s)) + "</li>" for s in sentences)
    return f"<h2 id='summary'>Summary</h2><ul class='summary'>{items}</ul>"
