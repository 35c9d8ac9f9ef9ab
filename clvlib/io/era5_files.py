"""What a CDS download of ERA5 holds: its layout recognised by content, ZIPs unpacked, ERA5 and ERA5T merged.

:func:`sniff` says whether a file is netCDF or a ZIP (by its first bytes, never its name);
:func:`expanded` unpacks ZIPs of ``stepType-instant`` / ``stepType-accum`` members into a temporary
folder; :func:`normalize` brings either netCDF layout (since Sept 2024 or legacy) to one (``time``,
latitude ascending, longitudes -180..180, final values where ERA5 and ERA5T overlap);
:func:`is_point_series` recognises the CDS point product; :func:`describe_step` names a time step for
error messages. Reading and reducing the files is :mod:`clvlib.io.era5`.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import xarray as xr

from clvlib.errors import InputDataError
from clvlib.io.checks import canonical_units, file_head
from clvlib.io.region import wrap_longitude
from clvlib.variables import catalogue

__all__ = ["describe_step", "expanded", "is_point_series", "normalize", "sniff"]

_NETCDF_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05", b"\x89HDF\r\n\x1a\n")
_ZIP_MAGIC = b"PK\x03\x04"


def _magic(path: Path) -> bytes:
    return file_head(path, 8, "Check the path (make data writes data/raw/era5/).", "Download it again.")


def sniff(path: Path) -> str:
    """Kind of file by its first bytes: ``"zip"`` or ``"netcdf"``.

    Raises
    ------
    InputDataError
        When the file is missing, empty or neither.
    """
    path = Path(path)
    head = _magic(path)
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head.startswith(_NETCDF_MAGIC):
        return "netcdf"
    what = "GRIB" if head.startswith(b"GRIB") else f"starts with {head[:4]!r}"
    raise InputDataError(
        f"{path}: not netCDF or a ZIP of netCDF files ({what}). Request data_format='netcdf' from the CDS "
        "and download the file again."
    )


def _extract_zip(path: Path, folder: Path) -> list[Path]:
    """Extract the netCDF members of a CDS ZIP; any other member is an error."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            out = []
            for member in members:
                with archive.open(member) as f:
                    head = f.read(8)
                if not head.startswith(_NETCDF_MAGIC):
                    raise InputDataError(
                        f"{path}: unexpected ZIP member '{member.filename}' (not netCDF). A CDS ZIP holds only "
                        "netCDF files such as '...stepType-instant.nc' and '...stepType-accum.nc'; download the "
                        "request again with data_format='netcdf', or remove the extra member."
                    )
                target = folder / f"{path.stem}__{Path(member.filename).name}"
                target.write_bytes(archive.read(member))
                out.append(target)
    except zipfile.BadZipFile as err:
        raise InputDataError(f"{path}: a damaged or truncated ZIP ({err}). Download it again.") from err
    if not out:
        raise InputDataError(f"{path}: the ZIP holds no netCDF file. Download the request again.")
    return out


@contextmanager
def expanded(paths: Sequence[Path], work_dir: Path | None = None) -> Iterator[list[Path]]:
    """The netCDF files behind ``paths``, ZIPs extracted (to ``work_dir`` or a temporary folder).

    Extracted members are named ``<zip stem>__<member name>`` and deleted on exit when no
    ``work_dir`` was given.
    """
    with tempfile.TemporaryDirectory(prefix="era5-zip-") as tmp:
        folder = Path(work_dir) if work_dir is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        files: list[Path] = []
        origin: dict[str, str] = {}  # extracted file -> "<zip> (member <name>)", for messages
        for path in map(Path, paths):
            members = _extract_zip(path, folder) if sniff(path) == "zip" else [path]
            if members != [path]:
                origin |= {str(m): f"{path} (member {m.name.split('__', 1)[1]})" for m in members}
                if len(paths) == 1:
                    origin[str(folder)] = str(path)  # messages about "the files" of one ZIP
            files.extend(members)
        try:
            yield files
        except InputDataError as err:
            text = str(err)
            for extracted, shown in origin.items():
                text = text.replace(extracted, shown)
            if text == str(err):
                raise
            raise InputDataError(text) from err


def _expver_number(value: object) -> int:
    """1 for final ERA5 (``1``, ``"0001"``, ``b"0001"``), 5 for ERA5T, and so on."""
    if isinstance(value, bytes):
        value = value.decode()
    return int(str(value).strip())


def _expver_per_time(ds: xr.Dataset, names: list[str]) -> np.ndarray:
    """The data version of each time (1 = final ERA5)."""
    n = ds.sizes["time"]
    if "expver" not in ds.variables:
        return np.ones(n, dtype=int)
    if "expver" in ds.dims:  # legacy: each time has data under one expver
        versions = sorted((_expver_number(e) for e in ds["expver"].values), key=lambda e: (e != 1, e))
        probe = ds[names[0]].isel(latitude=0, longitude=0).load()
        out = np.full(n, versions[-1], dtype=int)
        for e in reversed(versions):
            finite = np.isfinite(probe.sel(expver=_expver_label(ds, e)).values)
            out[finite] = e
        return out
    values = np.atleast_1d(ds["expver"].values)
    numbers = np.array([_expver_number(v) for v in values], dtype=int)
    return np.broadcast_to(numbers, (n,)).copy() if numbers.size == 1 else numbers


def _expver_label(ds: xr.Dataset, number: int) -> object:
    """The stored label of expver ``number`` in a legacy file."""
    return next(e for e in ds["expver"].values if _expver_number(e) == number)


def _combine_expver(ds: xr.Dataset) -> xr.Dataset:
    """Collapse a legacy ``expver`` dimension: final data (1) first, then the others."""
    labels = sorted(ds["expver"].values, key=lambda e: (_expver_number(e) != 1, _expver_number(e)))
    out = ds.sel(expver=labels[0], drop=True)
    for label in labels[1:]:
        out = out.combine_first(ds.sel(expver=label, drop=True))
    return out


def is_point_series(ds: xr.Dataset) -> bool:
    """True for the CDS "ERA5 hourly time-series data on single levels" layout: one time dimension, scalar lat/lon.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.date_range("2024-01-01", periods=3, freq="h")
    >>> point = xr.Dataset({"t2m": ("valid_time", [270.0, 271, 272])},
    ...                    coords={"valid_time": t, "latitude": 48.75, "longitude": 2.25})
    >>> is_point_series(point), is_point_series(point.expand_dims(["latitude", "longitude"]))
    (True, False)
    """
    time = [d for d in ("time", "valid_time") if d in ds.dims]
    scalar = all(name in ds.variables and ds[name].ndim == 0 for name in ("latitude", "longitude"))
    return len(time) == 1 and set(ds.dims) == set(time) and scalar


def normalize(ds: xr.Dataset, source: str, variables: Sequence[str]) -> xr.Dataset:
    """One ERA5 file in any CDS netCDF layout as dims (time, latitude, longitude), lon in -180..180.

    Keeps the catalogue variables in ``variables`` that the file holds, checks their units, adds
    a ``expver`` coordinate along time (1 = final) and drops everything else.

    Raises
    ------
    InputDataError
        When the file has no time dimension, a variable has other dimensions or wrong units.
    """
    rename = {
        k: v for k, v in {"valid_time": "time", "lat": "latitude", "lon": "longitude"}.items() if k in ds.variables
    }
    ds = ds.rename(rename)
    if is_point_series(ds):  # the CDS time-series product: one site, scalar latitude and longitude
        ds = ds.set_coords([c for c in ("latitude", "longitude") if c in ds.data_vars])
        ds = ds.expand_dims(["latitude", "longitude"])
    if "time" not in ds.dims or "latitude" not in ds.dims or "longitude" not in ds.dims:
        raise InputDataError(
            f"{source}: expected an ERA5 file with dimensions 'valid_time' (or 'time'), 'latitude' and "
            f"'longitude', found {dict(ds.sizes)}. Download ERA5 hourly single levels as netCDF."
        )
    names = [v for v in variables if v in ds.data_vars]
    if not names:
        return xr.Dataset(
            coords={
                "time": ds["time"].values,
                "latitude": ds["latitude"].values,
                "longitude": wrap_longitude(ds["longitude"].values),
                "expver": ("time", np.ones(ds.sizes["time"], dtype=int)),
            }
        )
    expver = _expver_per_time(ds, names)
    ds = ds[names]
    if "expver" in ds.dims:
        ds = _combine_expver(ds)
    ds = ds.drop_vars([c for c in ds.coords if c not in ("time", "latitude", "longitude")])
    cat = catalogue()
    for name in names:
        if set(ds[name].dims) != {"time", "latitude", "longitude"}:
            raise InputDataError(
                f"{source}: variable '{name}' has dimensions {ds[name].dims}; expected (time, latitude, longitude). "
                "Download single-level fields without ensemble members or extra levels."
            )
        units = ds[name].attrs.get("units")
        if canonical_units(units) != cat[name].units:
            raise InputDataError(
                f"{source}: variable '{name}' has units {units!r}, expected '{cat[name].units}' per hour as the CDS "
                "delivers it. Download the file again from the CDS (do not post-process it)."
            )
        ds[name] = ds[name].transpose("time", "latitude", "longitude")
    return ds.assign_coords(expver=("time", expver), longitude=wrap_longitude(ds["longitude"].values))


def describe_step(hours: float) -> str:
    """What a time step says about an ERA5 file, in words.

    Examples
    --------
    >>> describe_step(6), describe_step(24), describe_step(24 * 30.4)
    ('6-hourly samples (step 6 h)', 'daily values (step 24 h)', 'monthly means (step about 30 days)')
    """
    if hours >= 24 * 27:
        return f"monthly means (step about {hours / 24:.0f} days)"
    if hours > 24:
        return f"values every {hours / 24:g} days"
    if hours == 24:
        return "daily values (step 24 h)"
    return f"{hours:g}-hourly samples (step {hours:g} h)"
