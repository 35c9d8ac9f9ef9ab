"""Download the real inputs: ERA5 hourly single levels (``cdsapi``) and MEaSUREs NSIDC-0533 (``earthaccess``).

Command line (``make data``)::

    python -m clvlib.io.download --what era5|measures|all --years 1951-2021 --out data/raw [--site LAT,LON]

ERA5 is requested per year and variable group (instantaneous / accumulated, so no request
returns a mixed ZIP), for the box of :class:`clvlib.io.region.Region`, every hour, as netCDF; the
files are ``<out>/era5/era5_<group>_<year>.nc`` plus ``era5_invariant.nc`` (land-sea mask). The
SHA-256 of every finished file is recorded in ``<out>/era5/manifest.json``; a rerun skips files
whose checksum matches the record, so an interrupted download resumes. With ``--site LAT,LON``
(``make data SITE=...``) ERA5 comes instead from the CDS point product "ERA5 hourly time-series data
on single levels": one request for the whole period at that site, ``era5_point_<lat>_<lon>_<years>.zip``,
with the variables of :data:`POINT_VARIABLES`. MEaSUREs (1979-2012 only)
goes to ``<out>/measures/`` with its own manifest.

The clients are optional (the pipeline never imports them) and not among the pinned
dependencies: ``earthaccess`` pulls about twenty more packages (aiohttp, botocore, s3fs, ...) and
downgrades ``python-dateutil`` to 2.x. Install them into the project's environment with::

    .venv/bin/pip install cdsapi==0.7.7 earthaccess==0.17.0

Credentials
-----------
* CDS: an account at https://cds.climate.copernicus.eu, the ERA5 licence accepted on the data
  set's page, and the personal access token in ``~/.cdsapirc``::

      url: https://cds.climate.copernicus.eu/api
      key: <your-personal-access-token>

  or in the environment variables ``CDSAPI_URL`` and ``CDSAPI_KEY``.
* NASA Earthdata (NSIDC): an account at https://urs.earthdata.nasa.gov and either a
  ``~/.netrc`` line ``machine urs.earthdata.nasa.gov login <user> password <password>`` or the
  environment variables ``EARTHDATA_USERNAME`` and ``EARTHDATA_PASSWORD`` (or ``EARTHDATA_TOKEN``).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from clvlib.errors import CredentialsError
from clvlib.files import atomic_write, sha256
from clvlib.io.region import Region
from clvlib.variables import ERA5_VARIABLES, Kind

__all__ = [
    "CDS_NAMES",
    "CLIENT_PINS",
    "DATASET",
    "INSTALL_HINT",
    "MANIFEST",
    "MEASURES_SHORT_NAME",
    "MEASURES_YEARS",
    "POINT_DATASET",
    "POINT_VARIABLES",
    "Request",
    "check_cds_credentials",
    "check_earthdata_credentials",
    "download_era5",
    "download_measures",
    "era5_requests",
    "import_client",
    "is_complete",
    "main",
    "parse_site",
    "parse_years",
    "point_request",
    "read_manifest",
    "variable_groups",
]

DATASET = "reanalysis-era5-single-levels"
MEASURES_SHORT_NAME = "NSIDC-0533"
MEASURES_YEARS = (1979, 2012)
MANIFEST = "manifest.json"

#: CDS request names of the catalogue's ERA5 short names.
CDS_NAMES: dict[str, str] = {
    "t2m": "2m_temperature",
    "d2m": "2m_dewpoint_temperature",
    "skt": "skin_temperature",
    "ssrd": "surface_solar_radiation_downwards",
    "strd": "surface_thermal_radiation_downwards",
    "ssr": "surface_net_solar_radiation",
    "str": "surface_net_thermal_radiation",
    "sshf": "surface_sensible_heat_flux",
    "slhf": "surface_latent_heat_flux",
    "tcc": "total_cloud_cover",
    "tp": "total_precipitation",
    "sf": "snowfall",
    "smlt": "snowmelt",
    "sp": "surface_pressure",
    "u10": "10m_u_component_of_wind",
    "v10": "10m_v_component_of_wind",
    "fal": "forecast_albedo",
}


#: Exact versions of the optional download clients (checked with ``pip install --dry-run``).
CLIENT_PINS: dict[str, str] = {"cdsapi": "0.7.7", "earthaccess": "0.17.0"}
INSTALL_HINT = ".venv/bin/pip install " + " ".join(f"{k}=={v}" for k, v in CLIENT_PINS.items())


def import_client(name: str):
    """Import the download client ``name`` (``cdsapi`` or ``earthaccess``) or say how to install it.

    Raises
    ------
    CredentialsError
        When the package is not installed; the message holds the pinned install command.
    """
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as err:
        raise CredentialsError(
            f"The download client '{name}' is not installed (it is optional: only 'make data' needs it).\n"
            f"Install both clients into the project's environment with\n    {INSTALL_HINT}\n"
            "(earthaccess also installs aiohttp, botocore and s3fs and downgrades python-dateutil to 2.x)."
        ) from err


@dataclass(frozen=True)
class Request:
    """One download: the CDS data set, the request and the target file name."""

    dataset: str
    request: dict = field(hash=False)
    target: str


def variable_groups() -> dict[str, tuple[str, ...]]:
    """ERA5 variables by CDS step type: ``instant`` and ``accum``.

    Examples
    --------
    >>> {k: len(v) for k, v in variable_groups().items()}
    {'instant': 8, 'accum': 9}
    """
    accum = (Kind.ENERGY_ACCUMULATION, Kind.WATER_ACCUMULATION)
    return {
        "instant": tuple(v.name for v in ERA5_VARIABLES if v.kind not in accum),
        "accum": tuple(v.name for v in ERA5_VARIABLES if v.kind in accum),
    }


def era5_requests(years: Sequence[int], region: Region | None = None, with_mask: bool = True) -> list[Request]:
    """The CDS requests for ``years``: one per year and variable group, plus the land-sea mask.

    Parameters
    ----------
    years : sequence of int
        Years to download.
    region : Region, optional
        The box (default southwest Greenland).
    with_mask : bool
        Add one request for the land-sea mask (``era5_invariant.nc``).

    Returns
    -------
    list of Request

    Examples
    --------
    >>> r = era5_requests([1951], with_mask=False)
    >>> [q.target for q in r], r[0].request["area"], len(r[0].request["time"])
    (['era5_instant_1951.nc', 'era5_accum_1951.nc'], [70.0, -55.0, 60.0, -40.0], 24)
    >>> r[1].request["variable"][:2]
    ['surface_solar_radiation_downwards', 'surface_thermal_radiation_downwards']
    """
    region = Region() if region is None else region
    common = {
        "product_type": ["reanalysis"],
        "month": [f"{m:02d}" for m in range(1, 13)],
        "day": [f"{d:02d}" for d in range(1, 32)],
        "time": [f"{h:02d}:00" for h in range(24)],
        "data_format": "netcdf",
        "download_format": "unarchived",
        "area": region.area_request(),
    }
    out = [
        Request(
            DATASET,
            {**common, "variable": [CDS_NAMES[n] for n in names], "year": [str(year)]},
            f"era5_{group}_{year}.nc",
        )
        for year in years
        for group, names in variable_groups().items()
    ]
    if with_mask:
        mask = {
            **common,
            "variable": ["land_sea_mask"],
            "year": [str(years[0])],
            "month": ["01"],
            "day": ["01"],
            "time": ["00:00"],
        }
        out.append(Request(DATASET, mask, "era5_invariant.nc"))
    return out


#: The CDS point product "ERA5 hourly time-series data on single levels" (one site, decades in one request).
POINT_DATASET = "reanalysis-era5-single-levels-timeseries"
#: Catalogue variables requested from it: those the product is known to serve (it has fewer than the gridded
#: data set; strd, the net fluxes, snowmelt and albedo are not requested).
POINT_VARIABLES: tuple[str, ...] = ("t2m", "d2m", "ssrd", "tcc", "tp", "sp", "u10", "v10")


def parse_site(text: str) -> tuple[float, float]:
    """Latitude and longitude from ``"67.0,-50.7"`` (degrees north and east, west negative).

    Examples
    --------
    >>> parse_site("67.0, -50.7")
    (67.0, -50.7)
    """
    try:
        lat, lon = (float(v) for v in text.split(","))
    except ValueError as err:
        raise ValueError(f"SITE={text!r}: expected 'lat,lon' in degrees north and east, e.g. SITE=67.0,-50.7") from err
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 360.0):
        raise ValueError(f"SITE={text!r}: latitude must lie in -90..90 and longitude in -180..360")
    return lat, lon


def point_request(years: Sequence[int], lat: float, lon: float) -> Request:
    """The CDS request of the point product for ``years`` at one site (a ZIP holding one netCDF).

    The period runs to 1 January 00:00 after the last year, which closes the last day's
    accumulations (ERA5 accumulates over the hour ending at each valid time).

    Examples
    --------
    >>> r = point_request(range(1951, 2022), 67.0, -50.7)
    >>> r.dataset, r.target
    ('reanalysis-era5-single-levels-timeseries', 'era5_point_67.0_-50.7_1951-2021.zip')
    >>> r.request["date"], r.request["location"]
    (['1951-01-01/2022-01-01'], {'longitude': -50.7, 'latitude': 67.0})
    """
    first, last = min(years), max(years)
    request = {
        "variable": [CDS_NAMES[n] for n in POINT_VARIABLES],
        "location": {"longitude": lon, "latitude": lat},
        "date": [f"{first}-01-01/{last + 1}-01-01"],
        "data_format": "netcdf",
    }
    return Request(POINT_DATASET, request, f"era5_point_{lat}_{lon}_{first}-{last}.zip")


def parse_years(text: str) -> list[int]:
    """Years from ``"1951-2021"``, ``"2012"`` or ``"1979,1980"``.

    Examples
    --------
    >>> parse_years("2010-2012"), parse_years("1979,2012")
    ([2010, 2011, 2012], [1979, 2012])
    """
    years: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        years.extend(range(int(lo), int(hi or lo) + 1))
    return years


def check_cds_credentials(environ: Mapping[str, str] | None = None, home: Path | None = None) -> None:
    """Raise :class:`CredentialsError` unless ``~/.cdsapirc`` or ``CDSAPI_URL``/``CDSAPI_KEY`` exist."""
    environ = os.environ if environ is None else environ
    home = Path.home() if home is None else Path(home)
    rc = Path(environ.get("CDSAPI_RC", home / ".cdsapirc"))
    if rc.exists() or (environ.get("CDSAPI_URL") and environ.get("CDSAPI_KEY")):
        return
    raise CredentialsError(
        f"No Copernicus CDS credentials: {rc} does not exist and CDSAPI_URL/CDSAPI_KEY are not set.\n"
        "To set them up: create an account at https://cds.climate.copernicus.eu, accept the licence on the "
        "'ERA5 hourly data on single levels' page (Download tab), copy your personal access token from your "
        f"profile page and write {rc} with the two lines\n"
        "    url: https://cds.climate.copernicus.eu/api\n"
        "    key: <your-personal-access-token>\n"
        "or export CDSAPI_URL=https://cds.climate.copernicus.eu/api and CDSAPI_KEY=<token>."
    )


def check_earthdata_credentials(environ: Mapping[str, str] | None = None, home: Path | None = None) -> None:
    """Raise :class:`CredentialsError` unless a NASA Earthdata login is configured."""
    environ = os.environ if environ is None else environ
    home = Path.home() if home is None else Path(home)
    netrc = Path(environ.get("NETRC", home / ".netrc"))
    has_netrc = netrc.exists() and "urs.earthdata.nasa.gov" in netrc.read_text(errors="ignore")
    has_env = bool(environ.get("EARTHDATA_TOKEN")) or bool(
        environ.get("EARTHDATA_USERNAME") and environ.get("EARTHDATA_PASSWORD")
    )
    if has_netrc or has_env:
        return
    raise CredentialsError(
        "No NASA Earthdata login for NSIDC downloads.\n"
        "To set it up: create an account at https://urs.earthdata.nasa.gov, then either add to "
        f"{netrc} the line\n"
        "    machine urs.earthdata.nasa.gov login <username> password <password>\n"
        f"(and chmod 600 {netrc}), or export EARTHDATA_USERNAME and EARTHDATA_PASSWORD (or EARTHDATA_TOKEN)."
    )


def read_manifest(folder: Path) -> dict:
    """The manifest of a download folder (``{"files": {name: {"sha256", "bytes", "request"}}}``)."""
    path = Path(folder) / MANIFEST
    return json.loads(path.read_text()) if path.exists() else {"files": {}}


def _record(folder: Path, manifest: dict, name: str, request: dict | None) -> None:
    path = Path(folder) / name
    manifest["files"][name] = {"sha256": sha256(path), "bytes": path.stat().st_size, "request": request}
    atomic_write(Path(folder) / MANIFEST, lambda p: p.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n"))


def is_complete(folder: Path, name: str, manifest: dict) -> bool:
    """True when ``folder/name`` exists with the checksum recorded in ``manifest``."""
    path = Path(folder) / name
    entry = manifest["files"].get(name)
    return path.exists() and entry is not None and sha256(path) == entry["sha256"]


def download_era5(
    years: Sequence[int],
    out: Path,
    region: Region | None = None,
    progress: bool = True,
    site: tuple[float, float] | None = None,
) -> list[Path]:
    """Download ERA5 for ``years`` into ``out/era5`` (resumable; see the module docstring).

    With ``site`` (latitude, longitude) the point product is requested instead of the box: one ZIP
    (:func:`point_request`), read by :func:`clvlib.io.era5.load_era5` as a one-cell download.
    """
    cdsapi = import_client("cdsapi")  # lazy: only needed for downloads
    check_cds_credentials()

    folder = Path(out) / "era5"
    folder.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(folder)
    client = cdsapi.Client(progress=False)
    paths = []
    requests = [point_request(years, *site)] if site is not None else era5_requests(years, region)
    for req in tqdm(requests, desc="ERA5 requests", unit="file", disable=not progress):
        if not is_complete(folder, req.target, manifest):
            atomic_write(folder / req.target, lambda p, r=req: client.retrieve(r.dataset, r.request, str(p)))
            _record(folder, manifest, req.target, req.request)
        paths.append(folder / req.target)
    return paths


def download_measures(
    years: Sequence[int], out: Path, region: Region | None = None, progress: bool = True
) -> list[Path]:
    """Download NSIDC-0533 granules for ``years`` (clipped to 1979-2012) into ``out/measures``."""
    region = Region() if region is None else region
    lo, hi = max(min(years), MEASURES_YEARS[0]), min(max(years), MEASURES_YEARS[1])
    if lo > hi:
        return []
    earthaccess = import_client("earthaccess")  # lazy: only needed for downloads
    check_earthdata_credentials()

    folder = Path(out) / "measures"
    folder.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(folder)
    earthaccess.login(strategy="environment" if os.environ.get("EARTHDATA_USERNAME") else "netrc")
    granules = earthaccess.search_data(
        short_name=MEASURES_SHORT_NAME,
        temporal=(f"{lo}-01-01", f"{hi}-12-31"),
        bounding_box=(region.lon_min, region.lat_min, region.lon_max, region.lat_max),
    )
    todo = [g for g in granules if not is_complete(folder, Path(g.data_links()[0]).name, manifest)]
    paths = (
        [Path(p) for p in earthaccess.download(todo, local_path=str(folder), show_progress=progress)] if todo else []
    )
    for path in paths:
        _record(folder, manifest, path.name, None)
    return sorted(folder / name for name in manifest["files"])


def main(argv: list[str] | None = None) -> None:
    """Command line; see the module docstring."""
    parser = argparse.ArgumentParser(description="Download ERA5 (CDS) and MEaSUREs NSIDC-0533 (NASA Earthdata).")
    parser.add_argument("--what", choices=("era5", "measures", "all"), default="all")
    parser.add_argument("--years", default="1951-2021", help="e.g. 1951-2021, 2012 or 1979,1980")
    parser.add_argument("--out", type=Path, default=Path("data/raw"))
    parser.add_argument("--region", default=None, help="lat_min,lat_max,lon_min,lon_max (default 60,70,-55,-40)")
    parser.add_argument(
        "--site",
        default=None,
        help="lat,lon: the CDS point time-series product at one site instead of the box (fewer variables, much faster)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the ERA5 requests and exit")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    years = parse_years(args.years)
    region = Region(*map(float, args.region.split(","))) if args.region else Region()
    try:
        site = parse_site(args.site) if args.site else None
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    if args.dry_run:
        for req in [point_request(years, *site)] if site is not None else era5_requests(years, region):
            print(json.dumps({"dataset": req.dataset, "target": req.target, "request": req.request}))
        return
    try:
        if args.what in ("era5", "all"):
            paths = download_era5(years, args.out, region, progress=not args.no_progress, site=site)
            print(f"ERA5: {len(paths)} files in {args.out / 'era5'} (manifest.json holds their SHA-256)")
        if args.what in ("measures", "all"):
            paths = download_measures(years, args.out, region, progress=not args.no_progress)
            print(f"MEaSUREs NSIDC-0533: {len(paths)} files in {args.out / 'measures'}")
    except CredentialsError as err:
        raise SystemExit(f"error: {err}") from None


if __name__ == "__main__":
    main()
