"""make run on a user's canonical netCDF file: the four CSVs, the notebooks and the report; bad files stop early."""

from __future__ import annotations

import subprocess

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import ROOT

from clvlib.method.evaluation import melt_season
from clvlib.method.model import ClusterLSTMVAE, CLVConfig
from clvlib.pipeline.run import importance_table
from clvlib.testing.browser import check_report, chromium_path


def _canonical(climate, path, years=("2006-01-01", "2021-12-31")) -> None:
    """A 6-hourly canonical file made from the ERA5-like default: ssrd as W m-2, an unknown index, melt named."""
    daily = climate.era5.sel(time=slice(*years))[["t2m", "ssrd", "strd", "tcc", "tp", "smlt", "sp", "u10"]]
    time = pd.date_range(years[0], f"{years[1]} 18:00", freq="6h")
    data = {}
    for name, var in daily.data_vars.items():
        values, units = np.repeat(var.values, 4), var.attrs["units"]
        if name == "ssrd":
            values, units = values / 86400.0, "W m-2"  # a mean flux
        elif name in ("strd", "tp", "smlt"):
            values = values / 4  # accumulated over each 6-hour step
        data[name] = ("time", values, {"units": units})
    index = np.random.default_rng(1).standard_normal(daily.sizes["time"])
    data["nao_index"] = ("time", np.repeat(index, 4), {"units": "1", "long_name": "NAO index"})
    xr.Dataset(data, coords={"time": time}, attrs={"melt_variable": "smlt"}).to_netcdf(path)


def _make_run(data, out, *extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "run", f"DATA={data}", f"OUT={out}", *extra],
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.slow
@pytest.mark.notebooks
def test_make_run_on_a_canonical_file_writes_the_documented_outputs(climate, tmp_path):
    data, out = tmp_path / "mine.nc", tmp_path / "out"
    _canonical(climate, data)
    result = _make_run(data, out, "PROFILE=quick", "NAME=mine")
    assert result.returncode == 0, result.stdout + result.stderr
    scores = pd.read_csv(out / "scores.csv", parse_dates=["time"])
    assert list(scores.columns[:4]) == ["time", "score", "threshold", "anomaly"]
    side = [c.removeprefix("score: ") for c in scores.columns[4:]]  # every detector's raw score, side by side
    assert {"CLV (paper)", "CLV (best)", "Mahalanobis", "PCA residual", "mean z^2 (trivial)"} <= set(side)
    np.testing.assert_allclose(scores["score: CLV (best)"], scores["score"], rtol=1e-12)  # the default, best
    assert scores["threshold"].notna().sum() == melt_season(pd.DatetimeIndex(scores["time"])).sum()  # all decided
    assert len(scores) == 16 * 73 and scores["time"].iloc[0] == pd.Timestamp("2006-01-01")
    assert set(scores["anomaly"]) <= {0, 1} and scores["anomaly"].sum() > 0
    flagged = scores[scores["anomaly"] == 1]
    assert (flagged["score"] > flagged["threshold"]).all()
    events = pd.read_csv(out / "events.csv", parse_dates=["start", "end", "peak_time"])
    assert list(events.columns[:5]) == ["event_id", "start", "end", "peak_time", "peak_score"]
    assert events["n_steps"].sum() == scores["anomaly"].sum()
    attribution = pd.read_csv(out / "attribution.csv")
    assert list(attribution.columns) == ["time", "event_id", "feature", "delta", "rank"]
    assert set(attribution["feature"]) == {"t2m", "ssrd", "strd", "tcc", "tp", "smlt", "sp", "u10", "nao_index"}
    assert len(attribution) == 9 * scores["anomaly"].sum()
    importance = pd.read_csv(out / "importance.csv")
    assert list(importance.columns) == ["method", "feature", "importance", "rank"]
    methods = set(importance["method"])
    assert "CLV counterfactual (mean delta)" in methods and "XGBoost shap, melt variable" in methods
    for stage in ("01_preprocess", "02_cluster", "03_train", "04_detect", "05_attribute", "06_validate"):
        assert (out / "notebooks" / f"{stage}.ipynb").exists() and (
            out / "paper" / "notebooks" / f"{stage}.html"
        ).exists()
    report = (out / "paper" / "report.html").read_text()
    assert "mine.nc" in report and "fig_scores_mine" in report and "The paper's claims" not in report
    # the summary comes first and its counts are the output files' own
    n_events, n_steps = len(pd.read_csv(out / "events.csv")), int(pd.read_csv(out / "scores.csv")["anomaly"].sum())
    assert report.index("id='summary'") < report.index("id='fig_scores_mine'")
    assert f"It flags {n_steps} anomalous steps in {n_events} events" in report
    assert "fig_timeline_mine" in report and "fig_event_bars_mine" in report  # the figures a reader looks for first
    assert "Strongest events (drivers by the recommended attribution)" in report
    if chromium_path():  # as a reader opens it (tests/test_browser.py says when Chromium is missing)
        shot = ROOT / "build" / "screenshots" / "report-run-quick.png"
        assert check_report(out / "paper" / "report.html", shot, chromium_path()) == []
    assert (out / "report.html").exists()
    # the validation sections that need the synthetic truth were skipped, not run on someone else's truth
    assert not (out / "paper" / "tables" / "tab_detection_truth_mine.csv").exists()
    assert not (out / "paper" / "tables" / "tab_attribution_truth_mine.csv").exists()
    # the default configuration is best (the seeds table puts it ahead in both worlds), named at the start
    assert "the CLV's 'best' configuration" in result.stdout
    features = xr.load_dataset(out / "data" / "processed" / "mine" / "features.nc")
    best = ClusterLSTMVAE.load(out / "data" / "models" / "mine" / "best")
    assert best.config == CLVConfig.named("best", max_epochs=best.config.epochs)
    np.testing.assert_allclose(scores["score"], best.decision_function(features["za"].values), rtol=1e-6)


@pytest.mark.slow
@pytest.mark.notebooks
def test_make_run_method_paper_writes_the_papers_configuration(climate, tmp_path):
    """METHOD=paper: the events and scores are those of the paper's method (plain MSE over features)."""
    data, out = tmp_path / "mine.nc", tmp_path / "out"
    _canonical(climate, data)
    result = _make_run(data, out, "PROFILE=quick", "NAME=mine", "METHOD=paper")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the CLV's 'paper' configuration" in result.stdout
    scores = pd.read_csv(out / "scores.csv")
    features = xr.load_dataset(out / "data" / "processed" / "mine" / "features.nc")
    paper = ClusterLSTMVAE.load(out / "data" / "models" / "mine" / "paper")
    assert paper.config == CLVConfig.named("paper", max_epochs=paper.config.epochs)
    np.testing.assert_allclose(scores["score"], paper.feature_errors(features["za"].values).mean(axis=1), rtol=1e-6)
    bad = _make_run(data, tmp_path / "other", "PROFILE=quick", "METHOD=fastest")
    assert bad.returncode != 0 and "METHOD=fastest: expected paper, best or original" in bad.stdout + bad.stderr


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda ds: ds.rename(time="valid_time"), "no dimension 'time'"),
        (lambda ds: ds.assign(station=("time", np.array(["KAN"] * ds.sizes["time"]))), "'station' is not numeric"),
        (lambda ds: ds.drop_isel(time=[40, 41, 42]), "time steps are not regular"),
    ],
)
def test_make_run_stops_before_training_on_a_non_conforming_file(climate, tmp_path, mutate, message):
    data, out = tmp_path / "bad.nc", tmp_path / "out"
    _canonical(climate, tmp_path / "good.nc", years=("2014-01-01", "2021-12-31"))
    mutate(xr.load_dataset(tmp_path / "good.nc")).to_netcdf(data)
    result = _make_run(data, out)
    assert result.returncode != 0
    assert message in result.stderr + result.stdout and str(data) in result.stderr + result.stdout
    assert not (out / "data" / "models").exists() and not (out / "notebooks").exists()


def test_make_run_without_data_prints_usage(tmp_path):
    result = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), "run"], capture_output=True, text=True)
    assert result.returncode != 0 and "usage: make run DATA=" in result.stderr


def test_importance_table_joins_the_clv_ranking_and_the_surrogates():
    drivers = pd.DataFrame({"feature": ["a", "b"], "mean_delta": [0.5, 0.1], "rank": [1, 2]})
    surrogate = pd.DataFrame(
        {
            "task": ["anomaly", "anomaly", "melt"],
            "model": ["XGBoost", "XGBoost", "Random Forest"],
            "method": ["shap", "shap", "impurity"],
            "feature": ["a", "b", "a"],
            "importance": [0.2, 0.9, 1.0],
            "rank": [2, 1, 1],
        }
    )
    table = importance_table(drivers, surrogate)
    assert table.loc[table["method"] == "XGBoost shap, anomaly label", "feature"].tolist() == ["a", "b"]
    assert table.loc[table["method"] == "CLV counterfactual (mean delta)", "importance"].tolist() == [0.5, 0.1]
    assert table.loc[table["method"] == "Random Forest impurity, melt variable", "rank"].tolist() == [1]


@pytest.mark.slow
@pytest.mark.notebooks
def test_make_run_on_a_folder_of_raw_cds_files_writes_the_four_csvs(tmp_path):
    from test_sources import write_cds_years

    from clvlib.variables import ERA5_VARIABLES

    write_cds_years(tmp_path / "era5", 2001, 6, variables=tuple(v.name for v in ERA5_VARIABLES))
    out = tmp_path / "out"
    result = _make_run(tmp_path / "era5", out, "PROFILE=quick", "NAME=cds")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERA5 hourly single levels, 6 file(s)" in result.stdout
    scores = pd.read_csv(out / "scores.csv", parse_dates=["time"])
    assert len(scores) == 6 * 73 and scores["time"].iloc[0] == pd.Timestamp("2001-01-01")
    for name in ("events.csv", "attribution.csv", "importance.csv"):
        assert (out / name).exists(), name
    importance = pd.read_csv(out / "importance.csv")
    assert set(importance["feature"]) == {v.name for v in ERA5_VARIABLES}
    notebook = (out / "notebooks" / "01_preprocess.ipynb").read_text()
    assert "Source (user)" in notebook and "ERA5 hourly single levels" in notebook
