"""Input defects that used to pass or give a misleading message: each now gets the right result or a clear error.

Truncated files, unit slips at the file's step, calendars and malformed times, infinite values,
scattered missing values and a folder holding a canonical file; all through
:func:`clvlib.io.sources.load_user_data`, which ``make run`` calls first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from test_canonical import _file

from clvlib.config import PreprocessConfig
from clvlib.errors import InputDataError
from clvlib.io.canonical import MIN_YEARS
from clvlib.io.sources import load_user_data
from clvlib.method.preprocess import preprocess


def _write(ds: xr.Dataset, path, **kwargs):
    ds.to_netcdf(path, **kwargs)
    return path


def _load_error(path) -> str:
    with pytest.raises(InputDataError) as err:
        load_user_data(path)
    assert str(path) in str(err.value)
    return str(err.value)


@pytest.mark.parametrize(
    ("fmt", "engine"),
    [("NETCDF3_64BIT", "scipy"), ("NETCDF3_CLASSIC", "netcdf4"), ("NETCDF4", "netcdf4"), ("NETCDF4", "h5netcdf")],
)
def test_a_truncated_canonical_file_is_refused_not_read_as_garbage(tmp_path, fmt, engine):
    path = _write(_file(), tmp_path / "cut.nc", format=fmt, engine=engine)
    load_user_data(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.7)])
    assert "truncated or damaged" in _load_error(path)


@pytest.mark.parametrize(("freq", "seconds"), [("1h", 3600), ("6h", 21600), ("1D", 86400)])
def test_a_mean_flux_labelled_as_accumulation_names_the_factor_of_the_files_step(tmp_path, freq, seconds):
    ds = _file(freq=freq)
    ds["ssrd"].attrs["units"] = "J m-2"  # W m-2 values: the daily totals come out `seconds` times too small
    message = _load_error(_write(ds, tmp_path / "slip.nc"))
    assert "variable 'ssrd'" in message
    assert f"{seconds} times too small: set units='W m-2', or multiply by {seconds} s, the file's step" in message
    assert "86400" not in message or seconds == 86400


def test_an_accumulation_labelled_as_mean_flux_and_millimetres_as_metres_are_named(tmp_path):
    ds = _file()
    ds["ssrd"] = ds["ssrd"] * 21600.0  # J m-2 per 6-hour step ...
    ds["ssrd"].attrs["units"] = "W m-2"  # ... labelled as a mean flux
    assert "21600 times too large: set units='J m-2', or divide by 21600 s" in _load_error(
        _write(ds, tmp_path / "a.nc")
    )
    ds = _file()
    ds["tp"] = ds["tp"] * 1000.0
    ds["tp"].attrs["units"] = "m"
    assert "millimetres (kg m-2) labelled 'm'? Set units='kg m-2'" in _load_error(_write(ds, tmp_path / "b.nc"))


def test_celsius_labelled_kelvin_is_named_at_any_step(tmp_path):
    ds = _file()
    ds["t2m"] = ds["t2m"] - 273.15
    ds["t2m"].attrs["units"] = "K"
    message = _load_error(_write(ds, tmp_path / "c.nc"))
    assert "variable 't2m'" in message and "degrees Celsius labelled K: add 273.15" in message


def test_noleap_and_all_leap_calendars_are_converted_360_day_is_refused(tmp_path):
    ds = _file(years=MIN_YEARS + 1)
    n = ds.sizes["time"]
    noleap = ds.assign_coords(
        time=xr.date_range("2001-01-01", periods=n, freq="6h", calendar="noleap", use_cftime=True)
    )
    data = load_user_data(_write(noleap, tmp_path / "noleap.nc"))[1]
    daily = data.daily.sel(time="2004-02-28")
    assert float(daily["t2m"]) == pytest.approx(float(ds["t2m"].sel(time="2004-02-28").mean()))
    assert np.isnan(data.daily["t2m"].sel(time="2004-02-29"))  # the day a noleap model does not have
    assert float(data.daily["t2m"].sel(time="2004-03-01")) == pytest.approx(
        float(ds["t2m"].sel(time="2004-02-29").mean())
    )
    all_leap = ds.assign_coords(
        time=xr.date_range("2001-01-01", periods=n, freq="6h", calendar="all_leap", use_cftime=True)
    )
    assert load_user_data(_write(all_leap, tmp_path / "all_leap.nc"))[1].daily.sizes["time"] > 0
    d360 = ds.assign_coords(time=xr.date_range("2001-01-01", periods=n, freq="6h", calendar="360_day", use_cftime=True))
    message = _load_error(_write(d360, tmp_path / "d360.nc"))
    assert "CF calendar '360_day'" in message and "convert_calendar" in message


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        (
            lambda t: np.array([f"day {i}" for i in range(len(t))]),
            "'time' holds values that are not dates ('day 0', 'day 1'",
        ),
        (lambda t: np.arange(len(t)), "'time' holds numbers (int64) without CF units"),
        (
            lambda t: np.where(np.arange(len(t)) == 40, np.datetime64("NaT"), t.values),
            "'time' has 1 missing value(s) (NaT), the first at position 40, after 2001-01-10 18:00",
        ),
        (lambda t: t.values[np.r_[0:40, 41, 40, 42 : len(t)]], "(2001-01-11 06:00 is followed by 2001-01-11 00:00)"),
    ],
)
def test_malformed_times_get_a_message_not_a_traceback(tmp_path, times, expected):
    ds = _file()
    ds = ds.assign_coords(time=times(pd.DatetimeIndex(ds["time"].values)))
    assert expected in _load_error(_write(ds, tmp_path / "t.nc"))


def test_infinite_values_are_named_with_their_time_and_a_missing_unit_hint_names_the_variable(tmp_path):
    ds = _file()
    ds["t2m"][100:103] = np.inf
    assert "variable 't2m' has 3 infinite value(s), first at 2001-01-26 00:00" in _load_error(
        _write(ds, tmp_path / "i.nc")
    )
    ds = _file()
    del ds["index"].attrs["units"]
    assert "Set ds['index'].attrs['units']" in _load_error(_write(ds, tmp_path / "u.nc"))


def test_scattered_missing_values_are_not_reported_as_one_long_gap(tmp_path):
    ds = _file()
    rng = np.random.default_rng(3)
    ds["t2m"][rng.random(ds.sizes["time"]) < 0.3] = np.nan  # 30 % of the 6-hourly values, scattered
    data = load_user_data(_write(ds, tmp_path / "s.nc"))[1]
    first, last = data.years
    config = PreprocessConfig(dataset="s", first_year=first, last_train_year=last - 1, test_year=last)
    with pytest.raises(
        InputDataError,
        match=r"has a gap of \d+ five-day steps from .*they are scattered, not one hole: "
        r"\d+% of the variable's days are missing",
    ):
        preprocess(data.daily, data.variables, config, source="s.nc", variable_info=data.variable_info)


def test_a_folder_holding_a_canonical_file_names_the_file_to_give(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    path = _write(_file(), folder / "series.nc")
    message = _load_error(folder)
    assert "series.nc is a canonical series" in message and f"DATA={path}" in message


def test_three_hourly_values_of_one_day_are_described_not_called_all_nan(tmp_path):
    """A CDS file with t2m and tp at 00:00-02:00 of one day (all finite): what the file holds, never "all NaN"."""
    from clvlib.testing.fixtures import hourly_fields, write_cds_netcdf

    path = write_cds_netcdf(hourly_fields("2021-01-01", 3, variables=("t2m", "tp")), tmp_path / "three_hours.nc")
    message = _load_error(path)
    assert "3 hourly value(s) on 2021-01-01, 00:00-02:00: not one complete day" in message
    assert "all NaN" not in message


def test_a_canonical_file_of_six_hourly_values_short_of_a_day_is_described(tmp_path):
    time = pd.date_range("2020-03-01 00:00", periods=3, freq="6h")
    ds = xr.Dataset(
        {
            "t2m": ("time", np.array([250.0, 251.0, 252.0]), {"units": "K"}),
            "d2m": ("time", np.array([248.0, 249.0, 247.0]), {"units": "K"}),
        },
        coords={"time": time},
    )
    message = _load_error(_write(ds, tmp_path / "short.nc"))
    assert "3 6-hourly value(s) on 2020-03-01, 00:00-12:00: not one complete day" in message
