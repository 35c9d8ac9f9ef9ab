"""Shared fixtures: the synthetic default is generated once per test session (seed 0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clvlib.rawdata import write_synthetic
from clvlib.synthetic import generate

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


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
