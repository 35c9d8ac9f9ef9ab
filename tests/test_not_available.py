"""Data without a reference: the library answers "not available" and the registry saves nothing.

Also the stage inputs a notebook's first cell loads, and the occlusion's label under another baseline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import five_day_time

from clvlib.availability import NotAvailable
from clvlib.method import attribution_compare, attribution_truth, detection, validation
from clvlib.method.evaluation import melt_season
from clvlib.method.preprocess import write_features
from clvlib.pipeline import raw_input, stage_inputs
from clvlib.publish import compare
from clvlib.publish.registry import Registry, read_manifest
from clvlib.synthetic.rawdata import load_truth

MISSING = NotAvailable("no injected events")


def _detection(years: int = 12):
    time = five_day_time(73 * years)
    score = np.random.default_rng(0).gamma(2.0, 1.0, len(time))
    config = detection.DetectConfig()
    flagged = detection.detect(score, time, config)
    return time, {"CLV": score}, flagged, detection.detected_events(flagged, config), config


def test_every_validation_table_is_not_available_without_reference_events():
    time, scores, flagged, events, config = _detection()
    n_days = np.full(len(time), 5)
    tables = validation.validation_tables(scores, flagged, events, time, n_days, MISSING, config, 2011)
    assert list(tables) == list(validation.VALIDATION_TABLES) and all(t is MISSING for t in tables.values())
    assert validation.detection_summary(tables["detection_truth"], "CLV") is MISSING
    assert detection.match_events(events, MISSING) is events
    assert detection.scoped_labels(flagged, time, n_days, MISSING, config) is MISSING
    assert detection.measures_table(scores, time, n_days, MISSING, config) is MISSING


def test_scoped_labels_mark_the_reference_steps_among_the_thresholded_melt_season_steps():
    time, scores, flagged, events, config = _detection()
    truth = pd.DataFrame({"event_id": [1], "type": ["heat"], "start": [time[833]], "end": [time[835]]})
    mask, labels = detection.scoped_labels(flagged, time, np.full(len(time), 5), truth, config)
    assert not (mask & ~melt_season(time)).any() and np.isfinite(flagged["threshold"].to_numpy()[mask]).all()
    assert labels.sum() == 3 and np.flatnonzero(mask)[labels.astype(bool)].tolist() == [833, 834, 835]


def test_the_registry_prints_a_result_that_is_not_available_and_saves_nothing(tmp_path, capsys):
    registry = Registry(tmp_path, "04_detect", "era5", {"dataset": "era5", "profile": "quick", "seed": 0}, [])
    assert registry.table(MISSING, "detection_truth_era5", "A caption.") == []
    assert registry.figure(MISSING, "precision_recall_era5", "A caption.") == []
    assert "Not available on this data: no injected events." in capsys.readouterr().out
    assert not (tmp_path / "paper" / "tables").exists() or not any((tmp_path / "paper" / "tables").iterdir())
    assert not (tmp_path / "paper" / "manifest.json").exists() or read_manifest(tmp_path / "paper")["artefacts"] == {}


def test_attribution_truth_and_driver_check_are_not_available_without_truth():
    assert attribution_compare.attribution_truth({}, pd.DataFrame(), MISSING, ("a",), "era5") is MISSING
    assert attribution_truth.driver_check(pd.DataFrame(), pd.DataFrame(), MISSING) is MISSING
    assert (
        attribution_compare.top1_by_type(MISSING) is MISSING
        and attribution_compare.overall_accuracy(MISSING) is MISSING
    )


def test_the_occlusion_is_the_papers_only_with_the_yearly_median():
    assert attribution_compare.occlusion_label("median") == attribution_compare.PAPER_ATTRIBUTION
    assert "paper" not in attribution_compare.occlusion_label("climatology")


def _features_file(root, kind: str) -> stage_inputs.Features:
    """A small features.nc of the given source kind (two training years, one held out), loaded back."""
    time = five_day_time(73 * 3)
    za = np.random.default_rng(1).normal(size=(len(time), 2))
    ds = xr.Dataset(
        {
            "za": (("time", "feature"), za),
            "is_train": ("time", time.year < 2002),
            "n_days": ("time", np.full(len(time), 5)),
            "year": ("time", time.year.to_numpy()),
        },
        coords={"time": time, "feature": ["t2m", "tp"]},
        attrs={"source_kind": kind, "source": f"a {kind} test set"},
    )
    write_features(ds, Path(root) / "data" / "processed" / "era5" / "features.nc")
    return stage_inputs.load_features(root, "era5")


def test_stage_inputs_unpack_the_features_and_find_the_references(project_root):
    features = _features_file(project_root, "synthetic")
    reference = stage_inputs.load_reference(project_root, features, seed=0)
    truth = load_truth(project_root / "data" / "raw" / "synthetic" / "seed-0")
    assert features.za.shape == (len(features.time), len(features.names)) and features.test_year == 2002
    assert len(reference.truth) < len(truth) and (reference.truth["end"] >= features.time[0]).all()
    assert reference.truth_files == [reference.raw / "truth.csv"] and reference.measures_name.startswith("the MEaSUREs")
    assert set(reference.measures().columns) >= {"date", "melt area"}


def test_stage_inputs_of_a_users_data_have_no_reference(tmp_path):
    features = _features_file(tmp_path, "user")
    reference = stage_inputs.load_reference(tmp_path, features, seed=0)
    assert reference.truth is None and reference.files == [] and isinstance(reference.truth_or_reason, NotAvailable)
    assert isinstance(reference.measures(), NotAvailable) and "no injected-event truth" in reference.describe()


def test_notebook_01s_input_from_the_default_and_from_a_users_file(project_root, tmp_path):
    default = raw_input.load_input(project_root, "era5", "quick", 0)
    assert default.source.kind == "synthetic" and default.files == [default.source.paths[0].parent / "manifest.json"]
    assert default.overview_variables[:4] == ["t2m", "ssrd", "strd", "tcc"] and default.melt in default.variables
    assert (default.shaded_events["start"].dt.year >= default.config.first_year).all()
    assert len(default.shaded_events) < len(default.truth) and "seed 0" in default.summary()
    t = pd.date_range("2001-01-01", "2006-12-31 18:00", freq="6h")
    rng = np.random.default_rng(0)
    season = -np.cos(2 * np.pi * t.day_of_year.to_numpy() / 365.25)
    user = tmp_path / "mine.nc"
    xr.Dataset(
        {
            "t2m": ("time", 260.0 + 12.0 * season + rng.normal(0, 2, len(t)), {"units": "K"}),
            "tp": ("time", rng.gamma(0.3, 0.001, len(t)), {"units": "m"}),
        },
        coords={"time": t},
    ).to_netcdf(user)
    mine = raw_input.load_input(tmp_path, "custom", "quick", 0, data=str(user))
    assert mine.source.kind == "user" and mine.truth is None and mine.shaded_events is None
    assert mine.files == [user] and mine.overview_variables == ["t2m", "tp"] and mine.config.test_year == 2006


def test_a_validation_table_missing_for_real_data_is_not_available_and_an_error_for_the_default(tmp_path):
    pd.DataFrame({"method": ["CLV"], "pr_auc": [0.5]}).to_csv(tmp_path / "tab_detection_measures_era5.csv", index=False)
    kinds = {"era5": "synthetic", "gemb": "real"}
    assert isinstance(compare.stack_validation(tmp_path, "detection_measures", kinds), NotAvailable)
    with pytest.raises(FileNotFoundError, match="tab_detection_measures_gemb"):
        compare.stack_validation(tmp_path, "detection_measures", {"era5": "synthetic", "gemb": "synthetic"})
    stacked = compare.stack_validation(
        tmp_path, "detection_measures", {"era5": "synthetic"}, columns=["dataset", "pr_auc"]
    )
    assert stacked.to_dict("list") == {"dataset": ["era5"], "pr_auc": [0.5]}
