"""Properties of the synthetic southwest-Greenland climate (DESIGN.md section 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvlib.synthetic.events import EVENT_TYPES, driver_shifts
from clvlib.synthetic.generator import SyntheticConfig, generate
from clvlib.synthetic.physics import daily_insolation
from clvlib.synthetic.snowpack import ColumnParams, run_column
from clvlib.testing.snowpack_reference import run_column_reference

SHORT = SyntheticConfig(start="2000-01-01", end="2003-12-31")


def _frame(ds):
    return ds.to_dataframe()


def test_july_is_warmer_than_january(climate):
    e = _frame(climate.era5)
    monthly = e["t2m"].groupby(e.index.month).mean()
    assert monthly[7] - monthly[1] > 15.0


def test_shortwave_follows_insolation(climate):
    e = _frame(climate.era5)
    clim = e["ssrd"].groupby(e.index.day_of_year).mean().loc[1:365]
    toa = daily_insolation(clim.index.to_numpy(), SyntheticConfig().latitude)
    assert np.corrcoef(clim.to_numpy(), toa)[0, 1] > 0.99
    assert clim.idxmax() in range(150, 200) and clim.loc[[1, 355]].max() < 0.05 * clim.max()


def test_cloud_lowers_shortwave_and_raises_longwave(climate):
    e = _frame(climate.era5)
    anomaly = e - e.groupby(e.index.day_of_year).transform("mean")
    summer = e.index.month.isin([6, 7])
    assert np.corrcoef(anomaly.loc[summer, "tcc"], anomaly.loc[summer, "ssrd"])[0, 1] < -0.5
    assert np.corrcoef(anomaly["tcc"], anomaly["strd"])[0, 1] > 0.4


def test_variables_have_era5_names_and_units(climate):
    units = {v: climate.era5[v].attrs["units"] for v in climate.era5.data_vars}
    assert units["t2m"] == "K" and units["ssrd"] == "J m-2" and units["tp"] == "m" and units["tcc"] == "1"
    assert set(units) == {
        "t2m",
        "d2m",
        "skt",
        "ssrd",
        "strd",
        "ssr",
        "str",
        "sshf",
        "slhf",
        "tcc",
        "tp",
        "sf",
        "smlt",
        "sp",
        "u10",
        "v10",
        "fal",
    }
    for name in ("melt", "runoff", "refreeze", "albedo", "FAC", "t2m", "ssrd"):
        assert name in climate.gemb


def test_warming_accelerates_after_1990(climate):
    t = climate.era5["t2m"].to_series()
    annual = t.groupby(t.index.year).mean()
    early = np.polyfit(annual.loc[1951:1990].index, annual.loc[1951:1990], 1)[0]
    late = np.polyfit(annual.loc[1991:2021].index, annual.loc[1991:2021], 1)[0]
    assert late > 0.03 and late > 3 * early


def test_every_event_moves_its_drivers_by_more_than_two_sd(climate, climate_without_events):
    time = pd.DatetimeIndex(climate.era5["time"].values)
    base = {v: climate_without_events.era5[v].values for v in climate.era5.data_vars}
    pert = {v: climate.era5[v].values for v in climate.era5.data_vars}
    shifts = driver_shifts(base, pert, time, climate.truth)
    assert len(climate.truth) > 100 and set(climate.truth["type"]) == {e.name for e in EVENT_TYPES}
    assert (shifts["shift_sd"].abs() > 2.0).all(), shifts[shifts["shift_sd"].abs() <= 2.0]
    signs = shifts.merge(climate.truth[["event_id", "type"]]).groupby(["type", "driver"])["shift_sd"]
    assert (signs.max().loc[[("clear_sky", "tcc"), ("dark_surface", "fal"), ("foehn", "u10")]] < 0).all()
    assert (signs.min().loc[[("clear_sky", "ssrd"), ("warm_advection", "t2m"), ("rain_on_snow", "tp")]] > 0).all()


def test_truth_ranks_drivers_by_shift(climate):
    for row in climate.truth.itertuples():
        size = [abs(float(s)) for s in row.shifts_sd.split(";")]
        assert size == sorted(size, reverse=True)
        assert set(row.drivers.split(";")) == set(next(e.drivers for e in EVENT_TYPES if e.name == row.type))


def test_event_frequency_grows_with_warming(climate):
    years = climate.truth["start"].dt.year
    assert (years >= 1991).sum() / 31 > 1.3 * (years <= 1990).sum() / 40


def test_gemb_buffers_short_warm_spells(climate):
    """Early-season warm spells: the GEMB-like cold content absorbs energy the ERA5-like surface melts."""
    era5_melt = climate.era5["smlt"].to_series() * 1000.0  # m w.e. -> kg m-2
    gemb_melt = climate.gemb["melt"].to_series()
    spells = climate.truth[(climate.truth["type"] == "warm_advection") & climate.truth["start"].dt.month.isin([5, 6])]
    assert len(spells) >= 5
    era5 = np.array([era5_melt[s.start : s.end].sum() for s in spells.itertuples()])
    gemb = np.array([gemb_melt[s.start : s.end].sum() for s in spells.itertuples()])
    assert gemb.sum() < 0.9 * era5.sum()
    assert (gemb < era5).mean() > 0.8


def test_measures_record_covers_1979_2012_with_noise_and_smmr_sampling(climate):
    m = climate.measures
    assert m["date"].min() == pd.Timestamp("1979-01-01") and m["date"].max() == pd.Timestamp("2012-12-31")
    summer = m[m["date"].dt.month == 7]["melt area"]
    winter = m[m["date"].dt.month == 1]["melt area"]
    assert summer.mean() > 10 * max(winter.mean(), 1.0)
    early = m[m["date"] < "1987-08-20"]
    assert 0.45 < early["interpolated"].mean() < 0.55 and m[m["date"] > "1988-01-01"]["interpolated"].sum() == 0


def test_same_seed_same_arrays_other_seed_different():
    a, b, c = generate(3, SHORT), generate(3, SHORT), generate(4, SHORT)
    for name in a.era5.data_vars:
        np.testing.assert_array_equal(a.era5[name].values, b.era5[name].values)
    for name in a.gemb.data_vars:
        np.testing.assert_array_equal(a.gemb[name].values, b.gemb[name].values)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not np.array_equal(a.era5["t2m"].values, c.era5["t2m"].values)


@pytest.mark.parametrize("name", ["era5", "gemb"])
def test_no_missing_values(climate, name):
    ds = getattr(climate, name)
    assert all(np.isfinite(ds[v].values).all() for v in ds.data_vars)


@pytest.mark.parametrize(
    "params", [ColumnParams.era5_like(), ColumnParams.true_snowpack()], ids=["no refreeze", "refreeze"]
)
def test_snowpack_on_floats_is_bit_identical_to_the_array_reference(params):
    rng = np.random.default_rng(8)
    days = 3 * 365
    shape = (days, 3)
    season = np.sin(2 * np.pi * np.arange(days) / 365)[:, None]
    args = (
        80.0 * season - 20.0 + 30.0 * rng.normal(size=shape),
        np.clip(250.0 * season + 120.0, 0, None) * np.ones(shape),
        np.clip(rng.normal(1.0, 2.0, shape), 0, None),
        np.clip(rng.normal(0.0, 1.0, shape), 0, None),
        params,
    )
    offset = np.where(rng.random((days, 1)) < 0.05, -0.2, 0.0)
    for kwargs in ({}, {"albedo_offset": offset, "firn_air_initial": 3.0}):
        fast, reference = run_column(*args, **kwargs), run_column_reference(*args, **kwargs)
        for field in ("melt", "refreeze", "runoff", "albedo", "energy", "firn_air"):
            np.testing.assert_array_equal(getattr(fast, field).view(np.int64), getattr(reference, field).view(np.int64))
        assert fast.melt.max() > 0 and (fast.refreeze.max() > 0) == params.refreeze
