"""Small physical relations used by the synthetic climate (bulk formulas, radiation, insolation).

All inputs and outputs are SI (K, Pa, W m-2, m s-1) unless the docstring says otherwise.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "AIR_HEAT_CAPACITY",
    "BULK_TRANSFER_COEFFICIENT",
    "GAS_CONSTANT_DRY_AIR",
    "LATENT_FUSION",
    "LATENT_SUBLIMATION",
    "SOLAR_CONSTANT",
    "STEFAN_BOLTZMANN",
    "T_MELT",
    "air_density",
    "daily_insolation",
    "emissivity_all_sky",
    "latent_heat_flux",
    "shortwave_down",
    "specific_humidity",
    "surface_layer_temperature",
    "turbulent_coefficient",
    "vapour_pressure",
]

STEFAN_BOLTZMANN = 5.670374e-8  # W m-2 K-4
T_MELT = 273.15  # K
LATENT_FUSION = 3.34e5  # J kg-1
LATENT_SUBLIMATION = 2.834e6  # J kg-1
SOLAR_CONSTANT = 1361.0  # W m-2
AIR_HEAT_CAPACITY = 1005.0  # J kg-1 K-1
GAS_CONSTANT_DRY_AIR = 287.05  # J kg-1 K-1
BULK_TRANSFER_COEFFICIENT = 1.5e-3  # Ch = Ce over snow and ice
#: Largest excess (K) of the 2 m temperature over 0 C above a melting ice surface.
SURFACE_LAYER_EXCESS = 12.0


def surface_layer_temperature(temperature: np.ndarray, excess: float = SURFACE_LAYER_EXCESS) -> np.ndarray:
    """2 m temperature over a melting ice sheet: warm air is cooled by the 0 C surface beneath it.

    Below 0 C the temperature is returned unchanged; above, its excess over 0 C saturates smoothly
    at ``excess`` (``T_MELT + excess * tanh((T - T_MELT) / excess)``), as the katabatic surface layer
    keeps 2 m air over the melting Greenland ice sheet within about 10-15 K of the surface. Without
    it, a warm-advection event on top of an already warm spell gave 2 m air 20 K above the melting
    surface and daily melt above 200 kg m-2.

    Examples
    --------
    >>> t = surface_layer_temperature(np.array([263.15, 273.15, 278.15, 303.15]))
    >>> [round(float(x) - T_MELT, 2) for x in t]
    [-10.0, 0.0, 4.73, 11.84]
    """
    t = np.asarray(temperature, dtype=float)
    return np.where(t > T_MELT, T_MELT + excess * np.tanh((t - T_MELT) / excess), t)


def daily_insolation(day_of_year: np.ndarray, latitude: float) -> np.ndarray:
    """Daily-mean top-of-atmosphere insolation (W m-2).

    Parameters
    ----------
    day_of_year : array of int
        1..366.
    latitude : float
        Degrees north.

    Examples
    --------
    >>> q = daily_insolation(np.array([172, 355]), 67.0)
    >>> bool(q[0] > 450.0 and q[1] < 5.0)
    True
    """
    phi = np.deg2rad(latitude)
    gamma = 2.0 * np.pi * (np.asarray(day_of_year, dtype=float) - 1.0) / 365.25
    decl = np.deg2rad(23.44) * np.sin(2.0 * np.pi * (np.asarray(day_of_year, dtype=float) - 81.0) / 365.25)
    eccentricity = 1.0 + 0.033 * np.cos(gamma)
    cos_h0 = np.clip(-np.tan(phi) * np.tan(decl), -1.0, 1.0)
    h0 = np.arccos(cos_h0)
    return (
        (SOLAR_CONSTANT / np.pi)
        * eccentricity
        * (h0 * np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.sin(h0))
    )


def vapour_pressure(dewpoint: np.ndarray) -> np.ndarray:
    """Vapour pressure (Pa) at a dew point (K), Magnus formula over water."""
    tc = np.asarray(dewpoint) - T_MELT
    return 611.2 * np.exp(17.62 * tc / (243.12 + tc))


def specific_humidity(vapour: np.ndarray, pressure: np.ndarray) -> np.ndarray:
    """Specific humidity (kg kg-1) from vapour pressure and air pressure (Pa)."""
    return 0.622 * vapour / (pressure - 0.378 * vapour)


def air_density(temperature: np.ndarray, pressure: np.ndarray) -> np.ndarray:
    """Dry-air density (kg m-3)."""
    return pressure / (GAS_CONSTANT_DRY_AIR * temperature)


def emissivity_all_sky(temperature: np.ndarray, vapour: np.ndarray, cloud: np.ndarray) -> np.ndarray:
    """Atmospheric emissivity: Brutsaert clear sky blended with overcast (Konzelmann et al. 1994).

    ``eps = eps_cs * (1 - n**4) + 0.952 * n**4`` with ``eps_cs = 1.24 (e/T)**(1/7)``, e in hPa.
    """
    eps_cs = 1.24 * (vapour / 100.0 / temperature) ** (1.0 / 7.0)
    n4 = np.asarray(cloud) ** 4
    return eps_cs * (1.0 - n4) + 0.952 * n4


def shortwave_down(insolation: np.ndarray, cloud: np.ndarray) -> np.ndarray:
    """Surface downward shortwave (W m-2): clear-sky transmissivity 0.78, cloud attenuation."""
    return insolation * 0.78 * (1.0 - 0.6 * np.asarray(cloud) ** 2)


def turbulent_coefficient(temperature: np.ndarray, pressure: np.ndarray, wind: np.ndarray) -> np.ndarray:
    """``rho * cp * Ch * U`` (W m-2 K-1), the sensible-heat exchange coefficient."""
    return air_density(temperature, pressure) * AIR_HEAT_CAPACITY * BULK_TRANSFER_COEFFICIENT * wind


def latent_heat_flux(
    temperature: np.ndarray, pressure: np.ndarray, wind: np.ndarray, q_air: np.ndarray, surface_temperature: np.ndarray
) -> np.ndarray:
    """Bulk latent heat flux (W m-2, positive towards the surface) over a snow/ice surface."""
    q_surf = specific_humidity(vapour_pressure(surface_temperature), pressure)
    rho = air_density(temperature, pressure)
    return rho * LATENT_SUBLIMATION * BULK_TRANSFER_COEFFICIENT * wind * (q_air - q_surf)
