"""Notebook 01's input: daily data in the pipeline's units, whatever the source, as one typed object.

:func:`load_input` finds the input (a user's file or folder, real files under ``data/raw``, else
the embedded default), checks and loads it, and returns a :class:`RawInput` with the
preprocessing settings, a description and the files read, so that notebook 01 has no branch on
the kind of data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xarray as xr

from clvlib.config import PreprocessConfig, get_profile
from clvlib.io.sources import Source, find_source, load_raw, region_from_env, user_source
from clvlib.pipeline.inputcheck import user_config
from clvlib.synthetic.rawdata import load_daily, load_truth, verify_synthetic
from clvlib.variables import dataset_variables, melt_variable

__all__ = ["RawInput", "load_input"]


@dataclass(frozen=True)
class RawInput:
    """What notebook 01 reads: daily data in the pipeline's units, with its settings and description.

    Attributes
    ----------
    source : Source
        Where the data came from (the synthetic default, real files under ``data/raw``, a user's file).
    daily : xarray.Dataset
        Daily values, one series per variable.
    variable_info : dict or None
        The variables a real or user input declares (None: the catalogue's, for the default).
    melt : str or None
        The melt variable, if the data set has one.
    config : PreprocessConfig
        Years and rules of the preprocessing (training years, held-out year).
    variables : tuple of str
        The variables preprocessed.
    truth : pandas.DataFrame or None
        The injected events of the embedded default (None for other data).
    description : str
        One line naming the input.
    files : list of Path
        The input files (for the registry's provenance).
    region : str
        The study region of a gridded real input ("" for the default).
    """

    source: Source
    daily: xr.Dataset
    variable_info: dict | None
    melt: str | None
    config: PreprocessConfig
    variables: tuple[str, ...]
    truth: pd.DataFrame | None
    description: str
    files: list[Path]
    region: str

    @property
    def overview_variables(self) -> list[str]:
        """The overview figure's variables: six key ones (the default), else the melt variable and the first others."""
        if self.truth is not None:
            albedo = "fal" if "fal" in self.variables else "albedo"
            return ["t2m", "ssrd", "strd", "tcc", albedo, *([self.melt] if self.melt else [])]
        return list(dict.fromkeys(([self.melt] if self.melt else []) + list(self.variables)))[:6]

    @property
    def shaded_events(self) -> pd.DataFrame | None:
        """The injected events from the first preprocessed year on (shaded in figures), or None."""
        if self.truth is None:
            return None
        return self.truth[self.truth["start"].dt.year >= self.config.first_year]

    def summary(self) -> str:
        """A Markdown paragraph: the source, its days, variables, training and held-out years."""
        time = self.daily["time"]
        return (
            f"**Source ({self.source.kind}):** {self.description}; {self.daily.sizes['time']} days, "
            f"{time[0].dt.strftime('%Y-%m-%d').item()} to {time[-1].dt.strftime('%Y-%m-%d').item()}, "
            f"{len(self.variables)} variables ({', '.join(self.variables)}); years {self.config.first_year}-"
            f"{self.config.last_train_year} for training, {self.config.test_year} held out; "
            f"melt variable: {self.melt or 'none'}."
        )


def load_input(root: str | Path, dataset: str, profile: str, seed: int, data: str = "") -> RawInput:
    """Find, check and load notebook 01's input (see :class:`RawInput`).

    ``data`` is a user's file or folder (``make run``); empty, real files under ``data/raw`` are
    read when present, else the embedded default of ``seed`` (verified against its manifest).
    """
    root = Path(root).resolve()
    source = user_source(Path(data)) if data else find_source(root, dataset, seed)
    if source.kind == "synthetic":
        raw = root / "data" / "raw" / "synthetic" / f"seed-{seed}"
        manifest = verify_synthetic(raw, seed)
        return RawInput(
            source=source,
            daily=load_daily(raw, dataset),
            variable_info=None,
            melt=melt_variable(dataset),
            config=PreprocessConfig(dataset=dataset, first_year=get_profile(profile).first_year),
            variables=dataset_variables(dataset),
            truth=load_truth(raw),
            description=f"synthetic embedded default, seed {manifest['seed']}",
            files=[raw / "manifest.json"],
            region="",
        )
    loaded = load_raw(source)
    extra = f"; {loaded.source}" if source.layout == "era5" else ""
    return RawInput(
        source=source,
        daily=loaded.daily,
        variable_info=loaded.variable_info,
        melt=loaded.melt_variable,
        config=user_config(loaded, dataset, profile),  # the last complete year held out (make check uses the same)
        variables=tuple(loaded.variable_info),
        truth=None,
        description=f"{source.kind} data: {source.description}{extra}",
        files=list(source.inputs),
        region=str(region_from_env()),
    )
