"""Independent long tasks (``make seeds``' chains) on dask.distributed, or one after the other.

With ``jobs`` > 1 and no scheduler address, the tasks run on a ``LocalCluster`` of ``jobs`` single-threaded
worker processes on this machine; with an address (``DASK_SCHEDULER_ADDRESS``) they run on that
cluster, whose workers must see the same filesystem (the tasks read and write project folders). With
neither, they run here, one after the other, printing as they go. Each finished task is reported in
one line as it ends; a failed task does not stop the others (its message says where its log is).

Thread settings (:func:`chain_threads`): the numerical libraries of a task's notebook kernels get this
shell's ``OMP_NUM_THREADS`` and kin when it sets them; otherwise, on a local cluster, the cores divided
among the ``jobs`` workers (two kernels of two threads each on two cores run several times slower than
one thread each), and on a remote cluster or here, the library defaults. The same settings give the
same tables wherever a chain runs; a different thread count may change their last digits.

Why not ``dask.bag`` or ``dask.delayed`` graphs: each task is a whole chain of notebooks that runs
minutes to hours in Jupyter kernels of its own; plain futures (``Client.submit``) with
``as_completed`` give the per-task report and failure handling, and nothing is gained from a graph.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

__all__ = ["THREAD_VARIABLES", "chain_threads", "open_client", "run_tasks", "thread_environment"]

#: Environment variables that set the thread count of the numerical libraries (dask's nanny sets them to 1).
THREAD_VARIABLES: tuple[str, ...] = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def thread_environment(values: Mapping[str, str | None]) -> None:
    """Set :data:`THREAD_VARIABLES` in this process to ``values`` (None: unset), for the kernels it starts.

    Examples
    --------
    >>> before = {k: os.environ.get(k) for k in THREAD_VARIABLES}
    >>> thread_environment({"OMP_NUM_THREADS": "3", "MKL_NUM_THREADS": None, "OPENBLAS_NUM_THREADS": None})
    >>> os.environ["OMP_NUM_THREADS"], "MKL_NUM_THREADS" in os.environ
    ('3', False)
    >>> thread_environment(before)
    """
    for name in THREAD_VARIABLES:
        value = values.get(name)
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def chain_threads(jobs: int, address: str | None = None) -> dict[str, str | None]:
    """Thread settings for the tasks' kernels: this shell's, else the cores shared among ``jobs`` local workers.

    Examples
    --------
    >>> saved = {k: os.environ.pop(k, None) for k in THREAD_VARIABLES}
    >>> chain_threads(1), chain_threads(2, "tcp://scheduler:8786")["OMP_NUM_THREADS"]
    ({'OMP_NUM_THREADS': None, 'MKL_NUM_THREADS': None, 'OPENBLAS_NUM_THREADS': None}, None)
    >>> chain_threads(os.cpu_count())["OMP_NUM_THREADS"]
    '1'
    >>> thread_environment(saved)
    """
    mine = {k: os.environ.get(k) for k in THREAD_VARIABLES}
    if any(v is not None for v in mine.values()) or address or jobs <= 1:
        return mine
    share = str(max(1, (os.cpu_count() or 1) // jobs))
    return {k: share for k in THREAD_VARIABLES}


@contextmanager
def open_client(jobs: int, address: str | None, log: Callable[[str], None] = print) -> Iterator:
    """A ``distributed.Client`` on the scheduler at ``address``, or on a ``LocalCluster`` of ``jobs`` workers."""
    from distributed import Client, LocalCluster

    if address:
        with Client(address) as client:
            log(f"dask: scheduler {address}, {len(client.scheduler_info()['workers'])} workers")
            yield client
        return
    with (
        LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        log(f"dask: a local cluster of {jobs} workers; dashboard {client.dashboard_link}")
        yield client


def run_tasks(
    function: Callable[..., str | None],
    tasks: Mapping[str, tuple],
    jobs: int = 1,
    address: str | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, str | None]:
    """Run ``function(*args)`` for every ``key: args`` of ``tasks``; returns each key's error message or None.

    ``function`` reports a failure by returning its message (an exception it raises is turned into
    one, with its traceback), so that one failed task never stops the others.

    Examples
    --------
    >>> def half(x):
    ...     return None if x % 2 == 0 else f"{x} is odd"
    >>> run_tasks(half, {"a": (2,), "b": (3,)}, log=lambda line: None)
    {'a': None, 'b': '3 is odd'}
    """
    results: dict[str, str | None] = {}
    start = time.perf_counter()

    def report(key: str, error: str | None) -> None:
        results[key] = error
        state = "failed" if error else "done"
        log(f"{key}: {state} after {(time.perf_counter() - start) / 60:.1f} min ({len(results)} of {len(tasks)})")

    if jobs <= 1 and not address:
        for key, args in tasks.items():
            try:
                error = function(*args)
            except Exception:  # noqa: BLE001 - reported, the other tasks go on
                error = traceback.format_exc()
            report(key, error)
        return results
    from distributed import as_completed

    with open_client(jobs, address, log) as client:
        futures = {client.submit(function, *args, key=key, pure=False): key for key, args in tasks.items()}
        for future in as_completed(futures):
            try:
                error = future.result()
            except Exception:  # noqa: BLE001 - reported, the other tasks go on
                error = traceback.format_exc()
            report(futures[future], error)
    return {key: results[key] for key in tasks}
