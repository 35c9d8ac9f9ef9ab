"""Notebook 04's tables against known reference events (the injected events of the embedded default).

One function per table, each on the same melt-season steps and with the same metrics
(:func:`clvlib.method.detection.comparison_table`), each returning the reason
(:class:`clvlib.availability.NotAvailable`) when the data have no reference events:

* :func:`detection_truth`: every detector under the pipeline's threshold, then ``detector`` under the
  trailing, centred and mean + k sigma rules on the steps where those decide;
* :func:`recall_per_type`: event recall per injected event type;
* :func:`detection_per_kind`: every detector per kind of event (amplitude, coupling, context);
* :func:`rules_compared`: ``detector`` under every threshold rule on common steps;
* :func:`alpha_sensitivity`: the effect of the tail probability ``alpha``;
* :func:`scope_effect`: the melt season against the whole year;
* :func:`held_out_detection`: every detector in the held-out year.

:func:`validation_tables` computes them all (the keys of :data:`VALIDATION_TABLES`), and
:func:`detection_summary` puts the first in one sentence.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from clvlib.availability import NotAvailable
from clvlib.method.detection import (
    ALPHAS,
    DetectConfig,
    comparison_table,
    detection_by_kind,
    recall_by_type,
    threshold_rules,
)

__all__ = [
    "VALIDATION_TABLES",
    "alpha_sensitivity",
    "detection_per_kind",
    "detection_summary",
    "detection_truth",
    "held_out_detection",
    "recall_per_type",
    "rules_compared",
    "scope_effect",
    "validation_tables",
]

#: The tables of :func:`validation_tables`, in the order notebook 04 shows them.
VALIDATION_TABLES: tuple[str, ...] = (
    "detection_truth",
    "recall_by_type",
    "detection_by_kind",
    "threshold_rules",
    "alpha_sensitivity",
    "scope_effect",
    "detection_test_year",
)

_METRICS = ["precision", "recall", "f1", "event_recall", "event_precision"]


def detection_truth(
    scores: dict[str, np.ndarray],
    time: pd.DatetimeIndex,
    n_days: np.ndarray,
    truth: pd.DataFrame | NotAvailable,
    config: DetectConfig,
    detector: str,
) -> pd.DataFrame | NotAvailable:
    """Every score under the pipeline's rule ``pot``, then ``detector`` under the three comparison rules.

    The comparison rules' rows are on the steps where those rules decide (``n_steps`` says how many);
    values rounded to 4 decimals.
    """
    if isinstance(truth, NotAvailable):
        return truth
    rules = ("pot_trailing", "pot_centred", "sigma")
    clv = {detector: scores[detector]}
    return pd.concat(
        [
            comparison_table(scores, time, n_days, truth, config),
            comparison_table(clv, time, n_days, truth, config, rules=rules),
        ],
        ignore_index=True,
    ).round(4)


def recall_per_type(
    truth: pd.DataFrame | NotAvailable, events: pd.DataFrame, detection: pd.DataFrame
) -> pd.DataFrame | NotAvailable:
    """Event recall per injected event type, over the events after the first step with a threshold."""
    if isinstance(truth, NotAvailable):
        return truth
    time = pd.DatetimeIndex(detection["time"])
    first_scored = time[np.isfinite(detection["threshold"].to_numpy())][0]
    return recall_by_type(truth[truth["end"] >= first_scored], events).round(4)


def detection_per_kind(
    scores: dict[str, np.ndarray],
    time: pd.DatetimeIndex,
    n_days: np.ndarray,
    truth: pd.DataFrame | NotAvailable,
    config: DetectConfig,
) -> pd.DataFrame | NotAvailable:
    """Every score per kind of injected event (:func:`clvlib.method.detection.detection_by_kind`), rounded."""
    if isinstance(truth, NotAvailable):
        return truth
    return detection_by_kind(scores, time, n_days, truth, config).round(4)


def rules_compared(
    score: np.ndarray,
    time: pd.DatetimeIndex,
    n_days: np.ndarray,
    truth: pd.DataFrame | NotAvailable,
    config: DetectConfig,
) -> pd.DataFrame | NotAvailable:
    """One score under every threshold rule on common steps (:func:`clvlib.method.detection.threshold_rules`)."""
    if isinstance(truth, NotAvailable):
        return truth
    return threshold_rules(score, time, n_days, truth, config).round(4)


def alpha_sensitivity(
    score: np.ndarray,
    time: pd.DatetimeIndex,
    n_days: np.ndarray,
    truth: pd.DataFrame | NotAvailable,
    config: DetectConfig,
    alphas: tuple[float, ...] = ALPHAS,
) -> pd.DataFrame | NotAvailable:
    """One score's detection for each tail probability ``alpha`` of the threshold."""
    if isinstance(truth, NotAvailable):
        return truth
    rows = [
        comparison_table(
            {"score": score}, time, n_days, truth, replace(config, pot=replace(config.pot, alpha=a))
        ).assign(alpha=a)
        for a in alphas
    ]
    return pd.concat(rows, ignore_index=True)[["alpha", *_METRICS, "n_detected_events"]].round(4)


def scope_effect(
    score: np.ndarray,
    time: pd.DatetimeIndex,
    n_days: np.ndarray,
    truth: pd.DataFrame | NotAvailable,
    config: DetectConfig,
) -> pd.DataFrame | NotAvailable:
    """One score thresholded over the whole year against the melt season (``config``'s months)."""
    if isinstance(truth, NotAvailable):
        return truth
    whole_year = replace(config, months=tuple(range(1, 13)))
    rows = [
        comparison_table({"score": score}, time, n_days, truth, whole_year).assign(scope="whole year"),
        comparison_table({"score": score}, time, n_days, truth, config).round(4).assign(scope="melt season"),
    ]
    return pd.concat(rows, ignore_index=True)[["scope", *_METRICS, "pr_auc", "n_steps"]].round(4)


def held_out_detection(
    scores: dict[str, np.ndarray],
    time: pd.DatetimeIndex,
    n_days: np.ndarray,
    truth: pd.DataFrame | NotAvailable,
    config: DetectConfig,
    test_year: int,
) -> pd.DataFrame | NotAvailable:
    """Every score's detection in the held-out year ``test_year``."""
    if isinstance(truth, NotAvailable):
        return truth
    table = comparison_table(scores, time, n_days, truth, config, period=time.year == test_year)
    return table[["method", *_METRICS, "n_reference_events", "n_detected_events"]].round(4)


def validation_tables(
    scores: dict[str, np.ndarray],
    detection: pd.DataFrame,
    events: pd.DataFrame,
    time: pd.DatetimeIndex,
    n_days: np.ndarray,
    truth: pd.DataFrame | NotAvailable,
    config: DetectConfig,
    test_year: int,
    alphas: tuple[float, ...] = ALPHAS,
    detector: str = "CLV",
) -> dict[str, pd.DataFrame | NotAvailable]:
    """Every table of this module at once, under the keys of :data:`VALIDATION_TABLES`.

    ``detection`` is :func:`clvlib.method.detection.detect` of ``scores[detector]`` and ``events`` its
    :func:`clvlib.method.detection.detected_events`.
    """
    score = scores[detector]
    return {
        "detection_truth": detection_truth(scores, time, n_days, truth, config, detector),
        "recall_by_type": recall_per_type(truth, events, detection),
        "detection_by_kind": detection_per_kind(scores, time, n_days, truth, config),
        "threshold_rules": rules_compared(score, time, n_days, truth, config),
        "alpha_sensitivity": alpha_sensitivity(score, time, n_days, truth, config, alphas),
        "scope_effect": scope_effect(score, time, n_days, truth, config),
        "detection_test_year": held_out_detection(scores, time, n_days, truth, config, test_year),
    }


def detection_summary(table: pd.DataFrame | NotAvailable, detector: str) -> str | NotAvailable:
    """One sentence on the detector's event recall, precision and PR-AUC (a :func:`detection_truth` table).

    Examples
    --------
    >>> table = pd.DataFrame({"method": ["CLV", "mean z^2"], "threshold": ["pot", "pot"], "event_recall": [0.8, 0.7],
    ...                       "event_precision": [0.9, 0.8], "pr_auc": [0.6, 0.7]})
    >>> print(detection_summary(table, "CLV").replace(". ", ".\\n"))
    CLV with the pipeline's threshold: event recall **0.80**, event precision **0.90**, PR-AUC 0.600.
    Highest PR-AUC: **mean z^2** (0.700).
    CLV does **not** beat every other score on PR-AUC.
    """
    if isinstance(table, NotAvailable):
        return table
    best = table.loc[table["pr_auc"].idxmax(), "method"]
    clv = table[(table["method"] == detector) & (table["threshold"] == "pot")].iloc[0]
    text = (
        f"{detector} with the pipeline's threshold: event recall **{clv.event_recall:.2f}**, event precision "
        f"**{clv.event_precision:.2f}**, PR-AUC {clv.pr_auc:.3f}. "
        f"Highest PR-AUC: **{best}** ({table['pr_auc'].max():.3f})."
    )
    return text + ("" if best == detector else f" {detector} does **not** beat every other score on PR-AUC.")
