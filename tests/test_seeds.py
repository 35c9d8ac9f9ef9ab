"""make seeds: aggregation over seeds on hand-made tables, support of the claims, claim 7's method, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import clvlib.pipeline.seeds as seeds
from clvlib.pipeline import roots
from clvlib.pipeline.roots import is_complete, run_params, write_marker
from clvlib.pipeline.seeds import SeedLayout, build_base, build_method
from clvlib.publish.claims import FAILS, HOLDS, UNTESTABLE, evaluate, seeds_support, verify
from clvlib.publish.registry import Registry, check_manifest
from clvlib.publish.report import claims_html
from clvlib.publish.seeds_tables import (
    attribution_summary,
    claims_summary,
    detection_summary,
    runs_table,
    save_tables,
    support_text,
)

ROOT = Path(__file__).resolve().parents[1]
SEEDS, BUILDS, DATASETS = (0, 1, 2), ("paper", "best"), ("era5", "gemb")
LABELS = (
    "CLV (original)",
    "CLV (paper)",
    "CLV (best)",
    "unclustered VAE (paper)",
    "Isolation Forest",
    "max abs z",
    "mean z^2 (trivial)",
)
METRICS = ("precision", "recall", "f1", "event_recall", "event_precision", "pr_auc")


def _value(seed: int, dataset: str, label: str, threshold: str, metric: str) -> float:
    """The metric a seed's 'true' row has (distinct for every key)."""
    return round(
        0.1
        + 0.1 * seed
        + 0.01 * LABELS.index(label)
        + 0.001 * METRICS.index(metric)
        + (0.002 if dataset == "gemb" else 0)
        + (0.0005 if threshold != "pot" else 0),
        6,
    )


def _detection(seed: int, build: str, dataset: str) -> pd.DataFrame:
    """tab_detection_truth of one build: rows of other builds' CLVs and of baselines are off by 1 in the 'best' build
    (paper's copy of CLV (best) is off too), so the summary is right only if it takes each row from the right build."""
    rows = [(label, "pot") for label in LABELS] + [(f"CLV ({build})", t) for t in ("pot_centred", "sigma")]
    records = []
    for label, threshold in rows:
        own = label == f"CLV ({build})"
        off = 0.0 if own or (build == "paper" and label != "CLV (best)") else 1.0
        records.append(
            {
                "method": label,
                "threshold": threshold,
                **{m: _value(seed, dataset, label, threshold, m) + off for m in METRICS},
                "n_steps": 500,
            }
        )
    return pd.DataFrame(records)


def _attribution(seed: int, build: str, dataset: str) -> pd.DataFrame:
    shift = 0.1 if build == "best" else 0.0
    return pd.DataFrame(
        {
            "method": ["occlusion, median (paper)", "occlusion, median (paper)", "Shapley, median"],
            "type": ["all", "foehn", "all"],
            "n_events": [20 + seed, 3, 20 + seed],
            "top1_accuracy": [0.3 + 0.1 * seed + shift, 0.9, 0.5 + shift],
            "top3_accuracy": [0.6 + 0.05 * seed, 1.0, 0.7],
        }
    )


@pytest.fixture
def detection():
    return {(s, b, d): _detection(s, b, d) for s in SEEDS for b in BUILDS for d in DATASETS}


def test_runs_table_has_one_row_per_seed_build_dataset_and_method_and_marks_one_per_seed(detection):
    runs = runs_table(detection)
    assert list(runs.columns) == ["seed", "build", "dataset", "method", "threshold", *METRICS, "in_summary"]
    assert len(runs) == 3 * 2 * 2 * (7 + 2)
    pot = runs[runs["threshold"] == "pot"]
    assert (pot.groupby(["seed", "build", "dataset", "method"]).size() == 1).all()
    used = runs[runs["in_summary"] == 1]
    assert (used.groupby(["seed", "dataset", "method", "threshold"]).size() == 1).all()
    assert len(used) == 3 * 2 * (7 + 2 + 2)  # the pot rows once, the other rules of each build's own CLV
    # each CLV configuration comes from the build that reports it, everything else from the paper build
    by_method = used[used["threshold"] == "pot"].groupby("method")["build"].unique().map(list).to_dict()
    assert by_method["CLV (best)"] == ["best"] and by_method["CLV (paper)"] == ["paper"]
    assert by_method["unclustered VAE (paper)"] == ["paper"] and by_method["CLV (original)"] == ["paper"]
    # the raw rows are those of the per-seed tables
    row = runs[
        (runs["seed"] == 1) & (runs["build"] == "best") & (runs["dataset"] == "gemb") & (runs["method"] == "max abs z")
    ].iloc[0]
    assert row["f1"] == _value(1, "gemb", "max abs z", "pot", "f1") + 1.0


def test_detection_summary_is_the_mean_and_sample_std_over_seeds(detection):
    summary = detection_summary(runs_table(detection))
    assert list(summary.columns[:4]) == ["method", "threshold", "dataset", "n_seeds"]
    assert [c for c in summary.columns[4:]] == [f"{m}_{s}" for m in METRICS for s in ("mean", "std")]
    assert len(summary) == 2 * (7 + 4) and (summary["n_seeds"] == 3).all()
    assert summary["dataset"].tolist() == ["era5"] * 11 + ["gemb"] * 11
    # by hand: seeds 0, 1, 2 are 0.1 apart, so the mean is seed 1's value and the std 0.1
    for label, threshold in (("CLV (best)", "pot"), ("CLV (best)", "sigma"), ("unclustered VAE (paper)", "pot")):
        row = summary[
            (summary["method"] == label) & (summary["threshold"] == threshold) & (summary["dataset"] == "gemb")
        ].iloc[0]
        values = [_value(s, "gemb", label, threshold, "pr_auc") for s in SEEDS]
        assert row["pr_auc_mean"] == pytest.approx(sum(values) / 3)
        assert row["pr_auc_mean"] == pytest.approx(_value(1, "gemb", label, threshold, "pr_auc"))
        assert row["pr_auc_std"] == pytest.approx(np.sqrt(sum((v - sum(values) / 3) ** 2 for v in values) / 2))
        assert row["pr_auc_std"] == pytest.approx(0.1)


def test_a_seed_missing_for_one_row_lowers_its_n_seeds(detection):
    detection[(2, "best", "era5")] = detection[(2, "best", "era5")].iloc[1:]  # no CLV (original) in this build
    summary = detection_summary(runs_table(detection))

    def pick(m, d):
        return summary[(summary["method"] == m) & (summary["threshold"] == "pot") & (summary["dataset"] == d)]

    assert pick("CLV (original)", "era5")["n_seeds"].item() == 3  # seed 2 still has it from the paper build
    detection[(2, "paper", "era5")] = detection[(2, "paper", "era5")].iloc[1:]
    summary = detection_summary(runs_table(detection))
    row = pick("CLV (original)", "era5")
    assert row["n_seeds"].item() == 2 and row["f1_std"].item() == pytest.approx(0.1 / np.sqrt(2))
    assert pick("CLV (original)", "gemb")["n_seeds"].item() == 3


def test_attribution_summary_per_build_method_and_dataset_over_type_all():
    tables = {(s, b, d): _attribution(s, b, d) for s in SEEDS for b in BUILDS for d in DATASETS}
    summary = attribution_summary(tables)
    assert list(summary.columns) == [
        "build",
        "method",
        "dataset",
        "n_seeds",
        "n_events_mean",
        "n_events_std",
        "top1_accuracy_mean",
        "top1_accuracy_std",
        "top3_accuracy_mean",
        "top3_accuracy_std",
    ]
    assert len(summary) == 2 * 2 * 2 and summary["build"].tolist()[:4] == ["paper"] * 4
    row = summary[
        (summary["build"] == "best")
        & (summary["method"] == "occlusion, median (paper)")
        & (summary["dataset"] == "era5")
    ].iloc[0]
    assert row["n_seeds"] == 3 and row["n_events_mean"] == 21
    assert row["top1_accuracy_mean"] == pytest.approx(0.5) and row["top1_accuracy_std"] == pytest.approx(0.1)
    assert row["top3_accuracy_mean"] == pytest.approx(0.65) and row["top3_accuracy_std"] == pytest.approx(0.05)
    shapley = summary[(summary["method"] == "Shapley, median") & (summary["build"] == "paper")]
    assert (
        shapley["top1_accuracy_mean"].tolist() == pytest.approx([0.5, 0.5])
        and (shapley["top1_accuracy_std"] == 0).all()
    )


def test_support_counts_and_strings():
    verdicts = pd.DataFrame(
        [
            {"seed": s, "method": m, "id": i, "claim": f"claim {i}", "verdict": v}
            for (m, i), vs in {
                ("paper", 1): [HOLDS, HOLDS, FAILS, HOLDS, FAILS],
                ("best", 1): [HOLDS] * 4 + [FAILS],
                ("paper", 7): [FAILS] * 4 + [UNTESTABLE],
                ("best", 7): [HOLDS] * 5,
            }.items()
            for s, v in enumerate(vs)
        ]
    )
    summary = claims_summary(verdicts)
    assert summary[["id", "method", "n_holds", "n_fails", "n_untestable", "n_seeds"]].values.tolist() == [
        [1, "paper", 3, 2, 0, 5],
        [1, "best", 4, 1, 0, 5],
        [7, "paper", 0, 4, 1, 5],
        [7, "best", 5, 0, 0, 5],
    ]
    assert summary["support"].tolist() == [
        "holds for 3 of 5 seeds",
        "holds for 4 of 5 seeds",
        "holds for 0 of 5 seeds (not testable for 1)",
        "holds for 5 of 5 seeds",
    ]
    assert summary["claim"].tolist() == ["claim 1", "claim 1", "claim 7", "claim 7"]
    assert support_text(1, 1) == "holds for 1 of 1 seed"
    assert seeds_support(summary) == {
        1: "paper: holds for 3 of 5 seeds; best: 4 of 5",
        7: "paper: holds for 0 of 5 seeds; best: 5 of 5",
    }


# --------------------------------------------------------------------------- claims: method and support


def _claim7() -> dict:
    claims = yaml.safe_load((ROOT / "paper" / "claims.yaml").read_text())["claims"]
    return next(c for c in claims if c["id"] == 7)


def _detection_root(root: Path) -> None:
    """Registered detection tables in which CLV (paper) beats the unclustered VAE and CLV (best) does not."""
    for d in DATASETS:
        reg = Registry(root, "04_detect", d, {"profile": "quick", "seed": 0})
        reg.table(
            pd.DataFrame(
                {
                    "method": ["CLV (paper)", "CLV (best)", "unclustered VAE (paper)", "unclustered VAE (best)"],
                    "threshold": "pot",
                    "pr_auc": [0.8, 0.4, 0.6, 0.5],
                }
            ),
            f"detection_truth_{d}",
            "Detection.",
        )


def test_claim_7_compares_the_builds_configuration(tmp_path):
    claim = _claim7()
    assert claim["params"]["better"] == "CLV ({method})" and claim["params"]["worse"] == "unclustered VAE ({method})"
    _detection_root(tmp_path)
    tables = {
        f"detection_truth_{d}": pd.read_csv(tmp_path / "paper" / "tables" / f"tab_detection_truth_{d}.csv")
        for d in DATASETS
    }
    paper = evaluate([claim], tables, synthetic=True, method="paper").iloc[0]
    assert paper["verdict"] == HOLDS and "era5: CLV (paper) 0.800, unclustered VAE (paper) 0.600" in paper["measured"]
    best = evaluate([claim], tables, synthetic=True, method="best").iloc[0]
    assert best["verdict"] == FAILS and "CLV (best) 0.400, unclustered VAE (best) 0.500" in best["measured"]
    assert evaluate([claim], tables, synthetic=True).iloc[0]["verdict"] == HOLDS  # default: paper
    with pytest.raises(ValueError, match="expected one row"):
        evaluate([claim], tables, synthetic=True, method="original")  # no such row
    claims_file = tmp_path / "claims.yaml"
    claims_file.write_text(yaml.safe_dump({"claims": [claim]}))
    with pytest.raises(ValueError, match="unknown method"):
        verify(tmp_path / "paper", claims_file, "quick", 0, method="tuned")


def test_claims_md_and_report_show_support_over_seeds_only_when_the_table_exists(tmp_path):
    _detection_root(tmp_path)
    claims_file = tmp_path / "claims.yaml"
    claims_file.write_text(yaml.safe_dump({"claims": [_claim7()]}))
    paper = tmp_path / "paper"
    verify(paper, claims_file, "quick", 0, method="best")
    before = (paper / "claims.md").read_text()
    assert "| # | claim | verdict | measured |\n|---|---|---|---|\n| 7 |" in before
    assert "over seeds" not in before.lower() and "**does not hold**" in before
    html = claims_html(paper / "claims.md")
    assert "over seeds" not in html.lower() and html.count("<td") == 4

    verdicts = pd.DataFrame(
        {
            "seed": list(range(5)) * 2,
            "method": ["paper"] * 5 + ["best"] * 5,
            "id": 7,
            "claim": "c",
            "verdict": [HOLDS] * 3 + [FAILS] * 2 + [HOLDS] * 4 + [FAILS],
        }
    )
    save_tables(
        paper,
        {"seeds_claims": claims_summary(verdicts)},
        {"profile": "quick", "seeds": "0,1,2,3,4", "methods": "paper,best"},
        [],
    )
    assert (paper / "tables" / "tab_seeds_claims.tex").exists() and check_manifest(paper) == []
    verify(paper, claims_file, "quick", 0, method="best")
    after = (paper / "claims.md").read_text()
    assert "| # | claim | verdict | measured | over seeds |" in after
    assert "| paper: holds for 3 of 5 seeds; best: 4 of 5 |" in after
    html = claims_html(paper / "claims.md")
    assert "<th>over seeds</th>" in html and "paper: holds for 3 of 5 seeds; best: 4 of 5</td>" in html
    assert "Over seeds:" in html
    assert "Over seeds: for how many of seeds 0, 1, 2, 3, 4 (quick profile" in after
    # a support over seeds of another profile than the verdicts' is not shown beside them; a sentence says why
    save_tables(
        paper, {"seeds_claims": claims_summary(verdicts)}, {"profile": "full", "seeds": "0,4", "methods": "paper"}, []
    )
    verify(paper, claims_file, "quick", 0, method="best")
    other = (paper / "claims.md").read_text()
    assert "over seeds |" not in other and "holds for 3 of 5" not in other
    assert "The last `make seeds` ran in the full profile (seeds 0, 4), these verdicts in the quick" in other


# --------------------------------------------------------------------------- resuming


def _fake_root(root: Path, seed: int, method: str) -> None:
    for d in DATASETS:
        for stage in ("04_detect", "05_attribute", "06_validate"):
            (root / "notebooks").mkdir(parents=True, exist_ok=True)
            (root / "notebooks" / f"{stage}_{d}.ipynb").write_text("{}")
        (root / "paper" / "tables").mkdir(parents=True, exist_ok=True)
        _detection(seed, method, d).to_csv(root / "paper" / "tables" / f"tab_detection_truth_{d}.csv", index=False)
        _attribution(seed, method, d).to_csv(root / "paper" / "tables" / f"tab_attribution_truth_{d}.csv", index=False)
    (root / "notebooks" / "07_compare.ipynb").write_text("{}")
    (root / "data" / "processed" / "era5").mkdir(parents=True)
    (root / "data" / "processed" / "era5" / "scores.nc").write_bytes(b"scores")
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "big.nc").write_bytes(b"raw data is not hashed")
    pd.DataFrame(
        {"id": [7], "claim": ["c"], "measured": ["m"], "verdict": [HOLDS if method == "best" else FAILS]}
    ).to_csv(root / roots.CLAIMS, index=False)


def test_completeness_check_on_a_fake_folder(tmp_path):
    root, params = tmp_path / "seed-0" / "paper", run_params("quick", 0, "paper")
    _fake_root(root, 0, "paper")
    assert not is_complete(root, params)  # no marker: not finished
    write_marker(root, params, {"04_detect_era5": 12.0})
    marker = json.loads((root / roots.MARKER).read_text())
    assert {
        "paper/tables/tab_detection_truth_era5.csv",
        "notebooks/07_compare.ipynb",
        "claims.csv",
        "data/processed/era5/scores.nc",
    } <= set(marker["outputs"])
    assert not any(k.startswith("data/raw") for k in marker["outputs"]) and marker["seconds"] == {
        "04_detect_era5": 12.0
    }
    assert is_complete(root, params)
    assert not is_complete(root, run_params("full", 0, "paper")) and not is_complete(
        root, run_params("quick", 0, "best")
    )
    (root / "notebooks" / "07_compare.ipynb").unlink()
    assert not is_complete(root, params)
    (root / "notebooks" / "07_compare.ipynb").write_text("{}")
    assert is_complete(root, params)
    (root / "claims.csv").write_text("changed\n")
    assert not is_complete(root, params)
    (root / roots.MARKER).write_text("{truncated")
    assert not is_complete(root, params)


def test_complete_roots_are_skipped_and_unfinished_ones_resume_after_the_last_executed_notebook(tmp_path, monkeypatch):
    calls = []

    kernels = []

    class FakeKernel:
        def __init__(self, cwd):
            kernels.append(cwd)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            pass

    def fake_run(source, output, parameters, progress=True, kernel=None):
        assert isinstance(kernel, FakeKernel)  # every stage of a chain runs in the chain's kernel
        calls.append((Path(source).stem, parameters.get("dataset"), parameters.get("method")))
        Path(output).parent.mkdir(parents=True, exist_ok=True)
        Path(output).write_text("{}")

    monkeypatch.setattr(seeds, "run_notebook", fake_run)
    monkeypatch.setattr(seeds, "NotebookKernel", FakeKernel)
    layout = SeedLayout(tmp_path, 0)
    for name, params in (("base", run_params("quick", 0)), ("paper", run_params("quick", 0, "paper"))):
        folder = layout.base if name == "base" else layout.method("paper")
        _fake_root(folder, 0, "paper")
        (folder / roots.PARAMS).write_text(json.dumps(params, sort_keys=True))
        write_marker(folder, params, {})
    assert build_base(layout, "quick") is False
    build_method(layout, "paper", "quick", ROOT / "paper" / "claims.yaml")
    assert calls == [] and kernels == []  # both complete: nothing ran (no kernel started), no claims re-evaluated

    # an unfinished best root that got as far as 05_attribute for era5: only what is missing runs
    best = layout.method("best")
    prepare = roots.prepare_root(best, run_params("quick", 0, "best"), fill=lambda r: roots.copy_base(layout.base, r))
    assert prepare and (best / "data" / "raw" / "big.nc").stat().st_nlink == 2  # raw data hard-linked, not copied
    for stage in ("04_detect", "05_attribute"):
        (best / "notebooks").mkdir(exist_ok=True)
        (best / "notebooks" / f"{stage}_era5.ipynb").write_text("{}")
    monkeypatch.setattr(
        seeds,
        "verify",
        lambda *a, **k: pd.DataFrame({"id": [7], "claim": ["c"], "measured": ["m"], "verdict": [HOLDS]}),
    )
    build_method(layout, "best", "quick", ROOT / "paper" / "claims.yaml")
    assert calls == [
        ("06_validate", "era5", "best"),
        ("04_detect", "gemb", "best"),
        ("05_attribute", "gemb", "best"),
        ("06_validate", "gemb", "best"),
        ("07_compare", None, "best"),
    ]
    assert len(kernels) == 3  # one per chain that ran: ERA5 (06), GEMB (04-06), the comparison (07)
    assert is_complete(best, run_params("quick", 0, "best"))

    # another profile starts the base again, and with it the method roots built on the old one
    calls.clear()
    monkeypatch.setattr(seeds, "verify_synthetic", lambda folder, seed, world="default": None)
    assert build_base(layout, "full") is True
    assert not layout.method("paper").exists() and not best.exists()
    assert [c[0] for c in calls] == ["01_preprocess", "02_cluster", "03_train"] * 2
    assert all(c[2] is None for c in calls)  # 01-03 get no method parameter (02 has its own 'method')


def test_aggregate_reads_the_finished_roots_and_registers_four_tables(tmp_path):
    out, paper = tmp_path / "build" / "seeds", tmp_path / "paper"
    for s in SEEDS:
        for b in BUILDS:
            _fake_root(SeedLayout(out, s).method(b), s, b)
    tables = seeds.aggregate(out, paper, SEEDS, BUILDS, "quick")
    for key, formats in (
        ("seeds_runs", ("csv", "md")),
        ("seeds_detection", ("csv", "md")),
        ("seeds_attribution", ("csv", "md", "tex")),
        ("seeds_claims", ("csv", "md", "tex")),
    ):
        for ext in formats:
            assert (paper / "tables" / f"tab_{key}.{ext}").exists()
    assert not (paper / "tables" / "tab_seeds_runs.tex").exists()
    assert check_manifest(paper) == []
    entry = json.loads((paper / "manifest.json").read_text())["artefacts"]["tab_seeds_detection"]
    assert entry["notebook"] == "seeds" and entry["parameters"] == {
        "profile": "quick",
        "seeds": "0,1,2",
        "methods": "paper,best",
        "worlds": "default",
    }
    assert "build/seeds/seed-2/best/paper/tables/tab_detection_truth_gemb.csv" in entry["inputs"]
    assert len(tables["seeds_runs"]) == 3 * 2 * 2 * 9
    claims = pd.read_csv(paper / "tables" / "tab_seeds_claims.csv")
    assert claims[["world", "id", "method", "n_holds", "n_seeds", "support"]].values.tolist() == [
        ["default", 7, "paper", 0, 3, "holds for 0 of 3 seeds"],
        ["default", 7, "best", 3, 3, "holds for 3 of 3 seeds"],
    ]
    detection = pd.read_csv(paper / "tables" / "tab_seeds_detection.csv")
    row = detection[
        (detection["method"] == "CLV (best)") & (detection["threshold"] == "pot") & (detection["dataset"] == "era5")
    ].iloc[0]
    assert row["f1_mean"] == pytest.approx(_value(1, "era5", "CLV (best)", "pot", "f1"), abs=1e-4)


def test_aggregate_reports_each_world_apart(tmp_path):
    """The synoptic world's roots live under <out>/synoptic; every table says which world a row is from."""
    out, paper = tmp_path / "build" / "seeds", tmp_path / "paper"
    for world in ("default", "synoptic"):
        for s in SEEDS:
            for b in BUILDS:
                _fake_root(SeedLayout(seeds.world_out(out, world), s).method(b), s, b)
    tables = seeds.aggregate(out, paper, SEEDS, BUILDS, "quick", worlds=("default", "synoptic"))
    for key in ("seeds_runs", "seeds_detection", "seeds_attribution", "seeds_claims"):
        assert tables[key].columns[0] == "world" and set(tables[key]["world"]) == {"default", "synoptic"}
    detection = tables["seeds_detection"]
    assert (detection.groupby(["method", "threshold", "dataset"]).size() == 2).all()  # one row per world
    assert detection["n_seeds"].eq(3).all()
