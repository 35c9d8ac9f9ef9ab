"""make seeds on a two-worker dask LocalCluster gives the bytes of a serial run (same thread settings).

Quick profile, two seeds, the default world. To stay within a few minutes the chains are the seeds' bases
(notebooks 01-03 for both data sets: the synthetic data, the clustering and the training of every
configuration, where a thread count or a worker could change a number); the method roots run the same
way (:func:`clvlib.pipeline.seeds.build_seed`), and a full comparison is quoted in the commit that added
this test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clvlib.pipeline.cluster import THREAD_VARIABLES
from clvlib.pipeline.seeds import run_seeds

ROOT = Path(__file__).resolve().parents[1]


def _outputs(folder: Path) -> dict[str, bytes]:
    """Every table under ``folder`` (the training losses, clusters, selection and pass-through among them)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("tab_*.csv")}


@pytest.mark.slow
@pytest.mark.notebooks
def test_make_seeds_on_a_two_worker_local_cluster_gives_the_bytes_of_a_serial_run(tmp_path, monkeypatch):
    for name in THREAD_VARIABLES:  # the same thread settings in both runs (the shell's, which the workers get)
        monkeypatch.setenv(name, "1")
    outputs, lines = {}, []
    for run, jobs in (("serial", 1), ("cluster", 2)):
        paper = tmp_path / run / "paper"
        paper.mkdir(parents=True)
        shutil.copy(ROOT / "paper" / "claims.yaml", paper / "claims.yaml")
        log = lines.append if run == "cluster" else (lambda line: None)
        run_seeds((0, 4), "quick", tmp_path / run / "seeds", paper, methods=(), jobs=jobs, worlds=("default",), log=log)
        outputs[run] = _outputs(tmp_path / run)
    assert outputs["serial"].keys() == outputs["cluster"].keys()
    assert sum("tab_training_" in k for k in outputs["serial"]) == 4  # two seeds x two data sets
    differ = [k for k in outputs["serial"] if outputs["serial"][k] != outputs["cluster"][k]]
    assert differ == []
    assert lines[0].startswith("dask: a local cluster of 2 workers; dashboard http")
    assert sorted(line.split(":")[0] for line in lines if " done after " in line) == [
        "default world, seed 0",
        "default world, seed 4",
    ]
    for seed in (0, 4):  # each chain's notebooks wrote to its log on the worker
        assert "03_train_gemb" in (tmp_path / "cluster" / "seeds" / f"seed-{seed}" / "log.txt").read_text()
