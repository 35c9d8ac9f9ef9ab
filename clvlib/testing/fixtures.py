"""Writers of small files in each real input layout, for the tests and the benchmark.

Every writer produces exactly the structure the real source delivers (see DESIGN.md section 6),
with made-up but plausible numbers:

* :func:`write_cds_netcdf`: ERA5 netCDF as the CDS delivers it since Sept 2024;
* :func:`write_legacy_netcdf`: ERA5 netCDF as the CDS delivered it before (packed shorts,
  hours since 1900, optional ``expver`` dimension);
* :func:`write_cds_zip`: the ZIP of ``...stepType-instant.nc`` and ``...stepType-accum.nc`` that a
  request mixing instantaneous and accumulated variables returns;
* :func:`write_point_timeseries_zip`: the CDS point product "ERA5 hourly time-series data on single
  levels" (a ZIP of one netCDF on ``valid_time`` with scalar latitude and longitude);
* :func:`write_nsidc0533`: MEaSUREs Greenland Surface Melt daily codes on EASE-Grid 2.0 North;
* :func:`write_gemb_mat`: GEMB output as a MATLAB v7.3 MAT-file (HDF5 with a MATLAB header).

The hourly fields come from :func:`hourly_fields`; pass the same data set to two writers to get
two layouts of the same numbers.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from clvlib.io.measures import MELT, NO_MELT, ease2_north_forward, ease2_north_inverse
from clvlib.io.region import Region
from clvlib.variables import ERA5_VARIABLES, Kind, catalogue

__all__ = [
    "hourly_fields",
    "write_cds_netcdf",
    "write_cds_zip",
    "write_gemb_mat",
    "write_legacy_netcdf",
    "write_nsidc0533",
    "write_point_timeseries_zip",
]

#: ERA5 spelling of the units in CDS files.
_CDS_UNITS = {"K": "K", "J m-2": "J m**-2", "1": "(0 - 1)", "m": "m", "Pa": "Pa", "m s-1": "m s**-1"}
_ACCUM = (Kind.ENERGY_ACCUMULATION, Kind.WATER_ACCUMULATION)


def _hourly_value(name: str, season: np.ndarray, diurnal: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Plausible hourly ERA5 values (accumulations per hour) on broadcast (time, lat, lon) arrays."""
    sun = np.clip(np.sin(diurnal), 0.0, None) * (0.3 + 0.7 * season)
    warm = 255.0 + 20.0 * season + 3.0 * np.sin(diurnal) + 2.0 * noise
    values = {
        "t2m": warm,
        "d2m": warm - 3.0 - np.abs(noise),
        "skt": warm - 1.0 + noise,
        "ssrd": 3600.0 * 600.0 * sun,
        "strd": 3600.0 * (220.0 + 60.0 * season + 10.0 * noise),
        "ssr": 3600.0 * 150.0 * sun,
        "str": -3600.0 * (40.0 + 10.0 * np.abs(noise)),
        "sshf": 3600.0 * 25.0 * noise,
        "slhf": -3600.0 * (5.0 + 5.0 * np.abs(noise)),
        "tcc": np.clip(0.6 + 0.3 * noise, 0.0, 1.0),
        "tp": 2.0e-4 * np.clip(noise, 0.0, None),
        "sf": 1.5e-4 * np.clip(noise, 0.0, None) * (1.0 - season),
        "smlt": 1.0e-4 * season * sun,
        "sp": 85000.0 + 800.0 * noise,
        "u10": 5.0 * noise + 2.0,
        "v10": 4.0 * np.cos(diurnal) + noise,
        "fal": 0.85 - 0.2 * season + 0.02 * noise,
    }
    return values[name]


def hourly_fields(
    start: str,
    hours: int,
    region: Region | None = None,
    n_lat: int = 5,
    n_lon: int = 6,
    variables: tuple[str, ...] = tuple(v.name for v in ERA5_VARIABLES),
    seed: int = 0,
) -> xr.Dataset:
    """Hourly ERA5-like fields on a regular grid over ``region`` (latitude north to south).

    Values are per hour as the CDS delivers them: accumulations in J m-2 or m over the hour
    ending at the valid time, states instantaneous; dims (time, latitude, longitude), float64,
    longitudes in -180..180, units in the catalogue spelling.

    Examples
    --------
    >>> ds = hourly_fields("2001-01-01", 48, n_lat=2, n_lon=3, variables=("t2m", "ssrd"))
    >>> dict(ds.sizes), ds["ssrd"].attrs["units"]
    ({'time': 48, 'latitude': 2, 'longitude': 3}, 'J m-2')
    """
    region = Region() if region is None else region
    rng = np.random.default_rng(seed)
    time = pd.date_range(start, periods=hours, freq="h")
    lat = np.linspace(region.lat_max, region.lat_min, n_lat)
    lon = np.linspace(region.lon_min, region.lon_max, n_lon)
    doy = time.day_of_year.to_numpy()[:, None, None]
    season = 0.5 - 0.5 * np.cos(2 * np.pi * (doy - 15) / 365.25)
    diurnal = 2 * np.pi * (time.hour.to_numpy()[:, None, None] - 6) / 24
    shape = (hours, n_lat, n_lon)
    slow = np.repeat(rng.standard_normal((hours // 24 + 2, 1, 1)), 24, axis=0)[:hours]
    cat = catalogue()
    data = {}
    for name in variables:
        noise = 0.7 * slow + 0.3 * rng.standard_normal(shape) + np.linspace(-0.2, 0.2, n_lat)[None, :, None]
        value = np.broadcast_to(_hourly_value(name, season, diurnal, noise), shape).astype(float)
        data[name] = (
            ("time", "latitude", "longitude"),
            value,
            {"units": cat[name].units, "long_name": cat[name].long_name},
        )
    return xr.Dataset(data, coords={"time": time, "latitude": lat, "longitude": lon})


def _cds_attrs(ds: xr.Dataset) -> xr.Dataset:
    cat = catalogue()
    for name in ds.data_vars:
        ds[name].attrs = {
            "units": _CDS_UNITS[cat[name].units],
            "long_name": cat[name].long_name,
            "GRIB_stepType": "accum" if cat[name].kind in _ACCUM else "instant",
        }
    return ds


def _longitudes(ds: xr.Dataset, lon360: bool) -> xr.Dataset:
    lon = ds["longitude"].values
    return ds.assign_coords(longitude=np.where(lon < 0, lon + 360.0, lon)) if lon360 else ds


def write_cds_netcdf(
    ds: xr.Dataset, path: Path, era5t_hours: int = 0, lon360: bool = False, compress: bool = True
) -> Path:
    """Write hourly fields in the CDS netCDF layout of today (since Sept 2024).

    Dimension ``valid_time`` (int64 seconds since 1970), scalar ``number``, string ``expver``
    per time (``"0001"``, and ``"0005"`` for the last ``era5t_hours`` hours), latitude north to
    south, float32 values compressed with zlib (``compress=False`` skips it), ERA5 unit spellings.
    """
    out = _cds_attrs(_longitudes(ds.sortby("latitude", ascending=False), lon360).astype("float32"))
    n = out.sizes["time"]
    expver = np.array(["0001"] * (n - era5t_hours) + ["0005"] * era5t_hours, dtype=object)
    out = out.rename({"time": "valid_time"}).assign_coords(number=np.int64(0), expver=("valid_time", expver))
    encoding = {
        name: {"zlib": compress, "dtype": "float32"} | ({"complevel": 1} if compress else {}) for name in out.data_vars
    }
    encoding["valid_time"] = {"units": "seconds since 1970-01-01", "calendar": "proleptic_gregorian", "dtype": "int64"}
    out.attrs = {
        "GRIB_centre": "ecmf",
        "Conventions": "CF-1.7",
        "institution": "European Centre for Medium-Range Weather Forecasts",
    }
    out.to_netcdf(path, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return Path(path)


def _packing(values: np.ndarray) -> tuple[float, float]:
    """``scale_factor`` and ``add_offset`` mapping the finite range onto int16 -32766..32766.

    The range stays clear of the fill value.
    """
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    scale = (hi - lo) / 65532.0 if hi > lo else 1.0
    return scale, (hi + lo) / 2.0


def write_legacy_netcdf(ds: xr.Dataset, path: Path, era5t_hours: int = 0, lon360: bool = True) -> Path:
    """Write hourly fields in the CDS netCDF layout used before Sept 2024.

    Dimension ``time`` (int32 hours since 1900-01-01), values packed as int16 with
    ``scale_factor``/``add_offset`` and ``_FillValue = missing_value = -32767``, netCDF3 64-bit
    offset format, longitudes 0..360 by default. With ``era5t_hours > 0`` the file has an
    ``expver`` dimension (1, 5): the last ``era5t_hours`` hours hold data under 5, the others
    under 1, and the other entry is missing.
    """
    out = _cds_attrs(_longitudes(ds.sortby("latitude", ascending=False), lon360))
    if era5t_hours:
        final = xr.DataArray(np.arange(out.sizes["time"]) < out.sizes["time"] - era5t_hours, dims="time")
        out = xr.concat(
            [out.where(final), out.where(~final)], dim=pd.Index(np.array([1, 5], dtype="int32"), name="expver")
        )
        out = out.transpose("time", "expver", "latitude", "longitude")
        for name in ds.data_vars:
            out[name].attrs = _cds_attrs(ds[[name]])[name].attrs
    encoding = {}
    for name in out.data_vars:
        scale, offset = _packing(out[name].values)
        encoding[name] = {
            "dtype": "int16",
            "scale_factor": scale,
            "add_offset": offset,
            "_FillValue": np.int16(-32767),
            "missing_value": np.int16(-32767),
        }
    encoding["time"] = {"units": "hours since 1900-01-01 00:00:00.0", "calendar": "gregorian", "dtype": "int32"}
    out.attrs = {"Conventions": "CF-1.6", "history": "fixture written by clvlib.testing.fixtures.write_legacy_netcdf"}
    out.to_netcdf(path, format="NETCDF3_64BIT", engine="netcdf4", encoding=encoding)
    return Path(path)


def write_cds_zip(ds: xr.Dataset, path: Path, extra_member: tuple[str, bytes] | None = None) -> Path:
    """Write the ZIP a mixed instantaneous/accumulated CDS request returns (new netCDF layout).

    Members ``data_stream-oper_stepType-instant.nc`` and ``data_stream-oper_stepType-accum.nc``;
    ``extra_member`` (name, bytes) adds an unexpected member for the error tests.
    """
    cat = catalogue()
    groups = {
        "instant": [n for n in ds.data_vars if cat[n].kind not in _ACCUM],
        "accum": [n for n in ds.data_vars if cat[n].kind in _ACCUM],
    }
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(path, "w") as archive:
        for step_type, names in groups.items():
            if names:
                member = Path(tmp) / f"data_stream-oper_stepType-{step_type}.nc"
                write_cds_netcdf(ds[names], member)
                archive.write(member, member.name)
        if extra_member is not None:
            archive.writestr(*extra_member)
    return Path(path)


def write_point_timeseries_zip(ds: xr.Dataset, path: Path, lat: float, lon: float) -> Path:
    """Write the ZIP of the CDS "ERA5 hourly time-series data on single levels" product at one site.

    One member ``reanalysis-era5-single-levels-timeseries-sfc<8 characters>.nc``: dimension
    ``valid_time`` only (int64 seconds since 1970), scalar ``latitude`` and ``longitude`` (the
    nearest grid node, 0.25 degrees), uncompressed float32 values, ERA5 unit spellings. ``ds``
    holds series along ``time`` (e.g. one cell of :func:`hourly_fields`).

    Examples
    --------
    >>> import tempfile
    >>> fields = hourly_fields("2001-01-01", 48, n_lat=1, n_lon=1, variables=("t2m", "tp"))
    >>> series = fields.isel(latitude=0, longitude=0, drop=True)
    >>> path = write_point_timeseries_zip(series, Path(tempfile.mkdtemp()) / "ts.zip", 67.0, -50.75)
    >>> zipfile.ZipFile(path).namelist()
    ['reanalysis-era5-single-levels-timeseries-sfcab12cd34.nc']
    """
    out = _cds_attrs(ds.astype("float32")).rename({"time": "valid_time"})
    out = out.assign_coords(latitude=np.float64(lat), longitude=np.float64(lon))
    encoding = {name: {"dtype": "float32", "zlib": False} for name in out.data_vars}
    encoding["valid_time"] = {"units": "seconds since 1970-01-01", "calendar": "proleptic_gregorian", "dtype": "int64"}
    out.attrs = {"GRIB_centre": "ecmf", "Conventions": "CF-1.7", "history": "fixture: CDS ARCO point time series"}
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(path, "w") as archive:
        member = Path(tmp) / "reanalysis-era5-single-levels-timeseries-sfcab12cd34.nc"
        out.to_netcdf(member, format="NETCDF4", engine="netcdf4", encoding=encoding)
        archive.write(member, member.name)
    return Path(path)


def write_nsidc0533(
    path: Path,
    dates: pd.DatetimeIndex,
    melt_fraction: np.ndarray,
    region: Region | None = None,
    missing_days: tuple[int, ...] = (),
    seed: int = 0,
) -> Path:
    """Write daily melt codes on a 25 km EASE-Grid 2.0 North subset covering ``region``.

    Pixels whose centre lies in ``region`` are ice (codes 50/51), with the share of melting
    pixels on day ``i`` close to ``melt_fraction[i]``; pixels outside are 90 (masked) and one
    corner is -99 (fill). Days listed in ``missing_days`` are 91 (missing) everywhere.
    Dimensions (time, y, x); coordinates x, y in metres; no latitude/longitude variables.
    """
    region = Region() if region is None else region
    rng = np.random.default_rng(seed)
    corners = [
        ease2_north_forward(np.array([la]), np.array([lo]))
        for la in (region.lat_min, region.lat_max)
        for lo in (region.lon_min, region.lon_max)
    ]
    xs, ys = [float(c[0][0]) for c in corners], [float(c[1][0]) for c in corners]
    x = np.arange(np.floor(min(xs) / 25e3) * 25e3 - 12.5e3 - 50e3, max(xs) + 75e3, 25e3)
    y = np.arange(np.ceil(max(ys) / 25e3) * 25e3 + 12.5e3 + 50e3, min(ys) - 75e3, -25e3)
    lat, lon = ease2_north_inverse(*np.meshgrid(x, y))
    ice = region.contains(lat, lon)
    codes = np.full((len(dates), y.size, x.size), 90, dtype=np.int16)
    for i, fraction in enumerate(melt_fraction):
        melt = rng.random((y.size, x.size)) < fraction
        codes[i][ice] = np.where(melt[ice], MELT, NO_MELT)
    codes[:, 0, 0] = -99
    for i in missing_days:
        codes[i] = 91
    ds = xr.Dataset(
        {
            "melt": (
                ("time", "y", "x"),
                codes,
                {
                    "long_name": "surface melt code",
                    "flag_values": np.array([50, 51, 90, 91], "int16"),
                    "flag_meanings": "no_melt melt masked missing",
                    "_FillValue": np.int16(-99),
                },
            )
        },
        coords={"time": dates, "x": ("x", x, {"units": "m"}), "y": ("y", y, {"units": "m"})},
        attrs={
            "title": "fixture in the layout of MEaSUREs Greenland Surface Melt Daily 25km EASE-Grid 2.0 (NSIDC-0533)",
            "crs": "EPSG:6931",
        },
    )
    ds.to_netcdf(path, encoding={"time": {"units": "days since 1979-01-01", "dtype": "int32"}})
    return Path(path)


def _matlab_header() -> bytes:
    text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    return text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"


def write_gemb_mat(
    path: Path, series: dict[str, np.ndarray], time: np.ndarray, forcing_start: float | None = None, n_layers: int = 12
) -> Path:
    """Write GEMB ``OutData`` as a MATLAB v7.3 MAT-file (HDF5 behind a 512-byte MATLAB header).

    Each series (GEMB names: ``M``, ``R``, ``F``, ``EC``, ``a1``, ``netSW``, ``Ta``, ``P`` ...) and
    ``time`` are stored as MATLAB 1 x n rows, i.e. HDF5 (n, 1) data sets (transposed); a density
    profile ``d`` (n, ``n_layers``, NaN-padded) is added like GEMB's profiles. With
    ``forcing_start`` (decimal year) a struct ``S`` holds 3-hourly forcing ``S/Ta`` whose last
    column is the decimal-year date, as in GEMB's ISSM-style test runs.
    """
    import h5py  # imported here: only needed for MAT-files

    n = len(time)
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, values in {"time": np.asarray(time, float), **series}.items():
            d = f.create_dataset(name, data=np.asarray(values, float).reshape(n, 1))
            d.attrs["MATLAB_class"] = np.bytes_("double")
        profile = np.full((n, n_layers), np.nan)
        profile[:, : n_layers // 2] = 400.0 + np.linspace(0, 500, n_layers // 2)
        f.create_dataset("d", data=profile).attrs["MATLAB_class"] = np.bytes_("double")
        if forcing_start is not None:
            s = f.create_group("S")
            s.attrs["MATLAB_class"] = np.bytes_("struct")
            steps = 8 * n
            forcing = np.column_stack([np.full(steps, 260.0), forcing_start + np.arange(steps) / (8 * 365.0)])
            s.create_dataset("Ta", data=forcing).attrs["MATLAB_class"] = np.bytes_("double")
    with open(path, "r+b") as f:
        f.write(_matlab_header())
    return Path(path)
