"""Checks of input data with errors that say which file, which variable, what was expected and what to do."""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from clvlib.errors import InputDataError
from clvlib.variables import Kind, Variable, catalogue

__all__ = [
    "DAILY_RANGES",
    "DAY_CALENDARS",
    "DailyRange",
    "canonical_units",
    "check_daily",
    "check_daily_means",
    "check_netcdf_complete",
    "check_time",
    "check_variable",
    "file_head",
    "open_netcdf",
    "require_complete_day",
    "standard_calendar",
    "step_label",
    "time_index",
]


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


_HDF5 = b"\x89HDF\r\n\x1a\n"


def _hdf5_stored_eof(head: bytes) -> int | None:
    """End-of-file address written in an HDF5 superblock at offset 0 (versions 0-3), else None."""
    if not head.startswith(_HDF5) or len(head) < 64:
        return None
    version = head[8]
    if version in (0, 1):
        offsets = head[13]
        start = 24 + (4 if version == 1 else 0)  # base, free-space, end-of-file addresses follow
        field = start + 2 * offsets
    elif version in (2, 3):
        offsets = head[9]
        field = 12 + 2 * offsets  # base, extension, end-of-file addresses
    else:
        return None
    if offsets not in (4, 8) or field + offsets > len(head):
        return None
    return int(struct.unpack("<I" if offsets == 4 else "<Q", head[field : field + offsets])[0])


def check_netcdf_complete(path: Path) -> None:
    """Refuse a truncated netCDF file, whose lost part netCDF-C would read back as zeros or garbage.

    netCDF3 (classic and 64-bit offset): every variable must end inside the file (checked with
    SciPy's reader, which reads only the header); netCDF4 (HDF5): the file must be as long as the
    end-of-file address its superblock records. Other files are left to the reader.

    Raises
    ------
    InputDataError
        ``"<path>: the netCDF file is truncated ..."`` with what to do.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x.nc"
    >>> xr.Dataset({"a": ("time", np.arange(1000.0))}).to_netcdf(path, format="NETCDF3_64BIT")
    >>> check_netcdf_complete(path)
    >>> _ = path.write_bytes(path.read_bytes()[:4000])
    >>> check_netcdf_complete(path)
    Traceback (most recent call last):
    ...
    clvlib.errors.InputDataError: ...: the netCDF file is truncated or damaged...
    """
    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(128)
    size = path.stat().st_size
    if head[:4] in (b"CDF\x01", b"CDF\x02", b"CDF\x05"):
        import gc

        import scipy.io  # its netCDF3 reader checks every variable's extent against the file

        problem = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns when a half-read memory map is released
            try:
                nc = scipy.io.netcdf_file(path, "r", mmap=True)
                nc.variables.clear()
                nc.close()
            except Exception as err:  # scipy raises ValueError, TypeError, struct.error... for a damaged header
                problem = f"{type(err).__name__}: {err}"
            gc.collect()  # release the reader of a damaged file here, not later with a warning
        if problem is not None:
            raise InputDataError(
                f"{path}: the netCDF file is truncated or damaged: its header describes more data than its {size} "
                f"bytes hold ({problem}). Copy or download it again."
            )
        return
    stored = _hdf5_stored_eof(head)
    if stored is not None and size < stored:
        raise InputDataError(
            f"{path}: the netCDF file is truncated or damaged: it has {size} bytes, its header says {stored}. "
            "Copy or download it again."
        )


def open_netcdf(path: Path) -> xr.Dataset:
    """Open a netCDF file, turning an empty, truncated or unreadable file into an :class:`InputDataError`."""
    path = Path(path)
    if not path.exists():
        raise InputDataError(f"{path}: file not found. Check the path (make data writes data/raw/...).")
    if path.stat().st_size == 0:
        raise InputDataError(f"{path}: the file is empty (0 bytes). Download or generate it again.")
    check_netcdf_complete(path)
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


#: CF calendars whose days are real days: converted to the standard calendar (``noleap`` gains NaN
#: on 29 February, ``all_leap`` loses 29 February of common years).
DAY_CALENDARS: frozenset[str] = frozenset(
    {"noleap", "365_day", "all_leap", "366_day", "proleptic_gregorian", "standard", "gregorian"}
)


def standard_calendar(ds: xr.Dataset, source: str) -> xr.Dataset:
    """``ds`` with its ``time`` in the standard calendar (numpy datetimes), converting where a day means a day.

    ``noleap``/``365_day`` and ``all_leap``/``366_day`` are converted by date (29 February is missing in the
    former, dropped from common years in the latter); ``360_day`` and ``julian`` are refused with the reason.

    Examples
    --------
    >>> t = xr.date_range("2001-02-27", periods=4, freq="D", calendar="noleap", use_cftime=True)
    >>> ds = standard_calendar(xr.Dataset({"a": ("time", [1.0, 2, 3, 4])}, coords={"time": t}), "x.nc")
    >>> [str(d)[:10] for d in ds["time"].values], ds["a"].values.tolist()
    (['2001-02-27', '2001-02-28', '2001-03-01', '2001-03-02'], [1.0, 2.0, 3.0, 4.0])
    """
    if "time" not in ds.coords or ds["time"].dtype != object or not ds.sizes.get("time"):
        return ds
    first = ds["time"].values[0]
    calendar = getattr(first, "calendar", None)
    if calendar is None:
        return ds  # strings: time_index explains
    if calendar not in DAY_CALENDARS:
        why = (
            "a 360-day year of twelve 30-day months has no day-by-day match in the real calendar"
            if calendar == "360_day"
            else f"dates in the '{calendar}' calendar are not the real calendar's dates"
        )
        raise InputDataError(
            f"{source}: 'time' uses the CF calendar '{calendar}'; {why}, so the melt seasons cannot be placed. "
            "Convert the data to the standard calendar first (e.g. xarray's convert_calendar with align_on='year'), "
            "or use a model run on the standard or 'noleap' calendar."
        )
    try:
        return ds.convert_calendar("standard", dim="time", missing=np.nan, use_cftime=False)
    except (ValueError, OverflowError) as err:
        raise InputDataError(
            f"{source}: 'time' in the '{calendar}' calendar could not be converted to the standard calendar ({err}). "
            "Write the file with a regular time step in the standard calendar."
        ) from err


def time_index(ds: xr.Dataset, source: str) -> pd.DatetimeIndex:
    """The ``time`` coordinate as dates, or an error that says what the times are and how to fix them.

    Examples
    --------
    >>> time_index(xr.Dataset(coords={"time": [0, 1, 2]}), "x.nc")
    Traceback (most recent call last):
    ...
    clvlib.errors.InputDataError: x.nc: 'time' holds numbers (int64) without CF units...
    """
    if "time" not in ds.coords:
        raise InputDataError(
            f"{source}: no 'time' coordinate (found {list(ds.coords)}). Name the time dimension 'time'."
        )
    values = ds["time"].values
    if np.issubdtype(values.dtype, np.number):
        units = ds["time"].attrs.get("units")
        said = f"with units '{units}', which could not be decoded" if units else "without CF units"
        raise InputDataError(
            f"{source}: 'time' holds numbers ({values.dtype}) {said}; expected dates. Give it CF units such as "
            "'hours since 1950-01-01' (ds['time'].attrs['units'] = ...) or write it as dates."
        )
    if values.dtype == object and values.size and hasattr(values[0], "calendar"):
        values = standard_calendar(ds, source)["time"].values
    if not np.issubdtype(values.dtype, np.datetime64):
        try:
            values = pd.to_datetime(pd.Index(values), format="ISO8601").values
        except (ValueError, TypeError) as err:
            shown = ", ".join(repr(str(v)) for v in values[:2])
            raise InputDataError(
                f"{source}: 'time' holds values that are not dates ({shown}, ...: {str(err).splitlines()[0]}). "
                "Write times as dates, "
                "e.g. '2001-01-01T06:00' strings or numbers with CF units such as 'hours since 1950-01-01'."
            ) from err
    t = pd.DatetimeIndex(values)
    missing = np.flatnonzero(t.isna())
    if missing.size:
        i = int(missing[0])
        after = f", after {t[i - 1]:%Y-%m-%d %H:%M}" if i > 0 and not pd.isna(t[i - 1]) else ""
        raise InputDataError(
            f"{source}: 'time' has {missing.size} missing value(s) (NaT), the first at position {i}{after}; every "
            "time must be a date. Fill in the times (a missing value belongs in the data variables, as NaN)."
        )
    return t


def check_time(ds: xr.Dataset, source: str) -> None:
    """Require a strictly increasing ``time`` coordinate of dates without duplicates."""
    t = time_index(ds, source)
    dup = t[t.duplicated()]
    if len(dup):
        raise InputDataError(
            f"{source}: variable 'time' has {len(dup)} duplicate time(s), first {dup[0]:%Y-%m-%d %H:%M}; "
            "expected one value per time. Remove the duplicates (e.g. ds.drop_duplicates('time'))."
        )
    if not t.is_monotonic_increasing:
        i = int(np.flatnonzero(np.diff(t.asi8) < 0)[0])
        raise InputDataError(
            f"{source}: variable 'time' is not increasing ({t[i]:%Y-%m-%d %H:%M} is followed by "
            f"{t[i + 1]:%Y-%m-%d %H:%M}); expected times in increasing order. Sort the file (ds.sortby('time'))."
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
        raise InputDataError(
            f"{source}: variable '{name}' is all NaN; expected {var.long_name} values. Check the download."
        )
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


@dataclass(frozen=True)
class DailyRange:
    """Physical range of a variable's daily mean, in ``units``, and the least mean magnitude it must reach.

    ``floor`` catches a unit slip by a large factor (hourly W m-2 read as J m-2 is 3600 times too small)
    that a range alone lets through.
    """

    low: float
    high: float
    units: str
    floor: float = 0.0


#: Plausible daily means on Earth's surface, ice sheets included (energy fluxes as W m-2).
DAILY_RANGES: dict[str, DailyRange] = {
    "t2m": DailyRange(190.0, 330.0, "K"),
    "d2m": DailyRange(180.0, 320.0, "K"),
    "skt": DailyRange(180.0, 330.0, "K"),
    "ssrd": DailyRange(-1.0, 550.0, "W m-2", 5.0),
    "ssr": DailyRange(-1.0, 500.0, "W m-2", 3.0),
    "strd": DailyRange(40.0, 550.0, "W m-2", 40.0),
    "str": DailyRange(-250.0, 100.0, "W m-2", 3.0),
    "sshf": DailyRange(-400.0, 400.0, "W m-2", 0.5),
    "slhf": DailyRange(-400.0, 400.0, "W m-2", 0.5),
    "tp": DailyRange(0.0, 0.3, "m d-1"),
    "sf": DailyRange(0.0, 0.3, "m d-1"),
    "smlt": DailyRange(0.0, 0.2, "m d-1"),
    "sp": DailyRange(4.0e4, 1.1e5, "Pa", 4.0e4),
    "u10": DailyRange(-50.0, 50.0, "m s-1"),
    "v10": DailyRange(-50.0, 50.0, "m s-1"),
}


#: Declared units (canonical spelling) whose values :func:`check_daily_means` judges, per range unit.
_ACCEPTED: dict[str, frozenset[str]] = {
    "W m-2": frozenset({"J m-2", "W m-2"}),
    "m d-1": frozenset({"m", "kg m-2 d-1"}),
    "K": frozenset({"K"}),
    "Pa": frozenset({"Pa"}),
    "m s-1": frozenset({"m s-1"}),
}


def _fits(values: np.ndarray, spec: DailyRange) -> bool:
    return bool(values.min() >= spec.low and values.max() <= spec.high and np.abs(values).mean() >= spec.floor)


def _slip(values: np.ndarray, spec: DailyRange, declared: str, step_seconds: float) -> str:
    """The likely unit slip behind implausible daily means, and a fix right for the file's step."""
    per_day = 86400.0 / step_seconds
    step = f"{step_seconds:g} s, the file's step"
    candidates = []
    if spec.units == "W m-2":
        candidates += [
            (
                step_seconds,
                f"They look like mean fluxes in W m-2 read as accumulations ('{declared}'), {step_seconds:g} "
                f"times too small: set units='W m-2', or multiply by {step}",
            ),
            (
                1.0 / step_seconds,
                f"They look like accumulations over each step (J m-2) read as mean fluxes ('{declared}'), "
                f"{step_seconds:g} times too large: set units='J m-2', or divide by {step}",
            ),
        ]
    if spec.units == "m d-1":
        candidates += [
            (1.0e-3, f"They look 1000 times too large: millimetres (kg m-2) labelled '{declared}'? Set units='kg m-2'"),
            (1.0e3, f"They look 1000 times too small: metres labelled '{declared}'? Set units='m'"),
        ]
    if spec.units in ("W m-2", "m d-1") and per_day > 1:
        candidates.append(
            (
                1.0 / per_day,
                f"They look {per_day:g} times too large: daily totals written at every "
                f"{step_seconds / 3600:g}-hour step? Each value must be the accumulation over "
                f"its own step; divide by {per_day:g}",
            )
        )
    for factor, text in candidates:
        if factor != 1.0 and _fits(values * factor, spec):
            return text
    if spec.units == "K" and _fits(values + 273.15, spec):
        return "They look like degrees Celsius labelled K: add 273.15"
    return "Check the units and the data"


def check_daily_means(values: np.ndarray, name: str, declared: str, step_seconds: float, source: str) -> None:
    """Require the daily means of a known variable to be physically plausible (:data:`DAILY_RANGES`).

    Parameters
    ----------
    values : numpy.ndarray
        Daily values in the pipeline's input units (energy as J m-2 per day, water as m per day).
    name : str
        Catalogue name.
    declared : str
        The units the file declares (for the message).
    step_seconds : float
        The file's time step, in seconds (the right fix depends on it).
    source : str
        The file, for the message.

    Examples
    --------
    >>> hourly_w_as_j = np.full(365, 150.0 * 24)  # hourly 150 W m-2 summed as if J m-2: 3600 too small
    >>> check_daily_means(hourly_w_as_j, "ssrd", "J m-2", 3600.0, "x.nc")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    clvlib.errors.InputDataError: x.nc: variable 'ssrd' ...
        They look like mean fluxes in W m-2 ... multiply by 3600 s...
    """
    spec = DAILY_RANGES.get(name)
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if spec is None or not finite.size or canonical_units(declared) not in _ACCEPTED[spec.units]:
        return  # a declared unit that does not fit is check_variable's message
    means = finite / 86400.0 if spec.units == "W m-2" else finite
    if _fits(means, spec):
        return
    raise InputDataError(
        f"{source}: variable '{name}' ({catalogue()[name].long_name}, declared '{declared}') gives daily means of "
        f"{means.min():.4g}..{means.max():.4g} {spec.units} (mean magnitude {np.abs(means).mean():.4g}); "
        f"expected within {spec.low:g}..{spec.high:g} {spec.units}"
        + (f" with a mean magnitude of at least {spec.floor:g}" if spec.floor else "")
        + f". {_slip(means, spec, declared, step_seconds)}."
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


def step_label(step: pd.Timedelta) -> str:
    """``hourly``, ``6-hourly``, ``daily`` ... for a time step.

    Examples
    --------
    >>> step_label(pd.Timedelta("1h")), step_label(pd.Timedelta("6h")), step_label(pd.Timedelta("30min"))
    ('hourly', '6-hourly', '30-minute')
    """
    if step == pd.Timedelta("1D"):
        return "daily"
    if step % pd.Timedelta("1h") == pd.Timedelta(0):
        hours = int(step / pd.Timedelta("1h"))
        return "hourly" if hours == 1 else f"{hours}-hourly"
    return f"{int(step / pd.Timedelta('1min'))}-minute"


def require_complete_day(
    raw: np.ndarray, daily: np.ndarray, time: pd.DatetimeIndex, step: pd.Timedelta, name: str, source: str
) -> None:
    """Refuse a variable whose values make not one complete day, saying what the file holds.

    Finite values that never fill a day (three hourly values of one day, say) leave the daily series
    empty; the message then says how many values there are and when, never "all NaN".
    """
    raw = np.asarray(raw, dtype=float)
    finite = np.isfinite(raw) if raw.ndim == 1 else np.isfinite(raw).all(axis=tuple(range(1, raw.ndim)))
    if np.isfinite(daily).any() or not finite.any():
        return
    when = pd.DatetimeIndex(time)[finite]
    dates = sorted({f"{t:%Y-%m-%d}" for t in when})
    on = dates[0] if len(dates) == 1 else f"{len(dates)} days, {dates[0]} to {dates[-1]}"
    span = (
        f"{when[0]:%H:%M}-{when[-1]:%H:%M}"
        if len(dates) == 1
        else f"{when[0]:%Y-%m-%d %H:%M} to {when[-1]:%Y-%m-%d %H:%M}"
    )
    raise InputDataError(
        f"{source}: variable '{name}' has {finite.sum()} {step_label(step)} value(s) on {on}, {span}: not one "
        f"complete day ({int(pd.Timedelta('1D') / step)} values per day are needed). Download whole days, at least "
        "five complete years for the pipeline."
    )
