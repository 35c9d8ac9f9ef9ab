"""``make check``: load and check an input exactly as ``make run`` and notebook 01 would, without training.

Command line (what ``make check DATA=... [REGION=...|file]`` calls)::

    python -m clvlib.pipeline.inputcheck PATH [--profile full|quick] [--name custom]

``PATH`` is anything ``make run`` accepts (:func:`clvlib.io.sources.load_user_data`). It is loaded and
checked against the contract of :mod:`clvlib.io.canonical`, then aggregated to five-day steps,
gap-checked and scaled by :func:`clvlib.method.preprocess.preprocess` with the years notebook 01 would use
(:func:`user_config`), so an input that passes here does not fail later for its data. Printed:
the source, the years used for training and held out, and per variable the days with a value,
the period, the mean in the pipeline's units (energy fluxes in W m-2, water in kg m-2 d-1) and
the missing days; then the gaps that notebook 01 fills by interpolation, and whether the
``make run`` contract is met. Exit status 0 when it is, 2 with the message otherwise.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from clvlib.config import PROFILES, PreprocessConfig
from clvlib.errors import InputDataError
from clvlib.io.canonical import CanonicalData, record_years
from clvlib.io.sources import Source, load_user_data
from clvlib.method.aggregate import processed_factor
from clvlib.method.preprocess import preprocess

__all__ = ["InputCheck", "check_input", "main", "user_config", "variable_summary"]


@dataclass(frozen=True)
class InputCheck:
    """What :func:`check_input` found.

    Attributes
    ----------
    source : Source
        How the input was recognised.
    data : CanonicalData
        The checked daily values.
    config : PreprocessConfig
        The years notebook 01 uses (training and held out).
    summary : pandas.DataFrame
        One row per variable (:func:`variable_summary`).
    gaps : pandas.DataFrame
        Gaps of at most ``config.max_gap_steps`` five-day steps that notebook 01 fills by interpolation.
    """

    source: Source
    data: CanonicalData
    config: PreprocessConfig
    summary: pd.DataFrame
    gaps: pd.DataFrame


def user_config(data: CanonicalData, dataset: str, profile: str) -> PreprocessConfig:
    """The preprocessing years of a user's record (the last complete year held out; see :func:`record_years`).

    Examples
    --------
    >>> import xarray as xr
    >>> days = pd.date_range("1990-01-01", "2020-12-31", freq="D")
    >>> data = CanonicalData(xr.Dataset(coords={"time": days}), {}, None, "x.nc", pd.Timedelta("1D"))
    >>> c = user_config(data, "mine", "full")
    >>> c.first_year, c.last_train_year, c.test_year
    (1990, 2019, 2020)
    """
    first, last_train, test = record_years(*data.years, quick=profile == "quick")
    return PreprocessConfig(dataset=dataset, first_year=first, last_train_year=last_train, test_year=test)


def variable_summary(data: CanonicalData, config: PreprocessConfig) -> pd.DataFrame:
    """Per variable over the years used: units, days with a value, period, mean and missing days.

    The mean is in the pipeline's units (:attr:`clvlib.variables.Variable.processed_units`).

    Examples
    --------
    >>> import xarray as xr
    >>> from clvlib.variables import catalogue
    >>> days = pd.date_range("2001-01-01", "2005-12-31", freq="D")
    >>> ssrd = np.full(len(days), 8.64e6)
    >>> ssrd[:10] = np.nan
    >>> daily = xr.Dataset({"ssrd": ("time", ssrd)}, coords={"time": days})
    >>> data = CanonicalData(daily, {"ssrd": catalogue()["ssrd"]}, None, "x.nc", pd.Timedelta("1h"))
    >>> row = variable_summary(data, user_config(data, "x", "full")).iloc[0]
    >>> row["units"], int(row["days"]), row["first"], float(row["mean"]), int(row["missing_days"])
    ('W m-2', 1816, '2001-01-11', 100.0, 10)
    """
    daily = data.daily.sel(time=slice(f"{config.first_year}-01-01", f"{config.test_year}-12-31"))
    time = pd.DatetimeIndex(daily["time"].values)
    rows = []
    for name, var in data.variable_info.items():
        values = daily[name].values.astype(float) * processed_factor(var)
        present = np.isfinite(values)
        rows.append(
            {
                "variable": name,
                "long_name": var.long_name,
                "units": var.processed_units,
                "days": int(present.sum()),
                "first": f"{time[present][0]:%Y-%m-%d}" if present.any() else "",
                "last": f"{time[present][-1]:%Y-%m-%d}" if present.any() else "",
                "mean": float(np.nanmean(values)) if present.any() else float("nan"),
                "missing_days": int((~present).sum()),
            }
        )
    return pd.DataFrame(rows)


def check_input(path: Path, profile: str = "full", dataset: str = "custom") -> InputCheck:
    """Load ``path`` as ``make run`` does and run every check of notebook 01 on it (no training).

    Parameters
    ----------
    path : Path
        Canonical netCDF file, raw ERA5 download (file, ZIP or folder) or GEMB output.
    profile : {"full", "quick"}
        The years used: the whole record, or at most the last 31 years.
    dataset : str
        Name used in messages.

    Returns
    -------
    InputCheck

    Raises
    ------
    clvlib.errors.InputDataError
        With the file, the variable, what was expected and what to do.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: expected one of {PROFILES}")
    source, data = load_user_data(path)
    config = user_config(data, dataset, profile)
    result = preprocess(data.daily, data.variables, config, source=source.label, variable_info=data.variable_info)
    return InputCheck(source, data, config, variable_summary(data, config), result.gaps)


def _report(check: InputCheck) -> str:
    """The text ``make check`` prints for an input that meets the contract."""
    c, data = check.config, check.data
    table = check.summary.drop(columns="long_name").to_markdown(index=False, floatfmt=".4g")
    gaps = (
        "no gaps to fill"
        if check.gaps.empty
        else f"{len(check.gaps)} short gap(s) that notebook 01 fills by interpolation:\n"
        + check.gaps.to_markdown(index=False)
    )
    return (
        f"{check.source.description} ({check.source.layout}), read as {data.source}\n"
        f"step {data.step}; complete years {data.years[0]}-{data.years[1]}; used: {c.first_year}-{c.last_train_year} "
        f"for training, {c.test_year} held out; melt variable {data.melt_variable or 'none'}\n\n{table}\n\n{gaps}\n\n"
        "make run contract: met (loaded, checked and preprocessed as notebook 01 does; nothing was trained)"
    )


def main(argv: list[str] | None = None) -> int:
    """Command line of :func:`check_input`; exit status 2 with the message when the input cannot be used."""
    parser = argparse.ArgumentParser(description="Check an input as make run would, without training.")
    parser.add_argument(
        "path", type=Path, help="canonical netCDF file, raw ERA5 download (file, ZIP or folder) or GEMB output"
    )
    parser.add_argument("--profile", default="full", choices=PROFILES)
    parser.add_argument("--name", default="custom", help="data set name (for messages)")
    args = parser.parse_args(argv)
    try:
        check = check_input(args.path, args.profile, args.name)
    except InputDataError as err:
        print(f"ERROR: {err}\nmake run contract: not met (see above; make run would stop here).", file=sys.stderr)
        return 2
    print(_report(check))
    return 0


if __name__ == "__main__":
    sys.exit(main())
