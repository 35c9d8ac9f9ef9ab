"""The embedded default: a synthetic southwest-Greenland climate whose truth is known.

The generator mimics ERA5 and GEMB closely enough for the method to face the same problems
(seasonal cycle, synoptic variability, coupled variables, a warming trend, a snowpack that
buffers short warm spells) and it knows what the paper could not: which days are anomalous and
which variables drove each anomaly. On this data, statements about ERA5/GEMB physics are method
checks, not findings about Greenland.

Pipeline of :func:`generate`:

1. stochastic weather (AR(1) synoptic anomalies on seasonal cycles, a warming trend that
   accelerates after 1990) for temperature, dew-point depression, cloudiness, wind, pressure and
   precipitation;
2. injected events (:mod:`clvlib.synthetic.events`: six physical types in the default world, three
   kinds in the synoptic one), more frequent as it warms, each perturbing a known set of drivers (the
   truth table);
3. physics: radiation from insolation at ~67 N and cloud cover (cloud lowers shortwave and raises
   longwave), bulk turbulent fluxes, an ERA5-like surface (melt from the energy surplus of a
   melting surface) and a GEMB-like column (cold content, refreezing, firn, albedo) forced by
   the same weather (:mod:`clvlib.synthetic.snowpack`);
4. a MEaSUREs-like melt-extent record 1979-2012 from a snowpack run over elevation bands, with
   observation noise and the every-other-day sampling of the SMMR years.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr
from scipy.signal import lfilter

from clvlib.synthetic import physics as ph
from clvlib.synthetic.events import (
    WORLDS,
    driver_shifts,
    event_types,
    rank_drivers,
)
from clvlib.synthetic.snowpack import ColumnParams, run_column
from clvlib.variables import GEMB_FORCING, SECONDS_PER_DAY, catalogue

__all__ = ["SyntheticClimate", "SyntheticConfig", "draw_events", "generate", "warming"]


@dataclass(frozen=True)
class SyntheticConfig:
    """Settings of the synthetic climate.

    Attributes
    ----------
    start, end : str
        First and last day (inclusive).
    latitude : float
        Latitude of the insolation (degrees north).
    reference_elevation : float
        Elevation (m) of the ERA5-like and GEMB-like series.
    band_elevations : tuple of float
        Elevation bands of the MEaSUREs-like region (m); area grows with elevation.
    region_area_km2 : float
        Ice-sheet area of the region (km2).
    event_rate : float
        Expected events per year before the warming.
    event_rate_per_kelvin : float
        Increase of the log event rate per kelvin of summer warming.
    event_duration : tuple of int
        Smallest and largest event length in days.
    measures_years : tuple of int
        First and last year of the MEaSUREs-like record.
    world : {"default", "synoptic"}
        The family of weather and events (:data:`clvlib.synthetic.events.WORLDS`).
    """

    start: str = "1951-01-01"
    end: str = "2021-12-31"
    latitude: float = 67.0
    reference_elevation: float = 1000.0
    band_elevations: tuple[float, ...] = tuple(float(z) for z in range(200, 2600, 200))
    region_area_km2: float = 2.0e5
    event_rate: float = 2.0
    event_rate_per_kelvin: float = 0.6
    event_duration: tuple[int, int] = (5, 12)
    measures_years: tuple[int, int] = (1979, 2012)
    world: str = "default"

    def __post_init__(self) -> None:
        if self.world not in WORLDS:
            raise ValueError(f"SyntheticConfig.world={self.world!r}: expected one of {WORLDS}")

    def time(self) -> pd.DatetimeIndex:
        """Daily time axis."""
        return pd.date_range(self.start, self.end, freq="D")


@dataclass(frozen=True)
class SyntheticClimate:
    """Output of :func:`generate`.

    Attributes
    ----------
    era5 : xarray.Dataset
        Daily ERA5-like variables (ERA5 short names and units).
    gemb : xarray.Dataset
        Daily GEMB-like output: the forcing (ERA5 names) plus GEMB-style variables.
    truth : pandas.DataFrame
        One row per injected event: event_id, type, start, end, intensity, drivers (ranked,
        ';'-separated ERA5 names) and the standardized shift of each driver.
    measures : pandas.DataFrame
        MEaSUREs-like daily melt record: date, melt area (km2), interpolated (0/1).
    """

    era5: xr.Dataset
    gemb: xr.Dataset
    truth: pd.DataFrame
    measures: pd.DataFrame = field(repr=False)


def warming(time: pd.DatetimeIndex) -> np.ndarray:
    """Warming (K) relative to 1951: slow until 1990, about 0.05 K per year after.

    Examples
    --------
    >>> w = warming(pd.DatetimeIndex(["1951-01-01", "1990-01-01", "2021-01-01"]))
    >>> [round(float(x), 2) for x in w]
    [0.0, 0.16, 1.83]
    """
    year = time.year.to_numpy() + (time.day_of_year.to_numpy() - 1) / 365.25
    return 0.004 * (year - 1951.0) + 0.05 * np.maximum(year - 1990.0, 0.0)


def _ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """Stationary AR(1) series with unit variance."""
    e = rng.standard_normal(n) * np.sqrt(1.0 - phi**2)
    e[0] = rng.standard_normal()
    return lfilter([1.0], [1.0, -phi], e)


def _season(time: pd.DatetimeIndex) -> np.ndarray:
    """Seasonal shape: -1 in late January, +1 in late July."""
    return -np.cos(2.0 * np.pi * (time.day_of_year.to_numpy() - 25.0) / 365.25)


@dataclass(frozen=True)
class _Weather:
    """Primitive daily weather before physics (all arrays of shape (n_days,))."""

    t2m: np.ndarray  # K
    depression: np.ndarray  # dew-point depression, K
    cloud: np.ndarray  # logit of cloud cover
    u10: np.ndarray
    v10: np.ndarray
    sp: np.ndarray  # Pa
    tp: np.ndarray  # kg m-2 per day
    sw_factor: np.ndarray  # multiplies clear-sky shortwave
    albedo_offset: np.ndarray  # added to the surface albedo


def _draw_weather(rng: np.random.Generator, time: pd.DatetimeIndex) -> _Weather:
    """Stochastic weather on seasonal cycles, with the warming trend (no events)."""
    n = len(time)
    s = _season(time)
    trend = warming(time) * (1.0 - 0.3 * s)  # Arctic warming is strongest in winter
    t_sigma = 3.5 - 1.5 * s
    t2m = 264.0 + 12.0 * s + trend + t_sigma * _ar1(rng, n, 0.75)
    cloud_noise = _ar1(rng, n, 0.6)
    cloud = -0.2 * s + 0.7 * cloud_noise
    depression = np.maximum(2.5 - 0.6 * cloud_noise + 0.8 * _ar1(rng, n, 0.5), 0.3)
    u10 = -3.0 + 1.5 * s + 2.5 * _ar1(rng, n, 0.6)
    v10 = 1.5 + 2.5 * _ar1(rng, n, 0.6)
    sp = 86000.0 + 300.0 * s - 450.0 * cloud_noise + 550.0 * _ar1(rng, n, 0.8)
    wet = rng.random(n) < 1.0 / (1.0 + np.exp(-(-0.6 + 1.6 * cloud_noise)))
    autumn = 1.0 + 0.5 * np.exp(-(((time.day_of_year.to_numpy() - 270.0) / 45.0) ** 2))
    tp = wet * rng.gamma(0.8, 3.5, n) * autumn
    sw_factor = 1.0 + 0.04 * rng.standard_normal(n)
    return _Weather(t2m, depression, cloud, u10, v10, sp, tp, sw_factor, np.zeros(n))


def _draw_synoptic_weather(rng: np.random.Generator, time: pd.DatetimeIndex) -> _Weather:
    """Weather driven by three shared synoptic factors (no events), as reanalysis weather is.

    ``advection`` (warm, moist, cloudy, southerly, low pressure, wet), ``blocking`` (high pressure,
    clear and dry) and ``katabatic`` (strong easterly outflow, dry and mild) are persistent AR(1)
    series; every primitive variable is a combination of them plus a little noise of its own, so
    that 5-day anomalies of temperature, dew point, cloud and longwave move together.
    """
    n = len(time)
    s = _season(time)
    advection, blocking, katabatic = (_ar1(rng, n, 0.9) for _ in range(3))
    trend = warming(time) * (1.0 - 0.3 * s)
    t_sigma = 3.5 - 1.5 * s
    t2m = 264.0 + 12.0 * s + trend + t_sigma * (0.85 * advection + 0.25 * katabatic + 0.3 * _ar1(rng, n, 0.5))
    cloud = -0.2 * s + 0.75 * advection - 0.6 * blocking + 0.2 * _ar1(rng, n, 0.5)
    depression = np.maximum(2.5 - 0.8 * advection + 0.5 * blocking + 0.4 * katabatic + 0.2 * _ar1(rng, n, 0.5), 0.3)
    u10 = -3.0 + 1.5 * s + 2.5 * (-0.85 * katabatic - 0.3 * advection + 0.3 * _ar1(rng, n, 0.6))
    v10 = 1.5 + 2.5 * (0.8 * advection + 0.4 * _ar1(rng, n, 0.6))
    sp = 86000.0 + 300.0 * s - 450.0 * advection + 450.0 * blocking + 150.0 * _ar1(rng, n, 0.8)
    wet = rng.random(n) < 1.0 / (1.0 + np.exp(-(-0.6 + 1.4 * advection - 0.8 * blocking)))
    autumn = 1.0 + 0.5 * np.exp(-(((time.day_of_year.to_numpy() - 270.0) / 45.0) ** 2))
    tp = wet * rng.gamma(0.8, 3.5, n) * autumn
    sw_factor = 1.0 + 0.02 * rng.standard_normal(n)
    return _Weather(t2m, depression, cloud, u10, v10, sp, tp, sw_factor, np.zeros(n))


def _synoptic_climate(time: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """The deterministic part (seasonal cycle and trend) of the synoptic world's primitive weather."""
    s = _season(time)
    return {
        "t2m": 264.0 + 12.0 * s + warming(time) * (1.0 - 0.3 * s),
        "cloud": -0.2 * s,
        "depression": np.full(len(time), 2.5),
        "u10": -3.0 + 1.5 * s,
        "v10": np.full(len(time), 1.5),
        "sp": 86000.0 + 300.0 * s,
    }


def draw_events(rng: np.random.Generator, time: pd.DatetimeIndex, config: SyntheticConfig) -> pd.DataFrame:
    """Draw the injected events: Poisson per year, rate growing with the summer warming.

    Events do not overlap and are at least 10 days apart.

    Returns
    -------
    pandas.DataFrame
        Columns event_id, type, start, end, intensity; sorted by start.
    """
    years = np.unique(time.year)
    types = event_types(config.world)
    weights = np.array([e.weight for e in types])
    lo, hi = config.event_duration
    taken = np.zeros(len(time), dtype=bool)
    rows = []
    for year in years:
        mid_summer = pd.DatetimeIndex([pd.Timestamp(year=int(year), month=7, day=15)])
        rate = config.event_rate * np.exp(config.event_rate_per_kelvin * 0.7 * warming(mid_summer)[0])
        for _ in range(rng.poisson(rate)):
            kind = types[rng.choice(len(types), p=weights / weights.sum())]
            days = np.flatnonzero((time.year == year) & np.isin(time.month, kind.months))
            for _attempt in range(50):
                first = int(rng.choice(days))
                length = int(rng.integers(lo, hi + 1))
                span = slice(max(first - 10, 0), first + length + 10)
                if first + length <= len(time) and not taken[span].any():
                    taken[first : first + length] = True
                    rows.append((kind.name, time[first], time[first + length - 1], float(rng.uniform(1.0, 1.4))))
                    break
    truth = pd.DataFrame(rows, columns=["type", "start", "end", "intensity"]).sort_values("start")
    truth.insert(0, "event_id", np.arange(1, len(truth) + 1))
    return truth.reset_index(drop=True)


def _event_shape(length: int) -> np.ndarray:
    """Daily weights of an event: full strength inside, 0.6 on the first and last day."""
    w = np.ones(length)
    w[[0, -1]] = 0.6
    return w


def _inject(weather: _Weather, time: pd.DatetimeIndex, truth: pd.DataFrame) -> _Weather:
    """Apply every event of ``truth`` to the primitive weather (returns a new object)."""
    f = {k: np.array(v, copy=True) for k, v in weather.__dict__.items()}
    index = pd.Series(np.arange(len(time)), index=time)
    for ev in truth.itertuples():
        i0, i1 = index[ev.start], index[ev.end] + 1
        w = _event_shape(i1 - i0) * ev.intensity
        sl = slice(i0, i1)
        if ev.type == "warm_advection":
            f["t2m"][sl] += 7.0 * w
            f["depression"][sl] = np.maximum(f["depression"][sl] - 1.0 * w, 0.2)
        elif ev.type == "clear_sky":
            f["cloud"][sl] -= 5.0 * w
            f["sw_factor"][sl] += 0.12 * w
        elif ev.type == "cloudy_longwave":
            f["cloud"][sl] += 5.0 * w
            f["t2m"][sl] += 1.0 * w
        elif ev.type == "foehn":
            f["u10"][sl] -= 8.0 * w
            f["v10"][sl] -= 2.0 * w
            f["t2m"][sl] += 6.0 * w
            f["depression"][sl] += 5.0 * w
            f["cloud"][sl] -= 1.5 * w
        elif ev.type == "rain_on_snow":
            f["tp"][sl] += 20.0 * w
            f["t2m"][sl] += 6.0 * w
            f["cloud"][sl] += 2.0 * w
            f["depression"][sl] = np.maximum(f["depression"][sl] - 1.0 * w, 0.2)
        elif ev.type == "dark_surface":
            f["albedo_offset"][sl] -= 0.25 * w
        elif ev.type == "dry_warm":  # warm, but drier and clearer than warmth usually comes
            t_sigma = 3.5 - 1.5 * _season(time[sl])
            f["t2m"][sl] += 1.6 * t_sigma * w
            f["depression"][sl] += 2.0 * t_sigma * w
            f["cloud"][sl] -= 1.6 * w
        elif ev.type == "humid_clear":  # saturated air under a clear sky (humidity usually comes with cloud)
            t_sigma = 3.5 - 1.5 * _season(time[sl])
            f["t2m"][sl] += 0.5 * t_sigma * w
            f["depression"][sl] = np.minimum(f["depression"][sl], 0.3)
            f["cloud"][sl] -= 1.6 * w
        elif ev.type == "windy_cold":  # katabatic-strength wind without its mild, dry air
            t_sigma = 3.5 - 1.5 * _season(time[sl])
            f["u10"][sl] -= 4.5 * w
            f["t2m"][sl] -= 1.2 * t_sigma * w
        elif ev.type == "synoptic_reversal":  # the preceding days' weather turned into its opposite
            climate = _synoptic_climate(time)
            before = slice(max(i0 - 5, 0), i0)
            for name in ("t2m", "cloud", "depression", "v10", "sp"):
                anomaly = f[name][sl] - climate[name][sl]
                flipped = -w * (f[name][before] - climate[name][before]).mean()
                f[name][sl] = climate[name][sl] + flipped + 0.5 * (anomaly - anomaly.mean())
            f["depression"][sl] = np.maximum(f["depression"][sl], 0.3)
        else:
            raise ValueError(f"unknown event type {ev.type!r} in the truth table")
    return _Weather(**f)


@dataclass(frozen=True)
class _Forcing:
    """Surface forcing derived from the weather, arrays of shape (n_days, n_columns)."""

    t2m: np.ndarray
    d2m: np.ndarray
    sp: np.ndarray
    tcc: np.ndarray
    wind: np.ndarray
    q_air: np.ndarray
    ssrd: np.ndarray  # W m-2
    strd: np.ndarray  # W m-2
    exchange: np.ndarray  # rho cp Ch U, W m-2 K-1
    energy_no_sw: np.ndarray  # LWnet + H + LE of a melting surface, W m-2
    snowfall: np.ndarray  # kg m-2 per day
    rain: np.ndarray  # kg m-2 per day


def _forcing(weather: _Weather, time: pd.DatetimeIndex, config: SyntheticConfig, elevations: np.ndarray) -> _Forcing:
    """Radiation, humidity and turbulent exchange for columns at ``elevations`` (m)."""
    dz = (elevations - config.reference_elevation)[None, :]
    t2m = ph.surface_layer_temperature(weather.t2m[:, None] - 0.0065 * dz)
    d2m = t2m - weather.depression[:, None]
    sp = weather.sp[:, None] * np.exp(-dz / 8000.0)
    tcc = np.broadcast_to((1.0 / (1.0 + np.exp(-weather.cloud)))[:, None], t2m.shape)
    wind = np.broadcast_to(np.maximum(np.hypot(weather.u10, weather.v10), 0.5)[:, None], t2m.shape)
    vapour = ph.vapour_pressure(d2m)
    q_air = ph.specific_humidity(vapour, sp)
    insolation = ph.daily_insolation(time.day_of_year.to_numpy(), config.latitude)
    ssrd = ph.shortwave_down(insolation[:, None], tcc) * weather.sw_factor[:, None]
    strd = ph.emissivity_all_sky(t2m, vapour, tcc) * ph.STEFAN_BOLTZMANN * t2m**4
    exchange = ph.turbulent_coefficient(t2m, sp, wind)
    lwnet0 = strd - ph.STEFAN_BOLTZMANN * ph.T_MELT**4
    energy_no_sw = lwnet0 + exchange * (t2m - ph.T_MELT) + ph.latent_heat_flux(t2m, sp, wind, q_air, ph.T_MELT)
    snow_fraction = np.clip((274.15 - t2m) / 2.0, 0.0, 1.0)
    tp = np.broadcast_to(weather.tp[:, None], t2m.shape)
    return _Forcing(
        t2m,
        d2m,
        sp,
        tcc,
        wind,
        q_air,
        ssrd,
        strd,
        exchange,
        energy_no_sw,
        tp * snow_fraction,
        tp * (1.0 - snow_fraction),
    )


def _surface_temperature(fc: _Forcing, albedo: np.ndarray, energy: np.ndarray, iterations: int = 6) -> np.ndarray:
    """Surface temperature: 0 C when a melting surface gains energy, else the balance temperature.

    Below freezing, ``SWnet + strd - sigma Ts^4 + C (t2m - Ts) + LE(Ts) = 0`` is solved by Newton
    iterations started at ``min(t2m, 0 C)`` (the latent term's derivative is neglected).
    """
    sw_net = fc.ssrd * (1.0 - albedo)
    ts = np.minimum(fc.t2m, ph.T_MELT)
    for _ in range(iterations):
        residual = (
            sw_net
            + fc.strd
            - ph.STEFAN_BOLTZMANN * ts**4
            + fc.exchange * (fc.t2m - ts)
            + ph.latent_heat_flux(fc.t2m, fc.sp, fc.wind, fc.q_air, ts)
        )
        ts = np.minimum(ts + residual / (4.0 * ph.STEFAN_BOLTZMANN * ts**3 + fc.exchange), ph.T_MELT)
    return np.where(energy > 0.0, ph.T_MELT, ts)


def _surface_fluxes(fc: _Forcing, albedo: np.ndarray, energy: np.ndarray) -> dict[str, np.ndarray]:
    """Net radiation and turbulent fluxes (W m-2, positive towards the surface) and skin temperature."""
    ts = _surface_temperature(fc, albedo, energy)
    return {
        "skt": ts,
        "ssr": fc.ssrd * (1.0 - albedo),
        "str": fc.strd - ph.STEFAN_BOLTZMANN * ts**4,
        "sshf": fc.exchange * (fc.t2m - ts),
        "slhf": ph.latent_heat_flux(fc.t2m, fc.sp, fc.wind, fc.q_air, ts),
    }


def _era5_variables(weather: _Weather, time: pd.DatetimeIndex, config: SyntheticConfig) -> dict[str, np.ndarray]:
    """Daily ERA5-like variables in ERA5 units (accumulations per day)."""
    fc = _forcing(weather, time, config, np.array([config.reference_elevation]))
    col = run_column(
        fc.energy_no_sw, fc.ssrd, fc.snowfall, fc.rain, ColumnParams.era5_like(), weather.albedo_offset[:, None]
    )
    flux = _surface_fluxes(fc, col.albedo, col.energy)
    day = SECONDS_PER_DAY
    out = {
        "t2m": fc.t2m,
        "d2m": fc.d2m,
        "skt": flux["skt"],
        "ssrd": fc.ssrd * day,
        "strd": fc.strd * day,
        "ssr": flux["ssr"] * day,
        "str": flux["str"] * day,
        "sshf": flux["sshf"] * day,
        "slhf": flux["slhf"] * day,
        "tcc": fc.tcc,
        "tp": (fc.snowfall + fc.rain) / 1000.0,
        "sf": fc.snowfall / 1000.0,
        "smlt": col.melt / 1000.0,
        "sp": fc.sp,
        "u10": weather.u10,
        "v10": weather.v10,
        "fal": col.albedo,
    }
    return {k: np.asarray(v).reshape(len(time)) for k, v in out.items()}


def _gemb_variables(weather: _Weather, time: pd.DatetimeIndex, config: SyntheticConfig) -> dict[str, np.ndarray]:
    """Daily GEMB-like output (kg m-2 per day, W m-2) for the reference column."""
    fc = _forcing(weather, time, config, np.array([config.reference_elevation]))
    col = run_column(
        fc.energy_no_sw, fc.ssrd, fc.snowfall, fc.rain, ColumnParams.gemb_like(), weather.albedo_offset[:, None]
    )
    flux = _surface_fluxes(fc, col.albedo, col.energy)
    out = {
        "melt": col.melt,
        "runoff": col.runoff,
        "refreeze": col.refreeze,
        "EC": flux["slhf"] * SECONDS_PER_DAY / ph.LATENT_SUBLIMATION,
        "albedo": col.albedo,
        "netSW": flux["ssr"],
        "netLW": flux["str"],
        "shf": flux["sshf"],
        "lhf": flux["slhf"],
        "FAC": col.firn_air,
    }
    return {k: np.asarray(v).reshape(len(time)) for k, v in out.items()}


def _measures_record(
    weather: _Weather, time: pd.DatetimeIndex, config: SyntheticConfig, rng: np.random.Generator
) -> pd.DataFrame:
    """MEaSUREs-like daily melt area (km2) over the region, with noise and SMMR sampling."""
    keep = (time.year >= config.measures_years[0]) & (time.year <= config.measures_years[1])
    elevations = np.asarray(config.band_elevations)
    fc = _forcing(weather, time, config, elevations)
    col = run_column(
        fc.energy_no_sw, fc.ssrd, fc.snowfall, fc.rain, ColumnParams.true_snowpack(), weather.albedo_offset[:, None]
    )
    area = 1.0 + elevations / 1000.0
    area = config.region_area_km2 * area / area.sum()
    wet = (col.melt > 1.0) | (col.runoff > 1.0)
    melt_area = (wet * area).sum(axis=1)[keep]
    noise = rng.normal(0.0, 0.02 * config.region_area_km2, keep.sum())
    observed = np.clip(melt_area + noise, 0.0, config.region_area_km2)
    dates = time[keep]
    smmr = (dates < pd.Timestamp("1987-08-20")) & (np.arange(len(dates)) % 2 == 1)
    series = pd.Series(np.where(smmr, np.nan, observed), index=dates).interpolate(limit_direction="both")
    return pd.DataFrame(
        {"date": dates, "melt area": np.round(series.to_numpy() / 500.0) * 500.0, "interpolated": smmr.astype(int)}
    )


def _to_dataset(values: dict[str, np.ndarray], time: pd.DatetimeIndex, title: str, seed: int) -> xr.Dataset:
    """Wrap daily arrays as a Dataset with CF-style attributes."""
    cat = catalogue()
    data_vars = {
        k: ("time", v.astype("float64"), {"units": cat[k].units, "long_name": cat[k].long_name})
        for k, v in values.items()
    }
    attrs = {
        "title": title,
        "source": "clvlib.synthetic.generator (embedded default; synthetic data, not observations)",
        "seed": seed,
        "note": "Method checks only: statements about ERA5/GEMB physics on this data are not findings about Greenland.",
    }
    return xr.Dataset(data_vars, coords={"time": time}, attrs=attrs)


def generate(
    seed: int = 0, config: SyntheticConfig = SyntheticConfig(), inject_events: bool = True
) -> SyntheticClimate:
    """Generate the ERA5-like and GEMB-like data sets, the truth table and the MEaSUREs-like record.

    Parameters
    ----------
    seed : int
        Seed of every random draw; the same seed gives identical output.
    config : SyntheticConfig
        Settings.
    inject_events : bool
        False gives the same weather without the events (their truth table is still returned).

    Returns
    -------
    SyntheticClimate
    """
    time = config.time()
    rng = np.random.default_rng(seed)
    base = (_draw_weather if config.world == "default" else _draw_synoptic_weather)(rng, time)
    truth = draw_events(rng, time, config)
    baseline = _era5_variables(base, time, config)
    shifts = driver_shifts(baseline, _era5_variables(_inject(base, time, truth), time, config), time, truth)
    # An event drawn where the weather already looks like it (e.g. a clear-sky event on an
    # already clear day) cannot move its drivers by its type's smallest shift (2 standard
    # deviations for an amplitude event): it is not injected.
    smallest = {e.name: e.min_shift for e in event_types(config.world)}
    needed = shifts["event_id"].map(truth.set_index("event_id")["type"].map(smallest))
    weak = shifts.loc[shifts["shift_sd"].abs() < needed, "event_id"].unique()
    truth = truth[~truth["event_id"].isin(weak)].reset_index(drop=True)
    truth["event_id"] = np.arange(1, len(truth) + 1)
    weather = _inject(base, time, truth) if inject_events else base
    era5 = _era5_variables(weather, time, config)
    perturbed = era5 if inject_events else _era5_variables(_inject(base, time, truth), time, config)
    truth = rank_drivers(truth, driver_shifts(baseline, perturbed, time, truth))
    kinds = {e.name: e.kind for e in event_types(config.world)}
    truth.insert(truth.columns.get_loc("type") + 1, "kind", truth["type"].map(kinds))
    gemb = {k: era5[k] for k in GEMB_FORCING} | _gemb_variables(weather, time, config)
    gemb_ds = _to_dataset(gemb, time, "GEMB-like column output (synthetic)", seed)
    for k in GEMB_FORCING:
        gemb_ds[k].attrs["long_name"] += " (forcing)"
    return SyntheticClimate(
        era5=_to_dataset(era5, time, "ERA5-like regional mean (synthetic)", seed),
        gemb=gemb_ds,
        truth=truth,
        measures=_measures_record(weather, time, config, rng),
    )
