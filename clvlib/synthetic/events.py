"""The synthetic events: their types and kinds, the two worlds, and the truth of which drivers moved.

Each :class:`EventType` names the forcing variables it perturbs (its drivers), the months it occurs
in and its kind: ``amplitude`` (the drivers are large), ``coupling`` (moderate drivers moved against
their usual partners) or ``context`` (values normal for the season, not after the preceding days).
The ``default`` world injects the six amplitude types of :data:`EVENT_TYPES`; the ``synoptic`` world
(:data:`WORLDS`) those, rarer, beside coupling breaks and context events
(:data:`SYNOPTIC_EVENT_TYPES`). :func:`driver_shifts` measures how far each driver of each injected
event moved, in standard deviations, and :func:`rank_drivers` writes that ranking into the truth table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "EVENT_KINDS",
    "EVENT_TYPES",
    "EventType",
    "MIN_SHIFT_SD",
    "SYNOPTIC_EVENT_TYPES",
    "WORLDS",
    "anomaly_std_by_month",
    "driver_shifts",
    "event_types",
    "rank_drivers",
]


@dataclass(frozen=True)
class EventType:
    """A physical type of injected melt event.

    Attributes
    ----------
    name : str
        Identifier used in the truth table.
    drivers : tuple of str
        ERA5 names of the variables the event perturbs directly.
    months : tuple of int
        Calendar months in which the event may start.
    weight : float
        Relative frequency.
    kind : {"amplitude", "coupling", "context"}
        What makes the event anomalous (:data:`EVENT_KINDS`).
    min_shift : float
        Smallest mean shift (standard deviations) of every driver for the event to be injected.
    """

    name: str
    drivers: tuple[str, ...]
    months: tuple[int, ...]
    weight: float
    kind: str = "amplitude"
    min_shift: float = 2.0


EVENT_TYPES: tuple[EventType, ...] = (
    EventType("warm_advection", ("t2m", "d2m", "strd"), (5, 6, 7, 8, 9), 0.25),
    EventType("clear_sky", ("ssrd", "tcc"), (5, 6, 7), 0.15),
    EventType("cloudy_longwave", ("strd", "tcc"), (5, 6, 7, 8, 9), 0.15),
    EventType("foehn", ("u10", "sshf", "t2m"), (5, 6, 7, 8, 9), 0.15),
    EventType("rain_on_snow", ("tp", "t2m"), (6, 7, 8, 9), 0.15),
    EventType("dark_surface", ("fal",), (6, 7, 8), 0.15),
)


#: Smallest shift (standard deviations of day-of-year anomalies) of every listed driver of an amplitude event.
MIN_SHIFT_SD = 2.0


#: What makes an event anomalous. ``amplitude``: its drivers are large, along their usual pattern.
#: ``coupling``: each driver is moderate, but they move against their usual partners (warm without
#: the humidity and cloud that come with warmth in this world, ...), visible to a covariance, not to
#: the size of each variable. ``context``: every value is normal for the season, but not after the
#: preceding days (the synoptic state reverses abruptly).
EVENT_KINDS: tuple[str, ...] = ("amplitude", "coupling", "context")


#: The events of the ``synoptic`` world: today's amplitude events, rarer, beside coupling breaks and
#: context events (drivers within :data:`EVENT_TYPES`' variables, so the candidate drivers stay the same).
SYNOPTIC_EVENT_TYPES: tuple[EventType, ...] = tuple(
    EventType(e.name, e.drivers, e.months, e.weight * 0.4) for e in EVENT_TYPES
) + (
    EventType("dry_warm", ("t2m", "tcc"), (5, 6, 7, 8, 9), 0.12, "coupling", 1.0),
    EventType("humid_clear", ("d2m", "tcc"), (5, 6, 7, 8, 9), 0.12, "coupling", 1.0),
    EventType("windy_cold", ("u10", "t2m"), (5, 6, 7, 8, 9), 0.11, "coupling", 1.0),
    EventType("synoptic_reversal", ("t2m", "d2m", "tcc"), (5, 6, 7, 8, 9), 0.25, "context", 1.5),
)


#: The synthetic worlds: ``default`` (independent AR(1) weather, amplitude events; the embedded default)
#: and ``synoptic`` (weather driven by three shared synoptic factors, three kinds of events).
WORLDS: tuple[str, ...] = ("default", "synoptic")


def event_types(world: str = "default") -> tuple[EventType, ...]:
    """The event types injected in ``world``.

    Examples
    --------
    >>> sorted({e.kind for e in event_types("synoptic")})
    ['amplitude', 'context', 'coupling']
    >>> event_types("default") == EVENT_TYPES
    True
    """
    if world == "default":
        return EVENT_TYPES
    if world == "synoptic":
        return SYNOPTIC_EVENT_TYPES
    raise ValueError(f"unknown synthetic world {world!r}: expected one of {WORLDS}")


def anomaly_std_by_month(values: np.ndarray, time: pd.DatetimeIndex) -> np.ndarray:
    """For each day, the standard deviation of the day-of-year anomalies in its calendar month."""
    s = pd.Series(values, index=time)
    anomaly = s - s.groupby(time.day_of_year).transform("mean")
    return anomaly.groupby(time.month).transform("std").to_numpy()


def driver_shifts(
    baseline: dict[str, np.ndarray], perturbed: dict[str, np.ndarray], time: pd.DatetimeIndex, truth: pd.DataFrame
) -> pd.DataFrame:
    """Mean shift of every listed driver over each event, in standard deviations.

    The shift of a day is (with events - without events) divided by the standard deviation of
    the variable's day-of-year anomalies in that calendar month, in the run without events; an
    event's shift is the mean over its days.

    Returns
    -------
    pandas.DataFrame
        One row per (event_id, driver) with column ``shift_sd``.
    """
    drivers = {e.name: e.drivers for world in WORLDS for e in event_types(world)}
    names = sorted({d for ds in drivers.values() for d in ds})
    scaled = {v: (perturbed[v] - baseline[v]) / anomaly_std_by_month(baseline[v], time) for v in names}
    index = pd.Series(np.arange(len(time)), index=time)
    rows = []
    for ev in truth.itertuples():
        sl = slice(index[ev.start], index[ev.end] + 1)
        for d in drivers[ev.type]:
            rows.append((ev.event_id, d, float(np.mean(scaled[d][sl]))))
    return pd.DataFrame(rows, columns=["event_id", "driver", "shift_sd"])


def rank_drivers(truth: pd.DataFrame, shifts: pd.DataFrame) -> pd.DataFrame:
    """Add ``drivers`` (ranked by |shift|, ';'-separated) and ``shifts_sd`` to the truth table."""
    ordered = shifts.assign(size=shifts["shift_sd"].abs()).sort_values(["event_id", "size"], ascending=[True, False])
    grouped = ordered.groupby("event_id")
    out = truth.copy()
    out["drivers"] = grouped["driver"].agg(";".join).reindex(out["event_id"]).to_numpy()
    out["shifts_sd"] = (
        grouped["shift_sd"].agg(lambda x: ";".join(f"{v:.2f}" for v in x)).reindex(out["event_id"]).to_numpy()
    )
    return out
