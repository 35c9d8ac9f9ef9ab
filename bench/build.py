"""Benchmark: wall time of ``make paper`` from a clean build (quick and full profiles), of a no-op
rebuild, and the time and peak memory of each notebook stage.

Each build runs in a fresh copy of the project's tracked files (the environment linked in), so
the working tree's own build is never touched::

    .venv/bin/python bench/build.py [--quick-repeats 3] [--full-repeats 1] [--noop-repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from clvlib.testing.benchmark import figure, format_table, timed

ROOT = Path(__file__).resolve().parents[1]
#: Issue 13's targets on a quiet 2-core machine (seconds).
TARGETS = {"quick": 60.0, "full": 180.0, "noop": 2.0}
DATASETS = ("era5", "gemb")


def copy_project(dest: Path) -> Path:
    """Copy the tracked files (as they are in the working tree) to ``dest`` and link the environment."""
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


def make(tree: Path, *args: str) -> float:
    """Wall time of ``make args`` in ``tree`` (fails loudly)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}  # a fresh top-level make
    seconds, result = timed(
        lambda: subprocess.run(
            ["make", "--no-print-directory", *args], cwd=tree, env=env, capture_output=True, text=True
        )
    )
    if result.returncode != 0:
        raise RuntimeError(f"make {' '.join(args)} failed in {tree}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return seconds


def clean_build(profile: str, keep: Path | None = None) -> tuple[float, Path]:
    """Time ``make paper PROFILE=profile`` in a fresh copy; return the time and the copy (kept in ``keep``)."""
    tree = Path(tempfile.mkdtemp(prefix=f"bench-{profile}-", dir=keep))
    copy_project(tree)
    return make(tree, "paper", f"PROFILE={profile}"), tree


def stage_rows(stats: Path) -> list[dict]:
    """Wall time and peak memory of each notebook run, from the build's ``build/stats.jsonl``."""
    rows = []
    for line in stats.read_text().splitlines():
        rec = json.loads(line)
        rows.append(
            figure(
                f"peak memory, {rec['notebook']} (full)",
                rec["peak_rss_mb"],
                "MB",
                f"wall time {rec['seconds']:.0f} s",
                None,
            )
        )
    return rows


def quality_rows(tree: Path, profile: str) -> list[dict]:
    """Detection and attribution quality of the build in ``tree``, so a speed-up that costs quality shows.

    Per data set: PR-AUC, event recall and event precision of the reported CLV configuration
    against the injected events, and the top-1 accuracy of the paper's occlusion and of the
    recommended attribution among candidate drivers (``tab_detection_truth_*``,
    ``tab_attribution_truth_*``).
    """
    rows, tables = [], tree / "paper" / "tables"
    method = (tree / "build" / "method.txt").read_text().split()[0]
    for dataset in DATASETS:
        detection = pd.read_csv(tables / f"tab_detection_truth_{dataset}.csv")
        clv = detection[(detection["method"] == f"CLV ({method})") & (detection["threshold"] == "pot")].iloc[0]
        for column in ("pr_auc", "event_recall", "event_precision"):
            rows.append(figure(f"quality ({profile}), {dataset}: CLV ({method}) {column}", float(clv[column]), ""))
        attribution = pd.read_csv(tables / f"tab_attribution_truth_{dataset}.csv")
        for _, row in attribution[attribution["type"] == "all"].iterrows():
            rows.append(
                figure(
                    f"quality ({profile}), {dataset}: top-1 accuracy, {row['method']}", float(row["top1_accuracy"]), ""
                )
            )
    return rows


def run(quick_repeats: int = 3, full_repeats: int = 1, noop_repeats: int = 5) -> list[dict]:
    """Build-time figures; each build in its own fresh copy."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-builds-") as tmp:
        quick, quality = [], []
        for _ in range(quick_repeats):
            seconds, tree = clean_build("quick", Path(tmp))
            quick.append(seconds)
            quality = quality_rows(tree, "quick")
            shutil.rmtree(tree)
        rows.append(
            figure(
                f"make paper PROFILE=quick, clean (median of {quick_repeats})",
                float(np.median(quick)),
                "s",
                "target",
                TARGETS["quick"],
                higher_is_better=False,
                target=f"<= {TARGETS['quick']:.0f} s",
            )
        )
        rows += quality
        if full_repeats:
            full, trees = [], []
            for _ in range(full_repeats):
                seconds, tree = clean_build("full", Path(tmp))
                full.append(seconds)
                trees.append(tree)
            noop = [make(trees[-1], "paper") for _ in range(noop_repeats)]
            rows.append(
                figure(
                    f"make paper (full), clean (median of {full_repeats})",
                    float(np.median(full)),
                    "s",
                    "target",
                    TARGETS["full"],
                    higher_is_better=False,
                    target=f"<= {TARGETS['full']:.0f} s",
                )
            )
            rows.append(
                figure(
                    f"make paper, no-op rebuild (median of {noop_repeats})",
                    float(np.median(noop)),
                    "s",
                    "target",
                    TARGETS["noop"],
                    higher_is_better=False,
                    target="<= 2 s",
                )
            )
            rows += stage_rows(trees[-1] / "build" / "stats.jsonl") + quality_rows(trees[-1], "full")
    return rows


def main() -> None:
    """Command line: print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick-repeats", type=int, default=3)
    parser.add_argument("--full-repeats", type=int, default=1)
    parser.add_argument("--noop-repeats", type=int, default=5)
    args = parser.parse_args()
    print(format_table(run(args.quick_repeats, args.full_repeats, args.noop_repeats)))


if __name__ == "__main__":
    main()
