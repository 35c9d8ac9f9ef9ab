"""Real-data loaders: ERA5 layouts, GEMB v7.3, MEaSUREs, downloads' requests, bad input."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import SHARED

from clvlib.errors import CredentialsError, InputDataError
from clvlib.io.checks import check_daily
from clvlib.io.download import (
    check_cds_credentials,
    check_earthdata_credentials,
    era5_requests,
    is_complete,
    parse_years,
    read_manifest,
    variable_groups,
)
from clvlib.io.era5 import Era5Config, hourly_to_daily, load_era5
from clvlib.io.gemb import load_gemb
from clvlib.io.measures import load_melt_area_csv, load_nsidc0533
from clvlib.io.region import Region
from clvlib.io.scheduler import dask_scheduler
from clvlib.method.aggregate import to_five_day
from clvlib.method.evaluation import measures_anomalies
from clvlib.testing import fixtures as fx
from clvlib.variables import ERA5_VARIABLES

REAL = SHARED / "data" / "real"
ERA5 = tuple(v.name for v in ERA5_VARIABLES)
QUIET = Era5Config(progress=False)


@pytest.fixture(scope="module")
def fields() -> xr.Dataset:
    """Hourly fields for 2001-01-01 00:00 .. 2002-12-31 23:00 plus the first hour of 2003."""
    return fx.hourly_fields("2001-01-01", 24 * 730 + 1, seed=1)


def _years(ds: xr.Dataset, first: str, last: str) -> xr.Dataset:
    return ds.sel(time=slice(first, last))


@pytest.fixture(scope="module")
def layouts(fields, tmp_path_factory):
    """The same numbers as new CDS netCDF, legacy packed netCDF and instant/accum ZIPs, by year."""
    d = tmp_path_factory.mktemp("era5")
    y1, y2 = _years(fields, "2001", "2001"), _years(fields, "2002", "2003")
    return {
        "new": [
            fx.write_cds_netcdf(y1, d / "new_2001.nc"),
            fx.write_cds_netcdf(y2, d / "new_2002.nc", era5t_hours=200),
        ],
        "legacy": [
            fx.write_legacy_netcdf(y1, d / "legacy_2001.nc"),
            fx.write_legacy_netcdf(y2, d / "legacy_2002.nc", era5t_hours=200),
        ],
        "zip": [fx.write_cds_zip(y1, d / "download_2001.nc"), fx.write_cds_zip(y2, d / "download_2002.zip")],
    }


@pytest.fixture(scope="module")
def daily_new(layouts):
    return load_era5(layouts["new"], QUIET)


# ------------------------------------------------------------------ ERA5


def test_new_layout_gives_a_checked_daily_dataset(daily_new):
    check_daily(daily_new, ERA5, "new layout")
    t = pd.DatetimeIndex(daily_new["time"].values)
    assert t[0] == pd.Timestamp("2001-01-01") and t[-1] == pd.Timestamp("2002-12-31")
    assert (t == t.normalize()).all() and len(t) == 730
    assert daily_new["ssrd"].attrs["units"] == "J m-2" and daily_new["tp"].attrs["units"] == "m"


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["legacy", "zip"])
def test_layouts_give_the_same_five_day_features(layouts, daily_new, layout):
    other = load_era5(layouts[layout][::-1], QUIET)  # order of the files does not matter
    a, b = to_five_day(daily_new, ERA5), to_five_day(other, ERA5)
    for name in ERA5:
        scale = float(np.nanmax(np.abs(a[name].values))) or 1.0
        # legacy values are packed as shorts: agreement to the packing precision (1/65532 of the range)
        tol = 2e-5 * scale if layout == "legacy" else 1e-9 * scale
        np.testing.assert_allclose(b[name].values, a[name].values, atol=tol, err_msg=f"{layout} {name}")


def test_longitudes_0_360_and_north_to_south_give_the_same_result(fields, tmp_path, daily_new):
    path = fx.write_cds_netcdf(_years(fields, "2001", "2001"), tmp_path / "lon360.nc", lon360=True)
    daily = load_era5([path], QUIET)
    np.testing.assert_allclose(daily["t2m"].values, daily_new["t2m"].sel(time=daily["time"]).values, rtol=1e-12)


def test_final_data_win_over_era5t_for_the_same_hours(fields, tmp_path):
    year = _years(fields, "2001-01-01", "2001-01-31")
    final = fx.write_cds_netcdf(year, tmp_path / "final.nc")
    prelim = fx.write_cds_netcdf(
        year.assign(t2m=year["t2m"] + 5.0), tmp_path / "era5t.nc", era5t_hours=year.sizes["time"]
    )
    daily = load_era5([prelim, final], Era5Config(progress=False, variables=("t2m",)))
    reference = load_era5([final], Era5Config(progress=False, variables=("t2m",)))
    np.testing.assert_allclose(daily["t2m"].values, reference["t2m"].values, rtol=1e-12)


def test_accumulated_to_daily_and_five_day_by_hand():
    # 1 Jan 01:00 .. 6 Jan 00:00 valid times, i.e. days 1..5 complete
    t = pd.date_range("2001-01-01 01:00", "2001-01-06 00:00", freq="h")
    hour_of_day = ((t - pd.Timedelta(hours=1)).hour).to_numpy()
    ssrd = 3600.0 * (100.0 + hour_of_day)  # J m-2 per hour: 100..123 W m-2 over the day
    tp = np.full(len(t), 1.0e-4)  # m per hour
    ds = xr.Dataset({"ssrd": ("time", ssrd), "tp": ("time", tp)}, coords={"time": t})
    daily = hourly_to_daily(ds)
    expected_j = 3600.0 * sum(100.0 + h for h in range(24))  # = 3600 * 2676
    np.testing.assert_allclose(daily["ssrd"].values, expected_j)
    np.testing.assert_allclose(daily["tp"].values, 24e-4)
    full = daily.reindex(time=pd.date_range("2001-01-01", "2001-12-31"))
    five = to_five_day(full, ("ssrd", "tp"))
    assert five["ssrd"].values[0] == pytest.approx(expected_j / 86400.0)  # 111.5 W m-2
    assert five["ssrd"].values[0] == pytest.approx(111.5)
    assert five["tp"].values[0] == pytest.approx(2.4)  # kg m-2 d-1 (mm per day)


def test_accumulation_window_is_01_to_00_and_missing_hours_give_nan():
    t = pd.date_range("2001-01-01 00:00", "2001-01-04 00:00", freq="h")
    tp = np.zeros(len(t))
    tp[t == pd.Timestamp("2001-01-02 00:00")] = 1.0  # the last hour of 1 Jan
    t2m = np.full(len(t), 250.0)
    t2m[t == pd.Timestamp("2001-01-02 00:00")] = 274.0  # an instant value at midnight belongs to 2 Jan
    ds = xr.Dataset({"tp": ("time", tp), "t2m": ("time", t2m)}, coords={"time": t})
    daily = hourly_to_daily(ds)
    assert daily["tp"].sel(time="2001-01-01").item() == 1.0
    assert daily["tp"].sel(time="2001-01-02").item() == 0.0
    assert daily["t2m"].sel(time="2001-01-02").item() == pytest.approx(251.0)
    holed = ds.where(ds["time"] != np.datetime64("2001-01-02T12:00"))
    daily = hourly_to_daily(holed)
    assert np.isnan(daily["tp"].sel(time="2001-01-02").item()) and np.isnan(daily["t2m"].sel(time="2001-01-02").item())
    assert daily["tp"].sel(time="2001-01-01").item() == 1.0


@pytest.mark.slow
def test_dask_and_in_memory_reductions_agree(layouts, daily_new):
    in_memory = load_era5(layouts["new"], Era5Config(progress=False, chunk_hours=None))
    xr.testing.assert_allclose(in_memory, daily_new, rtol=1e-12)
    small_chunks = load_era5(layouts["new"], Era5Config(progress=False, chunk_hours=50, block_years=2))
    xr.testing.assert_allclose(small_chunks, daily_new, rtol=1e-12)


def test_local_scheduler_does_not_import_distributed(monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with dask_scheduler() as client:
        assert client is None
    # in a fresh interpreter: another test of this process may have imported distributed (make seeds' cluster)
    code = (
        "import sys\nfrom clvlib.io.scheduler import dask_scheduler\n"
        "with dask_scheduler() as client:\n    assert client is None\nprint('distributed' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stdout + done.stderr


def test_scheduler_address_without_distributed_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:1")
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(RuntimeError, match="pip install distributed=="), dask_scheduler():
        pass


def test_mask_removes_cells(fields, tmp_path, daily_new):
    path = fx.write_cds_netcdf(_years(fields, "2001", "2001"), tmp_path / "a.nc")
    lat, lon = fields["latitude"].values, fields["longitude"].values
    lsm = np.zeros((lat.size, lon.size))
    lsm[0, 0] = 1.0  # one cell only
    mask = xr.Dataset(
        {"lsm": (("valid_time", "latitude", "longitude"), lsm[None], {"units": "(0 - 1)"})},
        coords={"valid_time": [np.datetime64("2001-01-01")], "latitude": lat, "longitude": lon + 360.0},
    )
    mask.to_netcdf(tmp_path / "mask.nc")
    daily = load_era5([path], Era5Config(progress=False, variables=("t2m",), mask_file=tmp_path / "mask.nc"))
    one_cell = hourly_to_daily(fields[["t2m"]].isel(latitude=0, longitude=0).sel(time=slice("2001", "2001")))
    np.testing.assert_allclose(daily["t2m"].values, one_cell["t2m"].values, rtol=1e-6)


# ------------------------------------------------------------------ bad ERA5 input


def test_zip_with_an_unexpected_member(fields, tmp_path):
    path = fx.write_cds_zip(
        _years(fields, "2001-01", "2001-01"), tmp_path / "x.nc", extra_member=("README.txt", b"hello")
    )
    with pytest.raises(InputDataError, match=r"x\.nc: unexpected ZIP member 'README\.txt'.*data_format='netcdf'"):
        load_era5([path], QUIET)


def test_file_missing_a_needed_variable(fields, tmp_path):
    a = fx.write_cds_netcdf(_years(fields, "2001-01", "2001-01"), tmp_path / "jan.nc")
    b = fx.write_cds_netcdf(_years(fields, "2001-02", "2001-02").drop_vars("tp"), tmp_path / "feb.nc")
    with pytest.raises(
        InputDataError, match=r"feb\.nc: lacks required variable 'tp'.*Download that period's file again"
    ):
        load_era5([a, b], QUIET)
    with pytest.raises(InputDataError, match=r"required variable 'tp'.*none of the"):
        load_era5([b], QUIET)


def test_grids_that_do_not_match(fields, tmp_path):
    a = fx.write_cds_netcdf(_years(fields, "2001-01", "2001-01"), tmp_path / "jan.nc")
    other = fx.hourly_fields("2001-02-01", 24 * 28, n_lat=4, seed=1)
    b = fx.write_cds_netcdf(other, tmp_path / "feb.nc")
    with pytest.raises(InputDataError, match=r"feb\.nc: its grid .* does not match .*jan\.nc.*same 'area' and 'grid'"):
        load_era5([a, b], QUIET)


def test_overlapping_and_missing_hours(fields, tmp_path):
    a = fx.write_cds_netcdf(_years(fields, "2001-01-01", "2001-01-20"), tmp_path / "a.nc")
    b = fx.write_cds_netcdf(_years(fields, "2001-01-15", "2001-01-31"), tmp_path / "b.nc")
    with pytest.raises(InputDataError, match=r"a\.nc and .*b\.nc: both hold .* overlap\. Remove one"):
        load_era5([a, b], QUIET)
    c = fx.write_cds_netcdf(_years(fields, "2001-01-25", "2001-02-28"), tmp_path / "c.nc")
    with pytest.raises(InputDataError, match=r"missing hour\(s\) between .*a\.nc and .*c\.nc.*allow_gaps=True"):
        load_era5([a, c], QUIET)
    daily = load_era5([a, c], Era5Config(progress=False, allow_gaps=True))
    # a ends 20 Jan 23:00, c starts 25 Jan 00:00: states miss 21-24 Jan, accumulations (D 01:00 .. D+1 00:00) 20-24 Jan
    assert daily["t2m"].sel(time=slice("2001-01-21", "2001-01-24")).isnull().all()
    assert daily["ssrd"].sel(time=slice("2001-01-20", "2001-01-24")).isnull().all()
    assert (
        daily["t2m"].sel(time="2001-01-20").notnull().item() and daily["ssrd"].sel(time="2001-01-25").notnull().item()
    )
    assert daily["t2m"].sel(time="2001-01-19").notnull().item() and daily["t2m"].sel(time="2001-01-26").notnull().item()


def test_box_with_no_grid_points(layouts):
    with pytest.raises(
        InputDataError, match=r"no grid point inside the region.*choose a region inside the file.s grid"
    ):
        load_era5(layouts["new"][:1], Era5Config(progress=False, region=Region(10.0, 20.0, 0.0, 10.0)))


@pytest.mark.parametrize("layout", ["new", "legacy", "zip"])
def test_corrupt_or_truncated_file(layouts, tmp_path, layout):
    data = layouts[layout][0].read_bytes()
    bad = tmp_path / f"truncated_{layout}.nc"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputDataError, match=r"truncated.*(download|Download) (it|the file) again"):
        load_era5([bad], QUIET)
    junk = tmp_path / "junk.nc"
    junk.write_bytes(b"<html>Service unavailable</html>")
    with pytest.raises(InputDataError, match=r"junk\.nc: not netCDF"):
        load_era5([junk], QUIET)


# ------------------------------------------------------------------ GEMB


def test_gemb_v73_fixture_round_trip(tmp_path):
    n = 10
    rng = np.random.default_rng(0)
    series = {
        "M": rng.uniform(0, 5, n),
        "R": rng.uniform(0, 2, n),
        "F": rng.uniform(0, 1, n),
        "EC": rng.normal(0, 0.1, n),
        "a1": rng.uniform(0.5, 0.85, n),
        "netSW": rng.uniform(0, 100, n),
        "netLW": rng.uniform(-60, 0, n),
        "shf": rng.normal(0, 10, n),
        "lhf": rng.normal(0, 5, n),
        "FAC": np.linspace(10, 11, n),
        "Ta": rng.normal(-5, 3, n),
        "P": rng.uniform(0, 10, n),
    }
    path = fx.write_gemb_mat(tmp_path / "gemb.mat", series, time=0.875 + np.arange(n), forcing_start=1990.0)
    ds = load_gemb(path)
    assert pd.DatetimeIndex(ds["time"].values)[0] == pd.Timestamp("1990-01-01") and ds.sizes["time"] == n
    np.testing.assert_allclose(ds["melt"].values, series["M"])
    np.testing.assert_allclose(ds["albedo"].values, series["a1"])
    np.testing.assert_allclose(ds["t2m"].values, series["Ta"] + 273.15)
    np.testing.assert_allclose(ds["tp"].values, series["P"] / 1000.0)
    assert ds["melt"].attrs["units"] == "kg m-2 d-1" and "d" not in ds  # profiles left out
    check_daily(ds, tuple(ds.data_vars), "fixture")
    netcdf = tmp_path / "gemb.nc"
    xr.Dataset(
        {k: ("time", v) for k, v in series.items()}, coords={"time": pd.date_range("1990-01-01 21:00", periods=n)}
    ).to_netcdf(netcdf)
    xr.testing.assert_allclose(load_gemb(netcdf).drop_attrs(), ds.drop_attrs())


def test_real_gemb_file_loads():
    path = REAL / "GEMBtest_output.mat"
    if not path.exists():
        pytest.skip("../shared/data/real is absent")
    ds = load_gemb(path)
    t = pd.DatetimeIndex(ds["time"].values)
    assert t[0] == pd.Timestamp("1965-01-01") and t[-1] == pd.Timestamp("1965-12-31") and len(t) == 365
    # annual totals of SOURCES.md: melt 499, runoff 236, refreeze 395, EC -16.4, precipitation 2624 kg m-2
    assert float(ds["melt"].sum()) == pytest.approx(499.1, abs=0.1)
    assert float(ds["runoff"].sum()) == pytest.approx(235.7, abs=0.1)
    assert float(ds["refreeze"].sum()) == pytest.approx(394.8, abs=0.1)
    assert float(ds["EC"].sum()) == pytest.approx(-16.4, abs=0.05)
    assert float(ds["tp"].sum()) * 1000.0 == pytest.approx(2623.7, abs=0.1)
    check_daily(ds, tuple(ds.data_vars), str(path))


def test_gemb_bad_input(tmp_path):
    path = fx.write_gemb_mat(tmp_path / "g.mat", {"M": np.ones(5)}, time=np.arange(5) + 0.875)
    with pytest.raises(InputDataError, match=r"Pass start='YYYY-MM-DD'"):
        load_gemb(path)
    assert load_gemb(path, start="2000-06-01")["melt"].sizes["time"] == 5
    data = path.read_bytes()
    (tmp_path / "cut.mat").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputDataError, match=r"cut\.mat: cannot be read .*truncated"):
        load_gemb(tmp_path / "cut.mat")


# ------------------------------------------------------------------ MEaSUREs


def test_nsidc0533_codes_to_melt_extent(tmp_path):
    dates = pd.date_range("2000-06-01", periods=6)
    fraction = np.array([0.0, 0.2, 0.5, 0.9, 0.5, 0.1])
    a = fx.write_nsidc0533(tmp_path / "a.nc", dates[:3], fraction[:3], seed=1)
    b = fx.write_nsidc0533(tmp_path / "b.nc", dates[3:], fraction[3:], missing_days=(1,), seed=2)
    df = load_nsidc0533([b, a])
    assert list(df.columns) == ["date", "melt area", "interpolated"]
    assert df["interpolated"].tolist() == [0, 0, 0, 0, 1, 0]
    domain_km2 = df["melt area"].iloc[3] / 0.9
    np.testing.assert_allclose(df["melt area"].iloc[[0, 1, 2, 3, 5]] / domain_km2, fraction[[0, 1, 2, 3, 5]], atol=0.05)
    assert df["melt area"].iloc[4] == pytest.approx((df["melt area"].iloc[3] + df["melt area"].iloc[5]) / 2)
    assert 7e5 < domain_km2 < 8.5e5  # a 10 x 15 degree box at 65 N: 1111 km x about 700 km
    with pytest.raises(InputDataError, match="no ice pixel"):
        load_nsidc0533([a], region=Region(30.0, 40.0, 0.0, 10.0))


def test_melt_area_csv_and_its_2012_record(tmp_path):
    path = REAL / "greenland_surface_melt.csv"
    if not path.exists():
        pytest.skip("../shared/data/real is absent")
    df = load_melt_area_csv(path)
    assert list(df.columns) == ["date", "melt area", "interpolated"] and len(df) == 8616
    assert df.loc[df["melt area"].idxmax(), "date"] == pd.Timestamp("2012-07-11")
    events = measures_anomalies(df)
    record = events.loc[events["peak_excess"].idxmax()]
    assert record["peak_date"].year == 2012 and record["start"] <= pd.Timestamp("2012-07-11") <= record["end"]
    (tmp_path / "bad.csv").write_text("day,area\n2000-01-01,3\n")
    with pytest.raises(InputDataError, match=r"missing column"):
        load_melt_area_csv(tmp_path / "bad.csv")


# ------------------------------------------------------------------ downloads


def test_era5_requests_are_the_documented_ones():
    requests = era5_requests([1951, 1952])
    assert [r.target for r in requests] == [
        "era5_instant_1951.nc",
        "era5_accum_1951.nc",
        "era5_instant_1952.nc",
        "era5_accum_1952.nc",
        "era5_invariant.nc",
    ]
    first = requests[0].request
    assert requests[0].dataset == "reanalysis-era5-single-levels"
    assert first["year"] == ["1951"] and len(first["month"]) == 12 and len(first["day"]) == 31
    assert first["time"] == [f"{h:02d}:00" for h in range(24)]
    assert first["data_format"] == "netcdf" and first["download_format"] == "unarchived"
    assert first["area"] == [70.0, -55.0, 60.0, -40.0] and first["product_type"] == ["reanalysis"]
    assert first["variable"] == [
        "2m_temperature",
        "2m_dewpoint_temperature",
        "skin_temperature",
        "total_cloud_cover",
        "surface_pressure",
        "10m_u_component_of_wind",
        "10m_v_component_of_wind",
        "forecast_albedo",
    ]
    assert set(variable_groups()["instant"]) | set(variable_groups()["accum"]) == set(ERA5)
    assert requests[-1].request["variable"] == ["land_sea_mask"]
    assert parse_years("1951-2021") == list(range(1951, 2022))


def test_missing_credentials_say_how_to_set_them_up(tmp_path):
    with pytest.raises(
        CredentialsError, match=r"(?s)\.cdsapirc.*url: https://cds\.climate\.copernicus\.eu/api.*CDSAPI_KEY"
    ):
        check_cds_credentials({}, tmp_path)
    check_cds_credentials({"CDSAPI_URL": "u", "CDSAPI_KEY": "k"}, tmp_path)
    with pytest.raises(CredentialsError, match=r"(?s)urs\.earthdata\.nasa\.gov.*EARTHDATA_USERNAME"):
        check_earthdata_credentials({}, tmp_path)
    (tmp_path / ".netrc").write_text("machine urs.earthdata.nasa.gov login a password b\n")
    check_earthdata_credentials({}, tmp_path)


@pytest.fixture
def cds_calls(monkeypatch) -> list[tuple[str, dict]]:
    """A fake ``cdsapi`` client and credentials; each retrieve appends (dataset, request) and writes the request."""
    calls = []

    class FakeClient:
        def __init__(self, **kwargs):
            pass

        def retrieve(self, dataset, request, target):
            calls.append((dataset, request))
            with open(target, "wb") as f:
                f.write(repr(request).encode())

    monkeypatch.setitem(sys.modules, "cdsapi", type(sys)("cdsapi"))
    sys.modules["cdsapi"].Client = FakeClient
    monkeypatch.setenv("CDSAPI_URL", "https://example")
    monkeypatch.setenv("CDSAPI_KEY", "k")
    return calls


def test_downloads_resume_from_the_manifest(tmp_path, cds_calls):
    from clvlib.io.download import download_era5

    download_era5([2000, 2001], tmp_path, progress=False)
    assert len(cds_calls) == 5
    manifest = read_manifest(tmp_path / "era5")
    assert all(is_complete(tmp_path / "era5", name, manifest) for name in manifest["files"])
    (tmp_path / "era5" / "era5_accum_2001.nc").write_bytes(b"truncated")
    cds_calls.clear()
    download_era5([2000, 2001], tmp_path, progress=False)
    assert [r["year"][0] for _, r in cds_calls] == ["2001"]
    assert zipfile.is_zipfile(tmp_path / "era5" / "era5_accum_2001.nc") is False


def test_make_data_site_requests_the_point_product_and_resumes(tmp_path, cds_calls):
    from clvlib.io.download import POINT_DATASET, download_era5, parse_site, point_request

    site = parse_site("67.0,-50.7")
    paths = download_era5(range(1951, 2022), tmp_path, progress=False, site=site)
    assert [(d, r["date"][0]) for d, r in cds_calls] == [(POINT_DATASET, "1951-01-01/2022-01-01")]
    assert [p.name for p in paths] == ["era5_point_67.0_-50.7_1951-2021.zip"]
    request = point_request(range(1951, 2022), *site).request
    assert request["location"] == {"longitude": -50.7, "latitude": 67.0} and request["data_format"] == "netcdf"
    assert "surface_solar_radiation_downwards" in request["variable"] and "2m_temperature" in request["variable"]
    download_era5(range(1951, 2022), tmp_path, progress=False, site=site)
    assert len(cds_calls) == 1  # resumed: the file matches its recorded checksum
    with pytest.raises(ValueError, match="expected 'lat,lon'"):
        parse_site("Kangerlussuaq")
