"""Daily to 5-day aggregation (73 steps per calendar year, the paper's time resolution).

A year is cut into 73 five-day steps by day of year, counting 29 February as part of the step
that holds 28 February (which then has 6 days); steps therefore line up across years, and a
step-of-year climatology is well defined. Each step is labelled by its first day.

Each daily value is converted to the processed units (:mod:`clvlib.variables`) and the step
takes the mean over its available days: for an accumulated energy flux (J m-2 per day) this is
``sum(J m-2) / (n_days * 86400 s)`` in W m-2; for water (m w.e. per day) it is the mean rate in
kg m-2 d-1; states are averaged. A step missing more than ``max_missing_days`` days is NaN.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from clvlib.variables import SECONDS_PER_DAY, Kind, Variable, catalogue

__all__ = ["STEPS_PER_YEAR", "processed_factor", "step_of_year", "to_five_day"]

STEPS_PER_YEAR = 73


def processed_factor(var: Variable) -> float:
    """Multiplier from daily input units to processed units (:attr:`Variable.processed_units`).

    Examples
    --------
    >>> processed_factor(catalogue()["ssrd"]) * 8.64e6, processed_factor(catalogue()["tp"])
    (100.0, 1000.0)
    """
    if var.kind is Kind.ENERGY_ACCUMULATION:
        return 1.0 / SECONDS_PER_DAY
    if var.kind is Kind.WATER_ACCUMULATION:
        return 1000.0
    return 1.0


def step_of_year(time: pd.DatetimeIndex) -> np.ndarray:
    """Index 0..72 of the 5-day step holding each day.

    Examples
    --------
    >>> step_of_year(pd.DatetimeIndex(["2020-01-05", "2020-01-06", "2020-02-29", "2020-03-01", "2020-12-31"])).tolist()
    [0, 1, 11, 11, 72]
    """
    doy = time.day_of_year.to_numpy()
    no_leap_doy = np.where(time.is_leap_year & (doy > 59), doy - 1, doy)
    return (no_leap_doy - 1) // 5


def _full_days(ds: xr.Dataset) -> xr.Dataset:
    """Reindex to every day from the first to the last year's end, so missing days become NaN."""
    t = pd.DatetimeIndex(ds["time"].values).normalize()
    ds = ds.assign_coords(time=t)
    days = pd.date_range(f"{t[0].year}-01-01", f"{t[-1].year}-12-31", freq="D")
    return ds.reindex(time=days)


def to_five_day(
    ds: xr.Dataset,
    variables: tuple[str, ...],
    max_missing_days: int = 1,
    variable_info: Mapping[str, Variable] | None = None,
) -> xr.Dataset:
    """Aggregate a checked daily data set to 5-day steps in processed units.

    Parameters
    ----------
    ds : xarray.Dataset
        Daily data with a ``time`` coordinate and catalogue variables in input units.
    variables : tuple of str
        Variables to aggregate.
    max_missing_days : int
        A step with more missing days than this becomes NaN.
    variable_info : mapping of str to Variable, optional
        Description of each variable (kind, units); the package catalogue by default. A user's
        data set passes its own (:func:`clvlib.io.canonical.load_canonical`).

    Returns
    -------
    xarray.Dataset
        Dimension ``time`` (first day of each step) with coordinates ``year``, ``step`` (0..72)
        and ``n_days``; variables in processed units with ``units`` and ``long_name``.

    Examples
    --------
    Five days of 8.64e6 J m-2 of shortwave each are a mean flux of 100 W m-2:

    >>> t = pd.date_range("2001-01-01", "2001-12-31")
    >>> ds = xr.Dataset({"ssrd": ("time", np.full(len(t), 8.64e6), {"units": "J m-2"})}, coords={"time": t})
    >>> float(to_five_day(ds, ("ssrd",))["ssrd"][0])
    100.0
    """
    cat = catalogue() if variable_info is None else variable_info
    daily = _full_days(ds)
    t = pd.DatetimeIndex(daily["time"].values)
    keys = pd.MultiIndex.from_arrays([t.year, step_of_year(t)], names=["year", "step"])
    frame = pd.DataFrame({v: daily[v].values * processed_factor(cat[v]) for v in variables}, index=keys)
    grouped = frame.groupby(level=["year", "step"])
    mean = grouped.mean()
    missing = grouped.size().to_numpy()[:, None] - grouped.count().to_numpy()
    mean = mean.where(missing <= max_missing_days)
    first_day = pd.Series(t, index=keys).groupby(level=["year", "step"]).min()
    n_days = grouped.size()
    out = xr.Dataset(
        {
            v: ("time", mean[v].to_numpy(), {"units": cat[v].processed_units, "long_name": cat[v].long_name})
            for v in variables
        },
        coords={
            "time": first_day.to_numpy(),
            "year": ("time", mean.index.get_level_values("year").to_numpy()),
            "step": ("time", mean.index.get_level_values("step").to_numpy()),
            "n_days": ("time", n_days.to_numpy()),
        },
    )
    out.attrs = dict(ds.attrs)
    return out
