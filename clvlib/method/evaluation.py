"""Detection quality: labels per 5-day step, point-wise and event-wise metrics, PR-AUC.

A 5-day step is *truly anomalous* when its days overlap a reference event (an injected event of
the synthetic default, or a melt-extent anomaly of the MEaSUREs-like record). The metrics:

* point-wise precision, recall and F1 over steps (plain, **not** point-adjusted);
* event-wise recall: the share of reference events overlapped by at least one flagged step;
* event-wise precision: the share of detected events (runs of flagged steps, see
  :func:`clvlib.method.threshold.to_events`) that overlap at least one reference event;
* PR-AUC of the raw score (average precision, threshold-free).

Only steps in ``scope`` (for example the melt season, see :func:`melt_season`) are counted, and
only steps where a threshold exists (the trailing threshold needs some history).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from clvlib.method.threshold import to_events

__all__ = [
    "MELT_SEASON_MONTHS",
    "Scores",
    "evaluate",
    "measures_anomalies",
    "melt_season",
    "overlaps",
    "step_labels",
]


MELT_SEASON_MONTHS: tuple[int, ...] = (5, 6, 7, 8, 9)


def melt_season(time: pd.DatetimeIndex, months: tuple[int, ...] = MELT_SEASON_MONTHS) -> np.ndarray:
    """True for 5-day steps that start in the melt season (May to September by default).

    Examples
    --------
    >>> melt_season(pd.DatetimeIndex(["2000-04-26", "2000-05-01", "2000-09-27", "2000-10-02"])).tolist()
    [False, True, True, False]
    """
    return np.isin(pd.DatetimeIndex(time).month, months)


def step_labels(start: pd.DatetimeIndex, n_days: np.ndarray, events: pd.DataFrame) -> np.ndarray:
    """True for steps whose days ``start .. start + n_days - 1`` overlap an event's ``start .. end``.

    Examples
    --------
    >>> t = pd.date_range("2000-06-01", periods=4, freq="5D")
    >>> ev = pd.DataFrame({"start": pd.to_datetime(["2000-06-09"]), "end": pd.to_datetime(["2000-06-11"])})
    >>> step_labels(t, np.full(4, 5), ev).tolist()
    [False, True, True, False]
    """
    start = pd.DatetimeIndex(start)
    end = start + pd.to_timedelta(np.asarray(n_days) - 1, unit="D")
    label = np.zeros(len(start), dtype=bool)
    for ev_start, ev_end in zip(events["start"], events["end"], strict=True):
        label |= (start <= ev_end) & (end >= ev_start)
    return label


def overlaps(a_start: pd.Series, a_end: pd.Series, b_start: pd.Series, b_end: pd.Series) -> np.ndarray:
    """For each interval of ``a``, does it overlap any interval of ``b``?"""
    if len(b_start) == 0:
        return np.zeros(len(a_start), dtype=bool)
    bs, be = np.asarray(b_start, "datetime64[ns]"), np.asarray(b_end, "datetime64[ns]")
    return np.array(
        [
            bool(((bs <= e) & (be >= s)).any())
            for s, e in zip(np.asarray(a_start, "datetime64[ns]"), np.asarray(a_end, "datetime64[ns]"), strict=True)
        ]
    )


@dataclass(frozen=True)
class Scores:
    """Detection metrics of one score against one reference (see the module docstring)."""

    precision: float
    recall: float
    f1: float
    event_recall: float
    event_precision: float
    pr_auc: float
    n_steps: int
    n_true_steps: int
    n_flagged_steps: int
    n_reference_events: int
    n_detected_events: int


def evaluate(
    score: np.ndarray,
    flags: np.ndarray,
    start: pd.DatetimeIndex,
    n_days: np.ndarray,
    reference: pd.DataFrame,
    scope: np.ndarray | None = None,
) -> Scores:
    """Point-wise, event-wise and threshold-free metrics of a detector.

    Parameters
    ----------
    score : ndarray, shape (n,)
        Raw anomaly score per step (higher = more anomalous); NaN where it is not defined.
    flags : ndarray of bool, shape (n,)
        Steps the detector calls anomalous.
    start, n_days :
        First day and number of days of each step.
    reference : pandas.DataFrame
        Reference events with ``start`` and ``end`` dates.
    scope : ndarray of bool, optional
        Steps that count (default: all). Steps with a NaN score never count.

    Returns
    -------
    Scores

    Examples
    --------
    >>> t = pd.date_range("2000-06-01", periods=6, freq="5D")
    >>> ref = pd.DataFrame({"start": pd.to_datetime(["2000-06-06"]), "end": pd.to_datetime(["2000-06-08"])})
    >>> m = evaluate(np.array([0, 3, 1, 0, 2, 0.0]), np.array([0, 1, 0, 0, 1, 0], bool), t, np.full(6, 5), ref)
    >>> m.precision, m.recall, m.event_recall, m.event_precision, m.pr_auc
    (0.5, 1.0, 1.0, 0.5, 1.0)
    """
    start = pd.DatetimeIndex(start)
    score = np.asarray(score, dtype=float)
    use = np.isfinite(score) if scope is None else np.asarray(scope, bool) & np.isfinite(score)
    flags = np.asarray(flags, dtype=bool) & use
    truth = step_labels(start, n_days, reference) & use
    tp = int((flags & truth).sum())
    precision = tp / flags.sum() if flags.any() else float("nan")
    recall = tp / truth.sum() if truth.any() else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    pr_auc = float(average_precision_score(truth[use], score[use])) if truth[use].any() else float("nan")
    first, last = start[use], start[use] + pd.to_timedelta(np.asarray(n_days)[use] - 1, unit="D")
    ref = (
        reference[(reference["end"] >= first.min()) & (reference["start"] <= last.max())]
        if use.any()
        else reference.iloc[:0]
    )
    detected = to_events(flags, start, np.where(np.isfinite(score), score, -np.inf))
    detected_end = detected["end"] + pd.to_timedelta(int(np.max(n_days)) - 1, unit="D")
    hit = overlaps(ref["start"], ref["end"], detected["start"], detected_end)
    real = overlaps(detected["start"], detected_end, ref["start"], ref["end"])
    return Scores(
        precision=float(precision),
        recall=float(recall),
        f1=float(f1),
        event_recall=float(hit.mean()) if len(hit) else float("nan"),
        event_precision=float(real.mean()) if len(real) else float("nan"),
        pr_auc=pr_auc,
        n_steps=int(use.sum()),
        n_true_steps=int(truth.sum()),
        n_flagged_steps=int(flags.sum()),
        n_reference_events=len(ref),
        n_detected_events=len(detected),
    )


def measures_anomalies(
    measures: pd.DataFrame,
    area_column: str = "melt area",
    k: float = 1.0,
    smooth_days: int = 31,
    min_days: int = 3,
    exclude_interpolated: bool = True,
    months: tuple[int, ...] = MELT_SEASON_MONTHS,
) -> pd.DataFrame:
    """Melt-extent anomalies of a daily melt-area record, as one would derive them from MEaSUREs.

    A day is anomalous when its melt extent exceeds the day-of-year climatology of the record by
    more than ``k`` day-of-year standard deviations (both smoothed with a ``smooth_days`` running
    window across the calendar), the extent is above zero and the day lies in ``months`` (the
    melt season; outside it the passive-microwave record is mostly noise). Runs of anomalous days, joined
    across single missing or normal days, that last at least ``min_days`` become events.
    Interpolated days (the SMMR every-other-day era) are not used as evidence by default.

    Parameters
    ----------
    measures : pandas.DataFrame
        Columns ``date``, ``area_column`` and (optional) ``interpolated``.
    area_column : str
        Melt extent column.
    k, smooth_days, min_days, exclude_interpolated, months :
        The margin, the calendar smoothing, the shortest event, the SMMR rule and the season.

    Returns
    -------
    pandas.DataFrame
        Columns event_id, start, end, peak_date, peak_excess (melt extent above the
        climatology at the peak, in the record's units), n_days.
    """
    if "date" not in measures or area_column not in measures:
        raise ValueError(f"the melt record needs columns 'date' and {area_column!r}, got {list(measures.columns)}")
    df = measures[["date", area_column] + (["interpolated"] if "interpolated" in measures else [])].copy()
    df = df.set_index(pd.DatetimeIndex(df["date"])).drop(columns="date")
    area = df[area_column].astype(float)
    if exclude_interpolated and "interpolated" in df:
        area = area.where(df["interpolated"].astype(int) == 0)
    doy = np.minimum(area.index.day_of_year, 365)
    by_doy = area.groupby(doy)
    clim, sd = _circular_smooth(by_doy.mean(), smooth_days), _circular_smooth(by_doy.std(), smooth_days)
    excess = area - clim.reindex(doy).to_numpy()
    anomalous = (excess > k * sd.reindex(doy).to_numpy()) & (area > 0) & np.isin(area.index.month, months)
    # join across single gaps (missing or normal days between two anomalous days)
    flag = anomalous.to_numpy() | (
        anomalous.shift(1, fill_value=False).to_numpy() & anomalous.shift(-1, fill_value=False).to_numpy()
    )
    events = to_events(flag, area.index, excess.fillna(-np.inf).to_numpy())
    if events.empty:
        return pd.DataFrame(
            {
                "event_id": pd.Series(dtype=int),
                "start": pd.Series(dtype="datetime64[ns]"),
                "end": pd.Series(dtype="datetime64[ns]"),
                "peak_date": pd.Series(dtype="datetime64[ns]"),
                "peak_excess": pd.Series(dtype=float),
                "n_days": pd.Series(dtype=int),
            }
        )
    events = events.assign(n_days=(events["end"] - events["start"]).dt.days + 1)
    events = events[events["n_days"] >= min_days].rename(
        columns={"peak_time": "peak_date", "peak_score": "peak_excess"}
    )
    events = events.drop(columns="n_steps").reset_index(drop=True)
    events["event_id"] = np.arange(1, len(events) + 1)
    return events


def _circular_smooth(series: pd.Series, window: int) -> pd.Series:
    """Running mean over day of year 1..365 that wraps around the year end."""
    s = series.reindex(np.arange(1, 366))
    padded = pd.concat([s.iloc[-window:], s, s.iloc[:window]])
    smooth = padded.rolling(window, center=True, min_periods=1).mean()
    return smooth.iloc[window:-window]
