"""The registry: every saved artefact has a manifest entry with its hashes and provenance."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from clvlib.publish.registry import Registry, check_manifest, read_manifest


def _registry(root, notebook="04_detect", dataset="era5"):
    source = root / "data" / "in.csv"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text("a,b\n1,2\n")
    return Registry(root, notebook, dataset, {"dataset": dataset, "profile": "quick", "seed": 3}, [source])


def test_entries_record_hashes_and_provenance(tmp_path):
    reg = _registry(tmp_path)
    reg.table(pd.DataFrame({"x": [1.5, 2.25]}), "demo_era5", "A demo table.")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    reg.figure(fig, "demo_era5", "A demo figure.")
    plt.close(fig)
    manifest = read_manifest(tmp_path / "paper")
    assert set(manifest["artefacts"]) == {"tab_demo_era5", "fig_demo_era5"}
    entry = manifest["artefacts"]["tab_demo_era5"]
    assert entry["caption"] == "A demo table." and entry["notebook"] == "04_detect" and entry["dataset"] == "era5"
    assert entry["seed"] == 3 and entry["profile"] == "quick" and list(entry["inputs"]) == ["data/in.csv"]
    assert set(entry["outputs"]) == {f"paper/tables/tab_demo_era5.{e}" for e in ("csv", "md", "tex")}
    assert entry["packages"]["torch"].startswith("2.13.0") and entry["git_commit"]
    assert check_manifest(tmp_path / "paper") == []


def test_unregistered_changed_and_missing_files_are_reported(tmp_path):
    reg = _registry(tmp_path)
    reg.table(pd.DataFrame({"x": [1]}), "kept", "Kept.")
    reg.table(pd.DataFrame({"x": [1]}), "gone", "Gone.")
    paper = tmp_path / "paper"
    (paper / "tables" / "tab_stray.csv").write_text("x\n1\n")
    (paper / "tables" / "tab_kept.csv").write_text("x\n2\n")
    (paper / "tables" / "tab_gone.md").unlink()
    problems = "\n".join(check_manifest(paper))
    assert "tab_stray.csv: not in paper/manifest.json" in problems
    assert "tab_kept.csv: its SHA-256 differs" in problems
    assert "tab_gone.md: in the manifest but missing" in problems


def test_a_caption_is_required_and_entries_accumulate(tmp_path):
    a = _registry(tmp_path, "04_detect", "era5")
    b = _registry(tmp_path, "04_detect", "gemb")
    a.table(pd.DataFrame({"x": [1]}), "one_era5", "One.")
    b.table(pd.DataFrame({"x": [2]}), "one_gemb", "One, GEMB.")
    with pytest.raises(ValueError, match="caption"):
        a.table(pd.DataFrame({"x": [1]}), "two_era5", " ")
    manifest = json.loads((tmp_path / "paper" / "manifest.json").read_text())
    assert list(manifest["artefacts"]) == ["tab_one_era5", "tab_one_gemb"]


def test_a_run_summary_ranks_forcing_and_responses_apart_and_counts_from_the_files(tmp_path):
    import numpy as np
    import pandas as pd

    from clvlib.publish.summary import run_summary, summary_html
    from clvlib.variables import variable_role

    (tmp_path / "paper" / "tables").mkdir(parents=True)
    time = pd.date_range("2001-05-01", periods=40, freq="5D")
    score = np.linspace(0.0, 1.0, 40)
    pd.DataFrame(
        {
            "time": time,
            "score": score,
            "threshold": 0.9,
            "anomaly": (score > 0.9).astype(int),
            "score: Mahalanobis": score,
        }
    ).to_csv(tmp_path / "scores.csv", index=False)
    pd.DataFrame(
        {"event_id": [1, 2], "start": time[[36, 38]], "end": time[[37, 39]], "peak_time": time[[37, 39]],
         "peak_score": [0.95, 1.0], "extreme": [False, True]}
    ).to_csv(tmp_path / "events.csv", index=False)  # fmt: skip
    pd.DataFrame(
        {"event_id": [2] * 4 + [1] * 2, "feature": ["smlt", "sp", "my_index", "t2m", "t2m", "skt"],
         "delta": [4.0, 3.0, 2.0, 1.0, 2.0, 1.0], "rank": [1, 2, 3, 4, 1, 2]}
    ).to_csv(tmp_path / "paper" / "tables" / "tab_event_drivers_d.csv", index=False)  # fmt: skip
    sentences = run_summary(tmp_path, "d", "best")
    assert "It flags 4 anomalous steps in 2 events (1 extreme)." in sentences
    strongest = next(s for s in sentences if s.startswith("Strongest"))
    assert strongest.index("2001-11-07") < strongest.index("2001-10-28")  # by peak score
    assert "forcing sp, my_index (own variable), t2m; response smlt" in strongest  # the melt is not a driver
    assert "Mahalanobis 1.00" in sentences[-1]
    assert "<code>best</code>" in summary_html(sentences)
    assert [variable_role(v) for v in ("tcc", "sshf", "FAC", "x")] == ["forcing", "response", "response", "own"]


def test_the_report_numbers_its_artefacts_lists_them_in_view_and_shows_a_table_once(tmp_path):
    from clvlib.publish.report import build_report

    reg = _registry(tmp_path)
    reg.table(pd.DataFrame({"x": [1, 2]}), "first_era5", "The first.")
    reg.table(pd.DataFrame({"x": [1, 2]}), "second_era5", "The same rows again.")
    reg.table(pd.DataFrame({"x": [3]}), "third_era5", "Other rows.")
    fig, ax = plt.subplots()
    reg.figure(fig, "plot_era5", "A figure.")
    plt.close(fig)
    (tmp_path / "build").mkdir()
    report = build_report(tmp_path / "paper", tmp_path / "build", claims=False, summary=["One sentence."]).read_text()
    assert "<b>Figure 1.</b> A figure." in report and "<b>Table 3.</b> Other rows." in report
    assert "<a href='#tab_third_era5'>Table 3: tab_third_era5</a>" in report.split("<main>")[0]  # contents
    assert report.count("<table>") == 2 and "The same rows as <a href='#tab_first_era5'>Table 1</a>." in report
    assert report.index("id='summary'") < report.index("id='fig_plot_era5'")


def test_a_long_table_is_shown_in_the_order_its_notebook_asked_with_units_and_plain_years(tmp_path):
    from clvlib.publish.report import MAX_ROWS, build_report

    reg = _registry(tmp_path)
    n = MAX_ROWS + 10
    events = pd.DataFrame(
        {"event_id": range(1, n + 1), "first_year": 2001, "peak_score": [i % 7 + i / 1000 for i in range(n)]}
    )
    reg.table(events, "events_era5", "Events.", show=("-peak_score",))
    reg.table(pd.DataFrame({"n_flagged_steps": [1200, 3], "clipped_pct": [0.5, 1.5]}), "counts_era5", "Counts.")
    (tmp_path / "build").mkdir()
    report = build_report(tmp_path / "paper", tmp_path / "build", claims=False, summary=["One."]).read_text()
    start = report.index("id='tab_events_era5'")
    events_html = report[start : report.index("class='prov'", start)]
    strongest = events.sort_values("peak_score", ascending=False)["event_id"].head(MAX_ROWS)
    weakest = events.sort_values("peak_score")["event_id"].iloc[0]
    shown = [int(row.split("<td class='num'>")[1].split("<")[0]) for row in events_html.split("<tr>")[2:]]
    assert shown == strongest.tolist() and weakest not in shown
    assert f"First {MAX_ROWS} of {n} rows by peak_score (largest first)" in events_html
    assert ">2001<" in events_html and "2,001" not in events_html  # years without a thousands separator
    assert "n_<wbr>flagged_<wbr>steps<br><span class='unit'>5-day steps</span>" in report
    assert "<span class='unit'>%</span>" in report and ">1,200<" in report  # counts keep their separator
    assert read_manifest(tmp_path / "paper")["artefacts"]["tab_events_era5"]["show"] == ["-peak_score"]
    assert "show" not in read_manifest(tmp_path / "paper")["artefacts"]["tab_counts_era5"]


def test_a_stage_records_its_parameters_from_the_stage_table_not_whatever_the_namespace_holds(tmp_path):
    from clvlib.pipeline.stage_inputs import open_stage

    namespace = {"dataset": "gemb", "profile": "quick", "seed": 2, "root": str(tmp_path), "alpha": 0.1}
    namespace |= {"method": "best", "linkage": "k-means", "threshold": 3.5}  # values the notebook made itself
    registry = open_stage("04_detect", namespace, [], source_kind="synthetic")
    registry.table(pd.DataFrame({"x": [1]}), "one_gemb", "One row.")
    entry = read_manifest(tmp_path / "paper")["artefacts"]["tab_one_gemb"]
    assert entry["parameters"] == {
        "dataset": "gemb",
        "profile": "quick",
        "seed": 2,
        "alpha": 0.1,
        "method": "best",
        "source_kind": "synthetic",
    }
    assert entry["dataset"] == "gemb" and entry["notebook"] == "04_detect"
    with pytest.raises(KeyError):
        open_stage("04_detect", {"dataset": "gemb", "root": str(tmp_path)})  # a parameter missing
