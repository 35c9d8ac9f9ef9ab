"""Which input a run reads: real files under ``data/raw``, a user's file, or the synthetic default.

Notebook 01 asks :func:`find_source` for its data set, notebook 04 asks :func:`find_measures`
for the melt-extent record; ``make run`` hands its ``DATA`` to :func:`load_user_data`, which
recognises the layout by content (:func:`detect_layout`). The rules:

* **ERA5** (``era5``): every ``*.nc`` and ``*.zip`` in ``data/raw/era5/`` (as ``make data``
  writes them: ``era5_<group>_<year>.nc``) except ``era5_invariant.nc``, which, when present, is
  the mask (its land-sea mask ``lsm``; cells below 0.5 are left out of the regional mean);
* **GEMB** (``gemb``): the file named by the environment variable ``GEMB_OUTPUT`` (``make paper
  GEMB_OUTPUT=...``), else the one ``*.mat`` or ``*.nc`` file in ``data/raw/gemb/``;
* **MEaSUREs** (notebook 04): NSIDC-0533 netCDF files (``*.nc``) or one melt-area CSV (``*.csv``)
  in ``data/raw/measures/``;
* anything else: the synthetic default (``data/raw/synthetic/seed-<seed>/``).

Real files that are present but unreadable are an error, never a reason to fall back to the
synthetic default. ``REGION`` (``lat_min,lat_max,lon_min,lon_max``, degrees north and east)
replaces the default southwest Greenland box of :class:`clvlib.io.region.Region` for ERA5 and
NSIDC-0533.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from clvlib.errors import InputDataError
from clvlib.io.canonical import CanonicalData, canonical_daily, load_canonical
from clvlib.io.checks import check_netcdf_complete, file_head
from clvlib.io.era5_files import is_point_series
from clvlib.io.region import Region
from clvlib.variables import ERA5_VARIABLES

__all__ = [
    "ERA5_MASK",
    "GEMB_ENV",
    "KINDS",
    "REGION_ENV",
    "Source",
    "detect_layout",
    "era5_variables",
    "find_measures",
    "find_source",
    "load_measures_source",
    "load_raw",
    "load_user_data",
    "recorded_kind",
    "region_from_env",
    "user_source",
]

#: Environment variable naming a GEMB output file (``make paper GEMB_OUTPUT=...``).
GEMB_ENV = "GEMB_OUTPUT"
#: Environment variable replacing the default region: ``lat_min,lat_max,lon_min,lon_max``.
REGION_ENV = "REGION"
#: The ERA5 invariant file ``make data`` writes (land-sea mask ``lsm``), used as the mask.
ERA5_MASK = "era5_invariant.nc"
_MAT73 = b"MATLAB 7.3"
_ZIP = b"PK\x03\x04"
_NETCDF = (b"CDF\x01", b"CDF\x02", b"CDF\x05", b"\x89HDF\r\n\x1a\n")


@dataclass(frozen=True)
class Source:
    """Where a data set comes from.

    Attributes
    ----------
    kind : {"synthetic", "real", "user"}
        ``synthetic``: the embedded default; ``real``: real files under ``data/raw/<dataset>``
        (or ``GEMB_OUTPUT``); ``user``: a file or folder given to ``make run``.
    layout : {"synthetic", "era5", "gemb", "nsidc0533", "melt_area_csv", "canonical"}
        How the files are read.
    paths : tuple of Path
        The data files (sorted).
    description : str
        One line for the notebook and ``features.attrs["source"]``.
    mask : Path, optional
        ERA5 mask file (``era5_invariant.nc``).
    """

    kind: str
    layout: str
    paths: tuple[Path, ...]
    description: str
    mask: Path | None = None

    @property
    def label(self) -> str:
        """The file, or the folder of several files, for messages.

        Examples
        --------
        >>> Source("user", "era5", (Path("/d/a.nc"), Path("/d/b.nc")), "x").label
        '/d'
        """
        return str(self.paths[0] if len(self.paths) == 1 else self.paths[0].parent)

    @property
    def inputs(self) -> list[Path]:
        """Every file read (data and mask), for the provenance registry."""
        return [*self.paths, *([self.mask] if self.mask is not None else [])]


def region_from_env(environ: Mapping[str, str] | None = None) -> Region:
    """The region of ``$REGION``, else the default box.

    ``$REGION`` is ``lat_min,lat_max,lon_min,lon_max``, or ``file``: every grid cell.

    Examples
    --------
    >>> region_from_env({}).name, region_from_env({"REGION": "66,68,-51,-47"}).lat_min
    ('southwest Greenland', 66.0)
    >>> region_from_env({"REGION": "file"}).name
    'every grid cell of the files'
    """
    environ = os.environ if environ is None else environ
    text = environ.get(REGION_ENV, "").strip()
    if not text:
        return Region()
    if text.lower() == "file":
        return Region.every_cell()
    try:
        lat_min, lat_max, lon_min, lon_max = map(float, text.split(","))
        return Region(lat_min, lat_max, lon_min, lon_max, name=f"box {text}")
    except ValueError as err:
        raise InputDataError(
            f"{REGION_ENV}={text!r}: expected four numbers lat_min,lat_max,lon_min,lon_max (degrees north and east, "
            f"west negative), e.g. REGION=60,70,-55,-40, or REGION=file for every grid cell of the files ({err})."
        ) from err


def _files(folder: Path, patterns: tuple[str, ...], exclude: tuple[str, ...] = ()) -> list[Path]:
    if not folder.is_dir():
        return []
    found = {p for pattern in patterns for p in folder.glob(pattern) if p.is_file() and p.name not in exclude}
    return sorted(p for p in found if not p.name.startswith("."))


def _era5_source(folder: Path, kind: str) -> Source | None:
    files = _files(folder, ("*.nc", "*.zip"), exclude=(ERA5_MASK,))
    if not files:
        return None
    mask = folder / ERA5_MASK if (folder / ERA5_MASK).is_file() else None
    years = sorted({y for p in files for y in _years_in_name(p.name)})
    span = f", {years[0]}-{years[-1]}" if years else ""
    what = f"ERA5 hourly single levels, {len(files)} file(s) in {folder}{span}"
    return Source(kind, "era5", tuple(files), what + (f", mask {mask.name}" if mask else ", no mask"), mask)


def _years_in_name(name: str) -> list[int]:
    """Four-digit years 1900-2099 in a file name (for the description only).

    Examples
    --------
    >>> _years_in_name("era5_accum_1951.nc"), _years_in_name("x.nc")
    ([1951], [])
    """
    import re

    return [int(m) for m in re.findall(r"(?<!\d)(19\d\d|20\d\d)(?!\d)", name)]


def find_source(root: Path, dataset: str, seed: int = 0, environ: Mapping[str, str] | None = None) -> Source:
    """The input of ``dataset`` under the project ``root`` (see the module docstring for the rules).

    Parameters
    ----------
    root : Path
        Project root (the folder holding ``data/raw``).
    dataset : {"era5", "gemb"}
        The data set of notebook 01.
    seed : int
        Seed of the synthetic default (used when no real files are present).
    environ : mapping, optional
        Environment (default ``os.environ``) for ``GEMB_OUTPUT``.

    Returns
    -------
    Source

    Raises
    ------
    InputDataError
        When ``GEMB_OUTPUT`` names a missing file or ``data/raw/gemb`` holds several candidates.

    Examples
    --------
    >>> src = find_source(Path("/nonexistent"), "era5", seed=3, environ={})
    >>> src.kind, src.layout, src.paths[0].parent.name
    ('synthetic', 'synthetic', 'seed-3')
    """
    environ = os.environ if environ is None else environ
    raw = Path(root) / "data" / "raw"
    if dataset == "era5":
        found = _era5_source(raw / "era5", "real")
        if found is not None:
            return found
    elif dataset == "gemb":
        named = environ.get(GEMB_ENV, "").strip()
        if named:
            path = Path(named).expanduser().resolve()
            if not path.is_file():
                raise InputDataError(
                    f"{GEMB_ENV}={named}: no such file. Point {GEMB_ENV} to GEMB's output (.mat v7.3 or .nc), "
                    f"or unset it to use data/raw/gemb/ or the synthetic default."
                )
            return Source("real", "gemb", (path,), f"GEMB output {path} (from {GEMB_ENV})")
        files = _files(raw / "gemb", ("*.mat", "*.nc"))
        if len(files) > 1:
            raise InputDataError(
                f"{raw / 'gemb'}: {len(files)} candidate GEMB output files ({', '.join(p.name for p in files)}); "
                f"keep one, or name it with {GEMB_ENV}=<file>."
            )
        if files:
            return Source("real", "gemb", (files[0],), f"GEMB output {files[0]}")
    else:
        raise ValueError(f"unknown data set {dataset!r}: expected 'era5' or 'gemb'")
    folder = raw / "synthetic" / f"seed-{seed}"
    world = _synthetic_world(folder)
    named = f"synthetic embedded default, seed {seed}" + ("" if world == "default" else f", {world} world")
    return Source("synthetic", "synthetic", (folder / f"{dataset}.nc",), named, None)


def _synthetic_world(folder: Path) -> str:
    """The world (``default`` or ``synoptic``) the manifest in ``folder`` records; ``default`` without one."""
    try:
        return str(json.loads((folder / "manifest.json").read_text()).get("config", {}).get("world", "default"))
    except (OSError, ValueError):
        return "default"


KINDS: tuple[str, ...] = ("synthetic", "real", "user")


def recorded_kind(features: xr.Dataset, path: str = "features.nc") -> str:
    """The kind of input ("synthetic", "real" or "user") that notebook 01 recorded in ``features.nc``.

    Only the synthetic default has injected events with known drivers and the MEaSUREs-like record;
    :func:`clvlib.pipeline.stage_inputs.load_reference` reads it to find what a data set can be checked against.

    Examples
    --------
    >>> recorded_kind(xr.Dataset(attrs={"source_kind": "user"}))
    'user'
    >>> recorded_kind(xr.Dataset())
    Traceback (most recent call last):
    ...
    clvlib.errors.InputDataError: features.nc records no source_kind ...
    """
    kind = features.attrs.get("source_kind")
    if kind not in KINDS:
        raise InputDataError(
            f"{path} records no source_kind (expected one of {KINDS}, found {kind!r}); it was "
            "written by an older notebook 01. Rerun notebook 01 (make paper does)."
        )
    return str(kind)


def find_measures(root: Path, source_kind: str, seed: int = 0) -> Source | None:
    """The melt-extent record for notebook 04, or None when there is none for this kind of source.

    The synthetic default has its MEaSUREs-like record; real data use NSIDC-0533 files or a
    melt-area CSV in ``data/raw/measures/``; anything else has no record.

    Raises
    ------
    InputDataError
        When ``data/raw/measures`` mixes netCDF files and CSVs or holds several CSVs.

    Examples
    --------
    >>> find_measures(Path("/nonexistent"), "synthetic", seed=0).layout
    'melt_area_csv'
    >>> find_measures(Path("/nonexistent"), "real") is None
    True
    """
    raw = Path(root) / "data" / "raw"
    if source_kind == "synthetic":
        path = raw / "synthetic" / f"seed-{seed}" / "measures.csv"
        return Source(
            "synthetic", "melt_area_csv", (path,), f"MEaSUREs-like record of the synthetic default, seed {seed}"
        )
    folder = raw / "measures"
    netcdf, csv = _files(folder, ("*.nc",)), _files(folder, ("*.csv",))
    if netcdf and csv or len(csv) > 1:
        raise InputDataError(
            f"{folder}: holds {len(netcdf)} netCDF and {len(csv)} CSV file(s); expected either NSIDC-0533 netCDF files "
            "or one melt-area CSV (columns date, melt area). Move the others away."
        )
    if netcdf:
        return Source("real", "nsidc0533", tuple(netcdf), f"MEaSUREs NSIDC-0533, {len(netcdf)} file(s) in {folder}")
    if csv:
        return Source("real", "melt_area_csv", (csv[0],), f"melt-area record {csv[0]}")
    return None


def load_measures_source(source: Source, environ: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The melt-extent record of ``source`` (columns ``date``, ``melt area``, ``interpolated``)."""
    from clvlib.io.measures import load_melt_area_csv, load_nsidc0533

    if source.layout == "nsidc0533":
        return load_nsidc0533(source.paths, region=region_from_env(environ))
    if source.layout == "melt_area_csv":
        return load_melt_area_csv(source.paths[0])
    raise ValueError(f"{source.layout!r} is not a melt-extent layout")


def detect_layout(path: Path) -> str:
    """How a file or folder given to ``make run`` is read, by content: ``canonical``, ``era5`` or ``gemb``.

    * a folder: raw ERA5 (its ``*.nc`` and ``*.zip`` files);
    * a ZIP: a raw ERA5 download from the CDS;
    * a MATLAB v7.3 MAT-file: GEMB output;
    * a netCDF file with dimensions ``latitude`` and ``longitude``: a raw ERA5 download (a series
      without a grid, even one on ``valid_time``, is checked as canonical and told what to rename);
      one with GEMB's series (``M``, ``R``, ``a1`` ...) and no ERA5 names: GEMB output; else canonical.

    Raises
    ------
    InputDataError
        When the path is missing, empty, or neither netCDF, ZIP nor a MAT-file.
    """
    path = Path(path)
    if path.is_dir():
        return "era5"
    head = file_head(
        path,
        16,
        "DATA must be a canonical netCDF file, a raw ERA5 download (netCDF, ZIP or a folder "
        "of them) or a GEMB output file (.mat v7.3 or .nc).",
        "Download or write it again.",
    )
    if head.startswith(_ZIP):
        return "era5"
    if head.startswith(_MAT73):
        return "gemb"
    if head.startswith(b"MATLAB"):
        return "gemb"  # the GEMB loader explains how to re-save an older MAT-file
    if not head.startswith(_NETCDF):
        raise InputDataError(
            f"{path}: neither netCDF, a ZIP of netCDF files nor a MATLAB v7.3 MAT-file (starts with {head[:8]!r}). "
            "DATA must be a canonical netCDF file, a raw ERA5 download or a GEMB output file."
        )
    check_netcdf_complete(path)
    try:
        with xr.open_dataset(path, decode_times=False) as ds:
            dims, names = set(ds.sizes), set(ds.data_vars)
            point_series = is_point_series(ds) and bool(names & {v.name for v in ERA5_VARIABLES})
    except Exception as err:  # netCDF4/h5netcdf raise many types for a corrupt file
        raise InputDataError(
            f"{path}: cannot be read as netCDF ({type(err).__name__}: {err}). "
            "The file may be truncated; download or write it again."
        ) from err
    if {"latitude", "longitude"} <= dims or {"lat", "lon"} <= dims:  # a series without a grid is canonical
        return "era5"
    if point_series:  # the CDS point time-series product (scalar latitude and longitude)
        return "era5"
    from clvlib.variables import GEMB_NAMES, catalogue

    gemb_only = set(GEMB_NAMES.values()) - set(catalogue())  # M, R, F, a1: GEMB's own names
    if names & gemb_only:
        return "gemb"
    return "canonical"


def load_raw(source: Source, progress: bool = False, environ: Mapping[str, str] | None = None) -> CanonicalData:
    """Load a real or user source (ERA5, GEMB or canonical) into checked daily values.

    Raw ERA5 and GEMB files are reduced to a daily data set by :func:`clvlib.io.era5.load_era5`
    (every catalogue ERA5 variable present in the files; a variable present in some files must
    be in all of them) and :func:`clvlib.io.gemb.load_gemb`, then checked like a canonical file
    (:func:`clvlib.io.canonical.canonical_daily`): complete calendar years only, plausible values.

    Raises
    ------
    clvlib.errors.InputDataError
        With the file, what was expected and what to do.
    """
    if source.layout == "canonical":
        return load_canonical(source.paths[0])
    if source.layout == "era5":
        from clvlib.io.era5 import Era5Config, load_era5

        variables = era5_variables(source.paths)
        config = Era5Config(
            region=region_from_env(environ), variables=variables, mask_file=source.mask, progress=progress
        )
        daily = load_era5(source.paths, config)
        daily.attrs["melt_variable"] = "smlt" if "smlt" in daily else ""
        name = source.paths[0].parent if len(source.paths) > 1 else source.paths[0]
    elif source.layout == "gemb":
        from clvlib.io.gemb import load_gemb

        daily = load_gemb(source.paths[0])
        name = source.paths[0]
    else:
        raise ValueError(f"{source.layout!r} is not a raw layout")
    if not daily.attrs.get("melt_variable"):
        daily.attrs.pop("melt_variable", None)
    region = daily.attrs.get("region")
    data = canonical_daily(daily, str(name))
    return replace(
        data, step=pd.Timedelta("1D"), source=f"{name} (regional mean over {region})" if region else str(name)
    )


def era5_variables(paths: tuple[Path, ...]) -> tuple[str, ...]:
    """Catalogue ERA5 variables held by any of the files (ZIPs opened), in catalogue order.

    Raises
    ------
    InputDataError
        When no file holds any ERA5 catalogue variable.
    """
    from clvlib.io.era5_files import expanded, sniff
    from clvlib.variables import ERA5_VARIABLES

    names: set[str] = set()
    with expanded([p for p in paths if sniff(p) == "zip"]) as members:
        for path in [*members, *(p for p in paths if sniff(p) != "zip")]:
            check_netcdf_complete(path)
            try:
                with xr.open_dataset(path, decode_times=False) as ds:
                    names |= set(ds.data_vars)
            except Exception as err:  # netCDF4/h5netcdf raise many types for a corrupt file
                raise InputDataError(
                    f"{path}: cannot be read as netCDF ({type(err).__name__}: {err}). "
                    "The file may be truncated; delete it and download it again."
                ) from err
    found = tuple(v.name for v in ERA5_VARIABLES if v.name in names)
    if not found:
        where = paths[0] if len(paths) == 1 else paths[0].parent
        raise InputDataError(
            f"{where}: holds {', '.join(sorted(names)) or 'no data variable'}, none of the ERA5 variables the pipeline "
            f"reads ({', '.join(v.name for v in ERA5_VARIABLES)}){_time_description(paths)}. Download ERA5 hourly "
            "data on single levels with some of those variables (make data, or the CDS point product 'ERA5 hourly "
            "time-series data on single levels' for a site)."
        )
    return found


def _time_description(paths: tuple[Path, ...]) -> str:
    """``"; its times are monthly means (...)"`` for the first plain netCDF file with a time axis, else ``""``."""
    from clvlib.io.era5_files import describe_step, sniff

    for path in paths:
        if sniff(path) != "netcdf":
            continue
        try:
            with xr.open_dataset(path) as ds:
                name = next((n for n in ("valid_time", "time", "date") if n in ds.variables), None)
                values = ds[name].values if name is not None else None
        except Exception:  # the description is a courtesy: the message stands without it
            return ""
        if values is None or values.size < 2 or not pd.api.types.is_datetime64_any_dtype(values):
            return ""
        t = pd.DatetimeIndex(values)
        hours = float(np.median(np.diff(t.asi8))) / 3.6e12
        return f"; its {len(t)} times, {t[0]:%Y-%m-%d} to {t[-1]:%Y-%m-%d}, are {describe_step(hours)}"
    return ""


def user_source(path: Path) -> Source:
    """The :class:`Source` of a file or folder given to ``make run`` (layout by :func:`detect_layout`)."""
    path = Path(path).resolve()
    layout = detect_layout(path)
    if layout == "era5":
        if path.is_dir():
            found = _era5_source(path, "user")
            if found is None:
                raise InputDataError(
                    f"{path}: a folder without .nc or .zip files; DATA must be a canonical netCDF file, "
                    "a raw ERA5 download (file, ZIP or folder of them) or a GEMB output file."
                )
            _check_era5_folder(path, found.paths)
            return found
        return Source("user", "era5", (path,), f"ERA5 download {path}")
    if layout == "gemb":
        return Source("user", "gemb", (path,), f"GEMB output {path}")
    return Source("user", "canonical", (path,), f"user file {path}")


def _check_era5_folder(folder: Path, paths: tuple[Path, ...]) -> None:
    """A folder given as DATA is read as raw ERA5 downloads: refuse one that holds canonical or GEMB files."""
    others = [(p, layout) for p in paths for layout in (detect_layout(p),) if layout != "era5"]
    if others:
        what = {"canonical": "a canonical series (one dimension 'time')", "gemb": "GEMB output"}
        p, layout = others[0]
        raise InputDataError(
            f"{folder}: a folder is read as raw ERA5 downloads, but {p.name} is {what[layout]}. Give the file itself: "
            f"DATA={p}" + (f" ({len(others)} such files in the folder)." if len(others) > 1 else ".")
        )


def load_user_data(path: Path, progress: bool = False) -> tuple[Source, CanonicalData]:
    """Recognise and load what ``make run DATA=...`` names (canonical netCDF, raw ERA5, GEMB output)."""
    source = user_source(path)
    return source, load_raw(source, progress=progress)
