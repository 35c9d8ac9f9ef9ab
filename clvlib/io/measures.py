"""Daily melt extent from MEaSUREs Greenland Surface Melt (NSIDC-0533) or a daily melt-area CSV.

Both loaders return the shape of :func:`clvlib.synthetic.rawdata.load_measures`: a DataFrame with columns
``date``, ``melt area`` (km2) and ``interpolated`` (0 observed, 1 filled), so that
:func:`clvlib.method.evaluation.measures_anomalies` derives reference melt anomalies from real data
exactly as from the synthetic record.

NSIDC-0533 is a daily 25 km EASE-Grid 2.0 North (EPSG:6931) grid of codes: 50 no melt,
51 melt, 90 and 91 masked or missing, -99 fill. The ice domain is every pixel of the region that
is 50 or 51 on some day. A day's melt extent is the melting share of the observed domain pixels
times the domain area (pixels are equal-area); a day with more than ``max_missing`` of the
domain unobserved (or absent) is filled by linear interpolation between observed days and
flagged ``interpolated = 1``, as in NSIDC's melt-area series.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from clvlib.errors import InputDataError
from clvlib.io.checks import check_netcdf_complete
from clvlib.io.region import Region

__all__ = [
    "COLUMNS",
    "MELT",
    "NO_MELT",
    "ease2_north_forward",
    "ease2_north_inverse",
    "load_melt_area_csv",
    "load_nsidc0533",
]

NO_MELT, MELT = 50, 51
COLUMNS = ["date", "melt area", "interpolated"]
#: WGS84 ellipsoid of EASE-Grid 2.0.
_A, _E2 = 6378137.0, 0.0066943799901413165


def _q(sin_phi: np.ndarray) -> np.ndarray:
    e = np.sqrt(_E2)
    return (1 - _E2) * (sin_phi / (1 - _E2 * sin_phi**2) - np.log((1 - e * sin_phi) / (1 + e * sin_phi)) / (2 * e))


def ease2_north_forward(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EASE-Grid 2.0 North x, y (m) of latitude/longitude (ellipsoidal Lambert azimuthal equal-area).

    Examples
    --------
    >>> [round(float(v[0])) for v in ease2_north_forward(np.array([90.0]), np.array([0.0]))]
    [0, 0]
    """
    qp = _q(np.array(1.0))
    rho = _A * np.sqrt(qp - _q(np.sin(np.deg2rad(lat))))
    lam = np.deg2rad(lon)
    return rho * np.sin(lam), -rho * np.cos(lam)


def ease2_north_inverse(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (degrees) of EASE-Grid 2.0 North x, y (m).

    Examples
    --------
    >>> x, y = ease2_north_forward(np.array([67.0]), np.array([-50.7]))
    >>> [round(float(v[0]), 6) for v in ease2_north_inverse(x, y)]
    [67.0, -50.7]
    """
    e2 = _E2
    qp = _q(np.array(1.0))
    rho = np.hypot(x, y)
    beta = np.arcsin(np.clip(1 - rho**2 / (_A**2 * qp), -1.0, 1.0))
    lat = (
        beta
        + (e2 / 3 + 31 * e2**2 / 180 + 517 * e2**3 / 5040) * np.sin(2 * beta)
        + (23 * e2**2 / 360 + 251 * e2**3 / 3780) * np.sin(4 * beta)
        + (761 * e2**3 / 45360) * np.sin(6 * beta)
    )
    return np.rad2deg(lat), np.rad2deg(np.arctan2(x, -y))


def load_melt_area_csv(path: Path) -> pd.DataFrame:
    """A daily melt-area CSV (columns ``date``, ``melt area`` in km2, optional ``interpolated``).

    Rows need not be contiguous (NSIDC's series covers melt seasons only).

    Raises
    ------
    InputDataError
        When a column is missing, a date does not parse or repeats.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path)
    except Exception as err:
        raise InputDataError(f"{path}: cannot be read as CSV ({err}). Check the file.") from err
    missing = [c for c in COLUMNS[:2] if c not in df.columns]
    if missing:
        raise InputDataError(f"{path}: missing column(s) {missing} (found {list(df.columns)}); expected {COLUMNS}.")
    try:
        date = pd.to_datetime(df["date"], format="%Y-%m-%d")
    except ValueError as err:
        raise InputDataError(f"{path}: the 'date' column does not parse as YYYY-MM-DD ({err}).") from err
    if date.duplicated().any():
        raise InputDataError(
            f"{path}: date {date[date.duplicated()].iloc[0]:%Y-%m-%d} appears twice; one row per day expected."
        )
    interpolated = df["interpolated"].astype(int) if "interpolated" in df else 0
    out = pd.DataFrame({"date": date, "melt area": df["melt area"].astype(float), "interpolated": interpolated})
    return out.sort_values("date").reset_index(drop=True)


def _melt_variable(ds: xr.Dataset, source: str, variable: str | None) -> xr.DataArray:
    """The melt-code variable: ``variable`` or the one data variable on (time, y, x)."""
    if variable is not None:
        if variable not in ds:
            raise InputDataError(f"{source}: no variable '{variable}' (found {sorted(ds.data_vars)}).")
        return ds[variable]
    candidates = [n for n, v in ds.data_vars.items() if set(v.dims) >= {"time", "y", "x"}]
    if len(candidates) != 1:
        raise InputDataError(
            f"{source}: expected one melt-code variable on (time, y, x), found {candidates or 'none'}; "
            "pass variable=..."
        )
    return ds[candidates[0]]


def _open_codes(paths: Sequence[Path], variable: str | None) -> xr.DataArray:
    parts = []
    for path in map(Path, paths):
        check_netcdf_complete(path)
        try:
            ds = xr.load_dataset(path, mask_and_scale=False)
        except Exception as err:
            raise InputDataError(
                f"{path}: cannot be read as netCDF ({type(err).__name__}: {err}). "
                "It may be truncated; download it again."
            ) from err
        parts.append(_melt_variable(ds, str(path), variable).transpose("time", "y", "x"))
    ref = parts[0]
    for path, part in zip(paths, parts, strict=True):
        if (
            part.sizes["y"] != ref.sizes["y"]
            or part.sizes["x"] != ref.sizes["x"]
            or not (np.allclose(part["x"], ref["x"]) and np.allclose(part["y"], ref["y"]))
        ):
            raise InputDataError(f"{path}: its grid differs from {paths[0]}; all NSIDC-0533 files must be on one grid.")
    codes = xr.concat(parts, dim="time").sortby("time")
    t = pd.DatetimeIndex(codes["time"].values)
    if t.duplicated().any():
        raise InputDataError(f"day {t[t.duplicated()][0]:%Y-%m-%d} appears in two files; remove the duplicate file.")
    return codes


def load_nsidc0533(
    paths: Sequence[Path],
    region: Region | None = None,
    variable: str | None = None,
    max_missing: float = 0.1,
    whole_grid: bool = False,
) -> pd.DataFrame:
    """Daily melt extent (km2) over ``region`` from NSIDC-0533 daily files.

    Parameters
    ----------
    paths : sequence of Path
        NSIDC-0533 netCDF files (one per day or per period; any order).
    region : Region, optional
        Box of pixel centres to count (default :class:`clvlib.io.region.Region`, southwest Greenland).
    variable : str, optional
        Name of the melt-code variable (default: the one variable on time, y, x).
    max_missing : float
        Largest unobserved share of the domain for a day to count as observed.
    whole_grid : bool
        Count every ice pixel of the grid (the whole ice sheet) instead of ``region``.

    Returns
    -------
    pandas.DataFrame
        Columns ``date``, ``melt area`` (km2), ``interpolated`` (0 or 1), every day from the
        first to the last observed one.
    """
    if not paths:
        raise InputDataError(
            "no NSIDC-0533 files given. Download them with 'python -m clvlib.io.download --what measures'."
        )
    codes = _open_codes(paths, variable)
    x, y = codes["x"].values, codes["y"].values
    region = Region() if region is None else region
    if not whole_grid:
        lat, lon = ease2_north_inverse(*np.meshgrid(x, y))
        inside = region.contains(lat, lon)
    else:
        inside = np.ones((y.size, x.size), dtype=bool)
    values = codes.values
    valid = (values == NO_MELT) | (values == MELT)
    domain = valid.any(axis=0) & inside
    if not domain.any():
        raise InputDataError(
            f"{paths[0]}: no ice pixel (code 50 or 51) inside the region {region}; choose a Region over the ice sheet."
        )
    pixel_km2 = abs(float(np.median(np.diff(x))) * float(np.median(np.diff(y)))) / 1e6
    observed = (valid & domain).sum(axis=(1, 2))
    melting = ((values == MELT) & domain).sum(axis=(1, 2))
    area = np.where(
        observed >= (1 - max_missing) * domain.sum(),
        melting / np.maximum(observed, 1) * domain.sum() * pixel_km2,
        np.nan,
    )
    series = pd.Series(area, index=pd.DatetimeIndex(codes["time"].values).normalize())
    if series.notna().sum() == 0:
        raise InputDataError(f"{paths[0]}: no day has enough observed pixels; check the files.")
    series = series.loc[series.first_valid_index() : series.last_valid_index()]
    series = series.reindex(pd.date_range(series.index[0], series.index[-1], freq="D"))
    interpolated = series.isna().astype(int)
    filled = series.interpolate(limit_area="inside")
    return pd.DataFrame({"date": filled.index, "melt area": filled.to_numpy(), "interpolated": interpolated.to_numpy()})
