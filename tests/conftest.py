"""Shared fixtures: the synthetic default is generated once per test session (seed 0).

One thread per process, as ``make`` sets it: a plain ``pytest`` then behaves like ``make test``
(without it, torch's threads fight the other test worker and the notebook kernels for the two
cores; one model fixture took 510 s instead of 21 s). Set before torch is imported, and inherited
by every notebook kernel and ``make`` the tests start.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from clvlib.synthetic.generator import generate  # noqa: E402
from clvlib.synthetic.rawdata import write_synthetic  # noqa: E402

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

#: The test files that take longest (``pytest --durations``: the notebook chains, then ``make run``
#: on four kinds of input), collected first. ``make test`` hands whole files to its two workers in
#: collection order (``--dist loadfile --no-loadscope-reorder``); xdist's default order, by number of
#: tests per file, started the notebook file (five tests, about 275 s) last, and it then ran alone.
LONGEST_FIRST = ("test_notebooks.py", "test_run.py", "test_inputcheck.py", "test_make.py", "test_loaders.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files of :data:`LONGEST_FIRST` first, in that order; every other test in its usual order."""

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within a file is kept (07 runs after the chains)


@pytest.fixture(scope="session")
def climate():
    """The embedded default with its injected events."""
    return generate(0)


@pytest.fixture(scope="session")
def climate_without_events():
    """The same weather without the events (same seed)."""
    return generate(0, inject_events=False)


@pytest.fixture(scope="session")
def project_root(tmp_path_factory) -> Path:
    """A throw-away project root holding the synthetic raw data for seed 0."""
    root = tmp_path_factory.mktemp("project")
    write_synthetic(root / "data" / "raw" / "synthetic" / "seed-0", seed=0)
    return root


def five_day_time(n: int) -> pd.DatetimeIndex:
    """``n`` steps of 73 five-day steps per year from 2000 (step starts)."""
    return pd.DatetimeIndex(
        [pd.Timestamp(f"{2000 + i // 73}-01-01") + pd.Timedelta(days=5 * (i % 73)) for i in range(n)]
    )


def two_cluster_series(seed: int, n: int) -> np.ndarray:
    """Five features in two correlated groups (0-2: a yearly cycle, 3-4: a 19-step cycle) plus noise, float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    a, b = np.sin(2 * np.pi * t / 73), np.cos(2 * np.pi * t / 19)
    return (np.stack([a, 0.8 * a, -a, b, 0.5 * b], axis=1) + 0.1 * rng.normal(size=(n, 5))).astype(np.float32)
