"""The detector's output files, read by notebook 05: ``scores.nc`` and ``events.csv``.

``scores.nc`` (dims time, feature, detector): ``score``, ``threshold`` (NaN outside the scope or
without history), ``anomaly`` (0/1), ``errors`` (squared reconstruction error per feature; ``score`` is
their mean), ``event_id`` (0 outside detected events) and ``detector_score`` (every detector's raw
score side by side: the CLV configurations and the baselines, so a user sees whether they agree).
``events.csv``: one row per detected event (see :func:`clvlib.method.detection.detected_events`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from clvlib.files import atomic_write, verify_checksum

__all__ = ["read_scores", "write_scores"]


def write_scores(
    detection: pd.DataFrame,
    errors: np.ndarray,
    names: tuple[str, ...],
    events: pd.DataFrame,
    folder: Path,
    detectors: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write ``scores.nc`` and ``events.csv`` in ``folder`` (each under a temporary name, then renamed).

    ``detectors`` (name to raw score per step), when given, is stored as ``detector_score``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    time = pd.DatetimeIndex(detection["time"])
    event_id = np.zeros(len(time), dtype=np.int32)
    for ev in events.itertuples():
        event_id[(time >= ev.start) & (time <= ev.end)] = ev.event_id
    ds = xr.Dataset(
        {
            "score": (
                "time",
                detection["score"].to_numpy(float),
                {"long_name": "anomaly score (mean squared reconstruction error)"},
            ),
            "threshold": ("time", detection["threshold"].to_numpy(float), {"long_name": "dynamic threshold"}),
            "anomaly": (
                "time",
                detection["anomaly"].to_numpy().astype(np.int8),
                {"long_name": "score above threshold"},
            ),
            "errors": (
                ("time", "feature"),
                np.asarray(errors, float),
                {"long_name": "squared reconstruction error per feature"},
            ),
            "event_id": ("time", event_id, {"long_name": "detected event (0: none)"}),
        },
        coords={"time": time, "feature": list(names)},
    )
    if detectors:
        ds["detector_score"] = (
            ("time", "detector"),
            np.column_stack([np.asarray(v, float) for v in detectors.values()]),
            {"long_name": "raw anomaly score of every detector (higher = more anomalous)"},
        )
        ds = ds.assign_coords(detector=list(detectors))
    atomic_write(folder / "events.csv", lambda p: events.to_csv(p, index=False), checksum=True)
    return atomic_write(folder / "scores.nc", ds.to_netcdf, checksum=True)


def read_scores(folder: Path) -> tuple[xr.Dataset, pd.DataFrame]:
    """Read what :func:`write_scores` wrote, checking both files against their checksums."""
    folder = Path(folder)
    events = pd.read_csv(
        verify_checksum(folder / "events.csv"),
        parse_dates=["start", "end", "peak_time"],
        dtype={"reference_ids": str, "reference_types": str},
    )
    for column in ("reference_ids", "reference_types"):
        if column in events:
            events[column] = events[column].fillna("")
    return xr.load_dataset(verify_checksum(folder / "scores.nc")), events
