"""Which input a run reads (real files under data/raw, GEMB_OUTPUT, make run's DATA, the synthetic default)."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import ROOT

from clvlib.errors import InputDataError
from clvlib.io.sources import (
    detect_layout,
    find_measures,
    find_source,
    load_measures_source,
    load_raw,
    load_user_data,
    region_from_env,
)
from clvlib.testing import fixtures as fx

SMALL = {"n_lat": 3, "n_lon": 3}


def write_cds_years(folder, first: int, years: int, variables=None, seed: int = 0) -> list:
    """Hourly CDS-format files, one per year, ``years`` complete years from ``first`` (the last file also
    holds 00:00 of the next year, which closes the last day's accumulations)."""
    folder.mkdir(parents=True, exist_ok=True)
    hours = int((pd.Timestamp(f"{first + years}-01-01") - pd.Timestamp(f"{first}-01-01")) / pd.Timedelta("1h")) + 1
    kwargs = {"variables": variables} if variables else {}
    fields = fx.hourly_fields(f"{first}-01-01", hours, seed=seed, **SMALL, **kwargs)
    paths = []
    for year in range(first, first + years):
        end = f"{year + 1}-01-01 00:00" if year == first + years - 1 else f"{year}-12-31 23:00"
        paths.append(fx.write_cds_netcdf(fields.sel(time=slice(f"{year}-01-01", end)), folder / f"era5_all_{year}.nc"))
    return paths


def write_gemb_years(path, first: int, years: int):
    """A GEMB v7.3 MAT-file of daily output for ``years`` complete years from ``first``."""
    n = (pd.Timestamp(f"{first + years}-01-01") - pd.Timestamp(f"{first}-01-01")).days
    rng = np.random.default_rng(0)
    season = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / 365.25)
    melt = np.clip(rng.normal(8 * season - 3, 1.5), 0, None)
    series = {
        "M": melt,
        "R": 0.5 * melt,
        "F": 0.4 * melt,
        "EC": rng.normal(0, 0.1, n),
        "a1": 0.85 - 0.2 * season + rng.normal(0, 0.01, n),
        "netSW": 20 + 80 * season + rng.normal(0, 5, n),
        "netLW": -40 + rng.normal(0, 5, n),
        "shf": rng.normal(5, 5, n),
        "lhf": rng.normal(-3, 2, n),
        "FAC": 10 + 0.01 * np.arange(n) / n,
        "Ta": -20 + 20 * season + rng.normal(0, 2, n),
        "P": rng.gamma(0.5, 3, n),
    }
    return fx.write_gemb_mat(path, series, time=0.875 + np.arange(n), forcing_start=float(first))


# ------------------------------------------------------------------ find_source


def test_no_real_files_means_the_synthetic_default(tmp_path):
    for dataset in ("era5", "gemb"):
        source = find_source(tmp_path, dataset, seed=2, environ={})
        assert source.kind == "synthetic" and source.paths == (
            tmp_path / "data/raw/synthetic/seed-2" / f"{dataset}.nc",
        )
    assert find_measures(tmp_path, "synthetic", 2).paths == (tmp_path / "data/raw/synthetic/seed-2/measures.csv",)
    assert find_measures(tmp_path, "real") is None and find_measures(tmp_path, "user") is None


def test_era5_files_under_data_raw_are_real_with_the_invariant_file_as_mask(tmp_path):
    folder = tmp_path / "data" / "raw" / "era5"
    folder.mkdir(parents=True)
    for name in (
        "era5_instant_1951.nc",
        "era5_accum_1951.nc",
        "era5_instant_1952.zip",
        "era5_invariant.nc",
        "manifest.json",
    ):
        (folder / name).write_bytes(b"x")
    source = find_source(tmp_path, "era5", environ={})
    assert source.kind == "real" and source.layout == "era5"
    assert [p.name for p in source.paths] == ["era5_accum_1951.nc", "era5_instant_1951.nc", "era5_instant_1952.zip"]
    assert source.mask == folder / "era5_invariant.nc" and source.inputs[-1] == source.mask
    assert "1951-1952" in source.description
    assert find_source(tmp_path, "gemb", environ={}).kind == "synthetic"  # each data set on its own


def test_gemb_output_from_data_raw_or_gemb_output(tmp_path):
    folder = tmp_path / "data" / "raw" / "gemb"
    folder.mkdir(parents=True)
    (folder / "run.mat").write_bytes(b"x")
    assert find_source(tmp_path, "gemb", environ={}).paths == (folder / "run.mat",)
    (folder / "other.nc").write_bytes(b"x")
    with pytest.raises(InputDataError, match=r"2 candidate GEMB output files.*GEMB_OUTPUT=<file>"):
        find_source(tmp_path, "gemb", environ={})
    elsewhere = tmp_path / "elsewhere.mat"
    elsewhere.write_bytes(b"x")
    source = find_source(tmp_path, "gemb", environ={"GEMB_OUTPUT": str(elsewhere)})
    assert source.kind == "real" and source.paths == (elsewhere,) and "GEMB_OUTPUT" in source.description
    with pytest.raises(InputDataError, match=r"GEMB_OUTPUT=.*missing\.mat: no such file"):
        find_source(tmp_path, "gemb", environ={"GEMB_OUTPUT": str(tmp_path / "missing.mat")})


def test_measures_folder_nsidc_or_csv_but_not_both(tmp_path):
    folder = tmp_path / "data" / "raw" / "measures"
    folder.mkdir(parents=True)
    dates = pd.date_range("2000-06-01", periods=4)
    fx.write_nsidc0533(folder / "a.nc", dates, np.array([0.1, 0.3, 0.5, 0.2]))
    source = find_measures(tmp_path, "real")
    assert source.layout == "nsidc0533"
    df = load_measures_source(source, environ={})
    assert list(df.columns) == ["date", "melt area", "interpolated"] and len(df) == 4
    pd.DataFrame({"date": ["2000-06-01"], "melt area": [3.0]}).to_csv(folder / "area.csv", index=False)
    with pytest.raises(InputDataError, match=r"1 netCDF and 1 CSV"):
        find_measures(tmp_path, "real")
    (folder / "a.nc").unlink()
    source = find_measures(tmp_path, "real")
    assert source.layout == "melt_area_csv" and load_measures_source(source)["melt area"].tolist() == [3.0]


def test_region_from_the_environment():
    assert region_from_env({"REGION": "66,68,-51,-47"}).lon_max == -47.0
    with pytest.raises(InputDataError, match=r"REGION='66,68': expected four numbers"):
        region_from_env({"REGION": "66,68"})


# ------------------------------------------------------------------ make run's DATA by content


def test_layouts_are_recognised_by_content(tmp_path):
    fields = fx.hourly_fields("2001-01-01", 48, variables=("t2m", "ssrd"), **SMALL)
    cds = fx.write_cds_netcdf(fields, tmp_path / "download.nc")
    legacy = fx.write_legacy_netcdf(fields, tmp_path / "legacy.nc")
    archive = fx.write_cds_zip(fields, tmp_path / "named_like_netcdf.nc")
    gemb = fx.write_gemb_mat(tmp_path / "gemb.mat", {"M": np.ones(3)}, time=np.arange(3) + 0.875)
    gemb_nc = tmp_path / "gemb.nc"
    xr.Dataset(
        {"M": ("time", np.ones(3)), "a1": ("time", np.ones(3))}, coords={"time": pd.date_range("2001", periods=3)}
    ).to_netcdf(gemb_nc)
    canonical = tmp_path / "canonical.nc"
    xr.Dataset(
        {"t2m": ("time", np.ones(3), {"units": "K"})}, coords={"time": pd.date_range("2001", periods=3)}
    ).to_netcdf(canonical)
    assert [detect_layout(p) for p in (cds, legacy, archive, tmp_path, gemb, gemb_nc, canonical)] == [
        "era5",
        "era5",
        "era5",
        "era5",
        "gemb",
        "gemb",
        "canonical",
    ]
    (tmp_path / "junk.nc").write_bytes(b"<html>Service unavailable</html>")
    with pytest.raises(InputDataError, match=r"junk\.nc: neither netCDF"):
        detect_layout(tmp_path / "junk.nc")
    with pytest.raises(InputDataError, match=r"nothing\.nc: file not found"):
        detect_layout(tmp_path / "nothing.nc")


def test_a_folder_of_cds_files_becomes_checked_daily_data(tmp_path):
    write_cds_years(tmp_path / "era5", 2001, 5, variables=("t2m", "ssrd", "tp", "smlt"))
    source, data = load_user_data(tmp_path / "era5")
    assert source.kind == "user" and source.layout == "era5" and len(source.paths) == 5 and source.mask is None
    assert data.years == (2001, 2005) and data.variables == ("t2m", "ssrd", "tp", "smlt")
    assert data.melt_variable == "smlt" and data.daily["ssrd"].attrs["units"] == "J m-2"
    assert "southwest Greenland" in data.source


def test_a_gemb_mat_file_becomes_checked_daily_data(tmp_path):
    path = write_gemb_years(tmp_path / "gemb.mat", 1990, 5)
    source, data = load_user_data(path)
    assert source.layout == "gemb" and data.years == (1990, 1994) and data.melt_variable == "melt"
    assert {"melt", "runoff", "albedo", "t2m", "tp"} <= set(data.variables)
    assert "d2m" not in data.variables  # real GEMB output has no ERA5 forcing beyond Ta and P


def test_unreadable_real_files_fail_instead_of_falling_back(tmp_path):
    folder = tmp_path / "data" / "raw" / "era5"
    folder.mkdir(parents=True)
    (folder / "era5_accum_1951.nc").write_bytes(b"\x89HDF\r\n\x1a\ntruncated")
    source = find_source(tmp_path, "era5", environ={})
    assert source.kind == "real"
    with pytest.raises(InputDataError, match=r"era5_accum_1951\.nc: cannot be read"):
        load_raw(source)
    short = write_gemb_years(tmp_path / "short.mat", 1990, 2)
    with pytest.raises(InputDataError, match=r"short\.mat: 2 complete calendar year"):
        load_raw(find_source(tmp_path, "gemb", environ={"GEMB_OUTPUT": str(short)}))


def test_make_data_without_credentials_says_what_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "CDSAPI", "EARTHDATA"))}
    env.update(HOME=str(tmp_path), NETRC=str(tmp_path / ".netrc"))
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "data", "YEARS=2000"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in out
    assert "cdsapi==" in out or "cds.climate.copernicus.eu" in out


@pytest.mark.slow
@pytest.mark.notebooks
def test_notebook_01_reads_real_files_under_data_raw_and_records_them(tmp_path):
    import json

    from clvlib.method.preprocess import read_features
    from clvlib.pipeline.notebooks import run_notebook

    write_cds_years(tmp_path / "data" / "raw" / "era5", 2010, 6)
    out = tmp_path / "build" / "01.ipynb"
    run_notebook(
        ROOT / "notebooks" / "01_preprocess.py",
        out,
        {"dataset": "era5", "profile": "quick", "seed": 0, "root": str(tmp_path)},
        progress=False,
    )
    assert "**Source (real):** real data: ERA5 hourly single levels, 6 file(s)" in out.read_text()
    features = read_features(tmp_path / "data" / "processed" / "era5" / "features.nc")
    assert features.attrs["source_kind"] == "real" and "southwest Greenland" in features.attrs["source"]
    assert int(features["year"].min()) == 2010 and int(features["year"].max()) == 2015
    entry = json.loads((tmp_path / "paper" / "manifest.json").read_text())["artefacts"]["tab_variables_era5"]
    assert entry["parameters"]["source_kind"] == "real"
    assert sorted(entry["inputs"]) == [f"data/raw/era5/era5_all_{y}.nc" for y in range(2010, 2016)]
