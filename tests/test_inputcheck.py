"""make check: every kind of input is loaded and checked as make run and notebook 01 would, without training."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import xarray as xr
from conftest import ROOT
from test_canonical import _file
from test_sources import write_cds_years, write_gemb_years

import clvlib.testing.fixtures as fx
from clvlib.errors import InputDataError
from clvlib.io.region import Region
from clvlib.pipeline.inputcheck import check_input

POINT_VARIABLES = ("t2m", "ssrd", "strd", "tp", "tcc", "sp", "u10")


def write_point_product(path, first: int = 2015, years: int = 6):
    """The CDS point time-series ZIP at 67.0 N, 50.75 W for ``years`` complete years (plus 00:00 after them)."""
    hours = 24 * int(np.sum([366 if y % 4 == 0 else 365 for y in range(first, first + years)])) + 1
    fields = fx.hourly_fields(
        f"{first}-01-01", hours, region=Region(66.9, 67.1, -50.8, -50.7), n_lat=1, n_lon=1, variables=POINT_VARIABLES
    )
    series = fields.isel(latitude=0, longitude=0, drop=True)
    return fx.write_point_timeseries_zip(series, path, 67.0, -50.75), series


def _check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "check", *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_the_point_product_is_checked_as_a_site_series(tmp_path, monkeypatch):
    path, series = write_point_product(tmp_path / "kangerlussuaq.zip")
    monkeypatch.setenv("REGION", "file")
    check = check_input(path)
    assert check.source.layout == "era5" and check.data.years == (2015, 2020)
    assert (check.config.first_year, check.config.last_train_year, check.config.test_year) == (2015, 2019, 2020)
    row = check.summary.set_index("variable")
    assert sorted(row.index) == sorted(POINT_VARIABLES) and (row["missing_days"] == 0).all()
    days = series["t2m"].sel(time=slice("2015-01-01", "2020-12-31")).resample(time="1D").mean()
    assert row.loc["t2m", "mean"] == pytest.approx(float(days.mean()), rel=1e-5)
    assert row.loc["ssrd", "units"] == "W m-2" and 20.0 < row.loc["ssrd", "mean"] < 300.0


@pytest.mark.slow
def test_every_kind_of_input_is_checked_without_training(tmp_path):
    canonical = tmp_path / "series.nc"
    _file().to_netcdf(canonical)
    folder = tmp_path / "era5"
    write_cds_years(folder, 2010, 5, variables=("t2m", "ssrd", "tp", "sp"))
    gemb = write_gemb_years(tmp_path / "gemb.mat", 1990, 6)
    for path, layout, variables in ((canonical, "canonical", 4), (folder, "era5", 4), (gemb, "gemb", 12)):
        check = check_input(path)
        assert check.source.layout == layout and len(check.summary) == variables
        assert check.summary["days"].min() > 365 * 4


def test_an_input_that_meets_the_contract_but_fails_notebook_01_fails_the_check(tmp_path):
    ds = _file(years=6)
    ds["t2m"].loc[{"time": slice("2003-06-01", "2003-06-30")}] = np.nan  # a month: more than notebook 01 fills
    path = tmp_path / "gap.nc"
    ds.to_netcdf(path)
    with pytest.raises(InputDataError, match=r"variable 't2m' has a gap of 6 five-day steps from 2003-05-"):
        check_input(path)


@pytest.mark.slow
def test_make_check_prints_the_table_or_the_reason_and_sets_the_exit_status(tmp_path):
    path, _ = write_point_product(tmp_path / "site.zip")
    good = _check(f"DATA={path}", "REGION=file")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "| t2m " in good.stdout and "make run contract: met" in good.stdout and "2020 held out" in good.stdout
    outside = _check(f"DATA={path}")  # the default box is southwest Greenland: 67 N, 50.75 W is inside it
    assert outside.returncode == 0, outside.stdout
    bad = tmp_path / "short.nc"
    xr.Dataset({"t2m": ("time", [250.0, 251.0])}, coords={"time": [0, 1]}).to_netcdf(bad)
    refused = _check(f"DATA={bad}")
    assert refused.returncode != 0 and "make run contract: not met" in refused.stdout
    assert str(bad) in refused.stdout
    usage = _check()
    assert usage.returncode != 0 and "usage: make check DATA=" in usage.stderr


@pytest.mark.slow
@pytest.mark.notebooks
def test_make_run_on_the_point_product(tmp_path):
    path, _ = write_point_product(tmp_path / "site.zip", first=2012, years=9)
    out = tmp_path / "out"
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(ROOT),
            "run",
            f"DATA={path}",
            f"OUT={out}",
            "PROFILE=quick",
            "REGION=file",
            "NAME=site",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    scores = (out / "scores.csv").read_text().splitlines()
    assert scores[0].startswith("time,score,threshold,anomaly,score: CLV (original)") and len(scores) == 1 + 9 * 73
    assert (out / "report.html").exists() and (out / ".clvlib-run.json").exists()


def test_six_hourly_states_are_averaged_to_days_and_six_hourly_accumulations_refused(tmp_path):
    from clvlib.io.era5 import Era5Config, load_era5

    fields = fx.hourly_fields("2001-01-01", 24 * 365 + 1, n_lat=2, n_lon=2, variables=("t2m", "sp", "tp"))
    six = fields.isel(time=slice(None, None, 6))
    states = fx.write_cds_netcdf(six[["t2m", "sp"]], tmp_path / "states.nc")
    daily = load_era5([states], Era5Config(variables=("t2m", "sp"), progress=False))
    samples = six["t2m"].sel(time="2001-07-04")
    assert len(samples["time"]) == 4
    weights = np.cos(np.deg2rad(six["latitude"]))
    expected = float((samples * weights).sum("latitude").sum("longitude").mean() / (weights.sum() * 2))
    assert float(daily["t2m"].sel(time="2001-07-04")) == pytest.approx(expected, rel=1e-5)
    assert daily.sizes["time"] == 365 and not np.isnan(daily["sp"].values).any()
    accum = fx.write_cds_netcdf(six[["tp"]], tmp_path / "accum.nc")
    with pytest.raises(
        InputDataError, match=r"'tp' is an accumulation given as 6-hourly samples .* miss 5 of every 6 hours"
    ):
        load_era5([accum], Era5Config(variables=("tp",), progress=False))
