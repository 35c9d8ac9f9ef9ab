"""The build itself: incremental rebuilds (make -n), broken outputs rebuilt, failing and interrupted notebooks.

Each test works on a copy of the project's Makefile, clvlib and notebooks in a temporary folder,
with the real environment linked in; ``make -t`` marks everything as built without running it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from clvlib.files import atomic_write, sha256
from clvlib.pipeline.integrity import STAGE_OUTPUTS, invalidate

NOTEBOOK_STEMS = {
    f"{s}_{d}"
    for s in ("01_preprocess", "02_cluster", "03_train", "04_detect", "05_attribute", "06_validate")
    for d in ("era5", "gemb")
} | {"07_compare"}


def _make(tree: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}  # not the outer make's flags
    result = subprocess.run(
        ["make", "--no-print-directory", *args], cwd=tree, capture_output=True, text=True, env=env, timeout=300
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def _fake_outputs(tree: Path) -> None:
    """Data outputs of every stage, with their checksum files (what a finished build leaves)."""
    for patterns in STAGE_OUTPUTS.values():
        for pattern in patterns:
            for dataset in ("era5", "gemb"):
                atomic_write(tree / pattern.format(ds=dataset), lambda p: p.write_text("output"), checksum=True)


@pytest.fixture
def tree(tmp_path) -> Path:
    """A project copy in which ``make paper`` is up to date (marked with make -t)."""
    tree = tmp_path / "project"
    tree.mkdir()
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy2(ROOT / name, tree / name)
    for folder, pattern in (("clvlib", "**/*.py"), ("notebooks", "*.py")):
        for f in (ROOT / folder).glob(pattern):
            (tree / f.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, tree / f.relative_to(ROOT))
    (tree / "paper").mkdir()
    shutil.copy2(ROOT / "paper" / "claims.yaml", tree / "paper" / "claims.yaml")
    shutil.copytree(ROOT / "paper" / "selection", tree / "paper" / "selection")
    (tree / ".venv").symlink_to(ROOT / ".venv")
    (tree / "data" / "raw" / "synthetic" / "seed-0").mkdir(parents=True)
    (tree / "build" / "notebooks").mkdir(parents=True)
    _fake_outputs(tree)
    _make(tree, "-t", "paper")
    assert _rebuilt(tree) == set()
    return tree


def _rebuilt(tree: Path, goal: str = "paper") -> set[str]:
    """Notebooks that ``make -n goal`` would run."""
    out = _make(tree, "-n", goal).stdout
    stems = set(re.findall(r"stem=([0-9a-z_]+);", out))
    return stems | ({"07_compare"} if "== 07_compare" in out else set())


def _edit(path: Path) -> None:
    """Make ``path`` newer than everything built (as an edit would)."""
    later = time.time() + 5
    os.utime(path, (later, later))


def _chain(dataset: str, first: int) -> set[str]:
    stages = ("01_preprocess", "02_cluster", "03_train", "04_detect", "05_attribute", "06_validate")
    return {f"{s}_{dataset}" for s in stages[first - 1 :]}


@pytest.mark.parametrize(
    ("edited", "expected"),
    [
        ("clvlib/method/surrogate.py", {"06_validate_era5", "06_validate_gemb", "07_compare"}),
        ("clvlib/publish/compare.py", {"07_compare"}),
        ("clvlib/method/model.py", _chain("era5", 3) | _chain("gemb", 3) | {"07_compare"}),
        ("clvlib/method/threshold.py", _chain("era5", 4) | _chain("gemb", 4) | {"07_compare"}),
        ("notebooks/04_detect.py", _chain("era5", 4) | _chain("gemb", 4) | {"07_compare"}),
        ("clvlib/publish/registry.py", NOTEBOOK_STEMS),
    ],
)
def test_an_edit_reruns_only_what_depends_on_it(tree, edited, expected):
    _edit(tree / edited)
    assert _rebuilt(tree) == expected


def test_editing_the_claim_rules_reruns_no_notebook(tree):
    _edit(tree / "clvlib" / "publish" / "claims.py")
    out = _make(tree, "-n", "paper").stdout
    assert "clvlib.publish.claims" in out and not re.search(r"stem=", out)


def test_make_seeds_after_make_paper_reruns_no_notebook_only_the_claims_and_the_report(tree):
    import pandas as pd

    from clvlib.publish.seeds_tables import claims_summary, save_tables

    time.sleep(1.1)  # the tables make seeds writes are newer than the build, as after a real run
    verdicts = pd.DataFrame({"seed": [0, 4], "method": "paper", "id": 7, "claim": "c", "verdict": "holds"})
    save_tables(tree / "paper", {"seeds_claims": claims_summary(verdicts)}, {"profile": "full", "seeds": "0,4"}, [])
    out = _make(tree, "-n", "paper").stdout
    assert _rebuilt(tree) == set() and "clvlib.publish.claims" in out and "clvlib.publish.report" in out


def test_real_files_under_data_raw_rerun_their_chain(tree):
    era5 = tree / "data" / "raw" / "era5"
    era5.mkdir(parents=True)
    (era5 / "era5_accum_1951.nc").write_bytes(b"x")
    assert _rebuilt(tree) == _chain("era5", 1) | {"07_compare"}
    _make(tree, "-t", "paper")
    (tree / "data" / "raw" / "measures").mkdir(parents=True)
    (tree / "data" / "raw" / "measures" / "melt.csv").write_text("date,melt area\n")
    assert _rebuilt(tree) == _chain("era5", 4) | _chain("gemb", 4) | {"07_compare"}
    _make(tree, "-t", "paper")
    (era5 / "era5_accum_1951.nc").unlink()  # removing real files also reruns the chain (back to synthetic)
    assert _rebuilt(tree) == _chain("era5", 1) | {"07_compare"}
    _make(tree, "-t", "paper")
    gemb = tree / "gemb_run.mat"
    gemb.write_bytes(b"x")
    out = _make(tree, "-n", "paper", f"GEMB_OUTPUT={gemb}").stdout
    assert set(re.findall(r"stem=([0-9a-z_]+);", out)) == _chain("gemb", 1)


def test_a_truncated_processed_file_makes_its_stage_run_again(tree):
    features = tree / "data" / "processed" / "era5" / "features.nc"
    features.write_text("outp")  # truncated
    result = _make(tree, "-n", "paper")
    assert (
        "01_preprocess_era5 will run again" in result.stderr
        and "features.nc does not match the checksum" in result.stderr
    )
    assert _rebuilt(tree) == _chain("era5", 1) | {"07_compare"}


def test_a_corrupted_model_or_missing_scores_invalidate_their_stages(tree):
    (tree / "data" / "models" / "gemb" / "unclustered-paper" / "clv.pt").write_text("tuptuo")  # same size, other bytes
    (tree / "data" / "processed" / "era5" / "scores.nc").unlink()
    messages = invalidate(tree, tree / "build" / "notebooks")
    assert [m.split(":")[0] for m in messages] == ["03_train_gemb will run again", "04_detect_era5 will run again"]
    assert _rebuilt(tree) == _chain("gemb", 3) | _chain("era5", 4) | {"07_compare"}


def test_an_edited_table_makes_its_notebook_run_again(tree):
    table = tree / "paper" / "tables" / "tab_x_era5.csv"
    atomic_write(table, lambda p: p.write_text("a\n1\n"))
    manifest = {
        "artefacts": {
            "x_era5": {
                "notebook": "05_attribute",
                "dataset": "era5",
                "outputs": {"paper/tables/tab_x_era5.csv": sha256(table)},
            }
        }
    }
    (tree / "paper" / "manifest.json").write_text(json.dumps(manifest))
    assert invalidate(tree, tree / "build" / "notebooks") == []
    table.write_text("a\n2\n")
    assert invalidate(tree, tree / "build" / "notebooks") == [
        "05_attribute_era5 will run again: paper/tables/tab_x_era5.csv changed since 05_attribute_era5 saved it"
    ]


FAILING = """# %% tags=["parameters"]
profile = "full"
seed = 0
root = ".."

# %%
values = [1, 2, 3]

# %%
total = sum(values)
raise ValueError(f"boom: total is {total}")
"""


@pytest.mark.slow
def test_a_failing_notebook_shows_the_cell_and_the_error_in_the_make_output(tree):
    (tree / "notebooks" / "07_compare.py").write_text(FAILING)
    result = _make(tree, "build/notebooks/07_compare.ipynb", check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'raise ValueError(f"boom: total is {total}")' in out and "ValueError: boom: total is 6" in out
    assert re.search(r"--- failing cell \[\d+\] ---\ntotal = sum\(values\)", out)
    assert not (tree / "build" / "notebooks" / "07_compare.ipynb").exists()
    assert (tree / "build" / "notebooks" / ".07_compare.failed.ipynb").exists()
    assert "07_compare" in _rebuilt(tree)


SLOW = """# %% tags=["parameters"]
seed = 0

# %%
import pathlib
import time
pathlib.Path("started").write_text("yes")
time.sleep(120)
"""


@pytest.mark.slow
def test_an_interrupted_notebook_leaves_nothing_make_would_take_as_current(tmp_path):
    source, output = tmp_path / "slow.py", tmp_path / "out" / "slow.ipynb"
    source.write_text(SLOW)
    proc = subprocess.Popen(
        [sys.executable, "-m", "clvlib.pipeline.notebooks", str(source), str(output), "--no-progress"],
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while not (tmp_path / "started").exists() and time.time() < deadline:
        time.sleep(0.2)
    assert (tmp_path / "started").exists(), "the notebook did not start"
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert not output.exists()
    assert [
        p.name for p in output.parent.glob("*.ipynb") if not p.name.startswith(".")
    ] == []  # hidden partial files only


def test_a_finished_run_appends_its_time_and_peak_memory(tmp_path):
    from clvlib.pipeline.notebooks import record_stats

    subprocess.run([sys.executable, "-c", "x = bytearray(60_000_000); x[::4096] = b'1' * len(x[::4096])"], check=True)
    stats = tmp_path / "build" / "stats.jsonl"
    record_stats(stats, "01_preprocess_era5", 6.834)
    record_stats(stats, "02_cluster_era5", 4.2)
    rows = [json.loads(line) for line in stats.read_text().splitlines()]
    assert [r["notebook"] for r in rows] == ["01_preprocess_era5", "02_cluster_era5"] and rows[0]["seconds"] == 6.83
    assert all(r["peak_rss_mb"] >= 55 for r in rows)  # the 60 MB child above
