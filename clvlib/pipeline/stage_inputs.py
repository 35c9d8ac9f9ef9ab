"""What a notebook's first cell loads: a stage's inputs as one small typed object.

Notebook 01 reads its input with :func:`clvlib.pipeline.raw_input.load_input`; the later stages call
:func:`load_features` and :func:`load_reference`.

A stage reads ``features.nc`` (notebook 01) and, on the embedded default, the injected events
whose dates and drivers are known and the MEaSUREs-like melt record; on real data the real
MEaSUREs record when ``data/raw/measures`` holds one. :func:`load_features` unpacks the features
once, :func:`load_reference` finds what the detections can be checked against, and
:class:`Reference` answers with a :class:`~clvlib.availability.NotAvailable` result when a
reference is absent, so the notebooks show the same cells on every kind of data.

Paths come from the stage table (:mod:`clvlib.pipeline.stages`). :func:`open_stage` gives the
notebook its :class:`~clvlib.publish.registry.Registry`, the parameters read from its namespace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from clvlib.availability import NotAvailable
from clvlib.io.sources import Source, find_measures, load_measures_source, recorded_kind
from clvlib.method.preprocess import read_features
from clvlib.pipeline.stages import FEATURES, RAW, path, stage
from clvlib.publish import outputs
from clvlib.publish.registry import Registry
from clvlib.synthetic.rawdata import load_measures, load_truth

__all__ = ["Features", "Reference", "load_features", "load_reference", "notebook_parameters", "open_stage"]


def notebook_parameters(namespace: Mapping[str, Any], notebook: str) -> dict[str, Any]:
    """The values of ``notebook``'s parameters (:attr:`clvlib.pipeline.stages.Stage.parameters`) in ``namespace``.

    Examples
    --------
    >>> notebook_parameters({"profile": "quick", "seed": 1, "root": "..", "method": "best", "x": 2}, "07_compare")
    {'profile': 'quick', 'seed': 1, 'method': 'best'}
    """
    return {name: namespace[name] for name in stage(notebook).parameters}


def open_stage(notebook: str, namespace: Mapping[str, Any], inputs: Sequence[Path] = (), **derived: Any) -> Registry:
    """The registry of a notebook run, its figures in the house style.

    Parameters
    ----------
    notebook : str
        The stage's name (``"04_detect"``).
    namespace : mapping
        The notebook's ``globals()``: the values of its parameters (:func:`notebook_parameters`, named
        by the stage table) and ``root``, the project root.
    inputs : sequence of Path
        The files the stage reads; their SHA-256 go into every manifest entry.
    **derived
        Settings the notebook found rather than was given (the kind of source, ...), recorded
        beside the parameters.
    """
    outputs.set_style()
    parameters = notebook_parameters(namespace, notebook) | derived
    root = Path(namespace["root"]).resolve()
    return Registry(root, notebook, parameters.get("dataset"), parameters, list(inputs))


@dataclass(frozen=True)
class Features:
    """``features.nc`` unpacked: the model input and the calendar of its 5-day steps.

    Attributes
    ----------
    data : xarray.Dataset
        The file as read (checksum verified).
    names : tuple of str
        Feature names, in column order.
    time : pandas.DatetimeIndex
        Start of each 5-day step.
    n_days : ndarray
        Days in each step (5, or 6 for the step holding 29 February).
    za : ndarray, shape (n_steps, n_features)
        The model input: standardized seasonal anomalies, each variable minus its training-period
        climatology of that step of the year, divided by the standard deviation of those anomalies
        (notebook 01).
    is_train : ndarray of bool
        Steps of the training years; the others form the held-out year.
    test_year : int
        The held-out year.
    source_kind : str
        ``"synthetic"``, ``"real"`` or ``"user"`` (what notebook 01 read).
    source : str
        A description of that input.
    """

    data: xr.Dataset
    names: tuple[str, ...]
    time: pd.DatetimeIndex
    n_days: np.ndarray
    za: np.ndarray
    is_train: np.ndarray
    test_year: int
    source_kind: str
    source: str


def load_features(root: str | Path, dataset: str) -> Features:
    """Read and unpack ``data/processed/<dataset>/features.nc`` of the project at ``root``."""
    file = path(FEATURES, root, dataset=dataset)
    data = read_features(file)
    is_train = data["is_train"].values
    return Features(
        data=data,
        names=tuple(data["feature"].values.tolist()),
        time=pd.DatetimeIndex(data["time"].values),
        n_days=data["n_days"].values,
        za=data["za"].values,
        is_train=is_train,
        test_year=int(data["year"].values[~is_train].min()),
        source_kind=recorded_kind(data, str(file)),
        source=str(data.attrs.get("source", dataset)),
    )


@dataclass(frozen=True)
class Reference:
    """What the detections and attributions of one data set can be checked against.

    Attributes
    ----------
    truth : pandas.DataFrame or None
        The injected events (start, end, type, drivers) within the features' period; only the
        embedded default has them.
    melt_record : Source or None
        The melt-extent record: the MEaSUREs-like one of the embedded default, or a real MEaSUREs
        record in ``data/raw/measures``.
    raw : Path
        The embedded default's folder (its truth and MEaSUREs-like record).
    """

    truth: pd.DataFrame | None
    melt_record: Source | None
    raw: Path

    @property
    def truth_files(self) -> list[Path]:
        """The file of the injected events, if there are any (for the registry's provenance)."""
        return [self.raw / "truth.csv"] if self.truth is not None else []

    @property
    def files(self) -> list[Path]:
        """Every reference file: the injected events' and the melt record's."""
        return self.truth_files + (list(self.melt_record.paths) if self.melt_record else [])

    @property
    def truth_or_reason(self) -> pd.DataFrame | NotAvailable:
        """The injected events, or why there are none."""
        if self.truth is None:
            return NotAvailable("this data set has no injected events with known dates and drivers")
        return self.truth

    @property
    def measures_name(self) -> str:
        """The melt record as a caption names it."""
        if self.melt_record is None:
            return "no melt-extent record"
        if self.melt_record.kind == "synthetic":
            return "the MEaSUREs-like record"
        return f"the MEaSUREs record ({self.melt_record.description})"

    def measures(self) -> pd.DataFrame | NotAvailable:
        """The melt-extent record (columns date, melt area, interpolated), or why there is none."""
        if self.melt_record is None:
            return NotAvailable(
                "no melt-extent record for this data set (real data: put NSIDC-0533 files or a "
                "melt-area CSV in data/raw/measures/)"
            )
        if self.melt_record.kind == "synthetic":
            return load_measures(self.raw)
        return load_measures_source(self.melt_record)

    def describe(self) -> str:
        """One sentence: what this data set is validated against."""
        truth = "injected events with known drivers" if self.truth is not None else "no injected-event truth"
        record = self.melt_record.description if self.melt_record else "no melt-extent record"
        return f"Validation references: {truth}; melt extent: {record}."


def load_reference(root: str | Path, features: Features, seed: int) -> Reference:
    """The references of the data set that ``features`` came from (see :class:`Reference`)."""
    raw = path(RAW, root, seed=seed).parent
    truth = None
    if features.source_kind == "synthetic":
        truth = load_truth(raw)
        start, end = features.time[0], features.time[-1]
        truth = truth[(truth["end"] >= start) & (truth["start"] <= end)].reset_index(drop=True)
    return Reference(truth=truth, melt_record=find_measures(Path(root), features.source_kind, seed), raw=raw)
