"""make seeds' chains on dask.distributed (clvlib.pipeline.cluster): a LocalCluster runs the tasks, reports each,
lets a failure through without stopping the others, and gives the workers this process's thread settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cloudpickle

from clvlib.pipeline.cluster import THREAD_VARIABLES, run_tasks, thread_environment

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import the tests folder


def _task(folder: str, name: str, threads: dict) -> str | None:
    """Write ``name`` into ``folder``; fail for names starting with 'bad'; report a thread setting that differs."""
    thread_environment(threads)
    if name.startswith("bad"):
        raise RuntimeError(f"{name} failed on purpose")
    seen = {k: os.environ.get(k) for k in THREAD_VARIABLES}
    Path(folder, name).write_text(f"{os.getpid()}")
    return None if seen == threads else f"thread settings {seen}, expected {threads}"


def test_tasks_run_on_a_two_worker_local_cluster_and_a_failure_does_not_stop_the_others(tmp_path):
    threads = {"OMP_NUM_THREADS": None, "MKL_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": None}
    tasks = {name: (str(tmp_path), name, threads) for name in ("a", "bad", "b", "c")}
    lines = []
    result = run_tasks(_task, tasks, jobs=2, log=lines.append)
    assert list(result) == ["a", "bad", "b", "c"]
    assert result["a"] is None and result["b"] is None and result["c"] is None, result
    assert "bad failed on purpose" in result["bad"] and "Traceback" in result["bad"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]
    assert {p.read_text() for p in tmp_path.iterdir()} != {str(os.getpid())}  # ran in the workers
    assert lines[0].startswith("dask: a local cluster of 2 workers; dashboard http")
    assert sum(" done after " in line for line in lines) == 3 and sum(" failed after " in line for line in lines) == 1


def test_without_jobs_or_scheduler_the_tasks_run_here_one_after_the_other(tmp_path):
    threads = {k: os.environ.get(k) for k in THREAD_VARIABLES}
    lines = []
    result = run_tasks(_task, {n: (str(tmp_path), n, threads) for n in ("x", "bad-y")}, log=lines.append)
    assert result["x"] is None and "bad-y failed on purpose" in result["bad-y"]
    assert (tmp_path / "x").read_text() == str(os.getpid())
    assert [line.split(":")[0] for line in lines] == ["x", "bad-y"]


def test_tasks_go_to_the_scheduler_at_an_address_as_on_a_remote_cluster(tmp_path):
    from distributed import LocalCluster

    threads = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": None, "OPENBLAS_NUM_THREADS": None}
    lines = []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        tasks = {name: (str(tmp_path), name, threads) for name in ("p", "bad-q", "r")}
        result = run_tasks(_task, tasks, jobs=1, address=cluster.scheduler_address, log=lines.append)
    assert result["p"] is None and result["r"] is None and "bad-q failed on purpose" in result["bad-q"]
    assert lines[0] == f"dask: scheduler {cluster.scheduler_address}, 2 workers"
    assert {p.read_text() for p in tmp_path.iterdir()} != {str(os.getpid())}  # ran on the cluster's workers
