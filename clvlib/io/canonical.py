"""A user's own data set: the canonical netCDF contract of ``make run``, checked before any training.

The contract
------------
* one dimension, ``time``: regular (every step the same length), daily or finer, with a step
  that divides a day (1 h, 3 h, 6 h, 1 day, ...); a missing value is NaN at its time, never a
  skipped time;
* every data variable is numeric, has dimensions ``("time",)`` and a ``units`` attribute;
* ERA5 short names (``t2m``, ``ssrd``, ``tp``, ...) and the GEMB-style names of
  :mod:`clvlib.variables` are recognised and converted to the pipeline's daily conventions:
  an energy flux given in ``J m-2`` is the accumulation over its time step (summed to a daily
  total), one given in ``W m-2`` is a mean flux over its step (averaged and multiplied by
  86400 s); water (``tp``, ``sf``, ``smlt``) in ``m`` (or ``kg m-2``/``mm``) is the accumulation over
  its step; states are averaged. The daily values are then checked for plausible ranges;
* any other variable is taken as a state (averaged to days and 5-day steps) in its own units;
* an optional global attribute ``melt_variable`` names the melt variable (the target of the
  second surrogate task of notebook 06); without it ``smlt`` or ``melt`` is used when present.

A day with any missing sub-daily value is missing (never a partial sum). Only complete calendar
years are used; the last one is held out like 2021 in the paper, the others are training years.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from clvlib.errors import InputDataError
from clvlib.io.checks import (
    canonical_units,
    check_daily_means,
    check_time,
    check_variable,
    open_netcdf,
    require_complete_day,
    standard_calendar,
    time_index,
)
from clvlib.variables import SECONDS_PER_DAY, Kind, Variable, catalogue

__all__ = [
    "CanonicalData",
    "MIN_YEARS",
    "canonical_daily",
    "check_dimensions",
    "describe",
    "load_canonical",
    "record_years",
    "time_step",
    "to_daily",
]

#: Fewest complete calendar years a data set needs: training years for the scaler, the
#: step-of-year climatology and three melt seasons of threshold history, plus the held-out year.
MIN_YEARS = 5


@dataclass(frozen=True)
class CanonicalData:
    """A checked user data set, reduced to daily values in the pipeline's input conventions.

    Attributes
    ----------
    daily : xarray.Dataset
        Daily values (``time`` at midnight), complete calendar years only.
    variable_info : dict of str to Variable
        How each variable is aggregated and labelled (catalogue entries or states).
    melt_variable : str or None
        The melt variable, if any.
    source : str
        The file read.
    step : pandas.Timedelta
        Time step of the file.
    """

    daily: xr.Dataset
    variable_info: dict[str, Variable]
    melt_variable: str | None
    source: str
    step: pd.Timedelta

    @property
    def variables(self) -> tuple[str, ...]:
        """Variable names in file order."""
        return tuple(self.variable_info)

    @property
    def years(self) -> tuple[int, int]:
        """First and last complete calendar year."""
        t = pd.DatetimeIndex(self.daily["time"].values)
        return int(t[0].year), int(t[-1].year)


def check_dimensions(ds: xr.Dataset, source: str) -> None:
    """Require one dimension ``time`` and numeric ``("time",)`` data variables with ``units``."""
    if "time" not in ds.dims:
        raise InputDataError(
            f"{source}: no dimension 'time' (dimensions: {dict(ds.sizes) or 'none'}). A canonical file has one "
            "dimension named 'time'; rename yours (e.g. ds.rename(valid_time='time')). Raw ERA5 downloads on a grid "
            "must first be reduced to a regional-mean series."
        )
    if len(ds.data_vars) < 2:
        raise InputDataError(
            f"{source}: {len(ds.data_vars)} data variable(s) {sorted(ds.data_vars)}; the detector needs at least two "
            "variables over time (the paper uses 17). Add variables."
        )
    for name, var in ds.data_vars.items():
        if var.dims != ("time",):
            raise InputDataError(
                f"{source}: variable '{name}' has dimensions {var.dims}; expected ('time',). "
                "Reduce it to one value per time (e.g. a regional mean) or drop it."
            )
        if not np.issubdtype(var.dtype, np.number) or np.issubdtype(var.dtype, np.complexfloating):
            raise InputDataError(
                f"{source}: variable '{name}' is not numeric (dtype {var.dtype}); every data variable must be a real "
                f"number over time. Drop it (ds.drop_vars('{name}')) or keep the text as an attribute."
            )
        values = np.asarray(var.values, dtype=float)
        infinite = np.flatnonzero(np.isinf(values))
        if infinite.size:
            when = ds["time"].values[infinite[0]] if "time" in ds.coords else None
            at = f", first at {str(when)[:16].replace('T', ' ')}" if when is not None else ""
            raise InputDataError(
                f"{source}: variable '{name}' has {infinite.size} infinite value(s){at}; expected finite numbers, with "
                "NaN for a missing value. Replace them (e.g. ds[name].where(np.isfinite(ds[name])))."
            )
        if "units" not in var.attrs:
            raise InputDataError(
                f"{source}: variable '{name}' has no 'units' attribute; every data variable needs one "
                f"(e.g. 'K', 'J m-2', 'W m-2', 'm', '1'). Set ds['{name}'].attrs['units']."
            )


def time_step(ds: xr.Dataset, source: str) -> pd.Timedelta:
    """The regular time step of ``ds``, which must divide a day.

    Examples
    --------
    >>> t = pd.date_range("2000-01-01", periods=48, freq="6h")
    >>> time_step(xr.Dataset(coords={"time": t}), "x.nc")
    Timedelta('0 days 06:00:00')
    """
    check_time(ds, source)
    t = time_index(ds, source)
    if len(t) < 2:
        raise InputDataError(f"{source}: 'time' has {len(t)} value(s); a record of several years is needed.")
    steps = np.diff(t.as_unit("ns").asi8)
    step = int(np.min(steps))
    odd = np.flatnonzero(steps != step)
    if odd.size:
        i = int(odd[0])
        raise InputDataError(
            f"{source}: time steps are not regular: {t[i]:%Y-%m-%d %H:%M} is followed by {t[i + 1]:%Y-%m-%d %H:%M} "
            f"({pd.Timedelta(steps[i])}) while the step is {pd.Timedelta(step)} ({odd.size} irregular step(s)). "
            "Write every time of the record and mark missing values as NaN (e.g. ds.resample(time='1D').asfreq())."
        )
    day = pd.Timedelta("1D").value
    if step > day or day % step:
        raise InputDataError(
            f"{source}: the time step is {pd.Timedelta(step)}; expected daily or finer, dividing a day "
            "(1 h, 3 h, 6 h, 1 day). Resample the data to daily values first."
        )
    return pd.Timedelta(step)


def describe(ds: xr.Dataset, name: str) -> Variable:
    """The catalogue entry of a recognised name, else a state in the file's own units."""
    known = catalogue().get(name)
    if known is not None:
        return known
    attrs = ds[name].attrs
    return Variable(name, str(attrs.get("long_name", name)), str(attrs["units"]), Kind.STATE, -np.inf, np.inf)


def _to_input_units(values: np.ndarray, var: Variable, units: str, source: str) -> tuple[np.ndarray, bool, str]:
    """Values per time step in the catalogue's units, whether they are summed to days, and their units."""
    canon = canonical_units(units)
    if var.kind is Kind.ENERGY_ACCUMULATION and canon == "W m-2":
        return values * SECONDS_PER_DAY, False, var.units  # mean flux: daily mean x 86400 s = daily total
    if var.kind is Kind.WATER_ACCUMULATION and canon == "kg m-2 d-1":
        return values / 1000.0, True, var.units
    if (
        var.kind is Kind.MASS_FLUX
        or (var.kind is Kind.ENERGY_ACCUMULATION and canon == "J m-2")
        or (var.kind is Kind.WATER_ACCUMULATION and canon == "m")
    ):
        return values, True, units
    if var.kind in (Kind.ENERGY_ACCUMULATION, Kind.WATER_ACCUMULATION):
        expected = (
            "'J m-2' (accumulated over each time step) or 'W m-2' (mean flux)"
            if var.kind is Kind.ENERGY_ACCUMULATION
            else "'m' of water equivalent (or 'kg m-2') accumulated over each time step"
        )
        raise InputDataError(f"{source}: variable '{var.name}' has units '{units}'; expected {expected}. Convert it.")
    return values, False, units  # states keep the declared units, which check_variable then checks


def to_daily(
    values: np.ndarray, time: pd.DatetimeIndex, per_day: int, total: bool
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Daily sums (``total``) or means of a regular series with ``per_day`` steps a day; days with a gap are NaN.

    Examples
    --------
    >>> t = pd.date_range("2000-01-01", periods=8, freq="6h")
    >>> days, v = to_daily(np.array([1.0, 2, 3, 4, 5, np.nan, 7, 8]), t, 4, total=True)
    >>> [str(d.date()) for d in days], v.tolist()
    (['2000-01-01', '2000-01-02'], [10.0, nan])
    """
    frame = pd.Series(values, index=time)
    grouped = frame.groupby(time.normalize())
    out = grouped.sum() if total else grouped.mean()
    out = out.where(grouped.count() == per_day)
    return pd.DatetimeIndex(out.index), out.to_numpy(dtype=float)


def _complete_years(daily: xr.Dataset, source: str) -> xr.Dataset:
    """Keep whole calendar years; too short a record is an error."""
    t = pd.DatetimeIndex(daily["time"].values)
    first = t[0].year if (t[0].month, t[0].day) == (1, 1) else t[0].year + 1
    last = t[-1].year if (t[-1].month, t[-1].day) == (12, 31) else t[-1].year - 1
    if last - first + 1 < MIN_YEARS:
        raise InputDataError(
            f"{source}: {max(last - first + 1, 0)} complete calendar year(s) ({t[0]:%Y-%m-%d} to {t[-1]:%Y-%m-%d}); "
            f"at least {MIN_YEARS} are needed (training years for the scaler, the climatology and the threshold, "
            "plus one held-out year). Supply a longer record."
        )
    return daily.sel(time=slice(f"{first}-01-01", f"{last}-12-31"))


def _melt_variable(ds: xr.Dataset, source: str) -> str | None:
    """The ``melt_variable`` attribute (checked) or ``smlt``/``melt`` when present."""
    name = ds.attrs.get("melt_variable")
    if name is not None:
        if name not in ds.data_vars:
            raise InputDataError(
                f"{source}: global attribute melt_variable='{name}' names no data variable (variables: "
                f"{sorted(ds.data_vars)}). Fix the attribute or remove it."
            )
        return str(name)
    return next((n for n in ("smlt", "melt") if n in ds.data_vars), None)


def canonical_daily(ds: xr.Dataset, source: str) -> CanonicalData:
    """Check a canonical data set and reduce it to daily values (see the module docstring).

    Parameters
    ----------
    ds : xarray.Dataset
        The user's data set.
    source : str
        Its name, for error messages.

    Returns
    -------
    CanonicalData
    """
    if "time" in ds.dims:
        ds = standard_calendar(ds, source)
    check_dimensions(ds, source)
    step = time_step(ds, source)
    per_day = int(pd.Timedelta("1D") / step)
    time = time_index(ds, source)
    info: dict[str, Variable] = {}
    columns: dict[str, tuple] = {}
    days = None
    for name in ds.data_vars:
        var = describe(ds, name)
        values, total, units = _to_input_units(
            np.asarray(ds[name].values, dtype=float), var, ds[name].attrs["units"], source
        )
        days, daily_values = to_daily(values, time, per_day, total)
        info[name] = var
        columns[name] = ("time", daily_values, {"units": units, "long_name": var.long_name})
    daily = xr.Dataset(columns, coords={"time": days})
    for name, _var in info.items():
        require_complete_day(ds[name].values, daily[name].values, time, step, name, source)
        if name in catalogue():
            check_daily_means(daily[name].values, name, str(ds[name].attrs["units"]), step.total_seconds(), source)
            check_variable(daily, name, source)
        else:
            _check_state(daily, name, source)
    daily = _complete_years(daily, source)
    daily.attrs = {"source": source}
    return CanonicalData(
        daily=daily, variable_info=info, melt_variable=_melt_variable(ds, source), source=source, step=step
    )


def _check_state(daily: xr.Dataset, name: str, source: str) -> None:
    """A variable outside the catalogue: not all missing, not constant."""
    finite = daily[name].values[np.isfinite(daily[name].values)]
    if not finite.size:
        raise InputDataError(f"{source}: variable '{name}' has no complete day of values (all NaN). Check the file.")
    if np.ptp(finite) == 0.0:
        raise InputDataError(
            f"{source}: variable '{name}' is constant ({finite[0]:g}); a constant series carries no signal and breaks "
            "the correlation and scaling steps. Drop it."
        )


def load_canonical(path: Path) -> CanonicalData:
    """Open a canonical netCDF file, check it against the contract and reduce it to days.

    Raises
    ------
    clvlib.errors.InputDataError
        With the file, the variable, what was expected and what to do.
    """
    path = Path(path)
    if path.is_dir():
        raise InputDataError(
            f"{path}: is a folder; a canonical file is one netCDF file (one dimension 'time', see docs/your-data.md, "
            "'Your own data'); a folder of raw ERA5 downloads is read by clvlib.io.sources.load_user_data."
        )
    return canonical_daily(open_netcdf(path), str(path))


def record_years(first: int, last: int, quick: bool) -> tuple[int, int, int]:
    """First, last training and held-out year of a user's record.

    The last complete year is held out; ``quick`` keeps at most the last 31 years (like the quick
    profile of the default data, 1991-2021), else the whole record is used.

    Examples
    --------
    >>> record_years(1940, 2024, quick=False), record_years(1940, 2024, quick=True)
    ((1940, 2023, 2024), (1994, 2023, 2024))
    """
    start = max(first, last - 30) if quick else first
    return start, last - 1, last
