"""The study region: a latitude/longitude box and the cos(latitude)-weighted regional mean over it.

Gridded inputs (ERA5) are reduced to one series per variable by averaging the grid points inside
the box with weights proportional to cos(latitude), the relative area of a cell of a regular
latitude/longitude grid; an optional mask (an ice or land fraction on the same grid) removes the
cells outside the surface of interest. Longitudes may come in -180..180 or 0..360; the box is
always given in -180..180 (west negative).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from clvlib.errors import InputDataError

__all__ = ["EVERY_CELL", "Region", "area_weights", "regional_mean", "select_box", "wrap_longitude"]


#: Name of :meth:`Region.every_cell` (what ``REGION=file`` selects).
EVERY_CELL = "every grid cell of the files"


@dataclass(frozen=True)
class Region:
    """A latitude/longitude box (degrees north, degrees east in -180..180).

    The default, 60-70 N and 55-40 W, is southwest Greenland: it holds the western and
    southern ice-sheet margin where most of Greenland's surface melt happens (the ablation zone
    between Cape Farewell and Disko Bay, the K-transect and Kangerlussuaq at 67 N, 50.7 W) and
    the high interior up to the ice divide near 40 W, on a box wide enough (15 x 10 degrees, about
    2500 ERA5 grid points) that the regional mean is not dominated by a single cell. The box also
    holds ocean and tundra: pass an ice (or land) mask to :func:`regional_mean` for a surface-only
    mean.

    Attributes
    ----------
    lat_min, lat_max : float
        Southern and northern edges (inclusive).
    lon_min, lon_max : float
        Western and eastern edges (inclusive), -180..180, ``lon_min < lon_max``.
    name : str
        Label written to the outputs' attributes.

    Examples
    --------
    >>> Region().area_request()
    [70.0, -55.0, 60.0, -40.0]
    """

    lat_min: float = 60.0
    lat_max: float = 70.0
    lon_min: float = -55.0
    lon_max: float = -40.0
    name: str = "southwest Greenland"

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat_min < self.lat_max <= 90.0):
            raise ValueError(f"Region needs -90 <= lat_min < lat_max <= 90, got {self.lat_min}..{self.lat_max}")
        if not (-180.0 <= self.lon_min < self.lon_max <= 180.0):
            raise ValueError(
                f"Region needs -180 <= lon_min < lon_max <= 180 (west negative), got {self.lon_min}..{self.lon_max}"
            )

    @classmethod
    def every_cell(cls) -> Region:
        """The whole globe: every grid cell of the files (``REGION=file``, for a point or a box downloaded on purpose).

        Examples
        --------
        >>> Region.every_cell().contains(np.array([-89.0, 48.75]), np.array([359.0, 2.25])).tolist()
        [True, True]
        """
        return cls(-90.0, 90.0, -180.0, 180.0, name=EVERY_CELL)

    def area_request(self) -> list[float]:
        """The box as the CDS ``area`` keyword: [north, west, south, east]."""
        return [self.lat_max, self.lon_min, self.lat_min, self.lon_max]

    def contains(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """True for points inside the box (``lon`` in -180..180 or 0..360).

        Examples
        --------
        >>> Region().contains(np.array([65.0, 65.0, 75.0]), np.array([310.0, -50.0, -50.0])).tolist()
        [True, True, False]
        """
        lon = wrap_longitude(np.asarray(lon, dtype=float))
        lat = np.asarray(lat, dtype=float)
        return (lat >= self.lat_min) & (lat <= self.lat_max) & (lon >= self.lon_min) & (lon <= self.lon_max)


def wrap_longitude(lon: np.ndarray) -> np.ndarray:
    """Longitudes in -180..180 (180 stays 180).

    Examples
    --------
    >>> wrap_longitude(np.array([0.0, 180.0, 310.0, 359.75, -50.0])).tolist()
    [0.0, 180.0, -50.0, -0.25, -50.0]
    """
    lon = np.asarray(lon, dtype=float)
    return np.where(lon > 180.0, lon - 360.0, lon)


def select_box(ds: xr.Dataset, region: Region, source: str) -> xr.Dataset:
    """The grid points of ``ds`` (dims ``latitude``, ``longitude``) inside ``region``.

    Longitudes are converted to -180..180 and sorted; latitude keeps its stored order.

    Raises
    ------
    InputDataError
        When no grid point falls in the box.
    """
    lon = wrap_longitude(ds["longitude"].values)
    ds = ds.assign_coords(longitude=lon).sortby("longitude")
    lat_in = np.flatnonzero((ds["latitude"].values >= region.lat_min) & (ds["latitude"].values <= region.lat_max))
    lon_v = ds["longitude"].values
    lon_in = np.flatnonzero((lon_v >= region.lon_min) & (lon_v <= region.lon_max))
    if lat_in.size == 0 or lon_in.size == 0:
        raise InputDataError(
            f"{source}: no grid point inside the region {region.lat_min}..{region.lat_max} N, "
            f"{region.lon_min}..{region.lon_max} E; the file covers {float(ds['latitude'].min()):g}.."
            f"{float(ds['latitude'].max()):g} N, {float(lon_v.min()):g}..{float(lon_v.max()):g} E. "
            "Download data for the region, choose a region inside the file's grid "
            "(REGION=lat_min,lat_max,lon_min,lon_max), "
            "or average every grid cell of the files (REGION=file, for a point or a box downloaded on purpose)."
        )
    return ds.isel(latitude=lat_in, longitude=lon_in)


def area_weights(ds: xr.Dataset, mask: xr.DataArray | None = None, threshold: float = 0.5) -> xr.DataArray:
    """Weights cos(latitude), zero where ``mask`` (a fraction on the same grid) is below ``threshold``.

    Examples
    --------
    >>> ds = xr.Dataset(coords={"latitude": [60.0, 0.0], "longitude": [-50.0]})
    >>> area_weights(ds).values.round(3).tolist()
    [[0.5], [1.0]]
    """
    w = np.cos(np.deg2rad(ds["latitude"])) * xr.ones_like(ds["longitude"], dtype=float)
    if mask is not None:
        m = mask.assign_coords(longitude=wrap_longitude(mask["longitude"].values)).sortby("longitude")
        m = m.reindex_like(w, method="nearest", tolerance=1e-6)
        w = w.where(m.fillna(0.0) >= threshold, 0.0)
    return w.transpose("latitude", "longitude")


def regional_mean(
    ds: xr.Dataset, region: Region, source: str, mask: xr.DataArray | None = None, threshold: float = 0.5
) -> xr.Dataset:
    """cos(latitude)-weighted mean over the box (and the mask), lazily if ``ds`` holds dask arrays.

    Grid points that are NaN at a time are left out of that time's mean; a time where every
    point is NaN gives NaN.

    Parameters
    ----------
    ds : xarray.Dataset
        Fields with dims ``latitude`` and ``longitude`` (and any others, e.g. ``time``).
    region : Region
        The box.
    source : str
        Name of the input, for error messages.
    mask : xarray.DataArray, optional
        Fraction (0..1) on the grid of ``ds``, e.g. an ice or land-sea mask; cells below
        ``threshold`` get no weight.
    threshold : float
        Mask threshold.

    Returns
    -------
    xarray.Dataset
        The input without the ``latitude`` and ``longitude`` dims.

    Examples
    --------
    >>> ds = xr.Dataset({"t2m": (("latitude", "longitude"), [[1.0, 1.0], [3.0, 3.0]])},
    ...                 coords={"latitude": [70.0, 60.0], "longitude": [305.0, 310.0]})
    >>> round(float(regional_mean(ds, Region(), "example")["t2m"]), 4)   # (0.342 * 1 + 0.5 * 3) / 0.842
    2.1876
    """
    box = select_box(ds, region, source)
    weights = area_weights(box, mask, threshold)
    if float(weights.sum()) == 0.0:
        raise InputDataError(
            f"{source}: the mask leaves no grid point inside the region {region.name!r}; "
            "check the mask file and threshold, or use a larger Region."
        )
    return box.weighted(weights).mean(("latitude", "longitude"), keep_attrs=True)
