"""Real ERA5 files from the CDS, as other people downloaded them (../shared/data/real/era5, see its SOURCES.md).

Each one either loads with the values a hand computation from the raw file gives, or is refused
with a message that names the file and says what it is; ``make check`` (:func:`check_input`)
never lets a raw exception through. Skipped when ../shared is absent.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import SHARED

from clvlib.errors import InputDataError
from clvlib.io.era5 import Era5Config, load_era5
from clvlib.io.region import Region
from clvlib.io.sources import era5_variables
from clvlib.pipeline.inputcheck import check_input

FOLDER = SHARED / "data" / "real" / "era5"
FILES = (
    "era5epw_era5_2024_01.nc",
    "era5epw_era5_2024_timeseries.zip",
    "kotraharidutt_telangana_test_data.nc",
    "uptempo_nain_era5.nc",
    "meteowind_2020_2021.nc",
)


def _every_cell(path, allow_gaps: bool = False) -> Era5Config:
    """The whole grid of ``path`` as the region, the ERA5 variables it holds."""
    return Era5Config(
        region=Region.every_cell(), variables=era5_variables((path,)), progress=False, allow_gaps=allow_gaps
    )


pytestmark = pytest.mark.skipif(not FOLDER.is_dir(), reason="../shared/data/real/era5 is absent")


def _raw(path, member: str | None = None, tmp_path=None) -> xr.Dataset:
    """The raw file (a ZIP member extracted first), decoded by xarray, time named 'time'."""
    if member is not None:
        target = tmp_path / member
        target.write_bytes(zipfile.ZipFile(path).read(member))
        path = target
    ds = xr.load_dataset(path)
    return ds.rename({"valid_time": "time"}) if "valid_time" in ds.dims else ds


def _cell_mean(field: xr.DataArray) -> xr.DataArray:
    """cos(latitude)-weighted mean over the grid, by hand."""
    w = np.cos(np.deg2rad(field["latitude"])) * xr.ones_like(field["longitude"], dtype=float)
    return (field * w).sum(["latitude", "longitude"]) / w.sum()


def _accumulated_day(hourly: xr.DataArray, day: str) -> float:
    """ERA5 daily total: valid times D 01:00 .. D+1 00:00."""
    start = pd.Timestamp(day) + pd.Timedelta(hours=1)
    return float(hourly.sel(time=slice(start, start + pd.Timedelta(hours=23))).sum())


@pytest.mark.parametrize("name", FILES)
def test_make_check_never_lets_a_raw_exception_through(name, monkeypatch):
    monkeypatch.setenv("REGION", "file")
    with pytest.raises(InputDataError) as err:  # all five are shorter than the five complete years a run needs
        check_input(FOLDER / name)
    assert name in str(err.value)


def test_one_grid_cell_file_gives_the_daily_means_of_its_hours():
    daily = load_era5([FOLDER / "era5epw_era5_2024_01.nc"], _every_cell(FOLDER / "era5epw_era5_2024_01.nc"))
    raw = _raw(FOLDER / "era5epw_era5_2024_01.nc")
    for day in ("2024-01-02", "2024-01-15", "2024-01-30"):
        hours = raw["t2m"].sel(time=day)
        assert len(hours["time"]) == 24
        assert float(daily["t2m"].sel(time=day)) == pytest.approx(float(hours.mean()), rel=1e-6)
        assert float(daily["tcc"].sel(time=day)) == pytest.approx(float(raw["tcc"].sel(time=day).mean()), rel=1e-5)


def test_the_point_time_series_product_is_read_as_a_site_series(tmp_path):
    path = FOLDER / "era5epw_era5_2024_timeseries.zip"
    member = zipfile.ZipFile(path).namelist()[0]
    raw = _raw(path, member, tmp_path)
    assert set(raw.dims) == {"time"} and raw["latitude"].ndim == 0
    daily = load_era5([path], _every_cell(path))
    assert set(daily.data_vars) == {"u10", "v10", "d2m", "t2m", "sp"}
    for day in ("2024-02-29", "2024-06-15", "2024-12-30"):
        assert float(daily["t2m"].sel(time=day)) == pytest.approx(float(raw["t2m"].sel(time=day).mean()), rel=1e-6)
        assert float(daily["sp"].sel(time=day)) == pytest.approx(float(raw["sp"].sel(time=day).mean()), rel=1e-6)
    with pytest.raises(InputDataError, match=r"no grid point inside the region .*\(REGION=file"):
        load_era5(
            [path], Era5Config(variables=era5_variables((path,)), progress=False)
        )  # Paris is not in southwest Greenland


def test_a_zip_under_a_nc_name_gives_daily_totals_of_its_hourly_accumulations(tmp_path):
    path = FOLDER / "kotraharidutt_telangana_test_data.nc"
    accum = _raw(path, "data_stream-oper_stepType-accum.nc", tmp_path)
    instant = _raw(path, "data_stream-oper_stepType-instant.nc", tmp_path)
    daily = load_era5([path], _every_cell(path))
    tp = _cell_mean(accum["tp"])
    for day in ("2023-09-02", "2023-09-04"):
        assert float(daily["tp"].sel(time=day)) == pytest.approx(_accumulated_day(tp, day), rel=1e-5)
        d2m = float(_cell_mean(instant["d2m"]).sel(time=day).mean())
        assert float(daily["d2m"].sel(time=day)) == pytest.approx(d2m, rel=1e-6)
    assert np.isnan(daily["tp"].sel(time="2023-09-07")).all()  # its last hours need 8 Sept 00:00


def test_a_legacy_packed_file_with_gaps_gives_plausible_radiation():
    path = FOLDER / "uptempo_nain_era5.nc"
    with pytest.raises(InputDataError, match="'ssrd' has 5880 missing hour"):
        load_era5([path], _every_cell(path))
    daily = load_era5([path], _every_cell(path, allow_gaps=True))
    raw = _raw(path)
    for day in ("2018-03-10", "2018-05-20"):
        expected = _accumulated_day(_cell_mean(raw["ssrd"]), day)
        assert float(daily["ssrd"].sel(time=day)) == pytest.approx(expected, rel=1e-5)
    summer = daily["ssrd"].sel(time="2018-05") / 86400.0  # W m-2 at 56 N in May
    assert 100.0 < float(summer.mean()) < 350.0


def test_monthly_means_with_an_expver_dimension_are_refused_as_what_they_are():
    path = FOLDER / "meteowind_2020_2021.nc"
    with pytest.raises(InputDataError) as err:
        check_input(path)
    message = str(err.value)
    assert str(path) in message and "u100, v100" in message and "monthly means" in message
    assert "ERA5 hourly" in message
