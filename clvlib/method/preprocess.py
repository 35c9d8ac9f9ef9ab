"""Notebook 01's logic: gap check, IQR outlier rule, scaler fitted on the training years.

Two feature sets are written, both scaled with statistics of the training years only:

* ``z``: the plain z-score, ``(x - mean) / std``, as in the original code. It keeps the
  seasonal cycle, so a detector on ``z`` sees every winter as unusual.
* ``za``: the seasonal anomaly, ``(x - clim[step]) / sd_anom``, where ``clim`` is the training-
  period mean of each 5-day step of the year (smoothed over 3 steps) and ``sd_anom`` the
  standard deviation of the training anomalies. This is the default input of the detector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from clvlib.config import PreprocessConfig
from clvlib.errors import InputDataError
from clvlib.files import atomic_write, verify_checksum
from clvlib.method.aggregate import STEPS_PER_YEAR, to_five_day
from clvlib.variables import Variable, catalogue

__all__ = [
    "FeatureScaler",
    "Preprocessed",
    "find_gaps",
    "iqr_clip",
    "iqr_fences",
    "preprocess",
    "read_features",
    "step_climatology",
    "write_features",
]


def iqr_fences(
    anomaly: np.ndarray, train: np.ndarray, k: float, step: np.ndarray | None = None, halfwidth: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper IQR fences, ``Q1 - k * IQR`` and ``Q3 + k * IQR``, of the training values.

    The quartiles ``Q1``, ``Q3`` and ``IQR = Q3 - Q1`` are computed over the training values.
    With ``step`` given, they are computed separately for each step of the year from the training
    values within ``halfwidth`` steps of it (circularly), because the spread of a seasonal anomaly
    changes with the season (shortwave varies in summer, not in the polar night); the IQR of a
    step is never smaller than the IQR of all training values (it is widened symmetrically), so a
    variable that saturates in one season (skin temperature at 0 C in summer) is not flagged for
    leaving the saturation.

    Parameters
    ----------
    anomaly : ndarray, shape (n,)
        Values.
    train : ndarray of bool, shape (n,)
        Which values are training values (used for the quartiles).
    k : float
        Fence multiplier.
    step : ndarray of int, shape (n,), optional
        Step of the year (0..72) of each value.
    halfwidth : int
        Half-width of the window of steps pooled for the quartiles.

    Returns
    -------
    lower, upper : ndarray or float
        Fences for each value (scalars when ``step`` is None).

    Examples
    --------
    >>> a = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 40.0])
    >>> [float(f) for f in iqr_fences(a, np.ones(6, bool), k=5.0)]   # Q1=1.25, Q3=3.75
    [-11.25, 16.25]
    """
    q1, q3 = np.nanpercentile(anomaly[train], [25.0, 75.0])
    if step is not None:
        quartiles = np.empty((STEPS_PER_YEAR, 2))
        for s in range(STEPS_PER_YEAR):
            distance = np.abs((step - s + STEPS_PER_YEAR // 2) % STEPS_PER_YEAR - STEPS_PER_YEAR // 2)
            quartiles[s] = np.nanpercentile(anomaly[(distance <= halfwidth) & train], [25.0, 75.0])
        widen = np.maximum((q3 - q1) - (quartiles[:, 1] - quartiles[:, 0]), 0.0) / 2.0
        q1, q3 = (quartiles[:, 0] - widen)[step], (quartiles[:, 1] + widen)[step]
    iqr = q3 - q1
    return q1 - k * iqr, q3 + k * iqr


def iqr_clip(
    anomaly: np.ndarray, train: np.ndarray, k: float, step: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The IQR rule: values outside the fences of :func:`iqr_fences` are set to the nearest fence.

    Outliers are clipped (winsorized) rather than deleted: the rule is a screen for gross errors
    (unit slips, spikes, fill values), and clipping keeps a genuine extreme as an extreme
    instead of replacing it by interpolated ordinary values. NaN stays NaN and is never an outlier.

    Returns
    -------
    clipped : ndarray
        The values with outliers set to the fence.
    outlier : ndarray of bool
        Which values were clipped.

    Examples
    --------
    >>> clipped, outlier = iqr_clip(np.array([0.0, 1.0, 2.0, 3.0, 4.0, 40.0]), np.ones(6, bool), k=5.0)
    >>> clipped.tolist(), outlier.tolist()
    ([0.0, 1.0, 2.0, 3.0, 4.0, 16.25], [False, False, False, False, False, True])
    """
    lower, upper = iqr_fences(anomaly, train, k, step)
    with np.errstate(invalid="ignore"):
        outlier = (anomaly < lower) | (anomaly > upper)
    return np.where(outlier, np.clip(anomaly, lower, upper), anomaly), outlier


def find_gaps(missing: np.ndarray) -> list[tuple[int, int]]:
    """Runs of consecutive True values as (start index, length).

    Examples
    --------
    >>> find_gaps(np.array([False, True, True, False, True]))
    [(1, 2), (4, 1)]
    """
    padded = np.concatenate([[False], missing, [False]]).astype(int)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(s), int(e - s)) for s, e in zip(edges[::2], edges[1::2], strict=True)]


def step_climatology(values: np.ndarray, step: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Training-period mean of each 5-day step of the year, smoothed by a circular 3-step mean.

    Parameters
    ----------
    values : ndarray, shape (n_time, n_features)
    step : ndarray of int, shape (n_time,)
        Step of the year, 0..72.
    train : ndarray of bool, shape (n_time,)

    Returns
    -------
    ndarray, shape (73, n_features)
    """
    frame = pd.DataFrame(values[train]).groupby(step[train]).mean().reindex(range(STEPS_PER_YEAR))
    clim = frame.to_numpy()
    return (np.roll(clim, 1, axis=0) + clim + np.roll(clim, -1, axis=0)) / 3.0


@dataclass
class FeatureScaler:
    """Scaler fitted on the training years only (scikit-learn style).

    Attributes (after ``fit``)
    --------------------------
    mean_, std_ : ndarray, shape (n_features,)
        Plain z-score statistics.
    climatology_ : ndarray, shape (73, n_features)
        Training mean of each step of the year (smoothed).
    anomaly_std_ : ndarray, shape (n_features,)
        Standard deviation of the training anomalies from ``climatology_``.
    """

    def fit(self, values: np.ndarray, step: np.ndarray, train: np.ndarray, names: tuple[str, ...]) -> "FeatureScaler":
        """Fit on the rows where ``train`` is True; ``names`` label the columns in errors."""
        x = values[train]
        self.mean_ = np.nanmean(x, axis=0)
        self.std_ = np.nanstd(x, axis=0)
        self.climatology_ = step_climatology(values, step, train)
        self.anomaly_std_ = np.nanstd(x - self.climatology_[step[train]], axis=0)
        bad = [n for n, s in zip(names, np.minimum(self.std_, self.anomaly_std_), strict=False) if not s > 0.0]
        if bad:
            raise InputDataError(
                f"variables {bad} do not vary over the training years; they cannot be scaled. Drop them or "
                "use a longer training period."
            )
        return self

    def transform(self, values: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(z, za)``: plain z-scores and standardized seasonal anomalies."""
        z = (values - self.mean_) / self.std_
        za = (values - self.climatology_[step]) / self.anomaly_std_
        return z, za


@dataclass(frozen=True)
class Preprocessed:
    """Output of :func:`preprocess`.

    Attributes
    ----------
    features : xarray.Dataset
        What notebook 01 writes to ``features.nc``.
    variables : pandas.DataFrame
        One row per variable: name, long name, units, mean, std, share filtered.
    gaps : pandas.DataFrame
        One row per gap (variable, start, n_steps, filled).
    """

    features: xr.Dataset
    variables: pd.DataFrame
    gaps: pd.DataFrame


def _gap_detail(daily_missing: pd.Series | None, first: pd.Timestamp, length: int, max_missing_days: int) -> str:
    """How many days of a gap of ``length`` five-day steps from ``first`` are missing, and over the whole record."""
    if daily_missing is None:
        return ""
    span = daily_missing[first : first + pd.Timedelta(days=5 * length - 1)]
    detail = (
        f" ({int(span.sum())} of its {len(span)} days are missing; a five-day step that misses more than "
        f"{max_missing_days} day(s) is missing"
    )
    if span.sum() < len(span):  # days with values inside the gap: scattered missing days, not one hole
        detail += (
            f"; they are scattered, not one hole: {float(daily_missing.mean()):.0%} of the variable's days are "
            "missing over the record (a day misses its value when any of its sub-daily values is missing)"
        )
    return detail + ")"


def _fill(
    values: np.ndarray,
    time: pd.DatetimeIndex,
    names: tuple[str, ...],
    max_gap: int,
    source: str,
    daily_missing: pd.DataFrame | None = None,
    max_missing_days: int = 0,
):
    """Linearly interpolate gaps up to ``max_gap`` steps; longer gaps are an error. Returns (filled, report).

    ``daily_missing`` (days x variables, True where a daily value is missing) makes the error say
    how many days of the gap are missing, so that scattered missing values are not taken for a hole.
    """
    rows = []
    for j, name in enumerate(names):
        for start, length in find_gaps(np.isnan(values[:, j])):
            if length > max_gap:
                column = None if daily_missing is None else daily_missing[name]
                detail = _gap_detail(column, time[start], length, max_missing_days)
                raise InputDataError(
                    f"{source}: variable '{name}' has a gap of {length} five-day steps from {time[start]:%Y-%m-%d}"
                    f"{detail}; at most {max_gap} can be filled by interpolation. Supply the missing data or shorten "
                    "the record."
                )
            rows.append((name, time[start], length))
    filled = pd.DataFrame(values).interpolate(limit_direction="both").to_numpy()
    return filled, pd.DataFrame(rows, columns=["variable", "start", "n_steps"])


def preprocess(
    daily: xr.Dataset,
    variables: tuple[str, ...],
    config: PreprocessConfig,
    source: str,
    variable_info: Mapping[str, Variable] | None = None,
) -> Preprocessed:
    """Aggregate a checked daily data set to 5-day steps, check gaps, filter outliers and scale.

    Parameters
    ----------
    daily : xarray.Dataset
        Daily data in input units (see :func:`clvlib.io.checks.check_daily`).
    variables : tuple of str
        Feature variables, in order.
    config : PreprocessConfig
        Years, IQR multiplier and gap limits.
    source : str
        Name of the input (for error messages).
    variable_info : mapping of str to Variable, optional
        Description of each variable; the package catalogue by default.

    Returns
    -------
    Preprocessed
    """
    years = slice(f"{config.first_year}-01-01", f"{config.test_year}-12-31")
    cat = catalogue() if variable_info is None else variable_info
    five = to_five_day(daily.sel(time=years), variables, config.max_missing_days, cat)
    time = pd.DatetimeIndex(five["time"].values)
    step = five["step"].to_numpy()
    train = five["year"].to_numpy() <= config.last_train_year
    x = np.stack([five[v].to_numpy() for v in variables], axis=1)
    # IQR rule on seasonal anomalies, per season (never on intermittent variables, see iqr_clip)
    clim = step_climatology(x, step, train)[step]
    filtered = np.zeros_like(x, dtype=bool)
    for j, v in enumerate(variables):
        if not cat[v].intermittent:
            clipped, filtered[:, j] = iqr_clip(x[:, j] - clim[:, j], train, config.iqr_k, step)
            x[:, j] = clim[:, j] + clipped
    gaps_before = np.isnan(x)
    record = daily.sel(time=years)
    daily_missing = pd.DataFrame(
        {v: np.isnan(record[v].values) for v in variables}, index=pd.DatetimeIndex(record["time"].values)
    )
    x_filled, gaps = _fill(x, time, variables, config.max_gap_steps, source, daily_missing, config.max_missing_days)
    scaler = FeatureScaler().fit(x_filled, step, train, variables)
    z, za = scaler.transform(x_filled, step)
    features = _features_dataset(five, variables, x_filled, z, za, filtered, gaps_before, scaler, train, config, cat)
    table = pd.DataFrame(
        {
            "variable": list(variables),
            "long_name": [cat[v].long_name for v in variables],
            "units": [cat[v].processed_units for v in variables],
            "mean": scaler.mean_,
            "std": scaler.std_,
            "clipped_pct": 100.0 * filtered.mean(axis=0),
            "gap_steps": gaps_before.sum(axis=0),
        }
    )
    return Preprocessed(features=features, variables=table, gaps=gaps)


def write_features(features: xr.Dataset, path: Path) -> Path:
    """Write ``features.nc`` under a temporary name and rename it, so a crash leaves no partial file,
    with a checksum file that :func:`read_features` verifies."""
    return atomic_write(Path(path), features.to_netcdf, checksum=True)


def read_features(path: Path) -> xr.Dataset:
    """Read ``features.nc`` after checking it against its checksum (a truncated or edited file is an error)."""
    return xr.load_dataset(verify_checksum(Path(path)))


def _features_dataset(five, variables, x, z, za, filtered, gaps, scaler, train, config, cat) -> xr.Dataset:
    """Assemble ``features.nc``."""
    dims = ("time", "feature")
    ds = xr.Dataset(
        {
            "x": (dims, x, {"long_name": "5-day value in processed units (after filtering and gap filling)"}),
            "z": (dims, z, {"long_name": "z-score (training mean and std)", "units": "1"}),
            "za": (dims, za, {"long_name": "standardized seasonal anomaly (training climatology)", "units": "1"}),
            "filtered": (dims, filtered, {"long_name": "clipped to an IQR fence"}),
            "gap": (dims, gaps, {"long_name": "missing after aggregation and interpolated"}),
            "mean": ("feature", scaler.mean_),
            "std": ("feature", scaler.std_),
            "climatology": (("step_of_year", "feature"), scaler.climatology_),
            "anomaly_std": ("feature", scaler.anomaly_std_),
        },
        coords={
            "time": five["time"].values,
            "feature": list(variables),
            "units": ("feature", [cat[v].processed_units for v in variables]),
            "long_name": ("feature", [cat[v].long_name for v in variables]),
            "year": ("time", five["year"].values),
            "step": ("time", five["step"].values),
            "n_days": ("time", five["n_days"].values),
            "is_train": ("time", train),
        },
    )
    ds.attrs = dict(five.attrs)
    ds.attrs.update(
        first_year=config.first_year,
        last_train_year=config.last_train_year,
        test_year=config.test_year,
        iqr_k=config.iqr_k,
        dataset=config.dataset,
    )
    return ds
