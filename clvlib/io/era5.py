"""ERA5 hourly single levels from the Copernicus CDS, in every layout it delivers, to daily regional means.

Layouts (recognised by content, never by file name):

* **netCDF since Sept 2024**: dimension ``valid_time`` (seconds since 1970), scalar coordinate
  ``number``, coordinate ``expver`` holding a string per time (``"0001"`` final ERA5,
  ``"0005"`` preliminary ERA5T), latitude stored north to south, float32 values;
* **legacy netCDF** (before Sept 2024): dimension ``time`` (hours since 1900-01-01), values
  packed as shorts with ``scale_factor``/``add_offset``, and, when ERA5 and ERA5T are mixed, an
  ``expver`` *dimension* (1 and 5) where each time has data under one of the two;
* **ZIP**: a request that mixes instantaneous and accumulated variables comes back as a ZIP
  of ``...stepType-instant.nc`` and ``...stepType-accum.nc`` (often saved under a ``.nc``
  name); any other member is an error.

Longitudes may be -180..180 or 0..360. When the same hour comes twice (an ERA5T file and the
final file that replaced it) the final value (expver 1) is kept; one value per hour is kept.

Accumulation convention
-----------------------
For hourly ERA5 from the CDS the value of an accumulated variable (``ssrd``, ``strd``, ``ssr``,
``str``, ``sshf``, ``slhf`` in J m-2; ``tp``, ``sf``, ``smlt`` in m of water equivalent) at valid
time *t* is the accumulation over the hour ending at *t*. The total of day *D* is therefore the
sum over the valid times *D* 01:00 .. *D+1* 00:00 (24 values). Instantaneous variables are
averaged over *D* 00:00 .. *D* 23:00. A day with any of its 24 hours missing (NaN or absent) is
NaN, never a partial sum or mean. The result is in the catalogue's daily input units (J m-2 per
day, m per day, states averaged; :mod:`clvlib.variables`), with ``time`` at midnight of *D*.

Scale
-----
Files are opened with dask chunks (``xarray.open_mfdataset``), cut to the region, reduced to a
cos(latitude)-weighted mean (:mod:`clvlib.io.region`) and computed one block of years at a time, so
memory stays bounded whatever the length of the record; set ``DASK_SCHEDULER_ADDRESS`` to run the
same computation on a dask distributed cluster (:mod:`clvlib.io.scheduler`).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from clvlib.errors import InputDataError
from clvlib.io.checks import check_netcdf_complete, require_complete_day
from clvlib.io.era5_files import describe_step, expanded, normalize
from clvlib.io.region import Region, regional_mean
from clvlib.io.scheduler import dask_scheduler
from clvlib.variables import ERA5_VARIABLES, Kind, catalogue

__all__ = [
    "Era5Config",
    "HOURS_PER_DAY",
    "hourly_regional_means",
    "hourly_to_daily",
    "load_era5",
    "load_mask",
]

HOURS_PER_DAY = 24
_ACCUMULATIONS = (Kind.ENERGY_ACCUMULATION, Kind.WATER_ACCUMULATION)
_HOUR = np.timedelta64(1, "h")


@dataclass(frozen=True)
class Era5Config:
    """How ERA5 files are reduced to a daily regional series.

    Attributes
    ----------
    region : Region
        The box (default southwest Greenland, see :class:`clvlib.io.region.Region`).
    variables : tuple of str
        ERA5 short names to load (default: every ERA5 variable of the catalogue).
    mask_file : Path, optional
        netCDF file holding a (latitude, longitude) fraction, e.g. ERA5's land-sea mask ``lsm``
        or an ice mask; cells below ``mask_threshold`` are left out of the mean.
    mask_variable, mask_threshold :
        Name of the mask variable in ``mask_file`` and the threshold.
    chunk_hours : int or None
        Length of the dask chunks along time; None reads every file into memory (no dask).
    block_years : int
        Years computed at once (bounded memory and progress); the reduction is the same.
    allow_gaps : bool
        If False (default), missing hours between or inside files are an error; if True, the
        days they touch are NaN.
    work_dir : Path, optional
        Where ZIP members are extracted (default: a temporary folder, removed afterwards). Use a
        shared folder when running on a distributed cluster.
    progress : bool
        Show a tqdm progress bar.
    """

    region: Region = field(default_factory=Region)
    variables: tuple[str, ...] = tuple(v.name for v in ERA5_VARIABLES)
    mask_file: Path | None = None
    mask_variable: str = "lsm"
    mask_threshold: float = 0.5
    chunk_hours: int | None = 24 * 31
    block_years: int = 1
    allow_gaps: bool = False
    work_dir: Path | None = None
    progress: bool = True


@dataclass(frozen=True)
class _FileInfo:
    """What the checks need to know about one (normalized) file."""

    path: Path
    variables: tuple[str, ...]
    time: np.ndarray
    expver: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray


# --------------------------------------------------------------------------------------------
# layouts


def _open(path: Path, variables: Sequence[str], chunks: dict | None) -> xr.Dataset:
    """Open and normalize one netCDF file (lazily with ``chunks``), errors as InputDataError."""
    try:
        ds = xr.open_dataset(path, chunks=chunks) if chunks is not None else xr.load_dataset(path)
    except Exception as err:  # netCDF4/h5netcdf raise many types for a corrupt file
        raise InputDataError(
            f"{path}: cannot be read as netCDF ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}). "
            "The file may be truncated or damaged; delete it and download it again."
        ) from err
    return normalize(ds, str(path), variables)


def _scan(path: Path, variables: Sequence[str]) -> _FileInfo:
    """Coordinates and variables of one file, for the checks (data are not read)."""
    check_netcdf_complete(path)
    with _open(path, variables, chunks={}) as ds:
        return _FileInfo(
            path,
            tuple(v for v in variables if v in ds.data_vars),
            ds["time"].values.astype("datetime64[ns]"),
            ds["expver"].values,
            ds["latitude"].values,
            np.sort(ds["longitude"].values),
        )


# --------------------------------------------------------------------------------------------
# checks across files


def _describe_grid(info: _FileInfo) -> str:
    lat, lon = info.latitude, info.longitude
    return f"{lat.size} x {lon.size} points, {lat.min():g}..{lat.max():g} N, {lon.min():g}..{lon.max():g} E"


def _check_grids(infos: list[_FileInfo]) -> None:
    ref = infos[0]
    for info in infos[1:]:
        same = (
            info.latitude.shape == ref.latitude.shape
            and info.longitude.shape == ref.longitude.shape
            and np.allclose(np.sort(info.latitude), np.sort(ref.latitude))
            and np.allclose(info.longitude, ref.longitude)
        )
        if not same:
            raise InputDataError(
                f"{info.path}: its grid ({_describe_grid(info)}) does not match {ref.path} ({_describe_grid(ref)}). "
                "All files must share one grid: download them with the same 'area' and 'grid'."
            )


def _check_variables(infos: list[_FileInfo], variables: Sequence[str]) -> None:
    cat = catalogue()
    for name in variables:
        having = [i for i in infos if name in i.variables]
        if not having:
            found = sorted({v for i in infos for v in i.variables})
            raise InputDataError(
                f"{infos[0].path.parent}: required variable '{name}' ({cat[name].long_name}) is in none of the "
                f"{len(infos)} file(s) (they hold {found}). Download it (python -m clvlib.io.download --what era5) "
                "or leave it out of Era5Config.variables."
            )
        covered = np.concatenate([i.time for i in having])
        for info in infos:
            if name not in info.variables and not np.isin(info.time, covered).all():
                raise InputDataError(
                    f"{info.path}: lacks required variable '{name}' ({cat[name].long_name}) for "
                    f"{pd.Timestamp(info.time[0]):%Y-%m-%d}..{pd.Timestamp(info.time[-1]):%Y-%m-%d}, which other files "
                    f"provide (this file holds {list(info.variables)}). Download that period's file again."
                )


def _holder(infos: list[_FileInfo], t: np.datetime64) -> Path:
    return next(i.path for i in infos if i.time[0] <= t <= i.time[-1])


def _check_times(infos: list[_FileInfo], name: str, allow_gaps: bool) -> int:
    """Overlaps of the same data version, steps and (unless allowed) gaps; returns the values per day.

    Accumulations must be hourly; instantaneous variables may be sampled every 1, 2, 3, 4, 6, 8 or
    12 hours (their daily mean is the mean of the day's samples).
    """
    infos = sorted(infos, key=lambda i: i.time[0])
    for a, b in itertools.pairwise(infos):
        common, ia, ib = np.intersect1d(a.time, b.time, return_indices=True)
        if common.size and (a.expver[ia] == b.expver[ib]).any():
            raise InputDataError(
                f"{a.path} and {b.path}: both hold '{name}' for {common.size} hour(s) "
                f"{pd.Timestamp(common[0]):%Y-%m-%d %H:%M}..{pd.Timestamp(common[-1]):%Y-%m-%d %H:%M} with the same "
                "data version; the times overlap. Remove one of the two files (keep one file per year and group)."
            )
    t = np.unique(np.concatenate([i.time for i in infos]))
    step = np.diff(t)
    if step.size and (step < _HOUR).any():
        raise InputDataError(f"{infos[0].path}: '{name}' has time steps shorter than one hour; expected hourly ERA5.")
    base = step.min() if step.size else _HOUR
    hours = float(base / _HOUR)
    if hours != 1 and catalogue()[name].kind in _ACCUMULATIONS:
        raise InputDataError(
            f"{infos[0].path}: '{name}' is an accumulation given as {describe_step(hours)}. ERA5 accumulates it over "
            f"the hour ending at each valid time, so these values miss {hours - 1:g} of every {hours:g} hours and "
            "cannot give daily totals. Request every hour 00:00..23:00 for the accumulated variables "
            "(instantaneous ones may be 1-, 3- or 6-hourly)."
        )
    if hours != 1 and (hours > 12 or HOURS_PER_DAY % hours):
        raise InputDataError(
            f"{infos[0].path}: '{name}' is not hourly: {describe_step(float(np.median(step) / _HOUR))}. The pipeline "
            "reads ERA5 hourly data on single levels (instantaneous variables may also be 3- or 6-hourly): request "
            "every hour 00:00..23:00, or the CDS point product 'ERA5 hourly time-series data on single levels' for a "
            "site."
        )
    gaps = np.flatnonzero(step > base)
    if gaps.size and not allow_gaps:
        i = gaps[0]
        before, after = _holder(infos, t[i]), _holder(infos, t[i + 1])
        where = f"inside {before}" if before == after else f"between {before} and {after}"
        raise InputDataError(
            f"'{name}' has {int(step[i] / base) - 1} missing {'hour' if hours == 1 else f'{hours:g}-hourly value'}(s) "
            f"{where}, from {pd.Timestamp(t[i] + base):%Y-%m-%d %H:%M} "
            f"to {pd.Timestamp(t[i + 1] - base):%Y-%m-%d %H:%M} "
            f"({gaps.size} gap(s) in all). Download the missing period (from Python, Era5Config(allow_gaps=True) "
            "gives NaN for the days they touch)."
        )
    return int(round(HOURS_PER_DAY / hours))


# --------------------------------------------------------------------------------------------
# lazy loading and reduction


def _keep_final(ds: xr.Dataset) -> xr.Dataset:
    """One value per time, final data (expver 1) before preliminary (5), sorted by time."""
    t, e = ds["time"].values, ds["expver"].values
    order = np.lexsort((np.where(e == 1, 0, e), t))
    first = np.r_[True, t[order][1:] != t[order][:-1]]
    keep = order[first]
    return ds if np.array_equal(keep, np.arange(t.size)) else ds.isel(time=keep)


def _open_variable(paths: list[Path], name: str, config: Era5Config) -> xr.Dataset:
    """One variable over all its files, one value per hour, lazily (dask) or in memory."""
    if config.chunk_hours is None:
        parts = [_open(p, (name,), None) for p in paths]
        ds = xr.concat(parts, dim="time", data_vars="minimal", coords="minimal", compat="override", join="override")
    else:
        # the new layout names the time dimension valid_time, the legacy one time
        chunks = {"valid_time": config.chunk_hours, "time": config.chunk_hours, "latitude": -1, "longitude": -1}
        with warnings.catch_warnings():  # files stored in whole-year chunks are still read chunk by chunk
            warnings.filterwarnings("ignore", message="The specified chunks separate the stored chunks")
            ds = xr.open_mfdataset(
                [str(p) for p in paths],
                chunks=chunks,
                combine="nested",
                concat_dim="time",
                data_vars="minimal",
                coords="minimal",
                compat="override",
                join="override",
                combine_attrs="drop",
                preprocess=lambda d: normalize(d, d.encoding.get("source", "ERA5 file"), (name,)),
            )
    return _keep_final(ds)


def load_mask(path: Path, variable: str = "lsm") -> xr.DataArray:
    """A (latitude, longitude) mask field from an ERA5 netCDF file (first time if it has one)."""
    try:
        ds = xr.load_dataset(path)
    except Exception as err:
        raise InputDataError(f"{path}: the mask file cannot be read as netCDF ({err}). Download it again.") from err
    if variable not in ds:
        raise InputDataError(
            f"{path}: no mask variable '{variable}' (found {sorted(ds.data_vars)}). Set Era5Config.mask_variable."
        )
    da = ds[variable].rename(
        {k: v for k, v in {"lat": "latitude", "lon": "longitude"}.items() if k in ds[variable].dims}
    )
    for dim in [d for d in da.dims if d not in ("latitude", "longitude")]:
        da = da.isel({dim: 0}, drop=True)
    return da.drop_vars([c for c in da.coords if c not in ("latitude", "longitude")])


def hourly_regional_means(files: list[Path], config: Era5Config = Era5Config()) -> tuple[xr.Dataset, list[_FileInfo]]:
    """Check the files and return the lazy hourly regional means (dims ``time``) and the file infos.

    Raises
    ------
    InputDataError
        For a bad file, a missing variable, mismatched grids, overlapping or missing hours.
    """
    infos = [_scan(p, config.variables) for p in files]
    infos = [i for i in infos if i.variables] or infos
    _check_grids(infos)
    _check_variables(infos, config.variables)
    mask = load_mask(config.mask_file, config.mask_variable) if config.mask_file is not None else None
    means, per_day = [], {}
    for name in config.variables:
        having = sorted((i for i in infos if name in i.variables), key=lambda i: i.time[0])
        per_day[name] = _check_times(having, name, config.allow_gaps)
        ds = _open_variable([i.path for i in having], name, config)
        means.append(
            regional_mean(ds.drop_vars("expver"), config.region, str(having[0].path), mask, config.mask_threshold)
        )
    merged = xr.merge(means, join="outer", combine_attrs="drop")
    for name, n in per_day.items():
        merged[name].attrs["values_per_day"] = n  # 24 for hourly, 4 for 6-hourly states (hourly_to_daily)
    return merged, infos


def _compute_blocks(means: xr.Dataset, infos: list[_FileInfo], config: Era5Config) -> xr.Dataset:
    """Compute the lazy regional means block by block of years (with progress)."""
    t = pd.DatetimeIndex(means["time"].values)
    years = np.arange(t[0].year, t[-1].year + 1)
    blocks = [years[i : i + config.block_years] for i in range(0, len(years), config.block_years)]
    out = []
    with dask_scheduler():
        for block in tqdm(blocks, desc="ERA5 regional means", unit="block", disable=not config.progress):
            part = means.sel(time=slice(f"{block[0]}-01-01", f"{block[-1]}-12-31T23:59:59"))
            try:
                out.append(part.compute())
            except InputDataError:
                raise
            except Exception as err:
                lo, hi = np.datetime64(f"{block[0]}-01-01"), np.datetime64(f"{block[-1] + 1}-01-01")
                suspects = [str(i.path) for i in infos if i.time[0] < hi and i.time[-1] >= lo]
                raise InputDataError(
                    f"reading {block[0]}..{block[-1]} failed ({type(err).__name__}: {err}); one of these files is "
                    f"truncated or damaged: {suspects}. Delete it and download it again."
                ) from err
    return xr.concat(out, dim="time")


def hourly_to_daily(hourly: xr.Dataset) -> xr.Dataset:
    """Daily values of hourly ERA5 series (see the module's accumulation convention).

    Accumulations (J m-2 or m per hour) are summed over the valid times D 01:00 .. D+1 00:00;
    states are averaged over D 00:00 .. D 23:00; a day missing any hour is NaN. A state sampled
    less often says so in its ``values_per_day`` attribute (4 for 6-hourly data): a day then
    needs that many values. Leading and
    trailing days that are NaN in every variable are dropped.

    Parameters
    ----------
    hourly : xarray.Dataset
        Catalogue variables along an hourly ``time`` coordinate (valid times).

    Returns
    -------
    xarray.Dataset
        Daily values in the catalogue's input units, ``time`` at midnight.

    Examples
    --------
    49 hours of 100 W m-2 (360000 J m-2 per hour) from 1 Jan 00:00 give two full days of 8.64e6
    J m-2: day D is D 01:00 .. D+1 00:00, so the value at 1 Jan 00:00 belongs to 31 Dec and the
    states of 3 Jan have one hour only (both incomplete, NaN, and dropped at the ends):

    >>> t = pd.date_range("2001-01-01 00:00", "2001-01-03 00:00", freq="h")
    >>> ds = xr.Dataset({"ssrd": ("time", np.full(len(t), 3.6e5)), "t2m": ("time", np.full(len(t), 250.0))},
    ...                 coords={"time": t})
    >>> daily = hourly_to_daily(ds)
    >>> daily["ssrd"].values.tolist(), daily["t2m"].values.tolist(), daily["ssrd"].attrs["units"]
    ([8640000.0, 8640000.0], [250.0, 250.0], 'J m-2')
    """
    cat = catalogue()
    time = pd.DatetimeIndex(hourly["time"].values)
    columns = {}
    for name in hourly.data_vars:
        var = cat[name]
        accumulated = var.kind in _ACCUMULATIONS
        day = (time - pd.Timedelta(hours=1) if accumulated else time).floor("D")
        grouped = pd.Series(hourly[name].values.astype(float), index=day).groupby(level=0)
        total, count = grouped.sum(min_count=1), grouped.count()
        value = total if accumulated else total / count
        columns[name] = value.where(count == int(hourly[name].attrs.get("values_per_day", HOURS_PER_DAY)))
    frame = pd.DataFrame(columns)
    frame = frame.reindex(pd.date_range(frame.index.min(), frame.index.max(), freq="D"))
    filled = frame.notna().any(axis=1).to_numpy()
    if filled.any():
        first, last = np.flatnonzero(filled)[[0, -1]]
        frame = frame.iloc[first : last + 1]
    out = xr.Dataset(
        {
            n: ("time", frame[n].to_numpy(), {"units": cat[n].units, "long_name": cat[n].long_name})
            for n in frame.columns
        },
        coords={"time": frame.index.to_numpy()},
    )
    out["time"].attrs["long_name"] = "day (midnight); accumulations over valid times D 01:00 .. D+1 00:00"
    return out


def load_era5(paths: Sequence[Path], config: Era5Config = Era5Config()) -> xr.Dataset:
    """Daily regional-mean ERA5 from CDS files of any layout (new or legacy netCDF, ZIP).

    Parameters
    ----------
    paths : sequence of Path
        The downloaded files (any order; one file per year and variable group, or any split).
    config : Era5Config
        Region, variables, mask, chunking and gap policy.

    Returns
    -------
    xarray.Dataset
        Daily ``time`` (midnight) and one variable per name in ``config.variables`` in the
        catalogue's daily input units, ready for :func:`clvlib.io.checks.check_daily` and
        :func:`clvlib.method.preprocess.preprocess`.

    Raises
    ------
    InputDataError
        For an unexpected ZIP member, a missing variable, mismatched grids, overlapping or missing
        hours, a box without grid points, a corrupt or truncated file; the message names the file.
    """
    if not paths:
        raise InputDataError("no ERA5 files given. Download them with 'python -m clvlib.io.download --what era5'.")
    with expanded(paths, config.work_dir) as files:
        means, infos = hourly_regional_means(files, config)
        hourly = _compute_blocks(means, infos, config)
    if config.allow_gaps:
        t = pd.DatetimeIndex(hourly["time"].values)
        hourly = hourly.reindex(time=pd.date_range(t[0], t[-1], freq="h"))
    daily = hourly_to_daily(hourly[list(config.variables)])
    hours = pd.DatetimeIndex(hourly["time"].values)
    step = (hours[1:] - hours[:-1]).min() if len(hours) > 1 else pd.Timedelta("1h")
    source = str(paths[0] if len(paths) == 1 else Path(paths[0]).parent)
    for name in config.variables:
        require_complete_day(hourly[name].values, daily[name].values, hours, step, name, source)
    daily.attrs = {
        "source": "ERA5 hourly single levels (Copernicus CDS), cos(latitude)-weighted regional mean",
        "region": f"{config.region.name}: {config.region.lat_min}..{config.region.lat_max} N, "
        f"{config.region.lon_min}..{config.region.lon_max} E",
        "accumulation_convention": "value at valid time t accumulates the hour ending at t; "
        "day D = D 01:00 .. D+1 00:00",
    }
    return daily
