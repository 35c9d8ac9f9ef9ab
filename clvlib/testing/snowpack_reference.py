"""The snowpack column's reference: the day-by-day update on arrays of columns, for the tests only.

:func:`clvlib.synthetic.snowpack.run_column` runs the same operations on Python floats, column by
column (faster for the few columns the generator needs); ``tests/test_synthetic.py`` checks that both
give the same bits.
"""

from __future__ import annotations

import numpy as np

from clvlib.synthetic.physics import LATENT_FUSION
from clvlib.synthetic.snowpack import FIRN_COMPACTION_DAYS, FRESH_SNOW_DENSITY, ICE_DENSITY, ColumnOutput, ColumnParams
from clvlib.variables import SECONDS_PER_DAY

__all__ = ["run_column_reference"]


def run_column_reference(
    energy_no_sw: np.ndarray,
    shortwave_down: np.ndarray,
    snowfall: np.ndarray,
    rain: np.ndarray,
    params: ColumnParams,
    albedo_offset: np.ndarray | None = None,
    firn_air_initial: float = 10.0,
) -> ColumnOutput:
    """Reference for :func:`run_column` (same parameters and result): the day-by-day update on arrays of columns.

    Every operation of a day runs once on all columns with numpy; :func:`run_column` runs the same
    operations on Python floats, column by column, and must give the same bits (tests/test_synthetic.py).
    """
    n_days, n_cols = energy_no_sw.shape
    offset = np.zeros_like(energy_no_sw) if albedo_offset is None else albedo_offset
    out = {k: np.empty((n_days, n_cols)) for k in ("melt", "refreeze", "runoff", "albedo", "energy", "firn_air")}
    alpha = np.full(n_cols, params.albedo_fresh)
    cold = np.full(n_cols, params.cold_content_max)
    deep = np.full(n_cols, params.deep_cold_content_max)
    fac = np.full(n_cols, firn_air_initial)
    snow = np.zeros(n_cols)  # seasonal snow on the surface, kg m-2
    air_per_snow = 1.0 / FRESH_SNOW_DENSITY - 1.0 / ICE_DENSITY
    for t in range(n_days):
        a_eff = np.clip(alpha + offset[t], 0.05, 0.95)
        e0 = energy_no_sw[t] + shortwave_down[t] * (1.0 - a_eff)
        joules = e0 * SECONDS_PER_DAY
        warming = np.minimum(np.maximum(joules, 0.0), cold)
        cold = np.minimum(params.cold_content_max, cold - warming + params.cooling_fraction * np.maximum(-joules, 0.0))
        melt = np.maximum(joules - warming, 0.0) / LATENT_FUSION
        liquid = melt + rain[t]
        if params.refreeze:
            frozen = np.maximum(np.minimum(np.minimum(liquid, deep / LATENT_FUSION), fac * ICE_DENSITY), 0.0)
            deep = deep - frozen * LATENT_FUSION
            deep = np.where(melt > 0.0, deep, deep + (params.deep_cold_content_max - deep) / params.deep_recovery_days)
            fac = np.maximum(
                fac * (1.0 - 1.0 / FIRN_COMPACTION_DAYS) - frozen / ICE_DENSITY + snowfall[t] * air_per_snow, 0.0
            )
        else:
            frozen = np.zeros(n_cols)
        out["melt"][t], out["refreeze"][t], out["runoff"][t] = melt, frozen, liquid - frozen
        out["albedo"][t], out["energy"][t], out["firn_air"][t] = a_eff, e0, fac
        snow = np.maximum(snow + snowfall[t] - melt, 0.0)
        floor = np.where(snow > 0.0, params.albedo_min, params.albedo_ice)
        alpha = alpha - params.albedo_age_rate * (alpha - floor) - params.albedo_melt_rate * melt
        alpha = alpha + (params.albedo_fresh - alpha) * np.minimum(1.0, snowfall[t] / params.snowfall_reset)
        alpha = np.clip(alpha, floor, params.albedo_fresh)
    return ColumnOutput(**out)
