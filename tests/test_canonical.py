"""The canonical netCDF contract of make run: conversions to daily values and clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from clvlib.errors import InputDataError
from clvlib.io.canonical import MIN_YEARS, canonical_daily, load_canonical, record_years, to_daily


def _file(years: int = MIN_YEARS, freq: str = "6h", seed: int = 0) -> xr.Dataset:
    """A plausible canonical data set: t2m (K), ssrd (W m-2), tp (m per step) and an unknown index."""
    rng = np.random.default_rng(seed)
    t = pd.date_range("2001-01-01", f"{2000 + years}-12-31 23:59", freq=freq)
    season = -np.cos(2 * np.pi * t.day_of_year.to_numpy() / 365.25)
    return xr.Dataset(
        {
            "t2m": ("time", 260.0 + 12.0 * season + rng.normal(0, 2, len(t)), {"units": "K"}),
            "ssrd": ("time", np.clip(120.0 + 110.0 * season + rng.normal(0, 20, len(t)), 0, None), {"units": "W m-2"}),
            "tp": ("time", rng.gamma(0.3, 0.001, len(t)), {"units": "m"}),
            "index": ("time", rng.normal(0, 1, len(t)), {"units": "1", "long_name": "a circulation index"}),
        },
        coords={"time": t},
    )


def test_sub_daily_file_becomes_daily_totals_and_means():
    ds = _file()
    data = canonical_daily(ds, "x.nc")
    day = ds.sel(time="2003-07-04")
    daily = data.daily.sel(time="2003-07-04")
    assert float(daily["t2m"]) == pytest.approx(float(day["t2m"].mean()))
    assert float(daily["tp"]) == pytest.approx(float(day["tp"].sum()))  # m per 6 h summed to m per day
    assert float(daily["ssrd"]) == pytest.approx(float(day["ssrd"].mean()) * 86400.0)  # W m-2 -> J m-2 per day
    assert daily["ssrd"].attrs["units"] == "J m-2" and daily["t2m"].attrs["units"] == "K"
    assert data.variable_info["index"].kind.value == "state" and data.variable_info["index"].units == "1"
    assert data.years == (2001, 2000 + MIN_YEARS) and data.step == pd.Timedelta("6h")
    assert data.melt_variable is None


def test_a_day_with_a_missing_value_is_missing_not_a_partial_sum():
    days, values = to_daily(
        np.array([1.0, 1, 1, 1, 1, 1, np.nan, 1]), pd.date_range("2000-01-01", periods=8, freq="6h"), 4, True
    )
    assert values[0] == 4.0 and np.isnan(values[1])


def test_partial_years_are_dropped_and_melt_variable_attribute_is_used():
    ds = _file(years=MIN_YEARS + 1).sel(time=slice("2001-03-01", None))
    ds.attrs["melt_variable"] = "tp"
    data = canonical_daily(ds, "x.nc")
    assert data.years == (2002, 2001 + MIN_YEARS) and data.melt_variable == "tp"


def test_record_years_hold_out_the_last_year():
    assert record_years(2001, 2020, quick=False) == (2001, 2019, 2020)
    assert record_years(1950, 2020, quick=True) == (1990, 2019, 2020)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda ds: ds.rename(time="valid_time"), "no dimension 'time'"),
        (lambda ds: ds.assign(station=("time", np.array(["KAN"] * ds.sizes["time"]))), "'station' is not numeric"),
        (lambda ds: ds.drop_isel(time=[100, 101]), "time steps are not regular"),
        (lambda ds: ds.assign(t2m=ds["t2m"].assign_attrs(units=None).drop_attrs()), "'t2m' has no 'units'"),
        (
            lambda ds: ds.assign(grid=(("time", "x"), np.ones((ds.sizes["time"], 2)), {"units": "1"})),
            "has dimensions ('time', 'x')",
        ),
        (lambda ds: ds.sel(time=slice("2002-01-01", None)), "complete calendar year(s)"),
        (
            lambda ds: ds.assign(t2m=ds["t2m"] - 273.15).assign(t2m=lambda d: d["t2m"].assign_attrs(units="degC")),
            "expected 'K'",
        ),
        (lambda ds: ds.assign(tp=ds["tp"].assign_attrs(units="K")), "'tp' has units 'K'"),
        (lambda ds: ds.assign_attrs(melt_variable="smlt"), "melt_variable='smlt' names no data variable"),
        (lambda ds: ds.assign(index=ds["index"] * 0.0 + 3.0), "'index' is constant"),
    ],
)
def test_non_conforming_files_fail_with_a_clear_message(tmp_path, mutate, message):
    path = tmp_path / "bad.nc"
    mutate(_file()).to_netcdf(path)
    with pytest.raises(InputDataError) as err:
        load_canonical(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_a_step_that_does_not_divide_a_day_is_refused():
    ds = _file(freq="7h")
    with pytest.raises(InputDataError, match="expected daily or finer, dividing a day"):
        canonical_daily(ds, "x.nc")


def test_a_folder_or_a_missing_file_is_refused(tmp_path):
    with pytest.raises(InputDataError, match="is a folder"):
        load_canonical(tmp_path)
    with pytest.raises(InputDataError, match="file not found"):
        load_canonical(tmp_path / "none.nc")
