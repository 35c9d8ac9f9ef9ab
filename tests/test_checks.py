"""Bad input gives an error naming the file, the variable, what was expected and what to do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from clvlib.errors import InputDataError
from clvlib.io.checks import check_daily, open_netcdf
from clvlib.synthetic.rawdata import load_daily

VARS = ("t2m", "ssrd", "tcc")


@pytest.fixture()
def good() -> xr.Dataset:
    t = pd.date_range("2000-01-01", periods=60, freq="D")
    rng = np.random.default_rng(0)
    return xr.Dataset(
        {
            "t2m": ("time", 260.0 + rng.normal(size=60), {"units": "K"}),
            "ssrd": ("time", 1e7 + 1e6 * rng.random(60), {"units": "J m-2"}),
            "tcc": ("time", rng.random(60), {"units": "(0 - 1)"}),
        },
        coords={"time": t},
    )


def _write(ds: xr.Dataset, path) -> str:
    ds.to_netcdf(path)
    return str(path)


def test_good_file_passes(good, tmp_path):
    check_daily(open_netcdf(_write(good, tmp_path / "good.nc")), VARS, "good.nc")


def test_missing_variable(good, tmp_path):
    path = _write(good.drop_vars("tcc"), tmp_path / "f.nc")
    with pytest.raises(InputDataError, match=r"f\.nc.*'tcc'.*missing.*Add it"):
        check_daily(open_netcdf(path), VARS, path)


def test_duplicate_times(good):
    ds = xr.concat([good, good.isel(time=[5])], dim="time")
    with pytest.raises(InputDataError, match=r"dup\.nc.*'time'.*duplicate.*2000-01-06.*drop_duplicates"):
        check_daily(ds, VARS, "dup.nc")


def test_non_monotonic_times(good):
    ds = good.isel(time=[0, 2, 1, 3])
    with pytest.raises(InputDataError, match=r"order\.nc.*'time' is not increasing.*2000-01-03.*sortby"):
        check_daily(ds, VARS, "order.nc")


def test_all_nan_variable(good):
    ds = good.assign(tcc=good["tcc"] * np.nan)
    with pytest.raises(InputDataError, match=r"nan\.nc.*'tcc' is all NaN"):
        check_daily(ds, VARS, "nan.nc")


def test_constant_variable(good):
    ds = good.assign(t2m=good["t2m"] * 0 + 260.0)
    with pytest.raises(InputDataError, match=r"c\.nc.*'t2m' is constant"):
        check_daily(ds, VARS, "c.nc")


def test_temperature_declared_in_celsius(good):
    ds = good.assign(t2m=(good["t2m"] - 273.15).assign_attrs(units="degC"))
    with pytest.raises(InputDataError, match=r"degc\.nc.*'t2m' has units 'degC', expected 'K'.*\+ 273\.15"):
        check_daily(ds, VARS, "degc.nc")


def test_temperature_in_celsius_labelled_kelvin(good):
    ds = good.assign(t2m=(good["t2m"] - 273.15).assign_attrs(units="K"))
    with pytest.raises(InputDataError, match=r"'t2m' has values .* not plausible .* look like degC.*\+ 273\.15"):
        check_daily(ds, VARS, "x.nc")


def test_flux_declared_in_watts(good):
    ds = good.assign(ssrd=(good["ssrd"] / 86400).assign_attrs(units="W m-2"))
    with pytest.raises(InputDataError, match=r"'ssrd' has units 'W m-2', expected 'J m-2'.*86400"):
        check_daily(ds, VARS, "w.nc")


def test_flux_in_watts_labelled_joules(good):
    ds = good.assign(ssrd=(good["ssrd"] / 86400).assign_attrs(units="J m-2"))
    with pytest.raises(InputDataError, match=r"'ssrd' has values .* look like W m-2.*86400"):
        check_daily(ds, VARS, "w.nc")


def test_missing_units(good):
    ds = good.copy()
    ds["tcc"].attrs = {}
    with pytest.raises(InputDataError, match=r"'tcc' has no 'units' attribute"):
        check_daily(ds, VARS, "u.nc")


def test_empty_file(tmp_path):
    (tmp_path / "era5.nc").write_bytes(b"")
    with pytest.raises(InputDataError, match=r"era5\.nc: the file is empty"):
        load_daily(tmp_path, "era5")


def test_unreadable_file(tmp_path):
    (tmp_path / "era5.nc").write_bytes(b"this is not netCDF" * 10)
    with pytest.raises(InputDataError, match=r"era5\.nc: cannot be read as netCDF.*generate it again"):
        load_daily(tmp_path, "era5")


def test_sub_daily_steps_are_rejected(good):
    ds = good.assign_coords(time=pd.date_range("2000-01-01", periods=60, freq="h"))
    with pytest.raises(InputDataError, match="shorter than one day"):
        check_daily(ds, VARS, "h.nc")
