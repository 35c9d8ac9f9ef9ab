"""Attributions scored against the injected drivers of the embedded default.

The generator perturbs forcing variables (:data:`clvlib.variables.CANDIDATE_DRIVERS`); fluxes, skin
temperature, melt and albedo respond to them. An event's ranking is checked against its true
drivers (``truth.csv``) among all features (:func:`driver_check`, :func:`driver_accuracy`) and among
the candidate drivers only (:func:`candidate_drivers`, :func:`candidate_driver_check`,
:func:`candidate_driver_accuracy`), where the share of events in which a response variable outranks
every true driver is reported beside the accuracy. Without a truth table every function returns a
:class:`clvlib.availability.NotAvailable`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvlib.availability import NotAvailable
from clvlib.variables import CANDIDATE_DRIVERS, driver_name

__all__ = [
    "candidate_driver_accuracy",
    "candidate_driver_check",
    "candidate_drivers",
    "driver_accuracy",
    "driver_check",
]


def _matched_truth(
    ranking: pd.DataFrame, events: pd.DataFrame, truth: pd.DataFrame
) -> list[tuple[int, int, pd.Series]]:
    """(detected id, injected id, truth row) of each ranked detected event overlapping an injected one (the first)."""
    drivers = truth.set_index("event_id")
    ranked = set(ranking["event_id"])
    out = []
    for ev in events.itertuples():
        ids = [int(i) for i in str(ev.reference_ids).split(";") if i not in ("", "nan")]
        if ids and ev.event_id in ranked:
            out.append((ev.event_id, ids[0], drivers.loc[ids[0]]))
    return out


def _true_drivers(row: pd.Series, dataset: str) -> set[str]:
    """The injected event's drivers under the names of ``dataset``."""
    return {driver_name(d, dataset) for d in str(row["drivers"]).split(";")}


def driver_check(
    ranking: pd.DataFrame, events: pd.DataFrame, truth: pd.DataFrame | NotAvailable, k: int = 3, dataset: str = "era5"
) -> pd.DataFrame | NotAvailable:
    """Compare each detected event's attributed ranking with the true drivers of the injected event it overlaps.

    Parameters
    ----------
    ranking : pandas.DataFrame
        :func:`event_ranking` output.
    events : pandas.DataFrame
        Detected events with ``reference_ids`` (see :func:`clvlib.method.detection.match_events`).
    truth : pandas.DataFrame
        Injected events with ``event_id``, ``type`` and ``drivers`` (``;``-separated ERA5 names).
    k : int
        Size of the top set.
    dataset : str
        Data set of the ranking; drivers are renamed to its variables
        (:func:`clvlib.variables.driver_name`, e.g. ``fal`` is ``albedo`` in GEMB).

    Returns
    -------
    pandas.DataFrame
        One row per detected event that overlaps an injected one (the first, if several): event_id,
        truth_id, type, drivers, top1, top_k, top1_is_driver, driver_in_top_k.
    """
    if isinstance(truth, NotAvailable):
        return truth
    rows = []
    for event_id, truth_id, true in _matched_truth(ranking, events, truth):
        true_set = _true_drivers(true, dataset)
        top = ranking[ranking["event_id"] == event_id].nsmallest(k, "rank")["feature"].tolist()
        rows.append(
            {
                "event_id": event_id,
                "truth_id": truth_id,
                "type": true["type"],
                "drivers": ";".join(sorted(true_set)),
                "top1": top[0],
                f"top{k}": ";".join(top),
                "top1_is_driver": top[0] in true_set,
                f"driver_in_top{k}": bool(true_set & set(top)),
            }
        )
    return pd.DataFrame(rows)


def driver_accuracy(check: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """Top-1 and top-``k`` driver accuracy per event type and overall (row ``all``)."""

    def summary(group: pd.DataFrame, name: str) -> dict:
        return {
            "type": name,
            "n_events": len(group),
            "top1_accuracy": float(group["top1_is_driver"].mean()),
            f"top{k}_accuracy": float(group[f"driver_in_top{k}"].mean()),
        }

    rows = [summary(g, str(t)) for t, g in check.groupby("type")] + [summary(check, "all")]
    return pd.DataFrame(rows)


def candidate_drivers(dataset: str, names: tuple[str, ...] | list[str] | None = None) -> tuple[str, ...]:
    """Variables the generator perturbs directly: the drivers of every event type, under the names of ``dataset``.

    The synthetic events (:data:`clvlib.variables.CANDIDATE_DRIVERS`) shift forcing variables; fluxes,
    skin temperature, melt and albedo respond to them (except the dark-surface event, which sets the
    albedo itself). ``fal`` is ``albedo`` and ``sshf`` is ``shf`` in GEMB (:func:`clvlib.variables.driver_name`).

    Parameters
    ----------
    dataset : str
        Data set whose variable names are used.
    names : sequence of str, optional
        The features at hand: only the candidates among them are returned, in their order.

    Examples
    --------
    >>> candidate_drivers("era5")
    ('t2m', 'd2m', 'strd', 'ssrd', 'tcc', 'u10', 'sshf', 'tp', 'fal')
    >>> candidate_drivers("gemb", ("melt", "albedo", "t2m", "shf", "netSW"))
    ('albedo', 't2m', 'shf')
    """
    union = tuple(driver_name(d, dataset) for d in CANDIDATE_DRIVERS)
    return union if names is None else tuple(n for n in names if n in union)


def _candidate_row(order: list[str], true_set: set[str], candidates: set[str], k: int) -> dict:
    """Top-1/top-``k`` among ``candidates`` of one event's feature ``order`` (best first).

    The row also says whether a response leads.
    """
    among = [f for f in order if f in candidates][:k]
    first_driver = min((i for i, f in enumerate(order) if f in true_set), default=len(order))
    first_response = min((i for i, f in enumerate(order) if f not in candidates), default=len(order))
    return {
        "top1": among[0] if among else "",
        f"top{k}": ";".join(among),
        "top1_is_driver": bool(among) and among[0] in true_set,
        f"driver_in_top{k}": bool(true_set & set(among)),
        "driver_rank": first_driver + 1 if first_driver < len(order) else np.nan,
        "response_first": first_response < first_driver,
    }


def candidate_driver_check(
    ranking: pd.DataFrame, events: pd.DataFrame, truth: pd.DataFrame, names: tuple[str, ...], dataset: str, k: int = 3
) -> pd.DataFrame:
    """:func:`driver_check` with the ranking restricted to candidate drivers, and whether a response variable leads.

    A response variable is a ranked feature that is not a candidate driver (:func:`candidate_drivers`
    of ``names``): a flux, skin temperature, melt or albedo that moves *because* of the forcing.
    Ranking one first is not wrong about the model, but it does not name the cause, so the top-1
    and top-``k`` are taken among candidates only, and ``response_first`` says whether a response
    variable outranks every true driver in the full ranking.

    Parameters
    ----------
    ranking, events, truth, k
        As in :func:`driver_check`.
    names : tuple of str
        The data set's features.
    dataset : str
        Data set of the ranking (names of the drivers).

    Returns
    -------
    pandas.DataFrame
        One row per detected event that overlaps an injected one: event_id, truth_id, type, drivers,
        top1 and top_k (among candidates), top1_is_driver, driver_in_top_k, driver_rank (rank of the
        best true driver in the full ranking, NaN if none is ranked) and response_first.
    """
    candidates = set(candidate_drivers(dataset, names))
    rows = []
    for event_id, truth_id, true in _matched_truth(ranking, events, truth):
        true_set = _true_drivers(true, dataset)
        order = ranking[ranking["event_id"] == event_id].sort_values("rank", kind="stable")["feature"].tolist()
        rows.append(
            {
                "event_id": event_id,
                "truth_id": truth_id,
                "type": true["type"],
                "drivers": ";".join(sorted(true_set)),
                **_candidate_row(order, true_set, candidates, k),
            }
        )
    return pd.DataFrame(rows)


def candidate_driver_accuracy(check: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """Accuracy among candidates per event type and overall (row ``all``).

    Columns: n_events, top-1/top-``k`` accuracy among candidates, response_first_share.
    """
    columns = {
        "top1_accuracy": "top1_is_driver",
        f"top{k}_accuracy": f"driver_in_top{k}",
        "response_first_share": "response_first",
    }

    def summary(group: pd.DataFrame, name: str) -> dict:
        return {
            "type": name,
            "n_events": len(group),
            **{out: float(group[col].astype(float).mean()) if len(group) else np.nan for out, col in columns.items()},
        }

    rows = [summary(g, str(t)) for t, g in check.groupby("type")] if len(check) else []
    return pd.DataFrame(rows + [summary(check, "all")])
