"""Catalogue of the variables the pipeline knows: names, units, kind and plausible ranges.

Daily input data follow ERA5 conventions (short names, accumulations in J m-2 or m of water
equivalent per day); GEMB output follows GEMB conventions (kg m-2 per output step, W m-2).
The 5-day features written by notebook 01 use one convention for both (section "Processed
units" below), so that ERA5-like and GEMB-like features are comparable.

Processed units
---------------
* energy accumulations (J m-2 per day) become mean fluxes in W m-2;
* water accumulations (m water equivalent per day) become mean rates in kg m-2 d-1 (= mm w.e. per day);
* GEMB mass fluxes (kg m-2 per daily step) become mean rates in kg m-2 d-1;
* states (temperatures, cloud cover, pressure, wind, albedo, W m-2 fluxes) are averaged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "CANDIDATE_DRIVERS",
    "ERA5_TO_GEMB",
    "ERA5_VARIABLES",
    "GEMB_FORCING",
    "GEMB_NAMES",
    "GEMB_OUTPUT_VARIABLES",
    "Kind",
    "RESPONSES",
    "SECONDS_PER_DAY",
    "Variable",
    "catalogue",
    "dataset_variables",
    "driver_name",
    "melt_variable",
    "variable_role",
]

SECONDS_PER_DAY = 86400.0

#: The forcing variables (ERA5 names) that the synthetic events perturb directly, in the order the
#: default world's event types first name them: the candidate drivers of an attribution check. Fluxes,
#: skin temperature and melt respond to them. The generator's event types of every world name only these
#: (``tests/test_worlds.py``), so the method can score attributions without importing the generator.
CANDIDATE_DRIVERS: tuple[str, ...] = ("t2m", "d2m", "strd", "ssrd", "tcc", "u10", "sshf", "tp", "fal")

#: Variables of the catalogue that describe the surface's response (its temperature, net and turbulent
#: fluxes, albedo, melt and the firn column) rather than the weather that forces it; a report ranks them
#: apart from the forcing. ``sshf`` and ``fal`` are among the synthetic events' drivers too.
RESPONSES: tuple[str, ...] = (
    "skt", "ssr", "str", "sshf", "slhf", "smlt", "fal",
    "melt", "runoff", "refreeze", "EC", "albedo", "netSW", "netLW", "shf", "lhf", "FAC",
)  # fmt: skip


class Kind(str, Enum):
    """How a daily variable is aggregated to 5-day steps."""

    STATE = "state"  #: averaged
    ENERGY_ACCUMULATION = "energy_accumulation"  #: J m-2 per day -> mean W m-2
    WATER_ACCUMULATION = "water_accumulation"  #: m w.e. per day -> mean kg m-2 d-1
    MASS_FLUX = "mass_flux"  #: kg m-2 per day -> mean kg m-2 d-1


@dataclass(frozen=True)
class Variable:
    """One variable of the catalogue.

    Attributes
    ----------
    name : str
        Short name (ERA5 short name where one exists).
    long_name : str
        Human-readable name.
    units : str
        Canonical units of the daily input.
    kind : Kind
        Aggregation rule to 5-day steps.
    valid_min, valid_max : float
        Plausible range of daily values in ``units``; values outside signal wrong units.
    intermittent : bool
        True for variables that are zero most of the time (precipitation, melt); the IQR outlier
        rule is not applied to them because their interquartile range says nothing about errors.
    """

    name: str
    long_name: str
    units: str
    kind: Kind
    valid_min: float
    valid_max: float
    intermittent: bool = False

    @property
    def processed_units(self) -> str:
        """Units of the 5-day feature."""
        if self.kind is Kind.ENERGY_ACCUMULATION:
            return "W m-2"
        if self.kind in (Kind.WATER_ACCUMULATION, Kind.MASS_FLUX):
            return "kg m-2 d-1"
        return self.units


_J = "J m-2"
_E = Kind.ENERGY_ACCUMULATION
_W = Kind.WATER_ACCUMULATION
_S = Kind.STATE
_M = Kind.MASS_FLUX

#: ERA5 single-level variables used by the paper (DESIGN.md section 5).
ERA5_VARIABLES: tuple[Variable, ...] = (
    Variable("t2m", "2 metre temperature", "K", _S, 190.0, 330.0),
    Variable("d2m", "2 metre dewpoint temperature", "K", _S, 180.0, 320.0),
    Variable("skt", "Skin temperature", "K", _S, 180.0, 330.0),
    Variable("ssrd", "Surface short-wave (solar) radiation downwards", _J, _E, -1e3, 4.5e7),
    Variable("strd", "Surface long-wave (thermal) radiation downwards", _J, _E, 1e6, 4.0e7),
    Variable("ssr", "Surface net short-wave (solar) radiation", _J, _E, -1e3, 4.0e7),
    Variable("str", "Surface net long-wave (thermal) radiation", _J, _E, -2.5e7, 1e7),
    Variable("sshf", "Surface sensible heat flux", _J, _E, -4e7, 4e7),
    Variable("slhf", "Surface latent heat flux", _J, _E, -4e7, 4e7),
    Variable("tcc", "Total cloud cover", "1", _S, 0.0, 1.0),
    Variable("tp", "Total precipitation", "m", _W, 0.0, 0.5, intermittent=True),
    Variable("sf", "Snowfall", "m", _W, 0.0, 0.5, intermittent=True),
    Variable("smlt", "Snowmelt", "m", _W, 0.0, 0.2, intermittent=True),
    Variable("sp", "Surface pressure", "Pa", _S, 4.0e4, 1.1e5),
    Variable("u10", "10 metre U wind component", "m s-1", _S, -80.0, 80.0),
    Variable("v10", "10 metre V wind component", "m s-1", _S, -80.0, 80.0),
    Variable("fal", "Forecast albedo", "1", _S, 0.0, 1.0),
)

#: ERA5 forcing that drives the GEMB-like column (GEMB takes no albedo or fluxes as input).
GEMB_FORCING: tuple[str, ...] = ("t2m", "d2m", "ssrd", "strd", "tcc", "tp", "sf", "sp", "u10", "v10")

#: GEMB-style output variables (GEMB names in ``gemb_name``; see ``GEMB_NAMES``).
GEMB_OUTPUT_VARIABLES: tuple[Variable, ...] = (
    Variable("melt", "Surface melt (GEMB M)", "kg m-2 d-1", _M, 0.0, 200.0, intermittent=True),
    Variable("runoff", "Runoff (GEMB R)", "kg m-2 d-1", _M, 0.0, 300.0, intermittent=True),
    Variable("refreeze", "Refreeze (GEMB F)", "kg m-2 d-1", _M, 0.0, 200.0, intermittent=True),
    Variable("EC", "Evaporation/condensation (GEMB EC)", "kg m-2 d-1", _M, -20.0, 20.0),
    Variable("albedo", "Surface albedo (GEMB a1)", "1", _S, 0.0, 1.0),
    Variable("netSW", "Net shortwave radiation (GEMB netSW)", "W m-2", _S, -10.0, 500.0),
    Variable("netLW", "Net longwave radiation (GEMB netLW)", "W m-2", _S, -300.0, 150.0),
    Variable("shf", "Sensible heat flux, positive to surface (GEMB shf)", "W m-2", _S, -400.0, 400.0),
    Variable("lhf", "Latent heat flux, positive to surface (GEMB lhf)", "W m-2", _S, -400.0, 400.0),
    Variable("FAC", "Firn air content (GEMB FAC)", "m", _S, 0.0, 100.0),
)

#: Real GEMB output names for the GEMB-style variables.
GEMB_NAMES: dict[str, str] = {
    "melt": "M",
    "runoff": "R",
    "refreeze": "F",
    "EC": "EC",
    "albedo": "a1",
    "netSW": "netSW",
    "netLW": "netLW",
    "shf": "shf",
    "lhf": "lhf",
    "FAC": "FAC",
}

#: The GEMB-like variable that plays the role of an ERA5 variable (for driver names).
ERA5_TO_GEMB: dict[str, str] = {
    "fal": "albedo",
    "ssr": "netSW",
    "str": "netLW",
    "sshf": "shf",
    "slhf": "lhf",
    "smlt": "melt",
}


def catalogue() -> dict[str, Variable]:
    """Return every known variable by name.

    Examples
    --------
    >>> catalogue()["t2m"].units
    'K'
    >>> catalogue()["ssrd"].processed_units
    'W m-2'
    """
    return {v.name: v for v in ERA5_VARIABLES + GEMB_OUTPUT_VARIABLES}


def dataset_variables(dataset: str) -> tuple[str, ...]:
    """Names of the variables a data set of the embedded default carries.

    Parameters
    ----------
    dataset : {"era5", "gemb"}
        Data set name.

    Returns
    -------
    tuple of str
        Variable names in a fixed order.
    """
    if dataset == "era5":
        return tuple(v.name for v in ERA5_VARIABLES)
    if dataset == "gemb":
        return GEMB_FORCING + tuple(v.name for v in GEMB_OUTPUT_VARIABLES)
    raise ValueError(f"unknown data set {dataset!r}: expected 'era5' or 'gemb'")


def melt_variable(dataset: str) -> str:
    """Name of the melt variable of a data set (``smlt`` for ERA5, ``melt`` for GEMB)."""
    return {"era5": "smlt", "gemb": "melt"}[dataset]


def driver_name(era5_name: str, dataset: str) -> str:
    """Name under which an ERA5 driver appears in ``dataset``.

    Examples
    --------
    >>> driver_name("fal", "gemb"), driver_name("t2m", "gemb"), driver_name("fal", "era5")
    ('albedo', 't2m', 'fal')
    """
    if dataset == "gemb":
        return ERA5_TO_GEMB.get(era5_name, era5_name)
    return era5_name


def variable_role(name: str) -> str:
    """``forcing``, ``response`` (:data:`RESPONSES`) or ``own`` (a variable the catalogue does not know).

    Examples
    --------
    >>> variable_role("t2m"), variable_role("sp"), variable_role("albedo"), variable_role("nao_index")
    ('forcing', 'forcing', 'response', 'own')
    """
    if name in RESPONSES:
        return "response"
    return "forcing" if name in catalogue() else "own"
