"""5-day aggregation, IQR rule and the training-only scaler."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from clvlib.config import PreprocessConfig
from clvlib.errors import InputDataError
from clvlib.method.aggregate import step_of_year, to_five_day
from clvlib.method.preprocess import FeatureScaler, iqr_clip, iqr_fences, preprocess


def _daily(values: dict[str, np.ndarray], start: str = "2019-01-01") -> xr.Dataset:
    n = len(next(iter(values.values())))
    t = pd.date_range(start, periods=n, freq="D")
    units = {"ssrd": "J m-2", "tp": "m", "t2m": "K"}
    return xr.Dataset({k: ("time", v, {"units": units[k]}) for k, v in values.items()}, coords={"time": t})


def test_accumulated_flux_matches_hand_computation():
    rng = np.random.default_rng(1)
    ssrd = rng.uniform(0.0, 2.5e7, 365)  # J m-2 per day
    tp = rng.uniform(0.0, 0.01, 365)  # m w.e. per day
    five = to_five_day(_daily({"ssrd": ssrd, "tp": tp}), ("ssrd", "tp"))
    # step 2 = days 11..15 of the year: J m-2 summed over 5 days / seconds in 5 days = W m-2
    assert float(five["ssrd"][2]) == pytest.approx(ssrd[10:15].sum() / (5 * 86400.0), rel=1e-12)
    assert float(five["tp"][2]) == pytest.approx(tp[10:15].sum() * 1000.0 / 5, rel=1e-12)
    assert five["ssrd"].attrs["units"] == "W m-2" and five["tp"].attrs["units"] == "kg m-2 d-1"
    assert five.sizes["time"] == 73 and (five["n_days"] == 5).all()


def test_leap_day_joins_the_step_of_28_february():
    t = pd.date_range("2020-01-01", "2020-12-31")
    assert np.bincount(step_of_year(t)).tolist() == [5] * 11 + [6] + [5] * 61
    ds = xr.Dataset({"t2m": ("time", np.arange(366.0) + 250.0, {"units": "K"})}, coords={"time": t})
    five = to_five_day(ds, ("t2m",))
    assert int(five["n_days"][11]) == 6
    assert float(five["t2m"][11]) == pytest.approx(np.mean(np.arange(55, 61) + 250.0))


def test_step_with_too_many_missing_days_is_nan():
    values = np.full(365, 260.0)
    values[[20, 21]] = np.nan  # two days missing in step 4 (days 21..25)
    values[[30]] = np.nan  # one day missing in step 6 is tolerated
    five = to_five_day(_daily({"t2m": values}), ("t2m",), max_missing_days=1)
    assert np.isnan(five["t2m"][4]) and float(five["t2m"][6]) == 260.0


def test_iqr_rule_clips_to_the_fences_of_the_docstring():
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 1.0, 1000)
    a[[10, 500]] = [40.0, -40.0]
    train = np.ones(1000, bool)
    q1, q3 = np.percentile(a, [25, 75])
    lower, upper = iqr_fences(a, train, k=5.0)
    assert lower == pytest.approx(q1 - 5 * (q3 - q1)) and upper == pytest.approx(q3 + 5 * (q3 - q1))
    clipped, outlier = iqr_clip(a, train, k=5.0)
    assert outlier.nonzero()[0].tolist() == [10, 500]
    assert clipped[10] == pytest.approx(upper) and clipped[500] == pytest.approx(lower)
    np.testing.assert_array_equal(np.delete(clipped, [10, 500]), np.delete(a, [10, 500]))


def test_iqr_quartiles_come_from_training_values_only():
    a = np.concatenate([np.random.default_rng(2).normal(size=200), np.full(20, 1e6)])
    train = np.arange(220) < 200
    _, outlier = iqr_clip(a, train, k=5.0)
    assert outlier[200:].all() and not outlier[:200].any()


def test_seasonal_iqr_keeps_summer_variability():
    """Shortwave anomalies vary in summer and not in winter: per-season fences flag no ordinary summer."""
    rng = np.random.default_rng(3)
    step = np.tile(np.arange(73), 40)
    spread = 0.5 + 50.0 * np.sin(np.pi * step / 73.0) ** 4
    a = rng.normal(0.0, 1.0, step.size) * spread
    _, seasonal = iqr_clip(a, np.ones(step.size, bool), k=5.0, step=step)
    assert seasonal.sum() == 0


def test_scaler_uses_training_years_only(climate):
    config = PreprocessConfig(dataset="era5", first_year=2011)
    variables = ("t2m", "ssrd", "tcc")
    a = preprocess(climate.era5, variables, config, "synthetic").features
    changed = climate.era5.copy(deep=True)
    in_2021 = changed["time"].dt.year == 2021
    changed["t2m"] = changed["t2m"].where(~in_2021, changed["t2m"] + 5.0)
    b = preprocess(changed, variables, config, "synthetic").features
    for name in ("mean", "std", "climatology", "anomaly_std"):
        np.testing.assert_array_equal(a[name].values, b[name].values)
    test = a["year"] == 2021
    assert float((b["z"] - a["z"]).sel(feature="t2m").where(test, drop=True).min()) > 0.3
    train_z = a["z"].where(a["is_train"], drop=True)
    np.testing.assert_allclose(train_z.mean("time"), 0.0, atol=1e-9)
    np.testing.assert_allclose(train_z.std("time"), 1.0, atol=1e-9)


def test_scaler_rejects_a_variable_constant_over_training():
    values = np.ones((10, 2))
    values[:, 0] = np.arange(10.0)
    with pytest.raises(InputDataError, match="'b'"):
        FeatureScaler().fit(values, np.arange(10) % 73, np.ones(10, bool), ("a", "b"))


def test_long_gap_is_an_error_short_gap_is_filled(climate):
    config = PreprocessConfig(dataset="era5", first_year=2016)
    ds = climate.era5[["t2m", "tcc"]].sel(time=slice("2016", None)).copy(deep=True)
    short = ds.copy(deep=True)
    short["t2m"][100:108] = np.nan  # 8 days: one or two 5-day steps
    result = preprocess(short, ("t2m", "tcc"), config, "short.nc")
    assert len(result.gaps) == 1 and result.gaps["variable"].item() == "t2m"
    assert np.isfinite(result.features["x"].values).all()
    ds["t2m"][100:140] = np.nan
    with pytest.raises(InputDataError, match=r"long\.nc.*'t2m'.*gap of \d+ five-day steps"):
        preprocess(ds, ("t2m", "tcc"), config, "long.nc")
