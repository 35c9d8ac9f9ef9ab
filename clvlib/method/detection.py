"""From anomaly scores to flagged steps, events and the comparison tables of notebook 04.

Scope: melt anomalies are looked for in the melt season (steps starting May to September). The
threshold is fitted on the in-scope scores only (:func:`clvlib.method.threshold.scoped_threshold`), so
winter steps, which an unseasonal score would flag as often as summer events, neither raise
alarms nor distort the tail fit. ``months=tuple(range(1, 13))`` scores the whole year.

Default peaks-over-threshold settings, in steps of the in-scope series (about 31 per season):
a trailing window of 620 steps (about 20 melt seasons), one GPD fit per block of 31 steps (one
season), at least 93 steps (3 seasons) of history, tail from the 80th percentile, and a step is
anomalous when its tail probability is below 0.1. Anomalies are frequent in the melt season (the
injected events of the embedded default cover about a fifth of its steps), so the tail starts
lower than the 90th percentile of the original code; notebook 04 shows the effect of ``alpha``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from clvlib.availability import NotAvailable
from clvlib.method.evaluation import (
    MELT_SEASON_MONTHS,
    evaluate,
    measures_anomalies,
    melt_season,
    overlaps,
    step_labels,
)
from clvlib.method.threshold import PotConfig, scoped_threshold, sigma_threshold, to_events

__all__ = [
    "measures_table",
    "scoped_labels",
    "ALPHAS",
    "DEFAULT_POT",
    "DetectConfig",
    "comparison_table",
    "detect",
    "detected_events",
    "detection_by_kind",
    "extremes_row",
    "match_events",
    "recall_by_type",
    "THRESHOLD_RULES",
    "threshold",
    "threshold_rules",
]

DEFAULT_POT = PotConfig(window=620, block=31, quantile=0.8, alpha=0.1, min_history=93)


@dataclass(frozen=True)
class DetectConfig:
    """Settings of notebook 04.

    Attributes
    ----------
    months : tuple of int
        Calendar months whose steps are scored against a threshold (the scope).
    pot : PotConfig
        Peaks-over-threshold settings (trailing by default; ``centred=True`` is the original).
    sigma_k : float
        ``k`` of the mean + k*sigma comparison rule (same trailing window as ``pot``).
    extreme_alpha : float
        Tail probability below which a detected event counts as extreme.
    calibration_end : str or None
        Last day of the calibration period (the training years, ISO date). When set, rule ``pot`` is
        calibrated once on the in-scope scores up to it, then updated causally (every step gets a
        decision); ``pot_trailing`` keeps the purely trailing window for comparison. None: ``pot`` is
        the trailing rule.
    """

    months: tuple[int, ...] = MELT_SEASON_MONTHS
    pot: PotConfig = field(default_factory=lambda: DEFAULT_POT)
    sigma_k: float = 2.0
    extreme_alpha: float = 0.01
    calibration_end: str | None = None

    def as_dict(self) -> dict:
        """Flat dictionary for display."""
        return {
            "months": self.months,
            **{f"pot_{k}": v for k, v in asdict(self.pot).items()},
            "sigma_k": self.sigma_k,
            "extreme_alpha": self.extreme_alpha,
            "calibration_end": self.calibration_end or "none (trailing)",
        }

    def calibration(self, time: pd.DatetimeIndex) -> np.ndarray | None:
        """Steps of the calibration period (None without one)."""
        if self.calibration_end is None:
            return None
        return pd.DatetimeIndex(time) <= pd.Timestamp(self.calibration_end)


def threshold(score: np.ndarray, time: pd.DatetimeIndex, config: DetectConfig, rule: str = "pot") -> np.ndarray:
    """Threshold per step by ``rule`` (``pot``, ``pot_trailing``, ``pot_centred`` or ``sigma``); NaN out of scope.

    ``pot`` is calibrated on the training period when ``config.calibration_end`` is set (see
    :class:`DetectConfig`), else the same as ``pot_trailing``.

    Examples
    --------
    >>> t = pd.date_range("2000-01-01", periods=2000, freq="5D")
    >>> s = np.random.default_rng(0).exponential(size=2000)
    >>> thr = threshold(s, t, DetectConfig())
    >>> bool(np.isnan(thr[~melt_season(t)]).all()), bool(np.isfinite(thr[melt_season(t)][100:]).all())
    (True, True)
    """
    scope = melt_season(time, config.months)
    if rule == "pot":
        return scoped_threshold(score, scope, config.pot, config.calibration(time))
    if rule == "pot_trailing":
        return scoped_threshold(score, scope, config.pot)
    if rule == "pot_centred":
        return scoped_threshold(score, scope, replace(config.pot, centred=True))
    if rule == "sigma":
        out = np.full(np.shape(score), np.nan)
        out[scope] = sigma_threshold(
            np.asarray(score, float)[scope], config.pot.window, config.sigma_k, config.pot.min_history
        )
        return out
    raise ValueError(f"unknown threshold rule {rule!r}: expected 'pot', 'pot_trailing', 'pot_centred' or 'sigma'")


def detect(score: np.ndarray, time: pd.DatetimeIndex, config: DetectConfig, rule: str = "pot") -> pd.DataFrame:
    """Score, threshold and anomaly flag per step (flag only where a threshold exists)."""
    thr = threshold(score, time, config, rule)
    with np.errstate(invalid="ignore"):
        flag = np.isfinite(thr) & (np.asarray(score) > thr)
    return pd.DataFrame({"time": pd.DatetimeIndex(time), "score": score, "threshold": thr, "anomaly": flag})


#: The threshold rules compared by :func:`threshold_rules` (``pot`` is the pipeline's rule).
THRESHOLD_RULES: tuple[str, ...] = ("pot", "pot_trailing", "pot_centred", "sigma")


def threshold_rules(
    score: np.ndarray,
    time: pd.DatetimeIndex,
    n_days: np.ndarray,
    reference: pd.DataFrame | NotAvailable,
    config: DetectConfig,
    rules: tuple[str, ...] = THRESHOLD_RULES,
) -> pd.DataFrame:
    """One score under every threshold rule: how many steps get no decision, how often calm steps are flagged.

    ``n_undecided`` counts the in-scope steps a rule gives no threshold (a trailing window without
    enough history); ``flag_rate`` is the share of the decided in-scope steps flagged outside the
    reference events (every decided step without a reference), to set beside the nominal
    ``config.pot.alpha``. With a reference, the metrics of :func:`comparison_table` follow, on the
    steps where *every* rule decides, so that the rules are compared on the same steps.

    Examples
    --------
    >>> t = pd.date_range("1990-01-01", periods=1460, freq="5D")
    >>> s = np.random.default_rng(0).exponential(size=1460)
    >>> cfg = DetectConfig(calibration_end="2005-12-31")
    >>> table = threshold_rules(s, t, np.full(1460, 5), NotAvailable("none"), cfg).set_index("threshold")
    >>> table.loc[["pot", "pot_trailing"], "n_undecided"].tolist()
    [0, 93]
    >>> bool(abs(table.loc["pot", "flag_rate"] - 0.1) < 0.03)
    True
    """
    time = pd.DatetimeIndex(time)
    scope = melt_season(time, config.months)
    detections = {rule: detect(score, time, config, rule) for rule in rules}
    calm = scope.copy() if isinstance(reference, NotAvailable) else scope & ~step_labels(time, n_days, reference)
    rows = []
    for rule, d in detections.items():
        decided = np.isfinite(d["threshold"].to_numpy())
        flags = d["anomaly"].to_numpy()
        rows.append(
            {
                "threshold": rule,
                "n_undecided": int((scope & ~decided).sum()),
                "flag_rate": float(flags[calm & decided].mean()) if (calm & decided).any() else np.nan,
            }
        )
    table = pd.DataFrame(rows)
    if isinstance(reference, NotAvailable):
        return table
    common = scope.copy()
    for d in detections.values():
        common &= np.isfinite(d["threshold"].to_numpy())
    metrics = [
        asdict(evaluate(d["score"].to_numpy(), d["anomaly"].to_numpy(), time, n_days, reference, common))
        for d in detections.values()
    ]
    return pd.concat([table, pd.DataFrame(metrics)], axis=1)


def comparison_table(
    scores: dict[str, np.ndarray],
    time: pd.DatetimeIndex,
    n_days: np.ndarray,
    reference: pd.DataFrame,
    config: DetectConfig,
    rules: tuple[str, ...] = ("pot",),
    period: np.ndarray | None = None,
) -> pd.DataFrame:
    """Metrics of every score under every threshold rule against one reference.

    The steps that count are those in scope, inside ``period`` (default all) and with a
    threshold under *every* rule, so all rows are evaluated on exactly the same steps.

    Returns
    -------
    pandas.DataFrame
        One row per (method, rule): the fields of :class:`clvlib.method.evaluation.Scores`.
    """
    time = pd.DatetimeIndex(time)
    period = np.ones(len(time), bool) if period is None else np.asarray(period, bool)
    detections = {(name, rule): detect(s, time, config, rule) for name, s in scores.items() for rule in rules}
    common = period.copy()
    for d in detections.values():
        common &= np.isfinite(d["threshold"].to_numpy())
    rows = []
    for (name, rule), d in detections.items():
        m = evaluate(d["score"].to_numpy(), d["anomaly"].to_numpy(), time, n_days, reference, common)
        rows.append({"method": name, "threshold": rule, **asdict(m)})
    return pd.DataFrame(rows)


def match_events(detected: pd.DataFrame, reference: pd.DataFrame | NotAvailable, step_days: int = 5) -> pd.DataFrame:
    """Detected events with the reference events they overlap (ids and types joined by ``;``).

    A detected event covers its steps' days: ``start`` to ``end + step_days - 1``. Without
    reference events (:class:`~clvlib.availability.NotAvailable`) the events are returned as they are.
    """
    if isinstance(reference, NotAvailable):
        return detected
    end = detected["end"] + pd.Timedelta(days=step_days - 1)
    ids, types = [], []
    for s, e in zip(detected["start"], end, strict=True):
        hit = reference[(reference["start"] <= e) & (reference["end"] >= s)]
        ids.append(";".join(map(str, hit["event_id"])))
        types.append(";".join(hit["type"]) if "type" in hit else "")
    return detected.assign(reference_ids=ids, reference_types=types)


def recall_by_type(reference: pd.DataFrame, detected: pd.DataFrame, step_days: int = 5) -> pd.DataFrame:
    """Event recall per reference event type.

    Returns
    -------
    pandas.DataFrame
        Columns type, n_events, n_detected, recall; plus a row ``all``.
    """
    found = overlaps(
        reference["start"], reference["end"], detected["start"], detected["end"] + pd.Timedelta(days=step_days - 1)
    )
    table = reference.assign(found=found).groupby("type")["found"].agg(n_events="size", n_detected="sum")
    table.loc["all"] = [len(found), int(found.sum())]
    table["recall"] = table["n_detected"] / table["n_events"]
    return table.reset_index()


def detection_by_kind(
    scores: dict[str, np.ndarray],
    time: pd.DatetimeIndex,
    n_days: np.ndarray,
    reference: pd.DataFrame,
    config: DetectConfig,
    period: np.ndarray | None = None,
) -> pd.DataFrame:
    """Metrics of every score per kind of reference event (amplitude, coupling, context; see ``truth.csv``).

    For one kind, its events are the reference and the steps of the other kinds' events are left
    out, so a kind's PR-AUC says how well a score tells that kind of event from calm steps. The
    rows of kind ``all`` are :func:`comparison_table` on every event. A reference without a
    ``kind`` column has amplitude events only (truth tables written before the kinds existed).

    Returns
    -------
    pandas.DataFrame
        method, kind, n_reference_events, recall, event_recall, pr_auc, n_steps; kinds in the order
        all, then as they first appear in ``reference``.

    Examples
    --------
    A score that sees the amplitude event (step 1205, July 2006) and not the coupling break (step 1430):

    >>> t = pd.date_range("1990-01-01", periods=1460, freq="5D")
    >>> ref = pd.DataFrame({"start": t[[1205, 1430]], "end": t[[1205, 1430]], "kind": ["amplitude", "coupling"]})
    >>> size = np.random.default_rng(0).random(1460)
    >>> size[1205] = 9.0
    >>> table = detection_by_kind({"size": size}, t, np.full(1460, 5), ref, DetectConfig())
    >>> table[["kind", "n_reference_events", "event_recall"]].values.tolist()
    [['all', 2, 0.5], ['amplitude', 1, 1.0], ['coupling', 1, 0.0]]
    """
    time = pd.DatetimeIndex(time)
    period = np.ones(len(time), bool) if period is None else np.asarray(period, bool)
    kinds = reference["kind"] if "kind" in reference else pd.Series("amplitude", index=reference.index)
    columns = ["method", "kind", "n_reference_events", "recall", "event_recall", "pr_auc", "n_steps"]
    parts = [comparison_table(scores, time, n_days, reference, config, period=period).assign(kind="all")]
    for kind in pd.unique(kinds):
        others = step_labels(time, n_days, reference[kinds != kind])
        table = comparison_table(scores, time, n_days, reference[kinds == kind], config, period=period & ~others)
        parts.append(table.assign(kind=kind))
    return pd.concat(parts, ignore_index=True)[columns]


def detected_events(detection: pd.DataFrame, config: DetectConfig) -> pd.DataFrame:
    """Events of a detection (output of :func:`detect`) with their intensity and extremeness.

    ``intensity`` is the peak score over the threshold at the peak. An event is ``extreme``
    when its peak also exceeds the threshold at tail probability ``config.extreme_alpha``
    (same windows and GPD fits, stricter level).

    Returns
    -------
    pandas.DataFrame
        Columns of :func:`clvlib.method.threshold.to_events` plus intensity and extreme.
    """
    time = pd.DatetimeIndex(detection["time"])
    score = detection["score"].to_numpy(dtype=float)
    events = to_events(detection["anomaly"].to_numpy(), time, np.where(np.isfinite(score), score, -np.inf))
    strict = threshold(score, time, replace(config, pot=replace(config.pot, alpha=config.extreme_alpha)))
    peak = time.get_indexer(pd.DatetimeIndex(events["peak_time"]))
    peak_score = events["peak_score"].to_numpy(dtype=float)
    return events.assign(
        intensity=peak_score / detection["threshold"].to_numpy()[peak], extreme=peak_score > strict[peak]
    )


def extremes_row(events: pd.DataFrame, first_year: int, last_year: int) -> dict:
    """Number, duration and intensity of detected events starting in ``first_year..last_year``."""
    ev = events[(events["start"].dt.year >= first_year) & (events["start"].dt.year <= last_year)]
    years = last_year - first_year + 1
    return {
        "first_year": first_year,
        "last_year": last_year,
        "n_events": len(ev),
        "events_per_decade": round(10 * len(ev) / years, 3),
        "mean_steps": round(float(ev["n_steps"].mean()), 3) if len(ev) else float("nan"),
        "mean_intensity": round(float(ev["intensity"].mean()), 4) if len(ev) else float("nan"),
        "max_intensity": round(float(ev["intensity"].max()), 4) if len(ev) else float("nan"),
        "n_extreme": int(ev["extreme"].sum()),
        "extreme_per_decade": round(10 * float(ev["extreme"].sum()) / years, 3),
    }


#: Tail probabilities of the alpha-sensitivity table.
ALPHAS: tuple[float, ...] = (0.02, 0.05, 0.1, 0.15)


def scoped_labels(
    detection: pd.DataFrame,
    time: pd.DatetimeIndex,
    n_days: np.ndarray,
    truth: pd.DataFrame | NotAvailable,
    config: DetectConfig,
) -> tuple[np.ndarray, np.ndarray] | NotAvailable:
    """The steps every threshold scores (melt season, with history) and their labels against ``truth``.

    Returns ``(mask over all steps, labels of the masked steps)``, or ``truth`` when it is not available.
    """
    if isinstance(truth, NotAvailable):
        return truth
    mask = melt_season(time, config.months) & np.isfinite(detection["threshold"].to_numpy())
    return mask, step_labels(time, n_days, truth)[mask]


def measures_table(
    scores: dict[str, np.ndarray],
    time: pd.DatetimeIndex,
    n_days: np.ndarray,
    measures: pd.DataFrame | NotAvailable,
    config: DetectConfig,
) -> pd.DataFrame | NotAvailable:
    """Every score against the melt-extent anomalies of a MEaSUREs record, over the years both cover.

    The anomalies are :func:`clvlib.method.evaluation.measures_anomalies` of ``measures``; values
    rounded to 4 decimals; ``measures`` itself when it is not available.
    """
    if isinstance(measures, NotAvailable):
        return measures
    melt_events = measures_anomalies(measures).assign(type="melt extent")
    in_record = (time >= measures["date"].min()) & (time <= measures["date"].max())
    return comparison_table(scores, time, n_days, melt_events, config, period=in_record).round(4)
