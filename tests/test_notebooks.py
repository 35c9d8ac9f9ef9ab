"""End-to-end: the notebooks run under papermill in the quick profile, for both data sets.

Each data set's chain 01 -> 06 runs in one test, in order, in a throw-away project root.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import ROOT

from clvlib.method.attribution_compare import ATTRIBUTIONS
from clvlib.method.scores import read_scores
from clvlib.pipeline.notebooks import NotebookKernel, run_notebook
from clvlib.publish.claims import verify
from clvlib.publish.registry import check_manifest
from clvlib.publish.report import build_report
from clvlib.synthetic.rawdata import write_synthetic
from clvlib.testing.browser import check_report, chromium_path

pytestmark = pytest.mark.slow


def _run(project_root, stage: str, dataset: str, kernel: NotebookKernel | None = None) -> None:
    out = project_root / "build" / f"{stage}_{dataset}.ipynb"
    params = {"dataset": dataset, "profile": "quick", "seed": 0, "root": str(project_root)}
    run_notebook(ROOT / "notebooks" / f"{stage}.py", out, params, progress=False, kernel=kernel)
    assert out.exists()


@pytest.fixture
def kernel():
    """One kernel for a test's chain of notebooks (as ``make run`` runs them)."""
    with NotebookKernel(ROOT / "notebooks") as shared:
        yield shared


def _outputs(project_root, figures: list[str], tables: list[str], dataset: str) -> None:
    for fig in figures:
        for ext in ("png", "pdf"):
            assert (project_root / "paper" / "figures" / f"fig_{fig}_{dataset}.{ext}").stat().st_size > 5_000, fig
    for tab in tables:
        for ext in ("csv", "md", "tex"):
            assert (project_root / "paper" / "tables" / f"tab_{tab}_{dataset}.{ext}").exists(), tab


@pytest.mark.notebooks
@pytest.mark.parametrize("dataset", ["era5", "gemb"])
def test_notebooks_01_to_06_quick(project_root, dataset, kernel):
    _run(project_root, "01_preprocess", dataset, kernel)
    features = xr.load_dataset(project_root / "data" / "processed" / dataset / "features.nc")
    assert int(features["year"].min()) == 1991 and int(features["year"].max()) == 2021
    assert features.sizes["time"] == 31 * 73
    assert np.isfinite(features["za"].values).all()
    train = features["za"].where(features["is_train"], drop=True)
    np.testing.assert_allclose(train.mean("time"), 0.0, atol=1e-6)
    table = pd.read_csv(project_root / "paper" / "tables" / f"tab_variables_{dataset}.csv")
    assert list(table.columns) == ["variable", "long_name", "units", "mean", "std", "clipped_pct", "gap_steps"]
    assert len(table) == features.sizes["feature"]
    for ext in ("png", "pdf"):
        assert (project_root / "paper" / "figures" / f"fig_preprocess_overview_{dataset}.{ext}").stat().st_size > 10_000
    for ext in ("csv", "md", "tex"):
        assert (project_root / "paper" / "tables" / f"tab_variables_{dataset}.{ext}").exists()

    _run(project_root, "02_cluster", dataset, kernel)
    _outputs(project_root, ["correlation", "silhouette"], ["clusters", "silhouette"], dataset)
    clusters = json.loads((project_root / "data" / "models" / dataset / "clusters.json").read_text())
    assert sorted(i for g in clusters["groups"] for i in g) == list(range(features.sizes["feature"]))

    _run(project_root, "03_train", dataset, kernel)
    _outputs(project_root, ["training_loss"], ["training"], dataset)
    names = ("original", "paper", "best")
    for name in (*names, *(f"unclustered-{n}" for n in names)):
        assert (project_root / "data" / "models" / dataset / name / "clv.pt").exists()
    training = pd.read_csv(project_root / "paper" / "tables" / f"tab_training_{dataset}.csv").set_index("model")
    assert training.loc["paper", "latent_size"] == training.loc["unclustered-paper", "latent_size"]
    assert set(training.index) == {*names, *(f"unclustered-{n}" for n in names)}

    _run(project_root, "04_detect", dataset, kernel)
    _outputs(
        project_root,
        ["scores", "precision_recall", "trend"],
        [
            "events",
            "detection_truth",
            "recall_by_type",
            "alpha_sensitivity",
            "scope_effect",
            "detection_test_year",
            "detection_measures",
            "trend",
            "decades",
            "extremes",
        ],
        dataset,
    )
    scores, events = read_scores(project_root / "data" / "processed" / dataset)
    assert scores.sizes["time"] == features.sizes["time"] and np.isfinite(scores["score"].values).all()
    assert int(scores["anomaly"].sum()) == int(events["n_steps"].sum()) > 0
    truth = pd.read_csv(project_root / "paper" / "tables" / f"tab_detection_truth_{dataset}.csv")
    assert {
        "CLV (original)",
        "CLV (paper)",
        "CLV (best)",
        "unclustered VAE (paper)",
        "unclustered VAE (best)",
        "Mahalanobis",
        "PCA residual",
        "Isolation Forest",
        "max abs z",
        "mean z^2 (trivial)",
    } <= set(truth["method"])
    main = truth[truth["threshold"] == "pot"]  # every detector under the calibrated rule: every melt-season step
    assert main["n_steps"].nunique() == 1 and truth["n_steps"].max() == main["n_steps"].iloc[0]
    rules = pd.read_csv(project_root / "paper" / "tables" / f"tab_threshold_rules_{dataset}.csv").set_index("threshold")
    assert rules.loc["pot", "n_undecided"] == 0 < rules.loc["pot_trailing", "n_undecided"]
    # a model that learnt something beats chance on the injected events
    clv = truth[(truth["method"] == "CLV (best)") & (truth["threshold"] == "pot")].iloc[0]
    assert clv["pr_auc"] > 2 * clv["n_true_steps"] / clv["n_steps"]
    trend = pd.read_csv(project_root / "paper" / "tables" / f"tab_trend_{dataset}.csv")
    assert list(trend["first_year"].unique()) == [1991] and list(trend["last_year"].unique()) == [2020]

    _run(project_root, "05_attribute", dataset, kernel)
    _outputs(
        project_root,
        ["drivers", "event_heatmap", "event_example"],
        [
            "drivers",
            "drivers_shapley",
            "drivers_recommended",
            "baseline_stability",
            "test_year_consistency",
            "attribution_truth",
        ],
        dataset,
    )
    tables = project_root / "paper" / "tables"
    attribution = pd.read_csv(tables / f"tab_attribution_{dataset}.csv")
    assert list(attribution.columns) == ["time", "event_id", "feature", "delta", "rank"]
    assert len(attribution) == int(scores["anomaly"].sum()) * features.sizes["feature"]
    drivers = pd.read_csv(tables / f"tab_drivers_{dataset}.csv")
    assert sorted(drivers["feature"]) == sorted(features["feature"].values.tolist())
    accuracy = pd.read_csv(tables / f"tab_attribution_truth_{dataset}.csv")
    overall = accuracy[accuracy["type"] == "all"].set_index("method")
    assert list(overall.index) == list(ATTRIBUTIONS) and overall["n_events"].nunique() == 1
    assert overall["response_first_share"].between(0, 1).all()
    recommended = pd.read_csv(tables / f"tab_drivers_recommended_{dataset}.csv")
    assert sorted(recommended["feature"]) == sorted(drivers["feature"])
    assert 0 < overall["n_events"].iloc[0] <= len(events)
    assert (overall["top1_accuracy"] <= overall["top3_accuracy"]).all()

    _run(project_root, "06_validate", dataset, kernel)
    _outputs(project_root, ["importance", "shap"], ["surrogate_skill", "agreement"], dataset)
    agreement = pd.read_csv(tables / f"tab_agreement_{dataset}.csv")
    assert len(agreement) == 12  # 2 tasks x 2 models x 3 importances
    assert agreement["kendall_tau"].between(-1, 1).all() and agreement["top3_overlap"].between(0, 1).all()
    importance = pd.read_csv(tables / f"tab_importance_{dataset}.csv")
    assert set(importance["method"]) == {"gain", "impurity", "permutation", "shap"}


@pytest.mark.notebooks
def test_07_compare_quick(project_root):
    """Runs after both chains above (pytest keeps file order); compares the two data sets."""
    tables = project_root / "paper" / "tables"
    if not all((tables / f"tab_agreement_{d}.csv").exists() for d in ("era5", "gemb")):
        pytest.skip("needs the 01-06 chains of both data sets (run the whole module)")
    out = project_root / "build" / "07_compare.ipynb"
    run_notebook(
        ROOT / "notebooks" / "07_compare.py",
        out,
        {"profile": "quick", "seed": 0, "root": str(project_root)},
        progress=False,
    )
    rankings = pd.read_csv(tables / "tab_driver_comparison.csv")
    era5 = pd.read_csv(tables / "tab_drivers_era5.csv")
    assert set(era5["feature"]) <= set(rankings["era5_feature"].dropna())
    assert rankings.loc[rankings["variable"] == "fal", "gemb_feature"].item() == "albedo"
    for table in ("measures_comparison", "trend_comparison", "extremes_comparison", "attribution_truth_comparison"):
        assert set(pd.read_csv(tables / f"tab_{table}.csv")["dataset"]) == {"era5", "gemb"}, table
    for ext in ("png", "pdf"):
        assert (project_root / "paper" / "figures" / f"fig_driver_comparison.{ext}").stat().st_size > 5_000
    # every artefact is in the manifest with its current hash, and every claim gets a verdict
    assert check_manifest(project_root / "paper") == []
    result = verify(project_root / "paper", ROOT / "paper" / "claims.yaml", "quick", 0)
    assert result["id"].tolist() == list(range(1, 11))
    assert set(result["verdict"]) <= {"holds", "does not hold", "not testable on this data"}
    assert result["data"].str.contains("not a finding about Greenland").all()
    assert (project_root / "paper" / "claims.md").read_text().count("| **") == 10
    # the report shows every artefact with its caption and links the rendered notebooks
    shutil.copy(ROOT / "paper" / "claims.yaml", project_root / "paper" / "claims.yaml")
    report_file = build_report(project_root / "paper", project_root / "build", code=ROOT / "notebooks")
    report = report_file.read_text()
    manifest = json.loads((project_root / "paper" / "manifest.json").read_text())["artefacts"]
    for key, entry in manifest.items():
        assert key in report and entry["caption"].split(" (")[0][:40] in report.replace("&#x27;", "'"), key
        assert f"id='{key}'" in report, key  # every figure and table has an anchor
    assert "<a href='#tab_detection_truth_era5'>" in report  # claim 7 links to the table it is computed from
    assert report.index("id='summary'") < report.index("id='claims'")  # the headline first, then the claims
    assert "the best textbook statistic of the same input" in report and "not Greenland" in report
    assert report.count("<img ") == sum(e["kind"] == "figure" for e in manifest.values())
    assert (project_root / "paper" / "notebooks" / "05_attribute_era5.html").stat().st_size > 50_000
    assert "notebooks/07_compare.html" in report
    assert "Figure 1." in report and "Table 1." in report and "id='toc'" in report  # numbered, with contents
    if chromium_path():  # as a reader opens it (tests/test_browser.py says when Chromium is missing)
        shot = ROOT / "build" / "screenshots" / "report-paper-quick.png"
        assert check_report(report_file, shot, chromium_path()) == []
    assert (
        report.count("<td class='holds'>")
        + report.count("<td class='fails'>")
        + report.count("<td class='untestable'>")
        == 10
    )


def _chain_outputs(root) -> dict[str, bytes]:
    """Every table and figure of the ERA5-like chain, by file name."""
    files = [*(root / "paper" / "tables").glob("tab_*_era5.*"), *(root / "paper" / "figures").glob("fig_*_era5.*")]
    return {f.name: f.read_bytes() for f in files}


def _table_hashes(root) -> dict[str, dict]:
    manifest = json.loads((root / "paper" / "manifest.json").read_text())["artefacts"]
    return {k: e["outputs"] for k, e in manifest.items() if e["dataset"] == "era5" and e["kind"] == "table"}


@pytest.mark.notebooks
def test_quick_rerun_is_bit_identical(project_root, tmp_path_factory):
    """Two clean runs of the ERA5-like chain (quick profile, seed 0) give the same bytes.

    The first run is the one of test_notebooks_01_to_06_quick when it ran in this session (all six
    notebooks in one kernel, as ``make run`` runs them); otherwise this test makes it. The second
    runs each notebook in a fresh kernel, as ``make paper`` does, so sharing a kernel changes no
    byte either. Figures are saved without timestamps, so they are compared byte for byte too.
    """
    stages = ("01_preprocess", "02_cluster", "03_train", "04_detect", "05_attribute", "06_validate")
    if not (project_root / "paper" / "tables" / "tab_agreement_era5.csv").exists():
        for stage in stages:
            _run(project_root, stage, "era5")
    second = tmp_path_factory.mktemp("second")
    write_synthetic(second / "data" / "raw" / "synthetic" / "seed-0", seed=0)
    for stage in stages:
        _run(second, stage, "era5")
    first_files, second_files = _chain_outputs(project_root), _chain_outputs(second)
    assert sorted(first_files) == sorted(second_files) and len(first_files) > 40
    differ = sorted(name for name in first_files if first_files[name] != second_files[name])
    assert differ == [], f"differ between two clean runs: {differ}"
    assert _table_hashes(project_root) == _table_hashes(second)


def test_every_parameters_cell_parses_for_papermill():
    """papermill must see every parameter (a comment it cannot parse hides the whole cell)."""
    import jupytext
    from papermill.translators import PythonTranslator

    for source in sorted((ROOT / "notebooks").glob("0*.py")):
        nb = jupytext.read(source)
        cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(cells) == 1, source.name
        names = [p.name for p in PythonTranslator.inspect(cells[0])]
        assert {"profile", "seed", "root"} <= set(names), (source.name, names)
        assert ("dataset" in names) == (source.stem != "07_compare"), source.name
        assert len(names) == len([line for line in cells[0].source.splitlines() if "=" in line.split("#")[0]]), (
            source.name
        )
