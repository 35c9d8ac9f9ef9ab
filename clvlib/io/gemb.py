"""GEMB (Glacier Energy and Mass Balance model) output to a daily data set in the pipeline's conventions.

GEMB saves its ``OutData`` as a MATLAB v7.3 MAT-file (HDF5 behind a 512-byte MATLAB header; read
with h5py, arrays stored transposed: a MATLAB 1 x n row is an HDF5 (n, 1) data set, a layers x n
profile an (n, layers) one) or, from other front ends, as netCDF with the same variable names.
Only the single-level series are read (``S.varName.monolevel``); the layer profiles are left out.

GEMB's ``time`` is the time of the last forcing step of each output period, in the units of the
``dateN`` GEMB was given: MATLAB datenum (> 1e5), decimal year (1000..3000), or days since the
first forcing step (the ISSM-style test runs). In the last case the start date is the decimal
year stored in the last column of the forcing arrays (``S.Ta`` etc.) or the ``start`` argument.
Each output period belongs to the day of its last forcing step.

Conversions to the catalogue (:mod:`clvlib.variables`):

* ``M``, ``R``, ``F``, ``EC`` (kg m-2 per output step) are summed per day: kg m-2 d-1, as
  ``melt``, ``runoff``, ``refreeze``, ``EC``;
* ``a1``, ``netSW``, ``netLW``, ``shf``, ``lhf`` (W m-2, positive toward the surface) and ``FAC``
  (m) are averaged per day, as ``albedo``, ``netSW``, ``netLW``, ``shf``, ``lhf``, ``FAC``;
* the forcing summaries ``Ta`` (deg C, mean) and ``P`` (kg m-2 per step) become ``t2m`` (K) and
  ``tp`` (m water equivalent per day).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from clvlib.errors import InputDataError
from clvlib.io.checks import check_netcdf_complete
from clvlib.variables import GEMB_NAMES, Kind, catalogue

__all__ = ["decode_time", "gemb_daily", "load_gemb", "load_gemb_mat", "load_gemb_netcdf", "mass_flux_variables"]

_MAT73 = b"MATLAB 7.3"
_MAT5 = b"MATLAB 5.0"
_HDF5 = b"\x89HDF\r\n\x1a\n"
_FORCING_NAMES = ("Ta", "P", "V", "dswrf", "dlwrf", "eAir", "pAir")
#: GEMB name -> (catalogue name, multiplier, offset) applied to daily values.
_CONVERT: dict[str, tuple[str, float, float]] = {
    **{gemb: (name, 1.0, 0.0) for name, gemb in GEMB_NAMES.items()},
    "Ta": ("t2m", 1.0, 273.15),
    "P": ("tp", 1.0e-3, 0.0),
}
_SUMMED = frozenset({"M", "R", "F", "EC", "P"})


def _decimal_year(value: float) -> pd.Timestamp:
    """A decimal year as a timestamp (fraction of that year's length).

    Examples
    --------
    >>> str(_decimal_year(1965.0)), str(_decimal_year(2001.5))
    ('1965-01-01 00:00:00', '2001-07-02 12:00:00')
    """
    year = int(np.floor(value))
    start = pd.Timestamp(year=year, month=1, day=1)
    length = pd.Timestamp(year=year + 1, month=1, day=1) - start
    return start + (value - year) * length


def decode_time(values: np.ndarray, source: str, start: str | pd.Timestamp | None = None) -> pd.DatetimeIndex:
    """GEMB ``time`` values as timestamps (see the module docstring for the conventions).

    Examples
    --------
    >>> decode_time(np.array([0.875, 1.875]), "x", start="1965-01-01").strftime("%Y-%m-%d %H:%M").tolist()
    ['1965-01-01 21:00', '1965-01-02 21:00']
    >>> decode_time(np.array([719529.5]), "x").strftime("%Y-%m-%d %H:%M").tolist()   # MATLAB datenum
    ['1970-01-01 12:00']
    """
    values = np.asarray(values, dtype=float)
    if np.nanmin(values) > 1.0e5:
        return pd.DatetimeIndex(pd.Timestamp("1970-01-01") + pd.to_timedelta(values - 719529.0, unit="D"))
    if 1000.0 < np.nanmin(values) < 3000.0:
        return pd.DatetimeIndex([_decimal_year(v) for v in values])
    if start is None:
        raise InputDataError(
            f"{source}: 'time' counts days ({values[0]:g}..{values[-1]:g}) but the file holds no forcing date to "
            "anchor it. Pass start='YYYY-MM-DD' (the date of the first forcing step)."
        )
    return pd.DatetimeIndex(pd.Timestamp(start) + pd.to_timedelta(values, unit="D"))


def gemb_daily(series: dict[str, np.ndarray], time: pd.DatetimeIndex, source: str) -> xr.Dataset:
    """Daily catalogue variables from GEMB series (GEMB names) at the given output times.

    Each output period belongs to the day of ``time``; mass fluxes are summed, the rest
    averaged; a day with fewer outputs than the usual number per day is NaN.

    Examples
    --------
    Two 12-hourly outputs per day of 1 kg m-2 melt each are 2 kg m-2 d-1:

    >>> t = pd.DatetimeIndex(["2000-07-01 11:00", "2000-07-01 23:00", "2000-07-02 11:00", "2000-07-02 23:00"])
    >>> gemb_daily({"M": np.ones(4), "Ta": np.array([1.0, 3.0, 0.0, 0.0])}, t, "x")["melt"].values.tolist()
    [2.0, 2.0]
    """
    step = np.diff(time.asi8) if len(time) > 1 else np.array([86400 * 10**9])
    if (step <= 0).any():
        raise InputDataError(f"{source}: 'time' is not strictly increasing; expected GEMB output in time order.")
    if np.median(step) > 86400 * 10**9 * 1.01:
        raise InputDataError(
            f"{source}: output every {np.median(step) / 86400e9:g} days; daily or finer GEMB output is needed. "
            "Rerun GEMB with S.outputFreq = 'daily'."
        )
    day = time.floor("D")
    per_day = pd.Series(1, index=day).groupby(level=0).count()
    usual = int(per_day.mode().iloc[0])
    days = pd.date_range(day[0], day[-1], freq="D")
    complete = per_day.reindex(days, fill_value=0).to_numpy() == usual
    cat = catalogue()
    out = {}
    for gemb, values in series.items():
        name, factor, offset = _CONVERT[gemb]
        grouped = pd.Series(np.asarray(values, dtype=float), index=day).groupby(level=0)
        daily = grouped.sum(min_count=1) if gemb in _SUMMED else grouped.mean()
        daily = (daily.reindex(days) * factor + offset).where(complete)
        out[name] = (
            "time",
            daily.to_numpy(),
            {"units": cat[name].units, "long_name": cat[name].long_name, "gemb_name": gemb},
        )
    ds = xr.Dataset(out, coords={"time": days})
    ds.attrs["source"] = f"GEMB output {Path(source).name}"
    return ds


def _read_mat(path: Path) -> tuple[dict[str, np.ndarray], np.ndarray, float | None]:
    """Monolevel series (GEMB names), raw ``time`` and the first forcing decimal year of a v7.3 file."""
    import h5py  # imported here: only needed for MAT-files

    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise InputDataError(
            f"{path}: cannot be read as a MATLAB v7.3 (HDF5) file ({err}). It may be truncated; copy or save it again."
        ) from err
    with f:
        if "time" not in f:
            raise InputDataError(
                f"{path}: no 'time' series; expected GEMB OutData saved with save(..., '-struct', 'O', '-v7.3')."
            )
        series = {}
        for name in [n for n in _CONVERT if n in f]:
            values = np.asarray(f[name]).T  # back to MATLAB's orientation
            if values.ndim == 2 and min(values.shape) == 1:
                series[name] = values.ravel()
        time = np.asarray(f["time"]).T.ravel()
        start = None
        for forcing in _FORCING_NAMES:
            key = f"S/{forcing}"
            if key in f and f[key].ndim == 2 and f[key].shape[0] > 1:
                start = float(f[key][0, -1])  # (steps, points + 1): last column is the decimal-year dateN
                break
    return series, time, start


def load_gemb_mat(path: Path, start: str | None = None) -> xr.Dataset:
    """Daily data set from a GEMB MATLAB v7.3 output file (see the module docstring)."""
    path = Path(path)
    series, raw_time, forcing_start = _read_mat(path)
    anchor = (
        start
        if start is not None
        else (_decimal_year(forcing_start) if forcing_start and 1000 < forcing_start < 3000 else None)
    )
    time = decode_time(raw_time, str(path), anchor)
    return _finish(series, time, path)


def load_gemb_netcdf(path: Path, start: str | None = None) -> xr.Dataset:
    """Daily data set from GEMB output in netCDF (GEMB variable names, a ``time`` coordinate)."""
    path = Path(path)
    check_netcdf_complete(path)
    try:
        ds = xr.load_dataset(path)
    except Exception as err:
        raise InputDataError(
            f"{path}: cannot be read as netCDF ({type(err).__name__}: {err}). Copy or write it again."
        ) from err
    if "time" not in ds.variables:
        raise InputDataError(f"{path}: no 'time' coordinate; expected GEMB output with a time axis.")
    raw = ds["time"].values
    time = pd.DatetimeIndex(raw) if np.issubdtype(raw.dtype, np.datetime64) else decode_time(raw, str(path), start)
    series = {}
    for name in [n for n in _CONVERT if n in ds.data_vars]:
        values = ds[name].squeeze(drop=True)
        if values.dims == ("time",):
            units = str(values.attrs.get("units", "")).strip().lower()
            series[name] = values.values - 273.15 if name == "Ta" and units in ("k", "kelvin") else values.values
    return _finish(series, time, path)


def _finish(series: dict[str, np.ndarray], time: pd.DatetimeIndex, path: Path) -> xr.Dataset:
    wanted = [g for g in GEMB_NAMES.values()]
    if not any(g in series for g in wanted):
        raise InputDataError(
            f"{path}: none of the GEMB output series {wanted} found; expected GEMB OutData (melt M, runoff R, ...)."
        )
    bad = [n for n, v in series.items() if v.size != len(time)]
    if bad:
        raise InputDataError(
            f"{path}: series {bad} do not have one value per time ({len(time)}); the file is inconsistent."
        )
    return gemb_daily(series, time, str(path))


def load_gemb(path: Path, start: str | None = None) -> xr.Dataset:
    """Daily GEMB data set from a MATLAB v7.3 or netCDF output file, recognised by content.

    Parameters
    ----------
    path : Path
        The GEMB output file.
    start : str, optional
        Date of the first forcing step when ``time`` counts days and the file does not say it.

    Returns
    -------
    xarray.Dataset
        Daily ``time`` (midnight), GEMB-style catalogue variables (``melt``, ``runoff``,
        ``refreeze``, ``EC``, ``albedo``, ``netSW``, ``netLW``, ``shf``, ``lhf``, ``FAC``) and
        ``t2m``, ``tp`` from the forcing summaries, in the catalogue's daily input units.
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        raise InputDataError(f"{path}: missing or empty. Check the path to the GEMB output.")
    with open(path, "rb") as f:
        head = f.read(128)
    if head.startswith(_MAT73):
        return load_gemb_mat(path, start)
    if head.startswith(_MAT5):
        raise InputDataError(
            f"{path}: a MATLAB v5/v7 MAT-file; GEMB output is read as v7.3 (HDF5). Re-save it in MATLAB with "
            "save(file, '-struct', 'O', '-v7.3')."
        )
    if head.startswith((_HDF5, b"CDF")):
        return load_gemb_netcdf(path, start)
    raise InputDataError(f"{path}: neither a MATLAB v7.3 MAT-file nor netCDF. Point to GEMB's output file.")


def mass_flux_variables() -> tuple[str, ...]:
    """Catalogue names of the GEMB mass fluxes (summed per day).

    Examples
    --------
    >>> mass_flux_variables()
    ('melt', 'runoff', 'refreeze', 'EC')
    """
    return tuple(v.name for v in catalogue().values() if v.kind is Kind.MASS_FLUX)
