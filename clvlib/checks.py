"""Checks of input data with errors that say which file, which variable, what was expected and what to do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from clvlib.variables import Kind, Variable, catalogue


class InputDataError(ValueError):
    """Input data that the pipeline cannot use; the message says why and what to do."""


#: Accepted spellings of each canonical unit.
_UNIT_ALIASES: dict[str, frozenset[str]] = {
    "K": frozenset({"k", "kelvin", "degk", "deg_k"}),
    "J m-2": frozenset({"j m-2", "j m**-2", "j/m2", "j m^-2", "j/m^2", "j m-2 d-1", "j m-2 day-1"}),
    "W m-2": frozenset({"w m-2", "w m**-2", "w/m2", "w m^-2", "w/m^2"}),
    "1": frozenset({"1", "(0 - 1)", "0-1", "(0-1)", "fraction", "dimensionless", "~", ""}),
    "m": frozenset({"m", "m of water equivalent", "m w.e.", "m we", "m of water"}),
    "Pa": frozenset({"pa"}),
    "m s-1": frozenset({"m s-1", "m s**-1", "m/s", "m s^-1"}),
    "kg m-2 d-1": frozenset({"kg m-2 d-1", "kg m-2", "kg m**-2", "kg/m2", "mm w.e.", "mm"}),
}

_HINTS: dict[tuple[str, str], str] = {
    ("K", "degC"): "convert with value + 273.15 and set units='K'",
    ("J m-2", "W m-2"): "daily accumulations are expected: multiply daily-mean fluxes by 86400 s and set units='J m-2'",
    ("m", "kg m-2 d-1"): "divide kg m-2 (mm) by 1000 and set units='m'",
}


def canonical_units(units: str) -> str | None:
    """Canonical spelling of ``units``, or None when it is not recognised.

    Examples
    --------
    >>> canonical_units("J m**-2"), canonical_units("(0 - 1)"), canonical_units("degC")
    ('J m-2', '1', None)
    """
    u = str(units).strip().lower()
    for canon, aliases in _UNIT_ALIASES.items():
        if u in aliases:
            return canon
    return None


def _guess_units(var: Variable, values: np.ndarray) -> str | None:
    """A likely unit when values fall outside the plausible range (for the error message)."""
    finite = values[np.isfinite(values)]
    if var.units == "K" and finite.size and -90.0 < np.nanmedian(finite) < 60.0:
        return "degC"
    if var.units == "J m-2" and finite.size and 0.0 < np.nanmax(np.abs(finite)) < 5.0e3:
        return "W m-2"
    if var.kind is Kind.WATER_ACCUMULATION and finite.size and np.nanmax(finite) > 0.5:
        return "kg m-2 d-1"
    return None


def open_netcdf(path: Path) -> xr.Dataset:
    """Open a netCDF file, turning an empty or unreadable file into an :class:`InputDataError`."""
    path = Path(path)
    if not path.exists():
        raise InputDataError(f"{path}: file not found. Check the path (make data writes data/raw/...).")
    if path.stat().st_size == 0:
        raise InputDataError(f"{path}: the file is empty (0 bytes). Download or generate it again.")
    try:
        return xr.load_dataset(path)
    except Exception as err:  # netCDF4/h5netcdf raise many types for a corrupt file
        raise InputDataError(
            f"{path}: cannot be read as netCDF ({type(err).__name__}: {str(err).splitlines()[0]}). "
            "The file may be truncated or not netCDF; download or generate it again."
        ) from err


def file_head(path: Path, n: int, missing: str, empty: str) -> bytes:
    """The first ``n`` bytes of ``path`` (to tell formats apart by content).

    Raises
    ------
    InputDataError
        ``"<path>: file not found. <missing>"`` or ``"<path>: the file is empty (0 bytes). <empty>"``.
    """
    path = Path(path)
    if not path.exists():
        raise InputDataError(f"{path}: file not found. {missing}")
    with open(path, "rb") as f:
        head = f.read(n)
    if not head:
        raise InputDataError(f"{path}: the file is empty (0 bytes). {empty}")
    return head


def check_time(ds: xr.Dataset, source: str) -> None:
    """Require a strictly increasing ``time`` coordinate without duplicates."""
    if "time" not in ds.coords:
        raise InputDataError(f"{source}: no 'time' coordinate (found {list(ds.coords)}). Name the time dimension 'time'.")
    t = pd.DatetimeIndex(ds["time"].values)
    dup = t[t.duplicated()]
    if len(dup):
        raise InputDataError(
            f"{source}: variable 'time' has {len(dup)} duplicate time(s), first {dup[0]:%Y-%m-%d %H:%M}; "
            "expected one value per time. Remove the duplicates (e.g. ds.drop_duplicates('time'))."
        )
    if not t.is_monotonic_increasing:
        i = int(np.flatnonzero(np.diff(t.asi8) < 0)[0])
        raise InputDataError(
            f"{source}: variable 'time' is not increasing ({t[i]:%Y-%m-%d} is followed by {t[i + 1]:%Y-%m-%d}); "
            "expected times in increasing order. Sort the file (ds.sortby('time'))."
        )


def check_variable(ds: xr.Dataset, name: str, source: str) -> None:
    """Check one catalogue variable: present, not all missing, not constant, in the expected units."""
    var = catalogue()[name]
    if name not in ds:
        raise InputDataError(
            f"{source}: required variable '{name}' ({var.long_name}, {var.units}) is missing; "
            f"the file has {sorted(ds.data_vars)}. Add it or use a data set that provides it."
        )
    values = np.asarray(ds[name].values, dtype=float)
    if not np.isfinite(values).any():
        raise InputDataError(f"{source}: variable '{name}' is all NaN; expected {var.long_name} values. Check the download.")
    finite = values[np.isfinite(values)]
    if not var.intermittent and np.ptp(finite) == 0.0:
        raise InputDataError(
            f"{source}: variable '{name}' is constant ({finite[0]:g}); a constant series carries no signal and "
            "breaks the correlation and scaling steps. Check the file or drop the variable."
        )
    declared = ds[name].attrs.get("units")
    if declared is None:
        raise InputDataError(f"{source}: variable '{name}' has no 'units' attribute; expected '{var.units}'. Set it.")
    canon = canonical_units(declared)
    if canon != var.units:
        hint = _HINTS.get((var.units, canon or str(declared)), f"convert to {var.units}")
        raise InputDataError(
            f"{source}: variable '{name}' has units '{declared}', expected '{var.units}' ({var.long_name}); {hint}."
        )
    lo, hi = np.nanmin(finite), np.nanmax(finite)
    guess = _guess_units(var, finite)
    if guess is not None or lo < var.valid_min or hi > var.valid_max:
        looks = f"; the values look like {guess}" if guess else ""
        hint = _HINTS.get((var.units, guess or ""), "check the units and the data")
        raise InputDataError(
            f"{source}: variable '{name}' has values {lo:g}..{hi:g}, which are not plausible for {var.units} "
            f"(expected within {var.valid_min:g}..{var.valid_max:g}){looks}; {hint}."
        )


def check_daily(ds: xr.Dataset, variables: tuple[str, ...], source: str) -> None:
    """Check a daily input data set: time axis, then every required variable."""
    check_time(ds, source)
    t = pd.DatetimeIndex(ds["time"].values)
    if len(t) > 1 and (t[1:] - t[:-1]).min() < pd.Timedelta("1D"):
        raise InputDataError(
            f"{source}: time steps shorter than one day; daily values are expected here. Reduce to daily first."
        )
    for name in variables:
        check_variable(ds, name, source)
